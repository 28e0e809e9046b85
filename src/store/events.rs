//! How a batch of EmailEvents rows is stored: one row per `(tenant, NetworkMessageId,
//! RecipientEmailAddress)`; re-reading a row changes nothing unless its content changed. The
//! activity checkpoint moves in the same transaction, and a gap the batch fills is closed there.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::alerts::{PageOutcome, parse_graph_time};
use super::sync::{ACTIVITY, Advance, format_ns, write_checkpoint};
use super::{Store, StoreError, WriteTransaction, now_ms, sqlite_err};

/// The typed columns of an EmailEvents row; the raw row keeps every column. `import` checks
/// its records with this same type, so what it accepts the store can store.
#[derive(Deserialize)]
#[allow(non_snake_case)]
pub(crate) struct Row<'a> {
    #[serde(borrow, default)]
    pub(crate) Timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) NetworkMessageId: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) RecipientEmailAddress: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) EmailDirection: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) SenderFromAddress: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) SenderMailFromAddress: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) SenderDisplayName: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) SenderFromDomain: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) SenderIPv4: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) SenderIPv6: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) Subject: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) DeliveryAction: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) DeliveryLocation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) LatestDeliveryLocation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) ThreatTypes: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) InternetMessageId: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(crate) ReportId: Option<serde_json::Value>,
    /// Present when the rows come through Sentinel / Log Analytics; not stored as a column.
    #[serde(borrow, default)]
    pub(crate) TenantId: Option<Cow<'a, str>>,
}

fn opt<'a>(s: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// Bound parameters per email_events row.
const COLUMNS: usize = 20;
/// Rows per INSERT statement (SQLite allows 32,766 parameters).
const INSERT_CHUNK: usize = 500;

/// `INSERT OR IGNORE` of `n` rows.
fn insert_sql(n: usize) -> String {
    let mut sql = String::from(
        "INSERT OR IGNORE INTO email_events (tenant, network_message_id, recipient, timestamp_ms, timestamp,
            direction, sender_from, sender_mail_from, sender_display_name, sender_from_domain, sender_ip,
            subject, delivery_action, delivery_location, latest_delivery_location, threat_types,
            internet_message_id, report_id, stored_ms, raw) VALUES ",
    );
    for i in 0..n {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for j in 1..=COLUMNS {
            if j > 1 {
                sql.push(',');
            }
            sql.push('?');
            sql.push_str(&(i * COLUMNS + j).to_string());
        }
        sql.push(')');
    }
    sql
}

/// One storable row: its typed columns, borrowed from its JSON where possible.
struct Columns<'a> {
    /// Position in the window.
    index: usize,
    ns: i64,
    report_id: Option<String>,
    row: Row<'a>,
}

