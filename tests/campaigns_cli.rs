//! `mailtrail campaigns`: over a store synced from the simulator (seed 42, small scale, clock
//! frozen at 2026-11-20T12:00Z), the JSON lists campaigns with their counts, singletons and
//! clean mail stay out, the flags narrow the list, and bad input is a usage error (exit 2).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use mailtrail::collector::{self, Plan, Progress};
use mailtrail::config::{Stream, SyncConfig};
use mailtrail::simulator::{FaultPlan, Scale};
use serde_json::Value;

async fn synced_store(dir: &Path) -> PathBuf {
    let path = dir.join("c.db");
    let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
    let src = common::source(&sim, 0);
    let plan = Plan::new(SyncConfig::default(), Some(Duration::from_secs(7 * 86_400)));
    let reports = collector::sync_all(
        path.clone(),
        std::slice::from_ref(&src),
        &Stream::ALL,
        &plan,
        &AtomicBool::new(false),
        &Progress::hidden(),
    )
    .await;
    assert!(reports.iter().all(|r| r.error.is_none()));
    path
}

fn mailtrail(db: &Path, args: &[&str]) -> Output {
    let home = db.parent().unwrap().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailtrail"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MAILTRAIL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"));
    cmd.arg("--db").arg(db).args(args).output().unwrap()
}

const SPAN: [&str; 4] = [
    "--since",
    "2026-11-13T12:00:00Z",
    "--until",
    "2026-11-20T12:00:00Z",
];

fn json(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("JSON")
        .as_array()
        .expect("an array")
        .clone()
}

#[tokio::test]
async fn campaigns_json_lists_grouped_threat_mail_and_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;

    let all = json(&mailtrail(
        &db,
        &[&["campaigns", "--json"], &SPAN[..]].concat(),
    ));
    assert!(
        !all.is_empty(),
        "the simulator's phishing waves form campaigns"
    );
    for c in &all {
        for key in [
            "tenant",
            "key_type",
            "key",
            "first_seen_ms",
            "last_seen_ms",
            "messages",
            "recipients",
            "delivered",
            "alerts",
            "top_subject",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert!(c["messages"].as_u64().unwrap() >= 2, "no singletons: {c}");
        assert!(c["delivered"].as_u64() <= c["recipients"].as_u64());
        assert!(c["first_seen_ms"].as_i64() <= c["last_seen_ms"].as_i64());
    }
    let types: std::collections::BTreeSet<&str> =
        all.iter().filter_map(|c| c["key_type"].as_str()).collect();
    assert_eq!(
        types,
        ["sender_domain", "subject", "url_domain"]
            .into_iter()
            .collect()
    );
    // Most delivered first.
    let delivered: Vec<u64> = all
        .iter()
        .map(|c| c["delivered"].as_u64().unwrap())
        .collect();
    assert!(delivered.windows(2).all(|w| w[0] >= w[1]), "{delivered:?}");

    // A higher bar and a shorter window give fewer, smaller campaigns.
    let big = json(&mailtrail(
        &db,
        &[&["campaigns", "--json", "--min-messages", "4"], &SPAN[..]].concat(),
    ));
    assert!(big.len() < all.len());
    assert!(big.iter().all(|c| c["messages"].as_u64().unwrap() >= 4));
    let short = json(&mailtrail(
        &db,
        &[&["campaigns", "--json", "--window", "10m"], &SPAN[..]].concat(),
    ));
    assert!(short.len() < all.len(), "{} vs {}", short.len(), all.len());

    // The table names its columns.
    let out = mailtrail(&db, &[&["campaigns"], &SPAN[..]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("KEY TYPE"), "{text}");
    assert!(text.contains("DELIVERED"));

    for (args, says) in [
        (vec!["campaigns", "--window", "soon"], "--window"),
        (vec!["campaigns", "--since", "yesterday"], "--since"),
        (vec!["campaigns", "--min-messages", "1"], "min-messages"),
    ] {
        let out = mailtrail(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
