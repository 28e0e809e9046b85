//! The bookkeeping every mapper shares: reading a source record while remembering which of its
//! fields found an OCSF home (so that everything else lands in `unmapped` / `evidences[].data`),
//! parsing Graph timestamps, and deriving the collector's own event ids.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// True for the values that mean "absent" in a source record: `null`, `""`, `[]` and `{}`.
///
/// Graph and the hunting API write unset fields inconsistently (null, empty string, empty
/// collection); none of them carries information, so none is copied to `unmapped`.
pub(crate) fn is_absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A source object being mapped. Each field read with a `take_*` method (or marked with
/// [`Record::consume`]) has an OCSF home; [`Record::leftovers`] returns the rest.
///
/// A field is consumed only once its value has actually been placed, so a value that fails a
/// type check (an IP that is not an IP, a timestamp that does not parse) stays a leftover.
pub(crate) struct Record<'a> {
    fields: Option<&'a Map<String, Value>>,
    consumed: BTreeSet<&'a str>,
}

impl<'a> Record<'a> {
    /// A record over `v`; anything but a JSON object reads as a record with no fields.
    pub(crate) fn new(v: &'a Value) -> Self {
        Record {
            fields: v.as_object(),
            consumed: BTreeSet::new(),
        }
    }

    /// The field's value, unless absent (see [`is_absent`]).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.fields?.get(key).filter(|v| !is_absent(v))
    }

    /// The field's value as the source wrote it, even if empty (without consuming it).
    pub(crate) fn raw(&self, key: &str) -> Option<&'a Value> {
        self.fields?.get(key)
    }

    /// The field as a non-empty string (without consuming it).
    pub(crate) fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_str()
    }

    /// The field as a non-empty string, consumed.
    pub(crate) fn take_str(&mut self, key: &str) -> Option<&'a str> {
        let s = self.str(key)?;
        self.consume(key);
        Some(s)
    }

    /// The field as a non-empty string that passes `check`, consumed only then.
    pub(crate) fn take_str_if(
        &mut self,
        key: &str,
        check: impl Fn(&str) -> bool,
    ) -> Option<&'a str> {
        let s = self.str(key).filter(|s| check(s))?;
        self.consume(key);
        Some(s)
    }

    /// The field parsed as a timestamp (epoch ms), consumed only if it parses.
    pub(crate) fn take_time(&mut self, key: &str) -> Option<i64> {
        let ms = parse_time_ms(self.str(key)?)?;
        self.consume(key);
        Some(ms)
    }

    /// An identifier field: a non-empty string, or a number written as one (Graph and the
    /// hunting API write ids as strings, but a number must not lose the value), consumed.
    pub(crate) fn take_id(&mut self, key: &str) -> Option<String> {
        let v = match self.get(key)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        self.consume(key);
        Some(v)
    }

    /// Marks a field as mapped.
    pub(crate) fn consume(&mut self, key: &str) {
        if let Some((k, _)) = self.fields.and_then(|f| f.get_key_value(key)) {
            self.consumed.insert(k.as_str());
        }
    }

    /// The fields that were not consumed and are not absent, in source order of keys.
    pub(crate) fn leftovers(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in self.fields.into_iter().flatten() {
            if !self.consumed.contains(k.as_str()) && !is_absent(v) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

/// Inserts `key: value` unless the value is `None`.
pub(crate) fn put_opt<V: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<V>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v.into());
    }
}

/// Inserts `key: value`.
pub(crate) fn put<V: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: V) {
    map.insert(key.to_owned(), value.into());
}

/// Sets `key` to `value` if it is unset or already equal; false when another value is there
/// (the caller then keeps the source field as a leftover rather than lose it).
pub(crate) fn put_agreeing(map: &mut Map<String, Value>, key: &str, value: &str) -> bool {
    match map.get(key) {
        None => {
            put(map, key, value);
            true
        }
        Some(existing) => existing.as_str() == Some(value),
    }
}

