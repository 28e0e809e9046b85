//! The part of OData that `alerts_v2` accepts: `$filter` with `eq`/`ne` on the filterable
//! string properties and `ge`/`gt`/`le`/`lt` on the two date properties, joined by `and`;
//! `$orderby` on a date property. Anything else is refused with Graph's 400, as the real
//! service refuses what it does not support.

use chrono::{DateTime, Utc};

/// A filterable property of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    ServiceSource,
    Status,
    Severity,
    Classification,
    Determination,
    AssignedTo,
    CreatedDateTime,
    LastUpdateDateTime,
}

impl Property {
    fn parse(name: &str) -> Option<Property> {
        Some(match name {
            "serviceSource" => Property::ServiceSource,
            "status" => Property::Status,
            "severity" => Property::Severity,
            "classification" => Property::Classification,
            "determination" => Property::Determination,
            "assignedTo" => Property::AssignedTo,
            "createdDateTime" => Property::CreatedDateTime,
            "lastUpdateDateTime" => Property::LastUpdateDateTime,
            _ => return None,
        })
    }

    fn is_date(self) -> bool {
        matches!(
            self,
            Property::CreatedDateTime | Property::LastUpdateDateTime
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Null,
    Time(DateTime<Utc>),
}

/// One comparison of a `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub property: Property,
    pub op: Op,
    pub value: Value,
}

/// A whole `$filter`: all conditions must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter(pub Vec<Condition>);

/// The values of one alert that a filter can look at.
pub struct Subject<'a> {
    pub service_source: &'a str,
    pub status: &'a str,
    pub severity: &'a str,
    pub classification: Option<&'a str>,
    pub determination: Option<&'a str>,
    pub assigned_to: Option<&'a str>,
    pub created: DateTime<Utc>,
    pub last_update: DateTime<Utc>,
}

impl Filter {
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        self.0.iter().all(|c| c.matches(s))
    }
}

impl Condition {
    fn matches(&self, s: &Subject<'_>) -> bool {
        let text = |v: Option<&str>| match (&self.value, v) {
            (Value::Null, None) => self.op == Op::Eq,
            (Value::Null, Some(_)) => self.op == Op::Ne,
            (Value::Text(t), Some(v)) => (t == v) == (self.op == Op::Eq),
            (Value::Text(_), None) => self.op == Op::Ne,
            (Value::Time(_), _) => false,
        };
        let time = |v: DateTime<Utc>| match &self.value {
            Value::Time(t) => match self.op {
                Op::Eq => v == *t,
                Op::Ne => v != *t,
                Op::Ge => v >= *t,
                Op::Gt => v > *t,
                Op::Le => v <= *t,
                Op::Lt => v < *t,
            },
            _ => false,
        };
        match self.property {
            Property::ServiceSource => text(Some(s.service_source)),
            Property::Status => text(Some(s.status)),
            Property::Severity => text(Some(s.severity)),
            Property::Classification => text(s.classification),
            Property::Determination => text(s.determination),
            Property::AssignedTo => text(s.assigned_to),
            Property::CreatedDateTime => time(s.created),
            Property::LastUpdateDateTime => time(s.last_update),
        }
    }
}

