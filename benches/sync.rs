//! Benchmark: `mailtrail sync` of the simulator's large tenant (≈1,000,000 email events and
//! 100,000 alerts over 30 days) into a new store — end-to-end events/s, the sync process's peak
//! memory, and store bytes per event. Simulator and collector run as separate processes.
//!
//! Run: `cargo bench --bench sync` (prints the numbers; asserts nothing).

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{peak_rss_kib, simulator};

fn main() {
    let bin = env!("CARGO_BIN_EXE_mailtrail");
    let (mut sim, env) = simulator("large");
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
    let _ = std::fs::remove_dir_all(&dir);
}
