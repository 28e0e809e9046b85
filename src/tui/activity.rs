//! The Activity view: email events (time, direction, sender, recipient, subject, delivery,
//! threat types), newest first and keyset-paged; on Enter the detail pane with every column,
//! the raw row, its OCSF Email Activity, the other recipients of the message and the threats
//! that name it (`t` shows those in the Threats view).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::action::{Action, Pivot};
use super::component::{Component, Ctx, contains, navigation_key, wheel};
use super::detail::{DetailMode, DetailPane, heading, kv};
use super::list::PagedList;
use super::loader::{Loaded, PageKind, Request};
use super::notes::notes_lines;
use super::text::{
    BIDI_FLAG, Theme, display_name, safe, safe_opt, severity_short, time_full, time_short,
};
use super::threats::{count_label, empty_note, list_click};
use crate::search::Filter;
use crate::store::notes::{Annotation, Mark, NoteTarget, applying_to};
use crate::store::views::{EventDetail, EventRow};
use crate::terminal::has_bidi_control;

struct Detail {
    epoch: u64,
    pane: DetailPane,
    data: Option<EventDetail>,
}

pub struct ActivityView {
    theme: Theme,
    list: PagedList<EventRow>,
    detail: Option<Detail>,
    stale: bool,
    /// Where the view is drawn (for the detail pane's size).
    area: Rect,
}

impl ActivityView {
    pub fn new(theme: Theme) -> ActivityView {
        ActivityView {
            theme,
            list: PagedList::default(),
            detail: None,
            stale: true,
            area: Rect::new(0, 0, 80, 22),
        }
    }

    pub fn list(&self) -> &PagedList<EventRow> {
        &self.list
    }

    pub fn detail_open(&self) -> bool {
        self.detail.is_some()
    }

    pub fn detail(&self) -> Option<&EventDetail> {
        self.detail.as_ref().and_then(|d| d.data.as_ref())
    }

    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    pub fn activate(&mut self, ctx: &mut Ctx<'_>) {
        if self.stale {
            self.reload(ctx);
        }
    }

    pub fn reload(&mut self, ctx: &mut Ctx<'_>) {
        self.stale = false;
        self.detail = None;
        let epoch = ctx.epoch();
        self.list.reset(epoch);
        self.send_page(PageKind::Reset, ctx);
        ctx.send(Request::EventCount {
            epoch,
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
        });
    }

    pub fn refresh(&mut self, ctx: &mut Ctx<'_>) {
        if self.list.can_refresh() && self.list.begin(PageKind::Refresh) {
            self.send_page(PageKind::Refresh, ctx);
        }
        ctx.send(Request::EventCount {
            epoch: self.list.epoch(),
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
        });
    }

