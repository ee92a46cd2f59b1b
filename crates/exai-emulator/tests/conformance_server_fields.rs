//! Conformance tests of the server-filled fields a client's read-modify-write must survive,
//! each from the official swagger: `systemData` (common-types `systemData`, on the types whose
//! definitions carry it, and not on resource groups), the cluster's `resourceUID` and
//! `oidcIssuerProfile.issuerURL` (`managedClusters.json` 2026-08-01), and a data collection
//! rule's `destinations.logAnalytics[].workspaceId` (`dataCollectionRules_API.json`).

use std::error::Error;
use std::time::Duration;

use exai_emulator::{Clock, DEV_CLIENT_ID, DEV_SUBSCRIPTION_ID, EmulatorOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{Harness, TestResult, keys, set};

const PREFIX: &str = "subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/rg/providers";

fn path(resource: &str, api: &str) -> String {
    format!("{PREFIX}/{resource}?api-version={api}")
}

fn cluster(name: &str) -> String {
    path(&format!("Microsoft.ContainerService/managedClusters/{name}"), "2026-08-01")
}

fn cluster_body(version: &str) -> Value {
    json!({
        "location": "francecentral",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "kubernetesVersion": version,
            "dnsPrefix": "exai-perso",
            "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_B2s", "mode": "System"}],
        }
    })
}

/// PUTs `body` at `path`, waits for the operation when there is one, and returns the GET.
async fn put(harness: &Harness, path: &str, body: Value) -> Result<Value, Box<dyn Error>> {
    let reply = harness.arm(Method::PUT, path, Some(body)).await?;
    assert!(reply.status.is_success(), "{}", reply.text);
    if reply.header("azure-asyncoperation").is_some() {
        assert_eq!(harness.wait(&reply).await?["status"], "Succeeded");
    }
    let got = harness.arm(Method::GET, path, None).await?;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    Ok(got.json())
}

fn parse_time(value: &Value) -> Result<time::OffsetDateTime, Box<dyn Error>> {
    let text = value.as_str().ok_or("not a string")?;
    Ok(time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)?)
}

#[tokio::test]
async fn stamps_system_data_on_each_write_of_the_types_that_carry_it() -> TestResult {
    let clock = Clock::manual();
    let harness = Harness::start_with_clock(EmulatorOptions::default(), clock.clone()).await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let workspace = path("Microsoft.OperationalInsights/workspaces/logs", "2026-03-01");
    let registry = path("Microsoft.ContainerRegistry/registries/exaiacr01", "2025-11-01");
    let rule = path("Microsoft.Insights/dataCollectionRules/rule", "2022-06-01");
    let workspace_body = put(&harness, &workspace, json!({"location": "francecentral"})).await?;
    let registry_body =
        put(&harness, &registry, json!({"location": "francecentral", "sku": {"name": "Standard"}})).await?;
    let rule_body = put(&harness, &rule, json!({"location": "francecentral", "properties": {}})).await?;
    let cluster_body_got = put(&harness, &cluster("aks"), cluster_body("")).await?;
    let association = format!(
        "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/ContainerInsightsExtension?api-version=2022-06-01",
        cluster_body_got["id"].as_str().ok_or("no id")?.trim_start_matches('/')
    );
    let association_body =
        put(&harness, &association, json!({"properties": {"dataCollectionRuleId": rule_body["id"]}})).await?;

    // The clock stood still: every write happened at the same instant.
    let created_at = workspace_body["systemData"]["createdAt"].clone();
    parse_time(&created_at)?;
    let created = json!({
        "createdBy": DEV_CLIENT_ID,
        "createdByType": "Application",
        "createdAt": created_at,
        "lastModifiedBy": DEV_CLIENT_ID,
        "lastModifiedByType": "Application",
        "lastModifiedAt": created_at,
    });
    for body in [&workspace_body, &registry_body, &rule_body, &cluster_body_got, &association_body] {
        assert_eq!(body["systemData"], created, "{}", body["type"]);
    }
    // `ResourceGroup` (resources.json 2025-04-01) has no `systemData`.
    let group = harness
        .arm(
            Method::GET,
            &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/rg?api-version=2025-04-01"),
            None,
        )
        .await?;
    assert_eq!(keys(&group.json()), set(&["id", "name", "type", "location", "properties"]));

    // A later write keeps who created it and when, and records the change; a `systemData`
    // a client sends is read-only and ignored.
    clock.advance(Duration::from_secs(90));
    let patched = harness.arm(Method::PATCH, &cluster("aks"), Some(json!({"tags": {"tier": "platform"}}))).await?;
    assert_eq!(harness.wait(&patched).await?["status"], "Succeeded");
    let mut forged = json!({"location": "francecentral", "properties": {}});
    forged["systemData"] = json!({"createdBy": "someone", "createdAt": "2001-01-01T00:00:00Z"});
    let rule_after = put(&harness, &rule, forged).await?;
    let cluster_after = harness.arm(Method::GET, &cluster("aks"), None).await?.json();
    for body in [&cluster_after, &rule_after] {
        let data = &body["systemData"];
        assert_eq!(data["createdAt"], created["createdAt"], "{}", body["type"]);
        assert_eq!(data["createdBy"], DEV_CLIENT_ID);
        let elapsed = parse_time(&data["lastModifiedAt"])? - parse_time(&created_at)?;
        assert_eq!(elapsed, time::Duration::seconds(90), "{}", body["type"]);
        assert_eq!(data["lastModifiedBy"], DEV_CLIENT_ID);
    }
    Ok(())
}

