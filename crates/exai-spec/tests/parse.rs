//! Parsing and validation of `exai.yaml`, input → spec or diagnostics.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_spec::{SpecError, parse};

fn env(name: &str) -> Option<String> {
    match name {
        "AZURE_TENANT_ID" => Some("ee000000-0000-4000-8000-000000000001".into()),
        "AZURE_SUBSCRIPTION_ID" => Some("ee000000-0000-4000-8000-000000000002".into()),
        _ => None,
    }
}

const VALID: &str = "\
version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags: { project: exai }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
  prod:
    resourceGroup:
      name: exai-prod-rg
      location: West Europe
      tags: { env: prod }
";

fn errors(text: &str) -> SpecError {
    parse("exai.yaml", text, &env).expect_err("spec should be rejected")
}

#[test]
fn valid_spec_expands_with_defaults_and_overrides() {
    let spec = parse("exai.yaml", VALID, &env).unwrap();
    assert_eq!(spec.environments[0].subscription, "ee000000-0000-4000-8000-000000000002");
    let names: Vec<_> = spec.environments.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["perso", "prod"], "file order is kept");
    let prod = &spec.environments[1].resource_group.resource;
    assert_eq!(prod.location.as_str(), "westeurope");
    assert_eq!(prod.tags.get("project"), Some("exai"));
    assert_eq!(prod.tags.get("env"), Some("prod"));
    let state = spec.desired_state(Some("perso")).unwrap();
    assert_eq!(state.resources.len(), 1);
    assert_eq!(state.resources[0].address.as_str(), "perso.resourceGroup");
    assert!(spec.desired_state(Some("staging")).is_err());
}

#[test]
fn syntax_error_names_line_and_column() {
    let e = errors("version: 1\nazure:\n  tenant: [unclosed\n");
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn wrong_type_names_line_and_column() {
    let e = errors(&VALID.replace("resourceGroup: { name: exai-perso-rg }", "resourceGroup: [exai-perso-rg]"));
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn unknown_key_names_line_column_and_suggests() {
    let e = errors(&VALID.replace("      location: West Europe", "      locaton: West Europe"));
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn missing_variable_is_named() {
    let e = errors(&VALID.replace("${AZURE_SUBSCRIPTION_ID}", "${EXAI_MISSING_SUB}"));
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn every_validation_error_is_reported_at_once() {
    let text = VALID
        .replace("location: francecentral", "location: francecentrl")
        .replace("exai-perso-rg", "bad rg.")
        .replace("tenant: ${AZURE_TENANT_ID}", "tenant: nope");
    let e = errors(&text);
    assert_eq!(e.diagnostics.len(), 3, "{e}");
    insta::assert_snapshot!(e.to_string());
}

#[test]
fn anchors_duplicates_and_empty_files_are_refused() {
    insta::assert_snapshot!(
        "anchor",
        errors("version: 1\ndefaults: &d { location: francecentral }\nenv: *d\n").to_string()
    );
    insta::assert_snapshot!(
        "duplicate",
        errors(&VALID.replace("version: 1\n", "version: 1\nversion: 1\n")).to_string()
    );
    insta::assert_snapshot!("empty", errors("  \n").to_string());
    insta::assert_snapshot!("scalar", errors("just text").to_string());
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let big = format!("version: 1\n# {}\n", "x".repeat(exai_spec::MAX_SPEC_BYTES));
    assert!(errors(&big).to_string().contains("at most"));
}
