//! Read-only queries that answer the dashboard and `mailtrail search` with view models:
//! paged threat and email-event lists in any filter of [`crate::search`], their details, the
//! overview's aggregates and sync health. All SQL of the dashboard lives here; every value
//! reaches SQLite as a bound parameter.
//!
//! Lists are paged by keyset (the sort value, the time, the rowid of the last row seen), never by
//! OFFSET, so page 10,000 costs what page 1 costs. The indexes these queries rely on are in
//! `schema/0003_tui_indexes.sql`.
//!
//! Strings are returned exactly as stored: cleaning them for a terminal is the caller's job
//! (see [`crate::terminal::clean`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde_json::Value as Json;

use super::notes::{Annotation, Mark};
use super::sync::{ACTIVITY, StreamStatus, THREATS};
use super::{Store, StoreError};
use crate::search::{Query, SqlWhere, Table, email_where, threat_where};

/// The severity rank of an alert; the same expression is indexed (`alerts_tui_severity`), so
/// keep the two identical.
pub const SEVERITY_RANK: &str = "(CASE a.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 WHEN 'informational' THEN 0 ELSE -1 END)";

/// Which way a page goes from its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The rows after the anchor in list order (or the first page without one).
    Forward,
    /// The rows before the anchor (or the last page without one), still returned in list order.
    Backward,
}

/// Email events (copies of the alert's messages) a threat's detail reads at most.
pub const DETAIL_COPIES: usize = 500;

/// A count that stops at a cap, so counting a huge match set stays cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Count {
    pub n: i64,
    /// The true count is at least `n`.
    pub capped: bool,
}

impl Count {
    /// `n` rows, every one of them counted.
    pub fn exact(n: usize) -> Count {
        Count {
            n: i64::try_from(n).unwrap_or(i64::MAX),
            capped: false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Threats (alerts)
// ---------------------------------------------------------------------------------------------

/// Columns the threat list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreatSort {
    /// The triage score ([`crate::triage`]); unscored alerts last.
    Score,
    Time,
    Severity,
    Status,
    Title,
}

impl ThreatSort {
    pub const ALL: [ThreatSort; 5] = [
        ThreatSort::Score,
        ThreatSort::Time,
        ThreatSort::Severity,
        ThreatSort::Status,
        ThreatSort::Title,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ThreatSort::Time => "time",
            ThreatSort::Severity => "severity",
            ThreatSort::Status => "status",
            ThreatSort::Title => "title",
            ThreatSort::Score => "score",
        }
    }

    /// The SQL sort value; each has an index ending in `created_ms` (0003_tui_indexes.sql).
    fn expr(self) -> &'static str {
        match self {
            ThreatSort::Time => "a.created_ms",
            ThreatSort::Severity => SEVERITY_RANK,
            ThreatSort::Status => "coalesce(a.status, '')",
            ThreatSort::Title => "coalesce(a.title, '')",
            ThreatSort::Score => "coalesce(a.triage_score, -1)",
        }
    }
}

/// A sort column and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreatOrder {
    pub column: ThreatSort,
    pub descending: bool,
}

impl ThreatOrder {
    /// The threat list's first order: highest triage score first.
    pub const BY_SCORE: ThreatOrder = ThreatOrder {
        column: ThreatSort::Score,
        descending: true,
    };
}

impl Default for ThreatOrder {
    fn default() -> Self {
        ThreatOrder {
            column: ThreatSort::Time,
            descending: true,
        }
    }
}

/// Where a threat row sits in its list: what the next page continues from.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatKey {
    sort: Value,
    created_ms: i64,
    rowid: i64,
}

/// Where an alert's message went, summarised over its message evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// At least one copy sits in an inbox and was not remediated: the ones that matter.
    InInbox,
    /// Delivered to an inbox, then removed (ZAP, admin action).
    Removed,
    Junk,
    /// Quarantined, dropped, failed or replaced: it never reached the user.
    Blocked,
    /// Any other location, as Graph wrote it.
    Other(String),
    /// No message evidence.
    Unknown,
}

impl DeliveryOutcome {
    pub fn label(&self) -> &str {
        match self {
            DeliveryOutcome::InInbox => "in inbox",
            DeliveryOutcome::Removed => "removed",
            DeliveryOutcome::Junk => "junk",
            DeliveryOutcome::Blocked => "blocked",
            DeliveryOutcome::Other(s) => s,
            DeliveryOutcome::Unknown => "-",
        }
    }
}

/// One row of the threat list.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatRow {
    pub key: ThreatKey,
    pub tenant: String,
    pub id: String,
    pub created_ms: i64,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub title: Option<String>,
    /// Distinct recipients named by the message evidence.
    pub recipients: i64,
    /// The first of them.
    pub recipient: Option<String>,
    pub delivery: DeliveryOutcome,
    /// From the first message evidence: what the pivots start from.
    pub sender: Option<String>,
    pub sender_display: Option<String>,
    pub subject: Option<String>,
    pub url: Option<String>,
    pub network_message_id: Option<String>,
    /// The triage score, None until scored.
    pub score: Option<i64>,
    /// The analyst's bookmark and note (filled by the dashboard's loader, `store::notes`).
    pub mark: Mark,
}

