//! Benchmark: the dashboard at scale — 1,000,000 email events and 100,000 alerts (the
//! simulator's large data set, synced over 30 days by the library collector). Measures the
//! first frame, scrolling, filtering and pivots through the same Action path the terminal uses,
//! drawn into a `TestBackend`, plus the store queries behind them.
//!
//! Run: `cargo bench --bench tui` (prints a table; asserts nothing). Building the store takes
//! minutes, so it is cached at `target/tui-bench/large.db` and reused; delete it to rebuild.
//! `TUI_BENCH_INGEST=1` measures instead what the dashboard's indexes cost the ingest path
//! (and the full-text indexes); `TUI_BENCH_FTS=1` stops after the full-text search rows.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mailtrail::search::parse;
use mailtrail::simulator::{FaultPlan, Scale};
use mailtrail::store::Store;
use mailtrail::store::views::{Direction, ThreatOrder, ThreatSort};
use mailtrail::tui::{Headless, TuiOptions};

fn store_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tui-bench/large.db")
}

/// The sync-complete marker: a store whose build was interrupted is rebuilt.
fn done_marker() -> PathBuf {
    store_path().with_extension("done")
}

fn build_store() {
    let path = store_path();
    if done_marker().exists() && path.exists() {
        return;
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
        for ext in ["db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(path.with_extension(ext));
        }
    }
    eprintln!("building {} (once; minutes)…", path.display());
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sim = common::simulator(Scale::Large, FaultPlan::default()).await;
        common::sync_days(&sim, &path, 30).await;
    });
    let s = Store::open(&path).expect("store");
    let (events, alerts): (i64, i64) = s
        .conn()
        .query_row(
            "SELECT (SELECT count(*) FROM email_events), (SELECT count(*) FROM alerts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    s.conn()
        // No ANALYZE: users' stores have no statistics, so neither does the benchmark's.
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    eprintln!(
        "built in {:.0}s: {events} email events, {alerts} alerts",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::write(done_marker(), "ok");
}

fn now_ms() -> i64 {
    common::start_time().timestamp_millis()
}

/// Median and worst of `f` over `n` runs, in milliseconds.
fn time(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    staged(n, || {}, |_| f(), || {})
}

/// Like [`time`], timing only `measured`: `setup` and `after` run outside the clock.
fn staged<T>(
    n: usize,
    mut setup: impl FnMut() -> T,
    mut measured: impl FnMut(T),
    mut after: impl FnMut(),
) -> (f64, f64) {
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            let input = setup();
            let t = Instant::now();
            measured(input);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            after();
            ms
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[v.len() - 1])
}

