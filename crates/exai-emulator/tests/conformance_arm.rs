//! Conformance tests of the emulator's resource providers (registries, Log Analytics, data
//! collection rules, managed clusters, role assignments): a real emulator on `127.0.0.1:0`,
//! spoken to over HTTPS, checked against the official examples copied into
//! `tests/fixtures/arm-examples/` (see its SOURCES.md) and the facts they come with.

use std::collections::BTreeSet;
use std::error::Error;
use std::time::Duration;

use exai_emulator::{Clock, DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{Harness, TestResult, example, is_guid, keys, set, shape};

const OTHER_SUBSCRIPTION: &str = "ee000000-0000-4000-8000-0000000000aa";
const ACR_API: &str = "api-version=2025-11-01";
const AKS_API: &str = "api-version=2026-08-01";
const LA_API: &str = "api-version=2026-03-01";
const DCR_API: &str = "api-version=2022-06-01";
const AUTH_API: &str = "api-version=2022-04-01";
const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

fn registry_path(subscription: &str, group: &str, name: &str) -> String {
    format!(
        "subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerRegistry/registries/{name}?{ACR_API}"
    )
}

/// The member paths of `systemData`, which the official examples leave out but the swagger
/// definitions carry (`TrackedResource` of common-types v6 for registries, `Workspace`, and the
/// data collection resources; see the emulator's `arm/system_data.rs`).
fn system_data_shape() -> Vec<String> {
    let members = ["createdBy", "createdByType", "createdAt", "lastModifiedBy", "lastModifiedByType", "lastModifiedAt"];
    std::iter::once("systemData".to_owned()).chain(members.iter().map(|m| format!("systemData.{m}"))).collect()
}

fn cluster_path(name: &str) -> String {
    format!(
        "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/{name}?{AKS_API}"
    )
}

/// The body `az aks create` sends for the exai recipe (docs/azure-facts.md §3).
fn cluster_body(workspace_id: &str) -> Value {
    json!({
        "location": "francecentral",
        "identity": {"type": "SystemAssigned"},
        "properties": {
            "kubernetesVersion": "",
            "dnsPrefix": "exai-perso-rg-ee0000",
            "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_B2s", "osType": "Linux", "mode": "System", "type": "VirtualMachineScaleSets"}],
            "linuxProfile": {"adminUsername": "azureuser", "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAAA"}]}},
            "addonProfiles": {"omsagent": {"enabled": true, "config": {"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"}}},
            "enableRBAC": true
        }
    })
}

/// Creates `rg` and the cluster `aks` in it and returns the cluster's GET body.
async fn create_cluster(harness: &Harness) -> Result<Value, Box<dyn Error>> {
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let created = harness.arm(Method::PUT, &cluster_path("aks"), Some(cluster_body("/subscriptions/x/ws"))).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(harness.wait(&created).await?["status"], "Succeeded");
    let got = harness.arm(Method::GET, &cluster_path("aks"), None).await?;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    Ok(got.json())
}

#[tokio::test]
async fn runs_a_registry_through_its_long_running_lifecycle() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let path = registry_path(DEV_SUBSCRIPTION_ID, "rg", "ExaiAcr01");
    let body =
        json!({"location": "francecentral", "sku": {"name": "Standard"}, "properties": {"adminUserEnabled": false}});

    let created = harness.arm(Method::PUT, &path, Some(body.clone())).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json()["properties"]["provisioningState"], "Creating");
    assert_eq!(created.header("retry-after"), Some("0"));
    let status_url = created.header("azure-asyncoperation").ok_or("no Azure-AsyncOperation")?;
    assert!(status_url.contains(&format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.ContainerRegistry/locations/francecentral/operationStatuses/")), "{status_url}");
    let status = harness.wait(&created).await?;
    assert_eq!(status["status"], "Succeeded");
    assert_eq!(keys(&status), set(&["id", "name", "status", "startTime", "endTime", "percentComplete"]));

    let got = harness.arm(Method::GET, &path, None).await?;
    assert_eq!(got.status, StatusCode::OK);
    let registry = got.json();
    let official = &example("registries-get.json")?["responses"]["200"]["body"];
    let mut expected = shape(official);
    expected.retain(|path| !path.starts_with("tags"));
    expected.extend(system_data_shape());
    assert_eq!(shape(&registry), expected, "{registry:#}");
    assert_eq!(registry["properties"]["loginServer"], "exaiacr01.azurecr.io");
    assert_eq!(registry["sku"], json!({"name": "Standard", "tier": "Standard"}));
    assert_eq!(registry["properties"]["provisioningState"], "Succeeded");
    assert_eq!(registry["name"], "ExaiAcr01");
    for member in
        ["networkRuleSet", "policies", "encryption", "publicNetworkAccess", "zoneRedundancy", "roleAssignmentMode"]
    {
        if member != "policies" {
            assert_eq!(registry["properties"][member], official["properties"][member], "{member}");
        }
    }

    let patched =
        harness.arm(Method::PATCH, &path, Some(json!({"sku": {"name": "Premium"}, "tags": {"env": "dev"}}))).await?;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json()["properties"]["provisioningState"], "Updating");
    assert_eq!(harness.wait(&patched).await?["status"], "Succeeded");
    let listed = harness
        .arm(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries?{ACR_API}"), None)
        .await?;
    assert_eq!(listed.json()["value"][0]["sku"]["tier"], "Premium");
    assert_eq!(listed.json()["value"][0]["tags"], json!({"env": "dev"}));

    // The az CLI finds a registry by name through the generic resource list.
    let generic = harness
        .arm(
            Method::GET,
            &format!(
                "subscriptions/{DEV_SUBSCRIPTION_ID}/resources?$filter=resourceType%20eq%20%27Microsoft.ContainerRegistry%2Fregistries%27&api-version=2025-04-01"
            ),
            None,
        )
        .await?;
    assert_eq!(generic.status, StatusCode::OK, "{}", generic.text);
    assert_eq!(keys(&generic.json()["value"][0]), set(&["id", "name", "type", "sku", "location", "tags"]));
    assert_eq!(generic.json()["value"][0]["name"], "ExaiAcr01");

    let unknown = harness
        .arm(
            Method::PUT,
            &registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr02"),
            Some(json!({"location": "francecentral", "sku": {"name": "Standard"}, "properties": {"bogus": 1}})),
        )
        .await?;
    unknown.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidRequestContent");
    let short = harness.arm(Method::PUT, &registry_path(DEV_SUBSCRIPTION_ID, "rg", "acr"), Some(body.clone())).await?;
    short.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidResourceName");

    let deleted = harness.arm(Method::DELETE, &path, None).await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.text);
    let location = deleted.header("location").ok_or("no Location")?;
    assert!(location.contains("/operationResults/"), "{location}");
    assert_eq!(harness.follow(location).await?.status, StatusCode::NO_CONTENT);
    harness.arm(Method::GET, &path, None).await?.assert_arm_error(StatusCode::NOT_FOUND, "ResourceNotFound");
    assert_eq!(harness.arm(Method::DELETE, &path, None).await?.status, StatusCode::NO_CONTENT);
    Ok(())
}

