//! The dashboard, driven as a user drives it — keys and mouse through the Action path — over a
//! store synced from the simulator (seed 42, clock frozen at 2026-11-20T12:00Z), drawn into a
//! `TestBackend`: insta snapshots of every view at 100×30 and 80×24, key handling, pivots,
//! filter errors, hostile strings, live refresh.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use mailtrail::simulator::{FaultPlan, Scale};
use mailtrail::store::Store;
use mailtrail::store::sync::Advance;
use mailtrail::tui::help::{Context, HELP};
use mailtrail::tui::{Headless, TuiOptions, ViewId};

/// The seeded store, built once per test binary.
fn seeded() -> &'static Path {
    static STORE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("seeded.db");
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
                common::sync_days(&sim, &path, 7).await;
            });
            freeze_run_times(&path);
            (dir, path)
        })
        .1
}

/// Sync runs carry wall-clock times; pin them so screens that show them are stable.
fn freeze_run_times(path: &Path) {
    let s = Store::open(path).expect("store");
    let base = now_ms() - 120_000;
    s.conn()
        .execute(
            // By stream, not by id: the two streams run concurrently and race for ids.
            "UPDATE sync_runs SET
                 started_ms = ?1 + (CASE stream WHEN 'threats' THEN 0 ELSE 1000 END),
                 ended_ms = ?1 + (CASE stream WHEN 'threats' THEN 0 ELSE 1000 END) + 1500,
                 throttle_wait_ms = 0,
                 -- The number of HTTP requests varies with timing (token fetch, clock probe).
                 requests = 4",
            [base],
        )
        .expect("pin run times");
}

fn now_ms() -> i64 {
    common::start_time().timestamp_millis()
}

fn opts() -> TuiOptions {
    TuiOptions {
        now_ms: Some(now_ms()),
        color: Some(false),
        ..TuiOptions::default()
    }
}

fn open(w: u16, h: u16) -> Headless {
    Headless::open(seeded(), opts(), w, h).expect("dashboard opens")
}

/// A dashboard over a private copy of the seeded store, for keys that write (notes).
fn writable_copy(w: u16, h: u16) -> (tempfile::TempDir, Headless) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("copy.db");
    Store::open_read_only(seeded())
        .expect("store")
        .conn()
        .execute("VACUUM INTO ?1", [path.to_string_lossy()])
        .expect("copy the store");
    let d = Headless::open(&path, opts(), w, h).expect("dashboard opens");
    (dir, d)
}

fn key(c: char) -> KeyEvent {
    let m = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    KeyEvent::new(KeyCode::Char(c), m)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, screen);
    });
}

const SIZES: [(u16, u16); 2] = [(100, 30), (80, 24)];

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn snapshot_every_view() {
    for (w, h) in SIZES {
        let mut d = open(w, h);
        snapshot(&format!("tui_overview_{w}x{h}"), &d.render());
        d.key(key('2'));
        snapshot(&format!("tui_threats_{w}x{h}"), &d.render());
        d.key(key('3'));
        snapshot(&format!("tui_activity_{w}x{h}"), &d.render());
        d.key(key('4'));
        snapshot(&format!("tui_health_{w}x{h}"), &d.render());
    }
}

#[test]
fn snapshot_help_overlay() {
    for (w, h) in SIZES {
        let mut d = open(w, h);
        d.key(key('?'));
        assert!(d.app().help_open());
        snapshot(&format!("tui_help_{w}x{h}"), &d.render());
    }
}

#[test]
fn snapshot_detail_panes() {
    for (w, h) in SIZES {
        let mut d = open(w, h);
        d.key(key('2'));
        d.key(code(KeyCode::Enter));
        assert!(d.app().threats().detail().is_some());
        snapshot(&format!("tui_threat_detail_{w}x{h}"), &d.render());
        d.key(key('o'));
        snapshot(&format!("tui_threat_detail_ocsf_{w}x{h}"), &d.render());
        d.key(key('v'));
        snapshot(&format!("tui_threat_detail_raw_{w}x{h}"), &d.render());
        d.key(code(KeyCode::Esc));
        d.key(key('3'));
        d.key(code(KeyCode::Enter));
        assert!(d.app().activity().detail().is_some());
        snapshot(&format!("tui_event_detail_{w}x{h}"), &d.render());
    }
}

