//! The simulator's clock: real time from a chosen start, or frozen; tests move it by hand so
//! that alert lifecycles, ingestion lag and token expiry can be exercised without waiting.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug)]
pub struct Clock {
    state: Mutex<ClockState>,
}

#[derive(Debug, Clone, Copy)]
struct ClockState {
    /// Simulated time at `since`.
    base: DateTime<Utc>,
    since: Instant,
    frozen: bool,
}

impl Clock {
    pub fn new(start: DateTime<Utc>, frozen: bool) -> Self {
        Clock {
            state: Mutex::new(ClockState {
                base: start,
                since: Instant::now(),
                frozen,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // A poisoned clock still holds a valid time: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> DateTime<Utc> {
        let s = *self.lock();
        if s.frozen {
            s.base
        } else {
            s.base + Duration::from_std(s.since.elapsed()).unwrap_or(Duration::zero())
        }
    }

    /// Jump to `t` (keeps running from there unless frozen).
    pub fn set(&self, t: DateTime<Utc>) {
        let mut s = self.lock();
        s.base = t;
        s.since = Instant::now();
    }

    /// Move the clock forward (or back, with a negative duration).
    pub fn advance(&self, d: Duration) {
        let now = self.now();
        self.set(now + d);
    }

    pub fn freeze(&self, frozen: bool) {
        let now = self.now();
        let mut s = self.lock();
        s.base = now;
        s.since = Instant::now();
        s.frozen = frozen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_by_hand() {
        let t = "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let c = Clock::new(t, true);
        assert_eq!(c.now(), t);
        c.advance(Duration::minutes(5));
        assert_eq!(c.now(), t + Duration::minutes(5));
    }
}
