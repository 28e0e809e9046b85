//! `mailtrail campaigns`: over a store synced from the simulator (seed 42, small scale, clock
//! frozen at 2026-11-20T12:00Z), the JSON lists campaigns with their counts, singletons and
//! clean mail stay out, the flags narrow the list, and bad input is a usage error (exit 2).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use mailtrail::simulator::{FaultPlan, Scale};
use serde_json::Value;

async fn synced_store(dir: &Path) -> PathBuf {
    let path = dir.join("c.db");
    let sim = common::simulator(Scale::Small, FaultPlan::default()).await;
    common::sync_days(&sim, &path, 7).await;
    path
}

fn mailtrail(db: &Path, args: &[&str]) -> Output {
    common::cli(db).args(args).output().unwrap()
}

const SPAN: [&str; 4] = [
    "--since",
    "2026-11-13T12:00:00Z",
    "--until",
    "2026-11-20T12:00:00Z",
];

fn json(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("JSON")
        .as_array()
        .expect("an array")
        .clone()
}

#[tokio::test]
async fn campaigns_json_lists_grouped_threat_mail_and_rejects_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;

    let all = json(&mailtrail(
        &db,
        &[&["campaigns", "--json"], &SPAN[..]].concat(),
    ));
    assert!(
        !all.is_empty(),
        "the simulator's phishing waves form campaigns"
    );
    for c in &all {
        for key in [
            "tenant",
            "key_type",
            "key",
            "first_seen_ms",
            "last_seen_ms",
            "messages",
            "recipients",
            "delivered",
            "alerts",
            "top_subject",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert!(c["messages"].as_u64().unwrap() >= 2, "no singletons: {c}");
        assert!(c["delivered"].as_u64() <= c["recipients"].as_u64());
        assert!(c["first_seen_ms"].as_i64() <= c["last_seen_ms"].as_i64());
    }
    let types: std::collections::BTreeSet<&str> =
        all.iter().filter_map(|c| c["key_type"].as_str()).collect();
    assert_eq!(
        types,
        ["sender_domain", "subject", "url_domain"]
            .into_iter()
            .collect()
    );
    // Most delivered first.
    let delivered: Vec<u64> = all
        .iter()
        .map(|c| c["delivered"].as_u64().unwrap())
        .collect();
    assert!(delivered.windows(2).all(|w| w[0] >= w[1]), "{delivered:?}");

    // A higher bar and a shorter window give fewer, smaller campaigns.
    let big = json(&mailtrail(
        &db,
        &[&["campaigns", "--json", "--min-messages", "4"], &SPAN[..]].concat(),
    ));
    assert!(big.len() < all.len());
    assert!(big.iter().all(|c| c["messages"].as_u64().unwrap() >= 4));
    let short = json(&mailtrail(
        &db,
        &[&["campaigns", "--json", "--window", "10m"], &SPAN[..]].concat(),
    ));
    assert!(short.len() < all.len(), "{} vs {}", short.len(), all.len());

    // The table names its columns.
    let out = mailtrail(&db, &[&["campaigns"], &SPAN[..]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("KEY TYPE"), "{text}");
    assert!(text.contains("DELIVERED"));

    for (args, says) in [
        (vec!["campaigns", "--window", "soon"], "--window"),
        (vec!["campaigns", "--since", "yesterday"], "--since"),
        (vec!["campaigns", "--min-messages", "1"], "min-messages"),
    ] {
        let out = mailtrail(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// The campaigns of `SPAN` as `campaigns --json` lists them, as library values.
fn span_campaigns(store: &mailtrail::store::Store) -> Vec<mailtrail::campaigns::Campaign> {
    let ms = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    };
    mailtrail::campaigns::campaigns(store, ms(SPAN[1]), ms(SPAN[3]), 86_400_000, 2).unwrap()
}

#[tokio::test]
async fn every_campaign_pivot_lists_the_campaign_s_messages() {
    use mailtrail::campaigns::{KeyType, filter_of, messages};
    use std::collections::BTreeSet;
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let store = mailtrail::store::Store::open_read_only(&db).unwrap();
    let list = span_campaigns(&store);
    assert!(list.iter().any(|c| c.key_type == KeyType::UrlDomain));
    let suspicious = messages(store.conn(), i64::MIN, i64::MAX).unwrap();
    for c in &list {
        // The campaign's own messages, regrouped from the same rows.
        let members: BTreeSet<String> = suspicious
            .iter()
            .filter(|m| {
                let key = match c.key_type {
                    KeyType::SenderDomain => m.sender_domain.as_deref(),
                    KeyType::UrlDomain => m.url_domain.as_deref(),
                    KeyType::Subject => m.subject_key.as_deref(),
                };
                key == Some(c.key.as_str())
                    && (c.first_seen_ms..=c.last_seen_ms).contains(&m.time_ms)
            })
            .map(|m| m.network_message_id.clone())
            .collect();
        assert_eq!(members.len(), c.messages, "{c:?}");
        let filter = filter_of(c);
        let q = mailtrail::search::parse(&filter).unwrap();
        let w = mailtrail::search::email_where(&q, 0);
        let listed: Vec<String> = {
            let mut stmt = store
                .conn()
                .prepare(&format!(
                    "SELECT network_message_id FROM email_events ev WHERE {}",
                    w.expr()
                ))
                .unwrap();
            stmt.query_map(rusqlite::params_from_iter(w.params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let listed_messages: BTreeSet<String> = listed.iter().cloned().collect();
        // What Activity counts: a row per recipient of each listed message.
        let count = store.event_count(&q, 0, i64::MAX).unwrap();
        assert_eq!(count.n, listed.len() as i64, "{filter}");
        assert!(
            listed_messages.is_superset(&members),
            "{filter}: misses {:?}",
            members.difference(&listed_messages).collect::<Vec<_>>()
        );
        if c.key_type == KeyType::UrlDomain {
            assert_eq!(
                listed_messages.len(),
                c.messages,
                "{filter} lists exactly the campaign's messages"
            );
        } else {
            // The documented difference: the extra messages are clean mail, never a
            // suspicious message of the same key outside the campaign.
            let others: BTreeSet<&str> = suspicious
                .iter()
                .filter(|m| !members.contains(&m.network_message_id))
                .filter(|m| match c.key_type {
                    KeyType::SenderDomain => m.sender_domain.as_deref() == Some(c.key.as_str()),
                    _ => m.subject_key.as_deref() == Some(c.key.as_str()),
                })
                .map(|m| m.network_message_id.as_str())
                .collect();
            assert!(
                listed_messages.iter().all(|m| !others.contains(m.as_str())),
                "{filter}"
            );
        }
    }
}

#[tokio::test]
async fn campaigns_flags_take_the_filter_s_time_forms_and_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let all = json(&mailtrail(
        &db,
        &[&["campaigns", "--json"], &SPAN[..]].concat(),
    ));
    assert!(all.len() > 1);
    // --limit 0: no limit, as `search --limit 0`.
    let unlimited = json(&mailtrail(
        &db,
        &[&["campaigns", "--json", "--limit", "0"], &SPAN[..]].concat(),
    ));
    assert_eq!(unlimited.len(), all.len());
    let out = mailtrail(&db, &[&["campaigns", "--limit", "0"], &SPAN[..]].concat());
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("no campaigns"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A date, as `search 'since:2026-11-13'` takes it.
    let by_date = json(&mailtrail(
        &db,
        &[
            "campaigns",
            "--json",
            "--since",
            "2026-11-13T12:00:00Z",
            "--until",
            "2026-11-21",
        ],
    ));
    assert_eq!(by_date.len(), all.len());

    for (args, says) in [
        (
            vec!["campaigns", "--since", "0d"],
            "--since 0d is not in the past",
        ),
        (
            vec![
                "campaigns",
                "--since",
                "2026-11-20",
                "--until",
                "2026-11-19",
            ],
            "is not before --until",
        ),
        (
            vec!["campaigns", "--min-messages", "1"],
            "at least 2 (a campaign is two or more messages)",
        ),
        (vec!["campaigns", "--since", "yesterday"], "or a date"),
    ] {
        let out = mailtrail(&db, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("18446744073709551615"), "{err}");
    }
}

#[tokio::test]
async fn campaigns_piped_print_whole_keys_and_a_closed_pipe_is_a_quiet_success() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_store(dir.path()).await;
    let all = json(&mailtrail(
        &db,
        &[&["campaigns", "--json"], &SPAN[..]].concat(),
    ));
    // Not a terminal: every key whole, no cut.
    let out = mailtrail(&db, &[&["campaigns"], &SPAN[..]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    for c in &all {
        assert!(text.contains(c["key"].as_str().unwrap()), "{c}");
    }
    assert!(!text.contains('…'));

    // `campaigns --json | head -c 10`: the reader goes away early.
    let mut child = common::cli(&db)
        .args([&["campaigns", "--json", "--window", "30d"], &SPAN[..]].concat())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