#[tokio::test]
async fn keeps_registry_names_unique_across_subscriptions() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    harness.group(OTHER_SUBSCRIPTION, "other").await?;
    let body = json!({"location": "francecentral", "sku": {"name": "Basic"}});
    let harness_ref = &harness;
    let check = |subscription: &str, name: &str| {
        let path = format!(
            "subscriptions/{subscription}/providers/Microsoft.ContainerRegistry/checkNameAvailability?{ACR_API}"
        );
        let body = json!({"name": name, "type": "Microsoft.ContainerRegistry/registries"});
        async move { harness_ref.arm(Method::POST, &path, Some(body)).await }
    };

    let available = check(OTHER_SUBSCRIPTION, "exaiacr01").await?;
    assert_eq!(available.status, StatusCode::OK);
    assert_eq!(
        available.json(),
        example("registries-checknameavailability-available.json")?["responses"]["200"]["body"]
    );

    let created =
        harness.arm(Method::PUT, &registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr01"), Some(body.clone())).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    let taken = check(OTHER_SUBSCRIPTION, "ExaiAcr01").await?;
    let official = &example("registries-checknameavailability-notavailable.json")?["responses"]["200"]["body"];
    assert_eq!(keys(&taken.json()), keys(official));
    assert_eq!(taken.json()["reason"], "AlreadyExists");
    assert_eq!(taken.json()["message"], "The registry ExaiAcr01 is already in use.");

    let clash =
        harness.arm(Method::PUT, &registry_path(OTHER_SUBSCRIPTION, "other", "EXAIACR01"), Some(body.clone())).await?;
    let message = clash.assert_arm_error(StatusCode::CONFLICT, "AlreadyInUse");
    assert!(message.starts_with("The registry DNS name exaiacr01.azurecr.io is already in use."), "{message}");

    let wrong_type = harness
        .arm(Method::POST, &format!("subscriptions/{OTHER_SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/checkNameAvailability?{ACR_API}"), Some(json!({"name": "abcde", "type": "Microsoft.Storage/storageAccounts"})))
        .await?;
    wrong_type.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidParameter");
    Ok(())
}

#[tokio::test]
async fn shows_running_operations_and_refuses_concurrent_writes() -> TestResult {
    let clock = Clock::manual();
    let options = EmulatorOptions { operation_delay: Duration::from_secs(600), ..Default::default() };
    let harness = Harness::start_with_clock(options, clock.clone()).await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let created = harness.arm(Method::PUT, &cluster_path("aks"), Some(cluster_body("/subscriptions/x/ws"))).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("retry-after"), Some("600"));
    let body = created.json();
    assert_eq!(body["properties"]["provisioningState"], "Creating");
    assert_eq!(body["properties"]["agentPoolProfiles"][0]["provisioningState"], "Creating");

    let status = harness.follow(created.header("azure-asyncoperation").ok_or("no header")?).await?;
    assert_eq!(status.json()["status"], "InProgress");
    assert_eq!(keys(&status.json()), set(&["id", "name", "status", "startTime"]));
    assert!(status.header("retry-after").is_some());

    let got = harness.arm(Method::GET, &cluster_path("aks"), None).await?;
    assert_eq!(got.json()["properties"]["provisioningState"], "Creating");
    let again = harness.arm(Method::PUT, &cluster_path("aks"), Some(cluster_body("/subscriptions/x/ws"))).await?;
    again.assert_arm_error(StatusCode::CONFLICT, "AnotherOperationInProgress");
    let delete = harness.arm(Method::DELETE, &cluster_path("aks"), None).await?;
    delete.assert_arm_error(StatusCode::CONFLICT, "AnotherOperationInProgress");

    // The operation ends when the clock reaches its end, not a moment before.
    let operation = created.header("azure-asyncoperation").ok_or("no header")?;
    clock.advance(Duration::from_secs(599));
    assert_eq!(harness.follow(operation).await?.json()["status"], "InProgress");
    clock.advance(Duration::from_secs(1));
    assert_eq!(harness.follow(operation).await?.json()["status"], "Succeeded");
    let got = harness.arm(Method::GET, &cluster_path("aks"), None).await?;
    assert_eq!(got.json()["properties"]["provisioningState"], "Succeeded");

    // A delete of a finished resource shows `Deleting` until its operation ends.
    let registry = registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr01");
    harness.arm(Method::PUT, &registry, Some(json!({"location": "francecentral", "sku": {"name": "Basic"}}))).await?;
    let unknown = harness.follow(&harness.url(&format!("subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.ContainerRegistry/locations/francecentral/operationStatuses/00000000-0000-4000-8000-000000000000?{ACR_API}"))).await?;
    unknown.assert_arm_error(StatusCode::NOT_FOUND, "OperationNotFound");
    Ok(())
}

