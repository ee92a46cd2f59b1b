//! Every api-version the emulator serves, per resource type, each with the file of Azure's REST
//! specifications (repository `Azure/azure-rest-api-specs`) that publishes it, and ARM's answer
//! to a version a type does not serve.
//!
//! This is the one list: every route's version check and every [`super::provider::ResourceType`]
//! draw from it. The versions are those of the specs' `stable/` and `preview/` folders (found
//! through each resource-manager folder's `readme.md` tags, and its TypeSpec `main.tsp` or the
//! folders themselves for versions newer than the readme), newest first. A version answers with
//! the shape it defines where shapes differ (see [`shape`]).
//!
//! ARM refuses a version a type does not serve in three ways, by who owns the type:
//!
//! - `Microsoft.Resources` (resource groups, `/resources`, subscriptions, locations) is ARM
//!   itself: 400 `InvalidApiVersionParameter`, "The api-version '…' is invalid. The supported
//!   versions are '…'." (newest first, comma-separated; quoted in Azure/azure-rest-api-specs#11711
//!   and Azure/azure-sdk-for-python#975);
//! - a resource provider's type (registries, workspaces, data collection, managed clusters):
//!   400 `NoRegisteredProviderFound`, "No registered resource provider found for location '…' and
//!   API version '…' for type '…'. The supported api-versions are '…'. The supported locations
//!   are '…'." on every method, a GET by id and a list included (quoted for a GET by id in
//!   Azure/azure-cli#28496, for a list in Azure/azure-sdk-for-js#4097, for a PUT in
//!   Azure/azure-resource-manager-schemas#33; status 400 in hashicorp/pandora#45);
//! - `Microsoft.Authorization`: 404 `InvalidResourceType`, "The resource type '…' could not be
//!   found in the namespace 'Microsoft.Authorization' for api version '…'. The supported
//!   api-versions are '…'." (quoted in Azure/azure-sdk-for-go#16699 and Azure/acs-engine#4037).

use axum::http::StatusCode;

use super::toolkit::ArmError;
use crate::http::Incoming;

pub(crate) mod shape;

/// The api-versions of one resource type, newest first, with their sources.
pub(crate) struct Table {
    /// The api-versions, newest first.
    pub versions: &'static [&'static str],
    /// The spec file publishing each version (same order), relative to the repository root.
    pub sources: &'static [&'static str],
}

impl Table {
    /// Returns the served version a request names, if any (a repeated parameter reaches ARM's
    /// model binder as one comma-joined value, which no type serves).
    pub fn find(&self, request: &Incoming) -> Option<&'static str> {
        let version = requested(request);
        self.versions.iter().copied().find(|known| *known == version)
    }

    /// Returns the versions oldest first, joined by `separator`.
    fn oldest_first(&self, separator: &str) -> String {
        self.versions.iter().rev().copied().collect::<Vec<_>>().join(separator)
    }
}

/// Builds a [`Table`] from `"version" => "source"` pairs.
macro_rules! table {
    ($($version:literal => $source:literal),+ $(,)?) => {
        Table { versions: &[$($version),+], sources: &[$($source),+] }
    };
}

/// The region ARM names when it refuses a request that names none (no resource, no group, no
/// parent): the emulator's stand-in for the region of the ARM instance that routed it
/// (UNVERIFIED).
pub(crate) const ROUTING_LOCATION: &str = "eastus";

/// Returns the api-version a request names, repeated parameters comma-joined.
pub(crate) fn requested(request: &Incoming) -> String {
    request.query_values("api-version").join(",")
}

/// Checks a request to a `Microsoft.Resources` route (ARM's own types).
pub(crate) fn check_resources(request: &Incoming, table: &Table) -> Result<&'static str, ArmError> {
    table.find(request).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!(
                "The api-version '{}' is invalid. The supported versions are '{}'.",
                requested(request),
                table.versions.join(",")
            ),
        )
    })
}

