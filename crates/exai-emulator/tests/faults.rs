//! Fault injection, end to end: a real emulator on `127.0.0.1:0` with faults given at start or
//! through `/_emulator/faults`, spoken to over HTTPS by reqwest. Waits (`latency=`, `hang`) run
//! on a manual clock: a test advances it and sees exactly when the answer leaves.

use std::error::Error;
use std::time::Duration;

use exai_emulator::{Clock, DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, FaultRule};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{API, ARM_SCOPE, Harness, Reply, TestResult, rules};

/// The path of the resource group `name` in the development subscription.
fn group(name: &str) -> String {
    format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/{name}?{API}")
}

/// The development application's client-credentials form for an ARM token.
const DEV_FORM: [(&str, &str); 4] = [
    ("grant_type", "client_credentials"),
    ("client_id", DEV_CLIENT_ID),
    ("client_secret", DEV_CLIENT_SECRET),
    ("scope", ARM_SCOPE),
];

impl Harness {
    async fn put_group(&self, name: &str) -> Result<Reply, Box<dyn Error>> {
        self.send(self.put_group_request(name).await?).await
    }

    async fn get_group(&self, name: &str) -> Result<Reply, Box<dyn Error>> {
        self.arm(Method::GET, &group(name), None).await
    }

    /// Returns the `PUT` of the group `name`, unsent: for the tests that need the transport's
    /// error, or send it from another task.
    async fn put_group_request(&self, name: &str) -> Result<reqwest::RequestBuilder, Box<dyn Error>> {
        let request = self.arm_request(Method::PUT, &group(name)).await?;
        Ok(common::with_json(request, &json!({"location": "francecentral"})))
    }
}

/// Starts an emulator on the system clock with `faults` and a seed.
async fn start(faults: &[&str], seed: Option<u64>) -> Result<Harness, Box<dyn Error>> {
    Harness::with_faults(faults, seed, Clock::system()).await
}

#[tokio::test]
async fn status_faults_answer_in_arm_shape_scoped_by_method_path_and_count() -> TestResult {
    let harness = start(
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
        reply.assert_arm_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError");
        assert!(reply.header("x-ms-request-id").is_some());
        assert_eq!(reply.header("retry-after"), None);
    }
    assert_eq!(harness.put_group("doomed-1").await?.status, StatusCode::CREATED);
    assert_eq!(harness.put_group("other").await?.status, StatusCode::CREATED);

    let reply = harness.put_group("busy").await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable".to_owned()));
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(harness.put_group("busy").await?.status, StatusCode::CREATED);

    let reply = harness.get_group("hot").await?;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::TOO_MANY_REQUESTS, "RetryableErrorDueToAnotherOperation".to_owned())
    );
    assert_eq!(reply.json()["error"]["message"], "try later");
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
    let listing = harness.admin(Method::GET, "faults", None).await?;
    assert_eq!(listing.json()["faults"][0]["fired"], 2);
    assert_eq!(listing.json()["faults"][0]["remaining"], 0);
    assert_eq!(listing.json()["faults"][2]["remaining"], Value::Null);
    Ok(())
}

#[tokio::test]
async fn token_and_graph_routes_get_their_own_error_shapes() -> TestResult {
    let harness = start(&["POST /*/oauth2/v2.0/token 503", "* /v1.0/** 503", "GET /beta/** 500"], None).await?;
    let reply = harness.token_request(DEV_TENANT_ID, &DEV_FORM).await?;
    reply.assert_entra_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", 90033);

    // An injected Graph error carries `date` and `request-id` in `innerError`, not yet the
    // `client-request-id` Graph's own answers carry, so it is checked here rather than by
    // `assert_graph_error`.
    let reply = harness.arm(Method::GET, "/v1.0/applications", None).await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable".to_owned()));
    assert!(reply.json()["error"]["innerError"]["request-id"].is_string(), "{}", reply.json());
    assert!(reply.json()["error"]["innerError"]["date"].is_string(), "{}", reply.json());
    let reply = harness.arm(Method::GET, "/beta/servicePrincipals", None).await?;
    assert_eq!((reply.status, reply.code()), (StatusCode::INTERNAL_SERVER_ERROR, "generalException".to_owned()));
    Ok(())
}

