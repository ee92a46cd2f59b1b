//! `Microsoft.ContainerRegistry/registries`, api-version 2025-11-01.
//!
//! Sources: azure-rest-api-specs `Microsoft.ContainerRegistry/Registry/stable/2025-11-01/
//! containerregistry.json` (operations `Registries_Create` (PUT), `Registries_Update` (PATCH,
//! body `RegistryUpdateParameters`), `Registries_Get`, `Registries_Delete`,
//! `Registries_CheckNameAvailability`; all writes long-running) and its examples
//! `RegistryCreate.json`, `RegistryGet.json`; the body `az acr create` sends (azure-cli
//! `acr/custom.py` `acr_create`). All quoted in docs/azure-facts.md §2.
//!
//! The owned fields are `location` (create-only), `sku.name`, `properties.adminUserEnabled` and
//! the managed tags. Everything else the GET returns — `loginServer`, `creationDate`,
//! `provisioningState`, `policies`, `networkRuleSet`, `sku.tier`, `systemData`, ... — is
//! read-only or a server default and never compared.
//!
//! This module also holds the projections every ARM *tracked* resource of this crate shares
//! (location, tags by key, foreign tags): the registry, the workspace and the data collection
//! rule all use them.

use super::common::{
    canonical_enum, foreign_tags, insert_desired_tags, insert_live_location, insert_live_tags, live_tags, tags_differ,
};
use crate::{ApiRequest, Kind, Known, LiveResource, Location, Method, OwnedFields, ResourceId, Tags};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A registry SKU.
// exai-spec deserializes it directly (`registry.sku`): these doc comments are the descriptions
// in the spec's JSON Schema, written for people who edit `exai.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RegistrySku {
    /// Basic.
    Basic,
    /// Standard (what the recipe uses).
    Standard,
    /// Premium (geo-replication, private endpoints).
    Premium,
}

impl RegistrySku {
    /// The SKU names Azure accepts for new registries (swagger `SkuName`, without the retired
    /// `Classic`), in the casing the swagger spells them.
    pub const NAMES: [&'static str; 3] = ["Basic", "Standard", "Premium"];

    /// Returns the name as the swagger spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "Basic",
            Self::Standard => "Standard",
            Self::Premium => "Premium",
        }
    }
}

/// A container registry as the spec declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registry {
    /// The subscription.
    pub subscription: String,
    /// The resource group.
    pub resource_group: String,
    /// The name (globally unique; `<name>.azurecr.io`).
    pub name: String,
    /// The region.
    pub location: Location,
    /// The SKU.
    pub sku: RegistrySku,
    /// Whether the admin user is enabled.
    pub admin_user_enabled: bool,
    /// The managed tags (spec tags plus the ownership tag).
    pub tags: Tags,
}

/// Owned field: the SKU's name.
const SKU: &str = "sku.name";
/// Owned field: the admin user switch.
const ADMIN_USER: &str = "properties.adminUserEnabled";

impl Registry {
    /// The Azure resource type.
    pub const AZURE_TYPE: &'static str = "Microsoft.ContainerRegistry/registries";
    /// The api-version exai speaks for registries (newest stable swagger; see the module sources).
    pub const API_VERSION: &'static str = "2025-11-01";

    /// Returns the registry's id.
    pub fn id(&self) -> ResourceId {
        ResourceId::in_group(&self.subscription, &self.resource_group, Self::AZURE_TYPE, &self.name)
    }

    /// Returns the GET that reads the registry (404 `ResourceNotFound` when absent).
    pub fn read_request(&self) -> ApiRequest {
        ApiRequest::arm(Method::Get, self.id().as_str(), Self::API_VERSION, None)
    }

    /// Returns the PUT that creates the registry: what `az acr create --sku <sku>` sends
    /// (`location`, `sku.name`, `properties.adminUserEnabled`), plus the managed tags.
    pub fn create_request(&self) -> ApiRequest {
        let body = json!({
            "location": self.location.as_str(),
            "sku": { "name": self.sku.as_str() },
            "properties": { "adminUserEnabled": self.admin_user_enabled },
            "tags": self.tags,
        });
        ApiRequest::arm(Method::Put, self.id().as_str(), Self::API_VERSION, Some(body))
    }

