//! The walking skeleton, end to end: the real binary, one resource group per environment, from
//! `exai.yaml` to the emulator and back. One test per behaviour the README promises.

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run, repo_root};

/// The walking skeleton's spec: one resource group in each of two environments.
const RG_ONLY: &str = "\
version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags:
    project: exai
environments:
  perso:
    resourceGroup:
      name: exai-perso-rg
  prod:
    resourceGroup:
      name: exai-prod-rg
      tags:
        environment: production
";

fn plan(s: &Scratch, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec!["plan", "--emulator", "-f", "exai.yaml"];
    args.extend_from_slice(extra);
    s.run(&args)
}

fn apply(s: &Scratch, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec!["apply", "--emulator", "-f", "exai.yaml", "--auto-approve"];
    args.extend_from_slice(extra);
    s.run(&args)
}

#[test]
fn readme_first_command_is_the_one_tested_here() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    assert!(
        readme.lines().any(|l| l.trim() == "cargo run -q -p exai-cli -- plan --emulator -f specs/exai.yaml"),
        "README.md must hold the main command exactly as this test runs it"
    );
    assert!(readme.lines().any(|l| l.trim() == "cargo test --workspace"), "README.md must hold the test command");
}

#[test]
fn first_plan_on_a_fresh_machine_creates_the_whole_recipe() {
    let s = Scratch::with_example();
    // Every resource of the recipe, values known after apply named as such, and the embedded
    // emulator announced.
    assert_run!(Filters::default().scratch(&s), plan(&s, &[]));
    assert!(!s.path().join(".exai/ssh").exists(), "a plan generated an SSH key");
}

#[test]
fn apply_creates_and_the_next_plan_has_no_changes() {
    let s = Scratch::with_spec(RG_ONLY);
    let filters = Filters::default().scratch(&s);
    assert_run!("first_plan", filters, plan(&s, &["--detailed-exitcode"]));
    assert_run!("apply", filters, apply(&s, &[]));
    assert_run!("plan_after_apply", filters, plan(&s, &["--detailed-exitcode"]));
    assert_run!("second_apply", filters, apply(&s, &[]));
}

#[test]
fn an_edited_tag_is_an_in_place_update_of_exactly_that_tag() {
    let s = Scratch::with_spec(RG_ONLY);
    apply(&s, &[]).expect_code(0);
    s.write_spec(&s.spec().replace("project: exai", "project: exai-platform"));

    let filters = Filters::default().scratch(&s);
    assert_run!("tag_update", filters, plan(&s, &["--env", "perso", "--detailed-exitcode"]));

    let json = plan(&s, &["--env", "perso", "--format", "json"]);
    json.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let change = &doc["resource_changes"][0];
    assert_eq!(change["action"], "update");
    assert_eq!(change["diffs"].as_array().map(Vec::len), Some(1));
    assert_eq!(change["diffs"][0]["path"], "tags.project");
    assert_eq!(change["requests"][0]["method"], "PATCH");

    apply(&s, &["--env", "perso"]).expect_code(0);
    // prod still has the old tag
    assert_run!("prod_still_has_the_old_tag", filters, plan(&s, &["--detailed-exitcode"]));
    apply(&s, &[]).expect_code(0);
    plan(&s, &["--detailed-exitcode"]).expect_code(0);
}

#[test]
fn dry_run_prints_the_requests_and_the_emulator_sees_no_write() {
    let emulator = InProcessEmulator::start();
    let s = Scratch::with_spec(RG_ONLY);
    let endpoint = emulator.args();
    let mut args: Vec<&str> = vec!["apply", "-f", "exai.yaml", "--dry-run"];
    args.extend(endpoint.iter().map(String::as_str));
    let mut s = s;
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let ca = emulator.ca_cert.display().to_string();
    assert_run!(Filters::default().literal(&ca, "[ca]").scratch(&s), s.run(&args));

    let log = emulator.emulator.requests();
    assert!(log.iter().any(|r| r.method == "GET"), "the dry run read live state: {log:?}");
    let writes: Vec<_> = log.iter().filter(|r| r.is_write()).collect();
    assert!(writes.is_empty(), "a dry run sent writes: {writes:?}");

    // And the world is unchanged: a plan still creates both groups.
    let mut plan_args: Vec<&str> = vec!["plan", "-f", "exai.yaml", "--detailed-exitcode"];
    plan_args.extend(endpoint.iter().map(String::as_str));
    s.run(&plan_args).expect_code(2);
}

