//! The structural check: the YAML tree walked against the spec's own JSON Schema.
//!
//! serde stops at the first unknown key or wrong type. This pass walks the whole tree first and
//! reports every structural problem at once — unknown keys (with "did you mean"), missing keys,
//! a list where a mapping belongs, a word where a number belongs, a value outside an enumeration —
//! each at its own position, with the schema's description of the key as the hint. Driving it
//! from the generated schema means the check, the parser and the schema editors use cannot
//! disagree about what a spec may contain.
//!
//! It understands the subset of JSON Schema that `schemars` generates for the wire types:
//! `$ref`/`$defs`, `type` (one or several), `properties`, `required`, `additionalProperties`,
//! `items`, `enum`, `const` and `anyOf`/`oneOf`.

use crate::diagnostic::{Diagnostic, SourceSpan, SourceText, suggest};
use crate::yaml::locate;
use marked_yaml::Node;
use marked_yaml::types::MarkedScalarNode;
use serde_json::Value;
use std::sync::OnceLock;

fn root_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| crate::wire::schema().to_value())
}

/// Returns every structural problem of `root` (empty when it has the spec's shape).
pub(crate) fn check(text: &SourceText<'_>, root: &Node) -> Vec<Diagnostic> {
    let mut walker = Walker { text, root: root_schema(), diagnostics: Vec::new() };
    walker.walk(root, root_schema(), &mut Vec::new(), None);
    walker.diagnostics
}

struct Walker<'a> {
    text: &'a SourceText<'a>,
    root: &'static Value,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Mapping,
    Sequence,
    Scalar,
}

fn shape(node: &Node) -> Shape {
    match node {
        Node::Mapping(_) => Shape::Mapping,
        Node::Sequence(_) => Shape::Sequence,
        Node::Scalar(_) => Shape::Scalar,
    }
}

fn shape_name(shape: Shape) -> &'static str {
    match shape {
        Shape::Mapping => "a mapping",
        Shape::Sequence => "a list",
        Shape::Scalar => "a single value",
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Returns how a JSON value is written as a YAML scalar (`false`, `Standard`).
fn value_text(value: &Value) -> std::borrow::Cow<'_, str> {
    match value.as_str() {
        Some(s) => s.into(),
        None => value.to_string().into(),
    }
}

