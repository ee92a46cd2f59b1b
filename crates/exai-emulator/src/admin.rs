//! The emulator's own routes, under `/_emulator/`: things Azure has no API for but tests need.
//!
//! - `GET /_emulator/requests`: the request log, a JSON array of [`crate::RecordedRequest`].
//! - `POST /_emulator/reset`: forgets all state and the request log (issued tokens stay valid).
//! - `POST /_emulator/tokens`: mints a token with any tenant, audience and lifetime, so tests can
//!   reach the expired and wrong-audience paths without waiting an hour.
//!
//! They need no token, but answer only clients on the emulator's own machine (a loopback peer):
//! an emulator listening on a public address must not let the network reset it.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use time::Duration;

use crate::arm::{empty_response, json_response};
use crate::auth::{ARM_AUDIENCE, TOKEN_LIFETIME_SECONDS};
use crate::server::{Incoming, Shared, parse_guid};
use crate::state::State;

/// The longest lifetime, either way, of a minted token.
const TEN_YEARS_SECONDS: i64 = 10 * 365 * 24 * 60 * 60;

/// The first path segment of every admin route.
pub(crate) const PREFIX: &str = "_emulator";

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({"error": {"code": code, "message": message.into()}}))
}

fn method_not_allowed(request: &Incoming, allowed: Method) -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The requested resource does not support http method '{}'.", request.method),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(allowed.as_str()) {
        response.headers_mut().insert(axum::http::header::ALLOW, value);
    }
    response
}

/// Answers a request under `/_emulator/`.
pub(crate) fn handle(shared: &Shared, request: &Incoming) -> Response {
    if !request.peer.ip().is_loopback() {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "The emulator's /_emulator routes answer only clients on the same machine.",
        );
    }
    match request.segments.get(1..).unwrap_or_default() {
        [route] if route == "requests" => {
            if request.method != Method::GET {
                return method_not_allowed(request, Method::GET);
            }
            match serde_json::to_value(shared.log.entries()) {
                Ok(entries) => json_response(StatusCode::OK, &entries),
                Err(failure) => error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", failure.to_string()),
            }
        }
        [route] if route == "reset" => {
            if request.method != Method::POST {
                return method_not_allowed(request, Method::POST);
            }
            {
                let mut state = shared.state();
                *state = State::default();
                state.dirty = true;
            }
            shared.log.clear();
            empty_response(StatusCode::NO_CONTENT)
        }
        [route] if route == "tokens" => {
            if request.method != Method::POST {
                return method_not_allowed(request, Method::POST);
            }
            mint_token(shared, request)
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "The emulator has no admin route '{}'. Its routes are GET /_emulator/requests, POST /_emulator/reset and POST /_emulator/tokens.",
                request.raw_path
            ),
        ),
    }
}

/// The body of `POST /_emulator/tokens`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MintRequest {
    /// The tenant the token is issued in (a GUID).
    tenant_id: String,
    /// The application the token is issued to; the development application by default.
    client_id: Option<String>,
    /// The token's audience; ARM's by default.
    audience: Option<String>,
    /// The token's lifetime in seconds, negative for an already expired token; 3599 by default.
    expires_in_seconds: Option<i64>,
}

fn mint_token(shared: &Shared, request: &Incoming) -> Response {
    let mint: MintRequest = match serde_json::from_slice(&request.body) {
        Ok(mint) => mint,
        Err(failure) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!(
                    "The body must be {{\"tenantId\", \"clientId\"?, \"audience\"?, \"expiresInSeconds\"?}}: {failure}"
                ),
            );
        }
    };
    let Some(tenant_id) = parse_guid(&mint.tenant_id) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidTenantId",
            format!("The tenant id '{}' is not a GUID.", mint.tenant_id),
        );
    };
    let client_id = match mint.client_id {
        None => crate::DEV_CLIENT_ID.to_owned(),
        Some(client_id) => match parse_guid(&client_id) {
            Some(client_id) => client_id,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidClientId",
                    format!("The client id '{client_id}' is not a GUID."),
                );
            }
        },
    };
    let audience = mint.audience.unwrap_or_else(|| ARM_AUDIENCE.to_owned());
    // Bounded to ten years either way, so the expiry stays a representable date.
    let lifetime =
        mint.expires_in_seconds.unwrap_or(TOKEN_LIFETIME_SECONDS).clamp(-TEN_YEARS_SECONDS, TEN_YEARS_SECONDS);
    shared.state().ensure_tenant(&tenant_id, None);
    let token = shared.tokens().issue(&tenant_id, &client_id, &audience, Duration::seconds(lifetime));
    json_response(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "access_token": token,
        }),
    )
}
