//! The dashboard's only access to the store: [`Request`]s in, [`Loaded`] results out. In the
//! terminal two worker threads ([`Workers`]) each own a read-only connection: one answers what
//! the user is waiting on (pages, details), the other the aggregates that may take longer
//! (counts, the overview, sync health), so a slow count never delays scrolling, and neither
//! freezes drawing or input. Tests and benchmarks run the same [`Loader`] inline.
//!
//! Every request carries the `epoch` of the state that asked for it; a result whose epoch is no
//! longer current (the filter changed meanwhile) is dropped by the receiver. The workers skip
//! requests that a newer one of the same slot has made pointless, and a background query that
//! a newer one supersedes is interrupted.

use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::search::Query;
use crate::store::Store;
use crate::store::notes::{self, Annotation, Mark, NoteChange, NoteTarget};
use crate::store::sync::StreamStatus;
use crate::store::views::{
    Count, Direction, EventDetail, EventKey, EventRow, Overview, ThreatDetail, ThreatKey,
    ThreatOrder, ThreatRow,
};

/// Why a page is fetched: it decides how the list merges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// The first page of a new list (new filter, sort, Home).
    Reset,
    /// The rows after the last loaded one.
    Append,
    /// The rows before the first loaded one.
    Prepend,
    /// The last page (End).
    Last,
    /// The first page again, keeping the selection (live refresh).
    Refresh,
}

impl PageKind {
    /// Which way a page of this kind reads from the store, and whether it starts after (or
    /// before) the anchor row or at an end of the list.
    fn direction<A>(self, anchor: Option<&A>) -> (Direction, Option<&A>) {
        let dir = match self {
            PageKind::Prepend | PageKind::Last => Direction::Backward,
            _ => Direction::Forward,
        };
        let anchor = match self {
            PageKind::Append | PageKind::Prepend => anchor,
            _ => None,
        };
        (dir, anchor)
    }
}

/// A query the dashboard needs answered.
#[derive(Debug, Clone)]
pub enum Request {
    Overview {
        epoch: u64,
        query: Query,
        now_ms: i64,
        period: Duration,
        buckets: usize,
        top: usize,
    },
    Threats {
        epoch: u64,
        kind: PageKind,
        query: Query,
        now_ms: i64,
        order: ThreatOrder,
        anchor: Option<ThreatKey>,
        limit: usize,
    },
    ThreatCount {
        epoch: u64,
        query: Query,
        now_ms: i64,
    },
    ThreatDetail {
        epoch: u64,
        tenant: String,
        id: String,
    },
    Events {
        epoch: u64,
        kind: PageKind,
        query: Query,
        now_ms: i64,
        anchor: Option<EventKey>,
        limit: usize,
    },
    EventCount {
        epoch: u64,
        query: Query,
        now_ms: i64,
    },
    EventDetail {
        epoch: u64,
        rowid: i64,
    },
    Health {
        epoch: u64,
        interval: Duration,
    },
    Campaigns {
        epoch: u64,
        limit: usize,
    },
    /// Save a bookmark or note: the one write the dashboard makes (a short-lived read-write
    /// connection, `store::notes::save_at`).
    SaveNote {
        target: NoteTarget,
        change: NoteChange,
    },
}

