//! Microsoft Graph v1.0, the part of it that registers applications: `/v1.0/applications`
//! (with `addPassword`, `removePassword` and `federatedIdentityCredentials`) and
//! `/v1.0/servicePrincipals` (with `appRoleAssignments` and `appRoleAssignedTo`, in
//! [`app_roles`]), per tenant of the caller's token; and, in [`github`], the GitHub-Actions-like
//! OIDC issuer whose tokens those federated credentials trust.
//!
//! Every request passes one gate: a bearer token the emulator issued, for Graph's audience
//! (`https://graph.microsoft.com`, or the emulator's own origin, Graph's resource id in the cloud
//! `/metadata/endpoints` describes; `InvalidAuthenticationToken` otherwise, in Graph's error shape), from an application holding
//! the Graph application permission the request needs. The development application holds them
//! all. Another application holds those granted to its service principal in the caller's tenant
//! by an app role assignment on Microsoft Graph's service principal (which only the development
//! application may create):
//!
//! - a `GET` (applications, service principals, federated identity credentials, app role
//!   assignments) needs `Application.Read.All`, `Application.ReadWrite.All` or
//!   `Directory.Read.All`;
//! - a write (`POST`, `PATCH`, `DELETE`, `addPassword`, `removePassword`) needs
//!   `Application.ReadWrite.All`. `Application.ReadWrite.OwnedBy` allows no write: the emulator
//!   does not model application owners, so it refuses what Graph would allow on owned
//!   applications (stricter than Graph);
//! - anything else is Graph's 403 `Authorization_RequestDenied`, "Insufficient privileges to
//!   complete the operation.".
//!
//! The assignment is checked live, at each request, rather than read from a `roles` claim:
//! Entra puts the roles in the token when it is issued, so a grant or a revocation takes effect
//! with the next token, while the emulator applies it at once, to tokens already issued too.
//!
//! Errors are Graph's: `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}` with Graph's codes (`Request_ResourceNotFound`, `Request_BadRequest`,
//! `Request_MultipleObjectsWithSameKeyValue`, ...), and every answer carries `request-id` and
//! `client-request-id` headers. Object ids are GUIDs, matched case-insensitively. Members of a
//! body the emulator does not model, query options other than `$filter`, and filters other than
//! the few it implements are refused, never ignored.

pub(crate) mod app_roles;
pub(crate) mod applications;
mod federated;
pub(crate) mod github;
mod service_principals;
pub(crate) mod toolkit;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use self::toolkit::{Caller, GraphError, ObjectKey, json_response, object_id};
use crate::auth::{BearerFailure, GRAPH_AUDIENCE};
use crate::context::Shared;
use crate::http::{Incoming, parse_guid};

/// The first path segment of every Graph v1.0 route.
pub(crate) const PREFIX: &str = "v1.0";

/// The token audiences Graph accepts: its URL (with or without the slash the v1-resource scope
/// form leaves) and its application id.
const GRAPH_AUDIENCES: [&str; 3] =
    [GRAPH_AUDIENCE, "https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000"];

/// Answers a request under `/v1.0/`.
pub(crate) fn handle(shared: &Shared, request: &Incoming) -> Response {
    let request_id = Uuid::new_v4().to_string();
    // Graph echoes the client's `client-request-id`, and uses its own request id when none came.
    let client_request_id = request
        .header("client-request-id")
        .filter(|value| !value.is_empty() && value.len() <= 200)
        .map_or_else(|| request_id.clone(), str::to_owned);
    let response = route(shared, request)
        .unwrap_or_else(|error| error_response(error, &request_id, &client_request_id, shared.clock.now()));
    finish(response, &request_id, &client_request_id)
}

