//! The api-version table (`arm/api_versions.rs`, listed by `GET /_emulator/api-versions`):
//! every listed version is served, an unknown version is refused as ARM refuses it on every
//! method, and a version answers with its own shape where shapes differ.

use exai_emulator::DEV_SUBSCRIPTION_ID;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;
use common::{Harness, Reply, TestResult};

const SUB: &str = DEV_SUBSCRIPTION_ID;
const UNKNOWN: &str = "2013-01-01";

/// Returns the listed versions of a table, newest first.
async fn versions(harness: &Harness, table: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let listing = harness.admin(Method::GET, "api-versions", None).await?;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    let rows = listing.json()[table].as_array().cloned().ok_or(format!("no table {table}"))?;
    Ok(rows.iter().filter_map(|row| row["version"].as_str().map(str::to_owned)).collect())
}

fn registry(name: &str) -> String {
    format!("subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/{name}")
}

/// An emulator holding group `rg` and registry `exaiacr01` in it (created in 2025-11-01), and
/// the create's answer.
async fn with_registry() -> Result<(Harness, Reply), Box<dyn std::error::Error>> {
    let harness = Harness::new().await?;
    harness.group(SUB, "rg").await?;
    let created = harness
        .arm(
            Method::PUT,
            &format!("{}?api-version=2025-11-01", registry("exaiacr01")),
            Some(json!({"location": "francecentral", "sku": {"name": "Basic"}})),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    Ok((harness, created))
}

#[tokio::test]
async fn every_listed_version_is_served() -> TestResult {
    let (harness, _) = with_registry().await?;
    let listing = harness.admin(Method::GET, "api-versions", None).await?.json();
    let tables = listing.as_object().ok_or("the listing is not an object")?;
    let mut sent = 0;
    for (table, rows) in tables {
        // A GET (of a resource or a list) each table's versions serve.
        let path = match table.as_str() {
            "resourceGroups, resources, operationresults" => format!("subscriptions/{SUB}/resourcegroups/rg/resources"),
            "subscriptions" => format!("subscriptions/{SUB}"),
            "Microsoft.ContainerRegistry/registries" => registry("exaiacr01"),
            "Microsoft.OperationalInsights/workspaces" => {
                format!("subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces")
            }
            "Microsoft.Insights/dataCollectionRules" => {
                format!("subscriptions/{SUB}/providers/Microsoft.Insights/dataCollectionRules")
            }
            "Microsoft.Insights/dataCollectionRuleAssociations" => {
                format!("{}/providers/Microsoft.Insights/dataCollectionRuleAssociations", registry("exaiacr01"))
            }
            "Microsoft.ContainerService/managedClusters" => {
                format!("subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters")
            }
            "Microsoft.Authorization/roleAssignments" => {
                format!("subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments")
            }
            "Microsoft.Authorization/roleDefinitions, permissions" => {
                format!("subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions")
            }
            other => return Err(format!("no route known for the table `{other}`: add one here").into()),
        };
        let rows = rows.as_array().ok_or("a table is not an array")?;
        assert!(!rows.is_empty(), "{table}");
        for row in rows {
            let version = row["version"].as_str().ok_or("a row has no version")?;
            let source = row["source"].as_str().ok_or("a row has no source")?;
            assert!(source.starts_with("specification/") && source.contains(version), "{table} {version}: {source}");
            let reply = harness.arm(Method::GET, &format!("{path}?api-version={version}"), None).await?;
            assert_eq!(reply.status, StatusCode::OK, "{table} {version}: {}", reply.text);
            sent += 1;
        }
    }
    // Every table was reached, and the versions exai and az 2.91 send are among them.
    assert_eq!(tables.len(), 9);
    assert!(sent > 200, "{sent}");
    for (table, version) in [
        ("resourceGroups, resources, operationresults", "2024-11-01"),
        ("Microsoft.ContainerRegistry/registries", "2026-09-01-preview"),
        ("Microsoft.ContainerService/managedClusters", "2026-06-01"),
        ("Microsoft.OperationalInsights/workspaces", "2015-11-01-preview"),
        ("Microsoft.Authorization/roleDefinitions, permissions", "2022-05-01-preview"),
    ] {
        assert!(versions(&harness, table).await?.iter().any(|known| known == version), "{table} {version}");
    }
    Ok(())
}

#[tokio::test]
async fn an_unknown_version_is_refused_the_same_way_on_every_method() -> TestResult {
    let (harness, created) = with_registry().await?;

    // A provider's type: 400 NoRegisteredProviderFound, versions oldest first, on every method,
    // naming the resource's region (or the one a PUT names, or the group's for a list).
    let mut oldest_first = versions(&harness, "Microsoft.ContainerRegistry/registries").await?;
    oldest_first.reverse();
    let supported = oldest_first.join(", ");
    let provider_message = |location: &str| {
        format!(
            "No registered resource provider found for location '{location}' and API version '{UNKNOWN}' for type 'registries'. The supported api-versions are '{supported}'. The supported locations are '{}'.",
            exai_emulator_regions()
        )
    };
    let item = format!("{}?api-version={UNKNOWN}", registry("exaiacr01"));
    let new_item = format!("{}?api-version={UNKNOWN}", registry("exaiacr02"));
    let list = format!(
        "subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries?api-version={UNKNOWN}"
    );
    let body = json!({"location": "westeurope", "sku": {"name": "Basic"}});
    let cases: [(Method, &str, Option<Value>, &str); 6] = [
        (Method::GET, &item, None, "francecentral"),
        (Method::PUT, &item, Some(body.clone()), "francecentral"),
        (Method::PUT, &new_item, Some(body.clone()), "westeurope"),
        (Method::PATCH, &item, Some(json!({"tags": {}})), "francecentral"),
        (Method::DELETE, &item, None, "francecentral"),
        (Method::GET, &list, None, "francecentral"),
    ];
    for (method, path, body, location) in cases {
        let message = harness
            .arm(method.clone(), path, body)
            .await?
            .assert_arm_error(StatusCode::BAD_REQUEST, "NoRegisteredProviderFound");
        assert_eq!(message, provider_message(location), "{method} {path}");
    }

    // The registry's operation status, polled in a version the namespace does not serve.
    let status = created.header("azure-asyncoperation").ok_or("no Azure-AsyncOperation")?;
    let status = status.replace("api-version=2025-11-01", &format!("api-version={UNKNOWN}"));
    let message = harness.follow(&status).await?.assert_arm_error(StatusCode::BAD_REQUEST, "NoRegisteredProviderFound");
    assert!(
        message.starts_with(&format!(
            "No registered resource provider found for location 'francecentral' and API version '{UNKNOWN}' for type 'locations/operationStatuses'. The supported api-versions are '2016-06-27-preview, "
        )),
        "{message}"
    );

    // ARM's own types: 400 InvalidApiVersionParameter, newest first.
    let newest_first = versions(&harness, "resourceGroups, resources, operationresults").await?.join(",");
    let group = format!("subscriptions/{SUB}/resourcegroups/rg?api-version={UNKNOWN}");
    let resources = format!("subscriptions/{SUB}/resourcegroups/rg/resources?api-version={UNKNOWN}");
    for (method, path, body) in [
        (Method::GET, &group, None),
        (Method::PUT, &group, Some(json!({"location": "francecentral"}))),
        (Method::PATCH, &group, Some(json!({"tags": {}}))),
        (Method::DELETE, &group, None),
        (Method::GET, &resources, None),
    ] {
        let message = harness
            .arm(method.clone(), path, body)
            .await?
            .assert_arm_error(StatusCode::BAD_REQUEST, "InvalidApiVersionParameter");
        assert_eq!(
            message,
            format!("The api-version '{UNKNOWN}' is invalid. The supported versions are '{newest_first}'."),
            "{method} {path}"
        );
    }

    // Microsoft.Authorization: 404 InvalidResourceType, oldest first.
    let mut assignments = versions(&harness, "Microsoft.Authorization/roleAssignments").await?;
    assignments.reverse();
    let assignment = format!(
        "subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments/6a1a1d4e-2f2b-4a57-9a8e-3c1d2b3c4d5e?api-version={UNKNOWN}"
    );
    let assignment_list =
        format!("subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments?api-version={UNKNOWN}");
    for (method, path, body) in [
        (Method::GET, &assignment, None),
        (Method::PUT, &assignment, Some(json!({"properties": {}}))),
        (Method::DELETE, &assignment, None),
        (Method::GET, &assignment_list, None),
    ] {
        let message = harness
            .arm(method.clone(), path, body)
            .await?
            .assert_arm_error(StatusCode::NOT_FOUND, "InvalidResourceType");
        assert_eq!(
            message,
            format!(
                "The resource type 'roleAssignments' could not be found in the namespace 'Microsoft.Authorization' for api version '{UNKNOWN}'. The supported api-versions are '{}'.",
                assignments.join(",")
            ),
            "{method} {path}"
        );
    }
    Ok(())
}

/// The regions ARM lists in `NoRegisteredProviderFound`, as the emulator accepts them.
fn exai_emulator_regions() -> String {
    [
        "eastasia",
        "southeastasia",
        "australiaeast",
        "australiasoutheast",
        "brazilsouth",
        "canadacentral",
        "canadaeast",
        "switzerlandnorth",
        "germanywestcentral",
        "eastus2",
        "eastus",
        "centralus",
        "northcentralus",
        "francecentral",
        "uksouth",
        "ukwest",
        "centralindia",
        "southindia",
        "jioindiawest",
        "italynorth",
        "japaneast",
        "japanwest",
        "koreacentral",
        "koreasouth",
        "mexicocentral",
        "northeurope",
        "norwayeast",
        "polandcentral",
        "qatarcentral",
        "spaincentral",
        "swedencentral",
        "uaenorth",
        "westcentralus",
        "westeurope",
        "westus2",
        "westus",
        "southcentralus",
        "westus3",
        "southafricanorth",
        "australiacentral",
        "australiacentral2",
        "israelcentral",
        "westindia",
    ]
    .join(", ")
}

#[tokio::test]
async fn each_version_answers_with_its_own_shape() -> TestResult {
    let harness = Harness::new().await?;
    harness.group(SUB, "rg").await?;
    // A registry created in the preview, with a preview-only member.
    let preview = format!("{}?api-version=2026-09-01-preview", registry("exaiacr01"));
    let created = harness
        .arm(
            Method::PUT,
            &preview,
            Some(json!({"location": "francecentral", "sku": {"name": "Basic"}, "properties": {"metadataSearch": "Enabled"}})),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let in_preview = harness.arm(Method::GET, &preview, None).await?.json();
    assert_eq!(in_preview["properties"]["metadataSearch"], "Enabled");
    assert_eq!(in_preview["properties"]["regionalEndpoints"], "Disabled");
    assert_eq!(in_preview["properties"]["autoGeneratedDomainNameLabelScope"], "Unsecure");
    let stable = format!("{}?api-version=2025-11-01", registry("exaiacr01"));
    let in_stable = harness.arm(Method::GET, &stable, None).await?.json();
    let mut expected = in_preview.clone();
    for member in ["metadataSearch", "regionalEndpoints", "autoGeneratedDomainNameLabelScope"] {
        expected["properties"].as_object_mut().ok_or("no properties")?.remove(member);
    }
    assert_eq!(in_stable, expected);
    // 2022-12-01 removed anonymous pull and the ARM-audience policy (learn.microsoft.com's change log).
    let in_2022 =
        harness.arm(Method::GET, &format!("{}?api-version=2022-12-01", registry("exaiacr01")), None).await?.json();
    let mut expected_2022 = expected.clone();
    expected_2022["properties"].as_object_mut().ok_or("no properties")?.remove("anonymousPullEnabled");
    expected_2022["properties"]["policies"]
        .as_object_mut()
        .ok_or("no policies")?
        .remove("azureADAuthenticationAsArmPolicy");
    assert_eq!(in_2022, expected_2022);
    assert_eq!(in_stable["properties"]["anonymousPullEnabled"], false);
    // The stable version does not define the member: refused as an unknown member.
    let refused = harness
        .arm(
            Method::PUT,
            &format!("{}?api-version=2025-11-01", registry("exaiacr02")),
            Some(json!({"location": "francecentral", "sku": {"name": "Basic"}, "properties": {"metadataSearch": "Enabled"}})),
        )
        .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);

    // A workspace read in 2015-11-01-preview has that version's members only.
    let workspace =
        format!("subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/exai-ws");
    let created = harness
        .arm(
            Method::PUT,
            &format!("{workspace}?api-version=2015-11-01-preview"),
            Some(json!({"location": "francecentral", "properties": {"sku": {"name": "standalone"}}})),
        )
        .await?;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let old = harness.arm(Method::GET, &format!("{workspace}?api-version=2015-11-01-preview"), None).await?.json();
    let mut members: Vec<&str> = old.as_object().ok_or("not an object")?.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["id", "location", "name", "properties", "type"]);
    let mut properties: Vec<&str> =
        old["properties"].as_object().ok_or("no properties")?.keys().map(String::as_str).collect();
    properties.sort_unstable();
    assert_eq!(properties, ["customerId", "provisioningState", "retentionInDays", "sku"]);
    assert_eq!(old["properties"]["sku"], json!({"name": "Standalone"}));
    // A member 2015-11-01-preview does not define is refused in that version, accepted in others.
    let with_access = json!({"location": "francecentral", "properties": {"publicNetworkAccessForQuery": "Disabled"}});
    let refused = harness
        .arm(Method::PUT, &format!("{workspace}?api-version=2015-11-01-preview"), Some(with_access.clone()))
        .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let accepted = harness.arm(Method::PUT, &format!("{workspace}?api-version=2025-07-01"), Some(with_access)).await?;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    let new = harness.arm(Method::GET, &format!("{workspace}?api-version=2026-03-01"), None).await?.json();
    assert_eq!(new["properties"]["publicNetworkAccessForQuery"], "Disabled");
    assert!(new["systemData"].is_object(), "{new}");
    Ok(())
}
