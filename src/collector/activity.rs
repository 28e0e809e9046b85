//! The activity stream: EmailEvents through advanced hunting, in windows `(from, to]` with
//! `to = now − lag` and `from = checkpoint − overlap` (DESIGN §4). A window that comes back at
//! the 100,000-row cap or keeps failing is split in halves; one that still fails at the
//! smallest size is recorded as a gap and skipped, so newer windows proceed; gaps are retried
//! first on every later pass until they succeed.

use std::sync::atomic::Ordering;

use super::{StreamContext, StreamError, StreamReport, ingest};
use crate::graph::GraphError;
use crate::store::StoreError;
use crate::store::alerts::PageOutcome;
use crate::store::events::{MappedEvents, Window};
use crate::store::sync::{ACTIVITY, Advance, format_ns, parse_ns};

/// Graph's row cap for one hunting query: a result this large may be cut off.
pub const ROW_CAP: usize = 100_000;
/// Advanced hunting keeps 30 days; stay a little inside so a window never straddles the edge.
const RETENTION_NS: i64 = (30 * 86_400 - 600) * 1_000_000_000;
/// The longest window asked for in one query.
const MAX_WINDOW_NS: i64 = 86_400 * 1_000_000_000;
/// A failing window is split down to this size before it is recorded as a gap.
const MIN_WINDOW_NS: i64 = 5 * 60 * 1_000_000_000;
const START_WINDOW_NS: i64 = 6 * 3_600 * 1_000_000_000;
/// The rows a window aims at. A window is held in memory twice over (fetched, then mapped) while
/// the one before it is written, so its size in rows — not in time — bounds the sync's memory:
/// windows shrink on a dense tenant and grow on a quiet one (up to [`MAX_WINDOW_NS`]). One
/// response can still bring up to [`ROW_CAP`] rows, after which the next window is cut down.
const WINDOW_ROWS: usize = 8_000;

/// The EmailEvents columns mailtrail asks for (GRAPH.md §5), in this order.
pub const COLUMNS: &[&str] = &[
    "Timestamp",
    "NetworkMessageId",
    "InternetMessageId",
    "SenderMailFromAddress",
    "SenderFromAddress",
    "SenderDisplayName",
    "SenderObjectId",
    "SenderMailFromDomain",
    "SenderFromDomain",
    "SenderIPv4",
    "SenderIPv6",
    "RecipientEmailAddress",
    "RecipientObjectId",
    "Subject",
    "EmailClusterId",
    "EmailDirection",
    "DeliveryAction",
    "DeliveryLocation",
    "ThreatTypes",
    "ThreatNames",
    "DetectionMethods",
    "ConfidenceLevel",
    "BulkComplaintLevel",
    "EmailAction",
    "EmailActionPolicy",
    "EmailActionPolicyGuid",
    "AuthenticationDetails",
    "AttachmentCount",
    "UrlCount",
    "EmailLanguage",
    "Connectors",
    "OrgLevelAction",
    "OrgLevelPolicy",
    "UserLevelAction",
    "UserLevelPolicy",
    "ReportId",
    "AdditionalFields",
    "LatestDeliveryLocation",
    "LatestDeliveryAction",
];

/// The query of one window, in the shape of DESIGN §4.
pub fn window_query(from_ns: i64, to_ns: i64, columns: &[&str]) -> String {
    format!(
        "EmailEvents\n| where Timestamp > datetime({}) and Timestamp <= datetime({})\n| project {}\n| order by Timestamp asc",
        format_ns(from_ns),
        format_ns(to_ns),
        columns.join(", ")
    )
}

/// The column a semantic error says the tenant does not have, if that is the error.
fn unresolved_column(e: &GraphError) -> Option<String> {
    let GraphError::Refused { message, .. } = e else {
        return None;
    };
    let rest = message
        .split("Failed to resolve scalar expression named '")
        .nth(1)?;
    Some(rest.split('\'').next()?.to_string())
}

/// Whether a failure is about this window (split it, or record a gap) rather than about the
/// whole stream (credentials, permissions, configuration).
fn window_specific(e: &GraphError) -> bool {
    e.is_transient()
        || matches!(e, GraphError::Refused { message, .. } if message.contains("exceeded") || message.contains("timeout") || message.contains("preempted"))
}

