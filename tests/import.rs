//! `mailtrail import`: responses captured from the simulator over HTTP (what a script or another
//! tool would have saved), imported, and compared with a sync of the same simulator — same keys,
//! same raw records, same OCSF events — plus refusals of malformed files with nothing stored.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{simulator, start_time, token};
use mailtrail::collector::activity::{COLUMNS, window_query};
use mailtrail::config::SyncConfig;
use mailtrail::import::{ImportRequest, import};
use mailtrail::simulator::{FaultPlan, Scale, Simulator};
use mailtrail::store::Store;
use mailtrail::store::sync::format_ns;
use serde_json::Value;

const SINCE_DAYS: i64 = 7;

fn window() -> (i64, i64) {
    let now = start_time().timestamp_nanos_opt().unwrap();
    let lag = SyncConfig::default().activity_lag.as_nanos() as i64;
    (now - SINCE_DAYS * 86_400_000_000_000, now - lag)
}

async fn sync_into(sim: &Simulator, db: &Path) {
    common::sync_days(sim, db, SINCE_DAYS as u64).await;
}

/// Every alerts_v2 page updated in the sync's window, all services (the import must leave
/// the non-MDO ones out, as the sync's $filter does), as the bodies Graph sent.
async fn capture_alert_pages(sim: &Simulator) -> Vec<String> {
    let token = token(sim, 0).await;
    let filter = format!("lastUpdateDateTime ge {}", format_ns(window().0));
    let mut url = reqwest::Url::parse_with_params(
        &format!("{}/v1.0/security/alerts_v2", sim.url()),
        &[("$filter", filter.as_str()), ("$top", "100")],
    )
    .unwrap()
    .to_string();
    let mut pages = Vec::new();
    loop {
        let resp = common::http()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.text().await.unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        pages.push(body);
        match v["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert!(pages.len() > 1, "several pages");
    pages
}

/// The runHuntingQuery response for the sync's activity window, with the sync's columns.
async fn capture_hunting(sim: &Simulator) -> String {
    let token = token(sim, 0).await;
    let (from, to) = window();
    let resp = common::http()
        .post(format!("{}/v1.0/security/runHuntingQuery", sim.url()))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "Query": window_query(from, to, COLUMNS),
            "Timespan": format!("{}/{}", format_ns(from), format_ns(to)),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}

fn rows(db: &Path, sql: &str) -> BTreeMap<String, String> {
    let s = Store::open(db).unwrap();
    let mut stmt = s.conn().prepare(sql).unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    Store::open(db)
        .unwrap()
        .conn()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

const ALERTS: &str = "SELECT id, raw FROM alerts";
const VERSIONS: &str = "SELECT id || '@' || last_update_ns, raw FROM alert_versions";
/// OCSF events, without the time they were made (ingest time).
const FINDINGS: &str = "SELECT alert_id || '@' || last_update_ns,
    json_remove(event, '$.metadata.processed_time') FROM ocsf_findings";
const EVENTS: &str = "SELECT network_message_id || '/' || recipient, raw FROM email_events";
const EMAIL_OCSF: &str = "SELECT e.network_message_id || '/' || e.recipient,
    json_remove(o.event, '$.metadata.processed_time')
    FROM email_events e JOIN ocsf_email o ON o.event_rowid = e.rowid";
/// The typed columns of email events (a CSV cannot tell null from empty: compare as text).
const EVENT_COLUMNS: &str = "SELECT network_message_id || '/' || recipient,
    json_array(timestamp_ms, timestamp, direction, sender_from, sender_mail_from, sender_display_name,
      sender_from_domain, sender_ip, coalesce(subject, ''), delivery_action, delivery_location,
      latest_delivery_location, threat_types, internet_message_id, report_id)
    FROM email_events";

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn tenant_of(sim: &Simulator) -> Vec<(String, String)> {
    let t = &sim.tenants()[0];
    vec![(t.name.clone(), t.tenant_id.clone())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_pages_and_hunting_import_like_a_sync() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let synced = dir.path().join("synced.db");
    sync_into(&sim, &synced).await;

    let mut files: Vec<PathBuf> = capture_alert_pages(&sim)
        .await
        .iter()
        .enumerate()
        .map(|(i, body)| write(dir.path(), &format!("alerts-{i}.json"), body))
        .collect();
    files.push(write(
        dir.path(),
        "hunting.json",
        &capture_hunting(&sim).await,
    ));
    let imported = dir.path().join("imported.db");
    let req = ImportRequest {
        files: files.clone(),
        tenant: None, // from the alerts' tenantId, a configured tenant
        dry_run: false,
    };
    let report = import(&imported, &tenant_of(&sim), &req).unwrap();
    assert_eq!(report.tenant, sim.tenants()[0].name);
    let skipped: u64 = report.files.iter().map(|f| f.skipped_not_mdo).sum();
    assert!(skipped > 0, "the capture holds other products' alerts");
    assert!(report.files[0].format.contains("alerts_v2 page"));
    assert_eq!(report.files.last().unwrap().format, "hunting response");

    for sql in [ALERTS, VERSIONS, FINDINGS, EVENTS, EMAIL_OCSF] {
        let (a, b) = (rows(&synced, sql), rows(&imported, sql));
        assert!(!a.is_empty(), "{sql}: the sync stored something");
        assert_eq!(a.len(), b.len(), "{sql}");
        assert!(a == b, "{sql}: imported rows differ from synced ones");
    }
    // Each threat is found by the text of its evidence, indexed as a sync indexes it.
    let unfound = count(
        &imported,
        r#"SELECT count(*) FROM alert_evidence e JOIN alerts a ON a.tenant = e.tenant AND a.id = e.alert_id
         WHERE e.recipient IS NOT NULL AND NOT EXISTS (SELECT 1 FROM alert_fts
             WHERE alert_fts MATCH '"' || replace(e.recipient, '"', '') || '"' AND rowid = a.rowid)"#,
    );
    assert!(
        count(
            &imported,
            "SELECT count(*) FROM alert_evidence WHERE recipient IS NOT NULL"
        ) > 0
    );
    assert_eq!(unfound, 0, "evidence recipients the threat index misses");
    assert_eq!(
        count(&imported, "SELECT count(*) FROM checkpoints")
            + count(&imported, "SELECT count(*) FROM gaps")
            + count(&imported, "SELECT count(*) FROM sync_runs"),
        0,
        "import touches no checkpoint, gap or sync run"
    );

    // Importing again, or importing into the synced store, changes nothing.
    for db in [&imported, &synced] {
        let again = import(db, &tenant_of(&sim), &req).unwrap();
        for f in &again.files {
            assert_eq!((f.outcome.new, f.outcome.updated), (0, 0), "{f:?}");
            assert_eq!(f.outcome.unchanged, f.records);
        }
    }
}

/// Inserts a line break and indentation after every structural comma (a pretty-printed copy).
fn loosen(compact: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in compact.chars() {
        out.push(c);
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' || c == '{' {
            out.push_str("\n    ");
        }
    }
    out
}

fn csv_cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => format!("\"{}\"", s.replace('"', "\"\"")),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_a_single_pretty_alert_and_the_portal_csv_import_like_a_sync() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let synced = dir.path().join("synced.db");
    sync_into(&sim, &synced).await;

    // NDJSON of every captured alert but the last, which comes alone and pretty-printed.
    let mut alerts: Vec<String> = Vec::new();
    for page in capture_alert_pages(&sim).await {
        // The raw text of each element, in Graph's key order.
        #[derive(serde::Deserialize)]
        struct Page {
            value: Vec<Box<serde_json::value::RawValue>>,
        }
        let p: Page = serde_json::from_str(&page).unwrap();
        alerts.extend(p.value.into_iter().map(|r| r.get().to_string()));
    }
    let mdo_last = alerts
        .iter()
        .rposition(|a| a.contains("\"microsoftDefenderForOffice365\""))
        .unwrap();
    let single = alerts.remove(mdo_last);
    let ndjson = write(dir.path(), "alerts.ndjson", &(alerts.join("\n") + "\n"));
    let one = write(
        dir.path(),
        "alert.json",
        &format!(
            "{{\"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2/$entity\",\n{}",
            &loosen(&single)[1..]
        ),
    );

    // The portal's export: a header of column names, RFC 4180 quoting, nulls as empty cells.
    #[derive(serde::Deserialize)]
    struct Hunting {
        results: Vec<serde_json::Map<String, Value>>,
    }
    let hunting: Hunting = serde_json::from_str(&capture_hunting(&sim).await).unwrap();
    let mut csv = COLUMNS.join(",") + "\r\n";
    for row in &hunting.results {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| csv_cell(row.get(*c).unwrap_or(&Value::Null)))
            .collect();
        csv.push_str(&cells.join(","));
        csv.push_str("\r\n");
    }
    let csv = write(dir.path(), "EmailEvents.csv", &csv);

    let imported = dir.path().join("imported.db");
    let name = sim.tenants()[0].name.clone();
    let report = import(
        &imported,
        &tenant_of(&sim),
        &ImportRequest {
            files: vec![ndjson, one, csv],
            tenant: Some(name),
            dry_run: false,
        },
    )
    .unwrap();
    assert!(
        report.files[0].format.ends_with("NDJSON alerts"),
        "{:?}",
        report.files[0]
    );
    assert_eq!(report.files[1].format, "alert");
    assert_eq!(report.files[2].format, "CSV (EmailEvents)");
    for sql in [ALERTS, VERSIONS, FINDINGS, EVENT_COLUMNS] {
        let (a, b) = (rows(&synced, sql), rows(&imported, sql));
        assert!(!a.is_empty(), "{sql}");
        assert_eq!(a.len(), b.len(), "{sql}");
        for (k, v) in &a {
            assert_eq!(Some(v), b.get(k), "{sql}: {k}");
        }
    }
    assert_eq!(
        count(&imported, "SELECT count(*) FROM ocsf_email"),
        count(&synced, "SELECT count(*) FROM ocsf_email")
    );
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

/// `mailtrail import` with no config and no MAILTRAIL_* settings: (exit code, stdout, stderr).
fn cli(db: &Path, args: &[&str]) -> (i32, String, String) {
    let home = db.parent().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailtrail"));
    cmd.arg("--db").arg(db).arg("import").args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("MAILTRAIL_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stored(db: &Path) -> i64 {
    count(
        db,
        "SELECT (SELECT count(*) FROM email_events) + (SELECT count(*) FROM alerts) + (SELECT count(*) FROM alert_versions)",
    )
}

#[test]
fn malformed_files_are_refused_with_their_position_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let good = fixture("good.csv");
    let good = good.to_str().unwrap();
    let (code, out, err) = cli(&db, &["--tenant", "case-42", good]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("CSV (EmailEvents), 2 email events: 2 new, 0 updated, 0 unchanged"),
        "{out}"
    );
    assert_eq!(stored(&db), 2);

    let cases: &[(&str, &[&str])] = &[
        (
            "truncated_page.json",
            &["line 2, column", "the JSON ends early"],
        ),
        (
            "partly_bad.ndjson",
            &["line 3, column", "an alert without `id`"],
        ),
        (
            "mixed.ndjson",
            &["line 2, column", "mixes alerts and hunting"],
        ),
        (
            "wrong_columns.csv",
            &["line 1:", "column Url belongs to another table"],
        ),
        (
            "bad_timestamp.csv",
            &["line 5:", "\"2026-11-20 25:61:00\" is not a time"],
        ),
        (
            "not_email_events.json",
            &["not EmailEvents: no column RecipientEmailAddress"],
        ),
    ];
    for (name, expected) in cases {
        let bad = fixture(name);
        // The good file comes first: a bad file anywhere in the list imports nothing at all.
        let (code, _, err) = cli(&db, &["--tenant", "case-42", good, bad.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name), "{name}: the file is named: {err}");
        for e in *expected {
            assert!(err.contains(e), "{name}: expected {e:?} in {err}");
        }
        assert!(err.contains("nothing was imported"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert_eq!(stored(&db), 2, "{name}: nothing stored");
    }
}

#[test]
fn the_tenant_must_be_known_or_given_and_a_dry_run_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let good = fixture("good.csv");
    let (code, _, err) = cli(&db, &[good.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no tenant id") && err.contains("--tenant NAME"),
        "{err}"
    );
    assert!(!db.exists(), "a refused import creates no store");

    let alerts = dir.path().join("alerts.ndjson");
    let text = std::fs::read_to_string(fixture("partly_bad.ndjson")).unwrap();
    std::fs::write(&alerts, text.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    let (code, out, err) = cli(
        &db,
        &["--dry-run", "--tenant", "x", alerts.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("would import") && out.contains("2 alerts"),
        "{out}"
    );
    assert!(!db.exists(), "a dry run creates no store");

    // An unknown tenant id in the data needs a name; once named, it is known.
    let (code, _, err) = cli(&db, &[alerts.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("neither configured nor in the store"), "{err}");
    let (code, _, err) = cli(&db, &["--tenant", "fabrikam", alerts.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(&db, &[alerts.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("as tenant fabrikam") && out.contains("2 unchanged"),
        "{out}"
    );
    // The name now stands for that tenant id: another tenant's data under it is refused.
    let other = dir.path().join("other.ndjson");
    std::fs::write(
        &other,
        text.lines().next().unwrap().replace(
            "b3c1d9a2-5e4f-4a7b-9c8d-1e2f3a4b5c6d",
            "00000000-0000-0000-0000-0000000000bb",
        ),
    )
    .unwrap();
    let before = stored(&db);
    let (code, _, err) = cli(&db, &["--tenant", "fabrikam", other.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("but the data is from tenant 00000000-"),
        "{err}"
    );
    assert_eq!(stored(&db), before);
}

/// Files that are not what an import takes are refused in the user's terms: what the file is,
/// what is accepted; never a parser's internal type name.
#[test]
fn files_of_the_wrong_kind_are_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let not_mdo = r#"{"id":"da1","tenantId":"b3c1d9a2-5e4f-4a7b-9c8d-1e2f3a4b5c6d","serviceSource":"microsoftDefenderForEndpoint","lastUpdateDateTime":"2026-11-20T10:06:00Z"}"#;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
    /// (file name, content, what the message says, what it must not say)
    type Case<'a> = (&'a str, &'a [u8], &'a [&'a str], &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "endpoint.json",
            not_mdo.as_bytes(),
            &[
                "1 alert was skipped",
                "not Defender for Office 365",
                "nothing to import",
            ],
            &["no tenant id"],
        ),
        (
            "foo.json",
            br#"{"foo":1}"#,
            &[
                "none of the accepted shapes",
                "alerts_v2 page",
                "runHuntingQuery",
            ],
            &["without"],
        ),
        (
            "numbers.json",
            b"[1,2,3]",
            &[
                "alert #1",
                "an alerts_v2 alert is a JSON object, not a number",
            ],
            &["struct", "AlertCheck"],
        ),
        (
            "picture.png",
            png,
            &["not a JSON or CSV file (binary data)"],
            &["UTF-8"],
        ),
    ];
    for (name, content, expected, absent) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let (code, _, err) = cli(&db, &[path.to_str().unwrap()]);
        assert_eq!(code, 2, "{name}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: one line: {err}");
        for e in *expected {
            assert!(err.contains(e), "{name}: expected {e:?} in {err}");
        }
        for a in *absent {
            assert!(!err.contains(a), "{name}: {a:?} in {err}");
        }
        assert!(!db.exists(), "{name}: a refused import creates no store");
    }
    let (code, _, err) = cli(&db, &["-"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot read from stdin") && err.contains("save the data to a file"),
        "{err}"
    );
}

#[test]
fn one_of_a_kind_is_counted_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let one = dir.path().join("one.ndjson");
    let text = std::fs::read_to_string(fixture("partly_bad.ndjson")).unwrap();
    std::fs::write(&one, text.lines().next().unwrap()).unwrap();
    let (code, out, err) = cli(&db, &["--dry-run", "--tenant", "x", one.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": alert, 1 alert\n"), "{out}");
    assert!(out.contains("total: 1 file, 1 alert in"), "{out}");
}

/// A store failure midway (here a trigger standing in for a full disk, on the first row after
/// a full batch of EmailEvents rows was written) stores nothing from the import: not the
/// alerts of the file before, not the rows already written, not the tenant's name.
#[test]
fn a_store_failure_midway_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    Store::open(&db)
        .unwrap()
        .conn()
        .execute_batch(
            "CREATE TRIGGER disk_full BEFORE INSERT ON email_events
             WHEN NEW.network_message_id = 'poison'
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
        )
        .unwrap();
    let alerts = dir.path().join("alerts.ndjson");
    let text = std::fs::read_to_string(fixture("partly_bad.ndjson")).unwrap();
    std::fs::write(&alerts, text.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    // More rows than one batch (10,000), the last one poisoned.
    let mut csv = String::from("Timestamp,NetworkMessageId,RecipientEmailAddress\n");
    for i in 0..10_050 {
        csv.push_str(&format!(
            "2026-11-20T10:00:00Z,0a1b2c3d-0000-0000-0000-{i:012},ann@contoso.com\n"
        ));
    }
    csv.push_str("2026-11-20T10:00:00Z,poison,ann@contoso.com\n");
    let rows = write(dir.path(), "rows.csv", &csv);

    let req = ImportRequest {
        files: vec![alerts, rows],
        tenant: Some("case-42".into()),
        dry_run: false,
    };
    let err = import(&db, &[], &req).unwrap_err();
    assert_eq!(stored(&db), 0, "nothing from the import is stored");
    assert_eq!(count(&db, "SELECT count(*) FROM ocsf_email"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM ocsf_findings"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM tenants"), 0);
    // Reported as the store's failure, not as a file that changed.
    assert!(
        format!("{err:?}").contains("database or disk is full"),
        "{err:?}"
    );

    // Without the fault the same import stores everything.
    Store::open(&db)
        .unwrap()
        .conn()
        .execute_batch("DROP TRIGGER disk_full")
        .unwrap();
    import(&db, &[], &req).unwrap();
    assert_eq!(stored(&db), 2 + 2 + 10_051);
}
