//! Matching: which rules fire for a request, in the order the module documentation of
//! [`crate::faults`] gives, drawing from the seeded generator and the token buckets.

use std::time::Duration;

use axum::http::Method;
use time::OffsetDateTime;

use super::buckets::{Buckets, OperationKind};
use super::render::{Surface, html_answer, status_answer, surface, throttled};
use super::rng::SplitMix64;
use super::rule::{Action, FaultRule, MAX_LATENCY};
use super::{Injected, decoded_path};
use crate::http::{Incoming, parse_guid};
use crate::log::RequestKind;

/// A rule as the emulator holds it: with its id and what it has done.
pub(super) struct ActiveRule {
    /// The id the admin route shows and deletes it by.
    pub id: u64,
    /// The rule.
    pub rule: FaultRule,
    /// How many times it fired.
    pub fired: u64,
}

impl ActiveRule {
    /// Returns how many more times the rule fires; `None` when it has no `times`.
    pub(super) fn remaining(&self) -> Option<u64> {
        self.rule.times.map(|times| times.saturating_sub(self.fired))
    }

    /// Returns whether the rule applies to a request's method and decoded path.
    pub(super) fn applies_to(&self, method: &Method, path: &str) -> bool {
        self.rule.methods.as_ref().is_none_or(|methods| methods.contains(method)) && self.rule.path.matches(path)
    }

    /// Decides whether the rule fires for a request it applies to, drawing only when it has a
    /// probability and is not spent, and counting the firing.
    pub(super) fn fire(&mut self, rng: &mut SplitMix64) -> bool {
        if self.remaining() == Some(0) {
            return false;
        }
        if let Some(probability) = self.rule.probability
            && rng.next_f64() >= probability
        {
            return false;
        }
        self.fired += 1;
        true
    }
}

/// The rules in force, in order, with what the matching needs beside them.
pub(super) struct Inner {
    /// The rules, in the order they are tried.
    pub rules: Vec<ActiveRule>,
    /// The id the next rule gets.
    pub next_id: u64,
    /// The seed the generator started from (or was last reseeded with).
    pub seed: u64,
    /// The generator the probabilistic rules draw from.
    pub rng: SplitMix64,
    /// The token buckets of the `throttle` rules.
    pub buckets: Buckets,
}

impl Inner {
    /// Returns a rule set with no rule and a generator seeded with `seed`.
    pub(super) fn new(seed: u64) -> Self {
        Self { rules: Vec::new(), next_id: 1, seed, rng: SplitMix64::new(seed), buckets: Buckets::default() }
    }

    /// Adds a rule after the others; returns its id.
    pub(super) fn add(&mut self, rule: FaultRule) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.rules.push(ActiveRule { id, rule, fired: 0 });
        id
    }

    /// Restarts the generator from `seed`.
    pub(super) fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.rng = SplitMix64::new(seed);
    }
}

impl Inner {
    /// Decides, without waiting, which rules fire for a request at `now`: returns what to
    /// inject, the latency to wait, and whether to close the connection.
    pub(super) fn decide(
        &mut self,
        kind: RequestKind,
        request: &Incoming,
        now: OffsetDateTime,
    ) -> (Injected, Duration, bool) {
        let path = decoded_path(&request.segments);
        let surface = surface(kind, &request.segments);
        let mut injected = Injected::default();
        let mut latency = Duration::ZERO;
        let mut drop = false;
        let inner = self;

        // Throttling first: ARM throttles before a request reaches a provider.
        let subscription = match request.segments.as_slice() {
            [first, id, ..] if surface == Surface::Arm && first.eq_ignore_ascii_case("subscriptions") => parse_guid(id),
            _ => None,
        };
        if let Some(subscription) = subscription {
            let throttle = inner.rules.iter_mut().find(|active| {
                matches!(active.rule.action, Action::Throttle(_)) && active.applies_to(&request.method, &path)
            });
            if let Some(active) = throttle
                && let Action::Throttle(sizes) = active.rule.action
            {
                let operation = OperationKind::of(&request.method);
                latency += active.rule.latency;
                match inner.buckets.take(active.id, &subscription, operation, sizes, now) {
                    Ok(left) => injected.rate_limit = Some((operation.header(), left)),
                    Err(wait) => {
                        active.fired += 1;
                        injected.rate_limit = Some((operation.header(), 0));
                        injected.notes.push(format!("#{} {}", active.id, active.rule));
                        injected.response = Some(throttled(request, &subscription, operation, wait));
                    }
                }
            }
        }

        for active in inner.rules.iter_mut() {
            let answers =
                matches!(active.rule.action, Action::Status { .. } | Action::Drop | Action::DropAnswer | Action::Hang);
            let waits = active.rule.action == Action::LatencyOnly;
            if !(answers && injected.response.is_none() && !drop && !injected.drop_answer || waits) {
                continue;
            }
            if !active.applies_to(&request.method, &path) || !active.fire(&mut inner.rng) {
                continue;
            }
            latency += active.rule.latency;
            injected.notes.push(format!("#{} {}", active.id, active.rule));
            match &active.rule.action {
                Action::Status { status, retry_after, code, message, html: false } => {
                    injected.response = Some(status_answer(
                        surface,
                        now,
                        request,
                        *status,
                        *retry_after,
                        code.as_deref(),
                        message.as_deref(),
                    ));
                }
                Action::Status { status, retry_after, html: true, .. } => {
                    injected.response = Some(html_answer(*status, *retry_after));
                }
                Action::Drop => drop = true,
                Action::Hang => {
                    // Held for as long as a latency may be, then closed without an answer.
                    latency = MAX_LATENCY;
                    drop = true;
                }
                Action::DropAnswer => injected.drop_answer = true,
                _ => {}
            }
        }
        (injected, latency, drop)
    }
}
