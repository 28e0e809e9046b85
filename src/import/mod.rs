//! `mailtrail import FILE…`: data collected elsewhere — Graph `alerts_v2` responses, hunting
//! responses, the portal's EmailEvents CSV export — stored through the same store functions as
//! a sync (de-duplication, alert versions, OCSF rows), tagged with one tenant.
//!
//! All or nothing for bad data: every file is read and checked in full first (streaming, so
//! memory stays flat however large the file), and only when all of them pass are they read a
//! second time and stored, in batches through [`WriteTransaction::ingest_alerts`] and
//! [`WriteTransaction::ingest_email_events`], all in one transaction committed at the end: a
//! store failure in the middle (disk full) stores nothing. Importing again is safe, since the
//! store de-duplicates.
//!
//! Import never moves a checkpoint, never opens or closes a gap and records no sync run:
//! `status` keeps describing what `sync` collected.

pub mod read;

use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use serde_json::value::RawValue;
use std::borrow::Cow;

use crate::Failure;
use crate::cli::{GlobalOpts, ImportArgs};
use crate::collector::threats::MDO_SOURCE;
use crate::store::alerts::{AlertFields, PageOutcome, parse_graph_time};
use crate::store::events::Row;
use crate::store::sync::Advance;
use crate::store::{Store, WriteTransaction};
use crate::terminal::clean;
pub use read::{Kind, Refusal};

/// Rows per batch handed to the store: large enough for the parallel OCSF mapping to pay off,
/// small enough to keep memory flat.
const ROW_BATCH: usize = 10_000;
const ALERT_BATCH: usize = 1_000;

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    pub files: Vec<PathBuf>,
    /// `--tenant NAME`: the tag for every stored row.
    pub tenant: Option<String>,
    pub dry_run: bool,
}

/// What one file held and what storing it did.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub path: PathBuf,
    pub format: String,
    pub kind: Option<Kind>,
    /// Records read and accepted (alerts or EmailEvents rows).
    pub records: u64,
    /// Alerts from other Defender products, left out as a sync leaves them out.
    pub skipped_not_mdo: u64,
    pub outcome: PageOutcome,
}

/// The whole import.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub tenant: String,
    pub tenant_id: Option<String>,
    pub dry_run: bool,
    pub files: Vec<FileReport>,
    pub seconds: f64,
}

impl ImportReport {
    /// The per-file lines and the total, as printed.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        let tenant = match &self.tenant_id {
            Some(id) => format!("{} ({id})", clean(&self.tenant)),
            None => clean(&self.tenant),
        };
        out.push_str(&format!("{verb} as tenant {tenant}:\n"));
        let mut total = FileReport {
            kind: self.files.first().and_then(|f| f.kind),
            ..FileReport::default()
        };
        if self.files.iter().any(|f| f.kind != total.kind) {
            total.kind = None;
        }
        for f in &self.files {
            out.push_str(&format!(
                "  {}: {}, {}\n",
                clean(&f.path.display().to_string()),
                f.format,
                counts(f, self.dry_run)
            ));
            total.records += f.records;
            total.skipped_not_mdo += f.skipped_not_mdo;
            total.outcome.add(&f.outcome);
        }
        out.push_str(&format!(
            "total: {}, {} in {:.1} s\n",
            plural(self.files.len() as u64, "file", "files"),
            counts(&total, self.dry_run),
            self.seconds
        ));
        out
    }
}

/// "1 alert", "2 alerts".
fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn counts(f: &FileReport, dry_run: bool) -> String {
    let mut s = match f.kind {
        Some(Kind::Alerts) => plural(f.records, "alert", "alerts"),
        Some(Kind::EmailEvents) => plural(f.records, "email event", "email events"),
        None => plural(f.records, "record", "records"),
    };
    if !dry_run {
        let o = &f.outcome;
        s.push_str(&format!(
            ": {} new, {} updated, {} unchanged",
            o.new, o.updated, o.unchanged
        ));
        if o.rejected > 0 {
            s.push_str(&format!(", {} rejected by the store", o.rejected));
        }
    }
    if f.skipped_not_mdo > 0 {
        s.push_str(&format!(
            "; {} skipped (not Defender for Office 365 alerts)",
            f.skipped_not_mdo
        ));
    }
    s
}

