//! The binary on bad configuration: every mistake exits 2 with a one- or two-line message that
//! names the file (and line:column), the cause and the fix. Fixtures: `tests/invalid_configs/`.
//!
//! Each run clears every `MAILTRAIL_*` variable and points HOME and the XDG directories at a
//! temporary directory, so the developer's own configuration can never leak in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const MAILTRAIL_VARS: [&str; 9] = [
    "MAILTRAIL_CONFIG",
    "MAILTRAIL_DB",
    "MAILTRAIL_TENANT_NAME",
    "MAILTRAIL_TENANT_ID",
    "MAILTRAIL_CLIENT_ID",
    "MAILTRAIL_CLIENT_SECRET",
    "MAILTRAIL_REGION",
    "MAILTRAIL_LOGIN_ENDPOINT",
    "MAILTRAIL_GRAPH_ENDPOINT",
];

/// A clean `mailtrail` command whose home is `home`.
fn mailtrail(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailtrail"));
    for var in MAILTRAIL_VARS {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("MAILTRAIL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/invalid_configs")
        .join(name)
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the mailtrail binary runs");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Asserts exit code 2, a short message, and that it contains every one of `needles`.
fn assert_usage_error(cmd: &mut Command, needles: &[&str]) -> String {
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(
        code,
        Some(2),
        "expected exit 2\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.trim_end().lines().count() <= 2,
        "the message should be one or two lines:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in:\n{stderr}");
    }
    stderr
}

fn check_fixture(file: &str, needles: &[&str]) {
    let home = tempfile::tempdir().unwrap();
    let path = fixture(file);
    let located = format!("{}:", path.display());
    let mut all = vec![located.as_str()];
    all.extend_from_slice(needles);
    assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&path)
            .arg("config"),
        &all,
    );
}

macro_rules! bad_config {
    ($($test:ident: $file:literal => [$($needle:expr),+ $(,)?];)+) => {
        $(
            #[test]
            fn $test() {
                check_fixture($file, &[$($needle),+]);
            }
        )+
    };
}

