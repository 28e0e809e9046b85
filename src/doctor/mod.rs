//! `mailtrail doctor`: a read-only diagnosis of a set-up, in the order set-ups fail —
//! configuration, secret, region, token, permissions per stream, least privilege, data, store
//! and last sync — each check with a status (ok, warn, fail, skip), a stable code, a message
//! and the fix. A check that depends on a failed one is skipped with the reason.
//!
//! Doctor has no side effects. Toward Microsoft it sends only what a sync sends (an
//! unauthenticated GET of the tenant's OpenID configuration, the token POST, the smallest
//! `alerts_v2` GETs and hunting queries), and the region is checked before any credential
//! leaves the machine. The store is opened read-only and never created. Every network step has
//! its own short timeout and tenants are diagnosed concurrently, so an unreachable host costs
//! seconds, not the collector's retry budget.
//!
//! Codes are a public contract (documented in `docs/troubleshooting.md`): `config.*`,
//! `secret.*`, `region.*`, `auth.*`, `permission.*`, `consent.missing`, `data.*`, `store.*`,
//! `sync.*`, `network.*`, `graph.*`; `<area>.skipped` for a skipped check.

mod remote;
mod setup;
mod store;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::Failure;
use crate::cli::{DoctorArgs, GlobalOpts};
use crate::config::{self, Config, LoadOptions, SecretSource, Stream, TenantConfig};
use crate::terminal::clean;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// One diagnosis: what was checked, how it came out, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    /// The tenant (its name in the config) the check is about; absent for global checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub status: Status,
    /// Stable identifier of the outcome, e.g. `auth.invalid_secret`.
    pub code: String,
    pub message: String,
    /// What to do; `None` when there is nothing to do.
    pub fix: Option<String>,
}

impl Check {
    fn new(status: Status, name: &str, code: &str, message: String, fix: Option<String>) -> Check {
        Check {
            name: name.to_string(),
            tenant: None,
            status,
            code: code.to_string(),
            message,
            fix,
        }
    }

    pub fn ok(name: &str, code: &str, message: impl Into<String>) -> Check {
        Check::new(Status::Ok, name, code, message.into(), None)
    }

    pub fn warn(
        name: &str,
        code: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(Status::Warn, name, code, message.into(), Some(fix.into()))
    }

    pub fn fail(
        name: &str,
        code: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(Status::Fail, name, code, message.into(), Some(fix.into()))
    }

    /// A check not run because an earlier one failed (or does not apply); `area` names the
    /// code family, so the code is `<area>.skipped`.
    pub fn skip(name: &str, area: &str, reason: impl Into<String>) -> Check {
        let code = format!("{area}.skipped");
        Check::new(Status::Skip, name, &code, reason.into(), None)
    }

    fn for_tenant(mut self, tenant: &str) -> Check {
        self.tenant = Some(tenant.to_string());
        self
    }
}

/// Timeouts of the network steps.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Giving up on a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// One network step (the OpenID configuration, the token, one probe, one data query).
    pub step_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            connect_timeout: Duration::from_secs(3),
            step_timeout: Duration::from_secs(5),
        }
    }
}

/// The redacted facts a bug report needs: versions, paths, tenants and where their secrets
/// come from (with the length, never the value).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Environment {
    pub mailtrail: &'static str,
    pub os: &'static str,
    pub arch: &'static str,
    pub config_file: Option<String>,
    pub store: Option<String>,
    /// Whether `HTTPS_PROXY` (or `https_proxy`, `ALL_PROXY`) is set; its value may hold a
    /// password and is not shown.
    pub https_proxy: bool,
    pub tenants: Vec<TenantSummary>,
    pub sync: Option<SyncSummary>,
}

/// A configured tenant, as far as it is safe to show.
#[derive(Debug, Clone, Serialize)]
pub struct TenantSummary {
    pub name: String,
    pub tenant_id: String,
    pub client_id: String,
    pub region: String,
    pub login_endpoint: String,
    pub graph_endpoint: String,
    pub scope: String,
    pub secret: SecretSummary,
}

