//! Wire form → validated [`Spec`], collecting every problem.
//!
//! Each section is checked once, straight into the model's type (`Registry`, `Workspace`,
//! `Cluster`, ...) wrapped in [`Declared`]; enums are the model's, deserialized by the wire
//! layer, so no value is mapped from one copy of a type to another.

use crate::diagnostic::{Diagnostic, SourceSpan, SourceText, SpecError, suggest};
use crate::interpolate::{InterpolationError, interpolate};
use crate::rules;
use crate::spec::{
    ClusterDecl, Declared, DeployAccess, DeployerDecl, Environment, ExternalObject, GitHubDecl, KubernetesDecl, Spec,
    SpecName, SpecNameOrigin,
};
use crate::wire::{self, ClientSecretSetting, DeployerScope, Spanned, TagMap};
use crate::yaml::{Document, locate};
use exai_model::kinds::{
    Cluster, NodePool, PoolMode, PoolSize, ROLE_ASSIGNMENT_WRITERS, ReferencedKind, Registry, RegistrySku,
    ResourceGroup, RoleAssignment, SshKeySource, Workspace, WorkspaceSku, built_in_role, built_in_role_name,
};
use exai_model::{Address, Location, OWNER_TAG, Tags};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Display;

/// The limit on federated identity credentials per application.
/// Source: Microsoft Graph, "Create federatedIdentityCredential" ("A maximum of 20 objects can be
/// added to an application").
const MAX_FEDERATED_CREDENTIALS: usize = 20;

/// A location inherited from the environment or the defaults.
#[derive(Clone)]
enum Inherited {
    /// None was declared.
    Absent,
    /// One was declared but is invalid (already reported: no follow-on error).
    Invalid,
    /// A valid one.
    Valid(Location),
}

impl Inherited {
    fn from(declared: bool, parsed: Option<Location>) -> Self {
        match (declared, parsed) {
            (_, Some(l)) => Self::Valid(l),
            (true, None) => Self::Invalid,
            (false, None) => Self::Absent,
        }
    }
}

struct Context<'a> {
    text: SourceText<'a>,
    document: &'a Document,
    env: &'a dyn Fn(&str) -> Option<String>,
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<crate::Warning>,
}

impl Context<'_> {
    fn span(&self, value: &Spanned<String>) -> Option<SourceSpan> {
        locate(&self.text, value.span(), Some(value.as_str()))
    }

    fn span_of<T: Display>(&self, value: &Spanned<T>) -> Option<SourceSpan> {
        locate(&self.text, value.span(), Some(&value.to_string()))
    }

    fn key_span(&self, path: &[&str]) -> Option<SourceSpan> {
        let last = path.last().copied();
        self.document.key_span(path).and_then(|span| locate(&self.text, span, last))
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
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
                    self.error(d);
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
                let d = Diagnostic::new(format!("invalid {what} {shown}")).at(self.span(value)).label(why);
                self.error(d);
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
                let d = Diagnostic::new(format!("unknown Azure region `{resolved}`"))
                    .at(self.span(value))
                    .label("not a region")
                    .hint(hint);
                self.error(d);
                None
            }
        }
    }

    /// Adds `tags` (found at `path` in the file) to `into`.
    fn tags(&mut self, path: &[&str], tags: &TagMap, into: &mut Tags) {
        for (key, value) in tags {
            let Some(v) = self.string(value, &format!("tag `{key}`")) else { continue };
            let key_path: Vec<&str> = path.iter().copied().chain([key.as_str()]).collect();
            let key_span = self.key_span(&key_path);
            if key.eq_ignore_ascii_case(OWNER_TAG) {
                self.error(
                    Diagnostic::new(format!("tag `{OWNER_TAG}` is reserved: exai writes it on everything it creates"))
                        .at(key_span)
                        .label("reserved tag")
                        .hint("use another tag name"),
                );
                continue;
            }
            match Tags::check_pair(key, &v) {
                Ok(()) => into.insert(key.as_str(), v),
                Err(e) => self.error(Diagnostic::new(e.to_string()).at(key_span).label("tag Azure would refuse")),
            }
        }
    }

    /// Returns the tags of a resource: the environment's, then its own, checked against
    /// Azure's limit (the ownership tag included).
    fn resource_tags(&mut self, inherited: &Tags, own: Option<&TagMap>, path: &[&str], name: &Spanned<String>) -> Tags {
        let mut tags = inherited.clone();
        if let Some(own) = own {
            let tag_path: Vec<&str> = path.iter().copied().chain(["tags"]).collect();
            self.tags(&tag_path, own, &mut tags);
        }
        if tags.len() + 1 > Tags::MAX_TAGS {
            let d = Diagnostic::new(format!(
                "`{}` would carry {} tags (with `{OWNER_TAG}`); Azure allows {}",
                path.join("."),
                tags.len() + 1,
                Tags::MAX_TAGS
            ))
            .at(self.span(name));
            self.error(d);
        }
        tags
    }

    /// Returns the resource's location: its own, else the environment's, else an error.
    fn resource_location(
        &mut self,
        own: Option<&Spanned<String>>,
        inherited: &Inherited,
        what: &str,
        anchor: &Spanned<String>,
    ) -> Option<Location> {
        match (own, inherited) {
            (Some(l), _) => self.location(l),
            (None, Inherited::Valid(l)) => Some(l.clone()),
            (None, Inherited::Invalid) => None,
            (None, Inherited::Absent) => {
                let d = Diagnostic::new(format!("no location for {what}"))
                    .at(self.span(anchor))
                    .label("no `location` here or inherited")
                    .hint("set `location:` here, on the environment, or in `defaults.location`");
                self.error(d);
                None
            }
        }
    }

    fn range(&mut self, value: &Spanned<u32>, min: u32, max: u32, what: &str, source: &str) -> Option<u32> {
        if (min..=max).contains(&**value) {
            return Some(**value);
        }
        let d = Diagnostic::new(format!("{what} is {}; it must be between {min} and {max}", **value))
            .at(self.span_of(value))
            .label(format!("{min} to {max}"))
            .hint(source.to_owned());
        self.error(d);
        None
    }
}

