//! The simulated tenant's data (DESIGN §8): every alert and every EmailEvents row the simulator
//! serves, and the ground truth the tests compare a sync against.
//!
//! Nothing is stored. Each message and each alert has an index, and everything about it is a
//! pure function of `(seed, index)` (see [`super::rng`]), so any slice of the data can be
//! generated on demand, in any order, in time and memory proportional to the slice. A `Large`
//! tenant (a million rows over 30 days) costs a few hundred kilobytes to keep.
//!
//! The layout in time is arithmetic, so that a window maps to an index range without scanning:
//! message `m` is received at `t0 + m·step + jitter(m)` with `jitter < step` (timestamps strictly
//! increase with `m`), where `t0 = anchor − 30 days`; alert `j` is created the same way on its
//! own grid. Both grids run on for 14 days after the anchor, so a simulator running in real time
//! keeps producing new mail, new alerts and alert updates.
//!
//! Submodules: [`mail`] owns messages and EmailEvents rows, [`alerts`] owns alerts_v2 objects,
//! their lifecycles and evidence; `people` the tenant's directory; `words` the vocabulary.

mod alerts;
mod mail;
mod people;
mod ticks;
mod words;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use alerts::AlertHead;
pub use mail::{Cell, ColumnType, EMAIL_EVENTS_COLUMNS, EmailEvent, evidence_delivery};

use super::rng;
use people::Directory;
use ticks::{DAY, HOUR, MINUTE, from_ticks, to_ticks};

/// Days of data before the anchor (what advanced hunting keeps).
const DAYS_BEFORE: i64 = 30;
/// Days the data goes on after the anchor, for a simulator that runs in real time.
const DAYS_AFTER: i64 = 14;
/// Advanced hunting's retention: rows older than this, relative to `now`, are never returned.
const HUNTING_RETENTION: i64 = 30 * DAY;
/// Every message is one of these many messages in a row ("block"); one per block is a threat
/// (phish, malware or impersonation), ≈ 8.3 % of all mail.
const BLOCK: u64 = 12;
/// Phishing and malware campaigns: all threats of this many consecutive blocks share one
/// campaign (sender domain, subject template, URL domain or attachment).
const CAMPAIGN_BLOCKS: u64 = 8;
/// EmailEvents rows per message, on average, for the mix of recipient counts in [`mail`]
/// (checked by a test), used to turn a row target into a message rate.
const MEAN_ROWS_PER_MESSAGE: f64 = 2.625;
/// An MDO alert is raised at least this long after the message it is about.
const ALERT_MIN_DELAY: i64 = 2 * MINUTE;

/// How much data the simulated tenant has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// ≈ 5,000 EmailEvents rows and 500 alerts in the 30 days before the anchor.
    Small,
    /// ≈ 100,000 rows and 10,000 alerts.
    Medium,
    /// ≈ 1,000,000 rows and 100,000 alerts.
    Large,
}

impl Scale {
    pub const ALL: [Scale; 3] = [Scale::Small, Scale::Medium, Scale::Large];