fn error_response(error: GraphError, request_id: &str, client_request_id: &str, now: OffsetDateTime) -> Response {
    let date = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let body = json!({
        "error": {
            "code": error.code,
            "message": error.message,
            "innerError": {
                "date": now.format(&date).unwrap_or_default(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        },
    });
    let mut response = json_response(error.status, &body);
    for (name, value) in error.headers {
        response.headers_mut().insert(name, value);
    }
    response
}

fn finish(mut response: Response, request_id: &str, client_request_id: &str) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [("request-id", request_id), ("client-request-id", client_request_id)] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("odata-version", HeaderValue::from_static("4.0"));
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    response
}

fn authenticate(shared: &Shared, request: &Incoming) -> Result<Caller, GraphError> {
    let token = match crate::auth::authenticate(&shared.tokens(), &request.headers) {
        Ok(token) => token,
        Err(BearerFailure::Missing) => return Err(GraphError::unauthorized("Access token is empty.")),
        Err(BearerFailure::Malformed) => {
            return Err(GraphError::unauthorized("CompactToken parsing failed with error code: 80049217"));
        }
        Err(BearerFailure::Unknown) => return Err(GraphError::unauthorized("Access token validation failure.")),
        Err(BearerFailure::Expired { .. }) => {
            return Err(GraphError::unauthorized("Lifetime validation failed, the token is expired."));
        }
    };
    // In the emulator's own cloud (`/metadata/endpoints`), Graph's resource id is its origin.
    let own_cloud = crate::auth::is_own_origin(shared, request, &token.audience);
    if !GRAPH_AUDIENCES.contains(&token.audience.as_str()) && !own_cloud {
        return Err(GraphError::unauthorized("Access token validation failure. Invalid audience."));
    }
    let caller = Caller { tenant_id: token.tenant_id, client_id: token.client_id };
    authorize(shared, &caller, &request.method)?;
    Ok(caller)
}

/// The application permissions that allow reading applications and service principals.
const READ_ROLES: [&str; 3] =
    [app_roles::APPLICATION_READ_ALL, app_roles::APPLICATION_READ_WRITE_ALL, app_roles::DIRECTORY_READ_ALL];

/// The application permissions that allow writing them (`Application.ReadWrite.OwnedBy` is not
/// among them: the emulator does not model owners, so it allows no write).
const WRITE_ROLES: [&str; 1] = [app_roles::APPLICATION_READ_WRITE_ALL];

/// Checks the caller holds a Graph application permission for the request: the development
/// application holds them all; another application needs an app role assignment on Microsoft
/// Graph's service principal, checked live (every route under `/v1.0/` reads or writes
/// applications and service principals).
fn authorize(shared: &Shared, caller: &Caller, method: &Method) -> Result<(), GraphError> {
    if caller.is_development() {
        return Ok(());
    }
    let roles: &[&str] = if *method == Method::GET { &READ_ROLES } else { &WRITE_ROLES };
    if app_roles::holds_graph_role(&shared.state(), &caller.tenant_id, &caller.client_id, roles) {
        Ok(())
    } else {
        Err(GraphError::insufficient_privileges())
    }
}

/// Parses `applications(uniqueName='{uniqueName}')`, case-insensitively, returning the name with
/// OData's doubled quotes undone (application-upsert.md).
fn unique_name_key(segment: &str) -> Option<String> {
    const PREFIX: &str = "applications(uniqueName='";
    let head = segment.get(..PREFIX.len())?;
    if !head.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let inner = segment.get(PREFIX.len()..)?.strip_suffix("')")?;
    // A lone quote inside ends the literal: not a key.
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// Parses `{collection}(appId='{appId}')`, case-insensitively, returning the appId.
fn alternate_key<'a>(segment: &'a str, collection: &str) -> Option<&'a str> {
    let prefix_length = collection.len() + "(appId='".len();
    let head = segment.get(..prefix_length)?;
    if !head.eq_ignore_ascii_case(&format!("{collection}(appId='")) {
        return None;
    }
    segment.get(prefix_length..)?.strip_suffix("')")
}

