//! Bounded time and plain words on the network: how long one attempt may take, what is sent
//! again and for how long, and what a failure was.
//!
//! Two pieces sit in every `azure_core` pipeline exai builds — ARM's, Graph's, and the token
//! endpoint's inside each `azure_identity` credential:
//!
//! - [`BoundedTransport`], the pipeline's transport: one attempt, from connecting to the last
//!   byte of the answer, within [`NetworkOptions::request_timeout`]; an answer larger than
//!   [`MAX_BODY_BYTES`] is refused by its size, never read whole; a failure is classified
//!   ([`NetworkFailure`]) rather than left as reqwest's and rustls' text.
//! - [`ResendPolicy`], the first policy of the pipeline (azure_core's own retries are off): a failure is sent again only when that is
//!   safe and useful. A certificate error never is; a refused connection always is (nothing was
//!   sent); a closed connection or a timeout only for requests that can be repeated (reads,
//!   PUTs, DELETEs, token requests — not Graph's creating POSTs); a 429 always (the request was
//!   not processed), after exactly the `Retry-After` the service asked for. Failures are retried
//!   for at most [`NetworkOptions::retry_timeout`]; throttling waits for at most
//!   [`THROTTLE_BUDGET`] in all. Every wait is reported through [`NetworkOptions::on_wait`]
//!   before it starts, so a person sees why exai is quiet.
//!
//! The key decision is to replace `azure_core`'s retry policy rather than configure it: it
//! retries every transport error the same way (a certificate error 8 times over minutes),
//! waits the longer of its own backoff and `Retry-After`, and cannot say what it waits for.

use async_trait::async_trait;
use azure_core::Bytes;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{AsyncRawResponse, Context, HttpClient, Method, Request, StatusCode};
use futures::StreamExt;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
// tokio's clock, so tests can pause time and a wait costs them nothing.
use tokio::time::Instant;

/// The largest answer exai reads. ARM and Graph objects are a few kB and a page of a list at
/// most a few MB; anything larger is not an answer to what exai asked.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long, in all, one request may wait on throttling (429) before exai gives up.
pub const THROTTLE_BUDGET: Duration = Duration::from_secs(300);

/// The longest pause between two attempts when the server gave no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Called before each wait, with what is waited for (see [`Wait`]).
pub type WaitHook = Arc<dyn Fn(&Wait) + Send + Sync>;

/// How the client behaves on the network.
#[derive(Clone)]
pub struct NetworkOptions {
    /// How long to wait for a connection (TCP and TLS) to be established.
    pub connect_timeout: Duration,
    /// How long one attempt may take, from sending the request to the last byte of the answer.
    pub request_timeout: Duration,
    /// How long a failed request (refused connection, closed connection, 5xx, timeout) is sent
    /// again before exai gives up.
    pub retry_timeout: Duration,
    /// Where the extra CA certificate came from (e.g. "`ca.pem` (--ca-cert)"), for the message
    /// of a certificate error.
    pub ca_origin: Option<String>,
    /// Called before every wait between two attempts.
    pub on_wait: Option<WaitHook>,
}

impl Default for NetworkOptions {
    /// Fails a stuck call in well under a minute: 10 s to connect, 30 s per attempt, failures
    /// retried for 15 s.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            retry_timeout: Duration::from_secs(15),
            ca_origin: None,
            on_wait: None,
        }
    }
}

impl fmt::Debug for NetworkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry_timeout", &self.retry_timeout)
            .field("ca_origin", &self.ca_origin)
            .field("on_wait", &self.on_wait.as_ref().map(|_| "hook"))
            .finish()
    }
}

/// Which service a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph.
    Graph,
    /// The Entra token endpoint.
    Token,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Arm => "ARM",
            Self::Graph => "Microsoft Graph",
            Self::Token => "the token endpoint",
        })
    }
}

