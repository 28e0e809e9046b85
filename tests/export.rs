//! OCSF export after a full simulator sync: every event validates against the official compiled
//! schema, every evidence type appears, and the CLI writes NDJSON/JSON atomically with filters.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::sync::atomic::AtomicBool;

use common::{simulator, source};
use mailtrail::collector::{self, Plan, Progress};
use mailtrail::config::{Stream, SyncConfig};
use mailtrail::export::{ExportRequest, write_events};
use mailtrail::ocsf::{Schema, Severity};
use mailtrail::simulator::{FaultPlan, Scale};
use mailtrail::store::Store;
use serde_json::Value;

fn schema_path() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MAILTRAIL_OCSF_SCHEMA") {
        return Some(PathBuf::from(p));
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ocsf/ocsf-schema-1.8.0.json");
    p.exists().then_some(p)
}

async fn synced_store(dir: &Path) -> PathBuf {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let db = dir.join("m.db");
    let plan = Plan::new(
        SyncConfig::default(),
        Some(std::time::Duration::from_secs(29 * 86_400)),
    );
    // Sync three times a day apart, so alerts are stored in several versions of their lifecycle.
    let end = sim.clock().now();
    let src = source(&sim, 0);
    for days_back in [2, 1, 0] {
        sim.clock().set(end - chrono::Duration::days(days_back));
        let reports = collector::sync_all(
            db.clone(),
            std::slice::from_ref(&src),
            &Stream::ALL,
            &plan,
            &AtomicBool::new(false),
            &Progress::hidden(),
        )
        .await;
        assert!(
            reports.iter().all(|r| r.error.is_none()),
            "{:?}",
            reports.iter().map(|r| &r.error).collect::<Vec<_>>()
        );
    }
    db
}

fn all(json_array: bool, all_versions: bool, raw: bool) -> ExportRequest {
    ExportRequest {
        findings: true,
        emails: true,
        since_ms: None,
        until_ms: None,
        tenant: None,
        all_versions,
        raw,
        json_array,
    }
}

#[tokio::test]
async fn every_exported_event_validates_against_the_official_schema() {
    let Some(path) = schema_path() else {
        println!(
            "SKIPPED: OCSF schema not found at ../shared/ocsf/ocsf-schema-1.8.0.json (set MAILTRAIL_OCSF_SCHEMA)"
        );
        return;
    };
    let schema = Schema::load(&path).expect("the compiled schema loads");
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let store = Store::open_read_only(&db).unwrap();
    let mut out = Vec::new();
    let counts = write_events(&store, &all(false, true, true), &mut out, &mut |_| {}).unwrap();
    let versions: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM alert_versions", [], |r| r.get(0))
        .unwrap();
    let events: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM email_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        counts.findings as i64, versions,
        "one finding per stored version"
    );
    assert_eq!(
        counts.emails as i64, events,
        "one email activity per stored event"
    );
    assert!(counts.findings > 300 && counts.emails > 3_000, "{counts:?}");

    let mut evidence_types = BTreeSet::new();
    let mut activities = BTreeSet::new();
    let mut failures = Vec::new();
    for line in String::from_utf8(out).unwrap().lines() {
        let event: Value = serde_json::from_str(line).expect("each line is one JSON object");
        let errors: Vec<_> = schema
            .validate(&event)
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        if !errors.is_empty() && failures.len() < 5 {
            failures.push(format!(
                "{}: {errors:?}",
                event["metadata"]["original_event_uid"]
            ));
        }
        for e in event["evidences"].as_array().into_iter().flatten() {
            evidence_types.insert(e["name"].as_str().unwrap_or_default().to_string());
        }
        if event["class_uid"] == 2004 {
            activities.insert(event["activity_id"].as_i64().unwrap());
        }
        assert!(
            event["raw_data"].is_string(),
            "--raw attaches the source record"
        );
    }
    assert!(
        failures.is_empty(),
        "events with schema errors:\n{}",
        failures.join("\n")
    );
    for t in [
        "analyzedMessageEvidence",
        "mailboxEvidence",
        "urlEvidence",
        "userEvidence",
        "ipEvidence",
        "mailClusterEvidence",
        "fileEvidence",
    ] {
        assert!(
            evidence_types.contains(&format!("#microsoft.graph.security.{t}")),
            "{t} missing from {evidence_types:?}"
        );
    }
    assert_eq!(
        activities,
        BTreeSet::from([1, 2, 3]),
        "Create, Update and Close all occur"
    );
}

#[tokio::test]
async fn default_export_is_one_finding_per_alert_in_its_current_state() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let store = Store::open_read_only(&db).unwrap();
    let mut out = Vec::new();
    let mut req = all(true, false, false);
    req.emails = false;
    let counts = write_events(&store, &req, &mut out, &mut |_| {}).unwrap();
    let alerts: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(counts.findings as i64, alerts);
    let array: Vec<Value> = serde_json::from_slice(&out).expect("--format json is one JSON array");
    assert_eq!(array.len() as i64, alerts);
    let current: BTreeSet<(String, String)> = {
        let mut stmt = store
            .conn()
            .prepare("SELECT id, status FROM alerts")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let exported: BTreeSet<(String, String)> = array
        .iter()
        .map(|e| {
            (
                e["finding_info"]["uid"].as_str().unwrap().to_string(),
                e["status_code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(exported, current);
}

fn mailtrail(db: &Path, args: &[&str]) -> std::process::Output {
    common::cli(db).args(args).output().unwrap()
}

#[tokio::test]
async fn the_cli_exports_atomically_with_filters_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let file = dir.path().join("out.ndjson");
    let out = mailtrail(&db, &["export", "-o", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exported") && stderr.contains("detection findings"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let n = text.lines().count();
    assert!(n > 1000);
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp-")),
        "no temp file left"
    );

    let out = mailtrail(
        &db,
        &[
            "export",
            "--class",
            "email_activity",
            "--since",
            "2026-11-19T00:00:00Z",
            "--until",
            "2026-11-20T00:00:00Z",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty() && lines.len() < n);
    let ms = |t: &str| {
        t.parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            .timestamp_millis()
    };
    let (lo, hi) = (ms("2026-11-19T00:00:00Z"), ms("2026-11-20T00:00:00Z"));
    assert!(lines.iter().all(|e| e["class_uid"] == 4009
        && e["time"].as_i64().unwrap() >= lo
        && e["time"].as_i64().unwrap() < hi));

    for (args, needle) in [
        (
            vec!["export", "--since", "yesterday"],
            "--since 'yesterday'",
        ),
        (
            vec!["export", "--since", "1h", "--until", "2h"],
            "--since must be before --until",
        ),
        (
            vec!["export", "--tenant", "nobody"],
            "no tenant named 'nobody'",
        ),
    ] {
        let out = mailtrail(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    // A file that cannot be written: runtime failure, nothing half-written left behind.
    let out = mailtrail(
        &db,
        &[
            "export",
            "-o",
            dir.path().join("no/such/dir/x.ndjson").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}
