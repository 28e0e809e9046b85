//! Retention: removing what is older than a cutoff (`mailtrail prune`, and `run` once a day)
//! and giving the space back to the file system.
//!
//! "Older than the cutoff" means, and nothing else is ever removed:
//! - an email event whose `Timestamp` is before it, with its OCSF Email Activity;
//! - an alert whose last update (`lastUpdateDateTime`) is before it: the alert, every stored
//!   version, its evidence, its OCSF findings (and its triage state, where that table exists);
//! - for an alert updated since, each older version (and its finding) last updated before the
//!   cutoff — never the current version;
//! - a sync-run record started before it, except the latest run and the latest successful run
//!   of each tenant × stream (health and `status` are derived from them).
//!
//! Checkpoints, open gaps, tenants and analyst notes are kept whatever their age. Deletes go in
//! batches of [`BATCH_ROWS`] source rows, one short transaction each, so a concurrent sync or
//! dashboard never waits long and a kill loses at most the batch in flight (nothing else).
//! Search indexes follow the rows they index through their own triggers.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Store, StoreError, now_ms, sqlite_err};

/// Source rows (events, alerts, versions, run records) per delete transaction.
pub const BATCH_ROWS: i64 = 10_000;

/// Pages given back per `PRAGMA incremental_vacuum` step (each its own short transaction).
const VACUUM_STEP_PAGES: i64 = 4_096;

/// The one-time rebuild needs room for a copy of the data kept plus its journal.
const FULL_VACUUM_HEADROOM: u64 = 2;

/// Rows removed (or, for a dry run, that would be), per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub email_events: u64,
    pub ocsf_email: u64,
    pub alerts: u64,
    pub alert_versions: u64,
    pub alert_evidence: u64,
    pub ocsf_findings: u64,
    pub alert_triage: u64,
    pub triage_messages: u64,
    pub sync_runs: u64,
}

impl Removed {
    /// Each table with its count, in report order.
    pub fn by_table(&self) -> [(&'static str, u64); 9] {
        [
            ("email_events", self.email_events),
            ("ocsf_email", self.ocsf_email),
            ("alerts", self.alerts),
            ("alert_versions", self.alert_versions),
            ("alert_evidence", self.alert_evidence),
            ("ocsf_findings", self.ocsf_findings),
            ("alert_triage", self.alert_triage),
            ("triage_messages", self.triage_messages),
            ("sync_runs", self.sync_runs),
        ]
    }

    pub fn total(&self) -> u64 {
        self.by_table().iter().map(|(_, n)| n).sum()
    }

    fn add(&mut self, o: &Removed) {
        self.email_events += o.email_events;
        self.ocsf_email += o.ocsf_email;
        self.alerts += o.alerts;
        self.alert_versions += o.alert_versions;
        self.alert_evidence += o.alert_evidence;
        self.ocsf_findings += o.ocsf_findings;
        self.alert_triage += o.alert_triage;
        self.triage_messages += o.triage_messages;
        self.sync_runs += o.sync_runs;
    }
}

/// How freed pages went back to the file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vacuum {
    /// `PRAGMA incremental_vacuum`: the store is in incremental auto-vacuum mode.
    Incremental,
    /// A one-time `VACUUM` switched an older store to incremental auto-vacuum.
    Full,
    /// Freed pages stay in the file (SQLite reuses them for new rows); the reason says why.
    Skipped(String),
}

impl Vacuum {
    /// As recorded in `prune_runs.vacuum` and logged.
    pub fn label(&self) -> String {
        match self {
            Vacuum::Incremental => "incremental".into(),
            Vacuum::Full => "full (one-time switch to incremental)".into(),
            Vacuum::Skipped(why) => format!("skipped: {why}"),
        }
    }
}

/// What a prune is asked to do.
#[derive(Debug, Clone)]
pub struct PruneOptions {
    /// Epoch milliseconds: data older than this goes.
    pub cutoff_ms: i64,
    /// Whether a store not yet in incremental auto-vacuum mode may be rebuilt once with
    /// `VACUUM` (blocks writers for its duration: `prune` by hand yes, `run` no).
    pub allow_full_vacuum: bool,
    pub batch_rows: i64,
}

impl PruneOptions {
    pub fn new(cutoff_ms: i64, allow_full_vacuum: bool) -> Self {
        PruneOptions {
            cutoff_ms,
            allow_full_vacuum,
            batch_rows: BATCH_ROWS,
        }
    }
}

