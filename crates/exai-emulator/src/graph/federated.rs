//! `/v1.0/applications/{id}/federatedIdentityCredentials`: the external tokens an application
//! trusts instead of a secret.
//!
//! Rules from the v1.0 reference (microsoftgraph/microsoft-graph-docs-contrib,
//! `api-reference/v1.0/resources/federatedidentitycredential.md` and
//! `application-post-federatedidentitycredentials.md`): `name` is required, at most 120
//! characters, URL-friendly, unique per application and immutable; `issuer` and `subject` are
//! required, at most 600 characters each, and the pair is unique per application; `audiences`
//! holds exactly one value; an application has at most 20 credentials. A duplicate name is a 409
//! `Request_MultipleObjectsWithSameKeyValue` ("FederatedIdentityCredential with name X already
//! exists.", as Graph answers it, Azure/azure-dev#1482); a duplicate issuer and subject is a 400
//! `InvalidFederatedIdentityCredentialValue` (as observed, Azure/azure-workload-identity#434).
//! The credential in a path is named by id or by name.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::applications::resolve_mut;
use super::toolkit::{Caller, GraphError, ObjectKey, context, json_body, json_response, no_content};
use crate::context::Shared;
use crate::directory::FederatedCredentialRecord;
use crate::http::{Incoming, parse_guid};

/// The most federated identity credentials an application may have.
pub(crate) const MAX_PER_APPLICATION: usize = 20;

const NAME_MAX: usize = 120;
const ISSUER_MAX: usize = 600;
const SUBJECT_MAX: usize = 600;
const RESOURCE: &str = "FederatedIdentityCredential";

fn to_json(credential: &FederatedCredentialRecord) -> Map<String, Value> {
    let value = json!({
        "id": credential.id,
        "name": credential.name,
        "issuer": credential.issuer,
        "subject": credential.subject,
        "description": credential.description,
        "audiences": credential.audiences,
    });
    value.as_object().cloned().unwrap_or_default()
}

fn entity(application_id: &str, credential: &FederatedCredentialRecord) -> Value {
    let mut object = Map::new();
    object.insert(
        "@odata.context".to_owned(),
        json!(context(&format!("applications('{application_id}')/federatedIdentityCredentials/$entity"))),
    );
    object.extend(to_json(credential));
    Value::Object(object)
}

/// Returns whether a name is URL-friendly: stricter than Graph's undocumented rule, it allows
/// only unreserved URL characters (RFC 3986 section 2.3).
fn is_url_friendly(name: &str) -> bool {
    name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte))
}

/// The members of a credential body, checked one by one.
#[derive(Default)]
struct Members {
    name: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Option<Vec<String>>,
    description: Option<Option<String>>,
}

fn members(body: Map<String, Value>) -> Result<Members, GraphError> {
    let mut members = Members::default();
    let text = |name: &str, value: &Value, max: usize| -> Result<String, GraphError> {
        match value.as_str() {
            Some(text) if !text.trim().is_empty() && text.chars().count() <= max => Ok(text.to_owned()),
            _ => Err(GraphError::invalid_value(name, RESOURCE)),
        }
    };
    for (name, value) in body {
        match name.as_str() {
            "name" => {
                let text = text("name", &value, NAME_MAX)?;
                if !is_url_friendly(&text) {
                    return Err(GraphError::invalid_value("name", RESOURCE));
                }
                members.name = Some(text);
            }
            "issuer" => {
                let text = text("issuer", &value, ISSUER_MAX)?;
                // The issuer is the URL of the external identity provider; stricter than Graph,
                // only an https URL is taken.
                if !url::Url::parse(&text).is_ok_and(|url| url.scheme() == "https") {
                    return Err(GraphError::invalid_value("issuer", RESOURCE));
                }
                members.issuer = Some(text);
            }
            "subject" => members.subject = Some(text("subject", &value, SUBJECT_MAX)?),
            "audiences" => {
                let audiences: Vec<String> = match &value {
                    Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                    _ => return Err(GraphError::invalid_value("audiences", RESOURCE)),
                };
                let all_strings = value.as_array().is_some_and(|items| items.len() == audiences.len());
                if !all_strings
                    || audiences.len() != 1
                    || audiences.iter().any(|audience| audience.trim().is_empty() || audience.len() > 600)
                {
                    return Err(GraphError::bad_request(
                        "The audiences of a federated identity credential must hold exactly one value.",
                    ));
                }
                members.audiences = Some(audiences);
            }
            "description" => match value {
                Value::Null => members.description = Some(None),
                Value::String(text) if text.chars().count() <= 600 => members.description = Some(Some(text)),
                _ => return Err(GraphError::invalid_value("description", RESOURCE)),
            },
            "id" => return Err(GraphError::read_only("id")),
            _ => return Err(GraphError::unknown_property(&name)),
        }
    }
    Ok(members)
}

fn duplicate_pair(issuer: &str, subject: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "InvalidFederatedIdentityCredentialValue",
        format!(
            "The combination of issuer and subject must be unique for the application. Issuer {issuer} and Subject: {subject} already exist. paramName: FederatedIdentityCredential.Subject, paramValue: {subject}, objectType: Microsoft.Online.DirectoryServices.Application"
        ),
    )
}

