//! `Microsoft.Resources/resourceGroups`, api-version 2025-04-01's shape, served in every
//! api-version of `api_versions::RESOURCES`.
//!
//! `PUT|GET|HEAD|PATCH|DELETE /subscriptions/{id}/resourcegroups/{name}` and
//! `GET /subscriptions/{id}/resourcegroups` (optionally filtered by tag). Shapes follow the
//! official examples (`CreateResourceGroup.json`, `ResourceGroups_Get.json`); names and paths
//! are case-insensitive, and a group keeps the casing it was created with. PUT is synchronous
//! (201 then 200); DELETE is a long-running operation polled through `Location`.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::toolkit::{ArmError, Subscription, check_api_version, json_kind, json_object_body, method_not_allowed};
use super::{filter, locations};
use crate::context::Shared;
use crate::http::Incoming;
use crate::http::{empty_response, json_response};
use crate::state::{OperationKind, OperationRecord, OperationStatus, ProvisioningState, ResourceGroupRecord};

/// The api-versions the resource-group routes support.
pub(crate) const API_VERSIONS: &[&str] = super::api_versions::RESOURCES.versions;

/// The ARM resource type.
const RESOURCE_TYPE: &str = "Microsoft.Resources/resourceGroups";

/// The longest resource-group name, in UTF-16 code units (how .NET counts string length).
const MAX_NAME_LENGTH: usize = 90;
/// The most tags a resource group can carry.
const MAX_TAGS: usize = 50;
/// The longest tag name, in UTF-16 code units.
const MAX_TAG_NAME_LENGTH: usize = 512;
/// The longest tag value, in UTF-16 code units.
const MAX_TAG_VALUE_LENGTH: usize = 256;
/// Characters ARM refuses in tag names.
const RESERVED_TAG_CHARACTERS: &str = "<>%&\\?/";

/// Returns a resource group as ARM shows it.
pub(crate) fn to_json(subscription_id: &str, group: &ResourceGroupRecord) -> Value {
    let mut body = Map::new();
    body.insert("id".to_owned(), json!(format!("/subscriptions/{subscription_id}/resourceGroups/{}", group.name)));
    body.insert("name".to_owned(), json!(group.name));
    body.insert("type".to_owned(), json!(RESOURCE_TYPE));
    body.insert("location".to_owned(), json!(group.location));
    if let Some(tags) = &group.tags {
        body.insert("tags".to_owned(), Value::Object(tags.clone()));
    }
    if let Some(managed_by) = &group.managed_by {
        body.insert("managedBy".to_owned(), json!(managed_by));
    }
    body.insert("properties".to_owned(), json!({"provisioningState": group.provisioning_state.as_str()}));
    Value::Object(body)
}

/// `GET /subscriptions/{id}/resourcegroups` (`ResourceGroups_List`): every group, as GET
/// shows it, optionally filtered by tag: `tagName eq '...'` or `tagName eq '...' and tagValue eq
/// '...'` (see [`filter`]). Any other filter is refused (400 `InvalidFilter`): stricter than
/// Azure.
pub(crate) fn collection(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
) -> Result<Response, ArmError> {
    check_api_version(request, API_VERSIONS)?;
    if request.method != Method::GET {
        return Err(method_not_allowed(&request.method, &[Method::GET]));
    }
    let text = filter::text(request);
    let tag_filter = filter::parse(&text).and_then(|clauses| filter::TagFilter::from_clauses(&clauses));
    // An empty filter is no filter; anything else must be one of the two tag filters.
    if tag_filter.is_none() && !text.trim().is_empty() {
        return Err(ArmError::bad_request(
            "InvalidFilter",
            format!(
                "The filter '{text}' is not supported. Supported filters are 'tagName eq '...'' and 'tagName eq '...' and tagValue eq '...''."
            ),
        ));
    }
    let state = shared.state();
    let value: Vec<Value> = state
        .subscriptions
        .get(&subscription.id)
        .map(|record| {
            record
                .resource_groups
                .values()
                .filter(|group| tag_filter.as_ref().is_none_or(|tag_filter| tag_filter.matches(group.tags.as_ref())))
                .map(|group| to_json(&subscription.id, group))
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &json!({"value": value})))
}