const THREAT_COLUMNS: &str =
    "a.rowid, a.tenant, a.id, a.created_ms, a.severity, a.status, a.title, a.triage_score";

fn threat_from_row(r: &rusqlite::Row<'_>, sort: ThreatSort) -> rusqlite::Result<ThreatRow> {
    let created_ms: i64 = r.get(3)?;
    let severity: Option<String> = r.get(4)?;
    let status: Option<String> = r.get(5)?;
    let title: Option<String> = r.get(6)?;
    let score: Option<i64> = r.get(7)?;
    let sort_value = match sort {
        ThreatSort::Time => Value::Integer(created_ms),
        ThreatSort::Severity => Value::Integer(severity_rank(severity.as_deref())),
        ThreatSort::Status => Value::Text(status.clone().unwrap_or_default()),
        ThreatSort::Title => Value::Text(title.clone().unwrap_or_default()),
        ThreatSort::Score => Value::Integer(score.unwrap_or(-1)),
    };
    Ok(ThreatRow {
        key: ThreatKey {
            sort: sort_value,
            created_ms,
            rowid: r.get(0)?,
        },
        tenant: r.get(1)?,
        id: r.get(2)?,
        created_ms,
        severity,
        status,
        title,
        recipients: 0,
        recipient: None,
        delivery: DeliveryOutcome::Unknown,
        sender: None,
        sender_display: None,
        subject: None,
        url: None,
        network_message_id: None,
        score,
        mark: Mark::default(),
    })
}

/// Must agree with [`SEVERITY_RANK`].
fn severity_rank(s: Option<&str>) -> i64 {
    match s {
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        Some("informational") => 0,
        _ => -1,
    }
}

/// `ORDER BY` and keyset condition for `exprs` (most significant first) in one direction.
fn keyset(exprs: &[&str], descending: bool, dir: Direction) -> (String, &'static str) {
    let desc = descending ^ (dir == Direction::Backward);
    let word = if desc { "DESC" } else { "ASC" };
    let order = exprs
        .iter()
        .map(|e| format!("{e} {word}"))
        .collect::<Vec<_>>()
        .join(", ");
    (order, if desc { "<" } else { ">" })
}

/// The SQL of one threat page and its parameters.
fn threat_page_sql(
    filter: &SqlWhere,
    order: ThreatOrder,
    anchor: Option<&ThreatKey>,
    dir: Direction,
    limit: usize,
) -> (String, Vec<Value>) {
    let sort = order.column.expr();
    let exprs: Vec<&str> = if order.column == ThreatSort::Time {
        vec![sort, "a.rowid"]
    } else {
        vec![sort, "a.created_ms", "a.rowid"]
    };
    let (order_by, cmp) = keyset(&exprs, order.descending, dir);
    let mut params = filter.params.clone();
    let mut sql = format!(
        "SELECT {THREAT_COLUMNS} FROM alerts a WHERE {}",
        filter.expr()
    );
    if let Some(k) = anchor {
        let marks = vec!["?"; exprs.len()].join(", ");
        sql.push_str(&format!(" AND ({}) {cmp} ({marks})", exprs.join(", ")));
        if order.column != ThreatSort::Time {
            params.push(k.sort.clone());
        }
        params.push(Value::Integer(k.created_ms));
        params.push(Value::Integer(k.rowid));
    }
    sql.push_str(&format!(" ORDER BY {order_by} LIMIT ?"));
    params.push(Value::Integer(limit as i64));
    (sql, params)
}

/// The SQL of one email-event page and its parameters.
fn event_page_sql(
    filter: &SqlWhere,
    descending: bool,
    anchor: Option<&EventKey>,
    dir: Direction,
    limit: usize,
) -> (String, Vec<Value>) {
    let exprs = ["ev.timestamp_ms", "ev.rowid"];
    let (order_by, cmp) = keyset(&exprs, descending, dir);
    let mut params = filter.params.clone();
    let mut sql = format!(
        "SELECT {EVENT_COLUMNS} FROM email_events ev WHERE {}",
        filter.expr()
    );
    if let Some(k) = anchor {
        sql.push_str(&format!(" AND (ev.timestamp_ms, ev.rowid) {cmp} (?, ?)"));
        params.push(Value::Integer(k.timestamp_ms));
        params.push(Value::Integer(k.rowid));
    }
    sql.push_str(&format!(" ORDER BY {order_by} LIMIT ?"));
    params.push(Value::Integer(limit as i64));
    (sql, params)
}

