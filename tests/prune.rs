//! `mailtrail prune` and retention: a store synced from the simulator (30 days of data, frozen
//! clock) pruned at 7 days keeps exactly what is newer than the cutoff, leaves no orphans, no
//! stale full-text hits, no lost notes, gives the space back, and `--dry-run` touches nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Duration, Utc};
use mailtrail::collector::schedule::StopSignal;
use mailtrail::collector::{self, Plan, Progress};
use mailtrail::config::{Stream, SyncConfig};
use mailtrail::simulator::{FaultPlan, Scale};
use mailtrail::store::Store;
use mailtrail::store::retention::{PruneOptions, PruneReport, Removed, Vacuum, store_bytes};
use mailtrail::store::sync::Advance;
use mailtrail::tui::text::thousands;
use rusqlite::Connection;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

const KEEP_DAYS: i64 = 7;

/// A store holding 30 days of simulated mail and alerts, some alerts with history, extra
/// old sync runs and notes, and the simulator's (frozen) now.
struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    now: DateTime<Utc>,
    tenant: String,
}

impl Fixture {
    fn cutoff_ms(&self) -> i64 {
        (self.now - Duration::days(KEEP_DAYS)).timestamp_millis()
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.db).unwrap()
    }
}

fn alert(id: &str, updated: DateTime<Utc>, status: &str, title: &str) -> Box<RawValue> {
    let updated = updated.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let v = serde_json::json!({
        "id": id, "createdDateTime": "2026-10-01T00:00:00Z", "lastUpdateDateTime": updated,
        "status": status, "title": title, "serviceSource": "microsoftDefenderForOffice365",
        "evidence": [{"@odata.type": "#microsoft.graph.security.analyzedMessageEvidence",
                      "networkMessageId": format!("{id}-msg"), "recipientEmailAddress": "a@contoso.com",
                      "subject": format!("{title} subject")}]
    });
    RawValue::from_string(v.to_string()).unwrap()
}

async fn fixture() -> Fixture {
    let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let src = common::source(&sim, 0);
    let sync = |streams: Vec<Stream>| {
        let plan = Plan::new(
            SyncConfig::default(),
            Some(std::time::Duration::from_secs(30 * 86_400)),
        );
        let (db, src) = (db.clone(), &src);
        async move {
            let reports = collector::sync_all(
                db,
                std::slice::from_ref(src),
                &streams,
                &plan,
                &AtomicBool::new(false),
                &Progress::hidden(),
            )
            .await;
            for r in reports {
                assert!(r.error.is_none(), "{}: {:?}", r.stream, r.error);
            }
        }
    };
    sync(vec![Stream::Threats, Stream::Activity]).await;
    // Six hours of alert lifecycle: updates arrive as new versions.
    sim.clock().advance(Duration::hours(6));
    sync(vec![Stream::Threats]).await;
    let now = sim.clock().now();
    let tenant = sim.tenants()[0].name.clone();

    let mut store = Store::open(&db).unwrap();
    // History across the cutoff: one alert alive with an old version, one dead for 20 days.
    let old = now - Duration::days(20);
    store
        .ingest_alerts(
            &tenant,
            &[
                alert("crafted-alive", old, "new", "Zanzibar history"),
                alert("crafted-dead", old, "resolved", "Quixotic relic"),
            ],
            Advance::No,
        )
        .unwrap();
    store
        .ingest_alerts(
            &tenant,
            &[alert(
                "crafted-alive",
                now - Duration::days(1),
                "inProgress",
                "Zanzibar history",
            )],
            Advance::No,
        )
        .unwrap();
    drop(store);

    let c = Connection::open(&db).unwrap();
    let day = 86_400_000;
    let cutoff = (now - Duration::days(KEEP_DAYS)).timestamp_millis();
    // Old runs of a stream no longer collected: its latest and latest successful run stay.
    for (started, outcome) in [
        (cutoff - 5 * day, "ok"),
        (cutoff - 4 * day, "ok"),
        (cutoff - 3 * day, "failed"),
    ] {
        c.execute(
            "INSERT INTO sync_runs (tenant, stream, started_ms, ended_ms, outcome) VALUES ('retired', 'threats', ?1, ?1, ?2)",
            rusqlite::params![started, outcome],
        )
        .unwrap();
    }
    // An old run of the live tenant (recorded first): newer ones exist, so it goes.
    c.execute(
        "INSERT INTO sync_runs (id, tenant, stream, started_ms, ended_ms, outcome)
         VALUES ((SELECT min(id) - 1 FROM sync_runs), ?1, 'activity', ?2, ?2, 'ok')",
        rusqlite::params![tenant, cutoff - 10 * day],
    )
    .unwrap();
    // Notes on what will be pruned: analyst work, never removed.
    let old_nmid: String = c
        .query_row(
            "SELECT network_message_id FROM email_events WHERE timestamp_ms < ?1 LIMIT 1",
            [cutoff],
            |r| r.get(0),
        )
        .unwrap();
    for (kind, target) in [("threat", "crafted-dead"), ("message", old_nmid.as_str())] {
        c.execute(
            "INSERT INTO notes (tenant, kind, target, recipient, bookmarked, note, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, '', 1, 'keep this', 1, 1)",
            rusqlite::params![tenant, kind, target],
        )
        .unwrap();
    }
    Fixture {
        _dir: dir,
        db,
        now,
        tenant,
    }
}