/// Checks a request to a resource provider's type; `location` is the region ARM routes the
/// request through (the resource's, or the one a PUT names).
pub(crate) fn check_provider(
    request: &Incoming,
    table: &Table,
    type_name: &str,
    location: &str,
) -> Result<&'static str, ArmError> {
    table.find(request).ok_or_else(|| refuse_provider(request, table.versions, type_name, location))
}

/// Returns ARM's refusal of an api-version a provider's type does not serve; `versions` are the
/// ones it serves, newest first.
pub(crate) fn refuse_provider(request: &Incoming, versions: &[&str], type_name: &str, location: &str) -> ArmError {
    let oldest_first: Vec<&str> = versions.iter().rev().copied().collect();
    ArmError::bad_request(
        "NoRegisteredProviderFound",
        format!(
            "No registered resource provider found for location '{location}' and API version '{}' for type '{type_name}'. The supported api-versions are '{}'. The supported locations are '{}'.",
            requested(request),
            oldest_first.join(", "),
            super::locations::names().replace(',', ", ")
        ),
    )
}

/// Checks a request to a `Microsoft.Authorization` type.
pub(crate) fn check_authorization(
    request: &Incoming,
    table: &Table,
    type_name: &str,
) -> Result<&'static str, ArmError> {
    table.find(request).ok_or_else(|| {
        ArmError::new(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            format!(
                "The resource type '{type_name}' could not be found in the namespace 'Microsoft.Authorization' for api version '{}'. The supported api-versions are '{}'.",
                requested(request),
                table.oldest_first(",")
            ),
        )
    })
}

/// Every table, by the name docs/emulator.md gives it.
pub(crate) const ALL: [(&str, &Table); 9] = [
    ("resourceGroups, resources, operationresults", &RESOURCES),
    ("subscriptions", &SUBSCRIPTIONS),
    ("Microsoft.ContainerRegistry/registries", &REGISTRIES),
    ("Microsoft.OperationalInsights/workspaces", &WORKSPACES),
    ("Microsoft.Insights/dataCollectionRules", &DATA_COLLECTION_RULES),
    ("Microsoft.Insights/dataCollectionRuleAssociations", &DATA_COLLECTION_RULE_ASSOCIATIONS),
    ("Microsoft.ContainerService/managedClusters", &MANAGED_CLUSTERS),
    ("Microsoft.Authorization/roleAssignments", &ROLE_ASSIGNMENTS),
    ("Microsoft.Authorization/roleDefinitions, permissions", &ROLE_DEFINITIONS),
];

/// Returns every table as JSON: `{type: [{"version", "source"}]}`, newest first.
pub(crate) fn listing() -> serde_json::Value {
    let tables: serde_json::Map<String, serde_json::Value> = ALL
        .iter()
        .map(|(name, table)| {
            let rows = table
                .versions
                .iter()
                .zip(table.sources)
                .map(|(version, source)| serde_json::json!({"version": version, "source": source}))
                .collect();
            ((*name).to_owned(), serde_json::Value::Array(rows))
        })
        .collect();
    serde_json::Value::Object(tables)
}

/// `Microsoft.Resources`: resource groups, `/resources` lists and `operationresults` (`resources.json`; tags of `Microsoft.Resources/resources/readme.md`).
pub(crate) const RESOURCES: Table = table! {
    "2025-04-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2025-04-01/resources.json",
    "2025-03-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2025-03-01/resources.json",
    "2024-11-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2024-11-01/resources.json",
    "2024-07-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2024-07-01/resources.json",
    "2024-03-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2024-03-01/resources.json",
    "2023-07-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2023-07-01/resources.json",
    "2022-09-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2022-09-01/resources.json",
    "2021-04-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json",
    "2021-01-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2021-01-01/resources.json",
    "2020-10-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2020-10-01/resources.json",
    "2020-08-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2020-08-01/resources.json",
    "2020-06-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2020-06-01/resources.json",
    "2019-10-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2019-10-01/resources.json",
    "2019-08-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2019-08-01/resources.json",
    "2019-07-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2019-07-01/resources.json",
    "2019-05-10" => "specification/resources/resource-manager/Microsoft.Resources/stable/2019-05-10/resources.json",
    "2019-05-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2019-05-01/resources.json",
    "2019-03-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2019-03-01/resources.json",
    "2018-05-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2018-05-01/resources.json",
    "2018-02-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2018-02-01/resources.json",
    "2017-05-10" => "specification/resources/resource-manager/Microsoft.Resources/stable/2017-05-10/resources.json",
    "2016-09-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2016-09-01/resources.json",
    "2016-07-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2016-07-01/resources.json",
    "2016-02-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2016-02-01/resources.json",
    "2015-11-01" => "specification/resources/resource-manager/Microsoft.Resources/stable/2015-11-01/resources.json",
};

