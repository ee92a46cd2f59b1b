//! What every example spec expands into: each resource, its dependencies and its whole desired
//! form (ownership marks, inherited tags and locations, derived names), as one snapshot per
//! example. A change to validation or expansion that changes what exai would ask Azure for shows
//! here as a snapshot diff.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

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

#[test]
fn every_example_expands_to_its_snapshot() {
    let mut files = vec![repo("specs/exai.yaml")];
    let mut examples: Vec<PathBuf> =
        std::fs::read_dir(repo("specs/valid")).unwrap().map(|e| e.unwrap().path()).collect();
    examples.sort();
    files.extend(examples);
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let spec = exai_spec::parse("exai.yaml", &text, &env).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let state = spec.desired_state(None).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let name = if file.parent() == Some(repo("specs").as_path()) { "exai".to_owned() } else { stem };
        insta::assert_json_snapshot!(name, state);
    }
}
