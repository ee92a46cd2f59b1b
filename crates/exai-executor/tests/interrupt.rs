//! Interrupting an apply, and waiting for what Azure is still doing: a fake Azure whose writes
//! can be long-running operations and whose resources can be mid-operation.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use exai_azure::{Accepted, AzureError, Operation, Response};
use exai_executor::{ApplyEvent, ApplyOptions, ApplyReport, Interrupt, Outcome, Recheck, Sender, apply};
use exai_model::kinds::ResourceGroup;
use exai_model::{
    Address, ApiRequest, DesiredResource, DesiredSpec, DesiredState, LiveResource, LiveState, Location, Method,
    Observation, OwnedFields, ResourceId, Tags,
};
use exai_planner::{Action, Change, FORMAT_VERSION, Plan, Summary};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;

/// Writes to a path in `long_running` are accepted as operations that take `operation` to
/// end; every round trip takes `round_trip`. A resource waited for settles as `settled`.
struct FakeAzure {
    sent: Mutex<Vec<String>>,
    long_running: Vec<String>,
    round_trip: Duration,
    operation: Duration,
    settled: Option<Value>,
}

impl FakeAzure {
    fn new(long_running: &[&str]) -> Self {
        Self {
            sent: Mutex::new(Vec::new()),
            long_running: long_running.iter().map(|p| (*p).to_owned()).collect(),
            round_trip: Duration::from_millis(50),
            operation: Duration::from_secs(30),
            settled: None,
        }
    }

    fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().clone()
    }
}

impl Sender for FakeAzure {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        let path = request.path.clone();
        let method = request.method;
        async move {
            tokio::time::sleep(self.round_trip).await;
            self.sent.lock().unwrap().push(format!("{method} {path}"));
            if !self.long_running.contains(&path) {
                return Ok(Accepted::Done(None));
            }
            let accepted = Response {
                status: 201,
                body: None,
                async_operation: Some(format!("{path}/operationStatuses/1")),
                location: None,
                retry_after: Some(1),
                request_id: None,
            };
            Ok(Accepted::Running(Operation { resource_url: path, accepted }))
        }
    }
    async fn follow(&self, _request: &ApiRequest, _operation: Operation) -> Result<Option<Value>, AzureError> {
        tokio::time::sleep(self.operation).await;
        Ok(None)
    }
    fn wait_until_settled(
        &self,
        read: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        let path = read.path.clone();
        async move {
            self.sent.lock().unwrap().push(format!("GET {path}"));
            tokio::time::sleep(self.round_trip).await;
            Ok(self.settled.clone())
        }
    }
    fn url(&self, request: &ApiRequest) -> String {
        request.path.clone()
    }
}

