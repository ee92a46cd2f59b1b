//! The ARM provider toolkit: what every provider module shares — the bound [`Subscription`],
//! ARM's error shape ([`ArmError`]), the `api-version` and body checks, and the per-subscription
//! request counters. Providers import it, not the router in `arm/mod.rs`.

use std::collections::HashMap;

use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{Incoming, json_response};

/// The subscription a request is for, as the gate bound it.
pub(crate) struct Subscription {
    /// The subscription id (lowercase GUID).
    pub id: String,
    /// The tenant it belongs to.
    pub tenant_id: String,
    /// Its display name.
    pub display_name: String,
}

/// The token audiences ARM accepts, in the order its error message lists them.
pub(crate) const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// An ARM error: a status, `{"error":{"code","message"}}`, and any extra headers.
#[derive(Debug)]
pub(crate) struct ArmError {
    /// The HTTP status.
    pub status: StatusCode,
    /// ARM's error code (`ResourceGroupNotFound`).
    pub code: &'static str,
    /// ARM's message.
    pub message: String,
    /// Headers the error carries (`WWW-Authenticate`, `Allow`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ArmError {
    /// Creates an error with no extra headers.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), headers: Vec::new() }
    }

    /// A 400 error.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A 401 error with ARM's `WWW-Authenticate` challenge naming the tenant to authenticate in.
    pub(super) fn unauthorized(tenant: &str, code: &'static str, message: String) -> Self {
        let escaped = message.replace('\\', "\\\\").replace('"', "\\\"");
        let challenge = format!(
            "Bearer authorization_uri=\"https://login.microsoftonline.com/{tenant}\", error=\"invalid_token\", error_description=\"{escaped}\""
        );
        let mut error = Self::new(StatusCode::UNAUTHORIZED, code, message);
        let value = HeaderValue::from_str(&challenge).unwrap_or_else(|_| {
            HeaderValue::from_static(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\"",
            )
        });
        error.headers.push((header::WWW_AUTHENTICATE, value));
        error
    }

    /// The request body could not be read as the JSON the route expects.
    pub fn invalid_content(detail: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "InvalidRequestContent",
            format!("The request content was invalid and could not be deserialized: '{detail}'."),
        )
    }

    pub(super) fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = json_response(self.status, &body);
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// The 405 for a method a route does not support, with the `Allow` header HTTP requires.
pub(crate) fn method_not_allowed(method: &Method, allowed: &[Method]) -> ArmError {
    let mut error = ArmError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The requested resource does not support http method '{method}'."),
    );
    let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    if let Ok(value) = HeaderValue::from_str(&allow) {
        error.headers.push((header::ALLOW, value));
    }
    error
}

/// Checks the `api-version` query parameter against the versions a route supports.
pub(crate) fn check_api_version(request: &Incoming, supported: &[&str]) -> Result<(), ArmError> {
    let values = request.query_values("api-version");
    // A repeated parameter reaches ARM's model binder as one comma-joined value.
    let version = values.join(",");
    if supported.contains(&version.as_str()) {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "InvalidApiVersionParameter",
        format!("The api-version '{version}' is invalid. The supported versions are '{}'.", supported.join(",")),
    ))
}

pub(super) fn require_api_version(request: &Incoming) -> Result<(), ArmError> {
    if request.query_values("api-version").iter().all(String::is_empty) {
        return Err(ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    }
    Ok(())
}

/// Checks that a write carries a JSON object body and returns it.
pub(crate) fn json_object_body(request: &Incoming) -> Result<serde_json::Map<String, Value>, ArmError> {
    let media_type = request
        .header(header::CONTENT_TYPE.as_str())
        .map(|value| value.split(';').next().unwrap_or("").trim().to_owned());
    match media_type.as_deref() {
        Some(media) if media.eq_ignore_ascii_case("application/json") => {}
        other => {
            return Err(ArmError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!(
                    "The content media type '{}' is not supported. Only 'application/json' is supported.",
                    other.unwrap_or("<null>")
                ),
            ));
        }
    }
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ArmError::invalid_content("The request body is empty."));
    }
    let value: Value = serde_json::from_slice(&request.body).map_err(ArmError::invalid_content)?;
    match value {
        Value::Object(members) => Ok(members),
        other => Err(ArmError::invalid_content(format!("Expected a JSON object but found {}.", json_kind(&other)))),
    }
}

/// Returns how a JSON value is described in error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// ARM's per-subscription request counters, shown in `x-ms-ratelimit-remaining-*` headers.
///
/// Modeled on ARM's historic hourly limits (12,000 reads and 1,200 writes per subscription per
/// hour). Without a `throttle` fault the emulator throttles nothing, and its header must not say
/// otherwise: clients pace on it (exai holds requests back when it says few are left). So a
/// window starts anew after an hour *or* before its count would fall below a tenth of the limit
/// (always far above ARM's 250-read bucket). Throttling is the `throttle` fault's
/// (`crate::faults`), with ARM's token buckets.
#[derive(Default)]
pub(crate) struct RateLimits {
    windows: HashMap<String, RateWindow>,
}

struct RateWindow {
    started_ms: i64,
    reads: u32,
    writes: u32,
}

const READS_PER_HOUR: u32 = 12_000;
const WRITES_PER_HOUR: u32 = 1_200;
const HOUR_MS: i64 = 60 * 60 * 1000;

impl RateLimits {
    /// Counts a request against a subscription and returns the header to send.
    pub(super) fn count(&mut self, subscription: &str, write: bool, now_ms: i64) -> (&'static str, u32) {
        let window = self.windows.entry(subscription.to_owned()).or_insert(RateWindow {
            started_ms: now_ms,
            reads: READS_PER_HOUR,
            writes: WRITES_PER_HOUR,
        });
        let low = if write { window.writes <= WRITES_PER_HOUR / 10 } else { window.reads <= READS_PER_HOUR / 10 };
        if now_ms - window.started_ms >= HOUR_MS || low {
            *window = RateWindow { started_ms: now_ms, reads: READS_PER_HOUR, writes: WRITES_PER_HOUR };
        }
        if write {
            window.writes -= 1;
            ("x-ms-ratelimit-remaining-subscription-writes", window.writes)
        } else {
            window.reads -= 1;
            ("x-ms-ratelimit-remaining-subscription-reads", window.reads)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_count_down_per_kind_and_never_run_low() {
        let mut limits = RateLimits::default();
        assert_eq!(limits.count("s", false, 0), ("x-ms-ratelimit-remaining-subscription-reads", 11_999));
        assert_eq!(limits.count("s", true, 0), ("x-ms-ratelimit-remaining-subscription-writes", 1_199));
        let writes: Vec<u32> = (0..5_000).map(|_| limits.count("s", true, 1).1).collect();
        assert_eq!(writes.iter().min(), Some(&120), "never below a tenth of the hourly limit");
        assert_eq!(writes[..3], [1_198, 1_197, 1_196], "counted down");
        let reads: Vec<u32> = (0..50_000).map(|_| limits.count("s", false, 1).1).collect();
        assert_eq!(reads.iter().min(), Some(&1_200));
        assert_eq!(limits.count("t", true, 2).1, 1_199, "per subscription");
        assert_eq!(limits.count("s", true, HOUR_MS).1, 1_199, "a new window every hour");
    }
}
