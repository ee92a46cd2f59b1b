//! The one harness of the emulator's tests: a real emulator on `127.0.0.1:0`, spoken to over
//! HTTPS by reqwest trusting only the emulator's CA, and the readers and assertions every test
//! file shares (Azure's error shapes for ARM, Graph and Entra, JSON shapes, the official
//! examples).
//!
//! It lives here, not in a `testing` module of the crate, because it is made of reqwest (a
//! client the library must not depend on) and of assertions about Azure's shapes; the end-to-end
//! harness (`tests/src/lib.rs`) needs neither: it hands the binary an emulator's URL and CA
//! file, which the library's own API already gives.
#![allow(dead_code)] // each test file uses its own part of this module

use std::collections::BTreeSet;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use exai_emulator::{Clock, DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_TENANT_ID, Emulator, EmulatorOptions, FaultRule};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

/// What every test returns.
pub type TestResult = Result<(), Box<dyn Error>>;

/// The ARM scope of a client-credentials token request.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// The Microsoft Graph scope of a client-credentials token request.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// The `api-version` of `Microsoft.Resources` the tests use.
pub const API: &str = "api-version=2025-04-01";

/// How long a test waits for a request to be held on a manual clock before it calls the
/// emulator stuck: a guard against a hang, never a measured window.
const STUCK: Duration = Duration::from_secs(30);

/// A running emulator, a client that trusts it, and a directory for its files.
pub struct Harness {
    pub emulator: Emulator,
    pub client: reqwest::Client,
    /// The clock the emulator lives by.
    pub clock: Clock,
    options: EmulatorOptions,
    directory: tempfile::TempDir,
    /// The development application's ARM token, fetched on first use.
    token: OnceCell<String>,
}

impl Harness {
    /// Starts an emulator with the default options on the system clock.
    pub async fn new() -> Result<Self, Box<dyn Error>> {
        Self::start(EmulatorOptions::default()).await
    }

    /// Starts an emulator with `options` on the system clock.
    pub async fn start(options: EmulatorOptions) -> Result<Self, Box<dyn Error>> {
        Self::start_with_clock(options, Clock::system()).await
    }

    /// Starts an emulator that lives by `clock` (a manual one moves only when the test says).
    pub async fn start_with_clock(options: EmulatorOptions, clock: Clock) -> Result<Self, Box<dyn Error>> {
        Self::start_in(tempfile::tempdir()?, options, clock).await
    }

    /// Starts an emulator that saves its state to a file in the harness's directory, so
    /// [`Harness::restart`] finds it again.
    pub async fn persistent() -> Result<Self, Box<dyn Error>> {
        let directory = tempfile::tempdir()?;
        let options = EmulatorOptions { state_file: Some(directory.path().join("state.json")), ..Default::default() };
        Self::start_in(directory, options, Clock::system()).await
    }

    /// Starts an emulator with `faults` added through `/_emulator/faults` after the ARM token
    /// was fetched (so no fault gets in its way), on `clock`, with a fault seed.
    pub async fn with_faults(faults: &[&str], seed: Option<u64>, clock: Clock) -> Result<Self, Box<dyn Error>> {
        let harness = Self::start_with_clock(EmulatorOptions { fault_seed: seed, ..Default::default() }, clock).await?;
        harness.arm_token().await?;
        if !faults.is_empty() {
            let listing = harness.admin(Method::POST, "faults", Some(json!({"faults": faults}))).await?;
            assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
        }
        Ok(harness)
    }

    async fn start_in(
        directory: tempfile::TempDir,
        options: EmulatorOptions,
        clock: Clock,
    ) -> Result<Self, Box<dyn Error>> {
        let emulator = Emulator::start_with_clock(options.clone(), clock.clone()).await?;
        let ca = reqwest::Certificate::from_pem(emulator.ca_certificate_pem().as_bytes())?;
        let client = reqwest::Client::builder().tls_certs_only([ca]).build()?;
        Ok(Self { emulator, client, clock, options, directory, token: OnceCell::new() })
    }

    /// Stops the emulator and starts another with the same options, clock and directory.
    pub async fn restart(self) -> Result<Self, Box<dyn Error>> {
        let Self { emulator, options, clock, directory, .. } = self;
        emulator.shutdown().await?;
        Self::start_in(directory, options, clock).await
    }

    /// Stops the emulator.
    pub async fn shutdown(self) -> Result<(), Box<dyn Error>> {
        Ok(self.emulator.shutdown().await?)
    }

    /// Returns the state file, when the emulator has one.
    pub fn state_file(&self) -> Option<&Path> {
        self.options.state_file.as_deref()
    }

