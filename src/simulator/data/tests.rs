//! The data set's contracts: determinism, window arithmetic, visibility, alert lifecycles, and
//! alerts and EmailEvents telling the same story.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use super::mail::Kind;
use super::ticks::{DAY, HOUR, to_ticks};
use super::*;

fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0)
        .single()
        .expect("valid date")
}

fn spec(seed: u64, scale: Scale) -> DatasetSpec {
    DatasetSpec {
        seed,
        scale,
        anchor: anchor(),
        tenant_id: "b3c1d9a2-5e4f-4a7b-9c8d-1e2f3a4b5c6d".into(),
        tenant_domain: "contoso.com".into(),
        empty: false,
    }
}

fn small() -> Dataset {
    Dataset::new(spec(42, Scale::Small))
}

fn tick() -> Duration {
    Duration::nanoseconds(100)
}

fn rows_json(
    ds: &Dataset,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Value> {
    ds.email_events(from, to, now)
        .map(|e| e.to_json())
        .collect()
}

fn parse(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339 date")
        .with_timezone(&Utc)
}

/// Every string anywhere inside a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[test]
fn scale_names_round_trip() {
    for s in Scale::ALL {
        assert_eq!(s.to_string().parse::<Scale>(), Ok(s));
    }
    assert_eq!(Scale::from_name(" LARGE "), Some(Scale::Large));
    assert!(
        "huge"
            .parse::<Scale>()
            .unwrap_err()
            .contains("small, medium or large")
    );
}

#[test]
fn same_seed_same_data_and_another_seed_other_data() {
    let a = small();
    let b = small();
    let c = Dataset::new(spec(43, Scale::Small));
    let (from, to, now) = (anchor() - Duration::days(2), anchor(), anchor());
    let rows = rows_json(&a, from, to, now);
    assert!(rows.len() > 100);
    assert_eq!(rows, rows_json(&b, from, to, now));
    assert_ne!(rows, rows_json(&c, from, to, now));
    let alerts = |ds: &Dataset| {
        (0..ds.alert_count())
            .filter_map(|j| ds.alert_json(j, now))
            .collect::<Vec<_>>()
    };
    let aa = alerts(&a);
    assert!(aa.len() > 300);
    assert_eq!(aa, alerts(&b));
    assert_ne!(aa, alerts(&c));
}

#[test]
fn adjacent_windows_partition_one_big_window() {
    let ds = small();
    let now = anchor() + Duration::hours(3);
    let from = anchor() - Duration::days(3);
    let to = anchor() + Duration::hours(2);
    let big: Vec<(String, String, DateTime<Utc>)> = ds
        .email_events(from, to, now)
        .map(|e| {
            (
                e.network_message_id().to_string(),
                e.recipient().to_string(),
                e.timestamp(),
            )
        })
        .collect();
    assert!(big.len() > 300, "{}", big.len());
    // Ascending, no duplicate keys.
    assert!(big.windows(2).all(|w| w[0].2 <= w[1].2));
    let keys: HashSet<_> = big.iter().map(|(n, r, _)| (n, r)).collect();
    assert_eq!(keys.len(), big.len());

    // Cut the same span at awkward points: exact message timestamps (the boundary belongs to
    // the earlier window), one tick either side of them, and arbitrary instants.
    let mut cuts = vec![from];
    let mut rng = crate::simulator::rng::Rng::new(5, &[]);
    let mut t = from;
    while t < to {
        let pick = rng.below(4);
        t = match pick {
            0 => big[rng.below(big.len() as u64) as usize].2.max(t + tick()),
            1 => big[rng.below(big.len() as u64) as usize].2.max(t) + tick(),
            2 => (big[rng.below(big.len() as u64) as usize].2 - tick()).max(t + tick()),
            _ => t + Duration::seconds(rng.range(1, 30_000) as i64),
        }
        .min(to);
        cuts.push(t);
    }
    cuts.sort();
    cuts.dedup();
    let mut pieces = Vec::new();
    for w in cuts.windows(2) {
        pieces.extend(ds.email_events(w[0], w[1], now).map(|e| {
            (
                e.network_message_id().to_string(),
                e.recipient().to_string(),
                e.timestamp(),
            )
        }));
    }
    assert_eq!(pieces, big);

    // An empty or inverted window is empty.
    assert_eq!(ds.email_events(to, from, now).count(), 0);
    assert_eq!(ds.email_events(from, from, now).count(), 0);
}

#[test]
fn a_window_holding_one_timestamp_returns_exactly_that_message() {
    let ds = small();
    let now = anchor();
    for e in ds
        .email_events(
            anchor() - Duration::days(1),
            anchor() - Duration::hours(1),
            now,
        )
        .step_by(7)
    {
        let ts = e.timestamp();
        let only: Vec<_> = ds.email_events(ts - tick(), ts, now).collect();
        assert!(!only.is_empty());
        assert!(
            only.iter()
                .all(|x| x.network_message_id() == e.network_message_id())
        );
        assert_eq!(
            ds.email_events(ts, ts + tick(), now)
                .filter(|x| x.network_message_id() == e.network_message_id())
                .count(),
            0
        );
    }
}

#[test]
fn rows_appear_after_their_ingestion_lag_and_leave_after_30_days() {
    let ds = small();
    let from = anchor() - Duration::hours(12);
    let to = anchor();
    let late = anchor() + Duration::hours(1);
    let all: Vec<EmailEvent> = ds.email_events(from, to, late).collect();
    let mut lags = Vec::new();
    for e in &all {
        let sk = ds.sketch(e.message_index());
        lags.push(sk.lag);
        let ts = e.timestamp();
        let lag = Duration::nanoseconds(sk.lag * 100);
        let visible_at = |now| {
            ds.email_events(ts - tick(), ts, now)
                .any(|x| x.recipient() == e.recipient())
        };
        assert!(!visible_at(ts + lag - tick()), "visible before its lag");
        assert!(visible_at(ts + lag));
    }
    // Some of the rows are late data (6–12 min), the rest arrive within 3 minutes.
    let minute = 60 * 10_000_000;
    assert!(
        lags.iter()
            .all(|&l| (30 * 10_000_000..=12 * minute).contains(&l))
    );
    assert!(lags.iter().all(|&l| l <= 3 * minute || l >= 6 * minute));

    let mut late_share_total = (0, 0);
    for m in 0..ds.mail.count {
        let sk = ds.sketch(m);
        late_share_total.0 += usize::from(sk.lag >= 6 * minute);
        late_share_total.1 += 1;
    }
    let late_share = late_share_total.0 as f64 / late_share_total.1 as f64;
    assert!((0.03..0.07).contains(&late_share), "{late_share}");

    // Advanced hunting keeps 30 days: at anchor + 5 days nothing older than anchor − 25 days.
    let now = anchor() + Duration::days(5);
    let oldest = ds
        .email_events(anchor() - Duration::days(40), now, now)
        .next()
        .expect("rows")
        .timestamp();
    assert!(oldest >= now - Duration::days(30));
    assert!(oldest < now - Duration::days(30) + Duration::hours(2));
    // Nothing from the future.
    assert_eq!(
        ds.email_events(anchor(), anchor() + Duration::days(3), anchor())
            .count(),
        0
    );
}

#[test]
fn rows_have_every_column_with_its_type() {
    let ds = small();
    assert_eq!(EMAIL_EVENTS_COLUMNS.len(), 39);
    assert_eq!(EMAIL_EVENTS_COLUMNS[0].0, "Timestamp");
    assert_eq!(EMAIL_EVENTS_COLUMNS[38].0, "LatestDeliveryAction");
    let mut nulls = 0;
    let mut empties = 0;
    for e in ds.email_events(anchor() - Duration::days(10), anchor(), anchor()) {
        for (i, (name, ty)) in EMAIL_EVENTS_COLUMNS.iter().enumerate() {
            let cell = e.cell(i);
            let ok = match (ty, cell) {
                (_, Cell::Null) => {
                    nulls += 1;
                    !matches!(
                        *name,
                        "Timestamp" | "NetworkMessageId" | "RecipientEmailAddress" | "ReportId"
                    )
                }
                (ColumnType::DateTime, Cell::DateTime(s)) => {
                    // 7 fraction digits and Z: 2026-11-25T09:39:50.7688641Z
                    s.len() == 28
                        && s.ends_with('Z')
                        && s.as_bytes()[19] == b'.'
                        && parse(s) == e.timestamp()
                }
                (ColumnType::String, Cell::Str(s)) => {
                    empties += usize::from(s.is_empty());
                    true
                }
                (ColumnType::Int32 | ColumnType::Int64, Cell::Int(_)) => true,
                _ => false,
            };
            assert!(ok, "{name}: {cell:?}");
        }
        let json = e.to_json();
        assert_eq!(json.as_object().map(|o| o.len()), Some(39));
        for col in [
            "DetectionMethods",
            "ConfidenceLevel",
            "AuthenticationDetails",
            "AdditionalFields",
        ] {
            if let Some(s) = json[col].as_str().filter(|s| !s.is_empty()) {
                serde_json::from_str::<Value>(s).unwrap_or_else(|err| panic!("{col} {s:?}: {err}"));
            }
        }
        if let Some(ip) = json["SenderIPv4"].as_str().filter(|s| !s.is_empty()) {
            assert!(
                ["203.0.113.", "198.51.100.", "192.0.2."]
                    .iter()
                    .any(|p| ip.starts_with(p)),
                "{ip}"
            );
        }
        assert_eq!(e.cell(39), Cell::Null);
    }
    assert!(
        nulls > 100 && empties > 1000,
        "{nulls} nulls, {empties} empty strings"
    );
}

#[test]
fn the_mix_of_mail_is_realistic() {
    let ds = Dataset::new(spec(7, Scale::Medium));
    let mut kinds: HashMap<&str, u64> = HashMap::new();
    let mut recipients: HashMap<u32, u64> = HashMap::new();
    let mut directions: HashMap<&str, u64> = HashMap::new();
    let n = 30_000;
    for m in 0..n {
        let sk = ds.sketch(m);
        *kinds.entry(format!("{:?}", sk.kind).leak()).or_default() += 1;
        *directions
            .entry(format!("{:?}", sk.direction).leak())
            .or_default() += 1;
        let bucket = match sk.recipients {
            1 => 1,
            2..=5 => 2,
            _ => 8,
        };
        *recipients.entry(bucket).or_default() += 1;
    }
    let share = |map: &HashMap<&str, u64>, k: &str| *map.get(k).unwrap_or(&0) as f64 / n as f64;
    let near = |x: f64, want: f64| (x - want).abs() <= want * 0.2 + 0.003;
    for (kind, want) in [
        ("Clean", 0.715),
        ("Spam", 0.12),
        ("Bulk", 0.08),
        ("Phish", 0.049),
        ("Malware", 0.0196),
        ("Bec", 0.0146),
    ] {
        assert!(
            near(share(&kinds, kind), want),
            "{kind}: {}",
            share(&kinds, kind)
        );
    }
    assert!(share(&directions, "Outbound") > 0.1 && share(&directions, "IntraOrg") > 0.1);
    let r = |b| *recipients.get(&b).unwrap_or(&0) as f64 / n as f64;
    assert!(
        near(r(1), 0.75) && near(r(2), 0.20) && near(r(8), 0.05),
        "{recipients:?}"
    );
}

#[test]
fn event_and_alert_counts_match_the_scale() {
    for scale in [Scale::Small, Scale::Medium] {
        let ds = Dataset::new(spec(9, scale));
        let (events, alerts) = counts_before_anchor(&ds);
        let want_events = scale.email_events_per_30_days() as f64;
        let want_alerts = scale.alerts_per_30_days() as f64;
        assert!(
            (events as f64 / want_events - 1.0).abs() < 0.08,
            "{scale}: {events} events"
        );
        assert!(
            (alerts as f64 / want_alerts - 1.0).abs() < 0.02,
            "{scale}: {alerts} alerts"
        );
        // The data goes on after the anchor at the same rate.
        let after = (0..ds.alert_count())
            .filter(|&j| ds.alert_plan(j).created >= to_ticks(ds.spec.anchor))
            .count() as f64;
        assert!(
            (after / (want_alerts * 14.0 / 30.0) - 1.0).abs() < 0.05,
            "{scale}: {after} alerts after"
        );
    }
}

fn counts_before_anchor(ds: &Dataset) -> (u64, u64) {
    let anchor = to_ticks(ds.spec.anchor);
    let events = (0..ds.mail.count)
        .map(|m| ds.sketch(m))
        .take_while(|sk| sk.ticks < anchor)
        .map(|sk| u64::from(sk.recipients))
        .sum();
    let alerts = (0..ds.alert_count())
        .take_while(|&j| ds.alert_plan(j).created < anchor)
        .count() as u64;
    (events, alerts)
}

#[test]
fn alert_versions_unfold_in_time_and_heads_agree_with_objects() {
    let ds = small();
    let mut stages = [0usize; 3];
    let mut fast_updates = 0;
    for j in (0..ds.alert_count()).step_by(3) {
        let plan = ds.alert_plan(j);
        stages[plan.versions - 1] += 1;
        assert!(plan.times.windows(2).all(|w| w[0] < w[1]));
        assert!(plan.created <= plan.times[0]);
        if plan.versions > 1 && plan.times[1] - plan.created <= 10 * 60 * 10_000_000 {
            fast_updates += 1;
        }
        let created = super::ticks::from_ticks(plan.created);
        assert!(
            ds.alert_head(j, created).is_none(),
            "visible the moment it is created"
        );
        let mut last: Option<AlertHead> = None;
        for minutes in [0, 1, 2, 3, 5, 8, 12, 20, 40, 90, 200, 400, 1000, 3000, 6000] {
            let now = created + Duration::minutes(minutes);
            let head = ds.alert_head(j, now);
            let json = ds.alert_json(j, now);
            assert_eq!(head.is_some(), json.is_some());
            let (Some(h), Some(a)) = (head, json) else {
                assert!(last.is_none(), "an alert never disappears");
                continue;
            };
            assert!(h.last_update <= now);
            assert_eq!(a["id"], h.id.as_str());
            assert_eq!(a["serviceSource"], h.service_source);
            assert_eq!(a["status"], h.status);
            assert_eq!(a["severity"], h.severity);
            assert_eq!(a["classification"].as_str(), h.classification);
            assert_eq!(a["determination"].as_str(), h.determination);
            assert_eq!(a["assignedTo"].as_str(), h.assigned_to.as_deref());
            assert_eq!(
                parse(a["createdDateTime"].as_str().unwrap_or_default()),
                h.created
            );
            assert_eq!(
                parse(a["lastUpdateDateTime"].as_str().unwrap_or_default()),
                h.last_update
            );
            assert_eq!(h.created, created);
            if let Some(prev) = &last {
                assert!(prev.last_update <= h.last_update, "went back in time");
            }
            last = Some(h);
        }
    }
    let total = stages.iter().sum::<usize>() as f64;
    let share = stages.map(|s| s as f64 / total);
    assert!(
        (0.3..0.5).contains(&share[0])
            && (0.2..0.4).contains(&share[1])
            && (0.2..0.4).contains(&share[2]),
        "{share:?}"
    );
    assert!(fast_updates > 0);
}

#[test]
fn alerts_have_every_graph_field() {
    let ds = small();
    let fields = [
        "@odata.type",
        "id",
        "providerAlertId",
        "incidentId",
        "status",
        "severity",
        "classification",
        "determination",
        "serviceSource",
        "detectionSource",
        "detectorId",
        "productName",
        "tenantId",
        "title",
        "description",
        "recommendedActions",
        "category",
        "assignedTo",
        "alertWebUrl",
        "incidentWebUrl",
        "actorDisplayName",
        "threatDisplayName",
        "threatFamilyName",
        "mitreTechniques",
        "createdDateTime",
        "lastUpdateDateTime",
        "resolvedDateTime",
        "firstActivityDateTime",
        "lastActivityDateTime",
        "comments",
        "evidence",
        "systemTags",
        "alertPolicyId",
        "additionalData",
        "investigationState",
        "customDetails",
    ];
    let later = anchor() + Duration::days(3);
    let mut resolved = 0;
    for j in 0..ds.alert_count() {
        let Some(a) = ds.alert_json(j, later) else {
            continue;
        };
        for f in fields {
            assert!(a.get(f).is_some(), "alert {j} lacks {f}");
        }
        assert_eq!(a["@odata.type"], "#microsoft.graph.security.alert");
        assert_eq!(a["tenantId"], "b3c1d9a2-5e4f-4a7b-9c8d-1e2f3a4b5c6d");
        let id = a["id"].as_str().unwrap_or_default();
        assert_eq!(&id[2..], a["providerAlertId"].as_str().unwrap_or_default());
        assert!(id[..2].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(
            a["incidentId"]
                .as_str()
                .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
        );
        assert_eq!(
            a["alertWebUrl"],
            format!(
                "https://security.microsoft.com/alerts/{id}?tid=b3c1d9a2-5e4f-4a7b-9c8d-1e2f3a4b5c6d"
            )
        );
        for f in [
            "createdDateTime",
            "lastUpdateDateTime",
            "firstActivityDateTime",
            "lastActivityDateTime",
        ] {
            let s = a[f].as_str().unwrap_or_default();
            assert!(
                s.ends_with('Z') && s.split('.').nth(1).is_none_or(|frac| frac.len() <= 8),
                "{f} {s}"
            );
            parse(s);
        }
        if a["status"] == "resolved" {
            resolved += 1;
            assert!(a["resolvedDateTime"].is_string() && a["classification"].is_string());
            assert_eq!(a["comments"].as_array().map(Vec::len), Some(2));
        }
        if a["serviceSource"] == "microsoftDefenderForOffice365" {
            assert_eq!(a["productName"], "Microsoft Defender for Office 365");
        }
    }
    assert!(resolved > 50);
}

#[test]
fn mdo_alert_evidence_matches_the_email_events_of_its_message() {
    let ds = small();
    let alerts = ds.visible_mdo_alerts(anchor());
    assert!(alerts.len() > 250, "{}", alerts.len());
    let mut messages_checked = 0;
    let mut by_title: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        assert_eq!(a["serviceSource"], "microsoftDefenderForOffice365");
        *by_title
            .entry(a["title"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
        let evidence = a["evidence"].as_array().expect("evidence list");
        let messages: Vec<&Value> = evidence
            .iter()
            .filter(|e| e["@odata.type"] == "#microsoft.graph.security.analyzedMessageEvidence")
            .collect();
        assert!(!messages.is_empty(), "MDO alert without a message");
        let received = parse(messages[0]["receivedDateTime"].as_str().unwrap_or_default());
        assert!(parse(a["createdDateTime"].as_str().unwrap_or_default()) > received);
        assert_eq!(
            parse(a["firstActivityDateTime"].as_str().unwrap_or_default()),
            received
        );
        // The rows of exactly that message, seen from a day later.
        let rows: Vec<Value> = ds
            .email_events(received - tick(), received, received + Duration::days(1))
            .map(|e| e.to_json())
            .collect();
        assert_eq!(rows.len().min(10), messages.len());
        let urns: HashSet<&str> = messages.iter().filter_map(|e| e["urn"].as_str()).collect();
        assert_eq!(urns.len(), messages.len(), "one urn per recipient");
        let by_recipient: HashMap<&str, &Value> = rows
            .iter()
            .map(|r| (r["RecipientEmailAddress"].as_str().unwrap_or_default(), r))
            .collect();
        for ev in &messages {
            let row = by_recipient[ev["recipientEmailAddress"].as_str().unwrap_or_default()];
            assert_eq!(ev["networkMessageId"], row["NetworkMessageId"]);
            assert_eq!(ev["internetMessageId"], row["InternetMessageId"]);
            assert_eq!(ev["subject"], row["Subject"]);
            assert_eq!(
                ev["senderIp"].as_str(),
                row["SenderIPv4"].as_str().or(Some(""))
            );
            assert_eq!(ev["p1Sender"]["emailAddress"], row["SenderMailFromAddress"]);
            assert_eq!(ev["p2Sender"]["emailAddress"], row["SenderFromAddress"]);
            assert_eq!(ev["p2Sender"]["domainName"], row["SenderFromDomain"]);
            assert_eq!(ev["urlCount"], row["UrlCount"]);
            assert_eq!(ev["attachmentsCount"], row["AttachmentCount"]);
            let (action, location) = evidence_delivery(
                row["DeliveryAction"].as_str().unwrap_or_default(),
                row["DeliveryLocation"].as_str().unwrap_or_default(),
            );
            assert_eq!(ev["deliveryAction"], action);
            assert_eq!(ev["deliveryLocation"], location);
            assert_eq!(
                parse(row["Timestamp"].as_str().unwrap_or_default()),
                received
            );
            assert_eq!(
                ev["urls"].as_array().map(Vec::len),
                ev["urlCount"].as_u64().map(|n| n as usize)
            );
        }
        // A cluster only lists messages of its campaign that exist in EmailEvents.
        for cluster in evidence
            .iter()
            .filter(|e| e["@odata.type"] == "#microsoft.graph.security.mailClusterEvidence")
        {
            let ids = cluster["networkMessageIds"].as_array().expect("ids");
            assert!(ids.contains(&messages[0]["networkMessageId"]));
            assert!(cluster["emailCount"].as_u64() >= Some(ids.len() as u64));
        }
        messages_checked += 1;
    }
    assert_eq!(messages_checked, alerts.len());
    assert!(by_title.len() >= 8, "{by_title:?}");
}

#[test]
fn threats_cluster_into_campaigns() {
    let ds = Dataset::new(spec(3, Scale::Medium));
    let mut domains: HashMap<u64, HashSet<String>> = HashMap::new();
    for block in 0..2_000 {
        let m = ds.threat_message(block);
        let msg = ds.message(m);
        assert!(matches!(
            msg.sketch.kind,
            Kind::Phish | Kind::Malware | Kind::Bec
        ));
        if msg.sketch.kind == Kind::Phish {
            domains
                .entry(msg.campaign)
                .or_default()
                .insert(msg.from_domain.clone());
            assert!(!msg.urls.is_empty());
        }
    }
    assert!(domains.len() > 100);
    assert!(
        domains.values().all(|d| d.len() == 1),
        "a campaign has one sender domain"
    );
    let multi = domains.len();
    let distinct: HashSet<_> = domains.values().flatten().collect();
    assert!(
        distinct.len() > 20,
        "{} domains over {multi} campaigns",
        distinct.len()
    );
}

#[test]
fn every_evidence_type_and_hostile_value_shows_up_in_a_small_tenant() {
    let ds = small();
    let now = anchor();
    let alerts: Vec<Value> = (0..ds.alert_count())
        .filter_map(|j| ds.alert_json(j, now))
        .collect();
    let mut types = HashSet::new();
    for a in &alerts {
        for e in a["evidence"].as_array().into_iter().flatten() {
            types.insert(e["@odata.type"].as_str().unwrap_or_default().to_string());
        }
    }
    for t in [
        "analyzedMessageEvidence",
        "mailboxEvidence",
        "urlEvidence",
        "userEvidence",
        "ipEvidence",
        "mailClusterEvidence",
        "fileEvidence",
        "deviceEvidence",
        "processEvidence",
    ] {
        assert!(
            types.contains(&format!("#microsoft.graph.security.{t}")),
            "{t} missing: {types:?}"
        );
    }
    let sources: HashSet<&str> = alerts
        .iter()
        .filter_map(|a| a["serviceSource"].as_str())
        .collect();
    assert_eq!(sources.len(), 6, "{sources:?}");

    // Hostile strings in the last 24 hours of mail before the anchor.
    let mut text = Vec::new();
    for e in ds.email_events(now - Duration::hours(24), now, now) {
        strings(&e.to_json(), &mut text);
    }
    let has = |pred: &dyn Fn(&str) -> bool| text.iter().any(|s| pred(s));
    assert!(has(&|s| s.contains("\u{1b}[31m")), "ANSI colour");
    assert!(has(&|s| s.contains("\u{1b}]0;")), "OSC title");
    assert!(has(&|s| s.contains("\u{1b}[2J")), "clear screen");
    assert!(has(&|s| s.contains('\u{202e}')), "RLO");
    assert!(has(&|s| s.contains('\u{2066}')), "LRI");
    assert!(
        has(&|s| s.chars().count() >= 5000),
        "5,000-character subject"
    );
    assert!(
        has(&|s| s.contains('年') && s.contains('🎉')),
        "emoji and CJK"
    );
    assert!(
        has(&|s| s.contains('\t') && s.contains('\n')),
        "tabs and newlines"
    );
    assert!(
        has(&|s| s.contains('"') && s.contains('\\')),
        "quotes and backslashes"
    );
    assert!(has(&|s| s.contains("<script>")), "HTML");
    assert!(has(&|s| s == "Quarantined2"), "unknown DeliveryAction");
    assert!(has(&|s| s.contains('\u{200b}')), "zero-width");
    assert!(text.iter().all(|s| !s.contains('\0')), "NUL-free");
    // Non-ASCII users receive mail.
    let users: HashSet<String> = ds
        .email_events(now - Duration::days(30), now, now)
        .map(|e| e.recipient().to_string())
        .collect();
    assert!(users.contains("jose.nunez@contoso.com") || users.contains("wang.wei@contoso.com"));

    // Odd enum values and hostile free text in alerts.
    let field = |f: &str, v: &str| alerts.iter().any(|a| a[f] == v);
    assert!(field("severity", "unknownFutureValue"));
    assert!(field("severity", "critical"));
    assert!(field("status", "unknownFutureValue"));
    assert!(field("investigationState", "unknownFutureValue"));
    let mut alert_text = Vec::new();
    alerts.iter().for_each(|a| strings(a, &mut alert_text));
    assert!(alert_text.iter().any(|s| s.contains("\u{1b}[31mESCALATE")));
}

#[test]
fn an_empty_tenant_has_nothing() {
    let ds = Dataset::new(DatasetSpec {
        empty: true,
        ..spec(1, Scale::Small)
    });
    let later = anchor() + Duration::days(1);
    assert_eq!(ds.alert_count(), 0);
    assert!(ds.alert_head(0, later).is_none() && ds.alert_json(0, later).is_none());
    assert_eq!(
        ds.email_events(anchor() - Duration::days(30), anchor(), later)
            .count(),
        0
    );
    assert!(ds.visible_mdo_alerts(later).is_empty());
}

#[test]
fn odd_anchors_and_queries_do_not_panic() {
    for (anchor, domain) in [
        (DateTime::<Utc>::UNIX_EPOCH, ""),
        (
            Utc.with_ymd_and_hms(9999, 12, 1, 0, 0, 0)
                .single()
                .expect("date"),
            "x",
        ),
        (anchor() + Duration::nanoseconds(123), "a.b.c.d"),
    ] {
        let ds = Dataset::new(DatasetSpec {
            anchor,
            tenant_domain: domain.into(),
            ..spec(2, Scale::Small)
        });
        for now in [DateTime::<Utc>::MIN_UTC, anchor, DateTime::<Utc>::MAX_UTC] {
            let _ = ds
                .email_events(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, now)
                .take(50)
                .count();
            let _ = ds.alert_json(0, now);
            let _ = ds.alert_head(ds.alert_count().saturating_sub(1), now);
        }
        assert!(
            ds.email_events(anchor - Duration::days(1), anchor, anchor)
                .count()
                > 10
        );
    }
}

#[test]
fn hostile_mail_sits_in_the_last_day_before_the_anchor() {
    for scale in [Scale::Small, Scale::Medium] {
        let ds = Dataset::new(spec(8, scale));
        let (first, last) = ds.hostile_mail.expect("hostile run");
        let a = to_ticks(anchor());
        assert!(ds.message_ticks(first) > a - 24 * HOUR && ds.message_ticks(last) <= a - HOUR);
        let (fa, la) = ds.hostile_alerts.expect("hostile alerts");
        assert!(ds.alert_plan(fa).created > a - DAY && ds.alert_plan(la).created < a - 3 * HOUR);
    }
}

/// Run with `cargo test --release --lib simulator::data::tests::generation_speed -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check: run in release mode"]
fn generation_speed() {
    let ds = Dataset::new(spec(1, Scale::Large));
    let now = anchor();
    let started = std::time::Instant::now();
    let mut bytes = 0;
    let rows = ds
        .email_events(anchor() - Duration::days(10), anchor(), now)
        .take(100_000)
        .inspect(|e| {
            for c in 0..EMAIL_EVENTS_COLUMNS.len() {
                if let Cell::Str(s) | Cell::DateTime(s) = e.cell(c) {
                    bytes += s.len();
                }
            }
        })
        .count();
    let rows_time = started.elapsed();
    let started = std::time::Instant::now();
    let heads = (0..ds.alert_count())
        .filter_map(|j| ds.alert_head(j, now))
        .count();
    let heads_time = started.elapsed();
    let started = std::time::Instant::now();
    let objects = (0..1000)
        .filter_map(|j| ds.alert_json(ds.alert_count() / 2 + j, now))
        .count();
    let objects_time = started.elapsed();
    for scale in Scale::ALL {
        let ds = Dataset::new(spec(1, scale));
        let (events, alerts) = counts_before_anchor(&ds);
        println!(
            "{scale}: {events} EmailEvents rows and {alerts} alerts in the 30 days before the anchor; {} messages and {} alerts in all",
            ds.mail.count,
            ds.alert_count()
        );
    }
    println!("{rows} rows ({bytes} bytes of text) in {rows_time:?}");
    println!(
        "{heads} alert heads of {} alerts in {heads_time:?}",
        ds.alert_count()
    );
    println!("{objects} alert objects in {objects_time:?}");
    assert_eq!(rows, 100_000);
}
