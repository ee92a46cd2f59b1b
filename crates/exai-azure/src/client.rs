//! The ARM/Graph client: one round trip ([`AzureClient::send`]), a read that tells "absent" from
//! "failed" ([`AzureClient::read`]), and a write followed to the end of its long-running
//! operation ([`AzureClient::execute`], in two steps an interrupted caller can stop between:
//! [`AzureClient::start`] and [`AzureClient::follow`]).

use crate::AzureError;
use crate::credential::{CredentialChoice, CredentialKind};
use crate::network::{
    BoundedTransport, Endpoint, FailFastCredential, NetworkFailure, NetworkOptions, RequestFailure, ResendPolicy,
    TokenFailure, not_json_words, request_failure, status_words,
};
use crate::pacing::PacingPolicy;
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, Method as HttpMethod, Pipeline, PipelineSendOptions, Request, RetryOptions, Transport, Url,
};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use exai_model::{ApiRequest, Method, Service};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scope of an Azure Resource Manager token.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// The scope of a Microsoft Graph token.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Where ARM, Graph and the token endpoint are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// ARM's base URL.
    pub arm: Url,
    /// Microsoft Graph's base URL (requests add `/v1.0/...`).
    pub graph: Url,
    /// The Entra authority host (tokens come from `{authority}/{tenant}/oauth2/v2.0/token`).
    pub authority: Url,
    /// True when these endpoints are Azure's public cloud.
    pub is_public_cloud: bool,
}

impl Endpoints {
    /// Azure's public cloud.
    pub fn azure_public() -> Self {
        let parse = |s: &str| Url::parse(s).unwrap_or_else(|_| unreachable!("constant URL {s} parses"));
        Self {
            arm: parse("https://management.azure.com/"),
            graph: parse("https://graph.microsoft.com/"),
            authority: parse("https://login.microsoftonline.com/"),
            is_public_cloud: true,
        }
    }

    /// An emulator serving ARM, Graph and the token endpoint on one origin.
    pub fn emulator(url: &Url) -> Self {
        Self { arm: url.clone(), graph: url.clone(), authority: url.clone(), is_public_cloud: false }
    }
}

/// Everything needed to build an [`AzureClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where to send requests.
    pub endpoints: Endpoints,
    /// The tenant to get tokens from.
    pub tenant: String,
    /// Which credential to use.
    pub credential: CredentialChoice,
    /// An extra CA certificate (PEM) to trust, e.g. the emulator's.
    pub extra_ca_pem: Option<String>,
    /// How long to follow a long-running operation before giving up (each request of it is
    /// bounded by `network`).
    pub operation_timeout: Duration,
    /// Timeouts, retries and the hook that reports waits.
    pub network: NetworkOptions,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body, when there is one.
    pub body: Option<Value>,
    /// `Azure-AsyncOperation`, when present.
    pub async_operation: Option<String>,
    /// `Location`, when present.
    pub location: Option<String>,
    /// `Retry-After` in seconds, when present.
    pub retry_after: Option<u64>,
    /// `x-ms-request-id`, when present.
    pub request_id: Option<String>,
}

/// What Azure did with a write, after one round trip ([`AzureClient::start`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Accepted {
    /// Finished: the resulting object (`None` for a DELETE, or an answer without a body).
    Done(Option<Value>),
    /// Accepted as a long-running operation Azure carries on: [`AzureClient::follow`] follows it.
    Running(Operation),
}

/// A long-running operation Azure accepted and is carrying out.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The URL of the resource it works on.
    pub resource_url: String,
    /// The answer that accepted it (its `Azure-AsyncOperation`, `Location`, `Retry-After`).
    pub accepted: Response,
}

impl Operation {
    /// Returns where to see how it ends: its `Azure-AsyncOperation` URL, else its `Location`,
    /// else the resource itself (its `provisioningState`).
    pub fn status_url(&self) -> &str {
        self.accepted.async_operation.as_deref().or(self.accepted.location.as_deref()).unwrap_or(&self.resource_url)
    }
}

