//! MITRE ATT&CK for Graph alerts: `mitreTechniques` ids split into technique and
//! sub-technique, tactics from the alert `category`, and the names mailtrail knows.
//!
//! Names are a convenience for readers of the output; an id without a known name is still
//! emitted (the `technique` object only needs one of `uid` / `name`).

use serde_json::{Map, Value, json};

use super::enums::norm;

/// The ATT&CK Enterprise tactics, keyed by the spelling of Graph's alert `category`
/// (normalised: `InitialAccess` → `initialaccess`). MDO alerts use the email-relevant ones,
/// but any Defender product may fill `category` with any of them.
const TACTICS: [(&str, &str, &str); 14] = [
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resourcedevelopment", "TA0042", "Resource Development"),
    ("initialaccess", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilegeescalation", "TA0004", "Privilege Escalation"),
    ("defenseevasion", "TA0005", "Defense Evasion"),
    ("credentialaccess", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateralmovement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("commandandcontrol", "TA0011", "Command and Control"),
    ("impact", "TA0040", "Impact"),
];

/// Techniques and sub-techniques seen in email threats, with their ATT&CK names.
const TECHNIQUES: [(&str, &str); 56] = [
    ("T1020", "Automated Exfiltration"),
    ("T1027", "Obfuscated Files or Information"),
    ("T1036", "Masquerading"),
    ("T1048", "Exfiltration Over Alternative Protocol"),
    ("T1059", "Command and Scripting Interpreter"),
    ("T1071", "Application Layer Protocol"),
    ("T1071.003", "Mail Protocols"),
    ("T1078", "Valid Accounts"),
    ("T1078.004", "Cloud Accounts"),
    ("T1098", "Account Manipulation"),
    ("T1098.002", "Additional Email Delegate Permissions"),
    ("T1105", "Ingress Tool Transfer"),
    ("T1110", "Brute Force"),
    ("T1111", "Multi-Factor Authentication Interception"),
    ("T1114", "Email Collection"),
    ("T1114.001", "Local Email Collection"),
    ("T1114.002", "Remote Email Collection"),
    ("T1114.003", "Email Forwarding Rule"),
    ("T1137", "Office Application Startup"),
    ("T1189", "Drive-by Compromise"),
    ("T1199", "Trusted Relationship"),
    ("T1204", "User Execution"),
    ("T1204.001", "Malicious Link"),
    ("T1204.002", "Malicious File"),
    ("T1204.003", "Malicious Image"),
    ("T1486", "Data Encrypted for Impact"),
    ("T1528", "Steal Application Access Token"),
    ("T1534", "Internal Spearphishing"),
    ("T1539", "Steal Web Session Cookie"),
    ("T1557", "Adversary-in-the-Middle"),
    ("T1564", "Hide Artifacts"),
    ("T1564.008", "Email Hiding Rules"),
    ("T1566", "Phishing"),
    ("T1566.001", "Spearphishing Attachment"),
    ("T1566.002", "Spearphishing Link"),
    ("T1566.003", "Spearphishing via Service"),
    ("T1566.004", "Spearphishing Voice"),
    ("T1567", "Exfiltration Over Web Service"),
    ("T1583", "Acquire Infrastructure"),
    ("T1583.001", "Domains"),
    ("T1585", "Establish Accounts"),
    ("T1585.002", "Email Accounts"),
    ("T1586", "Compromise Accounts"),
    ("T1586.002", "Email Accounts"),
    ("T1586.003", "Cloud Accounts"),
    ("T1588", "Obtain Capabilities"),
    ("T1598", "Phishing for Information"),
    ("T1598.001", "Spearphishing Service"),
    ("T1598.002", "Spearphishing Attachment"),
    ("T1598.003", "Spearphishing Link"),
    ("T1598.004", "Spearphishing Voice"),
    ("T1608", "Stage Capabilities"),
    ("T1608.005", "Link Target"),
    ("T1621", "Multi-Factor Authentication Request Generation"),
    ("T1656", "Impersonation"),
    ("T1657", "Financial Theft"),
];

/// The tactic (uid, name) for a Graph alert `category`, if it names one.
pub(crate) fn tactic_for_category(category: &str) -> Option<(&'static str, &'static str)> {
    let key = norm(category);
    TACTICS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, uid, name)| (*uid, *name))
}

