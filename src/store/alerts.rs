//! How a page of `alerts_v2` alerts is stored: the current state per `(tenant, id)`, every
//! distinct version in history, and the current version's evidence (replaced, not merged).
//! A newer `lastUpdateDateTime` replaces; the same one changes nothing; an older one only
//! adds to history. The checkpoint moves in the same transaction.

use std::borrow::Cow;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::sync::{Advance, write_checkpoint};
use super::{Store, StoreError, WriteTransaction, now_ms};

/// What storing one page did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageOutcome {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Records that could not be stored (no id, no usable time); counted, logged, skipped.
    pub rejected: u64,
    /// Newest `lastUpdateDateTime` on the page: (epoch ns, as written).
    pub max_time: Option<(i64, String)>,
}

impl PageOutcome {
    pub fn add(&mut self, o: &PageOutcome) {
        self.new += o.new;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
        self.rejected += o.rejected;
        if let Some(t) = &o.max_time
            && self.max_time.as_ref().is_none_or(|m| t.0 > m.0)
        {
            self.max_time = Some(t.clone());
        }
    }
}

/// Parses a Graph time ("2026-05-04T09:12:41.3366667Z", up to 7 fractional digits) to epoch ns.
/// A time without an offset is taken as UTC, as Graph means it.
pub fn parse_graph_time(s: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(
                s.trim_end_matches(['Z', 'z']),
                "%Y-%m-%dT%H:%M:%S%.f",
            )
            .map(|n| n.and_utc())
        })
        .ok()?;
    t.timestamp_nanos_opt()
}

/// The typed columns of an alert; everything else stays in the raw JSON. `import` checks its
/// records with this same type, so what it accepts the store can store.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AlertFields<'a> {
    #[serde(borrow, default)]
    pub(crate) id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) created_date_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) last_update_date_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) resolved_date_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) severity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) classification: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) determination: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) category: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) service_source: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) detection_source: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) incident_id: Option<serde_json::Value>,
    #[serde(borrow, default)]
    pub(crate) assigned_to: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) evidence: Option<Vec<&'a RawValue>>,
    /// The Entra tenant the alert belongs to (the store tags rows with the tenant's name).
    #[serde(borrow, default)]
    pub(crate) tenant_id: Option<Cow<'a, str>>,
}

fn non_empty<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// The columns of one evidence item that investigations filter on.
#[derive(Default)]
struct EvidenceColumns {
    odata_type: String,
    verdict: Option<String>,
    remediation_status: Option<String>,
    network_message_id: Option<String>,
    recipient: Option<String>,
    sender: Option<String>,
    subject: Option<String>,
    delivery_action: Option<String>,
    delivery_location: Option<String>,
    url: Option<String>,
    ip: Option<String>,
    account: Option<String>,
    file_name: Option<String>,
    file_sha256: Option<String>,
}

fn evidence_columns(raw: &RawValue) -> EvidenceColumns {
    let v: serde_json::Value = serde_json::from_str(raw.get()).unwrap_or_default();
    let s = |path: &[&str]| {
        let mut cur = &v;
        for p in path {
            cur = cur.get(p)?;
        }
        cur.as_str().filter(|x| !x.is_empty()).map(str::to_string)
    };
    let odata_type = s(&["@odata.type"]).unwrap_or_default();
    let kind = odata_type
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut c = EvidenceColumns {
        odata_type,
        verdict: s(&["verdict"]),
        remediation_status: s(&["remediationStatus"]),
        ..Default::default()
    };
    match kind.as_str() {
        "analyzedMessageEvidence" => {
            c.network_message_id = s(&["networkMessageId"]);
            c.recipient = s(&["recipientEmailAddress"]);
            c.sender =
                s(&["p2Sender", "emailAddress"]).or_else(|| s(&["p1Sender", "emailAddress"]));
            c.subject = s(&["subject"]);
            c.delivery_action = s(&["deliveryAction"]);
            c.delivery_location = s(&["deliveryLocation"]);
            c.ip = s(&["senderIp"]);
            c.url = v
                .get("urls")
                .and_then(|u| u.get(0))
                .and_then(|u| u.as_str())
                .map(str::to_string);
        }
        "mailboxEvidence" => {
            c.account = s(&["primaryAddress"]).or_else(|| s(&["upn"]));
        }
        "userEvidence" => {
            c.account = s(&["userAccount", "userPrincipalName"])
                .or_else(|| s(&["userAccount", "accountName"]));
        }
        "urlEvidence" => c.url = s(&["url"]),
        "ipEvidence" => c.ip = s(&["ipAddress"]),
        "fileEvidence" => {
            c.file_name = s(&["fileDetails", "fileName"]);
            c.file_sha256 = s(&["fileDetails", "sha256"]);
        }
        "mailClusterEvidence" => {
            c.network_message_id = v
                .get("networkMessageIds")
                .and_then(|n| n.get(0))
                .and_then(|n| n.as_str())
                .map(str::to_string);
        }
        _ => {}
    }
    c
}

