//! Objects exai uses without owning them (`monitoring: { workspace: { id } }`, `registry: { id }`),
//! end to end: the real binary against the emulator, seeded the way `az` leaves a subscription
//! (the `DefaultWorkspace-<sub>-PAR` of `az aks create --enable-addons monitoring`, a registry
//! another team runs). A referenced object is read and shown as `read`; the cluster's monitoring
//! and the AcrPull assignments built on it are the environment's own; and the emulator's request
//! log shows no write or delete ever reached it — through apply, a changed reference and the
//! environment's monitoring removed with `--allow-delete`.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

/// The group and workspace `az aks create --enable-addons monitoring` makes for a cluster in
/// francecentral (docs/azure-facts.md: `DefaultResourceGroup-PAR`, `DefaultWorkspace-<sub>-PAR`).
fn default_workspace(code: &str) -> String {
    format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/DefaultResourceGroup-{code}/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{DEV_SUBSCRIPTION_ID}-{code}"
    )
}

fn shared_registry() -> String {
    format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-shared-rg/providers/Microsoft.ContainerRegistry/registries/exaisharedacr"
    )
}

/// Creates what someone else made, as their own client would: the group of `id`, then the
/// object, with `body` (whose `location` the group takes too).
fn seed(emulator: &InProcessEmulator, id: &str, api_version: &'static str, body: Value) {
    let azure = emulator.someone_else();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let group = id.split("/providers/").next().unwrap();
    let location = json!({"location": body["location"]});
    runtime.block_on(azure.execute(&ApiRequest::arm(Method::Put, group, "2025-04-01", Some(location)))).unwrap();
    runtime.block_on(azure.execute(&ApiRequest::arm(Method::Put, id, api_version, Some(body)))).unwrap();
}

/// Seeds the default workspace of the region of code `code` (`PAR`: francecentral, `WEU`:
/// westeurope).
fn seed_workspace(emulator: &InProcessEmulator, code: &str) {
    let region = if code == "WEU" { "westeurope" } else { "francecentral" };
    let body = json!({"location": region, "properties": {"sku": {"name": "PerGB2018"}}});
    seed(emulator, &default_workspace(code), "2026-03-01", body);
}

/// Returns the emulator's live document of `id`, read as someone else.
fn live(emulator: &InProcessEmulator, id: &str, api_version: &'static str) -> Option<Value> {
    let azure = emulator.someone_else();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(azure.read(&ApiRequest::arm(Method::Get, id, api_version, None))).unwrap()
}

/// `perso`: a group, a cluster with container insights into the workspace `workspace` (a
/// reference, or a whole `monitoring:` section when it is not an id).
fn monitoring_spec(monitoring: &str) -> String {
    format!(
        "version: 1
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults:
  location: francecentral
  tags: {{ project: exai }}
environments:
  perso:
    resourceGroup: {{ name: exai-perso-rg }}
{monitoring}    cluster:
      name: exai-perso-aks
      nodePools: [ {{ name: nodepool1, count: 1, vmSize: Standard_B2s }} ]
      monitoring: {}
      ssh: {{ generate: true }}
",
        !monitoring.is_empty()
    )
}

fn referencing(workspace: &str) -> String {
    monitoring_spec(&format!("    monitoring:\n      workspace: {{ id: {workspace} }}\n"))
}

fn scratch(spec: &str) -> Scratch {
    let mut s = Scratch::with_spec(spec);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

fn json_plan(emulator: &InProcessEmulator, s: &Scratch) -> Value {
    let run = s.run_against(emulator, &["plan", "--format", "json"]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", run.stdout))
}

fn actions(plan: &Value) -> Vec<(String, String)> {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["address"].as_str().unwrap().to_owned(), c["action"].as_str().unwrap().to_owned()))
        .collect()
}