impl Store {
    fn query_rows<T>(
        &self,
        sql: &str,
        params: &[Value],
        map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let started = std::time::Instant::now();
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(params.iter()), map)
            .map_err(|e| self.err(e))?;
        let rows = rows
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| self.err(e))?;
        tracing::debug!(
            "{} rows in {} ms: {sql} {params:?}",
            rows.len(),
            started.elapsed().as_millis()
        );
        Ok(rows)
    }

    /// How many rows `from_where` (`table alias WHERE …`) has, counting no further than `cap`.
    pub(super) fn capped_count(
        &self,
        from_where: &str,
        params: &[Value],
        cap: i64,
    ) -> Result<Count, StoreError> {
        let sql = format!("SELECT count(*) FROM (SELECT 1 FROM {from_where} LIMIT ?)");
        let mut all = params.to_vec();
        all.push(Value::Integer(cap.saturating_add(1)));
        let n: i64 = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params_from_iter(all.iter()), |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        Ok(Count {
            n: n.min(cap),
            capped: n > cap,
        })
    }

    /// One page of threats matching `query`, in `order`, continuing from `anchor`.
    pub fn threat_page(
        &self,
        query: &Query,
        now_ms: i64,
        order: ThreatOrder,
        anchor: Option<&ThreatKey>,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<ThreatRow>, StoreError> {
        self.threat_page_where(
            &self.threat_filter(query, now_ms),
            order,
            anchor,
            dir,
            limit,
        )
    }

    fn threat_page_where(
        &self,
        filter: &SqlWhere,
        order: ThreatOrder,
        anchor: Option<&ThreatKey>,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<ThreatRow>, StoreError> {
        let (sql, params) = threat_page_sql(filter, order, anchor, dir, limit);
        let mut rows = self.query_rows(&sql, &params, |r| threat_from_row(r, order.column))?;
        if dir == Direction::Backward {
            rows.reverse();
        }
        self.summarise_threats(&mut rows)?;
        Ok(rows)
    }

    /// Fills the evidence-derived columns of a page (recipients, delivery, sender…): a few
    /// indexed lookups per row, on a page of rows only.
    fn summarise_threats(&self, rows: &mut [ThreatRow]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT recipient, sender, json_extract(raw, '$.p2Sender.displayName'), subject,
                        url, network_message_id, delivery_location, remediation_status
                 FROM alert_evidence
                 WHERE tenant = ?1 AND alert_id = ?2 AND odata_type LIKE '%analyzedMessageEvidence'
                 ORDER BY position",
            )
            .map_err(|e| self.err(e))?;
        for row in rows.iter_mut() {
            type Evidence = (
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let evidence: Vec<Evidence> = stmt
                .query_map(params![row.tenant, row.id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        // json_extract of a non-string gives a number; keep only text.
                        r.get::<_, Value>(2).map(|v| match v {
                            Value::Text(s) => Some(s),
                            _ => None,
                        })?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                })
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))?;
            let mut recipients: Vec<&str> =
                evidence.iter().filter_map(|e| e.0.as_deref()).collect();
            recipients.sort_unstable();
            recipients.dedup();
            row.recipients = recipients.len() as i64;
            if let Some(first) = evidence.first() {
                row.recipient = first.0.clone();
                row.sender = first.1.clone();
                row.sender_display = first.2.clone();
                row.subject = first.3.clone();
                row.network_message_id = first.5.clone();
            }
            row.url = evidence.iter().find_map(|e| e.4.clone());
            row.delivery =
                delivery_outcome(evidence.iter().map(|e| (e.6.as_deref(), e.7.as_deref())));
        }
        Ok(())
    }

    /// How many threats match (up to `cap`).
    pub fn threat_count(&self, query: &Query, now_ms: i64, cap: i64) -> Result<Count, StoreError> {
        if self.text_count_exceeds(Table::Threats, query, now_ms, cap) {
            return Ok(Count {
                n: cap,
                capped: true,
            });
        }
        let w = self.threat_count_filter(query, now_ms);
        self.capped_count(&format!("alerts a WHERE {}", w.expr()), &w.params, cap)
    }

    /// Everything about one alert, or None when it is gone.
    pub fn threat_detail(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<ThreatDetail>, StoreError> {
        let found: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT raw, last_update_ns FROM alerts WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((raw, last_update_ns)) = found else {
            return Ok(None);
        };
        let alert: Json = serde_json::from_str(&raw).unwrap_or(Json::Null);
        let previous_status: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT status FROM alert_versions WHERE tenant = ?1 AND id = ?2 AND last_update_ns < ?3
                 ORDER BY last_update_ns DESC LIMIT 1",
                params![tenant, id, last_update_ns],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let versions: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM alert_versions WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let ocsf = {
            let previous = previous_status.map(|s| s.unwrap_or_default());
            let last_update = alert
                .get("lastUpdateDateTime")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let ctx = crate::ocsf::FindingContext {
                activity: crate::ocsf::finding_activity(previous.as_deref(), &alert),
                event_uid: crate::ocsf::alert_event_uid(tenant, id, last_update),
                tenant_name: tenant.to_string(),
                processed_time_ms: None,
                raw: false,
            };
            crate::ocsf::detection_finding(&alert, &ctx)
        };
        let evidence = alert
            .get("evidence")
            .and_then(Json::as_array)
            .map(|items| items.iter().map(evidence_item).collect())
            .unwrap_or_default();
        let mitre = alert
            .get("mitreTechniques")
            .and_then(Json::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let links = ["alertWebUrl", "incidentWebUrl"]
            .iter()
            .filter_map(|k| {
                alert
                    .get(*k)
                    .and_then(Json::as_str)
                    .filter(|s| !s.is_empty())
                    .map(|s| (k.to_string(), s.to_string()))
            })
            .collect();
        let fields = match &alert {
            Json::Object(map) => map
                .iter()
                .filter(|(k, _)| k.as_str() != "evidence")
                .map(|(k, v)| (k.clone(), scalar(v)))
                .collect(),
            _ => Vec::new(),
        };
        let events = self.query_rows(
            &format!(
                "SELECT {EVENT_COLUMNS} FROM email_events ev
                 WHERE ev.network_message_id IN (
                    SELECT network_message_id FROM alert_evidence
                    WHERE tenant = ?1 AND alert_id = ?2 AND network_message_id IS NOT NULL)
                 ORDER BY ev.timestamp_ms, ev.rowid LIMIT {DETAIL_COPIES}"
            ),
            &[Value::Text(tenant.into()), Value::Text(id.into())],
            event_from_row,
        )?;
        let row = self
            .threat_page_where(
                &SqlWhere {
                    sql: "a.tenant = ? AND a.id = ?".into(),
                    params: vec![Value::Text(tenant.into()), Value::Text(id.into())],
                },
                ThreatOrder::default(),
                None,
                Direction::Forward,
                1,
            )?
            .into_iter()
            .next();
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ThreatDetail {
            row,
            versions,
            fields,
            evidence,
            mitre,
            links,
            raw_pretty: serde_json::to_string_pretty(&alert).unwrap_or(raw),
            ocsf_pretty: serde_json::to_string_pretty(&ocsf).unwrap_or_default(),
            events,
            triage: crate::triage::stored(&self.conn, tenant, id).map_err(|e| self.err(e))?,
            notes: Vec::new(),
        }))
    }
}

