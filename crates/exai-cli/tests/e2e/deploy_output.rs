//! The deployer's least-privilege deploy access and `exai output`, through the real binary
//! against the emulator: `deployer.deploy: { registry: push, cluster: user }` gives the
//! deployer's principal exactly AcrPush on the registry and the AKS cluster user role on the
//! cluster (read back from the emulator's role assignments), a grant removed from the spec is
//! deleted and nothing else; `exai output` writes the documented keys, each equal to what the
//! emulator holds, and refuses without an environment, without `$GITHUB_OUTPUT`, and before
//! apply, naming what is missing.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_azure::AzureClient;
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::Value;
use std::collections::BTreeMap;

const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";
const CLUSTER_USER: &str = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const GROUP: &str = "exai-perso-rg";
const REGISTRY: &str = "exaipersoacr";
const CLUSTER: &str = "exai-perso-aks";
const DEPLOYER: &str = "exai-perso-github-sp";

/// A public key for the cluster's nodes (a test key; its private half was never kept), so no
/// key pair is generated.
const PUBLIC_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClaHZPRrW9+CC3ZFhgYUv4UpdxaOjpZ7OgBmU52dnMWsMkFEHIk0/UVcaBwLO+oAcu+pXwYcgeYxPUk2sHAxqfaZDK4SgUcOJGMnb3zsS0JDIbd1X6T4NCHzuPAKbRNmNLTFw4R+weDKl2oHTInL1HCj41Sw3c9WJ7u+qkMN38g81wXRf8+ToXGal0Owqz6OzUORxc8KlJQox4DbqejMitck201i9ZBdjYL4JadFMgiGT8BBsE+KvL00FX+GD/rNqAFQsneY95LLc8/0BkZHLYF5r/x02HAhCDE4Iyrd1X39uTJgBmLTZ8VTyl+8Z7kFyDguHKMPQlHrWyEXDlRNvH test@exai";

/// A spec with a group, a registry, a cluster and a deployer whose section ends with
/// `deployer` (the lines after its name); `more` is appended (another environment).
fn spec(deployer: &[&str], more: &str) -> String {
    let lines: String = deployer.iter().map(|l| format!("      {l}\n")).collect();
    format!(
        "version: 1
name: my-org/exai
azure:
  tenant: ${{AZURE_TENANT_ID}}
  subscription: ${{AZURE_SUBSCRIPTION_ID}}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: {{ name: {GROUP} }}
    registry: {{ name: {REGISTRY} }}
    cluster:
      name: {CLUSTER}
      nodePools: [ {{ name: nodepool1, count: 1, vmSize: Standard_B2s }} ]
      attachRegistry: true
      ssh: {{ publicKeyFile: nodes.pub }}
    deployer:
      name: {DEPLOYER}
      github: {{ repository: my-org/exai, branches: [production] }}
{lines}{more}"
    )
}

const DEPLOY_BOTH: &[&str] = &["deploy: { registry: push, cluster: user }"];

struct World {
    emulator: InProcessEmulator,
    s: Scratch,
    azure: AzureClient,
    runtime: tokio::runtime::Runtime,
}

impl World {
    fn new(deployer: &[&str]) -> Self {
        let emulator = InProcessEmulator::start();
        let mut s = Scratch::with_spec(&spec(deployer, ""));
        std::fs::write(s.path().join("nodes.pub"), format!("{PUBLIC_KEY}\n")).unwrap();
        s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
        let azure = emulator.someone_else();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Self { emulator, s, azure, runtime }
    }

    fn exai(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-f", "exai.yaml"]);
        self.s.run_against(&self.emulator, &all)
    }

    fn apply(&self, extra: &[&str]) {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend_from_slice(extra);
        self.exai(&args).expect_code(0);
        self.exai(&["plan", "--detailed-exitcode"]).expect_code(0);
    }

    fn rewrite(&self, deployer: &[&str]) {
        self.s.write_spec(&spec(deployer, ""));
    }

    fn filters(&self) -> Filters {
        Filters::default().scratch(&self.s)
    }

    fn read(&self, request: ApiRequest) -> Value {
        self.runtime.block_on(self.azure.read(&request)).unwrap().unwrap()
    }

    fn arm(&self, path: &str, version: &'static str) -> Value {
        self.read(ApiRequest::arm(Method::Get, path, version, None))
    }

