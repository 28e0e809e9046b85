//! Collection per tenant × stream (DESIGN §4): each stream runs on its own — one failing never
//! stops another — from its checkpoint, with overlap and lag, one transaction per page, and a
//! sync-run record of what happened (pages, rows, retries, throttling, errors, cursors).

pub mod activity;
pub mod progress;
pub mod schedule;
pub mod threats;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cloud::Region;
use crate::config::{Stream, SyncConfig, TenantConfig};
use crate::graph::client::{CallCounts, RetryPolicy};
use crate::graph::{Credentials, GraphClient, GraphError, TokenSource};
use crate::store::alerts::PageOutcome;
use crate::store::sync::{Gap, RunRecord, format_ns};
use crate::store::{Store, StoreError, now_ms};

pub use progress::Progress;

/// One tenant, ready to be collected from.
pub struct TenantSource {
    pub name: String,
    pub region: Region,
    pub client: GraphClient,
}

impl TenantSource {
    /// Builds the Graph client for a configured tenant (reads the secret).
    pub fn new(
        cfg: &TenantConfig,
        http: reqwest::Client,
    ) -> Result<TenantSource, crate::config::ConfigError> {
        let secret = cfg.secret()?;
        let creds = Credentials {
            token_url: format!("{}/{}/oauth2/v2.0/token", cfg.login_endpoint, cfg.tenant_id),
            tenant_id: cfg.tenant_id.clone(),
            client_id: cfg.client_id.clone(),
            secret,
            scope: cfg.scope.clone(),
        };
        let mut client = GraphClient::new(http, TokenSource::new(creds), &cfg.graph_endpoint);
        // A hunting window that keeps failing is split rather than hammered.
        client.hunting_policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        Ok(TenantSource {
            name: cfg.name.clone(),
            region: cfg.region,
            client,
        })
    }
}

/// The windows and limits of a pass.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sync: SyncConfig,
    /// `--since`: how far back a stream without a checkpoint starts.
    pub since: Option<Duration>,
    pub page_size: u32,
}

impl Plan {
    pub fn new(sync: SyncConfig, since: Option<Duration>) -> Plan {
        let page_size = sync.page_size;
        Plan {
            sync,
            since,
            page_size,
        }
    }

    fn ns(d: Duration) -> i64 {
        i64::try_from(d.as_nanos()).unwrap_or(i64::MAX / 4)
    }

    pub fn overlap_ns(&self) -> i64 {
        Plan::ns(self.sync.overlap)
    }

    pub fn lag_ns(&self) -> i64 {
        Plan::ns(self.sync.activity_lag)
    }

    pub fn lookback_ns(&self) -> i64 {
        Plan::ns(self.since.unwrap_or(self.sync.initial_lookback))
    }
}

/// Why a stream's pass ended early.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{0}")]
    Graph(GraphError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl StreamError {
    pub fn kind(&self) -> &'static str {
        match self {
            StreamError::Graph(e) => e.kind(),
            StreamError::Store(_) => "store",
        }
    }
}

/// What one pass of one stream did.
#[derive(Debug, Clone, Default)]
pub struct StreamReport {
    pub tenant: String,
    pub stream: &'static str,
    pub pages: u64,
    pub rows: PageOutcome,
    pub calls: CallCounts,
    pub splits: u64,
    pub gaps_opened: u64,
    pub gaps_closed: u64,
    pub cursor_before: Option<i64>,
    pub cursor_after: Option<i64>,
    pub duration: Duration,
    pub interrupted: bool,
    /// (kind, message) when the pass failed.
    pub error: Option<(String, String)>,
}

impl StreamReport {
    fn add_page(&mut self, o: &PageOutcome) {
        self.pages += 1;
        self.rows.add(o);
    }

    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// `ok`, `partial` (gaps left behind), `failed` or `interrupted`, as recorded.
    pub fn outcome(&self) -> &'static str {
        if self.failed() {
            "failed"
        } else if self.interrupted {
            "interrupted"
        } else if self.gaps_opened > 0 {
            "partial"
        } else {
            "ok"
        }
    }
}