fn render_path(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        if segment.starts_with('[') {
            out.push_str(segment);
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    if out.is_empty() { "the top level".to_owned() } else { format!("`{out}`") }
}

/// The first sentence of a schema description, as a hint.
fn description_hint(schema: &Value) -> Option<String> {
    let description = schema.get("description")?.as_str()?;
    let first = description.split("\n\n").next().unwrap_or(description).replace('\n', " ");
    Some(first)
}

impl Walker<'_> {
    fn deref(&self, schema: &'static Value) -> &'static Value {
        let mut current = schema;
        for _ in 0..32 {
            match current.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => match self.root.get("$defs").and_then(|d| d.get(name)) {
                    Some(target) => current = target,
                    None => return current,
                },
                None => return current,
            }
        }
        current
    }

    fn alternatives(&self, schema: &'static Value) -> Option<&'static Vec<Value>> {
        schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array)
    }

    /// Returns the shapes a schema accepts, looking through `$ref`, `anyOf` and `oneOf`; empty
    /// means "anything".
    fn shapes(&self, schema: &'static Value) -> Vec<Shape> {
        let schema = self.deref(schema);
        let mut out = Vec::new();
        for t in types(schema) {
            out.push(match t {
                "object" => Shape::Mapping,
                "array" => Shape::Sequence,
                _ => Shape::Scalar,
            });
        }
        if schema.get("enum").is_some() || schema.get("const").is_some() {
            out.push(Shape::Scalar);
        }
        for alternative in self.alternatives(schema).into_iter().flatten() {
            out.extend(self.shapes(alternative));
        }
        out
    }

    /// Returns the shapes a schema accepts besides YAML null.
    fn shapes_without_null(&self, schema: &'static Value) -> Vec<Shape> {
        let schema = self.deref(schema);
        let mut out: Vec<Shape> = types(schema)
            .into_iter()
            .filter(|t| *t != "null")
            .map(|t| match t {
                "object" => Shape::Mapping,
                "array" => Shape::Sequence,
                _ => Shape::Scalar,
            })
            .collect();
        if schema.get("enum").is_some() || schema.get("const").is_some() {
            out.push(Shape::Scalar);
        }
        for alternative in self.alternatives(schema).into_iter().flatten() {
            out.extend(self.shapes_without_null(alternative));
        }
        out
    }

    /// Returns true when the scalar `text` is valid for `schema`.
    fn scalar_ok(&self, text: &str, schema: &'static Value) -> bool {
        let schema = self.deref(schema);
        if let Some(alternatives) = self.alternatives(schema) {
            return alternatives.iter().any(|a| self.scalar_ok(text, a));
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values.iter().any(|v| value_text(v) == text);
        }
        if let Some(value) = schema.get("const") {
            return value_text(value) == text;
        }
        let ts = types(schema);
        ts.is_empty()
            || ts.iter().any(|t| match *t {
                "string" => true,
                "integer" => text.parse::<i64>().is_ok_and(|n| {
                    schema.get("minimum").and_then(Value::as_i64).is_none_or(|min| n >= min)
                        && schema.get("maximum").and_then(Value::as_i64).is_none_or(|max| n <= max)
                }),
                "number" => text.parse::<f64>().is_ok(),
                "boolean" => matches!(text, "true" | "false"),
                "null" => matches!(text, "" | "~" | "null"),
                _ => false,
            })
    }

    /// Returns the values an enumeration allows (through `enum`, `const`, `anyOf`, `oneOf`).
    fn enumerated(&self, schema: &'static Value) -> Vec<String> {
        let schema = self.deref(schema);
        let show = |v: &Value| value_text(v).into_owned();
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            return values.iter().map(show).collect();
        }
        if let Some(value) = schema.get("const") {
            return vec![show(value)];
        }
        self.alternatives(schema).into_iter().flatten().flat_map(|a| self.enumerated(a)).collect()
    }

    fn span_of(&self, node: &Node) -> Option<SourceSpan> {
        let value = match node {
            Node::Scalar(s) => Some(s.as_str()),
            _ => None,
        };
        locate(self.text, node.span(), value)
    }

    /// Checks `node` against `schema`; `owner` is the key the node is the value of, if any.
    fn walk(&mut self, node: &Node, schema: &'static Value, path: &mut Vec<String>, owner: Option<&MarkedScalarNode>) {
        let described = schema;
        let schema = self.deref(schema);
        if let Some(alternatives) = self.alternatives(schema) {
            let here = shape(node);
            let fitting: Vec<&'static Value> = alternatives.iter().filter(|a| self.shapes(a).contains(&here)).collect();
            if let Node::Scalar(s) = node {
                if self.scalar_ok(s.as_str(), schema) {
                    return;
                }
                if !fitting.is_empty() {
                    self.wrong_scalar(node, s.as_str(), described, schema, path);
                    return;
                }
            }
            match fitting.first() {
                Some(alternative) => {
                    let alternative = *alternative;
                    self.walk(node, alternative, path, owner)
                }
                None => self.wrong_shape(node, described, schema, path),
            }
            return;
        }
        let accepted = self.shapes(schema);
        if !accepted.is_empty() && !accepted.contains(&shape(node)) {
            self.wrong_shape(node, described, schema, path);
            return;
        }
        match node {
            Node::Mapping(mapping) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let additional = schema.get("additionalProperties");
                for (key, value) in mapping.iter() {
                    let name = key.as_str();
                    match properties.and_then(|p| p.get(name)) {
                        Some(property) => {
                            path.push(name.to_owned());
                            self.walk(value, property, path, Some(key));
                            path.pop();
                        }
                        None => match additional {
                            Some(Value::Bool(false)) => {
                                let known: Vec<&str> =
                                    properties.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
                                self.unknown_key(key, name, &known, path);
                            }
                            Some(extra @ Value::Object(_)) => {
                                path.push(name.to_owned());
                                self.walk(value, extra, path, Some(key));
                                path.pop();
                            }
                            _ => {}
                        },
                    }
                }
                let required = schema.get("required").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                // Point at the key that owns the mapping (`perso:`), else at its first key.
                let anchor =
                    owner.or_else(|| mapping.keys().next()).and_then(|k| locate(self.text, k.span(), Some(k.as_str())));
                for missing in required.iter().filter_map(Value::as_str).filter(|r| mapping.get(*r).is_none()) {
                    let property = properties.and_then(|p| p.get(missing));
                    let hint = property
                        .and_then(description_hint)
                        .or_else(|| property.map(|p| self.deref(p)).and_then(description_hint));
                    let label = match owner {
                        Some(k) => format!("`{}` needs `{missing}`", k.as_str()),
                        None => format!("no `{missing}` here"),
                    };
                    let mut d = Diagnostic::new(format!("missing key `{missing}` in {}", render_path(path)))
                        .at(anchor)
                        .label(label);
                    if let Some(hint) = hint {
                        d = d.hint(format!("`{missing}`: {hint}"));
                    }
                    self.diagnostics.push(d);
                }
            }
            Node::Sequence(sequence) => {
                if let Some(items) = schema.get("items") {
                    for (i, item) in sequence.iter().enumerate() {
                        path.push(format!("[{i}]"));
                        self.walk(item, items, path, None);
                        path.pop();
                    }
                }
            }
            Node::Scalar(scalar) => {
                if !self.scalar_ok(scalar.as_str(), schema) {
                    self.wrong_scalar(node, scalar.as_str(), described, schema, path);
                }
            }
        }
    }

    fn unknown_key(&mut self, key: &MarkedScalarNode, name: &str, known: &[&str], path: &[String]) {
        let suggestion = suggest(name, known.iter().copied(), 3);
        let listed = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        let hint = match suggestion {
            Some(s) => format!("did you mean `{s}`? keys allowed here: {listed}"),
            None => format!("keys allowed here: {listed}"),
        };
        let where_ = if path.is_empty() { "at the top level".to_owned() } else { format!("in {}", render_path(path)) };
        self.diagnostics.push(
            Diagnostic::new(format!("unknown key `{name}` {where_}"))
                .at(locate(self.text, key.span(), Some(name)))
                .label("not a key exai knows here")
                .hint(hint),
        );
    }

    fn wrong_shape(&mut self, node: &Node, described: &Value, schema: &'static Value, path: &[String]) {
        // Optional sections also accept YAML null; naming it would only confuse.
        let mut shapes: Vec<&str> = Vec::new();
        for s in self.shapes_without_null(schema) {
            if !shapes.contains(&shape_name(s)) {
                shapes.push(shape_name(s));
            }
        }
        let expected = if shapes.is_empty() { "another kind of value".to_owned() } else { shapes.join(" or ") };
        let mut d =
            Diagnostic::new(format!("{} must be {expected}, not {}", render_path(path), shape_name(shape(node))))
                .at(self.span_of(node))
                .label(format!("expected {expected}"));
        if let Some(hint) = description_hint(described).or_else(|| description_hint(schema)) {
            d = d.hint(hint);
        }
        self.diagnostics.push(d);
    }

    fn wrong_scalar(&mut self, node: &Node, text: &str, described: &Value, schema: &'static Value, path: &[String]) {
        let names = self.enumerated(schema);
        let (expected, suggestion) = if !names.is_empty() {
            let suggestion = suggest(text, names.iter().map(String::as_str), 3).map(str::to_owned);
            (format!("one of {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")), suggestion)
        } else {
            let ts = types(schema);
            let wanted = ts.iter().find(|t| **t != "null").copied().unwrap_or("value");
            let expected = match wanted {
                "integer" if schema.get("minimum").and_then(Value::as_i64) == Some(0) => {
                    "a whole number, 0 or more".to_owned()
                }
                "integer" => "a whole number".to_owned(),
                "number" => "a number".to_owned(),
                "boolean" => "`true` or `false`".to_owned(),
                other => format!("a {other}"),
            };
            (expected, None)
        };
        let mut d = Diagnostic::new(format!("{} must be {expected}, not `{text}`", render_path(path)))
            .at(self.span_of(node))
            .label(format!("expected {expected}"));
        let hint = match (suggestion, description_hint(described).or_else(|| description_hint(schema))) {
            (Some(s), _) => Some(format!("did you mean `{s}`?")),
            (None, Some(h)) => Some(h),
            (None, None) => None,
        };
        if let Some(hint) = hint {
            d = d.hint(hint);
        }
        self.diagnostics.push(d);
    }
}