fn technique_name(uid: &str) -> Option<&'static str> {
    TECHNIQUES.iter().find(|(u, _)| *u == uid).map(|(_, n)| *n)
}

/// `T1566.002` → (`T1566`, Some(`T1566.002`)); `T1566` → (`T1566`, None); anything that is not
/// an ATT&CK technique id → `None`.
pub(crate) fn split_technique(raw: &str) -> Option<(String, Option<String>)> {
    let id = raw.trim().to_ascii_uppercase();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let body = id.strip_prefix('T')?;
    match body.split_once('.') {
        None if digits(body, 4) => Some((id.clone(), None)),
        Some((tech, sub)) if digits(tech, 4) && digits(sub, 3) => {
            Some((format!("T{tech}"), Some(id.clone())))
        }
        _ => None,
    }
}

fn named(uid: &str, name: Option<&str>) -> Value {
    let mut o = Map::new();
    o.insert("uid".into(), uid.into());
    if let Some(n) = name {
        o.insert("name".into(), n.into());
    }
    Value::Object(o)
}

/// One `attack` object per technique id, each with the alert's tactic; a tactic alone when
/// the category names one but there are no technique ids.
pub(crate) fn attacks(
    techniques: &[(String, Option<String>)],
    tactic: Option<(&str, &str)>,
) -> Vec<Value> {
    let tactic = tactic.map(|(uid, name)| json!({"uid": uid, "name": name}));
    if techniques.is_empty() {
        return tactic
            .map(|t| vec![json!({ "tactic": t })])
            .unwrap_or_default();
    }
    techniques
        .iter()
        .map(|(tech, sub)| {
            let mut a = Map::new();
            if let Some(t) = &tactic {
                a.insert("tactic".into(), t.clone());
            }
            a.insert("technique".into(), named(tech, technique_name(tech)));
            if let Some(sub) = sub {
                a.insert("sub_technique".into(), named(sub, technique_name(sub)));
            }
            Value::Object(a)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sub_techniques() {
        assert_eq!(
            split_technique("T1566.002"),
            Some(("T1566".into(), Some("T1566.002".into())))
        );
        assert_eq!(split_technique("T1566"), Some(("T1566".into(), None)));
        assert_eq!(
            split_technique("t1566.002"),
            Some(("T1566".into(), Some("T1566.002".into())))
        );
        assert_eq!(split_technique("T15"), None);
        assert_eq!(split_technique("T1566.02"), None);
        assert_eq!(split_technique("Phishing"), None);
        assert_eq!(split_technique(""), None);
    }

    #[test]
    fn tactics_from_categories() {
        assert_eq!(
            tactic_for_category("InitialAccess"),
            Some(("TA0001", "Initial Access"))
        );
        assert_eq!(
            tactic_for_category("CommandAndControl"),
            Some(("TA0011", "Command and Control"))
        );
        assert_eq!(
            tactic_for_category("Initial Access"),
            Some(("TA0001", "Initial Access"))
        );
        assert_eq!(tactic_for_category("ThreatManagement"), None);
        assert_eq!(tactic_for_category("Malware"), None);
    }

    #[test]
    fn attack_objects_match_the_worked_example() {
        let techniques = vec![split_technique("T1566.002").unwrap_or_default()];
        let a = attacks(&techniques, tactic_for_category("InitialAccess"));
        assert_eq!(
            a,
            vec![json!({
                "tactic": {"uid": "TA0001", "name": "Initial Access"},
                "technique": {"uid": "T1566", "name": "Phishing"},
                "sub_technique": {"uid": "T1566.002", "name": "Spearphishing Link"}
            })]
        );
        assert_eq!(attacks(&[], None), Vec::<Value>::new());
        assert_eq!(attacks(&[], tactic_for_category("Exfiltration")).len(), 1);
    }
}
