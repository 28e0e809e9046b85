//! OCSF rows beside the raw ones: a Detection Finding per stored alert version and an Email
//! Activity per email event, written in the same transaction as their source rows, each with
//! the mapping version that produced it. `remap` rebuilds them after a mapping change.

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::Value;

use super::{Store, StoreError, now_ms, sqlite_err};
use crate::ocsf::{self, EmailContext, FindingContext, MAPPING_VERSION};

/// The Entra tenant id recorded for a tenant name ("" when unknown).
fn tenant_id(tx: &Transaction<'_>, tenant: &str) -> rusqlite::Result<String> {
    Ok(tx
        .prepare_cached("SELECT tenant_id FROM tenants WHERE name = ?1")?
        .query_row(params![tenant], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// The previous status of an alert before the version at `last_update_ns`: `None` when no
/// earlier version is stored (the finding is then a Create).
pub(crate) fn previous_status(
    conn: &rusqlite::Connection,
    tenant: &str,
    alert_id: &str,
    last_update_ns: i64,
) -> rusqlite::Result<Option<String>> {
    let previous: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT status FROM alert_versions WHERE tenant = ?1 AND id = ?2 AND last_update_ns < ?3
             ORDER BY last_update_ns DESC LIMIT 1",
        )?
        .query_row(params![tenant, alert_id, last_update_ns], |r| r.get(0))
        .optional()?;
    Ok(previous.map(|s| s.unwrap_or_default()))
}

/// The Detection Finding of one alert version, mapped ahead of its write (pure, any thread)
/// for the previous status it was mapped with.
pub(crate) struct MappedFinding {
    pub previous: Option<String>,
    activity: ocsf::FindingActivity,
    time_ms: i64,
    event: String,
}

impl MappedFinding {
    pub(crate) fn new(
        tenant: &str,
        alert_id: &str,
        last_update_ns: i64,
        raw: &str,
        previous: Option<String>,
    ) -> MappedFinding {
        let alert: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
        let activity = ocsf::finding_activity(previous.as_deref(), &alert);
        let last_update = alert
            .get("lastUpdateDateTime")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ctx = FindingContext {
            activity,
            event_uid: ocsf::alert_event_uid(tenant, alert_id, last_update),
            tenant_name: tenant.to_string(),
            processed_time_ms: Some(now_ms()),
            raw: false,
        };
        let event = ocsf::detection_finding(&alert, &ctx);
        let time_ms = event
            .get("time")
            .and_then(Value::as_i64)
            .unwrap_or(last_update_ns / 1_000_000);
        MappedFinding {
            previous,
            activity,
            time_ms,
            // serde_json::to_string writes into one buffer; `Value`'s Display goes through fmt
            // and is markedly slower. Same bytes.
            event: serde_json::to_string(&event).unwrap_or_default(),
        }
    }
}

/// Maps and stores the finding of one alert version. The activity (Create, Update, Close)
/// follows from the version stored just before it; a finding mapped beforehand is used when
/// it was mapped for that same previous version's status.
pub(crate) fn write_finding(
    tx: &Transaction<'_>,
    tenant: &str,
    alert_id: &str,
    last_update_ns: i64,
    raw: &str,
    mapped: Option<MappedFinding>,
) -> rusqlite::Result<()> {
    let previous = previous_status(tx, tenant, alert_id, last_update_ns)?;
    let f = match mapped {
        Some(m) if m.previous == previous => m,
        _ => MappedFinding::new(tenant, alert_id, last_update_ns, raw, previous),
    };
    tx.prepare_cached(
        "INSERT INTO ocsf_findings (tenant, alert_id, last_update_ns, activity_id, time_ms, mapping_version, event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tenant, alert_id, last_update_ns) DO UPDATE SET activity_id = excluded.activity_id,
            time_ms = excluded.time_ms, mapping_version = excluded.mapping_version, event = excluded.event",
    )?
    .execute(params![
        tenant,
        alert_id,
        last_update_ns,
        f.activity.id(),
        f.time_ms,
        MAPPING_VERSION,
        f.event
    ])?;
    Ok(())
}

/// The Email Activity of one EmailEvents row, as JSON text. Pure: safe to run on any thread.
pub(crate) fn email_event_json(tenant: &str, tenant_id: &str, raw: &str) -> String {
    let row: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default();
    let ctx = EmailContext {
        tenant_id: tenant_id.to_string(),
        event_uid: ocsf::email_event_uid(
            tenant,
            text("NetworkMessageId"),
            text("RecipientEmailAddress"),
        ),
        tenant_name: tenant.to_string(),
        processed_time_ms: Some(now_ms()),
        raw: false,
    };
    // serde_json::to_string writes into one buffer; `Value`'s Display goes through fmt and is
    // markedly slower. Same bytes.
    serde_json::to_string(&ocsf::email_activity(&row, &ctx)).unwrap_or_default()
}

/// Stores the Email Activity of the email_events row `rowid`.
pub(crate) fn insert_email(tx: &Transaction<'_>, rowid: i64, event: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO ocsf_email (event_rowid, mapping_version, event) VALUES (?1, ?2, ?3)
         ON CONFLICT (event_rowid) DO UPDATE SET mapping_version = excluded.mapping_version, event = excluded.event",
    )?
    .execute(params![rowid, MAPPING_VERSION, event])?;
    Ok(())
}

/// Maps and stores the Email Activity of one email_events row.
pub(crate) fn write_email(
    tx: &Transaction<'_>,
    tenant: &str,
    tenant_id_cache: &mut Option<String>,
    rowid: i64,
    raw: &str,
) -> rusqlite::Result<()> {
    if tenant_id_cache.is_none() {
        *tenant_id_cache = Some(tenant_id(tx, tenant)?);
    }
    let event = email_event_json(tenant, tenant_id_cache.as_deref().unwrap_or_default(), raw);
    insert_email(tx, rowid, &event)
}

/// The Entra tenant id recorded for a tenant name, outside a transaction.
pub(crate) fn tenant_id_of(conn: &rusqlite::Connection, tenant: &str) -> rusqlite::Result<String> {
    Ok(conn
        .query_row(
            "SELECT tenant_id FROM tenants WHERE name = ?1",
            params![tenant],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default())
}

/// `f` over `items` on up to the machine's cores, in order. Mapping is the costly part of
/// ingest, and it is pure, so it runs before (and beside) the single-writer transaction.
pub(crate) fn map_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if threads < 2 || items.len() < 256 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// What `remap` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RemapOutcome {
    pub findings: u64,
    pub emails: u64,
}

impl Store {
    /// Records which Entra tenant a configured name stands for.
    pub fn register_tenant(&mut self, name: &str, tenant_id: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO tenants (name, tenant_id) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET tenant_id = excluded.tenant_id",
                params![name, tenant_id],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// How many OCSF rows a remap would rebuild: (findings, emails) made by another mapping
    /// version, or every row with `all`.
    pub fn remap_pending(&self, all: bool) -> Result<(i64, i64), StoreError> {
        let cond = if all { "1" } else { "mapping_version <> ?1" };
        let count = |table: &str| -> Result<i64, StoreError> {
            let sql = format!("SELECT count(*) FROM {table} WHERE {cond}");
            let r = if all {
                self.conn.query_row(&sql, [], |r| r.get(0))
            } else {
                self.conn
                    .query_row(&sql, params![MAPPING_VERSION], |r| r.get(0))
            };
            r.map_err(|e| self.err(e))
        };
        let versions_missing: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM alert_versions v WHERE NOT EXISTS (SELECT 1 FROM ocsf_findings f
                 WHERE f.tenant = v.tenant AND f.alert_id = v.id AND f.last_update_ns = v.last_update_ns)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        let emails_missing: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM email_events e WHERE NOT EXISTS (SELECT 1 FROM ocsf_email o WHERE o.event_rowid = e.rowid)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok((
            count("ocsf_findings")? + versions_missing,
            count("ocsf_email")? + emails_missing,
        ))
    }

    /// Rebuilds OCSF rows made by another mapping version (or all of them), in batches of
    /// `batch` source rows per transaction; `progress` gets (done, total) after each batch.
    pub fn remap(
        &mut self,
        all: bool,
        batch: usize,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RemapOutcome, StoreError> {
        let (f_total, e_total) = self.remap_pending(all)?;
        let total = (f_total + e_total) as u64;
        let mut out = RemapOutcome::default();
        let path = self.path.clone();
        // Findings: walk alert versions in (tenant, id, time) order so Create/Update/Close follow.
        let mut after: (String, String, i64) = (String::new(), String::new(), i64::MIN);
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| sqlite_err(&path, e))?;
            let rows: Vec<(String, String, i64, String)> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT v.tenant, v.id, v.last_update_ns, v.raw FROM alert_versions v
                         LEFT JOIN ocsf_findings f ON f.tenant = v.tenant AND f.alert_id = v.id AND f.last_update_ns = v.last_update_ns
                         WHERE (v.tenant, v.id, v.last_update_ns) > (?1, ?2, ?3)
                           AND (?4 OR f.mapping_version IS NULL OR f.mapping_version <> ?5)
                         ORDER BY v.tenant, v.id, v.last_update_ns LIMIT ?6",
                    )
                    .map_err(|e| sqlite_err(&path, e))?;
                let mapped = stmt
                    .query_map(
                        params![
                            after.0,
                            after.1,
                            after.2,
                            all,
                            MAPPING_VERSION,
                            batch as i64
                        ],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .map_err(|e| sqlite_err(&path, e))?;
                mapped
                    .collect::<Result<_, _>>()
                    .map_err(|e| sqlite_err(&path, e))?
            };
            if rows.is_empty() {
                break;
            }
            for (tenant, id, ns, raw) in &rows {
                write_finding(&tx, tenant, id, *ns, raw, None).map_err(|e| sqlite_err(&path, e))?;
                out.findings += 1;
            }
            tx.commit().map_err(|e| sqlite_err(&path, e))?;
            if let Some(last) = rows.last() {
                after = (last.0.clone(), last.1.clone(), last.2);
            }
            progress(out.findings + out.emails, total);
        }
        let mut after_rowid = 0i64;
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| sqlite_err(&path, e))?;
            let rows: Vec<(i64, String, String, String, String)> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT e.rowid, e.tenant, e.network_message_id, e.recipient, e.raw FROM email_events e
                         LEFT JOIN ocsf_email o ON o.event_rowid = e.rowid
                         WHERE e.rowid > ?1 AND (?2 OR o.mapping_version IS NULL OR o.mapping_version <> ?3)
                         ORDER BY e.rowid LIMIT ?4",
                    )
                    .map_err(|e| sqlite_err(&path, e))?;
                let mapped = stmt
                    .query_map(
                        params![after_rowid, all, MAPPING_VERSION, batch as i64],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .map_err(|e| sqlite_err(&path, e))?;
                mapped
                    .collect::<Result<_, _>>()
                    .map_err(|e| sqlite_err(&path, e))?
            };
            if rows.is_empty() {
                break;
            }
            let mut cache: Option<(String, Option<String>)> = None;
            for (rowid, tenant, _, _, raw) in &rows {
                if cache.as_ref().is_none_or(|c| &c.0 != tenant) {
                    cache = Some((tenant.clone(), None));
                }
                if let Some((_, id)) = cache.as_mut() {
                    write_email(&tx, tenant, id, *rowid, raw).map_err(|e| sqlite_err(&path, e))?;
                }
                out.emails += 1;
            }
            tx.commit().map_err(|e| sqlite_err(&path, e))?;
            if let Some(last) = rows.last() {
                after_rowid = last.0;
            }
            progress(out.findings + out.emails, total);
        }
        Ok(out)
    }
}

impl super::WriteTransaction<'_> {
    /// [`Store::register_tenant`] inside this transaction.
    pub fn register_tenant(&self, name: &str, tenant_id: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO tenants (name, tenant_id) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET tenant_id = excluded.tenant_id",
                params![name, tenant_id],
            )
            .map_err(|e| sqlite_err(self.path, e))?;
        Ok(())
    }
}
