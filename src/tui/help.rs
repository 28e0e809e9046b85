//! The `?` overlay: every key, where it works, and the filter syntax. The table is also what
//! the tests walk to prove each listed key does something in its context.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::action::ViewId;
use super::text::Theme;

/// Where a key works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Everywhere,
    /// Lists: Threats, Activity, Sync health.
    List,
    /// Threats or Activity, list or detail.
    Pivots,
    /// Threats or Activity, list or detail: the analyst's bookmarks and notes.
    Notes,
    Overview,
    Threats,
    Activity,
    Campaigns,
    Detail,
    FilterLine,
}

impl Context {
    fn title(self) -> &'static str {
        match self {
            Context::Everywhere => "Everywhere",
            Context::List => "Lists",
            Context::Pivots => "Pivots from the selected row (Threats, Activity; sets the filter)",
            Context::Notes => "Notes on the selected row (Threats, Activity; local store only)",
            Context::Overview => "Overview",
            Context::Threats => "Threats",
            Context::Activity => "Activity",
            Context::Campaigns => "Campaigns",
            Context::Detail => "Detail pane",
            Context::FilterLine => "Filter line",
        }
    }

    /// A view the context can be exercised in.
    pub fn view(self) -> ViewId {
        match self {
            Context::Overview | Context::Everywhere => ViewId::Overview,
            Context::Activity => ViewId::Activity,
            Context::Campaigns => ViewId::Campaigns,
            _ => ViewId::Threats,
        }
    }
}