/// `PUT|GET|HEAD|PATCH|DELETE /subscriptions/{id}/resourcegroups/{name}`.
pub(crate) fn item(
    shared: &Shared,
    request: &Incoming,
    subscription: &Subscription,
    name: &str,
) -> Result<Response, ArmError> {
    check_api_version(request, API_VERSIONS)?;
    let allowed = [Method::GET, Method::HEAD, Method::PUT, Method::PATCH, Method::DELETE];
    if !allowed.contains(&request.method) {
        return Err(method_not_allowed(&request.method, &allowed));
    }
    validate_name(name)?;
    let subscription_id = subscription.id.as_str();
    match request.method {
        Method::PUT => create_or_update(shared, request, subscription_id, name),
        Method::PATCH => update(shared, request, subscription_id, name),
        Method::DELETE => delete(shared, request, subscription_id, name),
        Method::HEAD => {
            let exists = find(shared, subscription_id, name).is_some();
            Ok(empty_response(if exists { StatusCode::NO_CONTENT } else { StatusCode::NOT_FOUND }))
        }
        _ => match find(shared, subscription_id, name) {
            Some(group) => Ok(json_response(StatusCode::OK, &to_json(subscription_id, &group))),
            None => Err(not_found(name)),
        },
    }
}

/// The 404 for a resource group that does not exist.
pub(crate) fn not_found(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        format!("Resource group '{name}' could not be found."),
    )
}

/// The 409 for a write to a resource group being deleted.
pub(crate) fn being_deleted(name: &str) -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "ResourceGroupBeingDeleted",
        format!("The resource group '{name}' is in deprovisioning state and cannot perform this operation."),
    )
}

fn find(shared: &Shared, subscription_id: &str, name: &str) -> Option<ResourceGroupRecord> {
    shared
        .state()
        .subscriptions
        .get(subscription_id)
        .and_then(|subscription| subscription.resource_groups.get(&name.to_lowercase()).cloned())
}

/// Returns the number of UTF-16 code units in a string: how ARM (.NET) measures length.
fn utf16_length(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Returns whether ARM allows a character in a resource-group name (`^[-\w\._\(\)]+$`).
///
/// .NET's `\w` is letters, non-spacing marks, decimal digits and connector punctuation. Outside
/// ASCII this accepts alphabetic characters that are not numeric, which is no looser.
fn is_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric()
        || "-_.()".contains(character)
        || (!character.is_ascii() && character.is_alphabetic() && !character.is_numeric())
}

fn validate_name(name: &str) -> Result<(), ArmError> {
    let mut invalid: Vec<char> = Vec::new();
    for character in name.chars() {
        if !is_name_character(character) && !invalid.contains(&character) {
            invalid.push(character);
        }
    }
    if !invalid.is_empty() {
        let invalid: String = invalid.into_iter().collect();
        return Err(ArmError::bad_request(
            "InvalidResourceGroup",
            format!(
                "The provided resource group name '{name}' has these invalid characters: '{invalid}'. The name can only be a letter, digit, '-', '.', '(', ')' or '_'."
            ),
        ));
    }
    let length = utf16_length(name);
    if length == 0 || length > MAX_NAME_LENGTH {
        return Err(ArmError::bad_request(
            "InvalidResourceGroup",
            format!(
                "The provided resource group name '{name}' is {length} characters long. Resource group names must be 1 to {MAX_NAME_LENGTH} characters long."
            ),
        ));
    }
    if name.ends_with('.') {
        return Err(ArmError::bad_request(
            "InvalidResourceGroup",
            format!(
                "The provided resource group name '{name}' ends with a period. Resource group names only allow alphanumeric characters, periods, underscores, hyphens and parenthesis and cannot end in a period."
            ),
        ));
    }
    Ok(())
}