#[test]
fn snapshot_filtered_lists_and_filter_error() {
    for (w, h) in SIZES {
        let mut d = open(w, h);
        d.key(key('2'));
        d.key(key('/'));
        d.type_text("severity:>=medium delivery:inbox");
        d.key(code(KeyCode::Enter));
        snapshot(&format!("tui_threats_filtered_{w}x{h}"), &d.render());
        d.key(key('/'));
        d.key(ctrl('u'));
        d.type_text("phish sevrity:high");
        snapshot(&format!("tui_filter_error_{w}x{h}"), &d.render());
    }
}

#[test]
fn snapshot_campaigns_and_enter_lists_their_messages() {
    for (w, h) in SIZES {
        let mut d = open(w, h);
        d.key(key('5'));
        assert_eq!(d.app().view(), ViewId::Campaigns);
        assert!(
            !d.app().campaigns().campaigns().is_empty(),
            "the simulator's phishing waves form campaigns"
        );
        snapshot(&format!("tui_campaigns_{w}x{h}"), &d.render());
    }
    let mut d = open(100, 30);
    d.key(key('5'));
    d.key(key('j'));
    let c = d.app().campaigns().selected().cloned().expect("a campaign");
    d.key(code(KeyCode::Enter));
    assert_eq!(d.app().view(), ViewId::Activity);
    assert_eq!(d.app().filter(), mailtrail::campaigns::filter_of(&c));
    let rows = d.app().activity().list().rows();
    assert!(!rows.is_empty(), "{}", d.app().filter());
    assert!(
        rows.iter()
            .all(|r| r.timestamp_ms >= c.first_seen_ms / 1000 * 1000
                && r.timestamp_ms <= c.last_seen_ms + 1000),
        "within the campaign's span"
    );
}

// ---------------------------------------------------------------------------------------------
// Keys through the Action path
// ---------------------------------------------------------------------------------------------

#[test]
fn tab_number_keys_and_mouse_switch_views() {
    let mut d = open(100, 30);
    assert_eq!(d.app().view(), ViewId::Overview);
    d.key(code(KeyCode::Tab));
    assert_eq!(d.app().view(), ViewId::Threats);
    d.key(code(KeyCode::Tab));
    d.key(code(KeyCode::Tab));
    assert_eq!(d.app().view(), ViewId::Health);
    d.key(code(KeyCode::Tab));
    assert_eq!(d.app().view(), ViewId::Campaigns);
    d.key(code(KeyCode::Tab));
    assert_eq!(d.app().view(), ViewId::Overview);
    d.key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(d.app().view(), ViewId::Campaigns);
    d.key(key('4'));
    assert_eq!(d.app().view(), ViewId::Health);
    d.key(key('3'));
    assert_eq!(d.app().view(), ViewId::Activity);
    // " mailtrail " is 11 columns, then " 1 Overview " (12), then " 2 Threats ".
    d.mouse(click(25, 0));
    assert_eq!(d.app().view(), ViewId::Threats);
}