pub struct HelpEntry {
    pub context: Context,
    pub keys: &'static str,
    pub what: &'static str,
    /// The key events the entry stands for.
    pub samples: &'static [(KeyCode, KeyModifiers)],
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

macro_rules! entry {
    ($ctx:ident, $keys:expr, $what:expr, [$($code:expr, $m:expr);*]) => {
        HelpEntry { context: Context::$ctx, keys: $keys, what: $what, samples: &[$(($code, $m)),*] }
    };
}

pub const HELP: &[HelpEntry] = &[
    entry!(Everywhere, "Tab  Shift-Tab", "next / previous view", [KeyCode::Tab, NONE; KeyCode::BackTab, SHIFT]),
    entry!(Everywhere, "1 2 3 4 5", "Overview, Threats, Activity, Sync health, Campaigns", [KeyCode::Char('1'), NONE; KeyCode::Char('2'), NONE; KeyCode::Char('3'), NONE; KeyCode::Char('4'), NONE; KeyCode::Char('5'), NONE]),
    entry!(
        Everywhere,
        "/",
        "filter (one syntax in every view, see below)",
        [KeyCode::Char('/'), NONE]
    ),
    entry!(
        Everywhere,
        "Esc",
        "back: close the detail, then clear the filter",
        [KeyCode::Esc, NONE]
    ),
    entry!(
        Everywhere,
        "?",
        "this help (Esc closes it)",
        [KeyCode::Char('?'), NONE]
    ),
    entry!(Everywhere, "Ctrl-L  F5", "reload from the store", [KeyCode::Char('l'), CTRL; KeyCode::F(5), NONE]),
    entry!(Everywhere, "q  Ctrl-C", "quit", [KeyCode::Char('q'), NONE; KeyCode::Char('c'), CTRL]),
    entry!(List, "↑ ↓  k j", "move", [KeyCode::Up, NONE; KeyCode::Down, NONE; KeyCode::Char('k'), NONE; KeyCode::Char('j'), NONE]),
    entry!(List, "PgUp PgDn  Ctrl-U Ctrl-D", "page up / down (also Ctrl-B Ctrl-F)", [KeyCode::PageUp, NONE; KeyCode::PageDown, NONE; KeyCode::Char('u'), CTRL; KeyCode::Char('d'), CTRL; KeyCode::Char('b'), CTRL; KeyCode::Char('f'), CTRL]),
    entry!(List, "Home End  g G", "first / last row", [KeyCode::Home, NONE; KeyCode::End, NONE; KeyCode::Char('g'), NONE; KeyCode::Char('G'), SHIFT]),
    entry!(List, "Enter", "open the detail", [KeyCode::Enter, NONE]),
    entry!(Pivots, "S", "same sender", [KeyCode::Char('S'), SHIFT]),
    entry!(Pivots, "R", "same recipient", [KeyCode::Char('R'), SHIFT]),
    entry!(
        Pivots,
        "D",
        "same sender domain",
        [KeyCode::Char('D'), SHIFT]
    ),
    entry!(Pivots, "U", "same URL", [KeyCode::Char('U'), SHIFT]),
    entry!(
        Pivots,
        "M",
        "same message (NetworkMessageId)",
        [KeyCode::Char('M'), SHIFT]
    ),
    entry!(
        Notes,
        "b",
        "bookmark (★) the threat or message (all its recipients); toggles",
        [KeyCode::Char('b'), NONE]
    ),
    entry!(
        Notes,
        "n",
        "note (✎): Enter saves, Esc cancels, an empty note is removed",
        [KeyCode::Char('n'), NONE]
    ),
    entry!(
        Overview,
        "p",
        "period: 24h, 7d, 30d",
        [KeyCode::Char('p'), NONE]
    ),
    entry!(
        Overview,
        "i",
        "list the threats delivered to an inbox",
        [KeyCode::Char('i'), NONE]
    ),
    entry!(
        Threats,
        "s",
        "sort by the next column (score, time, severity, status, title)",
        [KeyCode::Char('s'), NONE]
    ),
    entry!(
        Threats,
        "r",
        "reverse the sort order",
        [KeyCode::Char('r'), NONE]
    ),
    entry!(
        Threats,
        "e",
        "the message's email events (in Activity)",
        [KeyCode::Char('e'), NONE]
    ),
    entry!(
        Activity,
        "t",
        "the threats naming the message (in Threats)",
        [KeyCode::Char('t'), NONE]
    ),
    entry!(
        Campaigns,
        "Enter",
        "the campaign's messages (in Activity)",
        [KeyCode::Enter, NONE]
    ),
    entry!(
        Detail,
        "v",
        "raw JSON (again: back to the fields)",
        [KeyCode::Char('v'), NONE]
    ),
    entry!(
        Detail,
        "o",
        "OCSF event (again: back to the fields)",
        [KeyCode::Char('o'), NONE]
    ),
    entry!(Detail, "Enter", "the fields", [KeyCode::Enter, NONE]),
    entry!(Detail, "↑ ↓ k j PgUp PgDn g G", "scroll", [KeyCode::Down, NONE; KeyCode::Char('k'), NONE; KeyCode::PageDown, NONE; KeyCode::Char('G'), SHIFT]),
    entry!(FilterLine, "Enter  Esc", "apply / cancel", [KeyCode::Enter, NONE; KeyCode::Esc, NONE]),
    entry!(FilterLine, "← → Home End", "move the cursor (also Ctrl-A Ctrl-E)", [KeyCode::Left, NONE; KeyCode::Right, NONE; KeyCode::Home, NONE; KeyCode::End, NONE; KeyCode::Char('a'), CTRL; KeyCode::Char('e'), CTRL]),
    entry!(FilterLine, "Ctrl-U  Ctrl-W", "erase the line / the word before the cursor", [KeyCode::Char('u'), CTRL; KeyCode::Char('w'), CTRL]),
];

/// The filter syntax, shown under the keys.
const SYNTAX: &[(&str, &str)] = &[
    (
        "invoice \"wire transfer\"",
        "free text in subject, sender, recipient, URL, title",
    ),
    (
        "sender: recipient:",
        "a full address matches exactly, a part as a substring",
    ),
    (
        "domain: url:",
        "the sender's domain; a URL (or part of one); * is a wildcard",
    ),
    (
        "severity:>=medium",
        "also <, <=, >, or a list: severity:low,high",
    ),
    ("status:new,inProgress", "new, inProgress, resolved"),
    (
        "delivery:inbox threat:phish",
        "delivery action/location; threat type",
    ),
    (
        "since:24h until:2026-11-20",
        "a duration back from now or an RFC 3339 time/date",
    ),
    (
        "tenant:contoso message:<id>",
        "a tenant; a NetworkMessageId",
    ),
    (
        "-status:resolved",
        "a leading - negates; all terms must hold",
    ),
];

/// Mouse use, shown last.
const MOUSE: &[(&str, &str)] = &[
    ("wheel", "scroll the list or the detail"),
    (
        "click",
        "select a row; click it again to open it; click a tab to show it",
    ),
];

/// The overlay's lines (also its height for scrolling).
pub fn lines(t: Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut context = None;
    for e in HELP {
        if context != Some(e.context) {
            if context.is_some() {
                out.push(Line::raw(""));
            }
            out.push(Line::styled(e.context.title(), t.header()));
            context = Some(e.context);
        }
        out.push(Line::from(vec![
            Span::styled(format!("  {:<26}", e.keys), t.key()),
            Span::raw(e.what),
        ]));
    }
    for (title, rows) in [("Filter syntax", SYNTAX), ("Mouse", MOUSE)] {
        out.push(Line::raw(""));
        out.push(Line::styled(title, t.header()));
        for (k, what) in rows {
            out.push(Line::from(vec![
                Span::styled(format!("  {k:<30}"), t.key()),
                Span::raw(*what),
            ]));
        }
    }
    out
}

/// Draws the overlay centred over `area`, scrolled by `scroll` lines.
pub fn draw(frame: &mut Frame, area: Rect, t: Theme, scroll: usize) {
    let width = area.width.saturating_sub(4).min(96);
    let height = area.height.saturating_sub(2);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + 1,
        width,
        height,
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(" Keys (↑↓ scroll, Esc close) ", t.header()));
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines(t))
            .block(block)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        popup,
    );
}

/// The largest useful scroll for an overlay of `height` rows.
pub fn max_scroll(height: u16) -> usize {
    lines(Theme { color: false })
        .len()
        .saturating_sub(usize::from(height.saturating_sub(4)))
}