bad_config! {
    toml_syntax_error_names_line_and_column:
        "syntax_error.toml" => ["syntax_error.toml:7:12: invalid TOML", "quoted"];
    unknown_tenant_key_suggests_the_nearest_key:
        "unknown_tenant_key.toml" => [
            "unknown_tenant_key.toml:5:1:",
            "unknown key 'client_secert_env' in [[tenant]] (did you mean 'client_secret_env'?)",
        ];
    unknown_sync_key_suggests_the_nearest_key:
        "unknown_sync_key.toml" => [
            "unknown_sync_key.toml:7:1:",
            "unknown key 'intervall' in [sync] (did you mean 'interval'?)",
        ];
    key_outside_its_table_says_where_it_belongs:
        "key_outside_its_table.toml" => ["key_outside_its_table.toml:1:1:", "it belongs in [sync]"];
    client_secret_in_the_file_is_refused:
        "client_secret_in_file.toml" => [
            "client_secret_in_file.toml:5:1: client_secret is not allowed in the config file",
            "client_secret_env (default MAILTRAIL_CLIENT_SECRET)",
            "client_secret_file (chmod 600)",
        ];
    both_secret_sources_are_refused:
        "both_secret_sources.toml" => [
            "both_secret_sources.toml:6:22:",
            "both client_secret_env and client_secret_file",
        ];
    bad_region_lists_the_valid_regions:
        "bad_region.toml" => [
            "bad_region.toml:5:10:",
            "unknown region 'us-gov'",
            "global, gcc-high, dod, china",
        ];
    client_id_must_be_a_guid:
        "client_id_not_guid.toml" => [
            "client_id_not_guid.toml:4:13:",
            "client_id 'mailtrail-app' is not a GUID",
            "\"Application (client) ID\"",
            "App registrations",
        ];
    tenant_id_must_be_a_guid_or_a_domain:
        "tenant_id_not_guid_or_domain.toml" => [
            "tenant_id_not_guid_or_domain.toml:3:13:",
            "tenant_id 'contoso' is neither a GUID nor a domain",
            "\"Directory (tenant) ID\"",
        ];
    whitespace_around_tenant_id_is_reported_not_trimmed:
        "tenant_id_whitespace.toml" => [
            "tenant_id_whitespace.toml:3:13:",
            "tenant_id has leading/trailing whitespace or quotes: \" 72f988bf",
            "remove them",
        ];
    quotes_around_client_id_are_reported:
        "client_id_quotes.toml" => [
            "client_id has leading/trailing whitespace or quotes: \"'3b2a1c0d",
        ];
    line_break_in_client_id_is_reported:
        "client_id_line_break.toml" => ["client_id has a line break in it", "\\n\""];
    duration_in_words_shows_the_accepted_syntax:
        "interval_in_words.toml" => [
            "interval_in_words.toml:7:12:",
            "invalid duration '5 minutes'",
            "use a number and a unit, e.g. 30s, 5m, 24h, 7d (compounds like 1h30m also work)",
        ];
    retention_not_a_duration_shows_the_syntax:
        "retention_not_a_duration.toml" => ["invalid duration 'forever'", "e.g. 30s, 5m, 24h, 7d"];
    lookback_beyond_30_days_is_refused:
        "lookback_45d.toml" => [
            "lookback_45d.toml:7:20:",
            "initial_lookback = \"45d\" is more than 30d",
            "advanced hunting keeps 30 days",
        ];
    page_size_above_1000_is_refused:
        "page_size_5000.toml" => ["page_size = 5000 is out of range; use 1 to 1000"];
    page_size_of_the_wrong_type_names_the_expected_type:
        "page_size_wrong_type.toml" => [
            "page_size_wrong_type.toml:7:13:",
            "page_size must be an integer from 1 to 1000, not a string",
        ];
    plain_http_to_a_remote_host_is_refused:
        "http_endpoint_not_loopback.toml" => [
            "graph_endpoint = \"http://graph.example.com\" uses plain http",
            "loopback",
            "use https://",
        ];
    malformed_endpoint_shows_the_expected_form:
        "malformed_endpoint.toml" => [
            "login_endpoint = \"login.microsoftonline.com\"",
            "https://host[:port][/path]",
        ];
    duplicate_tenant_names_are_refused:
        "duplicate_tenant_names.toml" => [
            "duplicate_tenant_names.toml:7:8:",
            "tenant name 'contoso' is used by more than one [[tenant]]",
        ];
    unknown_stream_lists_the_valid_streams:
        "unknown_stream.toml" => ["unknown stream 'alerts'", "valid streams: threats, activity"];
    tenant_written_with_single_brackets_says_so:
        "tenant_single_brackets.toml" => ["written [[tenant]] with double brackets"];
    missing_tenant_id_points_at_the_table:
        "missing_tenant_id.toml" => [
            "missing_tenant_id.toml:1:1:",
            "has no tenant_id; add tenant_id =",
        ];
}

fn valid_config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[[tenant]]\nname = \"contoso\"\ntenant_id = \"{TENANT}\"\nclient_id = \"{CLIENT}\"\n{extra}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_explicit_config_file_that_does_not_exist_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nowhere.toml");
    let shown = missing.display().to_string();
    assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&missing)
            .arg("config"),
        &[&shown, "does not exist", "mailtrail --config"],
    );
    // MAILTRAIL_CONFIG counts as explicit too.
    assert_usage_error(
        mailtrail(home.path())
            .env("MAILTRAIL_CONFIG", &missing)
            .arg("config"),
        &[&shown, "does not exist"],
    );
}

#[cfg(unix)]
#[test]
fn a_group_readable_secret_file_is_reported_with_chmod() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let secret = home.path().join("secret");
    std::fs::write(&secret, "s3cret-value\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = valid_config(
        home.path(),
        &format!("client_secret_file = \"{}\"\n", secret.display()),
    );
    let fix = format!("chmod 600 {}", secret.display());
    let stderr = assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&config)
            .arg("config"),
        &[
            "tenant 'contoso'",
            "readable by group or others (mode 0644)",
            &fix,
        ],
    );
    assert!(!stderr.contains("s3cret-value"), "{stderr}");

    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, stdout, stderr) = run(mailtrail(home.path())
        .arg("--config")
        .arg(&config)
        .arg("config"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("(mode 0600)"), "{stdout}");
    assert!(!stdout.contains("s3cret-value"), "{stdout}");
}

