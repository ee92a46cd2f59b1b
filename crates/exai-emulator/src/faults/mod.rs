//! Fault injection: latency, throttling, server errors, dropped connections and failing
//! long-running operations, on demand and reproducible.
//!
//! # Rules
//!
//! A fault is a rule, written the same way on the command line (`exai emulator --fault RULE`),
//! in [`crate::EmulatorOptions::faults`] and in `POST /_emulator/faults`:
//!
//! ```text
//! METHOD PATH [ACTION] [OPTION=VALUE]...
//! ```
//!
//! - `METHOD`: `*` (any) or methods separated by commas (`PUT,PATCH`).
//! - `PATH`: `*` (any), or a glob over the percent-decoded path, compared case-insensitively as
//!   ARM compares paths: `*` matches within one segment, `**` across segments, `?` one
//!   character (`/subscriptions/*/resourcegroups/**`).
//! - `ACTION`, at most one: `429`, `500`, `502`, `503`, `504` (answer with that status in the
//!   shape of the API the path belongs to, or with `body=html` as the HTML error page a gateway
//!   or proxy in front of it sends), `drop` (close the connection without answering), `hang`
//!   (accept the request and never answer, until the client gives up or 600 s pass on the
//!   emulator's clock),
//!   `drop-answer` (handle the request, then close the connection instead of answering: the
//!   write is made and its answer lost, as when a load balancer resets a connection after the
//!   service processed the request),
//!   `throttle` (ARM's token buckets, see below) or `lro-failed` (the long-running operation the
//!   request starts ends `Failed`).
//! - Options: `latency=200ms` (wait before answering, on the emulator's [`Clock`], so a test on
//!   a manual clock decides when the answer leaves; on its own it is the whole fault),
//!   `times=N` (fire for the next N matching requests only), `p=0.2` (fire with this
//!   probability), `retry-after=N` (seconds, for status actions; 429 sends 1 by default),
//!   `code=` and `message=` (the error's code and message, for status actions and `lro-failed`;
//!   quote a message with spaces: `message="disk full"`), `body=html` (for status actions), and
//!   for `throttle` the bucket sizes and
//!   refill rates `reads=250 read-rate=25 writes=200 write-rate=10 deletes=200 delete-rate=10`.
//!
//! Rules are tried in order for every request except the `/_emulator/` admin routes. Every rule
//! that matches and fires adds its latency; the first matching and firing rule with a status,
//! `drop` or `hang` action decides the answer, and later answering rules are not tried (no draw, no count
//! consumed). `throttle` rules are checked before the others, as ARM throttles before a request
//! reaches a provider. Draws come from one seeded generator ([`rng::SplitMix64`]), so a seed and a
//! sequence of requests always give the same faults.
//!
//! # Token buckets
//!
//! `throttle` models ARM's regional throttling per subscription and operation kind; see
//! [`buckets`].
//!
//! # The hook for long-running operations
//!
//! A provider that starts a long-running operation asks, once, when the operation starts:
//!
//! ```ignore
//! if let Some((code, message)) = shared.faults.lro_failure(request.method.as_str(), &request.raw_path) {
//!     // make the operation end `Failed` with `error: {code, message}`
//! }
//! ```
//!
//! It answers `Some` when an `lro-failed` rule matches and fires (consuming its count). The
//! request log then names the rule in the request's `fault` field.
//!
//! # Dropped connections
//!
//! A `drop` closes the client's TCP connection without answering; see [`connections`].
//!
//! # Layout
//!
//! One job per file: [`rule`] parses the rule language (with [`glob`] for paths), [`matching`]
//! decides which rules fire (drawing from [`rng`] and [`buckets`]), [`render`] builds the
//! injected answers, [`admin`] serves `/_emulator/faults`, [`connections`] tracks the sockets a
//! `drop` closes. This file holds the rule set and the hooks the front door and the providers
//! call.

mod admin;
mod buckets;
mod connections;
mod glob;
mod matching;
mod render;
mod rng;
mod rule;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

pub(crate) use self::admin::handle as handle_admin;
use self::buckets::OperationKind;
pub(crate) use self::connections::ConnectionAcceptor;
use self::connections::Connections;
use self::matching::Inner;
use self::rule::Action;
pub use self::rule::{FaultRule, FaultSyntaxError};
use crate::clock::Clock;
use crate::http::{Incoming, empty_response, json_response, path_segments};
use crate::log::RequestKind;

/// The faults in force, the seeded generator they draw from, the token buckets, and the
/// connections a `drop` can close.
pub(crate) struct Faults {
    inner: Mutex<Inner>,
    connections: Arc<Connections>,
    /// The emulator's clock, which refills the token buckets and dates injected errors.
    clock: Clock,
}