/// Evidence rows per INSERT statement (18 parameters each).
const EVIDENCE_CHUNK: usize = 100;

/// The evidence of the alerts a page changed, written after the page's alerts: all deletes,
/// then the inserts many rows per statement (rows fire a full-text trigger; FTS5 flushes its
/// pending terms at every statement, so one row per statement costs an index segment per row),
/// then the alerts' full-text documents, which include their evidence.
fn write_evidence(
    tx: &Transaction<'_>,
    tenant: &str,
    jobs: &[(String, Vec<(&RawValue, EvidenceColumns)>)],
) -> rusqlite::Result<()> {
    {
        let mut delete =
            tx.prepare_cached("DELETE FROM alert_evidence WHERE tenant = ?1 AND alert_id = ?2")?;
        for (id, _) in jobs {
            delete.execute(params![tenant, id])?;
        }
    }
    let rows: Vec<(&str, usize, &RawValue, &EvidenceColumns)> = jobs
        .iter()
        .flat_map(|(id, items)| {
            items
                .iter()
                .enumerate()
                .map(move |(i, (raw, c))| (id.as_str(), i, *raw, c))
        })
        .collect();
    for chunk in rows.chunks(EVIDENCE_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO alert_evidence (tenant, alert_id, position, odata_type, verdict, remediation_status,
                network_message_id, recipient, sender, subject, delivery_action, delivery_location, url, ip,
                account, file_name, file_sha256, raw) VALUES ",
        );
        for k in 0..chunk.len() {
            if k > 0 {
                sql.push(',');
            }
            sql.push('(');
            for j in 1..=18 {
                if j > 1 {
                    sql.push(',');
                }
                sql.push('?');
                sql.push_str(&(k * 18 + j).to_string());
            }
            sql.push(')');
        }
        let (mut cached, mut plain);
        let insert: &mut rusqlite::Statement<'_> = if chunk.len() == EVIDENCE_CHUNK {
            cached = tx.prepare_cached(&sql)?;
            &mut cached
        } else {
            plain = tx.prepare(&sql)?;
            &mut plain
        };
        for (k, (id, i, raw, c)) in chunk.iter().enumerate() {
            let values: [&dyn rusqlite::ToSql; 18] = [
                &tenant,
                id,
                &(*i as i64),
                &c.odata_type,
                &c.verdict,
                &c.remediation_status,
                &c.network_message_id,
                &c.recipient,
                &c.sender,
                &c.subject,
                &c.delivery_action,
                &c.delivery_location,
                &c.url,
                &c.ip,
                &c.account,
                &c.file_name,
                &c.file_sha256,
                &raw.get(),
            ];
            for (j, v) in values.iter().enumerate() {
                insert.raw_bind_parameter(k * 18 + j + 1, v)?;
            }
        }
        insert.raw_execute()?;
    }
    index_threat_text(tx, tenant, jobs.iter().map(|(id, _)| id.as_str()))
}

/// Indexes the full-text documents of the alerts `ids` of `tenant` (schema/0009_threat_text.sql)
/// once their evidence is written: one statement for all of them, as FTS5 flushes its pending
/// terms at the end of each.
fn index_threat_text<'a>(
    tx: &Transaction<'_>,
    tenant: &str,
    ids: impl Iterator<Item = &'a str>,
) -> rusqlite::Result<()> {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        return Ok(());
    }
    let ids = serde_json::Value::from(ids).to_string();
    let rowids =
        "SELECT rowid FROM alerts WHERE tenant = ?1 AND id IN (SELECT value FROM json_each(?2))";
    tx.prepare_cached(&format!("DELETE FROM alert_fts WHERE rowid IN ({rowids})"))?
        .execute(params![tenant, ids])?;
    tx.prepare_cached(&format!(
        "{} WHERE rowid IN ({rowids})",
        super::fts::INDEX_ALERT_TEXT
    ))?
    .execute(params![tenant, ids])?;
    Ok(())
}

/// An alert's costly, pure work, done on every core before the page's write transaction:
/// its Detection Finding and its evidence columns.
struct Prepared {
    finding: Option<super::ocsf::MappedFinding>,
    evidence: Option<Vec<EvidenceColumns>>,
}

