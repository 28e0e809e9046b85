//! The collection commands' glue: `sync`, `run` and `status` — configuration in, the collector
//! or the store's health out, errors mapped to exit codes.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use crate::Failure;
use crate::cli::{GlobalOpts, RemapArgs, RunArgs, StatusArgs, StreamArg, SyncArgs};
use crate::collector::schedule::StopSignal;
use crate::collector::{self, Plan, Progress, StreamReport, TenantSource};
use crate::config::{self, Config, LoadOptions, Stream};
use crate::store::Store;
use crate::store::sync::{ACTIVITY, Health, StreamStatus, THREATS, format_ms};
use crate::terminal::clean;

/// Threats reach back at most this far (Defender keeps alerts 180 days).
const MAX_SINCE: Duration = Duration::from_secs(180 * 86_400);

impl From<StreamArg> for Stream {
    fn from(s: StreamArg) -> Stream {
        match s {
            StreamArg::Threats => Stream::Threats,
            StreamArg::Activity => Stream::Activity,
        }
    }
}

fn load(global: &GlobalOpts) -> Result<Config, Failure> {
    Ok(config::load(&LoadOptions::from_process(global))?)
}

/// The configured tenants, or the one `--tenant` names, as Graph clients.
fn sources(cfg: &Config, only: Option<&str>) -> Result<Vec<TenantSource>, Failure> {
    let chosen: Vec<&config::TenantConfig> = match only {
        Some(name) => vec![cfg.tenant(name)?],
        None => cfg.require_tenants()?.iter().collect(),
    };
    let http = crate::graph::http_client().map_err(|e| Failure::runtime(e.to_string()))?;
    chosen
        .into_iter()
        .map(|t| Ok(TenantSource::new(t, http.clone())?))
        .collect()
}

fn parse_since(since: Option<&str>) -> Result<Option<Duration>, Failure> {
    let Some(s) = since else { return Ok(None) };
    let d =
        crate::duration::parse_duration(s).map_err(|e| Failure::usage(format!("--since: {e}")))?;
    if d > MAX_SINCE {
        return Err(Failure::usage(format!(
            "--since {s} reaches back further than Defender keeps data (180d for alerts, 30d for email events); use at most 180d"
        )));
    }
    Ok(Some(d))
}

/// Opens (creating and migrating) the store once up front, so a bad path fails before any
/// network work.
fn open_store(cfg: &Config) -> Result<(), Failure> {
    Store::open(&cfg.store.path)?;
    Ok(())
}

/// "N of M streams failed" with one line per failure, or Ok.
fn verdict(reports: &[StreamReport]) -> Result<(), Failure> {
    let failed: Vec<&StreamReport> = reports.iter().filter(|r| r.failed()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let mut msg = format!("{} of {} streams failed:", failed.len(), reports.len());
    for r in failed {
        let (_, message) = r.error.clone().unwrap_or_default();
        msg.push_str(&format!(
            "\n  {}/{}: {}",
            clean(&r.tenant),
            r.stream,
            message
        ));
    }
    Err(Failure::runtime(msg))
}

/// `mailtrail sync`.
pub async fn sync(global: &GlobalOpts, args: &SyncArgs) -> Result<(), Failure> {
    let cfg = load(global)?;
    let since = parse_since(args.since.as_deref())?;
    let streams: Vec<Stream> = match args.stream {
        Some(s) => vec![s.into()],
        None => cfg.sync.streams.clone(),
    };
    let tenants = sources(&cfg, args.tenant.as_deref())?;
    open_store(&cfg)?;
    let plan = Plan::new(cfg.sync.clone(), since);
    let progress = Progress::new(!global.quiet);
    let stop = StopSignal::default();
    let reports = collector::sync_all(
        cfg.store.path.clone(),
        &tenants,
        &streams,
        &plan,
        &stop.flag,
        &progress,
    )
    .await;
    if !global.quiet {
        let _ = write!(std::io::stdout(), "{}", collector::summary(&reports));
    }
    verdict(&reports)
}

/// Waits for SIGINT or SIGTERM, then asks everything to stop after the current page; a second
/// signal exits at once.
pub fn stop_on_signals(stop: Arc<StopSignal>) {
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                match signal(SignalKind::terminate()) {
                    Ok(mut term) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = term.recv() => {}
                        }
                    }
                    Err(_) => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            count += 1;
            if count > 1 {
                tracing::warn!("second stop signal: exiting now");
                std::process::exit(130);
            }
            tracing::warn!(
                "stopping after the current page (send the signal again to exit at once)"
            );
            stop.stop();
        }
    });
}