#[tokio::test]
async fn latency_delays_the_answer_until_the_clock_has_moved_by_it() -> TestResult {
    let clock = Clock::manual();
    let harness = Harness::with_faults(&["GET /subscriptions/** latency=2s times=1"], None, clock.clone()).await?;
    let answer = tokio::spawn(harness.arm_request(Method::GET, &group("slow")).await?.send());
    harness.until_held(1).await?;
    // 1 ms short of the latency: the request is still held, unanswered and unlogged.
    clock.advance(Duration::from_millis(1999));
    assert_eq!(clock.sleepers(), 1);
    assert!(!answer.is_finished());
    assert!(harness.emulator.requests().iter().all(|request| !request.path.contains("/slow")));
    // The last millisecond lets it go, and it is answered for real.
    clock.advance(Duration::from_millis(1));
    assert_eq!(clock.sleepers(), 0);
    assert_eq!(answer.await??.status(), StatusCode::NOT_FOUND);
    // Spent after one request: the next one is answered at once, with no fault.
    assert_eq!(harness.get_group("slow").await?.status, StatusCode::NOT_FOUND);
    let faults: Vec<Option<String>> =
        harness.emulator.requests().iter().filter(|r| r.path.contains("/slow")).map(|r| r.fault.clone()).collect();
    assert_eq!(faults, [Some("#1 GET /subscriptions/** latency=2s times=1".to_owned()), None]);
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
    let first = statuses(&start(&rule, Some(42)).await?, 24).await?;
    let second = statuses(&start(&rule, Some(42)).await?, 24).await?;
    assert_eq!(first, second);
    assert!(first.contains(&500) && first.contains(&404), "{first:?}");
    let other = statuses(&start(&rule, Some(43)).await?, 24).await?;
    assert_ne!(first, other, "another seed should draw differently");

    // Reseeding through the admin endpoint restarts the same sequence.
    let harness = start(&rule, Some(7)).await?;
    let reseed = harness.admin(Method::POST, "faults", Some(json!({"seed": 42}))).await?;
    assert_eq!(reseed.json()["seed"], 42);
    assert_eq!(statuses(&harness, 24).await?, first);
    Ok(())
}

#[tokio::test]
async fn token_buckets_drain_and_refill() -> TestResult {
    // A manual clock: no token comes back between requests, however slow the machine.
    let clock = Clock::manual();
    let rules = ["* /subscriptions/** throttle writes=3 write-rate=2"];
    let harness = Harness::with_faults(&rules, None, clock.clone()).await?;
    for (index, left) in ["2", "1", "0"].into_iter().enumerate() {
        let reply = harness.put_group(&format!("bucket-{index}")).await?;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-writes"), Some(left));
    }
    let reply = harness.put_group("bucket-3").await?;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::TOO_MANY_REQUESTS, "SubscriptionRequestsThrottled".to_owned())
    );
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-writes"), Some("0"));
    let message = common::text(&reply.json()["error"]["message"]);
    assert!(message.contains("'write'") && message.contains(DEV_SUBSCRIPTION_ID), "{message}");

    // Reads and deletes have their own buckets, ARM's sizes unless the rule says otherwise.
    let reply = harness.get_group("bucket-0").await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("x-ms-ratelimit-remaining-subscription-reads"), Some("249"));
    let reply = harness.arm(Method::DELETE, &group("bucket-0"), None).await?;
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
    let harness = start(&[], Some(5)).await?;
    let listing = harness.admin(Method::GET, "faults", None).await?;
    assert_eq!(listing.json(), json!({"seed": 5, "faults": []}));

    // One bad rule adds none, and the error names the bad part.
    let refused = harness.admin(Method::POST, "faults", Some(json!({"faults": ["GET * 500", "GET * 418"]}))).await?;
    assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "InvalidFault".to_owned()));
    assert!(refused.json()["error"]["message"].as_str().unwrap_or_default().contains("`418` is not an action"));
    let refused = harness.admin(Method::POST, "faults", Some(json!({"rules": []}))).await?;
    assert_eq!((refused.status, refused.code()), (StatusCode::BAD_REQUEST, "InvalidRequestContent".to_owned()));

    let added =
        harness.admin(Method::POST, "faults", Some(json!({"faults": ["* * 500", "GET * latency=1ms"]}))).await?;
    assert_eq!(added.json()["faults"][0], json!({"id": 1, "rule": "* * 500", "fired": 0, "remaining": null}));
    assert_eq!(added.json()["faults"][1]["id"], 2);

    // Faults never apply to the admin routes, even `* * 500`.
    assert_eq!(harness.admin(Method::GET, "faults", None).await?.status, StatusCode::OK);
    assert_eq!(harness.get_group("any").await?.status, StatusCode::INTERNAL_SERVER_ERROR);

    assert_eq!(harness.admin(Method::DELETE, "faults/1", None).await?.status, StatusCode::NO_CONTENT);
    assert_eq!(harness.admin(Method::DELETE, "faults/1", None).await?.status, StatusCode::NOT_FOUND);
    assert_eq!(harness.get_group("any").await?.status, StatusCode::NOT_FOUND);
    let cleared = harness.admin(Method::DELETE, "faults", None).await?;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);
    assert_eq!(harness.admin(Method::GET, "faults", None).await?.json()["faults"], json!([]));
    let wrong = harness.admin(Method::PUT, "faults", None).await?;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("allow"), Some("GET, POST, DELETE"));
    Ok(())
}

