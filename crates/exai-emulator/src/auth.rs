//! The Entra ID token endpoint and the bearer tokens it issues.
//!
//! `POST /{tenant}/oauth2/v2.0/token` implements the client-credentials grant, the only flow
//! `exai` and its tests need from an emulator, for one `<resource>/.default` scope: ARM
//! (`https://management.azure.com/.default`, `https://management.core.windows.net//.default`, ...)
//! or Microsoft Graph (`https://graph.microsoft.com/.default`, and the az CLI's
//! `https://graph.microsoft.com//.default`, and the emulator's own origin, Graph's resource id in
//! the cloud `/metadata/endpoints` describes). The token's audience decides where it works: ARM
//! accepts only ARM tokens, Graph only Graph tokens.
//!
//! Two kinds of client log in:
//! - the development application ([`crate::DEV_CLIENT_ID`] / [`crate::DEV_CLIENT_SECRET`]),
//!   known in every tenant (a GUID or a domain name, created on first use);
//! - applications registered through Graph in the tenant, which need a service principal there
//!   (AADSTS7000229 otherwise), with either a `client_secret` that `addPassword` gave them
//!   (AADSTS7000215 when unknown or removed, AADSTS7000222 when expired) or a `client_assertion`
//!   (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`): a JWT from
//!   the emulator's GitHub-like OIDC issuer ([`crate::graph::github`]) matching one of the
//!   application's federated identity credentials (AADSTS50027 malformed, AADSTS70021 no
//!   matching credential, AADSTS700027 bad signature, AADSTS700024 outside its time range).
//!
//! Errors use Entra's JSON shape and `AADSTS` codes. Tokens are JWT-shaped (some tools decode
//! `tid`/`oid` from them) but are validated only by lookup: the emulator remembers every token it
//! issued with its tenant, client, service principal, audience and expiry, in memory only. A
//! token, a secret or an assertion is never logged and never written to the state file.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::clock::{self, Clock};
use crate::context::Shared;
use crate::directory::{FederatedCredentialRecord, PasswordCredentialRecord};
use crate::http::Incoming;
use crate::jwt::KEY_BYTES;
use crate::state::service_principal_object_id;
use crate::{DEV_CLIENT_ID, DEV_CLIENT_SECRET};

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
    /// The object id of the application's service principal in the tenant (`oid`): the
    /// principal role assignments are checked against.
    #[allow(dead_code)] // read by role-assignment checks
    pub object_id: String,
    /// The audience (`aud`) of the token.
    pub audience: String,
    /// When the token expires.
    pub expires_at: OffsetDateTime,
}

/// Every token the emulator issued and has not long forgotten, and the secrets of its GitHub-like
/// OIDC issuer. All of it lives in memory only: none of it is ever saved.
pub(crate) struct TokenStore {
    tokens: HashMap<String, TokenInfo>,
    /// The key that signs the GitHub-like issuer's tokens (see [`crate::jwt`]), new at each start.
    oidc_key: [u8; KEY_BYTES],
    /// Workflow runs by the SHA-256 of their request token.
    runs: HashMap<String, GithubRun>,
    /// The emulator's clock, which issues and expires tokens.
    clock: Clock,
}

impl Default for TokenStore {
    fn default() -> Self {
        Self::new(Clock::system())
    }
}

/// A workflow run of the GitHub-like OIDC issuer: what its tokens claim.
#[derive(Debug, Clone)]
pub(crate) struct GithubRun {
    /// The claims every token of the run carries (all but `aud`, `jti`, `iat`, `nbf`, `exp`).
    pub claims: serde_json::Map<String, Value>,
    /// When the request token stops working.
    pub expires_at: OffsetDateTime,
    /// How long each OIDC token of the run lives, in seconds.
    pub token_lifetime_seconds: i64,
}

impl TokenStore {
    /// Creates an empty store whose tokens live by `clock`, with a new key for the OIDC issuer.
    pub fn new(clock: Clock) -> Self {
        let mut oidc_key = [0u8; KEY_BYTES];
        rand::fill(&mut oidc_key[..]);
        Self { tokens: HashMap::new(), oidc_key, runs: HashMap::new(), clock }
    }