/// The members of a PUT body.
struct Definition {
    location: Option<String>,
    tags: Option<Map<String, Value>>,
    managed_by: Option<String>,
}

/// The members of a PATCH body; `Some(None)` means the member was sent as `null`.
struct Patch {
    tags: Option<Option<Map<String, Value>>>,
    managed_by: Option<Option<String>>,
}

fn unknown_member(name: &str, type_name: &str) -> ArmError {
    ArmError::invalid_content(format!("Could not find member '{name}' on object of type '{type_name}'. Path '{name}'"))
}

fn wrong_type(name: &str, expected: &str, value: &Value) -> ArmError {
    ArmError::invalid_content(format!(
        "The member '{name}' must be {expected} but is {}. Path '{name}'",
        json_kind(value)
    ))
}

/// Reads an optional string member (`null` counts as absent).
fn optional_string(name: &str, value: &Value) -> Result<Option<String>, ArmError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        other => Err(wrong_type(name, "a string", other)),
    }
}

/// Reads a `tags` member: an object of strings, checked against ARM's tag rules.
pub(crate) fn tags(value: &Value) -> Result<Option<Map<String, Value>>, ArmError> {
    let tags = match value {
        Value::Null => return Ok(None),
        Value::Object(tags) => tags,
        other => return Err(wrong_type("tags", "an object", other)),
    };
    if tags.len() > MAX_TAGS {
        return Err(ArmError::bad_request(
            "InvalidTagCount",
            format!("The resource group has {} tags. A resource group can have at most {MAX_TAGS} tags.", tags.len()),
        ));
    }
    let mut reserved = Vec::new();
    for (name, tag_value) in tags {
        let Value::String(tag_value) = tag_value else {
            return Err(wrong_type(&format!("tags.{name}"), "a string", tag_value));
        };
        if name.is_empty() {
            return Err(ArmError::bad_request(
                "InvalidTagName",
                "The tag name '' is invalid. Tag names cannot be empty.",
            ));
        }
        if utf16_length(name) > MAX_TAG_NAME_LENGTH {
            return Err(ArmError::bad_request(
                "InvalidTagName",
                format!(
                    "Tag key too large. Following tag name '{name}' exceeded the maximum length. Maximum allowed length for tag name - '{MAX_TAG_NAME_LENGTH}' characters."
                ),
            ));
        }
        if utf16_length(tag_value) > MAX_TAG_VALUE_LENGTH {
            return Err(ArmError::bad_request(
                "InvalidTagName",
                format!(
                    "Tag value too large. Following tag value '{tag_value}' exceeded the maximum length. Maximum allowed length for tag value - '{MAX_TAG_VALUE_LENGTH}' characters."
                ),
            ));
        }
        if name.chars().any(|character| RESERVED_TAG_CHARACTERS.contains(character) || character.is_control()) {
            reserved.push(name.as_str());
        }
    }
    if !reserved.is_empty() {
        return Err(ArmError::bad_request(
            "InvalidTagNameCharacters",
            format!(
                "The tag names '{}' have reserved characters '<,>,%,&,\\,?,/' or control characters.",
                reserved.join(",")
            ),
        ));
    }
    // Tag names are case-insensitive in ARM: two names differing only in case are one tag.
    let names: Vec<&String> = tags.keys().collect();
    for (index, name) in names.iter().enumerate() {
        if let Some(other) = names[index + 1..].iter().find(|other| other.to_lowercase() == name.to_lowercase()) {
            return Err(ArmError::bad_request(
                "InvalidTagName",
                format!(
                    "The tag names '{name}' and '{other}' differ only in case. Tag names are case-insensitive, so a resource cannot carry both."
                ),
            ));
        }
    }
    Ok((!tags.is_empty()).then(|| tags.clone()))
}