#[tokio::test]
async fn serves_a_cluster_with_every_server_filled_field() -> TestResult {
    let harness = Harness::new().await?;
    let cluster = create_cluster(&harness).await?;
    let properties = &cluster["properties"];

    // Every member of the official GET example that is not specific to its request is there.
    let official = shape(&example("managedclusters-get.json")?["responses"]["200"]["body"]);
    let ours = shape(&cluster);
    let specific = [
        "tags",
        "properties.diskEncryptionSetID",
        "properties.upgradeSettings",
        "properties.agentPoolProfiles.[].availabilityZones",
        "properties.networkProfile.loadBalancerProfile.outboundIPs",
    ];
    let missing: Vec<&String> = official
        .iter()
        .filter(|path| !specific.iter().any(|prefix| path.starts_with(prefix)) && !ours.contains(*path))
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {cluster:#}");

    let fqdn = properties["fqdn"].as_str().ok_or("no fqdn")?;
    let hash = fqdn
        .strip_prefix("exai-perso-rg-ee0000-")
        .and_then(|rest| rest.strip_suffix(".hcp.francecentral.azmk8s.io"))
        .ok_or(fqdn.to_owned())?;
    assert!(hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{fqdn}");
    assert_eq!(
        properties["azurePortalFQDN"],
        format!("exai-perso-rg-ee0000-{hash}.portal.hcp.francecentral.azmk8s.io")
    );
    assert_eq!(properties["nodeResourceGroup"], "MC_rg_aks_francecentral");
    assert_eq!(properties["provisioningState"], "Succeeded");
    assert_eq!(properties["powerState"], json!({"code": "Running"}));
    assert_eq!(properties["kubernetesVersion"], properties["currentKubernetesVersion"]);
    assert_eq!(properties["supportPlan"], "KubernetesOfficial");
    assert!(is_guid(&cluster["identity"]["principalId"]));
    assert_eq!(cluster["identity"]["tenantId"], DEV_TENANT_ID);
    let kubelet = &properties["identityProfile"]["kubeletidentity"];
    assert_eq!(keys(kubelet), set(&["resourceId", "clientId", "objectId"]));
    assert_eq!(
        kubelet["resourceId"],
        format!(
            "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/MC_rg_aks_francecentral/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-agentpool"
        )
    );
    assert!(is_guid(&properties["addonProfiles"]["omsagent"]["identity"]["objectId"]));
    let network = &properties["networkProfile"];
    for (member, value) in [
        ("podCidr", "10.244.0.0/16"),
        ("serviceCidr", "10.0.0.0/16"),
        ("dnsServiceIP", "10.0.0.10"),
        ("outboundType", "loadBalancer"),
        ("loadBalancerSku", "standard"),
    ] {
        assert_eq!(network[member], value, "{member}");
    }
    let pool = &properties["agentPoolProfiles"][0];
    for (member, value) in [
        ("osType", json!("Linux")),
        ("type", json!("VirtualMachineScaleSets")),
        ("mode", json!("System")),
        ("provisioningState", json!("Succeeded")),
        ("count", json!(1)),
    ] {
        assert_eq!(pool[member], value, "{member}");
    }
    assert_eq!(pool["currentOrchestratorVersion"], properties["currentKubernetesVersion"]);

    // The node resource group exists, managed by the cluster.
    let group = harness
        .arm(
            Method::GET,
            &format!(
                "subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/MC_rg_aks_francecentral?api-version=2025-04-01"
            ),
            None,
        )
        .await?;
    assert_eq!(group.status, StatusCode::OK);
    assert_eq!(group.json()["managedBy"], cluster["id"]);

    // Updates keep server-filled values, change the eTags, and refuse a new dnsPrefix.
    let updated = harness.arm(Method::PUT, &cluster_path("aks"), Some(cluster_body("/subscriptions/x/ws"))).await?;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.json()["properties"]["provisioningState"], "Updating");
    harness.wait(&updated).await?;
    let after = harness.arm(Method::GET, &cluster_path("aks"), None).await?.json();
    assert_ne!(after["eTag"], cluster["eTag"]);
    assert_ne!(after["properties"]["agentPoolProfiles"][0]["eTag"], pool["eTag"]);
    assert_eq!(after["properties"]["fqdn"], properties["fqdn"]);
    assert_eq!(after["properties"]["identityProfile"], properties["identityProfile"]);
    assert_eq!(after["identity"], cluster["identity"]);
    let mut renamed = cluster_body("/subscriptions/x/ws");
    renamed["properties"]["dnsPrefix"] = json!("another");
    harness
        .arm(Method::PUT, &cluster_path("aks"), Some(renamed))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "PropertyChangeNotAllowed");
    let mut old = cluster_body("/subscriptions/x/ws");
    old["properties"]["kubernetesVersion"] = json!("1.20");
    harness
        .arm(Method::PUT, &cluster_path("other"), Some(old))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "K8sVersionNotSupported");

    // Deleting the cluster deletes its node resource group.
    let deleted = harness.arm(Method::DELETE, &cluster_path("aks"), None).await?;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert_eq!(harness.follow(deleted.header("location").ok_or("no Location")?).await?.status, StatusCode::NO_CONTENT);
    let gone = harness
        .arm(
            Method::GET,
            &format!(
                "subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/MC_rg_aks_francecentral?api-version=2025-04-01"
            ),
            None,
        )
        .await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn honours_conditional_requests() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let path = format!(
        "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/dcr1?{DCR_API}"
    );
    let body = json!({"location": "francecentral", "kind": "Linux", "properties": {"description": "d"}});

    let missing = harness.arm_with(Method::PUT, &path, Some(body.clone()), &[("if-match", "*")]).await?;
    missing.assert_arm_error(StatusCode::PRECONDITION_FAILED, "PreconditionFailed");
    let created = harness.arm_with(Method::PUT, &path, Some(body.clone()), &[("if-none-match", "*")]).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let etag = created.json()["etag"].as_str().ok_or("no etag")?.to_owned();

    harness
        .arm_with(Method::PUT, &path, Some(body.clone()), &[("if-none-match", "*")])
        .await?
        .assert_arm_error(StatusCode::PRECONDITION_FAILED, "PreconditionFailed");
    harness
        .arm_with(Method::PUT, &path, Some(body.clone()), &[("if-match", "\"stale\"")])
        .await?
        .assert_arm_error(StatusCode::PRECONDITION_FAILED, "PreconditionFailed");
    let quoted = format!("\"{etag}\"");
    let updated = harness.arm_with(Method::PUT, &path, Some(body.clone()), &[("if-match", &quoted)]).await?;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_ne!(updated.json()["etag"], etag.as_str());
    harness
        .arm_with(Method::DELETE, &path, None, &[("if-match", &quoted)])
        .await?
        .assert_arm_error(StatusCode::PRECONDITION_FAILED, "PreconditionFailed");
    assert_eq!(harness.arm_with(Method::DELETE, &path, None, &[("if-match", "*")]).await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn creates_workspaces_like_the_official_examples() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "Exai-RG").await?;
    let path = format!(
        "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/Exai-RG/providers/Microsoft.OperationalInsights/workspaces/AzTest2170?{LA_API}"
    );
    let official = example("loganalytics-workspaces-createorupdate.json")?;
    let mut request = official["parameters"]["parameters"].clone();
    request["location"] = json!("francecentral");

    let created = harness.arm(Method::PUT, &path, Some(request)).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    let mut expected = shape(&official["responses"]["201"]["body"]);
    expected.extend(system_data_shape());
    assert_eq!(shape(&body), expected);
    assert_eq!(body["properties"]["provisioningState"], "Creating");
    assert_eq!(
        body["id"],
        format!(
            "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/exai-rg/providers/microsoft.operationalinsights/workspaces/aztest2170"
        )
    );
    assert_eq!(body["name"], "AzTest2170");
    assert!(is_guid(&body["properties"]["customerId"]));
    assert_eq!(harness.wait(&created).await?["status"], "Succeeded");

    let minimal = harness
        .arm(
            Method::PUT,
            &path.replace("AzTest2170", "ws-two").replace(LA_API, "api-version=2025-07-01"),
            Some(json!({"location": "francecentral"})),
        )
        .await?;
    assert_eq!(minimal.status, StatusCode::CREATED, "{}", minimal.text);
    assert_eq!(minimal.json()["properties"]["retentionInDays"], 30);
    assert_eq!(minimal.json()["properties"]["sku"]["name"], "PerGB2018");

    let got = harness.arm(Method::GET, &path, None).await?.json();
    let mut expected = shape(&example("loganalytics-workspaces-get.json")?["responses"]["200"]["body"]);
    expected.retain(|path| !path.starts_with("properties.replication") && !path.starts_with("properties.failover"));
    expected.insert("tags".to_owned());
    expected.insert("tags.tag1".to_owned());
    expected.extend(system_data_shape());
    assert_eq!(shape(&got), expected);
    assert_eq!(got["properties"]["provisioningState"], "Succeeded");
    assert_eq!(got["properties"]["customerId"], body["properties"]["customerId"]);
    Ok(())
}

