//! The Overview: what got through, who was targeted, what is open, and whether collection is
//! healthy — counts by severity and status, threats over time (24h / 7d / 30d), the threats
//! delivered to an inbox, top targeted recipients, top threat sender domains, threat types,
//! and one health line per tenant × stream. All of it follows the active filter.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::action::Action;
use super::component::{Component, Ctx};
use super::loader::{Loaded, Request};
use super::text::{Theme, ago, safe, safe_opt, severity_short, thousands, time_short};
use crate::store::sync::StreamStatus;
use crate::store::views::{DeliveryOutcome, Overview};

/// The overview's time span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn label(self) -> &'static str {
        match self {
            Period::Day => "24h",
            Period::Week => "7d",
            Period::Month => "30d",
        }
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Period::Day => 86_400,
            Period::Week => 7 * 86_400,
            Period::Month => 30 * 86_400,
        })
    }

    /// Hours for a day, six-hour slots for a week, days for a month.
    fn buckets(self) -> usize {
        match self {
            Period::Day => 24,
            Period::Week => 28,
            Period::Month => 30,
        }
    }

    fn next(self) -> Period {
        match self {
            Period::Day => Period::Week,
            Period::Week => Period::Month,
            Period::Month => Period::Day,
        }
    }
}

/// Rows in the top lists and the inbox call-out.
const TOP: usize = 8;

pub struct OverviewView {
    theme: Theme,
    now_ms: i64,
    period: Period,
    epoch: u64,
    data: Option<Overview>,
    loading: bool,
    error: Option<String>,
    health: Vec<StreamStatus>,
    stale: bool,
}

impl OverviewView {
    pub fn new(theme: Theme) -> OverviewView {
        OverviewView {
            theme,
            now_ms: 0,
            period: Period::Week,
            epoch: 0,
            data: None,
            loading: false,
            error: None,
            health: Vec::new(),
            stale: true,
        }
    }

    pub fn period(&self) -> Period {
        self.period
    }

    pub fn data(&self) -> Option<&Overview> {
        self.data.as_ref()
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
        self.loading = true;
        self.now_ms = ctx.now_ms;
        ctx.send(Request::Overview {
            epoch: self.epoch,
            query: ctx.query.clone(),
            now_ms: ctx.now_ms,
            period: self.period.duration(),
            buckets: self.period.buckets(),
            top: TOP,
        });
    }

    pub fn set_health(&mut self, health: &[StreamStatus], now_ms: i64) {
        self.health = health.to_vec();
        self.now_ms = now_ms;
    }
}

