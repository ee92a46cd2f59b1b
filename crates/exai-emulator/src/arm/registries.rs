//! `Microsoft.ContainerRegistry/registries`, api-version 2025-11-01 (swagger
//! `Registry/stable/2025-11-01/containerregistry.json`; examples `RegistryCreate.json`,
//! `RegistryGet.json`, `RegistryCheckName{Available,NotAvailable}.json`).
//!
//! PUT, PATCH and DELETE are long-running (`x-ms-long-running-operation`). A registry's name is
//! its DNS name `<name>.azurecr.io`, so it is unique across every subscription of the emulator:
//! creating a taken name answers `AlreadyInUse`, and `checkNameAvailability` answers
//! `AlreadyExists`. Server defaults are those of the swagger and `RegistryGet.json`.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::provider::{
    Provider, WriteContext, location, only_members, optional_object, optional_string, same_location, tags, wrong_type,
};
use super::toolkit::{ArmError, json_object_body, method_not_allowed};
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::json_response;
use crate::state::State;

/// The api-versions accepted: the latest stable, which is also the default of the newest
/// Python SDK (azure-mgmt-containerregistry 15.0.0).
pub(crate) const API_VERSIONS: &[&str] = &["2025-11-01", "2026-09-01-preview"];

/// The ARM resource type.
const RESOURCE_TYPE: &str = "Microsoft.ContainerRegistry/registries";

/// The SKUs a registry can have (`SkuName` without the retired `Classic`).
const SKUS: [&str; 3] = ["Basic", "Standard", "Premium"];

/// Settable members of `RegistryProperties`.
const SETTABLE: [&str; 11] = [
    "adminUserEnabled",
    "networkRuleSet",
    "policies",
    "encryption",
    "dataEndpointEnabled",
    "publicNetworkAccess",
    "networkRuleBypassOptions",
    "networkRuleBypassAllowedForTasks",
    "zoneRedundancy",
    "anonymousPullEnabled",
    "roleAssignmentMode",
];

/// Read-only members of `RegistryProperties` a client may echo back; ignored.
const READ_ONLY: [&str; 6] = [
    "loginServer",
    "creationDate",
    "provisioningState",
    "status",
    "dataEndpointHostNames",
    "privateEndpointConnections",
];

/// The registry provider.
pub(crate) struct Registries;

/// Returns whether a registry name follows the swagger's rules (5 to 50 characters,
/// `^[a-zA-Z0-9]*$`).
fn valid_name(name: &str) -> bool {
    (5..=50).contains(&name.len()) && name.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

/// Returns whether another registry (in any subscription) already has this name.
fn taken(state: &State, own_key: &str, name: &str) -> bool {
    let wanted = name.to_ascii_lowercase();
    state.subscriptions.values().flat_map(|subscription| subscription.resources.keys()).any(|key| {
        let segments: Vec<&str> = key.split('/').collect();
        key != own_key
            && segments.len() == 9
            && segments[6] == "microsoft.containerregistry"
            && segments[7] == "registries"
            && segments[8] == wanted
    })
}

/// Reads `sku` and returns its name in canonical casing.
fn sku(value: &Value) -> Result<&'static str, ArmError> {
    let sku = optional_object("sku", value)?.unwrap_or_default();
    only_members(&sku, "sku.", "Sku", &["name", "tier"])?;
    let name = sku
        .get("name")
        .map(|value| optional_string("sku.name", value))
        .transpose()?
        .flatten()
        .ok_or_else(|| ArmError::invalid_content("Required property 'name' not found in JSON. Path 'sku'"))?;
    SKUS.iter().find(|known| known.eq_ignore_ascii_case(&name)).copied().ok_or_else(|| {
        ArmError::bad_request(
            "InvalidSku",
            format!("The SKU '{name}' is invalid. The supported SKUs are '{}'.", SKUS.join("', '")),
        )
    })
}

