//! The one filter syntax of mailtrail — typed in the dashboard's `/` bar and given to
//! `mailtrail search` — and its translation into SQL over the store.
//!
//! ```text
//! invoice  "wire transfer"  sender:ceo@contoso.com  domain:evil.test  severity:>=medium
//! status:new,inProgress  delivery:inbox  threat:phish  since:24h  until:2026-11-20T12:00:00Z
//! tenant:contoso  url:https://x.test/a  urlhost:verify.evil.test  message:<NetworkMessageId>
//! -status:resolved
//! ```
//!
//! - Words without a key are free text, searched in the full-text indexes: each must appear in
//!   a subject, sender, recipient, sender display name or URL, or (threats) an alert's title or
//!   description. Case and accents are ignored; punctuation separates words, so `invoice` finds
//!   "Invoice-2026" and `ceo@contoso.com` or `contoso.com` find that address as a phrase. The
//!   last word of a term matches as a prefix (`invo`, `contoso.co`), the others whole; a word
//!   is not found from its middle (`voice` does not find "invoice"). `"quoted phrases"` are one
//!   term: their words in that order.
//! - Terms are AND-ed; a leading `-` negates a term; `key:a,b` means a or b (for severity,
//!   status, delivery, threat and tenant).
//! - `sender:`, `recipient:` and `url:` match a full address / URL exactly and anything else as a
//!   substring; `domain:` matches the sender's domain exactly; `urlhost:` matches the host of a
//!   URL exactly (`urlhost:evil.test` finds `https://evil.test/x` but neither
//!   `https://a.evil.test/` nor `https://evil.test.example/`); `*` is a wildcard in all five.
//! - `since:`/`until:` take a duration back from now (`24h`, `7d`) or an RFC 3339 time (or a
//!   date, meaning its midnight UTC). `since` is inclusive, `until` exclusive.
//!
//! [`parse`] is pure and reports errors with the byte range they cover. [`threat_where`] and
//! [`email_where`] turn a [`Query`] into a boolean SQL expression over the `alerts` table
//! (alias `a`) or the `email_events` table (alias `ev`) whose values are all bound parameters.
//! Free text goes through [`text_condition`] alone: FTS5 (schema/0004_fts.sql, 0009) for words, a
//! substring match for terms of punctuation only.

pub mod command;

use std::fmt;
use std::ops::Range;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Value;

use crate::duration::parse_duration;

/// A parsed filter: every term must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

/// One condition of a [`Query`], possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub filter: Filter,
}

/// What a term asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Free text: a subject, sender, recipient, display name, URL, title or description has it.
    Text(String),
    Sender(String),
    Recipient(String),
    /// The sender's domain.
    Domain(String),
    Url(String),
    /// The host of a URL, exactly (`*` a wildcard).
    UrlHost(String),
    /// Severity compared with a level (`severity:high` is `Eq`).
    Severity(Comparison, SeverityLevel),
    /// One of these severities (`severity:low,high`).
    SeverityIn(Vec<SeverityLevel>),
    /// One of these alert statuses (Graph's spelling: `new`, `inProgress`, `resolved`).
    Status(Vec<String>),
    /// Delivery action or location starts with one of these (`inbox`, `junk`, `delivered`…).
    Delivery(Vec<String>),
    /// A threat type contains one of these (`phish`, `malware`, `spam`).
    Threat(Vec<String>),
    Since(TimeBound),
    Until(TimeBound),
    /// One of these tenants (mailtrail's tenant names).
    Tenant(Vec<String>),
    /// The NetworkMessageId of a message.
    Message(String),
}

/// `<`, `<=`, `=`, `>=`, `>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Eq => "",
            Comparison::Ge => ">=",
            Comparison::Gt => ">",
        }
    }

    fn holds(self, a: u8, b: u8) -> bool {
        match self {
            Comparison::Lt => a < b,
            Comparison::Le => a <= b,
            Comparison::Eq => a == b,
            Comparison::Ge => a >= b,
            Comparison::Gt => a > b,
        }
    }
}

/// Alert severities in Graph's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeverityLevel {
    Informational,
    Low,
    Medium,
    High,
}

impl SeverityLevel {
    pub const ALL: [SeverityLevel; 4] = [
        SeverityLevel::Informational,
        SeverityLevel::Low,
        SeverityLevel::Medium,
        SeverityLevel::High,
    ];

    /// Graph's spelling, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLevel::Informational => "informational",
            SeverityLevel::Low => "low",
            SeverityLevel::Medium => "medium",
            SeverityLevel::High => "high",
        }
    }

    fn rank(self) -> u8 {
        self as u8
    }

    fn parse(s: &str) -> Option<SeverityLevel> {
        match s.to_ascii_lowercase().as_str() {
            "informational" | "info" => Some(SeverityLevel::Informational),
            "low" => Some(SeverityLevel::Low),
            "medium" | "med" => Some(SeverityLevel::Medium),
            "high" => Some(SeverityLevel::High),
            _ => None,
        }
    }
}

/// A point in time: absolute, or a duration back from "now" (resolved at translation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// Epoch milliseconds.
    At(i64),
    /// Milliseconds before now.
    Ago(i64),
}

impl TimeBound {
    /// Epoch milliseconds, given "now".
    pub fn resolve(self, now_ms: i64) -> i64 {
        match self {
            TimeBound::At(t) => t,
            TimeBound::Ago(d) => now_ms.saturating_sub(d),
        }
    }
}

/// The keys of the syntax, as typed (aliases map to these).
pub const KEYS: [&str; 13] = [
    "sender",
    "recipient",
    "domain",
    "url",
    "urlhost",
    "severity",
    "status",
    "delivery",
    "threat",
    "since",
    "until",
    "tenant",
    "message",
];

