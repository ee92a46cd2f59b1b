//! Ctrl-C during apply, and resources still provisioning in Azure, end to end: the real binary
//! against an emulator whose long-running operations take seconds.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run, repo_root};
use serde_json::{Value, json};
use std::time::Duration;

const SPEC: &str = "version: 1
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
    registry:
      name: exaipersoacr
      sku: Standard
    monitoring:
      workspace: exai-perso-logs
";

/// How long each long-running operation of the emulator takes: long enough for an
/// interrupted apply to exit and the next plan to read the registry still `Creating`.
const OPERATION: Duration = Duration::from_secs(8);

fn emulator() -> InProcessEmulator {
    InProcessEmulator::start_with(exai_emulator::EmulatorOptions { operation_delay: OPERATION, ..Default::default() })
}

fn scratch() -> Scratch {
    let mut s = Scratch::with_spec(SPEC);
    s.env("AZURE_TENANT_ID", exai_emulator::DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", exai_emulator::DEV_SUBSCRIPTION_ID)
        .env("AZURE_CLIENT_ID", exai_emulator::DEV_CLIENT_ID)
        .env("AZURE_CLIENT_SECRET", exai_emulator::DEV_CLIENT_SECRET);
    s
}

/// The filters of this module's snapshots: the harness's, and progress lines (`still …`),
/// which come or not with the machine's speed, left out.
fn filters() -> Filters {
    Filters::default().pattern(r"(?m)^.*: still .*\n", "")
}

/// Applies the spec one request at a time and interrupts it while the registry's create is in
/// flight; returns the run. The registry's operation holds no slot while it is followed, so the
/// workspace's create is sent meanwhile: the interrupt comes once both are in flight.
fn interrupted_while_creating_the_registry(s: &Scratch, emulator: &InProcessEmulator) -> Run {
    let apply = s.spawn_against(emulator, &["apply", "-f", "exai.yaml", "--auto-approve", "--parallelism", "1"]);
    // The workspace starts once the registry's create is accepted (its slot is free again).
    apply.wait_for_stdout("perso.monitoring: creating…", Duration::from_secs(60));
    apply.signal("INT");
    let run = apply.finish(Duration::from_secs(5));
    run.expect_code(130);
    run
}

fn schema_errors(document: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_root().join("docs/plan.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator.iter_errors(document).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

#[test]
fn ctrl_c_mid_apply_reports_what_is_in_flight_and_the_next_apply_converges() {
    let emulator = emulator();
    let s = scratch();
    let run = interrupted_while_creating_the_registry(&s, &emulator);
    assert_run!("interrupted_apply", filters(), run);

    let plan = s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]);
    assert_run!("plan_while_creating", filters(), plan);
    let json = s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--format", "json"]);
    let document: Value = serde_json::from_str(&json.expect_code(0).stdout).unwrap();
    assert_eq!(schema_errors(&document), Vec::<String>::new());
    let registry = &document["resource_changes"][1];
    assert_eq!(registry["action"], "wait");
    assert_eq!(registry["in_progress"], json!({"operation": "creating", "provisioning_state": "Creating"}));
    assert_eq!(
        document["summary"],
        json!({"add": 0, "change": 0, "replace": 0, "destroy": 0, "unchanged": 1, "wait": 2})
    );

    // One at a time, so the lines come in plan order: the wait, then the create.
    let converge = s.run_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve", "--parallelism", "1"]);
    assert_run!("apply_waits_then_converges", filters(), converge);

    let after = s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]);
    assert_run!("plan_after_converging", filters(), after);
}

#[test]
fn a_plan_saved_while_azure_was_creating_applies_once_it_is_done() {
    let emulator = emulator();
    let s = scratch();
    interrupted_while_creating_the_registry(&s, &emulator);
    s.run_against(&emulator, &["plan", "-f", "exai.yaml", "--out", "plan.json", "--detailed-exitcode"]).expect_code(2);
    // The registry's create ends in Azure.
    std::thread::sleep(OPERATION);
    assert_run!("saved_plan_applied", filters().scratch(&s), s.run_against(&emulator, &["apply", "plan.json"]));
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // The registry's PUT takes a minute to be answered: the first Ctrl-C waits for it.
    let fault: exai_emulator::FaultRule = "PUT /subscriptions/**/registries/* latency=60s".parse().unwrap();
    let emulator = InProcessEmulator::start_with(exai_emulator::EmulatorOptions {
        operation_delay: OPERATION,
        faults: vec![fault],
        ..Default::default()
    });
    let s = scratch();
    let apply = s.spawn_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve", "--parallelism", "1"]);
    apply.wait_for_stdout("perso.registry: creating…", Duration::from_secs(60));
    apply.signal("INT");
    apply.wait_for_stderr("interrupt again to exit at once", Duration::from_secs(5));
    apply.signal("INT");
    // No summary: it exits at once.
    assert_run!("second_interrupt", filters(), apply.finish(Duration::from_secs(5)));
}

#[test]
fn sigterm_mid_apply_is_an_interrupt_too() {
    let emulator = emulator();
    let s = scratch();
    let apply = s.spawn_against(&emulator, &["apply", "-f", "exai.yaml", "--auto-approve", "--parallelism", "1"]);
    apply.wait_for_stdout("perso.monitoring: creating…", Duration::from_secs(60));
    apply.signal("TERM");
    assert_run!("terminated_apply", filters(), apply.finish(Duration::from_secs(5)));
}

#[test]
fn an_interrupted_plan_exits_at_once_and_writes_nothing() {
    // Every read takes a minute to be answered.
    let fault: exai_emulator::FaultRule = "GET /subscriptions/** latency=60s".parse().unwrap();
    let emulator =
        InProcessEmulator::start_with(exai_emulator::EmulatorOptions { faults: vec![fault], ..Default::default() });
    let s = scratch();
    let plan = s.spawn_against(&emulator, &["plan", "-f", "exai.yaml", "--out", "plan.json"]);
    plan.wait_for_stderr("credential:", Duration::from_secs(60));
    // The reads are on their way (or about to be): the plan is waiting on Azure.
    std::thread::sleep(Duration::from_millis(300));
    plan.signal("INT");
    assert_run!("interrupted_plan", filters(), plan.finish(Duration::from_secs(5)));
    let files: Vec<String> =
        std::fs::read_dir(s.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files, ["exai.yaml"], "no plan, not even half of one");
}