fn flag(value: &Option<Spanned<bool>>) -> bool {
    value.as_ref().is_some_and(|v| **v)
}

pub(crate) fn convert(
    file: &str,
    text: &str,
    document: &Document,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Spec, SpecError> {
    let wire = &document.file;
    let mut cx = Context { text: SourceText::new(text), document, env, diagnostics: Vec::new(), warnings: Vec::new() };

    if *wire.version != 1 {
        let d = Diagnostic::new(format!("unsupported spec version {}", *wire.version))
            .at(cx.span_of(&wire.version))
            .label("this exai reads version 1")
            .hint("set `version: 1`, or upgrade exai if the spec was written for a newer one");
        cx.error(d);
    }

    let declared_name = wire.name.as_ref().map(|name| spec_name(&mut cx, name));
    let tenant = cx.checked(&wire.azure.tenant, "tenant", rules::tenant);
    let subscription = cx.checked(&wire.azure.subscription, "subscription id", rules::subscription_id);

    let defaults = wire.defaults.as_deref();
    let declared = defaults.and_then(|d| d.location.as_ref());
    let default_location = Inherited::from(declared.is_some(), declared.and_then(|l| cx.location(l)));
    let mut default_tags = Tags::new();
    if let Some(tags) = defaults.and_then(|d| d.tags.as_ref()) {
        cx.tags(&["defaults", "tags"], tags, &mut default_tags);
    }

    if wire.environments.is_empty() {
        cx.error(Diagnostic::new("`environments` is empty").at(cx.key_span(&["environments"])).hint(
            "declare at least one environment, e.g. `environments: { perso: { resourceGroup: { name: my-rg } } }`",
        ));
    }

    let mut environments = Vec::new();
    for (name, section) in &wire.environments {
        if let Some(environment) =
            environment(&mut cx, name, section, subscription.as_deref(), &default_location, &default_tags)
        {
            environments.push(environment);
        }
    }
    across_environments(&mut cx, wire, &environments);
    privilege_warnings(&mut cx, wire, &environments);

    cx.diagnostics.sort_by_key(|d| d.span.map(|s| s.offset).unwrap_or(usize::MAX));
    let name = match declared_name {
        Some(declared) => declared.map(|id| SpecName { id, origin: SpecNameOrigin::Declared }),
        None => SpecName::derived(&environments),
    };
    match (cx.diagnostics.is_empty(), tenant, name) {
        (true, Some(tenant), Some(name)) => Ok(Spec { name, tenant, environments, warnings: cx.warnings }),
        _ => Err(SpecError { file: file.to_owned(), diagnostics: cx.diagnostics }),
    }
}

/// Checks the top-level `name`, the spec's id in ownership marks.
fn spec_name(cx: &mut Context<'_>, name: &Spanned<String>) -> Option<String> {
    let id = cx.string(name, "spec name")?;
    if let Err(why) = rules::spec_name(&id) {
        let d = Diagnostic::new(format!("invalid spec name `{id}`")).at(cx.span(name)).label(why).hint(
            "the name is the spec's id in the ownership mark of everything it creates, e.g. `name: my-org/platform`",
        );
        cx.error(d);
        return None;
    }
    Some(id)
}

/// Converts one environment; `None` when anything in it is invalid (the problems are recorded).
fn environment(
    cx: &mut Context<'_>,
    name: &str,
    section: &wire::EnvironmentSection,
    default_subscription: Option<&str>,
    default_location: &Inherited,
    default_tags: &Tags,
) -> Option<Environment> {
    let before = cx.diagnostics.len();
    if let Err(why) = rules::environment_name(name) {
        let d = Diagnostic::new(format!("invalid environment name `{name}`"))
            .at(cx.key_span(&["environments", name]))
            .label(why);
        cx.error(d);
    }
    let subscription = match &section.subscription {
        Some(s) => cx.checked(s, "subscription id", rules::subscription_id),
        None => default_subscription.map(str::to_owned),
    };
    let location = match &section.location {
        Some(l) => Inherited::from(true, cx.location(l)),
        None => default_location.clone(),
    };
    let mut tags = default_tags.clone();
    if let Some(own) = &section.tags {
        cx.tags(&["environments", name, "tags"], own, &mut tags);
    }

    let rg = &section.resource_group;
    let rg_path = ["environments", name, "resourceGroup"];
    let rg_name = cx.checked(&rg.name, "resource group name", rules::resource_group_name);
    let rg_location =
        cx.resource_location(rg.location.as_ref(), &location, &format!("the resource group of `{name}`"), &rg.name);
    let rg_tags = cx.resource_tags(&tags, rg.tags.as_ref(), &rg_path, &rg.name);

    let scope = Scope {
        name,
        section,
        subscription,
        resource_group: rg_name,
        location,
        group_location: rg_location.clone(),
        tags,
    };
    let registry = section.registry.as_deref().map(|r| registry(cx, &scope, r));
    let monitoring = section.monitoring.as_deref().map(|m| monitoring(cx, &scope, m));
    let cluster = section.cluster.as_deref().map(|c| cluster(cx, &scope, c));
    let deployer = section.deployer.as_deref().and_then(|d| deployer(cx, &scope, d));
    let planner = section.planner.as_deref().map(|p| planner(cx, p, deployer.as_ref()));
    let kubernetes = section.kubernetes.as_deref().map(|k| kubernetes(cx, k));

    if cx.diagnostics.len() > before {
        return None;
    }
    let resource_group = Declared {
        resource: ResourceGroup {
            subscription: scope.subscription.clone()?,
            name: scope.resource_group?,
            location: rg_location?,
            tags: rg_tags,
        },
        protect: flag(&rg.protect),
        name_span: cx.span(&rg.name),
        referenced: false,
    };
    Some(Environment {
        name: name.to_owned(),
        subscription: scope.subscription?,
        resource_group,
        registry: registry.flatten(),
        monitoring: monitoring.flatten(),
        cluster: cluster.flatten(),
        deployer,
        planner: planner.flatten(),
        kubernetes: kubernetes.flatten(),
    })
}

/// What a section inherits from its environment, each value `None` when it is invalid (and
/// already reported).
struct Scope<'s> {
    /// The environment's name.
    name: &'s str,
    /// The environment as written, for checks across its sections.
    section: &'s wire::EnvironmentSection,
    /// The subscription.
    subscription: Option<String>,
    /// The resource group's name.
    resource_group: Option<String>,
    /// The region a resource without its own gets.
    location: Inherited,
    /// The resource group's region.
    group_location: Option<Location>,
    /// The defaults' and the environment's tags.
    tags: Tags,
}

