//! The collector against the simulator over HTTP, compared with the simulator's own ground
//! truth: exactly the MDO alerts at their latest version, exactly one row per message and
//! recipient, updates as updates, late data caught, faults survived, gaps filled later.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Duration, Utc};
use common::{simulator, source};
use mailtrail::collector::{self, Plan, Progress, StreamReport, TenantSource};
use mailtrail::config::{Stream, SyncConfig};
use mailtrail::simulator::{FaultPlan, Scale, Simulator};
use mailtrail::store::Store;
use mailtrail::store::sync::{ACTIVITY, THREATS, format_ns};
use serde_json::Value;

const SINCE_DAYS: i64 = 7;

async fn sync(store: &Path, sources: &[TenantSource], streams: &[Stream]) -> Vec<StreamReport> {
    sync_since(store, sources, streams, Duration::days(SINCE_DAYS)).await
}

async fn sync_since(
    store: &Path,
    sources: &[TenantSource],
    streams: &[Stream],
    since: Duration,
) -> Vec<StreamReport> {
    let plan = Plan::new(SyncConfig::default(), Some(since.to_std().unwrap()));
    collector::sync_all(
        store.to_path_buf(),
        sources,
        streams,
        &plan,
        &AtomicBool::new(false),
        &Progress::hidden(),
    )
    .await
}

fn all_ok(reports: &[StreamReport]) {
    for r in reports {
        assert!(
            r.error.is_none(),
            "{}/{} failed: {:?}",
            r.tenant,
            r.stream,
            r.error
        );
    }
}

