//! The Campaigns view: suspicious messages grouped by sender domain, URL domain or normalised
//! subject ([`crate::campaigns`]) over the 7 days up to the newest suspicious message, with a
//! 24-hour window, the most delivered first — as the last sync's triage refresh left them
//! (`triage_campaigns`), so the view reads a few hundred rows whatever the store's size. Enter
//! shows the campaign's messages in the Activity view through a filter
//! ([`crate::campaigns::filter_of`]: `domain:x`, `urlhost:x` or the subject's words, with
//! `since:… until:…`), so every pivot from there still works. The key tells campaigns apart:
//! it keeps its width, the top subject takes what is left, and every cut ends in `…`.

use crossterm::event::{KeyCode, KeyEvent, MouseEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::action::Action;
use super::component::{Component, Ctx, contains, navigation_key, wheel};
use super::loader::{CampaignList, Loaded, Request};
use super::text::{Theme, safe, thousands, time_short};
use super::threats::list_click;
use crate::campaigns::Campaign;
use crate::terminal::{fit, width as cells};

/// Campaigns listed at most: the dashboard's stored list (see `triage::store_campaigns`).
pub const LIMIT: usize = crate::triage::DASHBOARD_CAMPAIGNS;

pub struct CampaignsView {
    theme: Theme,
    epoch: u64,
    list: Option<Result<CampaignList, String>>,
    selected: usize,
    offset: usize,
    viewport: usize,
    stale: bool,
}

impl CampaignsView {
    pub fn new(theme: Theme) -> CampaignsView {
        CampaignsView {
            theme,
            epoch: 0,
            list: None,
            selected: 0,
            offset: 0,
            viewport: 20,
            stale: true,
        }
    }

    pub fn campaigns(&self) -> &[Campaign] {
        match &self.list {
            Some(Ok(l)) => &l.campaigns,
            _ => &[],
        }
    }

    pub fn selected(&self) -> Option<&Campaign> {
        self.campaigns().get(self.selected)
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
        self.epoch = ctx.epoch();
        ctx.send(Request::Campaigns {
            epoch: self.epoch,
            limit: LIMIT,
        });
    }

    /// The list body's height for a main area (block title and header take a line each).
    pub fn set_area(&mut self, main: Rect) {
        self.viewport = usize::from(main.height.saturating_sub(2)).max(1);
        self.scroll_into_view();
    }

    fn scroll_into_view(&mut self) {
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + self.viewport {
            self.offset = self.selected + 1 - self.viewport;
        }
    }

    fn select(&mut self, i: usize) {
        self.selected = i.min(self.campaigns().len().saturating_sub(1));
        self.scroll_into_view();
    }
}

impl Component for CampaignsView {
    fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        if key.code == KeyCode::Enter {
            return Some(Action::CampaignMessages);
        }
        navigation_key(key)
    }

    fn handle_mouse(&self, mouse: MouseEvent, area: Rect) -> Option<Action> {
        if !contains(area, mouse.column, mouse.row) {
            return None;
        }
        wheel(mouse).or_else(|| {
            list_click(
                mouse,
                area,
                self.offset,
                self.selected,
                self.campaigns().len(),
            )
            .map(|a| match a {
                Action::Open => Action::CampaignMessages,
                other => other,
            })
        })
    }

    fn update(&mut self, action: &Action, _ctx: &mut Ctx<'_>) -> bool {
        let page = self.viewport.max(1) as i64;
        match action {
            Action::Move(n) => self.select((self.selected as i64 + i64::from(*n)).max(0) as usize),
            Action::PageDown => self.select(self.selected + page as usize),
            Action::PageUp => self.select(self.selected.saturating_sub(page as usize)),
            Action::Top => self.select(0),
            Action::Bottom => self.select(usize::MAX),
            Action::Select(i) => self.select(*i),
            Action::Loaded(l) => match l.as_ref() {
                Loaded::Campaigns { epoch, result } if *epoch == self.epoch => {
                    self.list = Some(result.clone());
                    self.select(self.selected);
                }
                Loaded::Campaigns { .. } => {}
                _ => return false,
            },
            _ => return false,
        }
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        const PERIOD: &str = " in the 7 days to the newest message, 24h window";
        let note = match &self.list {
            Some(Ok(l)) => match l.scored_ms {
                Some(_) if l.pending > 0 => format!(
                    "{PERIOD} · stale: {} alerts changed since; the next sync updates it ",
                    thousands(l.pending)
                ),
                Some(_) => format!("{PERIOD} · Enter: its messages "),
                None => " · not computed yet: run `mailtrail sync` ".into(),
            },
            _ => " ".into(),
        };
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(" Campaigns ", t.header()),
            Span::raw(format!("· {}", thousands(self.campaigns().len() as i64))),
            Span::styled(note, t.dim()),
        ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let empty = match &self.list {
            None => Some(Line::styled("loading…", t.dim())),
            Some(Err(e)) => Some(Line::styled(e.clone(), t.error())),
            Some(Ok(l)) if l.campaigns.is_empty() => Some(Line::styled(
                "no campaigns: no two suspicious messages share a sender domain, URL domain or subject",
                t.dim(),
            )),
            _ => None,
        };
        if let Some(line) = empty {
            frame.render_widget(Paragraph::new(line), inner);
            return;
        }
        // KEY, LAST SEEN, MSGS, RCPTS, DLVRD, ALRT and the spaces between the eight columns.
        const FIXED: u16 = 4 + 11 + 5 + 6 + 5 + 4 + 7;
        let room = usize::from(inner.width.saturating_sub(FIXED));
        let key_len = self
            .campaigns()
            .iter()
            .map(|c| cells(&safe(&c.key)))
            .max()
            .unwrap_or(0);
        let key_w = key_len.clamp(5, room.max(5));
        let subject_w = room.saturating_sub(key_w);
        let widths = [
            Constraint::Length(4),
            Constraint::Length(u16::try_from(key_w).unwrap_or(u16::MAX)),
            Constraint::Length(11),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Length(5),
            Constraint::Length(4),
            Constraint::Fill(1),
        ];
        let header = Row::new([
            "KEY",
            "VALUE",
            "LAST SEEN",
            "MSGS",
            "RCPTS",
            "DLVRD",
            "ALRT",
            "TOP SUBJECT",
        ])
        .style(t.header());
        let rows = self
            .campaigns()
            .iter()
            .skip(self.offset)
            .take(self.viewport)
            .map(|c| {
                let kind = c.key_type.short();
                Row::new(vec![
                    Cell::from(kind),
                    Cell::from(fit(&safe(&c.key), key_w)),
                    Cell::from(time_short(c.last_seen_ms)),
                    Cell::from(format!("{:>5}", thousands(c.messages as i64))),
                    Cell::from(format!("{:>6}", thousands(c.recipients as i64))),
                    Cell::from(format!("{:>5}", thousands(c.delivered as i64))).style(
                        if c.delivered > 0 {
                            t.alarm()
                        } else {
                            ratatui::style::Style::new()
                        },
                    ),
                    Cell::from(format!("{:>4}", c.alerts)),
                    Cell::from(fit(
                        &safe(c.top_subject.as_deref().unwrap_or("-")),
                        subject_w,
                    )),
                ])
            });
        let table = Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(t.selected());
        let mut state =
            TableState::default().with_selected(Some(self.selected.saturating_sub(self.offset)));
        frame.render_stateful_widget(table, inner, &mut state);
    }
}