/// Sends requests to ARM and Graph with a bearer token, retries and LRO handling.
pub struct AzureClient {
    arm: Pipeline,
    /// Graph's POSTs create objects (an application, a secret) and are not idempotent: a
    /// retry after a lost answer could create a second one, so the pipeline's policy sends a
    /// POST again only when Graph cannot have processed it (a refused connection, a 429). A
    /// failed create is reported instead; the next apply finds what was made and converges.
    graph: Pipeline,
    endpoints: Endpoints,
    operation_timeout: Duration,
    credential: String,
}

impl std::fmt::Debug for AzureClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureClient")
            .field("endpoints", &self.endpoints)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// The GitHub Actions OIDC token source: fetched anew each time Entra needs an assertion.
#[derive(Debug)]
struct GitHubActionsAssertion {
    request_url: String,
    request_token: String,
    http: reqwest::Client,
    /// The whole request, answer included, like every other request exai sends.
    timeout: Duration,
}

#[async_trait::async_trait]
impl ClientAssertion for GitHubActionsAssertion {
    async fn secret(&self, _options: Option<azure_core::http::ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        use azure_core::error::{Error, ErrorKind};
        let mut url = Url::parse(&self.request_url).map_err(|e| {
            Error::with_message(ErrorKind::Credential, format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL: {e}"))
        })?;
        url.query_pairs_mut().append_pair("audience", "api://AzureADTokenExchange");
        let response =
            self.http.get(url).bearer_auth(&self.request_token).timeout(self.timeout).send().await.map_err(|e| {
                let why = crate::network::classify(&e, self.timeout, "the system's CAs");
                Error::with_message(
                    ErrorKind::Credential,
                    format!("could not reach GitHub's OIDC token endpoint: {why}"),
                )
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::with_message(
                ErrorKind::Credential,
                format!("GitHub's OIDC token endpoint answered {status}"),
            ));
        }
        let bytes = response.bytes().await.map_err(|e| {
            let why = crate::network::classify(&e, self.timeout, "the system's CAs");
            Error::with_message(ErrorKind::Credential, format!("could not read GitHub's OIDC token answer: {why}"))
        })?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::with_message(
                ErrorKind::Credential,
                format!("GitHub's OIDC token endpoint answered something else than JSON: {e}"),
            )
        })?;
        body.get("value").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
            Error::with_message(ErrorKind::Credential, "GitHub's OIDC token endpoint answered without a `value`")
        })
    }
}

/// How long [`AzureClient::wait_until_settled`] waits before its next read, in seconds: the
/// resource's `Retry-After` when it gives one (at least a second: `0` would make the loop a busy
/// one), else its own back-off.
fn settle_pause(retry_after: Option<u64>, backoff: u64) -> u64 {
    retry_after.map_or(backoff, |seconds| seconds.max(1))
}

/// Returns the certificates of a PEM bundle, refusing one that holds none: reqwest accepts any
/// text as "PEM" and would only fail, or silently trust nothing more, at the first handshake.
fn ca_certificates(pem: &str, origin: &str) -> Result<Vec<reqwest::Certificate>, AzureError> {
    let invalid = |reason: String| AzureError::InvalidCaCertificate { origin: origin.to_owned(), reason };
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(invalid("it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned()));
    }
    let certificates = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| invalid(format!("it is not valid PEM: {e}")))?;
    if certificates.is_empty() {
        return Err(invalid("it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)".to_owned()));
    }
    Ok(certificates)
}

fn http_client(extra_ca_pem: Option<&str>, network: &NetworkOptions) -> Result<reqwest::Client, AzureError> {
    let mut builder = reqwest::Client::builder()
        // The whole attempt (first byte and body included) is bounded by `BoundedTransport`.
        .connect_timeout(network.connect_timeout)
        // ARM does not redirect; following one would carry the bearer token elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("exai/", env!("CARGO_PKG_VERSION")));
    let origin = network.ca_origin.clone().unwrap_or_else(|| "given to the client".to_owned());
    if let Some(pem) = extra_ca_pem {
        for certificate in ca_certificates(pem, &origin)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| match extra_ca_pem {
        Some(_) => AzureError::InvalidCaCertificate { origin, reason: explain_error(&e) },
        None => AzureError::Config { message: format!("cannot build the HTTP client: {e}") },
    })
}

/// Returns every message of an error's source chain, joined.
fn explain_error(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source()).map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