impl Request {
    /// Requests of one slot replace each other; pages that extend a list do not.
    fn slot(&self) -> Option<&'static str> {
        match self {
            Request::Overview { .. } => Some("overview"),
            Request::Threats {
                kind: PageKind::Reset | PageKind::Last | PageKind::Refresh,
                ..
            } => Some("threats"),
            Request::ThreatCount { .. } => Some("threat-count"),
            Request::ThreatDetail { .. } => Some("threat-detail"),
            Request::Events {
                kind: PageKind::Reset | PageKind::Last | PageKind::Refresh,
                ..
            } => Some("events"),
            Request::EventCount { .. } => Some("event-count"),
            Request::EventDetail { .. } => Some("event-detail"),
            Request::Health { .. } => Some("health"),
            Request::Campaigns { .. } => Some("campaigns"),
            _ => None,
        }
    }

    /// Which worker answers it.
    pub fn lane(&self) -> Lane {
        match self {
            Request::Overview { .. }
            | Request::Health { .. }
            | Request::ThreatCount { .. }
            | Request::EventCount { .. } => Lane::Background,
            _ => Lane::Interactive,
        }
    }

    /// Pages and details first (the user waits on them), counts and aggregates after.
    fn priority(&self) -> u8 {
        match self {
            Request::Threats { .. } | Request::Events { .. } | Request::SaveNote { .. } => 0,
            Request::ThreatDetail { .. }
            | Request::EventDetail { .. }
            | Request::Campaigns { .. } => 1,
            Request::Overview { .. } | Request::Health { .. } => 2,
            Request::ThreatCount { .. } | Request::EventCount { .. } => 3,
        }
    }
}

/// The two workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Pages and details: what the user waits on.
    Interactive,
    /// Counts, the overview, sync health: may take longer.
    Background,
}

/// A request's answer (errors as display text: the dashboard shows them, it does not fail).
#[derive(Debug, Clone)]
pub enum Loaded {
    Overview {
        epoch: u64,
        result: Result<Overview, String>,
    },
    Threats {
        epoch: u64,
        kind: PageKind,
        limit: usize,
        result: Result<Vec<ThreatRow>, String>,
    },
    ThreatCount {
        epoch: u64,
        result: Result<Count, String>,
    },
    ThreatDetail {
        epoch: u64,
        result: Result<Option<ThreatDetail>, String>,
    },
    Events {
        epoch: u64,
        kind: PageKind,
        limit: usize,
        result: Result<Vec<EventRow>, String>,
    },
    EventCount {
        epoch: u64,
        result: Result<Count, String>,
    },
    EventDetail {
        epoch: u64,
        result: Result<Option<EventDetail>, String>,
    },
    Health {
        epoch: u64,
        result: Result<Vec<StreamStatus>, String>,
    },
    Campaigns {
        epoch: u64,
        result: Result<CampaignList, String>,
    },
    /// Every annotation of the target's threat or message after the save.
    NoteSaved {
        target: NoteTarget,
        change: NoteChange,
        result: Result<Vec<Annotation>, String>,
    },
}

/// The Campaigns view's data: the campaigns and how current the triage data behind them is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignList {
    pub campaigns: Vec<crate::campaigns::Campaign>,
    /// When the triage data was last refreshed (None: never).
    pub scored_ms: Option<i64>,
    /// Alerts changed since.
    pub pending: i64,
}

/// Counting stops here: "10,000+" is as useful as the exact number and far cheaper.
pub const COUNT_CAP: i64 = 10_000;

/// Runs requests against one read-only store connection.
pub struct Loader {
    store: Store,
}

impl Loader {
    pub fn new(store: Store) -> Loader {
        Loader { store }
    }