fn present<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref().filter(|v| !v.is_empty())
}

/// Where accepted records go in the second pass: all into one transaction.
struct Batches<'s, 't> {
    tx: &'s WriteTransaction<'t>,
    tenant: String,
    alerts: Vec<Box<RawValue>>,
    rows: Vec<Box<RawValue>>,
    outcome: PageOutcome,
    error: Option<crate::store::StoreError>,
}

impl Batches<'_, '_> {
    fn flush(&mut self) -> Result<(), String> {
        if !self.alerts.is_empty() {
            let r = self
                .tx
                .ingest_alerts(&self.tenant, &self.alerts, Advance::No);
            self.alerts.clear();
            self.keep(r)?;
        }
        if !self.rows.is_empty() {
            let r = self
                .tx
                .ingest_email_events(&self.tenant, &self.rows, Advance::No, None);
            self.rows.clear();
            self.keep(r)?;
        }
        Ok(())
    }

    fn keep(&mut self, r: Result<PageOutcome, crate::store::StoreError>) -> Result<(), String> {
        match r {
            Ok(o) => {
                self.outcome.add(&o);
                Ok(())
            }
            Err(e) => {
                self.error = Some(e);
                Err("the store failed".into())
            }
        }
    }
}

/// Checks each record (both passes) and, in the second, hands it to the store in batches.
struct Checker<'s, 't> {
    records: u64,
    skipped_not_mdo: u64,
    tenant_ids: BTreeSet<String>,
    batches: Option<Batches<'s, 't>>,
}

impl read::RecordSink for Checker<'_, '_> {
    fn alert(&mut self, raw: Box<RawValue>) -> Result<(), String> {
        not_an_object(&raw, "an alerts_v2 alert")?;
        let a: AlertFields<'_> =
            serde_json::from_str(raw.get()).map_err(|e| format!("not an alerts_v2 alert: {e}"))?;
        if present(&a.id).is_none() {
            return Err("an alert without `id`".into());
        }
        match present(&a.last_update_date_time) {
            None => return Err("an alert without `lastUpdateDateTime`".into()),
            Some(t) if parse_graph_time(t).is_none() => {
                return Err(format!("lastUpdateDateTime {t:?} is not a time"));
            }
            Some(_) => {}
        }
        if present(&a.service_source) != Some(MDO_SOURCE) {
            // A sync asks Graph for MDO alerts only; an import keeps to the same data.
            self.skipped_not_mdo += 1;
            return Ok(());
        }
        if let Some(t) = present(&a.tenant_id) {
            self.tenant_ids.insert(t.to_ascii_lowercase());
        }
        drop(a);
        self.records += 1;
        if let Some(b) = &mut self.batches {
            b.alerts.push(raw);
            if b.alerts.len() >= ALERT_BATCH {
                b.flush()?;
            }
        }
        Ok(())
    }

    fn email_event(&mut self, raw: Box<RawValue>) -> Result<(), String> {
        not_an_object(&raw, "an EmailEvents row")?;
        let r: Row<'_> =
            serde_json::from_str(raw.get()).map_err(|e| format!("not an EmailEvents row: {e}"))?;
        for (name, value) in [
            ("NetworkMessageId", &r.NetworkMessageId),
            ("RecipientEmailAddress", &r.RecipientEmailAddress),
            ("Timestamp", &r.Timestamp),
        ] {
            if present(value).is_none() {
                return Err(format!("an EmailEvents row without {name}"));
            }
        }
        if let Some(t) = present(&r.Timestamp)
            && parse_graph_time(t).is_none()
        {
            return Err(format!("Timestamp {t:?} is not a time"));
        }
        if let Some(t) = present(&r.TenantId) {
            self.tenant_ids.insert(t.to_ascii_lowercase());
        }
        drop(r);
        self.records += 1;
        if let Some(b) = &mut self.batches {
            b.rows.push(raw);
            if b.rows.len() >= ROW_BATCH {
                b.flush()?;
            }
        }
        Ok(())
    }
}

/// Refuses a record that is not a JSON object, in the user's terms (serde would name the
/// internal type it expected).
fn not_an_object(raw: &RawValue, what: &str) -> Result<(), String> {
    let found = match raw.get().as_bytes().first() {
        Some(b'{') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    };
    Err(format!("{what} is a JSON object, not {found}"))
}

