//! Reading one import file: the format is told from the content (not the name), records are
//! streamed one at a time to a [`RecordSink`], and anything malformed stops the read with its
//! position (JSON: line and column from serde_json; CSV: the record's first line).
//!
//! Formats: an `alerts_v2` page (`{"value": [...]}`, `@odata.*` keys ignored), one alert, an
//! array of alerts, NDJSON (or concatenated JSON) of alerts or pages, a `runHuntingQuery`
//! response (`schema` + `results`, keys in either case), and CSV with a header row of
//! EmailEvents columns (the Defender portal's advanced hunting export).

use std::fmt;
use std::io::{BufRead, Read};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::store::alerts::parse_graph_time;
use crate::store::sync::format_ns;

/// Where a file went wrong and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// "line 3, column 17", "line 12", or empty when the whole file is at fault.
    pub position: String,
    pub reason: String,
}

impl Refusal {
    pub fn whole(reason: impl Into<String>) -> Self {
        Refusal {
            position: String::new(),
            reason: reason.into(),
        }
    }

    fn at_line(line: u64, reason: impl Into<String>) -> Self {
        Refusal {
            position: format!("line {line}"),
            reason: reason.into(),
        }
    }

    fn from_json(e: &serde_json::Error) -> Self {
        if e.is_io() {
            return Refusal::whole(format!("cannot read it: {e}"));
        }
        let text = e.to_string();
        if e.line() == 0 {
            return Refusal::whole(text);
        }
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let reason = text.strip_suffix(&suffix).unwrap_or(&text);
        Refusal {
            position: format!("line {}, column {}", e.line(), e.column()),
            reason: if e.is_eof() {
                // serde's "EOF while parsing an object": say what it means for a file.
                "the JSON ends early (a truncated or partly copied file?); fix: export or copy it again".into()
            } else {
                reason.to_string()
            },
        }
    }
}

/// Which kind of record a file holds; one file holds one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alerts,
    EmailEvents,
}

/// What the records of a file arrive as (for the summary).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shape {
    pub pages: u64,
    pub single_alerts: u64,
    pub arrays: u64,
    pub hunting: u64,
    pub csv: bool,
}

impl Shape {
    pub fn label(&self) -> String {
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                one.to_string()
            } else {
                format!("{n} {many}")
            }
        };
        if self.csv {
            return "CSV (EmailEvents)".into();
        }
        if self.hunting > 0 {
            return plural(self.hunting, "hunting response", "hunting responses");
        }
        let mut parts = Vec::new();
        if self.pages > 0 {
            parts.push(plural(self.pages, "alerts_v2 page", "alerts_v2 pages"));
        }
        if self.arrays > 0 {
            parts.push(plural(self.arrays, "alerts array", "alerts arrays"));
        }
        match self.single_alerts {
            0 => {}
            1 if parts.is_empty() => parts.push("alert".into()),
            n => parts.push(format!("{n} NDJSON alerts")),
        }
        if parts.is_empty() {
            "empty JSON".into()
        } else {
            parts.join(" + ")
        }
    }
}

/// The compact form of valid JSON text, as Graph sends it: whitespace outside strings removed
/// (key order and string escapes kept), so a pretty-printed copy de-duplicates against what a
/// sync stored. Compact input comes back as it is, without copying.
pub fn compact(raw: Box<RawValue>) -> Box<RawValue> {
    let text = raw.get();
    let mut in_string = false;
    let mut escaped = false;
    let needs = text.bytes().any(|b| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            false
        } else {
            if b == b'"' {
                in_string = true;
            }
            b.is_ascii_whitespace()
        }
    });
    if !needs {
        return raw;
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            if c == '"' {
                in_string = true;
            }
            out.push(c);
        }
    }
    RawValue::from_string(out).unwrap_or(raw)
}

/// Receives a file's records in order. An `Err` stops the read; it is reported at the
/// reader's position.
pub trait RecordSink {
    fn alert(&mut self, raw: Box<RawValue>) -> Result<(), String>;
    fn email_event(&mut self, raw: Box<RawValue>) -> Result<(), String>;
}

