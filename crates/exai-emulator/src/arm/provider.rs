//! The ARM provider toolkit: what a resource provider implements ([`Provider`]) and the
//! helpers every provider shares — resource keys and records, entity tags and conditional
//! requests, and the checks of body members (`location`, `tags`, objects and strings). Providers
//! import it, not the tracked-resource router in `arm/resources.rs`.

use axum::http::{StatusCode, header};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::resource_groups;
use super::toolkit::{ArmError, Subscription};
use crate::context::Shared;
use crate::http::Incoming;
use crate::state::{ProvisioningState, ResourceRecord, State};

/// A resource type the emulator models, with what the framework needs to serve it.
pub(crate) struct ResourceType {
    /// The namespace, canonical casing (`Microsoft.ContainerRegistry`).
    pub namespace: &'static str,
    /// The type below the namespace (`registries`).
    pub type_name: &'static str,
    /// The api-versions served, with their sources (see [`super::api_versions`]).
    pub api_versions: &'static super::api_versions::Table,
    /// Whether PUT is long-running.
    pub lro_put: bool,
    /// Whether PATCH is long-running.
    pub lro_patch: bool,
    /// Whether DELETE is long-running.
    pub lro_delete: bool,
    /// The provider.
    pub provider: &'static (dyn Provider + Sync),
}

impl ResourceType {
    /// Returns `Namespace/type`.
    pub fn full_type(&self) -> String {
        format!("{}/{}", self.namespace, self.type_name)
    }
}

/// What a provider is told about a write.
pub(crate) struct WriteContext<'a> {
    /// The subscription.
    pub subscription: &'a Subscription,
    /// The resource group's name as created.
    pub resource_group: String,
    /// The resource's name as sent.
    pub name: &'a str,
    /// The resource's id in ARM's usual casing.
    pub id: String,
    /// The lowercase id the resource is stored under.
    pub key: String,
    /// The api-version of the request, one the type serves: a provider accepts the members
    /// that version defines (see [`super::api_versions::shape`]).
    pub api_version: &'a str,
}

/// A resource provider's part of the framework.
pub(crate) trait Provider {
    /// Checks a resource name on PUT.
    fn validate_name(&self, _name: &str) -> Result<(), ArmError> {
        Ok(())
    }

    /// Returns the body GET answers after a PUT (`existing` is the current body when the PUT
    /// updates a resource).
    fn put(
        &self,
        shared: &Shared,
        state: &mut State,
        context: &WriteContext<'_>,
        existing: Option<&Value>,
        body: Map<String, Value>,
    ) -> Result<Value, ArmError>;

    /// Returns the body GET answers after a PATCH of `existing`.
    fn patch(
        &self,
        _shared: &Shared,
        _state: &mut State,
        _context: &WriteContext<'_>,
        _existing: &Value,
        _body: Map<String, Value>,
    ) -> Result<Value, ArmError> {
        Err(ArmError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The requested resource does not support http method 'PATCH'.",
        ))
    }

    /// The top-level member that carries the entity tag in bodies (`eTag`, `etag`), if any.
    fn etag_member(&self) -> Option<&'static str> {
        None
    }

    /// Shows `state` (`Creating`, `Updating`, `Deleting`) in a body while an operation runs.
    fn mark(&self, body: &mut Value, state: &str) {
        set_provisioning_state(body, state);
    }

    /// Cleans up what a resource owns outside itself when it is deleted (identities,
    /// node resource groups).
    fn on_delete(&self, _state: &mut State, _subscription: &Subscription, _body: &Value) {}

    /// The body a synchronous DELETE answers 200 with (`None`: no body).
    fn delete_body(&self, _body: &Value) -> Option<Value> {
        None
    }
}

/// Sets `properties.provisioningState`.
pub(crate) fn set_provisioning_state(body: &mut Value, state: &str) {
    if let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("provisioningState".to_owned(), json!(state));
    }
}

/// Returns the lowercase key of a resource below a resource group.
pub(crate) fn key(subscription_id: &str, group: &str, kind: &ResourceType, name: &str) -> String {
    format!(
        "/subscriptions/{subscription_id}/resourcegroups/{group}/providers/{}/{}/{name}",
        kind.namespace, kind.type_name
    )
    .to_lowercase()
}

/// Returns the lowercase key of any ARM id (what records are stored under).
pub(crate) fn key_of(id: &str) -> String {
    let trimmed = id.trim_end_matches('/');
    let with_slash = if trimmed.starts_with('/') { trimmed.to_owned() } else { format!("/{trimmed}") };
    with_slash.to_lowercase()
}

/// The 404 for a resource that does not exist (ARM's own message).
pub(crate) fn not_found(kind: &ResourceType, group: &str, name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "The Resource '{}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            kind.full_type()
        ),
    )
}

/// Returns the name (as created) of a resource group that exists and is not being deleted.
pub(crate) fn existing_group(state: &State, subscription_id: &str, group: &str) -> Result<String, ArmError> {
    let record = state
        .subscriptions
        .get(subscription_id)
        .and_then(|subscription| subscription.resource_groups.get(&group.to_lowercase()))
        .ok_or_else(|| resource_groups::not_found(group))?;
    if record.provisioning_state == ProvisioningState::Deleting {
        return Err(resource_groups::being_deleted(&record.name));
    }
    Ok(record.name.clone())
}