/// Parses a Graph / advanced-hunting timestamp into epoch milliseconds.
///
/// Graph writes up to seven fractional digits (`2026-05-04T09:12:41.3366667Z`); the extra
/// precision is truncated, not rounded, so the millisecond is the one the source lies in. A time
/// without an offset is taken as UTC (both APIs only return UTC).
pub fn parse_time_ms(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

/// A UUID-shaped identifier derived from `parts`: the first 16 bytes of SHA-256 over the
/// length-prefixed parts, with the RFC 9562 version-8 ("custom") and variant bits set.
///
/// Deterministic, so re-collecting the same source version yields the same `metadata.uid`.
pub fn derive_event_uid(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for p in parts {
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        hash.update((p.len() as u64).to_be_bytes());
        hash.update(p.as_bytes());
    }
    let digest = hash.finalize();
    let mut b = [0u8; 16];
    for (dst, src) in b.iter_mut().zip(digest.iter()) {
        *dst = *src;
    }
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `metadata.uid` of the Detection Finding for one version of an alert: the alert's identity
/// (tenant, id) plus the version (`lastUpdateDateTime`, raw string as Graph sent it).
pub fn alert_event_uid(tenant: &str, alert_id: &str, last_update: &str) -> String {
    derive_event_uid(&["mailtrail/alert", tenant, alert_id, last_update])
}

/// `metadata.uid` of the Email Activity for one EmailEvents row: the row's natural identity
/// (tenant, NetworkMessageId, RecipientEmailAddress), the same key the store de-duplicates on.
pub fn email_event_uid(tenant: &str, network_message_id: &str, recipient: &str) -> String {
    derive_event_uid(&["mailtrail/email", tenant, network_message_id, recipient])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_times_truncate_to_the_millisecond() {
        assert_eq!(
            parse_time_ms("2026-05-04T09:12:41.3366667Z"),
            Some(1_777_885_961_336)
        );
        assert_eq!(
            parse_time_ms("2026-05-04T10:17:41.873Z"),
            Some(1_777_889_861_873)
        );
        assert_eq!(
            parse_time_ms("2026-05-04T10:17:41Z"),
            Some(1_777_889_861_000)
        );
        assert_eq!(
            parse_time_ms("2026-05-04T12:17:41.873+02:00"),
            Some(1_777_889_861_873)
        );
        assert_eq!(
            parse_time_ms("2026-05-04T10:17:41.8730000"),
            Some(1_777_889_861_873)
        );
        assert_eq!(
            parse_time_ms("2026-05-04 10:17:41.873"),
            Some(1_777_889_861_873)
        );
        assert_eq!(parse_time_ms("yesterday"), None);
        assert_eq!(parse_time_ms("2026-13-04T10:17:41Z"), None);
        assert_eq!(parse_time_ms(""), None);
    }

    #[test]
    fn event_uids_are_deterministic_uuid_shaped_and_distinct() {
        let a = alert_event_uid("contoso", "fa1", "2026-05-04T09:14:03.21Z");
        assert_eq!(
            a,
            alert_event_uid("contoso", "fa1", "2026-05-04T09:14:03.21Z")
        );
        assert_ne!(
            a,
            alert_event_uid("contoso", "fa1", "2026-05-04T09:14:03.22Z")
        );
        assert_ne!(
            derive_event_uid(&["ab", "c"]),
            derive_event_uid(&["a", "bc"])
        );
        assert!(crate::ocsf::types::is_uuid_t(&a));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn leftovers_skip_consumed_and_absent_fields() {
        let v = json!({"a": "x", "b": "", "c": null, "d": [], "e": {}, "f": 0, "g": "keep"});
        let mut r = Record::new(&v);
        assert_eq!(r.take_str("a"), Some("x"));
        assert_eq!(r.take_str("b"), None);
        let left = r.leftovers();
        assert_eq!(Value::Object(left), json!({"f": 0, "g": "keep"}));
    }

    #[test]
    fn failed_checks_leave_the_field_unconsumed() {
        let v = json!({"ip": "not-an-ip", "t": "garbage"});
        let mut r = Record::new(&v);
        assert_eq!(r.take_str_if("ip", crate::ocsf::types::is_ip_t), None);
        assert_eq!(r.take_time("t"), None);
        assert_eq!(r.leftovers().len(), 2);
        let not_an_object = json!([1, 2]);
        assert!(Record::new(&not_an_object).leftovers().is_empty());
    }
}