impl Scope<'_> {
    /// Returns the region a referenced object is taken to be in: the environment's, else its
    /// group's. Its real region is its owner's business; exai uses it only to place what the
    /// environment builds on it (the cluster's data collection rule).
    fn reference_location(&self) -> Option<Location> {
        match &self.location {
            Inherited::Valid(location) => Some(location.clone()),
            Inherited::Invalid | Inherited::Absent => self.group_location.clone(),
        }
    }
}

/// Checks `registry:`: a registry exai owns (`name`), or one it references (`id`).
fn registry(cx: &mut Context<'_>, scope: &Scope<'_>, r: &wire::RegistrySection) -> Option<Declared<Registry>> {
    let env = scope.name;
    let path = ["environments", env, "registry"];
    let name = match (&r.name, &r.id) {
        (Some(name), None) => name,
        (None, Some(id)) => {
            let others = [
                ("sku", r.sku.is_some()),
                ("adminUserEnabled", r.admin_user_enabled.is_some()),
                ("location", r.location.is_some()),
                ("tags", r.tags.is_some()),
                ("protect", r.protect.is_some()),
            ];
            not_with_reference(cx, &path, "registry", &others);
            let id = reference_id(cx, id, ReferencedKind::Registry)?;
            let resource = Registry {
                subscription: id.subscription,
                resource_group: id.resource_group,
                name: id.name,
                location: scope.reference_location()?,
                sku: RegistrySku::Standard,
                admin_user_enabled: false,
                tags: Tags::new(),
            };
            return Some(Declared { resource, protect: false, name_span: None, referenced: true });
        }
        (Some(name), Some(id)) => {
            let d = Diagnostic::new(format!("the registry of `{env}` has both `name` and `id`"))
                .at(cx.span(id))
                .label("one or the other")
                .hint(format!(
                    "`name: {}` declares a registry exai owns; `id` references an existing one exai only uses: keep one",
                    name.as_str()
                ));
            cx.error(d);
            return None;
        }
        (None, None) => {
            let d = Diagnostic::new(format!("the registry of `{env}` has neither `name` nor `id`"))
                .at(cx.key_span(&path))
                .label("which registry?")
                .hint("write `name: <registry name>` for a registry exai owns, or `id: <registry id>` for an existing one it only uses");
            cx.error(d);
            return None;
        }
    };
    let name_checked = cx.checked(name, "registry name", rules::registry_name);
    let location =
        cx.resource_location(r.location.as_ref(), &scope.location, &format!("the registry of `{env}`"), name);
    let tags = cx.resource_tags(&scope.tags, r.tags.as_ref(), &path, name);
    let resource = Registry {
        subscription: scope.subscription.clone()?,
        resource_group: scope.resource_group.clone()?,
        name: name_checked?,
        location: location?,
        sku: r.sku.as_deref().copied().unwrap_or(RegistrySku::Standard),
        admin_user_enabled: flag(&r.admin_user_enabled),
        tags,
    };
    Some(Declared { resource, protect: flag(&r.protect), name_span: cx.span(name), referenced: false })
}

/// Checks `monitoring:`, the Log Analytics workspace: one exai owns (a name), or one it
/// references (`{ id }`).
fn monitoring(cx: &mut Context<'_>, scope: &Scope<'_>, m: &wire::MonitoringSection) -> Option<Declared<Workspace>> {
    let env = scope.name;
    let path = ["environments", env, "monitoring"];
    let name = match &*m.workspace {
        wire::WorkspaceSetting::Name(name) => name,
        wire::WorkspaceSetting::Reference(reference) => {
            let others = [
                ("retentionDays", m.retention_days.is_some()),
                ("sku", m.sku.is_some()),
                ("location", m.location.is_some()),
                ("tags", m.tags.is_some()),
                ("protect", m.protect.is_some()),
            ];
            not_with_reference(cx, &path, "workspace", &others);
            let id = reference_id(cx, &reference.id, ReferencedKind::Workspace)?;
            let resource = Workspace {
                subscription: id.subscription,
                resource_group: id.resource_group,
                name: id.name,
                location: scope.reference_location()?,
                retention_days: 30,
                sku: WorkspaceSku::PerGB2018,
                tags: Tags::new(),
            };
            return Some(Declared { resource, protect: false, name_span: None, referenced: true });
        }
    };
    let name = &Spanned::at(m.workspace.span(), name.clone());
    let name_checked = cx.checked(name, "workspace name", rules::workspace_name);
    let location =
        cx.resource_location(m.location.as_ref(), &scope.location, &format!("the workspace of `{env}`"), name);
    let tags = cx.resource_tags(&scope.tags, m.tags.as_ref(), &path, name);
    // Source: `retentionInDays` of Microsoft.OperationalInsights/workspaces ("30 to 730 days"
    // for the PerGB2018 tier).
    let retention = match &m.retention_days {
        Some(days) => cx.range(
            days,
            30,
            730,
            "`retentionDays`",
            "Log Analytics keeps data 30 to 730 days in the PerGB2018 and commitment tiers",
        ),
        None => Some(30),
    };
    let resource = Workspace {
        subscription: scope.subscription.clone()?,
        resource_group: scope.resource_group.clone()?,
        name: name_checked?,
        location: location?,
        retention_days: retention?,
        sku: m.sku.as_deref().copied().unwrap_or(WorkspaceSku::PerGB2018),
        tags,
    };
    Some(Declared { resource, protect: flag(&m.protect), name_span: cx.span(name), referenced: false })
}

/// An id a reference names, split into what the model's types hold.
struct ReferencedId {
    subscription: String,
    resource_group: String,
    name: String,
}