impl Component for OverviewView {
    fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return None;
        }
        match key.code {
            KeyCode::Char('p') => Some(Action::CyclePeriod),
            KeyCode::Char('i') => Some(Action::InboxThreats),
            _ => None,
        }
    }

    fn update(&mut self, action: &Action, ctx: &mut Ctx<'_>) -> bool {
        match action {
            Action::CyclePeriod => {
                self.period = self.period.next();
                self.reload(ctx);
                true
            }
            Action::Loaded(l) => match l.as_ref() {
                Loaded::Overview { epoch, result } if *epoch == self.epoch => {
                    self.loading = false;
                    match result {
                        Ok(o) => {
                            self.data = Some(o.clone());
                            self.error = None;
                        }
                        Err(e) => self.error = Some(e.clone()),
                    }
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let health_lines = self.health.len().max(1) as u16;
        // The inbox call-out grows into spare rows, leaving the top lists at least five.
        let spare = area.height.saturating_sub(6 + 1 + health_lines + 1 + 5 + 1);
        let inbox_rows = self
            .data
            .as_ref()
            .map_or(1, |d| d.inbox_recent.len().max(1)) as u16;
        let inbox_rows = inbox_rows.min(spare.max(1));
        let [top, inbox, tops, health] = Layout::vertical([
            Constraint::Length(6),
            Constraint::Length(1 + inbox_rows),
            Constraint::Min(3),
            Constraint::Length(1 + health_lines),
        ])
        .areas(area);
        let [counts, timeline] =
            Layout::horizontal([Constraint::Length(36), Constraint::Fill(1)]).areas(top);

        let p = self.period.label();
        let Some(d) = &self.data else {
            let note = match &self.error {
                Some(e) => Line::styled(e.clone(), t.error()),
                None => Line::styled("loading…", t.dim()),
            };
            let block = Block::new()
                .borders(Borders::TOP)
                .title(Span::styled(format!(" Threats · last {p} "), t.header()));
            frame.render_widget(Paragraph::new(note).block(block), counts);
            self.draw_health(frame, health);
            return;
        };
        let suffix = if self.loading { " loading…" } else { "" };

        // Counts by severity (left) and status (right).
        let block = Block::new().borders(Borders::TOP).title(Span::styled(
            format!(" Threats · last {p}: {}{suffix} ", thousands(d.threats)),
            t.header(),
        ));
        let mut lines = Vec::new();
        for i in 0..4 {
            let mut spans = Vec::new();
            match d.by_severity.get(i) {
                Some((s, n)) => {
                    spans.push(Span::styled(
                        format!(" {:<7}", severity_short(Some(s))),
                        t.severity(Some(s)),
                    ));
                    spans.push(Span::raw(format!("{:>7}   ", thousands(*n))));
                }
                None => spans.push(Span::raw(" ".repeat(18))),
            }
            if let Some((s, n)) = d.by_status.get(i) {
                spans.push(Span::raw(format!("{:<11.11}{:>6}", safe(s), thousands(*n))));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::styled(
            format!(
                " mail {} · with threats {}",
                thousands(d.emails),
                thousands(d.threat_emails)
            ),
            t.dim(),
        ));
        frame.render_widget(Paragraph::new(lines).block(block), counts);

        // Threats over time.
        let max = d.timeline.iter().copied().max().unwrap_or(0);
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(" Threats over time ", t.header()),
            Span::styled(
                format!("(max {} per slot; p: 24h/7d/30d) ", thousands(max)),
                t.dim(),
            ),
        ]));
        let inner = block.inner(timeline);
        frame.render_widget(block, timeline);
        let [spark, axis] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
        let values: Vec<u64> = d
            .timeline
            .iter()
            .map(|n| u64::try_from(*n).unwrap_or(0))
            .collect();
        let width = values.len().min(usize::from(spark.width.saturating_sub(1)));
        let spark_area = Rect {
            x: spark.x + 1,
            width: width as u16,
            ..spark
        };
        frame.render_widget(
            Sparkline::default().data(values).style(t.accent()),
            spark_area,
        );
        let left = format!(" {}", time_short(d.from_ms));
        let right = "now";
        let gap = usize::from(axis.width)
            .min(width + 1)
            .saturating_sub(left.len() + right.len());
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("{left}{}{right}", " ".repeat(gap)),
                t.dim(),
            )),
            axis,
        );

        // What got through.
        let block = Block::new().borders(Borders::TOP).title(Line::from(vec![
            Span::styled(
                format!(" Delivered to inbox: {} ", thousands(d.inbox)),
                if d.inbox_not_remediated > 0 {
                    t.alarm()
                } else {
                    t.header()
                },
            ),
            Span::raw(format!(
                "· {} not remediated ",
                thousands(d.inbox_not_remediated)
            )),
            Span::styled("(i: list them) ", t.dim()),
        ]));
        let rows: Vec<Line> = if d.inbox_recent.is_empty() {
            vec![Line::styled(" none in this period", t.dim())]
        } else {
            d.inbox_recent
                .iter()
                .map(|r| {
                    Line::from(vec![
                        Span::raw(format!(" {} ", time_short(r.created_ms))),
                        Span::styled(
                            format!("{:<6} ", severity_short(r.severity.as_deref())),
                            t.severity(r.severity.as_deref()),
                        ),
                        Span::styled(
                            format!("{:<9}", r.delivery.label()),
                            if r.delivery == DeliveryOutcome::InInbox {
                                t.alarm()
                            } else {
                                Style::new()
                            },
                        ),
                        Span::raw(format!(
                            "{} → {}",
                            safe_opt(r.title.as_deref()),
                            safe_opt(r.recipient.as_deref())
                        )),
                    ])
                })
                .collect()
        };
        frame.render_widget(Paragraph::new(rows).block(block), inbox);

        // Who and what.
        let [a, b, c] = Layout::horizontal([
            Constraint::Ratio(2, 5),
            Constraint::Ratio(2, 5),
            Constraint::Ratio(1, 5),
        ])
        .areas(tops);
        let list = |title: &str, items: &[(String, i64)], area: Rect, frame: &mut Frame| {
            let block = Block::new()
                .borders(Borders::TOP)
                .title(Span::styled(format!(" {title} "), t.header()));
            let inner_w = usize::from(area.width).saturating_sub(1);
            let lines: Vec<Line> = if items.is_empty() {
                vec![Line::styled(" none", t.dim())]
            } else {
                items
                    .iter()
                    .map(|(k, n)| {
                        let count = thousands(*n);
                        let name_w = inner_w.saturating_sub(count.len() + 2);
                        let name: String = safe(k).chars().take(name_w).collect();
                        Line::raw(format!(" {name:<name_w$} {count}"))
                    })
                    .collect()
            };
            frame.render_widget(Paragraph::new(lines).block(block), area);
        };
        list("Top targeted recipients", &d.top_recipients, a, frame);
        list("Top threat sender domains", &d.top_sender_domains, b, frame);
        list("Threat types", &d.threat_types, c, frame);

        self.draw_health(frame, health);
    }
}

impl OverviewView {
    fn draw_health(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let block = Block::new()
            .borders(Borders::TOP)
            .title(Span::styled(" Sync health (4 for details) ", t.header()));
        let lines: Vec<Line> = if self.health.is_empty() {
            vec![Line::styled(
                " no sync has run against this store yet",
                t.dim(),
            )]
        } else {
            self.health
                .iter()
                .map(|s| {
                    let label = s.health.label();
                    let last = s
                        .last_success_ms
                        .map_or("never".to_string(), |ms| ago(self.now_ms, ms));
                    Line::from(vec![
                        Span::raw(format!(" {:<12} {:<9}", safe(&s.tenant), s.stream)),
                        Span::styled(format!("{label:<10}"), t.health(label)),
                        Span::raw(format!(
                            "last success {last} · {} rows · {} gap{}",
                            thousands(s.rows),
                            s.gaps.len(),
                            if s.gaps.len() == 1 { "" } else { "s" }
                        )),
                    ])
                })
                .collect()
        };
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }
}