fn delivery_outcome<'a>(
    items: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> DeliveryOutcome {
    let mut best = DeliveryOutcome::Unknown;
    let rank = |o: &DeliveryOutcome| match o {
        DeliveryOutcome::InInbox => 5,
        DeliveryOutcome::Removed => 4,
        DeliveryOutcome::Junk => 3,
        DeliveryOutcome::Other(_) => 2,
        DeliveryOutcome::Blocked => 1,
        DeliveryOutcome::Unknown => 0,
    };
    for (location, remediation) in items {
        let Some(location) = location else { continue };
        let loc = location.to_ascii_lowercase();
        let remediated = remediation
            .is_some_and(|r| matches!(r.to_ascii_lowercase().as_str(), "remediated" | "prevented"));
        let o = if loc.starts_with("inbox") {
            if remediated {
                DeliveryOutcome::Removed
            } else {
                DeliveryOutcome::InInbox
            }
        } else if loc.starts_with("junk") {
            DeliveryOutcome::Junk
        } else if matches!(loc.as_str(), "quarantine" | "dropped" | "failed") {
            DeliveryOutcome::Blocked
        } else if loc == "deletedfolder" {
            DeliveryOutcome::Removed
        } else {
            DeliveryOutcome::Other(location.to_string())
        };
        if rank(&o) > rank(&best) {
            best = o;
        }
    }
    best
}

/// A JSON value as one line: strings bare, arrays of strings joined, anything else compact.
fn scalar(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::String(s) => s.clone(),
        Json::Array(items) if items.iter().all(Json::is_string) => items
            .iter()
            .filter_map(Json::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Nested objects as dotted keys (`p2Sender.emailAddress`), one level of arrays kept compact.
fn flatten(prefix: &str, v: &Json, out: &mut Vec<(String, String)>) {
    match v {
        Json::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), scalar(other))),
    }
}

fn evidence_item(v: &Json) -> EvidenceItem {
    let kind = v
        .get("@odata.type")
        .and_then(Json::as_str)
        .map(|t| t.rsplit('.').next().unwrap_or(t).to_string())
        .unwrap_or_else(|| "evidence".into());
    let mut fields = Vec::new();
    if let Json::Object(map) = v {
        for (k, v) in map {
            if k != "@odata.type" {
                flatten(k, v, &mut fields);
            }
        }
    }
    EvidenceItem { kind, fields }
}

/// One evidence item of an alert: its kind and every field (nested ones as dotted keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    pub kind: String,
    pub fields: Vec<(String, String)>,
}

/// Everything the threat detail pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreatDetail {
    pub row: ThreatRow,
    /// Distinct versions stored.
    pub versions: i64,
    /// Every top-level field of the alert except `evidence`, in the raw record's order.
    pub fields: Vec<(String, String)>,
    pub evidence: Vec<EvidenceItem>,
    pub mitre: Vec<String>,
    /// (name, URL): the alert and incident in the Defender portal.
    pub links: Vec<(String, String)>,
    pub raw_pretty: String,
    /// The OCSF Detection Finding of the current version, mapped now from the raw record.
    pub ocsf_pretty: String,
    /// The email events of the messages the evidence names.
    pub events: Vec<EventRow>,
    /// The stored triage score and its reasons (None: not scored yet).
    pub triage: Option<crate::triage::StoredScore>,
    /// The analyst's annotations of this threat (filled by the dashboard's loader).
    pub notes: Vec<Annotation>,
}

// ---------------------------------------------------------------------------------------------
// Email events
// ---------------------------------------------------------------------------------------------

