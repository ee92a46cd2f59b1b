//! Fault injection, end to end: a real emulator on `127.0.0.1:0` with faults given at start or
//! through `/_emulator/faults`, spoken to over HTTPS by reqwest.

use std::error::Error;
use std::time::{Duration, Instant};

use exai_emulator::{
    Clock, DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, Emulator, EmulatorOptions, FaultRule,
};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn Error>>;

const API: &str = "api-version=2025-04-01";

/// A response, read in full.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

struct Harness {
    emulator: Emulator,
    client: reqwest::Client,
    token: String,
}

fn rules(texts: &[&str]) -> Result<Vec<FaultRule>, Box<dyn Error>> {
    Ok(texts.iter().map(|text| text.parse()).collect::<Result<Vec<FaultRule>, _>>()?)
}

impl Harness {
    /// Starts an emulator with `faults` and a seed, and gets an ARM token before any fault
    /// could get in the way (faults are added after the token when `late` is set).
    async fn start(faults: &[&str], seed: Option<u64>) -> Result<Self, Box<dyn Error>> {
        Self::start_with_clock(faults, seed, Clock::system()).await
    }

    /// Starts as [`Harness::start`] does, on `clock` (a manual one moves only when the test says).
    async fn start_with_clock(faults: &[&str], seed: Option<u64>, clock: Clock) -> Result<Self, Box<dyn Error>> {
        let options = EmulatorOptions { fault_seed: seed, ..Default::default() };
        let emulator = Emulator::start_with_clock(options, clock).await?;
        let ca = reqwest::Certificate::from_pem(emulator.ca_certificate_pem().as_bytes())?;
        let client = reqwest::Client::builder().tls_certs_only([ca]).build()?;
        let mut harness = Self { emulator, client, token: String::new() };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", DEV_CLIENT_ID),
            ("client_secret", DEV_CLIENT_SECRET),
            ("scope", "https://management.azure.com/.default"),
        ];
        let reply = harness.token_request(&form).await?;
        let body: Value = serde_json::from_str(&reply.text().await?)?;
        harness.token = body["access_token"].as_str().unwrap_or_default().to_owned();
        assert!(!harness.token.is_empty(), "no token: {body}");
        if !faults.is_empty() {
            let listing = harness.admin(Method::POST, json!({"faults": faults})).await?;
            assert_eq!(listing.status, StatusCode::OK, "{}", listing.body);
        }
        Ok(harness)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.emulator.url(), path.trim_start_matches('/'))
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<reqwest::Response, reqwest::Error> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.client
            .post(self.url(&format!("{DEV_TENANT_ID}/oauth2/v2.0/token")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
    }

    fn group(name: &str) -> String {
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/{name}?{API}")
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply, reqwest::Error> {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok(Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) })
    }

    async fn put_group(&self, name: &str) -> Result<Reply, reqwest::Error> {
        self.send(Method::PUT, &Self::group(name), Some(json!({"location": "francecentral"}))).await
    }

    async fn get_group(&self, name: &str) -> Result<Reply, reqwest::Error> {
        self.send(Method::GET, &Self::group(name), None).await
    }

    async fn admin(&self, method: Method, body: Value) -> Result<Reply, Box<dyn Error>> {
        let mut request = self.client.request(method.clone(), self.url("_emulator/faults"));
        if method == Method::POST {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok(Reply { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::Null) })
    }
}

