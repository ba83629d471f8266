//! Durations as Python's `str(timedelta)` and the strftime formats xmen writes.

use std::fmt::{self, Write};
use std::time::Duration;

/// `_timestamps.*` in params.yml and `created` in experiment.yml: `26-11-27-17-58-59-165499`.
///
/// This is Python's `%y-%m-%d-%H-%M-%S-%f`; chrono spells Python's `%f` (six-digit
/// microseconds) as `%6f`.
pub const DATE_FORMAT: &str = "%y-%m-%d-%H-%M-%S-%6f";

/// The Monitor's `last` time (log prefixes, messages): `05:36PM 18/11/20`.
pub const LAST_FORMAT: &str = "%I:%M%p %d/%m/%y";

/// Checkpoint `date` and the launcher header: `05:59PM November 27, 2026`.
pub const LONG_DATE_FORMAT: &str = "%I:%M%p %B %d, %Y";

/// The server's `time` and `updated_since`: `2021-03-30 12:00:00`.
pub const SERVER_DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The local time now in [`DATE_FORMAT`].
pub fn now_stamp() -> String {
    stamp_of(&chrono::Local::now().naive_local())
}

/// `t` in [`DATE_FORMAT`], as chrono's `format(DATE_FORMAT)` writes it, digits written by
/// hand: the formatter parses its format string on every call (about 5,000 instructions
/// against 300, and a registration stamps every folder it writes).
pub fn stamp_of(t: &chrono::NaiveDateTime) -> String {
    use chrono::{Datelike as _, Timelike as _};
    fn two(out: &mut String, n: u32) {
        for d in [n / 10 % 10, n % 10] {
            out.push(char::from_digit(d, 10).unwrap_or('0'));
        }
    }
    let mut out = String::with_capacity(24);
    two(&mut out, t.year().rem_euclid(100).unsigned_abs());
    // A leap second is written as second 60, as chrono writes it.
    let second = t.second() + u32::from(t.nanosecond() >= 1_000_000_000);
    for n in [t.month(), t.day(), t.hour(), t.minute(), second] {
        out.push('-');
        two(&mut out, n);
    }
    out.push('-');
    let micros = t.nanosecond() % 1_000_000_000 / 1_000;
    for shift in [100_000, 10_000, 1_000, 100, 10, 1] {
        out.push(char::from_digit(micros / shift % 10, 10).unwrap_or('0'));
    }
    out
}

/// The local time now in [`LAST_FORMAT`] (`AM`/`PM` upper-case).
pub fn now_last() -> String {
    chrono::Local::now().format(LAST_FORMAT).to_string()
}

/// The local time now in [`LONG_DATE_FORMAT`].
pub fn now_long() -> String {
    chrono::Local::now().format(LONG_DATE_FORMAT).to_string()
}

/// Write Python's `str(timedelta)` of a duration: `0:00:00.050627`, `1 day, 2:03:04`.
///
/// Hours are not zero-padded; `.ffffff` appears only when the microseconds are non-zero; a
/// `N day, `/`N days, ` prefix appears from one day on. The duration is truncated to whole
/// microseconds (Python rounds a float of seconds half to even when it builds a timedelta; a
/// [`Duration`] has no such float, and truncating never shows time that has not passed).
pub fn write_timedelta<W: Write + ?Sized>(out: &mut W, d: Duration) -> fmt::Result {
    let secs = d.as_secs();
    let micros = d.subsec_micros();
    let days = secs / 86_400;
    let rest = secs % 86_400;
    if days > 0 {
        write!(out, "{days} day{}, ", if days == 1 { "" } else { "s" })?;
    }
    // Digits by hand: `write!` with padding costs about a thousand instructions a call, and a
    // Messenger firing formats nine of these (the Monitor's summary) on the training thread.
    let hours = rest / 3600;
    if hours >= 10 {
        out.write_char(digit(hours / 10))?;
    }
    out.write_char(digit(hours % 10))?;
    for part in [rest % 3600 / 60, rest % 60] {
        out.write_char(':')?;
        out.write_char(digit(part / 10))?;
        out.write_char(digit(part % 10))?;
    }
    if micros != 0 {
        out.write_char('.')?;
        let mut scale = 100_000;
        while scale > 0 {
            out.write_char(digit(u64::from(micros / scale % 10)))?;
            scale /= 10;
        }
    }
    Ok(())
}