fn click(column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

#[test]
fn list_navigation_paging_and_detail() {
    let mut d = open(100, 30);
    d.key(key('3'));
    let selected = |d: &Headless| d.app().activity().list().selected_index();
    let total = d.app().activity().list().count.expect("counted").n as usize;
    assert!(
        total > 400,
        "the seeded store has a few pages of events: {total}"
    );
    d.key(key('j'));
    d.key(code(KeyCode::Down));
    assert_eq!(selected(&d), 2);
    d.key(key('k'));
    assert_eq!(selected(&d), 1);
    d.key(code(KeyCode::PageDown));
    assert_eq!(selected(&d), 1 + 25, "a page is the visible rows less one");
    d.key(ctrl('u'));
    assert_eq!(selected(&d), 1);
    d.key(key('g'));
    assert_eq!(selected(&d), 0);
    // End loads the last page: the oldest event is selected.
    d.key(key('G'));
    let list = d.app().activity().list();
    let oldest = list.selected().expect("a row").timestamp_ms;
    assert!(list.rows().iter().all(|r| r.timestamp_ms >= oldest));
    assert!(
        d.render()
            .contains(&format!("row {0} of {0}", thousand(total)))
    );
    // Scrolling up from the end pages backwards.
    for _ in 0..30 {
        d.key(code(KeyCode::PageUp));
    }
    assert!(d.app().activity().list().rows().len() > 200);
    d.key(code(KeyCode::Home));
    assert_eq!(d.app().activity().list().absolute_index(), Some(0));
    assert!(d.app().activity().list().at_start());

    // Enter opens the detail of the selected row; Esc goes back to the list.
    let row = d.app().activity().list().selected().expect("row").clone();
    d.key(code(KeyCode::Enter));
    let detail = d.app().activity().detail().expect("detail loaded");
    assert_eq!(detail.row.rowid, row.rowid);
    assert!(detail.same_message.iter().any(|e| e.rowid == row.rowid));
    d.key(code(KeyCode::Esc));
    assert!(!d.app().activity().detail_open());

    // Mouse: a click selects a row, a second click opens it, the wheel scrolls.
    d.mouse(click(5, 1 + 2 + 4));
    assert_eq!(selected(&d), 4);
    d.mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 5,
        row: 10,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(selected(&d), 7);
    d.mouse(click(5, 1 + 2 + 7));
    assert!(d.app().activity().detail_open());

    d.key(key('q'));
    assert!(d.app().should_quit());
}

fn thousand(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn threat_sorting_changes_the_order() {
    let mut d = open(100, 30);
    d.key(key('2'));
    // Highest triage score first: the sync scored every alert.
    assert_eq!(d.app().threats().order().column.label(), "score");
    let scores: Vec<i64> = d
        .app()
        .threats()
        .list()
        .rows()
        .iter()
        .map(|r| r.score.expect("scored by the sync"))
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(
        scores
            .first()
            .is_some_and(|s| *s > scores[scores.len() - 1])
    );
    assert!(d.render().contains("sort: score ↓"));
    d.key(key('s'));
    assert_eq!(d.app().threats().order().column.label(), "time");
    let times: Vec<i64> = d
        .app()
        .threats()
        .list()
        .rows()
        .iter()
        .map(|r| r.created_ms)
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    d.key(key('r'));
    let times: Vec<i64> = d
        .app()
        .threats()
        .list()
        .rows()
        .iter()
        .map(|r| r.created_ms)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    d.key(key('s'));
    assert_eq!(d.app().threats().order().column.label(), "severity");
    let rank = |s: Option<&str>| match s {
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        Some("informational") => 0,
        _ => -1,
    };
    let ranks: Vec<i32> = d
        .app()
        .threats()
        .list()
        .rows()
        .iter()
        .map(|r| rank(r.severity.as_deref()))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
    assert!(d.render().contains("sort: severity ↓"));
}

#[test]
fn the_filter_applies_in_every_view_and_esc_clears_it() {
    let mut d = open(100, 30);
    d.key(key('2'));
    let all = d.app().threats().list().count.expect("count").n;
    d.key(key('/'));
    d.type_text("severity:high");
    d.key(code(KeyCode::Enter));
    assert_eq!(d.app().filter(), "severity:high");
    let threats = d.app().threats().list();
    assert!(!threats.rows().is_empty());
    assert!(
        threats
            .rows()
            .iter()
            .all(|r| r.severity.as_deref() == Some("high"))
    );
    assert!(threats.count.expect("count").n < all);
    // The same filter in Activity: the messages that high-severity alerts name.
    d.key(key('3'));
    assert!(!d.app().activity().list().rows().is_empty());
    assert!(d.render().contains("/ severity:high"));
    // Esc clears the filter.
    d.key(code(KeyCode::Esc));
    assert_eq!(d.app().filter(), "");
    assert_eq!(d.app().message(), Some("filter cleared"));
}

#[test]
fn filter_errors_are_shown_inline_and_never_applied() {
    let mut d = open(100, 30);
    d.key(key('2'));
    d.key(key('/'));
    d.type_text("invoice sevrity:high");
    let err = d.app().filter_error().expect("an error while typing");
    assert!(err.contains("did you mean 'severity:'"), "{err}");
    let screen = d.render();
    // The caret sits under the bad key ("/ " then "invoice ").
    let caret_line = screen
        .lines()
        .find(|l| l.contains('^'))
        .expect("caret line");
    assert_eq!(caret_line.find('^'), Some(2 + 8), "{caret_line}");
    assert!(caret_line.contains("unknown filter 'sevrity:'"));
    // Enter does not apply it; the line stays open.
    d.key(code(KeyCode::Enter));
    assert_eq!(d.app().filter(), "");
    assert_eq!(d.app().filter_input(), Some("invoice sevrity:high"));
    // Fixing it clears the error; editing keys work.
    for _ in 0..11 {
        d.key(code(KeyCode::Left));
    }
    d.key(code(KeyCode::Right));
    d.key(code(KeyCode::Right));
    d.key(key('e'));
    assert_eq!(d.app().filter_input(), Some("invoice severity:high"));
    assert!(d.app().filter_error().is_none());
    d.key(ctrl('a'));
    d.key(code(KeyCode::Delete));
    assert_eq!(d.app().filter_input(), Some("nvoice severity:high"));
    d.key(ctrl('e'));
    d.key(code(KeyCode::Backspace));
    assert_eq!(d.app().filter_input(), Some("nvoice severity:hig"));
    assert!(d.app().filter_error().is_some(), "hig is not a severity");
    d.key(ctrl('w'));
    assert_eq!(d.app().filter_input(), Some("nvoice "));
    // Each kind of error reaches the screen.
    for (bad, says) in [
        ("sender:", "needs a value"),
        ("\"open quote", "unterminated quote"),
        ("severity:critical", "informational, low, medium or high"),
        ("since:yesterday", "duration back from now"),
        ("status:>=new", "takes no comparison"),
        ("sender:a@b.c,d@e.f", "takes one value"),
        ("a - b", "'-' must be followed"),
    ] {
        d.key(ctrl('u'));
        d.type_text(bad);
        let e = d.app().filter_error().unwrap_or_default();
        assert!(e.contains(says), "{bad}: {e}");
        assert!(d.render().contains(says), "{bad} on screen");
    }
    // Esc cancels, leaving the applied filter as it was.
    d.key(code(KeyCode::Esc));
    assert_eq!(d.app().filter_input(), None);
    assert_eq!(d.app().filter(), "");
}

#[test]
fn pivots_from_activity_set_the_filter() {
    let mut d = open(100, 30);
    d.key(key('3'));
    // A threat message with a URL known from alert evidence.
    let index = d
        .app()
        .activity()
        .list()
        .rows()
        .iter()
        .position(|r| r.url.is_some() && r.sender.is_some())
        .expect("a message with a URL on the first page");
    d.key(code(KeyCode::Home));
    for _ in 0..index {
        d.key(key('j'));
    }
    let row = d.app().activity().list().selected().expect("row").clone();
    let sender = row.sender.clone().expect("sender");

    d.key(key('S'));
    assert_eq!(d.app().filter(), format!("sender:{sender}"));
    assert_eq!(d.app().message(), Some("pivot: same sender"));
    let rows = d.app().activity().list().rows();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.sender.as_deref() == Some(sender.as_str()))
    );

    d.key(code(KeyCode::Esc));
    select_rowid(&mut d, row.rowid);
    d.key(key('R'));
    assert_eq!(d.app().filter(), format!("recipient:{}", row.recipient));
    assert!(
        d.app()
            .activity()
            .list()
            .rows()
            .iter()
            .all(|r| r.recipient == row.recipient)
    );

    d.key(code(KeyCode::Esc));
    select_rowid(&mut d, row.rowid);
    d.key(key('D'));
    let domain = row.sender_domain.clone().expect("domain");
    assert_eq!(d.app().filter(), format!("domain:{domain}"));
    assert!(
        d.app()
            .activity()
            .list()
            .rows()
            .iter()
            .all(|r| r.sender_domain.as_deref() == Some(domain.as_str()))
    );

    d.key(code(KeyCode::Esc));
    select_rowid(&mut d, row.rowid);
    d.key(key('U'));
    let url = row.url.clone().expect("url");
    assert!(d.app().filter().starts_with("url:"), "{}", d.app().filter());
    assert!(
        d.app()
            .activity()
            .list()
            .rows()
            .iter()
            .any(|r| r.rowid == row.rowid)
    );
    assert!(
        d.app()
            .activity()
            .list()
            .rows()
            .iter()
            .all(|r| r.url.is_some()),
        "{url}"
    );

    d.key(code(KeyCode::Esc));
    select_rowid(&mut d, row.rowid);
    d.key(key('M'));
    assert_eq!(
        d.app().filter(),
        format!("message:{}", row.network_message_id)
    );
    let rows = d.app().activity().list().rows();
    assert!(
        rows.iter()
            .all(|r| r.network_message_id == row.network_message_id)
    );
    assert!(rows.iter().any(|r| r.rowid == row.rowid));

    // From the message to the threats that name it.
    d.key(key('t'));
    assert_eq!(d.app().view(), ViewId::Threats);
    assert_eq!(
        d.app().filter(),
        format!("message:{}", row.network_message_id)
    );
    assert!(!d.app().threats().list().rows().is_empty());
}

