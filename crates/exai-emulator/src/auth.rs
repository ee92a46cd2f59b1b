//! The Entra ID token endpoint and the bearer tokens it issues.
//!
//! `POST /{tenant}/oauth2/v2.0/token` implements the client-credentials grant with a client
//! secret, the only flow `exai` and its tests need from an emulator. Every tenant (a GUID or a
//! domain name, created on first use) knows one application, the development application
//! ([`crate::DEV_CLIENT_ID`] / [`crate::DEV_CLIENT_SECRET`]). Errors use Entra's JSON shape and
//! `AADSTS` codes.
//!
//! Tokens are JWT-shaped (some tools decode `tid`/`oid` from them) but are validated only by
//! lookup: the emulator remembers every token it issued with its tenant, client, audience and
//! expiry, in memory only. A token is never logged and never written to the state file.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::server::{Incoming, Shared};
use crate::{DEV_CLIENT_ID, DEV_CLIENT_SECRET, clock};

/// How long an issued token lives, in seconds (Entra answers 3599).
pub(crate) const TOKEN_LIFETIME_SECONDS: i64 = 3599;

/// How long an expired token is still recognised (and reported as expired rather than unknown).
const EXPIRED_TOKEN_MEMORY: Duration = Duration::hours(24);

/// The audience of tokens for Azure Resource Manager, as the scope
/// `https://management.azure.com/.default` yields it.
pub(crate) const ARM_AUDIENCE: &str = "https://management.azure.com";

/// The audience of tokens for Microsoft Graph.
pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

/// The scopes the token endpoint accepts, each with the audience of the token it yields.
const KNOWN_SCOPES: [(&str, &str); 6] = [
    ("https://management.azure.com/.default", ARM_AUDIENCE),
    ("https://management.azure.com//.default", "https://management.azure.com/"),
    ("https://management.core.windows.net/.default", "https://management.core.windows.net"),
    // The v1-resource compatibility form the az CLI sends (`resource + "/.default"`).
    ("https://management.core.windows.net//.default", "https://management.core.windows.net/"),
    ("https://graph.microsoft.com/.default", GRAPH_AUDIENCE),
    ("https://graph.microsoft.com//.default", GRAPH_AUDIENCE),
];

/// What the emulator remembers about a token it issued.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    /// The tenant the token was issued in (lowercase GUID).
    pub tenant_id: String,
    /// The application the token was issued to.
    pub client_id: String,
    /// The audience (`aud`) of the token.
    pub audience: String,
    /// When the token expires.
    pub expires_at: OffsetDateTime,
}

/// Every token the emulator issued and has not long forgotten.
#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, TokenInfo>,
}

impl TokenStore {
    /// Issues a token and remembers it.
    pub fn issue(&mut self, tenant_id: &str, client_id: &str, audience: &str, lifetime: Duration) -> String {
        let now = clock::now();
        self.tokens.retain(|_, token| token.expires_at + EXPIRED_TOKEN_MEMORY > now);
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        let token = jwt_shaped_token(tenant_id, client_id, audience, now, expires_at);
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                tenant_id: tenant_id.to_owned(),
                client_id: client_id.to_owned(),
                audience: audience.to_owned(),
                expires_at,
            },
        );
        token
    }

    /// Returns what is known about a token, if the emulator issued it.
    pub fn get(&self, token: &str) -> Option<&TokenInfo> {
        self.tokens.get(token)
    }
}

/// Returns the object id of an application's service principal in a tenant.
///
/// Derived, not stored, so it is stable across restarts of the emulator.
pub(crate) fn service_principal_object_id(tenant_id: &str, client_id: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("exai-emulator/service-principal/{tenant_id}/{client_id}").as_bytes())
        .to_string()
}

fn jwt_shaped_token(
    tenant_id: &str,
    client_id: &str,
    audience: &str,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "exai-emulator"});
    let issuer = format!("https://sts.windows.net/{tenant_id}/");
    let object_id = service_principal_object_id(tenant_id, client_id);
    let unique: [u8; 16] = rand::random();
    let claims = json!({
        "aud": audience,
        "iss": issuer,
        "iat": issued_at.unix_timestamp(),
        "nbf": issued_at.unix_timestamp(),
        "exp": expires_at.unix_timestamp(),
        "appid": client_id,
        "appidacr": "1",
        "idp": issuer,
        "idtyp": "app",
        "oid": object_id,
        "sub": object_id,
        "tid": tenant_id,
        "uti": URL_SAFE_NO_PAD.encode(unique),
        "ver": "1.0",
    });
    // The "signature" is 64 random bytes: it signs nothing, it makes the token unguessable.
    let signature: [u8; 64] = rand::random();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature),
    )
}

/// Why a bearer token was refused.
pub(crate) enum BearerFailure {
    /// There is no `Authorization` header.
    Missing,
    /// The header is not `Bearer <token>`.
    Malformed,
    /// The emulator never issued this token (or forgot it long ago).
    Unknown,
    /// The token has expired.
    Expired {
        /// When it expired.
        expires_at: OffsetDateTime,
        /// The time of the request.
        now: OffsetDateTime,
    },
}

