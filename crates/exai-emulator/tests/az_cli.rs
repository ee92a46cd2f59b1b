//! What Azure's CLI needs of the emulator beyond the resource providers (issue 15): cloud
//! discovery without a token, the development subscription listed from the first request, a
//! subscription's locations, the emulator's own origin as Microsoft Graph's audience, paths with
//! a doubled leading slash, and the server defaults AKS fills in for what `az aks create` sends.
//! The end-to-end run of `az` itself is `crates/exai-cli/tests/e2e/az_cli.rs`.

use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{ARM_SCOPE, Harness, TestResult};

/// Returns the emulator's origin without its trailing slash (`https://127.0.0.1:PORT`).
fn origin(harness: &Harness) -> String {
    harness.emulator.url().as_str().trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn cloud_discovery_needs_no_token_and_points_at_the_emulator() -> TestResult {
    let harness = Harness::new().await?;
    let own = format!("{}/", origin(&harness));

    // What `az cloud register --endpoint-resource-manager URL/` fetches: URL + "/metadata/...".
    let reply = harness.send(harness.client.get(format!("{own}/metadata/endpoints?api-version=2022-09-01"))).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let cloud = reply.json();
    assert_eq!(
        cloud,
        json!({
            "name": "ExaiEmulator",
            "portal": own,
            "authentication": {
                "loginEndpoint": own,
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
                "tenant": "common",
                "identityProvider": "AAD",
            },
            "resourceManager": own,
            "microsoftGraphResourceId": own,
            "graph": own,
            "graphAudience": own,
            "suffixes": {
                "acrLoginServer": "azurecr.io",
                "keyVaultDns": "vault.azure.net",
                "storage": "core.windows.net",
                "sqlServerHostname": "database.windows.net",
            },
        })
    );

    // 2019-05-01: every cloud ARM knows, as an array.
    let reply = harness.send_as(Method::GET, "metadata/endpoints?api-version=2019-05-01", None, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!([cloud]));

    // 2015-01-01: the flat shape.
    let reply = harness.send_as(Method::GET, "METADATA/Endpoints?api-version=2015-01-01", None, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({
            "galleryEndpoint": own,
            "graphEndpoint": own,
            "portalEndpoint": own,
            "authentication": {
                "loginEndpoint": own,
                "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            },
        })
    );

    let reply = harness.send_as(Method::GET, "metadata/endpoints?api-version=2099-01-01", None, None).await?;
    let message = reply.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidApiVersionParameter");
    assert_eq!(
        message,
        "The api-version '2099-01-01' is invalid. The supported versions are '2022-09-01,2019-05-01,2015-01-01'."
    );
    let reply = harness.send_as(Method::GET, "metadata/endpoints", None, None).await?;
    reply.assert_arm_error(StatusCode::BAD_REQUEST, "MissingApiVersionParameter");
    let reply = harness.send_as(Method::POST, "metadata/endpoints?api-version=2022-09-01", None, None).await?;
    reply.assert_arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed");
    Ok(())
}

#[tokio::test]
async fn the_development_subscription_is_listed_from_the_first_request() -> TestResult {
    let harness = Harness::new().await?;
    // No request has named the subscription yet: `az login` lists subscriptions first thing.
    let reply = harness.arm(Method::GET, "subscriptions?api-version=2022-12-01", None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let listed: Vec<(Value, Value)> = reply.json()["value"]
        .as_array()
        .ok_or("no value")?
        .iter()
        .map(|subscription| (subscription["subscriptionId"].clone(), subscription["tenantId"].clone()))
        .collect();
    assert_eq!(listed, [(json!(DEV_SUBSCRIPTION_ID), json!(DEV_TENANT_ID))]);

    // A reset goes back to a new emulator's state: the subscription is there again.
    let reply = harness.admin(Method::POST, "reset", None).await?;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let reply = harness.arm(Method::GET, "subscriptions?api-version=2022-12-01", None).await?;
    assert_eq!(reply.json()["value"][0]["subscriptionId"], DEV_SUBSCRIPTION_ID, "{}", reply.text);

    // Another tenant's application sees none of it.
    let other = harness.token_for("ee000000-0000-4000-8000-0000000000ff", ARM_SCOPE).await?;
    let reply = harness.send_as(Method::GET, "subscriptions?api-version=2022-12-01", Some(&other), None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["value"], json!([]));
    Ok(())
}

#[tokio::test]
async fn a_subscription_lists_the_regions_the_emulator_accepts() -> TestResult {
    let harness = Harness::new().await?;
    // What `az aks create --enable-addons monitoring` reads to map display names to names.
    let path = format!("subscriptions/{DEV_SUBSCRIPTION_ID}/locations?api-version=2019-11-01");
    let reply = harness.arm(Method::GET, &path, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    let locations = body["value"].as_array().ok_or("no value")?;
    assert_eq!(locations.len(), 43);
    let france = locations.iter().find(|location| location["name"] == "francecentral").ok_or("no francecentral")?;
    assert_eq!(
        france,
        &json!({
            "id": format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/locations/francecentral"),
            "subscriptionId": DEV_SUBSCRIPTION_ID,
            "name": "francecentral",
            "displayName": "France Central",
            "regionalDisplayName": "(Europe) France Central",
            "metadata": {"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": "Europe"},
        })
    );

    // From 2021-01-01 on, a location says it is a region.
    let path = format!("subscriptions/{DEV_SUBSCRIPTION_ID}/locations?api-version=2022-12-01");
    let reply = harness.arm(Method::GET, &path, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.json()["value"].as_array().ok_or("no value")?.iter().all(|location| location["type"] == "Region"));

    let path = format!("subscriptions/{DEV_SUBSCRIPTION_ID}/locations?api-version=2099-01-01");
    harness
        .arm(Method::GET, &path, None)
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidApiVersionParameter");
    Ok(())
}

#[tokio::test]
async fn graph_takes_tokens_for_the_emulators_own_origin() -> TestResult {
    let harness = Harness::new().await?;
    let own = origin(&harness);
    // azure-cli asks for `<microsoftGraphResourceId>/.default`, the resource id ending in `/`.
    for scope in [format!("{own}/.default"), format!("{own}//.default")] {
        let token = harness.token_for(DEV_TENANT_ID, &scope).await?;
        let reply = harness.graph(Method::GET, "v1.0/applications", &token, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{scope}: {}", reply.text);
        // It is a Graph token, not an ARM one.
        let path = format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups?api-version=2025-04-01");
        let reply = harness.send_as(Method::GET, &path, Some(&token), None).await?;
        reply.assert_arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationTokenAudience");
    }
    // Another origin is no resource the emulator knows.
    let reply = harness
        .client_credentials(
            DEV_TENANT_ID,
            &[
                ("client_id", exai_emulator::DEV_CLIENT_ID),
                ("client_secret", exai_emulator::DEV_CLIENT_SECRET),
                ("scope", "https://127.0.0.1:1//.default"),
            ],
        )
        .await?;
    reply.assert_entra_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011);
    // An ARM token is no Graph token.
    let arm = harness.arm_token().await?;
    let reply = harness.graph(Method::GET, "v1.0/applications", &arm, None).await?;
    reply.assert_graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    Ok(())
}

#[tokio::test]
async fn what_az_aks_create_leaves_empty_aks_fills_in() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let path = format!(
        "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks?api-version=2026-08-01"
    );
    // What `az aks create` 2.91 sends for the pool when no `--kubernetes-version` is given.
    let body = json!({
        "location": "francecentral",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "kubernetesVersion": "",
            "dnsPrefix": "exai-perso-exai-perso-rg-ee0000",
            "agentPoolProfiles": [{
                "name": "nodepool1", "count": 1, "vmSize": "Standard_B2s", "osType": "Linux",
                "mode": "System", "type": "VirtualMachineScaleSets", "orchestratorVersion": "",
                "upgradeSettings": {},
            }],
            "storageProfile": {},
        }
    });
    let created = harness.arm(Method::PUT, &path, Some(body)).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    harness.wait(&created).await?;
    let cluster = harness.arm(Method::GET, &path, None).await?.json();
    let version = cluster.pointer("/properties/kubernetesVersion").ok_or("no kubernetesVersion")?;
    assert!(version.as_str().is_some_and(|version| !version.is_empty()), "{version}");
    assert_eq!(cluster.pointer("/properties/agentPoolProfiles/0/orchestratorVersion"), Some(version));
    // Empty settings get AKS's defaults.
    assert_eq!(cluster.pointer("/properties/agentPoolProfiles/0/upgradeSettings"), Some(&json!({"maxSurge": "10%"})));
    assert_eq!(
        cluster.pointer("/properties/storageProfile"),
        Some(&json!({
            "diskCSIDriver": {"enabled": true},
            "fileCSIDriver": {"enabled": true},
            "snapshotController": {"enabled": true},
        }))
    );
    Ok(())
}