/// Finds a credential by id (a GUID, case-insensitive) or by name (case-insensitive).
fn position(credentials: &[FederatedCredentialRecord], id_or_name: &str) -> Result<usize, GraphError> {
    let id = parse_guid(id_or_name);
    credentials
        .iter()
        .position(|credential| {
            id.as_deref() == Some(credential.id.as_str()) || credential.name.eq_ignore_ascii_case(id_or_name)
        })
        .ok_or_else(|| GraphError::not_found(id_or_name))
}

/// `GET .../federatedIdentityCredentials`.
pub(crate) fn list(shared: &Shared, caller: &Caller, key: &ObjectKey) -> Result<Response, GraphError> {
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    let value: Vec<Value> = application
        .federated_identity_credentials
        .iter()
        .map(|credential| Value::Object(to_json(credential)))
        .collect();
    let context = context(&format!("applications('{}')/federatedIdentityCredentials", application.id));
    Ok(json_response(StatusCode::OK, &json!({"@odata.context": context, "value": value})))
}

/// `POST .../federatedIdentityCredentials`: 201.
pub(crate) fn create(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
) -> Result<Response, GraphError> {
    let members = members(json_body(request)?)?;
    let name = members.name.ok_or_else(|| GraphError::invalid_value("name", RESOURCE))?;
    let issuer = members.issuer.ok_or_else(|| GraphError::invalid_value("issuer", RESOURCE))?;
    let subject = members.subject.ok_or_else(|| GraphError::invalid_value("subject", RESOURCE))?;
    let audiences = members.audiences.ok_or_else(|| GraphError::invalid_value("audiences", RESOURCE))?;
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    let credentials = &application.federated_identity_credentials;
    if credentials.iter().any(|credential| credential.name.eq_ignore_ascii_case(&name)) {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            format!("FederatedIdentityCredential with name {name} already exists."),
        ));
    }
    if credentials.iter().any(|credential| credential.issuer == issuer && credential.subject == subject) {
        return Err(duplicate_pair(&issuer, &subject));
    }
    if credentials.len() >= MAX_PER_APPLICATION {
        // The limit is documented (federatedidentitycredentials-overview.md); the wording of
        // Graph's refusal is not, so this message is the emulator's.
        return Err(GraphError::bad_request(format!(
            "The application already has the maximum number of federated identity credentials ({MAX_PER_APPLICATION})."
        )));
    }
    let credential = FederatedCredentialRecord {
        id: Uuid::new_v4().to_string(),
        name,
        issuer,
        subject,
        audiences,
        description: members.description.flatten(),
    };
    let body = entity(&application.id, &credential);
    application.federated_identity_credentials.push(credential);
    state.dirty = true;
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `GET .../federatedIdentityCredentials/{id or name}`.
pub(crate) fn get(shared: &Shared, caller: &Caller, key: &ObjectKey, id_or_name: &str) -> Result<Response, GraphError> {
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    let index = position(&application.federated_identity_credentials, id_or_name)?;
    Ok(json_response(StatusCode::OK, &entity(&application.id, &application.federated_identity_credentials[index])))
}

/// `PATCH .../federatedIdentityCredentials/{id or name}`: 204; the name cannot change.
pub(crate) fn update(
    shared: &Shared,
    request: &Incoming,
    caller: &Caller,
    key: &ObjectKey,
    id_or_name: &str,
) -> Result<Response, GraphError> {
    let members = members(json_body(request)?)?;
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    let credentials = &mut application.federated_identity_credentials;
    let index = position(credentials, id_or_name)?;
    if members.name.as_deref().is_some_and(|name| name != credentials[index].name) {
        return Err(GraphError::read_only("name"));
    }
    let issuer = members.issuer.unwrap_or_else(|| credentials[index].issuer.clone());
    let subject = members.subject.unwrap_or_else(|| credentials[index].subject.clone());
    let clash = credentials
        .iter()
        .enumerate()
        .any(|(other, credential)| other != index && credential.issuer == issuer && credential.subject == subject);
    if clash {
        return Err(duplicate_pair(&issuer, &subject));
    }
    let credential = &mut credentials[index];
    credential.issuer = issuer;
    credential.subject = subject;
    if let Some(audiences) = members.audiences {
        credential.audiences = audiences;
    }
    if let Some(description) = members.description {
        credential.description = description;
    }
    state.dirty = true;
    Ok(no_content())
}

/// `DELETE .../federatedIdentityCredentials/{id or name}`: 204.
pub(crate) fn delete(
    shared: &Shared,
    caller: &Caller,
    key: &ObjectKey,
    id_or_name: &str,
) -> Result<Response, GraphError> {
    let mut state = shared.state();
    let application = resolve_mut(&mut state, caller, key)?;
    let index = position(&application.federated_identity_credentials, id_or_name)?;
    application.federated_identity_credentials.remove(index);
    state.dirty = true;
    Ok(no_content())
}
