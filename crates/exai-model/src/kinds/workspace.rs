//! `Microsoft.OperationalInsights/workspaces`, api-version 2026-03-01.
//!
//! Sources: azure-rest-api-specs `Microsoft.OperationalInsights/OperationalInsights/stable/
//! 2026-03-01/openapi.json` (readme tag `package-2026-03-01`; operations
//! `Workspaces_CreateOrUpdate` (PUT, long-running), `Workspaces_Update` (PATCH, body
//! `WorkspacePatch`: `properties` + `tags`), `Workspaces_Get`, `Workspaces_Delete`) and its
//! examples `WorkspacesCreate.json` (request `{"location", "properties": {"retentionInDays",
//! "sku": {"name"}}, "tags"}`), `WorkspacesGet.json`, `WorkspacesUpdate.json` (a PATCH of
//! `properties.retentionInDays` and `properties.sku`). See docs/azure-facts.md §5.
//!
//! The owned fields are `location` (create-only), `properties.sku.name`,
//! `properties.retentionInDays` and the managed tags. `customerId`, `provisioningState`,
//! `publicNetworkAccessFor*`, `replication`, `failover`, `createdDate`, `modifiedDate`, `etag`
//! ... are server-filled and never compared. Azure answers the workspace's `id` with the
//! provider segment lower-cased (`.../providers/microsoft.operationalinsights/workspaces/...`,
//! as `WorkspacesGet.json` shows); ids compare case-insensitively ([`ResourceId`]).

use super::common::{canonical_enum, foreign_tags, insert_desired_tags, insert_live_location, insert_live_tags};
use super::common::{live_tags, tags_differ};
use crate::{ApiRequest, Kind, Known, LiveResource, Location, Method, OwnedFields, ResourceId, Tags};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A Log Analytics pricing tier.
// exai-spec deserializes it directly (`monitoring.sku`): these doc comments are the descriptions
// in the spec's JSON Schema, written for people who edit `exai.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WorkspaceSku {
    /// Pay-as-you-go per GB (the default and the current tier).
    PerGB2018,
    /// A daily commitment tier.
    CapacityReservation,
}

impl WorkspaceSku {
    /// Every `WorkspaceSkuNameEnum` member of the swagger, in its casing, so a live tier exai
    /// does not declare is still shown in canonical form.
    pub const NAMES: [&'static str; 8] =
        ["Free", "Standard", "Premium", "PerNode", "PerGB2018", "Standalone", "CapacityReservation", "LACluster"];

    /// Returns the name as the swagger spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerGB2018 => "PerGB2018",
            Self::CapacityReservation => "CapacityReservation",
        }
    }
}

/// A Log Analytics workspace as the spec declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// The subscription.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The name.
    pub name: String,
    /// The region.
    pub location: Location,
    /// Days of retention.
    pub retention_days: u32,
    /// The pricing tier.
    pub sku: WorkspaceSku,
    /// The managed tags.
    pub tags: Tags,
}

/// Owned field: the pricing tier.
const SKU: &str = "properties.sku.name";
/// Owned field: the retention in days.
const RETENTION: &str = "properties.retentionInDays";

impl Workspace {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.OperationalInsights/workspaces";
    /// The api-version exai speaks for workspaces (the readme's default tag; module sources).
    pub const API_VERSION: &'static str = "2026-03-01";

    /// Returns the workspace's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }

