//! The answers injected faults give, each in the error shape of the API the request is for
//! (ARM, Microsoft Graph, the token endpoint), or as a gateway's HTML page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::buckets::OperationKind;
use crate::clock;
use crate::http::{Incoming, json_response, parse_guid};
use crate::log::RequestKind;

/// The part of the emulator a path belongs to, which decides the shape of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Surface {
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph.
    Graph,
    /// The Entra ID token endpoint.
    Token,
}

/// Returns the part of the emulator a request is for.
pub(super) fn surface(kind: RequestKind, segments: &[String]) -> Surface {
    let graph = segments.first().is_some_and(|first| first.eq_ignore_ascii_case("v1.0") || first == "beta");
    match kind {
        RequestKind::Token => Surface::Token,
        _ if graph => Surface::Graph,
        _ => Surface::Arm,
    }
}

/// Adds the headers every ARM answer carries to an injected one.
fn with_arm_headers(request: &Incoming, mut response: Response) -> Response {
    let correlation = request
        .header("x-ms-correlation-request-id")
        .and_then(parse_guid)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ms-request-id", Some(Uuid::new_v4().to_string())),
        ("x-ms-correlation-request-id", Some(correlation)),
        ("x-ms-client-request-id", request.header("x-ms-client-request-id").map(str::to_owned)),
    ] {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The HTML error page a gateway or proxy in front of a service answers with, instead of the
/// service's JSON: Azure Application Gateway answers its own "502 - Web server received an
/// invalid response while acting as a gateway or proxy server." page when the backend fails
/// (learn.microsoft.com, "Troubleshoot bad gateway errors in Application Gateway"), and
/// corporate proxies and captive portals answer HTML pages too.
pub(super) fn html_answer(status: u16, retry_after: Option<u64>) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let reason = status_code.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n<body><h1>{status} - {reason}</h1>\n<p>Web server received an invalid response while acting as a gateway or proxy server.</p></body></html>\n"
    );
    let mut response = Response::new(axum::body::Body::from(page));
    *response.status_mut() = status_code;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The 429 of an empty token bucket.
pub(super) fn throttled(request: &Incoming, subscription: &str, operation: OperationKind, wait: u64) -> Response {
    let message = format!(
        "Number of '{}' requests for subscription '{subscription}' exceeded. Please try again after '{wait}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
        operation.name()
    );
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({"error": {"code": "SubscriptionRequestsThrottled", "message": message}}),
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    with_arm_headers(request, response)
}

/// Builds an injected status answer in the error shape of the API the request is for.
pub(super) fn status_answer(
    surface: Surface,
    now: OffsetDateTime,
    request: &Incoming,
    status: u16,
    retry_after: Option<u64>,
    code: Option<&str>,
    message: Option<&str>,
) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // 429 without a Retry-After leaves a client guessing; ARM always sends one.
    let retry_after = retry_after.or((status == 429).then_some(1));
    let mut response = match surface {
        Surface::Arm => {
            let (default_code, default_message) = match status {
                // ARM's code for a caller whose roles do not grant the action; its real message
                // names the client, action and scope (give them with `message=`).
                403 => ("AuthorizationFailed", "The client does not have authorization to perform this action."),
                429 => ("TooManyRequests", "The request is being throttled."),
                502 => ("BadGateway", "The gateway did not receive a response from the service."),
                503 => ("ServiceUnavailable", "The service is temporarily unavailable. Please retry the request."),
                504 => ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
                _ => ("InternalServerError", "Encountered internal server error. Please try again."),
            };
            let body = json!({"error": {
                "code": code.unwrap_or(default_code),
                "message": message.unwrap_or(default_message),
            }});
            with_arm_headers(request, json_response(status_code, &body))
        }
        Surface::Graph => {
            let (default_code, default_message) = match status {
                403 => ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
                429 => ("TooManyRequests", "Please retry again later."),
                503 => ("serviceNotAvailable", "Service unavailable"),
                _ => ("generalException", "An unspecified error has occurred."),
            };
            let request_id = Uuid::new_v4().to_string();
            let mut inner = json!({
                "date": clock::rfc3339(now),
                "request-id": request_id,
            });
            if let Some(client_request_id) = request.header("client-request-id") {
                inner["client-request-id"] = Value::String(client_request_id.to_owned());
            }
            let body = json!({"error": {
                "code": code.unwrap_or(default_code),
                "message": message.unwrap_or(default_message),
                "innerError": inner,
            }});
            let mut response = json_response(status_code, &body);
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("request-id", value);
            }
            response
        }
        Surface::Token => {
            // Entra answers transient failures with `temporarily_unavailable` and AADSTS90033
            // ("A transient error has occurred"); the code for a throttled token request was not
            // found in a source, so every injected Entra fault uses these two.
            let trace_id = Uuid::new_v4().to_string();
            let correlation_id =
                request.header("client-request-id").and_then(parse_guid).unwrap_or_else(|| Uuid::new_v4().to_string());
            let timestamp = clock::rfc3339(now);
            let description = message.unwrap_or("A transient error has occurred. Please try again.");
            let body = json!({
                "error": code.unwrap_or("temporarily_unavailable"),
                "error_description": format!(
                    "AADSTS90033: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
                ),
                "error_codes": [90033],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": "https://login.microsoftonline.com/error?code=90033",
            });
            let mut response = json_response(status_code, &body);
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
            response
        }
    };
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_answer_is_an_html_page_with_its_status() {
        let response = html_answer(502, None);
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("text/html; charset=utf-8")
        );
    }
}
