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
//!   (accept the request and never answer, until the client gives up or 600 s pass),
//!   `drop-answer` (handle the request, then close the connection instead of answering: the
//!   write is made and its answer lost, as when a load balancer resets a connection after the
//!   service processed the request),
//!   `throttle` (ARM's token buckets, see below) or `lro-failed` (the long-running operation the
//!   request starts ends `Failed`).
//! - Options: `latency=200ms` (wait before answering; on its own it is the whole fault),
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
//! reaches a provider. Draws come from one seeded generator ([`SplitMix64`]), so a seed and a
//! sequence of requests always give the same faults.
//!
//! # Token buckets
//!
//! `throttle` models ARM's regional throttling (learn.microsoft.com, "Understand how Azure
//! Resource Manager throttles requests"): per subscription, one bucket per operation kind,
//! reads (GET, HEAD) 250 tokens refilled at 25 per second, writes (PUT, PATCH, POST) and deletes
//! 200 tokens refilled at 10 per second. Each request takes a token; an empty bucket answers 429
//! `SubscriptionRequestsThrottled` with `Retry-After` (whole seconds until a token is back).
//! Every answer to a throttled route carries `x-ms-ratelimit-remaining-subscription-reads`,
//! `-writes` or `-deletes` with the tokens left. Azure keeps buckets per subscription *and*
//! principal; the emulator shares one bucket among all principals, which throttles sooner
//! (stricter, never looser).
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
//! A response can only be refused by closing the connection it would travel on, which hyper
//! owns. So every accepted TCP connection is tracked ([`ConnectionAcceptor`]): the emulator
//! keeps a duplicate of its socket, keyed by the client's address, and a `drop` fault shuts that
//! socket down in both directions. The client sees the connection close with no response (for
//! HTTP/2, every stream on it fails), exactly as when a load balancer resets a connection. The
//! duplicate is released when hyper drops the connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use uuid::Uuid;

use crate::context::Shared;
use crate::http::{Incoming, parse_guid};
use crate::http::{empty_response, json_response};
use crate::log::RequestKind;

/// The longest latency a rule may add, so a typo cannot hang a client for hours.
const MAX_LATENCY: Duration = Duration::from_secs(600);

/// The longest `Retry-After` a rule may send, in seconds.
const MAX_RETRY_AFTER_SECONDS: u64 = 3600;

/// The syntax, shown under every parse error.
const SYNTAX_HINT: &str = "a fault is `METHOD PATH [429|500|502|503|504|drop|drop-answer|hang|throttle|lro-failed] [latency=200ms] [times=N] [p=0.5] [retry-after=N] [code=X] [message=\"...\"] [body=html]`, e.g. `PUT /subscriptions/*/resourcegroups/* 500 times=1`";

/// A fault rule that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault `{rule}`: {message}\nhint: {SYNTAX_HINT}")]
pub struct FaultSyntaxError {
    /// The whole rule as given.
    pub rule: String,
    /// What is wrong, naming the bad part.
    pub message: String,
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// Only waits (the rule's latency).
    LatencyOnly,
    /// Answers with a status in the API's error shape, or as an HTML page when `html`.
    Status { status: u16, retry_after: Option<u64>, code: Option<String>, message: Option<String>, html: bool },
    /// Closes the connection without answering.
    Drop,
    /// Never answers: holds the request until the client gives up (or [`MAX_LATENCY`] passes,
    /// then closes the connection).
    Hang,
    /// Handles the request, then closes the connection instead of sending the answer.
    DropAnswer,
    /// Takes a token from the subscription's bucket; answers 429 when it is empty.
    Throttle(BucketSizes),
    /// Makes the long-running operation the request starts end `Failed`.
    LroFailed { code: Option<String>, message: Option<String> },
}

/// The sizes and refill rates (tokens per second) of the three buckets of a `throttle` rule.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BucketSizes {
    reads: (f64, f64),
    writes: (f64, f64),
    deletes: (f64, f64),
}

impl Default for BucketSizes {
    fn default() -> Self {
        Self { reads: (250.0, 25.0), writes: (200.0, 10.0), deletes: (200.0, 10.0) }
    }
}

/// One fault rule, parsed from its text form (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    text: String,
    methods: Option<Vec<Method>>,
    path: PathPattern,
    action: Action,
    latency: Duration,
    times: Option<u64>,
    probability: Option<f64>,
}

