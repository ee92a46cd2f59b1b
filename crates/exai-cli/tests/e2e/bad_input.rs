//! Bad input through the real binary: a clear error naming file:line:column, exit 1, no panic.

use crate::harness::{Filters, Run, Scratch, assert_run, example_spec};

/// Validates `spec` in a scratch directory.
fn validate(spec: &str) -> Run {
    let s = Scratch::with_spec(spec);
    s.run(&["validate", "--emulator", "-f", "exai.yaml"])
}

#[test]
fn the_example_spec_is_valid() {
    let s = Scratch::with_example();
    // Every resource is listed, and the recipe's pitfall is warned about: Contributor cannot
    // create role assignments.
    assert_run!(Filters::default().scratch(&s), s.run(&["validate", "--emulator", "-f", "exai.yaml"]));
}

#[test]
fn yaml_syntax_error() {
    let run = validate(&example_spec().replace("  tags:\n    project: exai", "  tags: [project: exai"));
    assert_run!(Filters::default(), run);
}

#[test]
fn wrong_type() {
    assert_run!(Filters::default(), validate(&example_spec().replace("version: 1", "version: [1]")));
}

#[test]
fn unknown_key_with_suggestion_and_caret() {
    // The source line is shown, a caret underlines exactly the key.
    let run = validate(&example_spec().replace("      name: exai-perso-rg", "      nmae: exai-perso-rg"));
    assert_run!(Filters::default(), run);
}

#[test]
fn missing_variable_is_named() {
    let run = validate(&example_spec().replace("${AZURE_SUBSCRIPTION_ID}", "${EXAI_TEST_UNSET_SUBSCRIPTION}"));
    assert_run!(Filters::default(), run);
}

#[test]
fn several_problems_are_reported_together() {
    let run = validate(&example_spec().replace("francecentral", "francecentrl").replace("exai-prod-rg", "exai prod"));
    assert_run!(Filters::default(), run);
}

#[test]
fn missing_file_and_binary_file() {
    let s = Scratch::with_spec("");
    let filters = Filters::default().scratch(&s);
    assert_run!("missing_file", filters, s.run(&["plan", "--emulator", "-f", "nope.yaml"]));
    std::fs::write(s.path().join("bin.yaml"), [0xff, 0xfe, 0x00, 0x41]).expect("write");
    assert_run!("binary_file", filters, s.run(&["plan", "--emulator", "-f", "bin.yaml"]));
}

#[test]
fn without_emulator_or_credentials_plan_says_what_it_looked_for() {
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", "ee000000-0000-4000-8000-000000000001")
        .env("AZURE_SUBSCRIPTION_ID", "ee000000-0000-4000-8000-000000000002");
    assert_run!(Filters::default().scratch(&s), s.run(&["plan", "-f", "exai.yaml"]));
}

#[test]
fn an_unknown_environment_is_named() {
    let s = Scratch::with_example();
    assert_run!(Filters::default().scratch(&s), s.run(&["plan", "--emulator", "-f", "exai.yaml", "--env", "staging"]));
}
