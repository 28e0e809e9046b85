//! The Threats view: MDO alerts in a sortable, keyset-paged table (time, severity, status,
//! title, recipients, delivery outcome) and, on Enter, the detail pane: every field, each
//! evidence item, MITRE techniques, links, the raw JSON, the OCSF finding, and the email events
//! of the same NetworkMessageId.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::action::{Action, Pivot};
use super::activity::event_line;
use super::component::{Component, Ctx, contains, navigation_key, wheel};
use super::detail::{DetailMode, DetailPane, heading, kv};
use super::list::PagedList;
use super::loader::{Loaded, PageKind, Request};
use super::notes::notes_lines;
use super::text::{
    Theme, display_name, safe, safe_opt, severity_short, thousands, time_full, time_short,
};
use crate::search::Filter;
use crate::store::notes::{Annotation, Mark, NoteTarget};
use crate::store::views::DETAIL_COPIES;
use crate::store::views::{DeliveryOutcome, ThreatDetail, ThreatOrder, ThreatRow, ThreatSort};
use crate::triage::StoredScore;

struct Detail {
    epoch: u64,
    pane: DetailPane,
    data: Option<ThreatDetail>,
}

pub struct ThreatsView {
    theme: Theme,
    list: PagedList<ThreatRow>,
    order: ThreatOrder,
    detail: Option<Detail>,
    stale: bool,
    /// Where the view is drawn (for the detail pane's size).
    area: Rect,
}

impl ThreatsView {
    pub fn new(theme: Theme) -> ThreatsView {
        ThreatsView {
            theme,
            list: PagedList::default(),
            order: ThreatOrder::BY_SCORE,
            detail: None,
            stale: true,
            area: Rect::new(0, 0, 80, 22),
        }
    }

    pub fn list(&self) -> &PagedList<ThreatRow> {
        &self.list
    }

    pub fn detail_open(&self) -> bool {
        self.detail.is_some()
    }

    pub fn detail(&self) -> Option<&ThreatDetail> {
        self.detail.as_ref().and_then(|d| d.data.as_ref())
    }

    pub fn order(&self) -> ThreatOrder {
        self.order
    }

    /// The filter or the data changed: the next time this view shows, it reloads.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Called when the view becomes visible.
    pub fn activate(&mut self, ctx: &mut Ctx<'_>) {
        if self.stale {
            self.reload(ctx);
        }
    }

    /// A new result: first page and count.
    pub fn reload(&mut self, ctx: &mut Ctx<'_>) {
        self.stale = false;
        self.detail = None;
        let epoch = ctx.epoch();
        self.list.reset(epoch);
        self.send_page(PageKind::Reset, ctx);
        ctx.send(Request::ThreatCount {
            epoch,
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
        });
    }