/// Splits a filter expression into tokens, keeping quoted strings (with `''` escapes) whole.
fn tokens(input: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::from("'");
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(ch) => s.push(ch),
                    None => return Err("unterminated string literal".into()),
                }
            }
            out.push(s);
        } else if c == '(' || c == ')' {
            return Err("parentheses are not supported".into());
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '\'' {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a `$filter` value. The error text becomes the 400 message.
pub fn parse_filter(input: &str) -> Result<Filter, String> {
    let toks = tokens(input).map_err(|e| format!("Invalid filter clause: {e}."))?;
    let mut conditions = Vec::new();
    let mut i = 0;
    loop {
        let (Some(name), Some(op), Some(raw)) = (toks.get(i), toks.get(i + 1), toks.get(i + 2))
        else {
            return Err(format!(
                "Invalid filter clause: syntax error near '{input}'."
            ));
        };
        let property = Property::parse(name).ok_or_else(|| {
            format!("Invalid filter clause: Could not find a property named '{name}' on type 'microsoft.graph.security.alert'.")
        })?;
        let op = match op.as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "ge" => Op::Ge,
            "gt" => Op::Gt,
            "le" => Op::Le,
            "lt" => Op::Lt,
            other => {
                return Err(format!(
                    "Invalid filter clause: the operator '{other}' is not supported."
                ));
            }
        };
        let value = if property.is_date() {
            let text = raw.strip_prefix('\'').unwrap_or(raw);
            Value::Time(parse_time(text).ok_or_else(|| {
                format!("Invalid filter clause: '{text}' is not a valid DateTimeOffset literal for '{name}'.")
            })?)
        } else if raw == "null" {
            Value::Null
        } else if let Some(text) = raw.strip_prefix('\'') {
            if !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "Invalid filter clause: the operator '{}' is not supported for '{name}'.",
                    toks[i + 1]
                ));
            }
            Value::Text(text.to_string())
        } else {
            return Err(format!(
                "Invalid filter clause: the value '{raw}' for '{name}' must be a quoted string."
            ));
        };
        conditions.push(Condition {
            property,
            op,
            value,
        });
        i += 3;
        match toks.get(i).map(String::as_str) {
            None => break,
            Some("and") => i += 1,
            Some(other) => {
                return Err(format!(
                    "Invalid filter clause: '{other}' is not supported; join conditions with 'and'."
                ));
            }
        }
    }
    Ok(Filter(conditions))
}

/// What `$orderby` sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy {
    pub property: Property,
    pub descending: bool,
}

/// Parses a `$orderby` value: `lastUpdateDateTime` or `createdDateTime`, then `asc` or `desc`.
pub fn parse_orderby(input: &str) -> Result<OrderBy, String> {
    let mut parts = input.split_whitespace();
    let name = parts.next().unwrap_or_default();
    let property = Property::parse(name)
        .filter(|p| p.is_date())
        .ok_or_else(|| format!("Invalid OrderBy clause: ordering by '{name}' is not supported."))?;
    let descending = match parts.next() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(format!(
                "Invalid OrderBy clause: unknown direction '{other}'."
            ));
        }
    };
    if parts.next().is_some() {
        return Err("Invalid OrderBy clause: only one property is supported.".into());
    }
    Ok(OrderBy {
        property,
        descending,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(last: &str) -> Subject<'static> {
        Subject {
            service_source: "microsoftDefenderForOffice365",
            status: "new",
            severity: "high",
            classification: None,
            determination: None,
            assigned_to: None,
            created: parse_time("2026-11-01T00:00:00Z").unwrap(),
            last_update: parse_time(last).unwrap(),
        }
    }

    #[test]
    fn the_collector_filter_parses_and_matches() {
        let f = parse_filter(
            "serviceSource eq 'microsoftDefenderForOffice365' and lastUpdateDateTime ge 2026-11-01T10:00:00.5Z",
        )
        .unwrap();
        assert_eq!(f.0.len(), 2);
        assert!(f.matches(&subject("2026-11-01T10:00:00.5Z")));
        assert!(!f.matches(&subject("2026-11-01T10:00:00.4999999Z")));
    }

    #[test]
    fn null_and_ne_follow_odata() {
        let f = parse_filter("classification eq null and status ne 'resolved'").unwrap();
        assert!(f.matches(&subject("2026-11-01T10:00:00Z")));
    }

    #[test]
    fn unsupported_filters_are_refused() {
        for bad in [
            "title eq 'x'",
            "severity eq high",
            "lastUpdateDateTime ge yesterday",
            "status eq 'new' or status eq 'resolved'",
            "(status eq 'new')",
            "status eq 'new",
            "status",
            "severity gt 'low'",
        ] {
            assert!(parse_filter(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn orderby_takes_a_date_and_a_direction() {
        assert!(parse_orderby("lastUpdateDateTime desc").unwrap().descending);
        assert!(!parse_orderby("createdDateTime").unwrap().descending);
        assert!(parse_orderby("severity asc").is_err());
    }
}
