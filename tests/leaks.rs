//! Nothing leaks the credential: every command runs at `-vvv` with a known client secret
//! against the simulator, then stdout, stderr, every file the commands left (the store with its
//! -wal and -shm, configs, logs, exports), a copy of the store taken while `run` was writing,
//! and the simulator's request log are searched for the secret (also URL- and Basic-encoded,
//! and any 12 characters of it in a row) and for every access token the simulator issued (also
//! each token's payload and signature alone). `simulate` runs as a process too, and its output
//! is searched the same way.

mod doctor_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use doctor_support::{Home, Sim, contains_bytes, files_under, run};

/// The byte strings that must appear nowhere, with a label for the failure message.
struct Needles {
    items: Vec<(String, Vec<u8>)>,
}

impl Needles {
    fn for_secret(secret: &str, client_id: &str) -> Needles {
        let mut items = vec![("the secret".to_string(), secret.as_bytes().to_vec())];
        let form: String = url_encode(secret);
        items.push(("the URL-encoded secret".into(), form.into_bytes()));
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{client_id}:{}", url_encode(secret)));
        items.push(("the Basic-encoded secret".into(), basic.into_bytes()));
        let chars: Vec<char> = secret.chars().collect();
        for (i, window) in chars.windows(12).enumerate() {
            items.push((
                format!("12 characters of the secret (from {i})"),
                window.iter().collect::<String>().into_bytes(),
            ));
        }
        Needles { items }
    }

    fn add_tokens(&mut self, tokens: &[String]) {
        for (n, t) in tokens.iter().enumerate() {
            self.items
                .push((format!("issued token #{n}"), t.as_bytes().to_vec()));
            let parts: Vec<&str> = t.split('.').collect();
            if let [_, payload, signature] = parts[..] {
                self.items.push((
                    format!("the payload of token #{n}"),
                    payload.as_bytes().to_vec(),
                ));
                self.items.push((
                    format!("the signature of token #{n}"),
                    signature.as_bytes().to_vec(),
                ));
            }
        }
    }

    /// Panics naming what was found where.
    fn assert_absent(&self, place: &str, haystack: &[u8]) {
        for (label, needle) in &self.items {
            assert!(
                !contains_bytes(haystack, needle),
                "{label} leaked into {place}"
            );
        }
        // Any JWT at all (header and payload are base64url JSON objects: "eyJ").
        if let Some(i) = find_jwt(haystack) {
            let end = (i + 40).min(haystack.len());
            panic!(
                "something shaped like an access token is in {place}: {}…",
                String::from_utf8_lossy(&haystack[i..end])
            );
        }
    }
}

/// `application/x-www-form-urlencoded` as the token request writes it.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The offset of a `eyJ….eyJ…` run (a compact JWT's header and payload), if any.
fn find_jwt(h: &[u8]) -> Option<usize> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let mut i = 0;
    while i + 3 <= h.len() {
        if &h[i..i + 3] == b"eyJ" {
            let mut j = i + 3;
            while j < h.len() && b64(h[j]) {
                j += 1;
            }
            if j - i >= 10 && h.get(j) == Some(&b'.') && h[j + 1..].starts_with(b"eyJ") {
                return Some(i);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// Waits for a child to exit for up to `limit`, then kills it.
fn wait_or_kill(mut child: Child, limit: Duration) -> (String, String) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("the child's output");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// Snapshots of the store's files, read while a writer has them open.
fn store_snapshot(home: &Home) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut name = home.db().into_os_string();
            name.push(suffix);
            let bytes = std::fs::read(&name).ok()?;
            Some((format!("{} (during run)", name.to_string_lossy()), bytes))
        })
        .collect()
}

