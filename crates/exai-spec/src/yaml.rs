//! Loading `exai.yaml`: YAML with positions, a structural check against the schema that reports
//! every unknown key and wrong type at once, then serde into the [wire](crate::wire) types.

use crate::diagnostic::{Diagnostic, SourceSpan, SourceText, SpecError, suggest};
use crate::wire::SpecFile;
use marked_yaml::{LoaderOptions, Span};

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

/// Returns where `span` starts in `text`, with the length of the value written there.
pub(crate) fn locate(source: &SourceText<'_>, span: &Span, value: Option<&str>) -> Option<SourceSpan> {
    let start = span.start()?;
    let text = source.text();
    let s = source.span(start.line(), start.column(), 1)?;
    let here = &text[s.offset..];
    let len = match value {
        Some(v) if here.starts_with(v) && !v.is_empty() => v.len(),
        Some(v) if (here.starts_with('"') || here.starts_with('\'')) && here[1..].starts_with(v) => v.len() + 2,
        // A value that is not written verbatim (escapes, folded lines): point at the rest of
        // its line, which is where the eye should go.
        _ => here.find('\n').unwrap_or(here.len()).max(1),
    };
    Some(s.with_len(text, len))
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
    let only_comments = text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if only_comments {
        return Err(SpecError::one(
            file,
            Diagnostic::new("the spec is empty")
                .hint("start with `version: 1`, `azure:` and `environments:`; see docs/spec.md"),
        ));
    }
    if let Some(d) = nesting_error(text) {
        return Err(SpecError::one(file, d));
    }
    let options = LoaderOptions::default().error_on_duplicate_keys(true);
    let node = marked_yaml::parse_yaml_with_options(0, text, options)
        .map_err(|e| SpecError::one(file, load_error(text, e)))?;
    let structural = crate::shape::check(&SourceText::new(text), &node);
    if !structural.is_empty() {
        return Err(SpecError { file: file.to_owned(), diagnostics: structural });
    }
    let spec = marked_yaml::from_node(&node).map_err(|e| SpecError::one(file, from_node_error(text, e)))?;
    Ok(Document { file: spec, root: node })
}

/// How deep a spec may nest. The deepest path of a valid spec is about 6 levels
/// (`environments.<name>.cluster.nodePools[].autoscale.min`); anything far deeper is not a spec,
/// and building a tree of it would recurse without bound.
pub const MAX_NESTING: usize = 32;

/// Measures nesting on the YAML event stream, which is parsed without recursion, and reports
/// the first place deeper than [`MAX_NESTING`]. Syntax errors are left to the loader, which
/// reports them with more context.
fn nesting_error(text: &str) -> Option<Diagnostic> {
    use yaml_rust2::parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    let mut depth = 0usize;
    loop {
        let (event, mark) = parser.next_token().ok()?;
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::new(format!("the spec nests more than {MAX_NESTING} levels deep"))
                            .at(SourceSpan::at(text, mark.line(), mark.col() + 1, 1))
                            .label("too deep")
                            .hint("an exai spec nests about 6 levels; check that this is the right file"),
                    );
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            Event::StreamEnd => return None,
            _ => {}
        }
    }
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
                .at(locate(&SourceText::new(text), inner.key.span(), Some(&key)))
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
    let source = SourceText::new(text);
    let at = |span: &Span| locate(&source, span, None);
    let diagnostic = match error.into_inner() {
        E::UnknownFieldError(field, expected, span) => {
            let suggestion = suggest(&field, expected.iter().copied(), 3);
            let known = expected.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            let hint = match suggestion {
                Some(s) => format!("did you mean `{s}`? keys allowed here: {known}"),
                None => format!("keys allowed here: {known}"),
            };
            Diagnostic::new(format!("unknown key `{field}`"))
                .at(locate(&source, &span, Some(&field)))
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
