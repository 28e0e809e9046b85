//! The dashboard's state and its one `update`. Input is mapped to [`Action`]s by the focused
//! component first (help overlay, filter line, the active view), then by the global bindings;
//! [`App::update`] applies actions and collects the store [`Request`]s they need, which the
//! caller runs (a worker thread in the terminal, inline in tests). [`App::draw`] is pure.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::TuiOptions;
use super::action::{Action, Pivot, ViewId};
use super::activity::ActivityView;
use super::campaigns::CampaignsView;
use super::component::{Component, Ctx, contains, navigation_key};
use super::filter::FilterBar;
use super::health::HealthView;
use super::help;
use super::loader::{Loaded, Request};
use super::notes::NoteEditor;
use super::overview::OverviewView;
use super::text::{Theme, safe, thousands};
use super::threats::ThreatsView;
use crate::search::{Query, parse};
use crate::store::notes::{Annotation, NoteChange, NoteTarget};

/// Where things go on screen.
struct Areas {
    tabs: Rect,
    main: Rect,
    error: Option<Rect>,
    status: Rect,
}

pub struct App {
    theme: Theme,
    opts: TuiOptions,
    live: bool,
    view: ViewId,
    overview: OverviewView,
    threats: ThreatsView,
    activity: ActivityView,
    health: HealthView,
    campaigns: CampaignsView,
    health_epoch: u64,
    filter_text: String,
    query: Query,
    filter_bar: Option<FilterBar>,
    note_editor: Option<NoteEditor>,
    help_scroll: Option<usize>,
    message: Option<String>,
    requests: Vec<Request>,
    next_epoch: u64,
    size: (u16, u16),
    quit: bool,
}

/// A [`Ctx`] over the app's shared fields, leaving the views free to borrow mutably.
macro_rules! ctx {
    ($app:ident, $now:expr) => {
        Ctx {
            query: &$app.query,
            now_ms: $now,
            page_size: $app.opts.page_size,
            interval: $app.opts.interval,
            requests: &mut $app.requests,
            next_epoch: &mut $app.next_epoch,
            message: &mut $app.message,
        }
    };
}

impl App {
    /// The dashboard in its first state: nothing asked of the store yet (see [`App::start`]).
    pub fn new(opts: TuiOptions, live: bool, width: u16, height: u16) -> App {
        let theme = Theme {
            color: opts.color.unwrap_or_else(|| Theme::from_env().color),
        };
        let mut app = App {
            theme,
            live,
            view: ViewId::Overview,
            overview: OverviewView::new(theme),
            threats: ThreatsView::new(theme),
            activity: ActivityView::new(theme),
            health: HealthView::new(theme, live),
            campaigns: CampaignsView::new(theme),
            health_epoch: 0,
            filter_text: String::new(),
            query: Query::default(),
            filter_bar: None,
            note_editor: None,
            help_scroll: None,
            message: None,
            requests: Vec::new(),
            next_epoch: 0,
            size: (width, height),
            quit: false,
            opts,
        };
        if let Some(f) = app.opts.filter.clone() {
            match parse(&f) {
                Ok(q) => {
                    app.filter_text = q.to_string();
                    app.query = q;
                }
                Err(e) => {
                    let mut bar = FilterBar::new(theme, &f);
                    bar.set_error(e);
                    app.filter_bar = Some(bar);
                }
            }
        }
        app.layout_views();
        app
    }

    /// Asks for the first data (after the first frame is painted).
    pub fn start(&mut self) {
        self.activate();
        self.request_health();
    }

    pub fn now_ms(&self) -> i64 {
        self.opts.now_ms.unwrap_or_else(crate::store::now_ms)
    }

    /// The store requests collected since the last call.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    // Read access for the driver, tests and benchmarks.

    pub fn view(&self) -> ViewId {
        self.view
    }

    pub fn filter(&self) -> &str {
        &self.filter_text
    }

    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The filter line's text while it is open.
    pub fn filter_input(&self) -> Option<&str> {
        self.filter_bar.as_ref().map(FilterBar::text)
    }

    /// The filter line's parse error, shown under it.
    pub fn filter_error(&self) -> Option<String> {
        self.filter_bar
            .as_ref()
            .and_then(|b| b.error().map(|e| e.to_string()))
    }

    /// The note editor's text while it is open.
    pub fn note_input(&self) -> Option<&str> {
        self.note_editor.as_ref().map(NoteEditor::text)
    }