/// `mailtrail run`.
pub async fn run(global: &GlobalOpts, args: &RunArgs) -> Result<(), Failure> {
    let cfg = load(global)?;
    let tenants = sources(&cfg, args.tenant.as_deref())?;
    open_store(&cfg)?;
    let stop = Arc::new(StopSignal::default());
    stop_on_signals(stop.clone());
    // Retention: at start when the last prune is a day old, then daily, beside the syncs.
    let pruner = tokio::spawn(crate::prune::daily(
        cfg.store.path.clone(),
        cfg.store.retention,
        stop.clone(),
    ));
    tracing::warn!(
        "collecting {} tenant(s) every {} into {} (Ctrl-C stops after the current page)",
        tenants.len(),
        crate::duration::format_duration(cfg.sync.interval),
        cfg.store.path.display()
    );
    let on_pass: Arc<dyn Fn(&StreamReport) + Send + Sync> = Arc::new(|r: &StreamReport| {
        match &r.error {
            None => tracing::info!(
                tenant = %clean(&r.tenant), stream = r.stream, outcome = r.outcome(), new = r.rows.new,
                updated = r.rows.updated, unchanged = r.rows.unchanged, retries = r.calls.retries,
                throttled = r.calls.throttled, seconds = r.duration.as_secs_f64(), "pass finished"
            ),
            Some((kind, message)) => {
                tracing::error!(tenant = %clean(&r.tenant), stream = r.stream, kind = %kind, "{message}")
            }
        }
    });
    collector::schedule::run(
        cfg.store.path.clone(),
        tenants.into_iter().map(Arc::new).collect(),
        cfg.sync.streams.clone(),
        Arc::new(Plan::new(cfg.sync.clone(), None)),
        stop,
        Arc::new(Progress::hidden()),
        on_pass,
    )
    .await;
    let _ = pruner.await;
    tracing::warn!("stopped; checkpoints are consistent");
    Ok(())
}

/// Splits "…; fix: …" messages into (message, fix).
fn split_fix(message: &str) -> (String, Option<String>) {
    match message.split_once("; fix: ") {
        Some((m, f)) => (m.to_string(), Some(f.to_string())),
        None => (message.to_string(), None),
    }
}

