//! `mailtrail search` as a user runs it, over a store synced from the simulator: the table, JSON,
//! CSV and OCSF outputs agree on what matched, free text goes through the full-text index, and a
//! filter that does not parse is one line with its column and fix (exit 2).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use mailtrail::simulator::{FaultPlan, Scale};
use serde_json::Value;

fn synced_store(dir: &Path) -> PathBuf {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = dir.join("m.db");
    rt.block_on(async {
        let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
        common::sync_days(&sim, &db, 29).await;
    });
    db
}

fn search(db: &Path, args: &[&str]) -> Output {
    common::cli(db).arg("search").args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A word of a stored subject that several messages share: what an analyst would type.
fn common_subject_word(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT subject FROM email_events WHERE subject LIKE '%invoice%' COLLATE NOCASE LIMIT 1",
        [],
        |r| r.get::<_, String>(0),
    )
    .map(|_| "invoice".to_string())
    .unwrap()
}

#[test]
fn every_output_format_reports_the_same_matches() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path());
    let word = common_subject_word(&db);

    let json: Value =
        serde_json::from_str(&stdout(&search(&db, &[&word, "--json", "--limit", "0"]))).unwrap();
    let rows = json.as_array().unwrap();
    let threats: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "threat").collect();
    let messages: Vec<&Value> = rows.iter().filter(|r| r["kind"] == "message").collect();
    assert!(
        !threats.is_empty() && !messages.is_empty(),
        "{word}: {rows:?}"
    );
    // Every message found carries the word in its subject, sender or recipient (as a word).
    for m in &messages {
        let text = format!("{} {} {}", m["subject"], m["sender"], m["recipient"]).to_lowercase();
        assert!(text.contains(&word), "{m}");
    }
    // Newest first.
    let times: Vec<&str> = messages
        .iter()
        .map(|m| m["time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");

    let csv = stdout(&search(&db, &[&word, "--csv", "--limit", "0"]));
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("kind,time,tenant,id,severity,status,title,sender"));
    // Subjects may hold line breaks inside quotes; count records by their first cell.
    let records = csv
        .split("\r\n")
        .filter(|l| l.starts_with("threat,") || l.starts_with("message,"))
        .count();
    assert_eq!(records, rows.len());

    let ocsf = stdout(&search(&db, &[&word, "--ocsf", "--limit", "0"]));
    let events: Vec<Value> = ocsf
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), rows.len());
    assert_eq!(
        events.iter().filter(|e| e["class_uid"] == 2004).count(),
        threats.len()
    );
    assert_eq!(
        events.iter().filter(|e| e["class_uid"] == 4009).count(),
        messages.len()
    );

    let table = stdout(&search(&db, &[&word, "--messages", "--limit", "5"]));
    assert!(table.starts_with("TIME (UTC)"), "{table}");
    assert!(
        !table.contains("CREATED"),
        "--messages shows no threats:\n{table}"
    );
    assert!(
        table.contains(&format!("5 of {} messages", messages.len())),
        "{table}"
    );
    assert!(
        !table.contains('\u{1b}'),
        "terminal escapes are neutralised"
    );

    let only = stdout(&search(
        &db,
        &[&word, "--threats", "--json", "--limit", "3"],
    ));
    let only: Value = serde_json::from_str(&only).unwrap();
    assert_eq!(only.as_array().unwrap().len(), 3.min(threats.len()));
    assert!(
        only.as_array()
            .unwrap()
            .iter()
            .all(|r| r["kind"] == "threat")
    );
}

