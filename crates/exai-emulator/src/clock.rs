//! Time: the emulator's clock, and the formats Azure and the emulator's files use.
//!
//! Every reading of "now" goes through one [`Clock`] per emulator, so a test can run an
//! emulator on a manual clock and move time forward itself ([`Clock::advance`]) instead of
//! sleeping: long-running operations, token buckets, token lifetimes and timestamps all follow it.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The time an emulator lives by: the system's, or a manual clock that moves only when told.
///
/// Clones share one time: advancing a clone advances the emulator that was given the original.
#[derive(Clone, Default)]
pub struct Clock {
    /// The manual clock's time; `None` for the system clock.
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
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
        Self { manual: Some(Arc::new(Mutex::new(OffsetDateTime::now_utc()))) }
    }

    /// Moves a manual clock forward by `by`; does nothing to the system clock.
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(manual) = &self.manual {
            let mut time = manual.lock().unwrap_or_else(PoisonError::into_inner);
            *time = time.saturating_add(time::Duration::try_from(by).unwrap_or(time::Duration::MAX));
        }
    }

    /// Returns the current UTC time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(manual) => *manual.lock().unwrap_or_else(PoisonError::into_inner),
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

    #[test]
    fn unix_milliseconds_round_trip() {
        let time = datetime!(2026-05-01 12:00:00.250 UTC);
        assert_eq!(unix_ms(time), 1_777_636_800_250);
    }
}
