//! What the benchmarks share: the simulator as a separate process, and peak-memory sampling.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Peak resident memory of a running process, from /proc (Linux), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// `mailtrail simulate` at `scale` with a frozen clock, and the `MAILTRAIL_*` lines it printed
/// (tenant, client, secret, login and Graph endpoints).
pub fn simulator(scale: &str) -> (Child, Vec<(String, String)>) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .args([
            "--quiet",
            "simulate",
            "--scale",
            scale,
            "--print-creds",
            "--start",
            "2026-11-20T12:00:00Z",
            "--freeze",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the simulator");
    let mut env = Vec::new();
    for line in BufReader::new(sim.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        if let Some(kv) = line.strip_prefix("export ") {
            let (k, v) = kv.split_once('=').expect("k=v");
            env.push((k.to_string(), v.trim_matches('\'').to_string()));
            if env.len() == 5 {
                break;
            }
        }
    }
    (sim, env)
}

/// Runs a command to completion, sampling its peak memory; returns (seconds, peak KiB).
pub fn measured(mut cmd: Command) -> (f64, u64) {
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let mut peak = 0;
    loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{cmd:?} failed");
            return (started.elapsed().as_secs_f64(), peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