fn build_credential(config: &ClientConfig, http: &reqwest::Client) -> Result<Arc<dyn TokenCredential>, AzureError> {
    let client_options = || {
        let mut options = ClientOptions {
            transport: Some(Transport::new(Arc::new(BoundedTransport::new(
                Arc::new(http.clone()),
                Endpoint::Token,
                &config.network,
            )))),
            // A token request creates nothing: it may be sent again after any transient failure.
            // `ResendPolicy` replaces azure_core's retries (see `crate::network`).
            per_call_policies: vec![Arc::new(ResendPolicy::new(Endpoint::Token, true, &config.network))],
            retry: RetryOptions::none(),
            ..Default::default()
        };
        if !config.endpoints.is_public_cloud {
            let mut custom = CustomConfiguration::default();
            custom.authority_host = config.endpoints.authority.as_str().trim_end_matches('/').to_owned();
            options.cloud = Some(Arc::new(CloudConfiguration::from(custom)));
        }
        options
    };
    let choice = &config.credential;
    let fail = |e: azure_core::Error| AzureError::Credential { credential: choice.describe(), message: e.to_string() };
    let secret = || choice.secret.clone().unwrap_or_default();
    let tenant = config.tenant.clone();
    Ok(match &choice.kind {
        CredentialKind::ClientSecret { client_id } => ClientSecretCredential::new(
            &tenant,
            client_id.clone(),
            secret().into(),
            Some(ClientSecretCredentialOptions { client_options: client_options() }),
        )
        .map_err(fail)?,
        CredentialKind::GitHubActions { client_id, request_url } => ClientAssertionCredential::new(
            tenant,
            client_id.clone(),
            GitHubActionsAssertion {
                request_url: request_url.clone(),
                request_token: secret(),
                http: http.clone(),
                timeout: config.network.request_timeout,
            },
            Some(ClientAssertionCredentialOptions { client_options: client_options() }),
        )
        .map_err(fail)?,
        CredentialKind::WorkloadIdentity { client_id, token_file } => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options: client_options() },
                client_id: Some(client_id.clone()),
                tenant_id: Some(tenant),
                token_file_path: Some(token_file.into()),
            }))
            .map_err(fail)?
        }
        CredentialKind::AzureCli => {
            AzureCliCredential::new(Some(AzureCliCredentialOptions { tenant_id: Some(tenant), ..Default::default() }))
                .map_err(fail)?
        }
    })
}

/// Returns the pipeline of ARM or Graph: [`ResendPolicy`] first (azure_core's retries off),
/// then [`PacingPolicy`] (each attempt waits for the service's bucket), then the bearer token,
/// then one bounded attempt ([`BoundedTransport`]).
fn pipeline(
    http: &reqwest::Client,
    credential: Arc<dyn TokenCredential>,
    endpoint: Endpoint,
    network: &NetworkOptions,
) -> Pipeline {
    let (scope, posts_repeatable) = match endpoint {
        Endpoint::Graph => (GRAPH_SCOPE, false),
        // ARM's POSTs are actions (checkNameAvailability, listing keys) that create nothing.
        Endpoint::Arm | Endpoint::Token => (ARM_SCOPE, true),
    };
    let options = ClientOptions {
        transport: Some(Transport::new(Arc::new(BoundedTransport::new(Arc::new(http.clone()), endpoint, network)))),
        // `ResendPolicy` replaces azure_core's retries (see `crate::network`); it runs before
        // the bearer policy, so a token is fetched (or taken from the cache) for each attempt.
        per_call_policies: vec![
            Arc::new(ResendPolicy::new(endpoint, posts_repeatable, network)),
            Arc::new(PacingPolicy::new(endpoint)),
        ],
        retry: RetryOptions::none(),
        ..Default::default()
    };
    Pipeline::new(
        Some("exai"),
        Some(env!("CARGO_PKG_VERSION")),
        options,
        Vec::new(),
        vec![Arc::new(BearerTokenAuthorizationPolicy::new(credential, [scope]))],
        None,
    )
}

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Get => HttpMethod::Get,
        Method::Head => HttpMethod::Head,
        Method::Put => HttpMethod::Put,
        Method::Patch => HttpMethod::Patch,
        Method::Post => HttpMethod::Post,
        Method::Delete => HttpMethod::Delete,
    }
}