/// Where an email-event row sits in its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKey {
    timestamp_ms: i64,
    rowid: i64,
}

/// One row of the activity list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub key: EventKey,
    pub rowid: i64,
    pub tenant: String,
    pub timestamp_ms: i64,
    pub direction: Option<String>,
    pub sender: Option<String>,
    pub sender_display: Option<String>,
    pub sender_domain: Option<String>,
    pub recipient: String,
    pub subject: Option<String>,
    pub delivery_action: Option<String>,
    pub delivery_location: Option<String>,
    pub latest_delivery_location: Option<String>,
    pub threat_types: Option<String>,
    pub network_message_id: String,
    /// A URL the message carries, as alert evidence knows it (EmailEvents has none).
    pub url: Option<String>,
    /// Alerts naming this message.
    pub alerts: i64,
    /// The analyst's bookmark and note (filled by the dashboard's loader, `store::notes`).
    pub mark: Mark,
}

const EVENT_COLUMNS: &str = "ev.rowid, ev.tenant, ev.timestamp_ms, ev.direction, ev.sender_from,
    ev.sender_display_name, ev.sender_from_domain, ev.recipient, ev.subject, ev.delivery_action,
    ev.delivery_location, ev.latest_delivery_location, ev.threat_types, ev.network_message_id,
    (SELECT e.url FROM alert_evidence e WHERE e.network_message_id = ev.network_message_id AND e.url IS NOT NULL LIMIT 1),
    (SELECT count(DISTINCT e.alert_id) FROM alert_evidence e WHERE e.network_message_id = ev.network_message_id)";

fn event_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    let rowid: i64 = r.get(0)?;
    let timestamp_ms: i64 = r.get(2)?;
    Ok(EventRow {
        key: EventKey {
            timestamp_ms,
            rowid,
        },
        rowid,
        tenant: r.get(1)?,
        timestamp_ms,
        direction: r.get(3)?,
        sender: r.get(4)?,
        sender_display: r.get(5)?,
        sender_domain: r.get(6)?,
        recipient: r.get(7)?,
        subject: r.get(8)?,
        delivery_action: r.get(9)?,
        delivery_location: r.get(10)?,
        latest_delivery_location: r.get(11)?,
        threat_types: r.get(12)?,
        network_message_id: r.get(13)?,
        url: r.get(14)?,
        alerts: r.get(15)?,
        mark: Mark::default(),
    })
}

/// Everything the email-event detail pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDetail {
    pub row: EventRow,
    /// Every column of the EmailEvents row, in the raw record's order.
    pub fields: Vec<(String, String)>,
    pub raw_pretty: String,
    /// The OCSF Email Activity, mapped now from the raw row.
    pub ocsf_pretty: String,
    /// Alerts whose evidence names this message, newest first.
    pub threats: Vec<ThreatRow>,
    /// The other recipients' rows of the same message.
    pub same_message: Vec<EventRow>,
    /// The analyst's annotations of this message (filled by the dashboard's loader).
    pub notes: Vec<Annotation>,
}

impl Store {
    /// One page of email events matching `query`, newest first (or oldest first when
    /// `descending` is false), continuing from `anchor`.
    pub fn event_page(
        &self,
        query: &Query,
        now_ms: i64,
        descending: bool,
        anchor: Option<&EventKey>,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        let (sql, params) = event_page_sql(
            &self.email_filter(query, now_ms),
            descending,
            anchor,
            dir,
            limit,
        );
        let mut rows = self.query_rows(&sql, &params, event_from_row)?;
        if dir == Direction::Backward {
            rows.reverse();
        }
        Ok(rows)
    }

    /// How many email events match (up to `cap`).
    pub fn event_count(&self, query: &Query, now_ms: i64, cap: i64) -> Result<Count, StoreError> {
        if self.text_count_exceeds(Table::Emails, query, now_ms, cap) {
            return Ok(Count {
                n: cap,
                capped: true,
            });
        }
        let w = self.email_count_filter(query, now_ms);
        self.capped_count(
            &format!("email_events ev WHERE {}", w.expr()),
            &w.params,
            cap,
        )
    }