fn change(name: &str, depends_on: &[&str], paths: &[&str]) -> Change {
    Change {
        address: Address::new("perso", name),
        resource_type: "Test/things".into(),
        id: None,
        id_note: None,
        action: Action::Create,
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
        requests: paths.iter().map(|p| ApiRequest::arm(Method::Put, *p, "2025-04-01", None)).collect(),
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

fn outcomes(report: &ApplyReport) -> Vec<(String, Outcome)> {
    report.outcomes.iter().map(|(a, o)| (a.to_string(), o.clone())).collect()
}

/// Runs `plan`, triggering the interrupt when the request to `path` is about to be sent.
async fn interrupted_at(plan: &Plan, sender: &FakeAzure, path: &str) -> ApplyReport {
    let interrupt = Interrupt::default();
    let options = ApplyOptions { interrupt: interrupt.clone(), ..Default::default() };
    let on_event = |event: ApplyEvent| {
        if matches!(&event, ApplyEvent::Request { url, .. } if url == path) {
            interrupt.trigger();
        }
    };
    // Far less than the 30 s operation: nothing waits for it.
    tokio::time::timeout(Duration::from_secs(5), apply(plan, sender, options, &on_event)).await.unwrap()
}

#[tokio::test]
async fn an_interrupt_lets_the_round_trip_finish_follows_no_operation_and_starts_nothing() {
    let sender = FakeAzure::new(&["/registry"]);
    let p = plan(vec![
        change("rg", &[], &["/rg"]),
        change("registry", &["rg"], &["/registry"]),
        change("cluster", &["registry"], &["/cluster"]),
    ]);
    let report = interrupted_at(&p, &sender, "/registry").await;
    assert_eq!(sender.sent(), ["PUT /rg", "PUT /registry"], "the registry's PUT reached Azure; nothing after it");
    assert_eq!(
        outcomes(&report),
        [
            ("perso.rg".to_owned(), Outcome::Done(Action::Create)),
            (
                "perso.registry".to_owned(),
                Outcome::Interrupted { operation: Some("/registry/operationStatuses/1".to_owned()) }
            ),
            ("perso.cluster".to_owned(), Outcome::NotStarted),
        ]
    );
    assert!(report.interrupted());
    assert!(!report.succeeded());
}

#[tokio::test]
async fn an_interrupt_while_an_operation_is_followed_stops_following_it() {
    let sender = FakeAzure::new(&["/registry"]);
    let p = plan(vec![change("registry", &[], &["/registry"]), change("cluster", &["registry"], &["/cluster"])]);
    let interrupt = Interrupt::default();
    let options = ApplyOptions { interrupt: interrupt.clone(), ..Default::default() };
    let trigger = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        interrupt.trigger();
    };
    let (report, ()) = tokio::time::timeout(Duration::from_secs(5), async {
        tokio::join!(apply(&p, &sender, options.clone(), &|_| {}), trigger)
    })
    .await
    .unwrap();
    assert_eq!(
        outcomes(&report),
        [
            (
                "perso.registry".to_owned(),
                Outcome::Interrupted { operation: Some("/registry/operationStatuses/1".to_owned()) }
            ),
            ("perso.cluster".to_owned(), Outcome::NotStarted),
        ]
    );
}

#[tokio::test]
async fn a_change_interrupted_between_its_requests_is_in_flight_without_an_operation() {
    let sender = FakeAzure::new(&[]);
    let p = plan(vec![change("deployer.app", &[], &["/lookup", "/write"])]);
    let report = interrupted_at(&p, &sender, "/lookup").await;
    assert_eq!(sender.sent(), ["PUT /lookup"]);
    assert_eq!(outcomes(&report), [("perso.deployer.app".to_owned(), Outcome::Interrupted { operation: None })]);
}

#[tokio::test]
async fn without_an_interrupt_every_operation_is_followed_to_its_end() {
    let mut sender = FakeAzure::new(&["/registry"]);
    sender.operation = Duration::from_millis(100);
    let p = plan(vec![change("registry", &[], &["/registry"]), change("cluster", &["registry"], &["/cluster"])]);
    let report = apply(&p, &sender, ApplyOptions::default(), &|_| {}).await;
    assert!(report.succeeded() && !report.interrupted(), "{report:?}");
    assert_eq!(sender.sent(), ["PUT /registry", "PUT /cluster"]);
}

// ---------------------------------------------------------------------------------------------
// Waiting for what Azure is still doing

const SUB: &str = "ee000000-0000-4000-8000-000000000002";

fn group_path() -> String {
    format!("/subscriptions/{SUB}/resourcegroups/exai-perso-rg")
}

fn desired() -> DesiredState {
    let address = Address::new("perso", "resourceGroup");
    let tags: Tags = [("project".to_owned(), "exai".to_owned())].into_iter().collect();
    let rg =
        ResourceGroup::new(SUB, "exai-perso-rg", Location::parse("francecentral").unwrap(), tags, address.as_str());
    let resource =
        DesiredResource { address, depends_on: vec![], protect: false, spec: DesiredSpec::ResourceGroup(rg) };
    DesiredState { tenant: "t".into(), resources: vec![resource] }
}

fn group_in(state: &str) -> Value {
    json!({
        "id": format!("/subscriptions/{SUB}/resourceGroups/exai-perso-rg"),
        "name": "exai-perso-rg",
        "location": "francecentral",
        "tags": {"project": "exai", "exai-owner": "perso.resourceGroup"},
        "properties": {"provisioningState": state}
    })
}

/// The group as Azure is still creating it, and a dependant of it.
fn creating() -> (DesiredState, LiveState, Plan) {
    let desired = desired();
    let mut live = LiveState::new();
    let document = group_in("Creating");
    let id = ResourceId::parse(document["id"].as_str().unwrap()).unwrap();
    live.insert(Address::new("perso", "resourceGroup"), Observation::Present(LiveResource { id, document }));
    let mut p = exai_planner::plan(&desired, &live).unwrap();
    assert_eq!(p.resource_changes[0].action, Action::Wait);
    p.resource_changes.push(change("registry", &["resourceGroup"], &["/registry"]));
    (desired, live, p)
}

#[tokio::test]
async fn a_wait_that_ends_as_declared_is_done_and_then_its_dependants_go() {
    let (desired, live, p) = creating();
    let sender = FakeAzure { settled: Some(group_in("Succeeded")), ..FakeAzure::new(&[]) };
    let options = ApplyOptions { recheck: Some(Recheck::new(desired, live)), ..Default::default() };
    let events = Mutex::new(Vec::new());
    let report = apply(&p, &sender, options, &|e| events.lock().unwrap().push(e)).await;
    assert_eq!(
        outcomes(&report),
        [
            ("perso.resourceGroup".to_owned(), Outcome::Done(Action::Wait)),
            ("perso.registry".to_owned(), Outcome::Done(Action::Create)),
        ]
    );
    assert_eq!(sender.sent(), [format!("GET {}", group_path()), "PUT /registry".to_owned()], "no write to the group");
    let waiting = events.into_inner().unwrap().into_iter().find(|e| matches!(e, ApplyEvent::Waiting { .. }));
    assert!(
        matches!(&waiting, Some(ApplyEvent::Waiting { url, in_progress, .. })
            if *url == group_path() && in_progress.provisioning_state == "Creating"),
        "{waiting:?}"
    );
}

#[tokio::test]
async fn a_wait_that_ends_failed_is_repaired_with_the_put() {
    let (desired, live, p) = creating();
    let sender = FakeAzure { settled: Some(group_in("Failed")), ..FakeAzure::new(&[]) };
    let options = ApplyOptions { recheck: Some(Recheck::new(desired, live)), ..Default::default() };
    let report = apply(&p, &sender, options, &|_| {}).await;
    assert_eq!(report.outcomes[0].1, Outcome::Done(Action::Update));
    assert_eq!(
        sender.sent(),
        [format!("GET {}", group_path()), format!("PUT {}", group_path()), "PUT /registry".to_owned()]
    );
}

#[tokio::test]
async fn a_wait_is_interrupted_with_the_resource_to_follow() {
    let (desired, live, p) = creating();
    let mut sender = FakeAzure { settled: Some(group_in("Succeeded")), ..FakeAzure::new(&[]) };
    sender.round_trip = Duration::from_secs(30);
    let interrupt = Interrupt::default();
    let options =
        ApplyOptions { interrupt: interrupt.clone(), recheck: Some(Recheck::new(desired, live)), ..Default::default() };
    let trigger = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        interrupt.trigger();
    };
    let (report, ()) = tokio::time::timeout(Duration::from_secs(5), async {
        tokio::join!(apply(&p, &sender, options, &|_| {}), trigger)
    })
    .await
    .unwrap();
    assert_eq!(
        outcomes(&report),
        [
            ("perso.resourceGroup".to_owned(), Outcome::Interrupted { operation: Some(group_path()) }),
            ("perso.registry".to_owned(), Outcome::NotStarted),
        ]
    );
}