/// Why a filter does not parse; `span` is the byte range of the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchError {
    pub kind: SearchErrorKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchErrorKind {
    /// `key:` that is not one of [`KEYS`].
    UnknownKey {
        key: String,
        suggestion: Option<&'static str>,
    },
    /// `key:` with nothing after it.
    EmptyValue { key: &'static str },
    /// A `"` that is never closed.
    UnterminatedQuote,
    /// A `-` with nothing to negate.
    DanglingNegation,
    /// A value the key does not accept; `expected` says what would be.
    BadValue {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A comparison (`>=`…) on a key other than `severity`.
    ComparisonNotAllowed { key: &'static str },
    /// A list (`a,b`) on a key that takes one value.
    ListNotAllowed { key: &'static str },
}

impl SearchError {
    /// The character column (0-based) where the error starts in `input`, for a caret.
    pub fn column(&self, input: &str) -> usize {
        input
            .get(..self.span.start)
            .map_or(0, |prefix| prefix.chars().count())
    }

    /// The width in characters of the offending text (at least 1).
    pub fn width(&self, input: &str) -> usize {
        input
            .get(self.span.clone())
            .map_or(1, |s| s.chars().count().max(1))
    }
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SearchErrorKind::UnknownKey { key, suggestion } => {
                write!(f, "unknown filter '{key}:'")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean '{s}:'?"),
                    None => write!(
                        f,
                        "; filters are {}; put text containing ':' in quotes",
                        KEYS.join(": ") + ":"
                    ),
                }
            }
            SearchErrorKind::EmptyValue { key } => {
                write!(f, "'{key}:' needs a value, e.g. {}", example(key))
            }
            SearchErrorKind::UnterminatedQuote => {
                write!(f, "unterminated quote; close it with \"")
            }
            SearchErrorKind::DanglingNegation => {
                write!(
                    f,
                    "'-' must be followed by a filter or a word, e.g. -status:resolved"
                )
            }
            SearchErrorKind::BadValue {
                key,
                value,
                expected,
            } => write!(f, "'{key}:{value}' is not valid; {expected}"),
            SearchErrorKind::ComparisonNotAllowed { key } => write!(
                f,
                "'{key}:' takes no comparison; only severity does, e.g. severity:>=medium"
            ),
            SearchErrorKind::ListNotAllowed { key } => write!(
                f,
                "'{key}:' takes one value; use one {key}: term (quote values containing ',')"
            ),
        }
    }
}

impl std::error::Error for SearchError {}

fn example(key: &str) -> &'static str {
    match key {
        "sender" => "sender:ceo@contoso.com",
        "recipient" => "recipient:alex@contoso.com",
        "domain" => "domain:contoso.com",
        "url" => "url:https://example.test/login",
        "urlhost" => "urlhost:login.example.test",
        "severity" => "severity:>=medium",
        "status" => "status:new,inProgress",
        "delivery" => "delivery:inbox",
        "threat" => "threat:phish",
        "since" => "since:24h",
        "until" => "until:2026-11-20T12:00:00Z",
        "tenant" => "tenant:contoso",
        _ => "message:3d606ece-0295-451e-b546-08def1416251",
    }
}

/// One lexical word: its text (quotes removed) and where it was.
struct Word {
    text: String,
    span: Range<usize>,
    /// Whether any part was quoted (a quoted `key:` is text, a quoted `,` is not a separator).
    quoted: bool,
    /// Byte offset in `text` → offset in the input, for the value part's position.
    key_end: Option<(usize, usize)>,
    negated: bool,
}

/// Splits `input` into words on unquoted whitespace. A `key:` prefix is recognised only when it
/// is unquoted and starts the word (after an optional `-`).
fn words(input: &str) -> Result<Vec<Word>, SearchError> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        let mut quoted = false;
        let mut negated = false;
        let mut key_end = None;
        let mut end = start;
        if c == '-' {
            negated = true;
            chars.next();
            end = start + 1;
        }
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            end = i + c.len_utf8();
            if c == '"' {
                quoted = true;
                let mut closed = false;
                while let Some((j, q)) = chars.next() {
                    end = j + q.len_utf8();
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some((k, esc)) = chars.next() {
                                end = k + esc.len_utf8();
                                text.push(esc);
                            }
                        }
                        other => text.push(other),
                    }
                }
                if !closed {
                    return Err(SearchError {
                        kind: SearchErrorKind::UnterminatedQuote,
                        span: i..input.len(),
                    });
                }
            } else if c == ':' && key_end.is_none() && !quoted {
                key_end = Some((text.len(), i + 1));
                text.push(c);
            } else {
                text.push(c);
            }
        }
        if negated && text.is_empty() && !quoted {
            return Err(SearchError {
                kind: SearchErrorKind::DanglingNegation,
                span: start..end,
            });
        }
        out.push(Word {
            text,
            span: start..end,
            quoted,
            key_end,
            negated,
        });
    }
    Ok(out)
}

fn canonical_key(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    let k = match lower.as_str() {
        "from" => "sender",
        "to" | "rcpt" => "recipient",
        "sev" => "severity",
        "msg" | "networkmessageid" => "message",
        other => return KEYS.iter().copied().find(|k| *k == other),
    };
    Some(k)
}

fn suggest(key: &str) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    KEYS.iter()
        .copied()
        .map(|k| (k, strsim::damerau_levenshtein(&lower, k)))
        // Short words are too close to everything: "re" must not become "url".
        .filter(|(k, d)| {
            *d <= 1 || (*d <= 2 && lower.len() >= 5) || (lower.len() >= 3 && k.starts_with(&lower))
        })
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}

/// Parses a filter. The empty string is the empty query (everything).
pub fn parse(input: &str) -> Result<Query, SearchError> {
    let mut terms = Vec::new();
    for w in words(input)? {
        let filter = match w.key_end {
            // A word such as `re:` at the start of free text is a key; `https://x` is not
            // mistaken for one.
            Some((key_len, value_start))
                if key_len > 0
                    && w.text[..key_len].chars().all(|c| c.is_ascii_alphabetic())
                    && !w.text[key_len + 1..].starts_with("//") =>
            {
                let key_text = &w.text[..key_len];
                let key_start = w.span.start + usize::from(w.negated);
                let Some(key) = canonical_key(key_text) else {
                    return Err(SearchError {
                        kind: SearchErrorKind::UnknownKey {
                            key: key_text.to_string(),
                            suggestion: suggest(key_text),
                        },
                        span: key_start..value_start,
                    });
                };
                let value = &w.text[key_len + 1..];
                let value_span = value_start..w.span.end;
                keyed(key, value, value_span, w.quoted)?
            }
            _ => Filter::Text(w.text),
        };
        terms.push(Term {
            negated: w.negated,
            filter,
        });
    }
    Ok(Query { terms })
}

