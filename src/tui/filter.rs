//! The filter line (`/`): editing, live validation with the error shown under the offending
//! text, and the key bindings while it has focus (it consumes every key).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::{Action, Edit};
use super::text::{Theme, safe};
use crate::search::{SearchError, parse};

/// A one-line text input: the text, a cursor, and the edits of [`Edit`]. The filter line and
/// the note editor both use it.
#[derive(Debug, Clone, Default)]
pub struct LineInput {
    text: String,
    /// Cursor position in characters.
    cursor: usize,
}

impl LineInput {
    pub fn new(text: &str) -> LineInput {
        LineInput {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }

    pub fn edit(&mut self, edit: &Edit) {
        let len = self.text.chars().count();
        match edit {
            Edit::Insert(c) => {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, *c);
                self.cursor += 1;
            }
            Edit::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
            }
            Edit::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(len),
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = len,
            Edit::Clear => {
                self.text.clear();
                self.cursor = 0;
            }
            Edit::DeleteWord => {
                let chars: Vec<char> = self.text.chars().collect();
                let mut start = self.cursor;
                while start > 0 && chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                while start > 0 && !chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
                self.text.replace_range(a..b, "");
                self.cursor = start;
            }
            _ => {}
        }
    }

    /// The text made safe, with a block cursor.
    pub fn spans(&self, t: Theme) -> Vec<Span<'static>> {
        let before: String = self.text.chars().take(self.cursor).collect();
        let at: Option<char> = self.text.chars().nth(self.cursor);
        let after: String = self.text.chars().skip(self.cursor + 1).collect();
        vec![
            Span::raw(safe(&before)),
            Span::styled(
                at.map_or(" ".to_string(), |c| safe(&c.to_string())),
                t.selected(),
            ),
            Span::raw(safe(&after)),
        ]
    }
}

/// The editing keys every line input shares (Enter and Esc are its owner's).
pub fn edit_key(key: KeyEvent) -> Option<Edit> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Alt-chords are not text (a terminal may also report Esc-then-key as one).
    if key.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    Some(match key.code {
        KeyCode::Char('u') if ctrl => Edit::Clear,
        KeyCode::Char('w') if ctrl => Edit::DeleteWord,
        KeyCode::Char('a') if ctrl => Edit::Home,
        KeyCode::Char('e') if ctrl => Edit::End,
        KeyCode::Char(c) if !ctrl => Edit::Insert(c),
        KeyCode::Backspace => Edit::Backspace,
        KeyCode::Delete => Edit::Delete,
        KeyCode::Left => Edit::Left,
        KeyCode::Right => Edit::Right,
        KeyCode::Home => Edit::Home,
        KeyCode::End => Edit::End,
        _ => return None,
    })
}

#[derive(Debug, Clone)]
pub struct FilterBar {
    input: LineInput,
    error: Option<SearchError>,
    theme: Theme,
}

impl FilterBar {
    pub fn new(theme: Theme, text: &str) -> FilterBar {
        let mut bar = FilterBar {
            input: LineInput::new(text),
            error: None,
            theme,
        };
        bar.validate();
        bar
    }

    pub fn text(&self) -> &str {
        self.input.text()
    }

    pub fn error(&self) -> Option<&SearchError> {
        self.error.as_ref()
    }

    /// Shows a parse error for text that was set from outside (e.g. a rejected pivot).
    pub fn set_error(&mut self, e: SearchError) {
        self.error = Some(e);
    }

    fn validate(&mut self) {
        self.error = parse(self.input.text()).err();
    }

    pub fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if key.modifiers.contains(KeyModifiers::ALT) {
            return None;
        }
        match key.code {
            KeyCode::Enter => Some(Action::ApplyFilter),
            KeyCode::Esc => Some(Action::CancelFilter),
            KeyCode::Char('c') if ctrl => Some(Action::CancelFilter),
            _ => edit_key(key).map(Action::FilterEdit),
        }
    }

    pub fn edit(&mut self, edit: &Edit) {
        self.input.edit(edit);
        self.validate();
    }

    /// The input line (prompt, text made safe, a block cursor).
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let mut spans = vec![Span::styled("/ ", self.theme.key())];
        spans.extend(self.input.spans(self.theme));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    /// The error line: a caret under the offending text and the message beside it (on the
    /// side where it fits).
    pub fn draw_error(&self, frame: &mut Frame, area: Rect) {
        let Some(e) = &self.error else { return };
        // The caret sits under the shown (escaped) text, so measure the escaped prefix.
        let prefix: String = self.text().chars().take(e.column(self.text())).collect();
        let col = 2 + safe(&prefix).chars().count();
        let caret = "^".repeat(e.width(self.text()));
        let message = e.to_string();
        let fits_left = message.chars().count() < col;
        let fits_right = col + caret.len() + 1 + message.chars().count() <= usize::from(area.width);
        let text = if fits_left && !fits_right {
            let pad = col - message.chars().count() - 1;
            format!("{}{message} {caret}", " ".repeat(pad))
        } else {
            format!("{}{caret} {message}", " ".repeat(col))
        };
        frame.render_widget(Paragraph::new(Line::styled(text, self.theme.error())), area);
    }
}
