//! `exai init --from-azure` through the real binary: a world built the way the seed's `az`
//! recipe builds it (shared/seed/azure-setup-guide.fr.txt), seeded into the emulator as the
//! requests `az` sends, then `init` → the written spec → `plan` (only ownership marks, nothing
//! destroyed or replaced) → `apply` → `plan --detailed-exitcode` exits 0. And the refusals: a
//! group that does not exist, a group with two clusters, a spec that exists.
//!
//! The fixture's bodies are what azure-cli sends, from its source (docs/azure-facts.md quotes
//! each with its index id): `resource/custom.py` `create_resource_group`, `acr/custom.py`
//! `acr_create`, `acs/custom.py` `aks_create` + `acs/managed_cluster_decorator.py` (the
//! cluster, `postprocessing_after_mc_created`), `acs/addonconfiguration.py` (the default
//! workspace, the data collection rule and its association), `acs/_roleassignments.py`
//! `ensure_aks_acr` (AcrPull), `role/custom.py` `create_service_principal_for_rbac` (the
//! application, its `rbac` secret, the service principal, Contributor on the subscription).
//! The api-versions are the ones the emulator speaks; the bodies do not depend on them.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

/// The public key `--generate-ssh-keys` left in ~/.ssh/id_rsa.pub.
const SSH_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClaHZPRrW9+CC3ZFhgYUv4UpdxaOjpZ7OgBmU52dnMWsMkFEHIk0/UVcaBwLO+oAcu+pXwYcgeYxPUk2sHAxqfaZDK4SgUcOJGMnb3zsS0JDIbd1X6T4NCHzuPAKbRNmNLTFw4R+weDKl2oHTInL1HCj41Sw3c9WJ7u+qkMN38g81wXRf8+ToXGal0Owqz6OzUORxc8KlJQox4DbqejMitck201i9ZBdjYL4JadFMgiGT8BBsE+KvL00FX+GD/rNqAFQsneY95LLc8/0BkZHLYF5r/x02HAhCDE4Iyrd1X39uTJgBmLTZ8VTyl+8Z7kFyDguHKMPQlHrWyEXDlRNvH test@exai";

/// The names `az` gave: the recipe's, and `francecentral`'s OMS region code `PAR`
/// (`AzureCloudLocationToOmsRegionCodeMap`, acs/addonconfiguration.py).
const GROUP: &str = "exai-perso-rg";
const REGISTRY: &str = "exaipersoacr";
const CLUSTER: &str = "exai-perso-aks";
const APP: &str = "exai-perso-github-sp";
const DEFAULT_GROUP: &str = "DefaultResourceGroup-PAR";

fn sub() -> String {
    format!("/subscriptions/{DEV_SUBSCRIPTION_ID}")
}
fn group_id(group: &str) -> String {
    format!("{}/resourceGroups/{group}", sub())
}
fn workspace_id() -> String {
    format!(
        "{}/providers/Microsoft.OperationalInsights/workspaces/DefaultWorkspace-{DEV_SUBSCRIPTION_ID}-PAR",
        group_id(DEFAULT_GROUP)
    )
}

/// Sends `request` as `az` would, signed in as someone other than exai; returns the answer.
fn az(emulator: &InProcessEmulator, request: ApiRequest) -> Value {
    let client = emulator.someone_else();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(client.execute(&request)).unwrap().unwrap_or(Value::Null)
}

fn arm_put(emulator: &InProcessEmulator, path: &str, api_version: &'static str, body: Value) -> Value {
    az(emulator, ApiRequest::arm(Method::Put, path, api_version, Some(body)))
}

