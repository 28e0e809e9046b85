//! `mailtrail search QUERY`: the dashboard's filter syntax on the command line. The query is
//! parsed by [`super::parse`] and answered by the same store functions as the dashboard's lists
//! ([`Store::threat_page`], [`Store::event_page`]), newest first, from a store opened read-only.
//! Output: an aligned table (text cleaned for the terminal), a JSON array, CSV (RFC 4180), or
//! the stored OCSF events as NDJSON.

use std::io::{BufWriter, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, params};
use serde_json::Value as Json;

use super::{Query, SearchError, parse};
use crate::Failure;
use crate::cli::{GlobalOpts, SearchArgs, SearchFormat, SearchSort};
use crate::config::{self, LoadOptions};
use crate::store::views::{Count, Direction, EventRow, ThreatOrder, ThreatRow};
use crate::store::{Store, StoreError};
use crate::terminal::clean;

/// Rows fetched per store query while collecting up to the limit.
const PAGE: usize = 1_000;

/// How far a table's footer counts the matches.
const COUNT_CAP: i64 = 10_000;

/// One line: where the filter is wrong and how to fix it (exit 2).
pub fn parse_failure(input: &str, e: &SearchError) -> Failure {
    let bad: String = input.get(e.span.clone()).unwrap_or_default().to_string();
    let at = if bad.is_empty() {
        format!("column {}", e.column(input) + 1)
    } else {
        format!("column {} ('{}')", e.column(input) + 1, clean(&bad))
    };
    Failure::usage(format!("search: the filter at {at}: {e}"))
}

/// What one search found: up to the limit of each kind, newest first.
#[derive(Debug, Default)]
pub struct Found {
    pub threats: Vec<ThreatRow>,
    pub messages: Vec<EventRow>,
    /// Every matching threat is in `threats` (the last page came back short).
    pub all_threats: bool,
    /// Every matching message is in `messages`.
    pub all_messages: bool,
}

/// The threat order `--sort` names.
pub fn threat_order(sort: SearchSort) -> ThreatOrder {
    match sort {
        SearchSort::Score => ThreatOrder::BY_SCORE,
        SearchSort::Time => ThreatOrder::default(),
    }
}