/// Where a tenant's secret comes from: `env` (a variable) or `file`, and its length.
#[derive(Debug, Clone, Serialize)]
pub struct SecretSummary {
    pub source: &'static str,
    /// The variable's name or the file's path.
    pub location: String,
    /// Length in characters, when it could be read.
    pub length: Option<usize>,
    /// The file's mode (octal), for a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// The schedule settings that shape what doctor expects to find.
#[derive(Debug, Clone, Serialize)]
pub struct SyncSummary {
    pub interval: String,
    pub initial_lookback: String,
    pub overlap: String,
    pub activity_lag: String,
    pub streams: Vec<&'static str>,
}

/// Everything doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub environment: Environment,
    /// The configuration could not be used at all (exit code 2).
    #[serde(skip)]
    pub config_unusable: bool,
}

impl Report {
    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// 0 when nothing failed, 2 when the configuration could not be used, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.config_unusable {
            2
        } else if self.count(Status::Fail) > 0 {
            1
        } else {
            0
        }
    }

    /// The machine-readable report: `{"checks": [...], "environment": {...}}`. Text that came
    /// from outside (Graph, Entra, the config) is neutralised as on the terminal.
    pub fn to_json(&self) -> String {
        let mut shown = self.clone();
        for c in &mut shown.checks {
            c.name = clean(&c.name);
            c.message = clean(&c.message);
            c.fix = c.fix.as_deref().map(clean);
        }
        serde_json::to_string_pretty(&shown).unwrap_or_else(|_| "{}".into()) + "\n"
    }

    /// The report for a terminal: one line per check, a second with the fix when there is one.
    pub fn to_text(&self) -> String {
        let env = &self.environment;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "mailtrail doctor {} ({} {})",
            env.mailtrail, env.os, env.arch
        );
        let _ = writeln!(
            out,
            "config: {}   store: {}",
            clean(env.config_file.as_deref().unwrap_or("none")),
            clean(env.store.as_deref().unwrap_or("unknown"))
        );
        let summaries: HashMap<&str, &TenantSummary> =
            env.tenants.iter().map(|t| (t.name.as_str(), t)).collect();
        let mut group: Option<Option<&str>> = None;
        let mut introduced: Vec<&str> = Vec::new();
        for c in &self.checks {
            let this = c.tenant.as_deref();
            if group != Some(this) {
                group = Some(this);
                out.push('\n');
                let first_time = this.is_some_and(|name| !introduced.contains(&name));
                introduced.extend(this);
                match this
                    .filter(|_| first_time)
                    .and_then(|name| summaries.get(name).map(|s| (name, s)))
                {
                    Some((name, s)) => {
                        let _ = writeln!(
                            out,
                            "tenant '{}' (tenant id {}, client id {}, region {})",
                            clean(name),
                            clean(&s.tenant_id),
                            clean(&s.client_id),
                            s.region
                        );
                    }
                    None => {
                        if let Some(name) = this {
                            let _ = writeln!(out, "tenant '{}'", clean(name));
                        }
                    }
                }
            }
            let _ = writeln!(
                out,
                "  {:<5} {:<22} {}: {}",
                c.status.label(),
                clean(&c.name),
                c.code,
                clean(&c.message)
            );
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "  {:<5} {:<22} fix: {}", "", "", clean(fix));
            }
        }
        let _ = writeln!(
            out,
            "\n{} failed, {} warning(s), {} skipped, {} ok. For a bug report: mailtrail doctor --json (no secret or token is in it).",
            self.count(Status::Fail),
            self.count(Status::Warn),
            self.count(Status::Skip),
            self.count(Status::Ok)
        );
        out
    }
}

/// `mailtrail doctor`: diagnose, print, and exit 0 (nothing failed), 1 or 2.
pub async fn run(global: &GlobalOpts, args: &DoctorArgs) -> Result<(), Failure> {
    let opts = LoadOptions::from_process(global);
    let env = |name: &str| std::env::var(name).ok();
    let report = diagnose(&opts, args.tenant.as_deref(), &env, Settings::default()).await;
    let text = if args.json {
        report.to_json()
    } else {
        report.to_text()
    };
    // A closed pipe (`mailtrail doctor | head`) is not worth a second error.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    let failed = report.count(Status::Fail);
    match report.exit_code() {
        0 => Ok(()),
        2 => Err(Failure::usage(
            "doctor: the configuration cannot be used; fix the config check above, then run doctor again",
        )),
        _ => Err(Failure::runtime(format!(
            "doctor: {failed} check(s) failed; fix the first failure above, then run doctor again"
        ))),
    }
}

