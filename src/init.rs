//! `mailtrail init`: writes a commented config file for one tenant (DESIGN §3 and §7).
//!
//! On a terminal it asks for what the flags did not give; otherwise the flags must say it all.
//! Values pass the same validators as the config loader. The client secret is never asked for
//! nor written: the file names where it comes from, and the next steps say how to provide it.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::{GlobalOpts, InitArgs};
use crate::cloud::Region;
use crate::config::{self, ConfigError, DEFAULT_SECRET_ENV, LoadOptions, Origin, SecretSource};
use crate::failure::Failure;

/// What goes into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answers {
    name: String,
    tenant_id: String,
    client_id: String,
    region: Region,
    secret: SecretSource,
}

/// Runs `mailtrail init`: writes the file, then prints the next steps.
pub fn run(global: &GlobalOpts, args: &InitArgs) -> Result<(), Failure> {
    let next = write_config(global, args, std::io::stdin().is_terminal())?;
    let _ = std::io::stdout().write_all(next.as_bytes());
    Ok(())
}

/// Asks (when `interactive`), validates and writes; returns the next steps to print.
fn write_config(
    global: &GlobalOpts,
    args: &InitArgs,
    interactive: bool,
) -> Result<String, Failure> {
    let path = match &global.config {
        Some(path) => path.clone(),
        None => config::default_config_path().ok_or_else(|| {
            Failure::usage(
                "cannot find the platform config directory (is HOME set?); pass --config FILE",
            )
        })?,
    };
    if path.is_dir() {
        return Err(Failure::usage(format!(
            "{} is a directory; pass --config with a file name, e.g. {}",
            path.display(),
            path.join("config.toml").display()
        )));
    }
    // Refuse before asking anything, so no typing is wasted.
    if path.exists() && !args.force {
        return Err(Failure::usage(format!(
            "{} already exists; pass --force to overwrite it, or --config FILE to write elsewhere",
            path.display()
        )));
    }

    let answers = if interactive {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        collect(args, Some(&mut input), &mut std::io::stderr())?
    } else {
        collect(args, None, &mut std::io::sink())?
    };

    let store_path = global
        .db
        .as_ref()
        .map(|db| std::path::absolute(db).unwrap_or_else(|_| db.clone()));
    let text = render(
        &answers,
        store_path.as_deref(),
        config::default_db_path().as_deref(),
    );
    write_private(&path, &text)?;

    // The file must load as written; if it does not, that is mailtrail's bug, not the user's.
    let check = LoadOptions {
        config_path: Some(path.clone()),
        db_path: Some(PathBuf::from("mailtrail.db")),
        env: HashMap::new(),
    };
    if let Err(e) = config::load(&check) {
        return Err(Failure::runtime(format!(
            "wrote {} but it does not load ({e}); please report this bug in mailtrail init",
            path.display()
        )));
    }

    let custom_path = global.config.as_ref().map(|_| path.as_path());
    Ok(next_steps(&path, custom_path, &answers))
}