#[test]
fn no_command_leaks_the_secret_or_a_token_at_any_verbosity() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let t = sim.tenant();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut record = |what: &str, stdout: String, stderr: String| {
        outputs.push((format!("stdout of `{what}`"), stdout));
        outputs.push((format!("stderr of `{what}`"), stderr));
    };

    let init_config = home.path().join("init.toml");
    let commands: Vec<Vec<String>> = [
        vec!["config"],
        vec!["doctor"],
        vec!["doctor", "--json"],
        vec!["sync"],
        vec!["sync", "--since", "7d"],
        vec!["status"],
        vec!["status", "--json"],
        vec!["export"],
        vec!["export", "--format", "json", "--raw"],
        vec!["remap", "--all"],
        vec!["query", "SELECT 1"],
        vec!["prune", "--dry-run"],
        vec!["doctor"],
    ]
    .into_iter()
    .map(|a| a.into_iter().map(String::from).collect())
    .collect();
    for args in &commands {
        let ran = run(home.at(&sim).arg("-vvv").args(args));
        assert!(
            !ran.stderr.contains("panicked"),
            "`{}` panicked:\n{}",
            args.join(" "),
            ran.stderr
        );
        record(&args.join(" "), ran.stdout, ran.stderr);
    }
    // Every crate's logs, not only mailtrail's: hyper, reqwest and rustls at trace.
    for args in [vec!["sync"], vec!["doctor"]] {
        let ran = run(home.at(&sim).env("RUST_LOG", "trace").args(&args));
        record(
            &format!("RUST_LOG=trace {}", args.join(" ")),
            ran.stdout,
            ran.stderr,
        );
    }
    // A failing sign-in must not echo what was sent either.
    let ran = run(home
        .at(&sim)
        .arg("-vvv")
        .env(
            "MAILTRAIL_CLIENT_ID",
            "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        )
        .arg("sync"));
    record("sync with an unknown client id", ran.stdout, ran.stderr);
    let ran = run(home
        .at(&sim)
        .arg("-vvv")
        .arg("--config")
        .arg(&init_config)
        .args(["init", "--name", "contoso", "--tenant-id"])
        .arg(&t.tenant_id)
        .arg("--client-id")
        .arg(&t.client_id));
    record("init", ran.stdout, ran.stderr);

    // `run` for a few seconds (copying the store while it writes), then SIGTERM.
    let child = home
        .at(&sim)
        .args(["-vvv", "run", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtrail run starts");
    std::thread::sleep(Duration::from_millis(2500));
    let during_run = store_snapshot(&home);
    sigterm(&child);
    let (stdout, stderr) = wait_or_kill(child, Duration::from_secs(20));
    record("run", stdout, stderr);

    // The dashboard and the demo, if built (the demo's own simulator uses the same seed, so
    // the same secret). Both are cut off if they wait for a terminal.
    for args in [
        vec![
            "-vvv", "demo", "--no-tui", "--scale", "small", "--seed", "42",
        ],
        vec!["-vvv", "tui"],
    ] {
        let child = home
            .at(&sim)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mailtrail starts");
        let (stdout, stderr) = wait_or_kill(child, Duration::from_secs(60));
        record(&args[1..].join(" "), stdout, stderr);
    }

    let mut needles = Needles::for_secret(&t.client_secret, &t.client_id);
    let tokens = sim.issued_tokens();
    assert!(
        tokens.len() >= 3,
        "the commands signed in: {} tokens",
        tokens.len()
    );
    needles.add_tokens(&tokens);

    for (place, text) in &outputs {
        needles.assert_absent(place, text.as_bytes());
    }
    for (place, bytes) in &during_run {
        needles.assert_absent(place, bytes);
    }
    let files = files_under(home.path());
    assert!(
        files.iter().any(|f| f == &home.db()),
        "the store exists: {files:?}"
    );
    for file in files {
        let bytes = std::fs::read(&file).expect("readable file");
        needles.assert_absent(&file.display().to_string(), &bytes);
    }
    let log: String = sim
        .requests()
        .iter()
        .map(|r| format!("{} {} {}\n", r.method, r.path, r.status))
        .collect();
    assert!(!log.is_empty());
    needles.assert_absent("the simulator's request log", log.as_bytes());
}

#[test]
fn the_simulate_process_logs_requests_but_never_the_credential() {
    // Same seed as `Sim`, so the same tenant credentials; the in-process twin only tells us
    // the secret (its own tokens are not the ones the process mints, hence the JWT search).
    let twin = Sim::start(&[]);
    let t = twin.tenant();
    let home = Home::new();
    let mut child = home
        .mailtrail()
        .args([
            "-vvv", "simulate", "--scale", "small", "--seed", "42", "--port", "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mailtrail simulate starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first line");
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();

    let mut outputs = Vec::new();
    for args in [vec!["sync"], vec!["doctor", "--json"], vec!["status"]] {
        let ran = run(home
            .mailtrail()
            .arg("-vvv")
            .env("MAILTRAIL_TENANT_ID", &t.tenant_id)
            .env("MAILTRAIL_CLIENT_ID", &t.client_id)
            .env("MAILTRAIL_CLIENT_SECRET", &t.client_secret)
            .env("MAILTRAIL_LOGIN_ENDPOINT", &url)
            .env("MAILTRAIL_GRAPH_ENDPOINT", &url)
            .env("MAILTRAIL_DB", home.db())
            .args(&args));
        assert_ne!(ran.code, None, "{}", ran.both());
        outputs.push((format!("`{}`", args.join(" ")), ran.both()));
    }
    sigterm(&child);
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let (_, stderr) = wait_or_kill(child, Duration::from_secs(10));
    assert!(
        stderr.contains("POST /") && stderr.contains("/oauth2/v2.0/token -> 200"),
        "the simulator logs its requests:\n{stderr}"
    );
    outputs.push(("simulate's stdout".into(), first + &rest));
    outputs.push(("simulate's stderr".into(), stderr));

    let needles = Needles::for_secret(&t.client_secret, &t.client_id);
    for (place, text) in &outputs {
        needles.assert_absent(place, text.as_bytes());
    }
    for file in files_under(home.path()) {
        needles.assert_absent(&file.display().to_string(), &std::fs::read(&file).unwrap());
    }
}

#[test]
fn the_search_finds_a_planted_secret_or_token() {
    let secret = "abC8Q~0123456789abcdefghijklmnopqrstuvwx";
    let mut needles = Needles::for_secret(secret, "client");
    needles.add_tokens(&["eyJ0eXAiOiJKV1QifQ.eyJyb2xlcyI6W119.c2lnbmF0dXJlLXBhcnQ".to_string()]);
    let planted = [
        format!("log: secret={secret}\n"),
        format!("form: client_secret={}", url_encode(secret)),
        format!("cut: {}", &secret[5..20]),
        "auth: Bearer eyJ0eXAiOiJKV1QifQ.eyJyb2xlcyI6W119.c2lnbmF0dXJlLXBhcnQ".to_string(),
        "sig only: c2lnbmF0dXJlLXBhcnQ".to_string(),
    ];
    for text in planted {
        let found = std::panic::catch_unwind(|| needles.assert_absent("test", text.as_bytes()));
        assert!(found.is_err(), "not found in {text:?}");
    }
    needles.assert_absent("clean text", b"nothing to see: secret.ok, 40 chars");
}

#[test]
fn the_jwt_detector_finds_tokens_and_ignores_prose() {
    assert_eq!(find_jwt(b"x eyJhbGciOi.eyJzdWIiOiIx.sig y"), Some(2));
    assert_eq!(find_jwt(b"eyJ alone, and eyJhbGciOiJI without a dot"), None);
    assert_eq!(url_encode("ab8Q~x y"), "ab8Q%7Ex+y");
}
