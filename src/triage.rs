//! Triage: a transparent priority score per alert (issue #7, item 4). The score is a sum of a
//! few documented factors, each with the human reason it was given; [`score`] produces both, so
//! the dashboard's Score column and the reasons in the detail pane can never disagree.
//!
//! | factor | points |
//! |---|---|
//! | delivered to an inbox for N recipients | 30, +5 per further recipient, at most 40 |
//! | (else) delivered to junk | 5 |
//! | (else) blocked: quarantined, dropped, failed | 0 |
//! | not remediated: a copy is still in an inbox | 20 |
//! | severity high / medium / low | 15 / 8 / 3 |
//! | still open (status new, inProgress or unknown) | 10 |
//! | N recipients in all | +1 per recipient beyond the first, at most 5 |
//! | a URL that N other messages also carry | +2 per message, at most 10 |
//!
//! The maximum is 100. A copy is one message × recipient, from the alert's message evidence
//! and the EmailEvents rows of the same NetworkMessageId; it counts as remediated when the
//! evidence says `remediated`/`prevented` or EmailEvents' latest location has left the inbox.
//!
//! Scores are derived data, kept in `alert_triage` (with the reasons) and `alerts.triage_score`
//! (for the sorted list), and [`refresh`]ed after every sync pass — the collector calls it, and
//! so can any other writer. The same pass keeps `triage_messages`, the compact per-message
//! summary that [`crate::campaigns`] groups.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError, now_ms};

/// One factor's contribution and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub points: i64,
    pub reason: String,
}

/// A score and the reasons that add up to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Score {
    pub points: i64,
    pub reasons: Vec<Reason>,
}

/// One copy of a message: one recipient's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copy {
    pub recipient: String,
    pub inbox: bool,
    pub junk: bool,
    pub remediated: bool,
}

/// What the score is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inputs {
    pub severity: Option<String>,
    pub status: Option<String>,
    pub copies: Vec<Copy>,
    /// The URL of the alert carried by the most other messages, and how many.
    pub shared_url: Option<(String, i64)>,
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The score of one alert and its reasons, in the order of the factor table above.
pub fn score(i: &Inputs) -> Score {
    let mut reasons = Vec::new();
    let mut add = |points: i64, reason: String| reasons.push(Reason { points, reason });
    let recipients = |pick: &dyn Fn(&Copy) -> bool| -> i64 {
        i.copies
            .iter()
            .filter(|c| pick(c))
            .map(|c| c.recipient.to_ascii_lowercase())
            .collect::<BTreeSet<_>>()
            .len() as i64
    };
    let inbox = recipients(&|c| c.inbox);
    let junk = recipients(&|c| c.junk);
    let still_there = recipients(&|c| c.inbox && !c.remediated);
    if inbox > 0 {
        add(
            (30 + 5 * (inbox - 1)).min(40),
            format!(
                "delivered to inbox for {}",
                plural(inbox, "recipient", "recipients")
            ),
        );
        if still_there > 0 {
            add(
                20,
                format!(
                    "not remediated: still in {}",
                    plural(still_there, "inbox", "inboxes")
                ),
            );
        } else {
            add(0, "remediated: removed from every inbox".into());
        }
    } else if junk > 0 {
        add(
            5,
            format!(
                "delivered to junk for {}",
                plural(junk, "recipient", "recipients")
            ),
        );
    } else if !i.copies.is_empty() {
        add(0, "blocked before any inbox".into());
    } else {
        add(0, "no message evidence".into());
    }
    let severity = i.severity.as_deref().unwrap_or("unknown");
    let sev_points = match severity {
        "high" => 15,
        "medium" => 8,
        "low" => 3,
        _ => 0,
    };
    add(sev_points, format!("severity {severity}"));
    let status = i.status.as_deref().unwrap_or("unknown");
    if status.eq_ignore_ascii_case("resolved") {
        add(0, "resolved".into());
    } else {
        add(10, format!("still open (status {status})"));
    }
    let all = recipients(&|_| true);
    if all > 1 {
        add(
            (all - 1).min(5),
            plural(all, "recipient", "recipients") + " in all",
        );
    }
    if let Some((url, n)) = &i.shared_url
        && *n > 0
    {
        add(
            (2 * n).min(10),
            format!(
                "URL also in {} ({})",
                plural(*n, "other message", "other messages"),
                url_host(url).unwrap_or(url)
            ),
        );
    }
    Score {
        points: reasons.iter().map(|r| r.points).sum(),
        reasons,
    }
}

/// The host of a URL (`https://a.b/c` → `a.b`), lowercased by the caller if needed.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

fn lower(s: &Option<String>) -> String {
    s.as_deref().unwrap_or_default().to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------------

/// Which alerts a refresh scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// What changed since the last refresh (everything on the first one).
    Changed,
    /// Every alert and message.
    All,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefreshReport {
    pub alerts: usize,
    pub messages: usize,
    pub full: bool,
    pub duration_ms: i64,
}

/// The state of the scores, for the dashboard's "stale" note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub refreshed_ms: Option<i64>,
    /// Alerts changed (or new) since the last refresh, not scored yet.
    pub pending: i64,
}