/// What a prune did.
#[derive(Debug, Clone)]
pub struct PruneReport {
    pub cutoff_ms: i64,
    pub removed: Removed,
    /// Store file plus its WAL, before and after (after the WAL checkpoint).
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub vacuum: Vacuum,
    /// A stop request ended it between batches; what was removed stays removed.
    pub interrupted: bool,
}

impl PruneReport {
    pub fn bytes_reclaimed(&self) -> u64 {
        self.bytes_before.saturating_sub(self.bytes_after)
    }
}

/// The store file plus its WAL, in bytes.
pub fn store_bytes(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    size(path) + size(Path::new(&wal))
}

/// Free bytes for an unprivileged user on the file system holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// A triage message summary goes once its message is gone: first seen before the cutoff, and
/// neither an email event nor an alert's evidence names it any more.
const GONE_MESSAGES: &str = "FROM triage_messages t WHERE t.first_ms < ?1
     AND NOT EXISTS (SELECT 1 FROM email_events e WHERE e.network_message_id = t.network_message_id AND e.tenant = t.tenant)
     AND NOT EXISTS (SELECT 1 FROM alert_evidence ev WHERE ev.network_message_id = t.network_message_id AND ev.tenant = t.tenant)";

/// Sync runs that health and `status` read whatever their age (src/store/sync.rs): per tenant ×
/// stream the latest finished run, the latest running one, and the last success (by end time).
const KEPT_RUNS: &str =
    "SELECT max(id) FROM sync_runs WHERE outcome <> 'running' GROUP BY tenant, stream
     UNION SELECT max(id) FROM sync_runs WHERE outcome = 'running' GROUP BY tenant, stream
     UNION SELECT (SELECT s.id FROM sync_runs s WHERE s.tenant = g.tenant AND s.stream = g.stream
                   AND s.outcome IN ('ok', 'partial') ORDER BY s.ended_ms DESC, s.id DESC LIMIT 1)
           FROM (SELECT DISTINCT tenant, stream FROM sync_runs) g";

/// Batch scratch tables: keys of the rows one transaction removes. Temp: never in the file.
const SCRATCH: &str = "CREATE TEMP TABLE IF NOT EXISTS prune_alerts (tenant TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant, id));
     CREATE TEMP TABLE IF NOT EXISTS prune_versions (tenant TEXT NOT NULL, id TEXT NOT NULL, last_update_ns INTEGER NOT NULL, PRIMARY KEY (tenant, id, last_update_ns));
     CREATE TEMP TABLE IF NOT EXISTS prune_events (event_rowid INTEGER PRIMARY KEY);";

fn count(conn: &Connection, sql: &str, cutoff: i64) -> rusqlite::Result<u64> {
    conn.query_row(sql, [cutoff], |r| r.get::<_, i64>(0))
        .map(|n| n as u64)
}