/// Gathers the values from the flags, asking on `input` (a terminal) for those not given.
/// Without `input`, a missing required flag is an error naming every missing flag.
fn collect(
    args: &InitArgs,
    mut input: Option<&mut dyn BufRead>,
    out: &mut dyn Write,
) -> Result<Answers, Failure> {
    if input.is_none() {
        let missing: Vec<&str> = [
            (args.tenant_id.is_none(), "--tenant-id"),
            (args.client_id.is_none(), "--client-id"),
        ]
        .into_iter()
        .filter_map(|(is_missing, flag)| is_missing.then_some(flag))
        .collect();
        if !missing.is_empty() {
            return Err(Failure::usage(format!(
                "missing {}: stdin is not a terminal, so init cannot ask; e.g. mailtrail init \
                 --tenant-id <Directory (tenant) ID> --client-id <Application (client) ID>",
                missing.join(" and ")
            )));
        }
    }

    let name = value(
        args.name.as_deref(),
        "--name",
        "Name for this tenant in mailtrail (tags every stored row)",
        Some("default"),
        &mut input,
        out,
        config::validate_tenant_name,
    )?;
    let tenant_id = value(
        args.tenant_id.as_deref(),
        "--tenant-id",
        "Directory (tenant) ID (Azure portal: Microsoft Entra ID → App registrations → your \
         app → Overview), or a domain such as contoso.onmicrosoft.com",
        None,
        &mut input,
        out,
        config::validate_tenant_id,
    )?;
    let client_id = value(
        args.client_id.as_deref(),
        "--client-id",
        "Application (client) ID (same Overview page)",
        None,
        &mut input,
        out,
        config::validate_client_id,
    )?;
    let region = value(
        args.region.as_deref(),
        "--region",
        "Region: global (also GCC moderate), gcc-high, dod, china",
        Some("global"),
        &mut input,
        out,
        config::parse_region,
    )?;

    let secret = match (&args.secret_env, &args.secret_file) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(
                "--secret-env and --secret-file both given; keep only the one that will hold the secret",
            ));
        }
        (Some(var), None) => SecretSource::Env(config::validate_secret_env(
            var,
            Origin::Flag("--secret-env".into()),
        )?),
        (None, Some(file)) => {
            SecretSource::File(std::path::absolute(file).unwrap_or_else(|_| file.clone()))
        }
        (None, None) => SecretSource::Env(DEFAULT_SECRET_ENV.to_string()),
    };

    Ok(Answers {
        name,
        tenant_id,
        client_id,
        region,
        secret,
    })
}

/// One value: the flag's (validated; a bad flag is an error), or asked for until valid.
#[allow(clippy::too_many_arguments)]
fn value<T>(
    flag_value: Option<&str>,
    flag: &str,
    question: &str,
    default: Option<&str>,
    input: &mut Option<&mut dyn BufRead>,
    out: &mut dyn Write,
    validate: impl Fn(&str, Origin) -> Result<T, ConfigError>,
) -> Result<T, Failure> {
    if let Some(given) = flag_value {
        return Ok(validate(given, Origin::Flag(flag.to_string()))?);
    }
    let Some(input) = input.as_mut() else {
        // Only optional values get here without a terminal (required ones were checked).
        let default = default.unwrap_or_default();
        return Ok(validate(default, Origin::Flag(flag.to_string()))?);
    };
    loop {
        let prompt = match default {
            Some(d) => format!("{question} [{d}]: "),
            None => format!("{question}: "),
        };
        let _ = out.write_all(prompt.as_bytes());
        let _ = out.flush();
        let mut line = String::new();
        let read = input
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("init stopped: cannot read the answer ({e})")))?;
        if read == 0 {
            return Err(Failure::usage(format!(
                "init stopped at end of input; nothing was written (or pass {flag})"
            )));
        }
        // Whitespace typed at a prompt is invisible, so it is dropped here; the validators still
        // catch quotes and other paste leftovers.
        let answer = match line.trim() {
            "" => default.unwrap_or_default(),
            typed => typed,
        };
        if answer.is_empty() {
            let _ = writeln!(out, "  a value is needed");
            continue;
        }
        match validate(answer, Origin::Input) {
            Ok(valid) => return Ok(valid),
            Err(e) => {
                let _ = writeln!(out, "  {e}");
            }
        }
    }
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn path_string(path: &Path) -> String {
    toml_string(&path.to_string_lossy())
}

