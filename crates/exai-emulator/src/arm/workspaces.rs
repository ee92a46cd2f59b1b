//! `Microsoft.OperationalInsights/workspaces`, api-versions 2026-03-01 (latest stable, readme
//! tag `package-2026-03-01`) and 2025-07-01 (the default of azure-mgmt-loganalytics 14.0.0),
//! served in every api-version of `api_versions::WORKSPACES`; 2015-11-01-preview (what the az
//! CLI's generic client sends) with that version's members only (`api_versions::shape`).
//!
//! Shapes follow the official examples `WorkspacesCreate.json` and `WorkspacesGet.json`,
//! including their `id`, which ARM answers lower-cased
//! (`/subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.operationalinsights/workspaces/{name}`)
//! while `name` keeps its casing. PUT (201 `Creating`, then `Succeeded`) and DELETE are
//! long-running; PATCH (`Workspaces_Update`) is synchronous.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::api_versions::shape;
use super::provider::{
    Provider, WriteContext, location, only_members, optional_object, same_location, tags, wrong_type,
};
use super::toolkit::ArmError;
use crate::context::Shared;
use crate::state::State;

/// The ARM resource type.
const RESOURCE_TYPE: &str = "Microsoft.OperationalInsights/workspaces";

/// The pricing tiers of `WorkspaceSku.name`.
const SKUS: [&str; 8] =
    ["Free", "Standard", "Premium", "PerNode", "PerGB2018", "Standalone", "CapacityReservation", "LACluster"];

/// Settable members of `WorkspaceProperties`.
const SETTABLE: [&str; 10] = [
    "sku",
    "retentionInDays",
    "publicNetworkAccessForIngestion",
    "publicNetworkAccessForQuery",
    "features",
    "workspaceCapping",
    "forceCmkForQuery",
    "defaultDataCollectionRuleResourceId",
    "replication",
    "failover",
];

/// Read-only members of `WorkspaceProperties` a client may echo back; ignored.
const READ_ONLY: [&str; 5] =
    ["customerId", "provisioningState", "createdDate", "modifiedDate", "privateLinkScopedResources"];

/// The retention a workspace gets when none is given, in days (the examples' value).
const DEFAULT_RETENTION_DAYS: i64 = 30;

/// The workspace provider.
pub(crate) struct Workspaces;

/// Returns the members of `WorkspaceProperties` a write in `api_version` may send: the settable
/// and read-only ones that version defines (see `api_versions::shape`).
fn known_properties(api_version: &str) -> Vec<&'static str> {
    let defined = shape::workspace_properties(api_version);
    SETTABLE
        .iter()
        .chain(&READ_ONLY)
        .copied()
        .filter(|member| defined.is_none_or(|defined| defined.contains(member)))
        .collect()
}

fn invalid(message: String) -> ArmError {
    ArmError::bad_request("InvalidParameter", message)
}

/// Checks and applies settable properties onto `properties`.
fn apply(properties: &mut Map<String, Value>, sent: &Map<String, Value>) -> Result<(), ArmError> {
    for (name, value) in sent {
        if value.is_null() || READ_ONLY.contains(&name.as_str()) {
            continue;
        }
        let path = format!("properties.{name}");
        match name.as_str() {
            "sku" => {
                let sku = optional_object(&path, value)?.unwrap_or_default();
                only_members(
                    &sku,
                    "properties.sku.",
                    "WorkspaceSku",
                    &["name", "capacityReservationLevel", "lastSkuUpdate"],
                )?;
                let requested = sku.get("name").and_then(Value::as_str).unwrap_or_default();
                let name = SKUS.iter().find(|known| known.eq_ignore_ascii_case(requested)).ok_or_else(|| {
                    invalid(format!("The SKU '{requested}' is invalid. Supported SKUs are '{}'.", SKUS.join("', '")))
                })?;
                properties.insert("sku".to_owned(), json!({"name": name}));
            }
            "retentionInDays" => {
                let days = value.as_i64().ok_or_else(|| wrong_type(&path, "an integer", value))?;
                // Stricter than Azure for the Free tier (7 days) and long-term retention: 30 to 730.
                if !(30..=730).contains(&days) {
                    return Err(invalid(format!(
                        "The retention period '{days}' is invalid. Retention must be between 30 and 730 days."
                    )));
                }
                properties.insert(name.clone(), json!(days));
            }
            "publicNetworkAccessForIngestion" | "publicNetworkAccessForQuery" => {
                let text = value.as_str().ok_or_else(|| wrong_type(&path, "a string", value))?;
                if !["Enabled", "Disabled", "SecuredByPerimeter"].contains(&text) {
                    return Err(invalid(format!("The value '{text}' of '{path}' is invalid.")));
                }
                properties.insert(name.clone(), json!(text));
            }
            "forceCmkForQuery" => {
                if !value.is_boolean() {
                    return Err(wrong_type(&path, "a boolean", value));
                }
                properties.insert(name.clone(), value.clone());
            }
            _ => {
                properties.insert(name.clone(), value.clone());
            }
        }
    }
    Ok(())
}