#[tokio::test]
async fn associates_data_collection_rules_with_clusters() -> TestResult {
    let harness = Harness::new().await?;
    let cluster = create_cluster(&harness).await?;
    let cluster_id = cluster["id"].as_str().ok_or("no id")?;
    let rule_path = format!(
        "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/MSCI-francecentral-aks?{DCR_API}"
    );
    // The body the az CLI's monitoring addon sends (docs/azure-facts.md §3d).
    let rule = json!({"location": "francecentral", "tags": {}, "kind": "Linux", "properties": {
        "dataSources": {"extensions": [{"name": "ContainerInsightsExtension", "streams": ["Microsoft-ContainerInsights-Group-Default"], "extensionName": "ContainerInsights", "extensionSettings": {"dataCollectionSettings": {"enableContainerLogV2": true}}}]},
        "dataFlows": [{"streams": ["Microsoft-ContainerInsights-Group-Default"], "destinations": ["la-workspace"]}],
        "destinations": {"logAnalytics": [{"workspaceResourceId": "/subscriptions/x/ws", "name": "la-workspace"}]},
        "dataCollectionEndpointId": null}});
    let created = harness.arm(Method::PUT, &rule_path, Some(rule)).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let rule_body = created.json();
    assert!(rule_body["properties"]["immutableId"].as_str().is_some_and(|id| id.starts_with("dcr-") && id.len() == 36));
    assert_eq!(rule_body["properties"]["provisioningState"], "Succeeded");
    assert!(rule_body["properties"].get("dataCollectionEndpointId").is_none());

    let association_path = format!(
        "{}/providers/Microsoft.Insights/dataCollectionRuleAssociations/ContainerInsightsExtension?{DCR_API}",
        cluster_id.trim_start_matches('/')
    );
    let association = json!({"location": "francecentral", "properties": {"dataCollectionRuleId": rule_body["id"], "description": "associates dataCollectionRule to the AKS"}});
    let created = harness.arm(Method::PUT, &association_path, Some(association.clone())).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(keys(&created.json()), set(&["id", "name", "type", "etag", "properties", "systemData"]));
    assert_eq!(
        created.json()["id"],
        format!("{cluster_id}/providers/Microsoft.Insights/dataCollectionRuleAssociations/ContainerInsightsExtension")
    );
    assert_eq!(harness.arm(Method::PUT, &association_path, Some(association.clone())).await?.status, StatusCode::OK);

    let orphan = association_path.replace("managedClusters/aks", "managedClusters/nope");
    harness
        .arm(Method::PUT, &orphan, Some(association))
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "ParentResourceNotFound");

    let deleted = harness.arm(Method::DELETE, &cluster_path("aks"), None).await?;
    harness.follow(deleted.header("location").ok_or("no Location")?).await?;
    let export = harness.admin(Method::GET, "export", None).await?.json();
    assert!(keys(&export).iter().all(|id| !id.contains("dataCollectionRuleAssociations")), "{export:#}");
    Ok(())
}