    pub fn help_open(&self) -> bool {
        self.help_scroll.is_some()
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn threats(&self) -> &ThreatsView {
        &self.threats
    }

    pub fn activity(&self) -> &ActivityView {
        &self.activity
    }

    pub fn overview(&self) -> &OverviewView {
        &self.overview
    }

    pub fn health(&self) -> &HealthView {
        &self.health
    }

    pub fn campaigns(&self) -> &CampaignsView {
        &self.campaigns
    }

    // Input → Action.

    /// The action a terminal event means, if any.
    pub fn handle_event(&self, event: &Event) -> Option<Action> {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.handle_key(*k),
            Event::Mouse(m) if self.opts.mouse => self.handle_mouse(*m),
            Event::Resize(w, h) => Some(Action::Resize(*w, *h)),
            _ => None,
        }
    }

    pub fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl
            && key.code == KeyCode::Char('c')
            && self.filter_bar.is_none()
            && self.note_editor.is_none()
        {
            return Some(Action::Quit);
        }
        if self.help_scroll.is_some() {
            return match key.code {
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => Some(Action::ToggleHelp),
                _ => navigation_key(key),
            };
        }
        if let Some(bar) = &self.filter_bar {
            return bar.handle_key(key);
        }
        if let Some(editor) = &self.note_editor {
            return editor.handle_key(key);
        }
        let focused: &dyn Component = match self.view {
            ViewId::Overview => &self.overview,
            ViewId::Threats => &self.threats,
            ViewId::Activity => &self.activity,
            ViewId::Health => &self.health,
            ViewId::Campaigns => &self.campaigns,
        };
        if let Some(a) = focused.handle_key(key) {
            return Some(a);
        }
        Some(match key.code {
            KeyCode::Char('q') if !ctrl => Action::Quit,
            KeyCode::Tab => Action::NextView,
            KeyCode::BackTab => Action::PrevView,
            KeyCode::Char(c @ '1'..='5') if !ctrl => {
                Action::ShowView(ViewId::ALL[usize::from(c as u8 - b'1')])
            }
            KeyCode::Char('?') => Action::ToggleHelp,
            KeyCode::Char('/') => Action::EditFilter,
            KeyCode::Esc => Action::Back,
            KeyCode::Char('l') if ctrl => Action::Reload,
            KeyCode::F(5) => Action::Reload,
            // Pivots outside the row views still answer (with why they do nothing).
            KeyCode::Char('S') if !ctrl => Action::Pivot(Pivot::Sender),
            KeyCode::Char('R') if !ctrl => Action::Pivot(Pivot::Recipient),
            KeyCode::Char('D') if !ctrl => Action::Pivot(Pivot::Domain),
            KeyCode::Char('U') if !ctrl => Action::Pivot(Pivot::Url),
            KeyCode::Char('M') if !ctrl => Action::Pivot(Pivot::Message),
            _ => return None,
        })
    }

    pub fn handle_mouse(&self, mouse: MouseEvent) -> Option<Action> {
        let areas = self.areas(Rect::new(0, 0, self.size.0, self.size.1));
        if self.help_scroll.is_some() {
            return match mouse.kind {
                MouseEventKind::ScrollDown => Some(Action::Move(3)),
                MouseEventKind::ScrollUp => Some(Action::Move(-3)),
                MouseEventKind::Down(MouseButton::Left) => Some(Action::ToggleHelp),
                _ => None,
            };
        }
        if contains(areas.tabs, mouse.column, mouse.row) {
            if mouse.kind != MouseEventKind::Down(MouseButton::Left) {
                return None;
            }
            return tab_positions()
                .into_iter()
                .find(|(_, from, to)| mouse.column >= *from && mouse.column < *to)
                .map(|(v, _, _)| Action::ShowView(v));
        }
        let focused: &dyn Component = match self.view {
            ViewId::Overview => &self.overview,
            ViewId::Threats => &self.threats,
            ViewId::Activity => &self.activity,
            ViewId::Health => &self.health,
            ViewId::Campaigns => &self.campaigns,
        };
        focused.handle_mouse(mouse, areas.main)
    }

    // The one place state changes.

    pub fn update(&mut self, action: Action) {
        if !matches!(
            action,
            Action::Loaded(_) | Action::Tick | Action::Resize(..)
        ) {
            self.message = None;
        }
        let now = self.now_ms();
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => {
                self.help_scroll = match self.help_scroll {
                    Some(_) => None,
                    None => Some(0),
                }
            }
            Action::Move(_) | Action::PageDown | Action::PageUp | Action::Top | Action::Bottom
                if self.help_scroll.is_some() =>
            {
                let max = help::max_scroll(self.size.1);
                let page = usize::from(self.size.1.saturating_sub(5)).max(1) as i64;
                let cur = self.help_scroll.unwrap_or(0) as i64;
                let next = match action {
                    Action::Move(n) => cur + i64::from(n),
                    Action::PageDown => cur + page,
                    Action::PageUp => cur - page,
                    Action::Top => 0,
                    _ => max as i64,
                };
                self.help_scroll = Some(next.clamp(0, max as i64) as usize);
            }
            Action::NextView | Action::PrevView | Action::ShowView(_) => {
                let i = self.view.index();
                let n = ViewId::ALL.len();
                self.view = match action {
                    Action::NextView => ViewId::ALL[(i + 1) % n],
                    Action::PrevView => ViewId::ALL[(i + n - 1) % n],
                    Action::ShowView(v) => v,
                    _ => self.view,
                };
                self.activate();
            }
            Action::EditFilter => {
                self.filter_bar = Some(FilterBar::new(self.theme, &self.filter_text));
            }
            Action::FilterEdit(e) => {
                if let Some(bar) = &mut self.filter_bar {
                    bar.edit(&e);
                }
            }
            Action::ApplyFilter => {
                if let Some(bar) = &self.filter_bar {
                    let text = bar.text().to_string();
                    if bar.error().is_none() {
                        self.filter_bar = None;
                        self.set_filter(&text);
                    }
                }
            }
            Action::CancelFilter => self.filter_bar = None,
            Action::SetFilter(text) => self.set_filter(&text),
            Action::Back => {
                let consumed = match self.view {
                    ViewId::Threats if self.threats.detail_open() => {
                        self.threats.update(&Action::Back, &mut ctx!(self, now))
                    }
                    ViewId::Activity if self.activity.detail_open() => {
                        self.activity.update(&Action::Back, &mut ctx!(self, now))
                    }
                    _ => false,
                };
                if !consumed && !self.filter_text.is_empty() {
                    self.set_filter("");
                    self.message = Some("filter cleared".into());
                }
            }
            Action::Pivot(p) => {
                let filter = match self.view {
                    ViewId::Threats => self.threats.pivot(p),
                    ViewId::Activity => self.activity.pivot(p),
                    _ => Err("pivots work from a row in Threats or Activity".into()),
                };
                match filter {
                    Ok(f) => {
                        let text = Query::of(f).to_string();
                        self.set_filter(&text);
                        self.message = Some(format!("pivot: same {}", p.label()));
                    }
                    Err(e) => self.message = Some(e),
                }
            }
            Action::RelatedThreats | Action::RelatedEvents => {
                let (from, to) = if matches!(action, Action::RelatedThreats) {
                    (self.activity.related_threats(), ViewId::Threats)
                } else {
                    (self.threats.pivot(Pivot::Message), ViewId::Activity)
                };
                match from {
                    Ok(f) => {
                        let text = Query::of(f).to_string();
                        self.view = to;
                        self.set_filter(&text);
                    }
                    Err(e) => self.message = Some(e),
                }
            }
            Action::CampaignMessages => match self.campaigns.selected() {
                Some(c) => {
                    let text = crate::campaigns::filter_of(c);
                    self.view = ViewId::Activity;
                    self.set_filter(&text);
                }
                None => self.message = Some("no campaign selected".into()),
            },
            Action::InboxThreats => {
                let text = format!("delivery:inbox since:{}", self.overview.period().label());
                self.view = ViewId::Threats;
                self.set_filter(&text);
            }
            Action::Reload => {
                self.mark_all_stale();
                self.activate();
                self.request_health();
                self.message = Some("reloaded".into());
            }
            Action::ToggleBookmark | Action::EditNote => self.start_note(&action),
            Action::NoteEdit(e) => {
                if let Some(editor) = &mut self.note_editor {
                    editor.edit(&e);
                }
            }
            Action::SaveNote => {
                if let Some(editor) = self.note_editor.take() {
                    self.requests.push(Request::SaveNote {
                        target: editor.target().clone(),
                        change: NoteChange::Text(editor.text().trim().to_string()),
                    });
                }
            }
            Action::CancelNote => self.note_editor = None,
            Action::Tick => self.tick(),
            Action::Resize(w, h) => self.size = (w, h),
            Action::Loaded(loaded) => self.apply_loaded(loaded),
            other => {
                let mut ctx = ctx!(self, now);
                match self.view {
                    ViewId::Overview => self.overview.update(&other, &mut ctx),
                    ViewId::Threats => self.threats.update(&other, &mut ctx),
                    ViewId::Activity => self.activity.update(&other, &mut ctx),
                    ViewId::Health => self.health.update(&other, &mut ctx),
                    ViewId::Campaigns => self.campaigns.update(&other, &mut ctx),
                };
            }
        }
        self.layout_views();
    }

    /// `b` and `n` on the current row of Threats or Activity (list or detail).
    fn start_note(&mut self, action: &Action) {
        let current = match self.view {
            ViewId::Threats => self.threats.note_target(),
            ViewId::Activity => self.activity.note_target(),
            _ => None,
        };
        let Some((target, mark)) = current else {
            self.message = Some("bookmarks and notes work on a row in Threats or Activity".into());
            return;
        };
        if matches!(action, Action::ToggleBookmark) {
            self.requests.push(Request::SaveNote {
                target,
                change: NoteChange::Bookmark(!mark.bookmarked),
            });
        } else {
            self.note_editor = Some(NoteEditor::new(self.theme, target, &mark.note));
        }
    }

    /// A save came back: redraw the marks it changed, or say why it failed.
    fn note_saved(
        &mut self,
        target: &NoteTarget,
        change: &NoteChange,
        result: &Result<Vec<Annotation>, String>,
    ) {
        match result {
            Ok(all) => {
                self.threats.apply_notes(target, all);
                self.activity.apply_notes(target, all);
                self.message = Some(
                    match change {
                        NoteChange::Bookmark(true) => "bookmarked",
                        NoteChange::Bookmark(false) => "bookmark removed",
                        NoteChange::Text(t) if t.is_empty() => "note removed",
                        _ => "note saved",
                    }
                    .into(),
                );
            }
            Err(e) => self.message = Some(e.clone()),
        }
    }

    fn apply_loaded(&mut self, loaded: Box<Loaded>) {
        let now = self.now_ms();
        if let Loaded::NoteSaved {
            target,
            change,
            result,
        } = loaded.as_ref()
        {
            self.note_saved(target, change, result);
            return;
        }
        if let Loaded::Health { epoch, result } = loaded.as_ref() {
            if *epoch == self.health_epoch {
                self.health.set(result, now);
                if let Ok(rows) = result {
                    self.overview.set_health(rows, now);
                }
            }
            return;
        }
        let action = Action::Loaded(loaded);
        let mut ctx = ctx!(self, now);
        let _ = self.overview.update(&action, &mut ctx)
            || self.threats.update(&action, &mut ctx)
            || self.activity.update(&action, &mut ctx)
            || self.campaigns.update(&action, &mut ctx);
    }

    /// Live refresh: what is on screen is re-read; the rest reloads when shown.
    fn tick(&mut self) {
        let now = self.now_ms();
        self.request_health();
        let mut ctx = ctx!(self, now);
        match self.view {
            ViewId::Overview => {
                self.overview.reload(&mut ctx);
                self.threats.mark_stale();
                self.activity.mark_stale();
            }
            ViewId::Threats => {
                self.threats.refresh(&mut ctx);
                self.overview.mark_stale();
            }
            ViewId::Activity => {
                self.activity.refresh(&mut ctx);
                self.overview.mark_stale();
            }
            ViewId::Health => self.mark_all_stale(),
            ViewId::Campaigns => {
                self.campaigns.reload(&mut ctx);
                self.overview.mark_stale();
            }
        }
    }

    fn request_health(&mut self) {
        self.next_epoch += 1;
        self.health_epoch = self.next_epoch;
        self.requests.push(Request::Health {
            epoch: self.health_epoch,
            interval: self.opts.interval,
        });
    }

    fn mark_all_stale(&mut self) {
        self.overview.mark_stale();
        self.threats.mark_stale();
        self.activity.mark_stale();
        self.campaigns.mark_stale();
    }

    /// Loads the visible view if its data is stale.
    fn activate(&mut self) {
        let now = self.now_ms();
        let mut ctx = ctx!(self, now);
        match self.view {
            ViewId::Overview => self.overview.activate(&mut ctx),
            ViewId::Threats => self.threats.activate(&mut ctx),
            ViewId::Activity => self.activity.activate(&mut ctx),
            ViewId::Health => {}
            ViewId::Campaigns => self.campaigns.activate(&mut ctx),
        }
    }

    /// Sets the filter every view shares; an invalid one opens the filter line on its error.
    fn set_filter(&mut self, text: &str) {
        match parse(text) {
            Ok(q) => {
                self.filter_text = q.to_string();
                self.query = q;
                self.mark_all_stale();
                self.activate();
            }
            Err(e) => {
                let mut bar = FilterBar::new(self.theme, text);
                bar.set_error(e);
                self.filter_bar = Some(bar);
            }
        }
    }

    fn areas(&self, area: Rect) -> Areas {
        let error = self
            .filter_bar
            .as_ref()
            .is_some_and(|b| b.error().is_some());
        let [tabs, main, error_area, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(u16::from(error)),
            Constraint::Length(1),
        ])
        .areas(area);
        Areas {
            tabs,
            main,
            error: error.then_some(error_area),
            status,
        }
    }

    /// Tells the views how many rows they show.
    fn layout_views(&mut self) {
        let a = self.areas(Rect::new(0, 0, self.size.0, self.size.1));
        self.threats.set_area(a.main);
        self.activity.set_area(a.main);
        self.campaigns.set_area(a.main);
    }

    // Drawing: pure.

    pub fn draw(&self, frame: &mut Frame) {
        let t = self.theme;
        let a = self.areas(frame.area());

        let mut tabs = vec![Span::styled(" mailtrail ", t.header())];
        for v in ViewId::ALL {
            let label = format!(" {} {} ", v.index() + 1, v.title());
            tabs.push(if v == self.view {
                Span::styled(label, t.selected())
            } else {
                Span::styled(label, t.dim())
            });
        }
        if self.live {
            tabs.push(Span::styled("  ● live", t.accent()));
        }
        frame.render_widget(Paragraph::new(Line::from(tabs)), a.tabs);

        match self.view {
            ViewId::Overview => self.overview.draw(frame, a.main),
            ViewId::Threats => self.threats.draw(frame, a.main),
            ViewId::Activity => self.activity.draw(frame, a.main),
            ViewId::Health => self.health.draw(frame, a.main),
            ViewId::Campaigns => self.campaigns.draw(frame, a.main),
        }

        match (&self.filter_bar, &self.note_editor) {
            (Some(bar), _) => {
                bar.draw(frame, a.status);
                if let Some(e) = a.error {
                    bar.draw_error(frame, e);
                }
            }
            (None, Some(editor)) => editor.draw(frame, a.status),
            (None, None) => self.draw_status(frame, a.status),
        }
        if let Some(scroll) = self.help_scroll {
            help::draw(frame, a.main.union(a.status), t, scroll);
        }
    }

    fn draw_status(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let left = if self.filter_text.is_empty() {
            Span::styled(" / filter  ? help  q quit", t.dim())
        } else {
            Span::styled(format!(" / {}", safe(&self.filter_text)), t.accent())
        };
        let right = match (&self.message, self.view) {
            (Some(m), _) => safe(m),
            (None, ViewId::Threats) if !self.threats.detail_open() => position(self.threats.list()),
            (None, ViewId::Activity) if !self.activity.detail_open() => {
                position(self.activity.list())
            }
            _ => String::new(),
        };
        let width = usize::from(area.width);
        let right_w = right.chars().count() + 1;
        let left_text: String = left
            .content
            .chars()
            .take(width.saturating_sub(right_w + 1))
            .collect();
        let pad = width.saturating_sub(left_text.chars().count() + right_w);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(left_text, left.style),
                Span::raw(" ".repeat(pad)),
                Span::styled(right, t.dim()),
            ])),
            area,
        );
    }
}

/// `row 12 of 1,234` for a list.
fn position<R: super::list::Row>(list: &super::list::PagedList<R>) -> String {
    if list.rows().is_empty() {
        return String::new();
    }
    let row = list
        .absolute_index()
        .map_or("?".to_string(), |i| thousands(i as i64 + 1));
    match list.count {
        Some(c) => format!(
            "row {row} of {}{}",
            thousands(c.n),
            if c.capped { "+" } else { "" }
        ),
        None => format!("row {row}"),
    }
}

/// Each tab's view and its column range on the tab line (as drawn by [`App::draw`]).
fn tab_positions() -> Vec<(ViewId, u16, u16)> {
    let mut x = " mailtrail ".chars().count() as u16;
    ViewId::ALL
        .iter()
        .map(|v| {
            let w = format!(" {} {} ", v.index() + 1, v.title()).chars().count() as u16;
            let r = (*v, x, x + w);
            x += w;
            r
        })
        .collect()
}
