//! `mailtrail demo`: the zero-setup first run. Starts the built-in simulator on 127.0.0.1 (a
//! medium tenant whose alert lifecycles unfold in real time), syncs it into a demo store under
//! the data dir — never the user's real store — and opens the dashboard while syncing goes on
//! in the background on a short schedule, so sync health is live. Quitting stops everything.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Failure;
use crate::cli::{DemoArgs, GlobalOpts};
use crate::cloud::Region;
use crate::collector::schedule::StopSignal;
use crate::collector::{self, Plan, Progress, StreamReport, TenantSource};
use crate::config::{Stream, SyncConfig};
use crate::graph::{Credentials, GraphClient, TokenSource};
use crate::secret::Secret;
use crate::simulator::{SimOptions, Simulator};

/// How often the demo syncs in the background (the real default is 5 minutes).
const DEMO_INTERVAL: Duration = Duration::from_secs(30);
/// How far back the first demo sync reaches: a week of mail shows in seconds.
const DEMO_LOOKBACK: Duration = Duration::from_secs(7 * 86_400);

/// Where the demo store lives: `<data dir>/demo/demo.db`, or beside `--db` if one is given.
fn demo_store(global: &GlobalOpts) -> Result<PathBuf, Failure> {
    if let Some(db) = &global.db {
        return Ok(db.clone());
    }
    let dirs = directories::ProjectDirs::from("", "", "mailtrail").ok_or_else(|| {
        Failure::usage("cannot find a home directory for the demo store; pass --db FILE")
    })?;
    Ok(dirs.data_dir().join("demo").join("demo.db"))
}

/// The demo's log file, beside its store.
pub fn log_path(global: &GlobalOpts) -> PathBuf {
    demo_store(global)
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("mailtrail-demo.log")))
        .unwrap_or_else(|| std::env::temp_dir().join("mailtrail-demo.log"))
}

fn tenant_source(sim: &Simulator) -> Result<TenantSource, Failure> {
    let t = sim
        .tenants()
        .first()
        .ok_or_else(|| Failure::runtime("the simulator has no tenant"))?;
    let creds = Credentials {
        token_url: format!("{}/{}/oauth2/v2.0/token", sim.url(), t.tenant_id),
        tenant_id: t.tenant_id.clone(),
        client_id: t.client_id.clone(),
        secret: Secret::new(t.client_secret.clone()),
        scope: Region::Global.scope(),
    };
    let http = crate::graph::http_client().map_err(|e| Failure::runtime(e.to_string()))?;
    let mut client = GraphClient::new(http, TokenSource::new(creds), &sim.url());
    // The simulator has no quota to protect; the real limits stay for real tenants.
    client.set_rate_limits(6_000, 6_000);
    Ok(TenantSource {
        name: "demo".into(),
        region: Region::Global,
        client,
    })
}

fn failed(reports: &[StreamReport]) -> Option<String> {
    let lines: Vec<String> = reports
        .iter()
        .filter_map(|r| {
            r.error
                .as_ref()
                .map(|(_, m)| format!("{}/{}: {m}", r.tenant, r.stream))
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n  "))
}

/// `mailtrail demo`.
pub fn run(global: &GlobalOpts, args: &DemoArgs) -> Result<(), Failure> {
    let store = demo_store(global)?;
    // A fresh demo each time: the simulated tenant is generated around "now".
    for suffix in ["", "-wal", "-shm"] {
        let mut p = store.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the async runtime: {e}")))?;
    let mut opts = SimOptions::new(args.seed, args.scale.into(), chrono::Utc::now());
    opts.freeze = false;
    let sim = rt
        .block_on(Simulator::start(opts))
        .map_err(|e| Failure::runtime(format!("cannot start the simulator on 127.0.0.1: {e}")))?;
    let source = Arc::new(rt.block_on(async { tenant_source(&sim) })?);
    let mut sync = SyncConfig {
        interval: DEMO_INTERVAL,
        ..SyncConfig::default()
    };
    sync.initial_lookback = DEMO_LOOKBACK;
    let plan = Arc::new(Plan::new(sync.clone(), None));
    if !global.quiet {
        eprintln!(
            "mailtrail demo: simulator on {} — syncing a week of simulated mail into {}",
            sim.url(),
            store.display()
        );
    }
    let started = Instant::now();
    let stop = Arc::new(StopSignal::default());
    let progress = Progress::new(!global.quiet);
    let reports = rt.block_on(collector::sync_all(
        store.clone(),
        std::slice::from_ref(source.as_ref()),
        &Stream::ALL,
        &plan,
        &stop.flag,
        &progress,
    ));
    if let Some(msg) = failed(&reports) {
        return Err(Failure::runtime(format!("the demo sync failed:\n  {msg}")));
    }
    if args.no_tui {
        if !global.quiet {
            print!("{}", collector::summary(&reports));
            println!(
                "demo store: {} ({:.1}s); open it with: mailtrail --db {} tui",
                store.display(),
                started.elapsed().as_secs_f64(),
                store.display()
            );
        }
        rt.block_on(sim.stop());
        return Ok(());
    }
    // Keep syncing on the demo's schedule while the dashboard is up.
    let background = {
        let (path, stop, plan, source) =
            (store.clone(), stop.clone(), plan.clone(), source.clone());
        rt.spawn(async move {
            stop.sleep(DEMO_INTERVAL).await;
            collector::schedule::run(
                path,
                vec![source],
                Stream::ALL.to_vec(),
                plan,
                stop,
                Arc::new(Progress::hidden()),
                Arc::new(|r: &StreamReport| {
                    if let Some((kind, msg)) = &r.error {
                        tracing::warn!("demo sync {}/{} [{kind}]: {msg}", r.tenant, r.stream);
                    }
                }),
            )
            .await
        })
    };
    let tui = crate::tui::TuiOptions {
        interval: DEMO_INTERVAL,
        ..Default::default()
    };
    let result = crate::tui::run_live(&store, tui, Duration::from_secs(2));
    stop.stop();
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), background).await });
    rt.block_on(sim.stop());
    result
}
