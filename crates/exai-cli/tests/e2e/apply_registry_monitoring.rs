//! The registry and the Log Analytics workspace, end to end: the real binary against the
//! emulator, from `exai.yaml` to Azure's answers and back, with zero noise.
//!
//! The spec has no cluster: the data collection rule and its association need one, so they are
//! covered by the planner tests (crates/exai-planner/tests/registry_workspace.rs) and by the
//! full-recipe tests.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

/// A spec with a resource group, a registry and a workspace; `registry` and `monitoring` are
/// the lines of their sections after the name.
fn spec(registry: &[&str], monitoring: &[&str]) -> String {
    let extra = |lines: &[&str]| lines.iter().map(|l| format!("      {l}\n")).collect::<String>();
    format!(
        "version: 1
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
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
{}    monitoring:
      workspace: exai-perso-logs
{}",
        extra(registry),
        extra(monitoring)
    )
}

/// Runs exai with `--emulator` (its state under the scratch directory).
/// The registry as the recipe declares it.
const BASE: &[&str] = &["sku: Standard"];

fn exai(s: &Scratch, command: &str, extra: &[&str]) -> Run {
    let mut args = vec![command, "--emulator", "-f", "exai.yaml"];
    if command == "apply" {
        args.push("--auto-approve");
    }
    args.extend_from_slice(extra);
    s.run(&args)
}

/// Returns the JSON plan.
fn json_plan(s: &Scratch) -> Value {
    let run = exai(s, "plan", &["--format", "json"]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", run.stdout))
}

/// Returns `(address, action)` of every resource in `plan`.
fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["address"].as_str().unwrap().to_owned(), c["action"].as_str().unwrap().to_owned()))
        .collect()
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == address).unwrap()
}

fn diff_paths(change: &Value) -> Vec<String> {
    change["diffs"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap().to_owned()).collect()
}

fn all_no_op(plan: &Value) -> bool {
    actions(plan).iter().all(|(_, action)| action == "no-op")
}

#[test]
fn plan_apply_plan_again_has_no_changes() {
    let s = Scratch::with_spec(&spec(BASE, &[]));
    exai(&s, "plan", &["--detailed-exitcode"]).expect_code(2);
    let before = json_plan(&s);
    assert_eq!(
        actions(&before),
        [
            ("perso.resourceGroup".to_owned(), "create".to_owned()),
            ("perso.registry".to_owned(), "create".to_owned()),
            ("perso.monitoring".to_owned(), "create".to_owned()),
        ]
    );
    let registry = change(&before, "perso.registry");
    assert_eq!(registry["type"], "Microsoft.ContainerRegistry/registries");
    assert_eq!(
        registry["requests"][0]["body"],
        json!({
            "location": "francecentral",
            "sku": {"name": "Standard"},
            "properties": {"adminUserEnabled": false},
            "tags": {"exai-owner": "perso:perso.registry", "project": "exai"}
        })
    );
    assert_eq!(
        change(&before, "perso.monitoring")["requests"][0]["body"],
        json!({
            "location": "francecentral",
            "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30},
            "tags": {"exai-owner": "perso:perso.monitoring", "project": "exai"}
        })
    );

    exai(&s, "apply", &[]).expect_code(0);
    exai(&s, "plan", &["--detailed-exitcode"]).expect_code(0);
    let after = json_plan(&s);
    assert!(all_no_op(&after), "{:?}", actions(&after));
    assert_eq!(actions(&after).len(), 3, "every declared resource is listed");
    // The workspace's id is the one Azure answered (lower-cased provider), not a difference.
    let workspace_id = change(&after, "perso.monitoring")["id"].as_str().unwrap();
    assert!(workspace_id.contains("/providers/microsoft.operationalinsights/workspaces/"), "{workspace_id}");
}

