//! Objects written with other clients' api-versions (az 2.91's: resource groups 2024-11-01,
//! registries 2026-09-01-preview, workspaces 2015-11-01-preview) are served by the emulator and
//! adopted by exai, which reads them in its own versions: no replacement, no duplicate.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use exai_model::{ApiRequest, Method};
use serde_json::{Value, json};

const SPEC: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: { name: exai-az-rg }
    registry: { name: exaiazacr, sku: Standard }
";

fn group() -> String {
    format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-az-rg")
}

/// Sends `request` as someone other than exai (as az would); returns the answer.
fn someone(emulator: &InProcessEmulator, request: ApiRequest) -> Option<Value> {
    let azure = emulator.someone_else();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(azure.execute(&request)).unwrap()
}

fn exai(s: &Scratch, emulator: &InProcessEmulator, args: &[&str]) -> Run {
    let mut all = args.to_vec();
    all.extend(["-f", "exai.yaml"]);
    s.run_against(emulator, &all)
}

#[test]
fn objects_written_in_az_versions_are_adopted_without_replacement() {
    let emulator = InProcessEmulator::start();
    // What `az group create` and `az acr create --sku Standard` send (az 2.91's api-versions).
    someone(&emulator, ApiRequest::arm(Method::Put, group(), "2024-11-01", Some(json!({"location": "francecentral"}))));
    let registry = format!("{}/providers/Microsoft.ContainerRegistry/registries/exaiazacr", group());
    let created = someone(
        &emulator,
        ApiRequest::arm(
            Method::Put,
            &registry,
            "2026-09-01-preview",
            Some(json!({"location": "francecentral", "sku": {"name": "Standard"}, "properties": {"adminUserEnabled": false}})),
        ),
    )
    .unwrap();
    assert_eq!(created["properties"]["regionalEndpoints"], "Disabled", "the preview answers its own members");
    // The monitoring add-on's default workspace, as az creates it through the generic client.
    let workspace = format!("{}/providers/Microsoft.OperationalInsights/workspaces/exai-az-logs", group());
    let body = json!({"location": "francecentral", "properties": {"sku": {"name": "standalone"}}});
    let answered =
        someone(&emulator, ApiRequest::arm(Method::Put, &workspace, "2015-11-01-preview", Some(body))).unwrap();
    assert!(answered.get("systemData").is_none(), "2015-11-01-preview has no systemData: {answered}");

    // exai reads them in its own versions and plans to adopt, not to recreate.
    let mut s = Scratch::with_spec(SPEC);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    let before = emulator.emulator.requests().len();
    assert_run!("plan", Filters::default().scratch(&s), exai(&s, &emulator, &["plan"]));
    exai(&s, &emulator, &["apply", "--auto-approve"]).expect_code(0);
    let writes = emulator.arm_writes_since(before);
    assert!(writes.iter().all(|(write, _)| write.starts_with("PATCH ") || write.starts_with("PUT ")), "{writes:?}");
    assert!(!writes.iter().any(|(write, _)| write.starts_with("DELETE ")), "{writes:?}");
    exai(&s, &emulator, &["plan", "--detailed-exitcode"]).expect_code(0);
}