/// Moves the Activity selection to the row with this rowid (it is on the first page).
fn select_rowid(d: &mut Headless, rowid: i64) {
    d.key(code(KeyCode::Home));
    let index = d
        .app()
        .activity()
        .list()
        .rows()
        .iter()
        .position(|r| r.rowid == rowid)
        .expect("row on the first page");
    for _ in 0..index {
        d.key(key('j'));
    }
}

#[test]
fn pivots_from_threats_and_their_detail() {
    let mut d = open(100, 30);
    d.key(key('2'));
    let row = d.app().threats().list().selected().expect("row").clone();
    let nmid = row.network_message_id.clone().expect("message evidence");
    d.key(key('M'));
    assert_eq!(d.app().filter(), format!("message:{nmid}"));
    assert!(
        d.app()
            .threats()
            .list()
            .rows()
            .iter()
            .any(|r| r.id == row.id)
    );

    // From the detail: the same pivots, and the message's events in Activity.
    d.key(code(KeyCode::Esc));
    d.key(code(KeyCode::Enter));
    let detail = d.app().threats().detail().expect("detail").clone();
    assert!(!detail.evidence.is_empty());
    assert!(
        !detail.events.is_empty(),
        "the seeded store holds the message's events"
    );
    d.key(key('S'));
    assert_eq!(
        d.app().filter(),
        format!("sender:{}", row.sender.clone().expect("sender"))
    );
    assert!(!d.app().threats().detail_open(), "a pivot shows the list");
    d.key(code(KeyCode::Esc));
    d.key(key('e'));
    assert_eq!(d.app().view(), ViewId::Activity);
    assert_eq!(d.app().filter(), format!("message:{nmid}"));
    let events = d.app().activity().list().rows();
    assert!(!events.is_empty());
    assert!(events.iter().all(|e| e.network_message_id == nmid));

    // Pivots elsewhere explain themselves.
    d.key(key('1'));
    d.key(key('S'));
    assert_eq!(
        d.app().message(),
        Some("pivots work from a row in Threats or Activity")
    );
}

