//! `/v1.0/applications`: application registrations and their client secrets.
//!
//! Modeled on the v1.0 reference (microsoftgraph/microsoft-graph-docs-contrib,
//! `api-reference/v1.0/api/application-post-applications.md`, `application-get.md`,
//! `application-update.md`, `application-delete.md`, `application-addpassword.md`,
//! `application-removepassword.md`) and the upsert by the client-provided alternate key
//! `uniqueName` (learn.microsoft.com/graph/api/application-upsert). Writable properties are the few the emulator models
//! (`displayName`, `description`, `notes`, `tags`, `signInAudience`, `identifierUris`, and an empty
//! `keyCredentials`); any other member is refused. Deleting an application also deletes its
//! service principal, as Entra does in the application's home tenant.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::toolkit::{Caller, GraphError, ObjectKey, context, graph_time, json_body, json_response, no_content};
use crate::context::Shared;
use crate::directory::secret_hash;
use crate::directory::{ApplicationRecord, PasswordCredentialRecord};
use crate::http::{Incoming, parse_guid};
use crate::state::State;

/// The `signInAudience` values Graph accepts (application resource type).
const SIGN_IN_AUDIENCES: [&str; 4] =
    ["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"];

/// The longest `displayName` the emulator accepts (stricter than Graph, which documents none for
/// applications; 256 is the directory's limit for other objects).
const DISPLAY_NAME_MAX: usize = 256;

/// How long a password lives when `addPassword` names no end: two years (application-addpassword.md).
const DEFAULT_PASSWORD_YEARS: i64 = 2;

/// Returns an application's JSON, without `@odata.context`.
pub(crate) fn to_json(application: &ApplicationRecord) -> Map<String, Value> {
    let property = |name: &str, default: Value| application.properties.get(name).cloned().unwrap_or(default);
    let passwords: Vec<Value> = application
        .password_credentials
        .iter()
        .map(|password| {
            json!({
                "customKeyIdentifier": null,
                "displayName": password.display_name,
                "endDateTime": password.end_date_time,
                "hint": password.hint,
                "keyId": password.key_id,
                "secretText": null,
                "startDateTime": password.start_date_time,
            })
        })
        .collect();
    let mut object = Map::new();
    object.insert("id".to_owned(), json!(application.id));
    object.insert("deletedDateTime".to_owned(), Value::Null);
    object.insert("appId".to_owned(), json!(application.app_id));
    object.insert("createdDateTime".to_owned(), json!(application.created_date_time));
    object.insert("description".to_owned(), property("description", Value::Null));
    object.insert("displayName".to_owned(), property("displayName", Value::Null));
    object.insert("identifierUris".to_owned(), property("identifierUris", json!([])));
    object.insert("notes".to_owned(), property("notes", Value::Null));
    object.insert("signInAudience".to_owned(), property("signInAudience", json!("AzureADMyOrg")));
    object.insert("tags".to_owned(), property("tags", json!([])));
    object.insert("uniqueName".to_owned(), json!(application.unique_name));
    object.insert("keyCredentials".to_owned(), json!([]));
    object.insert("passwordCredentials".to_owned(), Value::Array(passwords));
    object
}

fn entity(application: &ApplicationRecord) -> Value {
    let mut object = Map::new();
    object.insert("@odata.context".to_owned(), json!(context("applications/$entity")));
    object.extend(to_json(application));
    Value::Object(object)
}

/// Checks the writable members of an application body and returns them.
fn writable_properties(body: Map<String, Value>) -> Result<Map<String, Value>, GraphError> {
    let mut properties = Map::new();
    for (name, value) in body {
        let valid = match name.as_str() {
            "displayName" => {
                value.as_str().is_some_and(|text| !text.trim().is_empty() && text.chars().count() <= DISPLAY_NAME_MAX)
            }
            "description" | "notes" => value.is_null() || value.is_string(),
            "tags" | "identifierUris" => value
                .as_array()
                .is_some_and(|items| items.iter().all(|item| item.as_str().is_some_and(|text| !text.is_empty()))),
            "signInAudience" => value.as_str().is_some_and(|audience| SIGN_IN_AUDIENCES.contains(&audience)),
            // Certificates are not modeled: only an empty list is accepted (stricter than Graph).
            "keyCredentials" => {
                if value.as_array().is_some_and(Vec::is_empty) {
                    continue;
                }
                false
            }
            "id"
            | "appId"
            | "createdDateTime"
            | "deletedDateTime"
            | "publisherDomain"
            | "passwordCredentials"
            | "uniqueName" => {
                return Err(GraphError::read_only(&name));
            }
            _ => return Err(GraphError::unknown_property(&name)),
        };
        if !valid {
            return Err(GraphError::invalid_value(&name, "Application"));
        }
        properties.insert(name, value);
    }
    Ok(properties)
}