/// `Microsoft.Resources` subscriptions and a subscription's locations (`subscriptions.json`, which holds `Subscriptions_Get`, `Subscriptions_List` and `Subscriptions_ListLocations`; readme `Microsoft.Resources/subscriptions/readme.md`).
pub(crate) const SUBSCRIPTIONS: Table = table! {
    "2022-12-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json",
    "2021-01-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2021-01-01/subscriptions.json",
    "2020-01-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2020-01-01/subscriptions.json",
    "2019-11-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2019-11-01/subscriptions.json",
    "2019-06-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2019-06-01/subscriptions.json",
    "2018-06-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2018-06-01/subscriptions.json",
    "2016-06-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2016-06-01/subscriptions.json",
    "2015-11-01" => "specification/resources/resource-manager/Microsoft.Resources/subscriptions/stable/2015-11-01/subscriptions.json",
};

/// `Microsoft.ContainerRegistry/registries` (`containerregistry.json`; tags of `Registry/readme.md`, newer versions from `Registry/main.tsp` and the `Registry/` folders).
pub(crate) const REGISTRIES: Table = table! {
    "2026-09-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/preview/2026-09-01-preview/containerregistry.json",
    "2026-03-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/preview/2026-03-01-preview/containerregistry.json",
    "2026-01-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/preview/2026-01-01-preview/containerregistry.json",
    "2025-11-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/containerregistry.json",
    "2025-06-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/preview/2025-06-01-preview/containerregistry.json",
    "2025-05-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2025-05-01-preview/containerregistry.json",
    "2025-04-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2025-04-01/containerregistry.json",
    "2025-03-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2025-03-01-preview/containerregistry.json",
    "2024-11-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2024-11-01-preview/containerregistry.json",
    "2023-11-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2023-11-01-preview/containerregistry.json",
    "2023-08-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2023-08-01-preview/containerregistry.json",
    "2023-07-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2023-07-01/containerregistry.json",
    "2023-06-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2023-06-01-preview/containerregistry.json",
    "2023-01-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2023-01-01-preview/containerregistry.json",
    "2022-12-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2022-12-01/containerregistry.json",
    "2022-02-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2022-02-01-preview/containerregistry.json",
    "2021-12-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2021-12-01-preview/containerregistry.json",
    "2021-09-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2021-09-01/containerregistry.json",
    "2021-08-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2021-08-01-preview/containerregistry.json",
    "2021-06-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2021-06-01-preview/containerregistry.json",
    "2020-11-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2020-11-01-preview/containerregistry.json",
    "2019-12-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2019-12-01-preview/containerregistry.json",
    "2019-05-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2019-05-01/containerregistry.json",
    "2017-10-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2017-10-01/containerregistry.json",
    "2017-06-01-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2017-06-01-preview/containerregistry.json",
    "2017-03-01" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/stable/2017-03-01/containerregistry.json",
    "2016-06-27-preview" => "specification/containerregistry/resource-manager/Microsoft.ContainerRegistry/preview/2016-06-27-preview/containerregistry.json",
};