    /// Returns the PATCH (`Registries_Update`) that brings `live` to the owned fields, carrying
    /// only the members that differ; `None` when nothing differs.
    ///
    /// `RegistryUpdateParameters.tags` replaces the whole tag set, so when a managed tag differs
    /// the body carries the live tags merged with the managed ones: tags someone else added stay.
    pub fn update_request(&self, live: &Value) -> Option<ApiRequest> {
        let desired = self.desired_fields();
        let current = self.live_fields(live);
        let differs = |path: &str| desired.get(path) != current.get(path);
        let mut body = Map::new();
        if differs(SKU) {
            body.insert("sku".into(), json!({ "name": self.sku.as_str() }));
        }
        if differs(ADMIN_USER) {
            body.insert("properties".into(), json!({ "adminUserEnabled": self.admin_user_enabled }));
        }
        if tags_differ(&self.tags, live) {
            body.insert("tags".into(), json!(live_tags(live).merged_with(&self.tags)));
        }
        (!body.is_empty())
            .then(|| ApiRequest::arm(Method::Patch, self.id().as_str(), Self::API_VERSION, Some(Value::Object(body))))
    }

    /// Returns the POST that asks whether the registry's name is free across Azure
    /// (`Registries_CheckNameAvailability`: 200 `{"nameAvailable": bool, "reason", "message"}`).
    ///
    /// `az acr create` does not send it, and a taken name fails the PUT with `AlreadyInUse`
    /// after everything before it was created: exai sends it while planning, for a registry
    /// that does not exist in its group yet ([`Kind::preflight_request`]), so a taken name fails
    /// the plan before any write. A registry that exists in the declared group is the caller's
    /// own, not "taken": it is never checked.
    pub fn name_check_request(&self) -> ApiRequest {
        let path =
            format!("/subscriptions/{}/providers/Microsoft.ContainerRegistry/checkNameAvailability", self.subscription);
        let body = json!({ "name": self.name, "type": Self::AZURE_TYPE });
        ApiRequest::arm(Method::Post, path, Self::API_VERSION, Some(body))
    }

    /// Returns why the registry cannot be created, from the answer to
    /// [`Registry::name_check_request`] (`RegistryNameStatus`: `nameAvailable`, `reason`,
    /// `message`; example `registries-checknameavailability-notavailable.json`: reason
    /// `AlreadyExists`, "The registry myRegistry is already in use.").
    pub fn name_refusal(&self, answer: &Value) -> Option<crate::PreflightRefusal> {
        let hint = "a registry name is global across all of Azure (`<name>.azurecr.io`), not only your subscription: choose another `registry.name` in the spec; nothing was changed";
        let refusal = |message: String| Some(crate::PreflightRefusal { message, hint: hint.to_owned() });
        match answer.get("nameAvailable").and_then(Value::as_bool) {
            Some(true) => None,
            Some(false) => {
                let reason = answer.get("reason").and_then(Value::as_str).unwrap_or("not given");
                let said = answer.get("message").and_then(Value::as_str).unwrap_or_default();
                let what = if reason.eq_ignore_ascii_case("AlreadyExists") {
                    "is already in use".to_owned()
                } else {
                    format!("is not available (reason `{reason}`)")
                };
                let said = if said.is_empty() { String::new() } else { format!(": Azure says \"{said}\"") };
                refusal(format!("the registry name `{}` {what}{said}", self.name))
            }
            None => refusal(format!(
                "Azure's answer to the availability check of the registry name `{}` has no `nameAvailable`",
                self.name
            )),
        }
    }

    /// Returns the owned fields as declared.
    pub fn desired_fields(&self) -> OwnedFields {
        let mut fields = OwnedFields::new();
        fields.insert("location".into(), Value::from(self.location.as_str()));
        fields.insert(SKU.into(), Value::from(self.sku.as_str()));
        fields.insert(ADMIN_USER.into(), Value::from(self.admin_user_enabled));
        insert_desired_tags(&mut fields, &self.tags);
        fields
    }

