//! The Microsoft Graph toolkit: what every Graph handler shares — Graph's error shape
//! ([`GraphError`]), the [`Caller`], object keys and ids, JSON bodies and answers, and the
//! `$filter`s the emulator implements. Handlers import it, not the router in `graph/mod.rs`.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::http::{Incoming, parse_guid};
use crate::odata;

/// The base of every `@odata.context` (Graph names itself, whatever host the client used).
const METADATA: &str = "https://graph.microsoft.com/v1.0/$metadata";

/// The content type of Graph's JSON answers.
const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// A Graph error: a status, a code and a message (the `innerError` is added on the way out).
#[derive(Debug)]
pub(crate) struct GraphError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Graph's error code.
    pub code: &'static str,
    /// Graph's message.
    pub message: String,
    /// Headers the error carries (`WWW-Authenticate`, `Allow`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl GraphError {
    /// Creates an error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), headers: Vec::new() }
    }

    /// A 400 `Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// The 404 Graph answers for an object id it does not know.
    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    /// A member Graph does not know on a resource.
    pub fn unknown_property(name: &str) -> Self {
        Self::bad_request(format!("Property '{name}' does not exist as a declared property or extension property."))
    }

    /// A member with a value of the wrong type or out of range.
    pub fn invalid_value(property: &str, resource: &str) -> Self {
        Self::bad_request(format!("Invalid value specified for property '{property}' of resource '{resource}'."))
    }

    /// A read-only member in a write.
    pub fn read_only(property: &str) -> Self {
        Self::bad_request(format!("Property '{property}' is read-only and cannot be set."))
    }

    /// Graph's 403 for a caller without the permission a request needs.
    pub fn insufficient_privileges() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    pub(super) fn unauthorized(message: &str) -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message);
        error.headers.push((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        ));
        error
    }

    pub(super) fn method_not_allowed(allowed: &[Method]) -> Self {
        // Graph's wording for a method a route lacks; the `Allow` header is what HTTP requires.
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request uri.",
        );
        let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        if let Ok(value) = HeaderValue::from_str(&allow) {
            error.headers.push((header::ALLOW, value));
        }
        error
    }
}

/// Who is calling: the tenant and application of the token.
pub(crate) struct Caller {
    /// The tenant the token was issued in; every object the request touches lives there.
    pub tenant_id: String,
    /// The application (client) id the token was issued to.
    pub client_id: String,
}

impl Caller {
    /// Returns whether the caller is the development application, which holds every Graph
    /// permission (a privileged administrator's).
    pub fn is_development(&self) -> bool {
        self.client_id == crate::DEV_CLIENT_ID
    }
}

/// Returns a JSON response in Graph's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// Returns a 204 with no body.
pub(crate) fn no_content() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// Returns the `@odata.context` of a path under `$metadata#`.
pub(crate) fn context(fragment: &str) -> String {
    format!("{METADATA}#{fragment}")
}

/// Formats a time as Graph does (`2026-05-01T12:00:00Z`).
pub(crate) fn graph_time(time: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time.format(&format).unwrap_or_default()
}

/// How a route names an application or a service principal.
pub(crate) enum ObjectKey {
    /// By object id (`/applications/{id}`).
    Id(String),
    /// By application id (`/applications(appId='{appId}')`).
    AppId(String),
    /// By the client-provided alternate key (`/applications(uniqueName='{uniqueName}')`).
    UniqueName(String),
}

/// Checks an object id taken from a path.
pub(crate) fn object_id(text: &str) -> Result<String, GraphError> {
    parse_guid(text).ok_or_else(|| GraphError::bad_request(format!("Invalid object identifier '{text}'.")))
}

/// Reads a write's body as a JSON object, as Graph requires.
pub(crate) fn json_body(request: &Incoming) -> Result<Map<String, Value>, GraphError> {
    let unreadable = || {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    };
    let is_json = request
        .header(header::CONTENT_TYPE.as_str())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(unreadable());
    }
    match serde_json::from_slice(&request.body) {
        Ok(Value::Object(members)) => Ok(members),
        _ => Err(unreadable()),
    }
}

/// A `$filter` the emulator implements.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `{property} eq '{value}'`.
    Equals(&'static str, String),
    /// `startswith({property},'{value}')`.
    StartsWith(&'static str, String),
}

impl Filter {
    /// Returns whether a property's value passes the filter. Directory string comparisons are
    /// case-insensitive.
    pub fn matches(&self, property: &str, value: &str) -> bool {
        match self {
            Filter::Equals(name, expected) => *name == property && value.to_lowercase() == expected.to_lowercase(),
            Filter::StartsWith(name, prefix) => {
                *name == property && value.to_lowercase().starts_with(&prefix.to_lowercase())
            }
        }
    }
}

/// Returns the request's `$filter` ([`odata::parse`]), read against the properties a
/// collection supports in `eq` and in `startswith`.
pub(crate) fn filter(
    request: &Incoming,
    resource: &str,
    equals: &[&'static str],
    starts_with: &[&'static str],
) -> Result<Option<Filter>, GraphError> {
    let values = request.query_values("$filter");
    let text = match values.as_slice() {
        [] => return Ok(None),
        [text] => text.trim(),
        _ => return Err(invalid_filter("the query option '$filter' was given more than once")),
    };
    let unsupported = |property: &str| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_UnsupportedQuery",
            format!(
                "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
            ),
        )
    };
    let find =
        |list: &[&'static str], property: &str| list.iter().copied().find(|known| known.eq_ignore_ascii_case(property));
    let clauses = odata::parse(text).ok_or_else(|| invalid_filter(text))?;
    match clauses.as_slice() {
        [odata::Clause::Call { function, arguments }] if function.eq_ignore_ascii_case("startswith") => {
            let [odata::Argument::Property(property), odata::Argument::Literal(value)] = arguments.as_slice() else {
                return Err(invalid_filter(text));
            };
            let known = find(starts_with, property).ok_or_else(|| unsupported(property))?;
            Ok(Some(Filter::StartsWith(known, value.clone())))
        }
        [odata::Clause::Compare { property, operator, value }] => {
            if *operator != odata::Operator::Eq {
                return Err(unsupported(property));
            }
            let known = find(equals, property).ok_or_else(|| unsupported(property))?;
            Ok(Some(Filter::Equals(known, value.clone())))
        }
        _ => Err(invalid_filter(text)),
    }
}

fn invalid_filter(text: &str) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Invalid filter clause: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_case_insensitively() {
        let filter = Filter::StartsWith("displayName", "Exai".to_owned());
        assert!(filter.matches("displayName", "exai-perso"));
        assert!(!filter.matches("appId", "exai-perso"));
        assert!(Filter::Equals("displayName", "A".to_owned()).matches("displayName", "a"));
    }
}
