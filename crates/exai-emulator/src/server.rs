//! The HTTPS front door: one handler that classifies every request, hands it to the token
//! endpoint, ARM or the admin routes, records it, and saves the state when it changed.
//!
//! Routing is done by hand on percent-decoded path segments rather than with axum's router,
//! because ARM matches paths case-insensitively (`resourcegroups` and `resourceGroups` are one
//! route) and answers every miss in its own error shape.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use url::Url;

use crate::EmulatorError;
use crate::arm::RateLimits;
use crate::auth::TokenStore;
use crate::log::{RequestKind, RequestLog, RequestRecord, redact_json, redact_query};
use crate::state::{State, StateFile};

/// The largest request body the emulator reads (ARM's own limit is 4 MiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Everything the request handlers share.
pub(crate) struct Shared {
    /// The emulated Azure.
    pub state: Mutex<State>,
    /// The state file, when the state is persisted; taken out (and unlocked) at shutdown.
    pub state_file: Mutex<Option<StateFile>>,
    /// Tokens issued by the token endpoint.
    pub tokens: Mutex<TokenStore>,
    /// The request log.
    pub log: RequestLog,
    /// ARM's per-subscription request counters.
    pub rate_limits: Mutex<RateLimits>,
    /// The faults in force (see [`crate::faults`]).
    pub faults: crate::faults::Faults,
    /// How long a resource-group delete runs.
    pub delete_delay: Duration,
    /// How long a long-running create, update or delete of a resource runs.
    pub operation_delay: Duration,
    /// The emulator's own URL, for links when a request names no host.
    pub base_url: Url,
}

impl Shared {
    /// Locks the state.
    pub fn state(&self) -> MutexGuard<'_, State> {
        // Handlers never panic while holding the lock; if one did, the state is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the token store.
    pub fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Saves the state to the state file, if there is one (only when changed, unless `force`).
    pub fn save(&self, force: bool) -> Result<(), EmulatorError> {
        let state_file = self.state_file.lock().unwrap_or_else(PoisonError::into_inner);
        match state_file.as_ref() {
            Some(file) => file.save(&self.state, force),
            None => {
                self.state().dirty = false;
                Ok(())
            }
        }
    }

    /// Saves the state one last time and releases the state file's lock.
    pub fn close_state_file(&self) -> Result<(), EmulatorError> {
        let mut state_file = self.state_file.lock().unwrap_or_else(PoisonError::into_inner);
        let result = match state_file.as_ref() {
            Some(file) => file.save(&self.state, true),
            None => Ok(()),
        };
        *state_file = None;
        result
    }
}

/// A request, read in full, as the handlers see it.
pub(crate) struct Incoming {
    /// The HTTP method.
    pub method: Method,
    /// The path as sent, still percent-encoded.
    pub raw_path: String,
    /// The path's segments, percent-decoded (invalid UTF-8 becomes U+FFFD).
    pub segments: Vec<String>,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body.
    pub body: Bytes,
    /// The authority the client addressed (`127.0.0.1:PORT`), when it named one.
    pub authority: Option<String>,
    /// The address of the client.
    pub peer: SocketAddr,
}

impl Incoming {
    /// Returns the query parameters named `name` (decoded), in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        self.query
            .as_deref()
            .map(|query| {
                url::form_urlencoded::parse(query.as_bytes())
                    .filter(|(key, _)| key == name)
                    .map(|(_, value)| value.into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Returns a header's value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Returns the base URL (`https://host:port/`) the client used, for links it must follow.
    pub fn base_url(&self, shared: &Shared) -> String {
        match &self.authority {
            Some(authority) => format!("https://{authority}/"),
            None => shared.base_url.to_string(),
        }
    }
}

/// Returns the lowercase hyphenated form of a GUID written as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
///
/// Stricter than `Uuid::parse_str`, which also takes braced, URN and unhyphenated forms that
/// Azure refuses in paths.
pub(crate) fn parse_guid(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 36
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        });
    well_formed.then(|| text.to_ascii_lowercase())
}

/// Decodes `%XX` escapes in a path segment.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Splits a path into decoded segments; an empty path (`/`) has none.
pub(crate) fn path_segments(path: &str) -> Vec<String> {
    segments(path)
}

/// Splits a path into decoded segments; an empty path (`/`) has none.
fn segments(path: &str) -> Vec<String> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(percent_decode).collect()
}

/// Returns the part of the emulator that answers a path.
fn classify(segments: &[String]) -> RequestKind {
    match segments {
        [first, ..] if first == crate::admin::PREFIX => RequestKind::Admin,
        [first, ..] if first.eq_ignore_ascii_case(crate::graph::PREFIX) => RequestKind::Graph,
        [_, second, ..] if second.eq_ignore_ascii_case("oauth2") => RequestKind::Token,
        [_, second, third, ..] if second.eq_ignore_ascii_case("v2.0") && third.eq_ignore_ascii_case(".well-known") => {
            RequestKind::Token
        }
        _ => RequestKind::Arm,
    }
}