#[tokio::test]
async fn status_faults_answer_in_arm_shape_scoped_by_method_path_and_count() -> TestResult {
    let harness = Harness::start(
        &[
            "PUT /subscriptions/*/resourceGroups/doomed-* 500 times=2",
            "PUT /subscriptions/*/resourcegroups/busy 503 retry-after=7 times=1",
            "GET /subscriptions/*/resourcegroups/hot 429 code=RetryableErrorDueToAnotherOperation message=\"try later\"",
        ],
        None,
    )
    .await?;

    // The method scopes: a GET of a doomed group is answered for real (404, no fault).
    assert_eq!(harness.get_group("doomed-1").await?.status, StatusCode::NOT_FOUND);
    // The path scopes, case-insensitively, and `times=2` means the next two matching requests.
    for _ in 0..2 {
        let reply = harness.put_group("DOOMED-1").await?;
        assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            reply.body,
            json!({"error": {"code": "InternalServerError", "message": reply.body["error"]["message"]}})
        );
        assert!(reply.header("x-ms-request-id").is_some());
        assert_eq!(reply.header("retry-after"), None);
    }
    assert_eq!(harness.put_group("doomed-1").await?.status, StatusCode::CREATED);
    assert_eq!(harness.put_group("other").await?.status, StatusCode::CREATED);

    let reply = harness.put_group("busy").await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"));
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(harness.put_group("busy").await?.status, StatusCode::CREATED);

    let reply = harness.get_group("hot").await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::TOO_MANY_REQUESTS, "RetryableErrorDueToAnotherOperation"));
    assert_eq!(reply.body["error"]["message"], "try later");
    // 429 always carries a Retry-After (1 s unless the rule says otherwise).
    assert_eq!(reply.header("retry-after"), Some("1"));

    // Every injected fault is in the request log, with the status answered and the rule.
    let faulted: Vec<(u16, String)> = harness
        .emulator
        .requests()
        .into_iter()
        .filter_map(|request| request.fault.map(|fault| (request.status, fault)))
        .collect();
    assert_eq!(faulted.len(), 4, "{faulted:?}");
    assert_eq!(faulted[0], (500, "#1 PUT /subscriptions/*/resourceGroups/doomed-* 500 times=2".to_owned()));
    assert_eq!(faulted[2].0, 503);
    assert_eq!(faulted[3].0, 429);

    // The admin listing counts what each rule did.
    let listing = harness.admin(Method::GET, Value::Null).await?;
    assert_eq!(listing.body["faults"][0]["fired"], 2);
    assert_eq!(listing.body["faults"][0]["remaining"], 0);
    assert_eq!(listing.body["faults"][2]["remaining"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn token_and_graph_routes_get_their_own_error_shapes() -> TestResult {
    let harness =
        Harness::start(&["POST /*/oauth2/v2.0/token 503", "* /v1.0/** 503", "GET /beta/** 500"], None).await?;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", DEV_CLIENT_ID),
        ("client_secret", DEV_CLIENT_SECRET),
        ("scope", "https://management.azure.com/.default"),
    ];
    let reply = harness.token_request(&form).await?;
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_str(&reply.text().await?)?;
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(body["error_codes"], json!([90033]));
    assert!(body["error_description"].as_str().unwrap_or_default().starts_with("AADSTS90033: "), "{body}");

    let reply = harness.send(Method::GET, "/v1.0/applications", None).await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable"));
    assert!(reply.body["error"]["innerError"]["request-id"].is_string(), "{}", reply.body);
    assert!(reply.body["error"]["innerError"]["date"].is_string(), "{}", reply.body);
    let reply = harness.send(Method::GET, "/beta/servicePrincipals", None).await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::INTERNAL_SERVER_ERROR, "generalException"));
    Ok(())
}

#[tokio::test]
async fn latency_delays_the_answer() -> TestResult {
    let harness = Harness::start(&["GET /subscriptions/** latency=300ms times=1"], None).await?;
    let started = Instant::now();
    assert_eq!(harness.get_group("slow").await?.status, StatusCode::NOT_FOUND);
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    // Spent after one request: the next one is answered with no fault (checked in the log,
    // not with a clock, so a loaded machine cannot make this test fail).
    harness.get_group("slow").await?;
    let faults: Vec<Option<String>> =
        harness.emulator.requests().iter().filter(|r| r.path.contains("/slow")).map(|r| r.fault.clone()).collect();
    assert_eq!(faults.len(), 2, "{faults:?}");
    assert!(faults[0].is_some() && faults[1].is_none(), "{faults:?}");
    Ok(())
}

/// Returns the statuses of `count` GETs.
async fn statuses(harness: &Harness, count: usize) -> Result<Vec<u16>, Box<dyn Error>> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        statuses.push(harness.get_group("dice").await?.status.as_u16());
    }
    Ok(statuses)
}