/// Why a request got no usable answer, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkFailure {
    /// Nothing listens at the address: the request was never sent.
    #[error("connection refused")]
    Refused,
    /// The host name does not resolve.
    #[error("the host name does not resolve (DNS)")]
    Dns,
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {reason}")]
    Tls {
        /// Why, in plain words (e.g. "the server's certificate is not signed by a trusted CA").
        reason: String,
        /// The CAs exai trusted (e.g. "the system's CAs and `ca.pem` (--ca-cert)").
        trusted: String,
    },
    /// The connection was not established in time.
    #[error("no connection within {} s", .seconds)]
    ConnectTimeout {
        /// How long exai waited.
        seconds: u64,
    },
    /// The connection was closed (or reset) by the server or a proxy before the answer was
    /// complete.
    #[error("connection closed by the server before it answered")]
    Closed,
    /// The answer (or its end) did not come in time.
    #[error("no answer within {} s", .seconds)]
    NoAnswer {
        /// How long exai waited.
        seconds: u64,
    },
    /// The answer is larger than exai reads.
    #[error("the answer is larger than {} MiB ({})", MAX_BODY_BYTES / (1024 * 1024), size_words(*.bytes))]
    TooLarge {
        /// The announced size, or how much was read before giving up.
        bytes: u64,
    },
    /// The answer is not JSON (an HTML page, plain text, nothing).
    #[error("answered {what} with {status}")]
    NotJson {
        /// What it was ("an HTML page", "plain text", "an empty body").
        what: String,
        /// The HTTP status, with its reason phrase.
        status: String,
    },
    /// Anything else the HTTP stack reported.
    #[error("{0}")]
    Other(String),
}

fn size_words(bytes: u64) -> String {
    if bytes >= 1024 * 1024 { format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0)) } else { format!("{bytes} bytes") }
}

impl NetworkFailure {
    /// Returns whether the request never reached the server, so sending it again cannot do
    /// anything twice.
    fn never_sent(&self) -> bool {
        matches!(self, Self::Refused | Self::ConnectTimeout { .. } | Self::Dns)
    }

    /// Returns whether sending again may help at all.
    fn transient(&self) -> bool {
        matches!(self, Self::Refused | Self::ConnectTimeout { .. } | Self::Closed | Self::NoAnswer { .. })
    }
}

/// A request that failed on the network, carried through `azure_core`'s errors (and
/// `azure_identity`'s wrappers) to the client, which turns it into
/// [`AzureError::Network`](crate::AzureError::Network).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{endpoint} at `{url}`: {failure}")]
pub struct RequestFailure {
    /// The service.
    pub endpoint: Endpoint,
    /// The request method.
    pub method: String,
    /// The request URL (no query: a token request has none, and ARM's only carry versions).
    pub url: String,
    /// What went wrong.
    pub failure: NetworkFailure,
    /// How many times the request was sent.
    pub attempts: u32,
    /// How long exai spent on it.
    pub elapsed: Duration,
}

/// What exai is about to wait for, reported before the wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// The service.
    pub endpoint: Endpoint,
    /// The request method.
    pub method: String,
    /// The request URL, without its query.
    pub url: String,
    /// Why exai waits.
    pub reason: WaitReason,
    /// How long.
    pub delay: Duration,
    /// The attempt that comes after the wait (2 for the first retry).
    pub next_attempt: u32,
}

/// Why exai waits before sending a request again.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitReason {
    /// The service answered 429; `retry_after` is whether it said how long to wait.
    Throttled {
        /// Whether the delay is the service's `Retry-After`.
        retry_after: bool,
    },
    /// The service answered a transient error status (408, 5xx).
    Status(u16),
    /// The request failed on the network.
    Network(NetworkFailure),
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delay = if self.delay < Duration::from_secs(1) {
            format!("{} ms", self.delay.as_millis())
        } else {
            format!("{:.0} s", self.delay.as_secs_f64())
        };
        let what = format!("{} {}", self.method, self.url);
        match &self.reason {
            WaitReason::Throttled { retry_after: true } => {
                write!(
                    f,
                    "{} is throttling: waiting {delay} (its Retry-After) before sending {what} again",
                    self.endpoint
                )
            }
            WaitReason::Throttled { retry_after: false } => {
                write!(f, "{} is throttling: waiting {delay} before sending {what} again", self.endpoint)
            }
            WaitReason::Status(status) => {
                write!(
                    f,
                    "{} answered {status} to {what}: trying again in {delay} (attempt {})",
                    self.endpoint, self.next_attempt
                )
            }
            WaitReason::Network(failure) => {
                write!(
                    f,
                    "{} at `{}`: {failure}: trying again in {delay} (attempt {})",
                    self.endpoint, self.url, self.next_attempt
                )
            }
        }
    }
}