/// One result line; an infinite budget means "informational" (no verdict).
fn row(name: &str, (median, worst): (f64, f64), budget: f64) {
    if budget.is_infinite() {
        println!("{name:<52} {median:>9.1} {worst:>9.1} {:>8}", "-");
        return;
    }
    let verdict = if worst <= budget { "ok" } else { "OVER" };
    println!("{name:<52} {median:>9.1} {worst:>9.1} {budget:>8.0}  {verdict}");
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn main() {
    build_store();
    let path = store_path();
    migrate(&path);
    if std::env::var_os("TUI_BENCH_INGEST").is_some() {
        ingest_cost(&path);
        return;
    }
    let opts = || TuiOptions {
        now_ms: Some(now_ms()),
        ..TuiOptions::default()
    };
    println!(
        "{:<52} {:>9} {:>9} {:>8}",
        "operation (ms)", "median", "worst", "budget"
    );

    // Store queries alone.
    let store = Store::open_read_only(&path).expect("store");
    let all = parse("").expect("query");
    let q = |s: &str| parse(s).expect("query");
    row(
        "query: threat page (time)",
        time(20, || {
            store
                .threat_page(
                    &all,
                    now_ms(),
                    ThreatOrder::default(),
                    None,
                    Direction::Forward,
                    200,
                )
                .expect("page");
        }),
        100.0,
    );
    for sort in [ThreatSort::Severity, ThreatSort::Status, ThreatSort::Title] {
        row(
            &format!("query: threat page (sorted by {})", sort.label()),
            time(10, || {
                store
                    .threat_page(
                        &all,
                        now_ms(),
                        ThreatOrder {
                            column: sort,
                            descending: true,
                        },
                        None,
                        Direction::Forward,
                        200,
                    )
                    .expect("page");
            }),
            100.0,
        );
    }
    row(
        "query: event page",
        time(20, || {
            store
                .event_page(&all, now_ms(), true, None, Direction::Forward, 200)
                .expect("page");
        }),
        100.0,
    );
    row(
        "query: event page, last (End)",
        time(10, || {
            store
                .event_page(&all, now_ms(), true, None, Direction::Backward, 200)
                .expect("page");
        }),
        100.0,
    );
    // A threat whose message evidence names a sender, a recipient and a URL.
    let sample = store
        .threat_page(
            &all,
            now_ms(),
            ThreatOrder::default(),
            None,
            Direction::Forward,
            200,
        )
        .expect("page")
        .into_iter()
        .find(|t| t.url.is_some() && t.sender.is_some())
        .expect("a threat with a URL");
    let sender = sample.sender.clone().unwrap_or_default();
    let pivots = [
        format!("sender:{sender}"),
        format!("recipient:{}", sample.recipient.clone().unwrap_or_default()),
        format!("domain:{}", sender.rsplit('@').next().unwrap_or_default()),
        format!(
            "message:{}",
            sample.network_message_id.clone().unwrap_or_default()
        ),
        format!("url:{}", sample.url.clone().unwrap_or_default()),
        "severity:>=medium".into(),
        "delivery:inbox since:7d".into(),
        "threat:malware".into(),
        "invoice".into(),
    ];
    for p in &pivots {
        let query = q(p);
        row(
            &format!("query: events  {}", short(p)),
            time(5, || {
                store
                    .event_page(&query, now_ms(), true, None, Direction::Forward, 200)
                    .expect("page");
            }),
            100.0,
        );
        row(
            &format!("query: threats {}", short(p)),
            time(5, || {
                store
                    .threat_page(
                        &query,
                        now_ms(),
                        ThreatOrder::default(),
                        None,
                        Direction::Forward,
                        200,
                    )
                    .expect("page");
            }),
            100.0,
        );
    }
    full_text(&store, &sender);
    if std::env::var_os("TUI_BENCH_FTS").is_some() {
        return; // the full-text rows only
    }
    for p in ["", "severity:>=medium", "invoice"] {
        let query = q(p);
        row(
            &format!("query: event count (cap 10,000) '{p}'"),
            time(5, || {
                store.event_count(&query, now_ms(), 10_000).expect("count");
            }),
            f64::INFINITY,
        );
        row(
            &format!("query: threat count (cap 10,000) '{p}'"),
            time(5, || {
                store.threat_count(&query, now_ms(), 10_000).expect("count");
            }),
            f64::INFINITY,
        );
    }
    for period in [1u64, 7, 30] {
        row(
            &format!("query: overview {period}d"),
            time(5, || {
                store
                    .overview(&all, now_ms(), Duration::from_secs(period * 86_400), 30, 8)
                    .expect("overview");
            }),
            300.0,
        );
    }
    row(
        "query: sync health",
        time(5, || {
            store.health(Duration::from_secs(300)).expect("health");
        }),
        100.0,
    );
    drop(store);

    // The dashboard through its Action path, drawn into a TestBackend (100×30).
    row(
        "tui: first frame (painted, before any query)",
        time(5, || {
            let mut h = Headless::open_unloaded(&path, opts(), 100, 30).expect("open");
            h.render();
        }),
        300.0,
    );
    row(
        "tui: overview data on screen (background lane)",
        time(5, || {
            let mut h = Headless::open(&path, opts(), 100, 30).expect("open");
            h.render();
        }),
        300.0,
    );
    let mut h = Headless::open(&path, opts(), 100, 30).expect("open");
    row(
        "tui: Tab to threats, first page + frame",
        time(1, || {
            h.press(code(KeyCode::Tab));
            h.pump_interactive();
            h.render();
        }),
        100.0,
    );
    h.pump();
    row(
        "tui: scroll one row (j) + frame",
        time(50, || {
            h.key(key('j'));
            h.render();
        }),
        100.0,
    );
    row(
        "tui: page down (PgDn) + frame",
        time(30, || {
            h.key(code(KeyCode::PageDown));
            h.render();
        }),
        100.0,
    );
    row(
        "tui: end (G, last page) + frame",
        time(5, || {
            h.key(key('G'));
            h.render();
            h.key(key('g'));
        }),
        100.0,
    );
    h.key(code(KeyCode::Tab));
    row(
        "tui: activity scroll one row (j) + frame",
        time(50, || {
            h.key(key('j'));
            h.render();
        }),
        100.0,
    );
    row(
        "tui: activity page down (PgDn) + frame",
        time(50, || {
            h.key(code(KeyCode::PageDown));
            h.render();
        }),
        100.0,
    );
    for p in [
        "severity:>=medium",
        "delivery:inbox",
        "threat:phish since:24h",
        "threat:malware",
        "invoice",
    ] {
        // The filter is typed outside the clock; Enter starts it.
        let cell = std::cell::RefCell::new(&mut h);
        let type_filter = || {
            let mut h = cell.borrow_mut();
            h.key(key('/'));
            h.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
            for c in p.chars() {
                h.key(key(c));
            }
        };
        row(
            &format!("tui: activity filter '{p}', page + frame"),
            staged(
                5,
                type_filter,
                |_| {
                    let mut h = cell.borrow_mut();
                    h.press(code(KeyCode::Enter));
                    h.pump_interactive();
                    h.render();
                },
                || cell.borrow_mut().pump(),
            ),
            100.0,
        );
        row(
            "tui:   … and its count (background lane)",
            staged(
                3,
                || {
                    type_filter();
                    let mut h = cell.borrow_mut();
                    h.press(code(KeyCode::Enter));
                    h.pump_interactive();
                },
                |_| {
                    let mut h = cell.borrow_mut();
                    h.pump();
                    h.render();
                },
                || {},
            ),
            f64::INFINITY,
        );
    }
    h.key(code(KeyCode::Esc));
    for (k, name) in [
        ('S', "sender"),
        ('R', "recipient"),
        ('D', "domain"),
        ('U', "url"),
        ('M', "message"),
    ] {
        row(
            &format!("tui: activity pivot {name} ({k}), page + frame"),
            {
                let cell = std::cell::RefCell::new(&mut h);
                staged(
                    5,
                    || {},
                    |_| {
                        let mut h = cell.borrow_mut();
                        h.press(key(k));
                        h.pump_interactive();
                        h.render();
                    },
                    || {
                        let mut h = cell.borrow_mut();
                        h.pump();
                        h.key(code(KeyCode::Esc));
                    },
                )
            },
            100.0,
        );
    }
    h.key(code(KeyCode::BackTab));
    for (k, name) in [
        ('S', "sender"),
        ('R', "recipient"),
        ('D', "domain"),
        ('U', "url"),
        ('M', "message"),
    ] {
        row(
            &format!("tui: threats pivot {name} ({k}), page + frame"),
            {
                let cell = std::cell::RefCell::new(&mut h);
                staged(
                    5,
                    || {},
                    |_| {
                        let mut h = cell.borrow_mut();
                        h.press(key(k));
                        h.pump_interactive();
                        h.render();
                    },
                    || {
                        let mut h = cell.borrow_mut();
                        h.pump();
                        h.key(code(KeyCode::Esc));
                    },
                )
            },
            100.0,
        );
    }
    row(
        "tui: threat detail (Enter) + frame",
        time(5, || {
            h.key(code(KeyCode::Enter));
            h.render();
            h.key(code(KeyCode::Esc));
        }),
        100.0,
    );
}

/// Brings a cached store built by an older mailtrail up to this build's schema (the benchmark
/// itself opens it read-only), and says what the migration cost: at 1M events, mostly the
/// full-text backfill of schema/0004_fts.sql.
fn migrate(path: &Path) {
    let outdated = matches!(
        Store::open_read_only(path),
        Err(mailtrail::store::StoreError::Outdated { .. })
    );
    let started = Instant::now();
    drop(Store::open(path).expect("store"));
    if outdated {
        println!(
            "store migrated to schema v{} in {:.1}s",
            mailtrail::store::SCHEMA_VERSION,
            started.elapsed().as_secs_f64()
        );
    }
}

/// Free text through the full-text indexes (schema/0004_fts.sql, 0009_threat_text.sql): words
/// from rare to present in every message, alone and with a tenant or a time span, each as a
/// first page of 200 and capped counts, as the dashboard asks.
fn full_text(store: &Store, sender: &str) {
    let domain = sender.rsplit('@').next().unwrap_or_default();
    let tenant = store
        .known_tenants()
        .expect("tenants")
        .into_iter()
        .next()
        .unwrap_or_default();
    let with_tenant = format!("contoso tenant:{tenant}");
    for text in [
        "payroll",
        "invoice",
        "account",
        "microsoft account",
        "\"unusual sign-in\"",
        sender,
        domain,
        "invoice since:7d",
        "contoso",
        &with_tenant,
        "zzzqx",
    ] {
        let query = parse(text).expect("query");
        let label = short(text);
        row(
            &format!("fts: events  {label}"),
            time(5, || {
                store
                    .event_page(&query, now_ms(), true, None, Direction::Forward, 200)
                    .expect("page");
            }),
            100.0,
        );
        row(
            &format!("fts: threats {label}"),
            time(5, || {
                store
                    .threat_page(
                        &query,
                        now_ms(),
                        ThreatOrder::default(),
                        None,
                        Direction::Forward,
                        200,
                    )
                    .expect("page");
            }),
            100.0,
        );
        row(
            &format!("fts: event count (cap 10,000) {label}"),
            time(5, || {
                store.event_count(&query, now_ms(), 10_000).expect("count");
            }),
            100.0,
        );
        row(
            &format!("fts: threat count (cap 10,000) {label}"),
            time(5, || {
                store.threat_count(&query, now_ms(), 10_000).expect("count");
            }),
            100.0,
        );
    }
}

/// What the dashboard's email_events indexes (schema/0003_tui_indexes.sql) cost the ingest
/// path: the same 200,000 stored rows ingested through `Store::ingest_email_events` (pages of
/// 1,000, as the collector writes them) into a new store with and without them.
fn ingest_cost(path: &Path) {
    let source = Store::open_read_only(path).expect("store");
    let rows: Vec<Box<serde_json::value::RawValue>> = {
        let mut stmt = source
            .conn()
            .prepare("SELECT raw FROM email_events ORDER BY rowid LIMIT 200000")
            .expect("prepare");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .map(|r| serde_json::value::RawValue::from_string(r.expect("row")).expect("json"))
            .collect()
    };
    let indexes = [
        "email_events_sender",
        "email_events_recipient",
        "email_events_domain",
        "email_events_message",
        "email_events_threats",
    ];
    // The full-text index of email events is kept by these triggers (schema/0004_fts.sql).
    let fts = [
        "TRIGGER email_events_fts_insert",
        "TRIGGER email_events_fts_update",
        "TRIGGER email_events_fts_delete",
    ];
    for (name, drop, drop_fts) in [
        ("without the dashboard's indexes", true, true),
        ("with them, without full-text", false, true),
        ("with them and full-text", false, false),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("ingest.db")).expect("store");
        if drop {
            for i in indexes {
                store
                    .conn()
                    .execute_batch(&format!("DROP INDEX {i}"))
                    .expect("drop");
            }
        }
        if drop_fts {
            for t in fts {
                store
                    .conn()
                    .execute_batch(&format!("DROP {t}"))
                    .expect("drop");
            }
        }
        let started = Instant::now();
        for page in rows.chunks(1000) {
            store
                .ingest_email_events("bench", page, mailtrail::store::sync::Advance::No, None)
                .expect("ingest");
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "ingest 200,000 email events {name:<32} {:>9.0} events/s",
            rows.len() as f64 / secs
        );
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 34 {
        format!("{}…", s.chars().take(33).collect::<String>())
    } else {
        s.to_string()
    }
}