    /// Live refresh: new rows on top while the top is shown, and the count.
    pub fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.list.can_refresh() && self.list.begin(PageKind::Refresh) {
            self.send_page(PageKind::Refresh, ctx);
        }
        ctx.send(Request::ThreatCount {
            epoch: self.list.epoch(),
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
        });
    }

    fn send_page(&self, kind: PageKind, ctx: &mut Ctx<'_>) {
        ctx.send(Request::Threats {
            epoch: self.list.epoch(),
            kind,
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
            order: self.order,
            anchor: self.list.anchor(kind),
            limit: ctx.page_size,
        });
    }

    fn fetch(&mut self, kind: Option<PageKind>, ctx: &mut Ctx<'_>) {
        let Some(kind) = kind else { return };
        if kind == PageKind::Reset {
            self.reload(ctx);
        } else if self.list.begin(kind) {
            self.send_page(kind, ctx);
        }
    }

    /// The row the keys act on: the detail's when it is open.
    fn current(&self) -> Option<&ThreatRow> {
        match &self.detail {
            Some(Detail { data: Some(d), .. }) => Some(&d.row),
            _ => self.list.selected(),
        }
    }

    /// What `b` and `n` act on: the current threat, and its mark.
    pub fn note_target(&self) -> Option<(NoteTarget, Mark)> {
        let row = self.current()?;
        Some((
            NoteTarget::Threat {
                tenant: row.tenant.clone(),
                alert_id: row.id.clone(),
            },
            row.mark.clone(),
        ))
    }

    /// A saved bookmark or note: the marks of the rows (and the detail) it is about.
    pub fn apply_notes(&mut self, target: &NoteTarget, all: &[Annotation]) {
        let NoteTarget::Threat { tenant, alert_id } = target else {
            return;
        };
        let mark = Mark::of(all, None);
        for row in self.list.rows_mut() {
            if row.tenant == *tenant && row.id == *alert_id {
                row.mark = mark.clone();
            }
        }
        if let Some(Detail {
            pane,
            data: Some(data),
            ..
        }) = &mut self.detail
            && data.row.tenant == *tenant
            && data.row.id == *alert_id
        {
            data.row.mark = mark;
            data.notes = all.to_vec();
            pane.fill(
                title(&data.row),
                detail_lines(self.theme, data),
                &data.raw_pretty,
                &data.ocsf_pretty,
            );
        }
    }

    /// The filter a pivot from the current row sets.
    pub fn pivot(&self, p: Pivot) -> Result<Filter, String> {
        let row = self.current().ok_or("no threat selected")?;
        let missing = || format!("this threat's evidence names no {}", p.label());
        Ok(match p {
            Pivot::Sender => Filter::Sender(row.sender.clone().ok_or_else(missing)?),
            Pivot::Recipient => Filter::Recipient(row.recipient.clone().ok_or_else(missing)?),
            Pivot::Domain => {
                let sender = row.sender.as_deref().ok_or_else(missing)?;
                let domain = sender
                    .rsplit_once('@')
                    .map(|(_, d)| d)
                    .ok_or_else(missing)?;
                Filter::Domain(domain.to_string())
            }
            Pivot::Url => Filter::Url(row.url.clone().ok_or_else(missing)?),
            Pivot::Message => Filter::Message(row.network_message_id.clone().ok_or_else(missing)?),
        })
    }

    /// The list body's height for a main area (block title and header take a line each).
    pub fn set_area(&mut self, main: Rect) {
        self.list
            .set_viewport(usize::from(main.height.saturating_sub(2)));
        self.area = main;
        if let Some(d) = &mut self.detail {
            d.pane.set_size(
                usize::from(main.height.saturating_sub(1)),
                usize::from(main.width),
            );
        }
    }

    fn open(&mut self, ctx: &mut Ctx<'_>) {
        let Some(row) = self.list.selected() else {
            return;
        };
        let epoch = ctx.epoch();
        let mut pane = DetailPane::loading(self.theme, title(row));
        pane.set_size(
            usize::from(self.area.height.saturating_sub(1)),
            usize::from(self.area.width),
        );
        ctx.send(Request::ThreatDetail {
            epoch,
            tenant: row.tenant.clone(),
            id: row.id.clone(),
        });
        self.detail = Some(Detail {
            epoch,
            pane,
            data: None,
        });
    }

    fn apply(&mut self, loaded: &Loaded, ctx: &mut Ctx<'_>) -> bool {
        match loaded {
            Loaded::Threats {
                epoch,
                kind,
                limit,
                result,
            } => {
                self.list.apply(*epoch, *kind, *limit, result.clone());
                // A short first page may still leave the screen unfilled: keep going.
                let more = self.list.select(self.list.selected_index());
                self.fetch(more.filter(|k| *k == PageKind::Append), ctx);
                true
            }
            Loaded::ThreatCount { epoch, result } => {
                if *epoch == self.list.epoch() {
                    match result {
                        Ok(c) => self.list.count = Some(*c),
                        Err(e) => self.list.error = Some(e.clone()),
                    }
                }
                true
            }
            Loaded::ThreatDetail { epoch, result } => {
                if let Some(d) = &mut self.detail
                    && d.epoch == *epoch
                {
                    match result {
                        Ok(Some(data)) => {
                            d.pane.fill(
                                title(&data.row),
                                detail_lines(self.theme, data),
                                &data.raw_pretty,
                                &data.ocsf_pretty,
                            );
                            d.data = Some(data.clone());
                        }
                        Ok(None) => d.pane.fail("this alert is no longer in the store".into()),
                        Err(e) => d.pane.fail(e.clone()),
                    }
                }
                true
            }
            _ => false,
        }
    }
}

fn title(row: &ThreatRow) -> String {
    safe_opt(row.title.as_deref())
}