/// `mailtrail status`.
pub fn status(global: &GlobalOpts, args: &StatusArgs) -> Result<(), Failure> {
    let cfg = load(global)?;
    let mut tenants: Vec<String> = cfg.tenants.iter().map(|t| t.name.clone()).collect();
    let streams: Vec<&str> = cfg
        .sync
        .streams
        .iter()
        .map(|s| match s {
            Stream::Threats => THREATS,
            Stream::Activity => ACTIVITY,
        })
        .collect();
    // Configured tenants that never synced are worth a table; with nothing configured, a
    // missing store is the answer (a store problem: exit 1, as for every reading command).
    let store = if cfg.store.path.exists() || tenants.is_empty() {
        Some(Store::open_read_only(&cfg.store.path)?)
    } else {
        None
    };
    if let Some(s) = &store {
        for t in s.known_tenants()? {
            if !tenants.contains(&t) {
                tenants.push(t);
            }
        }
    }
    if tenants.is_empty() {
        return Err(Failure::usage(format!(
            "no tenants configured and nothing stored in {} yet; run `mailtrail init` (or set MAILTRAIL_TENANT_ID, MAILTRAIL_CLIENT_ID, MAILTRAIL_CLIENT_SECRET), then `mailtrail sync`",
            cfg.store.path.display()
        )));
    }
    let statuses = match &store {
        Some(s) => s.stream_status(&tenants, &streams, cfg.sync.interval)?,
        None => crate::store::sync::never_run(&tenants, &streams),
    };
    let mut out = std::io::stdout();
    if args.json {
        let items: Vec<serde_json::Value> = statuses
            .iter()
            .map(|s| {
                let last_error = s.last_error.as_ref().map(|(kind, message)| {
                    let (message, fix) = split_fix(message);
                    serde_json::json!({ "kind": kind, "message": message, "fix": fix })
                });
                serde_json::json!({
                    "tenant": s.tenant,
                    "stream": s.stream,
                    "health": s.health.label(),
                    "last_success": s.last_success_ms.map(format_ms),
                    "last_error": last_error,
                    "cursor": s.cursor,
                    "rows": s.rows,
                    "gaps": s.gaps,
                    "last_run": s.last_run,
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return Ok(());
    }
    let _ = writeln!(
        out,
        "{:<16} {:<9} {:<10} {:<21} {:>9} {:>5}  CURSOR",
        "TENANT", "STREAM", "HEALTH", "LAST SUCCESS", "ROWS", "GAPS"
    );
    for s in &statuses {
        let _ = writeln!(
            out,
            "{:<16} {:<9} {:<10} {:<21} {:>9} {:>5}  {}",
            clean(&s.tenant),
            s.stream,
            s.health.label(),
            s.last_success_ms
                .map(format_ms)
                .unwrap_or_else(|| "never".into()),
            s.rows,
            s.gaps.len(),
            s.cursor.as_deref().unwrap_or("-")
        );
    }
    if let Some(s) = &store {
        let _ = writeln!(
            out,
            "\nstore: {}",
            prune_line(s.last_prune()?, cfg.store.retention)
        );
    }
    for tenant in imported_only(&statuses) {
        let _ = writeln!(
            out,
            "\n{}: only imported data (`mailtrail import`); no sync has run for it",
            clean(tenant)
        );
    }
    for s in &statuses {
        if let Some((kind, message)) = &s.last_error {
            let (message, fix) = split_fix(message);
            let _ = writeln!(
                out,
                "\n{}/{} last error [{kind}]: {}",
                clean(&s.tenant),
                s.stream,
                clean(&message)
            );
            if let Some(fix) = fix {
                let _ = writeln!(out, "  fix: {}", clean(&fix));
            }
        }
        for g in &s.gaps {
            let _ = writeln!(
                out,
                "{}/{} gap {} .. {} ({} attempts): {}",
                clean(&s.tenant),
                s.stream,
                g.from,
                g.to,
                g.attempts,
                clean(&g.last_error)
            );
        }
    }
    Ok(())
}

/// When the store was last pruned, and what that removed.
fn prune_line(last: Option<crate::store::retention::LastPrune>, retention: Duration) -> String {
    let keep = crate::duration::format_duration(retention);
    match last {
        None => format!(
            "never pruned (retention {keep}; `mailtrail run` prunes daily, `mailtrail prune` now)"
        ),
        Some(p) => format!(
            "last pruned {} ({}; {} rows removed, {} reclaimed; retention {keep})",
            format_ms(p.started_ms),
            p.outcome,
            crate::tui::text::thousands(p.rows_removed),
            crate::prune::megabytes(u64::try_from(p.bytes_reclaimed).unwrap_or(0))
        ),
    }
}

/// Tenants whose rows all came from `mailtrail import`: stored rows, no sync run on any stream.
fn imported_only(statuses: &[StreamStatus]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for s in statuses {
        if out.contains(&s.tenant.as_str()) {
            continue;
        }
        let mine = statuses.iter().filter(|o| o.tenant == s.tenant);
        let (mut rows, mut synced) = (0, false);
        for o in mine {
            rows += o.rows;
            synced |= o.health != Health::NeverRun || o.last_run.is_some();
        }
        if rows > 0 && !synced {
            out.push(&s.tenant);
        }
    }
    out
}

/// `mailtrail remap`: rebuilds OCSF rows made by another mapping version (or all, `--all`).
pub fn remap(global: &GlobalOpts, args: &RemapArgs) -> Result<(), Failure> {
    let cfg = load(global)?;
    let mut store = Store::open_existing(&cfg.store.path)?;
    let (findings, emails) = store.remap_pending(args.all)?;
    if findings + emails == 0 {
        if !global.quiet {
            println!(
                "all OCSF events are at mapping version {}; nothing to rebuild",
                crate::ocsf::MAPPING_VERSION
            );
        }
        return Ok(());
    }
    let bar = (!global.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let b = indicatif::ProgressBar::new((findings + emails) as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} events ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let started = std::time::Instant::now();
    let out = store.remap(args.all, 5_000, &mut |done, _| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !global.quiet {
        println!(
            "rebuilt {} detection findings and {} email activities at mapping version {} in {:.1}s",
            out.findings,
            out.emails,
            crate::ocsf::MAPPING_VERSION,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
