//! Time on the data set's grid: signed 100 ns ticks since the Unix epoch (the resolution of
//! Microsoft's timestamps), conversions to and from `chrono`, and the two text forms Graph uses.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

pub const SECOND: i64 = 10_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// Ticks of an instant. Saturates far outside the data set's range (a caller may pass any date).
pub fn to_ticks(t: DateTime<Utc>) -> i64 {
    t.timestamp()
        .saturating_mul(SECOND)
        .saturating_add(i64::from(t.timestamp_subsec_nanos() / 100))
}

/// The instant of a tick count (every `i64` tick count is inside chrono's range).
pub fn from_ticks(ticks: i64) -> DateTime<Utc> {
    let secs = ticks.div_euclid(SECOND);
    let nanos = (ticks.rem_euclid(SECOND) * 100) as u32;
    DateTime::from_timestamp(secs, nanos).unwrap_or(if ticks < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// How many fraction digits a timestamp is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fraction {
    /// Always seven digits, as advanced hunting writes `Timestamp` (`…50.7688641Z`).
    Seven,
    /// Trailing zeros dropped, as alerts_v2 writes its dates (`…41.3366667Z`, `…03.21Z`, `…03Z`).
    Trimmed,
}

/// `YYYY-MM-DDTHH:MM:SS[.fffffff]Z`, written by hand: it runs once per message and per alert
/// field, and chrono's formatter would parse its pattern every time.
pub fn format_ticks(ticks: i64, fraction: Fraction) -> String {
    let secs = ticks.div_euclid(SECOND);
    let frac = ticks.rem_euclid(SECOND);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut s = String::with_capacity(28);
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    match fraction {
        Fraction::Seven => {
            let _ = write!(s, ".{frac:07}");
        }
        Fraction::Trimmed if frac != 0 => {
            let mut f = frac;
            let mut digits = 7;
            while f % 10 == 0 {
                f /= 10;
                digits -= 1;
            }
            let _ = write!(s, ".{f:0digits$}");
        }
        Fraction::Trimmed => {}
    }
    s.push('Z');
    s
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::rng::Rng;

    #[test]
    fn formatting_agrees_with_chrono_and_round_trips() {
        let mut r = Rng::new(3, &[]);
        for _ in 0..2000 {
            // 1900 … 2200
            let ticks = r.range(0, 300 * 365 * DAY as u64) as i64 - 70 * 365 * DAY;
            let t = from_ticks(ticks);
            assert_eq!(to_ticks(t), ticks);
            let seven = format_ticks(ticks, Fraction::Seven);
            let nine = t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
            assert_eq!(seven, format!("{}Z", &nine[..nine.len() - 2]));
            let trimmed = format_ticks(ticks, Fraction::Trimmed);
            let parsed = DateTime::parse_from_rfc3339(&trimmed).expect("valid RFC 3339");
            assert_eq!(parsed.with_timezone(&Utc), t, "{trimmed}");
        }
        assert_eq!(format_ticks(0, Fraction::Trimmed), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_ticks(2_100_000, Fraction::Trimmed),
            "1970-01-01T00:00:00.21Z"
        );
        assert_eq!(
            format_ticks(0, Fraction::Seven),
            "1970-01-01T00:00:00.0000000Z"
        );
    }
}
