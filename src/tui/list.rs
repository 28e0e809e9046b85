//! A window onto a long, keyset-paged result: at most [`MAX_ROWS`] rows are held; moving near
//! either edge asks for the next page in that direction, and the far edge is dropped. The
//! selection and the scroll offset are kept here, so drawing needs no mutable state.

use super::loader::PageKind;
use crate::store::views::{Count, EventKey, EventRow, ThreatKey, ThreatRow};

/// Rows held at once (five pages of 200).
pub const MAX_ROWS: usize = 1_000;

/// A row with a stable identity in its list.
pub trait Row: Clone {
    type Key: Clone + PartialEq;
    fn key(&self) -> Self::Key;
}

impl Row for ThreatRow {
    type Key = ThreatKey;
    fn key(&self) -> ThreatKey {
        self.key.clone()
    }
}

impl Row for EventRow {
    type Key = EventKey;
    fn key(&self) -> EventKey {
        self.key
    }
}

#[derive(Debug, Clone)]
pub struct PagedList<R: Row> {
    rows: Vec<R>,
    selected: usize,
    offset: usize,
    /// `rows[0]` is the first row of the whole result.
    at_start: bool,
    /// The last row of `rows` is the last of the whole result.
    at_end: bool,
    /// Which filter/sort generation the rows belong to.
    epoch: u64,
    /// The page in flight, if any (one at a time).
    pending: Option<PageKind>,
    pub count: Option<Count>,
    pub error: Option<String>,
    viewport: usize,
    loaded: bool,
    /// The position of `rows[0]` in the whole result, when known (not after End).
    base: Option<usize>,
}

impl<R: Row> Default for PagedList<R> {
    fn default() -> Self {
        PagedList {
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            at_start: true,
            at_end: true,
            epoch: 0,
            pending: None,
            count: None,
            error: None,
            viewport: 10,
            loaded: false,
            base: Some(0),
        }
    }
}

impl<R: Row> PagedList<R> {
    pub fn rows(&self) -> &[R] {
        &self.rows
    }

    /// The held rows, to update in place what does not move them (an analyst's mark).
    pub fn rows_mut(&mut self) -> &mut [R] {
        &mut self.rows
    }

    pub fn selected(&self) -> Option<&R> {
        self.rows.get(self.selected)
    }