impl Component for ThreatsView {
    fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        let plain = !key.modifiers.contains(KeyModifiers::CONTROL);
        let pivot = match key.code {
            KeyCode::Char('S') => Some(Pivot::Sender),
            KeyCode::Char('R') => Some(Pivot::Recipient),
            KeyCode::Char('D') => Some(Pivot::Domain),
            KeyCode::Char('U') => Some(Pivot::Url),
            KeyCode::Char('M') => Some(Pivot::Message),
            _ => None,
        };
        if let Some(p) = pivot.filter(|_| plain) {
            return Some(Action::Pivot(p));
        }
        if let Some(a) = navigation_key(key) {
            return Some(a);
        }
        match (key.code, self.detail.is_some()) {
            (KeyCode::Char('e'), _) if plain => Some(Action::RelatedEvents),
            (KeyCode::Char('b'), _) if plain => Some(Action::ToggleBookmark),
            (KeyCode::Char('n'), _) if plain => Some(Action::EditNote),
            (KeyCode::Enter, false) => Some(Action::Open),
            (KeyCode::Char('s'), false) if plain => Some(Action::CycleSort),
            (KeyCode::Char('r'), false) if plain => Some(Action::ReverseSort),
            (KeyCode::Char('v'), true) if plain => Some(Action::ToggleRaw),
            (KeyCode::Char('o'), true) if plain => Some(Action::ToggleOcsf),
            (KeyCode::Enter, true) => Some(Action::Open),
            _ => None,
        }
    }

    fn handle_mouse(&self, mouse: MouseEvent, area: Rect) -> Option<Action> {
        if !contains(area, mouse.column, mouse.row) {
            return None;
        }
        if let Some(a) = wheel(mouse) {
            return Some(a);
        }
        if self.detail.is_some() {
            return None;
        }
        list_click(
            mouse,
            area,
            self.list.offset(),
            self.list.selected_index(),
            self.list.rows().len(),
        )
    }

    fn update(&mut self, action: &Action, ctx: &mut Ctx<'_>) -> bool {
        if let Some(d) = &mut self.detail {
            match action {
                Action::Move(n) => d.pane.scroll_by(*n),
                Action::PageDown => d.pane.page(true),
                Action::PageUp => d.pane.page(false),
                Action::Top => d.pane.top(),
                Action::Bottom => d.pane.bottom(),
                Action::ToggleRaw => d.pane.toggle(DetailMode::Raw),
                Action::ToggleOcsf => d.pane.toggle(DetailMode::Ocsf),
                Action::Open => d.pane.toggle(DetailMode::Fields),
                Action::Back => self.detail = None,
                Action::Loaded(l) => return self.apply(l, ctx),
                _ => return false,
            }
            return true;
        }
        match action {
            Action::Move(n) => {
                let k = self.list.move_by(*n);
                self.fetch(k, ctx);
            }
            Action::PageDown | Action::PageUp => {
                let k = self.list.page(matches!(action, Action::PageDown));
                self.fetch(k, ctx);
            }
            Action::Top => {
                let k = self.list.top();
                self.fetch(k, ctx);
            }
            Action::Bottom => {
                let k = self.list.bottom();
                self.fetch(k, ctx);
            }
            Action::Select(i) => {
                let k = self.list.select(*i);
                self.fetch(k, ctx);
            }
            Action::Open => self.open(ctx),
            Action::CycleSort => {
                let i = ThreatSort::ALL
                    .iter()
                    .position(|s| *s == self.order.column)
                    .unwrap_or(0);
                self.order.column = ThreatSort::ALL[(i + 1) % ThreatSort::ALL.len()];
                self.order.descending = true;
                self.reload(ctx);
            }
            Action::ReverseSort => {
                self.order.descending = !self.order.descending;
                self.reload(ctx);
            }
            Action::Loaded(l) => return self.apply(l, ctx),
            _ => return false,
        }
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect) {
        if let Some(d) = &self.detail {
            d.pane.draw(frame, area);
            return;
        }
        let t = self.theme;
        let arrow = if self.order.descending { "↓" } else { "↑" };
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(" Threats ", t.header()),
            Span::raw(count_label(&self.list)),
            Span::styled(
                format!(" sort: {} {arrow} (s, r) ", self.order.column.label()),
                t.dim(),
            ),
        ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.list.rows().is_empty() {
            frame.render_widget(Paragraph::new(empty_note(&self.list, t)), inner);
            return;
        }
        let narrow = area.width < 100;
        let widths = [
            Constraint::Length(2),
            Constraint::Length(5),
            Constraint::Length(11),
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(if narrow { 14 } else { 22 }),
            Constraint::Length(8),
        ];
        let header = Row::new([
            "",
            "SCORE",
            "TIME",
            "SEV",
            "STATUS",
            "TITLE",
            "RECIPIENTS",
            "DELIVERY",
        ])
        .style(t.header());
        let visible = self
            .list
            .rows()
            .iter()
            .skip(self.list.offset())
            .take(self.list.viewport());
        let rows = visible.map(|r| {
            let delivery_style = match r.delivery {
                DeliveryOutcome::InInbox => t.alarm(),
                DeliveryOutcome::Removed => t.warn(),
                _ => Style::new(),
            };
            Row::new(vec![
                Cell::from(r.mark.symbols()).style(t.accent()),
                Cell::from(score_cell(r.score)),
                Cell::from(time_short(r.created_ms)),
                Cell::from(severity_short(r.severity.as_deref()))
                    .style(t.severity(r.severity.as_deref())),
                Cell::from(safe_opt(r.status.as_deref())),
                Cell::from(safe_opt(r.title.as_deref())),
                Cell::from(recipients(r)),
                Cell::from(safe(r.delivery.label())).style(delivery_style),
            ])
        });
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(t.selected());
        let mut state = TableState::default().with_selected(Some(
            self.list
                .selected_index()
                .saturating_sub(self.list.offset()),
        ));
        frame.render_stateful_widget(table, inner, &mut state);
    }
}

