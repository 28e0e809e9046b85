//! Configuration (DESIGN §3): built-in defaults → TOML file → `MAILTRAIL_*` environment →
//! command-line flags, resolved into typed settings.
//!
//! This module owns the config file's key names (a public contract), their validation, and the
//! messages a user sees when something is wrong: each names where the value came from (file,
//! line and column, or the environment variable), the cause, and the fix. The file is parsed
//! into a spanned tree and walked by hand rather than through serde, so that every unknown key,
//! wrong type and bad value can point at its line and suggest the nearest valid key.
//!
//! The client secret is never read from the file: a tenant names an environment variable or a
//! file that holds it ([`SecretSource`]), and the value is only read when it is needed.

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::cli::GlobalOpts;
use crate::cloud::{Region, UnknownRegion};
use crate::duration::{DurationError, format_duration, parse_duration};
use crate::failure::Failure;
use crate::secret::Secret;

/// The environment variable a tenant's client secret comes from unless the file says otherwise.
pub const DEFAULT_SECRET_ENV: &str = "MAILTRAIL_CLIENT_SECRET";
/// Advanced hunting keeps 30 days of email events: an activity backfill cannot reach further.
pub const MAX_INITIAL_LOOKBACK: Duration = Duration::from_secs(30 * 86_400);
/// Graph caps an alerts_v2 page at 1000 items.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Environment variables that configure mailtrail (the secret is read separately, on use).
pub const ENV_VARS: [&str; 9] = [
    "MAILTRAIL_CONFIG",
    "MAILTRAIL_DB",
    "MAILTRAIL_TENANT_NAME",
    "MAILTRAIL_TENANT_ID",
    "MAILTRAIL_CLIENT_ID",
    "MAILTRAIL_REGION",
    "MAILTRAIL_LOGIN_ENDPOINT",
    "MAILTRAIL_GRAPH_ENDPOINT",
    DEFAULT_SECRET_ENV,
];

const TOP_KEYS: [&str; 3] = ["tenant", "sync", "store"];
const TENANT_KEYS: [&str; 8] = [
    "name",
    "tenant_id",
    "client_id",
    "client_secret_env",
    "client_secret_file",
    "region",
    "login_endpoint",
    "graph_endpoint",
];
const SYNC_KEYS: [&str; 6] = [
    "interval",
    "initial_lookback",
    "overlap",
    "activity_lag",
    "page_size",
    "streams",
];
const STORE_KEYS: [&str; 2] = ["path", "retention"];

/// Where the portal shows the two IDs, for messages about them.
const PORTAL: &str = "Azure portal (Microsoft Entra ID → App registrations → your app → Overview)";

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/// The effective configuration of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Tenants in file order (or the single tenant from the environment). May be empty.
    pub tenants: Vec<TenantConfig>,
    pub sync: SyncConfig,
    pub store: StoreConfig,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
}

/// One Microsoft 365 tenant and the app registration mailtrail signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantConfig {
    /// mailtrail's name for the tenant; every stored row carries it.
    pub name: String,
    /// Directory (tenant) ID: a GUID or a verified domain.
    pub tenant_id: String,
    /// Application (client) ID of the app registration.
    pub client_id: String,
    pub secret_source: SecretSource,
    pub region: Region,
    /// Entra login host (the region's, or an override), without a trailing slash.
    pub login_endpoint: String,
    /// Graph service root (the region's, or an override), without a trailing slash.
    pub graph_endpoint: String,
    /// Token scope: always the region's `{graph}/.default`, even with an endpoint override.
    pub scope: String,
}

/// Where a tenant's client secret is read from when it is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable, by name.
    Env(String),
    /// A file readable by its owner only; one trailing newline is ignored.
    File(PathBuf),
}

/// The collection schedule and windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfig {
    pub interval: Duration,
    pub initial_lookback: Duration,
    pub overlap: Duration,
    pub activity_lag: Duration,
    pub page_size: u32,
    pub streams: Vec<Stream>,
}

/// A kind of data collected per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// MDO alerts from `security/alerts_v2`.
    Threats,
    /// Email events from advanced hunting (`runHuntingQuery`).
    Activity,
}

/// Where the SQLite store lives and how long data is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub retention: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            interval: Duration::from_secs(5 * 60),
            initial_lookback: Duration::from_secs(24 * 3_600),
            overlap: Duration::from_secs(10 * 60),
            activity_lag: Duration::from_secs(5 * 60),
            page_size: MAX_PAGE_SIZE,
            streams: Stream::ALL.to_vec(),
        }
    }
}

impl StoreConfig {
    pub const DEFAULT_RETENTION: Duration = Duration::from_secs(180 * 86_400);

    /// A store at `path` with the default retention.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            retention: Self::DEFAULT_RETENTION,
        }
    }
}

impl Stream {
    pub const ALL: [Stream; 2] = [Stream::Threats, Stream::Activity];

    /// The name used in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Threats => "threats",
            Stream::Activity => "activity",
        }
    }

    /// Comma-separated list of valid names, for error messages.
    pub fn valid_names() -> String {
        Stream::ALL.map(Stream::name).join(", ")
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stream {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stream::ALL
            .into_iter()
            .find(|stream| stream.name() == s)
            .ok_or(())
    }
}

impl TenantConfig {
    /// A tenant on its region's preset hosts. Values are taken as given (not validated): for
    /// code that builds a tenant itself, such as the demo pointing at the simulator.
    pub fn new(
        name: impl Into<String>,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        region: Region,
        secret_source: SecretSource,
    ) -> Self {
        TenantConfig {
            name: name.into(),
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            secret_source,
            region,
            login_endpoint: region.login_host().to_string(),
            graph_endpoint: region.graph_host().to_string(),
            scope: region.scope(),
        }
    }

    /// The same tenant with its hosts replaced (validated as in the config file). The scope
    /// stays the region's.
    pub fn with_endpoints(mut self, login: &str, graph: &str) -> Result<Self, ConfigError> {
        self.login_endpoint = validate_endpoint("login_endpoint", login, Origin::Input)?;
        self.graph_endpoint = validate_endpoint("graph_endpoint", graph, Origin::Input)?;
        Ok(self)
    }

    /// The client secret, read now from the process environment or the secret file.
    pub fn secret(&self) -> Result<Secret, ConfigError> {
        self.secret_source.resolve(&|name| std::env::var(name).ok())
    }
}

impl SecretSource {
    /// Reads the secret. `env` looks up environment variables (injectable for tests).
    ///
    /// A file must not be readable or writable by group or others, and only one trailing
    /// newline (as `echo` writes) is removed: any other whitespace is part of the value.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, ConfigError> {
        match self {
            SecretSource::Env(var) => match env(var) {
                None => Err(ConfigError::SecretEnvUnset { var: var.clone() }),
                Some(value) if value.is_empty() => Err(ConfigError::SecretEmpty {
                    place: format!("environment variable {var}"),
                }),
                Some(value) => Ok(Secret::new(value)),
            },
            SecretSource::File(path) => {
                let unreadable = |e: std::io::Error| ConfigError::SecretFileUnreadable {
                    path: path.clone(),
                    reason: e.to_string(),
                };
                let metadata = std::fs::metadata(path).map_err(unreadable)?;
                if let Some(mode) = unix_mode(&metadata)
                    && mode & 0o077 != 0
                {
                    return Err(ConfigError::SecretFileTooOpen {
                        path: path.clone(),
                        mode,
                    });
                }
                let text = std::fs::read_to_string(path).map_err(unreadable)?;
                let value = text
                    .strip_suffix("\r\n")
                    .or_else(|| text.strip_suffix('\n'))
                    .unwrap_or(&text);
                if value.is_empty() {
                    return Err(ConfigError::SecretEmpty {
                        place: format!("secret file {}", path.display()),
                    });
                }
                Ok(Secret::new(value))
            }
        }
    }

    /// One line for `mailtrail config` and `doctor`: where the secret comes from and whether it
    /// is there, never the value.
    pub fn status(&self, env: &dyn Fn(&str) -> Option<String>) -> String {
        match self {
            SecretSource::Env(var) => match env(var) {
                None => format!("env {var} (not set)"),
                Some(v) if v.is_empty() => format!("env {var} (set but empty)"),
                Some(v) => match v.chars().count() {
                    1 => format!("env {var} (set, 1 char)"),
                    n => format!("env {var} (set, {n} chars)"),
                },
            },
            SecretSource::File(path) => match std::fs::metadata(path) {
                Err(e) => format!("file {} ({e})", path.display()),
                Ok(metadata) => match unix_mode(&metadata) {
                    Some(mode) if mode & 0o077 != 0 => format!(
                        "file {} (mode {mode:04o}: readable by others; run chmod 600 {})",
                        path.display(),
                        path.display()
                    ),
                    Some(mode) => format!("file {} (mode {mode:04o})", path.display()),
                    None => format!("file {}", path.display()),
                },
            },
        }
    }
}

