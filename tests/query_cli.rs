//! `mailtrail query` as a user runs it, over a store synced from the simulator: every kind of
//! write is refused with a one-line message and exit 2 and leaves the store's bytes as they
//! were; the views agree with the tables they present; CSV and JSON parse; docs/query.md
//! documents every column of every view.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use mailtrail::simulator::{FaultPlan, Scale};
use rusqlite::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A store synced twice, a day apart, so alerts have several versions.
async fn synced_store(dir: &Path) -> PathBuf {
    let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
    let db = dir.join("m.db");
    let end = sim.clock().now();
    for days_back in [1, 0] {
        sim.clock().set(end - chrono::Duration::days(days_back));
        common::sync_days(&sim, &db, 7).await;
    }
    db
}

fn mailtrail(db: &Path, args: &[&str]) -> Output {
    common::cli(db).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn query_json(db: &Path, sql: &str) -> Vec<serde_json::Map<String, Value>> {
    let text = stdout(&mailtrail(db, &["query", "--json", sql]));
    let rows: Vec<Value> = serde_json::from_str(&text).unwrap();
    rows.into_iter()
        .map(|r| r.as_object().expect("each row is an object").clone())
        .collect()
}

/// The bytes SQLite keeps a store in: the main file and its write-ahead log.
fn fingerprint(db: &Path) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(std::fs::read(db).unwrap());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(bytes) = std::fs::read(PathBuf::from(wal)) {
        hash.update(bytes);
    }
    hash.finalize().to_vec()
}