#[tokio::test]
async fn a_seed_reproduces_the_same_draws() -> TestResult {
    let rule = ["GET * 500 p=0.5"];
    let first = statuses(&Harness::start(&rule, Some(42)).await?, 24).await?;
    let second = statuses(&Harness::start(&rule, Some(42)).await?, 24).await?;
    assert_eq!(first, second);
    assert!(first.contains(&500) && first.contains(&404), "{first:?}");
    let other = statuses(&Harness::start(&rule, Some(43)).await?, 24).await?;
    assert_ne!(first, other, "another seed should draw differently");

    // Reseeding through the admin endpoint restarts the same sequence.
    let harness = Harness::start(&rule, Some(7)).await?;
    let reseed = harness.admin(Method::POST, json!({"seed": 42})).await?;
    assert_eq!(reseed.body["seed"], 42);
    assert_eq!(statuses(&harness, 24).await?, first);
    Ok(())
}

#[tokio::test]
async fn token_buckets_drain_and_refill() -> TestResult {
    // A manual clock: no token comes back between requests, however slow the machine.
    let clock = Clock::manual();
    let rules = ["* /subscriptions/** throttle writes=3 write-rate=2"];
    let harness = Harness::start_with_clock(&rules, None, clock.clone()).await?;
    for (index, left) in ["2", "1", "0"].into_iter().enumerate() {
        let reply = harness.put_group(&format!("bucket-{index}")).await?;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-writes"), Some(left));
    }
    let reply = harness.put_group("bucket-3").await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::TOO_MANY_REQUESTS, "SubscriptionRequestsThrottled"));
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-writes"), Some("0"));
    let message = reply.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("'write'") && message.contains(DEV_SUBSCRIPTION_ID), "{message}");

    // Reads and deletes have their own buckets, ARM's sizes unless the rule says otherwise.
    let reply = harness.get_group("bucket-0").await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-reads"), Some("249"));
    let reply = harness.send(Method::DELETE, &Harness::group("bucket-0"), None).await?;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-deletes"), Some("199"));
    assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-writes"), None);

    // Two tokens a second: 499 ms give none back, 500 ms one.
    clock.advance(Duration::from_millis(499));
    assert_eq!(harness.put_group("bucket-3").await?.status, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(Duration::from_millis(1));
    assert_eq!(harness.put_group("bucket-3").await?.status, StatusCode::CREATED);
    assert_eq!(harness.put_group("bucket-4").await?.status, StatusCode::TOO_MANY_REQUESTS);
    Ok(())
}

#[tokio::test]
async fn the_admin_endpoint_lists_adds_and_removes_faults() -> TestResult {
    let harness = Harness::start(&[], Some(5)).await?;
    let listing = harness.admin(Method::GET, Value::Null).await?;
    assert_eq!(listing.body, json!({"seed": 5, "faults": []}));

    // One bad rule adds none, and the error names the bad part.
    let refused = harness.admin(Method::POST, json!({"faults": ["GET * 500", "GET * 418"]})).await?;
    assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "InvalidFault"));
    assert!(refused.body["error"]["message"].as_str().unwrap_or_default().contains("`418` is not an action"));
    let refused = harness.admin(Method::POST, json!({"rules": []})).await?;
    assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "InvalidRequestContent"));

    let added = harness.admin(Method::POST, json!({"faults": ["* * 500", "GET * latency=1ms"]})).await?;
    assert_eq!(added.body["faults"][0], json!({"id": 1, "rule": "* * 500", "fired": 0, "remaining": null}));
    assert_eq!(added.body["faults"][1]["id"], 2);

    // Faults never apply to the admin routes, even `* * 500`.
    assert_eq!(harness.admin(Method::GET, Value::Null).await?.status, StatusCode::OK);
    assert_eq!(harness.get_group("any").await?.status, StatusCode::INTERNAL_SERVER_ERROR);

    let removed = harness.client.delete(harness.url("_emulator/faults/1")).send().await?;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let missing = harness.client.delete(harness.url("_emulator/faults/1")).send().await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(harness.get_group("any").await?.status, StatusCode::NOT_FOUND);
    let cleared = harness.admin(Method::DELETE, Value::Null).await?;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert_eq!(harness.admin(Method::GET, Value::Null).await?.body["faults"], json!([]));
    let wrong = harness.admin(Method::PUT, Value::Null).await?;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("allow"), Some("GET, POST, DELETE"));
    Ok(())
}