#[cfg(unix)]
fn unix_mode(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn unix_mode(_metadata: &std::fs::Metadata) -> Option<u32> {
    None
}

impl Config {
    /// The tenants, or an error explaining how to configure one.
    pub fn require_tenants(&self) -> Result<&[TenantConfig], ConfigError> {
        if self.tenants.is_empty() {
            return Err(ConfigError::NoTenants {
                file: self.file.clone(),
            });
        }
        Ok(&self.tenants)
    }

    /// The tenant called `name`, or an error listing the configured names.
    pub fn tenant(&self, name: &str) -> Result<&TenantConfig, ConfigError> {
        if let Some(tenant) = self.tenants.iter().find(|t| t.name == name) {
            return Ok(tenant);
        }
        self.require_tenants()?;
        let known: Vec<&str> = self.tenants.iter().map(|t| t.name.as_str()).collect();
        Err(ConfigError::UnknownTenant {
            name: name.to_string(),
            suggestion: suggest(name, &known).map(str::to_string),
            known: known.join(", "),
        })
    }

    /// Reads every tenant's secret once, to report a missing or exposed secret before any work.
    pub fn check_secrets(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for tenant in &self.tenants {
            tenant
                .secret_source
                .resolve(env)
                .map_err(|e| e.for_tenant(&tenant.name))?;
        }
        Ok(())
    }

    /// The effective configuration as `mailtrail config` prints it, secret status from the
    /// process environment.
    pub fn describe(&self) -> String {
        self.describe_with(&|name| std::env::var(name).ok())
    }

    /// [`Config::describe`] with an injectable environment lookup.
    pub fn describe_with(&self, env: &dyn Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        match &self.file {
            Some(path) => line(format!("config file: {}", path.display())),
            None => line(match default_config_path() {
                Some(default) => format!(
                    "config file: none (no {}; built-in defaults and MAILTRAIL_* environment \
                     variables)",
                    default.display()
                ),
                None => "config file: none (built-in defaults and MAILTRAIL_* environment \
                         variables)"
                    .to_string(),
            }),
        }
        line(format!(
            "store:       {} (retention {})",
            self.store.path.display(),
            format_duration(self.store.retention)
        ));
        line(String::new());
        if self.tenants.is_empty() {
            line(
                "tenants:     none; run `mailtrail init`, or set MAILTRAIL_TENANT_ID, \
                  MAILTRAIL_CLIENT_ID and MAILTRAIL_CLIENT_SECRET"
                    .to_string(),
            );
            line(String::new());
        }
        for t in &self.tenants {
            line(format!("tenant '{}'", t.name));
            line(format!("  tenant id:      {}", t.tenant_id));
            line(format!("  client id:      {}", t.client_id));
            if t.region.has_security_api() {
                line(format!("  region:         {}", t.region));
            } else {
                line(format!(
                    "  region:         {} (alerts_v2 and runHuntingQuery do not exist in this \
                     cloud: nothing can be collected)",
                    t.region
                ));
            }
            line(format!("  login endpoint: {}", t.login_endpoint));
            line(format!("  graph endpoint: {}", t.graph_endpoint));
            line(format!("  scope:          {}", t.scope));
            line(format!("  client secret:  {}", t.secret_source.status(env)));
            line(String::new());
        }
        let s = &self.sync;
        line("sync".to_string());
        line(format!(
            "  interval:         {}",
            format_duration(s.interval)
        ));
        line(format!(
            "  initial lookback: {}",
            format_duration(s.initial_lookback)
        ));
        line(format!(
            "  overlap:          {}",
            format_duration(s.overlap)
        ));
        line(format!(
            "  activity lag:     {}",
            format_duration(s.activity_lag)
        ));
        line(format!("  page size:        {}", s.page_size));
        let streams: Vec<&str> = s.streams.iter().map(|s| s.name()).collect();
        line(format!("  streams:          {}", streams.join(", ")));
        out
    }
}

/// `mailtrail config`: load, print the effective configuration, and fail (exit 2) if it is
/// invalid or a tenant's secret cannot be read.
pub fn run_config_command(global: &GlobalOpts) -> Result<(), Failure> {
    use std::io::Write;
    let config = load(&LoadOptions::from_process(global))?;
    let env = |name: &str| std::env::var(name).ok();
    // A closed pipe (`mailtrail config | head`) is not an error worth reporting.
    let _ = std::io::stdout()
        .lock()
        .write_all(config.describe_with(&env).as_bytes());
    config.check_secrets(&env)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Where a configuration value came from. Its `Display` is a prefix for messages and ends with
/// `": "` (or is empty for [`Origin::Input`], whose message speaks for itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A position in a config file, 1-based.
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// An environment variable.
    Env(String),
    /// A command-line flag, such as `--tenant-id`.
    Flag(String),
    /// Typed at a prompt, or set by code.
    Input,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line, column } => {
                write!(f, "{}:{line}:{column}: ", path.display())
            }
            Origin::Env(var) => write!(f, "{var}: "),
            Origin::Flag(flag) => write!(f, "{flag}: "),
            Origin::Input => Ok(()),
        }
    }
}

/// A table of the config file, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Top,
    Tenant,
    Sync,
    Store,
}

impl Section {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Section::Top => &TOP_KEYS,
            Section::Tenant => &TENANT_KEYS,
            Section::Sync => &SYNC_KEYS,
            Section::Store => &STORE_KEYS,
        }
    }

    fn header(self) -> &'static str {
        match self {
            Section::Top => "the top level",
            Section::Tenant => "[[tenant]]",
            Section::Sync => "[sync]",
            Section::Store => "[store]",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Top => f.write_str("at the top level"),
            other => write!(f, "in {}", other.header()),
        }
    }
}

/// Everything that can be wrong with the configuration. All are usage errors (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "config file {} does not exist (named by --config or MAILTRAIL_CONFIG); fix the path, \
         or create it with `mailtrail --config {} init`",
        path.display(), path.display()
    )]
    FileMissing { path: PathBuf },

    #[error("cannot read config file {}: {reason}; check the path and its permissions", path.display())]
    FileUnreadable { path: PathBuf, reason: String },

    #[error("{}:{line}:{column}: invalid TOML: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{at}unknown key '{key}' {section}{}", unknown_key_hint(*section, suggestion.as_deref(), *belongs_in))]
    UnknownKey {
        at: Origin,
        key: String,
        section: Section,
        suggestion: Option<String>,
        belongs_in: Option<Section>,
    },

    #[error("{at}{key} must be {expected}, not {found} ({section})")]
    WrongType {
        at: Origin,
        key: String,
        section: Section,
        expected: &'static str,
        found: &'static str,
    },

    #[error("{at}this [[tenant]] has no {key}; add {key} = {example}")]
    MissingKey {
        at: Origin,
        key: &'static str,
        example: &'static str,
    },

    #[error(
        "{at}client_secret is not allowed in the config file (a secret in a file others can read \
         is how they leak); put it in an environment variable named by client_secret_env \
         (default MAILTRAIL_CLIENT_SECRET) or a file named by client_secret_file (chmod 600)"
    )]
    SecretInFile { at: Origin },

    #[error(
        "{at}tenant sets both client_secret_env and client_secret_file; keep only the one that \
         holds the secret"
    )]
    BothSecretSources { at: Origin },

    #[error(
        "{at}client_secret_env must be the name of an environment variable (letters, digits, _), \
         such as MAILTRAIL_CLIENT_SECRET, not the secret itself"
    )]
    BadSecretEnvName { at: Origin },

    #[error("{at}{source}")]
    BadRegion { at: Origin, source: UnknownRegion },

    #[error("{at}{key} {}: {value:?}; remove them", junk_kind(value))]
    PastedJunk {
        at: Origin,
        key: &'static str,
        value: String,
    },

    #[error(
        "{at}{key} looks like a client secret value, which must never be in the config file; \
         use the {} from the {PORTAL}",
        if *key == "client_id" { "\"Application (client) ID\"" } else { "\"Directory (tenant) ID\"" }
    )]
    LooksLikeSecret { at: Origin, key: &'static str },

    #[error(
        "{at}client_id '{value}' is not a GUID (8-4-4-4-12 hex digits); copy the \
         \"Application (client) ID\" from the {PORTAL}"
    )]
    ClientIdNotGuid { at: Origin, value: String },

    #[error(
        "{at}tenant_id '{value}' is neither a GUID nor a domain such as contoso.onmicrosoft.com; \
         copy the \"Directory (tenant) ID\" from the {PORTAL}"
    )]
    TenantIdInvalid { at: Origin, value: String },

    #[error(
        "{at}tenant_id '{value}' is a multi-tenant alias, not a directory; client credentials \
         need your own \"Directory (tenant) ID\" from the {PORTAL}"
    )]
    TenantIdAlias { at: Origin, value: String },

    #[error("{at}tenant name is empty; set name = \"contoso\" (it tags every stored row)")]
    EmptyName { at: Origin },

    #[error(
        "{at}tenant name {value:?} has leading/trailing whitespace, control or invisible characters; \
         use a plain name such as \"contoso\""
    )]
    BadName { at: Origin, value: String },

    #[error(
        "{at}tenant name '{name}' is used by more than one [[tenant]]; give each a unique name"
    )]
    DuplicateTenant { at: Origin, name: String },

    #[error("{at}{key}: {source}")]
    BadDuration {
        at: Origin,
        key: &'static str,
        source: DurationError,
    },

    #[error("{at}{key} must be more than 0s, e.g. {example}")]
    ZeroDuration {
        at: Origin,
        key: &'static str,
        example: &'static str,
    },

    #[error(
        "{at}initial_lookback = \"{value}\" is more than 30d; advanced hunting keeps 30 days of \
         email events, so use at most 30d"
    )]
    LookbackTooLong { at: Origin, value: String },

    #[error(
        "{at}page_size = {value} is out of range; use 1 to 1000 (Graph caps alerts_v2 pages at 1000)"
    )]
    PageSizeOutOfRange { at: Origin, value: String },

    #[error(
        "{at}unknown stream '{value}'; valid streams: {}",
        Stream::valid_names()
    )]
    UnknownStream { at: Origin, value: String },

    #[error(
        "{at}streams is empty; list at least one of: {}",
        Stream::valid_names()
    )]
    NoStreams { at: Origin },

    #[error(
        "{at}{key} = \"{value}\" is not a URL of the form https://host[:port][/path]: {reason}"
    )]
    BadEndpoint {
        at: Origin,
        key: &'static str,
        value: String,
        reason: &'static str,
    },

    #[error(
        "{at}{key} = \"{value}\" uses plain http, which is allowed only for loopback hosts \
         (127.0.0.1, ::1, localhost); use https://"
    )]
    InsecureEndpoint {
        at: Origin,
        key: &'static str,
        value: String,
    },

    #[error("{at}store path is empty; set path = \"/path/to/mailtrail.db\" or remove the key")]
    EmptyStorePath { at: Origin },

    #[error(
        "{vars} set in the environment, but {} defines {count} tenants, so it is unclear which \
         one to override; unset {them} or move the values into the file",
        path.display(), them = if vars.contains(',') { "them" } else { "it" }
    )]
    EnvTenantAmbiguous {
        vars: String,
        path: PathBuf,
        count: usize,
    },

    #[error(
        "{set} is set but {missing} is not; set {missing} too (environment-only mode needs \
         MAILTRAIL_TENANT_ID, MAILTRAIL_CLIENT_ID and MAILTRAIL_CLIENT_SECRET), or run \
         `mailtrail init`"
    )]
    EnvTenantIncomplete {
        set: &'static str,
        missing: &'static str,
    },

    #[error(
        "cannot find the platform data directory for the store (is HOME set?); pass --db FILE or \
         set MAILTRAIL_DB"
    )]
    NoDataDir,

    #[error(
        "no tenant is configured{}; run `mailtrail init`, or set MAILTRAIL_TENANT_ID, \
         MAILTRAIL_CLIENT_ID and MAILTRAIL_CLIENT_SECRET",
        match file { Some(p) => format!(" ({} has no [[tenant]] table)", p.display()), None => String::new() }
    )]
    NoTenants { file: Option<PathBuf> },

    #[error(
        "no tenant named '{name}'{}; configured tenants: {known}",
        match suggestion { Some(s) => format!(" (did you mean '{s}'?)"), None => String::new() }
    )]
    UnknownTenant {
        name: String,
        suggestion: Option<String>,
        known: String,
    },

    #[error(
        "environment variable {var} is not set; set it to the app's client secret value \
         (export {var}=…), or name a secret file with client_secret_file"
    )]
    SecretEnvUnset { var: String },

    #[error("the client secret in {place} is empty; put the app's client secret value there")]
    SecretEmpty { place: String },

    #[error(
        "secret file {} is readable by group or others (mode {mode:04o}); run chmod 600 {}",
        path.display(), path.display()
    )]
    SecretFileTooOpen { path: PathBuf, mode: u32 },

    #[error(
        "cannot read secret file {}: {reason}; check client_secret_file and that the file exists",
        path.display()
    )]
    SecretFileUnreadable { path: PathBuf, reason: String },

    #[error("tenant '{tenant}': {source}")]
    ForTenant {
        tenant: String,
        source: Box<ConfigError>,
    },
}

