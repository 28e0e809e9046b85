//! Advanced-hunting `EmailEvents` row → OCSF Email Activity (class 4009), per OCSF.md §9.2 and
//! §9.3: one event per message per recipient, activity 3 Scan (MDO's filtering verdict).

use serde_json::{Map, Value, json};

use super::enums::{
    EVENT_STATUS, EnumValue, Outcome, SEVERITY, delivery_outcome, email_direction, phish_confidence,
};
use super::record::{Record, is_absent, put, put_opt};
use super::types::{is_email_t, is_ip_t};
use super::{MDO_PRODUCT_NAME, OCSF_VERSION, VENDOR_NAME, observable, tenant_tags};

/// Columns that hold JSON written as a string; in `unmapped` they appear parsed.
const JSON_COLUMNS: [&str; 4] = [
    "AuthenticationDetails",
    "DetectionMethods",
    "ConfidenceLevel",
    "AdditionalFields",
];

/// What the mapping needs besides the row: facts only the collector knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailContext {
    /// The tenant queried (`metadata.tenant_uid`); EmailEvents rows do not name it.
    pub tenant_id: String,
    /// `metadata.uid`: the collector's own id for this OCSF event (see
    /// [`crate::ocsf::email_event_uid`]).
    pub event_uid: String,
    /// The configured tenant name; emitted as the `metadata.tags` entry `mailtrail.tenant`.
    pub tenant_name: String,
    /// `metadata.processed_time`, epoch milliseconds.
    pub processed_time_ms: Option<i64>,
    /// Attach the source row as `raw_data`.
    pub raw: bool,
}