fn route(shared: &Shared, request: &Incoming) -> Result<Response, GraphError> {
    let caller = authenticate(shared, request)?;
    check_query_options(request)?;
    let segments = request.segments.get(1..).unwrap_or_default();
    let is = |segment: &String, name: &str| segment.eq_ignore_ascii_case(name);
    let method = &request.method;
    let (collection, rest) = match segments {
        [first, rest @ ..] if is(first, "applications") => ("applications", rest.split_first()),
        [first, ..] if alternate_key(first, "applications").is_some() => ("applications", None),
        [first, ..] if unique_name_key(first).is_some() => ("applications", None),
        [first, rest @ ..] if is(first, "servicePrincipals") => ("servicePrincipals", rest.split_first()),
        [first, ..] if alternate_key(first, "servicePrincipals").is_some() => ("servicePrincipals", None),
        [first, ..] => return Err(segment_not_found(first)),
        [] => return Err(segment_not_found(PREFIX)),
    };
    // The object the path names, and what follows it.
    let (key, tail): (Option<ObjectKey>, &[String]) = match (segments, rest) {
        ([first, tail @ ..], None) if alternate_key(first, collection).is_some() => {
            let app_id = alternate_key(first, collection).unwrap_or_default();
            let app_id = parse_guid(app_id)
                .ok_or_else(|| GraphError::bad_request(format!("Invalid object identifier '{app_id}'.")))?;
            (Some(ObjectKey::AppId(app_id)), tail)
        }
        ([first, tail @ ..], None) if collection == "applications" && unique_name_key(first).is_some() => {
            (unique_name_key(first).map(ObjectKey::UniqueName), tail)
        }
        (_, Some((id, tail))) => (Some(ObjectKey::Id(object_id(id)?)), tail),
        _ => (None, &[]),
    };
    match (collection, key, tail) {
        ("applications", None, _) => match *method {
            Method::GET => applications::list(shared, request, &caller),
            Method::POST => applications::create(shared, request, &caller),
            _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::POST])),
        },
        ("applications", Some(key @ ObjectKey::UniqueName(_)), []) if *method == Method::PATCH => {
            applications::upsert(shared, request, &caller, &key)
        }
        ("applications", Some(key), []) => match *method {
            Method::GET => applications::get(shared, &caller, &key),
            Method::PATCH => applications::update(shared, request, &caller, &key),
            Method::DELETE => applications::delete(shared, &caller, &key),
            _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::PATCH, Method::DELETE])),
        },
        ("applications", Some(key), [action]) if is_action(action, "addPassword") => {
            post_only(method)?;
            applications::add_password(shared, request, &caller, &key)
        }
        ("applications", Some(key), [action]) if is_action(action, "removePassword") => {
            post_only(method)?;
            applications::remove_password(shared, request, &caller, &key)
        }
        ("applications", Some(key), [collection]) if is(collection, "federatedIdentityCredentials") => match *method {
            Method::GET => federated::list(shared, &caller, &key),
            Method::POST => federated::create(shared, request, &caller, &key),
            _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::POST])),
        },
        ("applications", Some(key), [collection, credential]) if is(collection, "federatedIdentityCredentials") => {
            match *method {
                Method::GET => federated::get(shared, &caller, &key, credential),
                Method::PATCH => federated::update(shared, request, &caller, &key, credential),
                Method::DELETE => federated::delete(shared, &caller, &key, credential),
                _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::PATCH, Method::DELETE])),
            }
        }
        ("servicePrincipals", None, _) => match *method {
            Method::GET => service_principals::list(shared, request, &caller),
            Method::POST => service_principals::create(shared, request, &caller),
            _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::POST])),
        },
        ("servicePrincipals", Some(key), []) => match *method {
            Method::GET => service_principals::get(shared, &caller, &key),
            Method::PATCH => service_principals::update(shared, request, &caller, &key),
            Method::DELETE => service_principals::delete(shared, &caller, &key),
            _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::PATCH, Method::DELETE])),
        },
        ("servicePrincipals", Some(key), [collection]) if assignment_side(collection).is_some() => {
            let side = assignment_side(collection).unwrap_or(app_roles::Side::Principal);
            match *method {
                Method::GET => app_roles::list(shared, &caller, &key, side),
                Method::POST => app_roles::create(shared, request, &caller, &key, side),
                _ => Err(GraphError::method_not_allowed(&[Method::GET, Method::POST])),
            }
        }
        ("servicePrincipals", Some(key), [collection, assignment]) if assignment_side(collection).is_some() => {
            let side = assignment_side(collection).unwrap_or(app_roles::Side::Principal);
            match *method {
                Method::DELETE => app_roles::delete(shared, &caller, &key, side, assignment),
                _ => Err(GraphError::method_not_allowed(&[Method::DELETE])),
            }
        }
        (_, _, [first, ..]) => Err(segment_not_found(first)),
        (_, _, []) => Err(segment_not_found(collection)),
    }
}

/// Returns the side of the app role assignments a segment names.
fn assignment_side(segment: &str) -> Option<app_roles::Side> {
    if segment.eq_ignore_ascii_case("appRoleAssignments") {
        Some(app_roles::Side::Principal)
    } else if segment.eq_ignore_ascii_case("appRoleAssignedTo") {
        Some(app_roles::Side::Resource)
    } else {
        None
    }
}

/// Returns whether a segment names an action, bare or namespace-qualified (`microsoft.graph.X`).
fn is_action(segment: &str, action: &str) -> bool {
    segment.eq_ignore_ascii_case(action)
        || segment
            .get(.."microsoft.graph.".len())
            .is_some_and(|namespace| namespace.eq_ignore_ascii_case("microsoft.graph."))
            && segment.get("microsoft.graph.".len()..).is_some_and(|name| name.eq_ignore_ascii_case(action))
}

fn post_only(method: &Method) -> Result<(), GraphError> {
    if *method == Method::POST { Ok(()) } else { Err(GraphError::method_not_allowed(&[Method::POST])) }
}

fn segment_not_found(segment: &str) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Resource not found for the segment '{segment}'."))
}

/// Refuses OData query options the emulator does not implement (all but `$filter`), rather than
/// answering as if they had been applied: stricter than Graph, which implements them.
fn check_query_options(request: &Incoming) -> Result<(), GraphError> {
    let Some(query) = request.query.as_deref() else { return Ok(()) };
    for (name, _) in url::form_urlencoded::parse(query.as_bytes()) {
        if name.starts_with('$') && name != "$filter" {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "Request_UnsupportedQuery",
                format!("The emulator does not implement the query option '{name}'; only $filter is supported."),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_alternate_keys_and_actions() {
        assert_eq!(alternate_key("applications(appId='x')", "applications"), Some("x"));
        assert_eq!(alternate_key("Applications(APPID='x')", "applications"), Some("x"));
        assert_eq!(alternate_key("applications", "applications"), None);
        assert!(is_action("addPassword", "addPassword"));
        assert!(is_action("microsoft.graph.addPassword", "addPassword"));
        assert!(!is_action("microsoft.graph.removePassword", "addPassword"));
    }
}