#[test]
fn each_owned_field_changed_alone_plans_as_exactly_that_change_and_applies() {
    let s = Scratch::with_spec(&spec(BASE, &[]));
    exai(&s, "apply", &[]).expect_code(0);
    // Each step adds one edit to the previous spec, so exactly one field differs each time.
    // (registry lines, monitoring lines, address that changes, the one field, method)
    type Step = (&'static [&'static str], &'static [&'static str], &'static str, &'static str, &'static str);
    let steps: [Step; 5] = [
        (&["sku: Premium"], &[], "perso.registry", "sku.name", "PATCH"),
        (&["sku: Premium", "adminUserEnabled: true"], &[], "perso.registry", "properties.adminUserEnabled", "PATCH"),
        (
            &["sku: Premium", "adminUserEnabled: true", "tags:", "  team: web"],
            &[],
            "perso.registry",
            "tags.team",
            "PATCH",
        ),
        (
            &["sku: Premium", "adminUserEnabled: true", "tags:", "  team: web"],
            &["retentionDays: 90"],
            "perso.monitoring",
            "properties.retentionInDays",
            "PATCH",
        ),
        (
            &["sku: Premium", "adminUserEnabled: true", "tags:", "  team: web"],
            &["retentionDays: 90", "sku: CapacityReservation"],
            "perso.monitoring",
            "properties.sku.name",
            "PATCH",
        ),
    ];
    for (registry, monitoring, address, path, method) in steps {
        s.write_spec(&spec(registry, monitoring));
        exai(&s, "plan", &["--detailed-exitcode"]).expect_code(2);
        let plan = json_plan(&s);
        let changed: Vec<_> = actions(&plan).into_iter().filter(|(_, action)| action != "no-op").collect();
        assert_eq!(changed, [(address.to_owned(), "update".to_owned())], "{path}");
        let c = change(&plan, address);
        assert_eq!(diff_paths(c), [path], "{path}");
        assert_eq!(c["requests"].as_array().map(Vec::len), Some(1), "{path}");
        assert_eq!(c["requests"][0]["method"], method, "{path}");

        exai(&s, "apply", &[]).expect_code(0);
        let again = exai(&s, "plan", &["--detailed-exitcode"]);
        again.expect_code(0);
    }
}

/// Returns a scratch directory whose runs use the development tenant and subscription.
fn scratch_for_emulator() -> Scratch {
    let mut s = Scratch::with_spec(&spec(BASE, &[]));
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

/// Runs exai against `emulator` (the in-process one whose request log the test reads).
fn against(emulator: &InProcessEmulator, s: &Scratch, base: &[&str]) -> Run {
    s.run_against(emulator, base)
}

#[test]
fn a_no_op_plan_sends_one_get_per_object_and_a_no_op_apply_no_write() {
    let emulator = InProcessEmulator::start();
    let s = scratch_for_emulator();
    against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);

    let before = emulator.emulator.requests().len();
    against(&emulator, &s, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(0);
    let arm: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.path.starts_with("/subscriptions/"))
        .collect();
    assert_eq!(
        arm.len(),
        6,
        "one GET per object, the group's ownership scan, and the caller's permissions at the group and the subscription: {arm:#?}"
    );
    assert!(arm.iter().all(|r| r.method == "GET"), "{arm:#?}");
    let mut paths: Vec<String> = arm.iter().map(|r| r.path.to_ascii_lowercase()).collect();
    paths.sort();
    let sub = DEV_SUBSCRIPTION_ID;
    assert_eq!(
        paths,
        [
            format!("/subscriptions/{sub}/providers/microsoft.authorization/permissions"),
            format!("/subscriptions/{sub}/resourcegroups/exai-perso-rg"),
            format!("/subscriptions/{sub}/resourcegroups/exai-perso-rg/providers/microsoft.authorization/permissions"),
            format!(
                "/subscriptions/{sub}/resourcegroups/exai-perso-rg/providers/microsoft.containerregistry/registries/exaipersoacr"
            ),
            format!(
                "/subscriptions/{sub}/resourcegroups/exai-perso-rg/providers/microsoft.operationalinsights/workspaces/exai-perso-logs"
            ),
            format!("/subscriptions/{sub}/resourcegroups/exai-perso-rg/resources"),
        ]
    );

    let before = emulator.emulator.requests().len();
    against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    let writes: Vec<_> = emulator.emulator.requests().into_iter().skip(before).filter(|r| r.is_write()).collect();
    assert!(writes.is_empty(), "a no-op apply wrote: {writes:#?}");
}

