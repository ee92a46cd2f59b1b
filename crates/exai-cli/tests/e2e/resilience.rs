//! The network, TLS, tokens and answers, through the binary: every failure fails fast, names
//! the endpoint and the cause, and says what to do; throttling is visible; an answer about
//! another object is refused. Faults come from the emulator (`hang`, `body=html`, `429`) or
//! from the test (a closed port, a foreign CA, a fake `az`).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{Filters, InProcessEmulator, Run, Scratch, assert_run};
use exai_emulator::{DEV_SUBSCRIPTION_ID, DEV_TENANT_ID, EmulatorOptions};
use std::time::{Duration, Instant};

/// A resource group and a registry: two reads, nothing slow to plan or apply.
const SPEC: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    registry: { name: exaipersoacr, sku: Standard }
";

/// A resource group and a deployer (Graph POSTs on apply).
const DEPLOYER_SPEC: &str = "version: 1
azure:
  tenant: ${AZURE_TENANT_ID}
  subscription: ${AZURE_SUBSCRIPTION_ID}
defaults:
  location: francecentral
environments:
  perso:
    resourceGroup: { name: exai-perso-rg }
    deployer:
      name: exai-perso-github-sp
      role: Contributor
      scope: resourceGroup
      github: { repository: my-org/exai, branches: [production] }
";

fn scratch(spec: &str) -> Scratch {
    let mut s = Scratch::with_spec(spec);
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    s
}

fn emulator_with(faults: &[&str]) -> InProcessEmulator {
    InProcessEmulator::start_with(EmulatorOptions {
        faults: faults.iter().map(|f| f.parse().unwrap()).collect(),
        ..Default::default()
    })
}

/// Runs `f`, returning its result and how long it took.
fn timed(f: impl FnOnce() -> Run) -> (Run, Duration) {
    // The harness builds the binary on first use: not part of what is measured.
    crate::harness::exai_bin();
    let started = Instant::now();
    let run = f();
    (run, started.elapsed())
}

/// The lines exai printed while waiting.
fn waits(run: &Run) -> Vec<&str> {
    run.stderr.lines().filter(|l| l.starts_with("waiting: ")).collect()
}

fn seconds_of(time: &str) -> f64 {
    // RFC 3339 from the request log: `2026-12-05T10:29:11.236605292Z`.
    let clock = time.split('T').nth(1).unwrap().trim_end_matches('Z');
    let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap()).collect();
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

#[test]
fn an_endpoint_at_a_closed_port_fails_within_20_s_saying_so() {
    let emulator = InProcessEmulator::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("https://127.0.0.1:{port}/");
    let s = scratch(SPEC);
    let ca = emulator.ca_cert.display().to_string();
    let (run, took) = timed(|| s.run(&["plan", "--endpoint", &url, "--ca-cert", &ca]));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // Each retry is announced, the token endpoint's only once for all the reads.
    assert_run!(Filters::default().literal(&url, "https://127.0.0.1:[closed-port]/").scratch(&s), run);
}

#[test]
fn a_wrong_ca_fails_within_5_s_naming_the_ca_and_the_flag() {
    let emulator = InProcessEmulator::start();
    let other = InProcessEmulator::start();
    let s = scratch(SPEC);
    let url = emulator.emulator.url().to_string();
    let foreign = other.ca_cert.display().to_string();
    let (run, took) = timed(|| s.run(&["plan", "--endpoint", &url, "--ca-cert", &foreign]));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // A certificate error is not retried: no `waiting:` line.
    assert_run!(Filters::default().literal(&foreign, "[foreign-ca]").scratch(&s), run);
}

#[test]
fn a_garbage_ca_file_is_refused_before_any_request() {
    let emulator = InProcessEmulator::start();
    let s = scratch(SPEC);
    std::fs::write(s.path().join("garbage.pem"), "this is not a certificate\n").unwrap();
    let url = emulator.emulator.url().to_string();
    let run = s.run(&["plan", "--endpoint", &url, "--ca-cert", "garbage.pem"]);
    assert_run!(Filters::default().scratch(&s), run);
    assert!(emulator.emulator.requests().is_empty(), "nothing was sent: {:?}", emulator.emulator.requests());
}

#[test]
fn a_plain_http_endpoint_is_refused_with_the_reason() {
    let s = scratch(SPEC);
    let run = s.run(&["plan", "--endpoint", "http://127.0.0.1:8443/"]);
    assert_run!(Filters::default().scratch(&s), run);
}

#[test]
fn a_token_endpoint_answering_an_html_502_fails_within_a_minute_naming_it() {
    let emulator = emulator_with(&["POST /*/oauth2/v2.0/token 502 body=html"]);
    let s = scratch(SPEC);
    let (run, took) = timed(|| s.run_against(&emulator, &["plan"]));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
    let tokens = emulator.emulator.requests().iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token")).count();
    assert_eq!(tokens, 5, "one series of attempts for all the reads");
}

#[test]
fn a_token_endpoint_that_never_answers_fails_within_a_minute_naming_it() {
    let emulator = emulator_with(&["POST /*/oauth2/v2.0/token hang"]);
    let s = scratch(SPEC);
    let (run, took) = timed(|| s.run_against(&emulator, &["plan"]));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
}

#[test]
fn an_arm_read_that_never_answers_fails_at_the_request_timeout() {
    let emulator = emulator_with(&["GET /subscriptions/** hang"]);
    let s = scratch(SPEC);
    let (run, took) = timed(|| s.run_against(&emulator, &["plan", "--request-timeout", "2s", "--retry-timeout", "3s"]));
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
}