impl ConfigError {
    /// The same error, prefixed with the tenant it concerns.
    pub fn for_tenant(self, tenant: &str) -> ConfigError {
        ConfigError::ForTenant {
            tenant: tenant.to_string(),
            source: Box::new(self),
        }
    }
}

/// How a pasted value is damaged, in words.
fn junk_kind(value: &str) -> &'static str {
    let edges = [value.chars().next(), value.chars().last()];
    if value.contains(['\n', '\r']) {
        "has a line break in it"
    } else if edges.into_iter().flatten().any(is_junk) {
        "has leading/trailing whitespace or quotes"
    } else {
        "contains whitespace, quotes or invisible characters"
    }
}

fn unknown_key_hint(
    section: Section,
    suggestion: Option<&str>,
    belongs: Option<Section>,
) -> String {
    if let Some(home) = belongs {
        let place = match section {
            Section::Top => "it is above every table header".to_string(),
            other => format!("it is under the {} header", other.header()),
        };
        return format!(
            " (it belongs in {}, but {place}; move it there)",
            home.header()
        );
    }
    match suggestion {
        Some(s) => format!(" (did you mean '{s}'?)"),
        None => format!("; valid keys: {}", section.keys().join(", ")),
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::usage(e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Validators (shared with `init`)
// ---------------------------------------------------------------------------------------------

/// Paste leftovers: whitespace, line breaks, quotes or invisible characters around a value.
fn is_junk(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_invisible(c)
        || matches!(c, '"' | '\'' | '`' | '“' | '”' | '‘' | '’' | '<' | '>')
}

/// Zero-width and bidirectional-control characters: they hide in pastes and can make a value
/// display as something else.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Client secret values (`abc8Q~…`) contain a `~`; IDs never do.
fn looks_like_secret(value: &str) -> bool {
    value.contains('~') && value.len() >= 30
}

fn check_pasted(key: &'static str, value: &str, at: &Origin) -> Result<(), ConfigError> {
    if looks_like_secret(value) {
        return Err(ConfigError::LooksLikeSecret {
            at: at.clone(),
            key,
        });
    }
    if value.chars().any(is_junk) {
        return Err(ConfigError::PastedJunk {
            at: at.clone(),
            key,
            value: value.to_string(),
        });
    }
    Ok(())
}

fn is_guid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn is_domain(value: &str) -> bool {
    value.len() <= 253
        && value.contains('.')
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A tenant's name in mailtrail: non-empty, no surrounding whitespace, no control characters.
pub fn validate_tenant_name(value: &str, at: Origin) -> Result<String, ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::EmptyName { at });
    }
    if value.trim() != value || value.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(ConfigError::BadName {
            at,
            value: value.to_string(),
        });
    }
    Ok(value.to_string())
}

/// A directory (tenant) ID: a GUID or a verified domain such as `contoso.onmicrosoft.com`.
pub fn validate_tenant_id(value: &str, at: Origin) -> Result<String, ConfigError> {
    check_pasted("tenant_id", value, &at)?;
    if ["common", "organizations", "consumers"].contains(&value.to_ascii_lowercase().as_str()) {
        return Err(ConfigError::TenantIdAlias {
            at,
            value: value.to_string(),
        });
    }
    if is_guid(value) || is_domain(value) {
        return Ok(value.to_string());
    }
    Err(ConfigError::TenantIdInvalid {
        at,
        value: value.to_string(),
    })
}

/// An application (client) ID: a GUID.
pub fn validate_client_id(value: &str, at: Origin) -> Result<String, ConfigError> {
    check_pasted("client_id", value, &at)?;
    if is_guid(value) {
        return Ok(value.to_string());
    }
    Err(ConfigError::ClientIdNotGuid {
        at,
        value: value.to_string(),
    })
}

/// A region name (or one of its aliases, such as `gcc`).
pub fn parse_region(value: &str, at: Origin) -> Result<Region, ConfigError> {
    value
        .parse()
        .map_err(|source| ConfigError::BadRegion { at, source })
}

/// The name of the environment variable holding a secret.
pub fn validate_secret_env(value: &str, at: Origin) -> Result<String, ConfigError> {
    let mut chars = value.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(value.to_string())
    } else {
        Err(ConfigError::BadSecretEnvName { at })
    }
}