fn tenants_with_alerts(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT tenant FROM alerts ORDER BY 1")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

fn delete_events_batch(
    tx: &Transaction<'_>,
    cutoff_ms: i64,
    limit: i64,
) -> rusqlite::Result<Removed> {
    tx.execute("DELETE FROM temp.prune_events", [])?;
    let n = tx.execute(
        "INSERT INTO temp.prune_events (event_rowid)
         SELECT rowid FROM email_events WHERE timestamp_ms < ?1 ORDER BY timestamp_ms LIMIT ?2",
        params![cutoff_ms, limit],
    )?;
    if n == 0 {
        return Ok(Removed::default());
    }
    let ocsf_email = tx.execute(
        "DELETE FROM ocsf_email WHERE event_rowid IN (SELECT event_rowid FROM temp.prune_events)",
        [],
    )?;
    let email_events = tx.execute(
        "DELETE FROM email_events WHERE rowid IN (SELECT event_rowid FROM temp.prune_events)",
        [],
    )?;
    Ok(Removed {
        email_events: email_events as u64,
        ocsf_email: ocsf_email as u64,
        ..Removed::default()
    })
}

fn delete_alerts_batch(
    tx: &Transaction<'_>,
    tenant: &str,
    cutoff_ns: i64,
    limit: i64,
) -> rusqlite::Result<Removed> {
    tx.execute("DELETE FROM temp.prune_alerts", [])?;
    let n = tx.execute(
        "INSERT INTO temp.prune_alerts (tenant, id)
         SELECT tenant, id FROM alerts WHERE tenant = ?1 AND last_update_ns < ?2 LIMIT ?3",
        params![tenant, cutoff_ns, limit],
    )?;
    if n == 0 {
        return Ok(Removed::default());
    }
    let keys = "(SELECT tenant, id FROM temp.prune_alerts)";
    let alert_evidence = tx.execute(
        &format!("DELETE FROM alert_evidence WHERE (tenant, alert_id) IN {keys}"),
        [],
    )?;
    let ocsf_findings = tx.execute(
        &format!("DELETE FROM ocsf_findings WHERE (tenant, alert_id) IN {keys}"),
        [],
    )?;
    let alert_versions = tx.execute(
        &format!("DELETE FROM alert_versions WHERE (tenant, id) IN {keys}"),
        [],
    )?;
    let alert_triage = tx.execute(
        &format!("DELETE FROM alert_triage WHERE (tenant, alert_id) IN {keys}"),
        [],
    )?;
    let alerts = tx.execute(
        &format!("DELETE FROM alerts WHERE (tenant, id) IN {keys}"),
        [],
    )?;
    Ok(Removed {
        alerts: alerts as u64,
        alert_versions: alert_versions as u64,
        alert_evidence: alert_evidence as u64,
        ocsf_findings: ocsf_findings as u64,
        alert_triage: alert_triage as u64,
        ..Removed::default()
    })
}

/// Old versions of alerts that are still alive, in alert-id order from `after` on. Returns what
/// was removed and the last alert id of the batch (None when the tenant is done).
fn delete_versions_batch(
    tx: &Transaction<'_>,
    tenant: &str,
    after: &str,
    cutoff_ns: i64,
    limit: i64,
) -> rusqlite::Result<(Removed, Option<String>)> {
    tx.execute("DELETE FROM temp.prune_versions", [])?;
    let n = tx.execute(
        "INSERT INTO temp.prune_versions (tenant, id, last_update_ns)
         SELECT v.tenant, v.id, v.last_update_ns FROM alert_versions v
         JOIN alerts a ON a.tenant = v.tenant AND a.id = v.id
         WHERE v.tenant = ?1 AND v.id > ?2 AND v.last_update_ns < ?3 AND v.last_update_ns < a.last_update_ns
         ORDER BY v.id LIMIT ?4",
        params![tenant, after, cutoff_ns, limit],
    )?;
    if n == 0 {
        return Ok((Removed::default(), None));
    }
    // The batch may end inside one alert's versions: resume at that alert, not after it.
    let last: String = tx.query_row("SELECT max(id) FROM temp.prune_versions", [], |r| r.get(0))?;
    let resume = if (n as i64) < limit {
        last
    } else {
        tx.query_row(
            "SELECT id FROM temp.prune_versions WHERE id < ?1 ORDER BY id DESC LIMIT 1",
            [&last],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| after.to_string())
    };
    let keys = "(SELECT tenant, id, last_update_ns FROM temp.prune_versions)";
    let ocsf_findings = tx.execute(
        &format!("DELETE FROM ocsf_findings WHERE (tenant, alert_id, last_update_ns) IN {keys}"),
        [],
    )?;
    let alert_versions = tx.execute(
        &format!("DELETE FROM alert_versions WHERE (tenant, id, last_update_ns) IN {keys}"),
        [],
    )?;
    // `versions` counts the stored versions (as ingest computes it).
    tx.execute(
        "UPDATE alerts SET versions = (SELECT count(*) FROM alert_versions v WHERE v.tenant = alerts.tenant AND v.id = alerts.id)
         WHERE (tenant, id) IN (SELECT DISTINCT tenant, id FROM temp.prune_versions)",
        [],
    )?;
    Ok((
        Removed {
            alert_versions: alert_versions as u64,
            ocsf_findings: ocsf_findings as u64,
            ..Removed::default()
        },
        Some(resume),
    ))
}

fn delete_messages_batch(
    tx: &Transaction<'_>,
    cutoff_ms: i64,
    limit: i64,
) -> rusqlite::Result<Removed> {
    let n = tx.execute(
        &format!(
            "DELETE FROM triage_messages WHERE rowid IN (SELECT t.rowid {GONE_MESSAGES} LIMIT ?2)"
        ),
        params![cutoff_ms, limit],
    )?;
    Ok(Removed {
        triage_messages: n as u64,
        ..Removed::default()
    })
}

fn delete_runs_batch(
    tx: &Transaction<'_>,
    cutoff_ms: i64,
    limit: i64,
) -> rusqlite::Result<Removed> {
    let n = tx.execute(
        &format!(
            "DELETE FROM sync_runs WHERE id IN (
                SELECT id FROM sync_runs WHERE started_ms < ?1 AND id NOT IN ({KEPT_RUNS}) LIMIT ?2)"
        ),
        params![cutoff_ms, limit],
    )?;
    Ok(Removed {
        sync_runs: n as u64,
        ..Removed::default()
    })
}

