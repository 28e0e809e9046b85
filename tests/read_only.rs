//! Read-only toward Microsoft (DESIGN §4): whatever mailtrail does — sync, run, status, doctor,
//! export, the demo — the only requests it sends are the token POST, GETs (the tenant's OpenID
//! configuration and alerts_v2) and the runHuntingQuery POST. Asserted from the simulator's own
//! request log, which sees every request whatever the client did.

mod doctor_support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use doctor_support::{Home, Sim, run};

/// Whether a request is one a read-only collector may send.
fn allowed(method: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        (method, segments.as_slice()),
        ("POST", [_, "oauth2", "v2.0", "token"])
            | ("POST", ["v1.0", "security", "runHuntingQuery"])
            | ("GET", [_, "v2.0", ".well-known", "openid-configuration"])
            | ("GET", ["v1.0", "security", "alerts_v2"])
    )
}

fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

fn wait(mut child: Child, limit: Duration) -> std::process::Output {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().expect("the child's output")
}

#[test]
fn sync_run_status_doctor_and_export_send_only_reads() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    for args in [
        vec!["doctor"],
        vec!["sync"],
        vec!["sync", "--since", "7d"],
        vec!["status"],
        vec!["doctor", "--json"],
        vec!["export"],
    ] {
        let ran = run(home.at(&sim).args(&args));
        assert!(!ran.stderr.contains("panicked"), "{}", ran.both());
    }
    // Doctor's failure paths too: a wrong secret, missing roles.
    run(home
        .at(&sim)
        .env("MAILTRAIL_CLIENT_SECRET", &sim.tenant().client_secret_id)
        .arg("doctor"));

    let child = home
        .at(&sim)
        .arg("run")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtrail run starts");
    std::thread::sleep(Duration::from_secs(2));
    sigterm(&child);
    let out = wait(child, Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(0),
        "run stops cleanly on SIGTERM: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let requests = sim.requests();
    for method in ["GET", "POST"] {
        assert!(
            requests.iter().any(|r| r.method == method),
            "no {method} at all: {requests:?}"
        );
    }
    assert!(
        requests.iter().any(|r| r.path.contains("runHuntingQuery")),
        "{requests:?}"
    );
    let offending: Vec<_> = requests
        .iter()
        .filter(|r| !allowed(&r.method, &r.path))
        .collect();
    assert!(
        offending.is_empty(),
        "requests beyond the token POST, GETs and the hunting POST: {offending:?}"
    );
}

#[test]
fn doctor_with_faults_sends_only_reads() {
    for profile in ["no-roles", "wrong-region", "expired-secret", "empty"] {
        let sim = Sim::start(&[profile]);
        let home = Home::new();
        run(home.at(&sim).arg("doctor"));
        let requests = sim.requests();
        assert!(!requests.is_empty(), "{profile}");
        for r in &requests {
            assert!(allowed(&r.method, &r.path), "{profile}: {r:?}");
        }
    }
}

/// The demo runs its own simulator, which logs every request (method, path, status) at `-v`;
/// the log is the evidence.
#[test]
fn the_demo_sends_only_reads_to_its_simulator() {
    let home = Home::new();
    let child = home
        .mailtrail()
        .args(["-v", "demo", "--no-tui", "--scale", "small"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtrail demo starts");
    let out = wait(child, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("not built yet") {
        eprintln!("demo is not built yet; nothing to check");
        return;
    }
    let mut seen = 0;
    for line in stderr.lines() {
        let Some(arrow) = line.find(" -> ") else {
            continue;
        };
        let head = &line[..arrow];
        let Some((method, path)) = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
            .iter()
            .find_map(|m| {
                head.find(&format!("{m} /"))
                    .map(|i| (*m, head[i + m.len() + 1..].trim()))
            })
        else {
            continue;
        };
        seen += 1;
        assert!(allowed(method, path), "the demo sent {method} {path}");
    }
    assert!(
        seen > 0,
        "the demo's simulator logged no request at -v:\n{stderr}"
    );
}

#[test]
fn the_allow_list_is_exactly_the_four_reads() {
    assert!(allowed("POST", "/contoso.com/oauth2/v2.0/token"));
    assert!(allowed("GET", "/v1.0/security/alerts_v2?$top=1"));
    assert!(allowed("POST", "/v1.0/security/runHuntingQuery"));
    assert!(allowed(
        "GET",
        "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration"
    ));
    assert!(!allowed("PATCH", "/v1.0/security/alerts_v2/da637"));
    assert!(!allowed("POST", "/v1.0/security/alerts_v2"));
    assert!(!allowed("GET", "/v1.0/security/incidents"));
    assert!(!allowed("DELETE", "/v1.0/security/alerts_v2"));
}
