//! The admin route of the faults: `/_emulator/faults` lists, adds and removes rules at run time.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::rule::{FaultRule, FaultSyntaxError};
use crate::context::Shared;
use crate::http::{Incoming, empty_response, json_response};

/// The body of `POST /_emulator/faults`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddFaults {
    /// Rules to add, in the command line's syntax.
    #[serde(default)]
    faults: Vec<String>,
    /// A new seed for the generator.
    seed: Option<u64>,
}

fn admin_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({"error": {"code": code, "message": message.into()}}))
}

/// Answers `/_emulator/faults` and `/_emulator/faults/{id}` (the caller checked the peer).
///
/// `GET` lists the rules and the seed; `POST {"faults": [RULE...], "seed": N}` adds rules and/or
/// reseeds; `DELETE` removes every rule (and empties the token buckets), `DELETE .../{id}` one.
pub(crate) fn handle(shared: &Shared, request: &Incoming) -> Response {
    let faults = &shared.faults;
    match (request.segments.get(2..).unwrap_or_default(), &request.method) {
        ([], &Method::GET) => json_response(StatusCode::OK, &faults.listing()),
        ([], &Method::POST) => {
            let body: AddFaults = match serde_json::from_slice(&request.body) {
                Ok(body) => body,
                Err(failure) => {
                    return admin_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestContent",
                        format!(
                            "The body must be {{\"faults\"?: [\"METHOD PATH ACTION ...\"], \"seed\"?: N}}: {failure}"
                        ),
                    );
                }
            };
            // All or nothing: one bad rule adds none.
            let parsed: Result<Vec<FaultRule>, FaultSyntaxError> =
                body.faults.iter().map(|text| text.parse()).collect();
            let rules = match parsed {
                Ok(rules) => rules,
                Err(failure) => return admin_error(StatusCode::BAD_REQUEST, "InvalidFault", failure.to_string()),
            };
            {
                let mut inner = faults.lock();
                if let Some(seed) = body.seed {
                    inner.reseed(seed);
                }
                for rule in rules {
                    inner.add(rule);
                }
            }
            json_response(StatusCode::OK, &faults.listing())
        }
        ([], &Method::DELETE) => {
            let mut inner = faults.lock();
            inner.rules.clear();
            inner.buckets.clear();
            empty_response(StatusCode::NO_CONTENT)
        }
        ([id], &Method::DELETE) => {
            let mut inner = faults.lock();
            let before = inner.rules.len();
            let id = id.parse::<u64>().ok();
            inner.rules.retain(|active| Some(active.id) != id);
            if let Some(id) = id {
                inner.buckets.forget(id);
            }
            if inner.rules.len() == before {
                return admin_error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("There is no fault {}.", request.raw_path),
                );
            }
            empty_response(StatusCode::NO_CONTENT)
        }
        ([], _) | ([_], _) => {
            let allowed = if request.segments.len() == 2 { "GET, POST, DELETE" } else { "DELETE" };
            let mut response = admin_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("The requested resource does not support http method '{}'.", request.method),
            );
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
            response
        }
        _ => admin_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The emulator has no admin route '{}'.", request.raw_path),
        ),
    }
}