/// Maps one EmailEvents row (column name → value, as runHuntingQuery returns it) to an OCSF
/// 1.8.0 Email Activity. Pure and total: any JSON input gives an event; values that fail an
/// OCSF type stay in `unmapped`.
pub fn email_activity(row: &Value, ctx: &EmailContext) -> Value {
    let mut rec = Record::new(row);
    let mut out = Map::new();
    let mut unmapped_extra = Map::new();

    put(&mut out, "activity_id", 3);
    put(&mut out, "activity_name", "Scan");
    put(&mut out, "category_uid", 4);
    put(&mut out, "category_name", "Network Activity");
    put(&mut out, "class_uid", 4009);
    put(&mut out, "class_name", "Email Activity");
    put(&mut out, "type_uid", 400_903);
    put(&mut out, "type_name", "Email Activity: Scan");

    let original_time = rec.str("Timestamp");
    // `time` is required; a row whose Timestamp does not parse falls back to processing time.
    put_opt(
        &mut out,
        "time",
        rec.take_time("Timestamp").or(ctx.processed_time_ms),
    );
    put(&mut out, "timezone_offset", 0);

    let direction = email_direction(rec.take_str("EmailDirection"));
    direction.write(&mut out, "direction_id", "direction");
    put(&mut out, "protocol_name", "SMTP");
    put_opt(
        &mut out,
        "message_trace_uid",
        rec.take_str("NetworkMessageId"),
    );

    // Addresses go where OCSF types them as email_t only when they are one; the raw column is
    // still read for the human-readable message.
    let header_from_raw = rec.str("SenderFromAddress");
    let recipient_raw = rec.str("RecipientEmailAddress");
    let header_from = rec.take_str_if("SenderFromAddress", is_email_t);
    let envelope_from = rec.take_str_if("SenderMailFromAddress", is_email_t);
    let recipient = rec.take_str_if("RecipientEmailAddress", is_email_t);
    put_opt(&mut out, "from", envelope_from);
    put_opt(&mut out, "to", recipient.map(|r| vec![r]));

    let mut email = Map::new();
    put_opt(&mut email, "message_uid", rec.take_str("InternetMessageId"));
    put_opt(&mut email, "from", header_from);
    if let Some(addr) = header_from
        && let Some(name) = rec.take_str("SenderDisplayName")
    {
        put(&mut email, "from_mailbox", format!("{name} <{addr}>"));
    }
    put_opt(&mut email, "return_path", envelope_from);
    put_opt(&mut email, "to", recipient.map(|r| vec![r]));
    put_opt(&mut email, "subject", rec.take_str("Subject"));
    put(&mut out, "email", email);

    if let Some(auth) = email_auth(&mut rec, &mut unmapped_extra) {
        put(&mut out, "email_auth", auth);
    }
    let ip = rec
        .take_str_if("SenderIPv4", is_ip_t)
        .or_else(|| rec.take_str_if("SenderIPv6", is_ip_t));
    if let Some(ip) = ip {
        put(&mut out, "src_endpoint", json!({ "ip": ip }));
    }

    // The scan itself completed; where the message went is in the outcome and the status code.
    EnumValue::known(EVENT_STATUS, 1).write(&mut out, "status_id", "status");
    let action = rec.take_str("DeliveryAction");
    let location = rec.take_str("DeliveryLocation");
    put_opt(&mut out, "status_code", action);
    put_opt(&mut out, "status_detail", location);
    let outcome = delivery_outcome(action, location);
    outcome.write(&mut out);

    // ThreatTypes and ConfidenceLevel drive severity and confidence, and are also kept as
    // they came (in `unmapped`), since neither OCSF value can be turned back into them.
    let threats = threat_types(rec.str("ThreatTypes"));
    let confidence = parsed_column(rec.get("ConfidenceLevel")).and_then(|c| {
        c.get("Phish")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(phish_confidence)
    });
    if let Some(c) = &confidence {
        c.write(&mut out, "confidence_id", "confidence");
    }
    // An empty ThreatTypes is the hunting API's "no threat found"; a missing column (not
    // projected, or null) says nothing, so severity is Unknown then.
    let severity = match rec.raw("ThreatTypes") {
        Some(Value::String(raw)) => email_severity(&threats, raw, confidence.as_ref()),
        _ => EnumValue::unknown(),
    };
    severity.write(&mut out, "severity_id", "severity");
    if threats.iter().any(|t| t.eq_ignore_ascii_case("Malware"))
        && let Some(names) = rec.str("ThreatNames")
    {
        let malware: Vec<Value> = split_list(names)
            .map(|name| json!({ "name": name, "classification_ids": [0] }))
            .collect();
        if !malware.is_empty() {
            rec.consume("ThreatNames");
            put(&mut out, "malware", malware);
        }
    }
    let policy_name = rec.take_str("EmailActionPolicy");
    let policy_uid = rec.take_str("EmailActionPolicyGuid");
    if policy_name.is_some() || policy_uid.is_some() {
        let mut policy = Map::new();
        put_opt(&mut policy, "name", policy_name);
        put_opt(&mut policy, "uid", policy_uid);
        put(&mut policy, "is_applied", true);
        put(&mut out, "policy", policy);
    }
    // Alerts arrive separately as Detection Findings; a scan verdict is not one.
    put(&mut out, "is_alert", false);
    put(
        &mut out,
        "message",
        message(
            &direction,
            header_from_raw,
            recipient_raw,
            &outcome,
            &threats,
            confidence.as_ref(),
        ),
    );

    let mut metadata = Map::new();
    put(&mut metadata, "version", OCSF_VERSION);
    put(&mut metadata, "profiles", vec!["security_control"]);
    put_opt(
        &mut metadata,
        "uid",
        Some(ctx.event_uid.as_str()).filter(|s| !s.is_empty()),
    );
    put_opt(&mut metadata, "original_event_uid", rec.take_id("ReportId"));
    put_opt(&mut metadata, "original_time", original_time);
    put_opt(
        &mut metadata,
        "tenant_uid",
        Some(ctx.tenant_id.as_str()).filter(|s| !s.is_empty()),
    );
    put(
        &mut metadata,
        "product",
        json!({"name": MDO_PRODUCT_NAME, "vendor_name": VENDOR_NAME, "feature": {"name": "Email events"}}),
    );
    put(
        &mut metadata,
        "log_provider",
        "Microsoft Defender XDR advanced hunting",
    );
    put(&mut metadata, "log_name", "EmailEvents");
    put_opt(&mut metadata, "processed_time", ctx.processed_time_ms);
    put_opt(&mut metadata, "tags", tenant_tags(&ctx.tenant_name));
    put(&mut out, "metadata", metadata);

    let mut observables = Vec::new();
    if let Some(a) = header_from {
        observables.push(observable("email.from", 5, a));
    }
    if let Some(a) = recipient {
        observables.push(observable("email.to", 5, a));
    }
    if let Some(a) = envelope_from {
        observables.push(observable("from", 5, a));
    }
    if let Some(a) = ip {
        observables.push(observable("src_endpoint.ip", 2, a));
    }
    if !observables.is_empty() {
        put(&mut out, "observables", observables);
    }

    let mut unmapped = rec.leftovers();
    for column in JSON_COLUMNS {
        if let Some(Value::String(_)) = unmapped.get(column) {
            match parsed_column(unmapped.get(column)) {
                Some(v) if is_absent(&v) => {
                    unmapped.remove(column);
                }
                Some(v) => {
                    unmapped.insert(column.to_owned(), v);
                }
                // Not JSON after all: kept verbatim.
                None => {}
            }
        }
    }
    unmapped.extend(unmapped_extra);
    if !unmapped.is_empty() {
        put(&mut out, "unmapped", unmapped);
    }
    if ctx.raw {
        put(&mut out, "raw_data", row.to_string());
    }
    Value::Object(out)
}