impl<'a> Columns<'a> {
    fn of(index: usize, raw: &'a str) -> Result<Columns<'a>, String> {
        let row: Row<'a> = serde_json::from_str(raw)
            .map_err(|e| format!("not an object of the expected shape: {e}"))?;
        let ns = match (
            opt(&row.NetworkMessageId),
            opt(&row.RecipientEmailAddress),
            opt(&row.Timestamp).and_then(parse_graph_time),
        ) {
            (Some(_), Some(_), Some(ns)) => ns,
            _ => return Err("no NetworkMessageId, RecipientEmailAddress or Timestamp".into()),
        };
        let report_id = match &row.ReportId {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        Ok(Columns {
            index,
            ns,
            report_id,
            row,
        })
    }

    fn nmid(&self) -> &str {
        opt(&self.row.NetworkMessageId).unwrap_or_default()
    }

    fn recipient(&self) -> &str {
        opt(&self.row.RecipientEmailAddress).unwrap_or_default()
    }

    /// Binds the 20 columns (in `insert_sql` order) at parameters `base + 1 ..= base + 20`.
    fn bind(
        &self,
        stmt: &mut rusqlite::Statement<'_>,
        base: usize,
        tenant: &str,
        now: i64,
        raw: &str,
    ) -> rusqlite::Result<()> {
        let row = &self.row;
        let ip = opt(&row.SenderIPv4).or(opt(&row.SenderIPv6));
        let values: [&dyn rusqlite::ToSql; COLUMNS] = [
            &tenant,
            &self.nmid(),
            &self.recipient(),
            &(self.ns / 1_000_000),
            &opt(&row.Timestamp),
            &opt(&row.EmailDirection),
            &opt(&row.SenderFromAddress),
            &opt(&row.SenderMailFromAddress),
            &opt(&row.SenderDisplayName),
            &opt(&row.SenderFromDomain),
            &ip,
            &row.Subject.as_deref(),
            &opt(&row.DeliveryAction),
            &opt(&row.DeliveryLocation),
            &opt(&row.LatestDeliveryLocation),
            &opt(&row.ThreatTypes),
            &opt(&row.InternetMessageId),
            &self.report_id,
            &now,
            &raw,
        ];
        for (j, v) in values.iter().enumerate() {
            stmt.raw_bind_parameter(base + j + 1, v)?;
        }
        Ok(())
    }
}

/// A window whose rows are being written: closing its gap happens in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from_ns: i64,
    pub to_ns: i64,
}

/// A window's rows with their OCSF Email Activity already mapped: the costly, pure half of
/// ingest, built without the store (so the collector maps one window while the store writes
/// the one before). `events[i]` is the mapping of `rows[i]`.
pub struct MappedEvents {
    pub rows: Vec<Box<RawValue>>,
    events: Vec<String>,
}

impl MappedEvents {
    /// Maps `rows` on every core; `tenant_id` is the tenant's Entra id ([`Store::tenant_id`]).
    pub fn new(tenant: &str, tenant_id: &str, rows: Vec<Box<RawValue>>) -> MappedEvents {
        let events = super::ocsf::map_parallel(&rows, |raw| {
            super::ocsf::email_event_json(tenant, tenant_id, raw.get())
        });
        MappedEvents { rows, events }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Store {
    /// The Entra tenant id recorded for a configured tenant name ("" when unknown).
    pub fn tenant_id(&self, tenant: &str) -> Result<String, StoreError> {
        super::ocsf::tenant_id_of(&self.conn, tenant).map_err(|e| sqlite_err(&self.path, e))
    }

    /// Stores rows of one hunting window and moves the activity checkpoint per `advance`.
    /// Gaps that lie inside `window` are filled by these rows: they are deleted in the same
    /// transaction, so a crash can never leave a filled window marked as missing (or the reverse).
    pub fn ingest_email_events(
        &mut self,
        tenant: &str,
        rows: &[Box<RawValue>],
        advance: Advance,
        window: Option<Window>,
    ) -> Result<PageOutcome, StoreError> {
        let tenant_id = self.tenant_id(tenant)?;
        let mapped = MappedEvents::new(tenant, &tenant_id, rows.to_vec());
        self.write_email_events(tenant, &mapped, advance, window)
    }

    /// [`Store::ingest_email_events`] of rows mapped beforehand.
    pub fn write_email_events(
        &mut self,
        tenant: &str,
        mapped: &MappedEvents,
        advance: Advance,
        window: Option<Window>,
    ) -> Result<PageOutcome, StoreError> {
        let tx = self.begin_write()?;
        let out = write_events(&tx.tx, tx.path, tenant, mapped, advance, window)?;
        tx.commit()?;
        Ok(out)
    }
}

impl WriteTransaction<'_> {
    /// [`Store::ingest_email_events`] inside this transaction: nothing is kept until it commits.
    pub fn ingest_email_events(
        &self,
        tenant: &str,
        rows: &[Box<RawValue>],
        advance: Advance,
        window: Option<Window>,
    ) -> Result<PageOutcome, StoreError> {
        let tenant_id =
            super::ocsf::tenant_id_of(&self.tx, tenant).map_err(|e| sqlite_err(self.path, e))?;
        let mapped = MappedEvents::new(tenant, &tenant_id, rows.to_vec());
        write_events(&self.tx, self.path, tenant, &mapped, advance, window)
    }
}

/// Writes a window's mapped rows inside `tx`, closing the gaps they fill and moving the
/// activity checkpoint there too.
fn write_events(
    tx: &Transaction<'_>,
    path: &Path,
    tenant: &str,
    mapped: &MappedEvents,
    advance: Advance,
    window: Option<Window>,
) -> Result<PageOutcome, StoreError> {
    let now = now_ms();
    let (rows, events) = (&mapped.rows, &mapped.events);
    let mut out = PageOutcome::default();
    let mut parsed: Vec<Columns<'_>> = Vec::with_capacity(rows.len());
    for (index, raw) in rows.iter().enumerate() {
        match Columns::of(index, raw.get()) {
            Ok(c) => parsed.push(c),
            Err(why) => {
                tracing::warn!("skipping an EmailEvents row: {why}");
                out.rejected += 1;
            }
        }
    }
    {
        // New rows go in many per statement: a statement that fires triggers into a
        // virtual table (the full-text index) needs a statement journal, and FTS5 flushes
        // its pending terms at every statement savepoint, so one row per statement costs a
        // journal and an index segment per row.
        let before: i64 = tx
            .query_row(
                "SELECT coalesce(max(rowid), 0) FROM email_events",
                [],
                |r| r.get(0),
            )
            .map_err(|e| sqlite_err(path, e))?;
        for chunk in parsed.chunks(INSERT_CHUNK) {
            let sql = insert_sql(chunk.len());
            let (mut cached, mut plain);
            let insert: &mut rusqlite::Statement<'_> = if chunk.len() == INSERT_CHUNK {
                cached = tx.prepare_cached(&sql).map_err(|e| sqlite_err(path, e))?;
                &mut cached
            } else {
                plain = tx.prepare(&sql).map_err(|e| sqlite_err(path, e))?;
                &mut plain
            };
            for (k, c) in chunk.iter().enumerate() {
                c.bind(insert, k * COLUMNS, tenant, now, rows[c.index].get())
                    .map_err(|e| sqlite_err(path, e))?;
            }
            insert.raw_execute().map_err(|e| sqlite_err(path, e))?;
        }
        // Which rows were new: rowids grow past the old maximum (no other writer inside this
        // transaction), and a key seen twice in one window was inserted at its first row.
        let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(parsed.len());
        for (k, c) in parsed.iter().enumerate() {
            first.entry((c.nmid(), c.recipient())).or_insert(k);
        }
        let mut is_new = vec![false; parsed.len()];
        {
            let mut new_rows = tx
                    .prepare_cached(
                        "SELECT rowid, network_message_id, recipient FROM email_events WHERE rowid > ?1 ORDER BY rowid",
                    )
                    .map_err(|e| sqlite_err(path, e))?;
            let mut q = new_rows
                .query(params![before])
                .map_err(|e| sqlite_err(path, e))?;
            while let Some(r) = q.next().map_err(|e| sqlite_err(path, e))? {
                let rowid: i64 = r.get(0).map_err(|e| sqlite_err(path, e))?;
                let nmid = r
                    .get_ref(1)
                    .and_then(|v| Ok(v.as_str()?))
                    .unwrap_or_default();
                let rcpt = r
                    .get_ref(2)
                    .and_then(|v| Ok(v.as_str()?))
                    .unwrap_or_default();
                if let Some(&k) = first.get(&(nmid, rcpt)) {
                    is_new[k] = true;
                    out.new += 1;
                    super::ocsf::insert_email(tx, rowid, &events[parsed[k].index])
                        .map_err(|e| sqlite_err(path, e))?;
                }
            }
        }
        let mut update = tx
                .prepare_cached(
                    "UPDATE email_events SET timestamp_ms = ?4, timestamp = ?5, direction = ?6, sender_from = ?7,
                        sender_mail_from = ?8, sender_display_name = ?9, sender_from_domain = ?10, sender_ip = ?11,
                        subject = ?12, delivery_action = ?13, delivery_location = ?14, latest_delivery_location = ?15,
                        threat_types = ?16, internet_message_id = ?17, report_id = ?18, stored_ms = ?19, raw = ?20
                     WHERE tenant = ?1 AND network_message_id = ?2 AND recipient = ?3 AND raw <> ?20",
                )
                .map_err(|e| sqlite_err(path, e))?;
        let mut rowid_of = tx
                .prepare_cached(
                    "SELECT rowid FROM email_events WHERE tenant = ?1 AND network_message_id = ?2 AND recipient = ?3",
                )
                .map_err(|e| sqlite_err(path, e))?;
        for (k, c) in parsed.iter().enumerate() {
            if !is_new[k] {
                c.bind(&mut update, 0, tenant, now, rows[c.index].get())
                    .map_err(|e| sqlite_err(path, e))?;
                if update.raw_execute().map_err(|e| sqlite_err(path, e))? == 1 {
                    out.updated += 1;
                    let rowid = rowid_of
                        .query_row(params![tenant, c.nmid(), c.recipient()], |r| {
                            r.get::<_, i64>(0)
                        })
                        .optional()
                        .map_err(|e| sqlite_err(path, e))?;
                    if let Some(rowid) = rowid {
                        super::ocsf::insert_email(tx, rowid, &events[c.index])
                            .map_err(|e| sqlite_err(path, e))?;
                    }
                } else {
                    out.unchanged += 1;
                }
            }
            if out.max_time.as_ref().is_none_or(|m| c.ns > m.0) {
                out.max_time = Some((c.ns, format_ns(c.ns)));
            }
        }
    }
    if let Some(w) = window {
        // Cursor strings share one fixed-width format, so text order is time order.
        tx.execute(
                "DELETE FROM gaps WHERE tenant = ?1 AND stream = ?2 AND window_from >= ?3 AND window_to <= ?4",
                params![tenant, ACTIVITY, format_ns(w.from_ns), format_ns(w.to_ns)],
            )
            .map_err(|e| sqlite_err(path, e))?;
    }
    write_checkpoint(
        tx,
        tenant,
        ACTIVITY,
        advance,
        out.max_time.as_ref().map(|m| m.0),
        now,
    )
    .map_err(|e| sqlite_err(path, e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(nmid: &str, rcpt: &str, subject: &str) -> Box<RawValue> {
        RawValue::from_string(
            serde_json::json!({"Timestamp": "2026-11-01T10:00:00.1234567Z", "NetworkMessageId": nmid, "RecipientEmailAddress": rcpt, "Subject": subject, "ReportId": 7})
                .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn one_row_per_message_and_recipient_and_rereads_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        let batch = [
            row("m1", "a@x.com", "hi"),
            row("m1", "b@x.com", "hi"),
            row("m2", "a@x.com", "yo"),
        ];
        let o = s
            .ingest_email_events("t", &batch, Advance::To(5), None)
            .unwrap();
        assert_eq!((o.new, o.updated, o.unchanged), (3, 0, 0));
        let o = s
            .ingest_email_events("t", &batch, Advance::To(5), None)
            .unwrap();
        assert_eq!((o.new, o.updated, o.unchanged), (0, 0, 3));
        let o = s
            .ingest_email_events("t", &[row("m2", "a@x.com", "changed")], Advance::No, None)
            .unwrap();
        assert_eq!(o.updated, 1);
        let n: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM email_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 3);
        // Another tenant's identical row is its own row.
        let o = s
            .ingest_email_events("u", &batch[..1], Advance::No, None)
            .unwrap();
        assert_eq!(o.new, 1);
    }

    #[test]
    fn a_window_written_many_rows_per_statement_keeps_each_ocsf_row_with_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        s.ingest_email_events("t", &[row("m5", "a@x.com", "old")], Advance::No, None)
            .unwrap();
        // More rows than one INSERT statement takes, an existing row that changed, and a key
        // seen twice in the window (the second copy is an update of the first).
        let mut batch: Vec<_> = (0..INSERT_CHUNK + 7)
            .map(|i| row(&format!("m{i}"), "a@x.com", &format!("s{i}")))
            .collect();
        batch.push(row("m1", "a@x.com", "twice"));
        let o = s
            .ingest_email_events("t", &batch, Advance::No, None)
            .unwrap();
        assert_eq!(
            (o.new, o.updated, o.unchanged),
            (INSERT_CHUNK as u64 + 6, 2, 0)
        );
        let mismatched: i64 = s
            .conn()
            .query_row(
                "SELECT count(*) FROM email_events e JOIN ocsf_email o ON o.event_rowid = e.rowid
                 WHERE json_extract(o.event, '$.message_trace_uid') <> e.network_message_id
                    OR json_extract(o.event, '$.email.subject') <> e.subject",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(mismatched, 0);
        let (events, ocsf): (i64, i64) = s
            .conn()
            .query_row(
                "SELECT (SELECT count(*) FROM email_events), (SELECT count(*) FROM ocsf_email)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (events, ocsf),
            (INSERT_CHUNK as i64 + 7, INSERT_CHUNK as i64 + 7)
        );
        let subject: String = s
            .conn()
            .query_row(
                "SELECT subject FROM email_events WHERE network_message_id = 'm1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(subject, "twice");
    }

    #[test]
    fn a_filled_gap_is_closed_with_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("e.db")).unwrap();
        s.record_gap("t", ACTIVITY, 1_000, 2_000, "500 UnknownError")
            .unwrap();
        s.record_gap("t", ACTIVITY, 1_000, 2_000, "500 UnknownError")
            .unwrap();
        assert_eq!(s.gaps("t", ACTIVITY).unwrap()[0].attempts, 2);
        s.record_gap("t", ACTIVITY, 5_000, 9_000, "500 UnknownError")
            .unwrap();
        s.record_gap("t", ACTIVITY, 9_000, 9_500, "500 UnknownError")
            .unwrap();
        assert_eq!(
            s.gaps("t", ACTIVITY).unwrap().len(),
            2,
            "an adjacent window extends its gap"
        );
        s.ingest_email_events(
            "t",
            &[row("m1", "a@x.com", "hi")],
            Advance::No,
            Some(Window {
                from_ns: 500,
                to_ns: 2_000,
            }),
        )
        .unwrap();
        let left = s.gaps("t", ACTIVITY).unwrap();
        assert_eq!(left.len(), 1, "only the gap inside the window is closed");
        assert_eq!(left[0].from, format_ns(5_000));
    }
}