/// Returns the kinds of `error` and of every azure_core error it wraps.
fn chain(error: &azure_core::Error) -> impl Iterator<Item = Option<&azure_core::error::ErrorKind>> {
    std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| e.source())
        .map(|e| e.downcast_ref::<azure_core::Error>().map(azure_core::Error::kind))
}

/// Returns every distinct message in `error`'s source chain, outermost first, so that what Entra
/// or the network said is not hidden behind a wrapper's "will not be retried".
fn explain(error: &azure_core::Error) -> String {
    let mut messages: Vec<String> = Vec::new();
    for e in std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| e.source()) {
        let message = e.to_string();
        if !message.is_empty() && !messages.iter().any(|m| m.contains(&message)) {
            messages.push(message);
        }
    }
    messages.join(": ")
}

/// Returns Entra's own explanation (`AADSTS7000215: Invalid client secret provided. ...`) found
/// in `text`, up to the end of its first line.
///
/// azure_identity 1.0 reads Entra's `error_description` as a borrowed string, which fails on the
/// `\r\n` Entra puts in every description; its error then quotes the description inside a
/// deserialization message. Entra's sentence is what a person needs, so it is lifted out.
fn entra_reason(text: &str) -> Option<String> {
    let start = text.find("AADSTS")?;
    let rest = &text[start..];
    let end = ["\\r\\n", "\r\n", "\n", "\""].iter().filter_map(|stop| rest.find(stop)).min().unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned())
}

/// ARM's terminal provisioning and operation states ("All other values indicate the operation
/// is still running": `async-operations.md` in MicrosoftDocs/azure-docs).
fn is_terminal(state: &str) -> bool {
    ["succeeded", "failed", "canceled", "cancelled"].contains(&state.to_ascii_lowercase().as_str())
}

/// Returns true when the answer holds a resource whose `provisioningState` is not terminal: an
/// operation Azure carries on after answering.
fn provisioning_in_progress(response: &Response) -> bool {
    response
        .body
        .as_ref()
        .and_then(|b| b.pointer("/properties/provisioningState"))
        .and_then(Value::as_str)
        .is_some_and(|s| !is_terminal(s))
}

/// Returns true when ARM's answer to a write is a long-running operation to follow: it names an
/// operation (`Azure-AsyncOperation` or `Location`), it is a 202 (accepted, not done), or the
/// resource it holds is not in a terminal `provisioningState`. A 200 or 201 whose body is the
/// resource in a terminal state (a resource group, a data collection rule, an association, a
/// role assignment) is done: reading it again would return the same document. Azure's docs
/// (articles/azure-resource-manager/management/async-operations.md): a 201 or 202 "doesn't
/// necessarily mean the operation is asynchronous. An asynchronous operation also returns a
/// value for `provisioningState` that indicates the operation hasn't finished", and its status
/// is at `Azure-AsyncOperation`, else `Location`. A 201 without a body is read once, for the
/// document dependants need.
fn long_running(method: Method, response: &Response) -> bool {
    let names_operation = response.async_operation.is_some() || response.location.is_some();
    let without_resource = response.status == 201 && response.body.is_none() && method != Method::Delete;
    names_operation || response.status == 202 || without_resource || provisioning_in_progress(response)
}

/// 404 codes that mean "this object does not exist" (as opposed to "you asked the wrong
/// thing"): a missing subscription or an unknown resource type is an error, not an absence.
const ABSENT_CODES: &[&str] = &[
    "ResourceGroupNotFound",
    "ResourceNotFound",
    "NotFound",
    "Request_ResourceNotFound",
    // An extension resource (a data collection rule association) whose parent does not exist.
    "ParentResourceNotFound",
    // Source: RoleAssignments_Get in authorization-RoleAssignmentsCalls.json 2022-04-01.
    "RoleAssignmentNotFound",
];

/// The most pages exai reads of one list.
const MAX_PAGES: usize = 100;

/// Where a paged list says its next page is, for both ARM and Graph.
const NEXT_LINK: &str = "nextLink";

