//! The detail pane shared by the threat and activity views: the record's fields, or its raw
//! JSON (`v`), or its OCSF event (`o`), scrolled. The lines are built once when the record
//! arrives (pure functions of the view model, every Graph string made safe), so drawing only
//! slices them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::text::{Theme, display_name, safe};

/// What the pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailMode {
    Fields,
    Raw,
    Ocsf,
}

#[derive(Debug, Clone)]
pub struct DetailPane {
    title: String,
    mode: DetailMode,
    scroll: usize,
    viewport: usize,
    fields: Vec<Line<'static>>,
    raw: Vec<Line<'static>>,
    ocsf: Vec<Line<'static>>,
    theme: Theme,
}

impl DetailPane {
    /// A pane waiting for its record.
    pub fn loading(theme: Theme, title: String) -> DetailPane {
        DetailPane {
            title,
            mode: DetailMode::Fields,
            scroll: 0,
            viewport: 10,
            fields: vec![Line::styled("loading…", theme.dim())],
            raw: Vec::new(),
            ocsf: Vec::new(),
            theme,
        }
    }

    /// Fills the pane; `raw` and `ocsf` are pretty JSON (made safe here, line by line).
    pub fn fill(&mut self, title: String, fields: Vec<Line<'static>>, raw: &str, ocsf: &str) {
        self.title = title;
        self.fields = fields;
        self.raw = json_lines(raw);
        self.ocsf = json_lines(ocsf);
        self.scroll = self.scroll.min(self.lines().len().saturating_sub(1));
    }

    pub fn fail(&mut self, message: String) {
        self.fields = vec![Line::styled(message, self.theme.error())];
    }

    pub fn mode(&self) -> DetailMode {
        self.mode
    }

    pub fn set_viewport(&mut self, rows: usize) {
        self.viewport = rows.max(1);
    }

    fn lines(&self) -> &[Line<'static>] {
        match self.mode {
            DetailMode::Fields => &self.fields,
            DetailMode::Raw => &self.raw,
            DetailMode::Ocsf => &self.ocsf,
        }
    }

    /// `v`/`o`: switch to that mode, or back to the fields.
    pub fn toggle(&mut self, mode: DetailMode) {
        self.mode = if self.mode == mode {
            DetailMode::Fields
        } else {
            mode
        };
        self.scroll = 0;
    }

    pub fn scroll_by(&mut self, delta: i32) {
        let max = self.lines().len().saturating_sub(1);
        self.scroll = if delta < 0 {
            self.scroll.saturating_sub(delta.unsigned_abs() as usize)
        } else {
            (self.scroll + delta as usize).min(max)
        };
    }

    pub fn page(&mut self, down: bool) {
        let n = self.viewport.saturating_sub(1).max(1) as i32;
        self.scroll_by(if down { n } else { -n });
    }

    pub fn top(&mut self) {
        self.scroll = 0;
    }

    pub fn bottom(&mut self) {
        self.scroll = self.lines().len().saturating_sub(self.viewport);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let tab = |label: &'static str, key: &'static str, mode: DetailMode| {
            let style = if self.mode == mode {
                t.key().add_modifier(Modifier::REVERSED)
            } else {
                t.dim()
            };
            Span::styled(format!(" {key} {label} "), style)
        };
        let title = Line::from(vec![
            Span::styled(format!(" {} ", self.title), t.header()),
            tab("fields", "↵", DetailMode::Fields),
            tab("raw JSON", "v", DetailMode::Raw),
            tab("OCSF", "o", DetailMode::Ocsf),
            Span::styled(" Esc back ", t.dim()),
        ]);
        let block = Block::new().borders(Borders::TOP).title(title);
        let body = Paragraph::new(self.lines().to_vec())
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(self.scroll).unwrap_or(u16::MAX), 0));
        frame.render_widget(body, area);
    }
}

fn json_lines(pretty: &str) -> Vec<Line<'static>> {
    pretty.lines().map(|l| Line::raw(safe(l))).collect()
}

/// A section heading.
pub fn heading(theme: Theme, text: String) -> Line<'static> {
    Line::styled(format!("── {text} "), theme.accent().add_modifier(Modifier::BOLD))
}

/// `key: value` with the value made safe; display names are flagged when they hold a bidi
/// control.
pub fn kv(theme: Theme, indent: usize, key: &str, value: &str) -> Line<'static> {
    let shown = if key.to_ascii_lowercase().ends_with("displayname") {
        display_name(value)
    } else {
        safe(value)
    };
    Line::from(vec![
        Span::raw(" ".repeat(indent)),
        Span::styled(format!("{}: ", safe(key)), theme.dim()),
        Span::raw(shown),
    ])
}