/// The newest prune run ([`Store::last_prune`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPrune {
    pub started_ms: i64,
    /// running | ok | interrupted | failed
    pub outcome: String,
    pub rows_removed: i64,
    pub bytes_reclaimed: i64,
}

impl Store {
    /// What a prune at `cutoff_ms` would remove, per table. Reads only (works on a store
    /// opened with [`Store::open_read_only`]).
    pub fn prune_counts(&self, cutoff_ms: i64) -> Result<Removed, StoreError> {
        let c = &self.conn;
        let ns = cutoff_ms.saturating_mul(1_000_000);
        let run = || -> rusqlite::Result<Removed> {
            let alive_old = "a.last_update_ns < ?1 OR (v.last_update_ns < ?1 AND v.last_update_ns < a.last_update_ns)";
            Ok(Removed {
                email_events: count(
                    c,
                    "SELECT count(*) FROM email_events WHERE timestamp_ms < ?1",
                    cutoff_ms,
                )?,
                ocsf_email: count(
                    c,
                    "SELECT count(*) FROM ocsf_email o JOIN email_events e ON e.rowid = o.event_rowid WHERE e.timestamp_ms < ?1",
                    cutoff_ms,
                )?,
                alerts: count(
                    c,
                    "SELECT count(*) FROM alerts WHERE last_update_ns < ?1",
                    ns,
                )?,
                alert_versions: count(
                    c,
                    &format!(
                        "SELECT count(*) FROM alert_versions v JOIN alerts a ON a.tenant = v.tenant AND a.id = v.id WHERE {alive_old}"
                    ),
                    ns,
                )?,
                alert_evidence: count(
                    c,
                    "SELECT count(*) FROM alert_evidence ev JOIN alerts a ON a.tenant = ev.tenant AND a.id = ev.alert_id WHERE a.last_update_ns < ?1",
                    ns,
                )?,
                ocsf_findings: count(
                    c,
                    &format!(
                        "SELECT count(*) FROM ocsf_findings v JOIN alerts a ON a.tenant = v.tenant AND a.id = v.alert_id WHERE {alive_old}"
                    ),
                    ns,
                )?,
                alert_triage: count(
                    c,
                    "SELECT count(*) FROM alert_triage t JOIN alerts a ON a.tenant = t.tenant AND a.id = t.alert_id WHERE a.last_update_ns < ?1",
                    ns,
                )?,
                // As it will be once the events and alerts above are gone. CROSS JOIN keeps
                // the evidence lookup by message first (else: every alive alert, for every
                // message).
                triage_messages: count(
                    c,
                    "SELECT count(*) FROM triage_messages t WHERE t.first_ms < ?1
                     AND NOT EXISTS (SELECT 1 FROM email_events e WHERE e.network_message_id = t.network_message_id AND e.tenant = t.tenant AND e.timestamp_ms >= ?1)
                     AND NOT EXISTS (SELECT 1 FROM alert_evidence ev CROSS JOIN alerts a ON a.tenant = ev.tenant AND a.id = ev.alert_id
                                     WHERE ev.network_message_id = t.network_message_id AND ev.tenant = t.tenant AND a.last_update_ns >= ?1 * 1000000)",
                    cutoff_ms,
                )?,
                sync_runs: count(
                    c,
                    &format!(
                        "SELECT count(*) FROM sync_runs WHERE started_ms < ?1 AND id NOT IN ({KEPT_RUNS})"
                    ),
                    cutoff_ms,
                )?,
            })
        };
        run().map_err(|e| self.err(e))
    }

