//! Time: the emulator's clock, and the formats Azure and the emulator's files use.
//!
//! Every reading of "now" goes through one [`Clock`] per emulator, so a test can run an
//! emulator on a manual clock and move time forward itself ([`Clock::advance`]) instead of
//! sleeping: long-running operations, token buckets, token lifetimes and timestamps all follow it.
//! Every wait goes through it too ([`Clock::sleep`]: a fault's `latency=` and `hang`), so on a
//! manual clock a delayed answer leaves exactly when the test has advanced the clock far enough,
//! and a test can see how many requests are waiting ([`Clock::sleepers`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The time an emulator lives by: the system's, or a manual clock that moves only when told.
///
/// Clones share one time: advancing a clone advances the emulator that was given the original.
#[derive(Clone, Default)]
pub struct Clock {
    /// The manual clock; `None` for the system clock.
    manual: Option<Arc<Manual>>,
}

/// A manual clock: its time, the sleeps waiting on it, and the signal that either changed.
#[derive(Default)]
struct Manual {
    /// The time and the sleeps.
    inner: Mutex<ManualInner>,
    /// Woken whenever the time moves or a sleep starts or ends.
    changed: Notify,
}

/// What a manual clock's lock guards.
struct ManualInner {
    /// The current time.
    now: OffsetDateTime,
    /// The deadline of every sleep in progress, by sleep number.
    sleeps: BTreeMap<u64, OffsetDateTime>,
    /// The number of the next sleep.
    next_sleep: u64,
}

impl Default for ManualInner {
    fn default() -> Self {
        Self { now: OffsetDateTime::now_utc(), sleeps: BTreeMap::new(), next_sleep: 0 }
    }
}

impl Manual {
    fn lock(&self) -> MutexGuard<'_, ManualInner> {
        // Nothing panics while holding the lock; if something did, the time is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes a sleep from its manual clock when the sleep ends or is dropped (the client went
/// away), so [`Clock::sleepers`] counts only the sleeps still waiting.
struct SleepRegistration<'a> {
    manual: &'a Manual,
    number: u64,
}

impl Drop for SleepRegistration<'_> {
    fn drop(&mut self) {
        self.manual.lock().sleeps.remove(&self.number);
        self.manual.changed.notify_waiters();
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.manual {
            None => formatter.write_str("Clock::system"),
            Some(_) => write!(formatter, "Clock::manual({})", rfc3339(self.now())),
        }
    }
}

impl Clock {
    /// Returns the system clock (what [`Default`] gives).
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// Returns a manual clock, set to the current system time, that stands still until
    /// [`Clock::advance`] moves it.
    pub fn manual() -> Self {
        Self { manual: Some(Arc::new(Manual::default())) }
    }

    /// Moves a manual clock forward by `by`, waking the sleeps whose time has come; does
    /// nothing to the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(manual) = &self.manual {
            {
                let mut inner = manual.lock();
                inner.now = inner.now.saturating_add(time::Duration::try_from(by).unwrap_or(time::Duration::MAX));
            }
            manual.changed.notify_waiters();
        }
    }

    /// Returns how many sleeps on a manual clock are still waiting for their time (requests
    /// held by a `latency=` or `hang` fault); always 0 on the system clock.
    ///
    /// A sleep counts from when it starts until the clock reaches its deadline, so right after
    /// an [`advance`](Clock::advance) the count says exactly which sleeps are still held.
    pub fn sleepers(&self) -> usize {
        self.manual.as_ref().map_or(0, |manual| {
            let inner = manual.lock();
            inner.sleeps.values().filter(|deadline| **deadline > inner.now).count()
        })
    }

    /// Waits until at least `count` sleeps wait on a manual clock ([`Clock::sleepers`]), so a
    /// test advances the clock only once the requests it sent are held. On the system clock it
    /// returns at once when `count` is 0 and otherwise never: give it a timeout.
    pub async fn until_sleepers(&self, count: usize) {
        let Some(manual) = &self.manual else {
            if count > 0 {
                std::future::pending::<()>().await;
            }
            return;
        };
        loop {
            // Registered before the check, so a change between the check and the wait wakes it.
            let changed = manual.changed.notified();
            if self.sleepers() >= count {
                return;
            }
            changed.await;
        }
    }

    /// Waits for `duration` on this clock: real time on the system clock; on a manual clock,
    /// until [`Clock::advance`] has moved it `duration` past now.
    pub(crate) async fn sleep(&self, duration: Duration) {
        let Some(manual) = &self.manual else {
            tokio::time::sleep(duration).await;
            return;
        };
        let (deadline, number) = {
            let mut inner = manual.lock();
            let deadline = inner.now.saturating_add(time::Duration::try_from(duration).unwrap_or(time::Duration::MAX));
            let number = inner.next_sleep;
            inner.next_sleep += 1;
            inner.sleeps.insert(number, deadline);
            (deadline, number)
        };
        let _registration = SleepRegistration { manual, number };
        manual.changed.notify_waiters();
        loop {
            let changed = manual.changed.notified();
            if manual.lock().now >= deadline {
                return;
            }
            changed.await;
        }
    }

    /// Returns the current UTC time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(manual) => manual.lock().now,
        }
    }

    /// Returns the current time in milliseconds since the Unix epoch.
    pub(crate) fn now_unix_ms(&self) -> i64 {
        unix_ms(self.now())
    }

    /// Returns the current time as RFC 3339.
    pub(crate) fn now_rfc3339(&self) -> String {
        rfc3339(self.now())
    }
}