/// An endpoint override: `https://host[:port][/path]`, or `http://` to a loopback host.
/// Returns it without a trailing slash.
pub fn validate_endpoint(
    key: &'static str,
    value: &str,
    at: Origin,
) -> Result<String, ConfigError> {
    if value.trim() != value
        || value
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\'')
    {
        return Err(ConfigError::PastedJunk {
            at,
            key,
            value: value.to_string(),
        });
    }
    let bad = |reason| ConfigError::BadEndpoint {
        at: at.clone(),
        key,
        value: value.to_string(),
        reason,
    };
    let (scheme, rest) = value
        .split_once("://")
        .ok_or_else(|| bad("it has no https:// prefix"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err(bad(
            "the scheme must be https (or http for a loopback host)",
        ));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("a query string or fragment is not allowed"));
    }
    if rest.chars().any(char::is_whitespace) {
        return Err(bad("it contains whitespace"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad("user names and passwords are not allowed in the URL"));
    }
    let (host, port) = if let Some(after_bracket) = authority.strip_prefix('[') {
        let (inner, tail) = after_bracket
            .split_once(']')
            .ok_or_else(|| bad("the IPv6 address lacks a closing ]"))?;
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(bad("the IPv6 address is malformed"));
        }
        let port = match tail {
            "" => None,
            t => Some(
                t.strip_prefix(':')
                    .ok_or_else(|| bad("unexpected text after the IPv6 address"))?,
            ),
        };
        (inner, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (authority.starts_with('[')
            || (host.split('.').all(|label| !label.is_empty())
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')));
    if !host_ok {
        return Err(bad("the host name is missing or malformed"));
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p != 0))
    {
        return Err(bad("the port must be a number from 1 to 65535"));
    }
    if scheme == "http" && !is_loopback(host) {
        return Err(ConfigError::InsecureEndpoint {
            at,
            key,
            value: value.to_string(),
        });
    }
    let normalized = format!("{scheme}://{authority}{path}");
    Ok(normalized.trim_end_matches('/').to_string())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// The nearest of `candidates` to a mistyped `key`, if one is close enough to be a typo.
fn suggest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    candidates
        .iter()
        .filter_map(|&c| {
            let distance = strsim::damerau_levenshtein(&key, c);
            let close = distance <= (c.len() / 4).max(1)
                || (key.len() >= 4 && (c.contains(key.as_str()) || key.contains(c)));
            close.then_some((distance, c))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/// The inputs of [`load`], injectable for tests.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// `--config` (or `MAILTRAIL_CONFIG` through clap).
    pub config_path: Option<PathBuf>,
    /// `--db` (or `MAILTRAIL_DB` through clap).
    pub db_path: Option<PathBuf>,
    /// `MAILTRAIL_*` environment variables.
    pub env: HashMap<String, String>,
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values are left out: a test may inject a secret here.
        let mut names: Vec<&String> = self.env.keys().collect();
        names.sort();
        f.debug_struct("LoadOptions")
            .field("config_path", &self.config_path)
            .field("db_path", &self.db_path)
            .field("env", &names)
            .finish()
    }
}

impl LoadOptions {
    /// The flags of this invocation and the process's `MAILTRAIL_*` configuration variables
    /// (not the secret: that is read when a tenant needs it).
    pub fn from_process(global: &GlobalOpts) -> Self {
        let env = ENV_VARS
            .iter()
            .filter(|name| **name != DEFAULT_SECRET_ENV)
            .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
            .collect();
        LoadOptions {
            config_path: global.config.clone(),
            db_path: global.db.clone(),
            env,
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "mailtrail")
}

/// The platform's config file location, e.g. `~/.config/mailtrail/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.config_dir().join("config.toml"))
}

/// The platform's store location, e.g. `~/.local/share/mailtrail/mailtrail.db`.
pub fn default_db_path() -> Option<PathBuf> {
    project_dirs().map(|dirs| dirs.data_dir().join("mailtrail.db"))
}

/// Loads the configuration: defaults, then the file, then `MAILTRAIL_*`, then `--db`.
///
/// A missing file at the default location is fine (environment-only mode); a missing file named
/// by `--config` or `MAILTRAIL_CONFIG` is an error. Zero tenants is not an error here: commands
/// that need one call [`Config::require_tenants`].
pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
    let (path, explicit) = match (&opts.config_path, opts.var("MAILTRAIL_CONFIG")) {
        (Some(path), _) => (Some(path.clone()), true),
        (None, Some(path)) => (Some(PathBuf::from(path)), true),
        (None, None) => (default_config_path(), false),
    };
    let file = match path {
        None => None,
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => Some((path, text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::FileMissing { path });
            }
            Err(e) => {
                let reason = if e.kind() == std::io::ErrorKind::InvalidData {
                    "it is not UTF-8 text (save it as UTF-8)".to_string()
                } else {
                    e.to_string()
                };
                return Err(ConfigError::FileUnreadable { path, reason });
            }
        },
    };
    assemble(file, opts)
}

/// A value and where it was set.
#[derive(Debug, Clone)]
struct Field<T> {
    value: T,
    at: Origin,
}

/// A `[[tenant]]` table (or the environment's tenant) before validation.
#[derive(Debug, Clone)]
struct RawTenant {
    header: Origin,
    name: Option<Field<String>>,
    tenant_id: Option<Field<String>>,
    client_id: Option<Field<String>>,
    secret_env: Option<Field<String>>,
    secret_file: Option<Field<PathBuf>>,
    region: Option<Field<String>>,
    login_endpoint: Option<Field<String>>,
    graph_endpoint: Option<Field<String>>,
}

impl RawTenant {
    fn new(header: Origin) -> Self {
        RawTenant {
            header,
            name: None,
            tenant_id: None,
            client_id: None,
            secret_env: None,
            secret_file: None,
            region: None,
            login_endpoint: None,
            graph_endpoint: None,
        }
    }
}

/// What the file contributes.
struct FileLayer {
    tenants: Vec<RawTenant>,
    sync: SyncConfig,
    store_path: Option<PathBuf>,
    retention: Duration,
}

/// The file's text and path, to turn byte spans into positions.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn at(&self, span: Range<usize>) -> Origin {
        let (line, column) = line_column(self.text, span.start);
        Origin::File {
            path: self.path.to_path_buf(),
            line,
            column,
        }
    }

    /// A path in the file, relative to the file's directory; `~/` is the home directory.
    fn resolve_path(&self, value: &str) -> PathBuf {
        let path = match value.strip_prefix("~/") {
            Some(rest) => match directories::BaseDirs::new() {
                Some(dirs) => dirs.home_dir().join(rest),
                None => PathBuf::from(value),
            },
            None => PathBuf::from(value),
        };
        match self.path.parent() {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn assemble(file: Option<(PathBuf, String)>, opts: &LoadOptions) -> Result<Config, ConfigError> {
    let mut layer = match &file {
        Some((path, text)) => parse_file(&Source { path, text })?,
        None => FileLayer {
            tenants: Vec::new(),
            sync: SyncConfig::default(),
            store_path: None,
            retention: StoreConfig::DEFAULT_RETENTION,
        },
    };
    let file_path = file.map(|(path, _)| path);
    apply_env_tenant(&mut layer.tenants, file_path.as_deref(), opts)?;

    let mut tenants: Vec<TenantConfig> = Vec::with_capacity(layer.tenants.len());
    for raw in layer.tenants {
        let name_at = raw
            .name
            .as_ref()
            .map_or(raw.header.clone(), |n| n.at.clone());
        let tenant = finish_tenant(raw)?;
        if tenants.iter().any(|t| t.name == tenant.name) {
            return Err(ConfigError::DuplicateTenant {
                at: name_at,
                name: tenant.name,
            });
        }
        tenants.push(tenant);
    }

    let store_path = match (&opts.db_path, opts.var("MAILTRAIL_DB"), layer.store_path) {
        (Some(flag), _, _) => flag.clone(),
        (None, Some(env), _) => PathBuf::from(env),
        (None, None, Some(file)) => file,
        (None, None, None) => default_db_path().ok_or(ConfigError::NoDataDir)?,
    };
    Ok(Config {
        tenants,
        sync: layer.sync,
        store: StoreConfig {
            path: store_path,
            retention: layer.retention,
        },
        file: file_path,
    })
}

/// The single-tenant variables, and the field of a tenant each sets.
const ENV_TENANT_VARS: [&str; 6] = [
    "MAILTRAIL_TENANT_NAME",
    "MAILTRAIL_TENANT_ID",
    "MAILTRAIL_CLIENT_ID",
    "MAILTRAIL_REGION",
    "MAILTRAIL_LOGIN_ENDPOINT",
    "MAILTRAIL_GRAPH_ENDPOINT",
];

/// Environment-only mode builds a tenant; with one tenant in the file, the variables override
/// its fields; with several, they are ambiguous.
fn apply_env_tenant(
    tenants: &mut Vec<RawTenant>,
    file: Option<&Path>,
    opts: &LoadOptions,
) -> Result<(), ConfigError> {
    let set: Vec<&str> = ENV_TENANT_VARS
        .into_iter()
        .filter(|v| opts.var(v).is_some())
        .collect();
    let Some(&first_set) = set.first() else {
        return Ok(());
    };
    let field = |var: &str| {
        opts.var(var).map(|value| Field {
            value: value.to_string(),
            at: Origin::Env(var.to_string()),
        })
    };
    match tenants.len() {
        0 => {
            for (missing, set) in [
                ("MAILTRAIL_TENANT_ID", first_set),
                ("MAILTRAIL_CLIENT_ID", "MAILTRAIL_TENANT_ID"),
            ] {
                if opts.var(missing).is_none() {
                    return Err(ConfigError::EnvTenantIncomplete { set, missing });
                }
            }
            let mut raw = RawTenant::new(Origin::Env("MAILTRAIL_TENANT_ID".to_string()));
            raw.name = Some(field("MAILTRAIL_TENANT_NAME").unwrap_or(Field {
                value: "default".to_string(),
                at: Origin::Env("MAILTRAIL_TENANT_NAME".to_string()),
            }));
            raw.tenant_id = field("MAILTRAIL_TENANT_ID");
            raw.client_id = field("MAILTRAIL_CLIENT_ID");
            raw.region = field("MAILTRAIL_REGION");
            raw.login_endpoint = field("MAILTRAIL_LOGIN_ENDPOINT");
            raw.graph_endpoint = field("MAILTRAIL_GRAPH_ENDPOINT");
            tenants.push(raw);
            Ok(())
        }
        1 => {
            let raw = &mut tenants[0];
            let overrides = [
                (&mut raw.name, "MAILTRAIL_TENANT_NAME"),
                (&mut raw.tenant_id, "MAILTRAIL_TENANT_ID"),
                (&mut raw.client_id, "MAILTRAIL_CLIENT_ID"),
                (&mut raw.region, "MAILTRAIL_REGION"),
                (&mut raw.login_endpoint, "MAILTRAIL_LOGIN_ENDPOINT"),
                (&mut raw.graph_endpoint, "MAILTRAIL_GRAPH_ENDPOINT"),
            ];
            for (slot, var) in overrides {
                if let Some(value) = field(var) {
                    *slot = Some(value);
                }
            }
            Ok(())
        }
        count => Err(ConfigError::EnvTenantAmbiguous {
            vars: set.join(", "),
            path: file.map(Path::to_path_buf).unwrap_or_default(),
            count,
        }),
    }
}

fn finish_tenant(raw: RawTenant) -> Result<TenantConfig, ConfigError> {
    let missing = |key, example| ConfigError::MissingKey {
        at: raw.header.clone(),
        key,
        example,
    };
    let name = raw
        .name
        .ok_or_else(|| missing("name", "\"contoso\" (it tags every stored row)"))?;
    let name = validate_tenant_name(&name.value, name.at)?;
    let tenant_id = raw.tenant_id.ok_or_else(|| {
        missing(
            "tenant_id",
            "\"<Directory (tenant) ID>\" from the app's Overview page in the Azure portal",
        )
    })?;
    let tenant_id = validate_tenant_id(&tenant_id.value, tenant_id.at)?;
    let client_id = raw.client_id.ok_or_else(|| {
        missing(
            "client_id",
            "\"<Application (client) ID>\" from the app's Overview page in the Azure portal",
        )
    })?;
    let client_id = validate_client_id(&client_id.value, client_id.at)?;
    let secret_source = match (raw.secret_env, raw.secret_file) {
        (Some(env), Some(file)) => {
            let at = later(env.at, file.at);
            return Err(ConfigError::BothSecretSources { at });
        }
        (Some(env), None) => SecretSource::Env(validate_secret_env(&env.value, env.at)?),
        (None, Some(file)) => SecretSource::File(file.value),
        (None, None) => SecretSource::Env(DEFAULT_SECRET_ENV.to_string()),
    };
    let region = match raw.region {
        Some(region) => parse_region(&region.value, region.at)?,
        None => Region::Global,
    };
    let endpoint = |key, field: Option<Field<String>>, preset: &str| match field {
        Some(f) => validate_endpoint(key, &f.value, f.at),
        None => Ok(preset.to_string()),
    };
    let login_endpoint = endpoint("login_endpoint", raw.login_endpoint, region.login_host())?;
    let graph_endpoint = endpoint("graph_endpoint", raw.graph_endpoint, region.graph_host())?;
    Ok(TenantConfig {
        name,
        tenant_id,
        client_id,
        secret_source,
        region,
        login_endpoint,
        graph_endpoint,
        scope: region.scope(),
    })
}

/// The origin further down the file (to point at the second of two conflicting keys).
fn later(a: Origin, b: Origin) -> Origin {
    match (&a, &b) {
        (
            Origin::File {
                line: la,
                column: ca,
                ..
            },
            Origin::File {
                line: lb,
                column: cb,
                ..
            },
        ) if (la, ca) > (lb, cb) => a,
        _ => b,
    }
}

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

type Entry<'t, 'i> = (
    &'t Spanned<std::borrow::Cow<'i, str>>,
    &'t Spanned<DeValue<'i>>,
);

/// A table's entries in file order (the parsed map is sorted by key).
fn entries<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<Entry<'t, 'i>> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn parse_file(src: &Source<'_>) -> Result<FileLayer, ConfigError> {
    let root = DeTable::parse(src.text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |span| line_column(src.text, span.start));
        ConfigError::Syntax {
            path: src.path.to_path_buf(),
            line,
            column,
            message: e.message().replace('\n', "; "),
        }
    })?;
    let mut layer = FileLayer {
        tenants: Vec::new(),
        sync: SyncConfig::default(),
        store_path: None,
        retention: StoreConfig::DEFAULT_RETENTION,
    };
    for (key, value) in entries(root.get_ref()) {
        let not_a = |expected| ConfigError::WrongType {
            at: src.at(value.span()),
            key: key.get_ref().to_string(),
            section: Section::Top,
            expected,
            found: type_name(value.get_ref()),
        };
        match key.get_ref().as_ref() {
            "tenant" => {
                let expected = "an array of tables, written [[tenant]] with double brackets";
                let DeValue::Array(array) = value.get_ref() else {
                    return Err(not_a(expected));
                };
                for item in array.iter() {
                    let DeValue::Table(table) = item.get_ref() else {
                        return Err(not_a(expected));
                    };
                    layer
                        .tenants
                        .push(parse_tenant(src, table, src.at(item.span()))?);
                }
            }
            "sync" => {
                let DeValue::Table(table) = value.get_ref() else {
                    return Err(not_a("a table, written [sync]"));
                };
                parse_sync(src, table, &mut layer.sync)?;
            }
            "store" => {
                let DeValue::Table(table) = value.get_ref() else {
                    return Err(not_a("a table, written [store]"));
                };
                for (key, value) in entries(table) {
                    match key.get_ref().as_ref() {
                        "path" => {
                            let text =
                                string(src, Section::Store, key, value, "a file path string")?;
                            if text.is_empty() {
                                return Err(ConfigError::EmptyStorePath {
                                    at: src.at(value.span()),
                                });
                            }
                            layer.store_path = Some(src.resolve_path(text));
                        }
                        "retention" => {
                            layer.retention =
                                duration(src, Section::Store, key, value, "retention")?;
                            if layer.retention.is_zero() {
                                return Err(ConfigError::ZeroDuration {
                                    at: src.at(value.span()),
                                    key: "retention",
                                    example: "180d",
                                });
                            }
                        }
                        _ => return Err(unknown_key(src, Section::Store, key)),
                    }
                }
            }
            _ => return Err(unknown_key(src, Section::Top, key)),
        }
    }
    Ok(layer)
}

