//! Azure RBAC as the emulator enforces it, through the real binary: a principal made with the
//! emulator's `POST /_emulator/principals`, signed in with its client secret, is refused what
//! its roles do not grant, and exai shows Azure's refusal.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use serde_json::{Value, json};

const SPEC: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
  tags: { project: exai }
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    registry: { name: exaipersoacr, sku: Standard }
";

/// Creates a principal holding `role` at the subscription through the emulator's admin route;
/// returns the route's answer (`appId`, `objectId`, `tenantId`, `clientSecret`).
fn principal(emulator: &InProcessEmulator, name: &str, role: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ca = reqwest::Certificate::from_pem(emulator.emulator.ca_certificate_pem().as_bytes()).unwrap();
    let body = json!({"displayName": name, "roles": [{"role": role, "scope": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}")}]});
    runtime.block_on(async {
        let client = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
        let url = format!("{}_emulator/principals", emulator.emulator.url());
        let reply = client.post(url).header("content-type", "application/json").body(body.to_string()).send();
        let reply = reply.await.unwrap();
        assert_eq!(reply.status(), 201);
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap()
    })
}

#[test]
fn a_reader_s_apply_is_refused_by_azure_before_anything_is_written() {
    let emulator = InProcessEmulator::start();
    let reader = principal(&emulator, "ci-planner", "Reader");
    let text = |member: &str| reader[member].as_str().unwrap().to_owned();
    assert_eq!(text("tenantId"), DEV_TENANT_ID);
    let mut s = Scratch::with_spec(SPEC);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID)
        .env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID)
        .env("AZURE_CLIENT_ID", &text("appId"))
        .env("AZURE_CLIENT_SECRET", &text("clientSecret"));

    let before = emulator.emulator.requests().len();
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    run.expect_code(1);
    assert!(!run.stderr.contains(&text("clientSecret")), "the secret is never shown");
    let filters = Filters::default()
        .scratch(&s)
        .literal(&text("appId"), "[reader app id]")
        .literal(&text("objectId"), "[reader object id]");
    assert_run!(filters, run);

    // Azure refused the first write; nothing was written.
    let writes: Vec<(String, u16)> = emulator
        .emulator
        .requests()
        .into_iter()
        .skip(before)
        .filter(|r| r.is_write() && r.kind == exai_emulator::RequestKind::Arm)
        .map(|r| (format!("{} {}", r.method, r.path), r.status))
        .collect();
    assert!(!writes.is_empty(), "exai tried to write");
    assert!(writes.iter().all(|(_, status)| *status == 403), "{writes:#?}");
}