#[test]
fn a_429_wait_is_printed_and_a_graph_post_is_sent_again_after_its_retry_after() {
    let emulator = emulator_with(&[
        "POST /v1.0/servicePrincipals 429 retry-after=1 times=1",
        "GET /subscriptions/*/resourcegroups/* 429 retry-after=1 times=1",
    ]);
    let s = scratch(DEPLOYER_SPEC);
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    // Both waits are printed, each with its Retry-After.
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
    let posts: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1.0/servicePrincipals")
        .collect();
    assert_eq!(posts.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 201]);
    // A lower bound only: exai waits at least the Retry-After; how much longer depends on the
    // machine's load, so no upper bound (which could fail on a busy machine).
    let gap = seconds_of(&posts[1].time) - seconds_of(&posts[0].time);
    assert!(gap >= 0.95, "sent again {gap:.3} s after the 429, before its Retry-After of 1 s");
}

#[test]
fn an_answer_about_another_object_is_refused() {
    let emulator = InProcessEmulator::start();
    let registry = format!(
        "/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr"
    );
    let impostor = registry.replace("exaipersoacr", "someoneelsesacr");
    let seed = serde_json::json!({
        format!("/subscriptions/{DEV_SUBSCRIPTION_ID}/resourceGroups/exai-perso-rg"): {"location": "francecentral"},
        registry.clone(): {
            "id": impostor,
            "name": "someoneelsesacr",
            "type": "Microsoft.ContainerRegistry/registries",
            "location": "francecentral",
            "sku": {"name": "Standard", "tier": "Standard"},
            "properties": {"provisioningState": "Succeeded", "adminUserEnabled": false}
        }
    });
    let (status, seeded) = emulator.admin_post("seed", &seed);
    assert!((200..300).contains(&status), "{seeded}");

    let s = scratch(SPEC);
    let run = s.run_against(&emulator, &["plan"]);
    // Nothing of it is printed as live state.
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
}

#[cfg(unix)]
#[test]
fn azure_cli_installed_but_not_logged_in_says_run_az_login() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = scratch(SPEC);
    // `az` as it answers `az account get-access-token` when nobody is logged in.
    let bin = s.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let az = bin.join("az");
    std::fs::write(&az, "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    s.env("PATH", &format!("{}:/bin:/usr/bin", bin.display()));
    assert_run!(Filters::default().scratch(&s), s.run(&["plan"]));
}

#[test]
fn a_dropped_connection_fails_no_read_that_can_be_sent_again() {
    // The example's three applications are read at once, held 500 ms so they overlap, on the
    // one HTTP/2 connection the token request opened (ALPN h2); the drop closes it under all.
    let emulator = emulator_with(&["GET /v1.0/** latency=500ms", "GET /v1.0/** drop times=1"]);
    let mut s = Scratch::with_example();
    s.env("AZURE_TENANT_ID", DEV_TENANT_ID).env("AZURE_SUBSCRIPTION_ID", DEV_SUBSCRIPTION_ID);
    let run = s.run_against(&emulator, &["plan"]);
    run.expect_code(0);
    let waits = waits(&run);
    assert!(waits.len() >= 2, "the reads sharing the dropped connection were sent again:\n{}", run.stderr);
    assert!(
        waits
            .iter()
            .all(|w| w.contains("connection closed by the server before it answered: trying again in 1 s (attempt 2)")),
        "{}",
        run.stderr
    );
    let dropped = emulator.emulator.requests().iter().filter(|r| r.status == 0).count();
    assert_eq!(dropped, 1, "{:?}", emulator.emulator.requests());
}

#[test]
fn a_graph_create_whose_connection_drops_is_not_sent_blindly_again() {
    let emulator = emulator_with(&["POST /v1.0/servicePrincipals drop times=1"]);
    let s = scratch(DEPLOYER_SPEC);
    // One request at a time: the drop closes the shared HTTP/2 connection under every request
    // in flight, so which other creates fail with it would depend on timing.
    let run = s.run_against(&emulator, &["apply", "--auto-approve", "--parallelism", "1"]);
    let posts = || {
        emulator
            .emulator
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1.0/servicePrincipals")
            .count()
    };
    assert_eq!(posts(), 1, "sent once: the service principal may have been created");
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&s), run);
    // The next apply finds what exists and converges.
    s.run_against(&emulator, &["apply", "--auto-approve"]).expect_code(0);
    assert_eq!(posts(), 2);
}

#[test]
fn a_github_job_whose_subject_the_application_does_not_trust_is_told_which_subject() {
    let emulator = InProcessEmulator::start();
    let admin = scratch(DEPLOYER_SPEC);
    let bootstrap = admin.run_against(&emulator, &["apply", "--auto-approve"]);
    bootstrap.expect_code(0);
    let client_id = bootstrap
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("AZURE_CLIENT_ID="))
        .unwrap_or_else(|| panic!("no AZURE_CLIENT_ID in {}", bootstrap.stdout))
        .to_owned();

    // A job on `main`: the application trusts only `production`.
    let (status, job) =
        emulator.admin_post("github/runs", &serde_json::json!({"repository": "my-org/exai", "ref": "refs/heads/main"}));
    assert_eq!(status, 200, "{job}");
    let mut ci = scratch(DEPLOYER_SPEC);
    ci.env("AZURE_CLIENT_ID", &client_id)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", job["requestUrl"].as_str().unwrap())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", job["requestToken"].as_str().unwrap());
    let run = ci.run_against(&emulator, &["plan"]);
    assert_run!(Filters::default().literal(&emulator.ca_cert.display().to_string(), "[ca]").scratch(&ci), run);
}