    fn send_page(&self, kind: PageKind, ctx: &mut Ctx<'_>) {
        ctx.send(Request::Events {
            epoch: self.list.epoch(),
            kind,
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
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

    fn current(&self) -> Option<&EventRow> {
        match &self.detail {
            Some(Detail { data: Some(d), .. }) => Some(&d.row),
            _ => self.list.selected(),
        }
    }

    /// What `b` and `n` act on: the current email event's message (every recipient), and
    /// the row's mark.
    pub fn note_target(&self) -> Option<(NoteTarget, Mark)> {
        let row = self.current()?;
        Some((
            NoteTarget::Message {
                tenant: row.tenant.clone(),
                network_message_id: row.network_message_id.clone(),
                recipient: None,
            },
            row.mark.clone(),
        ))
    }

    /// A saved bookmark or note: the marks of the rows (and the detail) of its message.
    pub fn apply_notes(&mut self, target: &NoteTarget, all: &[Annotation]) {
        let NoteTarget::Message {
            tenant,
            network_message_id,
            ..
        } = target
        else {
            return;
        };
        let same =
            |r: &EventRow| r.tenant == *tenant && r.network_message_id == *network_message_id;
        for row in self.list.rows_mut() {
            if same(row) {
                row.mark = Mark::of(all, Some(&row.recipient));
            }
        }
        if let Some(Detail {
            pane,
            data: Some(data),
            ..
        }) = &mut self.detail
            && same(&data.row)
        {
            data.row.mark = Mark::of(all, Some(&data.row.recipient));
            data.notes = applying_to(all.to_vec(), &data.row.recipient);
            pane.fill(
                title(&data.row),
                detail_lines(self.theme, data),
                &data.raw_pretty,
                &data.ocsf_pretty,
            );
        }
    }

    pub fn pivot(&self, p: Pivot) -> Result<Filter, String> {
        let row = self.current().ok_or("no email event selected")?;
        let missing = || format!("this email event has no {}", p.label());
        Ok(match p {
            Pivot::Sender => Filter::Sender(row.sender.clone().ok_or_else(missing)?),
            Pivot::Recipient => Filter::Recipient(row.recipient.clone()),
            Pivot::Domain => Filter::Domain(row.sender_domain.clone().ok_or_else(missing)?),
            Pivot::Url => Filter::Url(row.url.clone().ok_or_else(|| {
                "no URL known for this message (EmailEvents carry none; alert evidence names none)"
                    .to_string()
            })?),
            Pivot::Message => Filter::Message(row.network_message_id.clone()),
        })
    }

    /// The filter `t` sets: the threats naming the current message, if any does.
    pub fn related_threats(&self) -> Result<Filter, String> {
        let row = self.current().ok_or("no email event selected")?;
        if row.alerts == 0 {
            return Err("no threat names this message".into());
        }
        Ok(Filter::Message(row.network_message_id.clone()))
    }

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
        ctx.send(Request::EventDetail {
            epoch,
            rowid: row.rowid,
        });
        self.detail = Some(Detail {
            epoch,
            pane,
            data: None,
        });
    }

    fn apply(&mut self, loaded: &Loaded, ctx: &mut Ctx<'_>) -> bool {
        match loaded {
            Loaded::Events {
                epoch,
                kind,
                limit,
                result,
            } => {
                self.list.apply(*epoch, *kind, *limit, result.clone());
                let more = self.list.select(self.list.selected_index());
                self.fetch(more.filter(|k| *k == PageKind::Append), ctx);
                true
            }
            Loaded::EventCount { epoch, result } => {
                if *epoch == self.list.epoch() {
                    match result {
                        Ok(c) => self.list.count = Some(*c),
                        Err(e) => self.list.error = Some(e.clone()),
                    }
                }
                true
            }
            Loaded::EventDetail { epoch, result } => {
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
                        Ok(None) => d
                            .pane
                            .fail("this email event is no longer in the store".into()),
                        Err(e) => d.pane.fail(e.clone()),
                    }
                }
                true
            }
            _ => false,
        }
    }
}

fn title(row: &EventRow) -> String {
    safe_opt(row.subject.as_deref())
}

/// `in`, `out`, `int`.
fn direction(d: Option<&str>) -> String {
    match d.map(str::to_ascii_lowercase).as_deref() {
        Some("inbound") => "in".into(),
        Some("outbound") => "out".into(),
        Some("intra-org") | Some("intraorg") => "int".into(),
        Some(_) => safe_opt(d),
        None => "-".into(),
    }
}

/// Where the message went, and where it is now when that changed (`Inbox/folder→Quarantine`).
fn delivery(r: &EventRow) -> String {
    let first = r
        .delivery_location
        .as_deref()
        .or(r.delivery_action.as_deref());
    match (first, r.latest_delivery_location.as_deref()) {
        (Some(a), Some(b)) if a != b => format!("{}→{}", safe(a), safe(b)),
        (Some(a), _) => safe(a),
        (None, b) => safe_opt(b),
    }
}

/// The sender column: the address, flagged when the display name holds a bidi control.
fn sender(r: &EventRow) -> String {
    let flag = if r.sender_display.as_deref().is_some_and(has_bidi_control) {
        BIDI_FLAG
    } else {
        ""
    };
    format!("{flag}{}", safe_opt(r.sender.as_deref()))
}

/// One email event as a line in another record's detail.
pub fn event_line(t: Theme, e: &EventRow) -> Line<'static> {
    let threat = e
        .threat_types
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| format!("  [{}]", safe(s)))
        .unwrap_or_default();
    Line::from(vec![
        Span::raw(format!("  {} ", time_short(e.timestamp_ms))),
        Span::raw(format!("{} → {} ", sender(e), safe(&e.recipient))),
        Span::styled(delivery(e), t.dim()),
        Span::styled(threat, t.warn()),
    ])
}