    /// Everything about one email event, or None when it is gone.
    pub fn event_detail(&self, rowid: i64) -> Result<Option<EventDetail>, StoreError> {
        let row = self
            .query_rows(
                &format!("SELECT {EVENT_COLUMNS} FROM email_events ev WHERE ev.rowid = ?"),
                &[Value::Integer(rowid)],
                event_from_row,
            )?
            .into_iter()
            .next();
        let Some(row) = row else { return Ok(None) };
        let raw: String = self
            .conn
            .query_row(
                "SELECT raw FROM email_events WHERE rowid = ?1",
                params![rowid],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let event: Json = serde_json::from_str(&raw).unwrap_or(Json::Null);
        // The Entra tenant id is recorded by the collector when it knows it.
        let tenant_id: String = self
            .conn
            .query_row(
                "SELECT tenant_id FROM tenants WHERE name = ?1",
                params![row.tenant],
                |r| r.get(0),
            )
            .unwrap_or_default();
        let ocsf = crate::ocsf::email_activity(
            &event,
            &crate::ocsf::EmailContext {
                tenant_id,
                event_uid: crate::ocsf::email_event_uid(
                    &row.tenant,
                    &row.network_message_id,
                    &row.recipient,
                ),
                tenant_name: row.tenant.clone(),
                processed_time_ms: None,
                raw: false,
            },
        );
        let fields = match &event {
            Json::Object(map) => map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect(),
            _ => Vec::new(),
        };
        let message = Query::of(crate::search::Filter::Message(
            row.network_message_id.clone(),
        ));
        let threats = self.threat_page(
            &message,
            0,
            ThreatOrder::default(),
            None,
            Direction::Forward,
            100,
        )?;
        let same_message = self.event_page(&message, 0, false, None, Direction::Forward, 200)?;
        Ok(Some(EventDetail {
            row,
            fields,
            raw_pretty: serde_json::to_string_pretty(&event).unwrap_or(raw),
            ocsf_pretty: serde_json::to_string_pretty(&ocsf).unwrap_or_default(),
            threats,
            same_message,
            notes: Vec::new(),
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Overview
// ---------------------------------------------------------------------------------------------

/// The overview's aggregates over one period (and the active filter).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overview {
    pub from_ms: i64,
    pub to_ms: i64,
    pub threats: i64,
    /// (severity, count), high first; absent severities as "unknown".
    pub by_severity: Vec<(String, i64)>,
    /// (status, count), most frequent first.
    pub by_status: Vec<(String, i64)>,
    /// Threats created per bucket, oldest first.
    pub timeline: Vec<i64>,
    pub bucket_ms: i64,
    /// Threats whose message reached an inbox.
    pub inbox: i64,
    /// … and were not remediated there.
    pub inbox_not_remediated: i64,
    /// The newest of those (not remediated first).
    pub inbox_recent: Vec<ThreatRow>,
    pub emails: i64,
    /// Email events with a threat type.
    pub threat_emails: i64,
    /// (recipient, threat messages received).
    pub top_recipients: Vec<(String, i64)>,
    /// (sender domain, threat messages sent).
    pub top_sender_domains: Vec<(String, i64)>,
    /// (threat type, email events).
    pub threat_types: Vec<(String, i64)>,
}

/// Evidence of a copy delivered to an inbox. A literal, not a parameter: it must read exactly as
/// the WHERE of the partial index `alert_evidence_inbox` for that index to be used.
const INBOX: &str = "e.delivery_location LIKE 'inbox%'";

/// Inbox evidence that was not cleaned up: the condition the overview calls out.
const IN_INBOX: &str = "e.delivery_location LIKE 'inbox%' AND coalesce(e.remediation_status, '') NOT IN ('remediated', 'prevented')";

impl Store {
    /// Aggregates for the overview over `[now − period, now)` and `query`.
    pub fn overview(
        &self,
        query: &Query,
        now_ms: i64,
        period: Duration,
        buckets: usize,
        top: usize,
    ) -> Result<Overview, StoreError> {
        let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX / 2);
        let buckets = buckets.max(1);
        let bucket_ms = (period_ms / buckets as i64).max(1);
        let to_ms = now_ms;
        let from_ms = to_ms - bucket_ms * buckets as i64;
        let mut out = Overview {
            from_ms,
            to_ms,
            bucket_ms,
            timeline: vec![0; buckets],
            ..Overview::default()
        };

        let tw = threat_where(query, now_ms);
        let threat_scope = format!("a.created_ms >= ? AND a.created_ms < ? AND {}", tw.expr());
        let mut tp = vec![Value::Integer(from_ms), Value::Integer(to_ms)];
        tp.extend(tw.params.iter().cloned());

        // Severity × status in one pass over the period (covering index alerts_tui_overview).
        let pairs = self.query_rows(
            &format!(
                "SELECT a.severity, a.status, count(*) FROM alerts a WHERE {threat_scope} GROUP BY 1, 2"
            ),
            &tp,
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        let mut sev: BTreeMap<i64, (String, i64)> = BTreeMap::new();
        let mut status: HashMap<String, i64> = HashMap::new();
        for (s, st, n) in pairs {
            out.threats += n;
            let rank = severity_rank(s.as_deref());
            let label = s.unwrap_or_else(|| "unknown".into());
            sev.entry(-rank).or_insert((label, 0)).1 += n;
            *status
                .entry(st.unwrap_or_else(|| "unknown".into()))
                .or_default() += n;
        }
        out.by_severity = sev.into_values().collect();
        out.by_status = sorted_desc(status, usize::MAX);

        for (b, n) in self.query_rows(
            &format!(
                "SELECT (a.created_ms - ?) / ?, count(*) FROM alerts a WHERE {threat_scope} GROUP BY 1"
            ),
            &[
                vec![Value::Integer(from_ms), Value::Integer(bucket_ms)],
                tp.clone(),
            ]
            .concat(),
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )? {
            if let Some(slot) = usize::try_from(b).ok().and_then(|b| out.timeline.get_mut(b)) {
                *slot += n;
            }
        }

        // One probe per alert into the partial covering index alert_evidence_inbox: NULL when
        // no copy reached an inbox, else whether one is still there (not remediated).
        let (inbox, not_remediated): (i64, i64) = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(nr), coalesce(sum(nr), 0) FROM (
                    SELECT (SELECT max(coalesce(e.remediation_status, '') NOT IN ('remediated', 'prevented'))
                            FROM alert_evidence e
                            WHERE e.tenant = a.tenant AND e.alert_id = a.id AND {INBOX}) AS nr
                    FROM alerts a WHERE {threat_scope})"
            ))
            .and_then(|mut s| {
                s.query_row(params_from_iter(tp.iter()), |r| Ok((r.get(0)?, r.get(1)?)))
            })
            .map_err(|e| self.err(e))?;
        out.inbox = inbox;
        out.inbox_not_remediated = not_remediated;
        let inbox_where = |cond: &str| SqlWhere {
            sql: format!(
                "{threat_scope} AND EXISTS (SELECT 1 FROM alert_evidence e WHERE e.tenant = a.tenant AND e.alert_id = a.id AND {cond})"
            ),
            params: tp.clone(),
        };
        out.inbox_recent = self.threat_page_where(
            &inbox_where(IN_INBOX),
            ThreatOrder::default(),
            None,
            Direction::Forward,
            top,
        )?;
        if out.inbox_recent.len() < top {
            let more = self.threat_page_where(
                &inbox_where(INBOX),
                ThreatOrder::default(),
                None,
                Direction::Forward,
                top,
            )?;
            for r in more {
                if out.inbox_recent.len() < top && !out.inbox_recent.iter().any(|x| x.key == r.key)
                {
                    out.inbox_recent.push(r);
                }
            }
        }

        let ew = email_where(query, now_ms);
        let mut ep = vec![Value::Integer(from_ms), Value::Integer(to_ms)];
        ep.extend(ew.params.iter().cloned());
        let email_scope = format!(
            "ev.timestamp_ms >= ? AND ev.timestamp_ms < ? AND {}",
            ew.expr()
        );
        out.emails = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM email_events ev WHERE {email_scope}"
            ))
            .and_then(|mut s| s.query_row(params_from_iter(ep.iter()), |r| r.get(0)))
            .map_err(|e| self.err(e))?;

        // Threat mail only: one pass over the partial index email_events_threats, aggregated here.
        let mut recipients: HashMap<String, i64> = HashMap::new();
        let mut domains: HashMap<String, i64> = HashMap::new();
        let mut types: HashMap<String, i64> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT ev.threat_types, ev.recipient, ev.sender_from_domain
                     FROM email_events ev WHERE ev.threat_types IS NOT NULL AND {email_scope}"
                ))
                .map_err(|e| self.err(e))?;
            let mut rows = stmt
                .query(params_from_iter(ep.iter()))
                .map_err(|e| self.err(e))?;
            // Borrowed text, no allocation per row: this pass reads every threat mail of the
            // period (half a million rows over 30 days at the large scale).
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let cell = |i: usize| -> Result<Option<&str>, StoreError> {
                    match r.get_ref(i).map_err(|e| self.err(e))? {
                        rusqlite::types::ValueRef::Text(t) => Ok(std::str::from_utf8(t).ok()),
                        _ => Ok(None),
                    }
                };
                let Some(tt) = cell(0)?.filter(|t| !t.trim().is_empty()) else {
                    continue;
                };
                out.threat_emails += 1;
                for t in tt.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                    bump(&mut types, t);
                }
                if let Some(rc) = cell(1)? {
                    bump(&mut recipients, rc);
                }
                if let Some(d) = cell(2)? {
                    bump(&mut domains, d);
                }
            }
        }
        out.top_recipients = sorted_desc(recipients, top);
        out.top_sender_domains = sorted_desc(domains, top);
        out.threat_types = sorted_desc(types, top);
        Ok(out)
    }

    /// Sync health of every tenant the store knows, both streams.
    pub fn health(&self, interval: Duration) -> Result<Vec<StreamStatus>, StoreError> {
        let tenants = self.known_tenants()?;
        self.stream_status(&tenants, &[THREATS, ACTIVITY], interval)
    }
}