/// Runs every check. `env` looks up environment variables (for the secret; injectable).
pub async fn diagnose(
    opts: &LoadOptions,
    only: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    settings: Settings,
) -> Report {
    let mut report = Report {
        checks: Vec::new(),
        environment: Environment::basic(opts),
        config_unusable: false,
    };
    let cfg = match config::load(opts) {
        Ok(cfg) => cfg,
        Err(e) => {
            report.checks.push(setup::config_failure(&e));
            report.checks.extend(skip_everything(
                "the configuration did not load (see config)",
            ));
            report.config_unusable = true;
            return report;
        }
    };
    report.environment.describe(&cfg, env);
    let tenants: Vec<&TenantConfig> = match only {
        Some(name) => cfg.tenant(name).map(|t| vec![t]),
        None => cfg.require_tenants().map(|t| t.iter().collect()),
    }
    .unwrap_or_else(|e| {
        report.checks.push(setup::config_failure(&e));
        Vec::new()
    });
    if tenants.is_empty() {
        report
            .checks
            .extend(skip_everything("no tenant to check (see config)"));
        report.config_unusable = true;
        return report;
    }
    report.checks.push(setup::config_ok(&cfg, &tenants));

    let cursors = store::cursors(&cfg.store.path, &tenants);
    let remote = remote::Remote::new(settings);
    let work = tenants.iter().map(|&t| {
        let (secret_check, secret) = setup::secret_check(t, env);
        let input = remote::TenantInput {
            tenant: t,
            secret,
            streams: &cfg.sync.streams,
            sync: &cfg.sync,
            cursors: Stream::ALL
                .into_iter()
                .filter_map(|s| Some((s, *cursors.get(&(t.name.clone(), s))?)))
                .collect(),
            config_file: cfg.file.as_deref(),
        };
        let remote = &remote;
        async move {
            let mut checks = vec![secret_check];
            checks.extend(remote::diagnose(remote, input).await);
            checks
                .into_iter()
                .map(|c| c.for_tenant(&t.name))
                .collect::<Vec<_>>()
        }
    });
    for checks in futures_util::future::join_all(work).await {
        report.checks.extend(checks);
    }
    report.checks.extend(store::checks(&cfg, &tenants));
    report
}

/// One skipped check per area, when nothing could be checked.
fn skip_everything(reason: &str) -> Vec<Check> {
    [
        ("secret", "secret"),
        ("region", "region"),
        ("token", "auth"),
        ("permissions", "permission"),
        ("data", "data"),
        ("store", "store"),
    ]
    .into_iter()
    .map(|(name, area)| Check::skip(name, area, reason))
    .collect()
}

impl Environment {
    /// What is known before the configuration loads.
    fn basic(opts: &LoadOptions) -> Environment {
        let config_file = opts
            .config_path
            .clone()
            .or_else(|| opts.env.get("MAILTRAIL_CONFIG").map(Into::into))
            .or_else(|| config::default_config_path().filter(|p| p.exists()))
            .map(|p| p.display().to_string());
        let store = opts
            .db_path
            .clone()
            .or_else(|| opts.env.get("MAILTRAIL_DB").map(Into::into))
            .map(|p| p.display().to_string());
        let https_proxy = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
        Environment {
            mailtrail: env!("CARGO_PKG_VERSION"),
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
            config_file,
            store,
            https_proxy,
            tenants: Vec::new(),
            sync: None,
        }
    }

    /// Adds what the loaded configuration says.
    fn describe(&mut self, cfg: &Config, env: &dyn Fn(&str) -> Option<String>) {
        use crate::duration::format_duration;
        self.config_file = cfg.file.as_ref().map(|p| p.display().to_string());
        self.store = Some(cfg.store.path.display().to_string());
        self.tenants = cfg
            .tenants
            .iter()
            .map(|t| TenantSummary {
                name: t.name.clone(),
                tenant_id: t.tenant_id.clone(),
                client_id: t.client_id.clone(),
                region: t.region.to_string(),
                login_endpoint: t.login_endpoint.clone(),
                graph_endpoint: t.graph_endpoint.clone(),
                scope: t.scope.clone(),
                secret: secret_summary(&t.secret_source, env),
            })
            .collect();
        let s = &cfg.sync;
        self.sync = Some(SyncSummary {
            interval: format_duration(s.interval),
            initial_lookback: format_duration(s.initial_lookback),
            overlap: format_duration(s.overlap),
            activity_lag: format_duration(s.activity_lag),
            streams: s.streams.iter().map(|s| s.name()).collect(),
        });
    }
}

