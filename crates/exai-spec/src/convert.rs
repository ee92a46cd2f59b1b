//! Wire form → validated [`Spec`], collecting every problem.

use crate::diagnostic::{Diagnostic, SpecError};
use crate::interpolate::{InterpolationError, interpolate};
use crate::rules;
use crate::spec::{Environment, ResourceGroupDecl, Spec};
use crate::wire::{self, Document, OrderedMap};
use exai_model::{Location, OWNER_TAG, Tags};
use marked_yaml::Spanned;

struct Context<'a> {
    text: &'a str,
    document: &'a Document,
    env: &'a dyn Fn(&str) -> Option<String>,
    diagnostics: Vec<Diagnostic>,
}

impl Context<'_> {
    fn span(&self, value: &Spanned<String>) -> Option<crate::SourceSpan> {
        wire::locate(self.text, value.span(), Some(value.as_str()))
    }

    fn key_span(&self, path: &[&str]) -> Option<crate::SourceSpan> {
        let last = path.last().copied();
        self.document.key_span(path).and_then(|span| wire::locate(self.text, span, last))
    }

    /// Returns the value with `${VAR}` resolved, or records why it cannot be.
    fn string(&mut self, value: &Spanned<String>, what: &str) -> Option<String> {
        match interpolate(value, self.env) {
            Ok(v) => Some(v),
            Err(errors) => {
                for e in errors {
                    let d = match e {
                        InterpolationError::Unset(name) => {
                            Diagnostic::new(format!("environment variable `{name}` is not set ({what})"))
                                .label(format!("needs `{name}`"))
                                .hint(format!("set it (`export {name}=...`) before running exai"))
                        }
                        InterpolationError::Malformed(text) => Diagnostic::new(format!(
                            "`{text}` is not a valid variable reference ({what})"
                        ))
                        .label("malformed `${...}`")
                        .hint("write `${NAME}` with a name of letters, digits and `_`, or `$${` for a literal `${`"),
                    };
                    let d = d.at(self.span(value));
                    self.diagnostics.push(d);
                }
                None
            }
        }
    }

    /// Resolves `value` and checks it with `rule`, recording a diagnostic on failure.
    fn checked(&mut self, value: &Spanned<String>, what: &str, rule: fn(&str) -> Result<(), String>) -> Option<String> {
        let resolved = self.string(value, what)?;
        match rule(&resolved) {
            Ok(()) => Some(resolved),
            Err(why) => {
                let shown = if resolved == value.as_str() {
                    format!("`{resolved}`")
                } else {
                    format!("`{resolved}` (from `{}`)", value.as_str())
                };
                self.diagnostics
                    .push(Diagnostic::new(format!("invalid {what} {shown}")).at(self.span(value)).label(why));
                None
            }
        }
    }

    fn location(&mut self, value: &Spanned<String>) -> Option<Location> {
        let resolved = self.string(value, "location")?;
        match Location::parse(&resolved) {
            Ok(l) => Some(l),
            Err(e) => {
                let hint = match e.suggestion {
                    Some(s) => format!("did you mean `{s}`? `az account list-locations -o table` lists every region"),
                    None => "use a region name such as `francecentral` or `westeurope`; `az account list-locations -o table` lists them".to_owned(),
                };
                self.diagnostics.push(
                    Diagnostic::new(format!("unknown Azure region `{resolved}`"))
                        .at(self.span(value))
                        .label("not a region")
                        .hint(hint),
                );
                None
            }
        }
    }

    /// Adds `tags` (found at `path` in the file) to `into`.
    fn tags(&mut self, path: &[&str], tags: &OrderedMap<Spanned<String>>, into: &mut Tags) {
        for (key, value) in tags {
            let Some(v) = self.string(value, &format!("tag `{key}`")) else {
                continue;
            };
            let key_path: Vec<&str> = path.iter().copied().chain([key.as_str()]).collect();
            let key_span = self.key_span(&key_path);
            if key.eq_ignore_ascii_case(OWNER_TAG) {
                self.diagnostics.push(
                    Diagnostic::new(format!("tag `{OWNER_TAG}` is reserved: exai writes it on everything it creates"))
                        .at(key_span)
                        .label("reserved tag")
                        .hint("use another tag name"),
                );
                continue;
            }
            match Tags::check_pair(key, &v) {
                Ok(()) => into.insert(key.as_str(), v),
                Err(e) => {
                    self.diagnostics.push(Diagnostic::new(e.to_string()).at(key_span).label("tag Azure would refuse"))
                }
            }
        }
    }
}

