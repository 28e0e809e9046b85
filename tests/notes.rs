//! Bookmarks and notes (issue #7 item 6): they survive re-syncs that replace the alert rows
//! and evidence they are about, show in the dashboard's mark column and detail pane (written
//! with `b` and `n`), are listed and written by `mailtrail notes`, and ride along in exports
//! as `unmapped.mailtrail.notes` without breaking schema validation.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mailtrail::export::{ExportRequest, write_events};
use mailtrail::ocsf::{Schema, Severity};
use mailtrail::simulator::{FaultPlan, Scale, Simulator};
use mailtrail::store::Store;
use mailtrail::store::notes::{NoteChange, NoteTarget};
use mailtrail::store::views::{Direction, ThreatOrder};
use mailtrail::tui::{Headless, TuiOptions};
use serde_json::Value;

async fn sync(sim: &Simulator, db: &Path) {
    common::sync_days(sim, db, 7).await;
}

/// A store synced once, at the simulator's start time.
async fn synced(dir: &Path) -> PathBuf {
    let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
    let db = dir.join("m.db");
    sync(&sim, &db).await;
    db
}

fn rows<T>(
    store: &Store,
    sql: &str,
    f: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut stmt = store.conn().prepare(sql).unwrap();
    stmt.query_map([], f).unwrap().map(Result::unwrap).collect()
}

fn export_all(store: &Store) -> Vec<Value> {
    let req = ExportRequest {
        findings: true,
        emails: true,
        since_ms: None,
        until_ms: None,
        tenant: None,
        all_versions: false,
        raw: false,
        json_array: false,
    };
    let mut out = Vec::new();
    write_events(store, &req, &mut out, &mut |_| {}).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn notes_survive_a_resync_that_updates_their_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
    let db = dir.path().join("m.db");
    let end = sim.clock().now();
    sim.clock().set(end - chrono::Duration::days(2));
    sync(&sim, &db).await;

    // Annotate every alert stored so far, and one message (as a whole and for one recipient).
    let mut store = Store::open(&db).unwrap();
    let before: Vec<(String, String, i64)> = rows(
        &store,
        "SELECT tenant, id, last_update_ns FROM alerts",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    );
    assert!(before.len() > 20, "{} alerts", before.len());
    for (tenant, id, _) in &before {
        let target = NoteTarget::Threat {
            tenant: tenant.clone(),
            alert_id: id.clone(),
        };
        store
            .annotate(
                &target,
                &NoteChange::Both {
                    bookmark: Some(true),
                    text: Some(format!("case note for {id}")),
                },
                Some("ana"),
            )
            .unwrap();
    }
    let (tenant, nmid, recipient): (String, String, String) = store
        .conn()
        .query_row(
            "SELECT tenant, network_message_id, recipient FROM email_events ORDER BY rowid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let whole = NoteTarget::Message {
        tenant: tenant.clone(),
        network_message_id: nmid.clone(),
        recipient: None,
    };
    store
        .annotate(&whole, &NoteChange::Text("user reported it".into()), None)
        .unwrap();
    let one = NoteTarget::Message {
        tenant: tenant.clone(),
        network_message_id: nmid.clone(),
        recipient: Some(recipient.clone()),
    };
    store
        .annotate(&one, &NoteChange::Bookmark(true), None)
        .unwrap();
    drop(store);

    // Two days later the alerts have moved on: the re-sync replaces rows and evidence.
    sim.clock().set(end);
    sync(&sim, &db).await;
    let store = Store::open_read_only(&db).unwrap();
    let after: Vec<(String, String, i64)> = rows(
        &store,
        "SELECT tenant, id, last_update_ns FROM alerts",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    );
    let updated: Vec<&(String, String, i64)> = before
        .iter()
        .filter(|b| after.iter().any(|a| a.0 == b.0 && a.1 == b.1 && a.2 > b.2))
        .collect();
    assert!(!updated.is_empty(), "the re-sync updated no alert");
    assert!(after.len() > before.len(), "new alerts arrived too");

    let listed = store.list_notes().unwrap();
    assert_eq!(listed.len(), before.len() + 2, "every note is still there");
    for (tenant, id, _) in &updated {
        let notes = store
            .annotations_of(&NoteTarget::Threat {
                tenant: tenant.clone(),
                alert_id: id.clone(),
            })
            .unwrap();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].bookmarked);
        assert_eq!(notes[0].note, format!("case note for {id}"));
        assert_eq!(notes[0].author.as_deref(), Some("ana"));
    }

    // Still attached: the dashboard's rows carry the marks, new alerts carry none.
    let mut page = store
        .threat_page(
            &mailtrail::search::Query::default(),
            end.timestamp_millis(),
            ThreatOrder::default(),
            None,
            Direction::Forward,
            10_000,
        )
        .unwrap();
    store.mark_threat_rows(&mut page).unwrap();
    for row in &page {
        let annotated = before.iter().any(|b| b.0 == row.tenant && b.1 == row.id);
        assert_eq!(row.mark.bookmarked, annotated, "{}", row.id);
        assert_eq!(row.mark.symbols(), if annotated { "★✎" } else { "" });
    }

    // And exported: the updated findings carry their notes, the message's events theirs.
    let events = export_all(&store);
    let (_, id, _) = updated[0];
    let finding = events
        .iter()
        .find(|e| e["class_uid"] == 2004 && e["finding_info"]["uid"] == id.as_str())
        .expect("the updated alert is exported");
    let notes = &finding["unmapped"]["mailtrail"]["notes"];
    assert_eq!(notes[0]["text"], format!("case note for {id}"));
    assert_eq!(notes[0]["bookmarked"], true);
    assert_eq!(notes[0]["author"], "ana");
    let copies: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["class_uid"] == 4009
                && e["message_trace_uid"] == nmid.as_str()
                && e["unmapped"]["mailtrail"].is_object()
        })
        .collect();
    assert!(!copies.is_empty(), "the message's events carry its notes");
    for e in copies {
        let notes = e["unmapped"]["mailtrail"]["notes"].as_array().unwrap();
        let to_recipient = e["email"]["to"]
            .as_array()
            .is_some_and(|to| to.iter().any(|t| t.as_str() == Some(recipient.as_str())));
        assert_eq!(notes.len(), if to_recipient { 2 } else { 1 }, "{e}");
        assert!(notes.iter().any(|n| n["text"] == "user reported it"));
    }
}