/// Checks `properties` in a body: ARM allows only the read-only `provisioningState`, ignored.
fn properties(value: &Value, type_name: &str) -> Result<(), ArmError> {
    match value {
        Value::Null => Ok(()),
        Value::Object(members) => match members.keys().find(|key| *key != "provisioningState") {
            Some(key) => Err(unknown_member(&format!("properties.{key}"), type_name)),
            None => Ok(()),
        },
        other => Err(wrong_type("properties", "an object", other)),
    }
}

fn parse_definition(body: &Map<String, Value>) -> Result<Definition, ArmError> {
    let mut definition = Definition { location: None, tags: None, managed_by: None };
    for (name, value) in body {
        match name.as_str() {
            "location" => definition.location = optional_string(name, value)?,
            "tags" => definition.tags = tags(value)?,
            "managedBy" => definition.managed_by = optional_string(name, value)?,
            "properties" => properties(value, "ResourceGroup")?,
            // Read-only members a client may echo back from a GET; ARM ignores them.
            "id" | "name" | "type" => {
                optional_string(name, value)?;
            }
            other => return Err(unknown_member(other, "ResourceGroup")),
        }
    }
    Ok(definition)
}

fn parse_patch(body: &Map<String, Value>) -> Result<Patch, ArmError> {
    let mut patch = Patch { tags: None, managed_by: None };
    for (name, value) in body {
        match name.as_str() {
            "tags" => patch.tags = Some(tags(value)?),
            "managedBy" => patch.managed_by = Some(optional_string(name, value)?),
            "properties" => properties(value, "ResourceGroupPatchable")?,
            "name" => {
                optional_string(name, value)?;
            }
            other => return Err(unknown_member(other, "ResourceGroupPatchable")),
        }
    }
    Ok(patch)
}

fn create_or_update(
    shared: &Shared,
    request: &Incoming,
    subscription_id: &str,
    name: &str,
) -> Result<Response, ArmError> {
    let body = json_object_body(request)?;
    let definition = parse_definition(&body)?;
    let requested_location = definition.location.ok_or_else(|| {
        ArmError::bad_request("LocationRequired", "The location property is required for this definition.")
    })?;
    let location = locations::normalize(&requested_location).ok_or_else(|| {
        ArmError::bad_request(
            "LocationNotAvailableForResourceGroup",
            format!(
                "The provided location '{requested_location}' is not available for resource group. List of available regions is '{}'.",
                locations::names()
            ),
        )
    })?;

    let mut state = shared.state();
    let subscription = state.subscriptions.get_mut(subscription_id).ok_or_else(|| not_found(name))?;
    let key = name.to_lowercase();
    let (status, group) = match subscription.resource_groups.get_mut(&key) {
        Some(group) => {
            if group.provisioning_state == ProvisioningState::Deleting {
                return Err(being_deleted(&group.name));
            }
            if group.location != location {
                return Err(ArmError::new(
                    StatusCode::CONFLICT,
                    "InvalidResourceGroupLocation",
                    format!(
                        "Invalid resource group location '{requested_location}'. The Resource group already exists in location '{}'.",
                        group.location
                    ),
                ));
            }
            // PUT replaces the whole definition: tags or managedBy left out are removed.
            group.tags = definition.tags;
            group.managed_by = definition.managed_by;
            (StatusCode::OK, group.clone())
        }
        None => {
            let group = ResourceGroupRecord {
                name: name.to_owned(),
                location: location.to_owned(),
                tags: definition.tags,
                managed_by: definition.managed_by,
                provisioning_state: ProvisioningState::Succeeded,
            };
            subscription.resource_groups.insert(key, group.clone());
            (StatusCode::CREATED, group)
        }
    };
    state.dirty = true;
    Ok(json_response(status, &to_json(subscription_id, &group)))
}