#[test]
fn filters_and_free_text_combine_as_in_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path());
    let all: Value = serde_json::from_str(&stdout(&search(
        &db,
        &["severity:high", "--threats", "--json", "--limit", "0"],
    )))
    .unwrap();
    let all = all.as_array().unwrap();
    assert!(!all.is_empty());
    assert!(all.iter().all(|r| r["severity"] == "high"));
    // Negation inside the quoted filter, or as a word after `--`: the same result.
    let json =
        |args: &[&str]| -> Value { serde_json::from_str(&stdout(&search(&db, args))).unwrap() };
    let open = json(&[
        "severity:high -status:resolved",
        "--threats",
        "--json",
        "--limit",
        "0",
    ]);
    let same = json(&[
        "--threats",
        "--json",
        "--limit",
        "0",
        "--",
        "severity:high",
        "-status:resolved",
    ]);
    assert_eq!(open, same);
    let open = open.as_array().unwrap();
    assert!(open.iter().all(|r| r["status"] != "resolved"));
    assert!(open.len() <= all.len());
    // Nothing matches: an empty result is still a success.
    let none = stdout(&search(&db, &["zzqxv-nothing-like-this", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&none).unwrap(),
        Value::Array(vec![])
    );
}

#[test]
fn a_bad_filter_is_one_line_with_the_column_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    // No store needed: the filter is checked first.
    let db = dir.path().join("absent.db");
    for (query, wanted) in [
        (
            "invoice sendr:ceo@contoso.com",
            "column 9 ('sendr:'): unknown filter 'sendr:'; did you mean 'sender:'?",
        ),
        (
            "severity:critical",
            "use informational, low, medium or high",
        ),
        ("\"unterminated", "unterminated quote; close it with \""),
        ("since:yesterday", "24h"),
    ] {
        let o = search(&db, &[query]);
        assert_eq!(o.status.code(), Some(2), "{query}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{query}: {err}");
        assert!(
            err.starts_with("mailtrail: search: the filter at column"),
            "{err}"
        );
        assert!(err.contains(wanted), "{query}: {err}");
        assert!(o.stdout.is_empty());
    }
    // A store that is missing is a runtime failure that says what to do.
    let o = search(&db, &["invoice"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("mailtrail sync"));
}