fn schema_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MAILTRAIL_OCSF_SCHEMA") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ocsf/ocsf-schema-1.8.0.json");
    p.exists().then_some(p)
}

#[tokio::test]
async fn exported_annotations_validate_against_the_official_schema() {
    let Some(path) = schema_path() else {
        println!("SKIPPED: OCSF schema not found (set MAILTRAIL_OCSF_SCHEMA)");
        return;
    };
    let schema = Schema::load(&path).expect("the compiled schema loads");
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let mut store = Store::open(&db).unwrap();
    let threats: Vec<(String, String)> =
        rows(&store, "SELECT tenant, id FROM alerts LIMIT 5", |r| {
            Ok((r.get(0)?, r.get(1)?))
        });
    for (tenant, alert_id) in threats {
        store
            .annotate(
                &NoteTarget::Threat { tenant, alert_id },
                &NoteChange::Both {
                    bookmark: Some(true),
                    text: Some("phish \u{202e}kcilc\n2nd line".into()),
                },
                None,
            )
            .unwrap();
    }
    let messages: Vec<(String, String)> = rows(
        &store,
        "SELECT DISTINCT tenant, network_message_id FROM email_events LIMIT 5",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    for (tenant, nmid) in messages {
        store
            .annotate(
                &NoteTarget::Message {
                    tenant,
                    network_message_id: nmid,
                    recipient: None,
                },
                &NoteChange::Bookmark(true),
                Some("ana"),
            )
            .unwrap();
    }
    let events = export_all(&store);
    let annotated: Vec<&Value> = events
        .iter()
        .filter(|e| e["unmapped"]["mailtrail"]["notes"].is_array())
        .collect();
    assert!(
        annotated.len() >= 10,
        "{} annotated events",
        annotated.len()
    );
    assert!(annotated.iter().any(|e| e["class_uid"] == 2004));
    assert!(annotated.iter().any(|e| e["class_uid"] == 4009));
    for e in annotated {
        let errors: Vec<_> = schema
            .validate(e)
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

/// `mailtrail --db DB` with a private home and no MAILTRAIL_ settings.
fn mailtrail_command(db: &Path) -> Command {
    common::cli(db)
}

fn mailtrail(db: &Path, args: &[&str]) -> std::process::Output {
    mailtrail_command(db)
        .env("USER", "ana")
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn usage_error(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[tokio::test]
async fn the_notes_command_adds_lists_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let (alert, title, nmid, recipient): (String, String, String, String) = {
        let s = Store::open_read_only(&db).unwrap();
        let (alert, title) = s
            .conn()
            .query_row(
                "SELECT id, title FROM alerts ORDER BY id LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let (nmid, recipient) = s
            .conn()
            .query_row(
                "SELECT network_message_id, recipient FROM email_events ORDER BY rowid LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        (alert, title, nmid, recipient)
    };

    assert!(ok(&mailtrail(&db, &["notes"])).contains("no bookmarks or notes yet"));
    let added = ok(&mailtrail(
        &db,
        &[
            "notes",
            "add",
            "--threat",
            &alert,
            "--bookmark",
            "CEO",
            "wire",
            "fraud",
        ],
    ));
    assert!(added.contains("bookmarked, noted threat"), "{added}");
    ok(&mailtrail(
        &db,
        &[
            "notes",
            "add",
            "--message",
            &nmid,
            "--recipient",
            &recipient,
            "clicked",
        ],
    ));

    let table = ok(&mailtrail(&db, &["notes"]));
    assert!(
        table.contains("CEO wire fraud") && table.contains(&title),
        "{table}"
    );
    assert!(table.contains(&format!("{nmid} to {recipient}")), "{table}");
    let json: Value = serde_json::from_str(&ok(&mailtrail(&db, &["notes", "--json"]))).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let threat = items.iter().find(|i| i["kind"] == "threat").unwrap();
    assert_eq!(threat["alert_id"], alert.as_str());
    assert_eq!(threat["bookmarked"], true);
    assert_eq!(threat["note"], "CEO wire fraud");
    assert_eq!(threat["author"], "ana");
    assert_eq!(threat["about"], title.as_str());
    let message = items.iter().find(|i| i["kind"] == "message").unwrap();
    assert_eq!(message["network_message_id"], nmid.as_str());
    assert_eq!(message["recipient"], recipient.as_str());
    assert_eq!(message["bookmarked"], false);

    // Replacing the text keeps the bookmark; --no-bookmark keeps the text.
    ok(&mailtrail(
        &db,
        &["notes", "add", "--threat", &alert, "BEC", "confirmed"],
    ));
    ok(&mailtrail(
        &db,
        &["notes", "add", "--threat", &alert, "--no-bookmark"],
    ));
    let json: Value = serde_json::from_str(&ok(&mailtrail(&db, &["notes", "--json"]))).unwrap();
    let threat = json
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "threat")
        .unwrap()
        .clone();
    assert_eq!(threat["note"], "BEC confirmed");
    assert_eq!(threat["bookmarked"], false);

    // Unknown ids and empty adds are usage errors that say what to do.
    let e = usage_error(&mailtrail(&db, &["notes", "add", "--threat", "nope", "x"]));
    assert!(
        e.contains("no threat with id 'nope'") && e.contains("fix:"),
        "{e}"
    );
    let e = usage_error(&mailtrail(
        &db,
        &[
            "notes",
            "add",
            "--message",
            &nmid,
            "--recipient",
            "x@y.z",
            "hi",
        ],
    ));
    assert!(e.contains("no message with NetworkMessageId"), "{e}");
    let e = usage_error(&mailtrail(&db, &["notes", "add", "--threat", &alert]));
    assert!(e.contains("nothing to add"), "{e}");
    let out = mailtrail(
        &db,
        &["notes", "add", "--threat", &alert, "--message", &nmid, "x"],
    );
    assert_eq!(out.status.code(), Some(2), "clap refuses both targets");
    let e = usage_error(&mailtrail(&db, &["notes", "rm", "--threat", "nope"]));
    assert!(e.contains("no bookmark or note on threat 'nope'"), "{e}");

    // Removing works on the notes alone.
    ok(&mailtrail(&db, &["notes", "rm", "--threat", &alert]));
    ok(&mailtrail(
        &db,
        &["notes", "rm", "--message", &nmid, "--recipient", &recipient],
    ));
    assert!(ok(&mailtrail(&db, &["notes"])).contains("no bookmarks or notes yet"));

    // The export command carries them too.
    ok(&mailtrail(
        &db,
        &["notes", "add", "--threat", &alert, "exported"],
    ));
    let exported = ok(&mailtrail(&db, &["export", "--class", "detection_finding"]));
    let with_note: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["unmapped"]["mailtrail"].is_object())
        .collect();
    assert_eq!(with_note.len(), 1);
    assert_eq!(with_note[0]["finding_info"]["uid"], alert.as_str());
    assert_eq!(
        with_note[0]["unmapped"]["mailtrail"]["notes"][0]["text"],
        "exported"
    );
}

#[test]
fn notes_on_a_missing_store_say_to_sync_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    // A missing store is a store problem: exit 1, as for every other command.
    let out = mailtrail(&db, &["notes", "add", "--threat", "a", "x"]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert_eq!(e.trim_end().lines().count(), 1, "{e}");
    assert!(
        e.contains("no store at") && e.contains("run `mailtrail sync`"),
        "{e}"
    );
    assert!(!db.exists(), "no store is created for a note");
}

// ---------------------------------------------------------------------------------------------
// The dashboard
// ---------------------------------------------------------------------------------------------

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn opts() -> TuiOptions {
    TuiOptions {
        now_ms: Some(common::start_time().timestamp_millis()),
        color: Some(false),
        ..TuiOptions::default()
    }
}

fn snapshot(name: &str, screen: &str) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, screen);
    });
}

