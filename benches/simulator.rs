//! Benchmark: the simulator's serving rate at the large scale (1,000,000 email events, 100,000
//! alerts), measured against the real binary in its own process so its memory can be read.
//!
//! Run: `cargo bench --bench simulator` (prints a table; asserts nothing).

mod support;

use std::collections::HashMap;
use std::time::Instant;

use serde_json::{Value, json};
use support::{peak_rss_kib, simulator};

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (mut child, lines) = simulator("large");
    let pid = child.id();
    let env: HashMap<String, String> = lines.into_iter().collect();
    let url = env["MAILTRAIL_GRAPH_ENDPOINT"].clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::new();
        let tenant = &env["MAILTRAIL_TENANT_ID"];
        let token: Value = http
            .post(format!("{url}/{tenant}/oauth2/v2.0/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", env["MAILTRAIL_CLIENT_ID"].as_str()),
                ("client_secret", env["MAILTRAIL_CLIENT_SECRET"].as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let token = token["access_token"].as_str().expect("access_token").to_string();

        // Hunting: 100,000-row responses with every column, read and parsed by the client.
        let mut rows = 0usize;
        let mut bytes = 0usize;
        let mut worst = 0f64;
        let mut parse_secs = 0f64;
        let started = Instant::now();
        for day in 0..5 {
            let q = format!(
                "EmailEvents | where Timestamp > datetime(2026-11-{:02}T00:00:00Z) and Timestamp <= datetime(2026-11-{:02}T00:00:00Z) | order by Timestamp asc",
                1 + day * 3,
                4 + day * 3
            );
            let t = Instant::now();
            let resp = http
                .post(format!("{url}/v1.0/security/runHuntingQuery"))
                .bearer_auth(&token)
                .json(&json!({ "Query": q }))
                .send()
                .await
                .expect("hunt");
            let text = resp.text().await.expect("body");
            // Served = the whole body received; parsing is the client's cost, reported apart.
            worst = worst.max(t.elapsed().as_secs_f64());
            let parse_start = Instant::now();
            let body: Value = serde_json::from_str(&text).expect("json");
            parse_secs += parse_start.elapsed().as_secs_f64();
            bytes += text.len();
            rows += body["results"].as_array().map_or(0, Vec::len);
        }
        let hunt_secs = started.elapsed().as_secs_f64() - parse_secs;
        println!(
            "hunting: {rows} rows ({:.0} MB) served in {hunt_secs:.2} s = {:.0} rows/s; slowest 100k-row response fully received in {worst:.2} s (client JSON parsing, not counted: {parse_secs:.2} s)",
            bytes as f64 / 1e6,
            rows as f64 / hunt_secs
        );

        // Paging: every alert, 1,000 per page, following nextLink.
        let started = Instant::now();
        let mut next = Some(format!("{url}/v1.0/security/alerts_v2?$top=1000&$orderby=lastUpdateDateTime%20asc"));
        let (mut alerts, mut pages) = (0usize, 0usize);
        while let Some(link) = next {
            let body: Value = http.get(&link).bearer_auth(&token).send().await.expect("page").json().await.expect("json");
            alerts += body["value"].as_array().map_or(0, Vec::len);
            pages += 1;
            next = body["@odata.nextLink"].as_str().map(str::to_string);
        }
        let page_secs = started.elapsed().as_secs_f64();
        println!(
            "alerts_v2 paging: {alerts} alerts in {pages} pages in {page_secs:.2} s = {:.0} alerts/s",
            alerts as f64 / page_secs
        );
    });
    println!(
        "simulator peak memory (VmHWM): {} MiB",
        peak_rss_kib(pid).unwrap_or(0) / 1024
    );
    let _ = child.kill();
    let _ = child.wait();
}