/// Returns the object id of the application a key names in the caller's tenant.
pub(crate) fn resolve(state: &State, caller: &Caller, key: &ObjectKey) -> Result<String, GraphError> {
    let applications = state.directory.tenants.get(&caller.tenant_id).map(|tenant| &tenant.applications);
    let found = match key {
        ObjectKey::Id(id) => applications.and_then(|applications| applications.get(id)),
        ObjectKey::AppId(app_id) => applications
            .and_then(|applications| applications.values().find(|application| &application.app_id == app_id)),
        ObjectKey::UniqueName(name) => applications.and_then(|applications| {
            applications
                .values()
                .find(|application| application.unique_name.as_deref().is_some_and(|n| same_unique_name(n, name)))
        }),
    };
    found.map(|application| application.id.clone()).ok_or_else(|| {
        GraphError::not_found(match key {
            ObjectKey::Id(id) | ObjectKey::AppId(id) | ObjectKey::UniqueName(id) => id,
        })
    })
}

/// Returns a mutable application of the caller's tenant.
pub(crate) fn resolve_mut<'a>(
    state: &'a mut State,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<&'a mut ApplicationRecord, GraphError> {
    let id = resolve(state, caller, key)?;
    state
        .directory
        .tenants
        .get_mut(&caller.tenant_id)
        .and_then(|tenant| tenant.applications.get_mut(&id))
        .ok_or_else(|| GraphError::not_found(&id))
}

/// `GET /v1.0/applications[?$filter=...]`.
pub(crate) fn list(shared: &Shared, request: &Incoming, caller: &Caller) -> Result<Response, GraphError> {
    let filter = super::toolkit::filter(request, "application", &["displayName", "appId"], &["displayName"])?;
    let state = shared.state();
    let value: Vec<Value> = state
        .directory
        .tenants
        .get(&caller.tenant_id)
        .map(|tenant| {
            tenant
                .applications
                .values()
                .filter(|application| match &filter {
                    None => true,
                    Some(filter) => {
                        filter.matches("displayName", application.display_name())
                            || filter.matches("appId", &application.app_id)
                    }
                })
                .map(|application| Value::Object(to_json(application)))
                .collect()
        })
        .unwrap_or_default();
    Ok(json_response(StatusCode::OK, &json!({"@odata.context": context("applications"), "value": value})))
}

/// `POST /v1.0/applications`.
pub(crate) fn create(shared: &Shared, request: &Incoming, caller: &Caller) -> Result<Response, GraphError> {
    let properties = writable_properties(json_body(request)?)?;
    let now = shared.clock.now();
    insert_new(&mut shared.state(), caller, properties, None, now)
}

