//! The closed OCSF enums mailtrail emits, and how source values map onto them.
//!
//! Rule for every enum (OCSF.md §2.3): a source value with an entry maps to its id and the
//! sibling string gets the OCSF caption; a source value without one maps to 99 "Other" and the
//! sibling string carries the raw source value; an absent source value maps to 0 "Unknown".
//! Source values are compared case-insensitively and ignoring punctuation, because Graph
//! (`inProgress`), the hunting API (`Intra-org`, `Inbox/folder`) and older payloads disagree
//! on spelling.

use serde_json::{Map, Value};

use super::record::put;

/// An enum value ready to emit: the `_id` and its sibling string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnumValue {
    pub id: i64,
    pub label: String,
}

impl EnumValue {
    /// A value defined by OCSF, labelled with its caption from `table`.
    pub(crate) fn known(table: &[(i64, &str)], id: i64) -> Self {
        let label = table
            .iter()
            .find(|(i, _)| *i == id)
            .map_or("Other", |(_, c)| c);
        EnumValue {
            id,
            label: label.to_owned(),
        }
    }

    /// 99 "Other", labelled with the source's own value.
    pub(crate) fn other(raw: &str) -> Self {
        EnumValue {
            id: 99,
            label: raw.to_owned(),
        }
    }

    pub(crate) fn unknown() -> Self {
        EnumValue {
            id: 0,
            label: "Unknown".to_owned(),
        }
    }

    pub(crate) fn is_unknown(&self) -> bool {
        self.id == 0
    }

    /// Writes `id_key` and `sibling_key`.
    pub(crate) fn write(&self, map: &mut Map<String, Value>, id_key: &str, sibling_key: &str) {
        put(map, id_key, self.id);
        put(map, sibling_key, self.label.as_str());
    }
}

pub(crate) const SEVERITY: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "Informational"),
    (2, "Low"),
    (3, "Medium"),
    (4, "High"),
    (5, "Critical"),
    (6, "Fatal"),
    (99, "Other"),
];

pub(crate) const FINDING_STATUS: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "New"),
    (2, "In Progress"),
    (3, "Suppressed"),
    (4, "Resolved"),
    (5, "Archived"),
    (6, "Deleted"),
    (99, "Other"),
];

pub(crate) const EVENT_STATUS: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "Success"),
    (2, "Failure"),
    (99, "Other"),
];

pub(crate) const ACTION: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "Allowed"),
    (2, "Denied"),
    (3, "Observed"),
    (4, "Modified"),
    (99, "Other"),
];

pub(crate) const DISPOSITION: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "Allowed"),
    (2, "Blocked"),
    (3, "Quarantined"),
    (4, "Isolated"),
    (5, "Deleted"),
    (6, "Dropped"),
    (7, "Custom Action"),
    (8, "Approved"),
    (9, "Restored"),
    (10, "Exonerated"),
    (11, "Corrected"),
    (12, "Partially Corrected"),
    (13, "Uncorrected"),
    (14, "Delayed"),
    (15, "Detected"),
    (16, "No Action"),
    (17, "Logged"),
    (18, "Tagged"),
    (19, "Alert"),
    (20, "Count"),
    (21, "Reset"),
    (22, "Captcha"),
    (23, "Challenge"),
    (24, "Access Revoked"),
    (25, "Rejected"),
    (26, "Unauthorized"),
    (27, "Error"),
    (99, "Other"),
];

pub(crate) const VERDICT: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "False Positive"),
    (2, "True Positive"),
    (3, "Disregard"),
    (4, "Suspicious"),
    (5, "Benign"),
    (6, "Test"),
    (7, "Insufficient Data"),
    (8, "Security Risk"),
    (9, "Managed Externally"),
    (10, "Duplicate"),
    (99, "Other"),
];

pub(crate) const CONFIDENCE: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "Low"),
    (2, "Medium"),
    (3, "High"),
    (99, "Other"),
];

pub(crate) const DIRECTION: &[(i64, &str)] = &[
    (0, "Unknown"),
    (1, "Inbound"),
    (2, "Outbound"),
    (3, "Internal"),
    (4, "Local"),
    (99, "Other"),
];