    /// Returns the GET that reads the workspace (404 `ResourceNotFound` when absent).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.id().as_str(), Self::API_VERSION, None)
    }

    /// Returns the PUT that creates the workspace, shaped like the request of
    /// `WorkspacesCreate.json`: `location`, `properties.sku.name`, `properties.retentionInDays`
    /// and the managed tags.
    pub fn create_request(&self) -> ApiRequest {
        let body = json!({
            "location": self.location.as_str(),
            "properties": {
                "sku": { "name": self.sku.as_str() },
                "retentionInDays": self.retention_days,
            },
            "tags": self.tags,
        });
        ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(body))
    }

    /// Returns the PATCH (`Workspaces_Update`) that brings `live` to the owned fields, carrying
    /// only the members that differ; `None` when nothing differs.
    ///
    /// A PATCH rather than a PUT: a PUT restates the whole workspace, so it would reset the
    /// settable properties exai does not own (`publicNetworkAccessFor*`, `workspaceCapping`,
    /// `features`) to their defaults. `WorkspacePatch.tags` replaces the tag set, so a tag change
    /// carries the live tags merged with the managed ones.
    pub fn update_request(&self, live: &Value) -> Option<ApiRequest> {
        let desired = self.desired_fields();
        let current = self.live_fields(live);
        let differs = |path: &str| desired.get(path) != current.get(path);
        let mut properties = Map::new();
        if differs(SKU) {
            properties.insert("sku".into(), json!({ "name": self.sku.as_str() }));
        }
        if differs(RETENTION) {
            properties.insert("retentionInDays".into(), json!(self.retention_days));
        }
        let mut body = Map::new();
        if !properties.is_empty() {
            body.insert("properties".into(), Value::Object(properties));
        }
        if tags_differ(&self.tags, live) {
            body.insert("tags".into(), json!(live_tags(live).merged_with(&self.tags)));
        }
        (!body.is_empty())
            .then(|| ApiRequest::arm(Method::Patch, self.id().as_str(), Self::API_VERSION, Some(Value::Object(body))))
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("location".into(), Value::from(self.location.as_str()));
        fields.insert(SKU.into(), Value::from(self.sku.as_str()));
        fields.insert(RETENTION.into(), Value::from(self.retention_days));
        insert_desired_tags(&mut fields, &self.tags);
        fields
    }

    /// Returns the owned fields as `document` (a GET response) holds them: region in canonical
    /// form, tier in the swagger's casing, managed tag keys matched case-insensitively.
    pub fn live_fields(&self, document: &Value) -> OwnedFields {
        let mut fields = OwnedFields::new();
        insert_live_location(&mut fields, document);
        if let Some(sku) = document.pointer("/properties/sku/name").and_then(Value::as_str) {
            fields.insert(SKU.into(), Value::from(canonical_enum(sku, &WorkspaceSku::NAMES)));
        }
        if let Some(days) = document.pointer("/properties/retentionInDays").and_then(Value::as_u64) {
            fields.insert(RETENTION.into(), Value::from(days));
        }
        insert_live_tags(&mut fields, &self.tags, document);
        fields
    }

    /// Returns why a change of `path` forces the workspace to be replaced: only the region, as
    /// for every tracked resource (`sku` and `retentionInDays` are in `WorkspacePatch`).
    pub fn replace_reason(path: &str) -> Option<&'static str> {
        (path == "location").then_some("a workspace cannot move to another region once it is created")
    }
}

impl Workspace {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some("deleting a workspace deletes the logs it holds"),
        orphans: crate::Orphans::GroupScan,
        // Long-running.
        deletion: crate::Deletion::Arm(Self::API_VERSION),
        mark_place: crate::MarkPlace::ArmTag,
    };
}

impl Kind for Workspace {
    fn name(&self) -> crate::KindName {
        crate::KindName::Workspace
    }
    fn id(&self) -> Option<ResourceId> {
        Some(Workspace::id(self))
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(Workspace::read_request(self))
    }
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.create_request()]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        self.update_request(&live.document).into_iter().collect()
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        Workspace::desired_fields(self)
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        Workspace::live_fields(self, &live.document)
    }
    fn replace_reason(&self, path: &str) -> Option<&'static str> {
        Self::replace_reason(path)
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        foreign_tags(&self.tags, &live.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        let mut tags = Tags::new();
        tags.insert("project", "exai");
        tags.insert(crate::OWNER_TAG, "perso.monitoring");
        Workspace {
            subscription: "sub".into(),
            resource_group: "exai-perso-rg".into(),
            name: "exai-perso-logs".into(),
            location: Location::parse("francecentral").unwrap(),
            retention_days: 30,
            sku: WorkspaceSku::PerGB2018,
            tags,
        }
    }

    /// `WorkspacesGet.json` with the spec's names (its lower-cased id kept), plus tags.
    fn live_example() -> Value {
        json!({
            "properties": {
                "customerId": "5b02755b-5bf4-430c-9487-45502a2a7e62",
                "provisioningState": "Succeeded",
                "sku": { "name": "pergb2018" },
                "retentionInDays": 30,
                "publicNetworkAccessForQuery": "Enabled",
                "publicNetworkAccessForIngestion": "Enabled"
            },
            "id": "/subscriptions/sub/resourcegroups/exai-perso-rg/providers/microsoft.operationalinsights/workspaces/exai-perso-logs",
            "name": "exai-perso-logs",
            "type": "Microsoft.OperationalInsights/workspaces",
            "location": "France Central",
            "tags": { "PROJECT": "exai", "exai-owner": "perso.monitoring", "costCenter": "42" }
        })
    }

    #[test]
    fn live_projection_normalizes_region_tier_and_tag_key_casing() {
        let w = workspace();
        assert_eq!(w.live_fields(&live_example()), w.desired_fields());
    }

    #[test]
    fn create_body_is_the_official_example_shape() {
        let r = workspace().create_request();
        assert_eq!(r.method, Method::Put);
        assert_eq!(r.api_version.as_deref(), Some("2026-03-01"));
        assert_eq!(
            r.body,
            Some(json!({
                "location": "francecentral",
                "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 30},
                "tags": {"exai-owner": "perso.monitoring", "project": "exai"}
            }))
        );
    }

    #[test]
    fn update_patches_only_what_differs() {
        let mut w = workspace();
        w.retention_days = 90;
        let body = w.update_request(&live_example()).and_then(|r| r.body).unwrap_or_default();
        assert_eq!(body, json!({"properties": {"retentionInDays": 90}}));
        assert!(workspace().update_request(&live_example()).is_none());
    }
}
