//! What the executor's tests share: changes to build plans of ([`exai_planner::Plan::new`]), and [`FakeAzure`], a sender
//! whose answers, failures and pauses the test decides.
//!
//! Nothing here measures time. Where a test needs a write (or an operation Azure carries on) to
//! last, the fake holds it at a [`Gate`] the test opens when it has seen what it waits for, so
//! "at most 3 in flight" or "interrupted while following" is a fact of the run, not of how fast
//! the machine is.

// Each test file is its own crate and uses part of this module.
#![allow(dead_code)]

use exai_azure::{Accepted, AzureError, Operation, Response};
use exai_executor::{ApplyReport, Outcome, Sender};
use exai_model::{Address, ApiRequest, Method, ResourceId};
use exai_planner::{Action, Change};
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Notify, Semaphore, watch};

/// Returns a change of `perso.<name>` doing `action` after `depends_on`, with one write:
/// `PUT /<name>`.
pub fn change(name: &str, action: Action, depends_on: &[&str]) -> Change {
    Change {
        id: ResourceId::parse(&format!("/subscriptions/s/resourceGroups/rg/providers/Test/things/{name}")).ok(),
        depends_on: depends_on.iter().map(|d| Address::new("perso", d)).collect(),
        requests: vec![ApiRequest::arm(Method::Put, format!("/{name}"), "2025-04-01", None)],
        ..Change::new(Address::new("perso", name), "Test/things", action)
    }
}

/// Returns the outcome of `perso.<name>`.
pub fn outcome<'a>(report: &'a ApplyReport, name: &str) -> &'a Outcome {
    let address = format!("perso.{name}");
    match report.outcomes.iter().find(|(a, _)| a.as_str() == address) {
        Some((_, outcome)) => outcome,
        None => panic!("`{address}` is not in the report: {report:?}"),
    }
}

/// Returns every outcome with its address, in plan order.
pub fn outcomes(report: &ApplyReport) -> Vec<(String, Outcome)> {
    report.outcomes.iter().map(|(a, o)| (a.to_string(), o.clone())).collect()
}

/// An error answer of Azure: its status, code and message.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The error code.
    pub code: &'static str,
    /// The message.
    pub message: &'static str,
}

impl Refusal {
    /// Returns the error a client reports for this answer to `request`.
    fn to_error(self, request: &ApiRequest) -> AzureError {
        AzureError::Api {
            method: request.method.to_string(),
            url: request.path.clone(),
            status: self.status,
            code: self.code.to_owned(),
            message: self.message.to_owned(),
            request_id: Some("req-1".into()),
        }
    }
}

/// Where the fake holds requests until the test lets them through, counting those held.
pub struct Gate {
    open: Semaphore,
    in_flight: watch::Sender<usize>,
    most_at_once: AtomicUsize,
}

impl Gate {
    /// A gate every request passes at once.
    pub fn open() -> Self {
        Self::with_permits(Semaphore::MAX_PERMITS)
    }

    /// A gate no request passes until [`Gate::let_through`].
    pub fn closed() -> Self {
        Self::with_permits(0)
    }

    fn with_permits(permits: usize) -> Self {
        Self { open: Semaphore::new(permits), in_flight: watch::Sender::new(0), most_at_once: AtomicUsize::new(0) }
    }

    /// Lets `n` more requests through.
    pub fn let_through(&self, n: usize) {
        self.open.add_permits(n);
    }

    /// Returns once at least `n` requests are held at the gate.
    pub async fn until_held(&self, n: usize) {
        let mut held = self.in_flight.subscribe();
        // The sender is kept by `self`: the wait ends only with the count.
        let _ = held.wait_for(|&now| now >= n).await;
    }

    /// The most requests ever held at once.
    pub fn most_at_once(&self) -> usize {
        self.most_at_once.load(Ordering::SeqCst)
    }

    async fn pass(&self) {
        self.in_flight.send_modify(|n| *n += 1);
        self.most_at_once.fetch_max(*self.in_flight.borrow(), Ordering::SeqCst);
        if let Ok(permit) = self.open.acquire().await {
            permit.forget();
        }
        self.in_flight.send_modify(|n| *n -= 1);
    }
}

/// What [`FakeAzure`] answers a request with.
pub enum Answer {
    /// Done, with this document.
    Document(Value),
    /// Refused, every time.
    Fail(Refusal),
    /// Refused the first time, done (without a document) after.
    FailFirst(Refusal),
    /// Accepted as a long-running operation, followed at [`FakeAzure::settling`].
    Running,
}