/// The config file: DESIGN §3's shape, every key explained, defaults shown commented out.
fn render(answers: &Answers, store_path: Option<&Path>, default_db: Option<&Path>) -> String {
    let (secret_env_line, secret_file_line) = match &answers.secret {
        SecretSource::Env(var) => (
            format!("client_secret_env = {}", toml_string(var)),
            "# client_secret_file = \"/run/secrets/mailtrail\"".to_string(),
        ),
        SecretSource::File(path) => (
            format!("# client_secret_env = {}", toml_string(DEFAULT_SECRET_ENV)),
            format!("client_secret_file = {}", path_string(path)),
        ),
    };
    let store_line = match (store_path, default_db) {
        (Some(path), _) => format!("path = {}", path_string(path)),
        (None, Some(path)) => format!("# path = {}", path_string(path)),
        (None, None) => "# path = \"/var/lib/mailtrail/mailtrail.db\"".to_string(),
    };
    let region = answers.region;
    format!(
        r#"# mailtrail configuration, written by `mailtrail init`.
#
# Check it:        mailtrail config
# Diagnose set-up: mailtrail doctor
#
# Key names are fixed: an unknown key is an error that names the nearest valid one.
# Settings can also come from MAILTRAIL_* environment variables, which override this file.
# Durations are a number and a unit: 30s, 5m, 24h, 7d (compounds like 1h30m also work).

# One [[tenant]] table per Microsoft 365 tenant; copy the whole table to add another.
[[tenant]]
# mailtrail's name for the tenant. Every stored row carries it, so keep it stable.
name = {name}
# Directory (tenant) ID: a GUID, or a verified domain such as contoso.onmicrosoft.com.
# Azure portal: Microsoft Entra ID -> App registrations -> your app -> Overview.
tenant_id = {tenant_id}
# Application (client) ID of the app registration (a GUID), on the same Overview page.
# The app needs the Microsoft Graph application permissions SecurityAlert.Read.All and
# ThreatHunting.Read.All, with admin consent.
client_id = {client_id}
# The client secret is never written in this file. It comes from either an environment
# variable holding the value (default MAILTRAIL_CLIENT_SECRET) ...
{secret_env_line}
# ... or a file holding only the value, readable by you alone (chmod 600). Keep one of the two.
{secret_file_line}
# The Microsoft cloud the tenant lives in: global (also GCC moderate), gcc-high, dod, china.
region = {region}
# Advanced: replace the login and Graph hosts (proxies, test rigs, the built-in simulator).
# Must be https://, except for loopback addresses. The token scope stays the region's.
# login_endpoint = "{login}"
# graph_endpoint = "{graph}"

# How collection runs. The values shown are the defaults.
[sync]
# How often `mailtrail run` polls.
# interval = "5m"
# How far back the first email-activity sync reaches: at most 30d (advanced hunting keeps 30 days).
# initial_lookback = "24h"
# Each pass re-reads this much before its checkpoint, so late updates are not missed.
# overlap = "10m"
# Email events younger than this wait for the next pass (advanced hunting ingests with a delay).
# activity_lag = "5m"
# Items per Graph page: 1 to 1000 (Graph caps alerts_v2 pages at 1000).
# page_size = 1000
# What to collect: "threats" (MDO alerts) and "activity" (email events).
# streams = ["threats", "activity"]

# The local store (SQLite). The values shown are the defaults.
[store]
# The database file; --db FILE or MAILTRAIL_DB override it.
{store_line}
# How long data is kept; `mailtrail prune` deletes what is older.
# retention = "180d"
"#,
        name = toml_string(&answers.name),
        tenant_id = toml_string(&answers.tenant_id),
        client_id = toml_string(&answers.client_id),
        region = toml_string(region.name()),
        login = region.login_host(),
        graph = region.graph_host(),
    )
}

/// Writes `text` to `path` with mode 0600, creating parent directories, replacing any existing
/// file in one step (a temporary file in the same directory, then a rename).
fn write_private(path: &Path, text: &str) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::usage(format!(
            "cannot write {}: {e}; choose another place with --config FILE",
            path.display()
        ))
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(fail)
}