impl Component for ActivityView {
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
            (KeyCode::Char('t'), _) if plain => Some(Action::RelatedThreats),
            (KeyCode::Char('b'), _) if plain => Some(Action::ToggleBookmark),
            (KeyCode::Char('n'), _) if plain => Some(Action::EditNote),
            (KeyCode::Enter, _) => Some(Action::Open),
            (KeyCode::Char('v'), true) if plain => Some(Action::ToggleRaw),
            (KeyCode::Char('o'), true) if plain => Some(Action::ToggleOcsf),
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
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(" Activity ", t.header()),
            Span::raw(count_label(&self.list)),
            Span::styled(" newest first ", t.dim()),
        ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.list.rows().is_empty() {
            frame.render_widget(Paragraph::new(empty_note(&self.list, t)), inner);
            return;
        }
        // The subject gets what is left; the threat column only where there is room for it
        // (rows with a threat are highlighted either way).
        let wide = area.width >= 100;
        let very_wide = area.width >= 120;
        let mut widths = vec![
            Constraint::Length(2),
            Constraint::Length(11),
            Constraint::Length(3),
            Constraint::Length(if wide { 20 } else { 16 }),
            Constraint::Length(if wide { 20 } else { 16 }),
            Constraint::Fill(1),
            Constraint::Length(if wide { 13 } else { 10 }),
        ];
        let mut titles = vec![
            "",
            "TIME",
            "DIR",
            "SENDER",
            "RECIPIENT",
            "SUBJECT",
            "DELIVERY",
        ];
        if very_wide {
            widths.push(Constraint::Length(12));
            titles.push("THREATS");
        }
        let visible = self
            .list
            .rows()
            .iter()
            .skip(self.list.offset())
            .take(self.list.viewport());
        let rows = visible.map(|r| {
            let threat = r.threat_types.as_deref().filter(|s| !s.is_empty());
            let mut cells = vec![
                Cell::from(r.mark.symbols()).style(t.accent()),
                Cell::from(time_short(r.timestamp_ms)),
                Cell::from(direction(r.direction.as_deref())),
                Cell::from(sender(r)),
                Cell::from(safe(&r.recipient)),
                Cell::from(safe_opt(r.subject.as_deref())),
                Cell::from(delivery(r)),
            ];
            if very_wide {
                cells.push(Cell::from(safe_opt(threat)).style(t.warn()));
            }
            let style = if threat.is_some() && !very_wide {
                t.warn()
            } else {
                Style::new()
            };
            Row::new(cells).style(style)
        });
        let table = Table::new(rows, widths)
            .header(Row::new(titles).style(t.header()))
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

fn detail_lines(t: Theme, d: &EventDetail) -> Vec<Line<'static>> {
    let r = &d.row;
    let mut out = vec![
        Line::raw(format!(
            "{} · {} · {} · tenant {}",
            time_full(r.timestamp_ms),
            safe_opt(r.direction.as_deref()),
            safe_opt(r.delivery_action.as_deref()),
            safe(&r.tenant)
        )),
        Line::from(vec![
            Span::styled("from: ", t.dim()),
            Span::raw(safe_opt(r.sender.as_deref())),
            Span::raw(
                r.sender_display
                    .as_deref()
                    .map(|n| format!("  ({})", display_name(n)))
                    .unwrap_or_default(),
            ),
        ]),
        kv(t, 0, "to", &r.recipient),
        kv(t, 0, "delivery", &delivery(r)),
        kv(
            t,
            0,
            "threat types",
            r.threat_types
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("none"),
        ),
        kv(t, 0, "NetworkMessageId", &r.network_message_id),
    ];
    if r.sender_display.as_deref().is_some_and(has_bidi_control) {
        out.push(Line::styled(
            "⚠ the sender's display name holds a bidi control: it reads differently than it is written",
            t.alarm(),
        ));
    }
    out.extend(notes_lines(t, &d.notes));
    out.push(Line::raw(""));
    out.push(heading(
        t,
        format!(
            "Threats naming this message ({}) · t: show in Threats",
            d.threats.len()
        ),
    ));
    if d.threats.is_empty() {
        out.push(Line::styled("  none", t.dim()));
    }
    for a in &d.threats {
        out.push(Line::from(vec![
            Span::raw(format!("  {} ", time_short(a.created_ms))),
            Span::styled(
                format!("{:<6} ", severity_short(a.severity.as_deref())),
                t.severity(a.severity.as_deref()),
            ),
            Span::raw(format!(
                "{} · {} · {}",
                safe_opt(a.status.as_deref()),
                safe_opt(a.title.as_deref()),
                safe(a.delivery.label())
            )),
        ]));
    }
    out.push(Line::raw(""));
    out.push(heading(
        t,
        format!("All recipients of this message ({})", d.same_message.len()),
    ));
    for e in &d.same_message {
        out.push(event_line(t, e));
    }
    out.push(Line::raw(""));
    out.push(heading(t, format!("All columns ({})", d.fields.len())));
    for (k, v) in &d.fields {
        out.push(kv(t, 2, k, v));
    }
    out
}
