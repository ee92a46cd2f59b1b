//! The apply walk with a fake sender: dependency order, parallelism, failure isolation, and the
//! refusals that protect what must not be deleted.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_azure::{Accepted, AzureError, Operation};
use exai_executor::{ApplyEvent, ApplyOptions, ExecutorError, Outcome, Sender, apply, refuse_unsafe};
use exai_model::{Address, ApiRequest, Method, OwnedFields, ResourceId};
use exai_planner::{Action, Change, FORMAT_VERSION, Plan, Summary};
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Records writes in order, fails the paths it is told to, and measures concurrency.
#[derive(Default)]
struct FakeSender {
    sent: Mutex<Vec<String>>,
    failing: Vec<String>,
    /// How long each write takes (20 ms when zero).
    latency: Duration,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
}

impl FakeSender {
    async fn round_trip(&self, path: String, fail: bool) -> Result<(), AzureError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(if self.latency.is_zero() { Duration::from_millis(20) } else { self.latency }).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.sent.lock().unwrap().push(path.clone());
        if fail {
            return Err(AzureError::Api {
                method: "PUT".into(),
                url: path,
                status: 500,
                code: "InternalServerError".into(),
                message: "boom".into(),
                request_id: Some("req-1".into()),
            });
        }
        Ok(())
    }
}

impl Sender for FakeSender {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        let path = request.path.clone();
        let fail = self.failing.contains(&path);
        async move { self.round_trip(path, fail).await.map(|()| Accepted::Done(None)) }
    }
    async fn follow(&self, _request: &ApiRequest, _operation: Operation) -> Result<Option<Value>, AzureError> {
        Ok(None)
    }
    async fn wait_until_settled(&self, _read: &ApiRequest) -> Result<Option<Value>, AzureError> {
        Ok(None)
    }
    fn url(&self, request: &ApiRequest) -> String {
        request.path.clone()
    }
}

fn change(name: &str, action: Action, depends_on: &[&str]) -> Change {
    Change {
        address: Address::new("perso", name),
        resource_type: "Test/things".into(),
        id: Some(
            ResourceId::parse(&format!("/subscriptions/s/resourceGroups/rg/providers/Test/things/{name}")).unwrap(),
        ),
        id_note: None,
        action,
        reason: None,
        in_progress: None,
        warning: None,
        before: None,
        after: None,
        after_unknown: Default::default(),
        protect: false,
        blocked: None,
        diffs: vec![],
        observed: OwnedFields::new(),
        fingerprint: None,
        depends_on: depends_on.iter().map(|d| Address::new("perso", d)).collect(),
        requests: vec![ApiRequest::arm(Method::Put, format!("/{name}"), "2025-04-01", None)],
    }
}

fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        format_version: FORMAT_VERSION,
        exai_version: String::new(),
        spec: None,
        environments: Vec::new(),
        resource_changes: changes,
        summary: Summary::default(),
        permissions: None,
    }
}

fn outcome<'a>(report: &'a exai_executor::ApplyReport, name: &str) -> &'a Outcome {
    &report.outcomes.iter().find(|(a, _)| a.as_str() == format!("perso.{name}")).unwrap().1
}

#[tokio::test]
async fn dependencies_come_first() {
    let sender = FakeSender::default();
    let p = plan(vec![
        change("cluster", Action::Create, &["rg", "registry"]),
        change("registry", Action::Create, &["rg"]),
        change("rg", Action::Create, &[]),
    ]);
    let report = apply(&p, &sender, ApplyOptions::default(), &|_| {}).await;
    assert!(report.succeeded());
    assert_eq!(*sender.sent.lock().unwrap(), ["/rg", "/registry", "/cluster"]);
    // The report lists resources in plan order.
    let order: Vec<&str> = report.outcomes.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(order, ["perso.cluster", "perso.registry", "perso.rg"]);
}

