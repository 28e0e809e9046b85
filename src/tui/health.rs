//! The Sync health view: per tenant × stream, the health state, last success, rows, retries,
//! throttling and gaps, and for the selected stream its last run, cursor, last error with its
//! fix, and the pending gaps. Refreshed on every tick while a sync runs (live mode).

use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::action::Action;
use super::component::{Component, Ctx, contains, navigation_key, wheel};
use super::text::{Theme, ago, safe, thousands, time_full};
use super::threats::list_click;
use crate::store::sync::StreamStatus;

pub struct HealthView {
    theme: Theme,
    now_ms: i64,
    rows: Vec<StreamStatus>,
    selected: usize,
    error: Option<String>,
    loaded: bool,
    live: bool,
}

impl HealthView {
    pub fn new(theme: Theme, live: bool) -> HealthView {
        HealthView {
            theme,
            now_ms: 0,
            rows: Vec::new(),
            selected: 0,
            error: None,
            loaded: false,
            live,
        }
    }

    pub fn rows(&self) -> &[StreamStatus] {
        &self.rows
    }

    pub fn set(&mut self, result: &Result<Vec<StreamStatus>, String>, now_ms: i64) {
        self.now_ms = now_ms;
        self.loaded = true;
        match result {
            Ok(rows) => {
                self.rows = rows.clone();
                self.error = None;
                self.selected = self.selected.min(self.rows.len().saturating_sub(1));
            }
            Err(e) => self.error = Some(e.clone()),
        }
    }
}

/// "…; fix: …" messages split into the message and its fix.
fn split_fix(message: &str) -> (&str, Option<&str>) {
    match message.split_once("; fix: ") {
        Some((m, f)) => (m, Some(f)),
        None => (message, None),
    }
}

impl Component for HealthView {
    fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        navigation_key(key)
    }

    fn handle_mouse(&self, mouse: MouseEvent, area: Rect) -> Option<Action> {
        if !contains(area, mouse.column, mouse.row) {
            return None;
        }
        wheel(mouse).or_else(|| {
            list_click(mouse, area, 0, usize::MAX, self.rows.len())
                .filter(|a| matches!(a, Action::Select(_)))
        })
    }

    fn update(&mut self, action: &Action, _ctx: &mut Ctx<'_>) -> bool {
        let last = self.rows.len().saturating_sub(1);
        match action {
            Action::Move(n) => {
                self.selected = self.selected.saturating_add_signed(*n as isize).min(last);
            }
            Action::PageDown | Action::Bottom => self.selected = last,
            Action::PageUp | Action::Top => self.selected = 0,
            Action::Select(i) => self.selected = (*i).min(last),
            _ => return false,
        }
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let live = if self.live {
            "live: refreshed while the sync runs"
        } else {
            "offline: as of opening (Ctrl-L reloads)"
        };
        let table_height = (self.rows.len() as u16 + 2).min(area.height / 2).max(3);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(table_height), Constraint::Fill(1)]).areas(area);
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(" Sync health ", t.header()),
            Span::styled(format!("({live}) "), t.dim()),
        ]));
        let inner = block.inner(top);
        frame.render_widget(block, top);
        if self.rows.is_empty() {
            let note = match (&self.error, self.loaded) {
                (Some(e), _) => Line::styled(e.clone(), t.error()),
                (None, false) => Line::styled("loading…", t.dim()),
                (None, true) => Line::styled(
                    "no sync has run against this store yet: run `mailtrail sync`",
                    t.dim(),
                ),
            };
            frame.render_widget(Paragraph::new(note), inner);
            return;
        }
        // Columns that fit the width exactly: an over-constrained table is laid out
        // differently from run to run by the constraint solver.
        let narrow = area.width < 90;
        let widths = [
            Constraint::Length(if narrow { 9 } else { 12 }),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(if narrow { 9 } else { 12 }),
            Constraint::Length(if narrow { 9 } else { 11 }),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(if narrow { 8 } else { 9 }),
            Constraint::Length(4),
        ];
        let header = Row::new([
            "TENANT",
            "STREAM",
            "HEALTH",
            "LAST OK",
            "LAST RUN",
            "ROWS",
            "RETRIES",
            "THROTTLED",
            "GAPS",
        ])
        .style(t.header());
        let rows = self.rows.iter().map(|s| {
            let label = s.health.label();
            let run = s.last_run.as_ref();
            Row::new(vec![
                Cell::from(safe(&s.tenant)),
                Cell::from(s.stream.clone()),
                Cell::from(label).style(t.health(label)),
                Cell::from(
                    s.last_success_ms
                        .map_or("never".into(), |ms| ago(self.now_ms, ms)),
                ),
                Cell::from(run.map_or("-".into(), |r| safe(&r.outcome))),
                Cell::from(thousands(s.rows)),
                Cell::from(run.map_or("-".into(), |r| thousands(r.retries))),
                Cell::from(run.map_or("-".into(), |r| {
                    format!("{} {:.0}s", r.throttled, r.throttle_wait_ms as f64 / 1000.0)
                })),
                Cell::from(s.gaps.len().to_string()),
            ])
        });
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(t.selected());
        let mut state = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, inner, &mut state);

        let Some(s) = self.rows.get(self.selected) else {
            return;
        };
        let mut lines = Vec::new();
        match &s.last_run {
            Some(r) => {
                let took = r
                    .ended_ms
                    .map(|e| format!("took {:.1}s", (e - r.started_ms) as f64 / 1000.0))
                    .unwrap_or_else(|| "still running".into());
                lines.push(Line::raw(format!(
                    "last run: {} · started {} ({}) · {took}",
                    safe(&r.outcome),
                    time_full(r.started_ms),
                    ago(self.now_ms, r.started_ms)
                )));
                lines.push(Line::raw(format!(
                    "pages {} · new {} · updated {} · unchanged {} · requests {}",
                    thousands(r.pages),
                    thousands(r.rows_new),
                    thousands(r.rows_updated),
                    thousands(r.rows_unchanged),
                    thousands(r.requests)
                )));
                lines.push(Line::raw(format!(
                    "retries {} · throttled {} (waited {:.1}s) · token refreshes {} · gaps opened {} closed {}",
                    r.retries,
                    r.throttled,
                    r.throttle_wait_ms as f64 / 1000.0,
                    r.token_refreshes,
                    r.gaps_opened,
                    r.gaps_closed
                )));
            }
            None => lines.push(Line::styled("never run", t.dim())),
        }
        lines.push(Line::from(vec![
            Span::styled("cursor: ", t.dim()),
            Span::raw(s.cursor.as_deref().map_or("none yet".into(), safe)),
        ]));
        if let Some((kind, message)) = &s.last_error {
            let (message, fix) = split_fix(message);
            lines.push(Line::styled(
                format!("last error [{}]: {}", safe(kind), safe(message)),
                t.error(),
            ));
            if let Some(fix) = fix {
                lines.push(Line::styled(format!("  fix: {}", safe(fix)), t.warn()));
            }
        }
        if !s.gaps.is_empty() {
            lines.push(Line::styled(
                format!("pending gaps ({}), retried on the next runs:", s.gaps.len()),
                t.warn(),
            ));
            for g in &s.gaps {
                lines.push(Line::raw(format!(
                    "  {} .. {} ({} attempts): {}",
                    safe(&g.from),
                    safe(&g.to),
                    g.attempts,
                    safe(&g.last_error)
                )));
            }
        }
        let block = Block::new().borders(Borders::TOP).title(Span::styled(
            format!(" {} / {} ", safe(&s.tenant), s.stream),
            t.header(),
        ));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            bottom,
        );
    }
}
