//! The wire form of `exai.yaml`: serde types that mirror the file, each value with its span.
//!
//! Nothing here is validated beyond YAML syntax, types and known keys; that is
//! [`convert`](crate)'s job, which can then report every problem at once.

use crate::diagnostic::{Diagnostic, SourceSpan, SpecError};
use marked_yaml::{LoaderOptions, Span, Spanned};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A mapping whose entries keep the file's order.
///
/// Keys are plain strings so that serde_path_to_error records them and every error inside an
/// entry is located precisely; a key's own position comes from [`Document::key_span`].
pub type OrderedMap<V> = Vec<(String, V)>;

/// A parsed spec: its wire form, and the node tree it came from (for key positions).
pub struct Document {
    /// The wire form.
    pub file: SpecFile,
    root: marked_yaml::Node,
}

impl Document {
    /// Returns the span of the key at `path` (e.g. `["environments", "perso"]`).
    pub fn key_span(&self, path: &[&str]) -> Option<&Span> {
        let (last, parents) = path.split_last()?;
        let mut node = &self.root;
        for key in parents {
            node = node.as_mapping()?.get(*key)?;
        }
        node.as_mapping()?.keys().find(|k| k.as_str() == *last).map(|k| k.span())
    }
}

/// A section that must be written as a YAML mapping.
///
/// serde's derived struct visitors also accept a *sequence* (fields by position), so without
/// this wrapper `resourceGroup: [my-rg]` would be read as `resourceGroup: { name: my-rg }`. A
/// spec is read strictly: a section is a mapping or an error.
#[derive(Debug)]
pub struct Mapping<T>(pub T);

impl<T> std::ops::Deref for Mapping<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Mapping<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MappingVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for MappingVisitor<T> {
            type Value = Mapping<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of `key: value` lines")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Mapping)
            }
        }
        deserializer.deserialize_map(MappingVisitor(PhantomData))
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// The spec format version; exai understands `1`.
    pub version: Spanned<u32>,
    /// Which tenant and subscription.
    pub azure: Mapping<AzureSection>,
    /// Values every environment inherits.
    #[serde(default)]
    pub defaults: Option<Mapping<Defaults>>,
    /// The environments, by name.
    #[serde(deserialize_with = "ordered_map")]
    pub environments: OrderedMap<Mapping<EnvironmentSection>>,
}

/// `azure:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureSection {
    /// The Entra tenant id (or domain).
    pub tenant: Spanned<String>,
    /// The subscription id.
    pub subscription: Spanned<String>,
}

/// `defaults:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// The region of every resource that does not name one.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Tags on every resource.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    pub tags: Option<OrderedMap<Spanned<String>>>,
}

/// `environments.<name>:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentSection {
    /// The environment's resource group.
    pub resource_group: Mapping<ResourceGroupSection>,
}

/// `environments.<name>.resourceGroup:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupSection {
    /// The group's name.
    pub name: Spanned<String>,
    /// Its region; `defaults.location` when absent.
    #[serde(default)]
    pub location: Option<Spanned<String>>,
    /// Its tags, on top of `defaults.tags`.
    #[serde(default, deserialize_with = "optional_ordered_map")]
    pub tags: Option<OrderedMap<Spanned<String>>>,
}

fn ordered_map<'de, D, V>(deserializer: D) -> Result<OrderedMap<V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct OrderedVisitor<V>(PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
        type Value = OrderedMap<V>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(OrderedVisitor(PhantomData))
}

fn optional_ordered_map<'de, D, V>(deserializer: D) -> Result<Option<OrderedMap<V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    ordered_map(deserializer).map(Some)
}

/// Returns where `span` starts in `text`, with the length of the value written there.
pub(crate) fn locate(text: &str, span: &Span, value: Option<&str>) -> Option<SourceSpan> {
    let start = span.start()?;
    let mut s = SourceSpan::at(text, start.line(), start.column(), 1)?;
    let here = &text[s.offset..];
    s.len = match value {
        Some(v) if here.starts_with(v) && !v.is_empty() => v.len(),
        Some(v) if (here.starts_with('"') || here.starts_with('\'')) && here[1..].starts_with(v) => v.len() + 2,
        // A value that is not written verbatim (escapes, folded lines): point at the rest of
        // its line, which is where the eye should go.
        _ => here.find('\n').unwrap_or(here.len()).max(1),
    };
    s.len = s.len.min(text.len() - s.offset);
    Some(s)
}

/// Parses `text` into the wire form, or says exactly where and why it cannot.
pub fn parse(file: &str, text: &str) -> Result<Document, SpecError> {
    if text.len() > crate::MAX_SPEC_BYTES {
        return Err(SpecError::one(
            file,
            Diagnostic::new(format!(
                "the spec is {} bytes; exai reads specs of at most {} bytes",
                text.len(),
                crate::MAX_SPEC_BYTES
            ))
            .hint("check that this is the right file: a platform description is a few kilobytes"),
        ));
    }
    if text.trim().is_empty() {
        return Err(SpecError::one(
            file,
            Diagnostic::new("the spec is empty")
                .hint("start with `version: 1`, `azure:` and `environments:`; see docs/spec.md"),
        ));
    }
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let node = marked_yaml::parse_yaml_with_options(0, text, options)
        .map_err(|e| SpecError::one(file, load_error(text, e)))?;
    let spec = marked_yaml::from_node(&node).map_err(|e| SpecError::one(file, from_node_error(text, e)))?;
    Ok(Document { file: spec, root: node })
}