/// Who and when in the store: the test's user and clock vary, the screens must not.
fn pin_note_times(db: &Path) {
    Store::open(db)
        .unwrap()
        .conn()
        .execute(
            "UPDATE notes SET author = 'ana', created_ms = ?1, updated_ms = ?1",
            [common::start_time().timestamp_millis() - 3_600_000],
        )
        .unwrap();
}

#[tokio::test]
async fn the_dashboard_bookmarks_and_notes_with_b_and_n() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let mut d = Headless::open(&db, opts(), 100, 30).unwrap();
    d.key(key('2'));
    // b on the first threat, a note on the second.
    d.key(key('b'));
    assert_eq!(d.app().message(), Some("bookmarked"));
    assert!(d.app().threats().list().rows()[0].mark.bookmarked);
    d.key(key('j'));
    d.key(key('n'));
    assert_eq!(d.app().note_input(), Some(""));
    for c in "look at the sender".chars() {
        d.key(key(c));
    }
    assert!(d.render().contains("note ✎ look at the sender"));
    d.key(code(KeyCode::Enter));
    assert_eq!(d.app().note_input(), None);
    assert_eq!(d.app().message(), Some("note saved"));
    let first = d.app().threats().list().rows()[0].clone();
    let second = d.app().threats().list().rows()[1].clone();
    assert_eq!(second.mark.note, "look at the sender");

    // Esc drops an edit; the note stays as saved.
    d.key(key('n'));
    d.key(key('x'));
    d.key(code(KeyCode::Esc));
    assert_eq!(d.app().note_input(), None);
    assert_eq!(
        d.app().threats().list().rows()[1].mark.note,
        "look at the sender"
    );

    // A message from Activity: its bookmark marks every recipient's row.
    d.key(key('3'));
    d.key(key('b'));
    let nmid = d.app().activity().list().rows()[0]
        .network_message_id
        .clone();
    for r in d.app().activity().list().rows() {
        assert_eq!(r.mark.bookmarked, r.network_message_id == nmid);
    }

    // Saved in the store, for everyone and for the next start.
    let listed = Store::open_read_only(&db).unwrap().list_notes().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    pin_note_times(&db);
    let mut d = Headless::open(&db, opts(), 100, 30).unwrap();
    d.key(key('2'));
    let screen = d.render();
    assert!(screen.lines().nth(3).unwrap().starts_with("★"), "{screen}");
    assert!(screen.lines().nth(4).unwrap().starts_with(" ✎"), "{screen}");
    snapshot("tui_notes_threats_100x30", &screen);
    d.key(key('j'));
    d.key(code(KeyCode::Enter));
    // The triage pane beside the notes says when it was computed (the wall clock).
    let detail: String = d
        .render()
        .lines()
        .map(|l| match l.find("· computed ") {
            Some(i) => format!("{}· computed [time]\n", &l[..i]),
            None => format!("{l}\n"),
        })
        .collect();
    assert!(detail.contains("look at the sender"), "{detail}");
    snapshot("tui_notes_threat_detail_100x30", &detail);
    d.key(code(KeyCode::Esc));
    d.key(key('3'));
    snapshot("tui_notes_activity_100x30", &d.render());

    // b again removes the bookmark, in the list and in the store.
    d.key(key('2'));
    d.key(key('g'));
    d.key(key('b'));
    assert_eq!(d.app().message(), Some("bookmark removed"));
    let notes = Store::open_read_only(&db)
        .unwrap()
        .annotations_of(&NoteTarget::Threat {
            tenant: first.tenant.clone(),
            alert_id: first.id.clone(),
        })
        .unwrap();
    assert!(notes.is_empty(), "{notes:?}");
}