/// Role assignments as `az` makes them: a random name (`uuid.uuid4()`), the subscription form
/// of the role definition id, `principalType` ServicePrincipal, no description.
fn assign(emulator: &InProcessEmulator, scope: &str, name: &str, role: &str, principal: &str) {
    let body = json!({"properties": {
        "roleDefinitionId": format!("{}/providers/Microsoft.Authorization/roleDefinitions/{role}", sub()),
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }});
    arm_put(emulator, &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"), "2022-04-01", body);
}

/// Where the monitoring add-on sends: the region's default workspace (`--enable-addons
/// monitoring` alone, as the seed runs it), or one made first in the group
/// (`az monitor log-analytics workspace create -g exai-perso-rg -n exai-perso-logs`, then
/// `--workspace-resource-id`).
#[derive(Clone, Copy, PartialEq)]
enum Workspace {
    RegionDefault,
    InGroup,
}

fn own_workspace_id() -> String {
    format!("{}/providers/Microsoft.OperationalInsights/workspaces/exai-perso-logs", group_id(GROUP))
}

/// Builds in `emulator` what the seed's four commands build, with `clusters` clusters.
fn seed_az_world(emulator: &InProcessEmulator, clusters: &[&str]) {
    seed_az_world_with(emulator, clusters, Workspace::RegionDefault, GROUP);
}

/// The same, with the workspace `workspace` and the registry in `registry_group`.
fn seed_az_world_with(emulator: &InProcessEmulator, clusters: &[&str], workspace: Workspace, registry_group: &str) {
    // az group create --name exai-perso-rg --location francecentral
    arm_put(emulator, &group_id(GROUP), "2025-04-01", json!({"location": "francecentral"}));
    // az acr create --resource-group exai-perso-rg --name exaipersoacr --sku Standard --location francecentral
    if registry_group != GROUP {
        arm_put(emulator, &group_id(registry_group), "2025-04-01", json!({"location": "francecentral"}));
    }
    let registry = arm_put(
        emulator,
        &format!("{}/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}", group_id(registry_group)),
        "2025-11-01",
        json!({"location": "francecentral", "sku": {"name": "Standard"}, "properties": {"adminUserEnabled": false}}),
    );
    let registry_id = registry["id"].as_str().unwrap().to_owned();
    // az aks create ... --enable-addons monitoring: the default workspace of the region first
    // (ensure_default_log_analytics_workspace_for_monitoring: the group, then the workspace with
    // sku "standalone").
    let workspace_id = match workspace {
        Workspace::RegionDefault => {
            arm_put(emulator, &group_id(DEFAULT_GROUP), "2025-04-01", json!({"location": "francecentral"}));
            let body = json!({"location": "francecentral", "properties": {"sku": {"name": "standalone"}}});
            arm_put(emulator, &workspace_id(), "2025-07-01", body);
            workspace_id()
        }
        Workspace::InGroup => {
            // monitor/aaz/latest/monitor/log_analytics/workspace/_create.py: `--sku` defaults to
            // PerGB2018, `--retention-time` to 30.
            let body = json!({"location": "francecentral", "properties": {"retentionInDays": 30, "sku": {"name": "PerGB2018"}}});
            arm_put(emulator, &own_workspace_id(), "2025-07-01", body);
            own_workspace_id()
        }
    };
    for cluster in clusters {
        let cluster_id = format!("{}/providers/Microsoft.ContainerService/managedClusters/{cluster}", group_id(GROUP));
        // The data collection rule, before the cluster (create_dcr=True).
        let rule_id = format!(
            "{}/providers/Microsoft.Insights/dataCollectionRules/MSCI-francecentral-{cluster}",
            group_id(GROUP)
        );
        arm_put(
            emulator,
            &rule_id,
            "2022-06-01",
            json!({"location": "francecentral", "tags": {}, "kind": "Linux", "properties": {
                "dataSources": {"extensions": [{"name": "ContainerInsightsExtension",
                    "streams": ["Microsoft-ContainerInsights-Group-Default"],
                    "extensionName": "ContainerInsights",
                    "extensionSettings": {"dataCollectionSettings": {"enableContainerLogV2": true}}}]},
                "dataFlows": [{"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["la-workspace"]}],
                "destinations": {"logAnalytics": [{"workspaceResourceId": workspace_id, "name": "la-workspace"}]},
                "dataCollectionEndpointId": null}}),
        );
        // The cluster (aks_create's defaults: nodepool1, azureuser, the derived dnsPrefix, no
        // kubernetesVersion pinned).
        let dns_prefix = format!("{}-{GROUP}-{}", &cluster[..cluster.len().min(10)], &DEV_SUBSCRIPTION_ID[..6]);
        let created = arm_put(
            emulator,
            &cluster_id,
            "2026-08-01",
            json!({"location": "francecentral", "identity": {"type": "SystemAssigned"}, "properties": {
                "kubernetesVersion": "",
                "dnsPrefix": dns_prefix,
                "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_B2s",
                    "osType": "Linux", "mode": "System", "type": "VirtualMachineScaleSets"}],
                "linuxProfile": {"adminUsername": "azureuser", "ssh": {"publicKeys": [{"keyData": SSH_KEY}]}},
                "addonProfiles": {"omsagent": {"enabled": true, "config": {
                    "logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"}}},
                "enableRBAC": true}}),
        );
        // postprocessing_after_mc_created: the association, then AcrPull for the kubelet identity.
        arm_put(
            emulator,
            &format!(
                "{cluster_id}/providers/Microsoft.Insights/dataCollectionRuleAssociations/ContainerInsightsExtension"
            ),
            "2022-06-01",
            json!({"location": "francecentral", "properties": {
                "dataCollectionRuleId": rule_id, "description": "associates dataCollectionRule to the AKS"}}),
        );
        let kubelet =
            created.pointer("/properties/identityProfile/kubeletidentity/objectId").unwrap().as_str().unwrap();
        let name = if *cluster == CLUSTER {
            "0c1e7a52-5d0e-4c36-9f1b-2a9a7f3d1e01"
        } else {
            "0c1e7a52-5d0e-4c36-9f1b-2a9a7f3d1e02"
        };
        assign(emulator, &registry_id, name, "7f951dda-4ed3-4680-a7ca-43fe172d538d", kubelet);
    }
    // az ad sp create-for-rbac --name exai-perso-github-sp --role Contributor --scopes /subscriptions/<sub>
    let app = az(emulator, ApiRequest::graph(Method::Post, "/applications", Some(json!({"displayName": APP}))));
    let (object_id, app_id) = (app["id"].as_str().unwrap(), app["appId"].as_str().unwrap());
    az(
        emulator,
        ApiRequest::graph(
            Method::Post,
            format!("/applications/{object_id}/addPassword"),
            Some(json!({"passwordCredential": {"displayName": "rbac", "endDateTime": "2027-12-05T15:00:00Z"}})),
        ),
    );
    let sp = az(
        emulator,
        ApiRequest::graph(Method::Post, "/servicePrincipals", Some(json!({"appId": app_id, "accountEnabled": true}))),
    );
    assign(
        emulator,
        &sub(),
        "0c1e7a52-5d0e-4c36-9f1b-2a9a7f3d1e03",
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        sp["id"].as_str().unwrap(),
    );
}

/// A scratch directory with no spec, and the development tenant and subscription.
fn scratch() -> Scratch {
    let mut s = Scratch::with_spec("");
    std::fs::remove_file(s.path().join("exai.yaml")).unwrap();
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

fn init(s: &Scratch, emulator: &InProcessEmulator, more: &[&str]) -> Run {
    let mut args = vec!["init", "--from-azure", "--resource-group", GROUP];
    args.extend(more);
    s.run_against(emulator, &args)
}

fn exai(s: &Scratch, emulator: &InProcessEmulator, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["-f", "exai.yaml"]);
    s.run_against(emulator, &all)
}

#[test]
fn a_world_az_built_is_adopted_with_marks_only_then_plans_clean() {
    let emulator = InProcessEmulator::start();
    seed_az_world(&emulator, &[CLUSTER]);
    let s = scratch();
    let filters = Filters::default().scratch(&s);

    let before = emulator.emulator.requests().len();
    assert_run!("init", filters, init(&s, &emulator, &["--deployer", APP]).expect_code(0));
    // `init` only reads, one request per thing it looks at: the group, its clusters, registries
    // and resources, the AcrPull assignments on the registry, the workspace, the application,
    // its federated credentials, its service principal and the principal's role assignments.
    let requests: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.kind != exai_emulator::RequestKind::Token)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(requests.iter().all(|r| r.starts_with("GET ")), "{requests:#?}");
    assert_eq!(requests.len(), 10, "{requests:#?}");
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_snapshot!("written_spec", s.spec());
    });
    let key = std::fs::read_to_string(s.path().join(format!("{CLUSTER}.pub"))).unwrap();
    assert_eq!(key, format!("{SSH_KEY}\n"), "the live key, beside the spec");

    let plan = exai(&s, &emulator, &["plan", "--format", "json"]);
    plan.expect_code(0);
    let document: Value = serde_json::from_str(&plan.stdout).unwrap();
    let changes = document["resource_changes"].as_array().unwrap();
    for change in changes {
        let action = change["action"].as_str().unwrap();
        assert!(
            !matches!(action, "create" | "delete" | "replace"),
            "only marks are added, nothing created, deleted or replaced: {change:#}"
        );
    }
    assert_run!("plan", filters, exai(&s, &emulator, &["plan"]));

    let before = emulator.emulator.requests().len();
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    let writes = emulator.arm_writes_since(before);
    assert!(
        writes.iter().all(|(w, _)| !w.starts_with("DELETE") && !w.contains(DEFAULT_GROUP)),
        "nothing deleted, the referenced workspace never written: {writes:#?}"
    );
    exai(&s, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
    let workspace = az(&emulator, ApiRequest::arm(Method::Get, workspace_id(), "2026-03-01", None));
    assert!(
        workspace.get("tags").is_none_or(|tags| tags.get("exai-owner").is_none()),
        "referenced, never marked: {workspace:#}"
    );
}

