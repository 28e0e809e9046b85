//! Checkpoints, gaps and sync runs per tenant × stream, and the health derived from them
//! (DESIGN §4): OK, STALE (no success within 3 intervals), FAILING, NEVER RUN.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Store, StoreError, now_ms, sqlite_err};

pub const THREATS: &str = "threats";
pub const ACTIVITY: &str = "activity";

/// How a write moves the stream's checkpoint, in the same transaction as the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// Leave it.
    No,
    /// To the newest time on the page, if that is later than the current checkpoint.
    ToPageMax,
    /// To this time (epoch ns), if later than the current checkpoint.
    To(i64),
}

/// Epoch ns → RFC 3339 with 7 fractional digits (Graph's own precision).
pub fn format_ns(ns: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_nanos(ns);
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    format!("{base}.{:07}Z", t.timestamp_subsec_nanos() / 100)
}

/// The inverse of [`format_ns`] (any RFC 3339 time).
pub fn parse_ns(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()?
        .with_timezone(&Utc)
        .timestamp_nanos_opt()
}

/// Moves a checkpoint forward (never back) inside `tx`.
pub fn write_checkpoint(
    tx: &Transaction<'_>,
    tenant: &str,
    stream: &str,
    advance: Advance,
    page_max: Option<i64>,
    now: i64,
) -> rusqlite::Result<()> {
    let target = match advance {
        Advance::No => return Ok(()),
        Advance::ToPageMax => match page_max {
            Some(t) => t,
            None => return Ok(()),
        },
        Advance::To(t) => t,
    };
    let current: Option<String> = tx
        .prepare_cached("SELECT cursor FROM checkpoints WHERE tenant = ?1 AND stream = ?2")?
        .query_row(params![tenant, stream], |r| r.get(0))
        .optional()?;
    if current
        .as_deref()
        .and_then(parse_ns)
        .is_some_and(|c| c >= target)
    {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO checkpoints (tenant, stream, cursor, updated_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant, stream) DO UPDATE SET cursor = excluded.cursor, updated_ms = excluded.updated_ms",
    )?
    .execute(params![tenant, stream, format_ns(target), now])?;
    Ok(())
}

/// A window of a stream that kept failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub attempts: i64,
    pub last_error: String,
}

/// One pass of one stream, as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub tenant: String,
    pub stream: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub outcome: String,
    pub pages: i64,
    pub rows_new: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub requests: i64,
    pub retries: i64,
    pub throttled: i64,
    pub throttle_wait_ms: i64,
    pub token_refreshes: i64,
    pub gaps_opened: i64,
    pub gaps_closed: i64,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub cursor_before: Option<String>,
    pub cursor_after: Option<String>,
}

/// Health of a tenant × stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Health {
    Ok,
    Stale,
    Failing,
    NeverRun,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Ok => "OK",
            Health::Stale => "STALE",
            Health::Failing => "FAILING",
            Health::NeverRun => "NEVER RUN",
        }
    }
}

/// What `status` and the dashboard show per tenant × stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamStatus {
    pub tenant: String,
    pub stream: String,
    pub health: Health,
    pub last_success_ms: Option<i64>,
    pub last_run: Option<RunRecord>,
    /// The newest failed run's error (kind, message), while it is the latest word.
    pub last_error: Option<(String, String)>,
    pub cursor: Option<String>,
    pub rows: i64,
    pub gaps: Vec<Gap>,
}

const RUN_COLUMNS: &str =
    "id, tenant, stream, started_ms, ended_ms, outcome, pages, rows_new, rows_updated,
    rows_unchanged, requests, retries, throttled, throttle_wait_ms, token_refreshes, gaps_opened,
    gaps_closed, error_kind, error_message, cursor_before, cursor_after";

fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: r.get(0)?,
        tenant: r.get(1)?,
        stream: r.get(2)?,
        started_ms: r.get(3)?,
        ended_ms: r.get(4)?,
        outcome: r.get(5)?,
        pages: r.get(6)?,
        rows_new: r.get(7)?,
        rows_updated: r.get(8)?,
        rows_unchanged: r.get(9)?,
        requests: r.get(10)?,
        retries: r.get(11)?,
        throttled: r.get(12)?,
        throttle_wait_ms: r.get(13)?,
        token_refreshes: r.get(14)?,
        gaps_opened: r.get(15)?,
        gaps_closed: r.get(16)?,
        error_kind: r.get(17)?,
        error_message: r.get(18)?,
        cursor_before: r.get(19)?,
        cursor_after: r.get(20)?,
    })
}

impl Store {
    /// The checkpoint of a tenant × stream, as epoch ns.
    pub fn checkpoint(&self, tenant: &str, stream: &str) -> Result<Option<i64>, StoreError> {
        let cursor: Option<String> = self
            .conn
            .query_row(
                "SELECT cursor FROM checkpoints WHERE tenant = ?1 AND stream = ?2",
                params![tenant, stream],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(cursor.as_deref().and_then(parse_ns))
    }

    /// Records that a window failed again (or for the first time).
    pub fn record_gap(
        &mut self,
        tenant: &str,
        stream: &str,
        from: i64,
        to: i64,
        error: &str,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        // A window right after an existing gap extends it: a poison hour is one gap, not twelve.
        let extended = self
            .conn
            .execute(
                "UPDATE gaps SET window_to = ?4, last_failed_ms = ?5, last_error = ?6
                 WHERE tenant = ?1 AND stream = ?2 AND window_to = ?3",
                params![tenant, stream, format_ns(from), format_ns(to), now, error],
            )
            .map_err(|e| self.err(e))?;
        if extended > 0 {
            return Ok(true);
        }
        let changed = self
            .conn
            .execute(
                "INSERT INTO gaps (tenant, stream, window_from, window_to, attempts, first_failed_ms, last_failed_ms, last_error)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?6)
                 ON CONFLICT (tenant, stream, window_from, window_to) DO UPDATE SET
                    attempts = attempts + 1, last_failed_ms = excluded.last_failed_ms, last_error = excluded.last_error",
                params![tenant, stream, format_ns(from), format_ns(to), now, error],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    /// Pending gaps of a tenant × stream, oldest first.
    pub fn gaps(&self, tenant: &str, stream: &str) -> Result<Vec<Gap>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT window_from, window_to, attempts, last_error FROM gaps WHERE tenant = ?1 AND stream = ?2 ORDER BY window_from")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![tenant, stream], |r| {
                Ok(Gap {
                    from: r.get(0)?,
                    to: r.get(1)?,
                    attempts: r.get(2)?,
                    last_error: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Starts a run record; runs of the same stream left `running` by a dead process become
    /// `interrupted`.
    pub fn start_run(
        &mut self,
        tenant: &str,
        stream: &str,
        cursor_before: Option<i64>,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sqlite_err(&self.path, e))?;
        tx.execute(
            "UPDATE sync_runs SET outcome = 'interrupted', ended_ms = coalesce(ended_ms, ?3)
             WHERE tenant = ?1 AND stream = ?2 AND outcome = 'running'",
            params![tenant, stream, now],
        )
        .map_err(|e| sqlite_err(&self.path, e))?;
        tx.execute(
            "INSERT INTO sync_runs (tenant, stream, started_ms, outcome, cursor_before) VALUES (?1, ?2, ?3, 'running', ?4)",
            params![tenant, stream, now, cursor_before.map(format_ns)],
        )
        .map_err(|e| sqlite_err(&self.path, e))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(|e| sqlite_err(&self.path, e))?;
        Ok(id)
    }

    /// Writes a run's counters and outcome (during the run for live progress, and at the end).
    pub fn update_run(&mut self, r: &RunRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE sync_runs SET ended_ms = ?2, outcome = ?3, pages = ?4, rows_new = ?5, rows_updated = ?6,
                    rows_unchanged = ?7, requests = ?8, retries = ?9, throttled = ?10, throttle_wait_ms = ?11,
                    token_refreshes = ?12, gaps_opened = ?13, gaps_closed = ?14, error_kind = ?15,
                    error_message = ?16, cursor_after = ?17
                 WHERE id = ?1",
                params![
                    r.id,
                    r.ended_ms,
                    r.outcome,
                    r.pages,
                    r.rows_new,
                    r.rows_updated,
                    r.rows_unchanged,
                    r.requests,
                    r.retries,
                    r.throttled,
                    r.throttle_wait_ms,
                    r.token_refreshes,
                    r.gaps_opened,
                    r.gaps_closed,
                    r.error_kind,
                    r.error_message,
                    r.cursor_after
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The newest runs, newest first.
    pub fn recent_runs(&self, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM sync_runs ORDER BY id DESC LIMIT ?1"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![limit], run_from_row)
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Health of each tenant × stream. `interval` is the configured sync interval.
    pub fn stream_status(
        &self,
        tenants: &[String],
        streams: &[&str],
        interval: std::time::Duration,
    ) -> Result<Vec<StreamStatus>, StoreError> {
        let now = now_ms();
        let mut out = Vec::new();
        for tenant in tenants {
            for &stream in streams {
                let last_run: Option<RunRecord> = self
                    .conn
                    .query_row(
                        &format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant = ?1 AND stream = ?2 AND outcome <> 'running' ORDER BY id DESC LIMIT 1"),
                        params![tenant, stream],
                        run_from_row,
                    )
                    .optional()
                    .map_err(|e| self.err(e))?;
                let running: Option<RunRecord> = self
                    .conn
                    .query_row(
                        &format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE tenant = ?1 AND stream = ?2 AND outcome = 'running' ORDER BY id DESC LIMIT 1"),
                        params![tenant, stream],
                        run_from_row,
                    )
                    .optional()
                    .map_err(|e| self.err(e))?;
                let last_success_ms: Option<i64> = self
                    .conn
                    .query_row(
                        "SELECT max(ended_ms) FROM sync_runs WHERE tenant = ?1 AND stream = ?2 AND outcome IN ('ok', 'partial')",
                        params![tenant, stream],
                        |r| r.get(0),
                    )
                    .map_err(|e| self.err(e))?;
                let rows: i64 = match stream {
                    THREATS => self.conn.query_row(
                        "SELECT count(*) FROM alerts WHERE tenant = ?1",
                        params![tenant],
                        |r| r.get(0),
                    ),
                    _ => self.conn.query_row(
                        "SELECT count(*) FROM email_events WHERE tenant = ?1",
                        params![tenant],
                        |r| r.get(0),
                    ),
                }
                .map_err(|e| self.err(e))?;
                let cursor: Option<String> = self
                    .conn
                    .query_row(
                        "SELECT cursor FROM checkpoints WHERE tenant = ?1 AND stream = ?2",
                        params![tenant, stream],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(|e| self.err(e))?;
                let gaps = self.gaps(tenant, stream)?;
                let stale_after = 3 * interval.as_millis() as i64;
                let health = match (&last_run, last_success_ms) {
                    (None, _) if running.is_none() => Health::NeverRun,
                    (Some(r), _) if r.outcome == "failed" => Health::Failing,
                    (_, Some(t)) if now - t <= stale_after => Health::Ok,
                    (_, None) if running.is_some() => Health::NeverRun,
                    _ => Health::Stale,
                };
                let last_error = last_run
                    .as_ref()
                    .filter(|r| r.outcome != "ok")
                    .and_then(|r| {
                        Some((
                            r.error_kind.clone()?,
                            r.error_message.clone().unwrap_or_default(),
                        ))
                    });
                out.push(StreamStatus {
                    tenant: tenant.clone(),
                    stream: stream.to_string(),
                    health,
                    last_success_ms,
                    last_run: running.or(last_run),
                    last_error,
                    cursor,
                    rows,
                    gaps,
                });
            }
        }
        Ok(out)
    }

    /// The (name, Entra tenant id) pairs a sync or an import recorded, by name.
    pub fn registered_tenants(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, tenant_id FROM tenants ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Tenants that have any data or runs in the store (for `status` without a config):
    /// synced, registered by a sync or an import, or only named by imported rows. The rows'
    /// tenants are read by skipping through the tenant-first indexes, one step per tenant.
    pub fn known_tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "WITH RECURSIVE
                   a(t) AS (SELECT min(tenant) FROM alerts
                            UNION ALL SELECT (SELECT min(tenant) FROM alerts WHERE tenant > a.t) FROM a WHERE a.t IS NOT NULL),
                   e(t) AS (SELECT min(tenant) FROM email_events
                            UNION ALL SELECT (SELECT min(tenant) FROM email_events WHERE tenant > e.t) FROM e WHERE e.t IS NOT NULL)
                 SELECT tenant FROM sync_runs UNION SELECT tenant FROM checkpoints
                 UNION SELECT name FROM tenants
                 UNION SELECT t FROM a WHERE t IS NOT NULL UNION SELECT t FROM e WHERE t IS NOT NULL
                 ORDER BY 1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// The status of streams of a store that does not exist yet.
pub fn never_run(tenants: &[String], streams: &[&str]) -> Vec<StreamStatus> {
    tenants
        .iter()
        .flat_map(|t| {
            streams.iter().map(move |s| StreamStatus {
                tenant: t.clone(),
                stream: s.to_string(),
                health: Health::NeverRun,
                last_success_ms: None,
                last_run: None,
                last_error: None,
                cursor: None,
                rows: 0,
                gaps: Vec::new(),
            })
        })
        .collect()
}

/// Human form of an epoch-ms time, UTC to the second.
pub fn format_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_format_round_trips_at_graph_precision() {
        let ns = parse_ns("2026-11-01T10:00:00.1234567Z").unwrap();
        assert_eq!(format_ns(ns), "2026-11-01T10:00:00.1234567Z");
        assert_eq!(format_ns(0), "1970-01-01T00:00:00.0000000Z");
    }

    #[test]
    fn checkpoints_never_move_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        let t2 = parse_ns("2026-11-01T10:00:00Z").unwrap();
        let t1 = parse_ns("2026-11-01T09:00:00Z").unwrap();
        for t in [t2, t1] {
            let tx = s
                .conn_mut()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            write_checkpoint(&tx, "x", ACTIVITY, Advance::To(t), None, 0).unwrap();
            tx.commit().unwrap();
        }
        assert_eq!(s.checkpoint("x", ACTIVITY).unwrap(), Some(t2));
    }

    #[test]
    fn health_follows_the_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.db")).unwrap();
        let interval = std::time::Duration::from_secs(300);
        let st = s
            .stream_status(&["c".into()], &[THREATS], interval)
            .unwrap();
        assert_eq!(st[0].health, Health::NeverRun);
        let id = s.start_run("c", THREATS, None).unwrap();
        let mut r = RunRecord {
            id,
            outcome: "ok".into(),
            ended_ms: Some(now_ms()),
            ..Default::default()
        };
        s.update_run(&r).unwrap();
        assert_eq!(
            s.stream_status(&["c".into()], &[THREATS], interval)
                .unwrap()[0]
                .health,
            Health::Ok
        );
        r.id = s.start_run("c", THREATS, None).unwrap();
        r.outcome = "failed".into();
        r.error_kind = Some("auth.invalid_secret".into());
        r.error_message = Some("the client secret was rejected".into());
        s.update_run(&r).unwrap();
        let st = s
            .stream_status(&["c".into()], &[THREATS], interval)
            .unwrap();
        assert_eq!(st[0].health, Health::Failing);
        assert_eq!(st[0].last_error.as_ref().unwrap().0, "auth.invalid_secret");
        // A run left 'running' by a killed process is marked interrupted by the next one.
        let dead = s.start_run("c", ACTIVITY, None).unwrap();
        s.start_run("c", ACTIVITY, None).unwrap();
        let outcome: String = s
            .conn()
            .query_row("SELECT outcome FROM sync_runs WHERE id = ?1", [dead], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(outcome, "interrupted");
    }
}
