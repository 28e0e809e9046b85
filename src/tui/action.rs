//! Everything that can change the dashboard's state. Keys and mouse events become an
//! [`Action`] (in the views' `handle_key`/`handle_mouse`); [`super::app::App::update`] is the one
//! place that applies them. Loaded data arrives as an action too, so tests drive the whole
//! dashboard — input and data — through this one path.

use super::loader::Loaded;

/// The dashboard's views, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewId {
    Overview,
    Threats,
    Activity,
    Health,
    Campaigns,
}

impl ViewId {
    pub const ALL: [ViewId; 5] = [
        ViewId::Overview,
        ViewId::Threats,
        ViewId::Activity,
        ViewId::Health,
        ViewId::Campaigns,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ViewId::Overview => "Overview",
            ViewId::Threats => "Threats",
            ViewId::Activity => "Activity",
            ViewId::Health => "Sync health",
            ViewId::Campaigns => "Campaigns",
        }
    }

    pub fn index(self) -> usize {
        ViewId::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// What a pivot keeps from the selected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pivot {
    Sender,
    Recipient,
    Domain,
    Url,
    Message,
}

impl Pivot {
    pub fn label(self) -> &'static str {
        match self {
            Pivot::Sender => "sender",
            Pivot::Recipient => "recipient",
            Pivot::Domain => "sender domain",
            Pivot::Url => "URL",
            Pivot::Message => "NetworkMessageId",
        }
    }
}

/// An edit of the filter line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    /// Ctrl-U: erase the line.
    Clear,
    /// Ctrl-W: erase the word before the cursor.
    DeleteWord,
}

#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    NextView,
    PrevView,
    ShowView(ViewId),
    ToggleHelp,
    /// Move the selection (list), the scroll (detail, help) by this many rows.
    Move(i32),
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Select this row of the list (absolute index into the loaded rows), e.g. a click.
    Select(usize),
    /// Open the selected row's detail (Enter; a click on the selected row).
    Open,
    /// Close the detail, the help, or clear the filter (Esc).
    Back,
    ToggleRaw,
    ToggleOcsf,
    CycleSort,
    ReverseSort,
    CyclePeriod,
    /// Open the filter line with the current filter.
    EditFilter,
    FilterEdit(Edit),
    ApplyFilter,
    CancelFilter,
    /// Replace the filter (jumps and pivots use it) and reload.
    SetFilter(String),
    Pivot(Pivot),
    /// From an email event: the threats that name its message.
    RelatedThreats,
    /// From a threat: the email events of its message(s).
    RelatedEvents,
    /// From the overview: threats delivered to an inbox in the period.
    InboxThreats,
    /// From the Campaigns view: the selected campaign's messages in Activity.
    CampaignMessages,
    Reload,
    /// Bookmark the selected threat or message, or remove its bookmark (`b`).
    ToggleBookmark,
    /// Open the note editor on the selected threat or message (`n`).
    EditNote,
    NoteEdit(Edit),
    /// Save the note being edited (Enter; an empty note removes it).
    SaveNote,
    CancelNote,
    /// Periodic refresh while a sync writes the store (live mode).
    Tick,
    Resize(u16, u16),
    Loaded(Box<Loaded>),
}