    pub fn selected_index(&self) -> usize {
        self.selected
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn is_loading(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the first page has arrived since the list was created.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// The selected row's position in the whole result, when it is known.
    pub fn absolute_index(&self) -> Option<usize> {
        match (self.base, self.count) {
            (Some(b), _) => Some(b + self.selected),
            // After End the rows are the last ones: count back from an exact total.
            (None, Some(c)) if !c.capped && self.at_end => usize::try_from(c.n)
                .ok()
                .map(|n| (n + self.selected).saturating_sub(self.rows.len())),
            _ => None,
        }
    }

    pub fn at_start(&self) -> bool {
        self.at_start
    }

    pub fn set_viewport(&mut self, rows: usize) {
        self.viewport = rows.max(1);
        self.clamp();
    }

    pub fn viewport(&self) -> usize {
        self.viewport
    }

    /// Starts a new result (filter or sort changed): the caller sends a `Reset` page request
    /// with this epoch. The old rows stay on screen until the new ones arrive.
    pub fn reset(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.pending = Some(PageKind::Reset);
        self.count = None;
        self.error = None;
    }

    /// Asks for a page of `kind` unless one is in flight; true when the caller should send it.
    pub fn begin(&mut self, kind: PageKind) -> bool {
        if self.pending.is_some() {
            return false;
        }
        self.pending = Some(kind);
        true
    }

    /// The key a page of `kind` continues from.
    pub fn anchor(&self, kind: PageKind) -> Option<R::Key> {
        match kind {
            PageKind::Append => self.rows.last().map(Row::key),
            PageKind::Prepend => self.rows.first().map(Row::key),
            _ => None,
        }
    }

    /// Moves the selection; returns the page to fetch when it came near an unloaded edge.
    pub fn move_by(&mut self, delta: i32) -> Option<PageKind> {
        if self.rows.is_empty() {
            return None;
        }
        let last = self.rows.len() - 1;
        let target = if delta < 0 {
            self.selected.saturating_sub(delta.unsigned_abs() as usize)
        } else {
            (self.selected + delta as usize).min(last)
        };
        self.selected = target;
        self.clamp();
        self.wanted()
    }

    pub fn page(&mut self, down: bool) -> Option<PageKind> {
        let n = self.viewport.saturating_sub(1).max(1) as i32;
        self.move_by(if down { n } else { -n })
    }

    /// Home: the first row, reloading the first page when it is not held.
    pub fn top(&mut self) -> Option<PageKind> {
        if self.at_start {
            self.selected = 0;
            self.clamp();
            None
        } else {
            Some(PageKind::Reset)
        }
    }

    /// End: the last row, loading the last page when it is not held.
    pub fn bottom(&mut self) -> Option<PageKind> {
        if self.at_end {
            self.selected = self.rows.len().saturating_sub(1);
            self.clamp();
            None
        } else {
            Some(PageKind::Last)
        }
    }

    pub fn select(&mut self, index: usize) -> Option<PageKind> {
        if index < self.rows.len() {
            self.selected = index;
            self.clamp();
        }
        self.wanted()
    }

    /// The page to prefetch: within two screens of an unloaded edge.
    fn wanted(&self) -> Option<PageKind> {
        if self.pending.is_some() {
            return None;
        }
        let margin = self.viewport * 2;
        if !self.at_end && self.selected + margin >= self.rows.len() {
            Some(PageKind::Append)
        } else if !self.at_start && self.selected < margin {
            Some(PageKind::Prepend)
        } else {
            None
        }
    }

    /// Merges a loaded page. Returns false (and changes nothing) for a stale one.
    pub fn apply(
        &mut self,
        epoch: u64,
        kind: PageKind,
        limit: usize,
        result: Result<Vec<R>, String>,
    ) -> bool {
        if epoch != self.epoch || self.pending != Some(kind) {
            return false;
        }
        self.pending = None;
        let page = match result {
            Ok(p) => p,
            Err(e) => {
                self.error = Some(e);
                return true;
            }
        };
        self.error = None;
        self.loaded = true;
        let full = page.len() >= limit;
        match kind {
            PageKind::Reset => {
                self.rows = page;
                self.selected = 0;
                self.offset = 0;
                self.base = Some(0);
                self.at_start = true;
                self.at_end = !full;
            }
            PageKind::Refresh => {
                let keep = self.selected().map(Row::key);
                let offset_from_selected = self.selected.saturating_sub(self.offset);
                self.rows = page;
                self.base = Some(0);
                self.at_start = true;
                self.at_end = !full;
                self.selected = keep
                    .and_then(|k| self.rows.iter().position(|r| r.key() == k))
                    .unwrap_or(self.selected.min(self.rows.len().saturating_sub(1)));
                self.offset = self.selected.saturating_sub(offset_from_selected);
            }
            PageKind::Last => {
                self.rows = page;
                self.selected = self.rows.len().saturating_sub(1);
                self.offset = self.rows.len().saturating_sub(self.viewport);
                self.at_end = true;
                self.at_start = !full;
                self.base = if full { None } else { Some(0) };
            }
            PageKind::Append => {
                self.at_end = !full;
                self.rows.extend(page);
                if self.rows.len() > MAX_ROWS {
                    let drop = self.rows.len() - MAX_ROWS;
                    self.rows.drain(..drop);
                    self.selected = self.selected.saturating_sub(drop);
                    self.offset = self.offset.saturating_sub(drop);
                    self.base = self.base.map(|b| b + drop);
                    self.at_start = false;
                }
            }
            PageKind::Prepend => {
                self.at_start = !full;
                let n = page.len();
                let mut rows = page;
                rows.append(&mut self.rows);
                self.rows = rows;
                self.selected += n;
                self.offset += n;
                self.base = if self.at_start {
                    Some(0)
                } else {
                    self.base.and_then(|b| b.checked_sub(n))
                };
                if self.rows.len() > MAX_ROWS {
                    self.rows.truncate(MAX_ROWS);
                    self.at_end = false;
                }
            }
        }
        self.clamp();
        true
    }

    /// Whether a live refresh may replace the rows: only while the top of the list is shown.
    pub fn can_refresh(&self) -> bool {
        self.pending.is_none() && self.at_start && self.loaded
    }

    fn clamp(&mut self) {
        let len = self.rows.len();
        if len == 0 {
            self.selected = 0;
            self.offset = 0;
            return;
        }
        self.selected = self.selected.min(len - 1);
        if self.selected < self.offset {
            self.offset = self.selected;
        }
        if self.selected >= self.offset + self.viewport {
            self.offset = self.selected + 1 - self.viewport;
        }
        self.offset = self.offset.min(len.saturating_sub(self.viewport));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct N(i64);
    impl Row for N {
        type Key = i64;
        fn key(&self) -> i64 {
            self.0
        }
    }

    fn page(from: i64, n: i64) -> Vec<N> {
        (from..from + n).map(N).collect()
    }

    #[test]
    fn scrolling_prefetches_and_keeps_a_bounded_window() {
        let mut l: PagedList<N> = PagedList::default();
        l.set_viewport(10);
        l.reset(1);
        assert!(l.apply(1, PageKind::Reset, 200, Ok(page(0, 200))));
        assert_eq!(l.move_by(150), None, "far from the edge");
        assert_eq!(l.move_by(40), Some(PageKind::Append));
        assert!(l.begin(PageKind::Append));
        assert_eq!(l.anchor(PageKind::Append), Some(199));
        assert!(
            !l.apply(0, PageKind::Append, 200, Ok(page(200, 200))),
            "stale epoch"
        );
        assert!(l.apply(1, PageKind::Append, 200, Ok(page(200, 200))));
        for i in 2..=5 {
            l.select(l.rows().len() - 1);
            assert!(l.begin(PageKind::Append));
            assert!(l.apply(1, PageKind::Append, 200, Ok(page(200 * i, 200))));
        }
        assert_eq!(l.rows().len(), MAX_ROWS);
        assert!(!l.at_start());
        assert_eq!(
            l.selected().map(|r| r.0),
            Some(999),
            "selection follows its row"
        );
        // Back at the top of the window: the rows before it are asked for.
        let mut l2 = l.clone();
        assert_eq!(l2.top(), Some(PageKind::Reset));
        assert_eq!(l2.select(3), Some(PageKind::Prepend));
        assert!(l2.begin(PageKind::Prepend));
        assert!(l2.apply(1, PageKind::Prepend, 200, Ok(page(0, 200))));
        assert_eq!(l2.selected().map(|r| r.0), Some(203));
    }

    #[test]
    fn end_loads_the_last_page_and_refresh_keeps_the_selection() {
        let mut l: PagedList<N> = PagedList::default();
        l.set_viewport(5);
        l.reset(7);
        l.apply(7, PageKind::Reset, 3, Ok(page(10, 3)));
        assert_eq!(l.bottom(), Some(PageKind::Last));
        l.begin(PageKind::Last);
        l.apply(7, PageKind::Last, 3, Ok(page(97, 3)));
        assert_eq!(l.selected().map(|r| r.0), Some(99));
        assert_eq!(l.bottom(), None);

        let mut l: PagedList<N> = PagedList::default();
        l.reset(1);
        l.apply(1, PageKind::Reset, 10, Ok(page(5, 5)));
        l.select(2);
        assert!(l.can_refresh());
        l.begin(PageKind::Refresh);
        // Two new rows arrived on top; the selected row (7) is still selected.
        l.apply(
            1,
            PageKind::Refresh,
            10,
            Ok(vec![N(1), N(2), N(5), N(6), N(7)]),
        );
        assert_eq!(l.selected().map(|r| r.0), Some(7));
    }
}