/// Checks the `id` of a reference: `${VAR}` resolved, the id of one `kind` in a group.
fn reference_id(cx: &mut Context<'_>, id: &Spanned<String>, kind: ReferencedKind) -> Option<ReferencedId> {
    let what = format!("{} id", kind.noun());
    let resolved = cx.string(id, &what)?;
    match kind.check_id(&resolved) {
        Ok(parsed) => Some(ReferencedId {
            subscription: parsed.segment_after("subscriptions")?.to_owned(),
            resource_group: parsed.segment_after("resourceGroups")?.to_owned(),
            name: parsed.name().to_owned(),
        }),
        Err(why) => {
            let shown = if resolved == id.as_str() {
                format!("`{resolved}`")
            } else {
                format!("`{resolved}` (from `{}`)", id.as_str())
            };
            let d = Diagnostic::new(format!("invalid {what} {shown}"))
                .at(cx.span(id))
                .label(why)
                .hint(format!(
                    "give the id of an existing {}, as `az {} show --name <name> --resource-group <group> --query id -o tsv` prints it",
                    kind.noun(),
                    match kind {
                        ReferencedKind::Workspace => "monitor log-analytics workspace",
                        ReferencedKind::Registry => "acr",
                    }
                ));
            cx.error(d);
            None
        }
    }
}

/// Refuses each key of `others` written beside a reference's `id`: what an object exai does not
/// own holds is its owner's to say.
fn not_with_reference(cx: &mut Context<'_>, path: &[&str], noun: &str, others: &[(&str, bool)]) {
    for (key, _) in others.iter().filter(|(_, written)| *written) {
        let key_path: Vec<&str> = path.iter().copied().chain([*key]).collect();
        let d =
            Diagnostic::new(format!("`{key}` cannot be set on a referenced {noun}: exai uses it and does not own it"))
                .at(cx.key_span(&key_path))
                .label(format!("belongs to whoever owns the {noun}"))
                .hint(format!("remove `{key}`; to manage the {noun} with exai, declare it by name instead of by `id`"));
        cx.error(d);
    }
}