fn stored_alerts(store: &Path, tenant: &str) -> BTreeMap<String, Value> {
    let s = Store::open(store).unwrap();
    let mut stmt = s
        .conn()
        .prepare("SELECT id, raw FROM alerts WHERE tenant = ?1")
        .unwrap();
    let rows = stmt
        .query_map([tenant], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap();
    rows.map(|r| {
        let (id, raw) = r.unwrap();
        (id, serde_json::from_str(&raw).unwrap())
    })
    .collect()
}

fn stored_events(store: &Path, tenant: &str) -> BTreeMap<(String, String), Value> {
    let s = Store::open(store).unwrap();
    let mut stmt = s
        .conn()
        .prepare("SELECT network_message_id, recipient, raw FROM email_events WHERE tenant = ?1")
        .unwrap();
    let rows = stmt
        .query_map([tenant], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap();
    rows.map(|r| {
        let (m, rc, raw) = r.unwrap();
        ((m, rc), serde_json::from_str(&raw).unwrap())
    })
    .collect()
}

fn truth_alerts(sim: &Simulator, i: usize, since: DateTime<Utc>) -> BTreeMap<String, Value> {
    let now = sim.clock().now();
    sim.tenants()[i]
        .dataset
        .visible_mdo_alerts(now)
        .into_iter()
        .filter(|a| {
            a["lastUpdateDateTime"]
                .as_str()
                .unwrap()
                .parse::<DateTime<Utc>>()
                .unwrap()
                >= since
        })
        .map(|a| (a["id"].as_str().unwrap().to_string(), a))
        .collect()
}

fn truth_events(
    sim: &Simulator,
    i: usize,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<(String, String), Value> {
    let now = sim.clock().now();
    sim.tenants()[i]
        .dataset
        .email_events(from, to, now)
        .map(|e| {
            (
                (
                    e.network_message_id().to_string(),
                    e.recipient().to_string(),
                ),
                e.to_json(),
            )
        })
        .collect()
}

fn checkpoint(store: &Path, tenant: &str, stream: &str) -> Option<i64> {
    Store::open(store)
        .unwrap()
        .checkpoint(tenant, stream)
        .unwrap()
}

#[tokio::test]
async fn a_full_sync_stores_exactly_the_ground_truth_and_a_second_changes_nothing() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let src = source(&sim, 0);
    let reports = sync(&db, std::slice::from_ref(&src), &Stream::ALL).await;
    all_ok(&reports);
    let t0 = sim.clock().now();
    let since = t0 - Duration::days(SINCE_DAYS);
    let tenant = &sim.tenants()[0].name;

    let stored = stored_alerts(&db, tenant);
    let truth = truth_alerts(&sim, 0, since);
    assert!(
        truth.len() > 50,
        "the small data set has alerts in a week: {}",
        truth.len()
    );
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        truth.keys().collect::<Vec<_>>(),
        "exactly the MDO alerts"
    );
    assert!(stored == truth, "each at its latest version, verbatim");

    let end = checkpoint(&db, tenant, ACTIVITY).unwrap();
    assert_eq!(
        format_ns(end),
        format_ns((t0 - Duration::minutes(5)).timestamp_nanos_opt().unwrap()),
        "activity ends at now − lag"
    );
    let events = stored_events(&db, tenant);
    let truth = truth_events(&sim, 0, since, DateTime::from_timestamp_nanos(end));
    assert!(truth.len() > 500, "{}", truth.len());
    assert_eq!(events.len(), truth.len());
    assert!(
        events == truth,
        "one row per (NetworkMessageId, recipient), every column verbatim"
    );

    let again = sync(&db, std::slice::from_ref(&src), &Stream::ALL).await;
    all_ok(&again);
    for r in &again {
        assert_eq!(
            (r.rows.new, r.rows.updated),
            (0, 0),
            "{}: a second sync changes nothing",
            r.stream
        );
    }
    assert!(
        again[0].rows.unchanged > 0,
        "threats: the overlap (at least the newest alert) was re-read"
    );
    assert_eq!(stored_alerts(&db, tenant), stored);
    assert_eq!(stored_events(&db, tenant), events);
}

#[tokio::test]
async fn an_update_comes_back_as_one_update_with_history_and_replaced_evidence() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let src = source(&sim, 0);
    all_ok(&sync(&db, std::slice::from_ref(&src), &[Stream::Threats]).await);
    let tenant = sim.tenants()[0].name.clone();
    let before = stored_alerts(&db, &tenant);

    sim.clock().advance(Duration::hours(6));
    let reports = sync(&db, std::slice::from_ref(&src), &[Stream::Threats]).await;
    all_ok(&reports);
    let after = stored_alerts(&db, &tenant);
    let changed: BTreeSet<&String> = before
        .keys()
        .filter(|id| after[*id] != before[*id])
        .collect();
    let appeared = after.keys().filter(|id| !before.contains_key(*id)).count();
    assert!(
        !changed.is_empty(),
        "six hours of lifecycle move some alerts"
    );
    assert_eq!(
        reports[0].rows.updated as usize,
        changed.len(),
        "each change is one update"
    );
    assert_eq!(reports[0].rows.new as usize, appeared);

    let since = sim.clock().now() - Duration::hours(6) - Duration::days(SINCE_DAYS);
    let truth = truth_alerts(&sim, 0, since);
    for id in &changed {
        assert_eq!(
            after[*id], truth[*id],
            "the current row is the latest version"
        );
    }
    let store = Store::open(&db).unwrap();
    let id = changed.iter().next().unwrap().as_str();
    let versions: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM alert_versions WHERE tenant = ?1 AND id = ?2",
            [&tenant, id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(versions >= 2, "history holds both versions");
    let old_version: String = store
        .conn()
        .query_row("SELECT raw FROM alert_versions WHERE tenant = ?1 AND id = ?2 ORDER BY last_update_ns LIMIT 1", [&tenant, id], |r| r.get(0))
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&old_version).unwrap(),
        before[id]
    );
    let evidence: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM alert_evidence WHERE tenant = ?1 AND alert_id = ?2",
            [&tenant, id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        evidence as usize,
        after[id]["evidence"].as_array().unwrap().len(),
        "evidence replaced, not merged"
    );
}