/// One alert of a page, parsed.
struct Parsed<'a> {
    raw: &'a RawValue,
    fields: AlertFields<'a>,
    id: String,
    ns: i64,
}

enum Stored {
    New,
    Updated,
    Unchanged,
}

/// Stores one alert; its evidence, when it changed, is appended to `evidence_jobs` (written
/// after the page's alerts by [`write_evidence`]; a later job for the same alert replaces an
/// earlier one, as replacing twice would).
#[allow(clippy::too_many_arguments)]
fn store_one<'r>(
    tx: &Transaction<'_>,
    tenant: &str,
    raw: &str,
    f: &AlertFields<'r>,
    id: &str,
    ns: i64,
    now: i64,
    prepared: Prepared,
    evidence_jobs: &mut Vec<(String, Vec<(&'r RawValue, EvidenceColumns)>)>,
) -> rusqlite::Result<Stored> {
    let last_update = f.last_update_date_time.as_deref().unwrap_or_default();
    let created_ms = non_empty(&f.created_date_time)
        .and_then(parse_graph_time)
        .map_or(ns / 1_000_000, |n| n / 1_000_000);
    let resolved_ms = non_empty(&f.resolved_date_time)
        .and_then(parse_graph_time)
        .map(|n| n / 1_000_000);
    let incident = match &f.incident_id {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let existing: Option<(i64, String)> = tx
        .prepare_cached("SELECT last_update_ns, raw FROM alerts WHERE tenant = ?1 AND id = ?2")?
        .query_row(params![tenant, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let evidence = f.evidence.as_deref().unwrap_or_default();
    let version_changed = tx.prepare_cached(
        "INSERT INTO alert_versions (tenant, id, last_update_ns, last_update, status, stored_ms, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tenant, id, last_update_ns) DO UPDATE SET raw = excluded.raw, status = excluded.status
         WHERE raw <> excluded.raw",
    )?
    .execute(params![tenant, id, ns, last_update, f.status.as_deref(), now, raw])?;
    if version_changed > 0 {
        super::ocsf::write_finding(tx, tenant, id, ns, raw, prepared.finding)?;
    }
    let outcome = match &existing {
        None => Stored::New,
        Some((old_ns, _)) if ns > *old_ns => Stored::Updated,
        Some((old_ns, old_raw)) if ns == *old_ns && old_raw != raw => Stored::Updated,
        Some(_) => return Ok(Stored::Unchanged),
    };
    tx.prepare_cached(
        "INSERT INTO alerts (tenant, id, created_ms, last_update_ns, last_update, status, severity,
            classification, determination, title, category, service_source, detection_source,
            incident_id, assigned_to, resolved_ms, versions, first_stored_ms, updated_ms, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 1, ?17, ?17, ?18)
         ON CONFLICT (tenant, id) DO UPDATE SET
            created_ms = excluded.created_ms, last_update_ns = excluded.last_update_ns,
            last_update = excluded.last_update, status = excluded.status, severity = excluded.severity,
            classification = excluded.classification, determination = excluded.determination,
            title = excluded.title, category = excluded.category, service_source = excluded.service_source,
            detection_source = excluded.detection_source, incident_id = excluded.incident_id,
            assigned_to = excluded.assigned_to, resolved_ms = excluded.resolved_ms,
            versions = (SELECT count(*) FROM alert_versions v WHERE v.tenant = excluded.tenant AND v.id = excluded.id),
            updated_ms = excluded.updated_ms, raw = excluded.raw",
    )?
    .execute(params![
        tenant,
        id,
        created_ms,
        ns,
        last_update,
        non_empty(&f.status),
        non_empty(&f.severity),
        non_empty(&f.classification),
        non_empty(&f.determination),
        non_empty(&f.title),
        non_empty(&f.category),
        non_empty(&f.service_source),
        non_empty(&f.detection_source),
        incident,
        non_empty(&f.assigned_to),
        resolved_ms,
        now,
        raw
    ])?;
    let columns = prepared
        .evidence
        .unwrap_or_else(|| evidence.iter().map(|e| evidence_columns(e)).collect());
    let job = evidence.iter().copied().zip(columns).collect();
    match evidence_jobs.iter_mut().find(|(j, _)| j == id) {
        Some(existing) => existing.1 = job,
        None => evidence_jobs.push((id.to_string(), job)),
    }
    Ok(outcome)
}

/// A page of alerts parsed and mapped, ready for [`write_page`].
struct PreparedPage<'a> {
    /// The rejected count so far.
    out: PageOutcome,
    parsed: Vec<Parsed<'a>>,
    /// Indexes into `parsed` of the alerts mapped beforehand, in order, with their mapping.
    mapped: Vec<(usize, Prepared)>,
}

/// The read-only half of storing a page: parsing, and the costly, pure mapping done on every
/// core. `conn` is the store's connection, or the open transaction the page is written in.
fn prepare_page<'a>(
    conn: &Connection,
    path: &Path,
    tenant: &str,
    alerts: &'a [Box<RawValue>],
) -> Result<PreparedPage<'a>, StoreError> {
    let mut out = PageOutcome::default();
    let mut parsed = Vec::with_capacity(alerts.len());
    for raw in alerts {
        let fields: AlertFields<'_> = match serde_json::from_str(raw.get()) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(
                    "skipping an alert that is not a JSON object of the alerts_v2 shape: {e}"
                );
                out.rejected += 1;
                continue;
            }
        };
        let (Some(id), Some(ns)) = (
            non_empty(&fields.id),
            non_empty(&fields.last_update_date_time).and_then(parse_graph_time),
        ) else {
            tracing::warn!("skipping an alert without id or a valid lastUpdateDateTime");
            out.rejected += 1;
            continue;
        };
        let id = id.to_string();
        parsed.push(Parsed {
            raw: raw.as_ref(),
            fields,
            id,
            ns,
        });
    }
    // Mapping is the costly part and pure: do it on every core before the write, for the
    // versions not stored yet, with the previous status read now (the write checks it is
    // still the same and maps again if not).
    let mut todo: Vec<(usize, Option<String>)> = Vec::new();
    {
        let mut stored = conn
                .prepare_cached(
                    "SELECT raw = ?4 FROM alert_versions WHERE tenant = ?1 AND id = ?2 AND last_update_ns = ?3",
                )
                .map_err(|e| super::sqlite_err(path, e))?;
        for (i, p) in parsed.iter().enumerate() {
            let same: Option<bool> = stored
                .query_row(params![tenant, p.id, p.ns, p.raw.get()], |r| r.get(0))
                .optional()
                .map_err(|e| super::sqlite_err(path, e))?;
            if same != Some(true) {
                let previous = super::ocsf::previous_status(conn, tenant, &p.id, p.ns)
                    .map_err(|e| super::sqlite_err(path, e))?;
                todo.push((i, previous));
            }
        }
    }
    let mapped = super::ocsf::map_parallel(&todo, |(i, previous)| {
        let p = &parsed[*i];
        let evidence = p.fields.evidence.as_deref().unwrap_or_default();
        Prepared {
            finding: Some(super::ocsf::MappedFinding::new(
                tenant,
                &p.id,
                p.ns,
                p.raw.get(),
                previous.clone(),
            )),
            evidence: Some(evidence.iter().map(|e| evidence_columns(e)).collect()),
        }
    });
    let mapped = todo.iter().map(|(i, _)| *i).zip(mapped).collect();
    Ok(PreparedPage {
        out,
        parsed,
        mapped,
    })
}