fn strings(c: &Connection, sql: &str) -> BTreeSet<String> {
    let mut stmt = c.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn ints(c: &Connection, sql: &str) -> BTreeSet<i64> {
    let mut stmt = c.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn one(c: &Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn prune(f: &Fixture, allow_full_vacuum: bool) -> PruneReport {
    let mut store = Store::open(&f.db).unwrap();
    store
        .prune(
            &PruneOptions::new(f.cutoff_ms(), allow_full_vacuum),
            &AtomicBool::new(false),
            None,
        )
        .unwrap()
}

/// Every full-text index holds exactly the rows of its source, and a word taken from a pruned
/// row finds only rows that are still there.
fn assert_search_has_no_stale_hits(c: &Connection, pruned_words: &[String]) {
    c.execute(
        "INSERT INTO email_fts (email_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the email index matches its content");
    assert_eq!(
        ints(c, "SELECT rowid FROM alert_fts"),
        ints(c, "SELECT rowid FROM alerts"),
        "one alert document per stored alert"
    );
    assert_eq!(
        ints(c, "SELECT rowid FROM evidence_fts"),
        ints(c, "SELECT rowid FROM evidence_text WHERE url IS NOT NULL"),
        "one evidence document per stored evidence row with URLs"
    );
    let events = ints(c, "SELECT rowid FROM email_events");
    let alerts = ints(c, "SELECT rowid FROM alerts");
    let evidence = ints(c, "SELECT rowid FROM alert_evidence");
    for word in pruned_words {
        let phrase = format!("\"{word}\"");
        for (fts, kept) in [
            ("email_fts", &events),
            ("alert_fts", &alerts),
            ("evidence_fts", &evidence),
        ] {
            let mut stmt = c
                .prepare(&format!("SELECT rowid FROM {fts} WHERE {fts} MATCH ?1"))
                .unwrap();
            let hits: Vec<i64> = stmt
                .query_map([&phrase], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for hit in hits {
                assert!(
                    kept.contains(&hit),
                    "{fts} MATCH {word} found pruned row {hit}"
                );
            }
        }
    }
}

/// Words (letters only, 5+) from the subjects of events and titles of alerts about to go.
fn words_of_pruned(c: &Connection, cutoff_ms: i64) -> Vec<String> {
    let mut stmt = c
        .prepare(
            "SELECT subject FROM email_events WHERE timestamp_ms < ?1 AND subject IS NOT NULL
             UNION SELECT title FROM alerts WHERE last_update_ns < ?1 * 1000000 AND title IS NOT NULL",
        )
        .unwrap();
    let texts: Vec<String> = stmt
        .query_map([cutoff_ms], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut words: BTreeSet<String> = BTreeSet::new();
    for t in texts {
        for w in t.split(|ch: char| !ch.is_ascii_alphabetic()) {
            if w.len() >= 5 {
                words.insert(w.to_lowercase());
            }
        }
    }
    assert!(
        words.contains("quixotic"),
        "the dead crafted alert's title is among them"
    );
    words.into_iter().collect()
}

#[tokio::test]
async fn pruning_at_seven_days_keeps_exactly_the_newer_data_and_leaves_no_orphans() {
    let f = fixture().await;
    let cutoff = f.cutoff_ms();
    let cutoff_ns = cutoff * 1_000_000;
    let c = f.conn();
    let events: BTreeMap<String, i64> = {
        let mut stmt = c
            .prepare("SELECT tenant || '|' || network_message_id || '|' || recipient, timestamp_ms FROM email_events")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let alerts: BTreeMap<String, i64> = {
        let mut stmt = c
            .prepare("SELECT tenant || '|' || id, last_update_ns FROM alerts")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let versions: Vec<(String, i64)> = {
        let mut stmt = c
            .prepare("SELECT tenant || '|' || id, last_update_ns FROM alert_versions")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let notes_before = strings(&c, "SELECT tenant || kind || target || note FROM notes");
    let words = words_of_pruned(&c, cutoff);
    let old_events = events.values().filter(|t| **t < cutoff).count();
    let old_alerts = alerts.values().filter(|t| **t < cutoff_ns).count();
    assert!(
        old_events > 1_000 && old_events < events.len(),
        "{old_events} of {}",
        events.len()
    );
    assert!(
        old_alerts > 10 && old_alerts < alerts.len(),
        "{old_alerts} of {}",
        alerts.len()
    );
    let would = Store::open_read_only(&f.db)
        .unwrap()
        .prune_counts(cutoff)
        .unwrap();
    drop(c);

    let report = prune(&f, true);
    assert!(!report.interrupted);
    assert_eq!(
        report.removed, would,
        "the dry-run counts are what a prune removes"
    );

    let c = f.conn();
    let want_events: BTreeSet<String> = events
        .iter()
        .filter(|(_, t)| **t >= cutoff)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        strings(
            &c,
            "SELECT tenant || '|' || network_message_id || '|' || recipient FROM email_events"
        ),
        want_events,
        "every event at or after the cutoff kept, every older one gone"
    );
    let want_alerts: BTreeSet<String> = alerts
        .iter()
        .filter(|(_, t)| **t >= cutoff_ns)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(
        strings(&c, "SELECT tenant || '|' || id FROM alerts"),
        want_alerts
    );
    let want_versions: BTreeSet<String> = versions
        .iter()
        .filter(|(k, ns)| {
            alerts
                .get(k)
                .is_some_and(|cur| *cur >= cutoff_ns && (*ns >= cutoff_ns || ns == cur))
        })
        .map(|(k, ns)| format!("{k}|{ns}"))
        .collect();
    assert_eq!(
        strings(
            &c,
            "SELECT tenant || '|' || id || '|' || last_update_ns FROM alert_versions"
        ),
        want_versions,
        "alive alerts keep their current version and recent history"
    );
    let alive = format!("{}|crafted-alive", f.tenant);
    assert_eq!(
        one(&c, "SELECT versions FROM alerts WHERE id = 'crafted-alive'"),
        1,
        "the old version of {alive} is gone and the count says so"
    );
    assert_eq!(report.removed.email_events as usize, old_events);
    assert_eq!(report.removed.alerts as usize, old_alerts);
    assert_eq!(
        report.removed.alert_versions as usize,
        versions.len() - want_versions.len()
    );

    for (what, sql) in [
        (
            "OCSF email without its event",
            "SELECT count(*) FROM ocsf_email o LEFT JOIN email_events e ON e.rowid = o.event_rowid WHERE e.rowid IS NULL",
        ),
        (
            "event without its OCSF email",
            "SELECT count(*) FROM email_events e LEFT JOIN ocsf_email o ON o.event_rowid = e.rowid WHERE o.event_rowid IS NULL",
        ),
        (
            "finding without its version",
            "SELECT count(*) FROM ocsf_findings f LEFT JOIN alert_versions v ON v.tenant = f.tenant AND v.id = f.alert_id AND v.last_update_ns = f.last_update_ns WHERE v.id IS NULL",
        ),
        (
            "version without its finding",
            "SELECT count(*) FROM alert_versions v LEFT JOIN ocsf_findings f ON v.tenant = f.tenant AND v.id = f.alert_id AND v.last_update_ns = f.last_update_ns WHERE f.alert_id IS NULL",
        ),
        (
            "version without its alert",
            "SELECT count(*) FROM alert_versions v LEFT JOIN alerts a ON a.tenant = v.tenant AND a.id = v.id WHERE a.id IS NULL",
        ),
        (
            "evidence without its alert",
            "SELECT count(*) FROM alert_evidence ev LEFT JOIN alerts a ON a.tenant = ev.tenant AND a.id = ev.alert_id WHERE a.id IS NULL",
        ),
        (
            "triage score without its alert",
            "SELECT count(*) FROM alert_triage t LEFT JOIN alerts a ON a.tenant = t.tenant AND a.id = t.alert_id WHERE a.id IS NULL",
        ),
        (
            "alert whose version count is wrong",
            "SELECT count(*) FROM alerts a WHERE a.versions <> (SELECT count(*) FROM alert_versions v WHERE v.tenant = a.tenant AND v.id = a.id)",
        ),
    ] {
        assert_eq!(one(&c, sql), 0, "{what}");
    }
    assert_eq!(
        one(&c, &format!("SELECT count(*) FROM triage_messages t WHERE t.first_ms < {cutoff}
            AND NOT EXISTS (SELECT 1 FROM email_events e WHERE e.tenant = t.tenant AND e.network_message_id = t.network_message_id)
            AND NOT EXISTS (SELECT 1 FROM alert_evidence ev WHERE ev.tenant = t.tenant AND ev.network_message_id = t.network_message_id)")),
        0,
        "no summary of a message that is gone"
    );
    assert!(report.removed.alert_triage > 0 && report.removed.triage_messages > 0);

    // Runs: the retired stream keeps its latest and latest successful; the old live one goes.
    let retired = ints(
        &c,
        "SELECT started_ms FROM sync_runs WHERE tenant = 'retired' ORDER BY 1",
    );
    let day = 86_400_000;
    assert_eq!(
        retired,
        BTreeSet::from([cutoff - 4 * day, cutoff - 3 * day])
    );
    assert_eq!(report.removed.sync_runs, 2);
    assert_eq!(
        one(
            &c,
            &format!(
                "SELECT count(*) FROM sync_runs WHERE started_ms < {cutoff} AND tenant <> 'retired'"
            )
        ),
        0
    );
    assert!(
        one(&c, "SELECT count(*) FROM checkpoints") >= 2,
        "checkpoints are never pruned"
    );
    assert_eq!(
        strings(&c, "SELECT tenant || kind || target || note FROM notes"),
        notes_before,
        "notes on pruned data stay"
    );
    assert_search_has_no_stale_hits(&c, &words);
    assert_eq!(
        one(&c, "SELECT count(*) FROM prune_runs WHERE outcome = 'ok'"),
        1,
        "the prune is recorded"
    );

    // A second prune at the same cutoff finds nothing.
    let again = prune(&f, true);
    assert_eq!(again.removed, Removed::default());
}

#[tokio::test]
async fn a_prune_gives_the_space_back_and_the_file_shrinks() {
    let f = fixture().await;
    {
        let c = f.conn();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        assert_eq!(
            one(&c, "PRAGMA auto_vacuum"),
            2,
            "new stores vacuum incrementally"
        );
    }
    let file_before = std::fs::metadata(&f.db).unwrap().len();
    let report = prune(&f, false);
    assert_eq!(report.vacuum, Vacuum::Incremental);
    assert!(report.bytes_reclaimed() > 0, "{report:?}");
    let file_after = std::fs::metadata(&f.db).unwrap().len();
    assert!(
        file_after < file_before * 3 / 4,
        "most of 30 days is gone at 7: {file_before} -> {file_after}"
    );
    assert_eq!(report.bytes_after, store_bytes(&f.db));
    assert_eq!(
        one(&f.conn(), "PRAGMA freelist_count"),
        0,
        "no free pages left in the file"
    );
    eprintln!(
        "prune 7d of 30d: {} rows, {} -> {} bytes",
        report.removed.total(),
        report.bytes_before,
        report.bytes_after
    );
}

#[tokio::test]
async fn an_older_store_is_vacuumed_once_into_incremental_mode_with_its_search_intact() {
    let f = fixture().await;
    {
        // As every store made before incremental vacuum was chosen correctly.
        let c = f.conn();
        c.execute_batch("PRAGMA auto_vacuum = NONE; VACUUM;")
            .unwrap();
        assert_eq!(one(&c, "PRAGMA auto_vacuum"), 0);
    }
    let c = f.conn();
    let words = words_of_pruned(&c, f.cutoff_ms());
    drop(c);

    // `run` never rebuilds: it says how to.
    let mut store = Store::open(&f.db).unwrap();
    let late = store
        .prune(
            &PruneOptions::new(f.cutoff_ms() - 86_400_000 * 10, false),
            &AtomicBool::new(false),
            None,
        )
        .unwrap();
    assert!(
        matches!(&late.vacuum, Vacuum::Skipped(why) if why.contains("mailtrail prune")),
        "{late:?}"
    );
    drop(store);

    let before = std::fs::metadata(&f.db).unwrap().len();
    let report = prune(&f, true);
    assert_eq!(report.vacuum, Vacuum::Full);
    assert!(report.bytes_reclaimed() > 0);
    assert!(std::fs::metadata(&f.db).unwrap().len() < before);
    let c = f.conn();
    assert_eq!(one(&c, "PRAGMA auto_vacuum"), 2, "switched for good");
    assert_search_has_no_stale_hits(&c, &words);
    // Each kept alert is still found by a word of its own title (the index follows rowids).
    let mut stmt = c
        .prepare("SELECT rowid, title FROM alerts WHERE title IS NOT NULL")
        .unwrap();
    let titled: Vec<(i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!titled.is_empty());
    for (rowid, title) in titled {
        let Some(word) = title
            .split(|ch: char| !ch.is_ascii_alphanumeric())
            .find(|w| w.len() >= 3)
        else {
            continue;
        };
        let found: i64 = c
            .query_row(
                "SELECT count(*) FROM alert_fts WHERE alert_fts MATCH ?1 AND rowid = ?2",
                rusqlite::params![format!("\"{word}\""), rowid],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1, "alert {rowid} ({title}) found by {word}");
    }
}

#[tokio::test]
async fn run_prunes_at_start_when_the_store_was_never_pruned_and_stops_on_request() {
    let f = fixture().await;
    let stop = Arc::new(StopSignal::default());
    let task = tokio::spawn(mailtrail::prune::daily(
        f.db.clone(),
        std::time::Duration::from_secs(KEEP_DAYS as u64 * 86_400),
        stop.clone(),
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done = one(
            &f.conn(),
            "SELECT count(*) FROM prune_runs WHERE outcome = 'ok'",
        );
        if done == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no prune within a minute"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The next one is a day away; a stop ends the wait at once.
    stop.stop();
    tokio::time::timeout(std::time::Duration::from_secs(5), task)
        .await
        .expect("stops promptly")
        .unwrap();
    assert_eq!(one(&f.conn(), "SELECT count(*) FROM prune_runs"), 1);
    let last = Store::open(&f.db).unwrap().last_prune_ms().unwrap();
    assert!(
        mailtrail::prune::next_prune_in(last, mailtrail::store::now_ms())
            > std::time::Duration::from_secs(86_000),
        "the next prune is a day after this one"
    );
}

fn mailtrail(db: &Path, args: &[&str]) -> Output {
    common::cli(db)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn hash_store(db: &Path) -> Vec<u8> {
    let mut h = Sha256::new();
    for suffix in ["", "-wal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(p)) {
            h.update(&bytes);
        }
    }
    h.finalize().to_vec()
}

/// `--older-than` that puts the cutoff KEEP_DAYS before the simulator's frozen now, whatever
/// the real date (whole days, so up to a day earlier).
fn older_than_for(f: &Fixture) -> String {
    let days = (Utc::now() - f.now).num_days() + KEEP_DAYS;
    format!("{days}d")
}

#[tokio::test]
async fn the_command_prunes_and_reports_and_dry_run_changes_nothing() {
    let f = fixture().await;
    let older = older_than_for(&f);
    let before = hash_store(&f.db);
    let events_before: BTreeMap<i64, i64> = {
        let c = f.conn();
        let mut stmt = c
            .prepare("SELECT rowid, timestamp_ms FROM email_events")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(hash_store(&f.db), before);

    let dry = mailtrail(&f.db, &["prune", "--older-than", &older, "--dry-run"]);
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        out.contains("dry run: would remove data older than"),
        "{out}"
    );
    assert!(
        out.contains("email_events") && out.contains("nothing was changed"),
        "{out}"
    );
    assert_eq!(
        hash_store(&f.db),
        before,
        "a dry run leaves the store byte for byte"
    );
    let status = |db: &Path| {
        let out = mailtrail(db, &["status"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = status(&f.db);
    assert!(
        text.contains("store: never pruned (retention 180d;"),
        "{text}"
    );

    let start = Utc::now();
    let run = mailtrail(&f.db, &["prune", "--older-than", &older]);
    let end = Utc::now();
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains("removed data older than"), "{out}");
    assert!(
        out.contains("reclaimed ") && out.contains("vacuum: incremental"),
        "{out}"
    );
    let days = older.trim_end_matches('d').parse::<i64>().unwrap();
    let earliest_cutoff = (start - Duration::days(days)).timestamp_millis();
    let latest_cutoff = (end - Duration::days(days)).timestamp_millis();
    let kept = ints(&f.conn(), "SELECT rowid FROM email_events");
    for (rowid, ts) in &events_before {
        if *ts < earliest_cutoff {
            assert!(
                !kept.contains(rowid),
                "event at {ts} is older than the cutoff"
            );
        } else if *ts >= latest_cutoff {
            assert!(
                kept.contains(rowid),
                "event at {ts} is newer than the cutoff"
            );
        }
    }
    assert!(kept.len() < events_before.len() && !kept.is_empty());
    let removed: i64 = f
        .conn()
        .query_row("SELECT rows_removed FROM prune_runs", [], |r| r.get(0))
        .unwrap();
    assert!(removed >= (events_before.len() - kept.len()) as i64);
    let text = status(&f.db);
    assert!(
        text.contains("store: last pruned ")
            && text.contains(&format!("(ok; {} rows removed, ", thousands(removed)))
            && text.contains("retention 180d)"),
        "{text}"
    );
}

#[test]
fn a_bad_older_than_is_a_one_line_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    for (arg, says) in [
        ("90", "invalid duration '90'"),
        ("90m", "shorter than a day"),
        ("-5d", "invalid duration"),
    ] {
        let out = mailtrail(&db, &["prune", &format!("--older-than={arg}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{arg}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{arg}: {err}");
        assert!(err.contains(says), "{arg}: {err}");
        assert!(!db.exists(), "a refused prune creates nothing");
    }
    // A missing store is a store problem (exit 1), as in every other command.
    let out = mailtrail(&db, &["prune", "--older-than", "30d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no store at"), "{err}");
    assert!(!db.exists(), "prune never creates a store");
}
