//! OCSF mapping cases as insta JSON snapshots (`snapshots/ocsf_*.snap`), from the hand-written
//! fixtures in `tests/fixtures/ocsf/` (synthetic values: documentation IPs, `.example`
//! domains). Every snapshotted event must also validate against the official schema with no
//! problem; each test asserts the behaviour its case exists for.

#[path = "ocsf_common.rs"]
mod ocsf_common;

use mailtrail::ocsf::{
    EmailContext, FindingActivity, FindingContext, alert_event_uid, detection_finding,
    email_activity, email_event_uid, finding_activity,
};
use ocsf_common::{assert_valid, fixture, schema_or_skip};
use serde_json::{Value, json};

const TENANT_NAME: &str = "contoso";
const TENANT_ID: &str = "11111111-2222-4333-8444-555555555555";
/// A fixed processing time so snapshots are reproducible.
const PROCESSED_MS: i64 = 1_780_000_000_000;

fn snapshot(name: &str, value: &Value) {
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!(name, value);
    });
}

fn validate(name: &str, events: &[&Value]) {
    if let Some(schema) = schema_or_skip(name) {
        for (i, e) in events.iter().enumerate() {
            assert_valid(schema, &format!("{name} event {i}"), e);
        }
    }
}

/// Maps `alerts/<case>.json` as a version seen after `previous_status` (None: first sight),
/// validates it and snapshots it as `ocsf_alert_<case>`.
fn alert_case(case: &str, previous_status: Option<&str>, raw: bool) -> Value {
    let alert = fixture(&format!("alerts/{case}.json"));
    let text = |k: &str| alert[k].as_str().unwrap_or_default().to_owned();
    let ctx = FindingContext {
        activity: finding_activity(previous_status, &alert),
        event_uid: alert_event_uid(TENANT_NAME, &text("id"), &text("lastUpdateDateTime")),
        tenant_name: TENANT_NAME.into(),
        processed_time_ms: Some(PROCESSED_MS),
        raw,
    };
    let event = detection_finding(&alert, &ctx);
    let name = format!("ocsf_alert_{case}");
    validate(&name, &[&event]);
    snapshot(&name, &event);
    event
}

fn email_event(row: &Value) -> Value {
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_owned();
    let ctx = EmailContext {
        tenant_id: TENANT_ID.into(),
        event_uid: email_event_uid(
            TENANT_NAME,
            &text("NetworkMessageId"),
            &text("RecipientEmailAddress"),
        ),
        tenant_name: TENANT_NAME.into(),
        processed_time_ms: Some(PROCESSED_MS),
        raw: false,
    };
    email_activity(row, &ctx)
}

/// Maps `email/<case>.json` (one row), validates it and snapshots it as `ocsf_email_<case>`.
fn email_case(case: &str) -> Value {
    let event = email_event(&fixture(&format!("email/{case}.json")));
    let name = format!("ocsf_email_{case}");
    validate(&name, &[&event]);
    snapshot(&name, &event);
    event
}

// ---- Graph alerts → Detection Finding ----------------------------------------------------------