/// A path as a shell word.
fn shell_word(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%".contains(&b))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// What to do after `init`: provide the secret, then check with `doctor`.
fn next_steps(path: &Path, custom_path: Option<&Path>, answers: &Answers) -> String {
    let mailtrail = match custom_path {
        Some(p) => format!("mailtrail --config {}", shell_word(p)),
        None => "mailtrail".to_string(),
    };
    let secret_step = match &answers.secret {
        SecretSource::Env(var) => format!(
            "  1. Provide the app's client secret (its Value, from Certificates & secrets);\n     \
             it is never stored in the config file:\n       export {var}=…\n"
        ),
        SecretSource::File(file) => {
            let file = shell_word(file);
            format!(
                "  1. Put the app's client secret (its Value, from Certificates & secrets) in the\n     \
                 secret file, readable by you only:\n       \
                 (umask 077 && cat > {file})   # paste the value, Enter, then Ctrl-D\n       \
                 chmod 600 {file}\n"
            )
        }
    };
    format!(
        "Wrote {} (mode 0600) for tenant '{}' in region {}.\n\nNext steps:\n{secret_step}  \
         2. Check the set-up, the token and the permissions:\n       {mailtrail} doctor\n  \
         3. Collect:\n       {mailtrail} sync\n",
        path.display(),
        answers.name,
        answers.region,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    fn args() -> InitArgs {
        InitArgs {
            name: None,
            tenant_id: None,
            client_id: None,
            region: None,
            secret_env: None,
            secret_file: None,
            force: false,
        }
    }

    fn full_args() -> InitArgs {
        InitArgs {
            name: Some("contoso".into()),
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT.into()),
            region: Some("gcc".into()),
            ..args()
        }
    }

    fn global(config: &Path) -> GlobalOpts {
        GlobalOpts {
            config: Some(config.to_path_buf()),
            db: None,
            verbose: 0,
            quiet: true,
        }
    }

    #[test]
    fn without_a_terminal_every_missing_flag_is_named() {
        let e = collect(&args(), None, &mut std::io::sink()).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(
            e.message
                .starts_with("missing --tenant-id and --client-id: stdin is not a terminal"),
            "{}",
            e.message
        );
        let e = collect(
            &InitArgs {
                tenant_id: Some(TENANT.into()),
                ..args()
            },
            None,
            &mut std::io::sink(),
        )
        .unwrap_err();
        assert!(
            e.message.starts_with("missing --client-id:"),
            "{}",
            e.message
        );
    }

    #[test]
    fn flags_are_validated_like_the_config_file() {
        let bad = InitArgs {
            client_id: Some("my-app".into()),
            ..full_args()
        };
        let e = collect(&bad, None, &mut std::io::sink()).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(
            e.message
                .starts_with("--client-id: client_id 'my-app' is not a GUID"),
            "{}",
            e.message
        );
        let bad = InitArgs {
            region: Some("mars".into()),
            ..full_args()
        };
        let e = collect(&bad, None, &mut std::io::sink()).unwrap_err();
        assert!(
            e.message
                .contains("valid regions: global, gcc-high, dod, china"),
            "{}",
            e.message
        );
        let pasted = InitArgs {
            tenant_id: Some(format!("{TENANT} ")),
            ..full_args()
        };
        let e = collect(&pasted, None, &mut std::io::sink()).unwrap_err();
        assert!(
            e.message
                .contains("tenant_id has leading/trailing whitespace"),
            "{}",
            e.message
        );
    }

    #[test]
    fn defaults_fill_name_and_region() {
        let given = InitArgs {
            tenant_id: Some(TENANT.into()),
            client_id: Some(CLIENT.into()),
            ..args()
        };
        let answers = collect(&given, None, &mut std::io::sink()).unwrap();
        assert_eq!(answers.name, "default");
        assert_eq!(answers.region, Region::Global);
        assert_eq!(answers.secret, SecretSource::Env(DEFAULT_SECRET_ENV.into()));
    }

    #[test]
    fn prompts_ask_again_until_a_value_is_valid() {
        let typed = format!("\nnot-a-tenant\n {TENANT} \n{CLIENT}\ndod\n");
        let mut input = std::io::Cursor::new(typed.into_bytes());
        let mut out = Vec::new();
        let answers = collect(&args(), Some(&mut input), &mut out).unwrap();
        assert_eq!(answers.name, "default");
        assert_eq!(answers.tenant_id, TENANT);
        assert_eq!(answers.client_id, CLIENT);
        assert_eq!(answers.region, Region::Dod);
        let shown = String::from_utf8(out).unwrap();
        assert!(
            shown.contains("Name for this tenant in mailtrail (tags every stored row) [default]: "),
            "{shown}"
        );
        assert!(
            shown.contains("tenant_id 'not-a-tenant' is neither a GUID nor a domain"),
            "{shown}"
        );
    }

    #[test]
    fn end_of_input_at_a_prompt_stops_without_writing() {
        let mut input = std::io::Cursor::new(b"contoso\n".to_vec());
        let e = collect(&args(), Some(&mut input), &mut std::io::sink()).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert!(e.message.contains("end of input"), "{}", e.message);
    }

    #[test]
    fn the_written_file_loads_cleanly_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/config.toml");
        write_config(&global(&path), &full_args(), false).unwrap();
        let loaded = config::load(&LoadOptions {
            config_path: Some(path.clone()),
            db_path: Some(dir.path().join("x.db")),
            env: HashMap::new(),
        })
        .unwrap();
        let t = &loaded.tenants[0];
        assert_eq!(
            (t.name.as_str(), t.tenant_id.as_str(), t.client_id.as_str()),
            ("contoso", TENANT, CLIENT)
        );
        assert_eq!(t.region, Region::Global);
        assert_eq!(
            t.secret_source,
            SecretSource::Env(DEFAULT_SECRET_ENV.into())
        );
        assert_eq!(loaded.sync, config::SyncConfig::default());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for key in [
            "[sync]",
            "# interval = \"5m\"",
            "# retention = \"180d\"",
            "# login_endpoint",
            "client_secret_env",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
        assert!(!text.contains("client_secret ="), "{text}");
    }

    #[test]
    fn an_existing_file_is_kept_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "# mine\n").unwrap();
        let e = write_config(&global(&path), &full_args(), false).unwrap_err();
        assert_eq!(e.exit_code, 2);
        assert_eq!(
            e.message,
            format!(
                "{} already exists; pass --force to overwrite it, or --config FILE to write elsewhere",
                path.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
        write_config(
            &global(&path),
            &InitArgs {
                force: true,
                ..full_args()
            },
            false,
        )
        .unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("[[tenant]]")
        );
    }

    #[test]
    fn a_secret_file_source_is_written_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let secret = dir.path().join("secret value");
        write_config(
            &global(&path),
            &InitArgs {
                secret_file: Some(secret.clone()),
                ..full_args()
            },
            false,
        )
        .unwrap();
        let loaded = config::load(&LoadOptions {
            config_path: Some(path),
            db_path: Some(dir.path().join("x.db")),
            env: HashMap::new(),
        })
        .unwrap();
        assert_eq!(loaded.tenants[0].secret_source, SecretSource::File(secret));
    }

    #[test]
    fn odd_characters_survive_the_round_trip() {
        let answers = Answers {
            name: "ac\"me\\x".into(),
            tenant_id: TENANT.into(),
            client_id: CLIENT.into(),
            region: Region::China,
            secret: SecretSource::File(PathBuf::from("/tmp/it's \"here\"")),
        };
        let text = render(&answers, Some(Path::new("/data/m\\t.db")), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, text).unwrap();
        let loaded = config::load(&LoadOptions {
            config_path: Some(path),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(loaded.tenants[0].name, "ac\"me\\x");
        assert_eq!(loaded.tenants[0].secret_source, answers.secret);
        assert_eq!(loaded.store.path, PathBuf::from("/data/m\\t.db"));
    }

    #[test]
    fn next_steps_say_how_to_give_the_secret_and_run_doctor() {
        let answers = collect(&full_args(), None, &mut std::io::sink()).unwrap();
        let text = next_steps(Path::new("/c/config.toml"), None, &answers);
        assert!(text.contains("export MAILTRAIL_CLIENT_SECRET=…"), "{text}");
        assert!(text.contains("       mailtrail doctor\n"), "{text}");
        let file = Answers {
            secret: SecretSource::File("/run/s".into()),
            ..answers
        };
        let text = next_steps(
            Path::new("/my conf.toml"),
            Some(Path::new("/my conf.toml")),
            &file,
        );
        assert!(text.contains("chmod 600 /run/s"), "{text}");
        assert!(
            text.contains("mailtrail --config '/my conf.toml' doctor"),
            "{text}"
        );
    }
}