/// Returns a time in milliseconds since the Unix epoch.
pub(crate) fn unix_ms(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Formats a time as RFC 3339 (`2026-05-01T12:00:00.123Z`).
pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    // Formatting a UTC time as RFC 3339 fails only for years outside 0..=9999.
    time.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Formats a time as .NET's invariant `G` pattern (`5/14/2023 8:22:51 PM`), the form ARM uses in
/// `ExpiredAuthenticationToken` messages.
pub(crate) fn dotnet_general(time: OffsetDateTime) -> String {
    let (hour, meridiem) = match time.hour() {
        0 => (12, "AM"),
        hour @ 1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        hour => (hour - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        u8::from(time.month()),
        time.day(),
        time.year(),
        hour,
        time.minute(),
        time.second(),
        meridiem
    )
}

/// Formats a time as Entra's error timestamp (`2016-01-09 02:02:12Z`).
pub(crate) fn entra_timestamp(time: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    time.format(&format).unwrap_or_default()
}

/// Formats a time as ARM's compact routing-id timestamp (`20260501T120000Z`).
pub(crate) fn compact(time: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_dotnet_and_entra() {
        let afternoon = datetime!(2023-05-14 20:22:51 UTC);
        assert_eq!(dotnet_general(afternoon), "5/14/2023 8:22:51 PM");
        assert_eq!(dotnet_general(datetime!(2023-01-02 00:05:09 UTC)), "1/2/2023 12:05:09 AM");
        assert_eq!(entra_timestamp(afternoon), "2023-05-14 20:22:51Z");
        assert_eq!(compact(afternoon), "20230514T202251Z");
    }

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual();
        let start = clock.now();
        let shared = clock.clone();
        shared.advance(std::time::Duration::from_millis(1500));
        assert_eq!(clock.now() - start, time::Duration::milliseconds(1500));
        assert_eq!(clock.now(), shared.now());
        let system = Clock::system();
        system.advance(std::time::Duration::from_secs(3600));
        assert!((system.now() - OffsetDateTime::now_utc()).abs() < time::Duration::minutes(1));
    }

    #[tokio::test]
    async fn a_sleep_on_a_manual_clock_ends_when_the_clock_reaches_its_deadline() {
        let clock = Clock::manual();
        let sleeping = clock.clone();
        let sleep = tokio::spawn(async move { sleeping.sleep(Duration::from_secs(2)).await });
        clock.until_sleepers(1).await;
        clock.advance(Duration::from_millis(1999));
        assert_eq!(clock.sleepers(), 1);
        assert!(!sleep.is_finished());
        clock.advance(Duration::from_millis(1));
        assert_eq!(clock.sleepers(), 0);
        assert!(sleep.await.is_ok());
        clock.until_sleepers(0).await;
        assert_eq!(Clock::system().sleepers(), 0);
    }

    #[tokio::test]
    async fn a_dropped_sleep_stops_counting() {
        let clock = Clock::manual();
        let sleeping = clock.clone();
        let sleep = tokio::spawn(async move { sleeping.sleep(Duration::from_secs(600)).await });
        clock.until_sleepers(1).await;
        sleep.abort();
        assert!(sleep.await.is_err_and(|error| error.is_cancelled()));
        assert_eq!(clock.sleepers(), 0);
        // A sleep of nothing ends at once, without an advance.
        clock.sleep(Duration::ZERO).await;
    }

    #[test]
    fn unix_milliseconds_round_trip() {
        let time = datetime!(2026-05-01 12:00:00.250 UTC);
        assert_eq!(unix_ms(time), 1_777_636_800_250);
    }
}