impl fmt::Display for FaultRule {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl FromStr for FaultRule {
    type Err = FaultSyntaxError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_rule(text)
    }
}

/// Splits a rule into words on whitespace, keeping quoted runs (`"..."` or `'...'`) together.
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for character in text.chars() {
        match quote {
            Some(open) if character == open => quote = None,
            Some(_) => current.push(character),
            None if character == '"' || character == '\'' => {
                quote = Some(character);
                in_word = true;
            }
            None if character.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            None => {
                current.push(character);
                in_word = true;
            }
        }
    }
    if let Some(open) = quote {
        return Err(format!("a quote `{open}` is never closed"));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

fn parse_rule(text: &str) -> Result<FaultRule, FaultSyntaxError> {
    let error = |message: String| FaultSyntaxError { rule: text.trim().to_owned(), message };
    let words = words(text).map_err(error)?;
    let [method, path, rest @ ..] = words.as_slice() else {
        return Err(error("it needs at least a method (or `*`) and a path (or `*`)".to_owned()));
    };
    let methods = parse_methods(method).map_err(error)?;
    let path = PathPattern::parse(path).map_err(error)?;

    let mut action: Option<Action> = None;
    let mut options: Vec<(&str, &str)> = Vec::new();
    for word in rest {
        if let Some((name, value)) = word.split_once('=') {
            if options.iter().any(|(seen, _)| *seen == name) {
                return Err(error(format!("`{name}` is given twice")));
            }
            options.push((name, value));
            continue;
        }
        let parsed = match word.to_ascii_lowercase().as_str() {
            "429" | "500" | "502" | "503" | "504" => Action::Status {
                status: word.parse().unwrap_or(500),
                retry_after: None,
                code: None,
                message: None,
                html: false,
            },
            "drop" => Action::Drop,
            "hang" => Action::Hang,
            "drop-answer" => Action::DropAnswer,
            "throttle" => Action::Throttle(BucketSizes::default()),
            "lro-failed" => Action::LroFailed { code: None, message: None },
            _ => {
                return Err(error(format!(
                    "`{word}` is not an action (429, 500, 502, 503, 504, drop, drop-answer, hang, throttle, lro-failed) nor an option (name=value)"
                )));
            }
        };
        if action.is_some() {
            return Err(error(format!("`{word}` is a second action; a rule has at most one")));
        }
        action = Some(parsed);
    }

    let mut rule = FaultRule {
        text: words.join(" "),
        methods,
        path,
        action: action.unwrap_or(Action::LatencyOnly),
        latency: Duration::ZERO,
        times: None,
        probability: None,
    };
    for (name, value) in options {
        apply_option(&mut rule, name, value).map_err(error)?;
    }
    if rule.action == Action::LatencyOnly && rule.latency.is_zero() {
        return Err(error(
            "it has no action: give one of 429, 500, 502, 503, 504, drop, drop-answer, hang, throttle, lro-failed, or a latency="
                .to_owned(),
        ));
    }
    Ok(rule)
}

fn parse_methods(text: &str) -> Result<Option<Vec<Method>>, String> {
    if text == "*" {
        return Ok(None);
    }
    let known = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"];
    text.split(',')
        .map(|method| {
            let upper = method.to_ascii_uppercase();
            if !known.contains(&upper.as_str()) {
                return Err(format!("`{method}` is not a method (use `*` or some of {})", known.join(", ")));
            }
            Method::from_bytes(upper.as_bytes()).map_err(|_| format!("`{method}` is not a method"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn apply_option(rule: &mut FaultRule, name: &str, value: &str) -> Result<(), String> {
    let bad = |what: &str| format!("`{name}={value}`: {what}");
    match (name, &mut rule.action) {
        ("latency", _) => {
            rule.latency = parse_duration(value).ok_or_else(|| bad("expected a duration such as 200ms or 2s"))?;
            if rule.latency > MAX_LATENCY {
                return Err(bad("the longest latency is 600s"));
            }
        }
        ("times", Action::Throttle(_)) | ("p", Action::Throttle(_)) => {
            return Err(bad("a throttle rule always applies; it takes no times= or p="));
        }
        ("times", _) => {
            let times = value.parse::<u64>().ok().filter(|times| *times > 0);
            rule.times = Some(times.ok_or_else(|| bad("expected a whole number of at least 1"))?);
        }
        ("p", _) => {
            let probability = value.parse::<f64>().ok().filter(|p| *p > 0.0 && *p <= 1.0);
            rule.probability =
                Some(probability.ok_or_else(|| bad("expected a probability above 0 and at most 1, such as 0.2"))?);
        }
        ("retry-after", Action::Status { retry_after, .. }) => {
            let seconds = value.strip_suffix('s').unwrap_or(value).parse::<u64>().ok();
            let seconds = seconds.filter(|seconds| *seconds <= MAX_RETRY_AFTER_SECONDS);
            *retry_after = Some(seconds.ok_or_else(|| bad("expected whole seconds, at most 3600"))?);
        }
        ("code", Action::Status { code, .. }) | ("code", Action::LroFailed { code, .. }) => {
            let valid = !value.is_empty() && value.len() <= 100 && value.bytes().all(|b| b.is_ascii_alphanumeric());
            if !valid {
                return Err(bad("an error code is 1 to 100 letters and digits"));
            }
            *code = Some(value.to_owned());
        }
        ("body", Action::Status { html, .. }) => {
            if value != "html" {
                return Err(bad("the only body a status action can be given is `html`"));
            }
            *html = true;
        }
        ("message", Action::Status { message, .. }) | ("message", Action::LroFailed { message, .. }) => {
            if value.is_empty() {
                return Err(bad("the message is empty"));
            }
            *message = Some(value.to_owned());
        }
        (bucket, Action::Throttle(sizes)) => {
            let slot = match bucket {
                "reads" => &mut sizes.reads.0,
                "read-rate" => &mut sizes.reads.1,
                "writes" => &mut sizes.writes.0,
                "write-rate" => &mut sizes.writes.1,
                "deletes" => &mut sizes.deletes.0,
                "delete-rate" => &mut sizes.deletes.1,
                _ => {
                    return Err(bad(
                        "a throttle rule takes latency=, reads=, read-rate=, writes=, write-rate=, deletes=, delete-rate=",
                    ));
                }
            };
            let number = value.parse::<f64>().ok().filter(|number| number.is_finite() && *number > 0.0);
            let number = number.filter(|number| *number <= 1_000_000.0);
            *slot = number.ok_or_else(|| bad("expected a positive number"))?;
        }
        ("retry-after" | "code" | "message" | "body", _) => {
            return Err(bad("this option needs a status action (429, 500, 502, 503, 504) or lro-failed"));
        }
        _ => {
            return Err(bad(
                "unknown option (latency, times, p, retry-after, code, message, body, or a throttle's reads/writes/deletes and their -rate)",
            ));
        }
    }
    Ok(())
}

/// Parses `200ms`, `2s` or `1.5s`.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(number) => (number, 0.001),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let value = number.parse::<f64>().ok().filter(|value| value.is_finite() && *value >= 0.0)?;
    Duration::try_from_secs_f64(value * scale).ok()
}

/// A case-insensitive glob over a decoded path.
#[derive(Debug, Clone, PartialEq)]
struct PathPattern {
    /// `None` for `*` or `**` alone: any path.
    tokens: Option<Vec<GlobToken>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GlobToken {
    Literal(char),
    /// `?`: one character other than `/`.
    One,
    /// `*`: any run of characters without `/`.
    Segment,
    /// `**`: any run of characters.
    Deep,
}

impl PathPattern {
    fn parse(text: &str) -> Result<Self, String> {
        if text == "*" || text == "**" {
            return Ok(Self { tokens: None });
        }
        if !text.starts_with('/') {
            return Err(format!("the path `{text}` must start with `/` (or be `*` for any path)"));
        }
        let mut tokens = Vec::new();
        let mut characters = text.chars().flat_map(char::to_lowercase).peekable();
        while let Some(character) = characters.next() {
            tokens.push(match character {
                '*' if characters.peek() == Some(&'*') => {
                    characters.next();
                    GlobToken::Deep
                }
                '*' => GlobToken::Segment,
                '?' => GlobToken::One,
                other => GlobToken::Literal(other),
            });
        }
        Ok(Self { tokens: Some(tokens) })
    }

    /// Returns whether the (decoded) path matches, by dynamic programming over the pattern so
    /// that no path, however long, makes matching slower than pattern length × path length.
    fn matches(&self, path: &str) -> bool {
        let Some(tokens) = &self.tokens else {
            return true;
        };
        let path: Vec<char> = path.chars().flat_map(char::to_lowercase).collect();
        // reachable[j]: the tokens so far can match the first j characters of the path.
        let mut reachable = vec![false; path.len() + 1];
        reachable[0] = true;
        for token in tokens {
            let mut next = vec![false; path.len() + 1];
            for j in 0..=path.len() {
                match token {
                    GlobToken::Literal(expected) => {
                        next[j] = j > 0 && reachable[j - 1] && path[j - 1] == *expected;
                    }
                    GlobToken::One => next[j] = j > 0 && reachable[j - 1] && path[j - 1] != '/',
                    GlobToken::Segment => {
                        next[j] = reachable[j] || (j > 0 && next[j - 1] && path[j - 1] != '/');
                    }
                    GlobToken::Deep => next[j] = reachable[j] || (j > 0 && next[j - 1]),
                }
            }
            reachable = next;
        }
        reachable[path.len()]
    }
}

/// A small, fixed pseudo-random generator (SplitMix64).
///
/// Chosen over `rand`'s generators because their output may change between versions of the
/// crate, and a seed given to the emulator must reproduce the same faults forever.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `[0, 1)`.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A rule as the emulator holds it: with its id and what it has done.
struct ActiveRule {
    id: u64,
    rule: FaultRule,
    fired: u64,
}

impl ActiveRule {
    fn remaining(&self) -> Option<u64> {
        self.rule.times.map(|times| times.saturating_sub(self.fired))
    }

    fn applies_to(&self, method: &Method, path: &str) -> bool {
        self.rule.methods.as_ref().is_none_or(|methods| methods.contains(method)) && self.rule.path.matches(path)
    }

    /// Decides whether the rule fires for a request it applies to, drawing only when it has a
    /// probability and is not spent, and counting the firing.
    fn fire(&mut self, rng: &mut SplitMix64) -> bool {
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

/// The operation kinds ARM keeps separate buckets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum OperationKind {
    Read,
    Write,
    Delete,
}

impl OperationKind {
    fn of(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD => Self::Read,
            Method::DELETE => Self::Delete,
            _ => Self::Write,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Read => "x-ms-ratelimit-remaining-subscription-reads",
            Self::Write => "x-ms-ratelimit-remaining-subscription-writes",
            Self::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

struct Inner {
    rules: Vec<ActiveRule>,
    next_id: u64,
    seed: u64,
    rng: SplitMix64,
    /// Buckets by (rule id, subscription, operation kind).
    buckets: HashMap<(u64, String, OperationKind), Bucket>,
}

impl Inner {
    fn add(&mut self, rule: FaultRule) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.rules.push(ActiveRule { id, rule, fired: 0 });
        id
    }

    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.rng = SplitMix64 { state: seed };
    }
}

/// The faults in force, the seeded generator they draw from, the token buckets, and the
/// connections a `drop` can close.
pub(crate) struct Faults {
    inner: Mutex<Inner>,
    connections: Arc<Connections>,
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

/// The part of the emulator a path belongs to, which decides the shape of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Surface {
    Arm,
    Graph,
    Token,
}

fn surface(kind: RequestKind, segments: &[String]) -> Surface {
    let graph = segments.first().is_some_and(|first| first.eq_ignore_ascii_case("v1.0") || first == "beta");
    match kind {
        RequestKind::Token => Surface::Token,
        _ if graph => Surface::Graph,
        _ => Surface::Arm,
    }
}

/// Returns the decoded path (`/a/b`) the rules match against.
fn decoded_path(segments: &[String]) -> String {
    format!("/{}", segments.join("/"))
}

impl Faults {
    /// Creates the fault set with its first rules and a seed (a random one when `None`).
    pub fn new(rules: Vec<FaultRule>, seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(rand::random);
        let mut inner =
            Inner { rules: Vec::new(), next_id: 1, seed, rng: SplitMix64 { state: seed }, buckets: HashMap::new() };
        for rule in rules {
            inner.add(rule);
        }
        Self { inner: Mutex::new(inner), connections: Arc::new(Connections::default()) }
    }

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
        let (mut injected, latency, drop) = self.decide(kind, request);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
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

    /// Decides, under the lock and without waiting, which rules fire for a request.
    fn decide(&self, kind: RequestKind, request: &Incoming) -> (Injected, Duration, bool) {
        let path = decoded_path(&request.segments);
        let surface = surface(kind, &request.segments);
        let mut injected = Injected::default();
        let mut latency = Duration::ZERO;
        let mut drop = false;
        let mut guard = self.lock();
        let inner = &mut *guard;

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
                let (capacity, rate) = match operation {
                    OperationKind::Read => sizes.reads,
                    OperationKind::Write => sizes.writes,
                    OperationKind::Delete => sizes.deletes,
                };
                let now = Instant::now();
                let bucket = inner
                    .buckets
                    .entry((active.id, subscription.clone(), operation))
                    .or_insert(Bucket { tokens: capacity, updated: now });
                let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
                bucket.updated = now;
                latency += active.rule.latency;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    injected.rate_limit = Some((operation.header(), bucket.tokens.floor() as u64));
                } else {
                    let wait = ((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64;
                    active.fired += 1;
                    injected.rate_limit = Some((operation.header(), 0));
                    injected.notes.push(format!("#{} {}", active.id, active.rule));
                    injected.response = Some(throttled(request, &subscription, operation, wait));
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

    /// Returns the code and message a long-running operation must fail with, when an
    /// `lro-failed` rule matches the request that starts it and fires (consuming one of its
    /// `times`). `path` is the request path as sent (percent-encoded or not).
    ///
    /// Called by the providers of long-running operations, once, when the operation starts.
    #[allow(dead_code)] // called by the long-running providers as they land
    pub(crate) fn lro_failure(&self, method: &str, path: &str) -> Option<(String, String)> {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).ok()?;
        let path = decoded_path(&crate::http::path_segments(path));
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

/// The body of `POST /_emulator/faults`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddFaults {
    /// Rules to add, in the command line's syntax.
    #[serde(default)]
    faults: Vec<String>,
    /// A new seed for the generator.
    seed: Option<u64>,
}

fn admin_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({"error": {"code": code, "message": message.into()}}))
}

/// Answers `/_emulator/faults` and `/_emulator/faults/{id}` (the caller checked the peer).
///
/// `GET` lists the rules and the seed; `POST {"faults": [RULE...], "seed": N}` adds rules and/or
/// reseeds; `DELETE` removes every rule (and empties the token buckets), `DELETE .../{id}` one.
pub(crate) fn handle_admin(shared: &Shared, request: &Incoming) -> Response {
    let faults = &shared.faults;
    match (request.segments.get(2..).unwrap_or_default(), &request.method) {
        ([], &Method::GET) => json_response(StatusCode::OK, &faults.listing()),
        ([], &Method::POST) => {
            let body: AddFaults = match serde_json::from_slice(&request.body) {
                Ok(body) => body,
                Err(failure) => {
                    return admin_error(
                        StatusCode::BAD_REQUEST,
                        "InvalidRequestContent",
                        format!(
                            "The body must be {{\"faults\"?: [\"METHOD PATH ACTION ...\"], \"seed\"?: N}}: {failure}"
                        ),
                    );
                }
            };
            // All or nothing: one bad rule adds none.
            let parsed: Result<Vec<FaultRule>, FaultSyntaxError> =
                body.faults.iter().map(|text| text.parse()).collect();
            let rules = match parsed {
                Ok(rules) => rules,
                Err(failure) => return admin_error(StatusCode::BAD_REQUEST, "InvalidFault", failure.to_string()),
            };
            {
                let mut inner = faults.lock();
                if let Some(seed) = body.seed {
                    inner.reseed(seed);
                }
                for rule in rules {
                    inner.add(rule);
                }
            }
            json_response(StatusCode::OK, &faults.listing())
        }
        ([], &Method::DELETE) => {
            let mut inner = faults.lock();
            inner.rules.clear();
            inner.buckets.clear();
            empty_response(StatusCode::NO_CONTENT)
        }
        ([id], &Method::DELETE) => {
            let mut inner = faults.lock();
            let before = inner.rules.len();
            let id = id.parse::<u64>().ok();
            inner.rules.retain(|active| Some(active.id) != id);
            inner.buckets.retain(|(rule, _, _), _| Some(*rule) != id);
            if inner.rules.len() == before {
                return admin_error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    format!("There is no fault {}.", request.raw_path),
                );
            }
            empty_response(StatusCode::NO_CONTENT)
        }
        ([], _) | ([_], _) => {
            let allowed = if request.segments.len() == 2 { "GET, POST, DELETE" } else { "DELETE" };
            let mut response = admin_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("The requested resource does not support http method '{}'.", request.method),
            );
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
            response
        }
        _ => admin_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("The emulator has no admin route '{}'.", request.raw_path),
        ),
    }
}

/// Adds the headers every ARM answer carries to an injected one.
fn with_arm_headers(request: &Incoming, mut response: Response) -> Response {
    let correlation = request
        .header("x-ms-correlation-request-id")
        .and_then(parse_guid)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ms-request-id", Some(Uuid::new_v4().to_string())),
        ("x-ms-correlation-request-id", Some(correlation)),
        ("x-ms-client-request-id", request.header("x-ms-client-request-id").map(str::to_owned)),
    ] {
        if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The HTML error page a gateway or proxy in front of a service answers with, instead of the
/// service's JSON: Azure Application Gateway answers its own "502 - Web server received an
/// invalid response while acting as a gateway or proxy server." page when the backend fails
/// (learn.microsoft.com, "Troubleshoot bad gateway errors in Application Gateway"), and
/// corporate proxies and captive portals answer HTML pages too.
fn html_answer(status: u16, retry_after: Option<u64>) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let reason = status_code.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n<body><h1>{status} - {reason}</h1>\n<p>Web server received an invalid response while acting as a gateway or proxy server.</p></body></html>\n"
    );
    let mut response = Response::new(axum::body::Body::from(page));
    *response.status_mut() = status_code;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// The 429 of an empty token bucket.
fn throttled(request: &Incoming, subscription: &str, operation: OperationKind, wait: u64) -> Response {
    let message = format!(
        "Number of '{}' requests for subscription '{subscription}' exceeded. Please try again after '{wait}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling",
        operation.name()
    );
    let mut response = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({"error": {"code": "SubscriptionRequestsThrottled", "message": message}}),
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    with_arm_headers(request, response)
}

/// Builds an injected status answer in the error shape of the API the request is for.
fn status_answer(
    surface: Surface,
    request: &Incoming,
    status: u16,
    retry_after: Option<u64>,
    code: Option<&str>,
    message: Option<&str>,
) -> Response {
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // 429 without a Retry-After leaves a client guessing; ARM always sends one.
    let retry_after = retry_after.or((status == 429).then_some(1));
    let mut response = match surface {
        Surface::Arm => {
            let (default_code, default_message) = match status {
                429 => ("TooManyRequests", "The request is being throttled."),
                502 => ("BadGateway", "The gateway did not receive a response from the service."),
                503 => ("ServiceUnavailable", "The service is temporarily unavailable. Please retry the request."),
                504 => ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
                _ => ("InternalServerError", "Encountered internal server error. Please try again."),
            };
            let body = json!({"error": {
                "code": code.unwrap_or(default_code),
                "message": message.unwrap_or(default_message),
            }});
            with_arm_headers(request, json_response(status_code, &body))
        }
        Surface::Graph => {
            let (default_code, default_message) = match status {
                429 => ("TooManyRequests", "Please retry again later."),
                503 => ("serviceNotAvailable", "Service unavailable"),
                _ => ("generalException", "An unspecified error has occurred."),
            };
            let request_id = Uuid::new_v4().to_string();
            let mut inner = json!({
                "date": crate::clock::now_rfc3339(),
                "request-id": request_id,
            });
            if let Some(client_request_id) = request.header("client-request-id") {
                inner["client-request-id"] = Value::String(client_request_id.to_owned());
            }
            let body = json!({"error": {
                "code": code.unwrap_or(default_code),
                "message": message.unwrap_or(default_message),
                "innerError": inner,
            }});
            let mut response = json_response(status_code, &body);
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("request-id", value);
            }
            response
        }
        Surface::Token => {
            // Entra answers transient failures with `temporarily_unavailable` and AADSTS90033
            // ("A transient error has occurred"); the code for a throttled token request was not
            // found in a source, so every injected Entra fault uses these two.
            let trace_id = Uuid::new_v4().to_string();
            let correlation_id =
                request.header("client-request-id").and_then(parse_guid).unwrap_or_else(|| Uuid::new_v4().to_string());
            let timestamp = crate::clock::now_rfc3339();
            let description = message.unwrap_or("A transient error has occurred. Please try again.");
            let body = json!({
                "error": code.unwrap_or("temporarily_unavailable"),
                "error_description": format!(
                    "AADSTS90033: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
                ),
                "error_codes": [90033],
                "timestamp": timestamp,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "error_uri": "https://login.microsoftonline.com/error?code=90033",
            });
            let mut response = json_response(status_code, &body);
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
            response
        }
    };
    if let Some(seconds) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Duplicates of the sockets of open connections, by client address, for `drop` faults.
#[derive(Default)]
struct Connections {
    sockets: Mutex<HashMap<SocketAddr, std::net::TcpStream>>,
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, HashMap<SocketAddr, std::net::TcpStream>> {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shuts the connection from `peer` down both ways; returns whether it was tracked.
    fn shut_down(&self, peer: SocketAddr) -> bool {
        match self.lock().remove(&peer) {
            Some(socket) => {
                if let Err(error) = socket.shutdown(Shutdown::Both) {
                    tracing::debug!(%error, %peer, "the connection to drop was already closed");
                }
                true
            }
            None => false,
        }
    }
}

/// The inner acceptor of the TLS server: tracks each TCP connection (see the module
/// documentation) before the TLS handshake.
#[derive(Clone)]
pub(crate) struct ConnectionAcceptor {
    connections: Arc<Connections>,
}

impl<S> axum_server::accept::Accept<tokio::net::TcpStream, S> for ConnectionAcceptor {
    type Stream = TrackedStream;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(TrackedStream, S)>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        std::future::ready(self.track(stream).map(|stream| (stream, service)))
    }
}

impl ConnectionAcceptor {
    fn track(&self, stream: tokio::net::TcpStream) -> std::io::Result<TrackedStream> {
        // Without TCP_NODELAY, Nagle's algorithm holds a response's last small segment until the
        // client's delayed ACK (~40 ms on Linux): measured as 40 ms stalls in `just bench`.
        // Azure's front ends do not stall like that, so neither may the emulator.
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr()?;
        let socket = stream.into_std()?;
        let duplicate = socket.try_clone();
        let stream = tokio::net::TcpStream::from_std(socket)?;
        let registration = match duplicate {
            Ok(duplicate) => {
                self.connections.lock().insert(peer, duplicate);
                Some(Registration { peer, connections: Arc::clone(&self.connections) })
            }
            Err(error) => {
                tracing::warn!(%error, %peer, "could not track a connection; a drop fault cannot close it");
                None
            }
        };
        Ok(TrackedStream { inner: stream, _registration: registration })
    }
}

/// Forgets a connection's duplicate socket when hyper drops the connection, so the socket is
/// really closed (a leftover duplicate would keep it open).
struct Registration {
    peer: SocketAddr,
    connections: Arc<Connections>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.peer);
    }
}

/// A TCP stream whose duplicate is tracked for `drop` faults; reads and writes pass through.
pub(crate) struct TrackedStream {
    inner: tokio::net::TcpStream,
    _registration: Option<Registration>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, buffer: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
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

    fn error(text: &str) -> String {
        match text.parse::<FaultRule>() {
            Ok(rule) => panic!("`{text}` parsed as {rule:?}"),
            Err(error) => error.message,
        }
    }

    #[test]
    fn parses_hang_and_html_bodies() {
        assert_eq!(rule("POST /*/oauth2/v2.0/token hang").action, Action::Hang);
        assert!(matches!(rule("POST * 502 body=html").action, Action::Status { status: 502, html: true, .. }));
        assert!(error("POST * 502 body=xml").contains("only body"));
        assert!(error("POST * drop body=html").contains("needs a status action"));
    }

    #[test]
    fn an_html_answer_is_an_html_page_with_its_status() {
        let response = html_answer(502, None);
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some("text/html; charset=utf-8")
        );
    }

    #[test]
    fn parses_the_documented_examples() {
        let parsed = rule("PUT /subscriptions/*/resourcegroups/* 500 times=1");
        assert_eq!(parsed.methods, Some(vec![Method::PUT]));
        assert_eq!(parsed.times, Some(1));
        assert!(matches!(parsed.action, Action::Status { status: 500, .. }));
        let parsed = rule("* * 429 p=0.2 retry-after=3");
        assert_eq!(parsed.probability, Some(0.2));
        assert!(matches!(parsed.action, Action::Status { status: 429, retry_after: Some(3), .. }));
        let parsed = rule("GET * latency=200ms");
        assert_eq!((parsed.action, parsed.latency), (Action::LatencyOnly, Duration::from_millis(200)));
        let parsed = rule("put,patch ** lro-failed code=QuotaExceeded message=\"no quota left\"");
        assert_eq!(
            parsed.action,
            Action::LroFailed { code: Some("QuotaExceeded".to_owned()), message: Some("no quota left".to_owned()) }
        );
        let parsed = rule("* * throttle writes=3 write-rate=0.5");
        let Action::Throttle(sizes) = parsed.action else { panic!("not a throttle") };
        assert_eq!((sizes.writes, sizes.reads), ((3.0, 0.5), (250.0, 25.0)));
    }

    #[test]
    fn names_the_bad_part() {
        assert!(error("GET").contains("at least a method"));
        assert!(error("FETCH * 500").contains("`FETCH` is not a method"));
        assert!(error("GET subscriptions 500").contains("must start with `/`"));
        assert!(error("GET * 418").contains("`418` is not an action"));
        assert!(error("GET * 500 drop").contains("`drop` is a second action"));
        assert!(error("GET * 500 p=2").contains("`p=2`"));
        assert!(error("GET * 500 times=0").contains("`times=0`"));
        assert!(error("GET * latency=fast").contains("`latency=fast`"));
        assert!(error("GET * drop retry-after=2").contains("needs a status action"));
        assert!(error("GET * throttle times=2").contains("takes no times="));
        assert!(error("GET * 500 colour=red").contains("unknown option"));
        assert!(error("GET *").contains("no action"));
        assert!(error("GET * 500 message=\"open").contains("never closed"));
        assert!(error("GET * 500 times=1 times=2").contains("given twice"));
        let full = "GET * 418".parse::<FaultRule>().err().map(|error| error.to_string()).unwrap_or_default();
        assert!(full.starts_with("invalid fault `GET * 418`: "), "{full}");
        assert!(full.contains("\nhint: "), "{full}");
    }

    #[test]
    fn globs_match_case_insensitively_by_segment() {
        let pattern = |text: &str| PathPattern::parse(text).unwrap_or(PathPattern { tokens: Some(Vec::new()) });
        let groups = pattern("/subscriptions/*/resourceGroups/*");
        assert!(groups.matches("/subscriptions/abc/resourcegroups/rg1"));
        assert!(groups.matches("/SUBSCRIPTIONS/abc/RESOURCEGROUPS/RG1"));
        assert!(!groups.matches("/subscriptions/abc/resourcegroups/rg1/providers/x"));
        assert!(!groups.matches("/subscriptions/abc/resourcegroups"));
        let deep = pattern("/subscriptions/**/managedclusters/*");
        assert!(
            deep.matches("/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c")
        );
        assert!(pattern("/a?c").matches("/abc"));
        assert!(!pattern("/a?c").matches("/a/c"));
        assert!(pattern("*").matches("/anything/at/all"));
        let long = format!("/{}", "a/".repeat(5000));
        assert!(!pattern("/**b**b**b").matches(&long));
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

    #[test]
    fn the_generator_is_fixed_forever() {
        let mut rng = SplitMix64 { state: 42 };
        // Reference values of SplitMix64 for seed 42: a change here breaks every recorded seed.
        assert_eq!(rng.next_u64(), 0xBDD7_3226_2FEB_6E95);
        assert_eq!(rng.next_u64(), 0x28EF_E333_B266_F103);
        let draws: Vec<f64> = (0..1000).map(|_| rng.next_f64()).collect();
        assert!(draws.iter().all(|draw| (0.0..1.0).contains(draw)));
    }
}
