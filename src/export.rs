//! `mailtrail export`: the stored OCSF events, streamed from the store with constant memory —
//! NDJSON (default) or one JSON array — to stdout or atomically to a file (temp file + rename).
//! By default one Detection Finding per alert in its current state; `--all-versions` gives every
//! stored version (Create, Update…, Close). `--raw` attaches the source record as `raw_data`.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::Failure;
use crate::cli::{ExportArgs, ExportClass, ExportFormat, GlobalOpts};
use crate::config::{self, LoadOptions};
use crate::store::Store;
use crate::store::notes::{Annotation, AnnotationJson};

/// A time bound: RFC 3339, or a duration back from now (`24h`, `7d`).
pub fn parse_time_bound(
    flag: &str,
    value: &str,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Failure> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    match crate::duration::parse_duration(value) {
        Ok(d) => Ok(now - chrono::Duration::from_std(d).unwrap_or_default()),
        Err(_) => Err(Failure::usage(format!(
            "{flag} '{value}' is neither an RFC 3339 time (2026-11-01T00:00:00Z) nor a duration back from now (24h, 7d)"
        ))),
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub findings: bool,
    pub emails: bool,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub tenant: Option<String>,
    pub all_versions: bool,
    pub raw: bool,
    pub json_array: bool,
}

/// Counts of what was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExportCounts {
    pub findings: u64,
    pub emails: u64,
}

/// Appends `"raw_data": <raw as a JSON string>` to a serialized event object.
fn with_raw(event: &str, raw: &str) -> String {
    let body = event.trim_end();
    let body = body.strip_suffix('}').unwrap_or(body);
    let raw = serde_json::to_string(raw).unwrap_or_else(|_| "\"\"".into());
    format!("{body},\"raw_data\":{raw}}}")
}

/// Adds the analyst's annotations as `unmapped.mailtrail.notes` (OCSF has no attribute for
/// them; `unmapped` is where a producer's own data goes).
pub(crate) fn with_notes(event: &str, notes: &[&Annotation]) -> String {
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(event) else {
        return event.to_string();
    };
    let items: Vec<AnnotationJson<'_>> = notes.iter().map(|a| AnnotationJson::from(*a)).collect();
    let unmapped = map
        .entry("unmapped")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    if let serde_json::Value::Object(u) = unmapped {
        u.insert(
            "mailtrail".into(),
            serde_json::json!({ "notes": serde_json::to_value(items).unwrap_or_default() }),
        );
    }
    serde_json::Value::Object(map).to_string()
}

/// Writes the requested events to `out`; `tick` is called every few thousand events.
pub fn write_events(
    store: &Store,
    req: &ExportRequest,
    out: &mut dyn Write,
    tick: &mut dyn FnMut(u64),
) -> Result<ExportCounts, Failure> {
    let mut counts = ExportCounts::default();
    let since = req.since_ms.unwrap_or(i64::MIN);
    let until = req.until_ms.unwrap_or(i64::MAX);
    let tenant = req.tenant.clone();
    let io_err = |e: std::io::Error| Failure::output("the export", e);
    let mut first = true;
    if req.json_array {
        out.write_all(b"[").map_err(io_err)?;
    }
    let mut emit = |event: &str, out: &mut dyn Write| -> Result<(), Failure> {
        if req.json_array {
            out.write_all(if first { b"\n" } else { b",\n" })
                .map_err(io_err)?;
        }
        first = false;
        out.write_all(event.as_bytes()).map_err(io_err)?;
        if !req.json_array {
            out.write_all(b"\n").map_err(io_err)?;
        }
        Ok(())
    };
    // Analyst notes are few: read them once, look each event up in memory.
    let notes = store.note_index()?;
    // One query per class, each streamed row by row: (event, raw source when --raw, then the
    // keys notes attach by: tenant, alert id or NetworkMessageId, recipient).
    let mut queries: Vec<(String, bool)> = Vec::new();
    if req.findings {
        let current = if req.all_versions {
            ""
        } else {
            "JOIN alerts a ON a.tenant = f.tenant AND a.id = f.alert_id AND a.last_update_ns = f.last_update_ns"
        };
        queries.push((
            format!(
                "SELECT f.event, CASE WHEN ?4 THEN v.raw END, f.tenant, f.alert_id, NULL FROM ocsf_findings f {current}
                 LEFT JOIN alert_versions v ON ?4 AND v.tenant = f.tenant AND v.id = f.alert_id AND v.last_update_ns = f.last_update_ns
                 WHERE f.time_ms >= ?1 AND f.time_ms < ?2 AND (?3 IS NULL OR f.tenant = ?3)
                 ORDER BY f.time_ms, f.tenant, f.alert_id, f.last_update_ns"
            ),
            true,
        ));
    }
    if req.emails {
        queries.push((
            "SELECT o.event, CASE WHEN ?4 THEN e.raw END, e.tenant, e.network_message_id, e.recipient
             FROM email_events e JOIN ocsf_email o ON o.event_rowid = e.rowid
             WHERE e.timestamp_ms >= ?1 AND e.timestamp_ms < ?2 AND (?3 IS NULL OR e.tenant = ?3)
             ORDER BY e.timestamp_ms, e.rowid"
                .to_string(),
            false,
        ));
    }
    let db = |e: rusqlite::Error| Failure::from(store.err(e));
    for (sql, findings) in queries {
        let mut stmt = store.conn().prepare(&sql).map_err(db)?;
        let mut rows = stmt
            .query(params![since, until, tenant, req.raw])
            .map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let mut event: String = row.get(0).map_err(db)?;
            if !notes.is_empty() {
                let tenant = row.get_ref(2).map_err(db)?.as_str().unwrap_or_default();
                let id = row.get_ref(3).map_err(db)?.as_str().unwrap_or_default();
                let found: Vec<&Annotation> = if findings {
                    notes.threat(tenant, id).into_iter().collect()
                } else {
                    let recipient = row.get_ref(4).map_err(db)?.as_str().unwrap_or_default();
                    notes.message(tenant, id, recipient)
                };
                if !found.is_empty() {
                    event = with_notes(&event, &found);
                }
            }
            match row.get::<_, Option<String>>(1).map_err(db)? {
                Some(raw) => emit(&with_raw(&event, &raw), out)?,
                None => emit(&event, out)?,
            }
            if findings {
                counts.findings += 1;
            } else {
                counts.emails += 1;
            }
            if (counts.findings + counts.emails) % 4096 == 0 {
                tick(counts.findings + counts.emails);
            }
        }
    }
    if req.json_array {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })
            .map_err(io_err)?;
    }
    out.flush().map_err(io_err)?;
    Ok(counts)
}