fn parse_tenant(
    src: &Source<'_>,
    table: &DeTable<'_>,
    header: Origin,
) -> Result<RawTenant, ConfigError> {
    let mut raw = RawTenant::new(header);
    for (key, value) in entries(table) {
        let slot = match key.get_ref().as_ref() {
            "name" => &mut raw.name,
            "tenant_id" => &mut raw.tenant_id,
            "client_id" => &mut raw.client_id,
            "client_secret_env" => &mut raw.secret_env,
            "region" => &mut raw.region,
            "login_endpoint" => &mut raw.login_endpoint,
            "graph_endpoint" => &mut raw.graph_endpoint,
            "client_secret_file" => {
                let text = string(src, Section::Tenant, key, value, "a file path string")?;
                raw.secret_file = Some(Field {
                    value: src.resolve_path(text),
                    at: src.at(value.span()),
                });
                continue;
            }
            _ => return Err(unknown_key(src, Section::Tenant, key)),
        };
        let text = string(src, Section::Tenant, key, value, "a string")?;
        *slot = Some(Field {
            value: text.to_string(),
            at: src.at(value.span()),
        });
    }
    Ok(raw)
}

fn parse_sync(
    src: &Source<'_>,
    table: &DeTable<'_>,
    sync: &mut SyncConfig,
) -> Result<(), ConfigError> {
    for (key, value) in entries(table) {
        let at = || src.at(value.span());
        match key.get_ref().as_ref() {
            "interval" => {
                sync.interval = duration(src, Section::Sync, key, value, "interval")?;
                if sync.interval.is_zero() {
                    return Err(ConfigError::ZeroDuration {
                        at: at(),
                        key: "interval",
                        example: "5m",
                    });
                }
            }
            "initial_lookback" => {
                sync.initial_lookback =
                    duration(src, Section::Sync, key, value, "initial_lookback")?;
                if sync.initial_lookback > MAX_INITIAL_LOOKBACK {
                    return Err(ConfigError::LookbackTooLong {
                        at: at(),
                        value: value.get_ref().as_str().unwrap_or_default().to_string(),
                    });
                }
            }
            "overlap" => sync.overlap = duration(src, Section::Sync, key, value, "overlap")?,
            "activity_lag" => {
                sync.activity_lag = duration(src, Section::Sync, key, value, "activity_lag")?
            }
            "page_size" => {
                let DeValue::Integer(number) = value.get_ref() else {
                    return Err(wrong_type(
                        src,
                        Section::Sync,
                        key,
                        value,
                        "an integer from 1 to 1000",
                    ));
                };
                let parsed = i128::from_str_radix(number.as_str(), number.radix()).ok();
                sync.page_size = parsed
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                    .ok_or_else(|| ConfigError::PageSizeOutOfRange {
                        at: at(),
                        value: number.to_string(),
                    })?;
            }
            "streams" => {
                let expected = "an array of stream names, e.g. [\"threats\", \"activity\"]";
                let DeValue::Array(items) = value.get_ref() else {
                    return Err(wrong_type(src, Section::Sync, key, value, expected));
                };
                let mut streams = Vec::new();
                for item in items.iter() {
                    let Some(name) = item.get_ref().as_str() else {
                        return Err(wrong_type(src, Section::Sync, key, item, expected));
                    };
                    let stream =
                        name.parse::<Stream>()
                            .map_err(|()| ConfigError::UnknownStream {
                                at: src.at(item.span()),
                                value: name.to_string(),
                            })?;
                    if !streams.contains(&stream) {
                        streams.push(stream);
                    }
                }
                if streams.is_empty() {
                    return Err(ConfigError::NoStreams { at: at() });
                }
                sync.streams = streams;
            }
            _ => return Err(unknown_key(src, Section::Sync, key)),
        }
    }
    Ok(())
}

fn wrong_type(
    src: &Source<'_>,
    section: Section,
    key: &Spanned<std::borrow::Cow<'_, str>>,
    value: &Spanned<DeValue<'_>>,
    expected: &'static str,
) -> ConfigError {
    ConfigError::WrongType {
        at: src.at(value.span()),
        key: key.get_ref().to_string(),
        section,
        expected,
        found: type_name(value.get_ref()),
    }
}

fn string<'v>(
    src: &Source<'_>,
    section: Section,
    key: &Spanned<std::borrow::Cow<'_, str>>,
    value: &'v Spanned<DeValue<'_>>,
    expected: &'static str,
) -> Result<&'v str, ConfigError> {
    value
        .get_ref()
        .as_str()
        .ok_or_else(|| wrong_type(src, section, key, value, expected))
}

fn duration(
    src: &Source<'_>,
    section: Section,
    key: &Spanned<std::borrow::Cow<'_, str>>,
    value: &Spanned<DeValue<'_>>,
    name: &'static str,
) -> Result<Duration, ConfigError> {
    let text = string(
        src,
        section,
        key,
        value,
        "a duration string such as \"5m\" or \"24h\"",
    )?;
    parse_duration(text).map_err(|source| ConfigError::BadDuration {
        at: src.at(value.span()),
        key: name,
        source,
    })
}