    /// Whether the store is in incremental auto-vacuum mode (new stores are).
    pub fn incremental_vacuum_enabled(&self) -> Result<bool, StoreError> {
        Ok(self.pragma_i32("auto_vacuum")? == 2)
    }

    /// The newest prune run, for `mailtrail status`: None when the store was never pruned.
    pub fn last_prune(&self) -> Result<Option<LastPrune>, StoreError> {
        self.conn
            .query_row(
                "SELECT started_ms, outcome, rows_removed, bytes_reclaimed FROM prune_runs
                 ORDER BY started_ms DESC, id DESC LIMIT 1",
                [],
                |r| {
                    Ok(LastPrune {
                        started_ms: r.get(0)?,
                        outcome: r.get(1)?,
                        rows_removed: r.get(2)?,
                        bytes_reclaimed: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// When the last prune started (epoch ms), if any ever did.
    pub fn last_prune_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.last_prune()?.map(|p| p.started_ms))
    }

    /// Removes what is older than `opts.cutoff_ms` in batches, then gives the space back and
    /// checkpoints the WAL. `progress(done, total)`, when given, follows the rows removed;
    /// `stop` ends it between batches. The run is recorded in `prune_runs`.
    pub fn prune(
        &mut self,
        opts: &PruneOptions,
        stop: &AtomicBool,
        progress: Option<&mut dyn FnMut(u64, u64)>,
    ) -> Result<PruneReport, StoreError> {
        let bytes_before = store_bytes(&self.path);
        // The rows to remove are counted only for someone watching: nine counts over the store.
        let mut unwatched = |_, _| {};
        let (total, progress): (u64, &mut dyn FnMut(u64, u64)) = match progress {
            Some(p) => (self.prune_counts(opts.cutoff_ms)?.total(), p),
            None => (0, &mut unwatched),
        };
        let run_id = {
            self.conn
                .execute(
                    "INSERT INTO prune_runs (started_ms, cutoff_ms, outcome) VALUES (?1, ?2, 'running')",
                    params![now_ms(), opts.cutoff_ms],
                )
                .map_err(|e| self.err(e))?;
            self.conn.last_insert_rowid()
        };
        let outcome =
            self.prune_batches(opts, stop, total, progress)
                .and_then(|(removed, interrupted)| {
                    let vacuum = if interrupted {
                        Vacuum::Skipped("interrupted".into())
                    } else {
                        self.reclaim(opts.allow_full_vacuum)?
                    };
                    Ok((removed, interrupted, vacuum))
                });
        let (removed, interrupted, vacuum) = match outcome {
            Ok(done) => done,
            Err(e) => {
                let _ = self.conn.execute(
                    "UPDATE prune_runs SET ended_ms = ?2, outcome = 'failed', error_message = ?3 WHERE id = ?1",
                    params![run_id, now_ms(), e.to_string()],
                );
                return Err(e);
            }
        };
        let report = PruneReport {
            cutoff_ms: opts.cutoff_ms,
            removed,
            bytes_before,
            bytes_after: 0,
            vacuum,
            interrupted,
        };
        self.conn
            .execute(
                "UPDATE prune_runs SET ended_ms = ?2, outcome = ?3, rows_removed = ?4, vacuum = ?5 WHERE id = ?1",
                params![
                    run_id,
                    now_ms(),
                    if interrupted { "interrupted" } else { "ok" },
                    removed.total() as i64,
                    report.vacuum.label()
                ],
            )
            .map_err(|e| self.err(e))?;
        // Truncating the WAL also moves the vacuumed (shorter) file into place. A reader that
        // holds an old snapshot can keep part of it; what could not be reclaimed shows below.
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let bytes_after = store_bytes(&self.path);
        let reclaimed = bytes_before.saturating_sub(bytes_after);
        // Recorded after the fact: this write lands in the (now empty) WAL, a page at most.
        let _ = self.conn.execute(
            "UPDATE prune_runs SET bytes_reclaimed = ?2 WHERE id = ?1",
            params![run_id, reclaimed as i64],
        );
        Ok(PruneReport {
            bytes_after,
            ..report
        })
    }

    fn prune_batches(
        &mut self,
        opts: &PruneOptions,
        stop: &AtomicBool,
        total: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(Removed, bool), StoreError> {
        let path = self.path.clone();
        let err = |e| sqlite_err(&path, e);
        self.conn.execute_batch(SCRATCH).map_err(err)?;
        let cutoff_ns = opts.cutoff_ms.saturating_mul(1_000_000);
        let limit = opts.batch_rows.max(1);
        let tenants = tenants_with_alerts(&self.conn).map_err(err)?;
        let mut removed = Removed::default();
        progress(0, total);

        // One stage at a time; each batch is one IMMEDIATE transaction.
        let mut batch = |conn: &mut Connection,
                         removed: &mut Removed,
                         f: &mut dyn FnMut(&Transaction<'_>) -> rusqlite::Result<Removed>|
         -> Result<bool, StoreError> {
            if stop.load(Ordering::SeqCst) {
                return Ok(false);
            }
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            let got = f(&tx).map_err(err)?;
            tx.commit().map_err(err)?;
            removed.add(&got);
            progress(removed.total(), total);
            Ok(got.total() > 0)
        };

        let conn = &mut self.conn;
        while batch(conn, &mut removed, &mut |tx| {
            delete_events_batch(tx, opts.cutoff_ms, limit)
        })? {}
        for tenant in &tenants {
            while batch(conn, &mut removed, &mut |tx| {
                delete_alerts_batch(tx, tenant, cutoff_ns, limit)
            })? {}
            let mut after = String::new();
            loop {
                let mut next = None;
                let more = batch(conn, &mut removed, &mut |tx| {
                    let (got, resume) =
                        delete_versions_batch(tx, tenant, &after, cutoff_ns, limit)?;
                    next = resume;
                    Ok(got)
                })?;
                match next {
                    Some(resume) if more => after = resume,
                    _ => break,
                }
            }
        }
        while batch(conn, &mut removed, &mut |tx| {
            delete_messages_batch(tx, opts.cutoff_ms, limit)
        })? {}
        while batch(conn, &mut removed, &mut |tx| {
            delete_runs_batch(tx, opts.cutoff_ms, limit)
        })? {}
        let interrupted = stop.load(Ordering::SeqCst);
        Ok((removed, interrupted))
    }

    /// Gives freed pages back to the file system: `incremental_vacuum` in small steps, or once,
    /// for a store created before incremental auto-vacuum, a full `VACUUM` when allowed and the
    /// disk has room for it.
    fn reclaim(&mut self, allow_full: bool) -> Result<Vacuum, StoreError> {
        if self.incremental_vacuum_enabled()? {
            loop {
                let free = self.pragma_i32("freelist_count")?;
                if free == 0 {
                    break;
                }
                self.conn
                    .execute_batch(&format!("PRAGMA incremental_vacuum({VACUUM_STEP_PAGES});"))
                    .map_err(|e| self.err(e))?;
                if self.pragma_i32("freelist_count")? >= free {
                    break; // no progress (should not happen): do not spin
                }
            }
            return Ok(Vacuum::Incremental);
        }
        if !allow_full {
            return Ok(Vacuum::Skipped(
                "this store predates incremental vacuum; run `mailtrail prune` once by hand to switch it (a one-time VACUUM)".into(),
            ));
        }
        let page_size = self.pragma_i32("page_size")? as u64;
        let kept_pages =
            (self.pragma_i32("page_count")? - self.pragma_i32("freelist_count")?).max(0) as u64;
        let needed = kept_pages * page_size * FULL_VACUUM_HEADROOM;
        if let Some(free) = free_bytes(&self.path)
            && free < needed
        {
            return Ok(Vacuum::Skipped(format!(
                "the one-time VACUUM that switches this store to incremental vacuum needs about {} MB free next to it, {} MB are; free some space and run `mailtrail prune` again",
                needed.div_ceil(1 << 20),
                free / (1 << 20)
            )));
        }
        // The rebuild copies the kept data through a temporary file, not memory.
        self.conn
            .execute_batch(
                "PRAGMA temp_store = FILE; PRAGMA auto_vacuum = INCREMENTAL; VACUUM; PRAGMA temp_store = MEMORY;",
            )
            .map_err(|e| self.err(e))?;
        // VACUUM may renumber the implicit rowids the contentless full-text indexes key on.
        self.rebuild_fts()?;
        Ok(Vacuum::Full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_in_incremental_vacuum_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("m.db")).unwrap();
        assert!(store.incremental_vacuum_enabled().unwrap());
        assert_eq!(store.last_prune_ms().unwrap(), None);
    }
}