/// Returns `url` without its query, for messages: a token request has none, and ARM's query is
/// an api-version.
pub(crate) fn without_query(url: &azure_core::http::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// Returns the first [`RequestFailure`] in `error`'s source chain.
pub(crate) fn request_failure<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a RequestFailure> {
    std::iter::successors(Some(error), |e| e.source()).find_map(|e| e.downcast_ref::<RequestFailure>())
}

/// The pipeline's transport: reqwest, with one deadline over the whole attempt, a bound on the
/// answer's size and failures classified.
#[derive(Debug)]
pub(crate) struct BoundedTransport {
    http: Arc<dyn HttpClient>,
    endpoint: Endpoint,
    request_timeout: Duration,
    connect_timeout: Duration,
    trusted: String,
}

impl BoundedTransport {
    pub(crate) fn new(http: Arc<dyn HttpClient>, endpoint: Endpoint, options: &NetworkOptions) -> Self {
        let trusted = match &options.ca_origin {
            Some(origin) => format!("the system's CAs and {origin}"),
            None => "the system's CAs only (no --ca-cert)".to_owned(),
        };
        Self {
            http,
            endpoint,
            request_timeout: options.request_timeout,
            connect_timeout: options.connect_timeout,
            trusted,
        }
    }

    fn fail(&self, request: &Request, failure: NetworkFailure, started: Instant) -> Error {
        Error::new(
            ErrorKind::Io,
            RequestFailure {
                endpoint: self.endpoint,
                method: request.method().to_string(),
                url: without_query(request.url()),
                failure,
                attempts: 1,
                elapsed: started.elapsed(),
            },
        )
    }
}

#[async_trait]
impl HttpClient for BoundedTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let started = Instant::now();
        let attempt = async {
            let response = self
                .http
                .execute_request(request)
                .await
                .map_err(|e| classify(&e, self.connect_timeout, &self.trusted))?;
            let announced = response
                .headers()
                .get_optional_str(&HeaderName::from_static("content-length"))
                .and_then(|v| v.trim().parse::<u64>().ok());
            if let Some(bytes) = announced.filter(|b| *b > MAX_BODY_BYTES as u64) {
                return Err(NetworkFailure::TooLarge { bytes });
            }
            let (status, headers, mut body) = response.deconstruct();
            let mut collected: Vec<u8> = Vec::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| classify(&e, self.connect_timeout, &self.trusted))?;
                if collected.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(NetworkFailure::TooLarge { bytes: (collected.len() + chunk.len()) as u64 });
                }
                collected.extend_from_slice(&chunk);
            }
            Ok(AsyncRawResponse::from_bytes(status, headers, Bytes::from(collected)))
        };
        match tokio::time::timeout(self.request_timeout, attempt).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(failure)) => Err(self.fail(request, failure, started)),
            Err(_) => {
                Err(self.fail(request, NetworkFailure::NoAnswer { seconds: self.request_timeout.as_secs() }, started))
            }
        }
    }
}