#[test]
fn changes_behind_exais_back_are_observed_when_unmanaged_and_planned_when_owned() {
    let emulator = InProcessEmulator::start();
    let s = scratch_for_emulator();
    against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);

    let registry = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
    );
    let workspace = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.OperationalInsights/workspaces/exai-perso-logs"
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let azure = emulator.someone_else();
    let send = |method: Method, path: &str, version: &'static str, body: Value| {
        runtime.block_on(azure.execute(&ApiRequest::arm(method, path, version, Some(body)))).unwrap()
    };
    // Unmanaged: a tag added by someone else (tags in a PATCH replace the set, so the others are
    // restated), a server-side setting exai does not own.
    send(
        Method::Patch,
        &registry,
        "2025-11-01",
        json!({"tags": {"project": "exai", "exai-owner": "perso:perso.registry", "costCenter": "42"},
               "properties": {"publicNetworkAccess": "Disabled"}}),
    );
    send(Method::Patch, &workspace, "2026-03-01", json!({"properties": {"publicNetworkAccessForQuery": "Disabled"}}));

    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "-f", "exai.yaml"];
        args.extend_from_slice(extra);
        against(&emulator, &s, &args)
    };
    // No change; the foreign tag is shown as observed, the unowned setting not at all.
    assert_run!("unmanaged_changes_observed", Filters::default(), plan(&["--detailed-exitcode"]));
    let run = plan(&["--format", "json"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let c = change(&doc, "perso.registry");
    assert_eq!(c["action"], "no-op");
    assert_eq!(c["observed"], json!({"tags.costCenter": "42"}));

    // Owned: the admin user switched on by hand is a change of exactly that field, and apply
    // switches it back while keeping the foreign tag.
    send(Method::Patch, &registry, "2025-11-01", json!({"properties": {"adminUserEnabled": true}}));
    let run = plan(&["--format", "json"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let c = change(&doc, "perso.registry");
    assert_eq!(c["action"], "update");
    assert_eq!(diff_paths(c), ["properties.adminUserEnabled"]);
    assert_eq!(c["diffs"][0]["before"], true);
    assert_eq!(c["diffs"][0]["after"], false);
    against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    plan(&["--detailed-exitcode"]).expect_code(0);
    let live =
        runtime.block_on(azure.read(&ApiRequest::arm(Method::Get, &registry, "2025-11-01", None))).unwrap().unwrap();
    assert_eq!(live["tags"]["costCenter"], "42", "the foreign tag survived the update");
    assert_eq!(live["properties"]["publicNetworkAccess"], "Disabled", "the unowned setting survived");
}

#[test]
fn a_resource_removed_from_the_spec_is_deleted_only_with_allow_delete_and_only_if_exai_owns_it() {
    let emulator = InProcessEmulator::start();
    let s = scratch_for_emulator();
    against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    // A registry someone else made in the same group, with no ownership tag: never exai's.
    let theirs = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/theirsacr"
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let azure = emulator.someone_else();
    let body = json!({"location": "francecentral", "sku": {"name": "Basic"}});
    runtime.block_on(azure.execute(&ApiRequest::arm(Method::Put, &theirs, "2025-11-01", Some(body)))).unwrap();

    // The monitoring section removed: its workspace is planned for deletion, with what it takes.
    s.write_spec(&spec(BASE, &[]).replace("    monitoring:\n      workspace: exai-perso-logs\n", ""));
    let run = against(&emulator, &s, &["plan", "-f", "exai.yaml", "--format", "json"]);
    run.expect_code(0);
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    let deleted: Vec<(String, String)> = actions(&plan).into_iter().filter(|(_, a)| a != "no-op").collect();
    assert_eq!(deleted, [("perso.monitoring".to_owned(), "delete".to_owned())], "only exai's own: {plan:#}");
    let c = change(&plan, "perso.monitoring");
    assert_eq!(c["reason"], "no longer in the spec");
    assert_eq!(c["warning"], "deleting a workspace deletes the logs it holds");
    assert_eq!(c["before"]["tags.exai-owner"], "perso:perso.monitoring");
    // The plan an apply without `--allow-delete` shows, and its refusal.
    let before = emulator.emulator.requests().len();
    let refused = against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]);
    assert_run!("workspace_delete_refused", Filters::default(), refused);
    assert!(emulator.emulator.requests().into_iter().skip(before).all(|r| !r.is_write()));

    let applied = against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve", "--allow-delete"]);
    assert_run!("workspace_deleted", Filters::default(), applied);
    against(&emulator, &s, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(0);
    let read = |path: &str, version: &'static str| {
        runtime.block_on(azure.read(&ApiRequest::arm(Method::Get, path, version, None))).unwrap()
    };
    let workspace = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.OperationalInsights/workspaces/exai-perso-logs"
    );
    assert!(read(&workspace, "2026-03-01").is_none(), "the workspace is gone");
    assert!(read(&theirs, "2025-11-01").is_some(), "the registry exai does not own is untouched");
}