/// Runs `query` over the store: threats and/or messages, at most `limit` of each (0: all).
pub fn find(
    store: &Store,
    query: &Query,
    now_ms: i64,
    (threats, order): (bool, ThreatOrder),
    messages: bool,
    limit: u64,
) -> Result<Found, StoreError> {
    let want = |n: usize| {
        if limit == 0 {
            PAGE
        } else {
            PAGE.min(usize::try_from(limit).unwrap_or(usize::MAX) - n)
        }
    };
    let enough = |n: usize| limit != 0 && n as u64 >= limit;
    let mut found = Found::default();
    if threats {
        while !enough(found.threats.len()) {
            let page = store.threat_page(
                query,
                now_ms,
                order,
                found.threats.last().map(|r| &r.key),
                Direction::Forward,
                want(found.threats.len()),
            )?;
            let last = page.len() < want(found.threats.len());
            found.threats.extend(page);
            if last {
                found.all_threats = true;
                break;
            }
        }
    }
    if messages {
        while !enough(found.messages.len()) {
            let page = store.event_page(
                query,
                now_ms,
                true,
                found.messages.last().map(|r| &r.key),
                Direction::Forward,
                want(found.messages.len()),
            )?;
            let last = page.len() < want(found.messages.len());
            found.messages.extend(page);
            if last {
                found.all_messages = true;
                break;
            }
        }
    }
    Ok(found)
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Where a message went, as one value: the latest location when Graph has one.
fn message_delivery(m: &EventRow) -> Option<String> {
    match (
        m.delivery_action.as_deref(),
        m.latest_delivery_location
            .as_deref()
            .or(m.delivery_location.as_deref()),
    ) {
        (Some(a), Some(l)) => Some(format!("{a} / {l}")),
        (a, l) => a.or(l).map(str::to_string),
    }
}

/// One row of the JSON and CSV outputs; both kinds share the columns.
struct Record {
    kind: &'static str,
    time_ms: i64,
    tenant: String,
    id: String,
    severity: Option<String>,
    status: Option<String>,
    title: Option<String>,
    sender: Option<String>,
    recipient: Option<String>,
    subject: Option<String>,
    url: Option<String>,
    delivery: Option<String>,
    threat_types: Option<String>,
    network_message_id: Option<String>,
    /// The triage score of a threat (none for messages, or before the first refresh).
    score: Option<i64>,
}

const CSV_HEADER: [&str; 15] = [
    "kind",
    "time",
    "tenant",
    "id",
    "severity",
    "status",
    "title",
    "sender",
    "recipient",
    "subject",
    "url",
    "delivery",
    "threat_types",
    "network_message_id",
    "score",
];

impl Record {
    fn threat(t: &ThreatRow) -> Record {
        Record {
            kind: "threat",
            time_ms: t.created_ms,
            tenant: t.tenant.clone(),
            id: t.id.clone(),
            severity: t.severity.clone(),
            status: t.status.clone(),
            title: t.title.clone(),
            sender: t.sender.clone(),
            recipient: t.recipient.clone(),
            subject: t.subject.clone(),
            url: t.url.clone(),
            delivery: Some(t.delivery.label().to_string()).filter(|d| d != "-"),
            threat_types: None,
            network_message_id: t.network_message_id.clone(),
            score: t.score,
        }
    }

    fn message(m: &EventRow) -> Record {
        Record {
            kind: "message",
            time_ms: m.timestamp_ms,
            tenant: m.tenant.clone(),
            id: format!("{}/{}", m.network_message_id, m.recipient),
            severity: None,
            status: None,
            title: None,
            sender: m.sender.clone(),
            recipient: Some(m.recipient.clone()),
            subject: m.subject.clone(),
            url: m.url.clone(),
            delivery: message_delivery(m),
            threat_types: m.threat_types.clone(),
            network_message_id: Some(m.network_message_id.clone()),
            score: None,
        }
    }

    fn cells(&self) -> [Option<String>; 15] {
        [
            Some(self.kind.to_string()),
            Some(rfc3339(self.time_ms)),
            Some(self.tenant.clone()),
            Some(self.id.clone()),
            self.severity.clone(),
            self.status.clone(),
            self.title.clone(),
            self.sender.clone(),
            self.recipient.clone(),
            self.subject.clone(),
            self.url.clone(),
            self.delivery.clone(),
            self.threat_types.clone(),
            self.network_message_id.clone(),
            self.score.map(|n| n.to_string()),
        ]
    }

    fn json(&self) -> Json {
        let mut map = serde_json::Map::new();
        for (k, v) in CSV_HEADER.iter().zip(self.cells()) {
            map.insert((*k).to_string(), v.map_or(Json::Null, Json::String));
        }
        // The one number: a number in JSON.
        map.insert("score".into(), self.score.map_or(Json::Null, Json::from));
        Json::Object(map)
    }
}

fn records(found: &Found) -> Vec<Record> {
    found
        .threats
        .iter()
        .map(Record::threat)
        .chain(found.messages.iter().map(Record::message))
        .collect()
}

/// Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) with a
/// leading `'`: subjects and names come from whoever sent the mail.
pub fn defuse_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, and its text
/// [defused](defuse_formula).
pub fn csv_cell(value: &str) -> String {
    csv_quote(&defuse_formula(value)).into_owned()
}

/// RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled.
pub fn csv_quote(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field.into()
    }
}