/// Puts an HTTP stack error into plain words, from the types and messages in its chain.
pub(crate) fn classify(
    error: &(dyn std::error::Error + 'static),
    connect_timeout: Duration,
    trusted: &str,
) -> NetworkFailure {
    let chain: Vec<&(dyn std::error::Error + 'static)> = std::iter::successors(Some(error), |e| e.source()).collect();
    let text = chain.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
    let lower = text.to_ascii_lowercase();
    // rustls reports certificate problems as "invalid peer certificate: <reason>".
    if let Some(at) = lower.find("invalid peer certificate") {
        let detail = text[at + "invalid peer certificate".len()..].trim_start_matches([':', ' ']);
        let detail = detail.split(": ").next().unwrap_or(detail);
        return NetworkFailure::Tls { reason: certificate_words(detail), trusted: trusted.to_owned() };
    }
    let io_kind = chain.iter().find_map(|e| e.downcast_ref::<std::io::Error>()).map(std::io::Error::kind);
    // rustls' other handshake failures: an alert from the server, no common protocol.
    let handshake = ["received fatal alert", "peer is incompatible", "peer misbehaved", "handshake"];
    if io_kind != Some(std::io::ErrorKind::UnexpectedEof) && handshake.iter().any(|h| lower.contains(h)) {
        let reason = chain.last().map(|e| e.to_string()).unwrap_or_default();
        return NetworkFailure::Tls { reason, trusted: trusted.to_owned() };
    }
    let reqwest_error = chain.iter().find_map(|e| e.downcast_ref::<reqwest::Error>());
    use std::io::ErrorKind as Io;
    match io_kind {
        Some(Io::ConnectionRefused) => return NetworkFailure::Refused,
        Some(Io::ConnectionReset | Io::ConnectionAborted | Io::UnexpectedEof | Io::BrokenPipe) => {
            return NetworkFailure::Closed;
        }
        _ => {}
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return NetworkFailure::Dns;
    }
    if let Some(e) = reqwest_error {
        if e.is_timeout() && e.is_connect() {
            return NetworkFailure::ConnectTimeout { seconds: connect_timeout.as_secs() };
        }
        if e.is_timeout() {
            return NetworkFailure::NoAnswer { seconds: connect_timeout.as_secs() };
        }
    }
    if lower.contains("connection closed")
        || lower.contains("connection reset")
        || lower.contains("incomplete message")
        || lower.contains("goaway")
        || lower.contains("stream error")
        || lower.contains("broken pipe")
        || lower.contains("unexpected eof")
        || lower.contains("close_notify")
    {
        return NetworkFailure::Closed;
    }
    NetworkFailure::Other(chain.last().map(|e| e.to_string()).unwrap_or(text))
}

/// Turns rustls' name for a certificate problem into words.
fn certificate_words(detail: &str) -> String {
    let words = match detail.trim() {
        "UnknownIssuer" => "the server's certificate is not signed by a CA exai trusts (UnknownIssuer)",
        "Expired" => "the server's certificate has expired",
        "NotValidYet" => "the server's certificate is not valid yet",
        // rustls finds the trusted CA by the issuer's name, then checks the signature: a CA of
        // the same name that did not sign it (another emulator's, an older one) ends here.
        "BadSignature" => {
            "the server's certificate is not signed by the trusted CA of the same name (BadSignature): another CA with that name signed it"
        }
        "Revoked" => "the server's certificate was revoked",
        other if other.starts_with("certificate not valid for name") || other.starts_with("NotValidForName") => {
            return format!("the server's certificate is for another host name ({other})");
        }
        other => return format!("the server's certificate was refused ({other})"),
    };
    words.to_owned()
}

/// Describes a body that is not JSON: "an HTML page", "plain text", "an empty body".
pub(crate) fn not_json_words(content_type: Option<&str>, body: &[u8]) -> String {
    let start = String::from_utf8_lossy(&body[..body.len().min(256)]).trim_start().to_ascii_lowercase();
    let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
    if body.iter().all(u8::is_ascii_whitespace) {
        "an empty body".to_owned()
    } else if content_type.contains("html") || start.starts_with("<!doctype html") || start.starts_with("<html") {
        "an HTML page".to_owned()
    } else if content_type.is_empty() {
        "something else than JSON".to_owned()
    } else {
        format!("`{}` instead of JSON", content_type.split(';').next().unwrap_or_default().trim())
    }
}

/// Returns the status with its reason phrase ("502 Bad Gateway").
pub(crate) fn status_words(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()) {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// The pipeline's retry policy, first in the pipeline (see the module documentation).
pub(crate) struct ResendPolicy {
    endpoint: Endpoint,
    /// Whether a POST may be sent again after the server may have seen it (ARM's POSTs are
    /// actions that create nothing, token requests create nothing; Graph's POSTs create).
    posts_repeatable: bool,
    retry_timeout: Duration,
    on_wait: Option<WaitHook>,
}

impl fmt::Debug for ResendPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResendPolicy").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl ResendPolicy {
    pub(crate) fn new(endpoint: Endpoint, posts_repeatable: bool, options: &NetworkOptions) -> Self {
        Self { endpoint, posts_repeatable, retry_timeout: options.retry_timeout, on_wait: options.on_wait.clone() }
    }

    fn repeatable(&self, method: Method) -> bool {
        method != Method::Post || self.posts_repeatable
    }
}

/// Returns the delay a 429 or 503 asks for: `Retry-After` in seconds (or an HTTP date), or
/// `retry-after-ms` / `x-ms-retry-after-ms` in milliseconds.
pub(crate) fn retry_after(headers: &Headers) -> Option<Duration> {
    let header = |name: &'static str| headers.get_optional_str(&HeaderName::from_static(name)).map(str::trim);
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = header(name).and_then(|v| v.parse::<u64>().ok()) {
            return Some(Duration::from_millis(ms));
        }
    }
    let value = header("retry-after")?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = azure_core::time::parse_rfc7231(value).ok()?;
    let left = date - azure_core::time::OffsetDateTime::now_utc();
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

#[async_trait]
impl Policy for ResendPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let started = Instant::now();
        let mut throttled = Duration::ZERO;
        let mut attempt: u32 = 1;
        loop {
            if attempt > 1 {
                request.body_mut().reset().await?;
            }
            let Some((first, rest)) = next.split_first() else {
                return Err(Error::with_message(ErrorKind::Other, "the pipeline has no transport"));
            };
            let result = first.send(ctx, request, rest).await;
            let method = request.method();
            let elapsed = started.elapsed();
            let (reason, delay) = match &result {
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::TooManyRequests {
                        let asked = retry_after(response.headers());
                        let delay = asked.unwrap_or_else(|| backoff(attempt));
                        if throttled + delay > THROTTLE_BUDGET {
                            return self.finish(request, result, attempt, elapsed).await;
                        }
                        throttled += delay;
                        (WaitReason::Throttled { retry_after: asked.is_some() }, delay)
                    } else if matches!(u16::from(status), 408 | 500 | 502 | 503 | 504) && self.repeatable(method) {
                        let delay = retry_after(response.headers()).unwrap_or_else(|| backoff(attempt));
                        if elapsed + delay >= self.retry_timeout {
                            return self.finish(request, result, attempt, elapsed).await;
                        }
                        (WaitReason::Status(u16::from(status)), delay)
                    } else {
                        return self.finish(request, result, attempt, elapsed).await;
                    }
                }
                Err(error) => {
                    // Only this pipeline's own failures: a token endpoint's failure reaches here
                    // through the bearer policy, already retried by the credential's pipeline.
                    let Some(failure) =
                        error.downcast_ref::<RequestFailure>().filter(|failure| failure.endpoint == self.endpoint)
                    else {
                        return result;
                    };
                    let delay = backoff(attempt);
                    let resend = failure.failure.transient()
                        && (failure.failure.never_sent() || self.repeatable(method))
                        && elapsed + delay < self.retry_timeout;
                    if !resend {
                        let mut failure = failure.clone();
                        failure.attempts = attempt;
                        failure.elapsed = elapsed;
                        return Err(Error::new(ErrorKind::Io, failure));
                    }
                    (WaitReason::Network(failure.failure.clone()), delay)
                }
            };
            attempt += 1;
            if let Some(hook) = &self.on_wait {
                hook(&Wait {
                    endpoint: self.endpoint,
                    method: method.to_string(),
                    url: without_query(request.url()),
                    reason,
                    delay,
                    next_attempt: attempt,
                });
            }
            tokio::time::sleep(delay).await;
        }
    }
}