/// Returns a resource record by lowercase key.
pub(crate) fn record<'a>(state: &'a State, subscription_id: &str, key: &str) -> Option<&'a ResourceRecord> {
    state.subscriptions.get(subscription_id).and_then(|subscription| subscription.resources.get(key))
}

/// Returns a new entity tag.
pub(crate) fn new_etag() -> String {
    Uuid::new_v4().to_string()
}

/// Strips quotes and a weak marker from an entity tag as a client sent it.
fn bare_etag(value: &str) -> &str {
    let value = value.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    value.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(value)
}

fn precondition_failed(message: String) -> ArmError {
    ArmError::new(StatusCode::PRECONDITION_FAILED, "PreconditionFailed", message)
}

/// Checks `If-Match` and `If-None-Match` (RFC 9110 §13.1) against a resource's entity tag.
///
/// `If-Match` on a resource that does not exist fails, whatever its value; a list of tags is
/// refused (412) unless one matches. `If-None-Match: *` fails when the resource exists.
pub(crate) fn check_conditions(request: &Incoming, existing: Option<&ResourceRecord>) -> Result<(), ArmError> {
    if let Some(value) = request.header(header::IF_MATCH.as_str()) {
        let matches =
            existing.is_some_and(|record| value.split(',').map(bare_etag).any(|tag| tag == "*" || tag == record.etag));
        if !matches {
            return Err(precondition_failed(match existing {
                Some(_) => format!(
                    "The specified precondition 'If-Match = {value}' failed: the resource's current entity tag is different."
                ),
                None => format!("The specified precondition 'If-Match = {value}' failed: the resource does not exist."),
            }));
        }
    }
    if let Some(value) = request.header(header::IF_NONE_MATCH.as_str())
        && let Some(record) = existing
        && value.split(',').map(bare_etag).any(|tag| tag == "*" || tag == record.etag)
    {
        return Err(precondition_failed(format!(
            "The specified precondition 'If-None-Match = {value}' failed: the resource already exists."
        )));
    }
    Ok(())
}

/// The 409 for a write to a resource whose operation is still running.
pub(crate) fn operation_in_progress(name: &str) -> ArmError {
    // The AKS wording (aka.ms/aks-pending-operation); other providers answer the same code.
    ArmError::new(
        StatusCode::CONFLICT,
        "AnotherOperationInProgress",
        format!(
            "Operation is not allowed: Another operation is in progress on '{name}', please wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details"
        ),
    )
}

/// Removes a resource and its extension resources now.
pub(crate) fn remove(state: &mut State, subscription_id: &str, key: &str) {
    if let Some(subscription) = state.subscriptions.get_mut(subscription_id) {
        subscription.resources.remove(key);
        let prefix = format!("{key}/providers/");
        subscription.resources.retain(|id, _| !id.starts_with(&prefix));
    }
    state.dirty = true;
}

/// Reads an optional string member (`null` counts as absent).
pub(crate) fn optional_string(path: &str, value: &Value) -> Result<Option<String>, ArmError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(wrong_type(path, "a string", other)),
    }
}

/// The 400 for a member of the wrong JSON type.
pub(crate) fn wrong_type(path: &str, expected: &str, value: &Value) -> ArmError {
    ArmError::invalid_content(format!(
        "The member '{path}' must be {expected} but is {}. Path '{path}'",
        super::toolkit::json_kind(value)
    ))
}

/// The 400 for a member the resource's schema does not have.
pub(crate) fn unknown_member(path: &str, type_name: &str) -> ArmError {
    ArmError::invalid_content(format!("Could not find member '{path}' on object of type '{type_name}'. Path '{path}'"))
}

/// Returns an object member, refusing other JSON types (`null` counts as absent).
pub(crate) fn optional_object(path: &str, value: &Value) -> Result<Option<Map<String, Value>>, ArmError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(members) => Ok(Some(members.clone())),
        other => Err(wrong_type(path, "an object", other)),
    }
}

/// Checks that every member of an object is one of `known` (or a read-only member in
/// `ignored`, which a client may echo back from a GET).
pub(crate) fn only_members(
    object: &Map<String, Value>,
    prefix: &str,
    type_name: &str,
    known: &[&str],
) -> Result<(), ArmError> {
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(unknown_member(&format!("{prefix}{key}"), type_name)),
        None => Ok(()),
    }
}

/// Reads and normalizes a required `location`.
pub(crate) fn location(body: &Map<String, Value>) -> Result<&'static str, ArmError> {
    let requested = match body.get("location") {
        None | Some(Value::Null) => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
        Some(value) => optional_string("location", value)?.unwrap_or_default(),
    };
    super::locations::normalize(&requested).ok_or_else(|| {
        ArmError::bad_request(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{requested}' is not available for resource type. List of available regions for the resource type is '{}'.",
                super::locations::names()
            ),
        )
    })
}

/// Reads `tags` (ARM's tag rules), `None` when absent or empty.
pub(crate) fn tags(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ArmError> {
    match body.get("tags") {
        None => Ok(None),
        Some(value) => resource_groups::tags(value),
    }
}

/// Refuses a location change on an existing resource.
pub(crate) fn same_location(existing: Option<&Value>, location: &str) -> Result<(), ArmError> {
    if let Some(current) = existing.and_then(|body| body.get("location")).and_then(Value::as_str)
        && current != location
    {
        return Err(ArmError::bad_request(
            "LocationMismatch",
            format!(
                "The resource already exists in location '{current}'. The location of a resource cannot be changed to '{location}'."
            ),
        ));
    }
    Ok(())
}