    fn group_id(&self) -> String {
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/{GROUP}")
    }

    fn registry(&self) -> Value {
        let id = format!("{}/providers/Microsoft.ContainerRegistry/registries/{REGISTRY}", self.group_id());
        self.arm(&id, "2025-11-01")
    }

    fn cluster(&self) -> Value {
        let id = format!("{}/providers/Microsoft.ContainerService/managedClusters/{CLUSTER}", self.group_id());
        self.arm(&id, "2026-08-01")
    }

    /// The deployer's application, the one of its display name.
    fn application(&self) -> Value {
        let list = self.read(ApiRequest::graph(Method::Get, "/applications", None));
        let apps: Vec<&Value> =
            list["value"].as_array().unwrap().iter().filter(|a| a["displayName"] == DEPLOYER).collect();
        assert_eq!(apps.len(), 1, "one application named {DEPLOYER}");
        apps[0].clone()
    }

    /// Every role assignment of the deployer's service principal in the subscription, read
    /// from the emulator's list, as `(role GUID, scope)`, sorted.
    fn deployer_roles(&self) -> Vec<(String, String)> {
        let app_id = self.application()["appId"].as_str().unwrap().to_owned();
        let sp = self.read(ApiRequest::graph(Method::Get, format!("/servicePrincipals(appId='{app_id}')"), None));
        let principal = sp["id"].as_str().unwrap();
        let list = ApiRequest::arm(
            Method::Get,
            format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments"),
            "2022-04-01",
            None,
        )
        .with_query("$filter", &format!("principalId eq '{principal}'"));
        let mut roles: Vec<(String, String)> = self.read(list)["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let role = a["properties"]["roleDefinitionId"].as_str().unwrap().rsplit('/').next().unwrap();
                (role.to_ascii_lowercase(), a["properties"]["scope"].as_str().unwrap().to_ascii_lowercase())
            })
            .collect();
        roles.sort();
        roles
    }

    fn registry_scope(&self) -> String {
        self.registry()["id"].as_str().unwrap().to_ascii_lowercase()
    }

    fn cluster_scope(&self) -> String {
        self.cluster()["id"].as_str().unwrap().to_ascii_lowercase()
    }
}

/// The plan's changes other than no-ops, as `(address, action)`.
fn changes(run: &Run) -> Vec<(String, String)> {
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no-op")
        .map(|c| (c["address"].as_str().unwrap().to_owned(), c["action"].as_str().unwrap().to_owned()))
        .collect()
}

