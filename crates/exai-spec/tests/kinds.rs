//! The table of kinds against the expansion: every kind exai manages is one some spec declares.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_model::KindName;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn env(name: &str) -> Option<String> {
    match name {
        "AZURE_TENANT_ID" => Some("ee000000-0000-4000-8000-000000000001".into()),
        "AZURE_SUBSCRIPTION_ID" => Some("ee000000-0000-4000-8000-000000000002".into()),
        _ => None,
    }
}

/// A kind in `exai_model::KindName` that no example spec expands to is a kind the expansion
/// forgot (or an example the docs lack): either way the end-to-end tests, which run the
/// examples, never exercise it. A new kind passes once `Environment::expand` produces it and an
/// example in `specs/valid/` declares it.
#[test]
fn the_examples_expand_to_every_kind_in_the_table() {
    let mut files = vec![repo("specs/exai.yaml")];
    files.extend(std::fs::read_dir(repo("specs/valid")).unwrap().map(|e| e.unwrap().path()));
    let mut expanded = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let spec = exai_spec::parse(&file.display().to_string(), &text, &env)
            .unwrap_or_else(|e| panic!("{} does not parse: {e:?}", file.display()));
        let state = spec.desired_state(None).unwrap();
        expanded.extend(state.resources.iter().map(|r| r.spec.as_kind().name()));
    }
    let missing: Vec<KindName> = KindName::ALL.iter().copied().filter(|k| !expanded.contains(k)).collect();
    assert!(missing.is_empty(), "no example spec declares a resource of kind {missing:?}");
}