#[test]
fn ocsf_alert_phish_new_is_a_create_with_the_message_evidence() {
    let e = alert_case("phish_new", None, false);
    assert_eq!(
        (
            e["activity_id"].clone(),
            e["type_uid"].clone(),
            e["is_alert"].clone()
        ),
        (json!(1), json!(200401), json!(true))
    );
    assert_eq!(e["status_id"], 1);
    assert_eq!(e["severity_id"], 4);
    assert_eq!(
        (e["action_id"].clone(), e["disposition_id"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(e["attacks"].as_array().map(Vec::len), Some(2));
    assert_eq!(e["attacks"], e["finding_info"]["attacks"]);
    assert_eq!(
        e["attacks"][1]["sub_technique"],
        json!({"uid": "T1204.001", "name": "Malicious Link"})
    );
    assert_eq!(e["evidences"][0]["email"]["urls"][1]["port"], 8080);
    assert!(
        e["evidences"][0]["email"]["urls"][1]
            .get("domain")
            .is_none(),
        "an IP host has no domain"
    );
}

#[test]
fn ocsf_alert_phish_in_progress_is_an_update_with_every_evidence_type() {
    let e = alert_case("phish_in_progress", Some("new"), false);
    assert_eq!(
        (e["activity_id"].clone(), e["type_uid"].clone()),
        (json!(2), json!(200402))
    );
    assert_eq!(e["status_id"], 2);
    // ZAP remediated the delivered message: modified, quarantined (OCSF.md §9.3).
    assert_eq!(
        (e["action_id"].clone(), e["disposition_id"].clone()),
        (json!(4), json!(3))
    );
    let ev = &e["evidences"];
    assert_eq!(ev[1]["user"]["email_addr"], "adele.vance@contoso.example");
    assert_eq!(ev[1]["user"]["account"], json!({"name": "adelev"}));
    assert_eq!(ev[2]["url"]["hostname"], "track.parcel-notice.example");
    assert_eq!(ev[3]["user"]["uid"], "6f1e2d3c-0000-4000-8000-00000000a001");
    assert_eq!(
        ev[4]["src_endpoint"],
        json!({"ip": "198.51.100.23", "location": {"country": "NL"}})
    );
    assert_eq!(
        ev[5]["name"],
        "#microsoft.graph.security.mailClusterEvidence"
    );
    assert_eq!(ev[5]["data"]["emailCount"], 14);
    assert_eq!(ev[5]["data"]["remediationStatus"], "remediated");
}

#[test]
fn ocsf_alert_phish_resolved_is_a_close_with_a_verdict() {
    let e = alert_case("phish_resolved", Some("inProgress"), false);
    assert_eq!(
        (
            e["activity_id"].clone(),
            e["type_uid"].clone(),
            e["is_alert"].clone()
        ),
        (json!(3), json!(200403), json!(false))
    );
    assert_eq!(
        (e["status_id"].clone(), e["status"].clone()),
        (json!(4), json!("Resolved"))
    );
    assert_eq!(
        (e["verdict_id"].clone(), e["verdict"].clone()),
        (json!(2), json!("True Positive"))
    );
    assert_eq!(
        e["metadata"]["profiles"],
        json!(["security_control", "incident"])
    );
    assert_eq!(e["assignee"], json!({"name": "secops@contoso.example"}));
    assert_eq!(e["unmapped"]["determination"], "phishing");
    assert_eq!(e["unmapped"]["resolvedDateTime"], "2026-06-02T10:30:00Z");
    assert_eq!(
        e["unmapped"]["comments"][0]["comment"],
        "Confirmed phish, sender domain blocked."
    );
    assert_eq!(e["unmapped"]["systemTags"], json!(["Auto-remediated"]));
}

#[test]
fn ocsf_alert_malware_file_maps_file_evidence_with_hashes() {
    let e = alert_case("malware_file", None, false);
    let file = &e["evidences"][1]["file"];
    assert_eq!(file["name"], "invoice_88213.xlsm");
    assert_eq!(file["size"], 48213);
    assert_eq!(file["hashes"].as_array().map(Vec::len), Some(3));
    assert_eq!(file["hashes"][2]["algorithm"], "SHA-256");
    assert_eq!(e["evidences"][1]["data"]["detectionStatus"], "detected");
    assert_eq!(e["evidences"][0]["src_endpoint"]["ip"], "2001:db8:5::17");
    // Blocked into quarantine at delivery.
    assert_eq!(
        (e["action_id"].clone(), e["disposition_id"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(e["unmapped"]["threatFamilyName"], "Synthetic");
    assert!(e["evidences"][0]["email"].get("from_mailbox").is_some());
    // p1Sender had no display name: nothing of it is left over.
    assert!(e["evidences"][0]["data"].get("p1Sender").is_none());
}

#[test]
fn ocsf_alert_bec_impersonation_keeps_what_differs() {
    let e = alert_case("bec_impersonation", None, false);
    let data = &e["evidences"][0]["data"];
    // The envelope sender's display name differs from the header's: kept, not dropped.
    assert_eq!(data["p1Sender"], json!({"displayName": "Mailer Daemon"}));
    assert_eq!(e["evidences"][0]["verdict_id"], 4);
    assert_eq!(
        (
            e["action_id"].clone(),
            e["disposition_id"].clone(),
            e["disposition"].clone()
        ),
        (json!(1), json!(99), json!("Junked"))
    );
    assert_eq!(
        e["attacks"][1]["technique"],
        json!({"uid": "T1656", "name": "Impersonation"})
    );
    // The mailbox's display name disagrees with its account's: the account wins, the other stays.
    assert_eq!(e["evidences"][2]["user"]["display_name"], "Megan Bowen");
    assert_eq!(
        e["evidences"][2]["data"]["displayName"],
        "Megan Bowen (Finance)"
    );
    assert_eq!(e["unmapped"]["actorDisplayName"], "Unknown external actor");
}

#[test]
fn ocsf_alert_unknown_enum_values_become_other_with_the_raw_value() {
    let e = alert_case("unknown_enums", Some("new"), false);
    assert_eq!(
        (e["severity_id"].clone(), e["severity"].clone()),
        (json!(99), json!("unknownFutureValue"))
    );
    assert_eq!(
        (e["status_id"].clone(), e["status"].clone()),
        (json!(99), json!("somethingNew"))
    );
    assert_eq!(
        (e["action_id"].clone(), e["action"].clone()),
        (json!(99), json!("quarantinedX"))
    );
    assert_eq!(
        (e["disposition_id"].clone(), e["disposition"].clone()),
        (json!(99), json!("quarantinedX"))
    );
    assert_eq!(
        (e["verdict_id"].clone(), e["verdict"].clone()),
        (json!(99), json!("unknownFutureValue"))
    );
    assert_eq!(e["evidences"][0]["verdict_id"], 99);
    assert_eq!(e["metadata"]["correlation_uid"], "5150");
    assert_eq!(e["unmapped"]["mitreTechniques"], json!(["not-a-technique"]));
    assert!(
        e["attacks"][0].get("tactic").is_none(),
        "SomeNewCategory is no tactic"
    );
    assert_eq!(
        e["evidences"][1]["data"]["nested"],
        json!({"depth": [1, 2, {"x": null}]})
    );
    assert_eq!(e["unmapped"]["customDetails"], json!({"Region": "EU"}));
}

#[test]
fn ocsf_alert_sparse_has_required_attributes_and_keeps_bad_values() {
    let e = alert_case("sparse", None, true);
    // createdDateTime does not parse: time falls back to lastUpdateDateTime; raw string kept.
    assert_eq!(e["time"], 1_780_470_000_000_i64);
    assert_eq!(e["metadata"]["original_time"], "not-a-date");
    assert_eq!(e["unmapped"]["createdDateTime"], "not-a-date");
    assert_eq!(
        (e["severity_id"].clone(), e["status_id"].clone()),
        (json!(0), json!(0))
    );
    assert!(e.get("message").is_none() && e["finding_info"].get("title").is_none());
    assert!(
        e.get("verdict_id").is_none(),
        "classification unknown is no verdict"
    );
    assert_eq!(e["evidences"][0]["data"]["senderIp"], "203.0.113.999");
    assert_eq!(
        e["evidences"][0]["data"]["p2Sender"],
        json!({"emailAddress": "billing at fabrikam.example"})
    );
    assert_eq!(e["evidences"][1]["data"], json!({}));
    assert_eq!(
        e["evidences"][2]["data"]["fileDetails"]["sha256"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    let raw: Value =
        serde_json::from_str(e["raw_data"].as_str().unwrap_or_default()).unwrap_or(Value::Null);
    assert_eq!(raw, fixture("alerts/sparse.json"));
}

// ---- EmailEvents → Email Activity -------------------------------------------------------------

fn outcome(e: &Value) -> (Value, Value, Value) {
    (
        e["action_id"].clone(),
        e["disposition_id"].clone(),
        e["disposition"].clone(),
    )
}

#[test]
fn ocsf_email_delivered_inbox_is_allowed_and_informational() {
    let e = email_case("delivered_inbox");
    assert_eq!(outcome(&e), (json!(1), json!(1), json!("Allowed")));
    assert_eq!(
        (e["severity_id"].clone(), e["direction_id"].clone()),
        (json!(1), json!(1))
    );
    assert!(e.get("confidence_id").is_none());
    assert_eq!(
        e["email_auth"],
        json!({"spf": "pass", "dkim": "pass", "dmarc": "pass"})
    );
    assert_eq!(
        e["unmapped"]["AuthenticationDetails"],
        json!({"CompAuth": "pass"})
    );
    assert_eq!(e["unmapped"]["BulkComplaintLevel"], 3);
    assert!(
        e["unmapped"].get("AdditionalFields").is_none(),
        "\"{{}}\" is empty"
    );
}

#[test]
fn ocsf_email_junked_is_allowed_into_junk() {
    let e = email_case("junked");
    assert_eq!(outcome(&e), (json!(1), json!(99), json!("Junked")));
    assert_eq!(e["severity_id"], 2);
    assert_eq!(
        e["unmapped"]["ConfidenceLevel"],
        json!({"Phish": null, "Spam": 6})
    );
    assert_eq!(e["policy"]["name"], "Antispam high confidence spam");
}

#[test]
fn ocsf_email_blocked_quarantine_names_the_malware() {
    let e = email_case("blocked_quarantine");
    assert_eq!(outcome(&e), (json!(2), json!(3), json!("Quarantined")));
    assert_eq!(e["severity_id"], 4);
    assert_eq!(
        e["malware"],
        json!([{"name": "TrojanDownloader:O97M/Synthetic.A", "classification_ids": [0]}])
    );
    assert_eq!(e["src_endpoint"]["ip"], "2001:db8:5::17");
    assert_eq!(
        e["unmapped"]["DetectionMethods"],
        json!({"Malware": ["File detonation", "Antimalware protection"]})
    );
}

#[test]
fn ocsf_email_replaced_is_modified() {
    let e = email_case("replaced");
    assert_eq!(outcome(&e), (json!(4), json!(99), json!("Replaced")));
    assert!(
        e.get("malware").is_none(),
        "no threat names, no malware object"
    );
}

#[test]
fn ocsf_email_dropped_is_denied_and_dropped() {
    let e = email_case("dropped");
    assert_eq!(outcome(&e), (json!(2), json!(6), json!("Dropped")));
    assert_eq!(
        (e["confidence_id"].clone(), e["severity_id"].clone()),
        (json!(3), json!(4))
    );
}

#[test]
fn ocsf_email_failed_is_denied_with_error() {
    let e = email_case("failed");
    assert_eq!(outcome(&e), (json!(2), json!(27), json!("Error")));
    assert_eq!(
        e["unmapped"]["AdditionalFields"],
        json!({"FailureReason": "Mailbox full"})
    );
}

#[test]
fn ocsf_email_outbound_direction() {
    let e = email_case("outbound");
    assert_eq!(
        (e["direction_id"].clone(), e["direction"].clone()),
        (json!(2), json!("Outbound"))
    );
    assert_eq!(e["status_detail"], "On-premises/external");
    assert_eq!(outcome(&e), (json!(1), json!(1), json!("Allowed")));
    assert!(e.get("email_auth").is_none());
}

#[test]
fn ocsf_email_intra_org_direction() {
    let e = email_case("intra_org");
    assert_eq!(
        (e["direction_id"].clone(), e["direction"].clone()),
        (json!(3), json!("Internal"))
    );
    assert_eq!(
        (e["confidence_id"].clone(), e["severity_id"].clone()),
        (json!(1), json!(3))
    );
    assert!(e.get("src_endpoint").is_none());
}

#[test]
fn ocsf_email_multi_recipient_gives_one_event_per_recipient() {
    let rows = fixture("email/multi_recipient.json");
    let events: Vec<Value> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(email_event)
        .collect();
    validate(
        "ocsf_email_multi_recipient",
        &events.iter().collect::<Vec<_>>(),
    );
    snapshot("ocsf_email_multi_recipient", &Value::Array(events.clone()));
    assert_eq!(events.len(), 3);
    assert!(
        events
            .iter()
            .all(|e| e["message_trace_uid"] == "c0ffee00-1111-4222-8333-08de91000009")
    );
    let uids: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["metadata"]["uid"].as_str())
        .collect();
    assert_eq!(uids.len(), 3, "one metadata.uid per recipient");
    assert_eq!(outcome(&events[1]), (json!(1), json!(99), json!("Junked")));
    // An internationalised address fails email_t: not in `to`, kept in `unmapped`.
    assert!(events[2].get("to").is_none() && events[2]["email"].get("to").is_none());
    assert_eq!(
        events[2]["unmapped"]["RecipientEmailAddress"],
        "zoë.ç@contoso.example"
    );
}

#[test]
fn ocsf_email_hostile_strings_are_kept_exactly() {
    let row = fixture("email/hostile_strings.json");
    let e = email_case("hostile_strings");
    let subject = e["email"]["subject"].as_str().unwrap_or_default();
    assert_eq!(subject.chars().count(), 5000);
    assert_eq!(e["email"]["subject"], row["Subject"]);
    assert!(subject.starts_with("\u{1b}[31mURGENT\u{1b}[0m \u{202e}FDP.exe\u{202c}"));
    assert_eq!(
        e["email"]["from_mailbox"],
        "\u{202e}ksedpleH TI\u{202c} \u{1b}[2J\u{1b}[H <helpdesk@c0ntoso-it.example>"
    );
    assert_eq!(e["email"]["message_uid"], row["InternetMessageId"]);
    // A bidi override makes the envelope sender no email_t: kept as data, out of `from`.
    assert!(e.get("from").is_none() && e["email"].get("return_path").is_none());
    assert_eq!(
        e["unmapped"]["SenderMailFromAddress"],
        row["SenderMailFromAddress"]
    );
    assert_eq!(e["unmapped"]["Connectors"], "Inbound\r\nX-Forged: yes");
    assert_eq!(
        e["unmapped"]["AdditionalFields"]["Note"],
        "\u{1b}]8;;http://evil.example\u{7}x\u{1b}]8;;\u{7}"
    );
    assert_eq!(
        (e["confidence_id"].clone(), e["severity_id"].clone()),
        (json!(2), json!(3))
    );
}

#[test]
fn ocsf_email_missing_optional_fields_still_valid() {
    let e = email_case("missing_optional");
    assert_eq!(e["email"], json!({"to": ["adele.vance@contoso.example"]}));
    assert!(e.get("unmapped").is_none() && e.get("observables").is_some());
    assert_eq!(outcome(&e), (json!(1), json!(1), json!("Allowed")));
    assert!(e["metadata"].get("original_event_uid").is_none());
    // No ThreatTypes column at all: severity is unknown, not "no threat".
    assert_eq!(
        (e["severity_id"].clone(), e["severity"].clone()),
        (json!(0), json!("Unknown"))
    );
}

#[test]
fn finding_activity_drives_type_uid_for_the_same_alert() {
    let alert = fixture("alerts/phish_resolved.json");
    for (previous, activity, type_uid) in [
        (None, FindingActivity::Create, 200401),
        (Some("inProgress"), FindingActivity::Close, 200403),
        (Some("resolved"), FindingActivity::Update, 200402),
    ] {
        assert_eq!(finding_activity(previous, &alert), activity);
        let ctx = FindingContext {
            activity,
            event_uid: "e".into(),
            tenant_name: String::new(),
            processed_time_ms: None,
            raw: false,
        };
        assert_eq!(detection_finding(&alert, &ctx)["type_uid"], type_uid);
    }
}