/// Checks `cluster:`: its node pools, SSH key and edges to the environment's registry and
/// workspace.
fn cluster(cx: &mut Context<'_>, scope: &Scope<'_>, c: &wire::ClusterSection) -> Option<ClusterDecl> {
    let (env, section, location, tags) = (scope.name, scope.section, &scope.location, &scope.tags);
    let (resource_group, subscription) = (scope.resource_group.as_deref(), scope.subscription.as_deref());
    let path = ["environments", env, "cluster"];
    let name = cx.checked(&c.name, "cluster name", rules::cluster_name);
    let cluster_location =
        cx.resource_location(c.location.as_ref(), location, &format!("the cluster of `{env}`"), &c.name);
    let cluster_tags = cx.resource_tags(tags, c.tags.as_ref(), &path, &c.name);
    let kubernetes_version =
        c.kubernetes_version.as_ref().and_then(|v| cx.checked(v, "Kubernetes version", rules::kubernetes_version));
    let dns_prefix = match &c.dns_prefix {
        Some(p) => cx.checked(p, "DNS prefix", rules::dns_prefix),
        None => match (&name, resource_group, subscription) {
            (Some(n), Some(rg), Some(sub)) => Some(Cluster::default_dns_prefix(n, rg, sub)),
            _ => None,
        },
    };

    // Node pools. Sources: `ManagedClusterAgentPoolProfile` in managedClusters.json 2026-08-01
    // ("count ... must be in the range of 0 to 1000 (inclusive) for user pools and in the range
    // of 1 to 1000 (inclusive) for system pools"; `minCount`/`maxCount` likewise), and AKS's
    // rule that a cluster needs at least one System pool.
    let mut pools = Vec::new();
    if c.node_pools.is_empty() {
        let d = Diagnostic::new(format!("the cluster of `{env}` has no node pool"))
            .at(cx.key_span(&["environments", env, "cluster", "nodePools"]))
            .label("empty list")
            .hint("declare one, e.g. `nodePools: [ { name: nodepool1, count: 1, vmSize: Standard_B2s } ]`");
        cx.error(d);
    }
    for (i, pool) in c.node_pools.iter().enumerate() {
        let pool_name = cx.checked(&pool.name, "node pool name", rules::pool_name);
        if c.node_pools[..i].iter().any(|p| p.name.as_str() == pool.name.as_str()) {
            let d = Diagnostic::new(format!("node pool `{}` is declared twice", pool.name.as_str()))
                .at(cx.span(&pool.name))
                .label("second declaration");
            cx.error(d);
        }
        let vm_size = cx.checked(&pool.vm_size, "VM size", rules::vm_size);
        let mode = match pool.mode.as_deref() {
            Some(mode) => *mode,
            None if i == 0 => PoolMode::System,
            None => PoolMode::User,
        };
        let floor = if mode == PoolMode::System { 1 } else { 0 };
        let mode_text = if mode == PoolMode::System { "a System pool" } else { "a User pool" };
        let source = format!("{mode_text} has {floor} to 1000 nodes");
        let size = match &pool.autoscale {
            Some(auto) => {
                let min = cx.range(&auto.min, floor, 1000, "`autoscale.min`", &source);
                let max = cx.range(&auto.max, floor, 1000, "`autoscale.max`", &source);
                match (min, max) {
                    (Some(min), Some(max)) if min > max => {
                        let d =
                            Diagnostic::new(format!("`autoscale.min` ({min}) is larger than `autoscale.max` ({max})"))
                                .at(cx.span_of(&auto.min))
                                .label("min above max");
                        cx.error(d);
                        None
                    }
                    (Some(min), Some(max)) => match &pool.count {
                        Some(count) if !(min..=max).contains(&**count) => {
                            let d = Diagnostic::new(format!("`count` ({}) is outside `autoscale` ({min} to {max})", **count))
                                .at(cx.span_of(count))
                                .label("outside the autoscale range")
                                .hint("with `autoscale`, `count` is only the starting size; remove it or keep it within min and max");
                            cx.error(d);
                            None
                        }
                        Some(count) => Some(PoolSize::Autoscale { min, max, initial: **count }),
                        None => Some(PoolSize::Autoscale { min, max, initial: min }),
                    },
                    _ => None,
                }
            }
            None => match &pool.count {
                Some(count) => cx.range(count, floor, 1000, "`count`", &source).map(|count| PoolSize::Fixed { count }),
                None => {
                    let d = Diagnostic::new(format!(
                        "node pool `{}` has neither `count` nor `autoscale`",
                        pool.name.as_str()
                    ))
                    .at(cx.span(&pool.name))
                    .label("how many nodes?")
                    .hint("set `count: N`, or `autoscale: { min: N, max: M }` to let the autoscaler size it");
                    cx.error(d);
                    None
                }
            },
        };
        if let (Some(name), Some(vm_size), Some(size)) = (pool_name, vm_size, size) {
            pools.push(NodePool { name, vm_size, mode, size });
        }
    }
    if !c.node_pools.is_empty() && !pools.is_empty() && !pools.iter().any(|p| p.mode == PoolMode::System) {
        let d = Diagnostic::new(format!("the cluster of `{env}` has no System node pool"))
            .at(cx.key_span(&["environments", env, "cluster", "nodePools"]))
            .label("every pool is `mode: User`")
            .hint("AKS needs at least one pool with `mode: System` to run its system pods");
        cx.error(d);
    }

    let attach_registry = flag(&c.attach_registry);
    if attach_registry && section.registry.is_none() {
        let d = Diagnostic::new(format!("`attachRegistry: true`, but environment `{env}` declares no `registry`"))
            .at(c.attach_registry.as_ref().and_then(|v| cx.span_of(v)))
            .label("no registry to attach")
            .hint("add a `registry:` section to the environment, or remove `attachRegistry`");
        cx.error(d);
    }
    let monitoring = flag(&c.monitoring);
    if monitoring && section.monitoring.is_none() {
        let d = Diagnostic::new(format!(
            "`monitoring: true`, but environment `{env}` declares no `monitoring` workspace"
        ))
        .at(c.monitoring.as_ref().and_then(|v| cx.span_of(v)))
        .label("no workspace to send to")
        .hint("add `monitoring: { workspace: <name> }` to the environment, or remove `monitoring` from the cluster");
        cx.error(d);
    }

    let ssh = match (&c.ssh.public_key_file, c.ssh.generate.as_ref().map(|g| **g)) {
        (Some(file), None | Some(false)) => {
            let path = cx.string(file, "ssh.publicKeyFile");
            match path {
                Some(p) if p.trim().is_empty() => {
                    let d = Diagnostic::new("`ssh.publicKeyFile` is empty").at(cx.span(file)).label("a path is needed");
                    cx.error(d);
                    None
                }
                Some(p) => Some(SshKeySource::File { path: p }),
                None => None,
            }
        }
        (None, Some(true)) => Some(SshKeySource::Generate),
        (Some(file), Some(true)) => {
            let d = Diagnostic::new("`ssh` has both `publicKeyFile` and `generate: true`")
                .at(cx.span(file))
                .label("one or the other")
                .hint("use an existing key (`publicKeyFile`) or let exai generate one (`generate: true`), not both");
            cx.error(d);
            None
        }
        (None, _) => {
            let d = Diagnostic::new(format!("the cluster of `{env}` has no SSH key"))
                .at(cx.key_span(&["environments", env, "cluster", "ssh"]))
                .label("neither `publicKeyFile` nor `generate: true`")
                .hint("write `ssh: { publicKeyFile: ~/.ssh/id_rsa.pub }`, or `ssh: { generate: true }` for exai to create one");
            cx.error(d);
            None
        }
    };

    let resource = Cluster {
        address: Address::new(env, "cluster"),
        subscription: subscription?.to_owned(),
        resource_group: resource_group?.to_owned(),
        name: name?,
        location: cluster_location?,
        kubernetes_version,
        dns_prefix: dns_prefix?,
        node_pools: pools,
        ssh: ssh?,
        // Set by expansion, from the environment's workspace, when `monitoring: true`.
        monitoring_workspace: None,
        app_routing: c.ingress.as_ref().and_then(|i| i.app_routing.as_deref().copied()),
        tags: cluster_tags,
        // Filled, for a cluster to be created, by `exai_executor::prepare_ssh_keys`.
        ssh_public_key: None,
    };
    Some(ClusterDecl { resource, attach_registry, monitoring, protect: flag(&c.protect) })
}