fn keyed(
    key: &'static str,
    value: &str,
    span: Range<usize>,
    quoted: bool,
) -> Result<Filter, SearchError> {
    let err = |kind| SearchError {
        kind,
        span: span.clone(),
    };
    if value.is_empty() && !quoted {
        return Err(err(SearchErrorKind::EmptyValue { key }));
    }
    let (comparison, rest) = split_comparison(value);
    if comparison.is_some() && key != "severity" {
        return Err(err(SearchErrorKind::ComparisonNotAllowed { key }));
    }
    let list = || -> Result<Vec<String>, SearchError> {
        let items: Vec<String> = if quoted {
            vec![value.to_string()]
        } else {
            value.split(',').map(str::to_string).collect()
        };
        if items.iter().any(|s| s.is_empty()) {
            return Err(err(SearchErrorKind::EmptyValue { key }));
        }
        Ok(items)
    };
    let single = || -> Result<String, SearchError> {
        if value.contains(',') && !quoted && key != "url" {
            return Err(err(SearchErrorKind::ListNotAllowed { key }));
        }
        Ok(value.to_string())
    };
    Ok(match key {
        "sender" => Filter::Sender(single()?),
        "recipient" => Filter::Recipient(single()?),
        "domain" => Filter::Domain(single()?.trim_start_matches('@').to_string()),
        "url" => Filter::Url(value.to_string()),
        "urlhost" => Filter::UrlHost(single()?.to_string()),
        "message" => Filter::Message(single()?),
        "severity" => {
            let bad = |v: &str| {
                err(SearchErrorKind::BadValue {
                    key,
                    value: v.to_string(),
                    expected: "use informational, low, medium or high, optionally after <, <=, >=, > (e.g. severity:>=medium)",
                })
            };
            match comparison {
                Some(c) => {
                    if rest.is_empty() {
                        return Err(err(SearchErrorKind::EmptyValue { key }));
                    }
                    Filter::Severity(c, SeverityLevel::parse(rest).ok_or_else(|| bad(rest))?)
                }
                None => {
                    let levels = list()?
                        .iter()
                        .map(|v| SeverityLevel::parse(v).ok_or_else(|| bad(v)))
                        .collect::<Result<Vec<_>, _>>()?;
                    match levels.as_slice() {
                        [one] => Filter::Severity(Comparison::Eq, *one),
                        _ => Filter::SeverityIn(levels),
                    }
                }
            }
        }
        "status" => Filter::Status(
            list()?
                .iter()
                .map(|v| {
                    canonical_status(v).map(str::to_string).ok_or_else(|| {
                        err(SearchErrorKind::BadValue {
                            key,
                            value: v.clone(),
                            expected: "use new, inProgress or resolved",
                        })
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        "delivery" => Filter::Delivery(list()?),
        "threat" => Filter::Threat(list()?),
        "tenant" => Filter::Tenant(list()?),
        "since" | "until" => {
            let bound = parse_time_bound(value).ok_or_else(|| {
                err(SearchErrorKind::BadValue {
                    key,
                    value: value.to_string(),
                    expected: "use a duration back from now (30m, 24h, 7d) or an RFC 3339 time (2026-11-20T12:00:00Z) or a date (2026-11-20)",
                })
            })?;
            if key == "since" {
                Filter::Since(bound)
            } else {
                Filter::Until(bound)
            }
        }
        _ => Filter::Text(value.to_string()),
    })
}

fn split_comparison(value: &str) -> (Option<Comparison>, &str) {
    for (prefix, c) in [
        (">=", Comparison::Ge),
        ("<=", Comparison::Le),
        (">", Comparison::Gt),
        ("<", Comparison::Lt),
        ("=", Comparison::Eq),
    ] {
        if let Some(rest) = value.strip_prefix(prefix) {
            return (Some(c), rest);
        }
    }
    (None, value)
}

fn canonical_status(v: &str) -> Option<&'static str> {
    let lower = v.to_ascii_lowercase().replace(['-', '_'], "");
    match lower.as_str() {
        "new" => Some("new"),
        "inprogress" | "active" => Some("inProgress"),
        "resolved" | "closed" => Some("resolved"),
        _ => None,
    }
}

/// A `since:`/`until:` value: a duration back from now, an RFC 3339 time, or a date (its
/// midnight UTC). Also the time flags of commands that take a period (`campaigns --since`).
pub fn parse_time_bound(v: &str) -> Option<TimeBound> {
    if let Ok(d) = parse_duration(v) {
        return Some(TimeBound::Ago(
            i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        ));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(TimeBound::At(t.with_timezone(&Utc).timestamp_millis()));
    }
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    Some(TimeBound::At(
        date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Rendering (pivots write filters; the bar shows them)
// ---------------------------------------------------------------------------------------------

/// A value as it must be typed: quoted when it holds whitespace, quotes, commas, a leading `-`,
/// or is empty.
pub fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.starts_with('-')
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == ',' || c == '\\' || c.is_control());
    if plain {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("-")?;
        }
        let list = |v: &[String]| v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(",");
        let time = |t: &TimeBound| match t {
            TimeBound::Ago(ms) => crate::duration::format_duration(
                std::time::Duration::from_millis(u64::try_from(*ms).unwrap_or(0)),
            ),
            TimeBound::At(ms) => DateTime::<Utc>::from_timestamp_millis(*ms)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
        };
        match &self.filter {
            Filter::Text(v) => {
                // Text that looks like `key:` must stay text: quote it.
                if v.contains(':') {
                    write!(f, "\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    f.write_str(&quote(v))
                }
            }
            Filter::Sender(v) => write!(f, "sender:{}", quote(v)),
            Filter::Recipient(v) => write!(f, "recipient:{}", quote(v)),
            Filter::Domain(v) => write!(f, "domain:{}", quote(v)),
            Filter::Url(v) => write!(f, "url:{}", quote(v)),
            Filter::UrlHost(v) => write!(f, "urlhost:{}", quote(v)),
            Filter::Message(v) => write!(f, "message:{}", quote(v)),
            Filter::Severity(c, l) => write!(f, "severity:{}{}", c.symbol(), l.as_str()),
            Filter::SeverityIn(ls) => write!(
                f,
                "severity:{}",
                ls.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(",")
            ),
            Filter::Status(v) => write!(f, "status:{}", list(v)),
            Filter::Delivery(v) => write!(f, "delivery:{}", list(v)),
            Filter::Threat(v) => write!(f, "threat:{}", list(v)),
            Filter::Tenant(v) => write!(f, "tenant:{}", list(v)),
            Filter::Since(t) => write!(f, "since:{}", time(t)),
            Filter::Until(t) => write!(f, "until:{}", time(t)),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.terms.iter().map(Term::to_string).collect();
        f.write_str(&parts.join(" "))
    }
}

impl Query {
    /// A query of one term.
    pub fn of(filter: Filter) -> Query {
        Query {
            terms: vec![Term {
                negated: false,
                filter,
            }],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Translation to SQL
// ---------------------------------------------------------------------------------------------

/// A boolean SQL expression and its parameters, in order (anonymous `?` placeholders).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SqlWhere {
    pub sql: String,
    pub params: Vec<Value>,
}

impl SqlWhere {
    fn and(&mut self, sql: String, params: Vec<Value>, negated: bool) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        if negated {
            // NULL (an absent column) counts as "does not match", so NOT keeps those rows.
            self.sql.push_str(&format!("NOT coalesce(({sql}), 0)"));
        } else {
            self.sql.push('(');
            self.sql.push_str(&sql);
            self.sql.push(')');
        }
        self.params.extend(params);
    }

    /// The expression, or `1` when there is no condition.
    pub fn expr(&self) -> &str {
        if self.sql.is_empty() { "1" } else { &self.sql }
    }
}

/// `%`, `_` and `\` escaped for `LIKE … ESCAPE '\'`, `*` turned into `%`.
fn like_pattern(value: &str, wildcard: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '*' if wildcard => out.push('%'),
            c => out.push(c),
        }
    }
    out
}

fn contains(value: &str) -> Value {
    Value::Text(format!("%{}%", like_pattern(value, true)))
}

fn starts_with(value: &str) -> Value {
    Value::Text(format!("{}%", like_pattern(value, true)))
}

/// How an address-like value matches: exactly (case-insensitive), as a wildcard pattern, or
/// as a substring.
enum Match {
    Exact(String),
    Like(String),
}

fn address_match(value: &str, exact_when: impl Fn(&str) -> bool) -> Match {
    if value.contains('*') {
        Match::Like(like_pattern(value, true))
    } else if exact_when(value) {
        Match::Exact(value.to_string())
    } else {
        Match::Like(format!("%{}%", like_pattern(value, false)))
    }
}

fn is_full_address(v: &str) -> bool {
    v.split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
}

fn is_full_url(v: &str) -> bool {
    v.contains("://")
}

/// `column = ? COLLATE NOCASE` or `column LIKE ? ESCAPE '\'` with its parameter.
fn column_match(column: &str, m: &Match) -> (String, Value) {
    match m {
        Match::Exact(v) => (
            format!("{column} = ? COLLATE NOCASE"),
            Value::Text(v.clone()),
        ),
        Match::Like(p) => (
            format!("{column} LIKE ? ESCAPE '\\'"),
            Value::Text(p.clone()),
        ),
    }
}

/// The host of the URL in `column`, as [`crate::triage::url_host`] reads it: after the scheme,
/// before the first `/`, `?` or `#`, after a user-info `@`, before a port.
fn url_host_sql(column: &str) -> String {
    let cut = |c: char| {
        format!("CASE WHEN instr(h, '{c}') > 0 THEN substr(h, 1, instr(h, '{c}') - 1) ELSE h END")
    };
    format!(
        "(SELECT {port} FROM (SELECT substr(h, instr(h, '@') + 1) AS h \
         FROM (SELECT {hash} AS h FROM (SELECT {query} AS h FROM (SELECT {slash} AS h \
         FROM (SELECT CASE WHEN instr({column}, '://') > 0 \
         THEN substr({column}, instr({column}, '://') + 3) ELSE {column} END AS h))))))",
        port = cut(':'),
        hash = cut('#'),
        query = cut('?'),
        slash = cut('/'),
    )
}

/// `urlhost:`: the host of the URL in `column` is `host` (case-insensitive), or matches it as a
/// wildcard pattern. The `LIKE` on the whole URL first is cheap and leaves few rows.
fn url_host_match(column: &str, host: &str) -> (String, Vec<Value>) {
    let (cond, p) = column_match(&url_host_sql(column), &address_match(host, |_| true));
    (
        format!("{column} LIKE ? ESCAPE '\\' AND {cond}"),
        vec![contains(host), p],
    )
}

/// The sender domain of an evidence row, as indexed (schema/0003_tui_indexes.sql).
pub const EVIDENCE_SENDER_DOMAIN: &str = "substr(e.sender, instr(e.sender, '@') + 1)";

fn severities(c: Comparison, level: SeverityLevel) -> Vec<SeverityLevel> {
    SeverityLevel::ALL
        .into_iter()
        .filter(|l| c.holds(l.rank(), level.rank()))
        .collect()
}

fn in_list(column: &str, values: &[&str]) -> (String, Vec<Value>) {
    if values.is_empty() {
        return ("0".into(), Vec::new());
    }
    let marks = vec!["?"; values.len()].join(", ");
    (
        format!("{column} IN ({marks})"),
        values.iter().map(|v| Value::Text(v.to_string())).collect(),
    )
}

fn any_like(columns: &[&str], patterns: &[Value]) -> (String, Vec<Value>) {
    let mut sql = Vec::new();
    let mut params = Vec::new();
    for p in patterns {
        for c in columns {
            sql.push(format!("{c} LIKE ? ESCAPE '\\'"));
            params.push(p.clone());
        }
    }
    (sql.join(" OR "), params)
}

/// An alert-level condition on the alert's evidence rows (alias `e`). Correlated, so a paged,
/// time-ordered scan stops as soon as it has a page.
fn evidence_exists(cond: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM alert_evidence e WHERE e.tenant = a.tenant AND e.alert_id = a.id AND ({cond}))"
    )
}

/// An alert-level condition that an index on `alert_evidence` answers: the matching alerts
/// are found through the index rather than by probing every alert.
fn evidence_in(cond: &str) -> String {
    format!("(a.tenant, a.id) IN (SELECT e.tenant, e.alert_id FROM alert_evidence e WHERE {cond})")
}

/// An evidence condition on one column: an exact value is looked up through the column's index
/// (few rows), a pattern is tested lazily per alert (an index cannot help a `LIKE '%…%'`, and
/// a paged scan stops at a page).
fn evidence_match(column: &str, m: &Match) -> (String, Vec<Value>) {
    let (cond, p) = column_match(column, m);
    let sql = match m {
        Match::Exact(_) => evidence_in(&cond),
        Match::Like(_) => evidence_exists(&cond),
    };
    (sql, vec![p])
}

/// The messages named by evidence matching `cond`, for email events (alias `ev`).
fn messages_with_evidence(cond: &str, exact: bool) -> String {
    if exact {
        format!(
            "ev.network_message_id IN (SELECT e.network_message_id FROM alert_evidence e WHERE {cond})"
        )
    } else {
        format!(
            "EXISTS (SELECT 1 FROM alert_evidence e WHERE e.network_message_id = ev.network_message_id AND ({cond}))"
        )
    }
}

/// Which table a condition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `alerts AS a`.
    Threats,
    /// `email_events AS ev`.
    Emails,
}

/// The FTS5 query for one free-text word: the word as one phrase of its tokens (FTS5 splits it
/// as it split the indexed text), the last token a prefix. So `invoice` finds "Invoice-2026",
/// `ceo@contoso.co` finds ceo@contoso.com (the phrase ceo contoso co*), and `voice` does not
/// find "invoice": words match from their start. None when the word holds no letter or digit,
/// i.e. nothing the index has tokens for.
pub fn fts_phrase(word: &str) -> Option<String> {
    if !word.chars().any(char::is_alphanumeric) {
        return None;
    }
    Some(format!("{}*", fts_exact(word)))
}

/// [`fts_phrase`] without its prefix: the word's tokens as they are. Every row it matches the
/// phrase matches too, and FTS5 reads its doclist lazily (a prefix it must first merge in full,
/// for every lookup), so it is the cheap first question about a frequent word.
pub fn fts_exact(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// How a term of a condition reaches its rows — free text, and the tenant. Which way is fast
/// depends on how many rows match, which only the store knows ([`crate::store::Store`]'s
/// `text_access` and `tenant_access` ask it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Walk the list in its own order and test each row against the term (free text: against
    /// the set of matching rows): a page is found after a short walk when many rows match, and
    /// a term that matches nothing costs one pass over the list's index.
    #[default]
    Scan,
    /// Free text: walk the list in its own order and seek each row's own index entry, for a
    /// word in most rows, whose set would cost more to build than a page costs to walk.
    Seek,
    /// Start from the matching rows and sort them: for terms that match few rows.
    Lookup,
}

/// The rows of `table` whose text matches `phrase` (an [`fts_phrase`]). A threat's document
/// holds its evidence's text too; a message is also found by the URLs alerts saw in it. Its
/// parameters are [`fts_params`].
pub fn fts_rows(table: Table) -> &'static str {
    match table {
        Table::Threats => "SELECT rowid FROM alert_fts WHERE alert_fts MATCH ?",
        Table::Emails => {
            "SELECT rowid FROM email_fts WHERE email_fts MATCH ? \
             UNION ALL SELECT m.rowid FROM email_events m WHERE m.network_message_id IN \
             (SELECT e.network_message_id FROM alert_evidence e \
              WHERE e.rowid IN (SELECT rowid FROM evidence_fts WHERE evidence_fts MATCH ?))"
        }
    }
}

/// The FTS5 queries of [`fts_rows`] for one word.
pub fn fts_params(table: Table, phrase: &str) -> Vec<Value> {
    match table {
        Table::Threats => vec![Value::Text(phrase.to_string())],
        Table::Emails => vec![
            Value::Text(phrase.to_string()),
            Value::Text(phrase.to_string()),
        ],
    }
}

/// Free text: the one place that decides how a word is searched. A word with letters or digits
/// goes through the full-text indexes (schema/0004_fts.sql, 0009); one of punctuation only (`%`, `@`)
/// has no tokens there and is matched as a substring instead.
pub fn text_condition(table: Table, word: &str, access: Access) -> (String, Vec<Value>) {
    let Some(phrase) = fts_phrase(word) else {
        return text_like_condition(table, word);
    };
    let row = match table {
        Table::Threats => "a.rowid",
        Table::Emails => "ev.rowid",
    };
    match access {
        Access::Lookup => (
            format!("{row} IN ({})", fts_rows(table)),
            fts_params(table, &phrase),
        ),
        // `+` keeps the planner from starting at the matching rows (and sorting them).
        Access::Scan => match table {
            Table::Threats => (
                format!("+{row} IN ({})", fts_rows(table)),
                fts_params(table, &phrase),
            ),
            // A message's own text as a set; the URLs of its alerts' evidence asked row by
            // row (one index probe, as most messages have no alert): the set of messages a
            // common URL word reaches costs a join per evidence row (~90 ms at 40,000).
            Table::Emails => (
                "(+ev.rowid IN (SELECT rowid FROM email_fts WHERE email_fts MATCH ?) \
                 OR EXISTS (SELECT 1 FROM alert_evidence e WHERE e.network_message_id = ev.network_message_id \
                            AND +e.rowid IN (SELECT rowid FROM evidence_fts WHERE evidence_fts MATCH ?)))"
                    .to_string(),
                fts_params(table, &phrase),
            ),
        },
        Access::Seek => text_seek_condition(table, word, &phrase),
    }
}

/// Free text tested row by row, for a list walked in its own order ([`Access::Seek`]). A word
/// in most rows would cost a set of most rows if asked as one, so each row first seeks its own
/// entry for the exact phrase (cheap, and true for most rows of a frequent word); only rows
/// without it reach the rest of the prefix (`"w"* NOT "w"`, usually few rows) and, for a
/// message, the URLs of alert evidence, each a set built once and only if some row needs it.
fn text_seek_condition(table: Table, word: &str, phrase: &str) -> (String, Vec<Value>) {
    let exact = fts_exact(word);
    let rest = format!("{phrase} NOT {exact}");
    let sql = match table {
        Table::Threats => {
            "EXISTS (SELECT 1 FROM alert_fts WHERE alert_fts MATCH ? AND rowid = a.rowid) \
             OR +a.rowid IN (SELECT rowid FROM alert_fts WHERE alert_fts MATCH ?)"
        }
        Table::Emails => {
            "EXISTS (SELECT 1 FROM email_fts WHERE email_fts MATCH ? AND rowid = ev.rowid) \
             OR +ev.rowid IN (SELECT rowid FROM email_fts WHERE email_fts MATCH ?) \
             OR EXISTS (SELECT 1 FROM alert_evidence e WHERE e.network_message_id = ev.network_message_id \
                        AND +e.rowid IN (SELECT rowid FROM evidence_fts WHERE evidence_fts MATCH ?))"
        }
    };
    let mut params = vec![Value::Text(exact), Value::Text(rest)];
    params.extend(fts_params(table, phrase).into_iter().skip(1));
    (sql.to_string(), params)
}

/// Free text as a case-insensitive substring (`LIKE '%…%'`): only for words the full-text
/// indexes cannot answer, since it reads every row.
fn text_like_condition(table: Table, word: &str) -> (String, Vec<Value>) {
    let p = contains(word);
    match table {
        Table::Threats => {
            let (ev_sql, mut ev_params) = any_like(
                &["e.subject", "e.sender", "e.recipient", "e.url"],
                std::slice::from_ref(&p),
            );
            let mut params = vec![p];
            params.append(&mut ev_params);
            (
                format!("a.title LIKE ? ESCAPE '\\' OR {}", evidence_exists(&ev_sql)),
                params,
            )
        }
        Table::Emails => {
            let (sql, mut params) = any_like(
                &["ev.subject", "ev.sender_from", "ev.recipient"],
                std::slice::from_ref(&p),
            );
            let url = messages_with_evidence("e.url LIKE ? ESCAPE '\\'", false);
            params.push(p);
            (format!("{sql} OR {url}"), params)
        }
    }
}

/// `column` is one of `tenants`. A store holds a few tenants, each usually with a large share
/// of the rows: a list walks its time order testing each row ([`Access::Scan`], the `+` keeps
/// the planner from starting at the tenant's rows and sorting them all), unless the tenant has
/// few rows ([`Access::Lookup`]).
fn tenant_condition(column: &str, tenants: &[String], access: Access) -> (String, Vec<Value>) {
    let values: Vec<&str> = tenants.iter().map(String::as_str).collect();
    match access {
        Access::Lookup => in_list(column, &values),
        Access::Scan | Access::Seek => in_list(&format!("+{column}"), &values),
    }
}

/// The condition of `query` on the `alerts` table (alias `a`); `now_ms` resolves durations.
pub fn threat_where(query: &Query, now_ms: i64) -> SqlWhere {
    threat_where_with(query, now_ms, &|_| Access::Scan)
}

/// [`threat_where`], with free text and tenants reached as `access` says for each term.
pub fn threat_where_with(
    query: &Query,
    now_ms: i64,
    access: &dyn Fn(&Filter) -> Access,
) -> SqlWhere {
    where_of(query, |filter| threat_term(filter, now_ms, access))
}

/// Every term of `query` AND-ed, each as `term` writes it (negated where the query says so).
fn where_of(query: &Query, term: impl Fn(&Filter) -> (String, Vec<Value>)) -> SqlWhere {
    let mut w = SqlWhere::default();
    for t in &query.terms {
        let (sql, params) = term(&t.filter);
        w.and(sql, params, t.negated);
    }
    w
}

fn threat_term(
    filter: &Filter,
    now_ms: i64,
    access: &dyn Fn(&Filter) -> Access,
) -> (String, Vec<Value>) {
    match filter {
        Filter::Text(v) => text_condition(Table::Threats, v, access(filter)),
        Filter::Sender(v) => evidence_match("e.sender", &address_match(v, is_full_address)),
        Filter::Recipient(v) => evidence_match("e.recipient", &address_match(v, is_full_address)),
        Filter::Domain(v) => {
            let m = address_match(v, |_| true);
            let (c, p) = column_match(EVIDENCE_SENDER_DOMAIN, &m);
            // The domain index is partial (senders only): say so for the planner.
            let cond = format!("e.sender IS NOT NULL AND {c}");
            let sql = match m {
                Match::Exact(_) => evidence_in(&cond),
                Match::Like(_) => evidence_exists(&cond),
            };
            (sql, vec![p])
        }
        Filter::Url(v) => evidence_match("e.url", &address_match(v, is_full_url)),
        Filter::UrlHost(v) => {
            let (c, p) = url_host_match("e.url", v);
            (evidence_in(&c), p)
        }
        Filter::Message(v) => (
            evidence_in("e.network_message_id = ?"),
            vec![Value::Text(v.clone())],
        ),
        Filter::Severity(c, l) => {
            let levels: Vec<&str> = severities(*c, *l).iter().map(|l| l.as_str()).collect();
            in_list("a.severity", &levels)
        }
        Filter::SeverityIn(ls) => {
            let levels: Vec<&str> = ls.iter().map(|l| l.as_str()).collect();
            in_list("a.severity", &levels)
        }
        Filter::Status(v) => {
            let values: Vec<&str> = v.iter().map(String::as_str).collect();
            in_list("a.status", &values)
        }
        Filter::Delivery(v) => {
            let patterns: Vec<Value> = v.iter().map(|s| starts_with(s)).collect();
            let (c, p) = any_like(&["e.delivery_action", "e.delivery_location"], &patterns);
            (evidence_exists(&c), p)
        }
        Filter::Threat(v) => {
            let patterns: Vec<Value> = v.iter().map(|s| contains(s)).collect();
            let mut sql = Vec::new();
            let mut params = Vec::new();
            for p in &patterns {
                sql.push("t.value LIKE ? ESCAPE '\\'");
                params.push(p.clone());
            }
            (
                format!(
                    "EXISTS (SELECT 1 FROM alert_evidence e, json_each(e.raw, '$.threats') t
                     WHERE e.tenant = a.tenant AND e.alert_id = a.id AND json_valid(e.raw) AND ({}))",
                    sql.join(" OR ")
                ),
                params,
            )
        }
        Filter::Since(t) => (
            "a.created_ms >= ?".into(),
            vec![Value::Integer(t.resolve(now_ms))],
        ),
        Filter::Until(t) => (
            "a.created_ms < ?".into(),
            vec![Value::Integer(t.resolve(now_ms))],
        ),
        Filter::Tenant(v) => tenant_condition("a.tenant", v, access(filter)),
    }
}