enum Fetched {
    Rows(Vec<Box<serde_json::value::RawValue>>),
    /// At the cap: may be cut off; ask for less.
    TooMany,
}

struct Hunter<'c, 'a> {
    ctx: &'c StreamContext<'a>,
    columns: Vec<&'static str>,
}

impl Hunter<'_, '_> {
    async fn fetch(&mut self, from: i64, to: i64) -> Result<Fetched, GraphError> {
        loop {
            let query = window_query(from, to, &self.columns);
            let timespan = format!("{}/{}", format_ns(from), format_ns(to));
            match self
                .ctx
                .tenant
                .client
                .run_hunting_query(&query, Some(&timespan))
                .await
            {
                Ok(r) if r.rows.len() >= ROW_CAP => return Ok(Fetched::TooMany),
                Ok(r) => return Ok(Fetched::Rows(r.rows)),
                Err(e) => match unresolved_column(&e) {
                    // Microsoft changes tables over time: do without a column this tenant lacks.
                    Some(col)
                        if col != "Timestamp"
                            && col != "NetworkMessageId"
                            && col != "RecipientEmailAddress"
                            && self.columns.contains(&col.as_str()) =>
                    {
                        tracing::warn!(
                            "{}: EmailEvents has no column {col} in this tenant; collecting without it",
                            self.ctx.tenant.name
                        );
                        self.columns.retain(|c| *c != col);
                    }
                    _ => return Err(e),
                },
            }
        }
    }
}

/// One pass: pending gaps first, then new windows up to now − lag.
pub async fn sync(ctx: &StreamContext<'_>, report: &mut StreamReport) -> Result<(), StreamError> {
    let now = ctx
        .tenant
        .client
        .server_now()
        .await?
        .timestamp_nanos_opt()
        .unwrap_or(0);
    let oldest = now - RETENTION_NS;
    let mut hunter = Hunter {
        ctx,
        columns: COLUMNS.to_vec(),
    };

    for gap in ctx.gaps(ACTIVITY).await? {
        let (Some(from), Some(to)) = (parse_ns(&gap.from), parse_ns(&gap.to)) else {
            continue;
        };
        if to <= oldest {
            tracing::warn!(
                "{}: gap {}..{} is older than advanced hunting's 30 days and can no longer be filled",
                ctx.tenant.name,
                gap.from,
                gap.to
            );
        }
        if ctx.stop.load(Ordering::Relaxed) {
            report.interrupted = true;
            return Ok(());
        }
        match fill(ctx, &mut hunter, report, from.max(oldest), to, Advance::No).await {
            Ok(()) => report.gaps_closed += 1,
            Err(StreamError::Graph(e)) if window_specific(&e) => {
                let (f, t) = (from, to);
                ctx.record_gap(f, t, &e.to_string()).await?;
            }
            Err(e) => return Err(e),
        }
    }

    let cursor = ctx.checkpoint(ACTIVITY).await?;
    report.cursor_before = cursor;
    let end = now - ctx.plan.lag_ns();
    let from = match cursor {
        Some(c) => c - ctx.plan.overlap_ns(),
        None => now - ctx.plan.lookback_ns(),
    }
    .max(oldest);
    let tenant = ctx.tenant.name.clone();
    let tenant_id = ctx.blocking(move |s| s.tenant_id(&tenant)).await?;
    let mut writing = InFlight::default();
    let result = windows(
        ctx,
        &mut hunter,
        report,
        &mut writing,
        &tenant_id,
        from,
        end,
    )
    .await;
    // Whatever ended the pass, the window being written finishes (or fails) first.
    let written = writing.finish(report, ctx).await;
    result.and(written)
}

/// The window being written while the next one is fetched and mapped: at most one, so memory
/// stays at two windows whatever the size of the backfill. Windows commit in order, each with
/// its checkpoint, so a crash still leaves a consistent prefix.
#[derive(Default)]
struct InFlight {
    write: Option<WriteTask>,
}

struct WriteTask {
    handle: tokio::task::JoinHandle<Result<PageOutcome, StoreError>>,
    from: i64,
    to: i64,
    rows: usize,
    fetch_secs: f64,
    started: std::time::Instant,
}

