//! AKS's application routing add-on (`cluster.ingress.appRouting`, the managed NGINX ingress
//! controller) end to end: the real binary against the emulator. Declared on, it is created
//! with the cluster and the next plan is empty despite what AKS fills in under
//! `ingressProfile.webAppRouting`; toggled, it is exactly one in-place update of the cluster;
//! left out of the spec, an add-on someone enabled with `az aks approuting enable` is shown as
//! observed and survives exai's updates of the cluster.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::kinds::Cluster;
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

/// An RSA-2048 public key, read from a file next to the spec (generating one, as
/// `ssh: { generate: true }` does, takes most of a minute in a debug build).
const PUBLIC_KEY: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClaHZPRrW9+CC3ZFhgYUv4UpdxaOjpZ7OgBmU52dnMWsMkFEHIk0/UVcaBwLO+oAcu+pXwYcgeYxPUk2sHAxqfaZDK4SgUcOJGMnb3zsS0JDIbd1X6T4NCHzuPAKbRNmNLTFw4R+weDKl2oHTInL1HCj41Sw3c9WJ7u+qkMN38g81wXRf8+ToXGal0Owqz6OzUORxc8KlJQox4DbqejMitck201i9ZBdjYL4JadFMgiGT8BBsE+KvL00FX+GD/rNqAFQsneY95LLc8/0BkZHLYF5r/x02HAhCDE4Iyrd1X39uTJgBmLTZ8VTyl+8Z7kFyDguHKMPQlHrWyEXDlRNvH test@exai";

/// The cluster of the seed's recipe, with `ingress` as the cluster's last line (`""`: none).
fn spec(ingress: &str) -> String {
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
    cluster:
      name: exai-perso-aks
      identity: SystemAssigned
      nodePools: [ {{ name: nodepool1, count: 1, vmSize: Standard_B2s }} ]
      ssh: {{ publicKeyFile: id_rsa.pub }}
{ingress}"
    )
}

const ON: &str = "      ingress: { appRouting: true }\n";
const OFF: &str = "      ingress: { appRouting: false }\n";

fn cluster_path() -> String {
    format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerService/managedClusters/exai-perso-aks"
    )
}

/// A scratch directory whose spec is `text`, with the emulator's tenant and subscription.
fn scratch(text: &str) -> Scratch {
    let mut s = Scratch::with_spec(text);
    std::fs::write(s.path().join("id_rsa.pub"), PUBLIC_KEY).unwrap();
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

fn plan(emulator: &InProcessEmulator, s: &Scratch, extra: &[&str]) -> Run {
    let mut args = vec!["plan", "-f", "exai.yaml"];
    args.extend_from_slice(extra);
    s.run_against(emulator, &args)
}

fn apply(emulator: &InProcessEmulator, s: &Scratch) -> Run {
    s.run_against(emulator, &["apply", "-f", "exai.yaml", "--auto-approve"])
}

/// Returns the plan document's entry for the cluster.
fn cluster_change(emulator: &InProcessEmulator, s: &Scratch) -> Value {
    let run = plan(emulator, s, &["--format", "json"]);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = doc["resource_changes"].as_array().cloned().unwrap_or_default();
    changes.into_iter().find(|c| c["address"] == "perso.cluster").unwrap()
}

/// Returns the cluster as a GET answers it (read by someone else than exai).
fn live_cluster(emulator: &InProcessEmulator) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let request = ApiRequest::arm(Method::Get, cluster_path(), Cluster::API_VERSION, None);
    runtime.block_on(emulator.someone_else().read(&request)).unwrap().unwrap()
}

/// Turns the add-on on behind exai's back as `az aks approuting enable` does: GET the cluster,
/// set `ingressProfile.webAppRouting.enabled`, PUT the whole cluster back.
fn enable_with_az(emulator: &InProcessEmulator) {
    let mut cluster = live_cluster(emulator);
    cluster["properties"]["ingressProfile"] = json!({"webAppRouting": {"enabled": true}});
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let request = ApiRequest::arm(Method::Put, cluster_path(), Cluster::API_VERSION, Some(cluster));
    runtime.block_on(emulator.someone_else().execute(&request)).unwrap();
}

/// The ARM writes after the `before`-th request, as `METHOD <last path segment>`.
fn writes_since(emulator: &InProcessEmulator, before: usize) -> Vec<String> {
    emulator
        .arm_writes_since(before)
        .into_iter()
        .map(|(write, _)| {
            let (method, path) = write.split_once(' ').unwrap_or_default();
            format!("{method} {}", path.split('?').next().unwrap_or_default().rsplit('/').next().unwrap_or_default())
        })
        .collect()
}