impl Provider for Workspaces {
    fn validate_name(&self, name: &str) -> Result<(), ArmError> {
        // Swagger: minLength 4, maxLength 63, `^[A-Za-z0-9][A-Za-z0-9-]+[A-Za-z0-9]$`.
        let bytes = name.as_bytes();
        let valid = (4..=63).contains(&bytes.len())
            && bytes.iter().all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-')
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
        if valid {
            return Ok(());
        }
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!(
                "The workspace name '{name}' is invalid. It must be 4 to 63 characters long, contain only letters, digits and hyphens, and begin and end with a letter or digit."
            ),
        ))
    }

    fn put(
        &self,
        _shared: &Shared,
        _state: &mut State,
        context: &WriteContext<'_>,
        existing: Option<&Value>,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(
            &body,
            "",
            "Workspace",
            &["location", "tags", "properties", "etag", "id", "name", "type", "systemData"],
        )?;
        let location = location(&body)?;
        same_location(existing, location)?;
        let tags = tags(&body)?;
        let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
        only_members(&sent, "properties.", "WorkspaceProperties", &known_properties(context.api_version))?;
        let customer_id = existing
            .and_then(|body| body.pointer("/properties/customerId"))
            .cloned()
            .unwrap_or_else(|| json!(Uuid::new_v4().to_string()));
        let mut properties = Map::new();
        properties.insert("customerId".to_owned(), customer_id);
        properties.insert("provisioningState".to_owned(), json!("Succeeded"));
        properties.insert("publicNetworkAccessForIngestion".to_owned(), json!("Enabled"));
        properties.insert("publicNetworkAccessForQuery".to_owned(), json!("Enabled"));
        properties.insert("retentionInDays".to_owned(), json!(DEFAULT_RETENTION_DAYS));
        properties.insert("sku".to_owned(), json!({"name": "PerGB2018"}));
        apply(&mut properties, &sent)?;

        let mut rendered = Map::new();
        rendered.insert("name".to_owned(), json!(context.name));
        rendered.insert("type".to_owned(), json!(RESOURCE_TYPE));
        // As in the official examples: the provider answers its id lower-cased.
        rendered.insert("id".to_owned(), json!(context.id.to_lowercase()));
        rendered.insert("location".to_owned(), json!(location));
        rendered.insert("properties".to_owned(), Value::Object(properties));
        if let Some(tags) = tags {
            rendered.insert("tags".to_owned(), Value::Object(tags));
        }
        Ok(Value::Object(rendered))
    }

    fn patch(
        &self,
        _shared: &Shared,
        _state: &mut State,
        context: &WriteContext<'_>,
        existing: &Value,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        only_members(&body, "", "WorkspacePatch", &["properties", "tags", "identity", "etag"])?;
        if body.contains_key("identity") {
            return Err(ArmError::new(
                StatusCode::BAD_REQUEST,
                "InvalidParameter",
                "The exai emulator does not model workspace identities; leave 'identity' out.",
            ));
        }
        let mut updated = existing.clone();
        let sent = optional_object("properties", body.get("properties").unwrap_or(&Value::Null))?.unwrap_or_default();
        only_members(&sent, "properties.", "WorkspaceProperties", &known_properties(context.api_version))?;
        if let Some(properties) = updated.get_mut("properties").and_then(Value::as_object_mut) {
            apply(properties, &sent)?;
        }
        if body.contains_key("tags")
            && let Some(object) = updated.as_object_mut()
        {
            match tags(&body)? {
                Some(tags) => {
                    object.insert("tags".to_owned(), Value::Object(tags));
                }
                None => {
                    object.remove("tags");
                }
            }
        }
        Ok(updated)
    }
}
