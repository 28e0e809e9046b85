//! How a batch of EmailEvents rows is stored: one row per `(tenant, NetworkMessageId,
//! RecipientEmailAddress)`; re-reading a row changes nothing unless its content changed. The
//! activity checkpoint moves in the same transaction, and a gap the batch fills is closed there.

use std::borrow::Cow;

use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::alerts::{PageOutcome, parse_graph_time};
use super::sync::{ACTIVITY, Advance, format_ns, write_checkpoint};
use super::{Store, StoreError, now_ms, sqlite_err};

/// The typed columns of an EmailEvents row; the raw row keeps every column.
#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Row<'a> {
    #[serde(borrow, default)]
    Timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    NetworkMessageId: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    RecipientEmailAddress: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    EmailDirection: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    SenderFromAddress: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    SenderMailFromAddress: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    SenderDisplayName: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    SenderFromDomain: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    SenderIPv4: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    SenderIPv6: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    Subject: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    DeliveryAction: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    DeliveryLocation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    LatestDeliveryLocation: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    ThreatTypes: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    InternetMessageId: Option<Cow<'a, str>>,
    #[serde(default)]
    ReportId: Option<serde_json::Value>,
}

fn opt<'a>(s: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// A window whose rows are being written: closing its gap happens in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from_ns: i64,
    pub to_ns: i64,
}

impl Store {
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
        let now = now_ms();
        let path = self.path.clone();
        // OCSF mapping is pure and the costly part: do it on every core before the write.
        let tenant_id =
            super::ocsf::tenant_id_of(&self.conn, tenant).map_err(|e| sqlite_err(&path, e))?;
        let events: Vec<String> = super::ocsf::map_parallel(rows, |raw| {
            super::ocsf::email_event_json(tenant, &tenant_id, raw.get())
        });
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sqlite_err(&path, e))?;
        let mut out = PageOutcome::default();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO email_events (tenant, network_message_id, recipient, timestamp_ms, timestamp,
                        direction, sender_from, sender_mail_from, sender_display_name, sender_from_domain, sender_ip,
                        subject, delivery_action, delivery_location, latest_delivery_location, threat_types,
                        internet_message_id, report_id, stored_ms, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                )
                .map_err(|e| sqlite_err(&path, e))?;
            let mut update = tx
                .prepare_cached(
                    "UPDATE email_events SET timestamp_ms = ?4, timestamp = ?5, direction = ?6, sender_from = ?7,
                        sender_mail_from = ?8, sender_display_name = ?9, sender_from_domain = ?10, sender_ip = ?11,
                        subject = ?12, delivery_action = ?13, delivery_location = ?14, latest_delivery_location = ?15,
                        threat_types = ?16, internet_message_id = ?17, report_id = ?18, stored_ms = ?19, raw = ?20
                     WHERE tenant = ?1 AND network_message_id = ?2 AND recipient = ?3 AND raw <> ?20",
                )
                .map_err(|e| sqlite_err(&path, e))?;
            let mut rowid_of = tx
                .prepare_cached(
                    "SELECT rowid FROM email_events WHERE tenant = ?1 AND network_message_id = ?2 AND recipient = ?3",
                )
                .map_err(|e| sqlite_err(&path, e))?;
            for (i, raw) in rows.iter().enumerate() {
                let row: Row<'_> = match serde_json::from_str(raw.get()) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(
                            "skipping an EmailEvents row that is not an object of the expected shape: {e}"
                        );
                        out.rejected += 1;
                        continue;
                    }
                };
                let (Some(nmid), Some(recipient), Some(ns)) = (
                    opt(&row.NetworkMessageId),
                    opt(&row.RecipientEmailAddress),
                    opt(&row.Timestamp).and_then(parse_graph_time),
                ) else {
                    tracing::warn!(
                        "skipping an EmailEvents row without NetworkMessageId, RecipientEmailAddress or Timestamp"
                    );
                    out.rejected += 1;
                    continue;
                };
                let report_id = match &row.ReportId {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
                    Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let ip = opt(&row.SenderIPv4).or(opt(&row.SenderIPv6));
                let values = params![
                    tenant,
                    nmid,
                    recipient,
                    ns / 1_000_000,
                    opt(&row.Timestamp),
                    opt(&row.EmailDirection),
                    opt(&row.SenderFromAddress),
                    opt(&row.SenderMailFromAddress),
                    opt(&row.SenderDisplayName),
                    opt(&row.SenderFromDomain),
                    ip,
                    row.Subject.as_deref(),
                    opt(&row.DeliveryAction),
                    opt(&row.DeliveryLocation),
                    opt(&row.LatestDeliveryLocation),
                    opt(&row.ThreatTypes),
                    opt(&row.InternetMessageId),
                    report_id,
                    now,
                    raw.get()
                ];
                let changed_rowid =
                    if insert.execute(values).map_err(|e| sqlite_err(&path, e))? == 1 {
                        out.new += 1;
                        Some(tx.last_insert_rowid())
                    } else if update.execute(values).map_err(|e| sqlite_err(&path, e))? == 1 {
                        out.updated += 1;
                        rowid_of
                            .query_row(params![tenant, nmid, recipient], |r| r.get::<_, i64>(0))
                            .optional()
                            .map_err(|e| sqlite_err(&path, e))?
                    } else {
                        out.unchanged += 1;
                        None
                    };
                if let Some(rowid) = changed_rowid {
                    super::ocsf::insert_email(&tx, rowid, &events[i])
                        .map_err(|e| sqlite_err(&path, e))?;
                }
                if out.max_time.as_ref().is_none_or(|m| ns > m.0) {
                    out.max_time = Some((ns, format_ns(ns)));
                }
            }
        }
        if let Some(w) = window {
            // Cursor strings share one fixed-width format, so text order is time order.
            tx.execute(
                "DELETE FROM gaps WHERE tenant = ?1 AND stream = ?2 AND window_from >= ?3 AND window_to <= ?4",
                params![tenant, ACTIVITY, format_ns(w.from_ns), format_ns(w.to_ns)],
            )
            .map_err(|e| sqlite_err(&path, e))?;
        }
        write_checkpoint(
            &tx,
            tenant,
            ACTIVITY,
            advance,
            out.max_time.as_ref().map(|m| m.0),
            now,
        )
        .map_err(|e| sqlite_err(&path, e))?;
        tx.commit().map_err(|e| sqlite_err(&path, e))?;
        Ok(out)
    }
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