#[tokio::test]
async fn a_dropped_connection_is_a_connection_error_and_the_request_is_not_processed() -> TestResult {
    let harness = Harness::start(&["PUT /subscriptions/*/resourcegroups/* drop times=1"], None).await?;
    let error = match harness.put_group("dropped").await {
        Ok(reply) => return Err(format!("expected a connection error, got {}", reply.status).into()),
        Err(error) => error,
    };
    eprintln!("a dropped connection, as reqwest reports it: {error:?}");
    assert!(error.status().is_none(), "{error:?}");
    assert!(error.is_request() || error.is_connect(), "{error:?}");
    // Nothing was created, the log says why, and the next request goes through.
    assert_eq!(harness.get_group("dropped").await?.status, StatusCode::NOT_FOUND);
    let log = harness.emulator.requests();
    let dropped = log.iter().find(|request| request.method == "PUT").ok_or("no PUT in the log")?;
    assert_eq!(dropped.status, 0);
    assert!(dropped.fault.as_deref().unwrap_or_default().contains("drop"));
    assert_eq!(harness.put_group("dropped").await?.status, StatusCode::CREATED);
    Ok(())
}

#[tokio::test]
async fn a_dropped_answer_is_a_connection_error_after_the_request_was_processed() -> TestResult {
    let harness = Harness::start(&["PUT /subscriptions/*/resourcegroups/* drop-answer times=1"], None).await?;
    let error = match harness.put_group("processed").await {
        Ok(reply) => return Err(format!("expected a connection error, got {}", reply.status).into()),
        Err(error) => error,
    };
    assert!(error.status().is_none(), "{error:?}");
    // Made, though nobody saw the answer: what a retry would duplicate.
    assert_eq!(harness.get_group("processed").await?.status, StatusCode::OK);
    let log = harness.emulator.requests();
    let dropped = log.iter().find(|request| request.method == "PUT").ok_or("no PUT in the log")?;
    assert_eq!(dropped.status, 0);
    assert!(dropped.fault.as_deref().unwrap_or_default().contains("drop-answer"));
    assert_eq!(harness.put_group("processed").await?.status, StatusCode::OK, "fired once");
    Ok(())
}

#[test]
fn fault_rules_round_trip_through_their_text() -> TestResult {
    let rule: FaultRule = "put  /subscriptions/*/resourcegroups/*   500 times=1".parse()?;
    assert_eq!(rule.to_string(), "put /subscriptions/*/resourcegroups/* 500 times=1");
    assert!("PUT".parse::<FaultRule>().is_err());
    assert_eq!(rules(&["* * drop", "GET * latency=1s"])?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn an_html_status_fault_answers_a_gateway_page_even_on_the_token_endpoint() -> TestResult {
    let harness = Harness::start(&["POST /*/oauth2/v2.0/token 502 body=html times=1"], None).await?;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", DEV_CLIENT_ID),
        ("client_secret", DEV_CLIENT_SECRET),
        ("scope", "https://management.azure.com/.default"),
    ];
    let response = harness.token_request(&form).await?;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf-8"));
    let page = response.text().await?;
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(serde_json::from_str::<Value>(&page).is_err());
    // `times=1`: Entra answers the next one.
    assert_eq!(harness.token_request(&form).await?.status(), StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn a_hang_fault_never_answers_and_processes_nothing() -> TestResult {
    let harness = Harness::start(&["PUT /subscriptions/*/resourcegroups/stuck hang times=1"], None).await?;
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(1), harness.put_group("stuck")).await;
    if let Ok(answered) = outcome {
        return Err(format!("a hung request was answered: {:?}", answered.map(|reply| reply.status)).into());
    }
    assert!(started.elapsed() >= Duration::from_secs(1));
    // The request was not processed, and the next one is answered.
    assert_eq!(harness.get_group("stuck").await?.status, StatusCode::NOT_FOUND);
    assert_eq!(harness.put_group("stuck").await?.status, StatusCode::CREATED);
    Ok(())
}