/// Removes and returns the link to a list's next page (`nextLink` in ARM, `@odata.nextLink` in
/// Graph), if there is one.
fn next_link(body: &mut Value) -> Option<String> {
    let object = body.as_object_mut()?;
    ["@odata.nextLink", NEXT_LINK]
        .iter()
        .find_map(|key| object.remove(*key))
        .and_then(|link| link.as_str().filter(|l| !l.is_empty()).map(str::to_owned))
}

impl AzureClient {
    /// Builds a client. Nothing is sent until the first request.
    pub fn new(config: ClientConfig) -> Result<Self, AzureError> {
        let endpoints = &config.endpoints;
        for url in [&endpoints.arm, &endpoints.graph, &endpoints.authority] {
            if url.scheme() != "https" {
                return Err(AzureError::PlainHttp { url: url.to_string() });
            }
        }
        let http = http_client(config.extra_ca_pem.as_deref(), &config.network)?;
        // One credential per audience, so the ARM and the Graph token are fetched at once.
        let failure = TokenFailure::default();
        let credential = || -> Result<Arc<dyn TokenCredential>, AzureError> {
            Ok(Arc::new(FailFastCredential::new(build_credential(&config, &http)?, &config.network, failure.clone())))
        };
        Ok(Self {
            arm: pipeline(&http, credential()?, Endpoint::Arm, &config.network),
            graph: pipeline(&http, credential()?, Endpoint::Graph, &config.network),
            endpoints: config.endpoints,
            operation_timeout: config.operation_timeout,
            credential: config.credential.describe(),
        })
    }

    /// Returns a description of the credential in use (never a secret).
    pub fn credential_description(&self) -> &str {
        &self.credential
    }

    /// Returns the endpoints requests go to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Returns the full URL `request` is sent to.
    pub fn url(&self, request: &ApiRequest) -> String {
        let base = match request.service {
            Service::Arm => &self.endpoints.arm,
            Service::Graph => &self.endpoints.graph,
        };
        format!("{}{}", base.as_str().trim_end_matches('/'), request.path_and_query())
    }

    /// Sends `request` (the pipeline retries what is safe to retry, see [`crate::network`])
    /// and returns the answer, or the Azure error it carried.
    pub async fn send(&self, request: &ApiRequest) -> Result<Response, AzureError> {
        let url = self.url(request);
        self.send_url(request.service, request.method, &url, request.body.as_ref(), &request.headers).await
    }

