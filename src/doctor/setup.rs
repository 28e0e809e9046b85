//! The local checks: does the configuration load, and is each tenant's secret there, private
//! and free of paste damage. Nothing here touches the network.

use std::path::Path;

use super::Check;
use crate::config::{Config, ConfigError, SecretSource, TenantConfig};
use crate::secret::Secret;

/// The one line that says which roles and portal steps every set-up needs.
pub(super) const PORTAL_PERMISSIONS: &str = "Microsoft Entra admin center → App registrations → your app → API permissions → Add a permission → Microsoft Graph → Application permissions → add SecurityAlert.Read.All and ThreatHunting.Read.All → Grant admin consent for <your tenant> (a Privileged Role Administrator or Global Administrator must click it)";

/// A configuration that does not load (or names no usable tenant), by cause.
pub(super) fn config_failure(e: &ConfigError) -> Check {
    let inner = match e {
        ConfigError::ForTenant { source, .. } => source.as_ref(),
        other => other,
    };
    let (code, fix) = match inner {
        ConfigError::PastedJunk { .. } => (
            "config.whitespace",
            "remove the spaces, quotes or line breaks around the value (copy it again from the app's Overview page in the Azure portal); mailtrail never trims them silently",
        ),
        ConfigError::SecretInFile { .. } => (
            "config.secret_in_file",
            "delete the client_secret line; put the secret in MAILTRAIL_CLIENT_SECRET (or the variable named by client_secret_env), or in a file named by client_secret_file with chmod 600",
        ),
        ConfigError::InsecureEndpoint { .. } => (
            "config.insecure_endpoint",
            "use https:// (plain http is accepted only for 127.0.0.1, ::1 and localhost), or remove the override to use the region's hosts",
        ),
        ConfigError::FileMissing { .. } => (
            "config.missing_file",
            "fix the path given by --config or MAILTRAIL_CONFIG, or create the file with `mailtrail init`",
        ),
        ConfigError::FileUnreadable { .. } => (
            "config.unreadable",
            "check the path and that this user can read the file (it must be UTF-8 text)",
        ),
        ConfigError::Syntax { .. } => (
            "config.syntax",
            "correct the TOML at the line and column shown; `mailtrail config` re-checks the file without contacting anything",
        ),
        ConfigError::UnknownKey { .. } => (
            "config.unknown_key",
            "rename or move the key as the message suggests; `mailtrail config` re-checks the file",
        ),
        ConfigError::NoTenants { .. } => (
            "config.no_tenant",
            "run `mailtrail init`, or set MAILTRAIL_TENANT_ID, MAILTRAIL_CLIENT_ID and MAILTRAIL_CLIENT_SECRET",
        ),
        ConfigError::UnknownTenant { .. } => (
            "config.unknown_tenant",
            "pass one of the configured tenant names to --tenant (`mailtrail config` lists them)",
        ),
        ConfigError::EnvTenantIncomplete { .. } | ConfigError::EnvTenantAmbiguous { .. } => (
            "config.environment",
            "set the missing MAILTRAIL_* variables, or unset the ones the message names",
        ),
        _ => (
            "config.invalid",
            "correct the setting the message names; `mailtrail config` re-checks the configuration without contacting anything",
        ),
    };
    Check::fail("config", code, e.to_string(), fix)
}

/// The configuration loaded: say from where and what it holds.
pub(super) fn config_ok(cfg: &Config, checked: &[&TenantConfig]) -> Check {
    let source = match &cfg.file {
        Some(p) => format!("config file {}", p.display()),
        None => "no config file (MAILTRAIL_* environment variables)".to_string(),
    };
    let names: Vec<&str> = checked.iter().map(|t| t.name.as_str()).collect();
    let streams: Vec<&str> = cfg.sync.streams.iter().map(|s| s.name()).collect();
    Check::ok(
        "config",
        "config.ok",
        format!(
            "{source} loaded; checking tenant(s) {}; streams {}",
            names.join(", "),
            streams.join(", ")
        ),
    )
}

#[cfg(unix)]
pub(super) fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
pub(super) fn file_mode(_path: &Path) -> Option<u32> {
    None
}

/// Where the secret comes from, in words.
fn describe_source(source: &SecretSource) -> String {
    match source {
        SecretSource::Env(var) => format!("environment variable {var}"),
        SecretSource::File(path) => match file_mode(path) {
            Some(mode) => format!("file {} (mode {mode:04o})", path.display()),
            None => format!("file {}", path.display()),
        },
    }
}

/// Quotes a paste can leave around a value.
fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\'' | '`' | '“' | '”' | '‘' | '’')
}

