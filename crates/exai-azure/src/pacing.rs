//! Pacing: requests are held back before they would be throttled, not retried after.
//!
//! ARM throttles with token buckets per subscription and operation kind (learn.microsoft.com,
//! "Understand how Azure Resource Manager throttles requests"; docs/azure-facts.md §6): reads
//! (GET, HEAD) draw from a bucket of 250 tokens refilled at 25 per second, writes (PUT, PATCH,
//! POST) and deletes from buckets of 200 refilled at 10 per second; an empty bucket answers 429
//! with `Retry-After`. Every answer says what is left in
//! `x-ms-ratelimit-remaining-subscription-reads` (`-writes`, `-deletes`; `-tenant-` for
//! requests outside a subscription).
//!
//! [`PacingPolicy`] keeps a copy of each bucket exai draws from: it starts full (ARM's documented
//! size), takes a token for each request it lets through, refills at ARM's rate, and is lowered
//! to what each answer's header says is left (less the requests the header cannot have counted:
//! those sent after that one; answers are applied in the order their requests were sent, see
//! [`Bucket::answered`] for why that is safe and why it matters). A header that says more
//! remain than the documented bucket holds (a subscription with a larger budget, or an endpoint
//! that counts the old hourly way, 12,000 reads) raises the bucket to it: the header is ARM's
//! word, the documented size only the guess made before the first answer. A request that would find the bucket empty waits for the
//! refill instead of drawing a 429, so reads go as wide as the connection allows while the
//! header says there is room, and are paced at the refill rate once it says there is not. A 429 all the same (another
//! client drawing from the same bucket) pauses every request to that bucket for its
//! `Retry-After`, not only the one answered; and from then on exai shares the refill with that
//! client: it halves the part of the refill it assumes (once per 429 event), grows it back
//! slowly, and leaves a reserve of tokens for what the other may send between two counts.
//!
//! Microsoft Graph publishes no remaining-requests header for the calls exai makes; it is paced
//! by its 429s alone: one `Retry-After` pauses every Graph request.

use crate::network::{Endpoint, retry_after};
use async_trait::async_trait;
use azure_core::http::headers::HeaderName;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Method, Request, StatusCode};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
// tokio's clock, so tests can pause time and a wait costs them nothing.
use tokio::time::Instant;

/// ARM's buckets: (tokens, tokens refilled per second), per operation kind.
/// Source: learn.microsoft.com, "Understand how Azure Resource Manager throttles requests"
/// (subscription and tenant limits: reads 250 / 25 per second, writes and deletes 200 / 10).
const READS: (f64, f64) = (250.0, 25.0);
const WRITES: (f64, f64) = (200.0, 10.0);
const DELETES: (f64, f64) = (200.0, 10.0);

/// How fast the part of the refill a client takes grows back after a 429 halved it, per
/// second: from half to all of it in 10 s without another 429.
const SHARE_REGROWTH: f64 = 0.05;
/// The least part of the refill a client assumes, however many 429s it drew: one read in 1.6 s
/// at ARM's 25 a second.
const MIN_SHARE: f64 = 1.0 / 40.0;

/// Tokens a client leaves in the bucket once a 429 showed it is not alone there: what the
/// others may have sent since the last count it saw draws from them, not from a 429.
const RESERVE: f64 = 10.0;

/// How long a 429 without `Retry-After` pauses its bucket (Graph and ARM send one in practice).
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

/// The operation kinds ARM keeps separate buckets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Read,
    Write,
    Delete,
}

impl Kind {
    fn of(method: Method) -> Self {
        match method {
            Method::Get | Method::Head => Self::Read,
            Method::Delete => Self::Delete,
            _ => Self::Write,
        }
    }

    fn limits(self) -> (f64, f64) {
        match self {
            Self::Read => READS,
            Self::Write => WRITES,
            Self::Delete => DELETES,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Read => "reads",
            Self::Write => "writes",
            Self::Delete => "deletes",
        }
    }
}

/// Which bucket a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum BucketKey {
    /// ARM, for a subscription (lowercase id) or, when `None`, the tenant.
    Arm { subscription: Option<String>, kind: Kind },
    /// Microsoft Graph: one pause shared by every request, no tokens.
    Graph,
}