#[test]
fn a_group_that_does_not_exist_is_refused_naming_it() {
    let emulator = InProcessEmulator::start();
    let s = scratch();
    assert_run!("group_not_found", Filters::default().scratch(&s), init(&s, &emulator, &[]));
    assert!(!s.path().join("exai.yaml").exists());
}

#[test]
fn a_group_with_two_clusters_is_refused_until_one_is_picked() {
    let emulator = InProcessEmulator::start();
    seed_az_world(&emulator, &[CLUSTER, "exai-perso-aks2"]);
    let s = scratch();
    let filters = Filters::default().scratch(&s);
    assert_run!("two_clusters", filters, init(&s, &emulator, &[]));
    assert!(!s.path().join("exai.yaml").exists());
    init(&s, &emulator, &["--cluster", "exai-perso-aks2"]).expect_code(0);
    assert!(s.spec().contains("name: exai-perso-aks2"), "{}", s.spec());
}

#[test]
fn an_existing_spec_is_kept_unless_forced() {
    let emulator = InProcessEmulator::start();
    seed_az_world(&emulator, &[CLUSTER]);
    let s = scratch();
    s.write_spec("# mine\n");
    let before = emulator.emulator.requests().len();
    assert_run!("spec_exists", Filters::default().scratch(&s), init(&s, &emulator, &[]));
    assert_eq!(s.spec(), "# mine\n");
    assert_eq!(emulator.emulator.requests().len(), before, "refused before any request");
    init(&s, &emulator, &["--force"]).expect_code(0);
    assert!(s.spec().starts_with("# Written by `exai init --from-azure`"), "{}", s.spec());
}