#[tokio::test]
async fn a_failure_skips_its_dependants_and_lets_independent_branches_finish() {
    let sender = FakeSender { failing: vec!["/registry".into()], ..Default::default() };
    let p = plan(vec![
        change("rg", Action::Create, &[]),
        change("registry", Action::Create, &["rg"]),
        change("acr-pull", Action::Create, &["registry"]),
        change("role", Action::Create, &["acr-pull"]),
        change("workspace", Action::Create, &["rg"]),
    ]);
    let events = Mutex::new(Vec::new());
    let report = apply(&p, &sender, ApplyOptions::default(), &|e| events.lock().unwrap().push(e)).await;
    assert!(!report.succeeded());
    assert_eq!(outcome(&report, "rg"), &Outcome::Done(Action::Create));
    assert!(matches!(outcome(&report, "registry"), Outcome::Failed { .. }));
    assert_eq!(outcome(&report, "acr-pull"), &Outcome::Skipped { because: Address::new("perso", "registry") });
    assert_eq!(outcome(&report, "role"), &Outcome::Skipped { because: Address::new("perso", "acr-pull") });
    assert_eq!(outcome(&report, "workspace"), &Outcome::Done(Action::Create));
    assert_eq!(report.failures(), (1, 2));
    let failed = events.lock().unwrap().iter().find_map(|e| match e {
        ApplyEvent::Failed { error, hint, .. } => Some((error.clone(), hint.clone())),
        _ => None,
    });
    let (error, hint) = failed.unwrap();
    assert!(error.contains("InternalServerError"), "{error}");
    assert!(hint.is_some(), "a 500 comes with a hint");
}

#[tokio::test]
async fn parallelism_is_bounded_and_used() {
    let sender = FakeSender::default();
    let p = plan((0..8).map(|i| change(&format!("r{i}"), Action::Create, &[])).collect());
    apply(&p, &sender, ApplyOptions { parallelism: 3, ..Default::default() }, &|_| {}).await;
    assert_eq!(sender.most_at_once.load(Ordering::SeqCst), 3);
    let serial = FakeSender::default();
    apply(&p, &serial, ApplyOptions { parallelism: 1, ..Default::default() }, &|_| {}).await;
    assert_eq!(serial.most_at_once.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn no_ops_send_nothing_and_a_cycle_is_skipped_not_hung() {
    let sender = FakeSender::default();
    let p = plan(vec![
        change("same", Action::NoOp, &[]),
        change("a", Action::Create, &["b"]),
        change("b", Action::Create, &["a"]),
    ]);
    let report = tokio::time::timeout(Duration::from_secs(5), apply(&p, &sender, ApplyOptions::default(), &|_| {}))
        .await
        .unwrap();
    assert!(sender.sent.lock().unwrap().is_empty());
    assert_eq!(outcome(&report, "same"), &Outcome::Unchanged);
    assert!(matches!(outcome(&report, "a"), Outcome::Skipped { .. }));
    assert!(matches!(outcome(&report, "b"), Outcome::Skipped { .. }));
}

fn owned_by(mut c: Change, owner: Option<&str>) -> Change {
    let mut before = OwnedFields::new();
    if let Some(owner) = owner {
        before.insert("tags.exai-owner".into(), Value::from(owner));
    }
    c.before = Some(before);
    c
}

#[test]
fn deletes_need_permission_ownership_and_no_protection() {
    let replace = owned_by(change("rg", Action::Replace, &[]), Some("perso.rg"));
    assert!(matches!(refuse_unsafe(&plan(vec![replace.clone()]), false), Err(ExecutorError::DeleteNotAllowed { .. })));
    assert_eq!(refuse_unsafe(&plan(vec![replace.clone()]), true), Ok(()));

    let foreign = owned_by(change("rg", Action::Delete, &[]), Some("someone-else"));
    assert!(matches!(refuse_unsafe(&plan(vec![foreign]), true), Err(ExecutorError::NotOwned { .. })));
    // A mark naming the spec as well: its address is what must match.
    let marked = owned_by(change("rg", Action::Delete, &[]), Some("my-org/exai:perso.rg"));
    assert_eq!(refuse_unsafe(&plan(vec![marked]), true), Ok(()));
    let elsewhere = owned_by(change("rg", Action::Delete, &[]), Some("my-org/exai:perso.other"));
    assert!(matches!(refuse_unsafe(&plan(vec![elsewhere]), true), Err(ExecutorError::NotOwned { .. })));
    let untagged = owned_by(change("rg", Action::Delete, &[]), None);
    assert!(matches!(refuse_unsafe(&plan(vec![untagged]), true), Err(ExecutorError::NotOwned { owner: None, .. })));

    let mut protected = replace;
    protected.protect = true;
    assert!(matches!(refuse_unsafe(&plan(vec![protected]), true), Err(ExecutorError::Protected { .. })));

    assert_eq!(refuse_unsafe(&plan(vec![change("rg", Action::Create, &[])]), false), Ok(()));

    // A federated credential lists its mark as the `description` that holds it.
    let described = |text: &str| {
        let mut c = change("cred", Action::Delete, &[]);
        c.before = Some([("description".to_owned(), Value::from(text))].into_iter().collect());
        c
    };
    assert_eq!(refuse_unsafe(&plan(vec![described("exai-owner:perso.cred")]), true), Ok(()));
    assert!(matches!(
        refuse_unsafe(&plan(vec![described("made by hand")]), true),
        Err(ExecutorError::NotOwned { owner: None, .. })
    ));
}

#[tokio::test]
async fn a_long_write_reports_progress_while_it_runs() {
    let sender = FakeSender { latency: Duration::from_millis(300), ..Default::default() };
    let p = plan(vec![change("cluster", Action::Create, &[])]);
    let events = Mutex::new(Vec::new());
    let options = ApplyOptions { progress_every: Duration::from_millis(50), ..Default::default() };
    apply(&p, &sender, options, &|e| events.lock().unwrap().push(e)).await;
    let events = events.into_inner().unwrap();
    let progress = events.iter().filter(|e| matches!(e, ApplyEvent::StillRunning { .. })).count();
    assert!(progress >= 2, "{events:?}");
    // Progress comes between the request and the end, never after.
    let finished = events.iter().position(|e| matches!(e, ApplyEvent::Finished { .. })).unwrap();
    assert!(events[finished..].iter().all(|e| !matches!(e, ApplyEvent::StillRunning { .. })));
}

#[test]
fn a_superseded_object_is_owned_by_the_address_before_its_tilde() {
    let mut old = owned_by(change("deployer.role", Action::Delete, &[]), Some("perso.deployer.role"));
    old.address = Address::parse("perso.deployer.role~1f0c3a9b").unwrap();
    assert_eq!(refuse_unsafe(&plan(vec![old.clone()]), true), Ok(()));
    let mut foreign = owned_by(change("deployer.role", Action::Delete, &[]), Some("perso.other"));
    foreign.address = old.address.clone();
    assert!(matches!(refuse_unsafe(&plan(vec![foreign]), true), Err(ExecutorError::NotOwned { .. })));
}

/// Answers like Graph: a created application with an id; the first service principal creation
/// refused as Entra does while it replicates a new application.
#[derive(Default)]
struct GraphLike {
    sent: Mutex<Vec<String>>,
    refused_once: AtomicUsize,
}

impl Sender for GraphLike {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        let path = request.path.clone();
        let body = request.body.clone();
        async move {
            self.sent.lock().unwrap().push(format!("{path} {}", body.clone().unwrap_or_default()));
            if path == "/v1.0/applications" {
                return Ok(Accepted::Done(Some(serde_json::json!({"id": "app-object-id", "appId": "app-id"}))));
            }
            if path == "/v1.0/servicePrincipals" && self.refused_once.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(AzureError::Api {
                    method: "POST".into(),
                    url: path,
                    status: 400,
                    code: "Request_BadRequest".into(),
                    message:
                        "The appId 'app-id' of the service principal does not reference a valid application object."
                            .into(),
                    request_id: None,
                });
            }
            Ok(Accepted::Done(body))
        }
    }
    async fn follow(&self, _request: &ApiRequest, _operation: Operation) -> Result<Option<Value>, AzureError> {
        Ok(None)
    }
    async fn wait_until_settled(&self, _read: &ApiRequest) -> Result<Option<Value>, AzureError> {
        Ok(None)
    }
    fn url(&self, request: &ApiRequest) -> String {
        request.path.clone()
    }
}