/// The writing half of storing a page, inside `tx`; moves the threats checkpoint there too.
fn write_page(
    tx: &Transaction<'_>,
    path: &Path,
    tenant: &str,
    page: PreparedPage<'_>,
    advance: Advance,
    now: i64,
) -> Result<PageOutcome, StoreError> {
    let PreparedPage {
        mut out,
        parsed,
        mapped,
    } = page;
    let mut mapped = mapped.into_iter().peekable();
    let mut evidence_jobs = Vec::new();
    for (i, p) in parsed.iter().enumerate() {
        let prepared = match mapped.peek() {
            Some((m, _)) if *m == i => mapped.next().map(|(_, m)| m),
            _ => None,
        }
        .unwrap_or(Prepared {
            finding: None,
            evidence: None,
        });
        match store_one(
            tx,
            tenant,
            p.raw.get(),
            &p.fields,
            &p.id,
            p.ns,
            now,
            prepared,
            &mut evidence_jobs,
        )
        .map_err(|e| super::sqlite_err(path, e))?
        {
            Stored::New => out.new += 1,
            Stored::Updated => out.updated += 1,
            Stored::Unchanged => out.unchanged += 1,
        }
        if out.max_time.as_ref().is_none_or(|m| p.ns > m.0) {
            out.max_time = Some((
                p.ns,
                p.fields
                    .last_update_date_time
                    .as_deref()
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
    }
    write_evidence(tx, tenant, &evidence_jobs).map_err(|e| super::sqlite_err(path, e))?;
    write_checkpoint(
        tx,
        tenant,
        super::sync::THREATS,
        advance,
        out.max_time.as_ref().map(|m| m.0),
        now,
    )
    .map_err(|e| super::sqlite_err(path, e))?;
    Ok(out)
}

impl Store {
    /// Stores one page of alerts and, in the same transaction, moves the threats checkpoint.
    /// The mapping is done before the transaction begins, so the write lock is held briefly.
    pub fn ingest_alerts(
        &mut self,
        tenant: &str,
        alerts: &[Box<RawValue>],
        advance: Advance,
    ) -> Result<PageOutcome, StoreError> {
        let now = now_ms();
        let page = prepare_page(&self.conn, &self.path, tenant, alerts)?;
        let tx = self.begin_write()?;
        let out = write_page(&tx.tx, tx.path, tenant, page, advance, now)?;
        tx.commit()?;
        Ok(out)
    }
}

impl WriteTransaction<'_> {
    /// [`Store::ingest_alerts`] inside this transaction: nothing is kept until it commits.
    pub fn ingest_alerts(
        &self,
        tenant: &str,
        alerts: &[Box<RawValue>],
        advance: Advance,
    ) -> Result<PageOutcome, StoreError> {
        let now = now_ms();
        let page = prepare_page(&self.tx, self.path, tenant, alerts)?;
        write_page(&self.tx, self.path, tenant, page, advance, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(v: serde_json::Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    fn alert(id: &str, updated: &str, status: &str, evidence: usize) -> Box<RawValue> {
        let ev: Vec<_> = (0..evidence)
            .map(|i| serde_json::json!({"@odata.type": "#microsoft.graph.security.analyzedMessageEvidence", "networkMessageId": format!("m{i}"), "recipientEmailAddress": "a@contoso.com"}))
            .collect();
        raw(
            serde_json::json!({"id": id, "createdDateTime": "2026-11-01T00:00:00Z", "lastUpdateDateTime": updated, "status": status, "evidence": ev}),
        )
    }

    fn count(store: &Store, sql: &str) -> i64 {
        store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn newer_replaces_same_is_unchanged_older_only_adds_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("a.db")).unwrap();
        let o = s
            .ingest_alerts(
                "t",
                &[alert("a1", "2026-11-01T00:00:00.1234567Z", "new", 1)],
                Advance::ToPageMax,
            )
            .unwrap();
        assert_eq!((o.new, o.updated, o.unchanged), (1, 0, 0));
        let o = s
            .ingest_alerts(
                "t",
                &[alert("a1", "2026-11-01T00:00:00.1234567Z", "new", 1)],
                Advance::ToPageMax,
            )
            .unwrap();
        assert_eq!((o.new, o.updated, o.unchanged), (0, 0, 1));
        let o = s
            .ingest_alerts(
                "t",
                &[alert("a1", "2026-11-01T01:00:00Z", "inProgress", 3)],
                Advance::ToPageMax,
            )
            .unwrap();
        assert_eq!(o.updated, 1);
        assert_eq!(
            count(&s, "SELECT count(*) FROM alert_evidence"),
            3,
            "evidence replaced, not merged"
        );
        assert_eq!(count(&s, "SELECT versions FROM alerts"), 2);
        let o = s
            .ingest_alerts(
                "t",
                &[alert("a1", "2026-11-01T00:30:00Z", "new", 1)],
                Advance::ToPageMax,
            )
            .unwrap();
        assert_eq!(
            o.unchanged, 1,
            "an older version does not replace the current one"
        );
        assert_eq!(count(&s, "SELECT count(*) FROM alert_versions"), 3);
        let status: String = s
            .conn()
            .query_row("SELECT status FROM alerts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(status, "inProgress");
        assert_eq!(count(&s, "SELECT count(*) FROM alert_evidence"), 3);
    }

    #[test]
    fn records_without_identity_are_rejected_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("a.db")).unwrap();
        let page = [
            raw(serde_json::json!({"title": "no id"})),
            raw(serde_json::json!([1, 2])),
            alert("ok", "2026-11-01T00:00:00Z", "new", 0),
        ];
        let o = s.ingest_alerts("t", &page, Advance::ToPageMax).unwrap();
        assert_eq!((o.new, o.rejected), (1, 2));
    }

    #[test]
    fn graph_times_parse_with_seven_digits_and_without_offset() {
        assert_eq!(
            parse_graph_time("2026-05-04T09:12:41.3366667Z").unwrap() % 1_000_000_000,
            336_666_700
        );
        assert_eq!(
            parse_graph_time("2026-05-04T09:12:41.33"),
            parse_graph_time("2026-05-04T09:12:41.33Z")
        );
        assert_eq!(parse_graph_time("yesterday"), None);
    }
}