/// What the front door must do for one request, decided before it is handled.
#[derive(Default)]
pub(crate) struct Injected {
    /// The answer, when a fault replaces the real one.
    pub response: Option<Response>,
    /// Whether the connection was closed instead of answering.
    pub dropped: bool,
    /// Whether the request is handled and the connection then closed instead of answering
    /// (a `drop-answer` rule fired); the front door calls [`Faults::drop_answer`].
    pub drop_answer: bool,
    /// The rules that fired, for the request log.
    notes: Vec<String>,
    /// The rate-limit header to put on the answer: (header, tokens left).
    rate_limit: Option<(&'static str, u64)>,
}

impl Injected {
    /// Puts the throttling header on the answer and returns what the request log should show
    /// in `fault`, including an `lro-failed` rule the handler consumed.
    pub fn finish(mut self, response: &mut Response) -> Option<String> {
        if let Some((name, remaining)) = self.rate_limit {
            let headers = response.headers_mut();
            for kind in [OperationKind::Read, OperationKind::Write, OperationKind::Delete] {
                headers.remove(kind.header());
            }
            headers.insert(name, HeaderValue::from(remaining));
        }
        if let Some(note) = NOTED.with(|noted| noted.borrow_mut().take()) {
            self.notes.push(note);
        }
        (!self.notes.is_empty()).then(|| self.notes.join("; "))
    }
}

thread_local! {
    /// The `lro-failed` rule a handler consumed during the current request.
    ///
    /// Handlers are synchronous: between [`Faults::begin`] and [`Injected::finish`] a request's
    /// handler runs on one thread without yielding, so a thread-local carries the note from
    /// [`Faults::lro_failure`] back to the front door without threading it through every
    /// provider's signature.
    static NOTED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Returns the decoded path (`/a/b`) the rules match against.
pub(super) fn decoded_path(segments: &[String]) -> String {
    format!("/{}", segments.join("/"))
}

impl Faults {
    /// Creates the fault set with its first rules and a seed (a random one when `None`), living
    /// by `clock`.
    pub fn new(rules: Vec<FaultRule>, seed: Option<u64>, clock: Clock) -> Self {
        let mut inner = Inner::new(seed.unwrap_or_else(rand::random));
        for rule in rules {
            inner.add(rule);
        }
        Self { inner: Mutex::new(inner), connections: Arc::new(Connections::default()), clock }
    }

    /// Locks the rule set.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if something did, the rules are still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns the acceptor that tracks connections so a `drop` fault can close them.
    pub fn acceptor(&self) -> ConnectionAcceptor {
        ConnectionAcceptor { connections: Arc::clone(&self.connections) }
    }

    /// Decides the faults for a request, waits out their latency, and closes the connection
    /// for a `drop`. Admin routes are never faulted.
    pub async fn begin(&self, kind: RequestKind, request: &Incoming) -> Injected {
        NOTED.with(|noted| noted.borrow_mut().take());
        if kind == RequestKind::Admin {
            return Injected::default();
        }
        let (mut injected, latency, drop) = self.lock().decide(kind, request, self.clock.now());
        if !latency.is_zero() {
            // On the emulator's clock, so a test on a manual clock decides when the wait ends.
            self.clock.sleep(latency).await;
        }
        if drop {
            if self.connections.shut_down(request.peer) {
                injected.dropped = true;
                // The request is not processed; this answer has no connection left to travel on.
                injected.response = Some(empty_response(StatusCode::INTERNAL_SERVER_ERROR));
            } else {
                // Not a tracked connection (should not happen): say so rather than pretend.
                injected.response = Some(json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"error": {"code": "InternalServerError", "message": "The emulator could not drop this connection."}}),
                ));
            }
        }
        injected
    }

    /// Closes the connection from `peer` after its request was handled (a `drop-answer` rule);
    /// returns whether it was closed.
    pub fn drop_answer(&self, peer: SocketAddr) -> bool {
        self.connections.shut_down(peer)
    }

    /// Returns the code and message a long-running operation must fail with, when an
    /// `lro-failed` rule matches the request that starts it and fires (consuming one of its
    /// `times`). `path` is the request path as sent (percent-encoded or not).
    ///
    /// Called by the providers of long-running operations, once, when the operation starts.
    pub(crate) fn lro_failure(&self, method: &str, path: &str) -> Option<(String, String)> {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).ok()?;
        let path = decoded_path(&path_segments(path));
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut fired = None;
        for active in inner.rules.iter_mut() {
            if matches!(active.rule.action, Action::LroFailed { .. })
                && active.applies_to(&method, &path)
                && active.fire(&mut inner.rng)
            {
                fired = Some(active);
                break;
            }
        }
        let active = fired?;
        let Action::LroFailed { code, message } = &active.rule.action else {
            return None;
        };
        NOTED.with(|noted| *noted.borrow_mut() = Some(format!("#{} {}", active.id, active.rule)));
        Some((
            code.clone().unwrap_or_else(|| "InternalOperationError".to_owned()),
            message.clone().unwrap_or_else(|| "An internal execution error occurred. Please retry later.".to_owned()),
        ))
    }

    /// Returns the rules and the seed as `GET /_emulator/faults` shows them.
    fn listing(&self) -> Value {
        let inner = self.lock();
        let rules: Vec<Value> = inner
            .rules
            .iter()
            .map(|active| {
                json!({
                    "id": active.id,
                    "rule": active.rule.text,
                    "fired": active.fired,
                    "remaining": active.remaining(),
                })
            })
            .collect();
        json!({"seed": inner.seed, "faults": rules})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> FaultRule {
        match text.parse() {
            Ok(rule) => rule,
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn lro_failures_are_consumed_by_the_provider_hook() {
        let faults = Faults::new(
            vec![
                rule(
                    "PUT /subscriptions/*/resourcegroups/*/providers/microsoft.containerservice/managedclusters/* lro-failed times=1 code=QuotaExceeded message=\"no quota\"",
                ),
                rule("PUT /subscriptions/** lro-failed"),
            ],
            Some(1),
            Clock::system(),
        );
        let cluster = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c%2Dd";
        assert_eq!(faults.lro_failure("PUT", cluster), Some(("QuotaExceeded".to_owned(), "no quota".to_owned())));
        let noted = NOTED.with(|noted| noted.borrow_mut().take()).unwrap_or_default();
        assert!(noted.starts_with("#1 "), "{noted}");
        // The first rule is spent; the second, broader one applies with ARM's generic failure.
        let (code, _) = faults.lro_failure("put", cluster).unwrap_or_default();
        assert_eq!(code, "InternalOperationError");
        assert_eq!(faults.lro_failure("GET", cluster), None);
        assert_eq!(faults.lro_failure("PUT", "/providers/x"), None);
    }
}