/// Everything a stream's pass needs.
pub struct StreamContext<'a> {
    pub tenant: &'a TenantSource,
    pub store: Arc<Mutex<Store>>,
    pub plan: &'a Plan,
    pub stop: &'a AtomicBool,
    pub progress: &'a Progress,
    pub run_id: i64,
    started: Instant,
    calls_before: CallCounts,
}

impl StreamContext<'_> {
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .unwrap_or_else(|e| {
            Err(StoreError::Io {
                path: "-".into(),
                source: std::io::Error::other(e.to_string()),
            })
        })
    }

    async fn checkpoint(&self, stream: &'static str) -> Result<Option<i64>, StoreError> {
        let tenant = self.tenant.name.clone();
        self.blocking(move |s| s.checkpoint(&tenant, stream)).await
    }

    async fn gaps(&self, stream: &'static str) -> Result<Vec<Gap>, StoreError> {
        let tenant = self.tenant.name.clone();
        self.blocking(move |s| s.gaps(&tenant, stream)).await
    }

    async fn record_gap(&self, from: i64, to: i64, error: &str) -> Result<(), StoreError> {
        let (tenant, error) = (self.tenant.name.clone(), error.to_string());
        self.blocking(move |s| {
            s.record_gap(&tenant, crate::store::sync::ACTIVITY, from, to, &error)
                .map(|_| ())
        })
        .await
    }

    fn progress(&self, report: &StreamReport) {
        self.progress.update(report, self.started.elapsed());
    }
}

/// Stores a batch through the blocking pool: `f` gets the store and the tenant name.
async fn ingest(
    ctx: &StreamContext<'_>,
    f: impl FnOnce(&mut Store, String) -> Result<PageOutcome, StoreError> + Send + 'static,
) -> Result<PageOutcome, StreamError> {
    let tenant = ctx.tenant.name.clone();
    Ok(ctx.blocking(move |s| f(s, tenant)).await?)
}

fn record_of(run_id: i64, r: &StreamReport, ended: Option<i64>) -> RunRecord {
    RunRecord {
        id: run_id,
        tenant: r.tenant.clone(),
        stream: r.stream.to_string(),
        started_ms: 0,
        ended_ms: ended,
        outcome: if ended.is_some() {
            r.outcome().to_string()
        } else {
            "running".to_string()
        },
        pages: r.pages as i64,
        rows_new: r.rows.new as i64,
        rows_updated: r.rows.updated as i64,
        rows_unchanged: r.rows.unchanged as i64,
        requests: r.calls.requests as i64,
        retries: r.calls.retries as i64,
        throttled: r.calls.throttled as i64,
        throttle_wait_ms: r.calls.throttle_wait_ms as i64,
        token_refreshes: r.calls.token_refreshes as i64,
        gaps_opened: r.gaps_opened as i64,
        gaps_closed: r.gaps_closed as i64,
        error_kind: r.error.as_ref().map(|e| e.0.clone()),
        error_message: r.error.as_ref().map(|e| e.1.clone()),
        cursor_before: r.cursor_before.map(format_ns),
        cursor_after: r.cursor_after.map(format_ns),
    }
}