    async fn send_url(
        &self,
        service: Service,
        method: Method,
        url: &str,
        body: Option<&Value>,
        headers: &[(String, String)],
    ) -> Result<Response, AzureError> {
        let transport =
            |message: String| AzureError::Transport { method: method.to_string(), url: url.to_owned(), message };
        let parsed = Url::parse(url).map_err(|e| transport(format!("not a URL: {e}")))?;
        let mut http_request = Request::new(parsed, http_method(method));
        http_request.insert_header("accept", "application/json");
        for (name, value) in headers {
            http_request.insert_header(name.to_ascii_lowercase(), value.clone());
        }
        if let Some(body) = body {
            http_request.insert_header("content-type", "application/json");
            let bytes = serde_json::to_vec(body).map_err(|e| transport(format!("cannot encode the body: {e}")))?;
            http_request.set_body(bytes);
        }
        let (pipeline, endpoint) = match service {
            Service::Arm => (&self.arm, Endpoint::Arm),
            Service::Graph => (&self.graph, Endpoint::Graph),
        };
        let options = PipelineSendOptions { skip_checks: true, ..Default::default() };
        let raw = pipeline.send(&Context::new(), &mut http_request, Some(options)).await.map_err(|e| {
            // A network failure, of this request or of the token request before it, says which
            // endpoint failed and how; the credential is not to blame.
            if let Some(failure) = request_failure(&e) {
                return AzureError::Network(Box::new(failure.clone()));
            }
            let message = explain(&e);
            // The retry policy wraps failures in its own error: look through it. Not reaching
            // the token endpoint is a network problem, not a wrong secret.
            use azure_core::error::ErrorKind;
            if chain(&e).any(|kind| matches!(kind, Some(ErrorKind::Io | ErrorKind::Connection))) {
                transport(message)
            } else if chain(&e).any(|kind| matches!(kind, Some(ErrorKind::Credential))) {
                let message = entra_reason(&message).map(|r| format!("Entra refused: {r}")).unwrap_or(message);
                AzureError::Credential { credential: self.credential.clone(), message }
            } else {
                transport(message)
            }
        })?;
        let (status, headers, body) = raw.deconstruct();
        let status = u16::from(status);
        let header = |name: &'static str| headers.get_optional_str(&HeaderName::from(name)).map(str::to_owned);
        let request_id = header("x-ms-request-id");
        let json: Option<Value> = if body.is_empty() { None } else { serde_json::from_slice(&body).ok() };
        let content_type = header("content-type");
        let what = not_json_words(content_type.as_deref(), &body);
        let not_json = |failure_status: u16| {
            AzureError::Network(Box::new(RequestFailure {
                endpoint,
                method: method.to_string(),
                url: url.to_owned(),
                failure: NetworkFailure::NotJson { what: what.clone(), status: status_words(failure_status) },
                attempts: 1,
                elapsed: Duration::ZERO,
            }))
        };
        if json.is_none() && what == "an HTML page" {
            // A proxy's or gateway's page, whatever its status: not Azure's answer.
            return Err(not_json(status));
        }
        if status >= 400 {
            let error = json.as_ref().and_then(|j| j.get("error"));
            let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str).map(str::to_owned);
            return Err(AzureError::Api {
                method: method.to_string(),
                url: url.to_owned(),
                status,
                code: field("code").unwrap_or_else(|| format!("HTTP{status}")),
                message: field("message").unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(500).collect()),
                request_id,
            });
        }
        if json.is_none() && !body.is_empty() {
            return Err(not_json(status));
        }
        Ok(Response {
            status,
            body: json,
            async_operation: header("azure-asyncoperation"),
            location: header("location"),
            retry_after: header("retry-after").and_then(|v| v.trim().parse().ok()),
            request_id,
        })
    }

    /// Reads an object: `Ok(None)` when Azure says it does not exist, an error for anything
    /// else that is not a success.
    ///
    /// A list answered in pages (ARM's `nextLink`, Graph's `@odata.nextLink`) is read to its
    /// end and returned as one `value` list: an object on page two is as present as one on
    /// page one.
    pub async fn read(&self, request: &ApiRequest) -> Result<Option<Value>, AzureError> {
        Ok(self.read_answer(request).await?.map(|(body, _)| body))
    }

    /// [`AzureClient::read`], with the answer's `Retry-After` (seconds) as well: a resource
    /// still being provisioned may say when to look again.
    async fn read_answer(&self, request: &ApiRequest) -> Result<Option<(Value, Option<u64>)>, AzureError> {
        let (mut body, retry_after) = match self.send(request).await {
            Ok(response) => (response.body.unwrap_or(Value::Null), response.retry_after),
            Err(AzureError::Api { status: 404, code, .. }) if ABSENT_CODES.contains(&code.as_str()) => return Ok(None),
            Err(e) => return Err(e),
        };
        self.check_identity(request, &body)?;
        let mut pages = 1;
        while let Some(next) = next_link(&mut body) {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(AzureError::InvalidResponse {
                    url: self.url(request),
                    message: format!("the list goes on past {MAX_PAGES} pages"),
                });
            }
            self.check_origin(request.service, &next)?;
            let page = self.send_url(request.service, Method::Get, &next, None, &request.headers).await?;
            let mut page = page.body.unwrap_or(Value::Null);
            let items = page.get_mut("value").and_then(Value::as_array_mut).map(std::mem::take).unwrap_or_default();
            if let Some(value) = body.get_mut("value").and_then(Value::as_array_mut) {
                value.extend(items);
            }
            if let Some(link) = next_link(&mut page) {
                body[NEXT_LINK] = Value::from(link);
            }
        }
        Ok(Some((body, retry_after)))
    }

    /// Sends a write and follows its long-running operation, if any, to the end. Returns the
    /// final resource for a PUT or PATCH, and `None` for a DELETE.
    pub async fn execute(&self, request: &ApiRequest) -> Result<Option<Value>, AzureError> {
        match self.start(request).await? {
            Accepted::Done(document) => Ok(document),
            Accepted::Running(operation) => self.follow(request, operation).await,
        }
    }

    /// Sends a write once (one round trip, with the pipeline's retries) and says whether Azure
    /// finished it or carries it on as a long-running operation, without following it.
    pub async fn start(&self, request: &ApiRequest) -> Result<Accepted, AzureError> {
        let response = self.send(request).await?;
        if request.service == Service::Graph {
            // Graph writes are synchronous: 201 with the object for a POST, 204 for a PATCH
            // or DELETE, 200 with the answer for an action. No operation to follow.
            return Ok(Accepted::Done(response.body));
        }
        if !long_running(request.method, &response) {
            return Ok(Accepted::Done(if request.method == Method::Delete { None } else { response.body }));
        }
        Ok(Accepted::Running(Operation { resource_url: self.url(request), accepted: response }))
    }

    /// Follows a long-running operation [`AzureClient::start`] returned to its end. Returns the
    /// final resource for a PUT or PATCH, and `None` for a DELETE.
    pub async fn follow(&self, request: &ApiRequest, operation: Operation) -> Result<Option<Value>, AzureError> {
        let Operation { resource_url: url, accepted: response } = operation;
        let started = Instant::now();
        let still_running = provisioning_in_progress(&response);
        let mut delay = response.retry_after;
        if let Some(operation) = &response.async_operation {
            self.poll_operation(request, &url, operation, delay, started).await?;
        } else if let Some(location) = &response.location {
            self.poll_location(request, &url, location, delay, started).await?;
        } else if still_running {
            // No operation header: poll the resource itself until its state is terminal.
            loop {
                self.wait(request, &url, delay, started).await?;
                let current = self.send_url(request.service, Method::Get, &url, None, &[]).await?;
                delay = current.retry_after;
                let state = current
                    .body
                    .as_ref()
                    .and_then(|b| b.pointer("/properties/provisioningState"))
                    .and_then(Value::as_str)
                    .unwrap_or("Succeeded")
                    .to_owned();
                if is_terminal(&state) {
                    return self.finish(request, &state, current.body);
                }
            }
        }
        if request.method == Method::Delete {
            return Ok(None);
        }
        let body = self.send_url(request.service, Method::Get, &url, None, &[]).await?.body;
        if let Some(body) = &body {
            self.check_identity(request, body)?;
        }
        Ok(body)
    }

    /// Refuses an ARM answer whose `id` names another object than the one read (compared
    /// case-insensitively, as ARM compares ids): a proxy's or a confused endpoint's answer is
    /// not live state.
    fn check_identity(&self, request: &ApiRequest, body: &Value) -> Result<(), AzureError> {
        if request.service != Service::Arm || body.get("value").is_some() {
            return Ok(());
        }
        let Some(id) = body.get("id").and_then(Value::as_str) else {
            return Ok(());
        };
        let asked = request.path.split('?').next().unwrap_or_default().trim_end_matches('/');
        if id.trim_end_matches('/').eq_ignore_ascii_case(asked) {
            return Ok(());
        }
        let mut answered: String = id.chars().take(300).collect();
        if answered.len() < id.len() {
            answered.push('…');
        }
        Err(AzureError::WrongObject { url: self.url(request), answered })
    }

    /// Reads a resource (`read`, a GET) until its `provisioningState` is terminal (`Succeeded`,
    /// `Failed`, `Canceled`) or it is gone: how exai waits for an operation it did not start
    /// (another apply's, interrupted; someone else's). Returns the resource as it ends, failed
    /// included (what to do about a failure is the caller's decision), or `None` once it no
    /// longer exists (a delete that finished). Gives up after the operation timeout.
    pub async fn wait_until_settled(&self, read: &ApiRequest) -> Result<Option<Value>, AzureError> {
        let url = self.url(read);
        let started = Instant::now();
        // The resource's own `Retry-After` when it gives one; otherwise 1 s, 2 s, 4 s, then
        // every 5 s: the pause the client keeps between polls of an operation that gives none.
        let mut pause = 1;
        loop {
            let Some((document, retry_after)) = self.read_answer(read).await? else { return Ok(None) };
            let settled =
                document.pointer("/properties/provisioningState").and_then(Value::as_str).is_none_or(is_terminal);
            if settled {
                return Ok(Some(document));
            }
            self.wait(read, &url, Some(settle_pause(retry_after, pause)), started).await?;
            pause = (pause * 2).min(5);
        }
    }

    fn finish(&self, request: &ApiRequest, state: &str, body: Option<Value>) -> Result<Option<Value>, AzureError> {
        if state.eq_ignore_ascii_case("succeeded") {
            Ok(body)
        } else {
            Err(AzureError::OperationFailed {
                method: request.method.to_string(),
                url: self.url(request),
                status: state.to_owned(),
                code: String::new(),
                message: "the resource's provisioning state ended in this state".to_owned(),
            })
        }
    }

    async fn wait(
        &self,
        request: &ApiRequest,
        url: &str,
        retry_after: Option<u64>,
        started: Instant,
    ) -> Result<(), AzureError> {
        if started.elapsed() > self.operation_timeout {
            return Err(AzureError::OperationTimeout {
                method: request.method.to_string(),
                url: url.to_owned(),
                seconds: self.operation_timeout.as_secs(),
            });
        }
        // Azure's advice when `Retry-After` is absent is "implement your own retry logic";
        // 5 s is short enough for resource groups and polite enough for clusters.
        let seconds = retry_after.unwrap_or(5).min(60);
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        Ok(())
    }

    /// Refuses to send the bearer token to an origin other than the configured endpoint's.
    fn check_origin(&self, service: Service, url: &str) -> Result<(), AzureError> {
        let base = match service {
            Service::Arm => &self.endpoints.arm,
            Service::Graph => &self.endpoints.graph,
        };
        match Url::parse(url) {
            Ok(u) if u.origin() == base.origin() => Ok(()),
            _ => Err(AzureError::InvalidResponse {
                url: url.to_owned(),
                message: format!(
                    "Azure pointed to a URL (an operation status, a next page) that is not on {}; exai does not send its token elsewhere",
                    base.origin().ascii_serialization()
                ),
            }),
        }
    }

    async fn poll_operation(
        &self,
        request: &ApiRequest,
        url: &str,
        operation: &str,
        mut delay: Option<u64>,
        started: Instant,
    ) -> Result<(), AzureError> {
        self.check_origin(request.service, operation)?;
        loop {
            self.wait(request, url, delay, started).await?;
            let status = self.send_url(request.service, Method::Get, operation, None, &[]).await?;
            delay = status.retry_after;
            let body = status.body.unwrap_or(Value::Null);
            let Some(state) = body.get("status").and_then(Value::as_str) else {
                return Err(AzureError::InvalidResponse {
                    url: operation.to_owned(),
                    message: "the operation status has no `status`".to_owned(),
                });
            };
            if !is_terminal(state) {
                continue;
            }
            if state.eq_ignore_ascii_case("succeeded") {
                return Ok(());
            }
            let field = |name: &str| {
                body.pointer(&format!("/error/{name}")).and_then(Value::as_str).unwrap_or_default().to_owned()
            };
            return Err(AzureError::OperationFailed {
                method: request.method.to_string(),
                url: url.to_owned(),
                status: state.to_owned(),
                code: field("code"),
                message: field("message"),
            });
        }
    }

    async fn poll_location(
        &self,
        request: &ApiRequest,
        url: &str,
        location: &str,
        mut delay: Option<u64>,
        started: Instant,
    ) -> Result<(), AzureError> {
        self.check_origin(request.service, location)?;
        loop {
            self.wait(request, url, delay, started).await?;
            let status = self.send_url(request.service, Method::Get, location, None, &[]).await?;
            if status.status != 202 {
                return Ok(());
            }
            delay = status.retry_after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::settle_pause;

    #[test]
    fn settling_waits_as_long_as_the_resource_says_else_backs_off() {
        assert_eq!(settle_pause(Some(7), 1), 7, "Retry-After is honoured");
        assert_eq!(settle_pause(Some(0), 4), 1, "Retry-After: 0 is not a busy loop");
        assert_eq!(settle_pause(None, 4), 4, "no Retry-After: the back-off");
    }
}