fn deployer(cx: &mut Context<'_>, scope: &Scope<'_>, d: &wire::DeployerSection) -> Option<DeployerDecl> {
    let name = cx.checked(&d.name, "deployer display name", rules::display_name);
    let deploy = match d.deploy.as_deref() {
        Some(access) => deploy_access(cx, scope, access),
        None => Some(DeployAccess::default()),
    };
    if d.role.is_none() && d.deploy.is_none() {
        let env = scope.name;
        let diagnostic = Diagnostic::new(format!("the deployer of `{env}` has neither `role` nor `deploy`"))
            .at(cx.span(&d.name))
            .label("no access at all")
            .hint("add `deploy: { registry: push, cluster: user }` for what a deploy needs, or `role: <role>` (e.g. `Contributor`) for an identity that applies exai");
        cx.error(diagnostic);
    }
    let role = match &d.role {
        Some(role) => role_of(cx, role).map(|(name, guid)| (name, Some(guid))),
        None => Some((None, None)),
    };
    let scope = d.scope.as_deref().copied().unwrap_or(DeployerScope::ResourceGroup);

    let github = d.github.as_deref().map(|g| github(cx, g));

    // Source: Entra's guidance on client secrets ("less than 12 months"; the portal offers at
    // most 24 months): 1 to 730 days.
    let client_secret_days = match d.client_secret.as_ref().map(|s| (&**s, s.span())) {
        Some((ClientSecretSetting::Enabled { expires_in_days }, span)) if !(1..=730).contains(expires_in_days) => {
            let diagnostic = Diagnostic::new(format!(
                "`clientSecret.expiresInDays` is {expires_in_days}; it must be between 1 and 730"
            ))
            .at(locate(&cx.text, span, None))
            .label("1 to 730 days")
            .hint("Entra recommends secrets shorter than 12 months; prefer `clientSecret: false` and GitHub OIDC");
            cx.error(diagnostic);
            None
        }
        Some((ClientSecretSetting::Enabled { expires_in_days }, _)) => Some(Some(*expires_in_days)),
        Some((ClientSecretSetting::Disabled, _)) | None => Some(None),
    };
    let mut graph_permissions = Vec::new();
    for permission in d.graph_permissions.iter().flatten() {
        let Some(given) = cx.string(permission, "Graph permission") else { continue };
        match exai_model::kinds::graph_permission(&given) {
            Some((name, id)) if graph_permissions.iter().any(|(n, _)| n == name) => {
                let diagnostic = Diagnostic::new(format!("`{name}` is listed twice"))
                    .at(cx.span(permission))
                    .label("already granted above")
                    .hint("list each permission once");
                cx.error(diagnostic);
                let _ = id;
            }
            Some((name, id)) => graph_permissions.push((name.to_owned(), id.to_owned())),
            None => {
                let known = exai_model::kinds::GRAPH_PERMISSIONS.iter().map(|(n, _, _)| *n);
                let names =
                    exai_model::kinds::GRAPH_PERMISSIONS.iter().map(|(n, _, _)| format!("`{n}`")).collect::<Vec<_>>();
                let hint = match suggest(&given, known, 4) {
                    Some(s) => format!("did you mean `{s}`? exai grants: {}", names.join(", ")),
                    None => format!("exai grants: {}", names.join(", ")),
                };
                let diagnostic = Diagnostic::new(format!("unknown Microsoft Graph permission `{given}`"))
                    .at(cx.span(permission))
                    .label("not an application permission exai grants")
                    .hint(hint);
                cx.error(diagnostic);
            }
        }
    }
    let (role_name, role_definition) = role?;
    Some(DeployerDecl {
        name: name?,
        role_name,
        role_definition,
        deploy: deploy?,
        scope,
        github: match github {
            Some(g) => Some(g?),
            None => None,
        },
        client_secret_days: client_secret_days?,
        graph_permissions,
        protect: flag(&d.protect),
    })
}

/// Resolves `role:` to `(built-in name, GUID)`, recording why it cannot be.
fn role_of(cx: &mut Context<'_>, written: &Spanned<String>) -> Option<(Option<String>, String)> {
    let role = cx.string(written, "role")?;
    if rules::is_guid(&role) {
        return Some((built_in_role_name(&role).map(str::to_owned), role.to_ascii_lowercase()));
    }
    if let Some((name, guid)) = built_in_role(&role) {
        return Some((Some(name.to_owned()), guid.to_owned()));
    }
    let suggestion = suggest(&role, exai_model::kinds::BUILT_IN_ROLES.iter().map(|(n, _)| *n), 4);
    let hint = match suggestion {
        Some(s) => format!("did you mean `{s}`? for another role, give its role definition GUID (`az role definition list --name '<name>' --query [].name`)"),
        None => "give a built-in role name such as `Contributor` or `AcrPush`, or a role definition GUID (`az role definition list --name '<name>' --query [].name`)".to_owned(),
    };
    let diagnostic = Diagnostic::new(format!("unknown role `{role}`"))
        .at(cx.span(written))
        .label("not a built-in role exai knows, nor a GUID")
        .hint(hint);
    cx.error(diagnostic);
    None
}

/// Checks `deployer.deploy:`: each access needs the environment's resource it applies to, and
/// the block must grant something.
fn deploy_access(cx: &mut Context<'_>, scope: &Scope<'_>, d: &wire::DeployAccessSection) -> Option<DeployAccess> {
    let env = scope.name;
    let access = DeployAccess { registry_push: d.registry.is_some(), cluster_user: d.cluster.is_some() };
    let mut valid = true;
    if let Some(push) = &d.registry
        && scope.section.registry.is_none()
    {
        let diagnostic =
            Diagnostic::new(format!("`deploy.registry: push`, but environment `{env}` declares no `registry`"))
                .at(locate(&cx.text, push.span(), Some("push")))
                .label("no registry to push to")
                .hint("add a `registry:` section to the environment, or remove `deploy.registry`");
        cx.error(diagnostic);
        valid = false;
    }
    if let Some(user) = &d.cluster
        && scope.section.cluster.is_none()
    {
        let diagnostic =
            Diagnostic::new(format!("`deploy.cluster: user`, but environment `{env}` declares no `cluster`"))
                .at(locate(&cx.text, user.span(), Some("user")))
                .label("no cluster to reach")
                .hint("add a `cluster:` section to the environment, or remove `deploy.cluster`");
        cx.error(diagnostic);
        valid = false;
    }
    if access.is_empty() {
        let diagnostic = Diagnostic::new(format!("`deploy` of the deployer of `{env}` grants nothing"))
            .at(cx.key_span(&["environments", env, "deployer", "deploy"]))
            .label("empty")
            .hint("write `deploy: { registry: push, cluster: user }`, or remove `deploy`");
        cx.error(diagnostic);
        valid = false;
    }
    valid.then_some(access)
}