fn unknown_key(
    src: &Source<'_>,
    section: Section,
    key: &Spanned<std::borrow::Cow<'_, str>>,
) -> ConfigError {
    let name = key.get_ref().as_ref();
    let at = src.at(key.span());
    if name.eq_ignore_ascii_case("client_secret") {
        return ConfigError::SecretInFile { at };
    }
    let belongs_in = [Section::Tenant, Section::Sync, Section::Store]
        .into_iter()
        .find(|other| *other != section && other.keys().contains(&name));
    ConfigError::UnknownKey {
        at,
        key: name.to_string(),
        section,
        suggestion: suggest(name, section.keys()).map(str::to_string),
        belongs_in,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const FILE: &str = "/etc/mailtrail/test.toml";

    fn opts(env: &[(&str, &str)]) -> LoadOptions {
        LoadOptions {
            config_path: None,
            db_path: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn load_env(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut o = opts(env);
        if !env.iter().any(|(k, _)| *k == "MAILTRAIL_DB") {
            o.db_path = Some(PathBuf::from("/var/lib/mailtrail/test.db"));
        }
        assemble(Some((PathBuf::from(FILE), text.to_string())), &o)
    }

    fn load_str(text: &str) -> Result<Config, ConfigError> {
        load_env(text, &[])
    }

    fn tenant(extra: &str) -> String {
        format!(
            "[[tenant]]\nname = \"contoso\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n{extra}"
        )
    }

    fn err(text: &str) -> ConfigError {
        match load_str(text) {
            Ok(config) => panic!("expected an error, got {config:?}"),
            Err(e) => e,
        }
    }

    fn msg(text: &str) -> String {
        err(text).to_string()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn an_empty_file_gives_the_documented_defaults() {
        let config = load_str("").unwrap();
        assert!(config.tenants.is_empty());
        assert_eq!(config.sync, SyncConfig::default());
        assert_eq!(config.sync.interval, Duration::from_secs(300));
        assert_eq!(config.sync.initial_lookback, Duration::from_secs(86_400));
        assert_eq!(config.sync.overlap, Duration::from_secs(600));
        assert_eq!(config.sync.activity_lag, Duration::from_secs(300));
        assert_eq!(config.sync.page_size, 1000);
        assert_eq!(config.sync.streams, vec![Stream::Threats, Stream::Activity]);
        assert_eq!(config.store.retention, Duration::from_secs(180 * 86_400));
        assert_eq!(config.file, Some(PathBuf::from(FILE)));
    }

    #[test]
    fn the_design_example_loads() {
        let text = format!(
            "[[tenant]]\nname = \"contoso\"\ntenant_id = \"contoso.onmicrosoft.com\"\n\
             client_id = \"{CLIENT}\"\nclient_secret_env = \"CONTOSO_SECRET\"\nregion = \"gcc-high\"\n\
             [sync]\ninterval = \"1m\"\ninitial_lookback = \"7d\"\noverlap = \"15m\"\n\
             activity_lag = \"2m\"\npage_size = 500\nstreams = [\"activity\"]\n\
             [store]\npath = \"/data/mt.db\"\nretention = \"90d\"\n"
        );
        let config = load_env(&text, &[("MAILTRAIL_DB", "")]).unwrap();
        let t = &config.tenants[0];
        assert_eq!(t.name, "contoso");
        assert_eq!(t.tenant_id, "contoso.onmicrosoft.com");
        assert_eq!(t.region, Region::GccHigh);
        assert_eq!(t.login_endpoint, "https://login.microsoftonline.us");
        assert_eq!(t.graph_endpoint, "https://graph.microsoft.us");
        assert_eq!(t.scope, "https://graph.microsoft.us/.default");
        assert_eq!(t.secret_source, SecretSource::Env("CONTOSO_SECRET".into()));
        assert_eq!(config.sync.page_size, 500);
        assert_eq!(config.sync.streams, vec![Stream::Activity]);
        assert_eq!(
            config.sync.initial_lookback,
            Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            config.store,
            StoreConfig {
                path: "/data/mt.db".into(),
                retention: Duration::from_secs(90 * 86_400)
            }
        );
    }

    #[test]
    fn secret_defaults_to_the_standard_variable_and_region_to_global() {
        let config = load_str(&tenant("")).unwrap();
        let t = &config.tenants[0];
        assert_eq!(
            t.secret_source,
            SecretSource::Env(DEFAULT_SECRET_ENV.into())
        );
        assert_eq!(t.region, Region::Global);
        assert_eq!(t.scope, "https://graph.microsoft.com/.default");
    }

    #[test]
    fn endpoint_overrides_keep_the_regions_scope_and_drop_the_trailing_slash() {
        let config = load_str(&tenant(
            "region = \"dod\"\nlogin_endpoint = \"http://127.0.0.1:8080/\"\ngraph_endpoint = \"https://proxy.example.com:8443/graph/\"\n",
        ))
        .unwrap();
        let t = &config.tenants[0];
        assert_eq!(t.login_endpoint, "http://127.0.0.1:8080");
        assert_eq!(t.graph_endpoint, "https://proxy.example.com:8443/graph");
        assert_eq!(t.scope, "https://dod-graph.microsoft.us/.default");
    }

    #[test]
    fn syntax_errors_name_file_line_and_column_one_based() {
        let e = err("[sync]\ninterval = 5m\n");
        let ConfigError::Syntax { line, column, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((*line, *column), (2, 12));
        assert!(
            e.to_string()
                .starts_with("/etc/mailtrail/test.toml:2:12: invalid TOML: "),
            "{e}"
        );
        let e = err("[x\n");
        assert!(
            e.to_string().starts_with("/etc/mailtrail/test.toml:1:3: "),
            "{e}"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_column("é = 1\nab", 8), (2, 2));
        assert_eq!(line_column("éé x", 5), (1, 4));
        assert_eq!(line_column("", 10), (1, 1));
    }

    #[test]
    fn unknown_tenant_key_suggests_the_nearest() {
        let m = msg(&tenant("client_secert_env = \"X\"\n"));
        assert_eq!(
            m,
            "/etc/mailtrail/test.toml:5:1: unknown key 'client_secert_env' in [[tenant]] (did you mean 'client_secret_env'?)"
        );
    }

    #[test]
    fn unknown_sync_and_store_keys_suggest_too() {
        assert!(
            msg("[sync]\nintervall = \"5m\"\n")
                .contains("unknown key 'intervall' in [sync] (did you mean 'interval'?)")
        );
        assert!(msg("[sync]\nlookback = \"5m\"\n").contains("(did you mean 'initial_lookback'?)"));
        assert!(
            msg("[store]\nretension = \"5d\"\n").contains("in [store] (did you mean 'retention'?)")
        );
        assert!(
            msg("tenants = []\n")
                .contains("unknown key 'tenants' at the top level (did you mean 'tenant'?)")
        );
    }

    #[test]
    fn unknown_key_without_a_near_match_lists_the_valid_keys() {
        let m = msg("[sync]\nfoo = 1\n");
        assert!(m.ends_with("unknown key 'foo' in [sync]; valid keys: interval, initial_lookback, overlap, activity_lag, page_size, streams"), "{m}");
    }

    #[test]
    fn a_key_in_the_wrong_table_says_where_it_belongs() {
        let m = msg("region = \"global\"\n");
        assert!(m.contains("unknown key 'region' at the top level (it belongs in [[tenant]], but it is above every table header"), "{m}");
        let m = msg("[sync]\npath = \"x\"\n");
        assert!(
            m.contains("(it belongs in [store], but it is under the [sync] header; move it there)"),
            "{m}"
        );
    }

    #[test]
    fn client_secret_in_the_file_is_refused_with_the_fix() {
        let m = msg(&tenant("client_secret = \"abc8Q~secretvalue\"\n"));
        assert!(
            m.starts_with(
                "/etc/mailtrail/test.toml:5:1: client_secret is not allowed in the config file"
            ),
            "{m}"
        );
        assert!(m.contains("client_secret_env (default MAILTRAIL_CLIENT_SECRET)"));
        assert!(m.contains("client_secret_file (chmod 600)"));
        assert!(!m.contains("abc8Q"), "never echo the secret: {m}");
        assert!(matches!(
            err("client_secret = \"x\"\n"),
            ConfigError::SecretInFile { .. }
        ));
    }

    #[test]
    fn two_secret_sources_are_refused() {
        let e = err(&tenant(
            "client_secret_env = \"A\"\nclient_secret_file = \"/run/secrets/x\"\n",
        ));
        assert!(matches!(e, ConfigError::BothSecretSources { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("/etc/mailtrail/test.toml:6:22: "),
            "{e}"
        );
    }

    #[test]
    fn a_secret_value_in_client_secret_env_is_not_echoed() {
        let m = msg(&tenant(
            "client_secret_env = \"abc8Q~aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
        ));
        assert!(
            m.contains("must be the name of an environment variable"),
            "{m}"
        );
        assert!(!m.contains("abc8Q"), "{m}");
    }

    #[test]
    fn bad_region_lists_the_valid_ones() {
        let m = msg(&tenant("region = \"mars\"\n"));
        assert!(
            m.contains("unknown region 'mars'; valid regions: global, gcc-high, dod, china"),
            "{m}"
        );
        assert!(m.starts_with("/etc/mailtrail/test.toml:5:10: "), "{m}");
    }

    #[test]
    fn client_id_must_be_a_guid() {
        let m = msg(&tenant("").replace(CLIENT, "my-app"));
        assert!(m.contains("client_id 'my-app' is not a GUID"), "{m}");
        assert!(
            m.contains("copy the \"Application (client) ID\" from the Azure portal (Microsoft Entra ID → App registrations → your app → Overview)"),
            "{m}"
        );
        assert!(validate_client_id(CLIENT, Origin::Input).is_ok());
        assert!(validate_client_id(&CLIENT.to_uppercase(), Origin::Input).is_ok());
        assert!(validate_client_id("3b2a1c0d4e5f4a6b8c7d9e0f1a2b3c4d", Origin::Input).is_err());
        assert!(
            validate_client_id("{3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}", Origin::Input).is_err()
        );
        assert!(validate_client_id("3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4g", Origin::Input).is_err());
    }

    #[test]
    fn tenant_id_is_a_guid_or_a_domain() {
        for good in [
            TENANT,
            "contoso.onmicrosoft.com",
            "contoso.com",
            "a-b.c1.org",
        ] {
            assert!(validate_tenant_id(good, Origin::Input).is_ok(), "{good}");
        }
        for bad in [
            "contoso",
            "-a.com",
            "a..com",
            "con_toso.com",
            "https://contoso.com",
            "72f988bf-86f1",
        ] {
            let e = validate_tenant_id(bad, Origin::Input).unwrap_err();
            assert!(
                matches!(e, ConfigError::TenantIdInvalid { .. }),
                "{bad}: {e:?}"
            );
        }
        let m = msg(&tenant("").replace(TENANT, "contoso"));
        assert!(
            m.contains("tenant_id 'contoso' is neither a GUID nor a domain"),
            "{m}"
        );
        assert!(m.contains("\"Directory (tenant) ID\""), "{m}");
        let e = validate_tenant_id("common", Origin::Input).unwrap_err();
        assert!(e.to_string().contains("multi-tenant alias"), "{e}");
    }

    #[test]
    fn paste_leftovers_around_ids_are_reported_not_trimmed() {
        let m = msg(&tenant("").replace(&format!("\"{TENANT}\""), &format!("\" {TENANT}\"")));
        assert_eq!(
            m,
            format!(
                "/etc/mailtrail/test.toml:3:13: tenant_id has leading/trailing whitespace or quotes: \" {TENANT}\"; remove them"
            )
        );
        let m = msg(&tenant("").replace(&format!("\"{CLIENT}\""), &format!("\"'{CLIENT}'\"")));
        assert!(
            m.contains("client_id has leading/trailing whitespace or quotes"),
            "{m}"
        );
        let e = validate_client_id(
            &format!("{CLIENT}\n"),
            Origin::Env("MAILTRAIL_CLIENT_ID".into()),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "MAILTRAIL_CLIENT_ID: client_id has a line break in it: \"{CLIENT}\\n\"; remove them"
            )
        );
        assert!(validate_tenant_id(&format!("\u{feff}{TENANT}"), Origin::Input).is_err());
    }

    #[test]
    fn a_secret_pasted_as_an_id_is_not_echoed() {
        let secret = "Xy28Q~abcdefghijklmnopqrstuvwxyz0123456";
        let m = msg(&tenant("").replace(CLIENT, secret));
        assert!(
            m.contains("client_id looks like a client secret value"),
            "{m}"
        );
        assert!(!m.contains("Xy28Q"), "{m}");
    }

    #[test]
    fn durations_use_the_documented_syntax() {
        let m = msg("[sync]\ninterval = \"5 minutes\"\n");
        assert_eq!(
            m,
            "/etc/mailtrail/test.toml:2:12: interval: invalid duration '5 minutes': use a number and a unit, \
             e.g. 30s, 5m, 24h, 7d (compounds like 1h30m also work)"
        );
        assert!(msg("[sync]\noverlap = 600\n").contains("overlap must be a duration string such as \"5m\" or \"24h\", not an integer (in [sync])"));
        assert!(matches!(
            err("[sync]\ninterval = \"0s\"\n"),
            ConfigError::ZeroDuration { .. }
        ));
        assert!(matches!(
            err("[store]\nretention = \"0d\"\n"),
            ConfigError::ZeroDuration { .. }
        ));
        assert_eq!(
            load_str("[sync]\noverlap = \"0s\"\n").unwrap().sync.overlap,
            Duration::ZERO
        );
    }

    #[test]
    fn initial_lookback_stops_at_thirty_days() {
        let m = msg("[sync]\ninitial_lookback = \"45d\"\n");
        assert!(
            m.contains(
                "initial_lookback = \"45d\" is more than 30d; advanced hunting keeps 30 days"
            ),
            "{m}"
        );
        assert_eq!(
            load_str("[sync]\ninitial_lookback = \"30d\"\n")
                .unwrap()
                .sync
                .initial_lookback,
            MAX_INITIAL_LOOKBACK
        );
        assert!(load_str("[sync]\ninitial_lookback = \"29d24h1s\"\n").is_err());
    }

    #[test]
    fn page_size_is_an_integer_from_1_to_1000() {
        assert!(
            msg("[sync]\npage_size = 5000\n")
                .contains("page_size = 5000 is out of range; use 1 to 1000")
        );
        for bad in ["0", "-1", "99999999999999999999", "0x7fffffff"] {
            assert!(
                matches!(
                    err(&format!("[sync]\npage_size = {bad}\n")),
                    ConfigError::PageSizeOutOfRange { .. }
                ),
                "{bad}"
            );
        }
        let m = msg("[sync]\npage_size = \"big\"\n");
        assert_eq!(
            m,
            "/etc/mailtrail/test.toml:2:13: page_size must be an integer from 1 to 1000, not a string (in [sync])"
        );
        assert!(msg("[sync]\npage_size = 10.5\n").contains("not a float"));
        assert_eq!(
            load_str("[sync]\npage_size = 1_000\n")
                .unwrap()
                .sync
                .page_size,
            1000
        );
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:9000/x",
            "http://localhost:1",
            "HTTP://LOCALHOST",
        ] {
            assert!(
                validate_endpoint("graph_endpoint", ok, Origin::Input).is_ok(),
                "{ok}"
            );
        }
        let m = msg(&tenant("graph_endpoint = \"http://graph.example.com\"\n"));
        assert!(m.contains("graph_endpoint = \"http://graph.example.com\" uses plain http, which is allowed only for loopback hosts"), "{m}");
        assert!(matches!(
            validate_endpoint("login_endpoint", "http://10.0.0.1", Origin::Input),
            Err(ConfigError::InsecureEndpoint { .. })
        ));
    }

    #[test]
    fn malformed_endpoints_are_refused() {
        for bad in [
            "graph.microsoft.com",
            "ftp://graph.microsoft.com",
            "https://",
            "https://user:pw@host",
            "https://host:0",
            "https://host:99999",
            "https://host:abc",
            "https://host/?x=1",
            "https://ho st",
            "https://[::1",
            "https://a..b",
        ] {
            let e = validate_endpoint("graph_endpoint", bad, Origin::Input).unwrap_err();
            assert!(matches!(e, ConfigError::BadEndpoint { .. }), "{bad}: {e:?}");
        }
        let m = msg(&tenant("login_endpoint = \"login.example.com\"\n"));
        assert!(m.contains("login_endpoint = \"login.example.com\" is not a URL of the form https://host[:port][/path]"), "{m}");
    }

    #[test]
    fn tenant_names_are_unique_and_non_empty() {
        let two = format!("{}{}", tenant(""), tenant(""));
        let m = msg(&two);
        assert_eq!(
            m,
            "/etc/mailtrail/test.toml:6:8: tenant name 'contoso' is used by more than one [[tenant]]; give each a unique name"
        );
        assert!(matches!(
            err(&tenant("").replace("\"contoso\"", "\"\"")),
            ConfigError::EmptyName { .. }
        ));
        assert!(matches!(
            err(&tenant("").replace("\"contoso\"", "\" contoso\"")),
            ConfigError::BadName { .. }
        ));
        assert!(matches!(
            err(&tenant("").replace("\"contoso\"", "\"con\u{202e}toso\"")),
            ConfigError::BadName { .. }
        ));
        assert!(validate_tenant_name("Contoso Ltd", Origin::Input).is_ok());
    }

    #[test]
    fn missing_required_tenant_keys_point_at_the_table() {
        let m = msg(&format!(
            "\n[[tenant]]\nname = \"a\"\nclient_id = \"{CLIENT}\"\n"
        ));
        assert!(
            m.starts_with(
                "/etc/mailtrail/test.toml:2:1: this [[tenant]] has no tenant_id; add tenant_id = "
            ),
            "{m}"
        );
        assert!(matches!(
            err("[[tenant]]\n"),
            ConfigError::MissingKey { key: "name", .. }
        ));
    }

    #[test]
    fn streams_are_checked() {
        let m = msg("[sync]\nstreams = [\"threats\", \"alerts\"]\n");
        assert_eq!(
            m,
            "/etc/mailtrail/test.toml:2:23: unknown stream 'alerts'; valid streams: threats, activity"
        );
        assert!(matches!(
            err("[sync]\nstreams = []\n"),
            ConfigError::NoStreams { .. }
        ));
        assert!(
            msg("[sync]\nstreams = \"threats\"\n")
                .contains("streams must be an array of stream names")
        );
        let config = load_str("[sync]\nstreams = [\"activity\", \"activity\"]\n").unwrap();
        assert_eq!(config.sync.streams, vec![Stream::Activity]);
    }

    #[test]
    fn tables_written_with_the_wrong_brackets_say_so() {
        let m = msg(&format!(
            "[tenant]\nname = \"x\"\ntenant_id = \"{TENANT}\"\n"
        ));
        assert!(m.contains("tenant must be an array of tables, written [[tenant]] with double brackets, not a table"), "{m}");
        assert!(msg("[[sync]]\n").contains("sync must be a table, written [sync], not an array"));
        assert!(
            msg(&tenant("region = 1\n"))
                .contains("region must be a string, not an integer (in [[tenant]])")
        );
    }

    #[test]
    fn environment_alone_builds_a_default_tenant() {
        let env = [
            ("MAILTRAIL_TENANT_ID", TENANT),
            ("MAILTRAIL_CLIENT_ID", CLIENT),
            ("MAILTRAIL_REGION", "gcc-high"),
            ("MAILTRAIL_GRAPH_ENDPOINT", "http://127.0.0.1:7000/"),
        ];
        let config = assemble(
            None,
            &LoadOptions {
                db_path: Some("/x.db".into()),
                ..opts(&env)
            },
        )
        .unwrap();
        let t = &config.tenants[0];
        assert_eq!(t.name, "default");
        assert_eq!(t.region, Region::GccHigh);
        assert_eq!(t.graph_endpoint, "http://127.0.0.1:7000");
        assert_eq!(t.login_endpoint, "https://login.microsoftonline.us");
        assert_eq!(t.scope, "https://graph.microsoft.us/.default");
        assert_eq!(
            t.secret_source,
            SecretSource::Env("MAILTRAIL_CLIENT_SECRET".into())
        );
        assert_eq!(config.file, None);

        let named = assemble(
            None,
            &LoadOptions {
                db_path: Some("/x.db".into()),
                ..opts(&[("MAILTRAIL_TENANT_NAME", "acme"), env[0], env[1]])
            },
        )
        .unwrap();
        assert_eq!(named.tenants[0].name, "acme");
    }

    #[test]
    fn incomplete_environment_names_the_missing_variable() {
        let o = LoadOptions {
            db_path: Some("/x.db".into()),
            ..opts(&[("MAILTRAIL_TENANT_ID", TENANT)])
        };
        let m = assemble(None, &o).unwrap_err().to_string();
        assert!(
            m.starts_with("MAILTRAIL_TENANT_ID is set but MAILTRAIL_CLIENT_ID is not"),
            "{m}"
        );
        let o = LoadOptions {
            db_path: Some("/x.db".into()),
            ..opts(&[("MAILTRAIL_CLIENT_ID", CLIENT)])
        };
        let m = assemble(None, &o).unwrap_err().to_string();
        assert!(
            m.starts_with("MAILTRAIL_CLIENT_ID is set but MAILTRAIL_TENANT_ID is not"),
            "{m}"
        );
        let bad = LoadOptions {
            db_path: Some("/x.db".into()),
            ..opts(&[
                ("MAILTRAIL_TENANT_ID", TENANT),
                ("MAILTRAIL_CLIENT_ID", "nope"),
            ])
        };
        assert!(
            assemble(None, &bad)
                .unwrap_err()
                .to_string()
                .starts_with("MAILTRAIL_CLIENT_ID: client_id 'nope' is not a GUID")
        );
    }

    #[test]
    fn environment_overrides_the_single_file_tenant() {
        let other = "11111111-2222-3333-4444-555555555555";
        let config = load_env(
            &tenant("region = \"dod\"\n"),
            &[
                ("MAILTRAIL_CLIENT_ID", other),
                ("MAILTRAIL_REGION", "global"),
            ],
        )
        .unwrap();
        let t = &config.tenants[0];
        assert_eq!(
            (t.name.as_str(), t.client_id.as_str(), t.tenant_id.as_str()),
            ("contoso", other, TENANT)
        );
        assert_eq!(t.region, Region::Global);
        // An override also replaces a bad file value instead of tripping on it.
        assert!(
            load_env(
                &tenant("").replace(CLIENT, "bad"),
                &[("MAILTRAIL_CLIENT_ID", other)]
            )
            .is_ok()
        );
    }

    #[test]
    fn environment_tenant_fields_with_several_file_tenants_are_an_error() {
        let text = format!(
            "{}{}",
            tenant(""),
            tenant("").replace("contoso", "fabrikam")
        );
        let e = load_env(&text, &[("MAILTRAIL_TENANT_ID", TENANT)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "MAILTRAIL_TENANT_ID set in the environment, but /etc/mailtrail/test.toml defines 2 tenants, \
             so it is unclear which one to override; unset it or move the values into the file"
        );
        // The secret variable is not a tenant field: several tenants may share it.
        assert!(load_env(&text, &[("MAILTRAIL_CLIENT_SECRET", "s")]).is_ok());
    }

    #[test]
    fn store_path_precedence_is_file_then_env_then_flag() {
        let text = "[store]\npath = \"data/mt.db\"\n";
        let file = PathBuf::from(FILE);
        let run = |env: &[(&str, &str)], flag: Option<&str>| {
            let o = LoadOptions {
                db_path: flag.map(PathBuf::from),
                ..opts(env)
            };
            assemble(Some((file.clone(), text.to_string())), &o)
                .unwrap()
                .store
                .path
        };
        assert_eq!(run(&[], None), PathBuf::from("/etc/mailtrail/data/mt.db"));
        assert_eq!(
            run(&[("MAILTRAIL_DB", "/env.db")], None),
            PathBuf::from("/env.db")
        );
        assert_eq!(
            run(&[("MAILTRAIL_DB", "/env.db")], Some("/flag.db")),
            PathBuf::from("/flag.db")
        );
        assert!(matches!(
            err("[store]\npath = \"\"\n"),
            ConfigError::EmptyStorePath { .. }
        ));
    }

    #[test]
    fn an_explicit_missing_file_is_an_error_but_the_default_is_optional() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let o = LoadOptions {
            config_path: Some(missing.clone()),
            db_path: Some("/x.db".into()),
            ..opts(&[])
        };
        let m = load(&o).unwrap_err().to_string();
        assert!(
            m.starts_with(&format!("config file {} does not exist", missing.display())),
            "{m}"
        );
        assert!(m.contains("mailtrail --config"), "{m}");
        let o = LoadOptions {
            db_path: Some("/x.db".into()),
            ..opts(&[("MAILTRAIL_CONFIG", missing.to_str().unwrap())])
        };
        assert!(matches!(load(&o), Err(ConfigError::FileMissing { .. })));
        let o = LoadOptions {
            config_path: Some(dir.path().to_path_buf()),
            db_path: Some("/x.db".into()),
            ..opts(&[])
        };
        assert!(matches!(load(&o), Err(ConfigError::FileUnreadable { .. })));
    }

    #[test]
    fn secret_from_env_reports_an_unset_variable_with_the_fix() {
        let source = SecretSource::Env("MY_SECRET".into());
        let e = source.resolve(&no_env).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable MY_SECRET is not set; set it to the app's client secret value \
             (export MY_SECRET=…), or name a secret file with client_secret_file"
        );
        let got = source
            .resolve(&|name| (name == "MY_SECRET").then(|| "s3cret".to_string()))
            .unwrap();
        assert_eq!(got.expose(), "s3cret");
        assert!(matches!(
            source.resolve(&|_| Some(String::new())),
            Err(ConfigError::SecretEmpty { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn secret_file_must_be_private_and_loses_one_newline() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "value \n\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let source = SecretSource::File(path.clone());
        let e = source.resolve(&no_env).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "secret file {} is readable by group or others (mode 0644); run chmod 600 {}",
                path.display(),
                path.display()
            )
        );
        assert!(
            source
                .status(&no_env)
                .contains("mode 0644: readable by others; run chmod 600")
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(source.resolve(&no_env).unwrap().expose(), "value \n");
        assert_eq!(
            source.status(&no_env),
            format!("file {} (mode 0600)", path.display())
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            source.resolve(&no_env),
            Err(ConfigError::SecretEmpty { .. })
        ));
        let missing = SecretSource::File(dir.path().join("missing"));
        assert!(matches!(
            missing.resolve(&no_env),
            Err(ConfigError::SecretFileUnreadable { .. })
        ));
    }

    #[test]
    fn a_relative_secret_file_is_relative_to_the_config_file() {
        let config = load_str(&tenant("client_secret_file = \"secrets/mt\"\n")).unwrap();
        assert_eq!(
            config.tenants[0].secret_source,
            SecretSource::File("/etc/mailtrail/secrets/mt".into())
        );
    }

    #[test]
    fn tenants_are_required_by_name_with_the_known_names_listed() {
        let empty = load_str("").unwrap();
        let m = empty.require_tenants().unwrap_err().to_string();
        assert!(m.contains("no tenant is configured (/etc/mailtrail/test.toml has no [[tenant]] table); run `mailtrail init`"), "{m}");
        let config = load_str(&format!(
            "{}{}",
            tenant(""),
            tenant("").replace("contoso", "fabrikam")
        ))
        .unwrap();
        assert_eq!(config.require_tenants().unwrap().len(), 2);
        assert_eq!(config.tenant("fabrikam").unwrap().name, "fabrikam");
        assert_eq!(
            config.tenant("contosso").unwrap_err().to_string(),
            "no tenant named 'contosso' (did you mean 'contoso'?); configured tenants: contoso, fabrikam"
        );
    }

    #[test]
    fn describe_shows_the_effective_settings_but_never_the_secret() {
        let config = load_str(&tenant("")).unwrap();
        let env = |name: &str| (name == DEFAULT_SECRET_ENV).then(|| "x".repeat(40));
        let text = config.describe_with(&env);
        assert!(
            text.contains("config file: /etc/mailtrail/test.toml"),
            "{text}"
        );
        assert!(
            text.contains("store:       /var/lib/mailtrail/test.db (retention 180d)"),
            "{text}"
        );
        assert!(
            text.contains(&format!("  tenant id:      {TENANT}")),
            "{text}"
        );
        assert!(
            text.contains("  scope:          https://graph.microsoft.com/.default"),
            "{text}"
        );
        assert!(
            text.contains("  client secret:  env MAILTRAIL_CLIENT_SECRET (set, 40 chars)"),
            "{text}"
        );
        assert!(text.contains("  initial lookback: 1d"), "{text}");
        assert!(
            text.contains("  streams:          threats, activity"),
            "{text}"
        );
        assert!(!text.contains("xxxx"), "{text}");
        assert!(
            config
                .describe_with(&no_env)
                .contains("env MAILTRAIL_CLIENT_SECRET (not set)")
        );
        let e = config.check_secrets(&no_env).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "tenant 'contoso': environment variable MAILTRAIL_CLIENT_SECRET is not set"
            ),
            "{e}"
        );
        assert!(config.check_secrets(&env).is_ok());
    }

    #[test]
    fn describe_warns_about_china() {
        let config = load_str(&tenant("region = \"china\"\n")).unwrap();
        assert!(
            config
                .describe_with(&no_env)
                .contains("alerts_v2 and runHuntingQuery do not exist in this cloud")
        );
    }

    #[test]
    fn every_config_error_is_a_usage_failure() {
        let failure = Failure::from(err("[sync]\npage_size = 0\n"));
        assert_eq!(failure.exit_code, 2);
        assert!(failure.message.contains("page_size = 0 is out of range"));
    }

    #[test]
    fn messages_are_at_most_two_lines() {
        let samples = [
            msg("[sync]\ninterval = \"5 minutes\"\n"),
            msg(&tenant("client_secret = \"x\"\n")),
            msg("a = \n"),
            msg("[x\n\n"),
        ];
        for m in samples {
            assert!(m.lines().count() <= 2, "{m}");
        }
    }
}