/// `Microsoft.OperationalInsights/workspaces` (tags of `OperationalInsights/readme.md`).
pub(crate) const WORKSPACES: Table = table! {
    "2026-03-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2026-03-01/openapi.json",
    "2025-07-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2025-07-01/Workspaces.json",
    "2025-02-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2025-02-01/Workspaces.json",
    "2023-09-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2023-09-01/Workspaces.json",
    "2022-10-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2022-10-01/Workspaces.json",
    "2021-12-01-preview" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/preview/2021-12-01-preview/Workspaces.json",
    "2021-06-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2021-06-01/Workspaces.json",
    "2020-10-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2020-10-01/Workspaces.json",
    "2020-08-01" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/stable/2020-08-01/Workspaces.json",
    "2020-03-01-preview" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/OperationalInsights/preview/2020-03-01-preview/Workspaces.json",
    "2015-11-01-preview" => "specification/operationalinsights/resource-manager/Microsoft.OperationalInsights/preview/2015-11-01-preview/OperationalInsights.json",
};

/// `Microsoft.Insights/dataCollectionRules`.
pub(crate) const DATA_COLLECTION_RULES: Table = table! {
    "2024-03-11" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2024-03-11/dataCollectionRules_API.json",
    "2023-03-11" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2023-03-11/dataCollectionRules_API.json",
    "2022-06-01" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2022-06-01/dataCollectionRules_API.json",
    "2021-09-01-preview" => "specification/monitor/resource-manager/Microsoft.Insights/preview/2021-09-01-preview/dataCollectionRules_API.json",
    "2021-04-01" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2021-04-01/dataCollectionRules_API.json",
    "2019-11-01-preview" => "specification/monitor/resource-manager/Microsoft.Insights/preview/2019-11-01-preview/dataCollectionRules_API.json",
};

/// `Microsoft.Insights/dataCollectionRuleAssociations`.
pub(crate) const DATA_COLLECTION_RULE_ASSOCIATIONS: Table = table! {
    "2024-03-11" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2024-03-11/dataCollectionRuleAssociations_API.json",
    "2023-03-11" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2023-03-11/dataCollectionRuleAssociations_API.json",
    "2022-06-01" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2022-06-01/dataCollectionRuleAssociations_API.json",
    "2021-09-01-preview" => "specification/monitor/resource-manager/Microsoft.Insights/preview/2021-09-01-preview/dataCollectionRuleAssociations_API.json",
    "2021-04-01" => "specification/monitor/resource-manager/Microsoft.Insights/stable/2021-04-01/dataCollectionRuleAssociations_API.json",
    "2019-11-01-preview" => "specification/monitor/resource-manager/Microsoft.Insights/preview/2019-11-01-preview/dataCollectionRuleAssociations_API.json",
};