fn marker_span(text: &str, m: &marked_yaml::Marker) -> Option<SourceSpan> {
    SourceSpan::at(text, m.line(), m.column(), 1)
}

fn load_error(text: &str, error: marked_yaml::LoadError) -> Diagnostic {
    use marked_yaml::LoadError as E;
    match error {
        E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => {
            Diagnostic::new("the spec must be a mapping at the top level")
                .at(marker_span(text, &m))
                .label("expected `key: value` lines")
                .hint("start with `version: 1`, `azure:` and `environments:`; see docs/spec.md")
        }
        E::UnexpectedAnchor(m) => {
            Diagnostic::new("YAML anchors and aliases (`&name`, `*name`) are not supported in exai.yaml")
                .at(marker_span(text, &m))
                .label("anchor defined here")
                .hint("write the value out, or put values shared by every environment under `defaults:`")
        }
        E::MappingKeyMustBeScalar(m) => Diagnostic::new("a mapping key must be a plain name")
            .at(marker_span(text, &m))
            .label("not a plain key")
            .hint("keys are names such as `name:` or `location:`, not lists or mappings"),
        E::UnexpectedTag(m) => Diagnostic::new("YAML tags (`!!str`, `!custom`) are not supported in exai.yaml")
            .at(marker_span(text, &m))
            .label("tag used here")
            .hint("remove the tag; quote the value if it must be read as text"),
        E::DuplicateKey(inner) => {
            let key = inner.key.as_str().to_owned();
            let first = inner.prev_key.span().start().map(|m| format!("{}:{}", m.line(), m.column()));
            Diagnostic::new(format!("key `{key}` appears twice in the same mapping"))
                .at(locate(text, inner.key.span(), Some(&key)))
                .label("second occurrence")
                .hint(match first {
                    Some(at) => {
                        format!("the first is at line {at}; keep one of them (YAML would silently keep the last)")
                    }
                    None => "keep one of them (YAML would silently keep the last)".to_owned(),
                })
        }
        E::ScanError(m, e) => Diagnostic::new(format!("invalid YAML: {}", e.info()))
            .at(marker_span(text, &m))
            .label("here")
            .hint("check indentation (spaces, not tabs), quotes and colons around this line"),
        #[allow(unreachable_patterns)]
        other => Diagnostic::new(format!("invalid YAML: {other}")),
    }
}

fn from_node_error(text: &str, error: marked_yaml::FromNodeError) -> Diagnostic {
    use marked_yaml::Error as E;
    let path = error.path().filter(|p| !p.is_empty() && *p != ".").map(str::to_owned);
    let at = |span: &Span| locate(text, span, None);
    let diagnostic = match error.into_inner() {
        E::UnknownFieldError(field, expected, span) => {
            let suggestion = expected
                .iter()
                .map(|k| (strsim::damerau_levenshtein(k, &field), *k))
                .filter(|(d, _)| *d <= 3)
                .min()
                .map(|(_, k)| k);
            let known = expected.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            let hint = match suggestion {
                Some(s) => format!("did you mean `{s}`? keys allowed here: {known}"),
                None => format!("keys allowed here: {known}"),
            };
            Diagnostic::new(format!("unknown key `{field}`"))
                .at(locate(text, &span, Some(&field)))
                .label("not a key exai knows here")
                .hint(hint)
        }
        E::NotBoolean(span) => Diagnostic::new("expected `true` or `false`").at(at(&span)).label("not a boolean"),
        E::IntegerParseFailure(_, span) => {
            Diagnostic::new("expected a whole number").at(at(&span)).label("not a whole number")
        }
        E::FloatParseFailure(_, span) => Diagnostic::new("expected a number").at(at(&span)).label("not a number"),
        E::Other(message, span) => {
            let message = message.replace("invalid type: ", "wrong type: found ");
            let label = if message.starts_with("missing field") { "in this mapping" } else { "here" };
            Diagnostic::new(message).at(at(&span)).label(label)
        }
        #[allow(unreachable_patterns)]
        other => Diagnostic::new(other.to_string()),
    };
    match path {
        Some(path) => {
            // For an unknown key the path ends with the key itself; name the section instead.
            let section = match path.rsplit_once('.') {
                Some((section, last)) if diagnostic.message.contains(&format!("`{last}`")) => section.to_owned(),
                _ => path,
            };
            let hint = diagnostic
                .hint
                .clone()
                .or_else(|| Some("see docs/spec.md for the keys and types of each section".to_owned()));
            Diagnostic { message: format!("{} in `{section}`", diagnostic.message), hint, ..diagnostic }
        }
        None => diagnostic,
    }
}