#[test]
fn a_valid_config_prints_the_effective_settings_and_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let config = valid_config(
        home.path(),
        "region = \"gcc-high\"\n[sync]\ninterval = \"1h30m\"\n",
    );
    let secret = "Xy28Q~abcdefghijklmnopqrstuvwxyz0123456";
    let (code, stdout, stderr) = run(mailtrail(home.path())
        .arg("--config")
        .arg(&config)
        .env("MAILTRAIL_CLIENT_SECRET", secret)
        .arg("config"));
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for expected in [
        format!("config file: {}", config.display()),
        "tenant 'contoso'".to_string(),
        format!("tenant id:      {TENANT}"),
        "login endpoint: https://login.microsoftonline.us".to_string(),
        "scope:          https://graph.microsoft.us/.default".to_string(),
        format!("env MAILTRAIL_CLIENT_SECRET (set, {} chars)", secret.len()),
        "interval:         1h30m".to_string(),
        "mailtrail.db".to_string(),
    ] {
        assert!(
            stdout.contains(&expected),
            "expected {expected:?} in:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "the secret leaked"
    );
}

#[test]
fn an_unset_secret_variable_is_named_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let config = valid_config(home.path(), "client_secret_env = \"CONTOSO_SECRET\"\n");
    assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&config)
            .env_remove("CONTOSO_SECRET")
            .arg("config"),
        &[
            "environment variable CONTOSO_SECRET is not set",
            "export CONTOSO_SECRET=",
        ],
    );
}

#[test]
fn db_flag_beats_the_environment_and_the_file() {
    let home = tempfile::tempdir().unwrap();
    let config = valid_config(home.path(), "[store]\npath = \"/from/file.db\"\n");
    let (code, stdout, stderr) = run(mailtrail(home.path())
        .arg("--config")
        .arg(&config)
        .env("MAILTRAIL_CLIENT_SECRET", "x")
        .env("MAILTRAIL_DB", "/from/env.db")
        .args(["--db", "/from/flag.db", "config"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("store:       /from/flag.db"), "{stdout}");

    let (code, stdout, _) = run(mailtrail(home.path())
        .arg("--config")
        .arg(&config)
        .env("MAILTRAIL_CLIENT_SECRET", "x")
        .env("MAILTRAIL_DB", "/from/env.db")
        .arg("config"));
    assert_eq!(code, Some(0));
    assert!(stdout.contains("store:       /from/env.db"), "{stdout}");
}

#[test]
fn environment_only_mode_validates_the_variables() {
    let home = tempfile::tempdir().unwrap();
    assert_usage_error(
        mailtrail(home.path())
            .env("MAILTRAIL_TENANT_ID", "contoso")
            .env("MAILTRAIL_CLIENT_ID", CLIENT)
            .arg("config"),
        &["MAILTRAIL_TENANT_ID: tenant_id 'contoso' is neither a GUID nor a domain"],
    );
    assert_usage_error(
        mailtrail(home.path())
            .env("MAILTRAIL_TENANT_ID", TENANT)
            .arg("config"),
        &["MAILTRAIL_TENANT_ID is set but MAILTRAIL_CLIENT_ID is not"],
    );
    assert_usage_error(
        mailtrail(home.path())
            .env("MAILTRAIL_TENANT_ID", TENANT)
            .env("MAILTRAIL_CLIENT_ID", CLIENT)
            .env("MAILTRAIL_GRAPH_ENDPOINT", "http://10.1.2.3:8080")
            .arg("config"),
        &[
            "MAILTRAIL_GRAPH_ENDPOINT: graph_endpoint",
            "uses plain http",
        ],
    );
    let (code, stdout, stderr) = run(mailtrail(home.path())
        .env("MAILTRAIL_TENANT_ID", TENANT)
        .env("MAILTRAIL_CLIENT_ID", CLIENT)
        .env("MAILTRAIL_CLIENT_SECRET", "x")
        .env("MAILTRAIL_GRAPH_ENDPOINT", "http://127.0.0.1:8080/")
        .arg("config"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("tenant 'default'"), "{stdout}");
    assert!(
        stdout.contains("graph endpoint: http://127.0.0.1:8080\n"),
        "{stdout}"
    );
    assert!(stdout.contains("config file: none"), "{stdout}");
}

#[test]
fn tenant_variables_with_several_file_tenants_are_ambiguous() {
    let home = tempfile::tempdir().unwrap();
    let config = valid_config(
        home.path(),
        &format!(
            "[[tenant]]\nname = \"fabrikam\"\ntenant_id = \"fabrikam.com\"\nclient_id = \"{CLIENT}\"\n"
        ),
    );
    assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&config)
            .env("MAILTRAIL_REGION", "dod")
            .arg("config"),
        &[
            "MAILTRAIL_REGION set in the environment",
            "defines 2 tenants",
        ],
    );
}

#[test]
fn no_config_at_all_is_not_an_error_for_config() {
    let home = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(mailtrail(home.path()).arg("config"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("tenants:     none; run `mailtrail init`"),
        "{stdout}"
    );
}

// ----- init -----

fn init_flags() -> [&'static str; 7] {
    [
        "init",
        "--name",
        "contoso",
        "--tenant-id",
        TENANT,
        "--client-id",
        CLIENT,
    ]
}

#[test]
fn init_without_a_terminal_names_the_missing_flags() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("c.toml");
    assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&config)
            .args(["init", "--name", "x"]),
        &["missing --tenant-id and --client-id", "not a terminal"],
    );
    assert!(!config.exists());
}

