//! `Microsoft.Resources/resourceGroups`, api-version 2025-04-01.
//!
//! Sources: azure-rest-api-specs `specification/resources/resource-manager/Microsoft.Resources/
//! stable/2025-04-01/resources.json` (operations `ResourceGroups_CreateOrUpdate`, `_Get`,
//! `_Update`, `_Delete`) and its examples `CreateResourceGroup.json`, `ResourceGroups_Get.json`.

use super::common::{foreign_tags, insert_desired_tags, insert_live_tags, live_tags};
use crate::{ApiRequest, Kind, Known, LiveResource, Location, Method, OWNER_TAG, OwnedFields, ResourceId, Tags};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A resource group as the spec declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// The subscription the group lives in.
    pub subscription: String,
    /// The group's name.
    pub name: String,
    /// The region that holds the group's metadata.
    pub location: Location,
    /// The managed tags: the spec's tags plus [`OWNER_TAG`].
    pub tags: Tags,
}

impl ResourceGroup {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.Resources/resourceGroups";
    /// The api-version exai speaks for resource groups (latest stable, see the module sources).
    pub const API_VERSION: &'static str = "2025-04-01";

    /// Returns the group, with `owner` (its mark's [`crate::Mark::tag_value`]) recorded in the
    /// ownership tag.
    pub fn new(subscription: &str, name: &str, location: Location, spec_tags: Tags, owner: &str) -> Self {
        let mut tags = spec_tags;
        tags.insert(OWNER_TAG, owner);
        Self { subscription: subscription.to_owned(), name: name.to_owned(), location, tags }
    }

    /// Returns the group's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::resource_group(&self.subscription, &self.name)
    }

    // Request paths spell `resourcegroups` in lower case, as the swagger's ResourceGroups_*
    // operations do; ids in response bodies use `resourceGroups`. ARM accepts both.
    fn path(&self) -> String {
        format!("/subscriptions/{}/resourcegroups/{}", self.subscription, self.name)
    }

    /// Returns the GET that reads the group (404 `ResourceGroupNotFound` when absent).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.path(), Self::API_VERSION, None)
    }

    /// Returns the PUT that creates the group. The body is what `az group create` sends:
    /// `location` and `tags`, nothing else.
    pub fn create_request(&self) -> ApiRequest {
        let body = json!({ "location": self.location.as_str(), "tags": self.tags });
        ApiRequest::arm(Method::Put, self.path(), Self::API_VERSION, Some(body))
    }

    /// Returns the PATCH that sets the managed tags on `live`, keeping every other tag.
    ///
    /// `ResourceGroups_Update` replaces the whole `tags` object, so the body carries the live
    /// tags merged with the managed ones; `location` is immutable and never sent.
    pub fn update_request(&self, live: &crate::LiveResource) -> ApiRequest {
        let merged = live_tags(&live.document).merged_with(&self.tags);
        ApiRequest::arm(Method::Patch, self.path(), Self::API_VERSION, Some(json!({ "tags": merged })))
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("location".into(), Value::from(self.location.as_str()));
        insert_desired_tags(&mut fields, &self.tags);
        fields
    }

    /// Returns the owned fields as `document` (a GET response) holds them.
    ///
    /// Only the managed tag keys are projected, matched case-insensitively (Azure tag keys are
    /// case-insensitive); a managed key Azure does not hold is simply absent.
    pub fn live_fields(&self, document: &Value) -> OwnedFields {
        let mut fields = OwnedFields::new();
        if let Some(location) = document.get("location").and_then(Value::as_str) {
            fields.insert("location".into(), Value::from(Location::from_azure(location).as_str()));
        }
        insert_live_tags(&mut fields, &self.tags, document);
        fields
    }

    /// Returns the tags `document` holds that the spec does not manage.
    pub fn observed(&self, document: &Value) -> OwnedFields {
        foreign_tags(&self.tags, document)
    }

    /// Returns why a change of `path` forces the group to be replaced.
    pub fn replace_reason(path: &str) -> Option<&'static str> {
        (path == "location").then_some("a resource group's location cannot be changed once it is created")
    }
}

impl ResourceGroup {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some("deleting a resource group deletes every resource in it"),
        // Finding a group that left the spec means scanning the whole subscription.
        orphans: crate::Orphans::NotSought,
        // Asynchronous: 202 + `Location`.
        deletion: crate::Deletion::Arm(Self::API_VERSION),
        mark_place: crate::MarkPlace::ArmTag,
    };
}

impl Kind for ResourceGroup {
    fn name(&self) -> crate::KindName {
        crate::KindName::ResourceGroup
    }
    fn id(&self) -> Option<ResourceId> {
        Some(ResourceGroup::id(self))
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(ResourceGroup::read_request(self))
    }
    fn scan_request(&self) -> Option<ApiRequest> {
        Some(crate::ownership_scan(&self.subscription, &self.name))
    }
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.create_request()]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.update_request(live)]
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        ResourceGroup::desired_fields(self)
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        ResourceGroup::live_fields(self, &live.document)
    }
    fn replace_reason(&self, path: &str) -> Option<&'static str> {
        Self::replace_reason(path)
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        ResourceGroup::observed(self, &live.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> ResourceGroup {
        let tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
        ResourceGroup::new(
            "sub",
            "exai-perso-rg",
            Location::parse("francecentral").unwrap(),
            tags,
            "perso.resourceGroup",
        )
    }

    /// The official example `ResourceGroups_Get.json`, with the spec's names and casing noise.
    fn live_example() -> Value {
        json!({
            "id": "/subscriptions/sub/resourceGroups/exai-perso-rg",
            "name": "exai-perso-rg",
            "type": "Microsoft.Resources/resourceGroups",
            "location": "France Central",
            "tags": { "Project": "exai", "exai-owner": "perso.resourceGroup", "costCenter": "42" },
            "properties": { "provisioningState": "Succeeded" }
        })
    }

    #[test]
    fn live_projection_normalizes_region_and_tag_key_casing() {
        let rg = group();
        assert_eq!(rg.live_fields(&live_example()), rg.desired_fields());
    }

    #[test]
    fn foreign_tags_are_observed_not_owned() {
        let observed = group().observed(&live_example());
        assert_eq!(observed.len(), 1);
        assert_eq!(observed["tags.costCenter"], "42");
    }

    #[test]
    fn create_body_is_location_and_tags_only() {
        let r = group().create_request();
        assert_eq!(r.method, Method::Put);
        assert_eq!(r.path, "/subscriptions/sub/resourcegroups/exai-perso-rg");
        assert_eq!(
            r.body,
            Some(
                json!({"location": "francecentral", "tags": {"exai-owner": "perso.resourceGroup", "project": "exai"}})
            )
        );
    }

    #[test]
    fn update_keeps_foreign_tags() {
        let live = crate::LiveResource { id: group().id(), document: live_example() };
        let body = group().update_request(&live).body.unwrap();
        assert_eq!(body["tags"]["costCenter"], "42");
        assert_eq!(body["tags"]["project"], "exai");
        assert!(body.get("location").is_none());
    }
}