/// The condition of `query` on the `email_events` table (alias `ev`). Alert-only filters
/// (severity, status) select the messages that alerts of that kind name in their evidence.
pub fn email_where(query: &Query, now_ms: i64) -> SqlWhere {
    email_where_with(query, now_ms, &|_| Access::Scan)
}

/// [`email_where`], with free text and tenants reached as `access` says for each term.
pub fn email_where_with(
    query: &Query,
    now_ms: i64,
    access: &dyn Fn(&Filter) -> Access,
) -> SqlWhere {
    where_of(query, |filter| email_term(filter, now_ms, access))
}

/// Messages named by alerts that satisfy `alert_cond` (on `alerts AS a`). Correlated: an
/// alert condition such as a severity matches tens of thousands of alerts, far too many to
/// collect first, while each event is checked with two index lookups.
fn messages_of_alerts(alert_cond: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM alert_evidence e
            JOIN alerts a ON a.tenant = e.tenant AND a.id = e.alert_id
            WHERE e.network_message_id = ev.network_message_id AND ({alert_cond}))"
    )
}

fn email_term(
    filter: &Filter,
    now_ms: i64,
    access: &dyn Fn(&Filter) -> Access,
) -> (String, Vec<Value>) {
    match filter {
        Filter::Text(v) => text_condition(Table::Emails, v, access(filter)),
        Filter::Sender(v) => {
            let (c, p) = column_match("ev.sender_from", &address_match(v, is_full_address));
            (c, vec![p])
        }
        Filter::Recipient(v) => {
            let (c, p) = column_match("ev.recipient", &address_match(v, is_full_address));
            (c, vec![p])
        }
        Filter::Domain(v) => {
            let (c, p) = column_match("ev.sender_from_domain", &address_match(v, |_| true));
            (c, vec![p])
        }
        Filter::Url(v) => {
            // EmailEvents carry no URLs; the messages an alert's evidence ties to the URL do.
            let m = address_match(v, is_full_url);
            let (c, p) = column_match("e.url", &m);
            (
                messages_with_evidence(&c, matches!(m, Match::Exact(_))),
                vec![p],
            )
        }
        Filter::UrlHost(v) => {
            let (c, p) = url_host_match("e.url", v);
            (messages_with_evidence(&c, true), p)
        }
        Filter::Message(v) => (
            "ev.network_message_id = ?".into(),
            vec![Value::Text(v.clone())],
        ),
        Filter::Severity(..) | Filter::SeverityIn(_) | Filter::Status(_) => {
            let (c, p) = threat_term(filter, now_ms, access);
            (messages_of_alerts(&c), p)
        }
        Filter::Delivery(v) => {
            let patterns: Vec<Value> = v.iter().map(|s| starts_with(s)).collect();
            any_like(&["ev.delivery_action", "ev.delivery_location"], &patterns)
        }
        Filter::Threat(v) => {
            let patterns: Vec<Value> = v.iter().map(|s| contains(s)).collect();
            let (sql, params) = any_like(&["ev.threat_types"], &patterns);
            // Stated so the planner can scan the partial index of threat mail instead of all
            // mail (email_events_threats, 0003_tui_indexes.sql).
            (format!("ev.threat_types IS NOT NULL AND ({sql})"), params)
        }
        Filter::Since(t) => (
            "ev.timestamp_ms >= ?".into(),
            vec![Value::Integer(t.resolve(now_ms))],
        ),
        Filter::Until(t) => (
            "ev.timestamp_ms < ?".into(),
            vec![Value::Integer(t.resolve(now_ms))],
        ),
        Filter::Tenant(v) => tenant_condition("ev.tenant", v, access(filter)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &str) -> Filter {
        let q = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(q.terms.len(), 1, "{input}");
        q.terms.into_iter().next().map(|t| t.filter).unwrap()
    }

    fn error(input: &str) -> SearchError {
        parse(input).expect_err(input)
    }

    #[test]
    fn the_empty_filter_is_everything() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("   ").unwrap().is_empty());
        assert_eq!(threat_where(&Query::default(), 0).expr(), "1");
    }

    #[test]
    fn free_text_words_and_phrases() {
        let q = parse(r#"invoice  "wire transfer" caf\u00e9"#).unwrap();
        assert_eq!(
            q.terms.iter().map(|t| t.filter.clone()).collect::<Vec<_>>(),
            vec![
                Filter::Text("invoice".into()),
                Filter::Text("wire transfer".into()),
                Filter::Text(r"caf\u00e9".into()),
            ]
        );
        assert_eq!(one(r#""say \"hi\"""#), Filter::Text(r#"say "hi""#.into()));
        // A quoted key is text, not a filter.
        assert_eq!(one(r#""re: hello""#), Filter::Text("re: hello".into()));
        // URLs are not mistaken for keys.
        assert_eq!(
            one("https://evil.test/a"),
            Filter::Text("https://evil.test/a".into())
        );
    }

    #[test]
    fn every_key_parses() {
        assert_eq!(one("sender:A@x.com"), Filter::Sender("A@x.com".into()));
        assert_eq!(one("from:a@x.com"), Filter::Sender("a@x.com".into()));
        assert_eq!(one("recipient:bob"), Filter::Recipient("bob".into()));
        assert_eq!(one("to:bob"), Filter::Recipient("bob".into()));
        assert_eq!(one("domain:@evil.test"), Filter::Domain("evil.test".into()));
        assert_eq!(
            one("url:https://x.test/a?b=1,2"),
            Filter::Url("https://x.test/a?b=1,2".into())
        );
        assert_eq!(
            one("severity:>=medium"),
            Filter::Severity(Comparison::Ge, SeverityLevel::Medium)
        );
        assert_eq!(
            one("severity:high"),
            Filter::Severity(Comparison::Eq, SeverityLevel::High)
        );
        assert_eq!(
            one("sev:<info"),
            Filter::Severity(Comparison::Lt, SeverityLevel::Informational)
        );
        assert_eq!(
            one("severity:low,HIGH"),
            Filter::SeverityIn(vec![SeverityLevel::Low, SeverityLevel::High])
        );
        assert_eq!(
            one("status:new,in-progress"),
            Filter::Status(vec!["new".into(), "inProgress".into()])
        );
        assert_eq!(
            one("delivery:inbox,junk"),
            Filter::Delivery(vec!["inbox".into(), "junk".into()])
        );
        assert_eq!(one("threat:phish"), Filter::Threat(vec!["phish".into()]));
        assert_eq!(one("since:24h"), Filter::Since(TimeBound::Ago(86_400_000)));
        assert_eq!(one("until:1h30m"), Filter::Until(TimeBound::Ago(5_400_000)));
        assert_eq!(
            one("since:2026-11-20T12:00:00Z"),
            Filter::Since(TimeBound::At(1_795_176_000_000))
        );
        assert_eq!(
            one("until:2026-11-20"),
            Filter::Until(TimeBound::At(1_795_132_800_000))
        );
        assert_eq!(
            one("tenant:contoso,fabrikam"),
            Filter::Tenant(vec!["contoso".into(), "fabrikam".into()])
        );
        assert_eq!(one("message:abc-1"), Filter::Message("abc-1".into()));
        assert_eq!(one("SENDER:a@b.c"), Filter::Sender("a@b.c".into()));
        assert_eq!(one(r#"tenant:"a,b""#), Filter::Tenant(vec!["a,b".into()]));
    }

    #[test]
    fn negation() {
        let q = parse("-status:resolved -spam").unwrap();
        assert!(q.terms.iter().all(|t| t.negated));
        assert_eq!(q.terms[1].filter, Filter::Text("spam".into()));
        assert_eq!(error("a - b").kind, SearchErrorKind::DanglingNegation);
        assert_eq!(error("a - b").span, 2..3);
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let e = error("invoice sendr:x@y.z");
        assert_eq!(
            e.kind,
            SearchErrorKind::UnknownKey {
                key: "sendr".into(),
                suggestion: Some("sender")
            }
        );
        assert_eq!(e.span, 8..14);
        assert_eq!(e.column("invoice sendr:x@y.z"), 8);
        assert!(e.to_string().contains("did you mean 'sender:'"), "{e}");
        let e = error("re: hello");
        assert!(matches!(
            e.kind,
            SearchErrorKind::UnknownKey {
                suggestion: None,
                ..
            }
        ));
        assert!(
            e.to_string().contains("put text containing ':' in quotes"),
            "{e}"
        );
        // Positions count characters, not bytes.
        let input = "日本 sevrity:high";
        assert_eq!(error(input).column(input), 3);
    }

    #[test]
    fn each_value_error() {
        let e = error("sender:");
        assert_eq!(e.kind, SearchErrorKind::EmptyValue { key: "sender" });
        assert_eq!(e.span, 7..7);
        assert!(e.to_string().contains("sender:ceo@contoso.com"));

        let e = error(r#"subject "unterminated"#);
        assert_eq!(e.kind, SearchErrorKind::UnterminatedQuote);
        assert_eq!(e.span.start, 8);

        let e = error("severity:critical");
        assert!(matches!(
            e.kind,
            SearchErrorKind::BadValue {
                key: "severity",
                ..
            }
        ));
        assert_eq!(e.span, 9..17);
        assert!(e.to_string().contains("informational, low, medium or high"));
        assert!(matches!(
            error("severity:>=").kind,
            SearchErrorKind::EmptyValue { key: "severity" }
        ));
        assert!(matches!(
            error("severity:low,").kind,
            SearchErrorKind::EmptyValue { key: "severity" }
        ));

        let e = error("status:open");
        assert!(e.to_string().contains("new, inProgress or resolved"), "{e}");

        let e = error("since:yesterday");
        assert!(matches!(
            e.kind,
            SearchErrorKind::BadValue { key: "since", .. }
        ));
        assert!(e.to_string().contains("24h"));
        assert!(matches!(
            error("until:5").kind,
            SearchErrorKind::BadValue { key: "until", .. }
        ));

        assert_eq!(
            error("status:>=new").kind,
            SearchErrorKind::ComparisonNotAllowed { key: "status" }
        );
        assert_eq!(
            error("sender:a@b.c,d@e.f").kind,
            SearchErrorKind::ListNotAllowed { key: "sender" }
        );
    }

    #[test]
    fn rendering_round_trips() {
        for input in [
            "sender:a@b.c",
            "severity:>=medium",
            "status:new,inProgress -threat:spam",
            r#""wire transfer" "re: x" url:"https://x.test/a b""#,
            "since:1d until:2026-11-20T12:00:00Z",
            r#"recipient:"-odd""#,
        ] {
            let q = parse(input).unwrap();
            let again = parse(&q.to_string()).unwrap();
            assert_eq!(q, again, "{input} → {q}");
        }
        assert_eq!(quote("a b"), r#""a b""#);
        assert_eq!(quote(r#"x"y"#), r#""x\"y""#);
        assert_eq!(quote("plain@x.test"), "plain@x.test");
    }

    #[test]
    fn translation_binds_every_value() {
        let q = parse(r#"sender:o'brien@x.test "50%_off" severity:>=medium since:1h"#).unwrap();
        let w = threat_where(&q, 10_000_000);
        assert!(!w.sql.contains("o'brien"), "{}", w.sql);
        assert!(!w.sql.contains("50"), "{}", w.sql);
        assert!(w.params.contains(&Value::Text("o'brien@x.test".into())));
        assert!(w.params.contains(&Value::Text(r#""50%_off"*"#.into())));
        assert!(w.params.contains(&Value::Text("medium".into())));
        assert!(w.params.contains(&Value::Text("high".into())));
        assert!(w.params.contains(&Value::Integer(10_000_000 - 3_600_000)));
        assert_eq!(w.sql.matches('?').count(), w.params.len());
        let e = email_where(&q, 0);
        assert_eq!(e.sql.matches('?').count(), e.params.len());
    }

    #[test]
    fn address_matching_rules() {
        let w = email_where(&parse("sender:a@b.c").unwrap(), 0);
        assert!(
            w.sql.contains("ev.sender_from = ? COLLATE NOCASE"),
            "{}",
            w.sql
        );
        let w = email_where(&parse("sender:alice").unwrap(), 0);
        assert!(w.sql.contains("LIKE"));
        assert_eq!(w.params, vec![Value::Text("%alice%".into())]);
        let w = email_where(&parse("domain:*.evil.test").unwrap(), 0);
        assert_eq!(w.params, vec![Value::Text("%.evil.test".into())]);
    }

    /// Runs the translation against a real SQLite schema, so the SQL is valid and means what
    /// the syntax says.
    #[test]
    fn translations_select_the_right_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("s.db")).unwrap();
        let c = store.conn();
        c.execute_batch(
            r#"
            INSERT INTO alerts (tenant, id, created_ms, last_update_ns, last_update, status, severity, title, first_stored_ms, updated_ms, raw)
            VALUES ('t', 'a1', 1000, 1, 'x', 'new', 'high', 'Phish delivered', 0, 0, '{}'),
                   ('t', 'a2', 2000, 1, 'x', 'resolved', 'low', 'Malware blocked', 0, 0, '{}');
            INSERT INTO alert_evidence (tenant, alert_id, position, odata_type, network_message_id, recipient, sender, subject, delivery_action, delivery_location, url, raw)
            VALUES ('t', 'a1', 0, 'm', 'n1', 'bob@contoso.com', 'eve@evil.test', 'Invoice 50% off', 'delivered', 'inbox', 'https://evil.test/x', '{"threats":["Phish"]}'),
                   ('t', 'a2', 0, 'm', 'n2', 'amy@contoso.com', 'mal@bad.test', 'Payroll', 'blocked', 'quarantine', NULL, '{"threats":["Malware"]}');
            INSERT INTO email_events (tenant, network_message_id, recipient, timestamp_ms, timestamp, sender_from, sender_from_domain, subject, delivery_action, delivery_location, threat_types, stored_ms, raw)
            VALUES ('t', 'n1', 'bob@contoso.com', 1000, 'x', 'eve@evil.test', 'evil.test', 'Invoice 50% off', 'Delivered', 'Inbox/folder', 'Phish', 0, '{}'),
                   ('t', 'n2', 'amy@contoso.com', 2000, 'x', 'mal@bad.test', 'bad.test', 'Payroll', 'Blocked', 'Quarantine', 'Malware', 0, '{}'),
                   ('t', 'n3', 'cy@contoso.com', 3000, 'x', 'cy@contoso.com', 'contoso.com', 'Lunch', 'Delivered', 'Inbox/folder', NULL, 0, '{}');
            "#,
        )
        .unwrap();
        // What an ingest does once an alert's evidence is written.
        c.execute_batch(crate::store::fts::INDEX_ALERT_TEXT)
            .unwrap();
        let threats = |q: &str| -> Vec<String> {
            let w = threat_where(&parse(q).unwrap(), 10_000);
            let sql = format!("SELECT id FROM alerts a WHERE {} ORDER BY id", w.expr());
            let mut stmt = c.prepare(&sql).unwrap();
            stmt.query_map(rusqlite::params_from_iter(w.params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let emails = |q: &str| -> Vec<String> {
            let w = email_where(&parse(q).unwrap(), 10_000);
            let sql = format!(
                "SELECT network_message_id FROM email_events ev WHERE {} ORDER BY 1",
                w.expr()
            );
            let mut stmt = c.prepare(&sql).unwrap();
            stmt.query_map(rusqlite::params_from_iter(w.params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(threats(""), ["a1", "a2"]);
        assert_eq!(threats("invoice"), ["a1"]);
        assert_eq!(threats("50%"), ["a1"]);
        // Punctuation separates words; the last word is a prefix.
        assert_eq!(threats("5_%"), ["a1"]);
        assert_eq!(threats("%"), ["a1"], "punctuation alone is a substring");
        assert_eq!(
            threats("voice"),
            Vec::<String>::new(),
            "not from a word's middle"
        );
        assert_eq!(threats("eve@evil.test"), ["a1"]);
        assert_eq!(threats("evil.te"), ["a1"]);
        assert_eq!(threats("\"delivered phish\""), Vec::<String>::new());
        assert_eq!(threats("\"phish delivered\""), ["a1"]);
        assert_eq!(threats("malware"), ["a2"]);
        assert_eq!(threats("sender:EVE@evil.test"), ["a1"]);
        assert_eq!(threats("recipient:amy"), ["a2"]);
        assert_eq!(threats("domain:bad.test"), ["a2"]);
        assert_eq!(threats("url:https://evil.test/x"), ["a1"]);
        assert_eq!(threats("url:evil"), ["a1"]);
        assert_eq!(threats("urlhost:EVIL.test"), ["a1"]);
        assert_eq!(threats("urlhost:*.test"), ["a1"]);
        assert_eq!(threats("urlhost:evil"), Vec::<String>::new());
        assert_eq!(threats("severity:>=medium"), ["a1"]);
        assert_eq!(threats("severity:<medium"), ["a2"]);
        assert_eq!(threats("status:resolved"), ["a2"]);
        assert_eq!(threats("-status:resolved"), ["a1"]);
        assert_eq!(threats("delivery:inbox"), ["a1"]);
        assert_eq!(threats("delivery:blocked"), ["a2"]);
        assert_eq!(threats("threat:phish"), ["a1"]);
        assert_eq!(threats("since:8s"), ["a2"]);
        assert_eq!(threats("until:8s"), ["a1"]);
        assert_eq!(threats("message:n2"), ["a2"]);
        assert_eq!(threats("tenant:other"), Vec::<String>::new());

        assert_eq!(emails("sender:eve@evil.test"), ["n1"]);
        assert_eq!(emails("domain:contoso.com"), ["n3"]);
        assert_eq!(emails("url:evil.test"), ["n1"]);
        assert_eq!(emails("urlhost:evil.test"), ["n1"]);
        assert_eq!(emails("-urlhost:evil.test"), ["n2", "n3"]);
        assert_eq!(emails("delivery:inbox"), ["n1", "n3"]);
        assert_eq!(emails("threat:malware"), ["n2"]);
        assert_eq!(emails("-threat:malware"), ["n1", "n3"]);
        assert_eq!(emails("severity:high"), ["n1"]);
        assert_eq!(emails("status:resolved"), ["n2"]);
        assert_eq!(emails("lunch"), ["n3"]);
        assert_eq!(emails("since:8s until:7s"), ["n2"]);
        assert_eq!(emails("message:n3 tenant:t"), ["n3"]);
    }
    #[test]
    fn urlhost_matches_the_host_exactly_as_triage_reads_it() {
        assert_eq!(
            one("urlhost:Verify.Evil.test"),
            Filter::UrlHost("Verify.Evil.test".into())
        );
        assert_eq!(
            Query::of(Filter::UrlHost("a.test".into())).to_string(),
            "urlhost:a.test"
        );
        assert_eq!(
            error("urlhost:a.test,b.test").kind,
            SearchErrorKind::ListNotAllowed { key: "urlhost" }
        );
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("s.db")).unwrap();
        for url in [
            "https://a.test/x?y",
            "http://u:p@b.test:8080/",
            "c.test/path",
            "https://d.test?r=https://y.test/",
            "https://E.test#f",
            "https://f.test",
            "https:///",
        ] {
            let sql: Option<String> = store
                .conn()
                .query_row(
                    &format!("SELECT nullif({}, '')", url_host_sql("?1")),
                    [url],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                sql.as_deref(),
                crate::triage::url_host(url),
                "the host of {url}"
            );
        }
    }
}