#[test]
fn app_routing_plans_applies_and_plans_empty_after_and_a_toggle_is_one_in_place_update() {
    let emulator = InProcessEmulator::start();
    let s = scratch(&spec(ON));
    let filters = Filters::default().scratch(&s);

    // Created with the cluster: the PUT that creates it asks for the add-on.
    let before = emulator.emulator.requests().len();
    apply(&emulator, &s).expect_code(0);
    let created = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .find(|r| r.method == "PUT" && r.path.ends_with("/managedClusters/exai-perso-aks"))
        .unwrap();
    let sent = created.body.as_ref().and_then(|b| b.pointer("/properties/ingressProfile")).cloned();
    assert_eq!(sent, Some(json!({"webAppRouting": {"enabled": true}})));
    // AKS filled in the add-on's identity and NGINX default: no noise for all that.
    let routing = live_cluster(&emulator)["properties"]["ingressProfile"]["webAppRouting"].clone();
    assert_eq!(routing["enabled"], true);
    assert!(routing["identity"]["objectId"].is_string(), "{routing:#}");
    assert!(routing["nginx"]["defaultIngressControllerType"].is_string(), "{routing:#}");
    assert_run!("app_routing_plan_after_apply", filters, plan(&emulator, &s, &["--detailed-exitcode"]));

    // Toggled off: exactly one in-place update of the cluster, one PUT.
    s.write_spec(&spec(OFF));
    assert_run!("app_routing_toggled_off", filters, plan(&emulator, &s, &["--detailed-exitcode"]));
    let change = cluster_change(&emulator, &s);
    assert_eq!(change["action"], "update");
    assert_eq!(change["diffs"], json!([{"path": Cluster::APP_ROUTING_FIELD, "before": true, "after": false}]));
    let requests = change["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0]["method"], "PUT");
    assert_eq!(
        requests[0]["body"]["properties"]["ingressProfile"],
        json!({"webAppRouting": {
            "enabled": false, "nginx": routing["nginx"].clone()
        }})
    );
    let before = emulator.emulator.requests().len();
    assert_run!("app_routing_toggled_off_apply", filters, apply(&emulator, &s));
    assert_eq!(writes_since(&emulator, before), ["PUT exai-perso-aks"]);
    assert_eq!(live_cluster(&emulator)["properties"]["ingressProfile"]["webAppRouting"]["enabled"], false);
    plan(&emulator, &s, &["--detailed-exitcode"]).expect_code(0);

    // And on again.
    s.write_spec(&spec(ON));
    let change = cluster_change(&emulator, &s);
    assert_eq!(change["diffs"], json!([{"path": Cluster::APP_ROUTING_FIELD, "before": false, "after": true}]));
    let before = emulator.emulator.requests().len();
    apply(&emulator, &s).expect_code(0);
    assert_eq!(writes_since(&emulator, before), ["PUT exai-perso-aks"]);
    plan(&emulator, &s, &["--detailed-exitcode"]).expect_code(0);
}

#[test]
fn an_add_on_enabled_with_az_is_observed_and_kept_while_the_spec_does_not_mention_it() {
    let emulator = InProcessEmulator::start();
    let s = scratch(&spec(""));
    apply(&emulator, &s).expect_code(0);
    enable_with_az(&emulator);
    let identity = live_cluster(&emulator)["properties"]["ingressProfile"]["webAppRouting"]["identity"].clone();
    assert!(identity["objectId"].is_string(), "{identity:#}");

    // Not a change: shown as observed, so a reviewer knows the controller is there.
    assert_run!(
        "app_routing_enabled_with_az_observed",
        Filters::default(),
        plan(&emulator, &s, &["--detailed-exitcode"])
    );
    let change = cluster_change(&emulator, &s);
    assert_eq!(change["action"], "no-op");
    assert_eq!(change["observed"][Cluster::APP_ROUTING_FIELD], true);

    // A change of another field writes the cluster back with the add-on as it is.
    s.write_spec(&spec("").replace("count: 1", "count: 2"));
    let change = cluster_change(&emulator, &s);
    assert_eq!(change["diffs"].as_array().map(Vec::len), Some(1), "{change:#}");
    apply(&emulator, &s).expect_code(0);
    let routing = live_cluster(&emulator)["properties"]["ingressProfile"]["webAppRouting"].clone();
    assert_eq!(routing["enabled"], true, "exai disabled an add-on it does not manage");
    assert_eq!(routing["identity"], identity, "the add-on was recreated");
    plan(&emulator, &s, &["--detailed-exitcode"]).expect_code(0);

    // Saying `false` is what disables it.
    s.write_spec(&spec(OFF).replace("count: 1", "count: 2"));
    let change = cluster_change(&emulator, &s);
    assert_eq!(change["diffs"], json!([{"path": Cluster::APP_ROUTING_FIELD, "before": true, "after": false}]));
    assert!(change["observed"].get(Cluster::APP_ROUTING_FIELD).is_none(), "{change:#}");
    apply(&emulator, &s).expect_code(0);
    assert_eq!(live_cluster(&emulator)["properties"]["ingressProfile"]["webAppRouting"]["enabled"], false);
    plan(&emulator, &s, &["--detailed-exitcode"]).expect_code(0);
}