/// `Microsoft.ContainerService/managedClusters` (tags of `aks/readme.md`, newer versions from the `stable/` and `preview/` folders).
pub(crate) const MANAGED_CLUSTERS: Table = table! {
    "2026-08-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-08-02-preview/managedClusters.json",
    "2026-08-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-08-01/managedClusters.json",
    "2026-07-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-07-02-preview/managedClusters.json",
    "2026-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-07-01/managedClusters.json",
    "2026-06-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-06-02-preview/managedClusters.json",
    "2026-06-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-06-01/managedClusters.json",
    "2026-05-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-05-02-preview/managedClusters.json",
    "2026-05-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-05-01/managedClusters.json",
    "2026-04-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-04-02-preview/managedClusters.json",
    "2026-04-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-04-01/managedClusters.json",
    "2026-03-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-03-02-preview/managedClusters.json",
    "2026-03-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-03-01/managedClusters.json",
    "2026-02-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-02-02-preview/managedClusters.json",
    "2026-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-02-01/managedClusters.json",
    "2026-01-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2026-01-02-preview/managedClusters.json",
    "2026-01-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2026-01-01/managedClusters.json",
    "2025-10-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-10-02-preview/managedClusters.json",
    "2025-10-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-10-01/managedClusters.json",
    "2025-09-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-09-02-preview/managedClusters.json",
    "2025-09-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-09-01/managedClusters.json",
    "2025-08-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-08-02-preview/managedClusters.json",
    "2025-08-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-08-01/managedClusters.json",
    "2025-07-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-07-02-preview/managedClusters.json",
    "2025-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-07-01/managedClusters.json",
    "2025-06-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-06-02-preview/managedClusters.json",
    "2025-06-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-06-01/managedClusters.json",
    "2025-05-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-05-02-preview/managedClusters.json",
    "2025-05-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-05-01/managedClusters.json",
    "2025-04-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-04-02-preview/managedClusters.json",
    "2025-04-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-04-01/managedClusters.json",
    "2025-03-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-03-02-preview/managedClusters.json",
    "2025-03-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-03-01/managedClusters.json",
    "2025-02-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-02-02-preview/managedClusters.json",
    "2025-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-02-01/managedClusters.json",
    "2025-01-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2025-01-02-preview/managedClusters.json",
    "2025-01-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2025-01-01/managedClusters.json",
    "2024-10-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-10-02-preview/managedClusters.json",
    "2024-10-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-10-01/managedClusters.json",
    "2024-09-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-09-02-preview/managedClusters.json",
    "2024-09-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-09-01/managedClusters.json",
    "2024-08-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-08-01/managedClusters.json",
    "2024-07-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-07-02-preview/managedClusters.json",
    "2024-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-07-01/managedClusters.json",
    "2024-06-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-06-02-preview/managedClusters.json",
    "2024-05-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-05-02-preview/managedClusters.json",
    "2024-05-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-05-01/managedClusters.json",
    "2024-04-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-04-02-preview/managedClusters.json",
    "2024-03-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-03-02-preview/managedClusters.json",
    "2024-02-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-02-02-preview/managedClusters.json",
    "2024-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-02-01/managedClusters.json",
    "2024-01-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2024-01-02-preview/managedClusters.json",
    "2024-01-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2024-01-01/managedClusters.json",
    "2023-11-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-11-02-preview/managedClusters.json",
    "2023-11-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-11-01/managedClusters.json",
    "2023-10-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-10-02-preview/managedClusters.json",
    "2023-10-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-10-01/managedClusters.json",
    "2023-09-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-09-02-preview/managedClusters.json",
    "2023-09-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-09-01/managedClusters.json",
    "2023-08-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-08-02-preview/managedClusters.json",
    "2023-08-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-08-01/managedClusters.json",
    "2023-07-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-07-02-preview/managedClusters.json",
    "2023-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-07-01/managedClusters.json",
    "2023-06-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-06-02-preview/managedClusters.json",
    "2023-06-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-06-01/managedClusters.json",
    "2023-05-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-05-02-preview/managedClusters.json",
    "2023-05-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-05-01/managedClusters.json",
    "2023-04-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-04-02-preview/managedClusters.json",
    "2023-04-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-04-01/managedClusters.json",
    "2023-03-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-03-02-preview/managedClusters.json",
    "2023-03-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-03-01/managedClusters.json",
    "2023-02-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-02-02-preview/managedClusters.json",
    "2023-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-02-01/managedClusters.json",
    "2023-01-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2023-01-02-preview/managedClusters.json",
    "2023-01-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2023-01-01/managedClusters.json",
    "2022-11-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-11-02-preview/managedClusters.json",
    "2022-11-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-11-01/managedClusters.json",
    "2022-10-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-10-02-preview/managedClusters.json",
    "2022-09-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-09-02-preview/managedClusters.json",
    "2022-09-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-09-01/managedClusters.json",
    "2022-08-03-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-08-03-preview/managedClusters.json",
    "2022-08-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-08-02-preview/managedClusters.json",
    "2022-07-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-07-02-preview/managedClusters.json",
    "2022-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-07-01/managedClusters.json",
    "2022-06-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-06-02-preview/managedClusters.json",
    "2022-06-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-06-01/managedClusters.json",
    "2022-05-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-05-02-preview/managedClusters.json",
    "2022-04-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-04-02-preview/managedClusters.json",
    "2022-04-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-04-01/managedClusters.json",
    "2022-03-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-03-02-preview/managedClusters.json",
    "2022-03-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-03-01/managedClusters.json",
    "2022-02-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-02-02-preview/managedClusters.json",
    "2022-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-02-01/managedClusters.json",
    "2022-01-02-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2022-01-02-preview/managedClusters.json",
    "2022-01-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2022-01-01/managedClusters.json",
    "2021-11-01-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/preview/2021-11-01-preview/managedClusters.json",
    "2021-10-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2021-10-01/managedClusters.json",
    "2021-09-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2021-09-01/managedClusters.json",
    "2021-08-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2021-08-01/managedClusters.json",
    "2021-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2021-07-01/managedClusters.json",
    "2021-05-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/aks/stable/2021-05-01/managedClusters.json",
    "2021-03-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2021-03-01/managedClusters.json",
    "2021-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2021-02-01/managedClusters.json",
    "2020-12-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-12-01/managedClusters.json",
    "2020-11-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-11-01/managedClusters.json",
    "2020-09-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-09-01/managedClusters.json",
    "2020-07-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-07-01/managedClusters.json",
    "2020-06-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-06-01/managedClusters.json",
    "2020-04-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-04-01/managedClusters.json",
    "2020-03-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-03-01/managedClusters.json",
    "2020-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-02-01/managedClusters.json",
    "2020-01-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2020-01-01/managedClusters.json",
    "2019-11-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2019-11-01/managedClusters.json",
    "2019-10-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2019-10-01/managedClusters.json",
    "2019-08-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2019-08-01/managedClusters.json",
    "2019-06-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2019-06-01/managedClusters.json",
    "2019-04-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2019-04-01/managedClusters.json",
    "2019-02-01" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2019-02-01/managedClusters.json",
    "2018-08-01-preview" => "specification/containerservice/resource-manager/Microsoft.ContainerService/preview/2018-08-01-preview/managedClusters.json",
    "2018-03-31" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2018-03-31/managedClusters.json",
    "2017-08-31" => "specification/containerservice/resource-manager/Microsoft.ContainerService/stable/2017-08-31/managedClusters.json",
};