impl BucketKey {
    fn of(endpoint: Endpoint, request: &Request) -> Option<Self> {
        match endpoint {
            Endpoint::Arm => {
                let mut segments = request.url().path_segments()?;
                let subscription = segments
                    .by_ref()
                    .find(|s| s.eq_ignore_ascii_case("subscriptions"))
                    .and_then(|_| segments.next())
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase);
                Some(Self::Arm { subscription, kind: Kind::of(request.method()) })
            }
            Endpoint::Graph => Some(Self::Graph),
            Endpoint::Token => None,
        }
    }

    /// Returns the header that says what is left in the bucket.
    fn header(&self) -> Option<String> {
        match self {
            Self::Arm { subscription, kind } => {
                let scope = if subscription.is_some() { "subscription" } else { "tenant" };
                Some(format!("x-ms-ratelimit-remaining-{scope}-{}", kind.word()))
            }
            Self::Graph => None,
        }
    }

    fn limits(&self) -> Option<(f64, f64)> {
        match self {
            Self::Arm { kind, .. } => Some(kind.limits()),
            Self::Graph => None,
        }
    }
}

/// exai's copy of one bucket.
#[derive(Debug)]
struct Bucket {
    /// Tokens left, as far as exai knows (never more than `capacity`).
    tokens: f64,
    /// How many tokens the bucket holds: ARM's documented size, or more if a header said so.
    capacity: f64,
    /// When `tokens` was last refilled.
    updated: Instant,
    /// Nothing is sent before this (a 429's `Retry-After`).
    paused_until: Option<Instant>,
    /// The sequence numbers of the requests sent and not yet answered.
    in_flight: BTreeSet<u64>,
    /// The part of ARM's refill rate this client takes for itself: 1 until a 429 says another
    /// client draws from the same bucket, halved at each 429, then grown back by
    /// [`SHARE_REGROWTH`] a second (see [`Bucket::take`]).
    share: f64,
    /// Tokens left alone for the other clients' reads in flight: none until a 429 says there
    /// are others, then [`RESERVE`].
    reserve: f64,
    /// The next sequence number when the share was last halved: a 429 to a request sent before
    /// that was sent before exai reacted, and does not halve it again (as TCP reduces its window
    /// once per loss event, not once per lost packet).
    halved_at: u64,
    /// Remaining counts answered within the bucket's size, by sequence number, not yet applied
    /// because an earlier request is still in flight (see [`Bucket::answered`]).
    unapplied: BTreeMap<u64, f64>,
    /// The sequence number of the next request.
    next: u64,
}

impl Bucket {
    fn new(capacity: f64, now: Instant) -> Self {
        Self {
            tokens: capacity,
            capacity,
            updated: now,
            paused_until: None,
            in_flight: BTreeSet::new(),
            share: 1.0,
            reserve: 0.0,
            halved_at: 0,
            unapplied: BTreeMap::new(),
            next: 0,
        }
    }

    /// Takes a token for a request (returning its sequence number), or says how long to wait.
    fn take(&mut self, limits: Option<(f64, f64)>, now: Instant) -> Result<u64, Duration> {
        if let Some(until) = self.paused_until.filter(|until| *until > now) {
            return Err(until - now);
        }
        if let Some((_, rate)) = limits {
            // The refill is ARM's, but other clients of the bucket (a second pipeline, `az`)
            // take their part of it: the header shows what they took, never what they will.
            // Assuming the whole refill, two paced clients each sent at ARM's rate and one
            // read in five drew a 429. So a 429 halves the share assumed, and it grows back
            // slowly (additive increase, multiplicative decrease, as TCP shares a link).
            let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
            self.share = (self.share + elapsed * SHARE_REGROWTH).min(1.0);
            let rate = rate * self.share;
            self.tokens = (self.tokens + elapsed * rate).min(self.capacity);
            self.updated = now;
            if self.tokens < 1.0 + self.reserve {
                return Err(Duration::from_secs_f64((1.0 + self.reserve - self.tokens) / rate));
            }
            self.tokens -= 1.0;
        }
        let sequence = self.next;
        self.next += 1;
        self.in_flight.insert(sequence);
        Ok(sequence)
    }