/// Where a secret comes from and its length. The length is read the way the secret check reads
/// the secret, so a file open to others is not read here either.
fn secret_summary(source: &SecretSource, env: &dyn Fn(&str) -> Option<String>) -> SecretSummary {
    let length = source.resolve(env).ok().map(|secret| secret.len());
    match source {
        SecretSource::Env(var) => SecretSummary {
            source: "env",
            location: var.clone(),
            length,
            mode: None,
        },
        SecretSource::File(path) => SecretSummary {
            source: "file",
            location: path.display().to_string(),
            length,
            mode: setup::file_mode(path).map(|m| format!("{m:04o}")),
        },
    }
}

/// Splits a library message of the form "…; fix: …" into the message and the fix.
fn split_fix(message: &str) -> (String, Option<String>) {
    match message.split_once("; fix: ") {
        Some((m, f)) => (m.to_string(), Some(f.to_string())),
        None => (message.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(checks: Vec<Check>) -> Report {
        Report {
            checks,
            environment: Environment::default(),
            config_unusable: false,
        }
    }

    #[test]
    fn exit_code_is_1_on_any_failure_and_0_with_warnings_only() {
        let warn = Check::warn("data: threats", "data.empty", "none", "wait");
        let ok = Check::ok("token", "auth.ok", "signed in");
        assert_eq!(report(vec![ok.clone(), warn.clone()]).exit_code(), 0);
        let fail = Check::fail("token", "auth.invalid_secret", "rejected", "use the Value");
        assert_eq!(report(vec![ok, warn, fail]).exit_code(), 1);
        let mut unusable = report(vec![]);
        unusable.config_unusable = true;
        assert_eq!(unusable.exit_code(), 2);
    }

    #[test]
    fn json_has_the_documented_fields_and_neutralised_text() {
        let r = report(vec![
            Check::fail(
                "permissions: threats",
                "permission.missing",
                "app has: Evil\u{1b}[2J\u{202e}",
                "add it",
            )
            .for_tenant("contoso"),
            Check::ok("config", "config.ok", "fine"),
        ]);
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        let first = &v["checks"][0];
        for key in ["name", "status", "code", "message", "fix"] {
            assert!(first.get(key).is_some(), "{key} missing in {first}");
        }
        assert_eq!(first["status"], "fail");
        assert_eq!(first["tenant"], "contoso");
        let message = first["message"].as_str().unwrap();
        assert!(!message.contains('\u{1b}') && !message.contains('\u{202e}'));
        assert!(v["checks"][1]["fix"].is_null());
        assert!(v["environment"].is_object());
    }

    #[test]
    fn text_shows_status_code_message_and_fix_without_raw_escapes() {
        let r = report(vec![
            Check::fail(
                "region",
                "region.mismatch",
                "wrong \u{1b}[31mcloud",
                "set region",
            )
            .for_tenant("contoso"),
            Check::skip("token", "auth", "region first").for_tenant("contoso"),
        ]);
        let text = r.to_text();
        assert!(text.contains("FAIL  region"), "{text}");
        assert!(
            text.contains("region.mismatch: wrong \\x1b[31mcloud"),
            "{text}"
        );
        assert!(text.contains("fix: set region"), "{text}");
        assert!(text.contains("skip  token"), "{text}");
        assert!(text.contains("auth.skipped: region first"), "{text}");
        assert!(!text.contains('\u{1b}'));
        assert!(
            text.contains("1 failed, 0 warning(s), 1 skipped, 0 ok"),
            "{text}"
        );
    }

    #[test]
    fn fixes_are_split_from_library_messages() {
        assert_eq!(
            split_fix("cannot reach h: refused; fix: check the network"),
            (
                "cannot reach h: refused".to_string(),
                Some("check the network".to_string())
            )
        );
        assert_eq!(split_fix("plain"), ("plain".to_string(), None));
    }
}