    pub fn run(&self, request: Request) -> Loaded {
        let s = &self.store;
        let text = |e: crate::store::StoreError| e.to_string();
        match request {
            Request::Overview {
                epoch,
                query,
                now_ms,
                period,
                buckets,
                top,
            } => Loaded::Overview {
                epoch,
                result: s
                    .overview(&query, now_ms, period, buckets, top)
                    .map_err(text),
            },
            Request::Threats {
                epoch,
                kind,
                query,
                now_ms,
                order,
                anchor,
                limit,
            } => {
                let (dir, anchor) = kind.direction(anchor.as_ref());
                Loaded::Threats {
                    epoch,
                    kind,
                    limit,
                    result: s
                        .threat_page(&query, now_ms, order, anchor, dir, limit)
                        .and_then(|mut rows| s.mark_threat_rows(&mut rows).map(|()| rows))
                        .map_err(text),
                }
            }
            Request::ThreatCount {
                epoch,
                query,
                now_ms,
            } => Loaded::ThreatCount {
                epoch,
                result: s.threat_count(&query, now_ms, COUNT_CAP).map_err(text),
            },
            Request::ThreatDetail { epoch, tenant, id } => Loaded::ThreatDetail {
                epoch,
                result: s
                    .threat_detail(&tenant, &id)
                    .and_then(|d| d.map(|d| with_threat_notes(s, d)).transpose())
                    .map_err(text),
            },
            Request::Events {
                epoch,
                kind,
                query,
                now_ms,
                anchor,
                limit,
            } => {
                let (dir, anchor) = kind.direction(anchor.as_ref());
                Loaded::Events {
                    epoch,
                    kind,
                    limit,
                    result: s
                        .event_page(&query, now_ms, true, anchor, dir, limit)
                        .and_then(|mut rows| s.mark_event_rows(&mut rows).map(|()| rows))
                        .map_err(text),
                }
            }
            Request::EventCount {
                epoch,
                query,
                now_ms,
            } => Loaded::EventCount {
                epoch,
                result: s.event_count(&query, now_ms, COUNT_CAP).map_err(text),
            },
            Request::EventDetail { epoch, rowid } => Loaded::EventDetail {
                epoch,
                result: s
                    .event_detail(rowid)
                    .and_then(|d| d.map(|d| with_event_notes(s, d)).transpose())
                    .map_err(text),
            },
            Request::Health { epoch, interval } => Loaded::Health {
                epoch,
                result: s.health(interval).map_err(text),
            },
            Request::Campaigns { epoch, limit } => Loaded::Campaigns {
                epoch,
                result: campaign_list(s, limit).map_err(text),
            },
            Request::SaveNote { target, change } => Loaded::NoteSaved {
                result: notes::save_at(s.path(), &target, &change),
                target,
                change,
            },
        }
    }
}

fn campaign_list(s: &Store, limit: usize) -> Result<CampaignList, crate::store::StoreError> {
    let mut campaigns = crate::campaigns::dashboard_campaigns(s)?;
    campaigns.truncate(limit);
    let fresh = crate::triage::freshness(s.conn()).map_err(|e| s.err(e))?;
    Ok(CampaignList {
        campaigns,
        scored_ms: fresh.refreshed_ms,
        pending: fresh.pending,
    })
}

/// A threat's detail with its annotations and its row's mark.
fn with_threat_notes(
    s: &Store,
    mut d: ThreatDetail,
) -> Result<ThreatDetail, crate::store::StoreError> {
    d.notes = s.annotations_of(&NoteTarget::Threat {
        tenant: d.row.tenant.clone(),
        alert_id: d.row.id.clone(),
    })?;
    d.row.mark = Mark::of(&d.notes, None);
    Ok(d)
}

/// An email event's detail with the annotations of its message and its row's mark.
fn with_event_notes(
    s: &Store,
    mut d: EventDetail,
) -> Result<EventDetail, crate::store::StoreError> {
    let all = s.annotations_of(&NoteTarget::Message {
        tenant: d.row.tenant.clone(),
        network_message_id: d.row.network_message_id.clone(),
        recipient: None,
    })?;
    d.row.mark = Mark::of(&all, Some(&d.row.recipient));
    d.notes = notes::applying_to(all, &d.row.recipient);
    Ok(d)
}

/// Of a batch of waiting requests, the ones still worth running, most urgent first.
pub fn coalesce(mut batch: Vec<Request>) -> Vec<Request> {
    let mut keep = vec![true; batch.len()];
    for i in 0..batch.len() {
        if let Some(slot) = batch[i].slot()
            && batch[i + 1..]
                .iter()
                .any(|later| later.slot() == Some(slot))
        {
            keep[i] = false;
        }
    }
    let mut i = 0;
    batch.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    // Stable: requests of equal priority keep their order (appends stay in sequence).
    batch.sort_by_key(Request::priority);
    batch
}