#[tokio::test]
async fn a_wait_for_a_delete_creates_the_resource_again_once_it_is_gone() {
    let desired = desired();
    let mut live = LiveState::new();
    let document = group_in("Deleting");
    let id = ResourceId::parse(document["id"].as_str().unwrap()).unwrap();
    live.insert(Address::new("perso", "resourceGroup"), Observation::Present(LiveResource { id, document }));
    let p = exai_planner::plan(&desired, &live).unwrap();
    assert_eq!(p.resource_changes[0].action, Action::Wait);
    let sender = FakeAzure { settled: None, ..FakeAzure::new(&[]) };
    let options = ApplyOptions { recheck: Some(Recheck::new(desired, live)), ..Default::default() };
    let report = apply(&p, &sender, options, &|_| {}).await;
    assert_eq!(report.outcomes[0].1, Outcome::Done(Action::Create));
    assert_eq!(sender.sent(), [format!("GET {}", group_path()), format!("PUT {}", group_path())]);
}

#[tokio::test]
async fn without_a_recheck_a_wait_that_ends_otherwise_than_planned_fails_and_says_what_to_do() {
    let (_, _, p) = creating();
    let sender = FakeAzure { settled: Some(group_in("Failed")), ..FakeAzure::new(&[]) };
    let events = Mutex::new(Vec::new());
    let report = apply(&p, &sender, ApplyOptions::default(), &|e| events.lock().unwrap().push(e)).await;
    assert!(matches!(report.outcomes[0].1, Outcome::Failed { .. }), "{report:?}");
    assert_eq!(report.outcomes[1].1, Outcome::Skipped { because: Address::new("perso", "resourceGroup") });
    let hint = events.into_inner().unwrap().into_iter().find_map(|e| match e {
        ApplyEvent::Failed { hint, .. } => hint,
        _ => None,
    });
    assert_eq!(hint.as_deref(), Some("run `exai apply` again: it plans from what now exists and converges"));
}