#[tokio::test]
async fn a_store_that_cannot_be_written_says_the_note_was_not_saved() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let mut d = Headless::open(&db, opts(), 100, 30).unwrap();
    d.key(key('2'));
    // The dashboard keeps its read-only connection; the file can no longer be opened to write
    // (permissions do not stop root, who runs CI, so the file goes away instead).
    std::fs::remove_file(&db).unwrap();
    d.key(key('b'));
    assert_eq!(
        d.app().message(),
        Some("store is read-only, note not saved")
    );
    assert!(!d.app().threats().list().rows()[0].mark.bookmarked);
    assert!(d.render().contains("store is read-only, note not saved"));
}

/// The first stored email event: (NetworkMessageId, recipient).
fn first_message(db: &Path) -> (String, String) {
    Store::open_read_only(db)
        .unwrap()
        .conn()
        .query_row(
            "SELECT network_message_id, recipient FROM email_events ORDER BY rowid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

fn notes_json(db: &Path, args: &[&str]) -> Vec<Value> {
    let json: Value = serde_json::from_str(&ok(&mailtrail(db, args))).unwrap();
    json.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_recipient_note_changes_only_that_recipient_and_is_keyed_as_the_store_spells_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let (nmid, recipient) = first_message(&db);
    ok(&mailtrail(
        &db,
        &["notes", "add", "--message", &nmid, "--bookmark"],
    ));
    let before = notes_json(&db, &["notes", "--json"]);
    assert_eq!(before.len(), 1);

    // Typed in upper case: the same recipient, stored as the store spells it.
    let shouted = recipient.to_uppercase();
    assert_ne!(shouted, recipient);
    ok(&mailtrail(
        &db,
        &[
            "notes",
            "add",
            "--message",
            &nmid,
            "--recipient",
            &shouted,
            "clicked",
        ],
    ));
    ok(&mailtrail(
        &db,
        &[
            "notes",
            "add",
            "--message",
            &nmid,
            "--recipient",
            &recipient,
            "--no-bookmark",
            "clicked the link",
        ],
    ));
    let items = notes_json(&db, &["notes", "--json"]);
    assert_eq!(
        items.len(),
        2,
        "one whole-message, one recipient note: {items:?}"
    );
    let whole = items.iter().find(|i| i.get("recipient").is_none()).unwrap();
    assert_eq!(whole["bookmarked"], true, "only the named target changes");
    assert_eq!(whole["updated"], before[0]["updated"]);
    let one = items.iter().find(|i| i.get("recipient").is_some()).unwrap();
    assert_eq!(one["recipient"], recipient.as_str());
    assert_eq!(one["note"], "clicked the link");
    assert_eq!(one["bookmarked"], false);

    // Removing works in any case too.
    ok(&mailtrail(
        &db,
        &["notes", "rm", "--message", &nmid, "--recipient", &shouted],
    ));
    assert_eq!(notes_json(&db, &["notes", "--json"]).len(), 1);
}

#[tokio::test]
async fn notes_list_takes_json_and_the_table_keeps_its_columns_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let (nmid, recipient) = first_message(&db);
    ok(&mailtrail(
        &db,
        &["notes", "add", "--message", &nmid, "--bookmark", "seen"],
    ));
    ok(&mailtrail(
        &db,
        &[
            "notes",
            "add",
            "--message",
            &nmid,
            "--recipient",
            &recipient,
            "clicked",
        ],
    ));
    assert_eq!(
        notes_json(&db, &["notes", "list", "--json"]),
        notes_json(&db, &["notes", "--json"])
    );

    // Not a terminal: full values, every column starting where its header does.
    let table = ok(&mailtrail(&db, &["notes", "list"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(table.contains(&format!("{nmid} to {recipient}")), "{table}");
    for (header, values) in [("AUTHOR", ["ana ", "ana "]), ("NOTE", ["seen", "clicked"])] {
        let at = lines[0][..lines[0].find(header).unwrap()].chars().count();
        for l in &lines[1..] {
            let cell: String = l.chars().skip(at).collect();
            assert!(
                values.iter().any(|v| cell.starts_with(v)),
                "{header} out of line in\n{table}"
            );
        }
    }
}

#[tokio::test]
async fn without_user_or_logname_the_author_is_the_account_name() {
    let Some(account) = Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    else {
        return; // no account name to compare with
    };
    let dir = tempfile::tempdir().unwrap();
    let db = synced(dir.path()).await;
    let (nmid, _) = first_message(&db);
    let out = mailtrail_command(&db)
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(["notes", "add", "--message", &nmid, "--bookmark"])
        .output()
        .unwrap();
    ok(&out);
    let items = notes_json(&db, &["notes", "--json"]);
    assert_eq!(items[0]["author"], account.as_str());
}