/// The score right-aligned in its column, `-` before the first scoring.
fn score_cell(score: Option<i64>) -> String {
    score.map_or_else(|| "    -".into(), |s| format!("{s:>5}"))
}

/// `bob@x.com`, or `3: bob@x.com` for several.
fn recipients(r: &ThreatRow) -> String {
    match (r.recipients, &r.recipient) {
        (0, _) | (_, None) => "-".into(),
        (1, Some(one)) => safe(one),
        (n, Some(first)) => format!("{n}: {}", safe(first)),
    }
}

/// `· 1,234 match ` (or `10,000+`, or `counting…`).
pub fn count_label<R: super::list::Row>(list: &PagedList<R>) -> String {
    let n = match list.count {
        Some(c) if c.capped => format!("{}+", thousands(c.n)),
        Some(c) => thousands(c.n),
        None => "…".into(),
    };
    let loading = if list.is_loading() { " loading…" } else { "" };
    format!("· {n} match{loading}")
}

/// What an empty list says: loading, an error, or no match.
pub fn empty_note<R: super::list::Row>(list: &PagedList<R>, t: Theme) -> Line<'static> {
    match &list.error {
        Some(e) => Line::styled(e.clone(), t.error()),
        None if !list.is_loaded() || list.is_loading() => Line::styled("loading…", t.dim()),
        None => Line::styled("nothing matches the filter (Esc clears it)", t.dim()),
    }
}

/// A click on a list body row: select it, or open it when it is already selected.
pub fn list_click(
    mouse: MouseEvent,
    area: Rect,
    offset: usize,
    selected: usize,
    len: usize,
) -> Option<Action> {
    if mouse.kind != MouseEventKind::Down(MouseButton::Left) {
        return None;
    }
    // Block title and header lines come first.
    let body_top = area.y + 2;
    if mouse.row < body_top {
        return None;
    }
    let index = offset + usize::from(mouse.row - body_top);
    if index >= len {
        None
    } else if index == selected {
        Some(Action::Open)
    } else {
        Some(Action::Select(index))
    }
}

