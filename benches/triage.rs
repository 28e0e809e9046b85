//! Benchmark: triage scores and campaigns at scale, on the dashboard benchmark's store
//! (1,000,000 email events, ~80,000 alerts; build it first with `cargo bench --bench tui`).
//! Measures a full score refresh, an incremental one with nothing new, the threat list's first
//! and a deep page by score, and the campaigns of 7 and 30 days.
//!
//! Run: `cargo bench --bench triage` (prints a table; asserts nothing). `TRIAGE_BENCH_DB=FILE`
//! points it at another copy of the store (the refresh writes derived tables only).

use std::path::{Path, PathBuf};
use std::time::Instant;

use mailtrail::search::Query;
use mailtrail::store::Store;
use mailtrail::store::views::{Direction, ThreatOrder};
use mailtrail::triage::{Scope, refresh};

fn store_path() -> PathBuf {
    std::env::var_os("TRIAGE_BENCH_DB").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tui-bench/large.db"),
        PathBuf::from,
    )
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let path = store_path();
    if !path.exists() {
        eprintln!(
            "no store at {}: run `cargo bench --bench tui` first",
            path.display()
        );
        return;
    }
    let mut store = Store::open(&path).expect("store");
    let (events, alerts): (i64, i64) = store
        .conn()
        .query_row(
            "SELECT (SELECT max(rowid) FROM email_events), (SELECT count(*) FROM alerts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    println!("store: ~{events} email events, {alerts} alerts");
    println!("{:<52} {:>9}", "measure", "ms");

    // `TRIAGE_BENCH_SCOPE=changed` skips the full refresh (a minute on a cold cache).
    let scope = match std::env::var("TRIAGE_BENCH_SCOPE").as_deref() {
        Ok("changed") => Scope::Changed,
        _ => Scope::All,
    };
    let t = Instant::now();
    let r = refresh(&mut store, scope).expect("full refresh");
    println!(
        "{:<52} {:>9.1}",
        format!(
            "first refresh, {scope:?} ({} alerts, {} messages)",
            r.alerts, r.messages
        ),
        ms(t)
    );
    let t = Instant::now();
    let r = refresh(&mut store, Scope::Changed).expect("refresh");
    println!(
        "{:<52} {:>9.1}",
        format!("incremental refresh, nothing new ({} alerts)", r.alerts),
        ms(t)
    );
    // One alert touched: what a quiet `run` pass costs.
    store
        .conn()
        .execute(
            "UPDATE alerts SET updated_ms = ?1 WHERE rowid = (SELECT max(rowid) FROM alerts)",
            [mailtrail::store::now_ms() + 1],
        )
        .expect("touch");
    let t = Instant::now();
    let r = refresh(&mut store, Scope::Changed).expect("refresh");
    println!(
        "{:<52} {:>9.1}",
        format!(
            "incremental refresh, 1 alert touched ({} re-scored)",
            r.alerts
        ),
        ms(t)
    );

    let store = Store::open_read_only(&path).expect("store");
    let q = Query::default();
    let now = mailtrail::store::now_ms();
    let t = Instant::now();
    let first = store
        .threat_page(
            &q,
            now,
            ThreatOrder::BY_SCORE,
            None,
            Direction::Forward,
            200,
        )
        .expect("page");
    println!(
        "{:<52} {:>9.1}",
        "threat list by score: first page (200)",
        ms(t)
    );
    let mut anchor = first.last().map(|r| r.key.clone());
    let t0 = Instant::now();
    for _ in 0..50 {
        let page = store
            .threat_page(
                &q,
                now,
                ThreatOrder::BY_SCORE,
                anchor.as_ref(),
                Direction::Forward,
                200,
            )
            .expect("page");
        anchor = page.last().map(|r| r.key.clone());
    }
    println!(
        "{:<52} {:>9.1}",
        "threat list by score: next page (mean of 50)",
        ms(t0) / 50.0
    );
    let sev = mailtrail::search::parse("severity:high").expect("filter");
    let t = Instant::now();
    store
        .threat_page(
            &sev,
            now,
            ThreatOrder::BY_SCORE,
            None,
            Direction::Forward,
            200,
        )
        .expect("page");
    println!(
        "{:<52} {:>9.1}",
        "… filtered severity:high, first page",
        ms(t)
    );

    let t = Instant::now();
    let shown = mailtrail::campaigns::dashboard_campaigns(&store).expect("campaigns");
    println!(
        "{:<52} {:>9.1}",
        format!("dashboard Campaigns view ({} stored)", shown.len()),
        ms(t)
    );
    let newest: i64 = store
        .conn()
        .query_row("SELECT max(first_ms) FROM triage_messages", [], |r| {
            r.get(0)
        })
        .unwrap_or(now);
    for days in [1, 7, 30] {
        let t = Instant::now();
        let ms_read =
            mailtrail::campaigns::messages(store.conn(), newest - days * 86_400_000, newest + 1)
                .expect("messages");
        let read = ms(t);
        let t = Instant::now();
        let grouped = mailtrail::campaigns::group(&ms_read, 86_400_000, 2);
        println!(
            "{:<52} {:>9.1}",
            format!(
                "… {days}d: read {} messages {read:.1} ms, group",
                ms_read.len()
            ),
            ms(t)
        );
        drop(grouped);
        let t = Instant::now();
        let cs = mailtrail::campaigns::campaigns(
            &store,
            newest - days * 86_400_000,
            newest + 1,
            86_400_000,
            2,
        )
        .expect("campaigns");
        println!(
            "{:<52} {:>9.1}",
            format!("campaigns of {days}d, window 24h ({} found)", cs.len()),
            ms(t)
        );
    }
}