#[tokio::test]
async fn values_known_after_apply_fill_paths_and_bodies_and_replication_delays_are_waited_out() {
    let mut app = change("deployer.app", Action::Create, &[]);
    app.requests =
        vec![ApiRequest::graph(Method::Post, "/applications", Some(serde_json::json!({"displayName": "x"})))];
    let mut sp = change("deployer.sp", Action::Create, &["deployer.app"]);
    sp.requests = vec![ApiRequest::graph(
        Method::Post,
        "/servicePrincipals",
        Some(serde_json::json!({"appId": exai_model::placeholder("perso.deployer.app", "/appId")})),
    )];
    let mut credential = change("deployer.federated.main", Action::Create, &["deployer.app"]);
    credential.requests = vec![ApiRequest::graph(
        Method::Post,
        format!(
            "/applications/{}/federatedIdentityCredentials",
            exai_model::path_placeholder("perso.deployer.app", "/id")
        ),
        Some(serde_json::json!({"name": "main"})),
    )];
    let sender = GraphLike::default();
    let options = ApplyOptions {
        principal_retry: exai_executor::PrincipalRetry { retries: 2, base: Duration::from_millis(10) },
        ..Default::default()
    };
    let report = apply(&plan(vec![app, sp, credential]), &sender, options, &|_| {}).await;
    assert!(report.succeeded(), "{report:?}");
    let sent = sender.sent.into_inner().unwrap();
    assert!(
        sent.contains(&"/v1.0/applications/app-object-id/federatedIdentityCredentials {\"name\":\"main\"}".to_owned()),
        "{sent:#?}"
    );
    let principals: Vec<&String> = sent.iter().filter(|s| s.starts_with("/v1.0/servicePrincipals")).collect();
    assert_eq!(principals.len(), 2, "refused once while Entra replicates, then sent again: {sent:#?}");
    assert!(principals.iter().all(|s| s.ends_with("{\"appId\":\"app-id\"}")), "{principals:?}");
}

