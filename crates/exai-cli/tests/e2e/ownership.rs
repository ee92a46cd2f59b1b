//! Ownership marks through the real binary against the emulator: a second spec cannot take over
//! the first one's objects, `protect` lives on the object, and marks written by an earlier exai
//! are migrated.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

/// A spec of `environment` with the group `exai-shared-rg` and, when given, the lines of a
/// registry block; `name` is the top-level `name` line, if any.
fn spec(name: Option<&str>, environment: &str, registry: &[&str]) -> String {
    let name = name.map(|n| format!("name: {n}\n")).unwrap_or_default();
    let registry: String = registry.iter().map(|l| format!("      {l}\n")).collect();
    let registry = if registry.is_empty() { String::new() } else { format!("    registry:\n{registry}") };
    format!(
        "version: 1
{name}azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults:
  location: francecentral
  tags: {{ project: exai }}
environments:
  {environment}:
    resourceGroup: {{ name: exai-shared-rg }}
{registry}"
    )
}

fn scratch(spec: &str) -> Scratch {
    let mut s = Scratch::with_spec(spec);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

fn group() -> String {
    format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-shared-rg")
}

fn registry() -> String {
    format!("{}/providers/Microsoft.ContainerRegistry/registries/exaisharedacr", group())
}

/// Runs `exai ARGS -f exai.yaml` in `s` against `emulator`.
fn exai(s: &Scratch, emulator: &InProcessEmulator, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["-f", "exai.yaml"]);
    s.run_against(emulator, &all)
}

/// Sends `request` as someone other than exai; returns the answer.
fn someone(emulator: &InProcessEmulator, request: ApiRequest) -> Option<Value> {
    let azure = emulator.someone_else();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(azure.execute(&request)).unwrap()
}

/// Reads an ARM object as someone other than exai: `None` when it does not exist.
fn read(emulator: &InProcessEmulator, path: &str, api_version: &'static str) -> Option<Value> {
    let azure = emulator.someone_else();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(azure.read(&ApiRequest::arm(Method::Get, path, api_version, None))).unwrap()
}

#[test]
fn a_second_spec_declaring_the_same_group_is_refused_and_the_first_keeps_it() {
    let emulator = InProcessEmulator::start();
    let first = scratch(&spec(Some("team-a"), "perso", &["name: exaisharedacr", "sku: Standard"]));
    exai(&first, &emulator, &["apply", "--auto-approve"]).expect_code(0);

    // Another team's spec (no `name`: its id is its first environment's) declares the same group.
    let second = scratch(&spec(None, "team2", &[]));
    let before = emulator.emulator.requests().len();
    let refused = exai(&second, &emulator, &["apply", "--auto-approve", "--allow-delete"]);
    refused.expect_code(1);
    assert_run!("second_spec_refused", Filters::default(), refused);
    let writes: Vec<_> = emulator.emulator.requests().into_iter().skip(before).filter(|r| r.is_write()).collect();
    assert!(writes.is_empty(), "nothing was written: {writes:#?}");

    let group = read(&emulator, &group(), "2025-04-01").unwrap();
    assert_eq!(group["tags"]["exai-owner"], "team-a:perso.resourceGroup");
    assert_run!(
        "first_spec_keeps_the_group",
        Filters::default(),
        exai(&first, &emulator, &["plan", "--detailed-exitcode"])
    );
}

#[test]
fn a_protected_registry_survives_its_removal_until_protect_false_is_applied() {
    let emulator = InProcessEmulator::start();
    let registry_lines = ["name: exaisharedacr", "sku: Standard"];
    let protected = [&registry_lines[..], &["protect: true"]].concat();
    let s = scratch(&spec(Some("team-a"), "prod", &protected));
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    let live = read(&emulator, &registry(), "2025-11-01").unwrap();
    assert_eq!(live["tags"]["exai-owner"], "team-a:prod.registry:protect", "protection is written on the object");

    // The block removed: kept, and the plan says why, whatever `--allow-delete` says.
    s.write_spec(&spec(Some("team-a"), "prod", &[]));
    assert_run!("kept", Filters::default(), exai(&s, &emulator, &["plan"]));
    exai(&s, &emulator, &["apply", "--auto-approve", "--allow-delete"]).expect_code(0);
    assert!(read(&emulator, &registry(), "2025-11-01").is_some(), "the registry is still there");

    // `protect: false` applied lifts it; the plan says so.
    let lifted = [&registry_lines[..], &["protect: false"]].concat();
    s.write_spec(&spec(Some("team-a"), "prod", &lifted));
    assert_run!("lift", Filters::default(), exai(&s, &emulator, &["plan"]));
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(read(&emulator, &registry(), "2025-11-01").unwrap()["tags"]["exai-owner"], "team-a:prod.registry");

    // Now removing the block deletes it, with `--allow-delete`.
    s.write_spec(&spec(Some("team-a"), "prod", &[]));
    assert_run!("unprotected_delete_refused", Filters::default(), exai(&s, &emulator, &["apply", "--auto-approve"]));
    assert_run!(
        "unprotected_deleted",
        Filters::default(),
        exai(&s, &emulator, &["apply", "--auto-approve", "--allow-delete"])
    );
    assert!(read(&emulator, &registry(), "2025-11-01").is_none(), "the registry is deleted");
    exai(&s, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn marks_an_earlier_exai_wrote_are_migrated_by_the_next_apply() {
    let emulator = InProcessEmulator::start();
    let s = scratch(&spec(None, "perso", &["name: exaisharedacr", "sku: Standard"]));
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    // Back to the marks an earlier exai wrote: the bare address.
    let old = |address: &str| json!({"tags": {"project": "exai", "exai-owner": address}});
    someone(&emulator, ApiRequest::arm(Method::Patch, group(), "2025-04-01", Some(old("perso.resourceGroup"))));
    someone(&emulator, ApiRequest::arm(Method::Patch, registry(), "2025-11-01", Some(old("perso.registry"))));

    assert_run!("old_marks_planned", Filters::default(), exai(&s, &emulator, &["plan", "--detailed-exitcode"]));
    assert_run!("old_marks_migrated", Filters::default(), exai(&s, &emulator, &["apply", "--auto-approve"]));
    assert_eq!(read(&emulator, &registry(), "2025-11-01").unwrap()["tags"]["exai-owner"], "perso:perso.registry");
    exai(&s, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
}

/// A spec named `name` whose environment `environment` has its own group and a deployer whose
/// application is displayed as `exai-shared-github-sp`.
fn deployer_spec(name: &str, environment: &str) -> String {
    format!(
        "version: 1
name: {name}
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults:
  location: francecentral
environments:
  {environment}:
    resourceGroup: {{ name: exai-{environment}-rg }}
    deployer:
      name: exai-shared-github-sp
      role: Contributor
      scope: resourceGroup
      github: {{ repository: my-org/exai, branches: [main] }}
"
    )
}

#[test]
fn another_spec_cannot_take_over_a_deployer_found_by_its_display_name() {
    let emulator = InProcessEmulator::start();
    let first = scratch(&deployer_spec("team-a", "perso"));
    exai(&first, &emulator, &["apply", "--auto-approve"]).expect_code(0);

    let second = scratch(&deployer_spec("team-b", "team2"));
    assert_run!("deployer_takeover_refused", Filters::default(), exai(&second, &emulator, &["plan"]));
    exai(&first, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
}
