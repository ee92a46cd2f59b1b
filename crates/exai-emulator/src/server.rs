//! The HTTPS front door: one handler that classifies every request, hands it to the token
//! endpoint, ARM or the admin routes, records it, and saves the state when it changed.
//!
//! Routing is done by hand on percent-decoded path segments rather than with axum's router,
//! because ARM matches paths case-insensitively (`resourcegroups` and `resourceGroups` are one
//! route) and answers every miss in its own error shape.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State as AxumState};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::context::Shared;
use crate::http::{Incoming, path_segments, plain_error};
use crate::log::{RequestKind, RequestRecord, redact_json, redact_query};

/// The largest request body the emulator reads (ARM's own limit is 4 MiB).
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

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
    let segments = path_segments(&raw_path);
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
        (None, Err(_), RequestKind::Arm) => crate::arm::too_large(&incoming, &shared.clock),
        (None, Err(_), _) => plain_error(StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than 4 MiB"),
        (None, Ok(_), RequestKind::Token) => crate::auth::handle(&shared, &incoming),
        (None, Ok(_), RequestKind::Admin)
            if incoming.segments.get(1).is_some_and(|segment| segment == crate::graph::github::SEGMENT) =>
        {
            crate::graph::github::handle(&shared, &incoming)
        }
        (None, Ok(_), RequestKind::Admin) => crate::admin::handle(&shared, &incoming),
        (None, Ok(_), RequestKind::Graph) => crate::graph::handle(&shared, &incoming),
        (None, Ok(_), RequestKind::Arm) => crate::arm::handle(&shared, &incoming).await,
    };
    // A `drop-answer` fault: the request was handled, its answer is lost with the connection.
    let dropped = injected.dropped || (injected.drop_answer && shared.faults.drop_answer(incoming.peer));
    let fault = injected.finish(&mut response);

    if let Err(error) = shared.save(false) {
        tracing::error!(%error, "could not save the emulator state");
        if kind == RequestKind::Arm {
            response = crate::arm::state_not_saved(&incoming, &error, &shared.clock);
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
    shared.log.record(
        RequestRecord {
            method: incoming.method.to_string(),
            path: incoming.raw_path.clone(),
            query: incoming.query.as_deref().map(redact_query),
            // 0: the connection was dropped, nothing was answered.
            status: if dropped { 0 } else { response.status().as_u16() },
            kind,
            client_request_id,
            body: recorded_body,
            fault,
        },
        shared.clock.now_rfc3339(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::path_segments;

    #[test]
    fn classifies_paths() {
        let kind = |path: &str| classify(&path_segments(path));
        assert_eq!(kind("/_emulator/requests"), RequestKind::Admin);
        assert_eq!(kind("/tenant/oauth2/v2.0/token"), RequestKind::Token);
        assert_eq!(kind("/tenant/v2.0/.well-known/openid-configuration"), RequestKind::Token);
        assert_eq!(kind("/subscriptions/x"), RequestKind::Arm);
        assert_eq!(kind("/v1.0/applications"), RequestKind::Graph);
        assert_eq!(kind("/"), RequestKind::Arm);
    }
}