fn is_invisible(c: char) -> bool {
    crate::terminal::is_bidi_control(c)
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// How a pasted secret is damaged, in words that do not reveal it. Client secret values are
/// made of letters, digits and `~._-`: whitespace, quotes and line breaks are never part of one.
pub(super) fn secret_damage(value: &str) -> Option<&'static str> {
    let (first, last) = (value.chars().next()?, value.chars().last()?);
    let line_break = |c: char| c == '\n' || c == '\r';
    Some(if line_break(last) {
        "a trailing line break"
    } else if line_break(first) {
        "a leading line break"
    } else if value.contains(['\n', '\r']) {
        "a line break inside it"
    } else if is_quote(first) && is_quote(last) && value.chars().count() > 1 {
        "quotes around it"
    } else if is_quote(first) {
        "a leading quote"
    } else if is_quote(last) {
        "a trailing quote"
    } else if first.is_whitespace() {
        "leading whitespace"
    } else if last.is_whitespace() {
        "trailing whitespace"
    } else if value
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || is_invisible(c))
    {
        "whitespace, control or invisible characters inside it"
    } else {
        return None;
    })
}

/// Whether the secret is there, private and undamaged. Returns it when it can be sent.
pub(super) fn secret_check(
    t: &TenantConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Check, Option<Secret>) {
    const NAME: &str = "secret";
    let source = describe_source(&t.secret_source);
    let secret = match t.secret_source.resolve(env) {
        Ok(secret) => secret,
        Err(e) => {
            let check = match &e {
                ConfigError::SecretFileTooOpen { path, mode } => Check::fail(
                    NAME,
                    "secret.file_permissions",
                    format!(
                        "secret file {} is readable by group or others (mode {mode:04o}); it was not read",
                        path.display()
                    ),
                    format!(
                        "chmod 600 {} (and keep it owned by the user that runs mailtrail)",
                        path.display()
                    ),
                ),
                ConfigError::SecretEnvUnset { var } => Check::fail(
                    NAME,
                    "secret.missing",
                    format!("environment variable {var} is not set, so there is no client secret"),
                    format!(
                        "export {var}='<the client secret Value>' (App registrations → your app → Certificates & secrets), or name a file with client_secret_file"
                    ),
                ),
                ConfigError::SecretEmpty { place } => Check::fail(
                    NAME,
                    "secret.missing",
                    format!("the client secret in {place} is empty"),
                    "put the client secret's Value there (App registrations → your app → Certificates & secrets)",
                ),
                other => Check::fail(
                    NAME,
                    "secret.missing",
                    other.to_string(),
                    "check client_secret_file: the file must exist and be readable by the user that runs mailtrail",
                ),
            };
            return (check, None);
        }
    };
    let length = secret.len();
    if let Some(damage) = secret_damage(secret.expose()) {
        return (
            Check::fail(
                NAME,
                "config.whitespace",
                format!("the client secret from {source} ({length} chars) has {damage}"),
                "remove it where the secret is stored (a secret file may end with one newline; nothing else is ignored); mailtrail never trims a secret silently",
            ),
            None,
        );
    }
    (
        Check::ok(
            NAME,
            "secret.ok",
            format!("from {source}, {length} chars (the value is never shown)"),
        ),
        Some(secret),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Region;

    #[test]
    fn secret_damage_is_named_without_the_value() {
        assert_eq!(secret_damage("abc8Q~x\n"), Some("a trailing line break"));
        assert_eq!(secret_damage("abc\r\nxyz"), Some("a line break inside it"));
        assert_eq!(secret_damage("\"abc8Q~x\""), Some("quotes around it"));
        assert_eq!(secret_damage("'abc8Q~x"), Some("a leading quote"));
        assert_eq!(secret_damage(" abc8Q~x"), Some("leading whitespace"));
        assert_eq!(secret_damage("abc8Q~x "), Some("trailing whitespace"));
        assert_eq!(
            secret_damage("abc\u{200b}8Q~x"),
            Some("whitespace, control or invisible characters inside it")
        );
        assert_eq!(secret_damage("abc8Q~x.y_z-0"), None);
    }

    fn tenant(source: SecretSource) -> TenantConfig {
        TenantConfig::new(
            "contoso",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
            "3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            Region::Global,
            source,
        )
    }

    #[test]
    fn secret_check_reports_source_and_length_never_the_value() {
        let t = tenant(SecretSource::Env("S".into()));
        let (check, secret) = secret_check(&t, &|_| Some("abc8Q~0123456789".into()));
        assert_eq!(check.code, "secret.ok");
        assert!(check.message.contains("environment variable S"));
        assert!(check.message.contains("16 chars"));
        assert!(!check.message.contains("abc8Q"));
        assert!(secret.is_some());

        let (check, secret) = secret_check(&t, &|_| Some("abc8Q~0123456789 ".into()));
        assert_eq!(check.code, "config.whitespace");
        assert!(check.message.contains("trailing whitespace"), "{check:?}");
        assert!(!check.message.contains("abc8Q"));
        assert!(secret.is_none());

        let (check, _) = secret_check(&t, &|_| None);
        assert_eq!(check.code, "secret.missing");
        assert!(check.fix.unwrap().contains("export S="));
    }
}