fn write_csv(found: &Found, out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(CSV_HEADER.join(",").as_bytes())?;
    out.write_all(b"\r\n")?;
    for r in records(found) {
        let line: Vec<String> = r
            .cells()
            .iter()
            .map(|c| c.as_deref().map(csv_cell).unwrap_or_default())
            .collect();
        out.write_all(line.join(",").as_bytes())?;
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

fn write_json(found: &Found, out: &mut dyn Write) -> std::io::Result<()> {
    let all: Vec<Json> = records(found).iter().map(Record::json).collect();
    serde_json::to_writer_pretty(&mut *out, &all)?;
    out.write_all(b"\n")
}

/// The stored OCSF events of what was found: each threat's Detection Finding in its current
/// state (as `mailtrail export` writes it), each message's Email Activity.
fn write_ocsf(store: &Store, found: &Found, out: &mut dyn Write) -> Result<(), Failure> {
    let db = |e: rusqlite::Error| Failure::from(store.err(e));
    let io = |e: std::io::Error| Failure::output("the results", e);
    let mut finding = store
        .conn()
        .prepare(
            "SELECT f.event FROM ocsf_findings f
             JOIN alerts a ON a.tenant = f.tenant AND a.id = f.alert_id AND a.last_update_ns = f.last_update_ns
             WHERE a.tenant = ?1 AND a.id = ?2",
        )
        .map_err(db)?;
    // The analyst's notes go along, as in `mailtrail export`.
    let notes = store.note_index()?;
    let annotated = |event: String, found: Vec<&crate::store::notes::Annotation>| {
        if found.is_empty() {
            event
        } else {
            crate::export::with_notes(&event, &found)
        }
    };
    for t in &found.threats {
        let event: Option<String> = finding
            .query_row(params![t.tenant, t.id], |r| r.get(0))
            .optional()
            .map_err(db)?;
        if let Some(event) = event {
            let event = annotated(event, notes.threat(&t.tenant, &t.id).into_iter().collect());
            writeln!(out, "{event}").map_err(io)?;
        }
    }
    let mut email = store
        .conn()
        .prepare("SELECT event FROM ocsf_email WHERE event_rowid = ?1")
        .map_err(db)?;
    for m in &found.messages {
        let event: Option<String> = email
            .query_row(params![m.rowid], |r| r.get(0))
            .optional()
            .map_err(db)?;
        if let Some(event) = event {
            let event = annotated(
                event,
                notes.message(&m.tenant, &m.network_message_id, &m.recipient),
            );
            writeln!(out, "{event}").map_err(io)?;
        }
    }
    Ok(())
}

/// `text` cleaned for the terminal and cut to `width` cells (with `…` when cut).
fn fit(text: &str, width: usize) -> String {
    crate::terminal::fit(&clean(text), width)
}

/// One column of a table: its header, its full width, and how it gives way on a narrow
/// terminal.
#[derive(Debug, Clone, Copy)]
struct Column {
    header: &'static str,
    /// The width without a terminal to fit (0: the last column, never padded).
    width: usize,
    /// Cut (with `…`) down to this many characters before any column is dropped; `None`: kept
    /// whole (a score, a time, an id users copy).
    shrinks_to: Option<usize>,
    /// Dropped when cutting is not enough, lowest rank first; `None`: always shown.
    drop_rank: Option<u8>,
}

const GAP: usize = 2;

/// The columns to print and their widths: the full layout without a `terminal` width; on a
/// terminal, columns as wide as their widest cell, then the cuttable ones cut, then the
/// lower-value ones dropped, until a line fits (if the kept columns alone are wider, they
/// are printed whole).
fn layout(
    columns: &[Column],
    rows: &[Vec<String>],
    terminal: Option<usize>,
) -> Vec<(usize, usize)> {
    let last = columns.len() - 1;
    let Some(max) = terminal else {
        return columns.iter().map(|c| c.width).enumerate().collect();
    };
    let widest = |i: usize| {
        rows.iter()
            .map(|r| crate::terminal::width(&clean(&r[i])))
            .chain([crate::terminal::width(columns[i].header)])
            .max()
            .unwrap_or(0)
    };
    let mut widths: Vec<(usize, usize)> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                i,
                if i == last {
                    widest(i)
                } else {
                    widest(i).min(c.width)
                },
            )
        })
        .collect();
    let total =
        |w: &[(usize, usize)]| w.iter().map(|&(_, n)| n).sum::<usize>() + GAP * (w.len() - 1);
    loop {
        let mut over = total(&widths).saturating_sub(max);
        if over == 0 {
            return widths;
        }
        // Cut the widest cuttable column first, one step at a time, to spread the cuts.
        while over > 0 {
            let candidate = widths
                .iter_mut()
                .filter(|(i, n)| columns[*i].shrinks_to.is_some_and(|min| *n > min))
                .max_by_key(|(_, n)| *n);
            let Some((_, n)) = candidate else { break };
            *n -= 1;
            over -= 1;
        }
        if over == 0 {
            return widths;
        }
        // Still too wide: give the cut columns their room back and drop the lowest-value one.
        let Some(drop) = widths
            .iter()
            .filter_map(|&(i, _)| columns[i].drop_rank.map(|r| (r, i)))
            .min()
            .map(|(_, i)| i)
        else {
            return widths;
        };
        widths.retain(|&(i, _)| i != drop);
        for (i, n) in widths.iter_mut() {
            if *i != last {
                *n = widest(*i).min(columns[*i].width);
            }
        }
    }
}

