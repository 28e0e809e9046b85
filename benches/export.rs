//! Benchmark: `mailtrail export` of a large store (the simulator's large tenant synced over 30
//! days: ≈1,000,000 email events plus the alerts and their versions) — events/s and the export
//! process's peak memory. The store is built once and kept under `target/bench-store/`.
//!
//! Run: `cargo bench --bench export` (prints the numbers; asserts nothing).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{measured, simulator};

fn build_store(bin: &str, db: &Path) {
    let (mut sim, env) = simulator("large");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--quiet",
        "--db",
        db.to_str().expect("utf-8"),
        "sync",
        "--since",
        "30d",
    ])
    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    .env("HOME", db.parent().expect("dir"));
    let (secs, _) = measured(cmd);
    println!("built the store in {secs:.0} s");
    let _ = sim.kill();
    let _ = sim.wait();
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_mailtrail");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-store");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let db = dir.join("large.db");
    if !db.exists() {
        build_store(bin, &db);
    }
    let out = dir.join("export.ndjson");
    for (label, extra) in [
        ("current state", vec![]),
        ("all versions", vec!["--all-versions"]),
    ] {
        let mut cmd = Command::new(bin);
        cmd.args([
            "--quiet",
            "--db",
            db.to_str().expect("utf-8"),
            "export",
            "-o",
            out.to_str().expect("utf-8"),
        ])
        .args(&extra)
        .env("HOME", &dir);
        let (secs, peak) = measured(cmd);
        let lines = std::fs::read(&out)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!(
            "export ({label}): {lines} events ({:.0} MB) in {secs:.1} s = {:.0} events/s; peak memory {} MiB",
            bytes as f64 / 1e6,
            lines as f64 / secs,
            peak / 1024
        );
    }
    let _ = std::fs::remove_file(&out);
    // The default output, stdout, into a sink that is never the bottleneck: the export path
    // itself, without this machine's disk write speed.
    let mut cmd = Command::new(bin);
    cmd.args([
        "--quiet",
        "--db",
        db.to_str().expect("utf-8"),
        "export",
        "--all-versions",
    ])
    .stdout(Stdio::null())
    .env("HOME", &dir);
    let (secs, peak) = measured(cmd);
    let events = rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM ocsf_findings) + (SELECT count(*) FROM ocsf_email)",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .unwrap_or(0);
    println!(
        "export (all versions, stdout to /dev/null): {events} events in {secs:.1} s = {:.0} events/s; peak memory {} MiB",
        events as f64 / secs,
        peak / 1024
    );
}