    /// Returns a path in the harness's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.directory.path().join(name)
    }

    /// Returns the absolute URL of `path` on the emulator.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emulator.url(), path.trim_start_matches('/'))
    }

    /// Returns a request of `path`, with no credentials.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request and reads the answer in full.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply, Box<dyn Error>> {
        read(request.send().await?).await
    }

    /// Sends `method path` with `token` (none when `None`) and a JSON `body`.
    pub async fn send_as(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<Reply, Box<dyn Error>> {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = with_json(request, &body);
        }
        self.send(request).await
    }

    /// Sends a Graph (or any) request with `token`.
    pub async fn graph(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<Reply, Box<dyn Error>> {
        self.send_as(method, path, Some(token), body).await
    }

    /// Sends an ARM request as the development application.
    pub async fn arm(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply, Box<dyn Error>> {
        self.arm_with(method, path, body, &[]).await
    }

    /// Sends an ARM request as the development application, with more headers.
    pub async fn arm_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, Box<dyn Error>> {
        let mut request = self.arm_request(method, path).await?;
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = with_json(request, &body);
        }
        self.send(request).await
    }

    /// Returns an ARM request as the development application, unsent (for a test that needs
    /// the transport's error, or sends it from another task).
    pub async fn arm_request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, Box<dyn Error>> {
        Ok(self.request(method, path).bearer_auth(self.arm_token().await?))
    }

    /// GETs an absolute URL the emulator handed out (`Azure-AsyncOperation`, `Location`) as
    /// the development application.
    pub async fn follow(&self, url: &str) -> Result<Reply, Box<dyn Error>> {
        self.send(self.client.get(url).bearer_auth(self.arm_token().await?)).await
    }

    /// Sends `route` of the emulator's own `/_emulator/` routes.
    pub async fn admin(&self, method: Method, route: &str, body: Option<Value>) -> Result<Reply, Box<dyn Error>> {
        let mut request = self.request(method, &format!("_emulator/{route}"));
        if let Some(body) = body {
            request = with_json(request, &body);
        }
        self.send(request).await
    }

    /// Posts a form to the token endpoint of `tenant`.
    pub async fn token_request(&self, tenant: &str, form: &[(&str, &str)]) -> Result<Reply, Box<dyn Error>> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = self
            .request(Method::POST, &format!("{tenant}/oauth2/v2.0/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Asks the token endpoint of `tenant` for a client-credentials token with `form`.
    pub async fn client_credentials(&self, tenant: &str, form: &[(&str, &str)]) -> Result<Reply, Box<dyn Error>> {
        let mut all = vec![("grant_type", "client_credentials")];
        all.extend_from_slice(form);
        self.token_request(tenant, &all).await
    }

    /// Returns a client-credentials token, failing the test if the endpoint refuses.
    pub async fn token(&self, tenant: &str, form: &[(&str, &str)]) -> Result<String, Box<dyn Error>> {
        let reply = self.client_credentials(tenant, form).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        Ok(reply.json()["access_token"].as_str().ok_or("no access_token")?.to_owned())
    }

    /// Returns the development application's token for `scope` in `tenant`.
    pub async fn token_for(&self, tenant: &str, scope: &str) -> Result<String, Box<dyn Error>> {
        self.token(tenant, &[("client_id", DEV_CLIENT_ID), ("client_secret", DEV_CLIENT_SECRET), ("scope", scope)])
            .await
    }

    /// Returns the development application's ARM token in the development tenant, asked of the
    /// token endpoint once per harness.
    pub async fn arm_token(&self) -> Result<String, Box<dyn Error>> {
        let token = self.token.get_or_try_init(|| self.token_for(DEV_TENANT_ID, ARM_SCOPE)).await?;
        Ok(token.clone())
    }

    /// Mints a token through `/_emulator/tokens`.
    pub async fn mint(&self, body: Value) -> Result<String, Box<dyn Error>> {
        let reply = self.admin(Method::POST, "tokens", Some(body)).await?;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        Ok(reply.json()["access_token"].as_str().ok_or("no access_token")?.to_owned())
    }

    /// Creates the resource group `name` in `subscription`.
    pub async fn group(&self, subscription: &str, name: &str) -> Result<(), Box<dyn Error>> {
        let path = format!("subscriptions/{subscription}/resourcegroups/{name}?{API}");
        let reply = self.arm(Method::PUT, &path, Some(json!({"location": "francecentral"}))).await?;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        Ok(())
    }

    /// Reads the status of a long-running operation an answer started (its
    /// `Azure-AsyncOperation`), once: with no `operation_delay` the operation is over at the
    /// next request, so no polling (and no waiting) is needed.
    pub async fn wait(&self, reply: &Reply) -> Result<Value, Box<dyn Error>> {
        let url = reply.header("azure-asyncoperation").ok_or("no Azure-AsyncOperation header")?.to_owned();
        let status = self.follow(&url).await?;
        assert_eq!(status.status, StatusCode::OK, "{}", status.text);
        let body = status.json();
        assert_ne!(body["status"], "InProgress", "still running at the next request, with no operation delay");
        Ok(body)
    }

    /// Waits until `count` requests are held on the harness's manual clock (by a `latency=`
    /// or `hang` fault); an error if none is after a generous guard time.
    pub async fn until_held(&self, count: usize) -> Result<(), Box<dyn Error>> {
        tokio::time::timeout(STUCK, self.clock.until_sleepers(count))
            .await
            .map_err(|_| format!("{count} request(s) never waited on the emulator's clock").into())
    }
}

/// A response, read in full.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    /// Returns the body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// Returns a header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Returns the `error.code` of an ARM or Graph error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts an ARM error: status, code, that the body is exactly `{"error":{code,message}}`
    /// and its content type; returns the message.
    pub fn assert_arm_error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{}", self.text);
        assert_eq!(keys(&body), set(&["error"]), "{}", self.text);
        assert_eq!(keys(&body["error"]), set(&["code", "message"]), "{}", self.text);
        assert_eq!(self.header("content-type"), Some("application/json; charset=utf-8"));
        body["error"]["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts Graph's error shape, status and code, and returns the message.
    pub fn assert_graph_error(&self, status: StatusCode, code: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(keys(&body), set(&["error"]), "{}", self.text);
        assert_eq!(keys(&body["error"]), set(&["code", "message", "innerError"]), "{}", self.text);
        assert_eq!(body["error"]["code"], code, "{}", self.text);
        assert_eq!(keys(&body["error"]["innerError"]), set(&["date", "request-id", "client-request-id"]));
        let request_id = self.header("request-id").unwrap_or_default();
        assert_eq!(body["error"]["innerError"]["request-id"], request_id);
        assert!(self.header("client-request-id").is_some());
        assert!(self.header("content-type").unwrap_or_default().starts_with("application/json"));
        body["error"]["message"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts an Entra error (status, `error`, `error_codes`, the members Entra always sends,
    /// a description starting `AADSTS{code}: `) and returns its description.
    pub fn assert_entra_error(&self, status: StatusCode, error: &str, code: u64) -> String {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"], error, "{}", self.text);
        assert_eq!(body["error_codes"], json!([code]), "{}", self.text);
        for member in ["timestamp", "trace_id", "correlation_id", "error_description"] {
            assert!(body[member].is_string(), "{member} missing: {}", self.text);
        }
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
        description.to_owned()
    }
}

/// Reads `response` in full.
pub async fn read(response: reqwest::Response) -> Result<Reply, Box<dyn Error>> {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await?;
    Ok(Reply { status, headers, text })
}

/// Gives a request a JSON body.
pub fn with_json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request.header("content-type", "application/json").body(body.to_string())
}

/// Returns `url?name=value`, the value percent-encoded.
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair(name, value).finish();
    format!("{url}?{query}")
}

/// Returns the member names of a JSON object (empty for anything else).
pub fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().map(|members| members.keys().cloned().collect()).unwrap_or_default()
}

/// Returns `names` as a set, to compare with [`keys`].
pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// Returns the member paths of a JSON value at every depth (`a`, `a.b`, array items as `a.[].b`).
pub fn shape(value: &Value) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                paths.insert(name.clone());
                for inner in shape(member) {
                    paths.insert(format!("{name}.{inner}"));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                for inner in shape(item) {
                    paths.insert(format!("[].{inner}"));
                }
            }
        }
        _ => {}
    }
    paths
}

/// Returns an official example from `tests/fixtures/arm-examples/` (see its SOURCES.md).
pub fn example(name: &str) -> Result<Value, Box<dyn Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/arm-examples").join(name);
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

/// Returns a JSON string's text (empty for anything else).
pub fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Returns whether a JSON value is a GUID in its 8-4-4-4-12 form.
pub fn is_guid(value: &Value) -> bool {
    value.as_str().is_some_and(|text| {
        text.len() == 36
            && text
                .chars()
                .enumerate()
                .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
    })
}

/// Returns the claims of a JWT, unverified (`null` when it is not one).
pub fn claims(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// Parses fault rules.
pub fn rules(texts: &[&str]) -> Result<Vec<FaultRule>, Box<dyn Error>> {
    Ok(texts.iter().map(|text| text.parse()).collect::<Result<Vec<FaultRule>, _>>()?)
}