/// The temp file beside `target` that an atomic write goes through.
fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    target.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// `mailtrail export`.
pub fn run(global: &GlobalOpts, args: &ExportArgs) -> Result<(), Failure> {
    let cfg = config::load(&LoadOptions::from_process(global))?;
    let now = Utc::now();
    let since = args
        .since
        .as_deref()
        .map(|v| parse_time_bound("--since", v, now))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|v| parse_time_bound("--until", v, now))
        .transpose()?;
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(Failure::usage("--since must be before --until"));
    }
    let req = ExportRequest {
        findings: matches!(args.class, ExportClass::DetectionFinding | ExportClass::All),
        emails: matches!(args.class, ExportClass::EmailActivity | ExportClass::All),
        since_ms: since.map(|t| t.timestamp_millis()),
        until_ms: until.map(|t| t.timestamp_millis()),
        tenant: args.tenant.clone(),
        all_versions: args.all_versions,
        raw: args.raw,
        json_array: args.format == ExportFormat::Json,
    };
    let store = Store::open_read_only(&cfg.store.path)?;
    if let Some(t) = &req.tenant {
        let known = store.known_tenants()?;
        if !known.contains(t) {
            return Err(Failure::usage(format!(
                "no tenant named '{}' in {} (stored tenants: {})",
                crate::terminal::clean(t),
                cfg.store.path.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    let started = Instant::now();
    let bar = (!global.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_message("exporting");
        b
    });
    let mut tick = |n: u64| {
        if let Some(b) = &bar {
            b.set_message(format!("{n} events"));
            b.tick();
        }
    };
    let (counts, dest) = match &args.output {
        Some(path) => {
            let tmp = temp_path(path);
            let file = std::fs::File::create(&tmp)
                .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", tmp.display())))?;
            let mut w = BufWriter::with_capacity(1 << 20, file);
            let result = write_events(&store, &req, &mut w, &mut tick);
            let finished = result.and_then(|c| {
                let file = w.into_inner().map_err(|e| {
                    Failure::runtime(format!("cannot write {}: {e}", tmp.display()))
                })?;
                file.sync_all().map_err(|e| {
                    Failure::runtime(format!("cannot write {}: {e}", tmp.display()))
                })?;
                std::fs::rename(&tmp, path).map_err(|e| {
                    Failure::runtime(format!("cannot move the export to {}: {e}", path.display()))
                })?;
                Ok(c)
            });
            if finished.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            (finished?, path.display().to_string())
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
            (
                write_events(&store, &req, &mut w, &mut tick)?,
                "stdout".to_string(),
            )
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !global.quiet {
        eprintln!(
            "exported {} detection findings and {} email activities to {dest} in {:.1}s",
            counts.findings,
            counts.emails,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_data_is_appended_as_a_json_string() {
        let e = with_raw("{\"class_uid\":2004}", "{\"id\":\"a\\u001b\"}");
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["raw_data"], "{\"id\":\"a\\u001b\"}");
    }

    #[test]
    fn time_bounds_take_rfc3339_or_a_duration() {
        let now: DateTime<Utc> = "2026-11-26T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_time_bound("--since", "24h", now).unwrap(),
            "2026-11-25T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time_bound("--since", "2026-11-01T00:00:00Z", now).unwrap(),
            "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let e = parse_time_bound("--until", "yesterday", now).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(e.message.contains("--until 'yesterday'"));
    }
}