    /// Returns the owned fields as `document` (a GET response) holds them: the region in its
    /// canonical form, the SKU in the swagger's casing, the managed tag keys matched
    /// case-insensitively.
    ///
    /// A GET without `adminUserEnabled` means `false`: the swagger's default for the member.
    pub fn live_fields(&self, document: &Value) -> OwnedFields {
        let mut fields = OwnedFields::new();
        insert_live_location(&mut fields, document);
        if let Some(sku) = document.pointer("/sku/name").and_then(Value::as_str) {
            fields.insert(SKU.into(), Value::from(canonical_enum(sku, &RegistrySku::NAMES)));
        }
        let admin = document.pointer("/properties/adminUserEnabled").and_then(Value::as_bool).unwrap_or(false);
        fields.insert(ADMIN_USER.into(), Value::from(admin));
        insert_live_tags(&mut fields, &self.tags, document);
        fields
    }

    /// Returns why a change of `path` forces the registry to be replaced.
    ///
    /// The swagger marks no registry property create-only besides the ARM `location` (a tracked
    /// resource cannot move); `sku.name` and `adminUserEnabled` are in `RegistryUpdateParameters`.
    pub fn replace_reason(path: &str) -> Option<&'static str> {
        (path == "location").then_some("a registry cannot move to another region once it is created")
    }
}

impl Registry {
    /// The kind's row in the table of kinds ([`crate::KindName::info`]).
    pub const INFO: crate::KindInfo = crate::KindInfo {
        azure_type: Self::AZURE_TYPE,
        destroy_warning: Some("deleting a registry deletes every image in it"),
        orphans: crate::Orphans::GroupScan,
        // Long-running: 202 + `Location`.
        deletion: crate::Deletion::Arm(Self::API_VERSION),
        mark_place: crate::MarkPlace::ArmTag,
    };
}

impl Kind for Registry {
    fn name(&self) -> crate::KindName {
        crate::KindName::Registry
    }
    fn id(&self) -> Option<ResourceId> {
        Some(Registry::id(self))
    }
    fn read_request(&self) -> Option<ApiRequest> {
        Some(Registry::read_request(self))
    }
    fn preflight_request(&self) -> Option<ApiRequest> {
        Some(self.name_check_request())
    }
    fn preflight_refusal(&self, answer: &Value) -> Option<crate::PreflightRefusal> {
        self.name_refusal(answer)
    }
    fn create_requests(&self, _known: Known<'_>) -> Vec<ApiRequest> {
        vec![self.create_request()]
    }
    fn update_requests(&self, live: &LiveResource, _known: Known<'_>) -> Vec<ApiRequest> {
        self.update_request(&live.document).into_iter().collect()
    }
    fn desired_fields(&self, _known: Known<'_>) -> OwnedFields {
        Registry::desired_fields(self)
    }
    fn live_fields(&self, live: &LiveResource) -> OwnedFields {
        Registry::live_fields(self, &live.document)
    }
    fn replace_reason(&self, path: &str) -> Option<&'static str> {
        Self::replace_reason(path)
    }
    fn observed(&self, live: &LiveResource) -> OwnedFields {
        foreign_tags(&self.tags, &live.document)
    }
}

