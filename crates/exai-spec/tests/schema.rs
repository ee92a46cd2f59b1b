//! The published JSON Schema: current, and accepted by an off-the-shelf validator.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn generated() -> serde_json::Value {
    exai_spec::schema().to_value()
}

#[test]
fn checked_in_schema_is_current() {
    let checked_in: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("specs/exai.schema.json")).unwrap()).unwrap();
    assert!(
        checked_in == generated(),
        "specs/exai.schema.json is stale: regenerate it with `cargo run -q -p exai-cli -- schema > specs/exai.schema.json`"
    );
}

/// `jsonschema` (an independent validator) against YAML loaded by `serde_yaml` (an independent
/// loader): the schema accepts the examples and refuses what the parser refuses structurally.
#[test]
fn off_the_shelf_validator_accepts_the_examples_and_refuses_bad_shapes() {
    let validator = jsonschema::validator_for(&generated()).unwrap();
    let mut files = vec![repo("specs/exai.yaml")];
    files.extend(std::fs::read_dir(repo("specs/valid")).unwrap().map(|e| e.unwrap().path()));
    for file in &files {
        let yaml: serde_json::Value = serde_yaml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&yaml).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{} does not match the schema: {errors:#?}", file.display());
    }
    for bad in [
        "unknown-key-registry",
        "wrong-type-section-as-list",
        "bad-enum-sku",
        "missing-version",
        "negative-count",
        "client-secret-true",
    ] {
        let file = repo(&format!("specs/invalid/{bad}.yaml"));
        let yaml: serde_json::Value = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert!(!validator.is_valid(&yaml), "{} should not match the schema", file.display());
    }
}

/// Collects every key path of the schema, in the notation of docs/spec.md
/// (`environments.<name>.cluster.nodePools[].autoscale.min`).
fn key_paths(schema: &serde_json::Value, node: &serde_json::Value, prefix: &str, out: &mut Vec<String>, depth: usize) {
    assert!(depth < 16, "schema too deep at {prefix}");
    let node = match node.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => &schema["$defs"][name],
        None => node,
    };
    for alternative in node.get("anyOf").or_else(|| node.get("oneOf")).and_then(|a| a.as_array()).into_iter().flatten()
    {
        key_paths(schema, alternative, prefix, out, depth + 1);
    }
    if let Some(properties) = node.get("properties").and_then(|p| p.as_object()) {
        for (key, value) in properties {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            out.push(path.clone());
            key_paths(schema, value, &path, out, depth + 1);
        }
    }
    if let Some(items) = node.get("items") {
        key_paths(schema, items, &format!("{prefix}[]"), out, depth + 1);
    }
    // Maps of named entries: only `environments` holds sections; tag maps hold plain strings.
    if let Some(extra) = node.get("additionalProperties").filter(|a| a.is_object())
        && prefix == "environments"
    {
        key_paths(schema, extra, &format!("{prefix}.<name>"), out, depth + 1);
    }
}

#[test]
fn docs_spec_md_documents_every_key_and_no_other() {
    let schema = generated();
    let mut paths = Vec::new();
    key_paths(&schema, &schema, "", &mut paths, 0);
    paths.sort();
    paths.dedup();
    let docs = std::fs::read_to_string(repo("docs/spec.md")).unwrap();
    let documented: Vec<String> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(path, _)| path.to_owned()))
        .collect();
    let missing: Vec<&String> = paths.iter().filter(|p| !documented.contains(p)).collect();
    let unknown: Vec<&String> = documented.iter().filter(|d| !paths.contains(d)).collect();
    assert!(missing.is_empty(), "docs/spec.md does not document: {missing:#?}");
    assert!(unknown.is_empty(), "docs/spec.md documents keys the schema does not have: {unknown:#?}");
    assert!(paths.len() > 60, "only {} key paths found: the walk is broken", paths.len());
}
