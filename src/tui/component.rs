//! The shape every view has (gitui's components): it maps the keys it understands to actions,
//! applies actions to its own state, and draws itself from that state alone. The focused view
//! sees a key first; what it does not consume falls through to the global bindings.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent};
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::Action;
use super::loader::Request;
use crate::search::Query;

/// What a view's `update` may use and produce besides its own state.
pub struct Ctx<'a> {
    /// The active filter, the same in every view.
    pub query: &'a Query,
    /// "Now" for durations (`since:24h`) and periods.
    pub now_ms: i64,
    pub page_size: usize,
    pub interval: std::time::Duration,
    pub requests: &'a mut Vec<Request>,
    pub next_epoch: &'a mut u64,
    /// A one-line note for the status bar (cleared by the next key).
    pub message: &'a mut Option<String>,
}

impl Ctx<'_> {
    /// A fresh epoch: results of older requests will be ignored.
    pub fn epoch(&mut self) -> u64 {
        *self.next_epoch += 1;
        *self.next_epoch
    }

    pub fn send(&mut self, r: Request) {
        self.requests.push(r);
    }

    pub fn note(&mut self, s: impl Into<String>) {
        *self.message = Some(s.into());
    }
}

pub trait Component {
    /// The action this key means here, or None to let the global bindings have it.
    fn handle_key(&self, key: KeyEvent) -> Option<Action>;

    /// The action a mouse event over `area` (where the view was drawn) means.
    fn handle_mouse(&self, _mouse: MouseEvent, _area: Rect) -> Option<Action> {
        None
    }

    /// Applies an action; true when it was the view's to handle.
    fn update(&mut self, action: &Action, ctx: &mut Ctx<'_>) -> bool;

    /// Draws from state only: no queries, no mutation.
    fn draw(&self, frame: &mut Frame, area: Rect);
}

/// The list and scrolling keys every view shares: arrows and vim keys, pages, Home/End.
pub fn navigation_key(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Down | KeyCode::Char('j') if !ctrl => Action::Move(1),
        KeyCode::Up | KeyCode::Char('k') if !ctrl => Action::Move(-1),
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Home | KeyCode::Char('g') if !ctrl => Action::Top,
        KeyCode::End | KeyCode::Char('G') if !ctrl => Action::Bottom,
        _ => return None,
    })
}

/// Wheel scrolling: three rows a notch.
pub fn wheel(mouse: MouseEvent) -> Option<Action> {
    use crossterm::event::MouseEventKind;
    match mouse.kind {
        MouseEventKind::ScrollDown => Some(Action::Move(3)),
        MouseEventKind::ScrollUp => Some(Action::Move(-3)),
        _ => None,
    }
}

/// Whether a point lies in a rectangle.
pub fn contains(area: Rect, column: u16, row: u16) -> bool {
    column >= area.x && column < area.x + area.width && row >= area.y && row < area.y + area.height
}