    /// Issues a token to the development application (whose service principal id is derived)
    /// and remembers it.
    pub fn issue(&mut self, tenant_id: &str, client_id: &str, audience: &str, lifetime: Duration) -> String {
        let object_id = service_principal_object_id(tenant_id, client_id);
        self.issue_for(tenant_id, client_id, &object_id, audience, lifetime)
    }

    /// Issues a token to an application whose service principal is `object_id`, and remembers it.
    pub fn issue_for(
        &mut self,
        tenant_id: &str,
        client_id: &str,
        object_id: &str,
        audience: &str,
        lifetime: Duration,
    ) -> String {
        let now = self.clock.now();
        self.tokens.retain(|_, token| token.expires_at + EXPIRED_TOKEN_MEMORY > now);
        let expires_at = now.checked_add(lifetime).unwrap_or(now);
        let token = jwt_shaped_token(tenant_id, client_id, object_id, audience, now, expires_at);
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                tenant_id: tenant_id.to_owned(),
                client_id: client_id.to_owned(),
                object_id: object_id.to_owned(),
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

    /// Returns the key of the GitHub-like OIDC issuer.
    pub fn oidc_key(&self) -> &[u8; KEY_BYTES] {
        &self.oidc_key
    }

    /// Remembers a workflow run and returns its new request token (only its hash is kept).
    pub fn add_run(&mut self, run: GithubRun) -> String {
        let now = self.clock.now();
        self.runs.retain(|_, run| run.expires_at > now);
        let random: [u8; 32] = rand::random();
        let request_token = URL_SAFE_NO_PAD.encode(random);
        self.runs.insert(crate::directory::secret_hash(&request_token), run);
        request_token
    }

    /// Returns the run a request token belongs to, if it is known and has not expired.
    pub fn run(&self, request_token: &str) -> Option<&GithubRun> {
        let now = self.clock.now();
        self.runs.get(&crate::directory::secret_hash(request_token)).filter(|run| run.expires_at > now)
    }
}

fn jwt_shaped_token(
    tenant_id: &str,
    client_id: &str,
    object_id: &str,
    audience: &str,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "exai-emulator"});
    let issuer = format!("https://sts.windows.net/{tenant_id}/");
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
    let now = tokens.clock.now();
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
    if let Some(id) = crate::http::parse_guid(tenant) {
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

    fn into_response(self, headers: &HeaderMap, now: OffsetDateTime) -> Response {
        let timestamp = clock::entra_timestamp(now);
        let trace_id = Uuid::new_v4().to_string();
        // Entra echoes the client's `client-request-id` (MSAL sends one) as the correlation id.
        let correlation_id = headers
            .get("client-request-id")
            .and_then(|value| value.to_str().ok())
            .and_then(crate::http::parse_guid)
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
        return token(shared, request)
            .unwrap_or_else(|error| error.into_response(&request.headers, shared.clock.now()));
    }
    if segments.len() == 4 && is(1, "v2.0") && is(2, ".well-known") && is(3, "openid-configuration") {
        return openid_configuration(shared, request)
            .unwrap_or_else(|error| error.into_response(&request.headers, shared.clock.now()));
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

    let client = resolve_client(shared, &tenant_id, tenant_segment, client_id)?;
    authenticate_client(shared, &form, &client)?;
    // Entra issues app-only tokens only to applications with a service principal in the tenant.
    let object_id = match &client {
        Client::Development => service_principal_object_id(&tenant_id, DEV_CLIENT_ID),
        Client::Application { service_principal_id: Some(id), .. } => id.clone(),
        Client::Application { app_id, service_principal_id: None, .. } => {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                7000229,
                format!(
                    "The client application {app_id} is missing service principal in the tenant {tenant_id}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"
                ),
            ));
        }
    };
    let client_id = client.app_id().to_owned();
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
    let known = KNOWN_SCOPES.iter().find(|(known, _)| known == single).map(|(_, audience)| *audience);
    // The emulator's own origin is Microsoft Graph's resource id in the cloud its
    // `/metadata/endpoints` describes (see `crate::arm::metadata`), as sovereign clouds' Graph
    // ids are their URLs: `az` asks for `<microsoftGraphResourceId>/.default`.
    let own = single.strip_suffix("/.default").filter(|resource| is_own_origin(shared, request, resource));
    let Some(audience) = known.or(own) else {
        return Err(EntraError::invalid_scope(
            single,
            " The emulator knows the resources https://management.azure.com, https://management.core.windows.net, https://graph.microsoft.com and its own origin (Microsoft Graph in its cloud).",
        ));
    };

    shared.state().ensure_tenant(&tenant_id, domain.as_deref());
    let access_token = shared.tokens().issue_for(
        &tenant_id,
        &client_id,
        &object_id,
        audience,
        Duration::seconds(TOKEN_LIFETIME_SECONDS),
    );
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