#[test]
fn init_refuses_a_bad_flag_value() {
    let home = tempfile::tempdir().unwrap();
    assert_usage_error(
        mailtrail(home.path()).args(["init", "--tenant-id", TENANT, "--client-id", "not-a-guid"]),
        &["--client-id: client_id 'not-a-guid' is not a GUID"],
    );
}

#[test]
fn init_writes_a_file_that_config_accepts() {
    let home = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(mailtrail(home.path())
        .args(init_flags())
        .args(["--region", "gcc-high"]));
    assert_eq!(code, Some(0), "{stderr}");
    let written = home.path().join(".config/mailtrail/config.toml");
    assert!(
        written.is_file(),
        "init should write the default path; stdout:\n{stdout}"
    );
    assert!(
        stdout.contains("export MAILTRAIL_CLIENT_SECRET="),
        "{stdout}"
    );
    assert!(stdout.contains("mailtrail doctor"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&written).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    let (code, stdout, stderr) = run(mailtrail(home.path())
        .env("MAILTRAIL_CLIENT_SECRET", "x")
        .arg("config"));
    assert_eq!(code, Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("tenant 'contoso'"), "{stdout}");
    assert!(stdout.contains("region:         gcc-high"), "{stdout}");
}

#[test]
fn init_keeps_an_existing_file_unless_forced() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("mine.toml");
    std::fs::write(&config, "# hand-written\n").unwrap();
    let shown = config.display().to_string();
    assert_usage_error(
        mailtrail(home.path())
            .arg("--config")
            .arg(&config)
            .args(init_flags()),
        &[&shown, "already exists", "--force"],
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# hand-written\n"
    );

    let (code, stdout, stderr) = run(mailtrail(home.path())
        .arg("--config")
        .arg(&config)
        .args(init_flags())
        .arg("--force"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(&format!("mailtrail --config {shown} doctor")),
        "{stdout}"
    );
    let (code, _, stderr) = run(mailtrail(home.path())
        .arg("--config")
        .arg(&config)
        .env("MAILTRAIL_CLIENT_SECRET", "x")
        .arg("config"));
    assert_eq!(code, Some(0), "{stderr}");
}