#[tokio::test]
async fn assigns_roles_like_azure() -> TestResult {
    let harness = Harness::new().await?;
    let cluster = create_cluster(&harness).await?;
    let kubelet = cluster["properties"]["identityProfile"]["kubeletidentity"]["objectId"]
        .as_str()
        .ok_or("no kubelet")?
        .to_owned();
    let registry = harness
        .arm(
            Method::PUT,
            &registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr01"),
            Some(json!({"location": "francecentral", "sku": {"name": "Standard"}})),
        )
        .await?;
    let registry_id = registry.json()["id"].as_str().ok_or("no id")?.to_owned();

    // The az CLI's lookup of `acrpull` at the registry's scope.
    let definitions = harness
        .arm(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20%27acrpull%27&{AUTH_API}",
                registry_id.trim_start_matches('/')
            ),
            None,
        )
        .await?;
    assert_eq!(definitions.status, StatusCode::OK, "{}", definitions.text);
    let role_id = definitions.json()["value"][0]["id"].as_str().ok_or("no role")?.to_owned();
    assert_eq!(
        role_id,
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}")
    );
    // The other documented filter of role definitions, and what is neither.
    let harness_definitions = &harness;
    let definitions = |filter: &str| {
        let path = format!(
            "subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions?$filter={filter}&{AUTH_API}"
        );
        async move { harness_definitions.arm(Method::GET, &path, None).await }
    };
    let count = |reply: &common::Reply| reply.json()["value"].as_array().map(Vec::len);
    // Every built-in role of data/built-in-roles.json.
    assert_eq!(count(&definitions("type%20eq%20%27BuiltInRole%27").await?), Some(15));
    assert_eq!(count(&definitions("type%20eq%20%27CustomRole%27").await?), Some(0));
    assert_eq!(count(&definitions("roleName%20eq%20%27ACRPULL%27").await?), Some(1));
    for refused in ["roleName%20eq%20acrpull", "roleName%20eq%20%27a%27%20and%20type%20eq%20%27b%27"] {
        definitions(refused).await?.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidFilter");
    }
    let owner = harness.arm(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635?{AUTH_API}"), None).await?;
    assert_eq!(owner.json()["properties"]["roleName"], "Owner");

    let assignment = |name: &str| {
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{name}?{AUTH_API}",
            registry_id.trim_start_matches('/')
        )
    };
    let first = "11111111-1111-4111-8111-111111111111";
    let body = json!({"properties": {"roleDefinitionId": role_id, "principalId": kubelet, "principalType": "ServicePrincipal"}});
    let created = harness.arm(Method::PUT, &assignment(first), Some(body.clone())).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let official = &example("roleassignments-create.json")?["responses"]["201"]["body"];
    let ours = shape(&created.json());
    assert!(shape(official).is_subset(&ours), "{ours:?}");
    assert_eq!(
        created.json()["properties"]["roleDefinitionId"],
        format!("/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}")
    );
    assert_eq!(created.json()["properties"]["scope"], registry_id);
    assert_eq!(harness.arm(Method::PUT, &assignment(first), Some(body.clone())).await?.status, StatusCode::OK);

    let duplicate =
        harness.arm(Method::PUT, &assignment("22222222-2222-4222-8222-222222222222"), Some(body.clone())).await?;
    assert_eq!(
        duplicate.assert_arm_error(StatusCode::CONFLICT, "RoleAssignmentExists"),
        "The role assignment already exists."
    );

    let stranger =
        json!({"properties": {"roleDefinitionId": role_id, "principalId": "33333333-3333-4333-8333-333333333333"}});
    let message = harness
        .arm(Method::PUT, &assignment("44444444-4444-4444-8444-444444444444"), Some(stranger))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "PrincipalNotFound");
    assert!(message.contains("replication delay") && message.contains("principalType"), "{message}");
    let mistyped =
        json!({"properties": {"roleDefinitionId": role_id, "principalId": kubelet, "principalType": "User"}});
    harness
        .arm(Method::PUT, &assignment("55555555-5555-4555-8555-555555555555"), Some(mistyped))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "UnmatchedPrincipalType");
    harness
        .arm(Method::PUT, &assignment("not-a-guid"), Some(body.clone()))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidRoleAssignmentId");

    // A subscription-scope assignment with the default principal type.
    let contributor = json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c", "principalId": kubelet}});
    let at_subscription = harness.arm(Method::PUT, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments/66666666-6666-4666-8666-666666666666?{AUTH_API}"), Some(contributor)).await?;
    assert_eq!(at_subscription.status, StatusCode::CREATED, "{}", at_subscription.text);
    assert_eq!(at_subscription.json()["properties"]["principalType"], "User");
    let official_get = &example("roleassignments-get.json")?["responses"]["200"]["body"];
    assert!(shape(official_get).is_subset(&shape(&at_subscription.json())));

    let harness_ref = &harness;
    let list = |scope: String, filter: &str| {
        let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments?$filter={filter}&{AUTH_API}");
        async move { harness_ref.arm(Method::GET, &path, None).await }
    };
    // The subscription's owner (the development application, which used it first) counts too.
    let at_registry = list(registry_id.trim_start_matches('/').to_owned(), "atScope()").await?;
    assert_eq!(at_registry.json()["value"].as_array().map(Vec::len), Some(3), "{}", at_registry.text);
    let at_top = list(format!("subscriptions/{DEV_SUBSCRIPTION_ID}"), "atScope()").await?;
    assert_eq!(at_top.json()["value"].as_array().map(Vec::len), Some(2));
    let by_principal =
        list(format!("subscriptions/{DEV_SUBSCRIPTION_ID}"), &format!("principalId%20eq%20%27{kubelet}%27")).await?;
    assert_eq!(by_principal.json()["value"].as_array().map(Vec::len), Some(2));
    list(format!("subscriptions/{DEV_SUBSCRIPTION_ID}"), "bogus")
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidFilter");

    let deleted = harness.arm(Method::DELETE, &assignment(first), None).await?;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.json()["name"], first);
    assert_eq!(harness.arm(Method::DELETE, &assignment(first), None).await?.status, StatusCode::NO_CONTENT);
    harness
        .arm(Method::GET, &assignment(first), None)
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "RoleAssignmentNotFound");
    Ok(())
}