/// Lower-cases and drops everything but letters and digits: `Inbox/folder` → `inboxfolder`.
pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Maps an optional source string through `known` (normalised key → id); see the module rule.
fn lookup(raw: Option<&str>, table: &[(i64, &str)], known: &[(&str, i64)]) -> EnumValue {
    match raw {
        None => EnumValue::unknown(),
        Some(raw) => {
            let key = norm(raw);
            match known.iter().find(|(k, _)| *k == key) {
                Some((_, id)) => EnumValue::known(table, *id),
                None => EnumValue::other(raw),
            }
        }
    }
}

/// Graph alert `severity` → `severity_id`.
pub(crate) fn alert_severity(raw: Option<&str>) -> EnumValue {
    let known = [
        ("unknown", 0),
        ("informational", 1),
        ("low", 2),
        ("medium", 3),
        ("high", 4),
    ];
    lookup(raw, SEVERITY, &known)
}

/// Graph alert `status` → finding `status_id`.
pub(crate) fn alert_status(raw: Option<&str>) -> EnumValue {
    let known = [
        ("unknown", 0),
        ("new", 1),
        ("inprogress", 2),
        ("resolved", 4),
    ];
    lookup(raw, FINDING_STATUS, &known)
}

/// Graph alert `classification` → finding `verdict_id` (incident profile). `None` when the
/// source has no classification (or says `unknown`): no verdict is emitted then.
pub(crate) fn alert_classification(raw: Option<&str>) -> Option<EnumValue> {
    let known = [
        ("unknown", 0),
        ("falsepositive", 1),
        ("truepositive", 2),
        ("informationalexpectedactivity", 5),
        // Older documentation prose spells the benign class this way.
        ("benignpositive", 5),
    ];
    Some(lookup(raw, VERDICT, &known)).filter(|v| !v.is_unknown())
}

/// Graph evidence `verdict` → `evidences[].verdict_id`.
pub(crate) fn evidence_verdict(raw: Option<&str>) -> EnumValue {
    let known = [
        ("unknown", 0),
        ("malicious", 2),
        ("suspicious", 4),
        ("nothreatsfound", 5),
    ];
    lookup(raw, VERDICT, &known)
}

/// EmailEvents `EmailDirection` → `direction_id`.
pub(crate) fn email_direction(raw: Option<&str>) -> EnumValue {
    let known = [("inbound", 1), ("outbound", 2), ("intraorg", 3)];
    lookup(raw, DIRECTION, &known)
}

/// ConfidenceLevel's phish verdict (`High` / `Low`) → `confidence_id`.
pub(crate) fn phish_confidence(raw: &str) -> EnumValue {
    let known = [("low", 1), ("medium", 2), ("high", 3)];
    lookup(Some(raw), CONFIDENCE, &known)
}

/// The outcome of a security control on a message: `action_id` and `disposition_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub action: EnumValue,
    pub disposition: EnumValue,
}

impl Outcome {
    fn of(action: i64, disposition: i64) -> Self {
        Outcome {
            action: EnumValue::known(ACTION, action),
            disposition: EnumValue::known(DISPOSITION, disposition),
        }
    }

    fn with_other_disposition(action: i64, label: &str) -> Self {
        Outcome {
            action: EnumValue::known(ACTION, action),
            disposition: EnumValue::other(label),
        }
    }

    pub(crate) fn unknown() -> Self {
        Outcome::of(0, 0)
    }

    pub(crate) fn is_unknown(&self) -> bool {
        self.action.is_unknown() && self.disposition.is_unknown()
    }

    pub(crate) fn write(&self, map: &mut Map<String, Value>) {
        self.action.write(map, "action_id", "action");
        self.disposition.write(map, "disposition_id", "disposition");
    }
}

/// Where a message ended up, from Graph `deliveryLocation` or EmailEvents `DeliveryLocation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Mailbox,
    Junk,
    Quarantine,
    Dropped,
    Failed,
    Deleted,
    Unrecognised,
}