/// Rows of cells printed in aligned columns laid out by [`layout`]; the last column is never
/// padded, and cut only when it may shrink.
fn table(
    columns: &[Column],
    rows: &[Vec<String>],
    terminal: Option<usize>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let last = columns.len() - 1;
    let widths = layout(columns, rows, terminal);
    let mut line = |cells: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (n, &(i, width)) in widths.iter().enumerate() {
            if i == last && (terminal.is_none() || columns[i].shrinks_to.is_none()) {
                s.push_str(&clean(&cells[i]));
                continue;
            }
            let cell = fit(&cells[i], width);
            s.push_str(&cell);
            if n + 1 < widths.len() {
                let pad = width.saturating_sub(crate::terminal::width(&cell));
                s.push_str(&" ".repeat(pad + GAP));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    let header: Vec<String> = columns.iter().map(|c| c.header.to_uppercase()).collect();
    line(&header)?;
    for r in rows {
        line(r)?;
    }
    Ok(())
}

/// The threat table's columns: the score, the sender and title (cut first) and the whole id
/// stay; the delivery, severity, status and time go first on a narrow terminal.
const THREAT_COLUMNS: &[Column] = &[
    Column {
        header: "score",
        width: 5,
        shrinks_to: None,
        drop_rank: None,
    },
    Column {
        header: "created (UTC)",
        width: 16,
        shrinks_to: None,
        drop_rank: Some(3),
    },
    Column {
        header: "severity",
        width: 13,
        shrinks_to: None,
        drop_rank: Some(1),
    },
    Column {
        header: "status",
        width: 10,
        shrinks_to: None,
        drop_rank: Some(2),
    },
    Column {
        header: "delivery",
        width: 9,
        shrinks_to: None,
        drop_rank: Some(0),
    },
    Column {
        header: "sender",
        width: 32,
        shrinks_to: Some(12),
        drop_rank: None,
    },
    Column {
        header: "title",
        width: 40,
        shrinks_to: Some(16),
        drop_rank: None,
    },
    Column {
        header: "id",
        width: 0,
        shrinks_to: None,
        drop_rank: None,
    },
];

/// The message table's columns: time, sender, recipient and subject stay (cut to fit).
const MESSAGE_COLUMNS: &[Column] = &[
    Column {
        header: "time (UTC)",
        width: 16,
        shrinks_to: None,
        drop_rank: None,
    },
    Column {
        header: "sender",
        width: 30,
        shrinks_to: Some(14),
        drop_rank: None,
    },
    Column {
        header: "recipient",
        width: 26,
        shrinks_to: Some(14),
        drop_rank: None,
    },
    Column {
        header: "delivery",
        width: 22,
        shrinks_to: Some(12),
        drop_rank: Some(1),
    },
    Column {
        header: "threats",
        width: 12,
        shrinks_to: None,
        drop_rank: Some(0),
    },
    Column {
        header: "subject",
        width: 0,
        shrinks_to: Some(16),
        drop_rank: None,
    },
];

fn footer(noun: &str, order: &str, shown: usize, count: Count) -> String {
    let total = if count.capped {
        format!("{}+", count.n)
    } else {
        count.n.to_string()
    };
    if (shown as i64) < count.n || count.capped {
        format!("{shown} of {total} {noun} ({order}; --limit N shows more)")
    } else {
        format!("{total} {noun}")
    }
}

fn short_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn write_table(
    store: &Store,
    query: &Query,
    now_ms: i64,
    found: &Found,
    (threats, order, messages): (bool, ThreatOrder, bool),
    terminal: Option<usize>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::output("the results", e);
    let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
    if threats {
        let rows: Vec<Vec<String>> = found
            .threats
            .iter()
            .map(|t| {
                vec![
                    t.score.map_or_else(|| "-".into(), |n| n.to_string()),
                    short_time(t.created_ms),
                    opt(&t.severity),
                    opt(&t.status),
                    t.delivery.label().to_string(),
                    opt(&t.sender),
                    opt(&t.title),
                    t.id.clone(),
                ]
            })
            .collect();
        table(THREAT_COLUMNS, &rows, terminal, out).map_err(io)?;
        let count = if found.all_threats {
            Count::exact(rows.len())
        } else {
            store.threat_count(query, now_ms, COUNT_CAP)?
        };
        let order = if order == ThreatOrder::BY_SCORE {
            "highest score first"
        } else {
            "newest first"
        };
        writeln!(out, "{}", footer("threats", order, rows.len(), count)).map_err(io)?;
    }
    if messages {
        if threats {
            writeln!(out).map_err(io)?;
        }
        let rows: Vec<Vec<String>> = found
            .messages
            .iter()
            .map(|m| {
                vec![
                    short_time(m.timestamp_ms),
                    opt(&m.sender),
                    m.recipient.clone(),
                    message_delivery(m).unwrap_or_else(|| "-".into()),
                    opt(&m.threat_types),
                    opt(&m.subject),
                ]
            })
            .collect();
        table(MESSAGE_COLUMNS, &rows, terminal, out).map_err(io)?;
        let count = if found.all_messages {
            Count::exact(rows.len())
        } else {
            store.event_count(query, now_ms, COUNT_CAP)?
        };
        writeln!(
            out,
            "{}",
            footer("messages", "newest first", rows.len(), count)
        )
        .map_err(io)?;
    }
    Ok(())
}

/// `mailtrail search`.
pub fn run(global: &GlobalOpts, args: &SearchArgs) -> Result<(), Failure> {
    let input = args.query.join(" ");
    let query = parse(&input).map_err(|e| parse_failure(&input, &e))?;
    let cfg = config::load(&LoadOptions::from_process(global))?;
    let store = Store::open_read_only(&cfg.store.path)?;
    let (threats, messages) = match (args.threats, args.messages) {
        (false, false) => (true, true),
        pair => pair,
    };
    let now_ms = Utc::now().timestamp_millis();
    let order = threat_order(args.sort);
    let found = find(
        &store,
        &query,
        now_ms,
        (threats, order),
        messages,
        args.limit,
    )?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| Failure::output("the results", e);
    match args.format() {
        SearchFormat::Table => write_table(
            &store,
            &query,
            now_ms,
            &found,
            (threats, order, messages),
            crate::terminal::stdout_width(),
            &mut out,
        )?,
        SearchFormat::Json => write_json(&found, &mut out).map_err(io)?,
        SearchFormat::Csv => write_csv(&found, &mut out).map_err(io)?,
        SearchFormat::Ocsf => write_ocsf(&store, &found, &mut out)?,
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_follow_rfc_4180_and_defuse_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("@sum"), "'@sum");
    }

    #[test]
    fn a_parse_error_is_one_line_with_its_column_and_fix() {
        let input = "invoice sendr:ceo@contoso.com";
        let f = parse_failure(input, &parse(input).unwrap_err());
        assert_eq!(f.exit_code, 2);
        assert_eq!(
            f.message,
            "search: the filter at column 9 ('sendr:'): unknown filter 'sendr:'; did you mean 'sender:'?"
        );
        assert!(!f.message.contains('\n'));
        let input = "sender:";
        let f = parse_failure(input, &parse(input).unwrap_err());
        assert!(
            f.message
                .starts_with("search: the filter at column 8: 'sender:' needs a value"),
            "{}",
            f.message
        );
    }

    fn lines(columns: &[Column], rows: &[Vec<String>], terminal: Option<usize>) -> Vec<String> {
        let mut out = Vec::new();
        table(columns, rows, terminal, &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    fn threat_row(sender: &str, title: &str, id: &str) -> Vec<String> {
        [
            "87",
            "2026-11-20 10:00",
            "high",
            "new",
            "inbox",
            sender,
            title,
            id,
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn a_table_fits_the_terminal_keeping_the_score_and_the_whole_id() {
        let id = "da638412345678901234_-1234567890";
        let rows = vec![
            threat_row(
                "payroll-notifications@relecloud-shipping.example.org",
                "Email messages containing malicious URL removed after delivery",
                id,
            ),
            threat_row("a@b.example", "Short", "da1"),
        ];
        let wide = lines(THREAT_COLUMNS, &rows, None);
        assert!(
            wide[1].chars().count() > 140,
            "no terminal: the full layout"
        );
        for width in [80, 100, 120] {
            let narrow = lines(THREAT_COLUMNS, &rows, Some(width));
            for l in &narrow {
                assert!(l.chars().count() <= width, "{width}: {l:?}");
            }
            assert!(narrow[0].starts_with("SCORE"), "{narrow:?}");
            assert!(
                narrow[1].starts_with("87 ") && narrow[1].ends_with(id),
                "{narrow:?}"
            );
            assert!(
                narrow[1].contains('…'),
                "the sender or title is cut: {narrow:?}"
            );
        }
        // At 80 columns the lowest-value column (delivery) goes first; the sender stays.
        let narrow = lines(THREAT_COLUMNS, &rows, Some(80));
        assert!(
            !narrow[0].contains("DELIVERY") && narrow[0].contains("SENDER"),
            "{narrow:?}"
        );
        // Wide enough: nothing is dropped, and nothing is wider than without a terminal.
        let roomy = lines(THREAT_COLUMNS, &rows, Some(300));
        assert_eq!(roomy[0].split_whitespace().count(), 9, "{roomy:?}");
        assert!(
            roomy[1].chars().count() <= wide[1].chars().count(),
            "{roomy:?}"
        );
        assert!(roomy[1].ends_with(id), "{roomy:?}");

        let message = [
            "2026-11-20 10:00",
            "payroll-notifications@relecloud-shipping.example.org",
            "megan.bowen@contoso.example",
            "Delivered / Inbox",
            "Phish",
            "Your invoice INV-2026-0042 is overdue: pay today to avoid suspension",
        ]
        .map(String::from)
        .to_vec();
        for l in lines(MESSAGE_COLUMNS, std::slice::from_ref(&message), Some(80)) {
            assert!(l.chars().count() <= 80, "{l:?}");
        }
        // Wide characters take two cells each: the line still fits the terminal.
        let mut cjk = message;
        cjk[1] = "請求書@例え.jp".repeat(4);
        cjk[5] = "請求書の支払い期限が過ぎています".repeat(3);
        for l in lines(MESSAGE_COLUMNS, &[cjk], Some(80)) {
            assert!(crate::terminal::width(&l) <= 80, "{l:?}");
        }
    }

    #[test]
    fn long_cells_are_cut_and_cleaned() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("a\u{1b}[2Jb", 20), "a\\x1b[2Jb");
    }
}