#[test]
fn a_registry_name_taken_elsewhere_in_azure_fails_the_plan_before_any_write_where_it_is_declared() {
    let emulator = InProcessEmulator::start();
    let s = scratch_for_emulator();
    // Someone else, in another subscription, already holds the name (names are global).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let azure = emulator.someone_else();
    let other = "/subscriptions/ee000000-0000-4000-8000-0000000000bb/resourceGroups/theirs";
    let location = json!({"location": "westeurope"});
    runtime.block_on(azure.execute(&ApiRequest::arm(Method::Put, other, "2025-04-01", Some(location)))).unwrap();
    let theirs = format!("{other}/providers/Microsoft.ContainerRegistry/registries/exaipersoacr");
    let body = json!({"location": "westeurope", "sku": {"name": "Basic"}});
    runtime.block_on(azure.execute(&ApiRequest::arm(Method::Put, &theirs, "2025-11-01", Some(body)))).unwrap();

    let before = emulator.emulator.requests().len();
    let plan: &[&str] = &["plan", "-f", "exai.yaml"];
    let apply: &[&str] = &["apply", "-f", "exai.yaml", "--auto-approve"];
    for (command, args) in [("plan", plan), ("apply", apply)] {
        // No plan is shown; the error says where the name is declared.
        insta::with_settings!({ filters => Filters::default().settings(), snapshot_suffix => command }, {
            insta::assert_snapshot!("registry_name_taken", against(&emulator, &s, args).shown());
        });
    }
    let sent: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.path.starts_with("/subscriptions/"))
        .collect();
    assert!(sent.iter().all(|r| !r.is_write()), "nothing was written: {sent:#?}");
    let checks: Vec<_> = sent.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(checks.len(), 2, "one name check per run: {sent:#?}");
    assert!(checks.iter().all(|r| r.path.ends_with("/providers/Microsoft.ContainerRegistry/checkNameAvailability")));

    // Once the registry exists in the declared group it is the caller's own: not checked again.
    let free = s.spec().replace("name: exaipersoacr", "name: exaipersoacr2");
    s.write_spec(&free);
    against(&emulator, &s, &["apply", "-f", "exai.yaml", "--auto-approve"]).expect_code(0);
    let before = emulator.emulator.requests().len();
    against(&emulator, &s, &["plan", "-f", "exai.yaml", "--detailed-exitcode"]).expect_code(0);
    let arm = emulator.emulator.requests().into_iter().skip(before).filter(|r| r.path.starts_with("/subscriptions/"));
    assert!(arm.into_iter().all(|r| r.method == "GET"));
}