/// Creates an application of `properties` (which must name a `displayName`) in the caller's
/// tenant, with `unique_name` when an upsert made it: 201 with the new object.
fn insert_new(
    state: &mut State,
    caller: &Caller,
    properties: Map<String, Value>,
    unique_name: Option<String>,
    now: OffsetDateTime,
) -> Result<Response, GraphError> {
    if !properties.contains_key("displayName") {
        return Err(GraphError::invalid_value("displayName", "Application"));
    }
    let application = ApplicationRecord {
        id: Uuid::new_v4().to_string(),
        app_id: Uuid::new_v4().to_string(),
        created_date_time: graph_time(now),
        properties,
        password_credentials: Vec::new(),
        federated_identity_credentials: Vec::new(),
        unique_name,
    };
    let body = entity(&application);
    state.ensure_tenant(&caller.tenant_id, None);
    state
        .directory
        .tenants
        .entry(caller.tenant_id.clone())
        .or_default()
        .applications
        .insert(application.id.clone(), application);
    state.dirty = true;
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `GET /v1.0/applications/{id}` and `GET /v1.0/applications(appId='{appId}')`.
pub(crate) fn get(shared: &Shared, caller: &Caller, key: &ObjectKey) -> Result<Response, GraphError> {
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    Ok(json_response(StatusCode::OK, &entity(application)))
}

/// `PATCH /v1.0/applications/{id}`: 204.
pub(crate) fn update(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<Response, GraphError> {
    let properties = writable_properties(json_body(request)?)?;
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    for (name, value) in properties {
        application.properties.insert(name, value);
    }
    state.dirty = true;
    Ok(no_content())
}

/// Returns true when two uniqueNames name the same application. Entra compares alternate keys
/// without regard to case, as it does display names in `$filter`; the emulator does too, so a
/// second application can never differ from the first by case alone.
fn same_unique_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Returns the preferences of a request's `Prefer` headers (RFC 7240: comma-separated, and the
/// header may be repeated), lowercased.
fn preferences(request: &Incoming) -> Vec<String> {
    request
        .headers
        .get_all("prefer")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|preference| preference.trim().to_ascii_lowercase())
        .filter(|preference| !preference.is_empty())
        .collect()
}

/// `PATCH /v1.0/applications(uniqueName='{uniqueName}')`: Graph's upsert
/// (learn.microsoft.com/graph/api/application-upsert, v1.0). With `Prefer: create-if-missing`
/// and no application of that uniqueName in the tenant, creates one carrying it: 201 with the
/// new application (`displayName` is required). Without the preference it is an update, and a
/// missing application is a 404. An existing application is updated: 204, or 200 with the
/// application when `Prefer: return=representation` is sent (OData's preference, which Graph
/// honours on PATCH). The uniqueName is immutable and is not accepted in the body.
pub(crate) fn upsert(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<Response, GraphError> {
    let ObjectKey::UniqueName(unique_name) = key else { return update(shared, request, caller, key) };
    if unique_name.trim().is_empty() {
        return Err(GraphError::bad_request("The uniqueName of an application cannot be empty."));
    }
    let preferences = preferences(request);
    let create_if_missing = preferences.iter().any(|p| p == "create-if-missing");
    let representation = preferences.iter().any(|p| p == "return=representation");
    let properties = writable_properties(json_body(request)?)?;
    let mut state = shared.state();
    if let Ok(application) = resolve_mut(&mut state, caller, key) {
        for (name, value) in properties {
            application.properties.insert(name, value);
        }
        let body = entity(application);
        state.dirty = true;
        return Ok(if representation { json_response(StatusCode::OK, &body) } else { no_content() });
    }
    if !create_if_missing {
        return Err(GraphError::not_found(unique_name));
    }
    let now = shared.clock.now();
    insert_new(&mut state, caller, properties, Some(unique_name.clone()), now)
}

/// `DELETE /v1.0/applications/{id}`: 204; its service principal goes with it.
pub(crate) fn delete(shared: &Shared, caller: &Caller, key: &ObjectKey) -> Result<Response, GraphError> {
    let mut state = shared.state();
    let id = resolve(&state, caller, key)?;
    let removed = state.directory.tenants.get_mut(&caller.tenant_id).and_then(|tenant| tenant.applications.remove(&id));
    if let Some(application) = removed {
        super::service_principals::remove_for_app(&mut state, &caller.tenant_id, &application.app_id);
    }
    state.dirty = true;
    Ok(no_content())
}

/// Parses an optional RFC 3339 member of a `passwordCredential`.
fn date_member(credential: &Map<String, Value>, name: &str) -> Result<Option<OffsetDateTime>, GraphError> {
    match credential.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => OffsetDateTime::parse(text, &Rfc3339)
            .map(Some)
            .map_err(|_| GraphError::invalid_value(name, "PasswordCredential")),
        Some(_) => Err(GraphError::invalid_value(name, "PasswordCredential")),
    }
}

/// Returns a new client secret in Entra's form: 40 characters of `[A-Za-z0-9~._-]` with `Q~` at
/// positions 4 and 5 (the form Entra has issued since 2021), its first three characters the hint.
pub(crate) fn new_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-";
    let random: [u8; 38] = rand::random();
    let mut secret: String =
        random.iter().map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()])).collect();
    secret.insert_str(3, "8Q~");
    secret.truncate(40);
    secret
}