/// What an import accepts, as the fix for a file that is none of it.
const ACCEPTED: &str =
    "give an alerts_v2 response, a runHuntingQuery response or an EmailEvents CSV export";

/// The JSON shapes an import accepts, for a JSON value that is none of them.
const JSON_SHAPES: &str = "an alerts_v2 page ({\"value\": [alerts]}), one alert (an object with \"id\"), an array of alerts, NDJSON of those, or a runHuntingQuery response ({\"schema\": …, \"results\": […]})";

/// Keys that mark an object as an alert (one with faults of its own) rather than as JSON of
/// another kind.
const ALERT_KEYS: &[&str] = &[
    "id",
    "lastUpdateDateTime",
    "createdDateTime",
    "serviceSource",
    "detectionSource",
    "title",
    "severity",
    "status",
    "evidence",
    "tenantId",
];

/// Reads a whole file into `sink`, returning how it was shaped.
pub fn read<R: BufRead>(mut input: R, sink: &mut dyn RecordSink) -> Result<Shape, Refusal> {
    let first = loop {
        let buf = input
            .fill_buf()
            .map_err(|e| Refusal::whole(format!("cannot read it: {e}")))?;
        if buf.is_empty() {
            return Err(Refusal::whole(format!(
                "the file is empty; fix: {ACCEPTED}"
            )));
        }
        if buf.starts_with(b"\xEF\xBB\xBF") {
            input.consume(3);
            continue;
        }
        // Control bytes (a PNG, a zip, an xlsx) mean no text at all, whatever the encoding.
        if buf
            .iter()
            .take(4096)
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        {
            return Err(Refusal::whole(format!(
                "not a JSON or CSV file (binary data); fix: {ACCEPTED}"
            )));
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break buf[i],
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    match first {
        b'{' | b'[' => read_json(input, sink),
        _ => read_csv(input, sink),
    }
}

struct JsonState<'s> {
    sink: &'s mut dyn RecordSink,
    shape: Shape,
    kind: Option<Kind>,
}

impl JsonState<'_> {
    fn kind(&mut self, k: Kind) -> Result<(), String> {
        match self.kind {
            Some(old) if old != k => Err(
                "the file mixes alerts and hunting results; fix: put each kind in its own file"
                    .into(),
            ),
            _ => {
                self.kind = Some(k);
                Ok(())
            }
        }
    }
}

fn read_json<R: Read>(input: R, sink: &mut dyn RecordSink) -> Result<Shape, Refusal> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut state = JsonState {
        sink,
        shape: Shape::default(),
        kind: None,
    };
    loop {
        TopLevel(&mut state)
            .deserialize(&mut de)
            .map_err(|e| Refusal::from_json(&e))?;
        // Whitespace only after the value: done; anything else is the next NDJSON value.
        if de.end().is_ok() {
            break;
        }
    }
    Ok(state.shape)
}

/// One top-level JSON value: a page, a hunting response, an alert, or an array of alerts.
struct TopLevel<'a, 's>(&'a mut JsonState<'s>);