/// The decimal digit `d` (below 10).
fn digit(d: u64) -> char {
    char::from(b'0' + (d % 10) as u8)
}

/// Python's `str(timedelta)` of a duration as a new string (see [`write_timedelta`]).
///
/// ```
/// use std::time::Duration;
/// use xmen_core::pyfmt::timedelta;
/// assert_eq!(timedelta(Duration::from_micros(68_451_221)), "0:01:08.451221");
/// ```
pub fn timedelta(d: Duration) -> String {
    let mut s = String::with_capacity(16);
    // Writing into a String cannot fail.
    let _ = write_timedelta(&mut s, d);
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveDateTime};

    #[test]
    fn stamps_are_what_chrono_writes_for_the_date_format() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let times = [
            day(2026, 11, 27).and_hms_micro_opt(17, 58, 59, 165_499),
            day(2000, 1, 1).and_hms_micro_opt(0, 0, 0, 0),
            day(2099, 12, 31).and_hms_micro_opt(23, 59, 59, 999_999),
            day(1999, 7, 4).and_hms_micro_opt(9, 5, 7, 1),
            day(2105, 2, 28).and_hms_micro_opt(12, 0, 30, 100_000),
            // A leap second: chrono counts it as nanoseconds past 999,999,999.
            day(2016, 12, 31).and_hms_micro_opt(23, 59, 59, 1_500_000),
            day(-44, 3, 15).and_hms_micro_opt(11, 11, 11, 42),
        ];
        for t in times {
            let t = t.unwrap_or_else(|| panic!("a valid time"));
            assert_eq!(stamp_of(&t), t.format(DATE_FORMAT).to_string(), "{t:?}");
        }
        let now = now_stamp();
        assert!(NaiveDateTime::parse_from_str(&now, DATE_FORMAT).is_ok(), "{now}");
    }

    #[test]
    fn durations_match_python_timedelta_str() {
        let cases: &[(Duration, &str)] = &[
            (Duration::ZERO, "0:00:00"),
            (Duration::from_micros(50_627), "0:00:00.050627"),
            (Duration::from_micros(68_451_221), "0:01:08.451221"),
            (Duration::from_nanos(999), "0:00:00"),
            (Duration::from_nanos(1_999), "0:00:00.000001"),
            (Duration::from_secs(59), "0:00:59"),
            (Duration::from_secs(3600), "1:00:00"),
            (Duration::from_secs(86_399), "23:59:59"),
            (Duration::from_secs(86_400), "1 day, 0:00:00"),
            (Duration::from_secs(86_400 + 2 * 3600 + 3 * 60 + 4), "1 day, 2:03:04"),
            (Duration::new(2 * 86_400, 1_000), "2 days, 0:00:00.000001"),
            (Duration::from_secs(400 * 86_400 + 36_000), "400 days, 10:00:00"),
        ];
        for &(d, want) in cases {
            assert_eq!(timedelta(d), want, "{d:?}");
        }
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|date| date.and_hms_micro_opt(h, mi, s, us)).expect("valid date")
    }

    #[test]
    fn date_formats_match_python_strftime() {
        let t = at(2026, 11, 27, 17, 58, 59, 165_499);
        let cases: &[(&str, &str)] = &[
            (DATE_FORMAT, "26-11-27-17-58-59-165499"),
            (LAST_FORMAT, "05:58PM 27/11/26"),
            (LONG_DATE_FORMAT, "05:58PM November 27, 2026"),
            (SERVER_DATE_FORMAT, "2026-11-27 17:58:59"),
        ];
        for &(f, want) in cases {
            assert_eq!(t.format(f).to_string(), want, "{f}");
        }
        let morning = at(2020, 1, 5, 0, 7, 3, 42);
        assert_eq!(morning.format(DATE_FORMAT).to_string(), "20-01-05-00-07-03-000042");
        assert_eq!(morning.format(LAST_FORMAT).to_string(), "12:07AM 05/01/20");
        assert_eq!(morning.format(LONG_DATE_FORMAT).to_string(), "12:07AM January 05, 2020");
    }

    #[test]
    fn now_helpers_have_the_right_shape() {
        let stamp = now_stamp();
        assert_eq!(stamp.len(), 24, "{stamp}");
        assert_eq!(stamp.matches('-').count(), 6, "{stamp}");
        let last = now_last();
        assert!(last.contains("AM ") || last.contains("PM "), "{last}");
        let long = now_long();
        assert!(long.contains(", "), "{long}");
    }
}