#[tokio::test]
async fn a_dropped_connection_is_a_connection_error_and_the_request_is_not_processed() -> TestResult {
    let harness = start(&["PUT /subscriptions/*/resourcegroups/* drop times=1"], None).await?;
    let error = match harness.put_group_request("dropped").await?.send().await {
        Ok(response) => return Err(format!("expected a connection error, got {}", response.status()).into()),
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
    let harness = start(&["PUT /subscriptions/*/resourcegroups/* drop-answer times=1"], None).await?;
    let error = match harness.put_group_request("processed").await?.send().await {
        Ok(response) => return Err(format!("expected a connection error, got {}", response.status()).into()),
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
    let harness = start(&["POST /*/oauth2/v2.0/token 502 body=html times=1"], None).await?;
    let reply = harness.token_request(DEV_TENANT_ID, &DEV_FORM).await?;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(reply.text.starts_with("<!DOCTYPE html>"), "{}", reply.text);
    assert!(serde_json::from_str::<Value>(&reply.text).is_err());
    // `times=1`: Entra answers the next one.
    assert_eq!(harness.token_request(DEV_TENANT_ID, &DEV_FORM).await?.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn a_hang_fault_holds_the_request_600_seconds_then_closes_without_answering() -> TestResult {
    let clock = Clock::manual();
    let rules = ["PUT /subscriptions/*/resourcegroups/stuck hang times=1"];
    let harness = Harness::with_faults(&rules, None, clock.clone()).await?;
    let answer = tokio::spawn(harness.put_group_request("stuck").await?.send());
    harness.until_held(1).await?;
    clock.advance(Duration::from_millis(599_999));
    assert_eq!(clock.sleepers(), 1);
    assert!(!answer.is_finished());
    // While it hangs, the request was not processed, and other requests are answered.
    assert_eq!(harness.get_group("stuck").await?.status, StatusCode::NOT_FOUND);
    clock.advance(Duration::from_millis(1));
    match answer.await? {
        Ok(response) => return Err(format!("a hung request was answered: {}", response.status()).into()),
        Err(error) => assert!(error.status().is_none(), "{error:?}"),
    }
    // Closed, not processed; the next one is handled.
    assert_eq!(harness.get_group("stuck").await?.status, StatusCode::NOT_FOUND);
    assert_eq!(harness.put_group("stuck").await?.status, StatusCode::CREATED);
    Ok(())
}