/// How current the stored scores are.
pub fn freshness(conn: &Connection) -> rusqlite::Result<Freshness> {
    let refreshed_ms: Option<i64> = conn
        .query_row(
            "SELECT refreshed_ms FROM triage_state WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    // Two indexed counts (an OR would scan the table); an alert in both is counted twice,
    // which is fine for a "how stale" hint.
    let pending: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM alerts WHERE coalesce(triage_score, -1) = -1)
              + (SELECT count(*) FROM alerts WHERE updated_ms >= ?1)",
        [refreshed_ms.unwrap_or(i64::MAX)],
        |r| r.get(0),
    )?;
    Ok(Freshness {
        refreshed_ms,
        pending,
    })
}

/// Scores the alerts and summarises the messages that changed since the last refresh (or all
/// of them), in one transaction. Safe to call at any time; a failure leaves the previous scores.
pub fn refresh(store: &mut Store, scope: Scope) -> Result<RefreshReport, StoreError> {
    let path = store.path().display().to_string();
    let err = |source| StoreError::Sqlite {
        path: path.clone(),
        source,
    };
    let tx = store
        .conn_mut()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(err)?;
    let report = refresh_in(&tx, scope).map_err(err)?;
    tx.commit().map_err(err)?;
    Ok(report)
}

/// Alerts scored, and messages summarised, per batch of a full refresh.
const BATCH: usize = 1_000;
/// Threat-mail rows a full refresh remembers (twice over) to summarise each message once.
const EVENT_CHUNK: i64 = 20_000;

fn refresh_in(tx: &Transaction<'_>, scope: Scope) -> rusqlite::Result<RefreshReport> {
    let started = Instant::now();
    let now = now_ms();
    let state: Option<(i64, i64)> = tx
        .query_row(
            "SELECT refreshed_ms, event_rowid FROM triage_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let max_rowid: i64 = tx.query_row(
        "SELECT coalesce(max(rowid), 0) FROM email_events",
        [],
        |r| r.get(0),
    )?;
    let full = scope == Scope::All || state.is_none();
    let (alerts, messages) = if full {
        refresh_all(tx, now, max_rowid)?
    } else {
        let (since_ms, since_rowid) = state.unwrap_or((0, 0));
        refresh_changed(tx, now, since_ms, since_rowid)?
    };
    // Every move listed is in the scores now (a full refresh read every message).
    tx.execute("DELETE FROM triage_moved", [])?;
    // The dashboard's campaigns end at the newest message: only new messages move them.
    if full || messages > 0 {
        store_campaigns(tx)?;
    }

    let duration_ms = started.elapsed().as_millis() as i64;
    tx.execute(
        "INSERT INTO triage_state (id, refreshed_ms, event_rowid, alerts, duration_ms)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET refreshed_ms = excluded.refreshed_ms,
            event_rowid = excluded.event_rowid, alerts = excluded.alerts,
            duration_ms = excluded.duration_ms",
        params![now, max_rowid, alerts as i64, duration_ms],
    )?;
    Ok(RefreshReport {
        alerts,
        messages,
        full,
        duration_ms,
    })
}