/// Returns whether `resource` names the emulator itself (`https://127.0.0.1:PORT`, with or
/// without a trailing slash, as the client addressed it or as the emulator names itself): the
/// resource id of Microsoft Graph in the emulator's cloud.
pub(crate) fn is_own_origin(shared: &Shared, request: &Incoming, resource: &str) -> bool {
    let resource = resource.strip_suffix('/').unwrap_or(resource);
    [request.base_url(shared), shared.base_url.to_string()]
        .iter()
        .any(|origin| origin.strip_suffix('/').unwrap_or(origin).eq_ignore_ascii_case(resource))
}

/// The `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2).
pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The only external issuer whose tokens the emulator can verify: its own GitHub-Actions-like
/// OIDC issuer ([`crate::graph::github`]), named as GitHub's.
pub(crate) const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The application a token request authenticates as.
enum Client {
    /// The development application, known in every tenant, with its public secret.
    Development,
    /// An application registered through Graph in the tenant.
    Application {
        /// Its application (client) id.
        app_id: String,
        /// Its service principal in the tenant, if it has one.
        service_principal_id: Option<String>,
        /// Its client secrets (hashes only).
        passwords: Vec<PasswordCredentialRecord>,
        /// Its federated identity credentials.
        federated: Vec<FederatedCredentialRecord>,
    },
}

impl Client {
    fn app_id(&self) -> &str {
        match self {
            Client::Development => DEV_CLIENT_ID,
            Client::Application { app_id, .. } => app_id,
        }
    }
}

fn resolve_client(
    shared: &Shared,
    tenant_id: &str,
    tenant_segment: &str,
    client_id: &str,
) -> Result<Client, EntraError> {
    let unknown = || {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant_segment}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    };
    let app_id = crate::http::parse_guid(client_id).ok_or_else(unknown)?;
    if app_id == DEV_CLIENT_ID {
        return Ok(Client::Development);
    }
    let state = shared.state();
    let application = state.directory.application_by_app_id(tenant_id, &app_id).ok_or_else(unknown)?;
    Ok(Client::Application {
        service_principal_id: state
            .directory
            .service_principal_by_app_id(tenant_id, &app_id)
            .map(|principal| principal.id.clone()),
        passwords: application.password_credentials.clone(),
        federated: application.federated_identity_credentials.clone(),
        app_id,
    })
}

/// Checks the client's credential: a `client_secret`, or a `client_assertion` of type
/// [`JWT_BEARER`].
fn authenticate_client(shared: &Shared, form: &HashMap<String, String>, client: &Client) -> Result<(), EntraError> {
    let parameter = |name: &str| form.get(name).filter(|value| !value.is_empty());
    match (parameter("client_secret"), parameter("client_assertion")) {
        (Some(_), Some(_)) => Err(EntraError::new(
            // Entra's answer to both credentials at once is undocumented; refusing is stricter
            // than picking one.
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain exactly one of the following parameters: 'client_assertion' or 'client_secret'.".to_owned(),
        )),
        (None, None) => Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
        )),
        (Some(secret), None) => check_secret(client, secret, shared.clock.now()),
        (None, Some(assertion)) => {
            match parameter("client_assertion_type") {
                None => return Err(EntraError::missing_parameter("client_assertion_type")),
                Some(kind) if kind != JWT_BEARER => {
                    return Err(EntraError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        900144,
                        format!("The request body must contain the following parameter: 'client_assertion_type' with the value '{JWT_BEARER}'."),
                    ));
                }
                Some(_) => {}
            }
            let federated = match client {
                Client::Development => &[][..],
                Client::Application { federated, .. } => federated.as_slice(),
            };
            let key = *shared.tokens().oidc_key();
            check_assertion(&key, federated, assertion, shared.clock.now())
        }
    }
}

