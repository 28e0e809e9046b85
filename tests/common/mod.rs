//! Shared fixtures for integration tests: a simulator on an OS-chosen port, a plain HTTP client.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use mailtrail::simulator::{FaultPlan, Scale, SimOptions, Simulator};

/// A fixed simulated "now" so data and bodies are reproducible.
pub fn start_time() -> DateTime<Utc> {
    "2026-11-20T12:00:00Z".parse().expect("valid time")
}

pub fn options(scale: Scale) -> SimOptions {
    let mut o = SimOptions::new(42, scale, start_time());
    o.freeze = true;
    o
}

pub async fn simulator(scale: Scale, faults: FaultPlan) -> Simulator {
    let mut o = options(scale);
    o.faults = faults;
    Simulator::start(o)
        .await
        .expect("simulator starts on 127.0.0.1")
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client")
}

/// Requests a token for tenant `i` with its real credentials and the global scope.
pub async fn token(sim: &Simulator, i: usize) -> String {
    let t = &sim.tenants()[i];
    let resp = http()
        .post(format!("{}/{}/oauth2/v2.0/token", sim.url(), t.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", t.client_id.as_str()),
            ("client_secret", t.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A collector source for simulated tenant `i` (credentials straight from the simulator).
pub fn source(sim: &Simulator, i: usize) -> mailtrail::collector::TenantSource {
    use mailtrail::graph::{Credentials, GraphClient, TokenSource};
    use mailtrail::secret::Secret;
    let t = &sim.tenants()[i];
    let creds = Credentials {
        token_url: format!("{}/{}/oauth2/v2.0/token", sim.url(), t.tenant_id),
        tenant_id: t.tenant_id.clone(),
        client_id: t.client_id.clone(),
        secret: Secret::new(t.client_secret.clone()),
        scope: "https://graph.microsoft.com/.default".into(),
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = mailtrail::graph::http_client().expect("http client");
    let mut client = GraphClient::new(http, TokenSource::new(creds), &sim.url());
    // Keep retry waits short in tests; the logic is the same.
    client.policy.base = std::time::Duration::from_millis(20);
    // The simulator has no quota; the limiter itself is tested on its own.
    client.set_rate_limits(60_000, 60_000);
    client.hunting_policy = mailtrail::graph::client::RetryPolicy {
        max_attempts: 3,
        base: std::time::Duration::from_millis(20),
        cap: std::time::Duration::from_millis(200),
    };
    mailtrail::collector::TenantSource {
        name: t.name.clone(),
        region: mailtrail::cloud::Region::Global,
        client,
    }
}

/// One sync pass of simulated tenant 0, both streams, starting `days` back for a stream without
/// a checkpoint, into the store `db`; panics naming the stream that failed.
pub async fn sync_days(sim: &Simulator, db: &std::path::Path, days: u64) {
    use mailtrail::collector::{self, Plan, Progress};
    use mailtrail::config::{Stream, SyncConfig};
    let plan = Plan::new(
        SyncConfig::default(),
        Some(std::time::Duration::from_secs(days * 86_400)),
    );
    let reports = collector::sync_all(
        db.to_path_buf(),
        &[source(sim, 0)],
        &Stream::ALL,
        &plan,
        &std::sync::atomic::AtomicBool::new(false),
        &Progress::hidden(),
    )
    .await;
    for r in &reports {
        assert!(
            r.error.is_none(),
            "{}/{}: {:?}",
            r.tenant,
            r.stream,
            r.error
        );
    }
}

/// `mailtrail --db <db>` as a new user runs it: no MAILTRAIL_* settings from the environment
/// of the test run, and a private home beside the store (so no user config is found).
pub fn cli(db: &std::path::Path) -> std::process::Command {
    let home = db
        .parent()
        .expect("a store inside a directory")
        .join("home");
    std::fs::create_dir_all(&home).expect("home directory");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mailtrail"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MAILTRAIL_") && k != "MAILTRAIL_OCSF_SCHEMA" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .arg("--db")
        .arg(db);
    cmd
}
