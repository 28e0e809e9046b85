//! The note editor (`n` on a threat or an email event): one line, edited like the filter line,
//! saved with Enter (an empty note removes it), dropped with Esc. Saving goes through the
//! loader ([`super::loader::Request::SaveNote`]), the dashboard's only write.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::{Action, Edit};
use super::detail::heading;
use super::filter::{LineInput, edit_key};
use super::text::{Theme, safe, time_full};
use crate::store::notes::{Annotation, NoteTarget};

#[derive(Debug, Clone)]
pub struct NoteEditor {
    target: NoteTarget,
    input: LineInput,
    theme: Theme,
}

impl NoteEditor {
    /// An editor on `target`'s note, starting from its current text.
    pub fn new(theme: Theme, target: NoteTarget, text: &str) -> NoteEditor {
        NoteEditor {
            target,
            input: LineInput::new(text),
            theme,
        }
    }

    pub fn target(&self) -> &NoteTarget {
        &self.target
    }

    pub fn text(&self) -> &str {
        self.input.text()
    }

    /// It has the focus: every key is its own.
    pub fn handle_key(&self, key: KeyEvent) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::ALT) {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => Some(Action::SaveNote),
            KeyCode::Esc => Some(Action::CancelNote),
            KeyCode::Char('c') if ctrl => Some(Action::CancelNote),
            _ => edit_key(key).map(Action::NoteEdit),
        }
    }

    pub fn edit(&mut self, edit: &Edit) {
        self.input.edit(edit);
    }

    /// The input line in place of the status bar.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let t = self.theme;
        let mut spans = vec![Span::styled("note ✎ ", t.key())];
        spans.extend(self.input.spans(t));
        spans.push(Span::styled("  Enter save · Esc cancel", t.dim()));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
}

/// The detail pane's notes section: nothing when there is no annotation.
pub fn notes_lines(t: Theme, notes: &[Annotation]) -> Vec<Line<'static>> {
    if notes.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        Line::raw(""),
        heading(t, "Notes · b: bookmark · n: edit the note".into()),
    ];
    for a in notes {
        let mut head = vec![Span::styled(
            if a.bookmarked { "  ★ " } else { "    " },
            t.accent(),
        )];
        let whom = match &a.target {
            NoteTarget::Message {
                recipient: Some(r), ..
            } => format!("for {} · ", safe(r)),
            _ => String::new(),
        };
        head.push(Span::styled(
            format!(
                "{whom}{} · {}",
                a.author.as_deref().map_or("-".to_string(), safe),
                time_full(a.updated_ms)
            ),
            t.dim(),
        ));
        out.push(Line::from(head));
        if !a.note.is_empty() {
            out.push(Line::raw(format!("    {}", safe(&a.note))));
        }
    }
    out
}