#[tokio::test]
async fn refuses_an_unknown_api_version_before_the_resource_group() -> TestResult {
    // Every version and the refusal on every method: see tests/api_versions.rs.
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let old = registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr01").replace(ACR_API, "api-version=2016-01-01");
    let message = harness
        .arm(Method::PUT, &old, Some(json!({"location": "francecentral", "sku": {"name": "Basic"}})))
        .await?
        .assert_arm_error(StatusCode::BAD_REQUEST, "NoRegisteredProviderFound");
    assert!(message.contains("'2016-06-27-preview, 2017-03-01, "), "{message}");
    let missing_group = registry_path(DEV_SUBSCRIPTION_ID, "nope", "exaiacr01");
    harness
        .arm(Method::PUT, &missing_group, Some(json!({"location": "francecentral", "sku": {"name": "Basic"}})))
        .await?
        .assert_arm_error(StatusCode::NOT_FOUND, "ResourceGroupNotFound");
    Ok(())
}

#[tokio::test]
async fn seeds_and_exports_raw_resources() -> TestResult {
    let harness = Harness::new().await?;
    let captured = example("registries-get.json")?["responses"]["200"]["body"].clone();
    let id = captured["id"].as_str().ok_or("no id")?.to_owned();
    let seeded = harness.admin(Method::POST, "seed", Some(json!({ id.clone(): captured.clone() }))).await?;
    assert_eq!(seeded.status, StatusCode::OK, "{}", seeded.text);

    // The example's subscription is bound to the development tenant, so the usual token reads it.
    let got = harness.arm(Method::GET, &format!("{}?{ACR_API}", id.trim_start_matches('/')), None).await?;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(got.text, captured.to_string());
    let group = harness
        .arm(
            Method::GET,
            "subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/myResourceGroup?api-version=2025-04-01",
            None,
        )
        .await?;
    assert_eq!(group.json()["location"], "westus");

    let export = harness.admin(Method::GET, "export", None).await?.json();
    assert_eq!(export[&id], captured);
    assert_eq!(harness.admin(Method::POST, "reset", None).await?.status, StatusCode::NO_CONTENT);
    // Back to a new emulator's state: the development subscription and its Owner only.
    let fresh = harness.admin(Method::GET, "export", None).await?.json();
    let kept: Vec<&String> = fresh.as_object().ok_or("an export object")?.keys().collect();
    let owner_prefix =
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleAssignments/");
    assert!(matches!(kept.as_slice(), [only] if only.starts_with(&owner_prefix)), "{fresh}");
    harness.admin(Method::POST, "seed", Some(export.clone())).await?;
    assert_eq!(harness.admin(Method::GET, "export", None).await?.json(), export);

    let refused = harness.admin(Method::POST, "seed", Some(json!({"/not/an/arm/id": {}}))).await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn ends_an_operation_failed_when_a_fault_says_so() -> TestResult {
    let rule = "PUT /subscriptions/*/resourcegroups/*/providers/microsoft.containerregistry/registries/* lro-failed times=1 code=QuotaExceeded message=\"no quota left\"";
    let harness = Harness::start(EmulatorOptions { faults: vec![rule.parse()?], ..Default::default() }).await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let path = registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr01");
    let body = json!({"location": "francecentral", "sku": {"name": "Basic"}});
    let created = harness.arm(Method::PUT, &path, Some(body.clone())).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let status = harness.wait(&created).await?;
    assert_eq!(status["status"], "Failed");
    assert_eq!(status["error"], json!({"code": "QuotaExceeded", "message": "no quota left"}));
    let got = harness.arm(Method::GET, &path, None).await?;
    assert_eq!(got.json()["properties"]["provisioningState"], "Failed");

    // The rule is spent: a retry succeeds.
    let retried = harness.arm(Method::PUT, &path, Some(body)).await?;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
    assert_eq!(harness.wait(&retried).await?["status"], "Succeeded");
    Ok(())
}

#[tokio::test]
async fn refuses_what_aks_refuses_on_pools_and_ssh_keys() -> TestResult {
    let harness = Harness::start(EmulatorOptions::default()).await?;
    create_cluster(&harness).await?;
    let mut body = cluster_body("/subscriptions/x/ws");

    // A second pool through the cluster's PUT: AKS wants the agent pool API.
    body["properties"]["agentPoolProfiles"]
        .as_array_mut()
        .ok_or("pools")?
        .push(json!({"name": "work", "count": 1, "vmSize": "Standard_B2s", "mode": "User"}));
    let added = harness.arm(Method::PUT, &cluster_path("aks"), Some(body.clone())).await?;
    assert_eq!(added.status, StatusCode::BAD_REQUEST, "{}", added.text);
    assert!(added.text.contains("Adding agent pools to an existing cluster is not allowed"), "{}", added.text);

    // A pool's VM size cannot change.
    let mut resized = cluster_body("/subscriptions/x/ws");
    resized["properties"]["agentPoolProfiles"][0]["vmSize"] = json!("Standard_D4s_v5");
    let reply = harness.arm(Method::PUT, &cluster_path("aks"), Some(resized)).await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(reply.text.contains("PropertyChangeNotAllowed"), "{}", reply.text);

    // SSH keys: required, exactly one, RSA only.
    for key in [json!(null), json!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host"), json!("not a key")] {
        let mut fresh = cluster_body("/subscriptions/x/ws");
        fresh["properties"]["linuxProfile"]["ssh"]["publicKeys"][0]["keyData"] = key.clone();
        let reply = harness.arm(Method::PUT, &cluster_path("other"), Some(fresh)).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{key}: {}", reply.text);
        assert!(reply.text.contains("linuxProfile.ssh.publicKeys.keyData"), "{key}: {}", reply.text);
    }
    let mut two = cluster_body("/subscriptions/x/ws");
    two["properties"]["linuxProfile"]["ssh"]["publicKeys"] =
        json!([{"keyData": "ssh-rsa AAAA1"}, {"keyData": "ssh-rsa AAAA2"}]);
    let reply = harness.arm(Method::PUT, &cluster_path("other"), Some(two)).await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    Ok(())
}

/// GETs a list and returns the `name` of each item (asserting a 200).
async fn listed_names(harness: &Harness, path: &str) -> Result<BTreeSet<String>, Box<dyn Error>> {
    let reply = harness.arm(Method::GET, path, None).await?;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    let body = reply.json();
    let items = body["value"].as_array().ok_or(format!("no value array: {}", reply.text))?;
    Ok(items.iter().filter_map(|item| item["name"].as_str().map(str::to_owned)).collect())
}

/// Creates a registry or a workspace (`path` as `registry_path` builds it) and waits for it.
async fn create_tracked(harness: &Harness, path: &str, body: Value) -> Result<(), Box<dyn Error>> {
    let created = harness.arm(Method::PUT, path, Some(body)).await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(harness.wait(&created).await?["status"], "Succeeded");
    Ok(())
}

fn workspace_path(group: &str, name: &str) -> String {
    format!(
        "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/{group}/providers/Microsoft.OperationalInsights/workspaces/{name}?{LA_API}"
    )
}

#[tokio::test]
async fn lists_resources_by_tag_name_and_value() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    harness.group(DEV_SUBSCRIPTION_ID, "other").await?;
    let registry = |tags: Value| json!({"location": "francecentral", "sku": {"name": "Basic"}, "tags": tags});
    let workspace = |tags: Value| json!({"location": "francecentral", "tags": tags});
    create_tracked(
        &harness,
        &registry_path(DEV_SUBSCRIPTION_ID, "rg", "exaiacr01"),
        registry(json!({"Exai-Owner": "perso"})),
    )
    .await?;
    create_tracked(&harness, &workspace_path("rg", "ws-tagged"), workspace(json!({"exai-owner": "team"}))).await?;
    create_tracked(&harness, &workspace_path("rg", "ws-plain"), json!({"location": "francecentral"})).await?;
    create_tracked(&harness, &workspace_path("rg", "ws-other-tag"), workspace(json!({"env": "perso"}))).await?;
    create_tracked(
        &harness,
        &registry_path(DEV_SUBSCRIPTION_ID, "other", "exaiacr02"),
        registry(json!({"exai-owner": "perso"})),
    )
    .await?;
    let everything =
        |filter: &str| format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resources?api-version=2025-04-01&$filter={filter}");
    let in_rg = |filter: &str| {
        format!(
            "subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg/resources?$filter={filter}&api-version=2025-04-01"
        )
    };

    // By tag name, whatever the value: tag names compare case-insensitively, and the filter may
    // arrive with spaces as %20 or as +.
    let owned = set(&["exaiacr01", "ws-tagged", "exaiacr02"]);
    assert_eq!(listed_names(&harness, &everything("tagName%20eq%20%27exai-owner%27")).await?, owned);
    assert_eq!(listed_names(&harness, &everything("tagName+eq+'EXAI-OWNER'")).await?, owned);
    assert_eq!(
        listed_names(&harness, &in_rg("tagName%20eq%20%27exai-owner%27")).await?,
        set(&["exaiacr01", "ws-tagged"])
    );
    assert_eq!(listed_names(&harness, &in_rg("tagName%20eq%20%27missing%27")).await?, set(&[]));

    // Filtered by tag name only, the items carry their tags.
    let listed = harness.arm(Method::GET, &in_rg("tagName+eq+%27exai-owner%27"), None).await?;
    for item in listed.json()["value"].as_array().ok_or("no value")? {
        let expected =
            if item["name"] == "exaiacr01" { json!({"Exai-Owner": "perso"}) } else { json!({"exai-owner": "team"}) };
        assert_eq!(item["tags"], expected, "{item}");
    }

    // By tag name and value: values compare exactly, and (as the swagger documents) the items
    // come without their tags.
    let perso = "tagName%20eq%20%27exai-owner%27%20and%20tagValue%20eq%20%27perso%27";
    assert_eq!(listed_names(&harness, &everything(perso)).await?, set(&["exaiacr01", "exaiacr02"]));
    assert_eq!(listed_names(&harness, &everything("tagName+eq+'exai-owner'+and+tagValue+eq+'PERSO'")).await?, set(&[]));
    let listed = harness.arm(Method::GET, &in_rg(perso), None).await?;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let items = listed.json()["value"].clone();
    assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
    assert_eq!(items[0]["name"], "exaiacr01");
    assert_eq!(keys(&items[0]), set(&["id", "name", "type", "sku", "location"]));

    // No filter: every resource, the tagged ones with their tags.
    let all = harness
        .arm(Method::GET, &format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resources?api-version=2025-04-01"), None)
        .await?;
    let all = all.json()["value"].as_array().cloned().ok_or("no value")?;
    assert_eq!(all.len(), 5);
    assert!(all.iter().any(|item| item["name"] == "ws-plain" && item.get("tags").is_none()));
    assert!(all.iter().any(|item| item["name"] == "ws-other-tag" && item["tags"] == json!({"env": "perso"})));
    Ok(())
}

#[tokio::test]
async fn refuses_tag_filters_combined_with_other_filters() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    for scope in [
        format!("subscriptions/{DEV_SUBSCRIPTION_ID}"),
        format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/rg"),
    ] {
        for combined in [
            "resourceType%20eq%20%27Microsoft.ContainerRegistry%2Fregistries%27%20and%20tagName%20eq%20%27exai-owner%27",
            "tagName+eq+'exai-owner'+and+tagValue+eq+'perso'+and+name+eq+'exaiacr01'",
        ] {
            let reply = harness
                .arm(Method::GET, &format!("{scope}/resources?api-version=2025-04-01&$filter={combined}"), None)
                .await?;
            let message = reply.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidFilter");
            assert!(message.contains("cannot be combined"), "{message}");
        }
        for unsupported in
            ["tagValue+eq+'perso'", "tagName+ne+'exai-owner'", "startswith(tagName,+'exai')", "tagName+eq+exai"]
        {
            let reply = harness
                .arm(Method::GET, &format!("{scope}/resources?api-version=2025-04-01&$filter={unsupported}"), None)
                .await?;
            let message = reply.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidFilter");
            assert!(message.contains("is not supported"), "{message}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn lists_resource_groups_by_tag() -> TestResult {
    let harness = Harness::new().await?;
    let groups = format!("subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups");
    for (name, tags) in [
        ("Tagged", Some(json!({"Exai-Owner": "perso"}))),
        ("team-rg", Some(json!({"exai-owner": "team"}))),
        ("plain", None),
        ("other-tag", Some(json!({"env": "perso"}))),
    ] {
        let mut body = json!({"location": "francecentral"});
        if let Some(tags) = tags {
            body["tags"] = tags;
        }
        let created = harness.arm(Method::PUT, &format!("{groups}/{name}?api-version=2025-04-01"), Some(body)).await?;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let list = |filter: &str| format!("{groups}?api-version=2025-04-01&$filter={filter}");

    let owned = set(&["Tagged", "team-rg"]);
    assert_eq!(listed_names(&harness, &list("tagName%20eq%20%27exai-owner%27")).await?, owned);
    assert_eq!(listed_names(&harness, &list("tagName+eq+'EXAI-OWNER'")).await?, owned);
    assert_eq!(listed_names(&harness, &list("tagName+eq+'missing'")).await?, set(&[]));
    assert_eq!(
        listed_names(&harness, &list("tagName%20eq%20%27exai-owner%27%20and%20tagValue%20eq%20%27perso%27")).await?,
        set(&["Tagged"])
    );
    assert_eq!(listed_names(&harness, &list("tagName+eq+'exai-owner'+and+tagValue+eq+'Perso'")).await?, set(&[]));
    assert_eq!(listed_names(&harness, &format!("{groups}?api-version=2025-04-01")).await?.len(), 4);

    // The items are the groups as GET shows them, tags included (also when filtered by value).
    let listed = harness.arm(Method::GET, &list("tagName+eq+'exai-owner'+and+tagValue+eq+'perso'"), None).await?;
    let got = harness.arm(Method::GET, &format!("{groups}/tagged?api-version=2025-04-01"), None).await?;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    assert_eq!(listed.json()["value"], json!([got.json()]));
    assert_eq!(got.json()["tags"], json!({"Exai-Owner": "perso"}));

    for refused in [
        "name+eq+'plain'",
        "tagValue+eq+'perso'",
        "tagName+eq+'exai-owner'+or+tagName+eq+'env'",
        "tagName+eq+'exai-owner'+and+location+eq+'francecentral'",
        "startswith(tagName,+'exai')",
    ] {
        let reply = harness.arm(Method::GET, &list(refused), None).await?;
        let message = reply.assert_arm_error(StatusCode::BAD_REQUEST, "InvalidFilter");
        assert!(message.contains("tagName eq"), "{message}");
    }
    Ok(())
}

/// `ManagedClusters_UpdateTags` (PATCH with a `TagsObject`) is a long-running operation like the
/// PUT (swagger 2026-08-01: `x-ms-long-running-operation: true`, 200/202); a PUT that leaves
/// the version out keeps the cluster's, and read-only members sent back are ignored.
#[tokio::test]
async fn patches_cluster_tags_as_an_operation_and_ignores_read_only_members_of_a_put() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(DEV_SUBSCRIPTION_ID, "rg").await?;
    let mut body = cluster_body("/subscriptions/x/ws");
    body["properties"]["kubernetesVersion"] = json!("1.32.9");
    let created = harness.arm(Method::PUT, &cluster_path("aks"), Some(body)).await?;
    assert_eq!(harness.wait(&created).await?["status"], "Succeeded");
    let before = harness.arm(Method::GET, &cluster_path("aks"), None).await?.json();

    let patched = harness.arm(Method::PATCH, &cluster_path("aks"), Some(json!({"tags": {"tier": "platform"}}))).await?;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.json()["properties"]["provisioningState"], "Updating");
    assert!(patched.header("azure-asyncoperation").is_some(), "a long-running operation");
    assert_eq!(harness.wait(&patched).await?["status"], "Succeeded");
    let tagged = harness.arm(Method::GET, &cluster_path("aks"), None).await?.json();
    assert_eq!(tagged["tags"], json!({"tier": "platform"}));
    assert_ne!(tagged["eTag"], before["eTag"]);
    assert_eq!(tagged["properties"]["fqdn"], before["properties"]["fqdn"]);
    let refused = harness.arm(Method::PATCH, &cluster_path("aks"), Some(json!({"properties": {}}))).await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);

    // Sent back whole, with read-only members changed and no version: they are ignored.
    let mut echoed = tagged.clone();
    echoed["properties"].as_object_mut().ok_or("properties")?.remove("kubernetesVersion");
    echoed["properties"]["fqdn"] = json!("elsewhere.example");
    echoed["properties"]["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"] = json!([{"id": "/x"}]);
    echoed["identity"]["principalId"] = json!("00000000-0000-0000-0000-000000000000");
    for pool in echoed["properties"]["agentPoolProfiles"].as_array_mut().ok_or("pools")? {
        pool.as_object_mut().ok_or("pool")?.remove("orchestratorVersion");
    }
    let put = harness.arm(Method::PUT, &cluster_path("aks"), Some(echoed)).await?;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(harness.wait(&put).await?["status"], "Succeeded");
    let after = harness.arm(Method::GET, &cluster_path("aks"), None).await?.json();
    assert_eq!(after["properties"]["kubernetesVersion"], "1.32.9");
    assert_eq!(after["properties"]["agentPoolProfiles"][0]["orchestratorVersion"], "1.32.9");
    assert_eq!(after["properties"]["fqdn"], before["properties"]["fqdn"]);
    assert_eq!(
        after["properties"]["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"],
        before["properties"]["networkProfile"]["loadBalancerProfile"]["effectiveOutboundIPs"]
    );
    assert_eq!(after["identity"]["principalId"], before["identity"]["principalId"]);
    Ok(())
}