fn sorted(mut roles: Vec<(&str, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = roles.drain(..).map(|(r, s)| (r.to_owned(), s)).collect();
    out.sort();
    out
}

#[test]
fn deploy_access_is_exactly_acr_push_on_the_registry_and_cluster_user_on_the_cluster() {
    let w = World::new(DEPLOY_BOTH);
    let plan = w.exai(&["plan", "--format", "json"]);
    plan.expect_code(0);
    let created: Vec<(String, String)> =
        changes(&plan).into_iter().filter(|(address, _)| address.starts_with("perso.deployer.deploy")).collect();
    assert_eq!(
        created,
        [
            ("perso.deployer.deploy.registry".to_owned(), "create".to_owned()),
            ("perso.deployer.deploy.cluster".to_owned(), "create".to_owned()),
        ]
    );
    w.apply(&[]);
    assert_eq!(
        w.deployer_roles(),
        sorted(vec![(ACR_PUSH, w.registry_scope()), (CLUSTER_USER, w.cluster_scope())]),
        "no role but the deploy access, and no other scope"
    );

    // `deploy.registry` leaves the spec: that assignment is deleted, and only it (found with
    // no other assignment of the principal at or above the registry).
    w.rewrite(&["deploy: { cluster: user }"]);
    let plan = w.exai(&["plan", "--format", "json"]);
    plan.expect_code(0);
    assert_eq!(changes(&plan), [("perso.deployer.deploy.registry".to_owned(), "delete".to_owned())]);
    w.apply(&["--allow-delete"]);
    assert_eq!(w.deployer_roles(), sorted(vec![(CLUSTER_USER, w.cluster_scope())]));

    // With a role as well, the role is added at its scope beside the deploy access.
    w.rewrite(&["role: Contributor", "deploy: { registry: push, cluster: user }"]);
    w.apply(&[]);
    assert_eq!(
        w.deployer_roles(),
        sorted(vec![
            (ACR_PUSH, w.registry_scope()),
            (CLUSTER_USER, w.cluster_scope()),
            (CONTRIBUTOR, w.group_id().to_ascii_lowercase()),
        ])
    );
}

/// Parses `key=value` lines.
fn github_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|line| {
            let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("not `key=value`: {line:?}"));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn output_github_appends_every_key_with_the_live_values() {
    let mut w = World::new(DEPLOY_BOTH);
    w.apply(&[]);
    let file = w.s.path().join("github-output");
    std::fs::write(&file, "earlier=kept\n").unwrap();
    w.s.env("GITHUB_OUTPUT", &file.display().to_string());
    let run = w.exai(&["output", "--env", "perso", "--format", "github"]);
    assert_run!(w.filters(), run);

    let written = std::fs::read_to_string(&file).unwrap();
    let lines = github_lines(&written);
    assert_eq!(lines[0], ("earlier".to_owned(), "kept".to_owned()), "appended, not overwritten");
    let values: BTreeMap<String, String> = lines[1..].iter().cloned().collect();
    let keys: Vec<&str> = lines[1..].iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, exai_session::OUTPUT_KEYS, "every documented key, in order, once");

    let registry = w.registry();
    let cluster = w.cluster();
    let kubelet = &cluster["properties"]["identityProfile"]["kubeletidentity"];
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    let expected: BTreeMap<String, String> = [
        ("subscription_id", DEV_SUBSCRIPTION_ID.to_owned()),
        ("tenant_id", DEV_TENANT_ID.to_owned()),
        ("resource_group", GROUP.to_owned()),
        ("registry_name", REGISTRY.to_owned()),
        ("registry_login_server", text(&registry["properties"]["loginServer"])),
        ("cluster_name", CLUSTER.to_owned()),
        ("cluster_resource_group", GROUP.to_owned()),
        ("node_resource_group", text(&cluster["properties"]["nodeResourceGroup"])),
        ("kubelet_client_id", text(&kubelet["clientId"])),
        ("kubelet_object_id", text(&kubelet["objectId"])),
        ("deployer_client_id", text(&w.application()["appId"])),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(values, expected);
    insta::with_settings!({ filters => w.filters().settings() }, {
        insta::assert_snapshot!("github_output_file", written);
    });
}

#[test]
fn output_json_and_text_show_the_same_values() {
    let w = World::new(DEPLOY_BOTH);
    w.apply(&[]);
    let json = w.exai(&["output", "--format", "json"]);
    assert_run!("output_json", w.filters(), json);
    let object: serde_json::Map<String, Value> = serde_json::from_str(&json.stdout).unwrap();
    let text = w.exai(&["output"]);
    assert_run!("output_text", w.filters(), text);
    let rows: Vec<(String, String)> = text
        .stdout
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(' ').unwrap();
            (key.to_owned(), value.trim_start().to_owned())
        })
        .collect();
    let mut from_json: Vec<(String, String)> =
        object.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    from_json.sort();
    let mut sorted_rows = rows.clone();
    sorted_rows.sort();
    assert_eq!(sorted_rows, from_json, "text and json carry the same values");
    assert_eq!(rows.len(), exai_session::OUTPUT_KEYS.len());
}

#[test]
fn output_before_apply_names_every_missing_object() {
    let w = World::new(DEPLOY_BOTH);
    let run = w.exai(&["output", "--format", "json"]);
    assert_run!(w.filters(), run);
}

#[test]
fn output_needs_an_environment_when_the_spec_has_several_and_a_github_output_file() {
    let w = World::new(DEPLOY_BOTH);
    let prod = "  prod:\n    resourceGroup: { name: exai-prod-rg }\n";
    w.s.write_spec(&spec(DEPLOY_BOTH, prod));
    assert_run!("output_without_env", w.filters(), w.exai(&["output"]));
    assert_run!("output_unknown_env", w.filters(), w.exai(&["output", "--env", "staging"]));
    assert_run!("output_github_unset", w.filters(), w.exai(&["output", "--env", "perso", "--format", "github"]));
    // Refused before any request: no token was asked for, nothing read.
    assert!(w.emulator.emulator.requests().is_empty(), "a refused `exai output` sent requests");
}