#[test]
fn overview_period_and_inbox_jump() {
    let mut d = open(100, 30);
    assert_eq!(d.app().overview().period().label(), "7d");
    let week = d.app().overview().data().expect("loaded").threats;
    d.key(key('p'));
    assert_eq!(d.app().overview().period().label(), "30d");
    let month = d.app().overview().data().expect("loaded").threats;
    assert!(month >= week);
    d.key(key('p'));
    assert_eq!(d.app().overview().period().label(), "24h");
    assert!(d.render().contains("last 24h"));
    d.key(key('p'));
    d.key(key('i'));
    assert_eq!(d.app().view(), ViewId::Threats);
    assert_eq!(d.app().filter(), "delivery:inbox since:7d");
    let inbox = d.app().overview().data().expect("loaded").inbox;
    assert_eq!(d.app().threats().list().count.expect("count").n, inbox);
}

#[test]
fn every_key_in_the_help_overlay_does_something() {
    for entry in HELP {
        for (c, m) in entry.samples {
            let mut d = open(100, 30);
            // Bookmarks and notes write to the store: give them a copy, not the shared one.
            let _copy;
            match entry.context {
                Context::Notes => {
                    let (dir, copy) = writable_copy(100, 30);
                    (_copy, d) = (dir, copy);
                    d.key(key('2'));
                    for _ in 0..5 {
                        d.key(key('j'));
                    }
                }
                Context::Everywhere | Context::Overview => {}
                Context::List | Context::Pivots | Context::Threats => {
                    d.key(key('2'));
                    for _ in 0..5 {
                        d.key(key('j'));
                    }
                }
                Context::Activity => d.key(key('3')),
                Context::Campaigns => d.key(key('5')),
                Context::Detail => {
                    d.key(key('2'));
                    d.key(code(KeyCode::Enter));
                    for _ in 0..3 {
                        d.key(key('j'));
                    }
                }
                Context::FilterLine => {
                    d.key(key('2'));
                    d.key(key('/'));
                    d.type_text("phish");
                }
            }
            assert_eq!(d.app().view(), entry.context.view());
            let event = KeyEvent::new(*c, *m);
            let action = d.app().handle_key(event);
            assert!(
                action.is_some(),
                "{:?} '{}' ({:?}) does nothing",
                entry.context,
                entry.keys,
                event
            );
            let before = d.render();
            d.key(event);
            let after = d.render();
            // Keys whose effect is invisible in this starting state (the view already shown,
            // nothing to go back from, the cursor of the filter line) are exempt.
            let exempt = matches!(
                (entry.context, c),
                (Context::Everywhere, KeyCode::Char('1') | KeyCode::Esc)
                    | (Context::Detail, KeyCode::Enter)
                    | (Context::FilterLine, _)
            );
            assert!(
                before != after || exempt || d.app().should_quit(),
                "{:?} '{}' ({:?}) changed nothing on screen",
                entry.context,
                entry.keys,
                event
            );
        }
    }
}