/// Every alert and message, in bounded batches: alerts in primary-key order, the messages
/// named by evidence in index order, then threat mail in rowid chunks — so memory stays the
/// same whatever the size of the store. Returns the alerts scored and messages summarised.
fn refresh_all(tx: &Transaction<'_>, now: i64, max_rowid: i64) -> rusqlite::Result<(usize, usize)> {
    let mut scorer = Scorer::new(tx, now)?;
    let mut next_alerts = tx.prepare(
        "SELECT tenant, id FROM alerts WHERE (tenant, id) > (?1, ?2)
         ORDER BY tenant, id LIMIT ?3",
    )?;
    let mut after = (String::new(), String::new());
    let mut alerts = 0;
    loop {
        let batch: Vec<(String, String)> = next_alerts
            .query_map(params![after.0, after.1, BATCH as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (tenant, id) in &batch {
            scorer.score(tenant, id)?;
        }
        alerts += batch.len();
        match batch.into_iter().last() {
            Some(last) => after = last,
            None => break,
        }
    }
    drop(scorer);

    let mut summarise = MessageSummariser::new(tx)?;
    let mut messages = 0;
    // Messages named by evidence, walking the message index (no sort, nothing held).
    let mut next_messages = tx.prepare(
        "SELECT DISTINCT network_message_id FROM alert_evidence
         WHERE network_message_id > ?1 ORDER BY network_message_id LIMIT ?2",
    )?;
    let mut tenants_of =
        tx.prepare("SELECT DISTINCT tenant FROM alert_evidence WHERE network_message_id = ?1")?;
    let mut after = String::new();
    loop {
        let batch: Vec<String> = next_messages
            .query_map(params![after, BATCH as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for m in &batch {
            let tenants: Vec<String> = tenants_of
                .query_map([m], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for tenant in &tenants {
                summarise.refresh(tenant, m)?;
                messages += 1;
            }
        }
        match batch.into_iter().last() {
            Some(last) => after = last,
            None => break,
        }
    }
    // Then threat mail without evidence (that with evidence is done), through the index over
    // threat mail only, in time order: a message's copies sit together, so one that was just
    // summarised is skipped by remembering the last two chunks of rows, not every message.
    let mut threat_messages = tx.prepare(
        "SELECT tenant, network_message_id FROM email_events
         WHERE threat_types IS NOT NULL AND threat_types <> '' AND rowid <= ?1
         ORDER BY timestamp_ms",
    )?;
    let mut has_evidence = tx.prepare(
        "SELECT EXISTS (SELECT 1 FROM alert_evidence WHERE network_message_id = ?2 AND +tenant = ?1)",
    )?;
    let mut previous: HashSet<(String, String)> = HashSet::new();
    let mut current: HashSet<(String, String)> = HashSet::new();
    let mut rows = threat_messages.query([max_rowid])?;
    let mut seen = 0;
    while let Some(r) = rows.next()? {
        seen += 1;
        if seen % EVENT_CHUNK == 0 {
            previous = std::mem::take(&mut current);
        }
        let key: (String, String) = (r.get(0)?, r.get(1)?);
        if previous.contains(&key) || current.contains(&key) {
            continue;
        }
        if !has_evidence.query_row(params![key.0, key.1], |r| r.get::<_, bool>(0))? {
            summarise.refresh(&key.0, &key.1)?;
            messages += 1;
        }
        current.insert(key);
    }
    Ok((alerts, messages))
}

/// What changed since the last refresh: threat mail stored since, the alerts updated since
/// (or never scored), the alerts those messages name, and the alerts sharing their URLs.
fn refresh_changed(
    tx: &Transaction<'_>,
    now: i64,
    since_ms: i64,
    since_rowid: i64,
) -> rusqlite::Result<(usize, usize)> {
    // Messages to summarise: threat mail stored since the last refresh, mail whose events
    // changed in place (schema/0010_triage_moves.sql), and every message named by an alert that
    // changed.
    let mut messages: BTreeSet<(String, String)> = BTreeSet::new();
    {
        let mut stmt = tx.prepare(
            "SELECT tenant, network_message_id FROM email_events
             WHERE rowid > ?1 AND threat_types IS NOT NULL AND threat_types <> ''
             UNION SELECT tenant, network_message_id FROM triage_moved",
        )?;
        let rows = stmt.query_map([since_rowid], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for r in rows {
            messages.insert(r?);
        }
    }
    let mut alerts: BTreeSet<(String, String)> = BTreeSet::new();
    {
        let mut stmt = tx.prepare(
            "SELECT tenant, id FROM alerts WHERE updated_ms >= ?1
             UNION SELECT tenant, id FROM alerts WHERE coalesce(triage_score, -1) = -1",
        )?;
        for r in stmt.query_map([since_ms], |r| Ok((r.get(0)?, r.get(1)?)))? {
            alerts.insert(r?);
        }
    }
    {
        let mut evidence_messages = tx.prepare_cached(
            "SELECT network_message_id FROM alert_evidence
             WHERE tenant = ?1 AND alert_id = ?2 AND network_message_id IS NOT NULL",
        )?;
        for (tenant, id) in &alerts {
            for m in evidence_messages.query_map(params![tenant, id], |r| r.get::<_, String>(0))? {
                messages.insert((tenant.clone(), m?));
            }
        }
    }
    {
        // Alerts whose messages got new email events, or that share a URL with what changed.
        // `+tenant` keeps SQLite (without statistics) on the message index rather than walking
        // the primary key by tenant alone.
        let mut by_message = tx.prepare_cached(
            "SELECT DISTINCT alert_id FROM alert_evidence WHERE network_message_id = ?2 AND +tenant = ?1",
        )?;
        let mut urls_of = tx.prepare_cached(
            "SELECT DISTINCT url FROM alert_evidence WHERE tenant = ?1 AND alert_id = ?2 AND url IS NOT NULL",
        )?;
        let mut by_url = tx.prepare_cached(
            "SELECT DISTINCT tenant, alert_id FROM alert_evidence WHERE url = ?1 COLLATE NOCASE",
        )?;
        let mut more = Vec::new();
        for (tenant, m) in &messages {
            for a in by_message.query_map(params![tenant, m], |r| r.get::<_, String>(0))? {
                more.push((tenant.clone(), a?));
            }
        }
        alerts.extend(more);
        let mut urls = HashSet::new();
        for (tenant, id) in &alerts {
            for u in urls_of.query_map(params![tenant, id], |r| r.get::<_, String>(0))? {
                urls.insert(u?);
            }
        }
        for u in &urls {
            for a in by_url.query_map([u], |r| Ok((r.get(0)?, r.get(1)?)))? {
                alerts.insert(a?);
            }
        }
    }

    let mut scorer = Scorer::new(tx, now)?;
    for (tenant, id) in &alerts {
        scorer.score(tenant, id)?;
    }
    drop(scorer);
    let mut summarise = MessageSummariser::new(tx)?;
    for (tenant, m) in &messages {
        summarise.refresh(tenant, m)?;
    }
    Ok((alerts.len(), messages.len()))
}

/// Computes and stores alert scores.
struct Scorer<'t> {
    gather: Gatherer<'t>,
    put_score: rusqlite::CachedStatement<'t>,
    put_alert: rusqlite::CachedStatement<'t>,
    now: i64,
}

impl<'t> Scorer<'t> {
    fn new(tx: &'t Transaction<'_>, now: i64) -> rusqlite::Result<Scorer<'t>> {
        Ok(Scorer {
            gather: Gatherer::new(tx)?,
            put_score: tx.prepare_cached(
                "INSERT INTO alert_triage (tenant, alert_id, score, reasons, computed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (tenant, alert_id) DO UPDATE SET
                    score = excluded.score, reasons = excluded.reasons, computed_ms = excluded.computed_ms",
            )?,
            put_alert: tx.prepare_cached(
                "UPDATE alerts SET triage_score = ?3 WHERE tenant = ?1 AND id = ?2",
            )?,
            now,
        })
    }

    fn score(&mut self, tenant: &str, id: &str) -> rusqlite::Result<()> {
        let Some(inputs) = self.gather.inputs(tenant, id)? else {
            return Ok(());
        };
        let s = score(&inputs);
        let reasons = serde_json::to_string(&s.reasons).unwrap_or_else(|_| "[]".into());
        self.put_score
            .execute(params![tenant, id, s.points, reasons, self.now])?;
        self.put_alert.execute(params![tenant, id, s.points])?;
        Ok(())
    }
}

/// The dashboard's campaigns: the 7 days up to the newest suspicious message, 24-hour window,
/// kept ready in `triage_campaigns` so the Campaigns view reads a few hundred rows.
pub const DASHBOARD_PERIOD_MS: i64 = 7 * 86_400_000;
pub const DASHBOARD_WINDOW_MS: i64 = 86_400_000;
/// Campaigns kept for the dashboard at most.
pub const DASHBOARD_CAMPAIGNS: usize = 500;

fn store_campaigns(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let newest: Option<i64> =
        tx.query_row("SELECT max(first_ms) FROM triage_messages", [], |r| {
            r.get(0)
        })?;
    tx.execute("DELETE FROM triage_campaigns", [])?;
    let Some(newest) = newest else {
        return Ok(());
    };
    let messages = crate::campaigns::messages(tx, newest - DASHBOARD_PERIOD_MS + 1, newest + 1)?;
    let list = crate::campaigns::group(&messages, DASHBOARD_WINDOW_MS, 2);
    let mut put = tx.prepare_cached(
        "INSERT INTO triage_campaigns (rank, tenant, key_type, key, first_seen_ms, last_seen_ms,
            messages, recipients, delivered, alerts, top_subject)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (rank, c) in list.iter().take(DASHBOARD_CAMPAIGNS).enumerate() {
        put.execute(params![
            rank as i64,
            c.tenant,
            c.key_type.as_str(),
            c.key,
            c.first_seen_ms,
            c.last_seen_ms,
            c.messages as i64,
            c.recipients as i64,
            c.delivered as i64,
            c.alerts as i64,
            c.top_subject
        ])?;
    }
    Ok(())
}

/// What the email events and the evidence of all alerts say about one message, read once and
/// shared by every alert that names it.
struct MessageFacts {
    /// (recipient, delivery location, latest delivery location), in the events' index order.
    events: Vec<(String, Option<String>, Option<String>)>,
    /// The URLs any evidence gives this message, ASCII-lowercased (SQLite's NOCASE).
    urls: HashSet<String>,
}

/// Messages (and URL counts) kept across alerts at most; past that the cache starts over, so
/// memory stays bounded on any store.
const CACHED_MESSAGES: usize = 32_768;
const CACHED_URLS: usize = 65_536;

/// Reads the inputs of one alert's score, caching what alerts share (their messages' events
/// and URLs, and how many messages carry each URL) in bounded maps.
struct Gatherer<'t> {
    alert: rusqlite::CachedStatement<'t>,
    evidence: rusqlite::CachedStatement<'t>,
    events: rusqlite::CachedStatement<'t>,
    message_urls: rusqlite::CachedStatement<'t>,
    url_messages: rusqlite::CachedStatement<'t>,
    facts: HashMap<(String, String), std::rc::Rc<MessageFacts>>,
    url_counts: HashMap<String, i64>,
}

impl<'t> Gatherer<'t> {
    fn new(tx: &'t Transaction<'_>) -> rusqlite::Result<Gatherer<'t>> {
        Ok(Gatherer {
            alert: tx.prepare_cached(
                "SELECT severity, status FROM alerts WHERE tenant = ?1 AND id = ?2",
            )?,
            evidence: tx.prepare_cached(
                "SELECT network_message_id, recipient, delivery_location, remediation_status, url
                 FROM alert_evidence WHERE tenant = ?1 AND alert_id = ?2",
            )?,
            events: tx.prepare_cached(
                "SELECT recipient, delivery_location, latest_delivery_location
                 FROM email_events WHERE network_message_id = ?2 AND tenant = ?1",
            )?,
            message_urls: tx.prepare_cached(
                "SELECT url FROM alert_evidence WHERE network_message_id = ?1 AND url IS NOT NULL",
            )?,
            url_messages: tx.prepare_cached(
                "SELECT count(DISTINCT network_message_id) FROM alert_evidence
                 WHERE url = ?1 COLLATE NOCASE AND network_message_id IS NOT NULL",
            )?,
            facts: HashMap::new(),
            url_counts: HashMap::new(),
        })
    }

    fn facts(
        &mut self,
        tenant: &str,
        message: &str,
    ) -> rusqlite::Result<std::rc::Rc<MessageFacts>> {
        let key = (tenant.to_string(), message.to_string());
        if let Some(f) = self.facts.get(&key) {
            return Ok(f.clone());
        }
        let events = self
            .events
            .query_map(params![tenant, message], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let urls = self
            .message_urls
            .query_map([message], |r| r.get::<_, String>(0))?
            .map(|u| u.map(|u| u.to_ascii_lowercase()))
            .collect::<rusqlite::Result<_>>()?;
        let f = std::rc::Rc::new(MessageFacts { events, urls });
        if self.facts.len() >= CACHED_MESSAGES {
            self.facts.clear();
        }
        self.facts.insert(key, f.clone());
        Ok(f)
    }

    fn inputs(&mut self, tenant: &str, id: &str) -> rusqlite::Result<Option<Inputs>> {
        let Some((severity, status)) = self
            .alert
            .query_row(params![tenant, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
        else {
            return Ok(None);
        };
        type Ev = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let evidence: Vec<Ev> = self
            .evidence
            .query_map(params![tenant, id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        // (message, recipient) → copy
        let mut copies: HashMap<(String, String), Copy> = HashMap::new();
        let mut own_messages: BTreeSet<String> = BTreeSet::new();
        for (message, recipient, location, remediation, _) in &evidence {
            let (Some(m), Some(r)) = (message, recipient) else {
                continue;
            };
            own_messages.insert(m.clone());
            let c = copies
                .entry((m.clone(), r.to_ascii_lowercase()))
                .or_insert_with(|| Copy {
                    recipient: r.clone(),
                    ..Copy::default()
                });
            let loc = lower(location);
            c.inbox |= loc.starts_with("inbox");
            c.junk |= loc.starts_with("junk");
            c.remediated |= matches!(lower(remediation).as_str(), "remediated" | "prevented");
        }
        let mut own_facts = Vec::with_capacity(own_messages.len());
        for m in &own_messages {
            let facts = self.facts(tenant, m)?;
            for (recipient, location, latest) in &facts.events {
                let c = copies
                    .entry((m.clone(), recipient.to_ascii_lowercase()))
                    .or_insert_with(|| Copy {
                        recipient: recipient.clone(),
                        ..Copy::default()
                    });
                let loc = lower(location);
                let latest = lower(latest);
                c.inbox |= loc.starts_with("inbox");
                c.junk |= loc.starts_with("junk");
                // ZAP or an admin moved it out of the inbox after delivery.
                c.remediated |=
                    loc.starts_with("inbox") && !latest.is_empty() && !latest.starts_with("inbox");
            }
            own_facts.push(facts);
        }
        let mut shared_url: Option<(String, i64)> = None;
        let urls: BTreeSet<&String> = evidence.iter().filter_map(|e| e.4.as_ref()).collect();
        for url in urls {
            // The messages carrying this URL (NOCASE, any tenant), less the alert's own.
            let key = url.to_ascii_lowercase();
            let carrying = match self.url_counts.get(&key) {
                Some(n) => *n,
                None => {
                    let n: i64 = self.url_messages.query_row([url], |r| r.get(0))?;
                    if self.url_counts.len() >= CACHED_URLS {
                        self.url_counts.clear();
                    }
                    self.url_counts.insert(key.clone(), n);
                    n
                }
            };
            let own = own_facts.iter().filter(|f| f.urls.contains(&key)).count() as i64;
            let others = carrying - own;
            if shared_url.as_ref().is_none_or(|(_, n)| others > *n) {
                shared_url = Some((url.clone(), others));
            }
        }
        let mut copies: Vec<Copy> = copies.into_values().collect();
        copies.sort_by(|a, b| a.recipient.cmp(&b.recipient));
        Ok(Some(Inputs {
            severity,
            status,
            copies,
            shared_url,
        }))
    }
}

/// Rebuilds `triage_messages` rows from email events and alert evidence.
struct MessageSummariser<'t> {
    events: rusqlite::CachedStatement<'t>,
    evidence: rusqlite::CachedStatement<'t>,
    put: rusqlite::CachedStatement<'t>,
    delete: rusqlite::CachedStatement<'t>,
}

impl<'t> MessageSummariser<'t> {
    fn new(tx: &'t Transaction<'_>) -> rusqlite::Result<MessageSummariser<'t>> {
        Ok(MessageSummariser {
            events: tx.prepare_cached(
                "SELECT recipient, timestamp_ms, sender_from_domain, subject, delivery_action,
                        delivery_location, threat_types
                 FROM email_events WHERE network_message_id = ?2 AND tenant = ?1",
            )?,
            evidence: tx.prepare_cached(
                "SELECT alert_id, recipient, sender, subject, delivery_action, delivery_location, url
                 FROM alert_evidence WHERE network_message_id = ?2 AND +tenant = ?1",
            )?,
            put: tx.prepare_cached(
                "INSERT INTO triage_messages (tenant, network_message_id, first_ms, sender_domain,
                    subject, subject_key, url_domain, recipients, delivered, alert_ids, threat)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (tenant, network_message_id) DO UPDATE SET first_ms = excluded.first_ms,
                    sender_domain = excluded.sender_domain, subject = excluded.subject,
                    subject_key = excluded.subject_key, url_domain = excluded.url_domain,
                    recipients = excluded.recipients, delivered = excluded.delivered,
                    alert_ids = excluded.alert_ids, threat = excluded.threat",
            )?,
            delete: tx.prepare_cached(
                "DELETE FROM triage_messages WHERE tenant = ?1 AND network_message_id = ?2",
            )?,
        })
    }

    fn refresh(&mut self, tenant: &str, message: &str) -> rusqlite::Result<()> {
        let mut first_ms: Option<i64> = None;
        let mut sender_domain: Option<String> = None;
        let mut subject: Option<String> = None;
        let mut url_domain: Option<String> = None;
        let mut recipients = BTreeSet::new();
        let mut delivered = BTreeSet::new();
        let mut alert_ids = BTreeSet::new();
        let mut threat = false;
        let mut rows = self.events.query(params![tenant, message])?;
        while let Some(r) = rows.next()? {
            let recipient: String = r.get(0)?;
            let ts: i64 = r.get(1)?;
            first_ms = Some(first_ms.map_or(ts, |f| f.min(ts)));
            sender_domain = sender_domain.or(r.get(2)?);
            subject = subject.or(r.get(3)?);
            let action: Option<String> = r.get(4)?;
            let location: Option<String> = r.get(5)?;
            let threat_types: Option<String> = r.get(6)?;
            threat |= threat_types.is_some_and(|t| !t.trim().is_empty());
            let recipient = recipient.to_ascii_lowercase();
            if lower(&location).starts_with("inbox") || lower(&action) == "delivered" {
                delivered.insert(recipient.clone());
            }
            recipients.insert(recipient);
        }
        let mut rows = self.evidence.query(params![tenant, message])?;
        while let Some(r) = rows.next()? {
            alert_ids.insert(r.get::<_, String>(0)?);
            if let Some(recipient) = r.get::<_, Option<String>>(1)? {
                let recipient = recipient.to_ascii_lowercase();
                let action: Option<String> = r.get(4)?;
                let location: Option<String> = r.get(5)?;
                if lower(&location).starts_with("inbox") || lower(&action) == "delivered" {
                    delivered.insert(recipient.clone());
                }
                recipients.insert(recipient);
            }
            if sender_domain.is_none() {
                sender_domain = r
                    .get::<_, Option<String>>(2)?
                    .and_then(|s| s.rsplit_once('@').map(|(_, d)| d.to_string()));
            }
            subject = subject.or(r.get(3)?);
            if url_domain.is_none() {
                url_domain = r
                    .get::<_, Option<String>>(6)?
                    .as_deref()
                    .and_then(url_host)
                    .map(str::to_ascii_lowercase);
            }
        }
        drop(rows);
        // Evidence without an email event has no time of its own: skip until the event arrives.
        let Some(first_ms) = first_ms else {
            self.delete.execute(params![tenant, message])?;
            return Ok(());
        };
        if !threat && alert_ids.is_empty() {
            self.delete.execute(params![tenant, message])?;
            return Ok(());
        }
        let join = |s: BTreeSet<String>| s.into_iter().collect::<Vec<_>>().join("\n");
        let key = subject
            .as_deref()
            .and_then(crate::campaigns::normalise_subject);
        self.put.execute(params![
            tenant,
            message,
            first_ms,
            sender_domain.map(|d| d.to_ascii_lowercase()),
            subject,
            key,
            url_domain,
            join(recipients),
            join(delivered),
            join(alert_ids),
            threat,
        ])?;
        Ok(())
    }
}

/// The stored score and reasons of one alert, and whether they predate its last update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredScore {
    pub score: Score,
    pub computed_ms: i64,
    pub stale: bool,
}

/// The stored score of one alert, if it has been scored.
pub fn stored(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<StoredScore>> {
    conn.query_row(
        "SELECT t.score, t.reasons, t.computed_ms, a.updated_ms
         FROM alert_triage t JOIN alerts a ON a.tenant = t.tenant AND a.id = t.alert_id
         WHERE t.tenant = ?1 AND t.alert_id = ?2",
        params![tenant, id],
        |r| {
            let reasons: String = r.get(1)?;
            let computed_ms: i64 = r.get(2)?;
            let updated_ms: i64 = r.get(3)?;
            Ok(StoredScore {
                score: Score {
                    points: r.get(0)?,
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                },
                computed_ms,
                stale: updated_ms > computed_ms,
            })
        },
    )
    .optional()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::sync::Advance;
    use serde_json::json;

    /// An alert with one analyzedMessageEvidence per (message, recipient, location, remediation).
    pub fn alert(
        id: &str,
        severity: &str,
        status: &str,
        evidence: &[(&str, &str, &str, &str)],
        url: Option<&str>,
    ) -> serde_json::Value {
        let evidence: Vec<_> = evidence
            .iter()
            .map(|(m, r, loc, rem)| {
                json!({
                    "@odata.type": "#microsoft.graph.security.analyzedMessageEvidence",
                    "networkMessageId": m,
                    "recipientEmailAddress": r,
                    "deliveryLocation": loc,
                    "deliveryAction": if *loc == "inbox" { "delivered" } else { "blocked" },
                    "remediationStatus": rem,
                    "subject": format!("Invoice {m} overdue"),
                    "p2Sender": {"emailAddress": "billing@evil.test"},
                    "urls": url.map(|u| vec![u]).unwrap_or_default(),
                })
            })
            .collect();
        json!({
            "id": id,
            "createdDateTime": "2026-11-20T10:00:00Z",
            "lastUpdateDateTime": "2026-11-20T10:05:00Z",
            "serviceSource": "microsoftDefenderForOffice365",
            "severity": severity,
            "status": status,
            "title": format!("alert {id}"),
            "evidence": evidence,
        })
    }

    /// One EmailEvents row: the columns a test varies, in the order a row reads.
    #[allow(clippy::too_many_arguments)]
    pub fn event(
        message: &str,
        recipient: &str,
        minute: u32,
        domain: &str,
        subject: &str,
        location: &str,
        latest: &str,
        threat: &str,
    ) -> serde_json::Value {
        json!({
            "Timestamp": format!("2026-11-20T{:02}:{:02}:00.0000000Z", 8 + minute / 60, minute % 60),
            "NetworkMessageId": message,
            "RecipientEmailAddress": recipient,
            "SenderFromAddress": format!("x@{domain}"),
            "SenderFromDomain": domain,
            "Subject": subject,
            "EmailDirection": "Inbound",
            "DeliveryAction": if location.starts_with("Inbox") { "Delivered" } else { "Blocked" },
            "DeliveryLocation": location,
            "LatestDeliveryLocation": latest,
            "ThreatTypes": threat,
        })
    }

    fn raw(v: &serde_json::Value) -> Box<serde_json::value::RawValue> {
        serde_json::value::to_raw_value(v).unwrap()
    }

    pub fn put(store: &mut Store, alerts: &[serde_json::Value], events: &[serde_json::Value]) {
        let a: Vec<_> = alerts.iter().map(raw).collect();
        store.ingest_alerts("t", &a, Advance::No).unwrap();
        let e: Vec<_> = events.iter().map(raw).collect();
        store
            .ingest_email_events("t", &e, Advance::No, None)
            .unwrap();
    }

    fn scores(store: &Store) -> Vec<(String, i64)> {
        let mut stmt = store
            .conn()
            .prepare("SELECT id, triage_score FROM alerts ORDER BY coalesce(triage_score, -1) DESC, created_ms DESC, rowid DESC")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn the_score_adds_up_its_documented_factors() {
        let inputs = Inputs {
            severity: Some("high".into()),
            status: Some("new".into()),
            copies: ["a", "b", "c"]
                .iter()
                .map(|r| Copy {
                    recipient: format!("{r}@x.test"),
                    inbox: true,
                    ..Copy::default()
                })
                .collect(),
            shared_url: Some(("https://evil.test/login".into(), 12)),
        };
        let s = score(&inputs);
        let lines: Vec<String> = s
            .reasons
            .iter()
            .map(|r| format!("{:+} {}", r.points, r.reason))
            .collect();
        assert_eq!(
            lines,
            vec![
                "+40 delivered to inbox for 3 recipients",
                "+20 not remediated: still in 3 inboxes",
                "+15 severity high",
                "+10 still open (status new)",
                "+2 3 recipients in all",
                "+10 URL also in 12 other messages (evil.test)",
            ]
        );
        assert_eq!(s.points, 97);
        assert_eq!(s.points, s.reasons.iter().map(|r| r.points).sum::<i64>());
    }

    #[test]
    fn ranking_puts_unremediated_inbox_mail_above_blocked_high_severity() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let url = Some("https://evil.test/pay");
        put(
            &mut store,
            &[
                // Delivered to two inboxes, still there, medium, open, shares its URL.
                alert(
                    "inbox-open",
                    "medium",
                    "new",
                    &[
                        ("m1", "ann@c.test", "inbox", "none"),
                        ("m1", "bob@c.test", "inbox", "none"),
                    ],
                    url,
                ),
                // Delivered but removed by an admin: no "not remediated" points.
                alert(
                    "inbox-cleaned",
                    "medium",
                    "new",
                    &[("m2", "cat@c.test", "inbox", "remediated")],
                    url,
                ),
                // High severity, but quarantined and resolved.
                alert(
                    "blocked-high",
                    "high",
                    "resolved",
                    &[("m3", "dan@c.test", "quarantine", "none")],
                    None,
                ),
                // Junked, low, open.
                alert(
                    "junk-low",
                    "low",
                    "inProgress",
                    &[("m4", "eve@c.test", "junkFolder", "none")],
                    None,
                ),
                // Delivered to one inbox per evidence, but EmailEvents shows ZAP moved it out.
                alert(
                    "zapped",
                    "medium",
                    "new",
                    &[("m5", "fay@c.test", "inbox", "none")],
                    None,
                ),
            ],
            &[
                event(
                    "m1",
                    "ann@c.test",
                    1,
                    "evil.test",
                    "Invoice 1",
                    "Inbox/folder",
                    "Inbox/folder",
                    "Phish",
                ),
                event(
                    "m1",
                    "bob@c.test",
                    1,
                    "evil.test",
                    "Invoice 1",
                    "Inbox/folder",
                    "Inbox/folder",
                    "Phish",
                ),
                // A third recipient EmailEvents knows of and the evidence does not.
                event(
                    "m1",
                    "cid@c.test",
                    1,
                    "evil.test",
                    "Invoice 1",
                    "Inbox/folder",
                    "Inbox/folder",
                    "Phish",
                ),
                event(
                    "m5",
                    "fay@c.test",
                    5,
                    "evil.test",
                    "Invoice 5",
                    "Inbox/folder",
                    "Quarantine",
                    "Phish",
                ),
            ],
        );
        let r = refresh(&mut store, Scope::Changed).unwrap();
        assert!(r.full, "the first refresh scores everything");
        assert_eq!(r.alerts, 5);
        let order: Vec<String> = scores(&store).into_iter().map(|(id, _)| id).collect();
        assert_eq!(
            order,
            vec![
                "inbox-open",
                "inbox-cleaned",
                "zapped",
                "junk-low",
                "blocked-high"
            ]
        );
        let s = stored(store.conn(), "t", "inbox-open").unwrap().unwrap();
        assert!(!s.stale);
        let text: Vec<String> = s
            .score
            .reasons
            .iter()
            .map(|r| format!("{:+} {}", r.points, r.reason))
            .collect();
        assert_eq!(
            text,
            vec![
                "+40 delivered to inbox for 3 recipients",
                "+20 not remediated: still in 3 inboxes",
                "+8 severity medium",
                "+10 still open (status new)",
                "+2 3 recipients in all",
                "+2 URL also in 1 other message (evil.test)",
            ]
        );
        let zapped = stored(store.conn(), "t", "zapped").unwrap().unwrap();
        assert!(
            zapped
                .score
                .reasons
                .iter()
                .any(|r| r.reason == "remediated: removed from every inbox")
        );
        let column: i64 = store
            .conn()
            .query_row(
                "SELECT triage_score FROM alerts WHERE id = 'inbox-open'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(column, s.score.points, "the column and the reasons agree");
    }

    #[test]
    fn an_incremental_refresh_rescores_what_changed_and_what_shares_its_url() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let url = Some("https://evil.test/pay");
        put(
            &mut store,
            &[
                alert(
                    "a",
                    "low",
                    "new",
                    &[("m1", "ann@c.test", "quarantine", "none")],
                    url,
                ),
                alert(
                    "b",
                    "low",
                    "new",
                    &[("m9", "zed@c.test", "quarantine", "none")],
                    None,
                ),
            ],
            &[],
        );
        refresh(&mut store, Scope::Changed).unwrap();
        let before = stored(store.conn(), "t", "a").unwrap().unwrap();
        assert!(
            !before
                .score
                .reasons
                .iter()
                .any(|r| r.reason.starts_with("URL"))
        );
        // A new alert with the same URL, and a new email event that puts m9 in an inbox.
        let mut newer = alert(
            "c",
            "low",
            "new",
            &[("m2", "bob@c.test", "quarantine", "none")],
            url,
        );
        newer["lastUpdateDateTime"] = json!("2026-11-20T10:06:00Z");
        put(
            &mut store,
            &[newer],
            &[event(
                "m9",
                "zed@c.test",
                3,
                "evil.test",
                "Hi",
                "Inbox/folder",
                "Inbox/folder",
                "Phish",
            )],
        );
        // The old scores are marked pending until the refresh.
        assert!(freshness(store.conn()).unwrap().pending >= 1);
        let r = refresh(&mut store, Scope::Changed).unwrap();
        assert!(!r.full);
        assert_eq!(
            r.alerts, 3,
            "c is new, a shares its URL, b's message got an event"
        );
        let a = stored(store.conn(), "t", "a").unwrap().unwrap();
        assert!(
            a.score
                .reasons
                .iter()
                .any(|r| r.reason == "URL also in 1 other message (evil.test)")
        );
        let b = stored(store.conn(), "t", "b").unwrap().unwrap();
        let has = |b: &StoredScore, reason: &str| {
            b.score.reasons.iter().any(|r| r.reason.starts_with(reason))
        };
        assert!(has(&b, "delivered to inbox") && has(&b, "not remediated"));
        assert_eq!(freshness(store.conn()).unwrap().pending, 0);

        // ZAP moves m9 out of the inbox: the same event read again, changed in place.
        put(
            &mut store,
            &[],
            &[event(
                "m9",
                "zed@c.test",
                3,
                "evil.test",
                "Hi",
                "Inbox/folder",
                "Quarantine",
                "Phish",
            )],
        );
        let r = refresh(&mut store, Scope::Changed).unwrap();
        assert!(!r.full);
        let b = stored(store.conn(), "t", "b").unwrap().unwrap();
        assert!(
            has(&b, "delivered to inbox") && !has(&b, "not remediated"),
            "{:?}",
            b.score.reasons
        );
        let left: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM triage_moved", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0, "the refresh empties the list of moves");
    }

    #[test]
    fn url_hosts() {
        assert_eq!(url_host("https://a.test/x?y"), Some("a.test"));
        assert_eq!(url_host("http://u:p@b.test:8080/"), Some("b.test"));
        assert_eq!(url_host("c.test/path"), Some("c.test"));
        assert_eq!(url_host("https:///"), None);
    }
}
