//! Shared by `tests/doctor*.rs`, `tests/leaks.rs` and `tests/read_only.rs`: the simulator on a
//! background runtime (so tests can run the `mailtrail` binary synchronously while it serves),
//! and the binary run with a clean environment — every `MAILTRAIL_*` variable, proxy and
//! `RUST_LOG` removed, HOME and the XDG directories in a temporary directory — pointed at it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use mailtrail::simulator::{FaultPlan, RequestRecord, Scale, SimOptions, SimTenant, Simulator};

/// A fixed simulated "now" so data and answers are reproducible.
pub fn start_time() -> DateTime<Utc> {
    "2026-11-20T12:00:00Z".parse().expect("valid time")
}

/// The seed of every test simulator: tenant credentials depend only on it (and the tenant's
/// index), so `mailtrail simulate --seed 42` and `demo --seed 42` share them.
pub const SEED: u64 = 42;

/// A simulator served by its own runtime. Dropping it stops the server, then the runtime.
pub struct Sim {
    // Field order is drop order: the server before the runtime it runs on.
    pub sim: Simulator,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    /// A small, frozen simulator with the named fault profiles.
    pub fn start(profiles: &[&str]) -> Sim {
        let faults = FaultPlan::default()
            .with_profiles(profiles)
            .expect("known fault profiles");
        Sim::with_faults(faults)
    }

    pub fn with_faults(faults: FaultPlan) -> Sim {
        let mut opts = SimOptions::new(SEED, Scale::Small, start_time());
        opts.freeze = true;
        opts.faults = faults;
        Sim::with_options(opts)
    }

    pub fn with_options(opts: SimOptions) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the simulator");
        let sim = rt
            .block_on(Simulator::start(opts))
            .expect("the simulator listens on 127.0.0.1");
        Sim { sim, rt }
    }

    pub fn url(&self) -> String {
        self.sim.url()
    }

    pub fn tenant(&self) -> &SimTenant {
        &self.sim.tenants()[0]
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.sim.requests()
    }

    pub fn issued_tokens(&self) -> Vec<String> {
        self.sim.issued_tokens()
    }

    /// Runs a future on the simulator's runtime (for fake servers next to it).
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.rt
    }
}

/// A temporary HOME for one test, with the store path under it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The store every command of this test uses (passed as MAILTRAIL_DB).
    pub fn db(&self) -> PathBuf {
        self.path().join("data/mailtrail.db")
    }

    /// A clean `mailtrail` command: no MAILTRAIL_*, no proxies, no RUST_LOG, NO_COLOR.
    pub fn mailtrail(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailtrail"));
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy().to_string();
            if k.starts_with("MAILTRAIL_") || k.to_ascii_lowercase().ends_with("_proxy") {
                cmd.env_remove(&key);
            }
        }
        let home = self.path();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// [`Home::mailtrail`] pointed at tenant 0 of `sim` through the environment, with its
    /// real secret, and at this home's store.
    pub fn at(&self, sim: &Sim) -> Command {
        let t = sim.tenant();
        let mut cmd = self.mailtrail();
        cmd.env("MAILTRAIL_TENANT_NAME", &t.name)
            .env("MAILTRAIL_TENANT_ID", &t.tenant_id)
            .env("MAILTRAIL_CLIENT_ID", &t.client_id)
            .env("MAILTRAIL_CLIENT_SECRET", &t.client_secret)
            .env("MAILTRAIL_LOGIN_ENDPOINT", sim.url())
            .env("MAILTRAIL_GRAPH_ENDPOINT", sim.url())
            .env("MAILTRAIL_DB", self.db());
        cmd
    }

    /// Writes `text` as this home's config file and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.path().join("config.toml");
        std::fs::write(&path, text).expect("config written");
        path
    }
}

/// What a finished command printed, and how long it took.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Ran {
    pub fn both(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

pub fn run(cmd: &mut Command) -> Ran {
    let started = Instant::now();
    let out = cmd.output().expect("the mailtrail binary runs");
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `doctor --json` (plus `args`), parsed.
pub fn doctor_json(cmd: &mut Command, args: &[&str]) -> (Ran, serde_json::Value) {
    let ran = run(cmd.arg("doctor").args(args).arg("--json"));
    let report: serde_json::Value = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}):\n{}", ran.both()));
    (ran, report)
}

/// The check called `name` (for `tenant`, when given).
pub fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check named {name:?} in {report:#}"))
}

/// Asserts a check's status and code, and that its fix contains every one of `fix_has`.
pub fn assert_check(
    report: &serde_json::Value,
    name: &str,
    status: &str,
    code: &str,
    fix_has: &[&str],
) {
    let c = check(report, name);
    assert_eq!(c["status"], status, "{name}: {c:#}");
    assert_eq!(c["code"], code, "{name}: {c:#}");
    let fix = c["fix"].as_str().unwrap_or_default();
    for needle in fix_has {
        assert!(fix.contains(needle), "{name}: fix lacks {needle:?}: {c:#}");
    }
}

/// Every check's status, for messages.
pub fn statuses(report: &serde_json::Value) -> String {
    report["checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| format!("{} {} {}", c["status"], c["name"], c["code"]))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out
}

/// A TCP listener on 127.0.0.1 that accepts connections and never answers (a host that has
/// hung). Connections are held until the listener is dropped with the test.
pub struct SilentHost {
    pub port: u16,
}

impl SilentHost {
    pub fn start() -> SilentHost {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                match conn {
                    Ok(c) => held.push(c),
                    Err(_) => break,
                }
            }
        });
        SilentHost { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A listener on 127.0.0.1 that counts the connections it gets and answers each with a 200
/// and an empty JSON object: the "other host" a redirect must not reach.
pub struct CountingHost {
    pub port: u16,
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingHost {
    pub fn start() -> CountingHost {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { break };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = c.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = c.read(&mut buf);
                let _ = c.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                );
            }
        });
        CountingHost { port, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}