/// Looking the key up first avoids an allocation per row for keys already counted.
fn bump(map: &mut HashMap<String, i64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// The `top` largest counts, ties by name, for stable output.
fn sorted_desc(map: HashMap<String, i64>, top: usize) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(top);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_outcome_keeps_the_worst_case() {
        let o = |items: &[(Option<&str>, Option<&str>)]| delivery_outcome(items.iter().copied());
        assert_eq!(o(&[]), DeliveryOutcome::Unknown);
        assert_eq!(
            o(&[(Some("quarantine"), None), (Some("inbox"), Some("none"))]),
            DeliveryOutcome::InInbox
        );
        assert_eq!(
            o(&[(Some("inbox"), Some("remediated"))]),
            DeliveryOutcome::Removed
        );
        assert_eq!(o(&[(Some("junkFolder"), None)]), DeliveryOutcome::Junk);
        assert_eq!(
            o(&[(Some("external"), None)]),
            DeliveryOutcome::Other("external".into())
        );
    }

    #[test]
    fn severity_rank_agrees_with_the_sql() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        for s in [
            Some("high"),
            Some("medium"),
            Some("low"),
            Some("informational"),
            Some("odd"),
            None,
        ] {
            let sql_rank: i64 = store
                .conn()
                .query_row(
                    &format!("SELECT {SEVERITY_RANK} FROM (SELECT ?1 AS severity) a"),
                    [s],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(sql_rank, severity_rank(s), "{s:?}");
        }
    }

    fn plan(store: &Store, sql: &str, params: &[Value]) -> String {
        let mut stmt = store
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt
            .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    /// The dashboard's queries are answered through indexes, in index order (no sort of the
    /// whole result), on a store without ANALYZE statistics — as users' stores are.
    #[test]
    fn list_and_pivot_queries_use_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        let q = |s: &str| crate::search::parse(s).unwrap();
        let key = EventKey {
            timestamp_ms: 1,
            rowid: 1,
        };
        for (query, anchor, dir, index) in [
            ("", None, Direction::Forward, "email_events_time"),
            ("", Some(&key), Direction::Forward, "email_events_time"),
            ("", Some(&key), Direction::Backward, "email_events_time"),
            ("since:1d", None, Direction::Forward, "email_events_time"),
            (
                "sender:a@b.c",
                None,
                Direction::Forward,
                "email_events_sender",
            ),
            (
                "recipient:a@b.c",
                Some(&key),
                Direction::Forward,
                "email_events_recipient",
            ),
            (
                "domain:b.c",
                None,
                Direction::Forward,
                "email_events_domain",
            ),
            (
                "message:m-1",
                None,
                Direction::Forward,
                "email_events_message",
            ),
            (
                "url:https://x.test/a",
                None,
                Direction::Forward,
                "alert_evidence_url",
            ),
        ] {
            let (sql, params) = event_page_sql(&email_where(&q(query), 0), true, anchor, dir, 200);
            let p = plan(&store, &sql, &params);
            assert!(p.contains(index), "{query}: expected {index}:\n{p}");
            // A message or a URL selects a handful of rows: sorting those is fine.
            let few = query.starts_with("message:") || query.starts_with("url:");
            assert!(
                !p.contains("TEMP B-TREE FOR ORDER BY") || few,
                "{query} sorts:\n{p}"
            );
            assert!(
                !p.contains("SCAN ev\n") && !p.ends_with("SCAN ev"),
                "{query} scans the table:\n{p}"
            );
        }
        let tkey = ThreatKey {
            sort: Value::Integer(1),
            created_ms: 1,
            rowid: 1,
        };
        for (query, column, anchor, index) in [
            ("", ThreatSort::Time, None, "alerts_"),
            ("", ThreatSort::Time, Some(&tkey), "alerts_"),
            ("", ThreatSort::Severity, Some(&tkey), "alerts_tui_severity"),
            ("", ThreatSort::Score, None, "alerts_tui_score"),
            ("", ThreatSort::Score, Some(&tkey), "alerts_tui_score"),
            ("", ThreatSort::Status, None, "alerts_tui_status"),
            ("", ThreatSort::Title, None, "alerts_tui_title"),
            (
                "sender:a@b.c",
                ThreatSort::Time,
                None,
                "alert_evidence_sender",
            ),
            (
                "recipient:a@b.c",
                ThreatSort::Time,
                None,
                "alert_evidence_recipient",
            ),
            (
                "domain:b.c",
                ThreatSort::Time,
                None,
                "alert_evidence_sender_domain",
            ),
            (
                "url:https://x.test/a",
                ThreatSort::Time,
                None,
                "alert_evidence_url",
            ),
            (
                "message:m-1",
                ThreatSort::Time,
                None,
                "alert_evidence_message",
            ),
        ] {
            let order = ThreatOrder {
                column,
                descending: true,
            };
            let (sql, params) = threat_page_sql(
                &threat_where(&q(query), 0),
                order,
                anchor,
                Direction::Forward,
                200,
            );
            let p = plan(&store, &sql, &params);
            assert!(
                p.contains(index),
                "{query} by {column:?}: expected {index}:\n{p}"
            );
            assert!(
                !p.contains("SCAN a\n") && !p.ends_with("SCAN a"),
                "{query} by {column:?} scans the table:\n{p}"
            );
        }
        // The overview's threat-mail pass reads the partial covering index only.
        let w = email_where(&Query::default(), 0);
        let p = plan(
            &store,
            &format!(
                "SELECT ev.threat_types, ev.recipient, ev.sender_from_domain FROM email_events ev
                 WHERE ev.threat_types IS NOT NULL AND ev.timestamp_ms >= ? AND ev.timestamp_ms < ? AND {}",
                w.expr()
            ),
            &[Value::Integer(0), Value::Integer(1)],
        );
        assert!(p.contains("COVERING INDEX email_events_threats"), "{p}");
    }

    #[test]
    fn flatten_uses_dotted_keys() {
        let mut out = Vec::new();
        flatten(
            "",
            &serde_json::json!({"a": {"b": 1, "c": ["x", "y"]}, "d": null}),
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                ("a.b".to_string(), "1".to_string()),
                ("a.c".to_string(), "x, y".to_string()),
                ("d".to_string(), "null".to_string())
            ]
        );
    }
}
