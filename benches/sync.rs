//! Benchmark: `mailtrail sync` of the simulator's large tenant (≈1,000,000 email events and
//! 100,000 alerts over 30 days) into a new store — end-to-end events/s, the sync process's peak
//! memory, and store bytes per event. Simulator and collector run as separate processes.
//!
//! Run: `cargo bench --bench sync` (prints the numbers; asserts nothing).
//! `MAILTRAIL_BENCH_SCALE=medium` (≈100,000 events and 10,000 alerts) or `small` for quick
//! iterations; `MAILTRAIL_BENCH_STREAM=activity|threats` syncs one stream only.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{peak_rss_kib, simulator};

fn main() {
    let bin = env!("CARGO_BIN_EXE_mailtrail");
    let scale = std::env::var("MAILTRAIL_BENCH_SCALE").unwrap_or_else(|_| "large".into());
    let stream = std::env::var("MAILTRAIL_BENCH_STREAM").ok();
    let (mut sim, env) = simulator(&scale);
    let dir = std::env::temp_dir().join(format!("mailtrail-bench-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("bench.db");
    let started = Instant::now();
    let mut sync = Command::new(bin)
        .args([
            "--quiet",
            "--db",
            db.to_str().expect("utf-8 path"),
            "sync",
            "--since",
            "30d",
        ])
        .args(stream.iter().flat_map(|s| ["--stream", s.as_str()]))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("HOME", &dir)
        .spawn()
        .expect("start sync");
    let pid = sync.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = sync.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let secs = started.elapsed().as_secs_f64();
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(status.success(), "sync failed");
    let conn = rusqlite::Connection::open(&db).expect("open the store");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    let events = count("SELECT count(*) FROM email_events");
    let alerts = count("SELECT count(*) FROM alerts");
    let versions = count("SELECT count(*) FROM alert_versions");
    drop(conn);
    let bytes: u64 = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bench.db"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "scale {scale}, streams {}",
        stream.as_deref().unwrap_or("all")
    );
    println!("sync: {events} email events + {alerts} alerts ({versions} versions) in {secs:.1} s");
    println!(
        "  end to end: {:.0} email events/s ({:.0} records/s including alerts)",
        events as f64 / secs,
        (events + alerts) as f64 / secs
    );
    println!(
        "  sync process peak memory (VmHWM, sampled): {} MiB",
        peak / 1024
    );
    println!(
        "  store: {:.0} MiB, {:.0} bytes per stored record (raw JSON + typed columns + OCSF rows + indexes)",
        bytes as f64 / 1048576.0,
        bytes as f64 / (events + versions) as f64
    );
    floor(&dir, &db, events);
    let _ = std::fs::remove_dir_all(&dir);
}

/// DESIGN §9's floor: SQLite alone copying the same email rows (email_events and their OCSF
/// rows, same bytes) into a new store with the same schema and pragmas, in transactions of
/// 3,300 rows (one hunting window) — no JSON, no mapping, no network.
fn floor(dir: &std::path::Path, synced: &std::path::Path, events: i64) {
    let path = dir.join("floor.db");
    let store = mailtrail::store::Store::open(&path).expect("open the floor store");
    drop(store);
    let mut conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
    )
    .expect("pragmas");
    conn.execute(
        "ATTACH ?1 AS synced",
        [synced.to_str().expect("utf-8 path")],
    )
    .expect("attach");
    let max: i64 = conn
        .query_row(
            "SELECT coalesce(max(rowid), 0) FROM synced.email_events",
            [],
            |r| r.get(0),
        )
        .expect("max");
    let started = Instant::now();
    let mut from = 0;
    while from < max {
        let tx = conn.transaction().expect("begin");
        tx.execute(
            "INSERT INTO main.email_events SELECT * FROM synced.email_events WHERE rowid > ?1 AND rowid <= ?2",
            [from, from + 3_300],
        )
        .expect("copy events");
        tx.execute(
            "INSERT INTO main.ocsf_email SELECT * FROM synced.ocsf_email WHERE event_rowid > ?1 AND event_rowid <= ?2",
            [from, from + 3_300],
        )
        .expect("copy OCSF rows");
        tx.commit().expect("commit");
        from += 3_300;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  floor (SQLite copying the same email rows into the same schema, 3,300 per transaction): {:.0} events/s",
        events as f64 / secs
    );
}