    pub fn name(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::Medium => "medium",
            Scale::Large => "large",
        }
    }

    /// The scale of a name (`small`, `medium`, `large`, any case).
    pub fn from_name(name: &str) -> Option<Scale> {
        Scale::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }

    /// EmailEvents rows in the 30 days before the anchor (target; the measured count is within
    /// a few per cent).
    pub fn email_events_per_30_days(self) -> u64 {
        match self {
            Scale::Small => 5_000,
            Scale::Medium => 100_000,
            Scale::Large => 1_000_000,
        }
    }

    /// Alerts (all services) created in the 30 days before the anchor.
    pub fn alerts_per_30_days(self) -> u64 {
        match self {
            Scale::Small => 500,
            Scale::Medium => 10_000,
            Scale::Large => 100_000,
        }
    }

    /// Users in the tenant's directory.
    fn users(self) -> usize {
        match self {
            Scale::Small => 200,
            Scale::Medium => 800,
            Scale::Large => 2_000,
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scale {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scale::from_name(s)
            .ok_or_else(|| format!("unknown scale '{s}': use small, medium or large"))
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetSpec {
    pub seed: u64,
    pub scale: Scale,
    /// "Now" of the data set's story: 30 days of history before it, 14 days of future after it.
    pub anchor: DateTime<Utc>,
    /// Entra tenant id, written into every alert (`tenantId`, portal links).
    pub tenant_id: String,
    /// The tenant's verified domain, e.g. `contoso.com`: users' addresses live under it.
    pub tenant_domain: String,
    /// A tenant without Defender for Office 365 data: no alerts, no email events.
    pub empty: bool,
}

/// Message grid: message `m` at `t0 + m·step + jitter(m)`, `0 <= m < count`.
#[derive(Debug, Clone, Copy)]
struct Grid {
    t0: i64,
    step: i64,
    count: u64,
}

impl Grid {
    /// The earliest instant of slot `i` and the first instant after it.
    fn slot(&self, i: u64) -> (i64, i64) {
        let start = self.t0 + i as i64 * self.step;
        (start, start + self.step)
    }
}

/// Hash streams: the first element of every `hash`/`Rng` path, so that no two kinds of value
/// ever draw from the same numbers.
mod stream {
    pub const SKETCH: u64 = 0x5c01;
    pub const MESSAGE: u64 = 0x5c02;
    pub const THREAT_SLOT: u64 = 0x5c03;
    pub const CAMPAIGN: u64 = 0x5c04;
    pub const NETWORK_MESSAGE_ID: u64 = 0x5c05;
    pub const USER: u64 = 0x5c06;
    pub const TENANT: u64 = 0x5c07;
    pub const ALERT: u64 = 0x5c08;
    pub const ALERT_ID: u64 = 0x5c09;
    pub const ALERT_DETAIL: u64 = 0x5c0a;
    pub const POLICY: u64 = 0x5c0b;
    pub const RECIPIENT: u64 = 0x5c0c;
    pub const SPREAD: u64 = 0x5c0d;
}

/// The simulated tenant: cheap to keep (the directory and a few numbers), everything else is
/// generated when asked for.
#[derive(Debug)]
pub struct Dataset {
    spec: DatasetSpec,
    mail: Grid,
    alerts: Grid,
    directory: Directory,
    /// Messages `hostile_mail.0 ..= hostile_mail.1` carry every hostile variant in turn, in the
    /// last day before the anchor, so that even a small tenant shows them all.
    hostile_mail: Option<(u64, u64)>,
    /// Likewise for alerts with odd enum values and hostile comments.
    hostile_alerts: Option<(u32, u32)>,
    /// Per-seed starting points of the low-discrepancy sequences of `mail::spread`.
    spread_offsets: [f64; 5],
}

impl Dataset {
    pub fn new(spec: DatasetSpec) -> Dataset {
        let anchor = to_ticks(spec.anchor);
        let t0 = anchor - DAYS_BEFORE * DAY;
        let span = (DAYS_BEFORE + DAYS_AFTER) * DAY;

        let messages_30d =
            (spec.scale.email_events_per_30_days() as f64 / MEAN_ROWS_PER_MESSAGE).round() as i64;
        let step = (DAYS_BEFORE * DAY / messages_30d.max(1)).max(1);
        let mail = Grid {
            t0,
            step,
            count: (span / step) as u64,
        };
        let mail_end = mail.slot(mail.count).0;

        // Alerts start late enough that a threat message exists a few blocks before the first
        // one (an alert always points back in time), and end before the last message does.
        let alert_t0 = t0 + ALERT_MIN_DELAY + 4 * BLOCK as i64 * step;
        let alert_step =
            ((anchor - alert_t0) / spec.scale.alerts_per_30_days().max(1) as i64).max(1);
        let alert_count = ((mail_end - alert_t0) / alert_step - 1).clamp(0, i64::from(u32::MAX));
        let alerts = Grid {
            t0: alert_t0,
            step: alert_step,
            count: alert_count as u64,
        };

        let directory = Directory::new(&spec);
        let spec_seed = spec.seed;
        let mut ds = Dataset {
            spec,
            mail,
            alerts,
            directory,
            hostile_mail: None,
            hostile_alerts: None,
            spread_offsets: [0, 1, 2, 3, 4].map(|i| {
                (rng::hash(spec_seed, &[stream::SPREAD, i]) >> 11) as f64 / (1u64 << 53) as f64
            }),
        };
        // Runs end an hour (mail) or three hours (alerts) before the anchor: visible at the
        // anchor, lifecycles already under way.
        let last_mail = ds.first_message_after(anchor - HOUR);
        ds.hostile_mail = last_mail
            .checked_sub(2 * words::HOSTILE_MAIL.len() as u64)
            .map(|first| (first, last_mail - 1));
        let last_alert = (anchor - 3 * HOUR - alert_t0) / alert_step - 1;
        ds.hostile_alerts = u32::try_from(last_alert).ok().and_then(|last| {
            let first = last.checked_sub(alerts::HOSTILE_ALERTS.len() as u32 - 1)?;
            (u64::from(last) < ds.alerts.count).then_some((first, last))
        });
        ds
    }

    pub fn spec(&self) -> &DatasetSpec {
        &self.spec
    }

    /// All alerts ever, including those created after the anchor (0 for an empty tenant).
    pub fn alert_count(&self) -> u32 {
        if self.spec.empty {
            0
        } else {
            self.alerts.count as u32
        }
    }

    /// All messages ever (each is one EmailEvents row per recipient).
    pub fn message_count(&self) -> u64 {
        if self.spec.empty { 0 } else { self.mail.count }
    }

    /// The first and last instant of the data: `anchor − 30 days` and `anchor + 14 days`.
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            from_ticks(self.mail.t0),
            from_ticks(self.mail.t0 + (DAYS_BEFORE + DAYS_AFTER) * DAY),
        )
    }

    /// The alert's state as visible through Graph at `now`: `None` when not visible yet.
    pub fn alert_head(&self, index: u32, now: DateTime<Utc>) -> Option<AlertHead> {
        if index >= self.alert_count() {
            return None;
        }
        let now = to_ticks(now);
        // The list endpoint asks about every alert, most of them not created yet while a
        // simulator runs in real time: skip those without planning them.
        if self.alert_slot(index).0 > now {
            return None;
        }
        let plan = self.alert_plan(index);
        let version = plan.version_at(now)?;
        Some(self.head_of(&plan, version))
    }

    /// The full alerts_v2 object of the alert, at its latest version visible at `now`.
    pub fn alert_json(&self, index: u32, now: DateTime<Utc>) -> Option<Value> {
        if index >= self.alert_count() {
            return None;
        }
        let plan = self.alert_plan(index);
        let version = plan.version_at(to_ticks(now))?;
        Some(self.alert_object(&plan, version))
    }

    /// EmailEvents rows with `Timestamp` in `(from, to]` that are queryable at `now` (their
    /// ingestion lag has passed and they are inside advanced hunting's 30 days), ascending by
    /// `Timestamp`; the recipients of one message follow each other in a fixed order.
    pub fn email_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = EmailEvent> + '_ {
        let now = to_ticks(now);
        let oldest = now.saturating_sub(HUNTING_RETENTION);
        let (start, end) = if self.spec.empty {
            (0, 0)
        } else {
            let start = self
                .first_message_after(to_ticks(from))
                .max(self.first_message_after(oldest.saturating_sub(1)));
            // No message becomes visible in less than the shortest lag.
            let end = self
                .first_message_after(to_ticks(to))
                .min(self.first_message_after(now.saturating_sub(mail::MIN_LAG)));
            (start, end.max(start))
        };
        mail::EmailEvents::new(self, start, end, now, oldest)
    }

    /// Ground truth: every Defender for Office 365 alert visible at `now`, as Graph returns it.
    pub fn visible_mdo_alerts(&self, now: DateTime<Utc>) -> Vec<Value> {
        (0..self.alert_count())
            .filter(|&j| {
                self.alert_head(j, now)
                    .is_some_and(|h| h.service_source == alerts::MDO_SERVICE_SOURCE)
            })
            .filter_map(|j| self.alert_json(j, now))
            .collect()
    }

    /// Ground truth: the de-duplication keys of the rows `email_events` returns.
    pub fn visible_email_event_keys(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<(String, String)> {
        self.email_events(from, to, now)
            .map(|e| {
                (
                    e.network_message_id().to_string(),
                    e.recipient().to_string(),
                )
            })
            .collect()
    }

    /// The first message received strictly after `t` (`message_count()` if none): the grid
    /// puts it in slot `⌊(t − t0)/step⌋` or the next one, so only one timestamp is looked at.
    fn first_message_after(&self, t: i64) -> u64 {
        if t < self.mail.t0 {
            return 0;
        }
        let Some(offset) = t.checked_sub(self.mail.t0) else {
            return self.mail.count;
        };
        let k = (offset / self.mail.step) as u64;
        if k >= self.mail.count {
            return self.mail.count;
        }
        if self.message_ticks(k) > t { k } else { k + 1 }
    }

    /// Alert `j`'s creation time on the alert grid (before rounding to a coarser precision).
    fn alert_slot(&self, j: u32) -> (i64, i64) {
        self.alerts.slot(u64::from(j))
    }
}