/// `Microsoft.Authorization/roleAssignments`.
pub(crate) const ROLE_ASSIGNMENTS: Table = table! {
    "2022-04-01" => "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json",
    "2020-10-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2020-10-01-preview/authorization-RoleAssignmentsCalls.json",
    "2020-08-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2020-08-01-preview/authorization-RoleAssignmentsCalls.json",
    "2020-04-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2020-04-01-preview/authorization-RoleAssignmentsCalls.json",
    "2020-03-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2020-03-01-preview/authorization-RoleAssignmentsCalls.json",
    "2018-09-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2018-09-01-preview/authorization-RoleAssignmentsCalls.json",
    "2018-01-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2018-01-01-preview/authorization-RoleAssignmentsCalls.json",
    "2015-07-01" => "specification/authorization/resource-manager/Microsoft.Authorization/stable/2015-07-01/authorization-RoleAssignmentsCalls.json",
};

/// `Microsoft.Authorization/roleDefinitions` and `permissions` (both in `authorization-RoleDefinitionsCalls.json`).
pub(crate) const ROLE_DEFINITIONS: Table = table! {
    "2022-05-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2022-05-01-preview/authorization-RoleDefinitionsCalls.json",
    "2022-04-01" => "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json",
    "2018-01-01-preview" => "specification/authorization/resource-manager/Microsoft.Authorization/preview/2018-01-01-preview/authorization-RoleDefinitionsCalls.json",
    "2015-07-01" => "specification/authorization/resource-manager/Microsoft.Authorization/stable/2015-07-01/authorization-RoleDefinitionsCalls.json",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_newest_first_without_duplicates_and_sourced() {
        for (name, table) in ALL {
            assert_eq!(table.versions.len(), table.sources.len(), "{name}");
            for pair in table.versions.windows(2) {
                assert!(pair[0] > pair[1], "{name}: {} before {}", pair[0], pair[1]);
            }
            for (version, source) in table.versions.iter().zip(table.sources) {
                assert!(source.starts_with("specification/"), "{name}: {source}");
                assert!(source.contains(&format!("/{version}/")), "{name}: {version} in {source}");
                let folder = if version.ends_with("-preview") { "/preview/" } else { "/stable/" };
                assert!(source.contains(folder), "{name}: {version} in {source}");
            }
        }
    }

    /// Renders docs/api-versions.md from the tables.
    fn render_markdown() -> String {
        let mut text = String::from(
            "# API versions the emulator serves\n\n\
             Generated from `crates/exai-emulator/src/arm/api_versions.rs` (the one table every route checks\n\
             against); regenerate with `UPDATE_API_VERSIONS=1 cargo test -p exai-emulator --lib api_versions`.\n\
             Sources are paths in the repository `Azure/azure-rest-api-specs`. How unknown versions are refused\n\
             and which shapes differ by version: docs/emulator.md, \"API versions\".\n",
        );
        let total: usize = ALL.iter().map(|(_, table)| table.versions.len()).sum();
        text.push_str(&format!(
            "\n{total} versions in all.\n\n| resource type | versions | newest | oldest |\n|---|---|---|---|\n"
        ));
        for (name, table) in ALL {
            let newest = table.versions.first().copied().unwrap_or_default();
            let oldest = table.versions.last().copied().unwrap_or_default();
            text.push_str(&format!("| {name} | {} | `{newest}` | `{oldest}` |\n", table.versions.len()));
        }
        for (name, table) in ALL {
            text.push_str(&format!(
                "\n## {name}\n\n{} versions.\n\n| api-version | source |\n|---|---|\n",
                table.versions.len()
            ));
            for (version, source) in table.versions.iter().zip(table.sources) {
                text.push_str(&format!("| `{version}` | `{source}` |\n"));
            }
        }
        text
    }

    #[test]
    fn docs_list_every_version_with_its_source() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api-versions.md");
        let rendered = render_markdown();
        if std::env::var_os("UPDATE_API_VERSIONS").is_some() {
            std::fs::write(&path, &rendered).expect("docs/api-versions.md is writable");
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == rendered,
            "docs/api-versions.md is stale: regenerate it with `UPDATE_API_VERSIONS=1 cargo test -p exai-emulator --lib api_versions`"
        );
    }

    #[test]
    fn serves_the_versions_exai_and_az_send() {
        // exai's own clients (crates/exai-azure) and az 2.91 (docs/emulator.md).
        let expected: [(&Table, &[&str]); 8] = [
            (&RESOURCES, &["2025-04-01", "2024-11-01"]),
            (&SUBSCRIPTIONS, &["2022-12-01", "2019-11-01"]),
            (&REGISTRIES, &["2025-11-01", "2026-09-01-preview"]),
            (&WORKSPACES, &["2026-03-01", "2025-07-01", "2015-11-01-preview"]),
            (&DATA_COLLECTION_RULES, &["2024-03-11", "2023-03-11", "2022-06-01"]),
            (&MANAGED_CLUSTERS, &["2026-08-01", "2026-06-01"]),
            (&ROLE_ASSIGNMENTS, &["2022-04-01"]),
            (&ROLE_DEFINITIONS, &["2022-04-01", "2022-05-01-preview"]),
        ];
        for (table, versions) in expected {
            for version in versions {
                assert!(table.versions.contains(version), "{version}");
            }
        }
        // Operation URLs name the first resource-group version: exai's.
        assert_eq!(RESOURCES.versions.first(), Some(&"2025-04-01"));
    }
}
