//! The store checks: where it is, how big, which schema, `PRAGMA quick_check`, WAL state, file
//! modes, and the last sync per tenant × stream. The store is only ever opened read-only, and a
//! missing store is reported, never created.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::Check;
use super::setup::file_mode;
use crate::config::{Config, Stream, TenantConfig};
use crate::store::sync::{Health, format_ms};
use crate::store::{APPLICATION_ID, SCHEMA_VERSION, Store};

const STORE: &str = "store";

/// The checkpoints of the checked tenants (epoch ns), read-only; empty when there is no usable
/// store.
pub(super) fn cursors(path: &Path, tenants: &[&TenantConfig]) -> HashMap<(String, Stream), i64> {
    let mut out = HashMap::new();
    if !path.is_file() {
        return out;
    }
    let Ok(store) = Store::open_read_only(path) else {
        return out;
    };
    for t in tenants {
        for stream in Stream::ALL {
            if let Ok(Some(cursor)) = store.checkpoint(&t.name, stream.name()) {
                out.insert((t.name.clone(), stream), cursor);
            }
        }
    }
    out
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The store check, then one last-sync check per tenant × configured stream.
pub(super) fn checks(cfg: &Config, tenants: &[&TenantConfig]) -> Vec<Check> {
    let path = &cfg.store.path;
    let shown = path.display().to_string();
    let skip_syncs = |reason: &str| -> Vec<Check> {
        tenants
            .iter()
            .flat_map(|t| {
                cfg.sync.streams.iter().map(move |s| {
                    Check::skip(&format!("last sync: {s}"), "sync", reason).for_tenant(&t.name)
                })
            })
            .collect()
    };
    if !path.exists() {
        let mut out = vec![Check::ok(
            STORE,
            "store.new",
            format!("no store yet at {shown}; the first `mailtrail sync` creates it (mode 0600)"),
        )];
        out.extend(skip_syncs("no store yet"));
        return out;
    }
    let (check, usable) = inspect(path);
    let mut out = vec![check];
    if let Some(c) = permissions(path) {
        out.push(c);
    }
    if !usable {
        out.extend(skip_syncs("the store cannot be read (see store)"));
        return out;
    }
    out.extend(last_syncs(cfg, tenants));
    out
}

/// Size, schema, `quick_check` and WAL state. Returns whether the store can be read.
fn inspect(path: &Path) -> (Check, bool) {
    let shown = path.display().to_string();
    let unusable =
        |code: &str, message: String, fix: &str| (Check::fail(STORE, code, message, fix), false);
    let size = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => {
            return unusable(
                "store.unusable",
                format!("{shown} is not a file"),
                "point --db (or [store] path) at a file",
            );
        }
        Err(e) => {
            return unusable(
                "store.unusable",
                format!("cannot read {shown}: {e}"),
                "check the path and that this user may read it",
            );
        }
    };
    let conn = match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            return unusable(
                "store.unusable",
                format!("cannot open {shown} read-only: {e}"),
                "check the path and that this user may read it",
            );
        }
    };
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    let identity = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()),
                (SELECT user_version FROM pragma_user_version()),
                (SELECT count(*) FROM sqlite_schema),
                (SELECT journal_mode FROM pragma_journal_mode())",
        [],
        |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, i32>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        },
    );
    let (app_id, version, tables, journal) = match identity {
        Ok(v) => v,
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => {
            return unusable(
                "store.unusable",
                format!("{shown} is not a SQLite database"),
                "point --db (or [store] path) at a mailtrail store or a new file name",
            );
        }
        Err(e) => {
            return unusable(
                "store.corrupt",
                format!("{shown} cannot be read: {e}"),
                "restore it from a backup, or move it aside and sync again",
            );
        }
    };
    let empty = app_id == 0 && version == 0 && tables == 0;
    if !empty && app_id != APPLICATION_ID {
        return unusable(
            "store.foreign",
            format!("{shown} is a SQLite database but not a mailtrail store"),
            "point --db (or [store] path) at a mailtrail store or a new file name",
        );
    }
    if version > SCHEMA_VERSION {
        return unusable(
            "store.newer",
            format!("{shown} has schema v{version}, newer than this mailtrail (v{SCHEMA_VERSION})"),
            "upgrade mailtrail",
        );
    }
    let verdict: Result<Vec<String>, _> =
        conn.prepare("PRAGMA quick_check").and_then(|mut stmt| {
            stmt.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        });
    match verdict {
        Ok(lines) if lines.first().map(String::as_str) == Some("ok") => {}
        Ok(lines) => {
            return unusable(
                "store.corrupt",
                format!(
                    "{shown} fails PRAGMA quick_check: {}",
                    lines.first().map(String::as_str).unwrap_or("no answer")
                ),
                "restore it from a backup, or move it aside and sync again (Graph still has alerts for 180d and email events for 30d)",
            );
        }
        Err(e) => {
            return unusable(
                "store.corrupt",
                format!("{shown} fails PRAGMA quick_check: {e}"),
                "restore it from a backup, or move it aside and sync again",
            );
        }
    }
    let wal = std::fs::metadata(sidecar(path, "-wal"))
        .map(|m| format!(", -wal {}", mib(m.len())))
        .unwrap_or_default();
    let facts = format!(
        "{shown}: {}, schema v{version}, quick_check ok, journal {journal}{wal}",
        mib(size)
    );
    if version < SCHEMA_VERSION {
        return (
            Check::warn(
                STORE,
                "store.schema_old",
                format!("{facts} (this mailtrail writes v{SCHEMA_VERSION})"),
                "the next `mailtrail sync` migrates it in one transaction",
            ),
            false,
        );
    }
    if !journal.eq_ignore_ascii_case("wal") {
        return (
            Check::warn(
                STORE,
                "store.not_wal",
                facts,
                "the next `mailtrail sync` switches it to WAL, so the dashboard can read while a sync writes",
            ),
            true,
        );
    }
    (Check::ok(STORE, "store.ok", facts), true)
}