fn location(raw: Option<&str>) -> Option<Location> {
    Some(match norm(raw?).as_str() {
        "inbox" | "inboxfolder" | "folder" | "external" | "onpremisesexternal" | "onpremises"
        | "forwarded" => Location::Mailbox,
        "junk" | "junkfolder" => Location::Junk,
        "quarantine" => Location::Quarantine,
        "dropped" => Location::Dropped,
        "failed" => Location::Failed,
        "deleted" | "deletedfolder" | "deleteditems" | "deleteditemsfolder" => Location::Deleted,
        _ => Location::Unrecognised,
    })
}

/// OCSF.md §9.3: delivery action and location → action / disposition. Shared by Graph
/// evidence (`deliveryAction` / `deliveryLocation`) and EmailEvents (`DeliveryAction` /
/// `DeliveryLocation`).
pub(crate) fn delivery_outcome(action: Option<&str>, loc: Option<&str>) -> Outcome {
    let act = action.map(norm);
    if let (Some(raw), Some(a)) = (action, act.as_deref())
        && !is_known_action(a)
    {
        return Outcome {
            action: EnumValue::other(raw),
            disposition: EnumValue::other(raw),
        };
    }
    let place = location(loc);
    // These places say what happened to the message whatever the action column says (a message
    // in Deleted Items was delivered and then moved; Failed and Dropped never arrived).
    match place {
        Some(Location::Deleted) => return Outcome::of(4, 5),
        Some(Location::Quarantine) => return Outcome::of(2, 3),
        Some(Location::Dropped) => return Outcome::of(2, 6),
        Some(Location::Failed) => return Outcome::of(2, 27),
        _ => {}
    }
    let junked = || Outcome::with_other_disposition(1, "Junked");
    match act.as_deref() {
        Some("delivered") if place == Some(Location::Junk) => junked(),
        Some("delivered") => Outcome::of(1, 1),
        Some("deliveredasspam" | "junked") => junked(),
        Some("blocked") => Outcome::of(2, 2),
        Some("failed") => Outcome::of(2, 27),
        Some("replaced") => Outcome::with_other_disposition(4, "Replaced"),
        _ => match place {
            Some(Location::Junk) => junked(),
            Some(Location::Mailbox) => Outcome::of(1, 1),
            _ => Outcome::unknown(),
        },
    }
}

fn is_known_action(a: &str) -> bool {
    matches!(
        a,
        "delivered" | "deliveredasspam" | "junked" | "blocked" | "failed" | "replaced"
    )
}

/// OCSF.md §9.3 for Graph `analyzedMessageEvidence`: post-delivery remediation decides when
/// there was one, the delivery outcome otherwise.
pub(crate) fn message_evidence_outcome(
    action: Option<&str>,
    loc: Option<&str>,
    remediation: Option<&str>,
    remediation_details: Option<&str>,
) -> Outcome {
    match remediation.map(norm).as_deref() {
        Some("remediated") => {
            let details = remediation_details.map(norm).unwrap_or_default();
            // ZAP and manual remediation say what they did in the details, when they say
            // anything; ZAP's default for phish and malware is quarantine, which is what an
            // empty detail most likely means.
            if details.is_empty() || details.contains("quarantin") {
                Outcome::of(4, 3)
            } else if details.contains("delet") {
                Outcome::of(4, 5)
            } else if details.contains("junk") {
                Outcome::with_other_disposition(4, "Junked")
            } else {
                Outcome::with_other_disposition(4, remediation.unwrap_or("remediated"))
            }
        }
        Some("prevented" | "blocked") => Outcome::of(2, 2),
        _ => delivery_outcome(action, loc),
    }
}

