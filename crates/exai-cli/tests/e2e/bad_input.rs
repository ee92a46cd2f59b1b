//! Bad input through the real binary: a clear error naming file:line:column, exit 1, no panic.

use crate::harness::{Scratch, example_spec};

/// Returns the 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1).expect("needle in text")
}

fn validate(spec: &str) -> crate::harness::Run {
    let s = Scratch::with_spec(spec);
    let run = s.run(&["validate", "--emulator", "-f", "exai.yaml"]);
    run.expect_code(1);
    run
}

#[test]
fn the_example_spec_is_valid() {
    let s = Scratch::with_example();
    let run = s.run(&["validate", "--emulator", "-f", "exai.yaml"]);
    run.expect_code(0);
    assert!(run.stdout.contains("exai.yaml is valid: 2 environments, 29 resources"), "{}", run.stdout);
    assert!(run.stdout.contains("perso.resourceGroup  Microsoft.Resources/resourceGroups"), "{}", run.stdout);
    assert!(run.stdout.contains("perso.cluster.acr-pull  Microsoft.Authorization/roleAssignments"), "{}", run.stdout);
    assert!(
        run.stdout.contains("(known after apply: perso.cluster → properties.identityProfile.kubeletidentity.objectId)"),
        "{}",
        run.stdout
    );
    // The recipe's pitfall: Contributor cannot create role assignments.
    assert!(run.stderr.contains("warning: exai.yaml:"), "{}", run.stderr);
    assert!(run.stderr.contains("gets `Contributor`, which cannot create role assignments"), "{}", run.stderr);
}

#[test]
fn yaml_syntax_error() {
    let run = validate(&example_spec().replace("  tags:\n    project: exai", "  tags: [project: exai"));
    assert!(run.stderr.contains("error: exai.yaml:"), "{}", run.stderr);
    assert!(run.stderr.contains("invalid YAML"), "{}", run.stderr);
}

#[test]
fn wrong_type() {
    let spec = example_spec().replace("version: 1", "version: [1]");
    let run = validate(&spec);
    let expected =
        format!("error: exai.yaml:{}:10: `version` must be a single value, not a list", line_of(&spec, "version: [1]"));
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
}

#[test]
fn unknown_key_with_suggestion_and_caret() {
    let spec = example_spec().replace("      name: exai-perso-rg", "      nmae: exai-perso-rg");
    let run = validate(&spec);
    let line = line_of(&spec, "nmae:");
    let expected = format!("error: exai.yaml:{line}:7: unknown key `nmae` in `environments.perso.resourceGroup`");
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `name`?"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(" {line} │       nmae: exai-perso-rg")),
        "the source line is shown: {}",
        run.stderr
    );
    assert!(run.stderr.contains("    ·       ──┬─\n"), "a caret underlines exactly the key: {}", run.stderr);
}

#[test]
fn missing_variable_is_named() {
    let spec = example_spec().replace("${AZURE_SUBSCRIPTION_ID}", "${EXAI_TEST_UNSET_SUBSCRIPTION}");
    let run = validate(&spec);
    assert!(run.stderr.contains("environment variable `EXAI_TEST_UNSET_SUBSCRIPTION` is not set"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("exai.yaml:{}:17", line_of(&spec, "EXAI_TEST_UNSET_SUBSCRIPTION"))),
        "{}",
        run.stderr
    );
}

#[test]
fn several_problems_are_reported_together() {
    let run = validate(&example_spec().replace("francecentral", "francecentrl").replace("exai-prod-rg", "exai prod"));
    assert!(run.stderr.contains("did you mean `francecentral`?"), "{}", run.stderr);
    assert!(run.stderr.contains("invalid resource group name `exai prod`"), "{}", run.stderr);
    assert!(run.stderr.contains("2 problems in exai.yaml"), "{}", run.stderr);
}

#[test]
fn missing_file_and_binary_file() {
    let s = Scratch::with_spec("");
    let run = s.run(&["plan", "--emulator", "-f", "nope.yaml"]);
    run.expect_code(1);
    assert!(run.stderr.contains("cannot read the spec `nope.yaml`"), "{}", run.stderr);
    std::fs::write(s.path().join("bin.yaml"), [0xff, 0xfe, 0x00, 0x41]).expect("write");
    let run = s.run(&["plan", "--emulator", "-f", "bin.yaml"]);
    run.expect_code(1);
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
}

#[test]
fn without_emulator_or_credentials_plan_says_what_it_looked_for() {
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", "ee000000-0000-4000-8000-000000000001")
        .env("AZURE_SUBSCRIPTION_ID", "ee000000-0000-4000-8000-000000000002");
    let run = s.run(&["plan", "-f", "exai.yaml"]);
    run.expect_code(1);
    for needle in [
        "error: no Azure credentials found",
        "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not set",
        "ACTIONS_ID_TOKEN_REQUEST_URL is not set",
        "AZURE_FEDERATED_TOKEN_FILE is not set",
        "no `az` program on PATH",
        "hint: run `az login`",
        "--emulator",
    ] {
        assert!(run.stderr.contains(needle), "missing {needle:?} in:\n{}", run.stderr);
    }
}

#[test]
fn an_unknown_environment_is_named() {
    let s = Scratch::with_example();
    let run = s.run(&["plan", "--emulator", "-f", "exai.yaml", "--env", "staging"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("environment `staging` is not declared in the spec (it declares: perso, prod)"),
        "{}",
        run.stderr
    );
}