/// A JSON-in-string column parsed (or already structured, if the API sent it so).
fn parsed_column(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) => serde_json::from_str(s).ok(),
        other @ (Value::Object(_) | Value::Array(_)) => Some(other.clone()),
        _ => None,
    }
}

/// AuthenticationDetails → `email_auth` (SPF, DKIM, DMARC); the other verdicts (CompAuth, …)
/// go to `unmapped.AuthenticationDetails`.
fn email_auth(
    rec: &mut Record<'_>,
    unmapped: &mut Map<String, Value>,
) -> Option<Map<String, Value>> {
    let Some(Value::Object(details)) = parsed_column(rec.get("AuthenticationDetails")) else {
        return None;
    };
    rec.consume("AuthenticationDetails");
    let mut auth = Map::new();
    let mut rest = Map::new();
    for (key, value) in details {
        let attr = match key.to_ascii_lowercase().as_str() {
            "spf" => "spf",
            "dkim" => "dkim",
            "dmarc" => "dmarc",
            _ => "",
        };
        match value.as_str().filter(|s| !s.is_empty()) {
            Some(v) if !attr.is_empty() && !auth.contains_key(attr) => put(&mut auth, attr, v),
            _ if is_absent(&value) => {}
            _ => {
                rest.insert(key, value);
            }
        }
    }
    if !rest.is_empty() {
        put(unmapped, "AuthenticationDetails", rest);
    }
    (!auth.is_empty()).then_some(auth)
}

fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ';']).map(str::trim).filter(|t| !t.is_empty())
}