impl ResendPolicy {
    /// Returns the last answer; for the token endpoint, an answer that is not JSON becomes a
    /// failure that says what it was, since `azure_identity` would only say "expected value".
    async fn finish(&self, request: &Request, result: PolicyResult, attempts: u32, elapsed: Duration) -> PolicyResult {
        let response = result?;
        if self.endpoint != Endpoint::Token {
            return Ok(response);
        }
        let (status, headers, body) = response.deconstruct();
        let bytes = body.collect().await?;
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
            let content_type = headers.get_optional_str(&HeaderName::from_static("content-type"));
            return Err(Error::new(
                ErrorKind::Io,
                RequestFailure {
                    endpoint: self.endpoint,
                    method: request.method().to_string(),
                    url: without_query(request.url()),
                    failure: NetworkFailure::NotJson {
                        what: not_json_words(content_type, &bytes),
                        status: status_words(u16::from(status)),
                    },
                    attempts,
                    elapsed,
                },
            ));
        }
        Ok(AsyncRawResponse::from_bytes(status, headers, bytes))
    }
}

/// A credential that remembers that the token endpoint could not be reached.
///
/// Reads run concurrently and each asks for a token; `azure_identity`'s cache lets them through
/// one after the other, so without this every read would spend the whole retry budget on an
/// endpoint already found unreachable (five reads: five times the wait). A network failure is
/// answered again at once for [`NetworkOptions::retry_timeout`]; Entra's own refusals are not
/// remembered (they are fast, and each says something).
///
/// A client has one per audience (ARM, Microsoft Graph), each with its own credential and so its
/// own token cache (`azure_identity`'s holds its lock while it fetches): the ARM and the Graph
/// token are fetched at once, not one after the other. They share what they remember
/// ([`TokenFailure`]).
#[derive(Debug)]
pub(crate) struct FailFastCredential {
    inner: Arc<dyn TokenCredential>,
    remember_for: Duration,
    /// One token request of this credential at a time: the others then find it cached, or
    /// the failure remembered.
    turn: tokio::sync::Mutex<()>,
    last_failure: TokenFailure,
}