#[test]
fn a_no_op_plan_sends_one_get_per_resource_and_no_write() {
    let emulator = InProcessEmulator::start();
    let mut s = Scratch::with_spec(RG_ONLY);
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID);
    let endpoint = emulator.args();
    let with =
        |base: &[&'static str]| -> Vec<String> { base.iter().map(|s| s.to_string()).chain(endpoint.clone()).collect() };
    let apply_args = with(&["apply", "-f", "exai.yaml", "--auto-approve"]);
    s.run(&apply_args.iter().map(String::as_str).collect::<Vec<_>>()).expect_code(0);
    let before = emulator.emulator.requests().len();
    let plan_args = with(&["plan", "-f", "exai.yaml", "--detailed-exitcode"]);
    s.run(&plan_args.iter().map(String::as_str).collect::<Vec<_>>()).expect_code(0);
    let arm: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.path.starts_with("/subscriptions/"))
        .collect();
    // One GET per resource group, one list of what each holds with exai's ownership tag
    // (which finds what left the spec), and the caller's permissions once per scope.
    let mut paths: Vec<String> = arm.iter().map(|r| r.path.to_ascii_lowercase()).collect();
    paths.sort();
    let sub = exai_emulator::DEV_SUBSCRIPTION_ID;
    assert_eq!(
        paths,
        [
            format!("/subscriptions/{sub}/providers/microsoft.authorization/permissions"),
            format!("/subscriptions/{sub}/resourcegroups/exai-perso-rg"),
            format!("/subscriptions/{sub}/resourcegroups/exai-perso-rg/providers/microsoft.authorization/permissions"),
            format!("/subscriptions/{sub}/resourcegroups/exai-perso-rg/resources"),
            format!("/subscriptions/{sub}/resourcegroups/exai-prod-rg"),
            format!("/subscriptions/{sub}/resourcegroups/exai-prod-rg/providers/microsoft.authorization/permissions"),
            format!("/subscriptions/{sub}/resourcegroups/exai-prod-rg/resources"),
        ],
        "{arm:?}"
    );
    assert!(arm.iter().all(|r| r.method == "GET"), "{arm:?}");
}

#[test]
fn a_location_change_is_a_replace_that_apply_refuses_without_allow_delete() {
    let s = Scratch::with_spec(RG_ONLY);
    apply(&s, &[]).expect_code(0);
    s.write_spec(&s.spec().replace("location: francecentral", "location: westeurope"));
    let filters = Filters::default().scratch(&s);
    assert_run!("replace_plan", filters, plan(&s, &["--env", "perso"]));
    assert_run!("refused_apply", filters, apply(&s, &["--env", "perso"]));
    // Nothing was changed: the group is still in francecentral.
    s.write_spec(&s.spec().replace("location: westeurope", "location: francecentral"));
    plan(&s, &["--detailed-exitcode"]).expect_code(0);
}

#[test]
fn apply_without_a_terminal_needs_auto_approve_and_changes_nothing() {
    let s = Scratch::with_spec(RG_ONLY);
    assert_run!(Filters::default().scratch(&s), s.run(&["apply", "--emulator", "-f", "exai.yaml"]));
    plan(&s, &["--detailed-exitcode"]).expect_code(2);
}

#[test]
fn a_replacement_with_allow_delete_deletes_then_creates_and_converges() {
    let s = Scratch::with_spec(RG_ONLY);
    apply(&s, &[]).expect_code(0);
    s.write_spec(&s.spec().replace("location: francecentral", "location: westeurope"));
    assert_run!(Filters::default().scratch(&s), apply(&s, &["--env", "perso", "--allow-delete"]));
    let again = plan(&s, &["--env", "perso", "--detailed-exitcode"]);
    again.expect_code(0);
}

#[test]
fn exai_never_deletes_what_it_did_not_create() {
    let s = Scratch::with_spec(RG_ONLY);
    apply(&s, &[]).expect_code(0);
    // Someone re-points the ownership tag: the group is no longer exai's to delete.
    s.write_spec(&s.spec().replace("location: francecentral", "location: westeurope"));
    let state_path = s.path().join(".exai/emulator/state.json");
    let state = std::fs::read_to_string(&state_path).expect("emulator state");
    // The spec has no `name` and no repository: its id is its first environment's name.
    assert!(state.contains("\"perso:perso.resourceGroup\""), "{state}");
    std::fs::write(&state_path, state.replace("\"perso:perso.resourceGroup\"", "\"someone-else\""))
        .expect("edit state");
    assert_run!(Filters::default().scratch(&s), apply(&s, &["--env", "perso", "--allow-delete"]));
}

#[test]
fn the_secret_exai_authenticates_with_appears_in_no_output_or_file() {
    let s = Scratch::with_spec(RG_ONLY);
    let runs = [
        plan(&s, &[]),
        apply(&s, &[]),
        s.run(&["apply", "--emulator", "-f", "exai.yaml", "--dry-run"]),
        plan(&s, &["--format", "json"]),
    ];
    let secret = exai_emulator::DEV_CLIENT_SECRET;
    for run in &runs {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret printed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    for entry in std::fs::read_dir(s.path().join(".exai/emulator")).expect("emulator directory") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!text.contains(secret), "secret written to {}", path.display());
    }
}