/// Returns the token the request's `Authorization: Bearer` header carries, if the emulator
/// issued it and it has not expired. The audience is for the caller to check.
pub(crate) fn authenticate(tokens: &TokenStore, headers: &HeaderMap) -> Result<TokenInfo, BearerFailure> {
    let value = headers.get(header::AUTHORIZATION).ok_or(BearerFailure::Missing)?;
    let value = value.to_str().map_err(|_| BearerFailure::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(BearerFailure::Malformed)?;
    // The scheme is case-insensitive (RFC 9110 section 11.1); the token is taken verbatim.
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(BearerFailure::Malformed);
    }
    let info = tokens.get(token).ok_or(BearerFailure::Unknown)?;
    let now = clock::now();
    if info.expires_at <= now {
        return Err(BearerFailure::Expired { expires_at: info.expires_at, now });
    }
    Ok(info.clone())
}

/// Parses a tenant as Entra accepts it in a path: a GUID or a domain name.
///
/// Returns the tenant id and, for a domain name, the lowercase domain. A domain's tenant id is
/// derived from the name, so the same domain always means the same tenant.
pub(crate) fn parse_tenant(tenant: &str) -> Option<(String, Option<String>)> {
    if let Some(id) = crate::server::parse_guid(tenant) {
        return Some((id, None));
    }
    let domain = tenant.to_ascii_lowercase();
    if !is_domain_name(&domain) {
        return None;
    }
    let id = Uuid::new_v5(&Uuid::NAMESPACE_DNS, domain.as_bytes()).to_string();
    Some((id, Some(domain)))
}

fn is_domain_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|byte| byte.is_ascii_lowercase()))
}

/// An error in Entra's token-endpoint shape.
struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl EntraError {
    fn new(status: StatusCode, error: &'static str, code: u32, description: String) -> Self {
        Self { status, error, code, description }
    }

    fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    fn invalid_scope(scope: &str, reason: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.{reason}"
            ),
        )
    }

    fn into_response(self, headers: &HeaderMap) -> Response {
        let now = clock::now();
        let timestamp = clock::entra_timestamp(now);
        let trace_id = Uuid::new_v4().to_string();
        // Entra echoes the client's `client-request-id` (MSAL sends one) as the correlation id.
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|value| value.to_str().ok())
            .and_then(crate::server::parse_guid)
            .unwrap_or_else(|| Uuid::new_v4().to_string());
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        entra_json(self.status, &body)
    }
}

fn entra_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&Uuid::new_v4().to_string()) {
        headers.insert("x-ms-request-id", value);
    }
    response
}

/// Answers a request under `/{tenant}/oauth2/...` or `/{tenant}/v2.0/.well-known/...`.
pub(crate) fn handle(shared: &Shared, request: &Incoming) -> Response {
    let segments = &request.segments;
    let is = |index: usize, expected: &str| {
        segments.get(index).is_some_and(|segment| segment.eq_ignore_ascii_case(expected))
    };
    if segments.len() == 4 && is(1, "oauth2") && is(2, "v2.0") && is(3, "token") {
        return token(shared, request).unwrap_or_else(|error| error.into_response(&request.headers));
    }
    if segments.len() == 4 && is(1, "v2.0") && is(2, ".well-known") && is(3, "openid-configuration") {
        return openid_configuration(shared, request).unwrap_or_else(|error| error.into_response(&request.headers));
    }
    // Entra answers unknown paths with an HTML page; JSON says more to a test.
    entra_json(
        StatusCode::NOT_FOUND,
        &json!({
            "error": "not_found",
            "error_description": format!(
                "The emulator implements only /{{tenant}}/oauth2/v2.0/token and /{{tenant}}/v2.0/.well-known/openid-configuration, not '{}'.",
                request.raw_path
            ),
        }),
    )
}

fn tenant_of(segment: &str) -> Result<(String, Option<String>), EntraError> {
    parse_tenant(segment).ok_or_else(|| {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{segment}' is neither a valid DirectoryName nor a valid ObjectId. The client-credentials flow needs a specific tenant: a GUID or a domain name, not 'common', 'organizations' or 'consumers'."
            ),
        )
    })
}

/// Parses a form body, refusing a parameter given twice.
fn parse_form(request: &Incoming) -> Result<HashMap<String, String>, EntraError> {
    let is_form = request
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    let mut form = HashMap::new();
    if !is_form {
        // Entra reads parameters only from a form body; anything else looks like an empty one.
        return Ok(form);
    }
    for (name, value) in url::form_urlencoded::parse(&request.body) {
        let name = name.into_owned();
        if form.contains_key(&name) {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                format!(
                    "The request body must contain the following parameter: '{name}' exactly once; it was sent more than once."
                ),
            ));
        }
        form.insert(name, value.into_owned());
    }
    Ok(form)
}

