//! `mailtrail run`: each tenant × stream on its own schedule (the interval with ±10 % jitter, so
//! many collectors do not hit Graph in lockstep) until a stop is requested; a stop lets the
//! current page finish, so every checkpoint stays consistent with the rows it covers.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::{Plan, Progress, StreamReport, TenantSource, sync_stream};
use crate::config::Stream;

/// A stop request shared by every stream: checked between pages, and it wakes sleepers.
#[derive(Default)]
pub struct StopSignal {
    pub flag: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    pub fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Sleeps for `d` or until a stop, whichever comes first.
    pub async fn sleep(&self, d: Duration) {
        let notified = self.notify.notified();
        if self.stopped() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = notified => {}
        }
    }
}

/// `interval` ± 10 %.
pub fn jittered(interval: Duration) -> Duration {
    let r =
        std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), interval);
    let spread = interval.as_secs_f64() * 0.2;
    let offset = (r % 10_000) as f64 / 10_000.0 * spread - spread / 2.0;
    Duration::from_secs_f64((interval.as_secs_f64() + offset).max(1.0))
}

/// Runs every tenant × stream until `stop`; `on_pass` sees each finished pass.
pub async fn run(
    store_path: PathBuf,
    tenants: Vec<Arc<TenantSource>>,
    streams: Vec<Stream>,
    plan: Arc<Plan>,
    stop: Arc<StopSignal>,
    progress: Arc<Progress>,
    on_pass: Arc<dyn Fn(&StreamReport) + Send + Sync>,
) {
    let mut tasks = Vec::new();
    for tenant in &tenants {
        for &stream in &streams {
            let (tenant, plan, stop, progress, on_pass, path) = (
                tenant.clone(),
                plan.clone(),
                stop.clone(),
                progress.clone(),
                on_pass.clone(),
                store_path.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut first = true;
                while !stop.stopped() {
                    let report =
                        sync_stream(path.clone(), &tenant, stream, &plan, &stop.flag, &progress)
                            .await;
                    on_pass(&report);
                    // What the pass stored is scored before the wait (triage::refresh); a pass
                    // that stored nothing new leaves nothing to score, except the first (a
                    // store never scored, or changed by an import or a prune meanwhile).
                    if first || report.rows.new + report.rows.updated > 0 {
                        super::refresh_triage(path.clone()).await;
                    }
                    first = false;
                    stop.sleep(jittered(plan.sync.interval)).await;
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(300));
            assert!(
                d >= Duration::from_secs(270) && d <= Duration::from_secs(330),
                "{d:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_stop_wakes_a_sleeper() {
        let s = Arc::new(StopSignal::default());
        let s2 = s.clone();
        let t = tokio::spawn(async move { s2.sleep(Duration::from_secs(600)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        s.stop();
        tokio::time::timeout(Duration::from_secs(2), t)
            .await
            .unwrap()
            .unwrap();
    }
}
