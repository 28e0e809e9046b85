//! `mailtrail prune`: removes what is older than the retention (`[store] retention`, or
//! `--older-than`) and gives the space back; and the daily prune that `mailtrail run` does.
//! What "older than" means for each kind of data is in [`crate::store::retention`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Failure;
use crate::cli::{GlobalOpts, PruneArgs};
use crate::collector::schedule::StopSignal;
use crate::config::{self, LoadOptions};
use crate::duration::{format_duration, parse_duration};
use crate::store::retention::{BATCH_ROWS, PruneOptions, PruneReport, Removed, Vacuum};
use crate::store::sync::format_ms;
use crate::store::{Store, now_ms};

/// Shorter retentions are refused: `90m` for `90d` would empty the store.
pub const MIN_RETENTION: Duration = Duration::from_secs(86_400);

/// `run` prunes this often (and at start when the last prune is older).
pub const PRUNE_EVERY: Duration = Duration::from_secs(86_400);

/// The cutoff (epoch ms) for data older than `older_than` at `now_ms`.
pub fn cutoff_ms(older_than: Duration, now_ms: i64) -> i64 {
    now_ms.saturating_sub(older_than.as_millis().min(i64::MAX as u128) as i64)
}

/// How long `run` waits before its next prune, given when the last one started.
pub fn next_prune_in(last_prune_ms: Option<i64>, now_ms: i64) -> Duration {
    let Some(last) = last_prune_ms else {
        return Duration::ZERO;
    };
    let due = last.saturating_add(PRUNE_EVERY.as_millis() as i64);
    Duration::from_millis(due.saturating_sub(now_ms).max(0) as u64)
}

fn older_than(args: &PruneArgs, retention: Duration) -> Result<Duration, Failure> {
    let (d, from) = match &args.older_than {
        Some(s) => (
            parse_duration(s).map_err(|e| Failure::usage(format!("--older-than: {e}")))?,
            format!("--older-than {}", s.trim()),
        ),
        None => (
            retention,
            format!("[store] retention = \"{}\"", format_duration(retention)),
        ),
    };
    if d < MIN_RETENTION {
        return Err(Failure::usage(format!(
            "{from} is shorter than a day, which would remove nearly everything; use at least 1d (days are `d`: 90d)"
        )));
    }
    Ok(d)
}

