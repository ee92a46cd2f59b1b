//! The permission preflight of `exai plan`, through the binary: the caller's effective
//! permissions are read once per scope, a scope whose permissions cannot be read is said so in
//! the plan (never assumed granted), `--require-permissions` makes such a plan exit 1,
//! `--skip-permission-check` reads and says nothing of permissions, and `apply` goes on (only a finding refuses it: planner and session tests hold the findings,
//! which need the emulator's RBAC to appear end to end).
//!
//! The permission reads here are answered by an injected fault (503), whatever the emulator
//! itself would answer, so the output does not depend on which principals it authorizes.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions};

/// A resource group and a registry.
const SPEC: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    registry: { name: exaipersoacr, sku: Standard }
";

const PERMISSIONS: &str = "/providers/microsoft.authorization/permissions";

fn scratch() -> Scratch {
    let mut s = Scratch::with_spec(SPEC);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

#[test]
fn permissions_that_cannot_be_read_are_said_and_fail_only_a_plan_that_requires_them() {
    let emulator = InProcessEmulator::start_with(EmulatorOptions {
        faults: vec!["GET /subscriptions/**/providers/Microsoft.Authorization/permissions 503".parse().unwrap()],
        ..Default::default()
    });
    let s = scratch();
    let filters = Filters::default().scratch(&s);
    let before = emulator.emulator.requests().len();
    let quick = ["--retry-timeout", "100ms"];
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "-f", "exai.yaml"];
        args.extend_from_slice(&quick);
        args.extend_from_slice(extra);
        s.run_against(&emulator, &args)
    };
    assert_run!("unchecked_plan", filters, plan(&["--detailed-exitcode"]));

    // One read per scope: the group's and the subscription's (sent in the first round, with
    // the reads the spec computes: `reads::` shows that round).
    let log: Vec<String> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.path.starts_with("/subscriptions/"))
        .map(|r| r.path.to_ascii_lowercase())
        .collect();
    let sub = format!("/subscriptions/{DEV_SUBSCRIPTION_ID}");
    let mut reads: Vec<&String> = log.iter().filter(|p| p.ends_with(PERMISSIONS)).collect();
    reads.sort();
    assert_eq!(reads, [&format!("{sub}{PERMISSIONS}"), &format!("{sub}/resourcegroups/exai-perso-rg{PERMISSIONS}")]);

    assert_run!("unchecked_plan_required", filters, plan(&["--detailed-exitcode", "--require-permissions"]));

    let json = plan(&["--format", "json"]);
    json.expect_code(0);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(document["permissions"]["findings"], serde_json::json!([]));
    // The group's read failed: what decides below it is not known, whatever the subscription's.
    let group = format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg");
    assert_eq!(document["permissions"]["unchecked"][0]["scope"], serde_json::json!(group));

    // A planner that plans what another identity applies skips the check: no permission read,
    // nothing said of permissions, the exit code of any plan with changes.
    let before = emulator.emulator.requests().len();
    let skipped = plan(&["--detailed-exitcode", "--skip-permission-check"]);
    skipped.expect_code(2);
    assert!(!skipped.stdout.contains("Permissions"), "{}", skipped.stdout);
    let reads = emulator.emulator.requests().into_iter().skip(before);
    assert_eq!(reads.filter(|r| r.path.to_ascii_lowercase().ends_with(PERMISSIONS)).count(), 0);
    let both = plan(&["--skip-permission-check", "--require-permissions"]);
    both.expect_code(1);
    assert!(both.stderr.contains("cannot be used with"), "{}", both.stderr);

    // Not knowing is no finding: apply goes on, and Azure's own answer decides each write.
    let mut args = vec!["apply", "-f", "exai.yaml", "--auto-approve"];
    args.extend_from_slice(&quick);
    s.run_against(&emulator, &args).expect_code(0);
}