#[tokio::test]
async fn answers_a_cluster_s_resource_uid_kept_by_updates_and_new_for_each_creation() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let first = put(&harness, &cluster("aks"), cluster_body("")).await?;
    let uid = first["properties"]["resourceUID"].as_str().ok_or("no resourceUID")?.to_owned();
    assert!(uid.len() == 24 && uid.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{uid}");

    // An update keeps it, even when the body sends another (it is read-only).
    let mut update = cluster_body("");
    update["properties"]["resourceUID"] = json!("000000000000000000000000");
    let updated = put(&harness, &cluster("aks"), update).await?;
    assert_eq!(updated["properties"]["resourceUID"], uid);

    // Deleted and created again under the same id, it is another cluster.
    let deleted = harness.arm(Method::DELETE, &cluster("aks"), None).await?;
    harness.follow(deleted.header("location").ok_or("no Location")?).await?;
    let again = put(&harness, &cluster("aks"), cluster_body("")).await?;
    assert_ne!(again["properties"]["resourceUID"], uid);
    Ok(())
}

#[tokio::test]
async fn answers_the_oidc_issuer_as_aks_does_by_version_and_never_disables_it() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let tenant = exai_emulator::DEV_TENANT_ID;

    // Below Kubernetes 1.34 the issuer is off unless asked for, and has no URL.
    let old = put(&harness, &cluster("old"), cluster_body("1.33")).await?;
    assert_eq!(old["properties"]["oidcIssuerProfile"], json!({"enabled": false}));

    // From 1.34 it is on by default, with its URL.
    let new = put(&harness, &cluster("new"), cluster_body("1.34")).await?;
    let profile = &new["properties"]["oidcIssuerProfile"];
    assert_eq!(keys(profile), set(&["enabled", "issuerURL"]));
    assert_eq!(profile["enabled"], true);
    let url = profile["issuerURL"].as_str().ok_or("no issuerURL")?.to_owned();
    let guid = url
        .strip_prefix(&format!("https://francecentral.oic.prod-aks.azure.com/{tenant}/"))
        .and_then(|rest| rest.strip_suffix('/'))
        .ok_or(url.clone())?;
    assert!(common::is_guid(&json!(guid)), "{url}");

    // Enabled on the old cluster, it gets a URL; an update that leaves the profile out, or
    // echoes it with another URL, keeps it; disabling it is refused.
    let mut enable = cluster_body("1.33");
    enable["properties"]["oidcIssuerProfile"] = json!({"enabled": true});
    let enabled = put(&harness, &cluster("old"), enable).await?;
    let old_url = enabled["properties"]["oidcIssuerProfile"]["issuerURL"].clone();
    assert!(old_url.as_str().is_some_and(|url| url.starts_with("https://francecentral.oic.prod-aks.azure.com/")));
    assert_ne!(old_url, json!(url));
    let kept = put(&harness, &cluster("old"), cluster_body("1.33")).await?;
    assert_eq!(kept["properties"]["oidcIssuerProfile"], json!({"enabled": true, "issuerURL": old_url}));
    let mut echoed = cluster_body("1.33");
    echoed["properties"]["oidcIssuerProfile"] = json!({"enabled": true, "issuerURL": "https://elsewhere/"});
    let kept = put(&harness, &cluster("old"), echoed).await?;
    assert_eq!(kept["properties"]["oidcIssuerProfile"]["issuerURL"], old_url);
    let mut disable = cluster_body("1.33");
    disable["properties"]["oidcIssuerProfile"] = json!({"enabled": false});
    harness
        .arm(Method::PUT, &cluster("old"), Some(disable))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidParameter");
    Ok(())
}

#[tokio::test]
async fn fills_each_log_analytics_destination_with_its_workspace_customer_id() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let workspace = put(
        &harness,
        &path("Microsoft.OperationalInsights/workspaces/logs", "2026-03-01"),
        json!({"location": "francecentral"}),
    )
    .await?;
    let customer_id = workspace["properties"]["customerId"].clone();
    assert!(common::is_guid(&customer_id));
    // The az CLI's body, with a `workspaceId` sent too: it is read-only, so replaced; a
    // destination naming no workspace the emulator holds gets none.
    let rule = json!({"location": "francecentral", "kind": "Linux", "properties": {
    "dataFlows": [{"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["la-workspace"]}],
    "destinations": {"logAnalytics": [
        {"workspaceResourceId": workspace["id"], "name": "la-workspace", "workspaceId": "forged"},
        {"workspaceResourceId": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/gone"), "name": "other"}
    ]}}});
    let rule_path = path("Microsoft.Insights/dataCollectionRules/rule", "2022-06-01");
    let got = put(&harness, &rule_path, rule).await?;
    assert_eq!(
        got["properties"]["destinations"]["logAnalytics"],
        json!([
            {"workspaceResourceId": workspace["id"], "name": "la-workspace", "workspaceId": customer_id},
            {"workspaceResourceId": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/gone"), "name": "other"}
        ])
    );
    Ok(())
}