/// A worker: answers requests until the request channel closes or `deliver` returns false.
/// `running` names the slot being answered, for [`Workers::send`] to interrupt.
pub fn serve(
    loader: Loader,
    requests: Receiver<Request>,
    running: Arc<Mutex<Option<&'static str>>>,
    deliver: impl Fn(Loaded) -> bool,
) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        for r in coalesce(batch) {
            set(&running, r.slot());
            let loaded = loader.run(r);
            set(&running, None);
            if !deliver(loaded) {
                return;
            }
        }
    }
}

fn set(running: &Mutex<Option<&'static str>>, slot: Option<&'static str>) {
    if let Ok(mut r) = running.lock() {
        *r = slot;
    }
}

struct Worker {
    requests: Sender<Request>,
    running: Arc<Mutex<Option<&'static str>>>,
    interrupt: rusqlite::InterruptHandle,
    thread: JoinHandle<()>,
}

/// The terminal dashboard's two workers, one per [`Lane`], each with its own read-only
/// connection.
pub struct Workers {
    interactive: Worker,
    background: Worker,
}

impl Workers {
    /// Starts both workers; `interactive` is the already open store (its opening was checked),
    /// the background one opens its own connection to `path`.
    pub fn spawn(
        interactive: Store,
        path: &Path,
        deliver: impl Fn(Loaded) -> bool + Clone + Send + 'static,
        dispatch: tracing::Dispatch,
    ) -> Result<Workers, crate::Failure> {
        let background = Store::open_read_only(path)?;
        let start = |store: Store, name: &str| -> Result<Worker, crate::Failure> {
            let (tx, rx) = std::sync::mpsc::channel();
            let running = Arc::new(Mutex::new(None));
            let interrupt = store.conn().get_interrupt_handle();
            let deliver = deliver.clone();
            let dispatch = dispatch.clone();
            let slot = running.clone();
            let thread = std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let _log = tracing::dispatcher::set_default(&dispatch);
                    serve(Loader::new(store), rx, slot, deliver);
                })
                .map_err(|e| crate::Failure::runtime(format!("cannot start {name}: {e}")))?;
            Ok(Worker {
                requests: tx,
                running,
                interrupt,
                thread,
            })
        };
        Ok(Workers {
            interactive: start(interactive, "tui-pages")?,
            background: start(background, "tui-aggregates")?,
        })
    }

    /// Hands a request to its worker. A background query of the same slot that is still
    /// running is interrupted: its answer would be dropped as stale anyway.
    pub fn send(&self, r: Request) {
        let w = match r.lane() {
            Lane::Interactive => &self.interactive,
            Lane::Background => &self.background,
        };
        if r.lane() == Lane::Background
            && r.slot().is_some()
            && w.running.lock().map(|s| *s == r.slot()).unwrap_or(false)
        {
            w.interrupt.interrupt();
        }
        let _ = w.requests.send(r);
    }

    /// Stops both workers, interrupting whatever query they are in.
    pub fn shutdown(self) {
        for w in [self.interactive, self.background] {
            drop(w.requests);
            w.interrupt.interrupt();
            let _ = w.thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(epoch: u64) -> Request {
        Request::Health {
            epoch,
            interval: Duration::from_secs(1),
        }
    }

    #[test]
    fn newer_requests_of_a_slot_replace_older_ones_and_pages_come_first() {
        let page = |epoch, kind| Request::Events {
            epoch,
            kind,
            query: Query::default(),
            now_ms: 0,
            anchor: None,
            limit: 1,
        };
        let out = coalesce(vec![
            health(1),
            page(1, PageKind::Reset),
            page(1, PageKind::Append),
            health(2),
            page(2, PageKind::Reset),
        ]);
        let epochs: Vec<(u64, &str)> = out
            .iter()
            .map(|r| match r {
                Request::Events { epoch, kind, .. } => (
                    *epoch,
                    if *kind == PageKind::Reset {
                        "reset"
                    } else {
                        "append"
                    },
                ),
                Request::Health { epoch, .. } => (*epoch, "health"),
                _ => (0, "?"),
            })
            .collect();
        assert_eq!(epochs, vec![(1, "append"), (2, "reset"), (2, "health")]);
    }
}