/// Checks a `github:` section: repository, branches and environments, and the federated
/// credentials they make.
fn github(cx: &mut Context<'_>, g: &wire::GitHubSection) -> Option<GitHubDecl> {
    let repository = cx.checked(&g.repository, "GitHub repository", rules::github_repository);
    let branches: Vec<Option<String>> =
        g.branches.iter().flatten().map(|b| cx.checked(b, "branch name", rules::branch_name)).collect();
    let environments: Vec<Option<String>> = g
        .environments
        .iter()
        .flatten()
        .map(|e| cx.checked(e, "GitHub environment name", rules::github_environment))
        .collect();
    let decl = GitHubDecl {
        repository: repository?,
        branches: branches.into_iter().collect::<Option<Vec<_>>>()?,
        pull_requests: flag(&g.pull_requests),
        environments: environments.into_iter().collect::<Option<Vec<_>>>()?,
    };
    let subjects = decl.subjects();
    if subjects.is_empty() {
        let diagnostic = Diagnostic::new("`github` lets no workflow log in")
            .at(cx.span(&g.repository))
            .label("no branches, pull requests or environments")
            .hint("add `branches: [main]`, `pullRequests: true` or `environments: [prod]`");
        cx.error(diagnostic);
    }
    if subjects.len() > MAX_FEDERATED_CREDENTIALS {
        let diagnostic = Diagnostic::new(format!(
            "`github` needs {} federated credentials; an application holds at most {MAX_FEDERATED_CREDENTIALS}",
            subjects.len()
        ))
        .at(cx.span(&g.repository))
        .label("too many branches and environments")
        .hint("use GitHub environments to group branches, or fewer branches");
        cx.error(diagnostic);
    }
    for (i, (name, subject)) in subjects.iter().enumerate() {
        if let Some((_, other)) = subjects[..i].iter().find(|(n, _)| n == name) {
            let diagnostic = Diagnostic::new(format!("`{subject}` and `{other}` would both be named `{name}`"))
                .at(cx.span(&g.repository))
                .label("federated credential names collide")
                .hint("branch and environment names are reduced to letters, digits, `-` and `_` in credential names; rename one");
            cx.error(diagnostic);
        }
    }
    Some(decl)
}

/// Checks a `planner:` section; the planner is a deployer with Reader and Graph's
/// `Application.Read.All`, no secret, scoped like the deployer unless told otherwise.
fn planner(cx: &mut Context<'_>, p: &wire::PlannerSection, deployer: Option<&DeployerDecl>) -> Option<DeployerDecl> {
    let name = cx.checked(&p.name, "planner display name", rules::display_name);
    if let (Some(name), Some(deployer)) = (&name, deployer)
        && *name == deployer.name
    {
        let diagnostic = Diagnostic::new(format!("the planner and the deployer are both named `{name}`"))
            .at(cx.span(&p.name))
            .label("the deployer's name")
            .hint("give the planner its own name: exai finds each identity by its display name");
        cx.error(diagnostic);
    }
    let github = github(cx, &p.github);
    let scope = match p.scope.as_deref() {
        Some(scope) => *scope,
        None => deployer.map_or(DeployerScope::ResourceGroup, |d| d.scope),
    };
    let (reader, reader_guid) = built_in_role("Reader")?;
    let (permission, permission_id) = exai_model::kinds::graph_permission("Application.Read.All")?;
    Some(DeployerDecl {
        name: name?,
        role_name: Some(reader.to_owned()),
        role_definition: Some(reader_guid.to_owned()),
        deploy: DeployAccess::default(),
        scope,
        github: Some(github?),
        client_secret_days: None,
        graph_permissions: vec![(permission.to_owned(), permission_id.to_owned())],
        protect: flag(&p.protect),
    })
}

/// Checks `kubernetes:`: only its shape and names. Whether the overlay exists and renders is
/// `exai check`'s finding, not the spec's: a spec is valid without the manifests at hand.
fn kubernetes(cx: &mut Context<'_>, k: &wire::KubernetesSection) -> Option<KubernetesDecl> {
    let overlay = cx.string(&k.overlay, "Kubernetes overlay");
    if overlay.as_deref().is_some_and(|o| o.trim().is_empty()) {
        let d = Diagnostic::new("`kubernetes.overlay` is empty").at(cx.span(&k.overlay)).label("no directory").hint(
            "name the kustomize overlay the deploy renders, relative to the spec, e.g. `overlay: k8s/overlays/azure`",
        );
        cx.error(d);
    }
    let namespace = k.namespace.as_ref().map(|n| cx.checked(n, "Kubernetes namespace", rules::kubernetes_namespace));
    let external = k.external.as_deref();
    let secrets = external.and_then(|e| e.secrets.as_deref()).map(|s| external_objects(cx, s, "Secret"));
    let config_maps = external.and_then(|e| e.config_maps.as_deref()).map(|c| external_objects(cx, c, "ConfigMap"));
    let overlay = overlay.filter(|o| !o.trim().is_empty())?;
    Some(KubernetesDecl {
        overlay,
        overlay_span: cx.span(&k.overlay),
        // An invalid value is already recorded, and makes the environment invalid.
        namespace: namespace.flatten(),
        external_secrets: secrets.flatten().unwrap_or_default(),
        external_config_maps: config_maps.flatten().unwrap_or_default(),
    })
}

/// Checks `kubernetes.external.secrets` or `configMaps` (`what`: `Secret`, `ConfigMap`).
fn external_objects(
    cx: &mut Context<'_>,
    objects: &[wire::Mapping<wire::ExternalObjectSection>],
    what: &str,
) -> Option<Vec<ExternalObject>> {
    let before = cx.diagnostics.len();
    let mut out = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let name = cx.checked(&object.name, &format!("{what} name"), rules::kubernetes_object_name);
        if objects[..i].iter().any(|o| o.name.as_str() == object.name.as_str()) {
            let d = Diagnostic::new(format!("{what} `{}` is listed twice", object.name.as_str()))
                .at(cx.span(&object.name))
                .label("second entry")
                .hint("list each object once, with all its keys");
            cx.error(d);
        }
        let keys = object.keys.as_ref().map(|keys| {
            keys.iter().filter_map(|k| cx.checked(k, &format!("{what} key"), rules::kubernetes_key)).collect::<Vec<_>>()
        });
        if let Some(name) = name {
            out.push(ExternalObject { name, keys });
        }
    }
    (cx.diagnostics.len() == before).then_some(out)
}

/// Returns each environment's section of the file, by name: the conversions look sections up
/// once per environment, so a scan of the list would make them quadratic.
fn sections(wire: &wire::SpecFile) -> HashMap<&str, &wire::EnvironmentSection> {
    wire.environments.iter().map(|(name, section)| (name.as_str(), &**section)).collect()
}

