//! The detail pane shared by the threat and activity views: the record's fields, or its raw
//! JSON (`v`), or its OCSF event (`o`), scrolled. The lines are built once when the record
//! arrives (pure functions of the view model, every Graph string made safe) and wrapped to the
//! pane's width when it changes, so scrolling is exact and drawing only slices them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

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
    width: usize,
    /// Fields, raw JSON, OCSF: as built, and wrapped to `width` (so scrolling is exact).
    source: [Vec<Line<'static>>; 3],
    wrapped: [Vec<Line<'static>>; 3],
    theme: Theme,
}

impl DetailPane {
    /// A pane waiting for its record.
    pub fn loading(theme: Theme, title: String) -> DetailPane {
        let mut pane = DetailPane {
            title,
            mode: DetailMode::Fields,
            scroll: 0,
            viewport: 10,
            width: 80,
            source: [
                vec![Line::styled("loading…", theme.dim())],
                Vec::new(),
                Vec::new(),
            ],
            wrapped: [Vec::new(), Vec::new(), Vec::new()],
            theme,
        };
        pane.rewrap();
        pane
    }

    /// Fills the pane; `raw` and `ocsf` are pretty JSON (made safe here, line by line).
    pub fn fill(&mut self, title: String, fields: Vec<Line<'static>>, raw: &str, ocsf: &str) {
        self.title = title;
        self.source = [fields, json_lines(raw), json_lines(ocsf)];
        self.rewrap();
    }

    pub fn fail(&mut self, message: String) {
        self.source[0] = vec![Line::styled(message, self.theme.error())];
        self.rewrap();
    }

    pub fn mode(&self) -> DetailMode {
        self.mode
    }

    /// The pane's body size: rows visible and columns to wrap at.
    pub fn set_size(&mut self, rows: usize, width: usize) {
        self.viewport = rows.max(1);
        if width.max(1) != self.width {
            self.width = width.max(1);
            self.rewrap();
        }
    }

    fn rewrap(&mut self) {
        for i in 0..3 {
            self.wrapped[i] = wrap(&self.source[i], self.width);
        }
        self.scroll = self.scroll.min(self.max_scroll());
    }

    fn index(&self) -> usize {
        match self.mode {
            DetailMode::Fields => 0,
            DetailMode::Raw => 1,
            DetailMode::Ocsf => 2,
        }
    }

    fn lines(&self) -> &[Line<'static>] {
        &self.wrapped[self.index()]
    }

    fn max_scroll(&self) -> usize {
        self.lines().len().saturating_sub(self.viewport)
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
        self.scroll = if delta < 0 {
            self.scroll.saturating_sub(delta.unsigned_abs() as usize)
        } else {
            (self.scroll + delta as usize).min(self.max_scroll())
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
        self.scroll = self.max_scroll();
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
        let visible: Vec<Line> = self
            .lines()
            .iter()
            .skip(self.scroll)
            .take(self.viewport)
            .cloned()
            .collect();
        frame.render_widget(Paragraph::new(visible).block(block), area);
    }
}

/// Lines cut to `width` columns, styles kept; long values continue on the next rows.
fn wrap(lines: &[Line<'static>], width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= width {
            out.push(line.clone());
            continue;
        }
        let mut current: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for span in &line.spans {
            let mut piece = String::new();
            for c in span.content.chars() {
                let w = char_width(c);
                if used + w > width && used > 0 {
                    if !piece.is_empty() {
                        current.push(Span::styled(std::mem::take(&mut piece), span.style));
                    }
                    out.push(Line::from(std::mem::take(&mut current)).style(line.style));
                    used = 0;
                }
                piece.push(c);
                used += w;
            }
            if !piece.is_empty() {
                current.push(Span::styled(piece, span.style));
            }
        }
        if !current.is_empty() {
            out.push(Line::from(current).style(line.style));
        }
    }
    out
}

fn char_width(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        Span::raw(c.to_string()).width()
    }
}

fn json_lines(pretty: &str) -> Vec<Line<'static>> {
    pretty.lines().map(|l| Line::raw(safe(l))).collect()
}

/// A section heading.
pub fn heading(theme: Theme, text: String) -> Line<'static> {
    Line::styled(
        format!("── {text} "),
        theme.accent().add_modifier(Modifier::BOLD),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_character_and_the_styles() {
        let t = Theme { color: true };
        let long = Line::from(vec![
            Span::styled("key: ", t.dim()),
            Span::raw("0123456789abcdef"),
        ]);
        let out = wrap(&[long, Line::raw("short")], 8);
        let text: Vec<String> = out
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(text, ["key: 012", "3456789a", "bcdef", "short"]);
        assert_eq!(out[0].spans[0].style, t.dim());
        let mut pane = DetailPane::loading(t, "x".into());
        pane.fill(
            "x".into(),
            (0..30).map(|i| Line::raw(i.to_string())).collect(),
            "{}",
            "{}",
        );
        pane.set_size(10, 20);
        pane.bottom();
        assert_eq!(pane.scroll, 20, "the last row is the last one shown");
        pane.scroll_by(5);
        assert_eq!(pane.scroll, 20);
    }
}
