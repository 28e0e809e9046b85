//! Progress of a sync on a terminal: one line per tenant × stream with pages, rows, rate and
//! throttle waits. Off when stderr is not a terminal or with `--quiet` (scripts get the summary).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::StreamReport;

/// The bars, one per tenant × stream.
type Bars = Mutex<HashMap<(String, &'static str), ProgressBar>>;

pub struct Progress {
    bars: Option<(MultiProgress, Bars)>,
}

impl Progress {
    /// Bars on stderr when it is a terminal and `enabled`.
    pub fn new(enabled: bool) -> Progress {
        let on = enabled && std::io::IsTerminal::is_terminal(&std::io::stderr());
        Progress {
            bars: on.then(|| {
                (
                    MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                    Mutex::new(HashMap::new()),
                )
            }),
        }
    }

    /// No output at all (the dashboard, tests).
    pub fn hidden() -> Progress {
        Progress { bars: None }
    }

    pub fn begin(&self, r: &StreamReport) {
        let Some((multi, bars)) = &self.bars else {
            return;
        };
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:<24} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(format!(
            "{}/{}",
            crate::terminal::clean(&r.tenant),
            r.stream
        ));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message("starting");
        bars.lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((r.tenant.clone(), r.stream), bar);
    }

    pub fn update(&self, r: &StreamReport, elapsed: Duration) {
        let Some((_, bars)) = &self.bars else { return };
        let rows = r.rows.new + r.rows.updated + r.rows.unchanged;
        let rate = rows as f64 / elapsed.as_secs_f64().max(0.001);
        if let Some(bar) = bars
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(r.tenant.clone(), r.stream))
        {
            bar.set_message(format!(
                "{} pages, {rows} rows ({} new), {rate:.0} rows/s",
                r.pages, r.rows.new
            ));
        }
    }

    pub fn finish(&self, r: &StreamReport) {
        let Some((_, bars)) = &self.bars else { return };
        if let Some(bar) = bars
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(r.tenant.clone(), r.stream))
        {
            let rows = r.rows.new + r.rows.updated + r.rows.unchanged;
            bar.finish_with_message(format!(
                "{} — {} pages, {rows} rows ({} new, {} updated) in {:.1}s",
                r.outcome(),
                r.pages,
                r.rows.new,
                r.rows.updated,
                r.duration.as_secs_f64()
            ));
        }
    }
}
