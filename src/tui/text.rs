//! How values look on screen: Graph strings made safe (every one goes through [`safe`] or
//! [`safe_opt`], which use [`crate::terminal::clean`]), times, counts, and the colour theme
//! (`NO_COLOR` turns colour off; emphasis stays).

use chrono::{DateTime, Utc};
use ratatui::style::{Color, Modifier, Style};

use crate::terminal::{clean, has_bidi_control};

/// A Graph string as it may be shown: control characters, escapes and bidi overrides visible.
pub fn safe(s: &str) -> String {
    clean(s)
}

/// [`safe`] of an optional value; absent values show as `-`.
pub fn safe_opt(s: Option<&str>) -> String {
    s.map(clean).unwrap_or_else(|| "-".into())
}

/// The flag put in front of a name that holds a bidi control (a spoofing trick: the text is
/// displayed in another order than it is written).
pub const BIDI_FLAG: &str = "⚠bidi ";

/// A display name made safe, flagged when it holds a bidi control.
pub fn display_name(s: &str) -> String {
    if has_bidi_control(s) {
        format!("{BIDI_FLAG}{}", clean(s))
    } else {
        clean(s)
    }
}

/// `11-20 14:05` (UTC): list columns.
pub fn time_short(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "?".into())
}

/// `2026-11-20 14:05:09Z`: details.
pub fn time_full(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| "?".into())
}

/// `45s ago`, `12m ago`, `3h ago`, `2d ago` (or `in 5m` for a time after `now_ms`).
pub fn ago(now_ms: i64, t_ms: i64) -> String {
    let d = now_ms - t_ms;
    let (future, d) = (d < 0, d.unsigned_abs() / 1000);
    let amount = match d {
        0..=4 => return "just now".into(),
        5..=119 => format!("{d}s"),
        120..=7_199 => format!("{}m", d / 60),
        7_200..=172_799 => format!("{}h", d / 3_600),
        _ => format!("{}d", d / 86_400),
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Colours, or none under `NO_COLOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn severity(self, severity: Option<&str>) -> Style {
        match severity {
            Some("high") => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Some("medium") => self.fg(Color::Yellow),
            Some("low") => self.fg(Color::Cyan),
            _ => self.fg(Color::DarkGray),
        }
    }

    pub fn health(self, label: &str) -> Style {
        match label {
            "OK" => self.fg(Color::Green),
            "STALE" => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            "FAILING" => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            _ => self.fg(Color::DarkGray),
        }
    }

    /// The outcome that matters (in an inbox) stands out.
    pub fn alarm(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn header(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red)
    }

    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }
}

/// Severity as a short word for narrow columns.
pub fn severity_short(s: Option<&str>) -> String {
    match s {
        Some("informational") => "info".into(),
        Some(other) => safe(other),
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(ago(100_000, 100_000), "just now");
        assert_eq!(ago(1_000_000, 0), "16m ago");
        assert_eq!(ago(0, 3 * 86_400_000), "in 3d");
        assert_eq!(time_short(1_795_176_000_000), "11-20 12:00");
        assert_eq!(display_name("Ann"), "Ann");
        assert_eq!(display_name("\u{202e}nimdA"), "⚠bidi \\u{202e}nimdA");
    }
}