impl InFlight {
    /// Waits for the window being written, if any, and counts it.
    async fn finish(
        &mut self,
        report: &mut StreamReport,
        ctx: &StreamContext<'_>,
    ) -> Result<(), StreamError> {
        let Some(w) = self.write.take() else {
            return Ok(());
        };
        let outcome = w.handle.await.unwrap_or_else(|e| {
            Err(StoreError::Io {
                path: "-".into(),
                source: std::io::Error::other(e.to_string()),
            })
        })?;
        tracing::debug!(
            "{}: window {}..{}: {} rows fetched in {:.2}s, mapped and stored in {:.2}s",
            ctx.tenant.name,
            format_ns(w.from),
            format_ns(w.to),
            w.rows,
            w.fetch_secs,
            w.started.elapsed().as_secs_f64()
        );
        report.add_page(&outcome);
        ctx.progress(report);
        Ok(())
    }

    /// Maps a fetched window (without the store), waits for the window before it, then starts
    /// writing this one.
    #[allow(clippy::too_many_arguments)]
    async fn start(
        &mut self,
        report: &mut StreamReport,
        ctx: &StreamContext<'_>,
        tenant_id: &str,
        rows: Vec<Box<serde_json::value::RawValue>>,
        (from, to): (i64, i64),
        fetch_secs: f64,
    ) -> Result<(), StreamError> {
        let started = std::time::Instant::now();
        let n = rows.len();
        let (tenant, id) = (ctx.tenant.name.clone(), tenant_id.to_string());
        let mapped = tokio::task::spawn_blocking(move || MappedEvents::new(&tenant, &id, rows))
            .await
            .map_err(|e| StoreError::Io {
                path: "-".into(),
                source: std::io::Error::other(e.to_string()),
            })?;
        self.finish(report, ctx).await?;
        let store = ctx.store.clone();
        let tenant = ctx.tenant.name.clone();
        let window = Window {
            from_ns: from,
            to_ns: to,
        };
        let handle = tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            guard.write_email_events(&tenant, &mapped, Advance::To(to), Some(window))
        });
        self.write = Some(WriteTask {
            handle,
            from,
            to,
            rows: n,
            fetch_secs,
            started,
        });
        Ok(())
    }
}