/// Returns the authority the client addressed, if it is a plausible `host[:port]`.
fn authority(request: &Request) -> Option<String> {
    let candidate = request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .or_else(|| request.headers().get(header::HOST).and_then(|value| value.to_str().ok()).map(str::to_owned))?;
    let plausible = !candidate.is_empty()
        && candidate.len() <= 255
        && candidate.bytes().all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte));
    plausible.then_some(candidate)
}

/// The single axum handler: every request comes through here.
pub(crate) async fn dispatch(
    AxumState(shared): AxumState<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let authority = authority(&request);
    let (parts, body) = request.into_parts();
    let raw_path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let segments = segments(&raw_path);
    let kind = classify(&segments);
    let client_request_id =
        parts.headers.get("x-ms-client-request-id").and_then(|value| value.to_str().ok()).map(str::to_owned);

    let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let incoming = Incoming {
        method: parts.method,
        raw_path,
        segments,
        query,
        headers: parts.headers,
        body: body.as_ref().cloned().unwrap_or_default(),
        authority,
        peer,
    };

    // Faults are decided (and their latency waited out) before the request is handled.
    let mut injected = shared.faults.begin(kind, &incoming).await;
    let mut response = match (injected.response.take(), &body, kind) {
        (Some(injected), _, _) => injected,
        (None, Err(_), RequestKind::Arm) => crate::arm::too_large(&incoming),
        (None, Err(_), _) => plain_error(StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than 4 MiB"),
        (None, Ok(_), RequestKind::Token) => crate::auth::handle(&shared, &incoming),
        (None, Ok(_), RequestKind::Admin)
            if incoming.segments.get(1).is_some_and(|segment| segment == crate::graph::github::SEGMENT) =>
        {
            crate::graph::github::handle(&shared, &incoming)
        }
        (None, Ok(_), RequestKind::Admin) => crate::admin::handle(&shared, &incoming),
        (None, Ok(_), RequestKind::Graph) => crate::graph::handle(&shared, &incoming),
        (None, Ok(_), RequestKind::Arm) => crate::arm::handle(&shared, &incoming),
    };
    // A `drop-answer` fault: the request was handled, its answer is lost with the connection.
    let dropped = injected.dropped || (injected.drop_answer && shared.faults.drop_answer(incoming.peer));
    let fault = injected.finish(&mut response);

    if let Err(error) = shared.save(false) {
        tracing::error!(%error, "could not save the emulator state");
        if kind == RequestKind::Arm {
            response = crate::arm::state_not_saved(&incoming, &error);
        }
    }

    let recorded_body = (matches!(kind, RequestKind::Arm | RequestKind::Graph)
        && matches!(incoming.method, Method::PUT | Method::PATCH | Method::POST | Method::DELETE)
        && !incoming.body.is_empty())
    .then(|| {
        let mut value = serde_json::from_slice::<Value>(&incoming.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&incoming.body).into_owned()));
        redact_json(&mut value);
        value
    });
    shared.log.record(RequestRecord {
        method: incoming.method.to_string(),
        path: incoming.raw_path.clone(),
        query: incoming.query.as_deref().map(redact_query),
        // 0: the connection was dropped, nothing was answered.
        status: if dropped { 0 } else { response.status().as_u16() },
        kind,
        client_request_id,
        body: recorded_body,
        fault,
    });
    response
}

/// A plain-text error, for the few answers that have no Azure shape.
pub(crate) fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_hyphenated_guids() {
        assert_eq!(
            parse_guid("EE000000-0000-4000-8000-00000000000A").as_deref(),
            Some("ee000000-0000-4000-8000-00000000000a")
        );
        for invalid in [
            "ee000000000040008000000000000001",
            "{ee000000-0000-4000-8000-000000000001}",
            "ee000000-0000-4000-8000-00000000000g",
            "not-a-guid",
        ] {
            assert_eq!(parse_guid(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn decodes_segments_and_classifies_them() {
        assert_eq!(
            segments("/subscriptions/x/resourceGroups/a%28b%29%2Fc"),
            ["subscriptions", "x", "resourceGroups", "a(b)/c"]
        );
        assert!(segments("/").is_empty());
        assert_eq!(segments("/a%zz"), ["a%zz"]);
        let kind = |path: &str| classify(&segments(path));
        assert_eq!(kind("/_emulator/requests"), RequestKind::Admin);
        assert_eq!(kind("/tenant/oauth2/v2.0/token"), RequestKind::Token);
        assert_eq!(kind("/tenant/v2.0/.well-known/openid-configuration"), RequestKind::Token);
        assert_eq!(kind("/subscriptions/x"), RequestKind::Arm);
        assert_eq!(kind("/v1.0/applications"), RequestKind::Graph);
        assert_eq!(kind("/"), RequestKind::Arm);
    }
}
