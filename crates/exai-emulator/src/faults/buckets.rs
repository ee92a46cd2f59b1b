//! ARM's token buckets, for `throttle` rules.
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
//! Time is read from the emulator's clock (passed in as `now`), so a test on a manual clock sees
//! exact refills.

use std::collections::HashMap;

use axum::http::Method;
use time::OffsetDateTime;

use super::rule::BucketSizes;

/// The operation kinds ARM keeps separate buckets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum OperationKind {
    /// GET and HEAD.
    Read,
    /// PUT, PATCH and POST.
    Write,
    /// DELETE.
    Delete,
}

impl OperationKind {
    /// Returns the kind of a request's method.
    pub(super) fn of(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD => Self::Read,
            Method::DELETE => Self::Delete,
            _ => Self::Write,
        }
    }

    /// Returns the kind as ARM's throttling message names it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
        }
    }

    /// Returns the header that carries the tokens left in the kind's bucket.
    pub(super) fn header(self) -> &'static str {
        match self {
            Self::Read => "x-ms-ratelimit-remaining-subscription-reads",
            Self::Write => "x-ms-ratelimit-remaining-subscription-writes",
            Self::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

/// One bucket: its tokens when last touched, and when that was.
struct Bucket {
    tokens: f64,
    updated: OffsetDateTime,
}

/// The buckets of every `throttle` rule, by (rule id, subscription, operation kind).
#[derive(Default)]
pub(super) struct Buckets {
    buckets: HashMap<(u64, String, OperationKind), Bucket>,
}

impl Buckets {
    /// Refills the bucket of `rule` for a subscription and an operation kind up to `now`, then
    /// takes a token: `Ok(tokens left)`, or `Err(whole seconds until a token is back)` when the
    /// bucket is empty. A new bucket starts full.
    pub(super) fn take(
        &mut self,
        rule: u64,
        subscription: &str,
        operation: OperationKind,
        sizes: BucketSizes,
        now: OffsetDateTime,
    ) -> Result<u64, u64> {
        let (capacity, rate) = match operation {
            OperationKind::Read => sizes.reads,
            OperationKind::Write => sizes.writes,
            OperationKind::Delete => sizes.deletes,
        };
        let bucket = self
            .buckets
            .entry((rule, subscription.to_owned(), operation))
            .or_insert(Bucket { tokens: capacity, updated: now });
        // A clock that went back (the system's can) refills nothing.
        let elapsed = (now - bucket.updated).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(bucket.tokens.floor() as u64)
        } else {
            Err(((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    /// Forgets every bucket.
    pub(super) fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Forgets the buckets of one rule.
    pub(super) fn forget(&mut self, rule: u64) {
        self.buckets.retain(|(owner, _, _), _| *owner != rule);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn buckets_refill_at_their_rate_per_subscription_and_kind() {
        let sizes = BucketSizes { writes: (2.0, 2.0), ..BucketSizes::default() };
        let start = datetime!(2026-05-01 12:00:00 UTC);
        let mut buckets = Buckets::default();
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, start), Ok(1));
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, start), Ok(0));
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, start), Err(1));
        // Other subscriptions, kinds and rules have their own buckets.
        assert_eq!(buckets.take(1, "t", OperationKind::Write, sizes, start), Ok(1));
        assert_eq!(buckets.take(1, "s", OperationKind::Read, sizes, start), Ok(249));
        assert_eq!(buckets.take(2, "s", OperationKind::Write, sizes, start), Ok(1));
        // Two tokens a second: 499 ms give none back, 500 ms one.
        let later = start + time::Duration::milliseconds(499);
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, later), Err(1));
        let later = start + time::Duration::milliseconds(999);
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, later), Ok(0));
        // Time going back refills nothing.
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, start), Err(1));
        buckets.forget(1);
        assert_eq!(buckets.take(1, "s", OperationKind::Write, sizes, start), Ok(1));
        buckets.clear();
        assert_eq!(buckets.take(2, "s", OperationKind::Write, sizes, start), Ok(1));
    }
}
