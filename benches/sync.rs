//! Benchmark: `mailtrail sync` of the simulator's large tenant (≈1,000,000 email events and
//! 100,000 alerts over 30 days) into a new store — end-to-end events/s, the sync process's peak
//! memory, and store bytes per event. Simulator and collector run as separate processes.
//!
//! Run: `cargo bench --bench sync` (prints the numbers; asserts nothing).
//! `MAILTRAIL_BENCH_SCALE=medium` (≈100,000 events and 10,000 alerts) or `small` for quick
//! iterations; `MAILTRAIL_BENCH_STREAM=activity|threats` syncs one stream only;
//! `MAILTRAIL_BENCH_SINCE=3d` backfills less of the same tenant (memory against backfill size).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{peak_rss_kib, simulator};

fn main() {
    let bin = env!("CARGO_BIN_EXE_mailtrail");
    let scale = std::env::var("MAILTRAIL_BENCH_SCALE").unwrap_or_else(|_| "large".into());
    let stream = std::env::var("MAILTRAIL_BENCH_STREAM").ok();
    let since = std::env::var("MAILTRAIL_BENCH_SINCE").unwrap_or_else(|_| "30d".into());
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
            &since,
        ])
        .args(stream.iter().flat_map(|s| ["--stream", s.as_str()]))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("HOME", &dir)
        .spawn()
        .expect("start sync");
    let pid = sync.id();
    let mut peak = 0;
    // (seconds, peak so far): how the peak grows over the run.
    let mut curve: Vec<(f64, u64)> = Vec::new();
    let status = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
            curve.push((started.elapsed().as_secs_f64(), peak));
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
        "scale {scale}, streams {}, since {since}",
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
    let at = |share: f64| {
        curve
            .iter()
            .find(|(t, _)| *t >= secs * share)
            .or(curve.last())
            .map_or(0, |(_, kib)| kib / 1024)
    };
    println!(
        "  peak so far at 10/25/50/75/100 % of the run: {} / {} / {} / {} / {} MiB",
        at(0.10),
        at(0.25),
        at(0.50),
        at(0.75),
        at(1.0)
    );
    println!(
        "  store: {:.0} MiB, {:.0} bytes per stored record (raw JSON + typed columns + OCSF rows + indexes)",
        bytes as f64 / 1048576.0,
        bytes as f64 / (events + versions) as f64
    );
    floor(&dir, &db, events);
    let _ = std::fs::remove_dir_all(&dir);
}

/// DESIGN §9's floor: SQLite alone copying the same email rows (same bytes) from the synced
/// store into a new file with the same pragmas, in transactions of 3,300 rows (one hunting
/// window) — no JSON, no mapping, no network. Three floors: the raw JSON and its key alone
/// (what DESIGN §5 keeps as the source of truth), plus the derived OCSF rows, and the store's
/// own schema (the dashboard's indexes, full-text search, triggers).
fn floor(dir: &std::path::Path, synced: &std::path::Path, events: i64) {
    const KEY: &str =
        "CREATE TABLE main.email_events (rowid INTEGER PRIMARY KEY, tenant TEXT NOT NULL,
            network_message_id TEXT NOT NULL, recipient TEXT NOT NULL, raw TEXT NOT NULL,
            UNIQUE (tenant, network_message_id, recipient));";
    const KEY_COPY: &str =
        "INSERT INTO main.email_events SELECT rowid, tenant, network_message_id, recipient, raw
            FROM synced.email_events WHERE rowid > ?1 AND rowid <= ?2";
    const OCSF: &str = "CREATE TABLE main.ocsf_email (event_rowid INTEGER PRIMARY KEY, mapping_version INTEGER NOT NULL, event TEXT NOT NULL);";
    const OCSF_COPY: &str = "INSERT INTO main.ocsf_email SELECT * FROM synced.ocsf_email WHERE event_rowid > ?1 AND event_rowid <= ?2";
    const ALL_COPY: &str = "INSERT INTO main.email_events SELECT * FROM synced.email_events WHERE rowid > ?1 AND rowid <= ?2";
    for (i, (what, schema, copies)) in [
        (
            "the raw JSON and its key only",
            Some(KEY.to_string()),
            vec![KEY_COPY],
        ),
        (
            "raw JSON, key and OCSF rows",
            Some(format!("{KEY}{OCSF}")),
            vec![KEY_COPY, OCSF_COPY],
        ),
        ("the store's own schema", None, vec![ALL_COPY, OCSF_COPY]),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("floor-{i}.db"));
        if schema.is_none() {
            drop(mailtrail::store::Store::open(&path).expect("open the floor store"));
        }
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(
            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;",
        )
        .expect("pragmas");
        conn.execute(
            "ATTACH ?1 AS synced",
            [synced.to_str().expect("utf-8 path")],
        )
        .expect("attach");
        if let Some(sql) = &schema {
            conn.execute_batch(sql).expect("schema");
        }
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
            for sql in &copies {
                tx.execute(sql, [from, from + 3_300]).expect("copy");
            }
            tx.commit().expect("commit");
            from += 3_300;
        }
        let secs = started.elapsed().as_secs_f64();
        drop(conn);
        let bytes: u64 = ["", "-wal"]
            .iter()
            .filter_map(|ext| std::fs::metadata(format!("{}{ext}", path.display())).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "  floor, SQLite copying {what}: {:.0} events/s, {:.0} bytes per event",
            events as f64 / secs,
            bytes as f64 / events.max(1) as f64
        );
    }
}