#[test]
fn resizing_redraws_cleanly() {
    let mut d = open(100, 30);
    d.key(key('3'));
    let wide = d.render();
    assert_eq!(wide.lines().count(), 30);
    d.resize(80, 24);
    let narrow = d.render();
    assert_eq!(narrow.lines().count(), 24);
    for l in narrow.lines() {
        // Display width, not chars: the simulator sends Zalgo text with combining marks.
        assert!(ratatui::text::Line::raw(l).width() <= 80, "{l}");
    }
    assert!(narrow.contains(" Activity "));
    // The list follows the new height: paging moves by the new page size.
    d.key(code(KeyCode::PageDown));
    assert_eq!(d.app().activity().list().selected_index(), 24 - 4 - 1);
    for (w, h) in [(40, 10), (10, 3), (1, 1)] {
        d.resize(w, h);
        d.render();
        d.key(code(KeyCode::Enter));
        d.key(key('?'));
        d.render();
        d.key(key('?'));
        d.key(code(KeyCode::Esc));
    }
    d.resize(100, 30);
    assert_eq!(d.render().lines().count(), 30);
}

// ---------------------------------------------------------------------------------------------
// Hostile strings
// ---------------------------------------------------------------------------------------------

/// A store holding one email with an ANSI-escaped subject and a bidi-overridden display name.
fn hostile_store(dir: &Path) -> PathBuf {
    let path = dir.join("hostile.db");
    let mut s = Store::open(&path).expect("store");
    let row = serde_json::json!({
        "Timestamp": "2026-11-20T11:00:00.0000000Z",
        "NetworkMessageId": "8f0c1d2e-0000-4000-8000-000000000001",
        "RecipientEmailAddress": "ann@contoso.com",
        "SenderFromAddress": "it-admin@contoso-support.example",
        "SenderFromDomain": "contoso-support.example",
        "SenderDisplayName": "\u{202e}nimdA TI\u{202c} (IT Admin)",
        "Subject": "\u{1b}[31mURGENT\u{1b}[0m \u{1b}]0;pwned\u{7} invoice \u{202e}fdp.exe\u{9b}2J",
        "EmailDirection": "Inbound",
        "DeliveryAction": "Delivered",
        "DeliveryLocation": "Inbox/folder",
        "ThreatTypes": "Phish"
    });
    let raw = serde_json::value::to_raw_value(&row).expect("raw");
    s.ingest_email_events("contoso", &[raw], Advance::No, None)
        .expect("ingest");
    path
}