/// The score and every reason behind it, as stored with the score the list shows.
fn triage_lines(t: Theme, triage: Option<&StoredScore>) -> Vec<Line<'static>> {
    let Some(s) = triage else {
        return vec![
            heading(t, "Triage score: not scored yet".into()),
            Line::styled("  the next sync scores it", t.dim()),
        ];
    };
    let mut out = vec![heading(
        t,
        format!(
            "Triage score {} = the sum of{}",
            s.score.points,
            if s.stale {
                " (stale: the alert changed since; the next sync re-scores it)"
            } else {
                ""
            }
        ),
    )];
    for r in &s.score.reasons {
        out.push(Line::from(vec![
            Span::styled(format!("  {:>+4}  ", r.points), t.accent()),
            Span::raw(safe(&r.reason)),
        ]));
    }
    out
}

/// What the delivery line counts, said outright: the recipients the alert's evidence names
/// and the copies of the messages in EmailEvents (the triage reasons count the latter), which
/// differ when the alert names only some recipients. The loader reads at most
/// [`DETAIL_COPIES`] copies.
fn delivery_counts(evidence_recipients: i64, copies: usize) -> String {
    let evidence = format!(
        "{evidence_recipients} recipient{} in the alert",
        if evidence_recipients == 1 { "" } else { "s" }
    );
    match copies {
        0 => evidence,
        1 => format!("{evidence}, 1 copy in email events"),
        n if n >= DETAIL_COPIES => format!("{evidence}, {n}+ copies in email events"),
        n => format!("{evidence}, {n} copies in email events"),
    }
}

fn detail_lines(t: Theme, d: &ThreatDetail) -> Vec<Line<'static>> {
    let r = &d.row;
    let mut out = vec![
        Line::from(vec![
            Span::styled(
                severity_short(r.severity.as_deref()),
                t.severity(r.severity.as_deref()),
            ),
            Span::raw(format!(
                " · {} · created {} · {} version{} · tenant {}",
                safe_opt(r.status.as_deref()),
                time_full(r.created_ms),
                d.versions,
                if d.versions == 1 { "" } else { "s" },
                safe(&r.tenant)
            )),
        ]),
        Line::from(vec![
            Span::styled("delivery: ", t.dim()),
            Span::styled(
                safe(r.delivery.label()),
                if r.delivery == DeliveryOutcome::InInbox {
                    t.alarm()
                } else {
                    Style::new()
                },
            ),
            Span::raw(format!(
                " · {}",
                delivery_counts(r.recipients, d.events.len())
            )),
        ]),
    ];
    if r.sender.is_some() {
        out.push(Line::from(vec![
            Span::styled("sender: ", t.dim()),
            Span::raw(safe_opt(r.sender.as_deref())),
            Span::raw(
                r.sender_display
                    .as_deref()
                    .map(|n| format!("  ({})", display_name(n)))
                    .unwrap_or_default(),
            ),
        ]));
    }
    if r.subject.is_some() {
        out.push(kv(
            t,
            0,
            "subject",
            r.subject.as_deref().unwrap_or_default(),
        ));
    }
    out.extend(notes_lines(t, &d.notes));
    out.push(Line::raw(""));
    out.extend(triage_lines(t, d.triage.as_ref()));
    out.push(Line::raw(""));
    out.push(heading(
        t,
        format!(
            "Email events of the same message ({}) · e: show in Activity",
            d.events.len()
        ),
    ));
    if d.events.is_empty() {
        out.push(Line::styled("  none stored", t.dim()));
    }
    for e in &d.events {
        out.push(event_line(t, e));
    }
    out.push(Line::raw(""));
    out.push(heading(t, format!("MITRE ATT&CK ({})", d.mitre.len())));
    for m in &d.mitre {
        out.push(Line::raw(format!("  {}", safe(m))));
    }
    out.push(Line::raw(""));
    out.push(heading(t, "Links".into()));
    for (name, url) in &d.links {
        out.push(kv(t, 2, name, url));
    }
    out.push(Line::raw(""));
    out.push(heading(t, format!("Evidence ({})", d.evidence.len())));
    for (i, e) in d.evidence.iter().enumerate() {
        out.push(Line::from(vec![Span::styled(
            format!("  #{} {}", i + 1, safe(&e.kind)),
            t.header(),
        )]));
        for (k, v) in &e.fields {
            out.push(kv(t, 4, k, v));
        }
    }
    out.push(Line::raw(""));
    out.push(heading(t, format!("All fields ({})", d.fields.len())));
    for (k, v) in &d.fields {
        out.push(kv(t, 2, k, v));
    }
    out
}
