//! The HTTP vocabulary every handler shares: the request as handlers see it ([`Incoming`]),
//! path decoding, and the response builders that have no service-specific shape.
//!
//! Handlers import these types, never the front door (`server`) that dispatches to them.

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::context::Shared;

/// The content type of the JSON answers of ARM, the token endpoint and the admin routes.
const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

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

/// Splits a path into segments with their `%XX` escapes decoded (invalid UTF-8 becomes U+FFFD, a
/// malformed escape stays as written); an empty path (`/`) has none. Repeated leading slashes
/// count as one, as Azure's front ends take them: clients join a base URL that ends with `/` and
/// a path that starts with one (azure-cli's `resource_manager + "/subscriptions/..."` and
/// `arm_endpoint + "/metadata/endpoints?..."`).
pub(crate) fn path_segments(path: &str) -> Vec<String> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned()).collect()
}

/// Returns a JSON response with ARM's content type.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// Returns a response with no body.
pub(crate) fn empty_response(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// A plain-text error, for the few answers that have no Azure shape.
pub(crate) fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
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
    fn decodes_segments() {
        assert_eq!(
            path_segments("/subscriptions/x/resourceGroups/a%28b%29%2Fc"),
            ["subscriptions", "x", "resourceGroups", "a(b)/c"]
        );
        assert!(path_segments("/").is_empty());
        assert_eq!(path_segments("/a%zz"), ["a%zz"]);
        assert_eq!(path_segments("//metadata/endpoints"), ["metadata", "endpoints"]);
    }
}