fn threat_types(raw: Option<&str>) -> Vec<String> {
    raw.map(|r| split_list(r).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// EmailEvents has no severity; OCSF.md §9.2 derives one from the threat verdict.
fn email_severity(threats: &[String], raw: &str, confidence: Option<&EnumValue>) -> EnumValue {
    let has = |t: &str| threats.iter().any(|x| x.eq_ignore_ascii_case(t));
    let id = if threats.is_empty() {
        1
    } else if has("Malware") {
        4
    } else if has("Phish") {
        if confidence.is_some_and(|c| c.id == 3) {
            4
        } else {
            3
        }
    } else if has("Spam") || has("Bulk") {
        2
    } else {
        // Only threat types this mapping does not know: the source's words, not a guess.
        return EnumValue::other(raw);
    };
    EnumValue::known(SEVERITY, id)
}

/// A one-line summary, e.g. "Inbound email from a@b.example to c@d.example blocked and
/// quarantined (Phish, high confidence)".
fn message(
    direction: &EnumValue,
    from: Option<&str>,
    to: Option<&str>,
    outcome: &Outcome,
    threats: &[String],
    confidence: Option<&EnumValue>,
) -> String {
    let what = match direction.id {
        1 => "Inbound email",
        2 => "Outbound email",
        3 => "Intra-org email",
        _ => "Email",
    };
    let result = match (
        outcome.action.id,
        outcome.disposition.id,
        outcome.disposition.label.as_str(),
    ) {
        (1, 1, _) => "delivered",
        (1, 99, "Junked") => "delivered to the junk folder",
        (2, 3, _) => "blocked and quarantined",
        (2, 6, _) => "blocked and dropped",
        (2, 27, _) => "not delivered (failed)",
        (2, 2, _) => "blocked",
        (4, 99, "Replaced") => "delivered with attachments replaced",
        (4, 5, _) => "delivered, then moved to deleted items",
        _ => "scanned",
    };
    let mut text = format!(
        "{what} from {} to {} {result}",
        from.unwrap_or("an unknown sender"),
        to.unwrap_or("an unknown recipient")
    );
    if !threats.is_empty() {
        text.push_str(&format!(" ({}", threats.join(", ")));
        let phish = threats.iter().any(|t| t.eq_ignore_ascii_case("Phish"));
        if let Some(c) = confidence.filter(|c| phish && matches!(c.id, 1..=3)) {
            text.push_str(&format!(", {} confidence", c.label.to_ascii_lowercase()));
        }
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> EmailContext {
        EmailContext {
            tenant_id: "t".into(),
            event_uid: "00000000-0000-8000-8000-000000000000".into(),
            tenant_name: String::new(),
            processed_time_ms: Some(5),
            raw: false,
        }
    }

    #[test]
    fn any_json_maps_without_panicking() {
        let inputs = [
            json!(null),
            json!([1]),
            json!({"Timestamp": 5, "AuthenticationDetails": "{not json", "ConfidenceLevel": "[1]"}),
            json!({"AuthenticationDetails": {"SPF": 1, "DKIM": null}, "ThreatTypes": 3, "ReportId": 12}),
            json!({"ThreatTypes": "Malware", "ThreatNames": ",,", "ConfidenceLevel": {"Phish": 7}}),
        ];
        for input in &inputs {
            let out = email_activity(input, &ctx());
            assert_eq!(out["class_uid"], 4009);
            assert_eq!(out["time"], 5);
        }
        // Names that split into nothing give no (empty) malware list and stay as data.
        let out = email_activity(&inputs[4], &ctx());
        assert!(out.get("malware").is_none());
        assert_eq!(out["unmapped"]["ThreatNames"], ",,");
    }

    #[test]
    fn bad_values_stay_in_unmapped() {
        let row = json!({
            "Timestamp": "not a time",
            "SenderIPv4": "203.0.113.999",
            "SenderFromAddress": "\u{202e}evil@example.example",
            "RecipientEmailAddress": "user@contoso.example",
            "AuthenticationDetails": "{not json",
            "AdditionalFields": "{}"
        });
        let out = email_activity(&row, &ctx());
        let u = &out["unmapped"];
        assert_eq!(u["Timestamp"], "not a time");
        assert_eq!(u["SenderIPv4"], "203.0.113.999");
        assert_eq!(u["SenderFromAddress"], "\u{202e}evil@example.example");
        assert_eq!(u["AuthenticationDetails"], "{not json");
        assert!(u.get("AdditionalFields").is_none());
        assert!(out.get("src_endpoint").is_none());
        assert!(out["email"].get("from").is_none());
        assert_eq!(out["email"]["to"], json!(["user@contoso.example"]));
        assert_eq!(out["metadata"]["original_time"], "not a time");
    }

    #[test]
    fn severity_from_threats() {
        let high = phish_confidence("High");
        let t = |s: &str| threat_types(Some(s));
        assert_eq!(email_severity(&t("Phish"), "Phish", Some(&high)).id, 4);
        assert_eq!(email_severity(&t("Phish"), "Phish", None).id, 3);
        assert_eq!(email_severity(&t("Spam, Phish"), "Spam, Phish", None).id, 3);
        assert_eq!(email_severity(&t("Malware"), "Malware", None).id, 4);
        assert_eq!(email_severity(&t("Bulk"), "Bulk", None).id, 2);
        assert_eq!(email_severity(&[], "", None).label, "Informational");
        assert_eq!(
            email_severity(&t("Zombie"), "Zombie", None),
            EnumValue::other("Zombie")
        );
        let missing = email_activity(&json!({"RecipientEmailAddress": "a@b.example"}), &ctx());
        assert_eq!(missing["severity_id"], 0);
        let empty = email_activity(
            &json!({"ThreatTypes": "", "RecipientEmailAddress": "a@b.example"}),
            &ctx(),
        );
        assert_eq!(empty["severity_id"], 1);
    }
}
