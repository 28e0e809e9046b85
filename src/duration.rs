//! Human durations as written in the config file and on the command line: `30s`, `5m`, `24h`,
//! `7d`, and compounds such as `1h30m`.
//!
//! The syntax is deliberately small. A bare number is refused because its unit would be a guess
//! (seconds? minutes?), and `5 minutes` or `5 min` are refused rather than half-understood.

use std::time::Duration;

/// The syntax hint every duration error ends with.
pub const DURATION_SYNTAX: &str =
    "use a number and a unit, e.g. 30s, 5m, 24h, 7d (compounds like 1h30m also work)";

/// A string that is not a duration in the accepted syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not of the form `<number><unit>…` with units `d`, `h`, `m`, `s`.
    #[error("invalid duration '{0}': {DURATION_SYNTAX}")]
    Syntax(String),
    /// Well-formed but too large to represent.
    #[error("duration '{0}' is too large; use a value below 100000d")]
    TooLarge(String),
}

/// The accepted units, largest first: a compound must name them in this order, each at most once.
const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// Parses `30s`, `5m`, `24h`, `7d` or a compound of these such as `1h30m` or `2d12h`.
///
/// Surrounding whitespace is ignored; anything else (a bare number, a sign, a space inside,
/// `min`, `minutes`, units out of order or repeated) is an error that states the syntax.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let text = s.trim();
    let syntax = || DurationError::Syntax(s.to_string());
    if text.is_empty() {
        return Err(syntax());
    }

    let mut total: u64 = 0;
    // Index into UNITS of the smallest unit seen so far; the next one must be smaller.
    let mut next_unit = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(syntax());
        }
        let (number, after) = rest.split_at(digits);
        let mut chars = after.chars();
        let unit = chars.next().ok_or_else(syntax)?;
        let position = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(syntax)?;
        let seconds_per_unit = UNITS[next_unit + position].1;
        next_unit += position + 1;

        let too_large = || DurationError::TooLarge(s.to_string());
        let value: u64 = number.parse().map_err(|_| too_large())?;
        total = value
            .checked_mul(seconds_per_unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(too_large)?;
        rest = chars.as_str();
    }
    // Keep far away from the limits of SystemTime/chrono arithmetic done with these values.
    if total > 99_999 * 86_400 {
        return Err(DurationError::TooLarge(s.to_string()));
    }
    Ok(Duration::from_secs(total))
}

/// The inverse of [`parse_duration`]: the shortest compound in whole seconds, e.g. `1h30m`,
/// `7d`, `0s`. Sub-second parts are dropped.
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in UNITS {
        let count = secs / size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push(unit);
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn single_units_parse() {
        assert_eq!(parse_duration("30s"), Ok(secs(30)));
        assert_eq!(parse_duration("5m"), Ok(secs(300)));
        assert_eq!(parse_duration("24h"), Ok(secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(secs(7 * 86_400)));
        assert_eq!(parse_duration("0s"), Ok(secs(0)));
        assert_eq!(parse_duration(" 10m "), Ok(secs(600)));
    }

    #[test]
    fn compounds_parse_largest_unit_first() {
        assert_eq!(parse_duration("1h30m"), Ok(secs(5_400)));
        assert_eq!(parse_duration("2d12h"), Ok(secs(2 * 86_400 + 12 * 3_600)));
        assert_eq!(
            parse_duration("1d2h3m4s"),
            Ok(secs(86_400 + 7_200 + 180 + 4))
        );
        assert_eq!(parse_duration("1h5s"), Ok(secs(3_605)));
    }

    #[test]
    fn ambiguous_or_wordy_forms_are_refused() {
        for bad in [
            "",
            "  ",
            "5",
            "300",
            "5 minutes",
            "5 min",
            "5min",
            "-5m",
            "+5m",
            "5M",
            "1.5h",
            "1h 30m",
            "30m1h",
            "1h1h",
            "h",
            "5x",
            "5mm",
            "1w",
            "5m!",
            "５m",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(DurationError::Syntax(bad.to_string())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn huge_values_are_refused_not_wrapped() {
        assert!(matches!(
            parse_duration("99999999999999999999999s"),
            Err(DurationError::TooLarge(_))
        ));
        assert!(matches!(
            parse_duration("18446744073709551615d"),
            Err(DurationError::TooLarge(_))
        ));
        assert!(matches!(
            parse_duration("100000d"),
            Err(DurationError::TooLarge(_))
        ));
        assert_eq!(parse_duration("99999d"), Ok(secs(99_999 * 86_400)));
    }

    #[test]
    fn error_names_the_value_and_the_syntax() {
        let err = parse_duration("5 minutes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid duration '5 minutes': use a number and a unit, e.g. 30s, 5m, 24h, 7d \
             (compounds like 1h30m also work)"
        );
    }

    #[test]
    fn format_is_the_inverse_of_parse() {
        assert_eq!(format_duration(secs(0)), "0s");
        assert_eq!(format_duration(secs(5_400)), "1h30m");
        assert_eq!(format_duration(secs(7 * 86_400)), "7d");
        assert_eq!(format_duration(secs(180 * 86_400)), "180d");
        assert_eq!(format_duration(Duration::from_millis(1_500)), "1s");
        assert_eq!(format_duration(secs(86_400)), "1d");
        for text in ["30s", "5m", "23h", "7d", "1h30m", "1d2h3m4s", "10m"] {
            let parsed = parse_duration(text).unwrap();
            assert_eq!(format_duration(parsed), text);
        }
    }
}