/// Rules that span environments. Each name is looked up in a map of the names seen so far (the
/// first environment to declare one keeps it), so the rules are linear in the environments.
fn across_environments(cx: &mut Context<'_>, wire: &wire::SpecFile, environments: &[Environment]) {
    let sections = sections(wire);
    let section = |name: &str| sections.get(name).copied();
    // Resource group names are case-insensitive in ARM, per subscription.
    let mut groups: HashMap<(&str, String), &str> = HashMap::new();
    let mut registries: HashMap<&str, &str> = HashMap::new();
    let mut identities: HashMap<&str, &str> = HashMap::new();
    for a in environments {
        // Two environments writing the same group would fight over it on every apply.
        let group = &a.resource_group.resource;
        match groups.entry((group.subscription.as_str(), group.name.to_ascii_lowercase())) {
            Entry::Vacant(slot) => {
                slot.insert(&a.name);
            }
            Entry::Occupied(first) => {
                let span = section(&a.name).and_then(|s| cx.span(&s.resource_group.name));
                cx.error(
                    Diagnostic::new(format!(
                        "environments `{}` and `{}` declare the same resource group `{}`",
                        first.get(),
                        a.name,
                        group.name
                    ))
                    .at(span)
                    .label("already declared")
                    .hint("give each environment its own resource group"),
                );
            }
        }
        // Registry names are global across all of Azure (`<name>.azurecr.io`).
        // A referenced registry is shared on purpose: each environment only reads it.
        if let Some(ra) = a.registry.as_ref().filter(|r| !r.referenced) {
            match registries.entry(ra.resource.name.as_str()) {
                Entry::Vacant(slot) => {
                    slot.insert(&a.name);
                }
                Entry::Occupied(first) => {
                    let span = section(&a.name)
                        .and_then(|s| s.registry.as_deref())
                        .and_then(|r| r.name.as_ref())
                        .and_then(|n| cx.span(n));
                    cx.error(
                        Diagnostic::new(format!(
                            "environments `{}` and `{}` declare the same registry `{}`",
                            first.get(),
                            a.name,
                            ra.resource.name
                        ))
                        .at(span)
                        .label("registry names are global")
                        .hint("a registry name is unique across all of Azure (`<name>.azurecr.io`); give each environment its own"),
                    );
                }
            }
        }
        // exai finds each identity's application by display name: two environments with one
        // name would share (and fight over) one application. An environment's own deployer
        // and planner are checked against the environments before it only.
        let mut own = Vec::new();
        for (what, identity) in [("deployer", &a.deployer), ("planner", &a.planner)] {
            let Some(da) = identity else { continue };
            own.push(da.name.as_str());
            let Some(b) = identities.get(da.name.as_str()) else { continue };
            let span = section(&a.name)
                .and_then(|s| match what {
                    "deployer" => s.deployer.as_deref().map(|d| &d.name),
                    _ => s.planner.as_deref().map(|p| &p.name),
                })
                .and_then(|n| cx.span(n));
            cx.error(
                Diagnostic::new(format!(
                    "environments `{b}` and `{}` both have an identity named `{}`",
                    a.name, da.name
                ))
                .at(span)
                .label("already declared")
                .hint(format!("give each environment's {what} its own name")),
            );
        }
        for name in own {
            identities.entry(name).or_insert(&a.name);
        }
    }
}

/// Warnings for the seed recipe's classic pitfall: a deployer with Contributor cannot create
/// role assignments, so the CI run that applies a spec with any fails on them.
fn privilege_warnings(cx: &mut Context<'_>, wire: &wire::SpecFile, environments: &[Environment]) {
    let sections = sections(wire);
    for env in environments {
        let Some(deployer) = &env.deployer else { continue };
        let writes_assignments = deployer.role_name.as_deref().is_some_and(|r| ROLE_ASSIGNMENT_WRITERS.contains(&r));
        if writes_assignments {
            continue;
        }
        let attaches = env.cluster.as_ref().is_some_and(|c| c.attach_registry);
        let written = sections.get(env.name.as_str()).and_then(|s| s.deployer.as_deref());
        let span = match written.and_then(|d| d.role.as_ref()) {
            Some(role) => cx.span(role),
            None => cx.key_span(&["environments", &env.name, "deployer", "deploy"]),
        };
        // A deployer with `deploy` access alone holds those roles, none of which writes role
        // assignments either.
        let role = match (&deployer.role_name, &deployer.role_definition) {
            (Some(name), _) => format!("`{name}`"),
            (None, Some(guid)) => format!("`{guid}`"),
            (None, None) => {
                let names: Vec<String> = deployer.deploy.role_names().iter().map(|n| format!("`{n}`")).collect();
                format!("only its deploy access ({})", names.join(", "))
            }
        };
        let what = match (attaches, deployer.role_definition.is_some(), deployer.deploy.is_empty()) {
            (true, true, true) => "the cluster's AcrPull and the deployer's own role assignments",
            (false, true, true) => "the deployer's own role assignment",
            (true, true, false) => {
                "the cluster's AcrPull and the deployer's own role assignments (its role and its deploy access)"
            }
            (false, true, false) => "the deployer's own role assignments (its role and its deploy access)",
            (true, false, _) => "the cluster's AcrPull and the deployer's deploy access (its role assignments)",
            (false, false, _) => "the deployer's deploy access (its role assignments)",
        };
        // Actionable only where role assignments are written: `exai validate`, and a plan that
        // creates, changes or deletes one in this environment (the first apply, a changed role).
        cx.warnings.push(crate::Warning {
            environment: env.name.clone(),
            writes_of: Some(RoleAssignment::AZURE_TYPE),
            diagnostic: Diagnostic::new(format!(
                "the deployer of `{}` gets {role}, which cannot create role assignments",
                env.name
            ))
            .at(span)
            .label("cannot write Microsoft.Authorization/roleAssignments")
            .hint(match deployer.role_definition {
                Some(_) => format!(
                    "run the first `exai apply --env {}` as an admin (Owner or User Access Administrator): it creates {what}; CI running as the deployer can then plan and apply everything else, but not change role assignments",
                    env.name
                ),
                None => format!(
                    "run `exai apply --env {}` as an admin (Owner or User Access Administrator): it creates {what}; with no `role`, the deployer pushes images and reaches the cluster, but applies nothing",
                    env.name
                ),
            }),
        });
    }
}