/// A file's identity between the two passes: it must not change in between.
fn fingerprint(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

fn open(path: &Path) -> Result<BufReader<std::fs::File>, Failure> {
    let shown = clean(&path.display().to_string());
    if path.as_os_str() == "-" {
        return Err(Failure::usage(
            "import: cannot read from stdin (`-`): every file is read twice, once to check it and once to store it; fix: save the data to a file and import that",
        ));
    }
    if path.is_dir() {
        return Err(Failure::usage(format!(
            "import: {shown} is a directory; fix: name the files to import"
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| {
        Failure::usage(format!(
            "import: cannot open {shown}: {e}; fix: check the path and its permissions"
        ))
    })?;
    Ok(BufReader::with_capacity(1 << 20, file))
}

fn refused(path: &Path, r: &Refusal) -> Failure {
    let shown = clean(&path.display().to_string());
    let at = if r.position.is_empty() {
        String::new()
    } else {
        format!(" {}:", r.position)
    };
    Failure::usage(format!(
        "import: {shown}:{at} {}; nothing was imported",
        clean(&r.reason)
    ))
}

/// How the tag was chosen: the name, and the Entra tenant id to record for it (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: String,
    pub tenant_id: Option<String>,
    /// Write `(name, tenant_id)` into the store's tenants table before storing.
    pub register: bool,
}

fn guid_shaped(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Picks the tenant name for the data: `--tenant`, else the configured or registered tenant
/// whose id the data carries. `configured` and `registered` are (name, tenant id) pairs.
pub fn resolve_tenant(
    requested: Option<&str>,
    data_ids: &BTreeSet<String>,
    configured: &[(String, String)],
    registered: &[(String, String)],
) -> Result<Resolved, String> {
    if data_ids.len() > 1 {
        let ids: Vec<&str> = data_ids.iter().map(String::as_str).collect();
        return Err(format!(
            "the files hold data of {} tenants ({}); fix: import each tenant's files separately",
            ids.len(),
            ids.join(", ")
        ));
    }
    let data_id = data_ids.iter().next();
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    match requested {
        Some(name) => {
            let in_config = configured.iter().find(|(n, _)| n == name);
            let in_store = registered.iter().find(|(n, _)| n == name);
            let known = in_config.or(in_store).map(|(_, id)| id.as_str());
            if let (Some(k), Some(d)) = (known, data_id)
                && guid_shaped(k)
                && !same(k, d)
            {
                return Err(format!(
                    "--tenant {name} is Entra tenant {k}, but the data is from tenant {d}; fix: pick the tenant the data belongs to, or a new name"
                ));
            }
            Ok(match (in_config, in_store) {
                (Some((_, id)), stored) => Resolved {
                    name: name.to_string(),
                    tenant_id: Some(id.clone()),
                    register: stored.is_none_or(|(_, s)| s != id),
                },
                (None, Some((_, id))) => Resolved {
                    name: name.to_string(),
                    tenant_id: Some(id.clone()).filter(|i| !i.is_empty()),
                    register: false,
                },
                (None, None) => {
                    // A new name for a tenant the store or the config already names would
                    // store its data twice, under two tags.
                    if let Some(d) = data_id
                        && let Some((other, _)) = configured
                            .iter()
                            .chain(registered)
                            .find(|(_, id)| same(id, d))
                    {
                        return Err(format!(
                            "the data is from tenant {d}, known here as '{other}'; fix: pass --tenant {other}, or leave --tenant out"
                        ));
                    }
                    Resolved {
                        name: name.to_string(),
                        tenant_id: data_id.cloned(),
                        register: data_id.is_some(),
                    }
                }
            })
        }
        None => {
            let Some(d) = data_id else {
                return Err(
                    "the data carries no tenant id (EmailEvents rows do not); fix: pass --tenant NAME (a configured tenant, or a new name)"
                        .into(),
                );
            };
            if let Some((name, id)) = configured.iter().find(|(_, id)| same(id, d)) {
                let stored = registered.iter().find(|(n, _)| n == name);
                return Ok(Resolved {
                    name: name.clone(),
                    tenant_id: Some(id.clone()),
                    register: stored.is_none_or(|(_, s)| s != id),
                });
            }
            if let Some((name, id)) = registered.iter().find(|(_, id)| same(id, d)) {
                return Ok(Resolved {
                    name: name.clone(),
                    tenant_id: Some(id.clone()),
                    register: false,
                });
            }
            Err(format!(
                "the data is from tenant {d}, which is neither configured nor in the store; fix: pass --tenant NAME to tag it (a new name is recorded for this tenant id)"
            ))
        }
    }
}

/// Imports `req.files` into the store at `store_path`. `configured` are the configured
/// tenants as (name, tenant id).
pub fn import(
    store_path: &Path,
    configured: &[(String, String)],
    req: &ImportRequest,
) -> Result<ImportReport, Failure> {
    let started = Instant::now();
    if req.files.is_empty() {
        return Err(Failure::usage(
            "import: no files given; fix: mailtrail import FILE…",
        ));
    }
    // Pass 1: read and check everything, store nothing.
    let mut files = Vec::new();
    let mut data_ids = BTreeSet::new();
    let mut prints = Vec::new();
    for path in &req.files {
        prints.push(fingerprint(path));
        let mut check = Checker {
            records: 0,
            skipped_not_mdo: 0,
            tenant_ids: BTreeSet::new(),
            batches: None,
        };
        let shape = read::read(open(path)?, &mut check).map_err(|r| refused(path, &r))?;
        data_ids.extend(check.tenant_ids);
        files.push(FileReport {
            path: path.clone(),
            format: shape.label(),
            kind: if shape.csv || shape.hunting > 0 {
                Some(Kind::EmailEvents)
            } else if shape.pages + shape.single_alerts + shape.arrays > 0 {
                Some(Kind::Alerts)
            } else {
                None
            },
            records: check.records,
            skipped_not_mdo: check.skipped_not_mdo,
            outcome: PageOutcome::default(),
        });
    }

    let skipped: u64 = files.iter().map(|f| f.skipped_not_mdo).sum();
    if skipped > 0 && files.iter().all(|f| f.records == 0) {
        return Err(Failure::usage(format!(
            "import: {} skipped: not Defender for Office 365 (serviceSource {MDO_SOURCE}), which a sync leaves out too; nothing to import",
            plural(skipped, "alert was", "alerts were")
        )));
    }
    // An existing store says which names it knows; a new one is created only once the
    // tenant is settled, so a refused import leaves no file behind.
    let mut store = if store_path.exists() {
        if req.dry_run {
            Some(Store::open_read_only(store_path)?)
        } else {
            Some(Store::open(store_path)?)
        }
    } else {
        None
    };
    let registered = match &store {
        Some(s) => s.registered_tenants()?,
        None => Vec::new(),
    };
    let tenant = resolve_tenant(req.tenant.as_deref(), &data_ids, configured, &registered)
        .map_err(|m| Failure::usage(format!("import: {m}; nothing was imported")))?;
    let mut report = ImportReport {
        tenant: tenant.name.clone(),
        tenant_id: tenant.tenant_id.clone(),
        dry_run: req.dry_run,
        files,
        seconds: 0.0,
    };
    if req.dry_run {
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let store = match store.as_mut() {
        Some(s) => s,
        None => store.insert(Store::open(store_path)?),
    };
    // Pass 2: the same reading, now into the store, in one transaction: a failure anywhere
    // (a full disk, a file changed since pass 1) rolls back everything, the tenant's
    // registration included. Batches still go to SQLite as they fill, so memory stays flat.
    let tx = store.begin_write()?;
    if tenant.register
        && let Some(id) = &tenant.tenant_id
    {
        tx.register_tenant(&tenant.name, id)?;
    }
    for (file, print) in report.files.iter_mut().zip(&prints) {
        let path = file.path.clone();
        let changed = || {
            Failure::runtime(format!(
                "import: {} changed while it was being imported; fix: import it again once it is complete (importing again is safe)",
                clean(&path.display().to_string())
            ))
        };
        if fingerprint(&path) != *print {
            return Err(changed());
        }
        let mut store_pass = Checker {
            records: 0,
            skipped_not_mdo: 0,
            tenant_ids: BTreeSet::new(),
            batches: Some(Batches {
                tx: &tx,
                tenant: tenant.name.clone(),
                alerts: Vec::new(),
                rows: Vec::new(),
                outcome: PageOutcome::default(),
                error: None,
            }),
        };
        let read = read::read(open(&path)?, &mut store_pass);
        let mut batches = store_pass.batches.take().expect("set above");
        if let Some(e) = batches.error.take() {
            return Err(e.into());
        }
        read.map_err(|_| changed())?;
        // A failing flush is the store's failure, reported as such (not as a changed file).
        let flushed = batches.flush();
        if let Some(e) = batches.error.take() {
            return Err(e.into());
        }
        flushed.map_err(|_| changed())?;
        file.outcome = batches.outcome;
    }
    tx.commit()?;
    // As after a sync: re-score what changed; a failure only leaves the scores stale.
    match crate::triage::refresh(store, crate::triage::Scope::Changed) {
        Ok(r) => tracing::info!("triage: scored {} alerts after the import", r.alerts),
        Err(e) => tracing::warn!("triage scores not refreshed (they stay stale): {e}"),
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// `mailtrail import`.
pub fn run(global: &GlobalOpts, args: &ImportArgs) -> Result<(), Failure> {
    let cfg = crate::config::load(&crate::config::LoadOptions::from_process(global))?;
    let configured: Vec<(String, String)> = cfg
        .tenants
        .iter()
        .map(|t| (t.name.clone(), t.tenant_id.clone()))
        .collect();
    let req = ImportRequest {
        files: args.files.clone(),
        tenant: args.tenant.clone(),
        dry_run: args.dry_run,
    };
    let report = import(&cfg.store.path, &configured, &req)?;
    if !global.quiet {
        let _ = write!(std::io::stdout(), "{}", report.summary());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "b3c1d9a2-5e4f-4a7b-9c8d-1e2f3a4b5c6d";
    const B: &str = "00000000-0000-0000-0000-0000000000bb";

    fn ids(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_tenant_comes_from_the_flag_or_the_data() {
        let cfg = pairs(&[("contoso", A)]);
        // The data's id names a configured tenant.
        let r = resolve_tenant(None, &ids(&[A]), &cfg, &[]).unwrap();
        assert_eq!((r.name.as_str(), r.register), ("contoso", true));
        // … or one registered in the store by an earlier sync or import.
        let r = resolve_tenant(None, &ids(&[B]), &cfg, &pairs(&[("fabrikam", B)])).unwrap();
        assert_eq!((r.name.as_str(), r.register), ("fabrikam", false));
        // Unknown id, no flag: refused with the fix.
        let e = resolve_tenant(None, &ids(&[B]), &cfg, &[]).unwrap_err();
        assert!(e.contains("--tenant NAME"), "{e}");
        // No id at all (EmailEvents), no flag: refused.
        assert!(resolve_tenant(None, &ids(&[]), &cfg, &[]).is_err());
        // A new name takes the data's id.
        let r = resolve_tenant(Some("case-42"), &ids(&[B]), &cfg, &[]).unwrap();
        assert_eq!(r.tenant_id.as_deref(), Some(B));
        assert!(r.register);
        // A configured name with another id than the data's: refused.
        let e = resolve_tenant(Some("contoso"), &ids(&[B]), &cfg, &[]).unwrap_err();
        assert!(e.contains("but the data is from tenant"), "{e}");
        // Two tenants in one import: refused.
        assert!(resolve_tenant(Some("x"), &ids(&[A, B]), &cfg, &[]).is_err());
        // A new name for a tenant known under another one: refused, naming it.
        for (cfg, stored) in [(&cfg, &pairs(&[])), (&pairs(&[]), &cfg)] {
            let e = resolve_tenant(Some("other"), &ids(&[A]), cfg, stored).unwrap_err();
            assert!(e.contains("known here as 'contoso'"), "{e}");
            assert!(e.contains("--tenant contoso"), "{e}");
        }
        // A configured domain cannot be compared with a GUID: the flag decides.
        let dom = pairs(&[("contoso", "contoso.onmicrosoft.com")]);
        assert!(resolve_tenant(Some("contoso"), &ids(&[B]), &dom, &[]).is_ok());
    }
}