/// New windows from `from` up to `end`, each written while the next is fetched.
async fn windows(
    ctx: &StreamContext<'_>,
    hunter: &mut Hunter<'_, '_>,
    report: &mut StreamReport,
    writing: &mut InFlight,
    tenant_id: &str,
    mut from: i64,
    end: i64,
) -> Result<(), StreamError> {
    let mut len = START_WINDOW_NS;
    while from < end {
        if ctx.stop.load(Ordering::Relaxed) {
            report.interrupted = true;
            return Ok(());
        }
        let to = (from + len).min(end);
        let fetch_started = std::time::Instant::now();
        let fetched = hunter.fetch(from, to).await;
        let fetch_secs = fetch_started.elapsed().as_secs_f64();
        match fetched {
            Ok(Fetched::TooMany) if to - from > 1_000_000_000 => {
                len = (to - from) / 2;
                report.splits += 1;
            }
            Ok(Fetched::TooMany) => {
                // A single second with 100,000 messages: store what came and say so.
                writing.finish(report, ctx).await?;
                ctx.record_gap(
                    from,
                    to,
                    "more than 100,000 events in one second; some may be missing",
                )
                .await?;
                report.gaps_opened += 1;
                from = to;
            }
            Ok(Fetched::Rows(rows)) => {
                let n = rows.len();
                writing
                    .start(report, ctx, tenant_id, rows, (from, to), fetch_secs)
                    .await?;
                len = next_window_len(to - from, n);
                from = to;
            }
            Err(e) if window_specific(&e) && to - from > MIN_WINDOW_NS => {
                tracing::info!(
                    "{}: window {}..{} failed ({e}); splitting it",
                    ctx.tenant.name,
                    format_ns(from),
                    format_ns(to)
                );
                len = ((to - from) / 2).max(MIN_WINDOW_NS);
                report.splits += 1;
            }
            Err(e) if window_specific(&e) => {
                // A poison window: remember it, move past it, retry it on later passes.
                tracing::warn!(
                    "{}: window {}..{} keeps failing ({e}); recorded as a gap, moving on",
                    ctx.tenant.name,
                    format_ns(from),
                    format_ns(to)
                );
                writing.finish(report, ctx).await?;
                ctx.record_gap(from, to, &e.to_string()).await?;
                report.gaps_opened += 1;
                ingest(ctx, move |s, tenant| {
                    s.ingest_email_events(&tenant, &[], Advance::To(to), None)
                })
                .await?;
                from = to;
                // Stay small next to a poison window; the window grows again on success.
                len = MIN_WINDOW_NS;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The length of the next window after one of `len` brought `rows`: about [`WINDOW_ROWS`] at
/// the density just seen, doubling at most, between one second and [`MAX_WINDOW_NS`].
fn next_window_len(len: i64, rows: usize) -> i64 {
    let next = if rows > WINDOW_ROWS {
        (len as i128 * WINDOW_ROWS as i128 / rows as i128) as i64
    } else if rows < WINDOW_ROWS / 2 {
        len.saturating_mul(2)
    } else {
        len
    };
    next.clamp(1_000_000_000, MAX_WINDOW_NS)
}

/// Fetches a whole (gap) window, splitting at the cap, and stores it without moving the
/// checkpoint; the gap is closed in the same transaction as its last rows.
async fn fill(
    ctx: &StreamContext<'_>,
    hunter: &mut Hunter<'_, '_>,
    report: &mut StreamReport,
    from: i64,
    to: i64,
    advance: Advance,
) -> Result<(), StreamError> {
    let mut pending = vec![(from, to)];
    let mut parts = Vec::new();
    while let Some((f, t)) = pending.pop() {
        match hunter.fetch(f, t).await? {
            Fetched::TooMany if t - f > 1_000_000_000 => {
                let mid = f + (t - f) / 2;
                pending.push((mid, t));
                pending.push((f, mid));
            }
            Fetched::TooMany => {
                return Err(StreamError::Graph(GraphError::Unavailable {
                    endpoint: "security/runHuntingQuery".into(),
                    status: 200,
                    code: "RowCap".into(),
                    message: "more than 100,000 events in one second".into(),
                    attempts: 1,
                }));
            }
            Fetched::Rows(rows) => parts.push(rows),
        }
    }
    let rows: Vec<_> = parts.into_iter().flatten().collect();
    let window = Window {
        from_ns: from,
        to_ns: to,
    };
    let outcome = ingest(ctx, move |s, tenant| {
        s.ingest_email_events(&tenant, &rows, advance, Some(window))
    })
    .await?;
    report.add_page(&outcome);
    ctx.progress(report);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_sized_by_rows_not_by_the_backfill() {
        let hour = 3_600 * 1_000_000_000;
        // A dense hour: the next window holds about WINDOW_ROWS rows.
        assert_eq!(next_window_len(hour, 4 * WINDOW_ROWS), hour / 4);
        // A quiet one grows, but never past a day.
        assert_eq!(next_window_len(hour, 10), 2 * hour);
        assert_eq!(next_window_len(MAX_WINDOW_NS, 0), MAX_WINDOW_NS);
        // Within range: unchanged. Never below a second.
        assert_eq!(next_window_len(hour, WINDOW_ROWS), hour);
        assert_eq!(next_window_len(1_000_000_000, ROW_CAP), 1_000_000_000);
    }

    #[test]
    fn the_window_query_has_the_design_shape() {
        let q = window_query(0, 1_000_000_000, &["Timestamp", "Subject"]);
        assert_eq!(
            q,
            "EmailEvents\n| where Timestamp > datetime(1970-01-01T00:00:00.0000000Z) and Timestamp <= datetime(1970-01-01T00:00:01.0000000Z)\n| project Timestamp, Subject\n| order by Timestamp asc"
        );
    }

    #[test]
    fn a_missing_column_is_read_from_the_semantic_error() {
        let e = GraphError::Refused {
            endpoint: "x".into(),
            status: 400,
            code: "BadRequest".into(),
            message: "Query has resolution errors: 'project' operator: Failed to resolve scalar expression named 'LatestDeliveryAction'".into(),
            request_id: None,
        };
        assert_eq!(
            unresolved_column(&e).as_deref(),
            Some("LatestDeliveryAction")
        );
        assert!(!window_specific(&e));
    }
}