    /// Records the answer to request `sequence`: `remaining` is its header's count, `pause` a
    /// 429's wait.
    ///
    /// A count within the bucket's size is applied in the order the requests were sent, once
    /// every earlier request is answered, as `remaining` less every request sent after this one
    /// (answered since or not), and only ever lowers the copy. That is never more than ARM has
    /// left, however ARM ordered the requests it counted: of the requests applied so far, take
    /// the one ARM counted last; every request it had not counted then was sent after all of
    /// them, so after it. Applying each answer as it came instead, less the earlier requests
    /// still unanswered, was as safe but counted twice those ARM had already counted: when the
    /// last of a burst of 100 was answered first, the copy fell 99 below the bucket and the
    /// plan lost a quarter of ARM's 250-read burst (2 s at 25 reads a second).
    fn answered(&mut self, sequence: u64, remaining: Option<u64>, pause: Option<Duration>, now: Instant) {
        self.in_flight.remove(&sequence);
        if let Some(remaining) = remaining {
            if remaining as f64 > self.capacity {
                // A budget larger than the documented bucket: ARM's word replaces the guess,
                // less what it may not have counted: the requests sent after this one, and the
                // earlier ones still unanswered.
                let later = self.next.saturating_sub(sequence + 1);
                let earlier = self.in_flight.range(..sequence).count() as u64;
                self.capacity = remaining as f64;
                self.tokens = remaining as f64 - (later + earlier) as f64;
                self.updated = now;
            } else {
                self.unapplied.insert(sequence, remaining as f64);
            }
        }
        let oldest_in_flight = self.in_flight.first().copied().unwrap_or(u64::MAX);
        while let Some(entry) = self.unapplied.first_entry() {
            if *entry.key() > oldest_in_flight {
                break;
            }
            let (answered, remaining) = entry.remove_entry();
            let later = self.next.saturating_sub(answered + 1);
            self.tokens = self.tokens.min(remaining - later as f64);
        }
        if let Some(pause) = pause {
            if sequence >= self.halved_at {
                self.share = (self.share / 2.0).max(MIN_SHARE);
                self.halved_at = self.next;
            }
            self.reserve = RESERVE;
            self.tokens = self.tokens.min(0.0);
            let until = now + pause;
            self.paused_until = Some(self.paused_until.map_or(until, |current| current.max(until)));
        }
    }
}

/// The pipeline policy that paces requests by the service's buckets (see the module
/// documentation). It sits after [`crate::network::ResendPolicy`], so every attempt is paced.
#[derive(Debug)]
pub(crate) struct PacingPolicy {
    endpoint: Endpoint,
    buckets: Mutex<HashMap<BucketKey, Bucket>>,
}

impl PacingPolicy {
    pub(crate) fn new(endpoint: Endpoint) -> Self {
        Self { endpoint, buckets: Mutex::new(HashMap::new()) }
    }

