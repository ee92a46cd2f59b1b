//! The network, TLS, tokens and answers, through the binary: every failure fails fast, names
//! the endpoint and the cause, and says what to do; throttling is visible; an answer about
//! another object is refused. Faults come from the emulator (`hang`, `body=html`, `429`) or
//! from the test (a closed port, a foreign CA, a fake `az`).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crate::harness::{InProcessEmulator, Run, Scratch};
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

/// The `error:` line and what follows it, with the emulator's port and the test's paths
/// replaced, so whole messages can be compared.
fn error_of(run: &Run, replace: &[(&str, &str)]) -> String {
    let at = run.stderr.find("error:").unwrap_or_else(|| panic!("no error in:\n{}", run.stderr));
    let mut text = run.stderr[at..].to_owned();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    text
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
    run.expect_code(1);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    insta::assert_snapshot!(error_of(&run, &[(&url, "https://127.0.0.1:PORT/")]), @r"
    error: cannot read `perso.resourceGroup`: cannot connect to the token endpoint at `https://127.0.0.1:PORT/ee000000-0000-4000-8000-000000000001/oauth2/v2.0/token`: connection refused (5 attempts in 11 s)
      hint: nothing accepts connections there: check the URL (`--endpoint`) and that the server (an emulator, a proxy) is running; `--retry-timeout 2m` waits longer for one that is starting
    ");
    // Each retry was announced, the token endpoint's only once for all the reads.
    assert_eq!(waits(&run).len(), 4, "{}", run.stderr);
    assert!(waits(&run)[0].contains("connection refused: trying again in 1 s (attempt 2)"), "{}", run.stderr);
}

#[test]
fn a_wrong_ca_fails_within_5_s_naming_the_ca_and_the_flag() {
    let emulator = InProcessEmulator::start();
    let other = InProcessEmulator::start();
    let s = scratch(SPEC);
    let url = emulator.emulator.url().to_string();
    let foreign = other.ca_cert.display().to_string();
    let (run, took) = timed(|| s.run(&["plan", "--endpoint", &url, "--ca-cert", &foreign]));
    run.expect_code(1);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    insta::assert_snapshot!(error_of(&run, &[(&url, "https://127.0.0.1:PORT/"), (&foreign, "FOREIGN.pem")]), @r"
    error: cannot read `perso.resourceGroup`: cannot connect to the token endpoint at `https://127.0.0.1:PORT/ee000000-0000-4000-8000-000000000001/oauth2/v2.0/token`: TLS handshake failed: the server's certificate is not signed by the trusted CA of the same name (BadSignature): another CA with that name signed it
      hint: exai trusted the system's CAs and `FOREIGN.pem` (--ca-cert); pass the CA that signed the server's certificate with `--ca-cert FILE` (`exai emulator` prints the path of its own on its `ca-certificate:` line; behind a TLS-inspecting proxy, the proxy's CA); exai never skips the check
    ");
    assert!(waits(&run).is_empty(), "a certificate error is not retried:\n{}", run.stderr);
}

#[test]
fn a_garbage_ca_file_is_refused_before_any_request() {
    let emulator = InProcessEmulator::start();
    let s = scratch(SPEC);
    std::fs::write(s.path().join("garbage.pem"), "this is not a certificate\n").unwrap();
    let url = emulator.emulator.url().to_string();
    let run = s.run(&["plan", "--endpoint", &url, "--ca-cert", "garbage.pem"]);
    run.expect_code(1);
    insta::assert_snapshot!(error_of(&run, &[]), @r"
    error: the CA certificate `garbage.pem` (--ca-cert) cannot be used: it holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)
      hint: give `--ca-cert` a PEM file holding at least one `-----BEGIN CERTIFICATE-----` block, such as the `ca-certificate:` file `exai emulator` prints
    ");
    assert!(emulator.emulator.requests().is_empty(), "nothing was sent: {:?}", emulator.emulator.requests());
}

#[test]
fn a_plain_http_endpoint_is_refused_with_the_reason() {
    let s = scratch(SPEC);
    let run = s.run(&["plan", "--endpoint", "http://127.0.0.1:8443/"]);
    run.expect_code(1);
    insta::assert_snapshot!(error_of(&run, &[]), @r"
    error: the endpoint `http://127.0.0.1:8443/` is not HTTPS
      hint: Azure clients refuse to send bearer tokens over plain HTTP: use the `https://` URL (`exai emulator` serves HTTPS and prints its URL and CA certificate)
    ");
}

#[test]
fn a_token_endpoint_answering_an_html_502_fails_within_a_minute_naming_it() {
    let emulator = emulator_with(&["POST /*/oauth2/v2.0/token 502 body=html"]);
    let s = scratch(SPEC);
    let url = emulator.emulator.url().to_string();
    let (run, took) = timed(|| s.run_against(&emulator, &["plan"]));
    run.expect_code(1);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    insta::assert_snapshot!(error_of(&run, &[(&url, "https://127.0.0.1:PORT/")]), @r"
    error: cannot read `perso.resourceGroup`: the token endpoint answered an HTML page with 502 Bad Gateway to POST `https://127.0.0.1:PORT/ee000000-0000-4000-8000-000000000001/oauth2/v2.0/token` (5 attempts in 11 s)
      hint: an HTML page comes from a proxy, gateway or captive portal in front of the token endpoint, not from Azure, so the credential was not checked: check the endpoint and any proxy (HTTPS_PROXY), then run the command again
    ");
    let tokens = emulator.emulator.requests().iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token")).count();
    assert_eq!(tokens, 5, "one series of attempts for all the reads");
}

#[test]
fn a_token_endpoint_that_never_answers_fails_within_a_minute_naming_it() {
    let emulator = emulator_with(&["POST /*/oauth2/v2.0/token hang"]);
    let s = scratch(SPEC);
    let url = emulator.emulator.url().to_string();
    let (run, took) = timed(|| s.run_against(&emulator, &["plan"]));
    run.expect_code(1);
    assert!(took < Duration::from_secs(60), "took {took:?}");
    insta::assert_snapshot!(error_of(&run, &[(&url, "https://127.0.0.1:PORT/")]), @r"
    error: cannot read `perso.resourceGroup`: the token endpoint did not answer POST `https://127.0.0.1:PORT/ee000000-0000-4000-8000-000000000001/oauth2/v2.0/token` within 30 s
      hint: the token endpoint or a proxy in front of it is holding the request; run the command again later, or allow more time with `--request-timeout 2m`
    ");
}

#[test]
fn an_arm_read_that_never_answers_fails_at_the_request_timeout() {
    let emulator = emulator_with(&["GET /subscriptions/** hang"]);
    let s = scratch(SPEC);
    let url = emulator.emulator.url().to_string();
    let (run, took) = timed(|| s.run_against(&emulator, &["plan", "--request-timeout", "2s", "--retry-timeout", "3s"]));
    run.expect_code(1);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let error = error_of(&run, &[(&url, "https://127.0.0.1:PORT/")]);
    assert!(error.starts_with("error: cannot read `perso."), "{error}");
    assert!(error.contains("ARM did not answer GET `https://127.0.0.1:PORT/subscriptions/"), "{error}");
    assert!(error.contains("within 2 s"), "{error}");
}

#[test]
fn a_429_wait_is_printed_and_a_graph_post_is_sent_again_after_its_retry_after() {
    let emulator = emulator_with(&[
        "POST /v1.0/servicePrincipals 429 retry-after=1 times=1",
        "GET /subscriptions/*/resourcegroups/* 429 retry-after=1 times=1",
    ]);
    let s = scratch(DEPLOYER_SPEC);
    let url = emulator.emulator.url().to_string();
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    run.expect_code(0);
    let waits: Vec<String> = waits(&run).iter().map(|l| l.replace(&url, "https://127.0.0.1:PORT/")).collect();
    assert_eq!(
        waits,
        [
            format!(
                "waiting: ARM is throttling: waiting 1 s (its Retry-After) before sending GET https://127.0.0.1:PORT/subscriptions/{DEV_SUBSCRIPTION_ID}/resourcegroups/exai-perso-rg again"
            ),
            "waiting: Microsoft Graph is throttling: waiting 1 s (its Retry-After) before sending POST https://127.0.0.1:PORT/v1.0/servicePrincipals again".to_owned(),
        ],
        "{}",
        run.stderr
    );
    let posts: Vec<_> = emulator
        .emulator
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1.0/servicePrincipals")
        .collect();
    assert_eq!(posts.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 201]);
    let gap = seconds_of(&posts[1].time) - seconds_of(&posts[0].time);
    assert!((0.9..1.9).contains(&gap), "sent again {gap:.3} s after the 429, not after its Retry-After of 1 s");
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
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(emulator.emulator.ca_certificate_pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let seeded = runtime
        .block_on(
            http.post(format!("{}_emulator/seed", emulator.emulator.url()))
                .header("content-type", "application/json")
                .body(seed.to_string())
                .send(),
        )
        .unwrap();
    assert!(seeded.status().is_success(), "{seeded:?}");

    let s = scratch(SPEC);
    let url = emulator.emulator.url().to_string();
    let run = s.run_against(&emulator, &["plan"]);
    run.expect_code(1);
    insta::assert_snapshot!(error_of(&run, &[(&url, "https://127.0.0.1:PORT/")]), @r"
    error: cannot read `perso.registry`: `https://127.0.0.1:PORT/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/exaipersoacr?api-version=2025-11-01` answered with the object `/subscriptions/ee000000-0000-4000-8000-000000000002/resourceGroups/exai-perso-rg/providers/Microsoft.ContainerRegistry/registries/someoneelsesacr`, not the one asked for; exai does not take it as live state
      hint: Azure never answers a GET with another object: something between exai and Azure (a proxy, a wrong `--endpoint`) answered instead; check the endpoint
    ");
    assert!(!run.stdout.contains("someoneelsesacr"), "nothing of it is printed as live state:\n{}", run.stdout);
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
    let run = s.run(&["plan"]);
    run.expect_code(1);
    let error = error_of(&run, &[]);
    assert!(error.starts_with("error: cannot read `perso."), "{error}");
    assert!(error.contains("Please run 'az login' to setup account."), "{error}");
    assert!(
        error.contains(
            "hint: the Azure CLI is installed but not logged in: run `az login` (and `az account set --subscription <id>`)"
        ),
        "{error}"
    );
    assert!(!error.contains("secret may have expired"), "{error}");
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
    let url = emulator.emulator.url().to_string();
    let run = s.run_against(&emulator, &["apply", "--auto-approve"]);
    run.expect_code(1);
    let posts = || {
        emulator
            .emulator
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1.0/servicePrincipals")
            .count()
    };
    assert_eq!(posts(), 1, "sent once: the service principal may have been created");
    let stderr = format!("{}{}", run.stdout, run.stderr).replace(&url, "https://127.0.0.1:PORT/");
    assert!(
        stderr.contains(
            "Microsoft Graph closed the connection before answering POST `https://127.0.0.1:PORT/v1.0/servicePrincipals`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the object may or may not have been created"), "{stderr}");
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
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(emulator.emulator.ca_certificate_pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let job: serde_json::Value = runtime.block_on(async {
        let reply = http
            .post(format!("{}_emulator/github/runs", emulator.emulator.url()))
            .header("content-type", "application/json")
            .body(serde_json::json!({"repository": "my-org/exai", "ref": "refs/heads/main"}).to_string())
            .send()
            .await
            .unwrap();
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap()
    });
    let mut ci = scratch(DEPLOYER_SPEC);
    ci.env("AZURE_CLIENT_ID", &client_id)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", job["requestUrl"].as_str().unwrap())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", job["requestToken"].as_str().unwrap());
    let run = ci.run_against(&emulator, &["plan"]);
    run.expect_code(1);
    let error = error_of(&run, &[]);
    assert!(error.contains("AADSTS70021: No matching federated identity record found"), "{error}");
    assert!(
        error.contains(
            "hint: the application trusts no federated credential for the subject `repo:my-org/exai:ref:refs/heads/main` (issuer `https://token.actions.githubusercontent.com`)"
        ),
        "{error}"
    );
}