/// One pass of one tenant × stream, recorded as a sync run. Never panics, never returns an
/// error: what went wrong is in the report (and the run record).
pub async fn sync_stream(
    store_path: PathBuf,
    tenant: &TenantSource,
    stream: Stream,
    plan: &Plan,
    stop: &AtomicBool,
    progress: &Progress,
) -> StreamReport {
    let name: &'static str = match stream {
        Stream::Threats => crate::store::sync::THREATS,
        Stream::Activity => crate::store::sync::ACTIVITY,
    };
    let started = Instant::now();
    let mut report = StreamReport {
        tenant: tenant.name.clone(),
        stream: name,
        ..Default::default()
    };
    let opened = {
        let path = store_path.clone();
        tokio::task::spawn_blocking(move || Store::open(&path)).await
    };
    let store = match opened {
        Ok(Ok(s)) => Arc::new(Mutex::new(s)),
        Ok(Err(e)) => {
            report.error = Some(("store".into(), e.to_string()));
            return report;
        }
        Err(e) => {
            report.error = Some(("store".into(), e.to_string()));
            return report;
        }
    };
    let calls_before = tenant.client.stats.snapshot();
    let mut ctx = StreamContext {
        tenant,
        store,
        plan,
        stop,
        progress,
        run_id: 0,
        started,
        calls_before,
    };
    let (tenant_name, tenant_id) = (
        tenant.name.clone(),
        tenant.client.auth().credentials().tenant_id.clone(),
    );
    if let Err(e) = ctx
        .blocking(move |s| s.register_tenant(&tenant_name, &tenant_id))
        .await
    {
        report.error = Some(("store".into(), e.to_string()));
        return report;
    }
    let cursor = ctx.checkpoint(name).await.ok().flatten();
    let tenant_name = tenant.name.clone();
    match ctx
        .blocking(move |s| s.start_run(&tenant_name, name, cursor))
        .await
    {
        Ok(id) => ctx.run_id = id,
        Err(e) => {
            report.error = Some(("store".into(), e.to_string()));
            return report;
        }
    }
    progress.begin(&report);
    let result = if !tenant.region.has_security_api() {
        Err(StreamError::Graph(GraphError::Unsupported(format!(
            "tenant {} is in the {} cloud, where alerts_v2 and advanced hunting do not exist; mailtrail cannot collect from it",
            tenant.name, tenant.region
        ))))
    } else {
        match stream {
            Stream::Threats => threats::sync(&ctx, &mut report).await,
            Stream::Activity => activity::sync(&ctx, &mut report).await,
        }
    };
    if let Err(e) = result {
        tracing::debug!("{}/{}: {e}", tenant.name, name);
        report.error = Some((e.kind().to_string(), e.to_string()));
    }
    report.calls = tenant.client.stats.snapshot() - ctx.calls_before;
    report.cursor_after = ctx.checkpoint(name).await.ok().flatten();
    report.duration = started.elapsed();
    let record = record_of(ctx.run_id, &report, Some(now_ms()));
    if let Err(e) = ctx.blocking(move |s| s.update_run(&record)).await {
        tracing::error!("cannot record the sync run: {e}");
    }
    progress.finish(&report);
    report
}

/// One pass over every tenant and stream, all concurrently.
pub async fn sync_all(
    store_path: PathBuf,
    tenants: &[TenantSource],
    streams: &[Stream],
    plan: &Plan,
    stop: &AtomicBool,
    progress: &Progress,
) -> Vec<StreamReport> {
    let mut tasks = Vec::new();
    for t in tenants {
        for &s in streams {
            tasks.push(sync_stream(store_path.clone(), t, s, plan, stop, progress));
        }
    }
    let reports = futures_util::future::join_all(tasks).await;
    refresh_triage(store_path).await;
    reports
}

/// Re-scores what the pass changed ([`crate::triage::refresh`]). A failure only leaves the
/// scores stale (the dashboard says so); it never fails the pass.
pub async fn refresh_triage(store_path: PathBuf) {
    let done = tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&store_path)?;
        crate::triage::refresh(&mut store, crate::triage::Scope::Changed)
    })
    .await;
    match done {
        Ok(Ok(r)) => tracing::info!(
            "triage: scored {} alerts, summarised {} messages in {} ms{}",
            r.alerts,
            r.messages,
            r.duration_ms,
            if r.full { " (full)" } else { "" }
        ),
        Ok(Err(e)) => tracing::warn!("triage scores not refreshed (they stay stale): {e}"),
        Err(e) => tracing::warn!("triage scores not refreshed (they stay stale): {e}"),
    }
}

/// The summary table printed after `sync`.
pub fn summary(reports: &[StreamReport]) -> String {
    let mut out = format!(
        "{:<16} {:<9} {:<11} {:>9} {:>8} {:>10} {:>8} {:>9} {:>9}\n",
        "TENANT",
        "STREAM",
        "RESULT",
        "NEW",
        "UPDATED",
        "UNCHANGED",
        "RETRIES",
        "THROTTLED",
        "DURATION"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<16} {:<9} {:<11} {:>9} {:>8} {:>10} {:>8} {:>9} {:>8.1}s\n",
            crate::terminal::clean(&r.tenant),
            r.stream,
            r.outcome(),
            r.rows.new,
            r.rows.updated,
            r.rows.unchanged,
            r.calls.retries,
            r.calls.throttled,
            r.duration.as_secs_f64()
        ));
    }
    out
}