/// A cluster whose create body waits for the input `perso.cluster.ssh-key`.
fn cluster_waiting_for_its_key() -> Change {
    let mut cluster = change("cluster", Action::Create, &["rg"]);
    let key = exai_model::placeholder("perso.cluster.ssh-key", "/publicKey");
    cluster.requests[0].body = Some(serde_json::json!({"properties": {"keyData": key}}));
    cluster
}

#[tokio::test]
async fn an_input_is_awaited_only_by_the_request_that_names_it() {
    let sender = FakeSender::default();
    let p = plan(vec![
        change("rg", Action::Create, &[]),
        cluster_waiting_for_its_key(),
        change("other", Action::Create, &[]),
    ]);
    // The key is ready only once everything else was written: had anything else waited for it,
    // the apply would never end.
    let (ready, key) = tokio::sync::oneshot::channel::<()>();
    let ready = Mutex::new(Some(ready));
    let input = exai_executor::ApplyInput::new("perso.cluster.ssh-key", async move {
        key.await.map_err(|e| (e.to_string(), String::new()))?;
        Ok(serde_json::json!({"publicKey": "ssh-rsa KEY"}))
    });
    let bodies = Mutex::new(Vec::new());
    let finished = Mutex::new(Vec::new());
    let on_event = |event: ApplyEvent| match event {
        ApplyEvent::Request { address, body, .. } => bodies.lock().unwrap().push((address.to_string(), body)),
        ApplyEvent::Finished { address, .. } => {
            let mut finished = finished.lock().unwrap();
            finished.push(address.to_string());
            if finished.iter().any(|a| a == "perso.rg")
                && finished.iter().any(|a| a == "perso.other")
                && let Some(ready) = ready.lock().unwrap().take()
            {
                let _ = ready.send(());
            }
        }
        _ => {}
    };
    let options = ApplyOptions { inputs: vec![input], ..Default::default() };
    let report = tokio::time::timeout(Duration::from_secs(10), apply(&p, &sender, options, &on_event))
        .await
        .expect("nothing but the cluster waits for the key");
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(sender.sent.lock().unwrap().last().map(String::as_str), Some("/cluster"));
    let bodies = bodies.lock().unwrap();
    let (_, body) = bodies.iter().find(|(a, _)| a == "perso.cluster").unwrap();
    assert_eq!(body, &Some(serde_json::json!({"properties": {"keyData": "ssh-rsa KEY"}})));
}

#[tokio::test]
async fn a_failed_input_fails_the_resource_that_needs_it_and_nothing_else() {
    let sender = FakeSender::default();
    let p = plan(vec![
        change("rg", Action::Create, &[]),
        cluster_waiting_for_its_key(),
        change("other", Action::Create, &[]),
    ]);
    let input = exai_executor::ApplyInput::new("perso.cluster.ssh-key", async {
        Err(("cannot write the SSH key file `k`: denied".to_owned(), "check that the directory is writable".to_owned()))
    });
    let hints = Mutex::new(Vec::new());
    let on_event = |event: ApplyEvent| {
        if let ApplyEvent::Failed { address, hint, .. } = event {
            hints.lock().unwrap().push((address.to_string(), hint));
        }
    };
    let options = ApplyOptions { inputs: vec![input], ..Default::default() };
    let report = apply(&p, &sender, options, &on_event).await;
    assert_eq!(
        *outcome(&report, "cluster"),
        Outcome::Failed { error: "cannot write the SSH key file `k`: denied".into() }
    );
    assert_eq!(*outcome(&report, "other"), Outcome::Done(Action::Create));
    assert!(!sender.sent.lock().unwrap().iter().any(|p| p == "/cluster"), "the create was not sent");
    assert_eq!(
        *hints.lock().unwrap(),
        [("perso.cluster".to_owned(), Some("check that the directory is writable".to_owned()))]
    );
}

/// Answers every POST with Graph's 409 for a duplicate key, and every GET with `existing`.
struct TakenKey {
    existing: Value,
    sent: Mutex<Vec<String>>,
}