fn count(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn every_kind_of_write_is_refused_and_the_store_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let attached = dir.path().join("attached.db");
    let vacuumed = dir.path().join("vacuumed.db");
    let before = fingerprint(&db);
    let alerts_before = count(
        &Connection::open(&db).unwrap(),
        "SELECT count(*) FROM alerts",
    );
    let writes = [
        (
            "INSERT INTO alerts (tenant) VALUES ('x')",
            "INSERT INTO alerts writes",
        ),
        (
            "insert into main.email_events (tenant) values ('x')",
            "INSERT INTO email_events writes",
        ),
        (
            "REPLACE INTO alerts (tenant, id) VALUES ('x', 'y')",
            "INSERT INTO alerts writes",
        ),
        (
            "UPDATE alerts SET status = 'resolved'",
            "UPDATE alerts writes",
        ),
        (
            "UPDATE threats SET status = 'resolved'",
            "threats is a view",
        ),
        (
            "DELETE FROM alert_evidence",
            "DELETE FROM alert_evidence writes",
        ),
        ("DELETE FROM email_events", "email_events is a view"),
        (
            "WITH x AS (SELECT 1) DELETE FROM main.sync_runs",
            "DELETE FROM sync_runs writes",
        ),
        (
            &format!("ATTACH '{}' AS other", attached.display()),
            "ATTACH opens another database file",
        ),
        ("DETACH temp", "DETACH"),
        (
            "PRAGMA user_version = 9",
            "PRAGMA user_version = 9 changes a setting",
        ),
        (
            "PRAGMA journal_mode = delete",
            "PRAGMA journal_mode = delete changes a setting",
        ),
        (
            "PRAGMA query_only = OFF",
            "PRAGMA query_only = OFF changes a setting",
        ),
        ("PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_checkpoint"),
        ("PRAGMA incremental_vacuum", "PRAGMA incremental_vacuum"),
        ("CREATE TABLE notes (x)", "change the schema"),
        ("CREATE TEMP TABLE scratch (x)", "change the schema"),
        ("CREATE INDEX i ON alerts (title)", "change the schema"),
        ("DROP VIEW threats", "change the schema"),
        ("DROP TABLE alerts", "change the schema"),
        ("ALTER TABLE alerts ADD COLUMN z", "ALTER TABLE"),
        ("ANALYZE", "change the schema"),
        ("REINDEX", "REINDEX"),
        ("VACUUM", "VACUUM"),
        (
            &format!("VACUUM INTO '{}'", vacuumed.display()),
            "VACUUM INTO",
        ),
        ("BEGIN IMMEDIATE", "transaction control"),
        ("SAVEPOINT s", "transaction control"),
        (
            "SELECT count(*) FROM threats; DELETE FROM alerts",
            "DELETE FROM alerts writes",
        ),
        (
            "SELECT 1;\n-- looks harmless\nUPDATE alerts SET title = 'x'",
            "UPDATE alerts writes",
        ),
        ("SELECT load_extension('/tmp/evil')", "does not allow"),
    ];
    for (sql, named) in &writes {
        let out = mailtrail(&db, &["query", sql]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sql}: {stderr}");
        assert!(
            stderr.starts_with("mailtrail: query: refused, mailtrail query is read-only (")
                && stderr.contains(named)
                && stderr
                    .trim_end()
                    .ends_with("use a SELECT over the views in docs/query.md")
                && stderr.trim_end().lines().count() == 1,
            "{sql}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{sql}: nothing on stdout");
    }
    assert!(!attached.exists(), "ATTACH created no file");
    assert!(!vacuumed.exists(), "VACUUM INTO created no file");
    assert_eq!(fingerprint(&db), before, "the store's bytes are unchanged");
    let c = Connection::open(&db).unwrap();
    assert_eq!(count(&c, "SELECT count(*) FROM alerts"), alerts_before);
    assert_eq!(
        count(&c, "PRAGMA user_version"),
        i64::from(mailtrail::store::SCHEMA_VERSION)
    );

    // Several read-only statements: refused as such, not run.
    let out = mailtrail(&db, &["query", "SELECT 1; SELECT 2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("one statement per query (2 given)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn mistakes_and_a_missing_store_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    for (sql, says) in [
        ("SELEC * FROM threats", "syntax error"),
        ("SELECT nope FROM threats", "no such column: nope"),
        ("SELECT * FROM alertz", "no such table: alertz"),
        ("", "no SQL statement given"),
        (
            "SELECT json_extract(subject, '$') FROM email_events",
            "malformed JSON",
        ),
    ] {
        let out = mailtrail(&db, &["query", sql]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sql}: {stderr}");
        assert!(stderr.contains(says), "{sql}: {stderr}");
        assert!(
            stderr.contains("threats, evidence, email_events, urls, ocsf_events, sync_runs"),
            "{sql}: the hint lists the views: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    let missing = dir.path().join("nowhere.db");
    let out = mailtrail(&missing, &["query", "SELECT 1"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run `mailtrail sync`"), "{stderr}");
    assert!(!missing.exists(), "query never creates a store");
}

#[tokio::test]
async fn the_views_present_exactly_what_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let c = Connection::open(&db).unwrap();
    let one = |sql: &str| -> i64 {
        query_json(&db, sql)[0]
            .values()
            .next()
            .and_then(Value::as_i64)
            .expect("an integer")
    };
    for (view, table) in [
        ("threats", "SELECT count(*) FROM alerts"),
        ("evidence", "SELECT count(*) FROM alert_evidence"),
        ("email_events", "SELECT count(*) FROM email_events"),
        ("sync_runs", "SELECT count(*) FROM sync_runs"),
        (
            "ocsf_events",
            "SELECT (SELECT count(*) FROM ocsf_findings) + (SELECT count(*) FROM ocsf_email)",
        ),
    ] {
        let expected = count(&c, table);
        assert!(expected > 0, "{view}: the simulator filled {table}");
        assert_eq!(
            one(&format!("SELECT count(*) FROM {view}")),
            expected,
            "{view}"
        );
    }
    // Several versions per alert, one current finding per alert.
    assert!(
        count(&c, "SELECT count(*) FROM alert_versions") > count(&c, "SELECT count(*) FROM alerts")
    );
    assert_eq!(
        one("SELECT count(*) FROM ocsf_events WHERE class_uid = 2004 AND is_current"),
        count(&c, "SELECT count(*) FROM alerts")
    );

    // urls: every urlEvidence URL and every entry of an analyzed message's `urls`, from the raw JSON.
    let mut expected_urls = BTreeMap::<(String, String), usize>::new();
    let mut stmt = c
        .prepare("SELECT alert_id, raw FROM alert_evidence")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let alert: String = row.get(0).unwrap();
        let raw: Value = serde_json::from_str(&row.get::<_, String>(1).unwrap()).unwrap();
        let urls: Vec<&str> = match raw["@odata.type"].as_str().unwrap_or_default() {
            "#microsoft.graph.security.urlEvidence" => raw["url"].as_str().into_iter().collect(),
            "#microsoft.graph.security.analyzedMessageEvidence" => raw["urls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect(),
            _ => Vec::new(),
        };
        for url in urls {
            *expected_urls
                .entry((alert.clone(), url.to_string()))
                .or_default() += 1;
        }
    }
    assert!(!expected_urls.is_empty());
    let mut seen = BTreeMap::<(String, String), usize>::new();
    for row in query_json(&db, "SELECT alert_id, url, url_domain FROM urls") {
        let url = row["url"].as_str().unwrap().to_string();
        let host = url
            .split("://")
            .nth(1)
            .unwrap()
            .split(['/', '?', '#', ':'])
            .next()
            .unwrap();
        assert_eq!(
            row["url_domain"].as_str(),
            Some(host.to_lowercase().as_str()),
            "{url}"
        );
        *seen
            .entry((row["alert_id"].as_str().unwrap().to_string(), url))
            .or_default() += 1;
    }
    assert_eq!(seen, expected_urls);

    // Times: ISO 8601 UTC text and the same instant in milliseconds.
    for row in query_json(
        &db,
        "SELECT timestamp, timestamp_ms FROM email_events LIMIT 50",
    ) {
        let text = row["timestamp"].as_str().unwrap();
        let ms = row["timestamp_ms"].as_i64().unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(text).unwrap();
        assert!(text.ends_with('Z') && text.len() == 24, "{text}");
        assert_eq!(parsed.timestamp_millis(), ms, "{text}");
    }
}

#[tokio::test]
async fn investigations_answer_from_the_views_as_from_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let c = Connection::open(&db).unwrap();

    // A phish that reached several mailboxes: who got it, and where it landed.
    let nmid: String = c
        .query_row(
            "SELECT e.network_message_id FROM alert_evidence v JOIN email_events e USING (network_message_id)
             WHERE v.odata_type LIKE '%analyzedMessageEvidence'
             GROUP BY 1 HAVING count(DISTINCT e.recipient) > 1 ORDER BY count(DISTINCT e.recipient) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("the simulator sends multi-recipient threats");
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    let mut stmt = c
        .prepare("SELECT recipient, coalesce(latest_delivery_location, delivery_location, '') FROM email_events WHERE network_message_id = ?1")
        .unwrap();
    let mut rows = stmt.query([&nmid]).unwrap();
    while let Some(r) = rows.next().unwrap() {
        expected.insert((r.get(0).unwrap(), r.get(1).unwrap()));
    }
    let sql = format!(
        "SELECT recipient, coalesce(latest_delivery_location, delivery_location, '') AS landed_in
         FROM email_events WHERE network_message_id = '{nmid}' ORDER BY recipient"
    );
    let got: BTreeSet<(String, String)> = query_json(&db, &sql)
        .into_iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap().to_string(),
                r["landed_in"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(got.len() > 1);
    assert_eq!(got, expected);

    // Alerts still open with inbox evidence.
    let expected = count(
        &c,
        "SELECT count(DISTINCT a.id) FROM alerts a JOIN alert_evidence e ON e.tenant = a.tenant AND e.alert_id = a.id
         WHERE a.status <> 'resolved' AND e.delivery_location LIKE 'inbox%'",
    );
    let open = query_json(
        &db,
        "SELECT DISTINCT t.alert_id FROM threats t JOIN evidence e USING (tenant, alert_id)
         WHERE t.status <> 'resolved' AND e.delivery_location LIKE 'inbox%'",
    );
    assert_eq!(open.len() as i64, expected);

    // CSV: RFC 4180 records, one per row plus the header, the same values as JSON.
    let csv = stdout(&mailtrail(
        &db,
        &[
            "query",
            "--csv",
            "SELECT network_message_id, recipient, subject, attachment_count FROM email_events ORDER BY timestamp_ms, recipient",
        ],
    ));
    let records = parse_csv(&csv);
    let json = query_json(
        &db,
        "SELECT network_message_id, recipient, subject, attachment_count FROM email_events ORDER BY timestamp_ms, recipient",
    );
    assert_eq!(
        records[0],
        [
            "network_message_id",
            "recipient",
            "subject",
            "attachment_count"
        ]
    );
    assert_eq!(records.len(), json.len() + 1);
    for (record, row) in records[1..].iter().zip(&json) {
        assert_eq!(record[1], row["recipient"].as_str().unwrap());
        assert_eq!(record[2], row["subject"].as_str().unwrap_or_default());
        assert!(
            row["attachment_count"].is_i64(),
            "integers stay numbers: {row:?}"
        );
        assert_eq!(record[3], row["attachment_count"].to_string());
    }

    // A table: capped rows, the rest counted on stderr, hostile text neutralised.
    let out = mailtrail(
        &db,
        &[
            "query",
            "--limit",
            "5",
            "SELECT subject, sender_display_name FROM email_events",
        ],
    );
    let table = stdout(&out);
    assert_eq!(table.lines().count(), 2 + 5, "{table}");
    let more = count(&c, "SELECT count(*) FROM email_events") - 5;
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("5 rows; {more} more rows not shown")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = stdout(&mailtrail(
        &db,
        &[
            "query",
            "--limit",
            "100000",
            "SELECT subject, sender_display_name FROM email_events",
        ],
    ));
    assert!(
        !all.chars()
            .any(|ch| ch == '\u{1b}' || mailtrail::terminal::is_bidi_control(ch))
    );
}

#[tokio::test]
async fn every_view_column_is_documented() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/query.md"))
        .unwrap();
    let out = mailtrail(&db, &["query", "--views", "--json"]);
    let columns: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let mut views = BTreeSet::new();
    for c in &columns {
        let view = c["view"].as_str().unwrap();
        let column = c["column"].as_str().unwrap();
        views.insert(view.to_string());
        let section = docs
            .split(&format!("### `{view}`"))
            .nth(1)
            .unwrap_or_else(|| panic!("docs/query.md has a section for {view}"));
        let section = section.split("\n### ").next().unwrap();
        // A row of the section's table names the column in its first cell (`a` / `a_ms`).
        let named = format!("`{column}`");
        assert!(
            section
                .lines()
                .filter_map(|line| line.strip_prefix("| "))
                .any(|row| row
                    .split(" | ")
                    .next()
                    .unwrap_or_default()
                    .split(" / ")
                    .any(|c| c == named)),
            "docs/query.md documents {view}.{column}"
        );
    }
    let expected: BTreeSet<String> = mailtrail::store::query::VIEWS
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(views, expected);
}

/// A strict RFC 4180 reader: quoted fields may hold commas, quotes ("") and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, ch) => field.push(ch),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, ch) => {
                assert!(ch != '\n', "a bare LF outside quotes");
                field.push(ch);
            }
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record ends with CRLF"
    );
    records
}
