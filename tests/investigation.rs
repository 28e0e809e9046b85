//! The README's scripted investigation, command for command, as a user runs it: a demo store
//! from the built-in simulator, the phish that matters most, everyone who got it and where each
//! copy is now, a bookmark with a note, and the evidence exported as OCSF. Each step's answer is
//! checked against the store's own tables, so a command that drifted from the README fails here.

mod common;
#[path = "ocsf_common.rs"]
mod ocsf_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// `mailtrail --db <db> <args…>` with a clean environment (no user config, no MAILTRAIL_*).
fn mailtrail(db: &Path, args: &[&str]) -> Output {
    common::cli(db)
        .env("USER", "analyst")
        .args(args)
        .output()
        .unwrap()
}

/// Stdout of a command that must succeed.
fn ok(db: &Path, args: &[&str]) -> String {
    let o = mailtrail(db, args);
    assert!(
        o.status.success(),
        "mailtrail {args:?}: exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn json(db: &Path, args: &[&str]) -> Vec<Value> {
    let out = ok(db, args);
    match serde_json::from_str(&out) {
        Ok(Value::Array(rows)) => rows,
        _ => panic!("mailtrail {args:?} did not print a JSON array: {out}"),
    }
}

#[test]
fn the_readme_investigation_finds_pivots_bookmarks_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inv.db");
    let c = || rusqlite::Connection::open(&db).unwrap();

    // 1. A store to investigate: the demo syncs a week of simulated mail.
    ok(&db, &["demo", "--no-tui"]);

    // 2. Phish that reached an inbox and nobody has picked up yet, highest triage score first.
    let filter = "threat:phish delivery:inbox status:new";
    let table = ok(&db, &["search", "--threats", filter, "--limit", "5"]);
    let top = &json(
        &db,
        &["search", "--threats", filter, "--limit", "1", "--json"],
    )[0];
    let id = top["id"].as_str().unwrap().to_string();
    assert!(table.lines().nth(1).unwrap().contains(&id), "{table}");
    let best: i64 = c()
        .query_row(
            "SELECT max(t.score) FROM alert_triage t JOIN alerts a ON a.tenant = t.tenant AND a.id = t.alert_id
             WHERE a.status = 'new' AND EXISTS (SELECT 1 FROM alert_evidence e WHERE e.tenant = a.tenant
               AND e.alert_id = a.id AND e.delivery_location LIKE 'inbox%')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(top["score"].as_i64(), Some(best), "{top}");

    // 3. The message behind it and everyone who got it, with where each copy is now.
    let nmid_rows = json(
        &db,
        &[
            "query",
            "--json",
            &format!(
                "SELECT DISTINCT network_message_id FROM evidence \
                 WHERE alert_id = '{id}' AND network_message_id IS NOT NULL"
            ),
        ],
    );
    assert_eq!(nmid_rows.len(), 1, "{nmid_rows:?}");
    let nmid = nmid_rows[0]["network_message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let recipients = json(
        &db,
        &[
            "query",
            "--json",
            &format!(
                "SELECT e.recipient, e.delivery_action, e.latest_delivery_location \
                 FROM email_events e WHERE e.network_message_id IN \
                 (SELECT network_message_id FROM evidence WHERE alert_id = '{id}') \
                 ORDER BY e.recipient"
            ),
        ],
    );
    let stored: Vec<(String, Option<String>)> = c()
        .prepare(
            "SELECT recipient, latest_delivery_location FROM main.email_events
             WHERE network_message_id = ?1 ORDER BY recipient",
        )
        .unwrap()
        .query_map([&nmid], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let listed: Vec<(String, Option<String>)> = recipients
        .iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap().to_string(),
                r["latest_delivery_location"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(listed, stored);
    assert!(listed.len() > 1, "a phish to one person shows no pivot");

    // 4. Who still has it in the inbox.
    let by_place = json(
        &db,
        &[
            "query",
            "--json",
            &format!(
                "SELECT e.latest_delivery_location AS now_in, count(*) AS recipients \
                 FROM email_events e WHERE e.network_message_id = '{nmid}' GROUP BY 1 ORDER BY 1"
            ),
        ],
    );
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for (_, place) in &stored {
        *expected
            .entry(place.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let got: BTreeMap<String, i64> = by_place
        .iter()
        .map(|r| {
            (
                r["now_in"].as_str().unwrap_or_default().to_string(),
                r["recipients"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);

    // 5. A bookmark and a note for the hand-over.
    let note = "phish still in the inbox, not remediated: escalate";
    ok(&db, &["notes", "add", "--threat", &id, "--bookmark", note]);
    let notes = json(&db, &["notes", "--json"]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let listed_note = notes[0].to_string();
    assert!(
        listed_note.contains(&id) && listed_note.contains(note),
        "{listed_note}"
    );

    // 6. The evidence as OCSF: the finding (with the note) and every recipient's copy.
    let ocsf = ok(
        &db,
        &[
            "search",
            "--ocsf",
            "--limit",
            "0",
            &format!("message:{nmid}"),
        ],
    );
    let events: Vec<Value> = ocsf
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let activities = events.iter().filter(|e| e["class_uid"] == 4009).count();
    assert_eq!(activities, stored.len());
    let finding = events
        .iter()
        .find(|e| e["class_uid"] == 2004 && e["finding_info"]["uid"] == id.as_str())
        .unwrap_or_else(|| panic!("the alert's finding is exported: {ocsf}"));
    let notes = &finding["unmapped"]["mailtrail"]["notes"];
    assert_eq!(notes[0]["text"], note, "{finding}");
    assert_eq!(notes[0]["bookmarked"], true, "{finding}");
    assert_eq!(notes[0]["author"], "analyst", "{finding}");
    if let Some(schema) = ocsf_common::schema_or_skip("investigation export") {
        for e in &events {
            ocsf_common::assert_valid(schema, "exported evidence", e);
        }
    }
}