fn invalid_secret(app_id: &str) -> EntraError {
    EntraError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7000215,
        format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."
        ),
    )
}

fn check_secret(client: &Client, secret: &str, now: OffsetDateTime) -> Result<(), EntraError> {
    let passwords = match client {
        Client::Development => {
            return if constant_time_eq(secret.as_bytes(), DEV_CLIENT_SECRET.as_bytes()) {
                Ok(())
            } else {
                Err(invalid_secret(DEV_CLIENT_ID))
            };
        }
        Client::Application { passwords, .. } => passwords,
    };
    let hash = crate::directory::secret_hash(secret);
    let Some(password) =
        passwords.iter().find(|password| constant_time_eq(password.secret_sha256.as_bytes(), hash.as_bytes()))
    else {
        return Err(invalid_secret(client.app_id()));
    };
    let parse = |text: &str| OffsetDateTime::parse(text, &Rfc3339).ok();
    if parse(&password.end_date_time).is_none_or(|end| end <= now) {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                client.app_id()
            ),
        ));
    }
    if parse(&password.start_date_time).is_none_or(|start| start > now) {
        // A secret that is not valid yet is refused like a wrong one (stricter than Entra, whose
        // answer to it is undocumented).
        return Err(invalid_secret(client.app_id()));
    }
    Ok(())
}

/// Formats a time as Entra's assertion messages do (`2024-10-02T22:05:03.6755165Z`).
fn entra_precise(time: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
    time.format(&format).unwrap_or_default()
}

/// Checks a JWT client assertion against an application's federated identity credentials.
///
/// In Entra's order: the token must parse (AADSTS50027), one credential must match its issuer,
/// subject and audience exactly (AADSTS70021; matching is case-sensitive, as Entra's has been
/// since 2025), its signature must verify (only the emulator's GitHub issuer can be verified:
/// AADSTS700027 otherwise) and `nbf` ≤ now < `exp` (AADSTS700024; `exp` is required and no clock
/// skew is allowed, stricter than Entra).
fn check_assertion(
    key: &[u8; KEY_BYTES],
    federated: &[FederatedCredentialRecord],
    assertion: &str,
    now: OffsetDateTime,
) -> Result<(), EntraError> {
    let malformed = || {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50027,
            "JWT token is invalid or malformed.".to_owned(),
        )
    };
    let token = crate::jwt::decode(assertion).map_err(|_| malformed())?;
    let (Some(issuer), Some(subject)) = (token.string_claim("iss"), token.string_claim("sub")) else {
        return Err(malformed());
    };
    let audiences = token.audiences();
    if audiences.is_empty() {
        return Err(malformed());
    }
    let matched = federated.iter().any(|credential| {
        credential.issuer == issuer
            && credential.subject == subject
            && credential.audiences.iter().any(|audience| audiences.contains(&audience.as_str()))
    });
    if !matched {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                audiences.join(",")
            ),
        ));
    }
    if issuer != GITHUB_ISSUER || !token.verify_hs256(key) {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700027,
            "Client assertion failed signature validation.".to_owned(),
        ));
    }
    let time = |seconds: Option<i64>| seconds.and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok());
    let expires = time(token.time_claim("exp"));
    let not_before = time(token.time_claim("nbf"));
    let valid = expires.is_some_and(|expires| now < expires) && not_before.is_none_or(|not_before| not_before <= now);
    if !valid {
        let show = |time: Option<OffsetDateTime>| time.map_or_else(|| "(none)".to_owned(), entra_precise);
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                entra_precise(now),
                show(not_before.or(Some(OffsetDateTime::UNIX_EPOCH))),
                show(expires)
            ),
        ));
    }
    Ok(())
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