#[test]
fn a_workspace_in_the_group_is_owned_and_the_deployer_s_github_login_is_kept() {
    let emulator = InProcessEmulator::start();
    seed_az_world_with(&emulator, &[CLUSTER], Workspace::InGroup, GROUP);
    // az ad app federated-credential create --id <appId> --parameters '{...}' (role/custom.py
    // create_federated_credential: POST .../federatedIdentityCredentials with the parameters).
    let apps = az(
        &emulator,
        ApiRequest::graph(Method::Get, "/applications", None).with_query("$filter", &format!("displayName eq '{APP}'")),
    );
    let object_id = apps["value"][0]["id"].as_str().unwrap();
    let credential = json!({"name": "github-branch-main", "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:my-org/exai:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]});
    let path = format!("/applications/{object_id}/federatedIdentityCredentials");
    az(&emulator, ApiRequest::graph(Method::Post, path, Some(credential)));

    let s = scratch();
    let filters = Filters::default().scratch(&s);
    init(&s, &emulator, &["--deployer", APP, "--env", "dev"]).expect_code(0);
    let spec = s.spec();
    let environment = &spec[spec.find("environments:").unwrap()..];
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_snapshot!("owned_workspace_spec", environment);
    });
    assert_run!("owned_workspace_plan", filters, exai(&s, &emulator, &["plan"]));
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    exai(&s, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
    let workspace = az(&emulator, ApiRequest::arm(Method::Get, own_workspace_id(), "2026-03-01", None));
    assert_eq!(workspace["tags"]["exai-owner"], "dev:dev.monitoring", "the group's workspace is adopted");
}

#[test]
fn a_registry_attached_from_another_group_is_referenced_and_never_written() {
    let emulator = InProcessEmulator::start();
    seed_az_world_with(&emulator, &[CLUSTER], Workspace::RegionDefault, "exai-shared-rg");
    let s = scratch();
    let filters = Filters::default().scratch(&s);
    init(&s, &emulator, &[]).expect_code(0);
    let spec = s.spec();
    let registry = &spec[spec.find("    registry:").unwrap()..spec.find("    monitoring:").unwrap()];
    insta::with_settings!({ filters => filters.settings() }, {
        insta::assert_snapshot!("shared_registry", registry);
    });
    let before = emulator.emulator.requests().len();
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    let writes = emulator.arm_writes_since(before);
    assert!(
        writes.iter().all(|(w, _)| !w.contains("exai-shared-rg") || w.contains("/roleAssignments/")),
        "the shared registry is never written (its AcrPull assignment gets the mark): {writes:#?}"
    );
    exai(&s, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
}

#[test]
fn a_deployer_name_no_application_has_is_refused_naming_it() {
    let emulator = InProcessEmulator::start();
    seed_az_world(&emulator, &[CLUSTER]);
    let s = scratch();
    assert_run!(
        "no_application",
        Filters::default().scratch(&s),
        init(&s, &emulator, &["--deployer", "exai-perso-github"])
    );
    assert!(!s.path().join("exai.yaml").exists());
}