impl<'de> DeserializeSeed<'de> for TopLevel<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "an alerts_v2 page, an alert, an array of alerts, or a runHuntingQuery response",
        )
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let state = self.0;
        state.kind(Kind::Alerts).map_err(de::Error::custom)?;
        state.shape.arrays += 1;
        Elements {
            sink: &mut *state.sink,
            what: "alert",
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let mut container: Option<Kind> = None;
        // The keys of what may be a single alert, kept in order to rebuild it.
        let mut fields: Vec<(String, Box<RawValue>)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => {
                    state.kind(Kind::Alerts).map_err(de::Error::custom)?;
                    if container == Some(Kind::EmailEvents) {
                        return Err(de::Error::custom(MIXED_OBJECT));
                    }
                    container = Some(Kind::Alerts);
                    map.next_value_seed(Elements {
                        sink: &mut *state.sink,
                        what: "alert",
                    })?;
                }
                "schema" | "Schema" | "results" | "Results" => {
                    state.kind(Kind::EmailEvents).map_err(de::Error::custom)?;
                    if container == Some(Kind::Alerts) {
                        return Err(de::Error::custom(MIXED_OBJECT));
                    }
                    container = Some(Kind::EmailEvents);
                    if key.eq_ignore_ascii_case("schema") {
                        let columns: Vec<SchemaColumn> = map.next_value()?;
                        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                        check_email_columns(&names).map_err(de::Error::custom)?;
                    } else {
                        map.next_value_seed(Elements {
                            sink: &mut *state.sink,
                            what: "row",
                        })?;
                    }
                }
                // Metadata of a response (a single GET carries it), not of the alert.
                "@odata.context" => {
                    map.next_value::<IgnoredAny>()?;
                }
                // Paging (`@odata.nextLink`, `@odata.count`) and anything else beside the data.
                _ if container.is_some() => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => fields.push((key, map.next_value()?)),
            }
        }
        match container {
            Some(Kind::Alerts) => state.shape.pages += 1,
            Some(Kind::EmailEvents) => state.shape.hunting += 1,
            None => {
                state.kind(Kind::Alerts).map_err(de::Error::custom)?;
                // Not one key of an alert: the object is something else altogether.
                if !fields.iter().any(|(k, _)| ALERT_KEYS.contains(&k.as_str())) {
                    return Err(de::Error::custom(format!(
                        "this JSON object is none of the accepted shapes: {JSON_SHAPES}"
                    )));
                }
                state.shape.single_alerts += 1;
                let mut text = String::from("{");
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    text.push_str(&serde_json::to_string(k).map_err(de::Error::custom)?);
                    text.push(':');
                    text.push_str(v.get());
                }
                text.push('}');
                let raw = compact(RawValue::from_string(text).map_err(de::Error::custom)?);
                state.sink.alert(raw).map_err(de::Error::custom)?;
            }
        }
        Ok(())
    }
}

const MIXED_OBJECT: &str =
    "one object has both an alerts_v2 `value` and hunting `schema`/`results`";

#[derive(Deserialize)]
struct SchemaColumn {
    #[serde(alias = "Name")]
    name: String,
}

/// The elements of a JSON array, each handed to the sink as raw JSON.
struct Elements<'a> {
    sink: &'a mut dyn RecordSink,
    what: &'static str,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of {}s", self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Counted from 1, as a person counts them ("alert #2" is the second).
        let mut i = 1usize;
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            let raw = compact(raw);
            let outcome = if self.what == "row" {
                self.sink.email_event(raw)
            } else {
                self.sink.alert(raw)
            };
            outcome.map_err(|e| de::Error::custom(format!("{} #{i}: {e}", self.what)))?;
            i += 1;
        }
        Ok(())
    }
}

/// The columns every EmailEvents row needs: its identity and its time.
pub const REQUIRED_COLUMNS: &[&str] = &["Timestamp", "NetworkMessageId", "RecipientEmailAddress"];

/// Columns of the other email tables that EmailEvents does not have: their presence means the
/// data is another table's (EmailUrlInfo, EmailAttachmentInfo, EmailPostDeliveryEvents,
/// UrlClickEvents), even though those share the identity columns.
const OTHER_TABLES_COLUMNS: &[&str] = &[
    "Url",
    "UrlDomain",
    "UrlLocation",
    "FileName",
    "FileType",
    "SHA256",
    "FileSize",
    "Action",
    "ActionType",
    "ActionTrigger",
    "ActionResult",
    "ClickAllowed",
    "IsClickedThrough",
];

/// Whether a result's columns are EmailEvents'. Unknown columns are tolerated (Microsoft adds
/// columns over time; the raw row keeps them).
pub fn check_email_columns(names: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|c| !names.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "not EmailEvents: no column {} (EmailEvents rows need {}); fix: export EmailEvents with these columns",
            missing.join(", "),
            REQUIRED_COLUMNS.join(", ")
        ));
    }
    if let Some(other) = names.iter().find(|c| OTHER_TABLES_COLUMNS.contains(c)) {
        return Err(format!(
            "not EmailEvents: column {other} belongs to another table (EmailUrlInfo, EmailAttachmentInfo, EmailPostDeliveryEvents…); fix: import EmailEvents results only"
        ));
    }
    Ok(())
}

/// EmailEvents columns advanced hunting types as numbers (int or long).
const NUMBER_COLUMNS: &[&str] = &[
    "EmailClusterId",
    "BulkComplaintLevel",
    "AttachmentCount",
    "UrlCount",
];