    /// Waits until `key`'s bucket lets a request through; returns its sequence number.
    async fn admit(&self, key: &BucketKey) -> u64 {
        loop {
            let now = Instant::now();
            let taken = match self.buckets.lock() {
                Ok(mut buckets) => {
                    let capacity = key.limits().map_or(0.0, |(capacity, _)| capacity);
                    buckets.entry(key.clone()).or_insert_with(|| Bucket::new(capacity, now)).take(key.limits(), now)
                }
                // A poisoned lock (a panic elsewhere) paces nothing rather than stopping exai.
                Err(_) => return u64::MAX,
            };
            match taken {
                Ok(sequence) => return sequence,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }
}

#[async_trait]
impl Policy for PacingPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let Some((first, rest)) = next.split_first() else {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "the pipeline has no transport",
            ));
        };
        let Some(key) = BucketKey::of(self.endpoint, request) else {
            return first.send(ctx, request, rest).await;
        };
        let sequence = self.admit(&key).await;
        let result = first.send(ctx, request, rest).await;
        let (remaining, pause) = match &result {
            Ok(response) => {
                let headers = response.headers();
                let remaining = key
                    .header()
                    .and_then(|name| headers.get_optional_str(&HeaderName::from(name)).map(str::to_owned))
                    .and_then(|value| value.trim().parse::<u64>().ok());
                let pause = (response.status() == StatusCode::TooManyRequests)
                    .then(|| retry_after(headers).unwrap_or(DEFAULT_PAUSE));
                (remaining, pause)
            }
            Err(_) => (None, None),
        };
        if let Ok(mut buckets) = self.buckets.lock()
            && let Some(bucket) = buckets.get_mut(&key)
        {
            bucket.answered(sequence, remaining, pause, Instant::now());
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARM_READ: Option<(f64, f64)> = Some(READS);

    #[tokio::test(start_paused = true)]
    async fn a_full_bucket_lets_its_burst_through_then_paces_at_the_refill_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(250.0, start);
        for _ in 0..250 {
            assert!(bucket.take(ARM_READ, start).is_ok());
        }
        // The 251st read waits for one token: 1/25 s.
        assert_eq!(bucket.take(ARM_READ, start), Err(Duration::from_millis(40)));
        assert!(bucket.take(ARM_READ, start + Duration::from_millis(40)).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn the_remaining_header_sets_the_bucket_less_the_later_requests_in_flight() {
        let now = Instant::now();
        let mut bucket = Bucket::new(250.0, now);
        let first = bucket.take(ARM_READ, now).unwrap_or(u64::MAX);
        let _second = bucket.take(ARM_READ, now);
        let _third = bucket.take(ARM_READ, now);
        // Another client used the bucket: ARM says 10 are left after the first read; the two
        // reads sent after it will take two more.
        bucket.answered(first, Some(10), None, now);
        assert_eq!(bucket.tokens, 8.0);
        for _ in 0..8 {
            assert!(bucket.take(ARM_READ, now).is_ok());
        }
        assert_eq!(bucket.take(ARM_READ, now), Err(Duration::from_millis(40)));
        // A header that says more than exai's copy (a larger budget, or ARM's old hourly
        // counter) raises it: past the documented 250, reads go on without waiting.
        let mut full = Bucket::new(250.0, now);
        let read = full.take(ARM_READ, now).unwrap_or(u64::MAX);
        let _after = full.take(ARM_READ, now);
        full.answered(read, Some(11_999), None, now);
        assert_eq!(full.tokens, 11_998.0);
        for _ in 0..1_000 {
            assert!(full.take(ARM_READ, now).is_ok());
        }
        // and the refill never goes past what ARM said the bucket holds.
        assert!(full.take(ARM_READ, now + Duration::from_secs(3_600)).is_ok());
        assert_eq!(full.tokens, 11_998.0);
    }

    /// A burst of reads from a bucket of 250 that another client drew `others` from: ARM
    /// counts them in `counted` order (a permutation of the sequence numbers), then they are
    /// answered in `answered` order. Returns exai's copy after the last answer, and what ARM
    /// has. Once an answer has taught the copy anything (it fell below what exai alone took),
    /// the copy must never say more than ARM has: checked after every answer.
    fn burst(counted: &[u64], answered: &[u64], others: u64) -> (f64, f64) {
        let now = Instant::now();
        let mut bucket = Bucket::new(250.0, now);
        for _ in 0..counted.len() {
            assert!(bucket.take(ARM_READ, now).is_ok());
        }
        let mut arm = 250 - others;
        let mut remaining = HashMap::new();
        for sequence in counted {
            arm -= 1;
            remaining.insert(*sequence, arm);
        }
        let untaught = 250.0 - counted.len() as f64;
        for sequence in answered {
            bucket.answered(*sequence, remaining.get(sequence).copied(), None, now);
            assert!(
                bucket.tokens >= untaught || bucket.tokens <= arm as f64,
                "after the answer to #{sequence} exai thinks {} are left, ARM has {arm}",
                bucket.tokens
            );
        }
        (bucket.tokens, arm as f64)
    }

    /// A reproducible shuffle (no random crate for one test).
    fn shuffled(n: u64, seed: u64) -> Vec<u64> {
        let mut order: Vec<u64> = (0..n).collect();
        let mut state = seed;
        for i in (1..order.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        order
    }

    #[tokio::test(start_paused = true)]
    async fn answers_overtaking_one_another_cost_none_of_the_burst() {
        // ARM counts 100 reads in the order they were sent; their answers come back in any
        // order, the last one first: the copy ends exactly at what ARM has, 150.
        let in_order: Vec<u64> = (0..100).collect();
        let mut last_first = in_order.clone();
        last_first.rotate_right(1);
        assert_eq!(burst(&in_order, &last_first, 0), (150.0, 150.0));
        for seed in 0..20 {
            assert_eq!(burst(&in_order, &shuffled(100, seed), 0), (150.0, 150.0), "seed {seed}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_copy_never_says_more_than_arm_has_whatever_the_orders() {
        // ARM may count requests in another order than they were sent, and another client may
        // draw from the same bucket: the copy may be lower than what ARM has, never higher.
        for seed in 0..200 {
            let counted = shuffled(100, seed);
            let answered = shuffled(100, seed + 1_000);
            let (copy, arm) = burst(&counted, &answered, seed % 40);
            assert!(copy <= arm, "seed {seed}: exai thinks {copy} are left, ARM has {arm}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_halves_the_refill_assumed_once_per_event_and_keeps_a_reserve() {
        let now = Instant::now();
        let mut bucket = Bucket::new(250.0, now);
        let sent: Vec<u64> = (0..3).map(|_| bucket.take(ARM_READ, now).unwrap_or(u64::MAX)).collect();
        let second = Duration::from_secs(1);
        // Three reads of one burst answered 429: one event, one halving.
        for sequence in &sent {
            bucket.answered(*sequence, Some(0), Some(second), now);
        }
        assert_eq!(bucket.share, 0.5);
        assert_eq!(bucket.reserve, RESERVE);
        // The header said 0 were left less the 2 reads sent after the first: -2. After the
        // 1 s pause the copy has refilled at about half ARM's rate (the share grows back 0.05
        // a second): about 11.75 tokens. One read goes; the next would leave fewer than the
        // 10 kept back, so it waits though tokens remain.
        assert_eq!(bucket.tokens, -2.0);
        let after = now + second;
        assert!(bucket.take(ARM_READ, after).is_ok(), "tokens {}", bucket.tokens);
        assert!(bucket.tokens > 1.0 && bucket.take(ARM_READ, after).is_err(), "tokens {}", bucket.tokens);
        let later = after + second;
        let read = bucket.take(ARM_READ, later).unwrap_or(u64::MAX);
        // A 429 to a read sent after exai reacted is a new event: halved again.
        bucket.answered(read, Some(0), Some(second), later);
        assert!(bucket.share < 0.5, "share {}", bucket.share);
        // Without another 429 the share grows back to the whole refill (0.05 a second).
        let _ = bucket.take(ARM_READ, later + Duration::from_secs(30));
        assert_eq!(bucket.share, 1.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_request_to_its_bucket_for_its_retry_after() {
        let now = Instant::now();
        let mut graph = Bucket::new(0.0, now);
        let sent = graph.take(None, now).unwrap_or(u64::MAX);
        assert!(graph.take(None, now).is_ok(), "graph has no tokens to run out of");
        graph.answered(sent, None, Some(Duration::from_secs(3)), now);
        assert_eq!(graph.take(None, now + Duration::from_secs(1)), Err(Duration::from_secs(2)));
        assert!(graph.take(None, now + Duration::from_secs(3)).is_ok());
    }

    #[test]
    fn requests_draw_from_their_subscription_and_kind() {
        let key = |method, url: &str| {
            let url = azure_core::http::Url::parse(url).unwrap_or_else(|_| unreachable!());
            BucketKey::of(Endpoint::Arm, &Request::new(url, method))
        };
        let read = key(Method::Get, "https://management.azure.com/subscriptions/AB-1/resourceGroups/rg");
        assert_eq!(read, Some(BucketKey::Arm { subscription: Some("ab-1".into()), kind: Kind::Read }));
        assert_eq!(read.and_then(|k| k.header()).as_deref(), Some("x-ms-ratelimit-remaining-subscription-reads"));
        let tenant = key(Method::Put, "https://management.azure.com/providers/Microsoft.Authorization/x");
        assert_eq!(tenant, Some(BucketKey::Arm { subscription: None, kind: Kind::Write }));
        assert_eq!(tenant.and_then(|k| k.header()).as_deref(), Some("x-ms-ratelimit-remaining-tenant-writes"));
    }
}