/// Graph `fileEvidence.detectionStatus` → outcome, used when no message evidence decides.
pub(crate) fn file_detection_outcome(raw: Option<&str>) -> Outcome {
    match raw.map(norm).as_deref() {
        Some("detected") => Outcome::of(3, 15),
        Some("blocked" | "prevented") => Outcome::of(2, 2),
        _ => Outcome::unknown(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(o: &Outcome) -> (i64, i64, &str) {
        (o.action.id, o.disposition.id, o.disposition.label.as_str())
    }

    #[test]
    fn delivery_table_of_ocsf_md_9_3() {
        assert_eq!(
            ids(&delivery_outcome(Some("Delivered"), Some("Inbox/folder"))),
            (1, 1, "Allowed")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("delivered"), Some("inbox"))),
            (1, 1, "Allowed")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Delivered"), Some("Junk folder"))),
            (1, 99, "Junked")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Junked"), Some("Junk folder"))),
            (1, 99, "Junked")
        );
        assert_eq!(
            ids(&delivery_outcome(
                Some("deliveredAsSpam"),
                Some("junkFolder")
            )),
            (1, 99, "Junked")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Blocked"), Some("Quarantine"))),
            (2, 3, "Quarantined")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Blocked"), Some("Dropped"))),
            (2, 6, "Dropped")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Blocked"), Some("Failed"))),
            (2, 27, "Error")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Blocked"), None)),
            (2, 2, "Blocked")
        );
        assert_eq!(
            ids(&delivery_outcome(Some("Replaced"), Some("Inbox/folder"))),
            (4, 99, "Replaced")
        );
        assert_eq!(
            ids(&delivery_outcome(
                Some("Delivered"),
                Some("Deleted items folder")
            )),
            (4, 5, "Deleted")
        );
        assert_eq!(ids(&delivery_outcome(None, None)), (0, 0, "Unknown"));
        assert_eq!(
            ids(&delivery_outcome(None, Some("Quarantine"))),
            (2, 3, "Quarantined")
        );
    }

    #[test]
    fn unknown_delivery_action_is_other_with_the_raw_value() {
        let o = delivery_outcome(Some("quarantinedX"), Some("quarantine"));
        assert_eq!((o.action.id, o.action.label.as_str()), (99, "quarantinedX"));
        assert_eq!(
            (o.disposition.id, o.disposition.label.as_str()),
            (99, "quarantinedX")
        );
    }

    #[test]
    fn remediation_overrides_delivery() {
        let zap =
            message_evidence_outcome(Some("delivered"), Some("inbox"), Some("remediated"), None);
        assert_eq!(ids(&zap), (4, 3, "Quarantined"));
        let soft = message_evidence_outcome(
            Some("delivered"),
            Some("inbox"),
            Some("remediated"),
            Some("Soft delete"),
        );
        assert_eq!(ids(&soft), (4, 5, "Deleted"));
        let other = message_evidence_outcome(
            Some("delivered"),
            Some("inbox"),
            Some("remediated"),
            Some("Moved elsewhere"),
        );
        assert_eq!(ids(&other), (4, 99, "remediated"));
        let prevented =
            message_evidence_outcome(Some("delivered"), Some("inbox"), Some("prevented"), None);
        assert_eq!(ids(&prevented), (2, 2, "Blocked"));
        let none = message_evidence_outcome(Some("delivered"), Some("inbox"), Some("none"), None);
        assert_eq!(ids(&none), (1, 1, "Allowed"));
    }

    #[test]
    fn enum_rule_unknown_other_known() {
        assert_eq!(
            alert_severity(None),
            EnumValue {
                id: 0,
                label: "Unknown".into()
            }
        );
        assert_eq!(
            alert_severity(Some("medium")),
            EnumValue {
                id: 3,
                label: "Medium".into()
            }
        );
        assert_eq!(
            alert_severity(Some("unknownFutureValue")),
            EnumValue::other("unknownFutureValue")
        );
        assert_eq!(alert_status(Some("inProgress")).id, 2);
        assert_eq!(
            alert_status(Some("somethingNew")),
            EnumValue::other("somethingNew")
        );
        assert_eq!(
            alert_classification(Some("truePositive")).map(|v| v.id),
            Some(2)
        );
        assert_eq!(alert_classification(Some("unknown")), None);
        assert_eq!(alert_classification(None), None);
        assert_eq!(evidence_verdict(Some("noThreatsFound")).label, "Benign");
        assert_eq!(email_direction(Some("Intra-org")).id, 3);
        assert_eq!(
            email_direction(Some("Sideways")),
            EnumValue::other("Sideways")
        );
        assert_eq!(phish_confidence("High").id, 3);
    }
}