// ---------------------------------------------------------------------------------------------
// Projections shared by the tracked resources of `kinds` (registry, workspace, data collection
// rule). Tag keys are case-insensitive in Azure, and ARM answers regions in display form
// (`France Central`) as often as in name form; both sides are normalized the same way.

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        let mut tags = Tags::new();
        tags.insert("project", "exai");
        tags.insert(crate::OWNER_TAG, "perso.registry");
        Registry {
            subscription: "sub".into(),
            resource_group: "exai-perso-rg".into(),
            name: "exaipersoacr".into(),
            location: Location::parse("francecentral").unwrap(),
            sku: RegistrySku::Standard,
            admin_user_enabled: false,
            tags,
        }
    }

    /// `RegistryGet.json` with the spec's names, and casing noise on region, SKU and tag keys.
    fn live_example() -> Value {
        json!({
            "id": "/subscriptions/sub/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr",
            "name": "exaipersoacr",
            "type": "Microsoft.ContainerRegistry/registries",
            "location": "France Central",
            "tags": { "Project": "exai", "exai-owner": "perso.registry", "costCenter": "42" },
            "sku": { "name": "standard", "tier": "Standard" },
            "properties": {
                "loginServer": "exaipersoacr.azurecr.io",
                "creationDate": "2021-06-15T21:38:26.1537861Z",
                "provisioningState": "Succeeded",
                "adminUserEnabled": false,
                "policies": { "retentionPolicy": { "days": 7, "status": "disabled" } }
            }
        })
    }

    #[test]
    fn live_projection_normalizes_region_sku_and_tag_key_casing() {
        let r = registry();
        assert_eq!(r.live_fields(&live_example()), r.desired_fields());
    }

    #[test]
    fn create_body_is_what_az_acr_create_sends_plus_tags() {
        let r = registry().create_request();
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.path,
            "/subscriptions/sub/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
        );
        assert_eq!(r.api_version.as_deref(), Some("2025-11-01"));
        assert_eq!(
            r.body,
            Some(json!({
                "location": "francecentral",
                "sku": {"name": "Standard"},
                "properties": {"adminUserEnabled": false},
                "tags": {"exai-owner": "perso.registry", "project": "exai"}
            }))
        );
    }

    #[test]
    fn update_patches_only_what_differs_and_keeps_foreign_tags() {
        let mut r = registry();
        r.sku = RegistrySku::Premium;
        let body = r.update_request(&live_example()).and_then(|r| r.body).unwrap_or_default();
        assert_eq!(body, json!({"sku": {"name": "Premium"}}));

        let mut r = registry();
        r.tags.insert("project", "exai2");
        let body = r.update_request(&live_example()).and_then(|r| r.body).unwrap_or_default();
        assert_eq!(body["tags"]["costCenter"], "42");
        assert_eq!(body["tags"]["project"], "exai2");
        assert!(body["tags"].get("Project").is_none(), "the managed key replaces its other casing");
        assert!(body.get("sku").is_none() && body.get("properties").is_none());

        assert!(registry().update_request(&live_example()).is_none());
    }

    #[test]
    fn a_missing_admin_user_member_is_the_swagger_default() {
        let mut live = live_example();
        live["properties"].as_object_mut().map(|p| p.remove("adminUserEnabled"));
        assert_eq!(registry().live_fields(&live)[ADMIN_USER], false);
    }

    #[test]
    fn a_taken_or_unanswered_name_refuses_the_create_and_a_free_one_does_not() {
        let r = registry();
        assert_eq!(r.name_refusal(&json!({"nameAvailable": true})), None);
        let taken = r
            .name_refusal(&json!({"nameAvailable": false, "reason": "AlreadyExists", "message": "The registry exaipersoacr is already in use."}))
            .unwrap();
        assert_eq!(
            taken.message,
            "the registry name `exaipersoacr` is already in use: Azure says \"The registry exaipersoacr is already in use.\""
        );
        assert!(taken.hint.contains("global across all of Azure"), "{}", taken.hint);
        let invalid = r.name_refusal(&json!({"nameAvailable": false, "reason": "Invalid"})).unwrap();
        assert_eq!(invalid.message, "the registry name `exaipersoacr` is not available (reason `Invalid`)");
        assert!(r.name_refusal(&json!({})).unwrap().message.contains("has no `nameAvailable`"));
        assert_eq!(Kind::preflight_request(&r), Some(r.name_check_request()));
    }

    #[test]
    fn name_check_is_the_documented_post() {
        let r = registry().name_check_request();
        assert_eq!(r.path, "/subscriptions/sub/providers/Microsoft.ContainerRegistry/checkNameAvailability");
        assert_eq!(r.body, Some(json!({"name": "exaipersoacr", "type": "Microsoft.ContainerRegistry/registries"})));
    }
}