/// A time as the portal exports it, to epoch ns. Advanced hunting works in UTC, so a time
/// without an offset is UTC. Accepted: ISO 8601 / RFC 3339 (`T` or space, up to 7 fraction
/// digits, `Z` or an offset or none), `11/20/2026 10:00:00 AM` and `Nov 20, 2026 10:00:00 AM`
/// (with optional fractions).
pub fn parse_export_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ns) = parse_graph_time(s) {
        return Some(ns);
    }
    let naive_formats = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%m/%d/%Y %I:%M:%S%.f %p",
        "%m/%d/%Y, %I:%M:%S%.f %p",
        "%b %d, %Y %I:%M:%S%.f %p",
        "%b %d %Y %I:%M:%S%.f %p",
    ];
    let bare = s.trim_end_matches(['Z', 'z']).trim_end();
    naive_formats.iter().find_map(|f| {
        chrono::NaiveDateTime::parse_from_str(bare, f)
            .ok()
            .and_then(|t| t.and_utc().timestamp_nanos_opt())
    })
}

/// One RFC 4180 record: its fields and the line it starts on. `None` at the end of input.
struct CsvReader<R> {
    input: R,
    line: u64,
}

impl<R: BufRead> CsvReader<R> {
    fn next_byte(&mut self) -> Result<Option<u8>, Refusal> {
        let buf = self
            .input
            .fill_buf()
            .map_err(|e| Refusal::whole(format!("cannot read it: {e}")))?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.input.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    fn peek(&mut self) -> Result<Option<u8>, Refusal> {
        let buf = self
            .input
            .fill_buf()
            .map_err(|e| Refusal::whole(format!("cannot read it: {e}")))?;
        Ok(buf.first().copied())
    }

    fn record(&mut self) -> Result<Option<(u64, Vec<String>)>, Refusal> {
        if self.peek()?.is_none() {
            return Ok(None);
        }
        let start = self.line;
        let mut fields = Vec::new();
        let mut field: Vec<u8> = Vec::new();
        let mut quoted = false;
        let finish = |field: &mut Vec<u8>, line: u64| {
            String::from_utf8(std::mem::take(field))
                .map_err(|_| Refusal::at_line(line, "not UTF-8 text; fix: export the CSV as UTF-8"))
        };
        loop {
            let b = self.next_byte()?;
            if quoted {
                match b {
                    None => {
                        return Err(Refusal::at_line(
                            start,
                            "a quoted field that starts in this record is never closed (truncated file?)",
                        ));
                    }
                    Some(b'"') if self.peek()? == Some(b'"') => {
                        self.next_byte()?;
                        field.push(b'"');
                    }
                    Some(b'"') => {
                        quoted = false;
                        match self.peek()? {
                            None | Some(b',' | b'\n' | b'\r') => {}
                            Some(_) => {
                                return Err(Refusal::at_line(
                                    self.line,
                                    "text after the closing quote of a field",
                                ));
                            }
                        }
                    }
                    Some(b) => field.push(b),
                }
                continue;
            }
            match b {
                Some(b'"') if field.is_empty() => quoted = true,
                Some(b'"') => {
                    return Err(Refusal::at_line(
                        self.line,
                        "a quote inside an unquoted field (fields with quotes must be quoted, RFC 4180)",
                    ));
                }
                Some(b',') => fields.push(finish(&mut field, start)?),
                Some(b'\r') if self.peek()? == Some(b'\n') => {}
                Some(b'\n') | None => {
                    fields.push(finish(&mut field, start)?);
                    return Ok(Some((start, fields)));
                }
                Some(b) => field.push(b),
            }
        }
    }
}

fn read_csv<R: BufRead>(input: R, sink: &mut dyn RecordSink) -> Result<Shape, Refusal> {
    let mut csv = CsvReader { input, line: 1 };
    let Some((_, header)) = csv.record()? else {
        return Err(Refusal::whole("the file is empty"));
    };
    let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
    if !REQUIRED_COLUMNS.iter().all(|c| names.contains(c)) {
        return Err(Refusal::at_line(
            1,
            format!(
                "neither JSON nor a CSV with EmailEvents columns (the header needs {}); fix: give an alerts_v2 response, a runHuntingQuery response or the portal's CSV export of EmailEvents",
                REQUIRED_COLUMNS.join(", ")
            ),
        ));
    }
    check_email_columns(&names).map_err(|r| Refusal::at_line(1, r))?;
    if let Some(dup) = names
        .iter()
        .enumerate()
        .find(|(i, n)| names[..*i].contains(n))
    {
        return Err(Refusal::at_line(
            1,
            format!("column {} appears twice", dup.1),
        ));
    }
    let keys: Vec<String> = names
        .iter()
        .map(|n| serde_json::to_string(n).unwrap_or_default())
        .collect();
    while let Some((line, fields)) = csv.record()? {
        if fields.len() == 1 && fields[0].is_empty() {
            continue; // a blank line
        }
        if fields.len() != names.len() {
            return Err(Refusal::at_line(
                line,
                format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    names.len()
                ),
            ));
        }
        let mut json = String::with_capacity(64 * fields.len());
        json.push('{');
        for (i, value) in fields.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&keys[i]);
            json.push(':');
            let name = names[i];
            if name == "Timestamp" {
                let ns = parse_export_time(value).ok_or_else(|| {
                    Refusal::at_line(
                        line,
                        format!(
                            "Timestamp {value:?} is not a time (expected e.g. 2026-11-20T10:00:00.1234567Z or Nov 20, 2026 10:00:00 AM, UTC)"
                        ),
                    )
                })?;
                json.push('"');
                json.push_str(&format_ns(ns));
                json.push('"');
            } else if NUMBER_COLUMNS.contains(&name) {
                if value.trim().is_empty() {
                    json.push_str("null");
                } else {
                    let n: i64 = value.trim().parse().map_err(|_| {
                        Refusal::at_line(line, format!("{name} {value:?} is not a whole number"))
                    })?;
                    json.push_str(&n.to_string());
                }
            } else {
                // Kusto strings are never null: an empty cell is the empty string.
                json.push_str(&serde_json::to_string(value).unwrap_or_default());
            }
        }
        json.push('}');
        let raw = RawValue::from_string(json)
            .map_err(|e| Refusal::at_line(line, format!("cannot be turned into a row: {e}")))?;
        sink.email_event(raw)
            .map_err(|reason| Refusal::at_line(line, reason))?;
    }
    Ok(Shape {
        csv: true,
        ..Shape::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        alerts: Vec<String>,
        rows: Vec<String>,
    }

    impl RecordSink for Collect {
        fn alert(&mut self, raw: Box<RawValue>) -> Result<(), String> {
            self.alerts.push(raw.get().to_string());
            Ok(())
        }
        fn email_event(&mut self, raw: Box<RawValue>) -> Result<(), String> {
            self.rows.push(raw.get().to_string());
            Ok(())
        }
    }

    fn read_str(s: &str) -> Result<(Shape, Collect), Refusal> {
        let mut c = Collect::default();
        let shape = read(s.as_bytes(), &mut c)?;
        Ok((shape, c))
    }

    #[test]
    fn formats_are_told_from_the_content() {
        let (shape, c) = read_str(
            r#"{"@odata.context":"x","value":[{"id":"a"},{"id":"b"}],"@odata.nextLink":"y"}"#,
        )
        .unwrap();
        assert_eq!(
            (shape.label().as_str(), c.alerts.len()),
            ("alerts_v2 page", 2)
        );

        let (shape, c) =
            read_str("{\"@odata.context\":\"x\",\"id\":\"a\",\n  \"title\": \"t\"}").unwrap();
        assert_eq!(shape.label(), "alert");
        assert_eq!(c.alerts, vec![r#"{"id":"a","title":"t"}"#]);

        let (shape, c) = read_str("{\"id\":\"a\"}\n{\"id\":\"b\"}\n").unwrap();
        assert_eq!(
            (shape.label().as_str(), c.alerts.len()),
            ("2 NDJSON alerts", 2)
        );

        let (shape, c) = read_str(
            r#"{"Schema":[{"Name":"Timestamp","Type":"DateTime"},{"Name":"NetworkMessageId"},{"Name":"RecipientEmailAddress"}],"Results":[{"Timestamp":"t"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (shape.label().as_str(), c.rows.len()),
            ("hunting response", 1)
        );

        let (shape, c) = read_str(
            "\u{feff}Timestamp,NetworkMessageId,RecipientEmailAddress,Subject,UrlCount\r\n\"Nov 20, 2026 10:00:00 AM\",m1,a@x.com,\"two\nlines, \"\"quoted\"\"\",\r\n",
        )
        .unwrap();
        assert!(shape.csv);
        assert_eq!(
            c.rows,
            vec![
                r#"{"Timestamp":"2026-11-20T10:00:00.0000000Z","NetworkMessageId":"m1","RecipientEmailAddress":"a@x.com","Subject":"two\nlines, \"quoted\"","UrlCount":null}"#
            ]
        );
    }

    #[test]
    fn refusals_carry_their_position() {
        let e = read_str("{\"value\":[{\"id\":\"a\"},\n{\"id\":")
            .err()
            .unwrap();
        assert!(e.position.starts_with("line 2, column"), "{e:?}");
        assert!(e.reason.contains("the JSON ends early"), "{e:?}");

        let e = read_str("{\"id\":\"a\"}\n{\"schema\":[],\"results\":[]}")
            .err()
            .unwrap();
        assert!(e.reason.contains("mixes alerts and hunting"), "{e:?}");
        assert!(e.position.starts_with("line 2"), "{e:?}");

        let e = read_str("Timestamp,NetworkMessageId,RecipientEmailAddress\n2026-11-20T10:00:00Z,m,a\nyesterday,m,b\n")
            .err()
            .unwrap();
        assert_eq!(e.position, "line 3");
        assert!(e.reason.contains("\"yesterday\" is not a time"), "{e:?}");

        let e = read_str("Timestamp,NetworkMessageId,RecipientEmailAddress,Url\n")
            .err()
            .unwrap();
        assert!(
            e.reason.contains("column Url belongs to another table"),
            "{e:?}"
        );

        let e = read_str("Timestamp,NetworkMessageId\n").err().unwrap();
        assert!(e.reason.contains("EmailEvents"), "{e:?}");

        let e = read_str("Timestamp,NetworkMessageId,RecipientEmailAddress\n\"2026-11-20,m,a\n")
            .err()
            .unwrap();
        assert!(e.reason.contains("never closed"), "{e:?}");

        let e =
            read_str("Timestamp,NetworkMessageId,RecipientEmailAddress\n2026-11-20T10:00:00Z,m\n")
                .err()
                .unwrap();
        assert_eq!(e.position, "line 2");
        assert!(
            e.reason.contains("2 fields where the header has 3"),
            "{e:?}"
        );

        assert!(read_str("  \n").is_err());
        assert!(read_str("\"text\"").is_err());
    }

    #[test]
    fn pretty_json_is_stored_compact() {
        let raw =
            RawValue::from_string("{ \"a\" : [1, 2],\n \"b\": \"x  y\\\" z\" }".into()).unwrap();
        assert_eq!(compact(raw).get(), r#"{"a":[1,2],"b":"x  y\" z"}"#);
        let (_, c) = read_str("{\n  \"value\": [ { \"id\": \"a b\" } ]\n}").unwrap();
        assert_eq!(c.alerts, vec![r#"{"id":"a b"}"#]);
    }

    #[test]
    fn portal_times_parse_as_utc() {
        let iso = parse_export_time("2026-11-20T10:00:00.1234567Z").unwrap();
        assert_eq!(
            parse_export_time("2026-11-20 10:00:00.1234567").unwrap(),
            iso
        );
        let whole = parse_export_time("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(parse_export_time("Nov 20, 2026 10:00:00 AM"), Some(whole));
        assert_eq!(parse_export_time("11/20/2026 10:00:00 AM"), Some(whole));
        assert_eq!(
            parse_export_time("11/20/2026 10:00:00 PM"),
            Some(whole + 12 * 3_600_000_000_000)
        );
        assert_eq!(parse_export_time("20.11.2026 10:00"), None);
    }
}