/// A fake Azure: records every request as `METHOD /path`, answers those it has an [`Answer`]
/// for as told and every other one as done without a document.
///
/// Writes wait at [`FakeAzure::writes`]; following an operation and waiting for a resource to
/// settle (what Azure is still doing) wait at [`FakeAzure::settling`], after telling
/// [`FakeAzure::busy`]. Both gates are open unless the test closes them.
pub struct FakeAzure {
    sent: Mutex<Vec<(String, Option<Value>)>>,
    answers: Vec<(String, Answer)>,
    /// Where writes wait.
    pub writes: Gate,
    /// Where following an operation and waiting for a resource wait.
    pub settling: Gate,
    /// Notified whenever an operation starts being followed or a resource waited for.
    pub busy: Notify,
    settled: Option<Value>,
}

impl Default for FakeAzure {
    fn default() -> Self {
        Self {
            sent: Mutex::new(Vec::new()),
            answers: Vec::new(),
            writes: Gate::open(),
            settling: Gate::open(),
            busy: Notify::new(),
            settled: None,
        }
    }
}

impl FakeAzure {
    /// Holds every write until the test lets it through ([`FakeAzure::writes`]).
    pub fn holding_writes(mut self) -> Self {
        self.writes = Gate::closed();
        self
    }

    /// Holds every operation followed and every resource waited for until the test lets it
    /// through ([`FakeAzure::settling`]).
    pub fn holding_operations(mut self) -> Self {
        self.settling = Gate::closed();
        self
    }

    /// Says what a resource waited for is once Azure is done (`None`: it is gone).
    pub fn settling_as(mut self, settled: Option<Value>) -> Self {
        self.settled = settled;
        self
    }

    /// Answers `line` (`METHOD /path`, the path as sent) with `answer`.
    pub fn answering(mut self, line: &str, answer: Answer) -> Self {
        self.answers.push((line.to_owned(), answer));
        self
    }

    /// Returns what was sent, in order, as `METHOD /path`.
    pub fn sent(&self) -> Vec<String> {
        self.log().into_iter().map(|(line, _)| line).collect()
    }

    /// Returns what was sent, in order, as `METHOD /path body` (no body: `null`).
    pub fn sent_with_bodies(&self) -> Vec<String> {
        self.log().into_iter().map(|(line, body)| format!("{line} {}", body.unwrap_or_default())).collect()
    }

    fn log(&self) -> Vec<(String, Option<Value>)> {
        self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Records `line` and returns how often it was sent before.
    fn record(&self, line: &str, body: Option<Value>) -> usize {
        let mut sent = self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = sent.iter().filter(|(l, _)| l == line).count();
        sent.push((line.to_owned(), body));
        before
    }
}

impl Sender for FakeAzure {
    fn start(&self, request: &ApiRequest) -> impl std::future::Future<Output = Result<Accepted, AzureError>> + Send {
        let line = format!("{} {}", request.method, request.path);
        let (request, path, body) = (request.clone(), request.path.clone(), request.body.clone());
        async move {
            let before = self.record(&line, body);
            self.writes.pass().await;
            match self.answers.iter().find(|(l, _)| *l == line).map(|(_, answer)| answer) {
                None => Ok(Accepted::Done(None)),
                Some(Answer::Document(document)) => Ok(Accepted::Done(Some(document.clone()))),
                Some(Answer::Fail(refusal)) => Err(refusal.to_error(&request)),
                Some(Answer::FailFirst(refusal)) if before == 0 => Err(refusal.to_error(&request)),
                Some(Answer::FailFirst(_)) => Ok(Accepted::Done(None)),
                Some(Answer::Running) => {
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
        }
    }
    async fn follow(&self, _request: &ApiRequest, _operation: Operation) -> Result<Option<Value>, AzureError> {
        self.busy.notify_one();
        self.settling.pass().await;
        Ok(None)
    }
    fn wait_until_settled(
        &self,
        read: &ApiRequest,
    ) -> impl std::future::Future<Output = Result<Option<Value>, AzureError>> + Send {
        let line = format!("GET {}", read.path);
        async move {
            self.record(&line, None);
            self.busy.notify_one();
            self.settling.pass().await;
            Ok(self.settled.clone())
        }
    }
    fn url(&self, request: &ApiRequest) -> String {
        request.path.clone()
    }
}
