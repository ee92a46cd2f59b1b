//! Time, in the formats Azure and the emulator's files use.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Returns the current UTC time.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Returns the current time in milliseconds since the Unix epoch.
pub(crate) fn now_unix_ms() -> i64 {
    unix_ms(now())
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

/// Returns the current time as RFC 3339.
pub(crate) fn now_rfc3339() -> String {
    rfc3339(now())
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
    fn unix_milliseconds_round_trip() {
        let time = datetime!(2026-05-01 12:00:00.250 UTC);
        assert_eq!(unix_ms(time), 1_777_636_800_250);
    }
}