/// The store and its -wal/-shm must be private: they hold mail metadata.
fn permissions(path: &Path) -> Option<Check> {
    let open: Vec<String> = [
        path.to_path_buf(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ]
    .iter()
    .filter_map(|p| {
        let mode = file_mode(p)?;
        (mode & 0o077 != 0).then(|| format!("{} (mode {mode:04o})", p.display()))
    })
    .collect();
    if open.is_empty() {
        return None;
    }
    Some(Check::warn(
        "store permissions",
        "store.permissions",
        format!(
            "readable by group or others: {}; the store holds mail metadata",
            open.join(", ")
        ),
        format!("chmod 600 {}*", path.display()),
    ))
}

fn last_syncs(cfg: &Config, tenants: &[&TenantConfig]) -> Vec<Check> {
    let names: Vec<String> = tenants.iter().map(|t| t.name.clone()).collect();
    let streams: Vec<&str> = cfg.sync.streams.iter().map(|s| s.name()).collect();
    let statuses = match Store::open_read_only(&cfg.store.path)
        .and_then(|s| s.stream_status(&names, &streams, cfg.sync.interval))
    {
        Ok(s) => s,
        Err(e) => {
            return vec![Check::warn(
                "last sync",
                "sync.unreadable",
                format!("cannot read the sync history: {e}"),
                "run `mailtrail sync`, then doctor again",
            )];
        }
    };
    statuses
        .into_iter()
        .map(|s| {
            let name = format!("last sync: {}", s.stream);
            let gaps = match s.gaps.len() {
                0 => String::new(),
                n => format!("; {n} failed window(s) waiting to be retried"),
            };
            let cursor = s.cursor.as_deref().unwrap_or("none");
            let success = s
                .last_success_ms
                .map(format_ms)
                .unwrap_or_else(|| "never".into());
            let check = match s.health {
                Health::Ok => Check::ok(
                    &name,
                    "sync.ok",
                    format!(
                        "last success {success}, {} rows stored, cursor {cursor}{gaps}",
                        s.rows
                    ),
                ),
                Health::NeverRun => Check::warn(
                    &name,
                    "sync.never_run",
                    format!("stream {} of this tenant was never synced", s.stream),
                    "run `mailtrail sync` (or keep `mailtrail run` going)",
                ),
                Health::Stale => Check::warn(
                    &name,
                    "sync.stale",
                    format!(
                        "no success for three intervals: last success {success}, cursor {cursor}{gaps}"
                    ),
                    "is `mailtrail run` running? start it (or schedule `mailtrail sync`)",
                ),
                Health::Failing => {
                    let (kind, message) = s.last_error.clone().unwrap_or_default();
                    let (message, fix) = super::split_fix(&message);
                    Check::warn(
                        &name,
                        "sync.failing",
                        format!("the last run failed [{kind}]: {message}{gaps}"),
                        fix.unwrap_or_else(|| "see the checks above for the cause".into()),
                    )
                }
            };
            check.for_tenant(&s.tenant)
        })
        .collect()
}