#[tokio::test]
async fn data_that_becomes_visible_late_inside_the_overlap_is_caught() {
    // Large scale: ~23 messages a minute, so some arrive with a long ingestion lag near each
    // window's end.
    let sim = simulator(Scale::Large, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let src = source(&sim, 0);
    let since = Duration::hours(2);
    all_ok(&sync_since(&db, std::slice::from_ref(&src), &[Stream::Activity], since).await);
    let tenant = sim.tenants()[0].name.clone();
    let t0 = sim.clock().now();
    let mut caught = 0;
    for _ in 0..6 {
        let end = checkpoint(&db, &tenant, ACTIVITY).unwrap();
        let before = stored_events(&db, &tenant);
        sim.clock().advance(Duration::minutes(5));
        all_ok(&sync_since(&db, std::slice::from_ref(&src), &[Stream::Activity], since).await);
        caught += stored_events(&db, &tenant)
            .iter()
            .filter(|(k, v)| {
                !before.contains_key(*k)
                    && v["Timestamp"]
                        .as_str()
                        .unwrap()
                        .parse::<DateTime<Utc>>()
                        .unwrap()
                        .timestamp_nanos_opt()
                        .unwrap()
                        <= end
            })
            .count();
    }
    assert!(
        caught > 0,
        "some events were still in ingestion when their window closed, and were caught by the overlap later"
    );
    let end = checkpoint(&db, &tenant, ACTIVITY).unwrap();
    let truth = truth_events(&sim, 0, t0 - since, DateTime::from_timestamp_nanos(end));
    let stored = stored_events(&db, &tenant);
    let missing: Vec<_> = truth.keys().filter(|k| !stored.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "missed {} events, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert_eq!(stored.len(), truth.len());
}

/// The same operations against a healthy and a faulty simulator end in the same store.
#[tokio::test]
async fn with_faults_the_final_store_equals_the_fault_free_one() {
    let faults = FaultPlan::default()
        .with_profiles(&[
            "throttle",
            "unavailable",
            "truncated",
            "poison",
            "pascal-schema",
        ])
        .unwrap();
    let healthy = simulator(Scale::Small, FaultPlan::default()).await;
    let faulty = simulator(Scale::Small, faults).await;
    let dir = tempfile::tempdir().unwrap();
    let (db_a, db_b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let (src_a, src_b) = (source(&healthy, 0), source(&faulty, 0));
    let mut reports_b = Vec::new();
    for step in 0..2 {
        all_ok(&sync(&db_a, std::slice::from_ref(&src_a), &Stream::ALL).await);
        let r = sync(&db_b, std::slice::from_ref(&src_b), &Stream::ALL).await;
        all_ok(&r);
        reports_b.extend(r);
        if step == 0 {
            // Past the token lifetime at the server while the client's cache still trusts it:
            // the next request meets a 401 and must fetch a new token once.
            healthy.clock().advance(Duration::seconds(3700));
            faulty.clock().advance(Duration::seconds(3700));
        }
    }
    let tenant = &healthy.tenants()[0].name;
    assert_eq!(stored_alerts(&db_a, tenant), stored_alerts(&db_b, tenant));
    let (ea, eb) = (stored_events(&db_a, tenant), stored_events(&db_b, tenant));
    let only_a: Vec<_> = ea.keys().filter(|k| !eb.contains_key(*k)).collect();
    let only_b: Vec<_> = eb.keys().filter(|k| !ea.contains_key(*k)).collect();
    let differ: Vec<_> = ea
        .keys()
        .filter(|k| eb.get(*k).is_some_and(|v| v != &ea[*k]))
        .collect();
    assert!(
        only_a.is_empty() && only_b.is_empty() && differ.is_empty(),
        "healthy-only {} {:?}, faulty-only {} {:?}, different {}",
        only_a.len(),
        only_a.first().map(|k| &ea[*k]["Timestamp"]),
        only_b.len(),
        only_b.first().map(|k| &eb[*k]["Timestamp"]),
        differ.len()
    );
    let retries: u64 = reports_b.iter().map(|r| r.calls.retries).sum();
    let throttled: u64 = reports_b.iter().map(|r| r.calls.throttled).sum();
    let refreshes: u64 = reports_b.iter().map(|r| r.calls.token_refreshes).sum();
    assert!(
        retries > 0 && throttled > 0,
        "retries {retries}, throttled {throttled}"
    );
    assert!(
        refreshes > 0,
        "a token expired mid-run and was replaced after a 401"
    );
    let store = Store::open(&db_b).unwrap();
    let (r, t, w): (i64, i64, i64) = store
        .conn()
        .query_row(
            "SELECT sum(retries), sum(throttled), sum(throttle_wait_ms) FROM sync_runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(
        r > 0 && t > 0 && w > 0,
        "the run records show retries {r}, throttled {t}, waits {w} ms"
    );
}

#[tokio::test]
async fn a_poison_window_is_a_gap_until_a_later_run_fills_it() {
    let poison: FaultPlan =
        toml::from_str("[[poison]]\nfrom = \"-30h\"\nto = \"-29h\"\nfailures = 1000\n").unwrap();
    let sim = simulator(Scale::Small, poison).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let src = source(&sim, 0);
    let tenant = sim.tenants()[0].name.clone();
    let reports = sync(&db, std::slice::from_ref(&src), &[Stream::Activity]).await;
    assert!(
        reports[0].error.is_none(),
        "a poison window does not fail the stream: {:?}",
        reports[0].error
    );
    assert!(reports[0].gaps_opened > 0);
    assert_eq!(reports[0].outcome(), "partial");
    let store = Store::open(&db).unwrap();
    let gaps = store.gaps(&tenant, ACTIVITY).unwrap();
    assert!(!gaps.is_empty());
    let t0 = sim.clock().now();
    let end = checkpoint(&db, &tenant, ACTIVITY).unwrap();
    assert_eq!(
        format_ns(end),
        format_ns((t0 - Duration::minutes(5)).timestamp_nanos_opt().unwrap()),
        "newer windows proceeded"
    );
    let truth = truth_events(
        &sim,
        0,
        t0 - Duration::days(SINCE_DAYS),
        DateTime::from_timestamp_nanos(end),
    );
    assert!(
        stored_events(&db, &tenant).len() < truth.len(),
        "the gap's events are missing for now"
    );

    // Still failing: the gap stays, with more attempts.
    all_ok(&sync(&db, std::slice::from_ref(&src), &[Stream::Activity]).await);
    let again = Store::open(&db).unwrap().gaps(&tenant, ACTIVITY).unwrap();
    assert!(again.iter().all(|g| g.attempts >= 2), "{again:?}");

    // The service recovers: the next run fills the gap and closes it.
    sim.set_faults(0, FaultPlan::default());
    let reports = sync(&db, std::slice::from_ref(&src), &[Stream::Activity]).await;
    all_ok(&reports);
    assert!(reports[0].gaps_closed > 0);
    assert!(
        Store::open(&db)
            .unwrap()
            .gaps(&tenant, ACTIVITY)
            .unwrap()
            .is_empty()
    );
    let stored = stored_events(&db, &tenant);
    let truth = truth_events(
        &sim,
        0,
        t0 - Duration::days(SINCE_DAYS),
        DateTime::from_timestamp_nanos(end),
    );
    assert!(
        truth.keys().all(|k| stored.contains_key(k)),
        "every event of the gap is stored"
    );
}

#[tokio::test]
async fn two_tenants_sync_into_one_store_each_tagged_with_its_own_health() {
    let mut opts = common::options(Scale::Small);
    opts.tenants = 2;
    let sim = Simulator::start(opts).await.unwrap();
    sim.set_faults(
        1,
        FaultPlan::default()
            .with_profiles(&["hunting-only"])
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let sources = [source(&sim, 0), source(&sim, 1)];
    let reports = sync(&db, &sources, &Stream::ALL).await;
    let (a, b) = (&sim.tenants()[0].name, &sim.tenants()[1].name);
    let failed: Vec<(&str, &str)> = reports
        .iter()
        .filter(|r| r.failed())
        .map(|r| (r.tenant.as_str(), r.stream))
        .collect();
    let errors: Vec<_> = reports.iter().filter_map(|r| r.error.clone()).collect();
    assert_eq!(
        failed,
        vec![(b.as_str(), THREATS)],
        "only the tenant without SecurityAlert.Read.All fails, only its threats: {errors:?}"
    );
    let err = &reports
        .iter()
        .find(|r| r.failed())
        .unwrap()
        .error
        .as_ref()
        .unwrap();
    assert_eq!(err.0, "permission.missing");
    assert!(err.1.contains("SecurityAlert.Read.All"), "{}", err.1);
    assert!(!stored_alerts(&db, a).is_empty());
    assert!(stored_alerts(&db, b).is_empty());
    assert!(!stored_events(&db, a).is_empty() && !stored_events(&db, b).is_empty());
    let ids_a: BTreeSet<_> = stored_events(&db, a).into_keys().collect();
    let ids_b: BTreeSet<_> = stored_events(&db, b).into_keys().collect();
    assert!(ids_a.is_disjoint(&ids_b), "each row belongs to its tenant");
    let store = Store::open(&db).unwrap();
    let st = store
        .stream_status(
            &[a.clone(), b.clone()],
            &[THREATS, ACTIVITY],
            std::time::Duration::from_secs(300),
        )
        .unwrap();
    let health: Vec<(&str, &str, &str)> = st
        .iter()
        .map(|s| (s.tenant.as_str(), s.stream.as_str(), s.health.label()))
        .collect();
    assert_eq!(
        health,
        vec![
            (a.as_str(), THREATS, "OK"),
            (a.as_str(), ACTIVITY, "OK"),
            (b.as_str(), THREATS, "FAILING"),
            (b.as_str(), ACTIVITY, "OK")
        ]
    );
}

#[tokio::test]
async fn a_reader_polling_during_a_sync_never_sees_database_is_locked() {
    let sim = simulator(Scale::Medium, FaultPlan::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    drop(Store::open(&db).unwrap());
    let src = source(&sim, 0);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let store = Store::open_read_only(&db).unwrap();
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let n: i64 = store
                    .conn()
                    .query_row("SELECT (SELECT count(*) FROM email_events) + (SELECT count(*) FROM alerts)", [], |r| r.get(0))
                    .unwrap_or_else(|e| panic!("reader saw: {e}"));
                assert!(n >= 0);
                reads += 1;
            }
            reads
        })
    };
    all_ok(&sync(&db, std::slice::from_ref(&src), &Stream::ALL).await);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads = reader.join().expect("the reader never failed");
    assert!(reads > 10, "the reader kept reading: {reads}");
}