/// `POST /v1.0/applications/{id}/addPassword`: 200 with the `passwordCredential`, the only
/// answer that ever shows its `secretText`.
pub(crate) fn add_password(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<Response, GraphError> {
    // The body is optional (application-addpassword.md); an empty one means all defaults.
    let body = if request.body.iter().all(u8::is_ascii_whitespace) { Map::new() } else { json_body(request)? };
    let mut credential = Map::new();
    for (name, value) in body {
        match (name.as_str(), value) {
            ("passwordCredential", Value::Object(members)) => credential = members,
            ("passwordCredential", Value::Null) => {}
            ("passwordCredential", _) => return Err(GraphError::invalid_value("passwordCredential", "Application")),
            _ => return Err(GraphError::unknown_property(&name)),
        }
    }
    for (name, value) in &credential {
        match name.as_str() {
            "displayName" if value.is_null() || value.is_string() => {}
            "startDateTime" | "endDateTime" => {}
            "displayName" => return Err(GraphError::invalid_value(name, "PasswordCredential")),
            "customKeyIdentifier" | "hint" | "keyId" | "secretText" => return Err(GraphError::read_only(name)),
            _ => return Err(GraphError::unknown_property(name)),
        }
    }
    let now = shared.clock.now();
    let start = date_member(&credential, "startDateTime")?.unwrap_or(now);
    let end = match date_member(&credential, "endDateTime")? {
        Some(end) => end,
        None => start
            .replace_year(start.year() + DEFAULT_PASSWORD_YEARS as i32)
            .unwrap_or(start + time::Duration::days(730)),
    };
    if end <= start {
        return Err(GraphError::bad_request(
            "The end date of the password credential must be later than its start date.",
        ));
    }
    let secret = new_secret();
    let record = PasswordCredentialRecord {
        key_id: Uuid::new_v4().to_string(),
        display_name: credential.get("displayName").and_then(Value::as_str).map(str::to_owned),
        hint: secret.chars().take(3).collect(),
        start_date_time: graph_time(start),
        end_date_time: graph_time(end),
        secret_sha256: secret_hash(&secret),
    };
    let body = json!({
        "@odata.context": context("microsoft.graph.passwordCredential"),
        "customKeyIdentifier": null,
        "displayName": record.display_name,
        "endDateTime": record.end_date_time,
        "hint": record.hint,
        "keyId": record.key_id,
        "secretText": secret,
        "startDateTime": record.start_date_time,
    });
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    application.password_credentials.push(record);
    state.dirty = true;
    Ok(json_response(StatusCode::OK, &body))
}

/// `POST /v1.0/applications/{id}/removePassword` with `{"keyId"}`: 204.
pub(crate) fn remove_password(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<Response, GraphError> {
    let body = json_body(request)?;
    if let Some(name) = body.keys().find(|name| *name != "keyId") {
        return Err(GraphError::unknown_property(name));
    }
    let key_id = body
        .get("keyId")
        .and_then(Value::as_str)
        .and_then(parse_guid)
        .ok_or_else(|| GraphError::invalid_value("keyId", "Application"))?;
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    let before = application.password_credentials.len();
    application.password_credentials.retain(|password| password.key_id != key_id);
    if application.password_credentials.len() == before {
        // Graph's exact answer for an unknown keyId is not documented; refusing is stricter
        // than succeeding silently.
        return Err(GraphError::bad_request(format!("No password credential found with keyId '{key_id}'.")));
    }
    state.dirty = true;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_look_like_entra_secrets() {
        let secret = new_secret();
        assert_eq!(secret.len(), 40);
        assert_eq!(secret.get(3..6), Some("8Q~"));
        assert_ne!(secret, new_secret());
    }

    #[test]
    fn refuses_unknown_and_read_only_members() {
        let body = |value: Value| value.as_object().cloned().unwrap_or_default();
        assert!(writable_properties(body(json!({"displayName": "a", "tags": ["x"]}))).is_ok());
        assert!(writable_properties(body(json!({"displayName": "a", "keyCredentials": []}))).is_ok());
        for refused in [
            json!({"displayName": ""}),
            json!({"displayName": 3}),
            json!({"web": {}}),
            json!({"appId": "x"}),
            json!({"signInAudience": "Everyone"}),
            json!({"keyCredentials": [{}]}),
        ] {
            assert!(writable_properties(body(refused.clone())).is_err(), "{refused}");
        }
    }
}