/// `1,234,567`.
fn thousands(n: u64) -> String {
    crate::tui::text::thousands(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `12.3 MB`.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn table(removed: &Removed) -> String {
    let mut out = String::new();
    for (name, n) in removed.by_table() {
        out.push_str(&format!("  {name:<16} {:>12}\n", thousands(n)));
    }
    out.push_str(&format!(
        "  {:<16} {:>12}\n",
        "total",
        thousands(removed.total())
    ));
    out
}

/// The report `prune` prints.
pub fn summary(report: &PruneReport, older_than: Duration) -> String {
    let mut out = format!(
        "removed data older than {} ({}):\n",
        format_ms(report.cutoff_ms),
        format_duration(older_than)
    );
    out.push_str(&table(&report.removed));
    out.push_str(&format!(
        "reclaimed {} (store {} -> {}); vacuum: {}\n",
        megabytes(report.bytes_reclaimed()),
        megabytes(report.bytes_before),
        megabytes(report.bytes_after),
        report.vacuum.label()
    ));
    out
}

/// `mailtrail prune`.
pub fn run(global: &GlobalOpts, args: &PruneArgs) -> Result<(), Failure> {
    let cfg = config::load(&LoadOptions::from_process(global))?;
    let older_than = older_than(args, cfg.store.retention)?;
    let path = &cfg.store.path;
    let cutoff = cutoff_ms(older_than, now_ms());
    let mut stdout = String::new();
    if args.dry_run {
        // Read-only: the file is not touched, not even migrated.
        let store = Store::open_read_only(path)?;
        let removed = store.prune_counts(cutoff)?;
        stdout.push_str(&format!(
            "dry run: would remove data older than {} ({}):\n",
            format_ms(cutoff),
            format_duration(older_than)
        ));
        stdout.push_str(&table(&removed));
        if !store.incremental_vacuum_enabled()? {
            stdout.push_str(&format!(
                "this store predates incremental vacuum: the first prune also rebuilds it once with VACUUM (needs free disk of about twice the data kept; the store now takes {})\n",
                megabytes(crate::store::retention::store_bytes(path))
            ));
        }
        stdout.push_str("nothing was changed\n");
    } else {
        let mut store = Store::open_existing(path)?;
        let bar = progress_bar(global.quiet);
        let mut progress = |done: u64, total: u64| {
            if let Some(bar) = &bar
                && total >= BATCH_ROWS as u64
            {
                bar.set_length(total);
                bar.set_position(done);
            }
        };
        let report = store.prune(
            &PruneOptions::new(cutoff, true),
            &AtomicBool::new(false),
            bar.is_some().then_some(&mut progress),
        )?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if let Vacuum::Skipped(why) = &report.vacuum {
            tracing::warn!("space not reclaimed: {why}");
        }
        stdout.push_str(&summary(&report, older_than));
    }
    if !global.quiet {
        print!("{stdout}");
    }
    Ok(())
}

/// A bar on stderr when it is a terminal (shown once a prune is big enough to wait for).
fn progress_bar(quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("pruning {bar:30} {pos}/{len} rows ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// One prune as `run` does it: never the one-time VACUUM (it would hold up syncing), stops
/// between batches when asked.
pub fn prune_store(
    path: &Path,
    older_than: Duration,
    stop: &AtomicBool,
) -> Result<PruneReport, Failure> {
    let mut store = Store::open(path)?;
    let opts = PruneOptions::new(cutoff_ms(older_than, now_ms()), false);
    Ok(store.prune(&opts, stop, None)?)
}

/// `run`'s daily prune: at start if the last prune is more than a day old (or none ever ran),
/// then every day, until `stop`. A failure is logged and never stops syncing.
pub async fn daily(path: PathBuf, retention: Duration, stop: Arc<StopSignal>) {
    if retention < MIN_RETENTION {
        tracing::error!(
            "not pruning: [store] retention = \"{}\" is shorter than a day; fix: set it to at least 1d",
            format_duration(retention)
        );
        return;
    }
    let last = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || Store::open(&path)?.last_prune_ms())
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
    };
    let mut wait = match last {
        Ok(last) => next_prune_in(last, now_ms()),
        Err(e) => {
            tracing::error!("cannot read when the store was last pruned: {e}");
            PRUNE_EVERY
        }
    };
    loop {
        stop.sleep(wait).await;
        if stop.stopped() {
            return;
        }
        let (p, s) = (path.clone(), stop.clone());
        let result = tokio::task::spawn_blocking(move || prune_store(&p, retention, &s.flag)).await;
        match result {
            Ok(Ok(r)) => tracing::info!(
                older_than = %format_duration(retention),
                cutoff = %format_ms(r.cutoff_ms),
                rows = r.removed.total(),
                email_events = r.removed.email_events,
                alerts = r.removed.alerts,
                alert_versions = r.removed.alert_versions,
                sync_runs = r.removed.sync_runs,
                bytes_reclaimed = r.bytes_reclaimed(),
                vacuum = %r.vacuum.label(),
                interrupted = r.interrupted,
                "prune finished"
            ),
            Ok(Err(e)) => tracing::error!("prune failed (syncing goes on): {}", e.message),
            Err(e) => tracing::error!("prune failed (syncing goes on): {e}"),
        }
        wait = PRUNE_EVERY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 86_400_000;

    #[test]
    fn run_prunes_at_start_when_never_pruned_or_a_day_ago_else_when_a_day_has_passed() {
        let now = 1_800_000_000_000;
        assert_eq!(next_prune_in(None, now), Duration::ZERO);
        assert_eq!(next_prune_in(Some(now - DAY_MS), now), Duration::ZERO);
        assert_eq!(next_prune_in(Some(now - 3 * DAY_MS), now), Duration::ZERO);
        assert_eq!(
            next_prune_in(Some(now - DAY_MS / 4), now),
            Duration::from_millis((DAY_MS * 3 / 4) as u64)
        );
        assert_eq!(next_prune_in(Some(now), now), PRUNE_EVERY);
    }

    #[test]
    fn retentions_under_a_day_are_refused_with_the_fix() {
        let args = |s: &str| PruneArgs {
            older_than: Some(s.into()),
            dry_run: false,
        };
        let e = older_than(&args("90m"), MIN_RETENTION).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(e.message.contains("90d"), "{}", e.message);
        let e = older_than(&args("ninety days"), MIN_RETENTION).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(e.message.starts_with("--older-than: invalid duration"));
        assert_eq!(
            older_than(&args("7d"), MIN_RETENTION).unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        let none = PruneArgs {
            older_than: None,
            dry_run: true,
        };
        assert_eq!(
            older_than(&none, Duration::from_secs(180 * 86_400)).unwrap(),
            Duration::from_secs(180 * 86_400)
        );
        assert!(older_than(&none, Duration::from_secs(3_600)).is_err());
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
