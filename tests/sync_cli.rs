//! `mailtrail sync` as a user runs it: against the simulator in this process, killed at random
//! moments (crash safety), and against broken networks and proxies (one-line cause and fix,
//! exit 1, nothing stored lost).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use mailtrail::simulator::{FaultPlan, Scale, Simulator};
use rusqlite::Connection;

/// Runs the simulator on its own runtime thread for the life of the test.
struct Background {
    sim: Simulator,
    _rt: tokio::runtime::Runtime,
}

fn background(scale: Scale) -> Background {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = rt.block_on(common::simulator(scale, FaultPlan::default()));
    Background { sim, _rt: rt }
}

fn command(sim: &Simulator, db: &Path, graph: Option<&str>) -> Command {
    let t = &sim.tenants()[0];
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
        .env("XDG_DATA_HOME", home.join("data"))
        .env("MAILTRAIL_TENANT_ID", &t.tenant_id)
        .env("MAILTRAIL_CLIENT_ID", &t.client_id)
        .env("MAILTRAIL_CLIENT_SECRET", &t.client_secret)
        .env("MAILTRAIL_LOGIN_ENDPOINT", sim.url())
        .env(
            "MAILTRAIL_GRAPH_ENDPOINT",
            graph.map(str::to_string).unwrap_or_else(|| sim.url()),
        )
        .arg("--quiet")
        .arg("--db")
        .arg(db)
        .args(["sync", "--since", "30d"]);
    cmd
}

/// Everything a sync stores, in a comparable form (sync-run records aside).
fn content(db: &Path) -> Vec<String> {
    let c = Connection::open(db).unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT tenant || '|' || id || '|' || last_update_ns || '|' || raw FROM alerts ORDER BY 1",
        "SELECT tenant || '|' || id || '|' || last_update_ns || '|' || raw FROM alert_versions ORDER BY 1",
        "SELECT tenant || '|' || alert_id || '|' || position || '|' || raw FROM alert_evidence ORDER BY 1",
        "SELECT tenant || '|' || network_message_id || '|' || recipient || '|' || raw FROM email_events ORDER BY 1",
        "SELECT tenant || '|' || stream || '|' || cursor FROM checkpoints ORDER BY 1",
        "SELECT count(*) || ' findings' FROM ocsf_findings",
        "SELECT count(*) || ' email activities' FROM ocsf_email",
        "SELECT count(*) || ' gaps' FROM gaps",
    ] {
        let mut stmt = c.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

#[test]
fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let bg = background(Scale::Medium);
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    let started = std::time::Instant::now();
    let out = command(&bg.sim, &reference, None).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let full = started.elapsed();
    assert!(
        full > Duration::from_secs(3),
        "the reference sync is long enough to be interrupted"
    );
    let events: i64 = Connection::open(&reference)
        .unwrap()
        .query_row("SELECT count(*) FROM email_events", [], |r| r.get(0))
        .unwrap();
    assert!(events >= 90_000, "a sync of about 100,000 events: {events}");

    let crashed = dir.path().join("crashed.db");
    // Ten kills at random moments 0.1–1.5 s into each run (a full sync takes far longer), from a
    // seed printed for reproduction; each restart continues from the checkpoints left behind.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut x = seed | 1;
    let mut kills = Vec::new();
    for _ in 0..10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = Duration::from_millis(100 + x % 1400);
        let mut child = command(&bg.sim, &crashed, None)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        kills.push((at.as_millis(), finished));
    }
    let out = command(&bg.sim, &crashed, None).output().unwrap();
    assert!(
        out.status.success(),
        "seed {seed}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, b) = (content(&reference), content(&crashed));
    assert_eq!(a.len(), b.len(), "seed {seed}, kills {kills:?}");
    assert!(
        a == b,
        "seed {seed}, kills {kills:?}: the store differs from an uninterrupted sync"
    );
    let killed_mid_run = kills.iter().filter(|(_, finished)| !finished).count();
    assert!(
        killed_mid_run >= 5,
        "most kills hit a running sync: {kills:?}"
    );
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A "proxy" on 127.0.0.1 that answers every Graph call with a fixed 200 body.
fn fake_graph(body: &'static str, content_type: &'static str) -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(async {
        let app = Router::new().fallback(
            get(move || async move { ([("content-type", content_type)], body) })
                .post(move || async move { ([("content-type", content_type)], body) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    });
    (url, rt)
}

fn stored_rows(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM email_events)",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn broken_networks_and_proxies_give_a_cause_and_a_fix_and_lose_nothing() {
    let bg = background(Scale::Small);
    let dir = tempfile::tempdir().unwrap();
    let db: PathBuf = dir.path().join("m.db");
    let out = command(&bg.sim, &db, None).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let before = stored_rows(&db);
    assert!(before > 0);

    let (html, _rt1) = fake_graph(
        "<!DOCTYPE html><html><body>Proxy authentication required</body></html>",
        "text/html",
    );
    let (shape, _rt2) = fake_graph("{\"unexpected\": true}", "application/json");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}")
    };
    let tls_to_plain = bg.sim.url().replace("http://", "https://");
    let cases = [
        (closed.as_str(), "cannot reach", "Connection refused"),
        (tls_to_plain.as_str(), "TLS with", "fix:"),
        (
            html.as_str(),
            "an HTML page instead of JSON",
            "fix: check graph_endpoint",
        ),
        (
            shape.as_str(),
            "without a `value` array",
            "fix: check graph_endpoint",
        ),
    ];
    for (graph, cause, fix) in cases {
        let out = command(&bg.sim, &db, Some(graph)).output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{graph}: {err}");
        assert!(err.contains(cause) && err.contains(fix), "{graph}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(stored_rows(&db), before, "{graph}: nothing stored was lost");
    }
}