impl Sender for TakenKey {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        let line = format!("{} {}", request.method, request.path_and_query());
        let method = request.method;
        let path = request.path.clone();
        async move {
            self.sent.lock().unwrap().push(line);
            match method {
                Method::Get => Ok(Accepted::Done(Some(self.existing.clone()))),
                _ => Err(AzureError::Api {
                    method: "POST".into(),
                    url: path,
                    status: 409,
                    code: "Request_MultipleObjectsWithSameKeyValue".into(),
                    message: "FederatedIdentityCredential with name main already exists.".into(),
                    request_id: None,
                }),
            }
        }
    }
    async fn follow(&self, _request: &ApiRequest, _operation: Operation) -> Result<Option<Value>, AzureError> {
        Ok(None)
    }
    async fn wait_until_settled(&self, _read: &ApiRequest) -> Result<Option<Value>, AzureError> {
        Ok(None)
    }
    fn url(&self, request: &ApiRequest) -> String {
        request.path.clone()
    }
}

/// A federated credential's create, adopted on a 409 when it names `subject`.
fn credential_create(subject: &str) -> Change {
    let mut credential = change("deployer.federated.main", Action::Create, &[]);
    let path = format!(
        "/applications/{}/federatedIdentityCredentials",
        exai_model::path_placeholder("perso.deployer.app", "/id")
    );
    let adoption = exai_model::Adoption {
        codes: vec!["Request_MultipleObjectsWithSameKeyValue".into()],
        read: Box::new(ApiRequest::graph(Method::Get, path.clone(), None)),
        select: vec![("/name".into(), Value::from("main"))],
        select_ending: Vec::new(),
        verify: vec![("/subject".into(), Value::from(subject))],
    };
    credential.requests = vec![
        ApiRequest::graph(Method::Post, path, Some(serde_json::json!({"name": "main", "subject": subject})))
            .with_adoption(adoption),
    ];
    credential
}

#[tokio::test]
async fn a_create_refused_as_a_duplicate_adopts_what_exists_only_if_it_is_what_was_asked_for() {
    let existing = serde_json::json!({"value": [
        {"id": "c0", "name": "other", "subject": "repo:a/b:pull_request"},
        {"id": "c1", "name": "MAIN", "subject": "repo:a/b:ref:refs/heads/main"},
    ]});
    // The application's id comes from an earlier write of this apply (here, a read standing in).
    let mut created_app = change("deployer.app", Action::Create, &[]);
    created_app.requests = vec![ApiRequest::graph(Method::Get, "/app", None)];
    let mut credential = credential_create("repo:a/b:ref:refs/heads/main");
    credential.depends_on = vec![Address::new("perso", "deployer.app")];
    let sender = TakenKey {
        existing: serde_json::json!({"id": "a1", "value": existing["value"].clone()}),
        sent: Mutex::new(Vec::new()),
    };
    let events = Mutex::new(Vec::new());
    let report = apply(&plan(vec![created_app, credential]), &sender, ApplyOptions::default(), &|e| {
        events.lock().unwrap().push(e)
    })
    .await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        sender.sent.into_inner().unwrap(),
        [
            "GET /v1.0/app",
            "POST /v1.0/applications/a1/federatedIdentityCredentials",
            "GET /v1.0/applications/a1/federatedIdentityCredentials",
        ],
        "refused, then read back where it lives"
    );
    assert_eq!(report.documents[&Address::new("perso", "deployer.federated.main")]["id"], "c1", "adopted");
    assert!(events.lock().unwrap().iter().any(|e| matches!(e, ApplyEvent::Adopted { .. })));

    // One that trusts other tokens is never adopted: the apply fails, naming the field.
    let mut created_app = change("deployer.app", Action::Create, &[]);
    created_app.requests = vec![ApiRequest::graph(Method::Get, "/app", None)];
    let mut credential = credential_create("repo:a/b:ref:refs/heads/production");
    credential.depends_on = vec![Address::new("perso", "deployer.app")];
    let sender = TakenKey {
        existing: serde_json::json!({"id": "a1", "value": existing["value"].clone()}),
        sent: Mutex::new(Vec::new()),
    };
    let report = apply(&plan(vec![created_app, credential]), &sender, ApplyOptions::default(), &|_| {}).await;
    assert_eq!(
        outcome(&report, "deployer.federated.main"),
        &Outcome::Failed {
            error: "it already exists, made since the plan, and differs from the spec: `/subject` is \"repo:a/b:ref:refs/heads/main\", not \"repo:a/b:ref:refs/heads/production\"".into()
        }
    );
}