#[test]
fn threats_come_highest_score_first_unless_sorted_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path());
    let rows = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["threat:phish", "--threats", "--json", "--limit", "0"];
        all.extend_from_slice(args);
        let v: Value = serde_json::from_str(&stdout(&search(&db, &all))).unwrap();
        v.as_array().unwrap().clone()
    };

    // The scores the store holds, straight from the triage table.
    let c = rusqlite::Connection::open(&db).unwrap();
    let stored: std::collections::HashMap<String, i64> = c
        .prepare("SELECT alert_id, score FROM alert_triage")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();

    let by_score = rows(&[]);
    assert!(by_score.len() > 2, "{by_score:?}");
    let scores: Vec<i64> = by_score
        .iter()
        .map(|r| {
            let s = r["score"].as_i64().expect("every synced threat is scored");
            assert_eq!(Some(&s), stored.get(r["id"].as_str().unwrap()), "{r}");
            s
        })
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(
        scores.first() > scores.last(),
        "a set with one score proves nothing"
    );

    let by_time = rows(&["--sort", "time"]);
    let times: Vec<&str> = by_time
        .iter()
        .map(|r| r["time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(by_time.len(), by_score.len());
    assert_ne!(by_time, by_score, "the two orders differ on this data");
}

/// `mailtrail --db DB ARGS…` with no config, stdout to `stdout`.
fn mailtrail(db: &Path, args: &[&str], stdout: std::process::Stdio) -> Output {
    common::cli(db).args(args).stdout(stdout).output().unwrap()
}

/// `mailtrail … | head -1`: a reader that goes away is no failure, for every command that
/// writes results (here the reader is gone before the first write, so every write fails).
#[test]
fn a_closed_stdout_ends_every_command_quietly_with_success() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path());
    let cases: &[&[&str]] = &[
        &["search", "", "--limit", "0"],
        &["search", "", "--limit", "0", "--json"],
        &["search", "", "--limit", "0", "--csv"],
        &["search", "", "--limit", "0", "--ocsf"],
        &["export"],
        &["export", "--format", "json"],
        &["query", "SELECT * FROM email_events"],
        &["query", "--csv", "SELECT * FROM email_events"],
    ];
    for args in cases {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = mailtrail(&db, args, writer.into());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

/// A store that is missing, a directory, or not SQLite: exit 1 (a store problem, DESIGN §7),
/// one line naming it and the fix, and nothing created or changed.
#[test]
fn store_problems_are_one_line_runtime_failures_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.db");
    let folder = dir.path().join("somedir");
    std::fs::create_dir(&folder).unwrap();
    let text = dir.path().join("passwd");
    let passwd = "root:x:0:0:root:/root:/bin/bash\n".repeat(8);
    std::fs::write(&text, &passwd).unwrap();
    let commands: &[&[&str]] = &[
        &["search", "x"],
        &["query", "SELECT 1"],
        &["export"],
        &["status"],
        &["prune"],
        &["prune", "--dry-run"],
    ];
    let stores: &[(&Path, &str)] = &[
        (
            &missing,
            "no store at {}; run `mailtrail sync` (or `mailtrail demo`) first",
        ),
        (
            &folder,
            "{} is a directory, not a store; fix: point --db (or [store] path) at a file",
        ),
        (&text, "{} is not a SQLite database; fix:"),
    ];
    for (db, expected) in stores {
        let expected = expected.replace("{}", &db.display().to_string());
        for args in commands {
            let out = mailtrail(db, args, std::process::Stdio::piped());
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{db:?} {args:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
            assert!(
                err.contains(&expected),
                "{args:?}: expected {expected:?} in {err}"
            );
            assert!(
                !err.contains("damaged") && !err.contains("disk I/O"),
                "{err}"
            );
        }
    }
    assert!(!missing.exists(), "nothing created");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
    assert_eq!(std::fs::read_to_string(&text).unwrap(), passwd);
}

/// A store holding only imported rows: `status` lists its tenant with the rows counted and
/// says the data was imported, instead of asking for `mailtrail init`.
#[test]
fn status_lists_tenants_that_have_only_imported_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("imported.db");
    let csv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/good.csv");
    let args = ["import", "--tenant", "case-42", csv.to_str().unwrap()];
    let out = mailtrail(&db, &args, std::process::Stdio::piped());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mailtrail(&db, &["status"], std::process::Stdio::piped());
    let text = stdout(&out);
    let activity = text
        .lines()
        .find(|l| l.starts_with("case-42") && l.contains("activity"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        activity.contains("NEVER RUN") && activity.contains(" 2 "),
        "{text}"
    );
    assert!(text.contains("case-42: only imported data"), "{text}");
}

/// `query --limit 0` means no limit (as in `search`); a negated search term outside quotes
/// gets the fix "quote the filter", not clap's `-- -s`.
#[test]
fn limit_zero_is_no_limit_and_an_unquoted_negation_is_told_to_quote() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path());
    let out = mailtrail(
        &db,
        &["query", "--limit", "0", "SELECT * FROM email_events"],
        std::process::Stdio::piped(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("more rows not shown") && !err.starts_with("0 rows"),
        "{err}"
    );
    let rows = stdout(&out).lines().count() - 2; // header and rule
    assert_eq!(err.trim(), format!("{rows} rows"));
    assert!(rows > 100, "{rows}");

    let out = search(&db, &["invoice", "-status:resolved", "--limit", "5"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("quoted filter: mailtrail search 'invoice -status:resolved'"),
        "{err}"
    );
    assert!(!err.contains("-- -s"), "{err}");
    // Options anywhere (global or the search's own, with or without a value) stay out of the
    // suggested filter.
    let out = search(
        &db,
        &[
            "--threats",
            "-q",
            "invoice",
            "--sort=time",
            "-severity:low",
            "--limit",
            "5",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("quoted filter: mailtrail search 'invoice -severity:low'"),
        "{err}"
    );
}