/// No cell of the screen holds a control character or a bidi control.
fn assert_inert(screen: &ratatui::buffer::Buffer) {
    for cell in &screen.content {
        for c in cell.symbol().chars() {
            assert!(
                !c.is_control() && !mailtrail::terminal::is_bidi_control(c),
                "a raw {:?} reached the screen",
                c
            );
        }
    }
}

#[test]
fn hostile_subjects_and_display_names_render_escaped_and_flagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = hostile_store(dir.path());
    let mut d = Headless::open(&path, opts(), 120, 30).expect("open");
    d.key(key('3'));
    let screen = d.render();
    assert_inert(d.buffer());
    assert!(screen.contains(r"\x1b[31mURGENT\x1b[0m"), "{screen}");
    assert!(screen.contains("⚠bidi it-admin@"), "{screen}");

    d.key(code(KeyCode::Enter));
    let screen = d.render();
    assert_inert(d.buffer());
    assert!(
        screen.contains(r"\x1b]0;pwned\x07 invoice \u{202e}fdp.exe\x9b2J"),
        "{screen}"
    );
    assert!(
        screen.contains(r"⚠bidi \u{202e}nimdA TI\u{202c} (IT Admin)"),
        "{screen}"
    );
    assert!(
        screen.contains("display name holds a bidi control"),
        "{screen}"
    );
    for mode in ['v', 'o'] {
        d.key(key(mode));
        let screen = d.render();
        assert_inert(d.buffer());
        assert!(screen.contains(r"\u{202e}"), "{mode}: {screen}");
        d.key(key(mode));
    }
    // Pivoting on the hostile sender puts it in the filter line: escaped there too.
    d.key(key('S'));
    d.key(key('/'));
    d.type_text(" \u{202e}x");
    assert_inert(d.buffer());
    d.render();
    assert_inert(d.buffer());
}

#[test]
fn the_simulators_hostile_strings_are_escaped_in_every_view() {
    let mut d = open(100, 30);
    for v in ['1', '2', '3', '4'] {
        d.key(key(v));
        d.render();
        assert_inert(d.buffer());
    }
    // Walk the whole activity list: every row drawn at least once.
    d.key(key('3'));
    let total = d.app().activity().list().count.expect("count").n;
    for _ in 0..(total / 25 + 1) {
        d.key(code(KeyCode::PageDown));
        d.render();
        assert_inert(d.buffer());
    }
}

// ---------------------------------------------------------------------------------------------
// Live refresh (run_live): new rows appear while the top of a list is shown
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tick_picks_up_rows_a_sync_wrote_meanwhile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = hostile_store(dir.path());
    let mut d = Headless::open(&path, opts(), 100, 30).expect("open");
    d.key(key('3'));
    assert_eq!(d.app().activity().list().rows().len(), 1);
    {
        let mut s = Store::open(&path).expect("writer");
        let row = serde_json::json!({
            "Timestamp": "2026-11-20T11:30:00.0000000Z",
            "NetworkMessageId": "8f0c1d2e-0000-4000-8000-000000000002",
            "RecipientEmailAddress": "bob@contoso.com",
            "SenderFromAddress": "news@fabrikam.example",
            "Subject": "Weekly news",
        });
        let raw = serde_json::value::to_raw_value(&row).expect("raw");
        s.ingest_email_events("contoso", &[raw], Advance::No, None)
            .expect("ingest");
    }
    d.dispatch(mailtrail::tui::Action::Tick);
    let rows = d.app().activity().list().rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].subject.as_deref(), Some("Weekly news"));
    assert_eq!(d.app().activity().list().count.expect("count").n, 2);
}