pub(crate) fn convert(
    file: &str,
    text: &str,
    document: &Document,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Spec, SpecError> {
    let wire = &document.file;
    let mut cx = Context { text, document, env, diagnostics: Vec::new() };

    if *wire.version != 1 {
        let span = wire::locate(text, wire.version.span(), Some(&wire.version.to_string()));
        cx.diagnostics.push(
            Diagnostic::new(format!("unsupported spec version {}", *wire.version))
                .at(span)
                .label("this exai reads version 1")
                .hint("set `version: 1`, or upgrade exai if the spec was written for a newer one"),
        );
    }

    let tenant = cx.checked(&wire.azure.tenant, "tenant", rules::tenant);
    let subscription = cx.checked(&wire.azure.subscription, "subscription id", rules::subscription_id);

    let defaults = wire.defaults.as_ref();
    let default_location = defaults.and_then(|d| d.location.as_ref()).and_then(|l| cx.location(l));
    let mut default_tags = Tags::new();
    if let Some(tags) = defaults.and_then(|d| d.tags.as_ref()) {
        cx.tags(&["defaults", "tags"], tags, &mut default_tags);
    }

    if wire.environments.is_empty() {
        cx.diagnostics.push(Diagnostic::new("`environments` is empty").hint(
            "declare at least one environment, e.g. `environments: { perso: { resourceGroup: { name: my-rg } } }`",
        ));
    }

    let mut environments = Vec::new();
    for (name, section) in &wire.environments {
        let name_ok = match rules::environment_name(name) {
            Ok(()) => true,
            Err(why) => {
                cx.diagnostics.push(
                    Diagnostic::new(format!("invalid environment name `{name}`"))
                        .at(cx.key_span(&["environments", name]))
                        .label(why),
                );
                false
            }
        };

        let rg = &*section.resource_group;
        let rg_name = cx.checked(&rg.name, "resource group name", rules::resource_group_name);
        let location = match &rg.location {
            Some(l) => cx.location(l),
            None if default_location.is_some() => default_location.clone(),
            None => {
                if defaults.and_then(|d| d.location.as_ref()).is_none() {
                    cx.diagnostics.push(
                        Diagnostic::new(format!("no location for the resource group of environment `{}`", name))
                            .at(cx.span(&rg.name))
                            .label("this group has no `location`")
                            .hint(
                                "set `location:` on the resource group, or `defaults.location` for every environment",
                            ),
                    );
                }
                None
            }
        };
        let mut tags = default_tags.clone();
        if let Some(own) = &rg.tags {
            cx.tags(&["environments", name, "resourceGroup", "tags"], own, &mut tags);
        }
        if tags.len() + 1 > Tags::MAX_TAGS {
            cx.diagnostics.push(
                Diagnostic::new(format!(
                    "the resource group of `{}` would carry {} tags (with `{OWNER_TAG}`); Azure allows {}",
                    name,
                    tags.len() + 1,
                    Tags::MAX_TAGS
                ))
                .at(cx.span(&rg.name)),
            );
        }
        if let (true, Some(rg_name), Some(location)) = (name_ok, rg_name, location) {
            environments.push(Environment {
                name: name.clone(),
                resource_group: ResourceGroupDecl { name: rg_name, location, tags },
            });
        }
    }

    // Two environments writing the same group would fight over it on every apply.
    for (i, a) in environments.iter().enumerate() {
        if let Some(b) =
            environments[..i].iter().find(|b| b.resource_group.name.eq_ignore_ascii_case(&a.resource_group.name))
        {
            let span = wire
                .environments
                .iter()
                .find(|(n, _)| n.as_str() == a.name)
                .and_then(|(_, s)| cx.span(&s.resource_group.name));
            cx.diagnostics.push(
                Diagnostic::new(format!(
                    "environments `{}` and `{}` declare the same resource group `{}`",
                    b.name, a.name, a.resource_group.name
                ))
                .at(span)
                .label("already declared")
                .hint("give each environment its own resource group"),
            );
        }
    }

    cx.diagnostics.sort_by_key(|d| d.span.map(|s| s.offset).unwrap_or(usize::MAX));
    match (cx.diagnostics.is_empty(), tenant, subscription) {
        (true, Some(tenant), Some(subscription)) => Ok(Spec { tenant, subscription, environments }),
        _ => Err(SpecError { file: file.to_owned(), diagnostics: cx.diagnostics }),
    }
}
