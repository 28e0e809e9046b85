//! Benchmark: `mailtrail import` of one runHuntingQuery response holding 100,000 EmailEvents
//! rows (captured from the simulator's large tenant over HTTP, ≈150 MB of JSON) into a new
//! store — rows/s end to end (both passes: the check, then the store), the import process's
//! peak memory, and a second import of the same file (every row unchanged).
//!
//! Run: `cargo bench --bench import` (prints the numbers; asserts nothing). Compare the rate
//! with `cargo bench --bench sync` (the same store path, fed from Graph instead of a file).
//! `MAILTRAIL_BENCH_ROWS` changes the row count.

mod support;

use std::io::Write;
use std::process::Command;

use mailtrail::collector::activity::{COLUMNS, window_query};
use mailtrail::store::sync::{format_ns, parse_ns};
use support::{measured, simulator};

/// Rows of 6-hour windows from the simulator until `want` rows, written as one hunting
/// response (schema first, as Graph writes it). Returns the row count.
fn capture(env: &[(String, String)], want: usize, out: &std::path::Path) -> usize {
    let var = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .expect("simulator env")
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
            .post(format!(
                "{}/{}/oauth2/v2.0/token",
                var("MAILTRAIL_LOGIN_ENDPOINT"),
                var("MAILTRAIL_TENANT_ID")
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", var("MAILTRAIL_CLIENT_ID").as_str()),
                ("client_secret", var("MAILTRAIL_CLIENT_SECRET").as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let token = token["access_token"].as_str().expect("access_token").to_string();
        let mut file = std::io::BufWriter::new(std::fs::File::create(out).expect("create"));
        let schema: Vec<_> = COLUMNS
            .iter()
            .map(|c| serde_json::json!({"name": c, "type": if *c == "Timestamp" { "DateTime" } else { "String" }}))
            .collect();
        write!(file, "{{\"schema\":{},\"results\":[", serde_json::Value::from(schema)).expect("write");
        let step = 6 * 3_600_000_000_000i64;
        let mut to = parse_ns("2026-11-20T11:55:00Z").expect("time");
        let mut n = 0;
        while n < want {
            let from = to - step;
            #[derive(serde::Deserialize)]
            struct Body {
                results: Vec<Box<serde_json::value::RawValue>>,
            }
            let body: Body = http
                .post(format!("{}/v1.0/security/runHuntingQuery", var("MAILTRAIL_GRAPH_ENDPOINT")))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "Query": window_query(from, to, COLUMNS),
                    "Timespan": format!("{}/{}", format_ns(from), format_ns(to)),
                }))
                .send()
                .await
                .expect("hunting")
                .json()
                .await
                .expect("hunting json");
            for row in body.results.iter().take(want - n) {
                if n > 0 {
                    file.write_all(b",").expect("write");
                }
                file.write_all(row.get().as_bytes()).expect("write");
                n += 1;
            }
            to = from;
        }
        file.write_all(b"]}").expect("write");
        file.flush().expect("flush");
        n
    })
}

fn main() {
    let bin = env!("CARGO_BIN_EXE_mailtrail");
    let want: usize = std::env::var("MAILTRAIL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("mailtrail-bench-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("hunting.json");
    let (mut sim, env) = simulator("large");
    let rows = capture(&env, want, &input);
    let _ = sim.kill();
    let _ = sim.wait();
    let size = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    println!(
        "input: one hunting response, {rows} EmailEvents rows, {:.0} MB",
        size as f64 / 1e6
    );
    let db = dir.join("import.db");
    for (label, extra) in [
        ("--dry-run (read and check only)", Some("--dry-run")),
        ("new store", None),
        ("again (all unchanged)", None),
    ] {
        let mut cmd = Command::new(bin);
        cmd.args([
            "--quiet",
            "--db",
            db.to_str().expect("utf-8"),
            "import",
            "--tenant",
            "bench",
        ])
        .args(extra)
        .arg(&input)
        .env("HOME", &dir);
        let (secs, peak) = measured(cmd);
        println!(
            "import, {label}: {secs:.2} s, {:.0} rows/s, {:.0} MB/s, peak memory {} MiB",
            rows as f64 / secs,
            size as f64 / 1e6 / secs,
            peak / 1024
        );
    }
    let conn = rusqlite::Connection::open(&db).expect("open the store");
    let stored: i64 = conn
        .query_row("SELECT count(*) FROM email_events", [], |r| r.get(0))
        .expect("count");
    println!("stored: {stored} email events");
    let _ = std::fs::remove_dir_all(&dir);
}