/// Every request the emulator received after its `since`-th that was not a read of `id` or
/// below it: a write, a delete or an action POST (compared ignoring case, as ARM compares ids).
fn not_reads_of(emulator: &InProcessEmulator, since: usize, id: &str) -> Vec<String> {
    let id = id.to_ascii_lowercase();
    emulator
        .emulator
        .requests()
        .into_iter()
        .skip(since)
        .filter(|r| r.path.to_ascii_lowercase().starts_with(&id) && r.method != "GET")
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

fn filters(emulator: &InProcessEmulator, s: &Scratch) -> Filters {
    Filters::default().scratch(s).literal(&emulator.ca_cert.display().to_string(), "[ca]")
}

#[test]
fn a_referenced_workspace_is_used_by_the_cluster_s_monitoring_and_never_written_or_deleted() {
    let emulator = InProcessEmulator::start();
    seed_workspace(&emulator, "PAR");
    seed_workspace(&emulator, "WEU");
    let seeded = emulator.emulator.requests().len();
    let workspace = default_workspace("PAR");
    let s = scratch(&referencing(&workspace));

    let run = s.run_against(&emulator, &["plan"]);
    assert_run!("workspace_plan", filters(&emulator, &s), run);
    let plan = json_plan(&emulator, &s);
    assert_eq!(plan["format_version"], 3);
    assert_eq!(
        actions(&plan),
        [
            ("perso.resourceGroup", "create"),
            ("perso.monitoring", "read"),
            ("perso.cluster.dcr", "create"),
            ("perso.cluster", "create"),
            ("perso.cluster.dcr-association", "create"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(plan["summary"]["read"], 1);

    let applied = s.run_against(&emulator, &["apply", "--auto-approve"]);
    applied.expect_code(0);
    assert!(
        applied.stdout.contains(" <= perso.monitoring "),
        "apply shows the plan it carries out:\n{}",
        applied.stdout
    );
    assert!(!applied.stdout.contains("perso.monitoring:"), "and sends nothing for the reference:\n{}", applied.stdout);
    // The cluster sends its logs to the referenced workspace, through a rule the environment owns.
    let cluster = live(
        &emulator,
        &format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerService/managedClusters/exai-perso-aks"),
        "2026-08-01",
    )
    .unwrap();
    let omsagent = &cluster["properties"]["addonProfiles"]["omsagent"];
    assert_eq!(omsagent["enabled"], true);
    assert!(
        omsagent["config"]["logAnalyticsWorkspaceResourceID"].as_str().unwrap().eq_ignore_ascii_case(&workspace),
        "{omsagent}"
    );
    let rule = live(
        &emulator,
        &format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.Insights/dataCollectionRules/MSCI-francecentral-exai-perso-aks"),
        "2022-06-01",
    )
    .unwrap();
    let destination = rule["properties"]["destinations"]["logAnalytics"][0]["workspaceResourceId"].as_str().unwrap();
    assert!(destination.eq_ignore_ascii_case(&workspace), "{destination}");

    // Applied: no change left, the workspace read.
    let again = s.run_against(&emulator, &["plan", "--detailed-exitcode"]);
    assert_run!("workspace_plan_after_apply", filters(&emulator, &s), again);

    // Another workspace referenced, in another region: the add-on follows it, and the rule goes
    // to the workspace's region as `az` puts it (a new rule there, the old one superseded);
    // neither workspace is written, the old one is not deleted.
    s.write_spec(&referencing(&default_workspace("WEU")));
    let run = s.run_against(&emulator, &["plan"]);
    assert_run!("workspace_changed", filters(&emulator, &s), run);
    s.run_against(&emulator, &["apply", "--auto-approve", "--allow-delete"]).expect_code(0);
    let plan = json_plan(&emulator, &s);
    assert!(actions(&plan).iter().all(|(_, a)| a == "no-op" || a == "read"), "{:?}", actions(&plan));
    let moved = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.Insights/dataCollectionRules/MSCI-westeurope-exai-perso-aks"
    );
    assert_eq!(live(&emulator, &moved, "2022-06-01").unwrap()["location"], "westeurope");
    // The monitoring removed with its section: the rule and association are the environment's
    // and go; the workspace is someone else's and stays.
    s.write_spec(&monitoring_spec(""));
    s.run_against(&emulator, &["apply", "--auto-approve", "--allow-delete"]).expect_code(0);
    // Referenced again, then the environment referencing it gone from the spec (another one
    // left): nothing of `perso` is planned at all, the workspace least of all.
    s.write_spec(&referencing(&default_workspace("PAR")));
    s.run_against(&emulator, &["apply", "--auto-approve", "--allow-delete"]).expect_code(0);
    let (head, _) = referencing(&default_workspace("PAR"))
        .split_once("  perso:")
        .map(|(h, t)| (h.to_owned(), t.to_owned()))
        .unwrap();
    s.write_spec(&format!("{head}  other:\n    resourceGroup: {{ name: exai-other-rg }}\n"));
    s.run_against(&emulator, &["apply", "--auto-approve", "--allow-delete"]).expect_code(0);
    for code in ["PAR", "WEU"] {
        assert!(live(&emulator, &default_workspace(code), "2026-03-01").is_some(), "{code} still exists");
        assert_eq!(
            not_reads_of(&emulator, seeded, &default_workspace(code)),
            Vec::<String>::new(),
            "exai only read it"
        );
    }
}

#[test]
fn a_plan_referencing_a_workspace_that_does_not_exist_fails_naming_its_id() {
    let emulator = InProcessEmulator::start();
    let s = scratch(&referencing(&default_workspace("PAR")));
    let before = emulator.emulator.requests().len();
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    assert_run!("missing_workspace", filters(&emulator, &s), run);
    assert_eq!(emulator.arm_writes_since(before), Vec::<(String, u16)>::new(), "nothing was written");
}

#[test]
fn a_referenced_workspace_the_caller_may_not_read_fails_the_plan_naming_the_role_that_reads_it() {
    let emulator = InProcessEmulator::start();
    seed_workspace(&emulator, "PAR");
    // Contributor on its own group only: the default workspace's group is out of its reach.
    let body = json!({
        "displayName": "ci-deployer",
        "roles": [{"role": "Contributor", "scope": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg")}]
    });
    let (status, principal) = emulator.admin_post("principals", &body);
    assert_eq!(status, 201, "{principal}");
    let spec = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults: { location: francecentral }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    monitoring:
      workspace: { id: WORKSPACE }
"
    .replace("WORKSPACE", &default_workspace("PAR"));
    let mut s = scratch(&spec);
    let text = |member: &str| principal[member].as_str().unwrap().to_owned();
    s.env("AZURE_CLIENT_ID", &text("appId")).env("AZURE_CLIENT_SECRET", &text("clientSecret"));
    let run = s.run_against(&emulator, &["plan"]);
    assert!(!run.stdout.contains(&text("clientSecret")) && !run.stderr.contains(&text("clientSecret")));
    let filters = filters(&emulator, &s)
        .literal(&text("appId"), "[deployer app id]")
        .literal(&text("objectId"), "[deployer object id]");
    assert_run!("unreadable_workspace", filters, run);
}

/// `perso` and `prod` share one registry someone else runs: each environment's kubelet gets
/// AcrPull on it, and the registry is read once per plan.
#[test]
fn a_registry_shared_by_two_environments_is_read_once_and_each_cluster_may_pull_from_it() {
    let emulator = InProcessEmulator::start();
    let body =
        json!({"location": "francecentral", "sku": {"name": "Standard"}, "properties": {"adminUserEnabled": false}});
    seed(&emulator, &shared_registry(), "2025-11-01", body);
    let seeded = emulator.emulator.requests().len();
    let environment = |name: &str| {
        format!(
            "  {name}:
    resourceGroup: {{ name: exai-{name}-rg }}
    registry: {{ id: {} }}
    cluster:
      name: exai-{name}-aks
      nodePools: [ {{ name: nodepool1, count: 1, vmSize: Standard_B2s }} ]
      attachRegistry: true
      ssh: {{ generate: true }}
",
            shared_registry()
        )
    };
    let spec = format!(
        "version: 1
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults: {{ location: francecentral }}
environments:
{}{}",
        environment("perso"),
        environment("prod")
    );
    let s = scratch(&spec);
    let registry_reads = |since: usize| {
        let registry = shared_registry().to_ascii_lowercase();
        emulator.emulator.requests().into_iter().skip(since).filter(|r| r.path.to_ascii_lowercase() == registry).count()
    };

    let before = emulator.emulator.requests().len();
    let plan = json_plan(&emulator, &s);
    assert_eq!(registry_reads(before), 1, "one read for both environments");
    let reads: Vec<(String, String)> = actions(&plan).into_iter().filter(|(_, a)| a == "read").collect();
    assert_eq!(
        reads,
        [("perso.registry", "read"), ("prod.registry", "read")].map(|(a, b)| (a.to_owned(), b.to_owned()))
    );

    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    run.expect_code(0);
    let assignments = live(
        &emulator,
        &format!("{}/providers/Microsoft.Authorization/roleAssignments", shared_registry()),
        "2022-04-01",
    )
    .unwrap();
    let acr_pull = "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d";
    let mut principals: Vec<String> = assignments["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["properties"]["roleDefinitionId"].as_str().unwrap().ends_with(acr_pull))
        .filter(|a| a["properties"]["scope"].as_str().unwrap().eq_ignore_ascii_case(&shared_registry()))
        .map(|a| a["properties"]["principalId"].as_str().unwrap().to_owned())
        .collect();
    principals.sort();
    let mut kubelets: Vec<String> = ["perso", "prod"]
        .iter()
        .map(|env| {
            let id = format!(
                "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-{env}-rg/providers/Microsoft.ContainerService/managedClusters/exai-{env}-aks"
            );
            let cluster = live(&emulator, &id, "2026-08-01").unwrap();
            cluster["properties"]["identityProfile"]["kubeletidentity"]["objectId"].as_str().unwrap().to_owned()
        })
        .collect();
    kubelets.sort();
    assert_eq!(principals, kubelets, "AcrPull for each environment's kubelet identity, nothing else");

    // Applied: nothing left to do; the registry itself was only ever read.
    let before = emulator.emulator.requests().len();
    s.run_against(&emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
    assert_eq!(registry_reads(before), 1);
    let written: Vec<String> = not_reads_of(&emulator, seeded, &shared_registry())
        .into_iter()
        .filter(|r| !r.contains("/providers/Microsoft.Authorization/roleAssignments/"))
        .collect();
    assert_eq!(written, Vec::<String>::new(), "exai only read the registry");
}
