//! The apply walk with a fake sender: dependency order, parallelism, failure isolation, and the
//! refusals that protect what must not be deleted.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{Answer, FakeAzure, Refusal, change, outcome};
use exai_executor::{ApplyEvent, ApplyOptions, ExecutorError, Outcome, apply, refuse_unsafe};
use exai_model::{Address, ApiRequest, Method, OwnedFields};
use exai_planner::{Action, Change, Plan};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

#[tokio::test]
async fn dependencies_come_first() {
    let sender = FakeAzure::default();
    let p = Plan::new(vec![
        change("cluster", Action::Create, &["rg", "registry"]),
        change("registry", Action::Create, &["rg"]),
        change("rg", Action::Create, &[]),
    ]);
    let report = apply(&p, &sender, ApplyOptions::default(), &|_| {}).await;
    assert!(report.succeeded());
    assert_eq!(sender.sent(), ["PUT /rg", "PUT /registry", "PUT /cluster"]);
    // The report lists resources in plan order.
    let order: Vec<&str> = report.outcomes.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(order, ["perso.cluster", "perso.registry", "perso.rg"]);
}

#[tokio::test]
async fn a_failure_skips_its_dependants_and_lets_independent_branches_finish() {
    let error = Refusal { status: 500, code: "InternalServerError", message: "boom" };
    let sender = FakeAzure::default().answering("PUT /registry", Answer::Fail(error));
    let p = Plan::new(vec![
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

/// Applies 8 independent creates with `parallelism`, holding every write until as many as can be
/// in flight are: returns the most writes that were ever in flight at once.
async fn most_in_flight(parallelism: usize) -> usize {
    let sender = FakeAzure::default().holding_writes();
    let p = Plan::new((0..8).map(|i| change(&format!("r{i}"), Action::Create, &[])).collect());
    let writes = &sender.writes;
    // One write is let through only once `parallelism` are held (or all that are left): an
    // apply that started fewer would never end (and time out), one that starts more is counted.
    let release = async {
        for left in (1..=8).rev() {
            writes.until_held(parallelism.min(left)).await;
            writes.let_through(1);
        }
    };
    let options = ApplyOptions { parallelism, ..Default::default() };
    let (report, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(apply(&p, &sender, options, &|_| {}), release)
    })
    .await
    .expect("the apply starts as many writes as its parallelism allows");
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(sender.sent().len(), 8);
    writes.most_at_once()
}

#[tokio::test]
async fn parallelism_is_bounded_and_used() {
    assert_eq!(most_in_flight(3).await, 3);
    assert_eq!(most_in_flight(1).await, 1);
}

#[tokio::test]
async fn no_ops_send_nothing_and_a_cycle_is_skipped_not_hung() {
    let sender = FakeAzure::default();
    let p = Plan::new(vec![
        change("same", Action::NoOp, &[]),
        change("a", Action::Create, &["b"]),
        change("b", Action::Create, &["a"]),
    ]);
    let report = tokio::time::timeout(Duration::from_secs(5), apply(&p, &sender, ApplyOptions::default(), &|_| {}))
        .await
        .unwrap();
    assert!(sender.sent().is_empty());
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
    assert!(matches!(
        refuse_unsafe(&Plan::new(vec![replace.clone()]), false),
        Err(ExecutorError::DeleteNotAllowed { .. })
    ));
    assert_eq!(refuse_unsafe(&Plan::new(vec![replace.clone()]), true), Ok(()));

    let foreign = owned_by(change("rg", Action::Delete, &[]), Some("someone-else"));
    assert!(matches!(refuse_unsafe(&Plan::new(vec![foreign]), true), Err(ExecutorError::NotOwned { .. })));
    // A mark naming the spec as well: its address is what must match.
    let marked = owned_by(change("rg", Action::Delete, &[]), Some("my-org/exai:perso.rg"));
    assert_eq!(refuse_unsafe(&Plan::new(vec![marked]), true), Ok(()));
    let elsewhere = owned_by(change("rg", Action::Delete, &[]), Some("my-org/exai:perso.other"));
    assert!(matches!(refuse_unsafe(&Plan::new(vec![elsewhere]), true), Err(ExecutorError::NotOwned { .. })));
    let untagged = owned_by(change("rg", Action::Delete, &[]), None);
    assert!(matches!(
        refuse_unsafe(&Plan::new(vec![untagged]), true),
        Err(ExecutorError::NotOwned { owner: None, .. })
    ));

    let mut protected = replace;
    protected.protect = true;
    assert!(matches!(refuse_unsafe(&Plan::new(vec![protected]), true), Err(ExecutorError::Protected { .. })));

    assert_eq!(refuse_unsafe(&Plan::new(vec![change("rg", Action::Create, &[])]), false), Ok(()));

    // A federated credential lists its mark as the `description` that holds it.
    let described = |text: &str| {
        let mut c = change("cred", Action::Delete, &[]);
        c.before = Some([("description".to_owned(), Value::from(text))].into_iter().collect());
        c
    };
    assert_eq!(refuse_unsafe(&Plan::new(vec![described("exai-owner:perso.cred")]), true), Ok(()));
    assert!(matches!(
        refuse_unsafe(&Plan::new(vec![described("made by hand")]), true),
        Err(ExecutorError::NotOwned { owner: None, .. })
    ));
}

#[tokio::test]
async fn a_long_write_reports_progress_while_it_runs() {
    // The write is held until two progress reports were made while it ran.
    let sender = FakeAzure::default().holding_writes();
    let p = Plan::new(vec![change("cluster", Action::Create, &[])]);
    let events = Mutex::new(Vec::new());
    let on_event = |event: ApplyEvent| {
        let mut events = events.lock().unwrap();
        events.push(event);
        if events.iter().filter(|e| matches!(e, ApplyEvent::StillRunning { .. })).count() == 2 {
            sender.writes.let_through(1);
        }
    };
    let options = ApplyOptions { progress_every: Duration::from_millis(1), ..Default::default() };
    let report = tokio::time::timeout(Duration::from_secs(10), apply(&p, &sender, options, &on_event))
        .await
        .expect("the write is let through after two reports");
    assert!(report.succeeded(), "{report:?}");
    // Progress comes between the request and the end, never after.
    let kinds: Vec<&str> = events
        .into_inner()
        .unwrap()
        .iter()
        .map(|e| match e {
            ApplyEvent::Started { .. } => "started",
            ApplyEvent::Request { .. } => "request",
            ApplyEvent::StillRunning { .. } => "still running",
            ApplyEvent::Finished { .. } => "finished",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["started", "request", "still running", "still running", "finished"]);
}

#[test]
fn a_superseded_object_is_owned_by_the_address_before_its_tilde() {
    let mut old = owned_by(change("deployer.role", Action::Delete, &[]), Some("perso.deployer.role"));
    old.address = Address::parse("perso.deployer.role~1f0c3a9b").unwrap();
    assert_eq!(refuse_unsafe(&Plan::new(vec![old.clone()]), true), Ok(()));
    let mut foreign = owned_by(change("deployer.role", Action::Delete, &[]), Some("perso.other"));
    foreign.address = old.address.clone();
    assert!(matches!(refuse_unsafe(&Plan::new(vec![foreign]), true), Err(ExecutorError::NotOwned { .. })));
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
    // Graph answers a created application with its ids, and refuses the first service principal
    // creation as Entra does while it replicates a new application.
    let replicating = Refusal {
        status: 400,
        code: "Request_BadRequest",
        message: "The appId 'app-id' of the service principal does not reference a valid application object.",
    };
    let sender = FakeAzure::default()
        .answering(
            "POST /v1.0/applications",
            Answer::Document(serde_json::json!({"id": "app-object-id", "appId": "app-id"})),
        )
        .answering("POST /v1.0/servicePrincipals", Answer::FailFirst(replicating));
    let options = ApplyOptions {
        principal_retry: exai_executor::PrincipalRetry { retries: 2, base: Duration::from_millis(10) },
        ..Default::default()
    };
    let report = apply(&Plan::new(vec![app, sp, credential]), &sender, options, &|_| {}).await;
    assert!(report.succeeded(), "{report:?}");
    let mut sent = sender.sent_with_bodies();
    // The credential and the principal both follow the application, in either order.
    sent[1..].sort();
    assert_eq!(
        sent,
        [
            r#"POST /v1.0/applications {"displayName":"x"}"#,
            r#"POST /v1.0/applications/app-object-id/federatedIdentityCredentials {"name":"main"}"#,
            // Refused once while Entra replicates, then sent again.
            r#"POST /v1.0/servicePrincipals {"appId":"app-id"}"#,
            r#"POST /v1.0/servicePrincipals {"appId":"app-id"}"#,
        ]
    );
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
    let sender = FakeAzure::default();
    let p = Plan::new(vec![
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
    assert_eq!(sender.sent().last().map(String::as_str), Some("PUT /cluster"));
    let bodies = bodies.lock().unwrap();
    let (_, body) = bodies.iter().find(|(a, _)| a == "perso.cluster").unwrap();
    assert_eq!(body, &Some(serde_json::json!({"properties": {"keyData": "ssh-rsa KEY"}})));
}

#[tokio::test]
async fn a_failed_input_fails_the_resource_that_needs_it_and_nothing_else() {
    let sender = FakeAzure::default();
    let p = Plan::new(vec![
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
    assert!(!sender.sent().iter().any(|p| p == "PUT /cluster"), "the create was not sent");
    assert_eq!(
        *hints.lock().unwrap(),
        [("perso.cluster".to_owned(), Some("check that the directory is writable".to_owned()))]
    );
}

/// Answers the create of the credential `main` with Graph's 409 for a duplicate key, and the
/// application's read and its credentials' list with `existing`.
fn taken_key(existing: &Value) -> FakeAzure {
    let credentials = "/v1.0/applications/a1/federatedIdentityCredentials";
    let duplicate = Refusal {
        status: 409,
        code: "Request_MultipleObjectsWithSameKeyValue",
        message: "FederatedIdentityCredential with name main already exists.",
    };
    let document = serde_json::json!({"id": "a1", "value": existing["value"].clone()});
    FakeAzure::default()
        .answering("GET /v1.0/app", Answer::Document(document.clone()))
        .answering(&format!("POST {credentials}"), Answer::Fail(duplicate))
        .answering(&format!("GET {credentials}"), Answer::Document(document))
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
    let sender = taken_key(&existing);
    let events = Mutex::new(Vec::new());
    let report = apply(&Plan::new(vec![created_app, credential]), &sender, ApplyOptions::default(), &|e| {
        events.lock().unwrap().push(e)
    })
    .await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        sender.sent(),
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
    let sender = taken_key(&existing);
    let report = apply(&Plan::new(vec![created_app, credential]), &sender, ApplyOptions::default(), &|_| {}).await;
    assert_eq!(
        outcome(&report, "deployer.federated.main"),
        &Outcome::Failed {
            error: "it already exists, made since the plan, and differs from the spec: `/subject` is \"repo:a/b:ref:refs/heads/main\", not \"repo:a/b:ref:refs/heads/production\"".into()
        }
    );
}

#[tokio::test]
async fn an_operation_being_followed_holds_no_slot() {
    // Three independent long-running creates, two slots: each slot is free again once its
    // create is accepted, so all three are followed at once before any ends.
    let sender = ["PUT /a", "PUT /b", "PUT /c"]
        .into_iter()
        .fold(FakeAzure::default().holding_operations(), |s, line| s.answering(line, Answer::Running));
    let p = Plan::new(["a", "b", "c"].into_iter().map(|n| change(n, Action::Create, &[])).collect());
    let settling = &sender.settling;
    let release = async {
        settling.until_held(3).await;
        settling.let_through(3);
    };
    let options = ApplyOptions { parallelism: 2, ..Default::default() };
    let (report, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(apply(&p, &sender, options, &|_| {}), release)
    })
    .await
    .expect("all three operations are followed at once with two slots");
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(settling.most_at_once(), 3);
    assert_eq!(sender.sent(), ["PUT /a", "PUT /b", "PUT /c"]);
}