/// The last network failure of the token endpoint, shared by the credentials of one client.
pub(crate) type TokenFailure = Arc<std::sync::Mutex<Option<(Instant, RequestFailure)>>>;

impl FailFastCredential {
    pub(crate) fn new(inner: Arc<dyn TokenCredential>, options: &NetworkOptions, last_failure: TokenFailure) -> Self {
        Self { inner, remember_for: options.retry_timeout, turn: tokio::sync::Mutex::new(()), last_failure }
    }

    fn remembered(&self) -> Option<RequestFailure> {
        let last = self.last_failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        last.as_ref().filter(|(when, _)| when.elapsed() < self.remember_for).map(|(_, failure)| failure.clone())
    }
}

#[async_trait]
impl TokenCredential for FailFastCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let _turn = self.turn.lock().await;
        if let Some(failure) = self.remembered() {
            return Err(Error::new(ErrorKind::Credential, failure));
        }
        let result = self.inner.get_token(scopes, options).await;
        if let Err(error) = &result
            && let Some(failure) = request_failure(error)
        {
            let mut last = self.last_failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *last = Some((Instant::now(), failure.clone()));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap() {
        let delays: Vec<u64> = (1..=5).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 4, 4]);
    }

    #[test]
    fn retry_after_in_seconds_and_milliseconds() {
        let mut headers = Headers::new();
        headers.insert("retry-after", "1");
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(1)));
        headers.insert("retry-after-ms", "250");
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        assert_eq!(retry_after(&Headers::new()), None);
    }

    #[test]
    fn bodies_that_are_not_json_are_named() {
        assert_eq!(not_json_words(Some("text/html; charset=utf-8"), b"<html>"), "an HTML page");
        assert_eq!(not_json_words(None, b"<!DOCTYPE html><html>"), "an HTML page");
        assert_eq!(not_json_words(None, b"  "), "an empty body");
        assert_eq!(not_json_words(Some("text/plain"), b"oops"), "`text/plain` instead of JSON");
        assert_eq!(status_words(502), "502 Bad Gateway");
    }

    /// One scripted answer: a status with headers, or a failure.
    type Answer = Result<(u16, Vec<(&'static str, &'static str)>), NetworkFailure>;

    /// The rest of a pipeline, answering from a script: one answer per attempt.
    #[derive(Debug)]
    struct Scripted {
        answers: std::sync::Mutex<Vec<Answer>>,
        sent: std::sync::Mutex<Vec<Instant>>,
    }

    impl Scripted {
        fn new(answers: Vec<Answer>) -> Arc<Self> {
            Arc::new(Self { answers: std::sync::Mutex::new(answers), sent: std::sync::Mutex::default() })
        }

        fn sent(&self) -> Vec<Instant> {
            self.sent.lock().map(|sent| sent.clone()).unwrap_or_default()
        }
    }

    #[async_trait]
    impl Policy for Scripted {
        async fn send(&self, _: &Context, request: &mut Request, _: &[Arc<dyn Policy>]) -> PolicyResult {
            if let Ok(mut sent) = self.sent.lock() {
                sent.push(Instant::now());
            }
            let next =
                self.answers.lock().ok().and_then(|mut answers| (!answers.is_empty()).then(|| answers.remove(0)));
            match next.unwrap_or(Ok((200, Vec::new()))) {
                Ok((status, pairs)) => {
                    let mut headers = Headers::new();
                    for (name, value) in pairs {
                        headers.insert(name, value);
                    }
                    let status = StatusCode::from(status);
                    Ok(AsyncRawResponse::from_bytes(status, headers, Bytes::from_static(b"{}")))
                }
                Err(failure) => Err(Error::new(
                    ErrorKind::Io,
                    RequestFailure {
                        endpoint: Endpoint::Graph,
                        method: request.method().to_string(),
                        url: without_query(request.url()),
                        failure,
                        attempts: 1,
                        elapsed: Duration::ZERO,
                    },
                )),
            }
        }
    }

    fn waits() -> (Arc<std::sync::Mutex<Vec<Wait>>>, NetworkOptions) {
        let seen: Arc<std::sync::Mutex<Vec<Wait>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let hook: WaitHook = Arc::new(move |wait: &Wait| {
            if let Ok(mut seen) = sink.lock() {
                seen.push(wait.clone());
            }
        });
        (seen, NetworkOptions { on_wait: Some(hook), ..NetworkOptions::default() })
    }

    async fn send(policy: &ResendPolicy, method: Method, next: Arc<Scripted>) -> PolicyResult {
        let url =
            azure_core::http::Url::parse("https://graph.example/v1.0/applications").unwrap_or_else(|_| unreachable!());
        let mut request = Request::new(url, method);
        let next: Vec<Arc<dyn Policy>> = vec![next];
        policy.send(&Context::new(), &mut request, &next).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_graph_post_answered_429_is_sent_again_after_exactly_its_retry_after() {
        let (seen, options) = waits();
        let policy = ResendPolicy::new(Endpoint::Graph, false, &options);
        let next = Scripted::new(vec![Ok((429, vec![("retry-after", "1")])), Ok((201, Vec::new()))]);
        let response = send(&policy, Method::Post, Arc::clone(&next)).await;
        assert_eq!(response.map(|r| u16::from(r.status())).ok(), Some(201));
        let sent = next.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1] - sent[0], Duration::from_secs(1), "Retry-After: 1, not a longer backoff");
        let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].reason, WaitReason::Throttled { retry_after: true });
        assert_eq!(
            seen[0].to_string(),
            "Microsoft Graph is throttling: waiting 1 s (its Retry-After) before sending POST https://graph.example/v1.0/applications again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_closed_connection_resends_reads_but_not_graph_posts() {
        let (_, options) = waits();
        let policy = ResendPolicy::new(Endpoint::Graph, false, &options);
        let next = Scripted::new(vec![Err(NetworkFailure::Closed)]);
        assert!(send(&policy, Method::Get, Arc::clone(&next)).await.is_ok());
        assert_eq!(next.sent().len(), 2, "a read is sent again");

        let next = Scripted::new(vec![Err(NetworkFailure::Closed)]);
        let error = send(&policy, Method::Post, Arc::clone(&next)).await.err();
        assert_eq!(next.sent().len(), 1, "a create may have happened: not sent again");
        let failure = error.as_ref().and_then(|e| e.downcast_ref::<RequestFailure>()).map(|f| f.failure.clone());
        assert_eq!(failure, Some(NetworkFailure::Closed));

        // A refused connection never reached Graph: even a POST is sent again.
        let next = Scripted::new(vec![Err(NetworkFailure::Refused)]);
        assert!(send(&policy, Method::Post, Arc::clone(&next)).await.is_ok());
        assert_eq!(next.sent().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn certificate_errors_are_never_retried_and_refusals_stop_at_the_retry_timeout() {
        let (_, options) = waits();
        let policy = ResendPolicy::new(Endpoint::Graph, false, &options);
        let tls = NetworkFailure::Tls { reason: "UnknownIssuer".into(), trusted: "the system's CAs".into() };
        let next = Scripted::new(vec![Err(tls)]);
        assert!(send(&policy, Method::Get, Arc::clone(&next)).await.is_err());
        assert_eq!(next.sent().len(), 1);

        let next = Scripted::new((0..100).map(|_| Err(NetworkFailure::Refused)).collect());
        let started = Instant::now();
        let error = send(&policy, Method::Get, Arc::clone(&next)).await.err();
        assert!(started.elapsed() < options.retry_timeout, "{:?}", started.elapsed());
        assert_eq!(next.sent().len(), 5, "attempts at 0, 1, 3, 7 and 11 s");
        let attempts = error.as_ref().and_then(|e| e.downcast_ref::<RequestFailure>()).map(|f| f.attempts);
        assert_eq!(attempts, Some(5));
    }

    /// An HTTP client answering one body of `size` bytes, optionally announcing it.
    #[derive(Debug)]
    struct Answering {
        size: usize,
        announce: bool,
    }

    #[async_trait]
    impl HttpClient for Answering {
        async fn execute_request(&self, _: &Request) -> azure_core::Result<AsyncRawResponse> {
            let mut headers = Headers::new();
            if self.announce {
                headers.insert("content-length", self.size.to_string());
            }
            Ok(AsyncRawResponse::from_bytes(StatusCode::Ok, headers, Bytes::from(vec![b' '; self.size])))
        }
    }

    #[tokio::test]
    async fn an_answer_larger_than_the_bound_is_refused_by_its_size() {
        let url = azure_core::http::Url::parse("https://arm.example/x").unwrap_or_else(|_| unreachable!());
        let request = Request::new(url, Method::Get);
        for announce in [true, false] {
            let transport = BoundedTransport::new(
                Arc::new(Answering { size: 20 * 1024 * 1024, announce }),
                Endpoint::Arm,
                &NetworkOptions::default(),
            );
            let error = transport.execute_request(&request).await.err();
            let failure = error.as_ref().and_then(|e| e.downcast_ref::<RequestFailure>()).map(|f| f.failure.clone());
            let Some(NetworkFailure::TooLarge { bytes }) = failure else { panic!("{error:?}") };
            assert!(bytes > MAX_BODY_BYTES as u64);
        }
        let transport = BoundedTransport::new(
            Arc::new(Answering { size: 1024, announce: true }),
            Endpoint::Arm,
            &NetworkOptions::default(),
        );
        assert!(transport.execute_request(&request).await.is_ok());
    }

    #[test]
    fn transport_errors_in_plain_words() {
        let classify =
            |error: &(dyn std::error::Error + 'static)| classify(error, Duration::from_secs(10), "the system's CAs");
        let io = |kind: std::io::ErrorKind, text: &str| {
            Error::new(ErrorKind::Io, std::io::Error::new(kind, text.to_owned()))
        };
        assert_eq!(
            classify(&io(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)")),
            NetworkFailure::Refused
        );
        assert_eq!(classify(&io(std::io::ErrorKind::ConnectionReset, "reset by peer")), NetworkFailure::Closed);
        assert_eq!(
            classify(&io(std::io::ErrorKind::UnexpectedEof, "peer closed connection without sending TLS close_notify")),
            NetworkFailure::Closed
        );
        assert_eq!(
            classify(&io(
                std::io::ErrorKind::Other,
                "dns error: failed to lookup address information: Name or service not known"
            )),
            NetworkFailure::Dns
        );
        let tls = classify(&io(std::io::ErrorKind::InvalidData, "invalid peer certificate: UnknownIssuer"));
        assert_eq!(
            tls,
            NetworkFailure::Tls {
                reason: "the server's certificate is not signed by a CA exai trusts (UnknownIssuer)".into(),
                trusted: "the system's CAs".into()
            }
        );
        let alert = classify(&io(std::io::ErrorKind::InvalidData, "received fatal alert: HandshakeFailure"));
        assert!(matches!(alert, NetworkFailure::Tls { .. }), "{alert:?}");
    }

    #[test]
    fn certificate_problems_in_words() {
        assert!(certificate_words("UnknownIssuer").contains("not signed by a CA exai trusts"));
        assert!(certificate_words("Expired").contains("expired"));
    }
}