/// Checks the types of settable properties (booleans and enumerations).
fn check_properties(properties: &Map<String, Value>) -> Result<(), ArmError> {
    let mut known: Vec<&str> = SETTABLE.to_vec();
    known.extend(READ_ONLY);
    only_members(properties, "properties.", "RegistryProperties", &known)?;
    let enums: [(&str, &[&str]); 4] = [
        ("publicNetworkAccess", &["Enabled", "Disabled"]),
        ("networkRuleBypassOptions", &["AzureServices", "None"]),
        ("zoneRedundancy", &["Enabled", "Disabled"]),
        ("roleAssignmentMode", &["LegacyRegistryPermissions", "AbacRepositoryPermissions"]),
    ];
    for (name, value) in properties {
        let path = format!("properties.{name}");
        match name.as_str() {
            "adminUserEnabled"
            | "dataEndpointEnabled"
            | "networkRuleBypassAllowedForTasks"
            | "anonymousPullEnabled" => {
                if !value.is_boolean() && !value.is_null() {
                    return Err(wrong_type(&path, "a boolean", value));
                }
            }
            "networkRuleSet" | "policies" | "encryption" => {
                optional_object(&path, value)?;
            }
            _ => {
                if let Some((_, allowed)) = enums.iter().find(|(enum_name, _)| enum_name == name)
                    && let Some(text) = optional_string(&path, value)?
                    && !allowed.contains(&text.as_str())
                {
                    return Err(ArmError::bad_request(
                        "InvalidParameter",
                        format!(
                            "The value '{text}' of '{path}' is invalid. Allowed values are '{}'.",
                            allowed.join("', '")
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Returns the server defaults of `RegistryProperties`, as `RegistryGet.json` shows them.
fn default_properties(created: &str) -> Map<String, Value> {
    let defaults = json!({
        "adminUserEnabled": false,
        "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
        "policies": {
            "quarantinePolicy": {"status": "disabled"},
            "trustPolicy": {"type": "Notary", "status": "disabled"},
            "retentionPolicy": {"days": 7, "lastUpdatedTime": created, "status": "disabled"},
            "exportPolicy": {"status": "enabled"},
            "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
        },
        "encryption": {"status": "disabled"},
        "status": null,
        "dataEndpointEnabled": false,
        "dataEndpointHostNames": [],
        "privateEndpointConnections": [],
        "publicNetworkAccess": "Enabled",
        "networkRuleBypassOptions": "AzureServices",
        "networkRuleBypassAllowedForTasks": false,
        "zoneRedundancy": "Disabled",
        "anonymousPullEnabled": false,
        "roleAssignmentMode": "LegacyRegistryPermissions",
    });
    defaults.as_object().cloned().unwrap_or_default()
}

/// Builds a registry body in `RegistryGet.json`'s member order.
fn render(
    context: &WriteContext<'_>,
    location: &str,
    tags: Option<Map<String, Value>>,
    sku: &str,
    identity: Option<Value>,
    properties: Map<String, Value>,
) -> Value {
    let mut body = Map::new();
    body.insert("id".to_owned(), json!(context.id));
    body.insert("name".to_owned(), json!(context.name));
    body.insert("type".to_owned(), json!(RESOURCE_TYPE));
    body.insert("location".to_owned(), json!(location));
    if let Some(tags) = tags {
        body.insert("tags".to_owned(), Value::Object(tags));
    }
    body.insert("sku".to_owned(), json!({"name": sku, "tier": sku}));
    if let Some(identity) = identity {
        body.insert("identity".to_owned(), identity);
    }
    body.insert("properties".to_owned(), Value::Object(properties));
    Value::Object(body)
}

/// Reads `identity`: `None`, `SystemAssigned` (given a principal and tenant) or
/// `UserAssigned` identities, echoed.
fn identity(value: &Value, tenant_id: &str, existing: Option<&Value>) -> Result<Option<Value>, ArmError> {
    let Some(mut identity) = optional_object("identity", value)? else { return Ok(None) };
    only_members(
        &identity,
        "identity.",
        "IdentityProperties",
        &["type", "userAssignedIdentities", "principalId", "tenantId"],
    )?;
    let kind = identity.get("type").map(|value| optional_string("identity.type", value)).transpose()?.flatten();
    let allowed = ["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None"];
    let kind = kind.filter(|kind| allowed.contains(&kind.as_str())).ok_or_else(|| {
        ArmError::bad_request(
            "InvalidIdentityType",
            format!("The identity type must be one of '{}'.", allowed.join("', '")),
        )
    })?;
    if kind.contains("SystemAssigned") {
        let principal = existing
            .and_then(|body| body.pointer("/identity/principalId"))
            .cloned()
            .unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string()));
        identity.insert("principalId".to_owned(), principal);
        identity.insert("tenantId".to_owned(), json!(tenant_id));
    } else {
        identity.remove("principalId");
        identity.remove("tenantId");
    }
    Ok(Some(Value::Object(identity)))
}

impl Provider for Registries {
    fn validate_name(&self, name: &str) -> Result<(), ArmError> {
        if valid_name(name) {
            return Ok(());
        }
        // The code is the emulator's choice (no source quotes ACR's); the rule is the swagger's.
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "The registry name '{name}' is invalid. Registry names must contain only alphanumeric characters, be globally unique, and between 5 and 50 characters in length."
            ),
        ))
    }

    fn put(
        &self,
        shared: &Shared,
        state: &mut State,
        context: &WriteContext<'_>,
        existing: Option<&Value>,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(
            &body,
            "",
            "Registry",
            &["location", "tags", "sku", "identity", "properties", "id", "name", "type", "systemData"],
        )?;
        let location = location(&body)?;
        same_location(existing, location)?;
        let tags = tags(&body)?;
        let sku = sku(body.get("sku").unwrap_or(&Value::Null))?;
        let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
        check_properties(&sent)?;
        if existing.is_none() && taken(state, &context.key, context.name) {
            // HTTP status UNVERIFIED (409 chosen); code and message quoted by the az CLI output in
            // MicrosoftDocs/azure-dev-docs#1303 and Azure/azure-cli#13951.
            return Err(ArmError::new(
                StatusCode::CONFLICT,
                "AlreadyInUse",
                format!(
                    "The registry DNS name {}.azurecr.io is already in use. You can check if the name is already claimed using following API: https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability",
                    context.name.to_ascii_lowercase()
                ),
            ));
        }
        let created = existing
            .and_then(|body| body.pointer("/properties/creationDate"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| shared.clock.now_rfc3339());
        let mut properties = Map::new();
        properties.insert("loginServer".to_owned(), json!(format!("{}.azurecr.io", context.name.to_ascii_lowercase())));
        properties.insert("creationDate".to_owned(), json!(created));
        properties.insert("provisioningState".to_owned(), json!("Succeeded"));
        for (name, default) in default_properties(&created) {
            let value = sent.get(&name).filter(|value| !value.is_null() && SETTABLE.contains(&name.as_str()));
            properties.insert(name, value.cloned().unwrap_or(default));
        }
        let identity =
            identity(body.get("identity").unwrap_or(&Value::Null), &context.subscription.tenant_id, existing)?;
        Ok(render(context, location, tags, sku, identity, properties))
    }

    fn patch(
        &self,
        _shared: &Shared,
        _state: &mut State,
        context: &WriteContext<'_>,
        existing: &Value,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(&body, "", "RegistryUpdateParameters", &["identity", "tags", "sku", "properties"])?;
        let mut updated = existing.clone();
        if let Some(value) = body.get("sku").filter(|value| !value.is_null()) {
            let sku = sku(value)?;
            updated["sku"] = json!({"name": sku, "tier": sku});
        }
        if body.contains_key("tags") {
            match tags(&body)? {
                Some(tags) => updated["tags"] = Value::Object(tags),
                None => {
                    if let Some(object) = updated.as_object_mut() {
                        object.remove("tags");
                    }
                }
            }
        }
        if let Some(value) = body.get("identity") {
            let identity = identity(value, &context.subscription.tenant_id, Some(existing))?;
            if let (Some(object), Some(identity)) = (updated.as_object_mut(), identity) {
                object.insert("identity".to_owned(), identity);
            }
        }
        let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
        only_members(&sent, "properties.", "RegistryPropertiesUpdateParameters", &SETTABLE)?;
        check_properties(&sent)?;
        if let Some(properties) = updated.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, value) in sent {
                if !value.is_null() {
                    properties.insert(name, value);
                }
            }
            properties.insert("provisioningState".to_owned(), json!("Succeeded"));
        }
        Ok(updated)
    }
}

/// `POST /subscriptions/{id}/providers/Microsoft.ContainerRegistry/checkNameAvailability`.
pub(crate) fn check_name_availability(shared: &Shared, request: &Incoming) -> Result<Response, ArmError> {
    super::toolkit::check_api_version(request, API_VERSIONS)?;
    if request.method != Method::POST {
        return Err(method_not_allowed(&request.method, &[Method::POST]));
    }
    let body = json_object_body(request)?;
    only_members(&body, "", "RegistryNameCheckRequest", &["name", "type"])?;
    let required = |member: &str| {
        body.get(member).map(|value| optional_string(member, value)).transpose().map(Option::flatten).and_then(
            |value| {
                value.ok_or_else(|| {
                    ArmError::invalid_content(format!("Required property '{member}' not found in JSON. Path ''"))
                })
            },
        )
    };
    let name = required("name")?;
    let resource_type = required("type")?;
    if !resource_type.eq_ignore_ascii_case(RESOURCE_TYPE) {
        return Err(ArmError::bad_request(
            "InvalidParameter",
            format!("The resource type '{resource_type}' is invalid. It must be set to '{RESOURCE_TYPE}'."),
        ));
    }
    let answer = if !valid_name(&name) {
        // `reason` values other than `AlreadyExists` are UNVERIFIED; `Invalid` is the usual ARM one.
        json!({
            "nameAvailable": false,
            "reason": "Invalid",
            "message": "The registry name must contain only alphanumeric characters, be globally unique, and between 5 and 50 characters in length.",
        })
    } else if taken(&shared.state(), "", &name) {
        json!({"nameAvailable": false, "reason": "AlreadyExists", "message": format!("The registry {name} is already in use.")})
    } else {
        json!({"nameAvailable": true})
    };
    Ok(json_response(StatusCode::OK, &answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names_like_the_swagger() {
        assert!(valid_name("exaiacr1"));
        assert!(valid_name(&"a".repeat(50)));
        for invalid in ["abcd", "has-dash", "has_underscore", &"a".repeat(51)] {
            assert!(!valid_name(invalid), "{invalid}");
        }
    }
}