fn token(shared: &Shared, request: &Incoming) -> Result<Response, EntraError> {
    if request.method != Method::POST {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            format!("The endpoint only accepts POST, OPTIONS requests. Received a {} request.", request.method),
        ));
    }
    let tenant_segment = request.segments.first().map(String::as_str).unwrap_or("");
    let (tenant_id, domain) = tenant_of(tenant_segment)?;
    let form = parse_form(request)?;
    let parameter = |name: &str| form.get(name).filter(|value| !value.is_empty());

    let grant_type = parameter("grant_type").ok_or_else(|| EntraError::missing_parameter("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!(
                "The app requested an unsupported grant type '{grant_type}'. The emulator supports only 'client_credentials'."
            ),
        ));
    }
    let client_id = parameter("client_id").ok_or_else(|| EntraError::missing_parameter("client_id"))?;
    let scope = parameter("scope").ok_or_else(|| EntraError::missing_parameter("scope"))?;

    let known_client = crate::server::parse_guid(client_id).filter(|id| id == DEV_CLIENT_ID);
    let Some(client_id) = known_client else {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant_segment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    };
    let Some(secret) = parameter("client_secret") else {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
        ));
    };
    if !constant_time_eq(secret.as_bytes(), DEV_CLIENT_SECRET.as_bytes()) {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        ));
    }

    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let [single] = scopes.as_slice() else {
        return Err(EntraError::invalid_scope(
            scope,
            " The client-credentials flow takes exactly one scope, '<resource>/.default'.",
        ));
    };
    if !single.ends_with("/.default") {
        return Err(EntraError::invalid_scope(
            single,
            " Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
        ));
    }
    let Some((_, audience)) = KNOWN_SCOPES.iter().find(|(known, _)| known == single) else {
        return Err(EntraError::invalid_scope(
            single,
            " The emulator knows the resources https://management.azure.com, https://management.core.windows.net and https://graph.microsoft.com.",
        ));
    };

    shared.state().ensure_tenant(&tenant_id, domain.as_deref());
    let access_token =
        shared.tokens().issue(&tenant_id, &client_id, audience, Duration::seconds(TOKEN_LIFETIME_SECONDS));
    tracing::debug!(tenant = %tenant_id, client = %client_id, audience, "issued a token");
    Ok(entra_json(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "ext_expires_in": TOKEN_LIFETIME_SECONDS,
            "access_token": access_token,
        }),
    ))
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
}

fn openid_configuration(shared: &Shared, request: &Incoming) -> Result<Response, EntraError> {
    if request.method != Method::GET {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900561,
            format!("The endpoint only accepts GET requests. Received a {} request.", request.method),
        ));
    }
    let tenant_segment = request.segments.first().map(String::as_str).unwrap_or("");
    let (tenant_id, _) = tenant_of(tenant_segment)?;
    let base = request.base_url(shared);
    let endpoint = |path: &str| format!("{base}{tenant_segment}/{path}");
    Ok(entra_json(
        StatusCode::OK,
        &json!({
            "token_endpoint": endpoint("oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": endpoint("discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
            "request_uri_parameter_supported": false,
            "authorization_endpoint": endpoint("oauth2/v2.0/authorize"),
            "device_authorization_endpoint": endpoint("oauth2/v2.0/devicecode"),
            "end_session_endpoint": endpoint("oauth2/v2.0/logout"),
            "tenant_region_scope": null,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_guid_and_domain_tenants() {
        let (id, domain) = parse_tenant("EE000000-0000-4000-8000-000000000001").unwrap_or_default();
        assert_eq!(id, "ee000000-0000-4000-8000-000000000001");
        assert_eq!(domain, None);

        let (id, domain) = parse_tenant("Contoso.onmicrosoft.com").unwrap_or_default();
        assert_eq!(domain.as_deref(), Some("contoso.onmicrosoft.com"));
        assert_eq!(parse_tenant("contoso.onmicrosoft.com").map(|t| t.0), Some(id));

        for invalid in ["common", "organizations", "", "a..b", "-a.com", "a.c0m", "x y.com"] {
            assert!(parse_tenant(invalid).is_none(), "{invalid} accepted");
        }
    }

    #[test]
    fn remembers_tokens_and_reports_expiry() {
        let mut store = TokenStore::default();
        let live = store.issue("t", "c", ARM_AUDIENCE, Duration::minutes(5));
        let expired = store.issue("t", "c", ARM_AUDIENCE, Duration::seconds(-5));
        assert_eq!(live.split('.').count(), 3);
        assert_ne!(live, expired);

        let mut headers = HeaderMap::new();
        let mut bearer = |token: &str| {
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap_or(HeaderValue::from_static("x")),
            );
            authenticate(&store, &headers)
        };
        assert!(matches!(bearer(&live), Ok(info) if info.audience == ARM_AUDIENCE));
        assert!(matches!(bearer(&expired), Err(BearerFailure::Expired { .. })));
        assert!(matches!(bearer("nope"), Err(BearerFailure::Unknown)));
    }
}