fn update(shared: &Shared, request: &Incoming, subscription_id: &str, name: &str) -> Result<Response, ArmError> {
    let body = json_object_body(request)?;
    let patch = parse_patch(&body)?;
    let mut state = shared.state();
    let group = state
        .subscriptions
        .get_mut(subscription_id)
        .and_then(|subscription| subscription.resource_groups.get_mut(&name.to_lowercase()))
        .ok_or_else(|| not_found(name))?;
    if group.provisioning_state == ProvisioningState::Deleting {
        return Err(being_deleted(&group.name));
    }
    if let Some(tags) = patch.tags {
        group.tags = tags;
    }
    if let Some(managed_by) = patch.managed_by {
        group.managed_by = managed_by;
    }
    let group = group.clone();
    state.dirty = true;
    Ok(json_response(StatusCode::OK, &to_json(subscription_id, &group)))
}

fn delete(shared: &Shared, request: &Incoming, subscription_id: &str, name: &str) -> Result<Response, ArmError> {
    let delay_ms = i64::try_from(shared.delete_delay.as_millis()).unwrap_or(i64::MAX);
    let now_ms = shared.clock.now_unix_ms();
    let mut state = shared.state();
    let subscription = state.subscriptions.get_mut(subscription_id).ok_or_else(|| not_found(name))?;
    let key = name.to_lowercase();
    let group = subscription.resource_groups.get_mut(&key).ok_or_else(|| not_found(name))?;
    if group.provisioning_state == ProvisioningState::Deleting {
        return Err(being_deleted(&group.name));
    }
    group.provisioning_state = ProvisioningState::Deleting;
    // ARM's operation ids are opaque base64 of a job description; the random part keeps a
    // delete of a re-created group from colliding with an earlier one.
    let suffix: u32 = rand::random();
    let job = json!({
        "jobId": format!(
            "RESOURCEGROUPDELETIONJOB-{}-{}:{suffix:08X}",
            group.name.to_uppercase(),
            group.location.to_uppercase()
        ),
        "jobLocation": group.location,
    });
    let operation_id = URL_SAFE_NO_PAD.encode(job.to_string());
    subscription.operations.insert(
        operation_id.clone(),
        OperationRecord {
            operation: OperationKind::DeleteResourceGroup { resource_group: key },
            status: OperationStatus::Running,
            started_at_ms: now_ms,
            completes_at_ms: now_ms.saturating_add(delay_ms),
        },
    );
    state.dirty = true;
    drop(state);

    let location = super::operations::location(request, shared, subscription_id, &operation_id);
    let mut response = empty_response(StatusCode::ACCEPTED);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    headers.insert(header::RETRY_AFTER, HeaderValue::from(shared.delete_delay.as_secs()));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names_like_arm() {
        for valid in ["exai-perso-rg", "a", "rg_(1).x", "café", &"a".repeat(90)] {
            assert!(validate_name(valid).is_ok(), "{valid} refused");
        }
        for invalid in ["", "a.", "a b", "a/b", "a\"b", "ⅻ", &"a".repeat(91)] {
            assert!(validate_name(invalid).is_err(), "{invalid} accepted");
        }
    }

    #[test]
    fn checks_tags() {
        assert!(tags(&json!({"env": "dev"})).is_ok());
        assert!(matches!(tags(&json!({})), Ok(None)));
        let error = |value: Value| tags(&value).err().map(|error| error.code);
        assert_eq!(error(json!({"a/b": "x"})), Some("InvalidTagNameCharacters"));
        assert_eq!(error(json!({"a": 1})), Some("InvalidRequestContent"));
        assert_eq!(error(json!({"Env": "a", "env": "b"})), Some("InvalidTagName"));
        assert_eq!(error(json!({"a": "v".repeat(257)})), Some("InvalidTagName"));
        assert_eq!(error(json!({"k".repeat(513): "v"})), Some("InvalidTagName"));
        let many: Map<String, Value> = (0..51).map(|i| (format!("t{i}"), json!("v"))).collect();
        assert_eq!(error(Value::Object(many)), Some("InvalidTagCount"));
    }
}
