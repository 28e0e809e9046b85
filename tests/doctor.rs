//! `mailtrail doctor` against the simulator: one test per doctor code, each driving the
//! matching fault profile (or a config fixture) and asserting the code, the status and the fix;
//! the healthy simulator gives all ok. The binary runs with a clean environment (see
//! `doctor_support`), so nothing of the developer's own set-up leaks in.

mod doctor_support;

use std::time::Duration;

use doctor_support::{
    Home, SilentHost, Sim, assert_check, check, doctor_json, run, start_time, statuses,
};
use serde_json::{Value, json};

/// Every check after the region check, which must be skipped when it fails.
const AFTER_REGION: [&str; 6] = [
    "token",
    "permissions: threats",
    "permissions: activity",
    "least privilege",
    "data: threats",
    "data: activity",
];

fn assert_skipped(report: &Value, names: &[&str]) {
    for name in names {
        assert_eq!(check(report, name)["status"], "skip", "{name}: {report:#}");
    }
}

fn token_posts(sim: &Sim) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains("/oauth2/v2.0/token"))
        .count()
}

/// Sets the checkpoint of a stream in the store (test set-up only).
fn set_cursor(home: &Home, tenant: &str, stream: &str, cursor_ns: i64) {
    let conn = rusqlite::Connection::open(home.db()).unwrap();
    let changed = conn
        .execute(
            "UPDATE checkpoints SET cursor = ?3 WHERE tenant = ?1 AND stream = ?2",
            rusqlite::params![tenant, stream, mailtrail::store::sync::format_ns(cursor_ns)],
        )
        .unwrap();
    assert_eq!(changed, 1, "a checkpoint for {tenant}/{stream}");
}

// ----- healthy -----

#[test]
fn the_healthy_simulator_gives_all_ok_and_exit_0() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let synced = run(home.at(&sim).arg("sync"));
    assert_eq!(synced.code, Some(0), "{}", synced.both());
    let before = std::fs::read(home.db()).unwrap();

    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(0), "{}\n{}", statuses(&report), ran.both());
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "ok", "{c:#}");
        for key in ["name", "status", "code", "message", "fix"] {
            assert!(c.get(key).is_some(), "{key} missing in {c:#}");
        }
    }
    for (name, code) in [
        ("config", "config.ok"),
        ("secret", "secret.ok"),
        ("region", "region.ok"),
        ("token", "auth.ok"),
        ("permissions: threats", "permission.ok"),
        ("permissions: activity", "permission.ok"),
        ("least privilege", "permission.least_privilege"),
        ("data: threats", "data.ok"),
        ("data: activity", "data.ok"),
        ("store", "store.ok"),
        ("last sync: threats", "sync.ok"),
        ("last sync: activity", "sync.ok"),
    ] {
        assert_check(&report, name, "ok", code, &[]);
    }
    let secret = &sim.tenant().client_secret;
    assert!(
        check(&report, "secret")["message"]
            .as_str()
            .unwrap()
            .contains(&format!("MAILTRAIL_CLIENT_SECRET, {} chars", secret.len()))
    );
    let store = check(&report, "store")["message"].as_str().unwrap();
    assert!(
        store.contains("schema v")
            && store.contains("quick_check ok")
            && store.contains("journal wal"),
        "{store}"
    );
    let env = &report["environment"];
    assert_eq!(env["mailtrail"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        env["tenants"][0]["tenant_id"],
        sim.tenant().tenant_id.as_str()
    );
    assert_eq!(
        env["tenants"][0]["secret"],
        json!({"source": "env", "location": "MAILTRAIL_CLIENT_SECRET", "length": secret.len()})
    );
    assert_eq!(env["store"], home.db().display().to_string());

    // Read-only: the store's main file is byte-for-byte what sync left.
    assert_eq!(std::fs::read(home.db()).unwrap(), before);

    // The text report says the same, one or two lines per check.
    let text = run(home.at(&sim).arg("doctor"));
    assert_eq!(text.code, Some(0), "{}", text.both());
    assert!(
        text.stdout
            .contains("0 failed, 0 warning(s), 0 skipped, 12 ok"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("ok    region"), "{}", text.stdout);
}

#[test]
fn doctor_never_creates_the_store() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    assert_check(&report, "store", "ok", "store.new", &[]);
    assert!(
        check(&report, "store")["message"]
            .as_str()
            .unwrap()
            .contains("the first `mailtrail sync` creates it")
    );
    assert_eq!(check(&report, "last sync: threats")["code"], "sync.skipped");
    assert!(!home.db().exists(), "doctor created the store");
    assert!(
        !home.db().parent().unwrap().exists(),
        "doctor created the store's directory"
    );
}

// ----- config.* -----

#[test]
fn whitespace_around_the_tenant_id_is_config_whitespace_and_exit_2() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let padded = format!("{} ", sim.tenant().tenant_id);
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_TENANT_ID", &padded), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.whitespace",
        &["never trims them silently", "Overview page"],
    );
    let message = check(&report, "config")["message"].as_str().unwrap();
    assert!(
        message.starts_with("MAILTRAIL_TENANT_ID: tenant_id"),
        "{message}"
    );
    assert_skipped(&report, &["secret", "region", "token", "store"]);
    assert!(
        sim.requests().is_empty(),
        "nothing is sent with a broken config"
    );
}

#[test]
fn quotes_around_the_client_id_in_the_file_are_config_whitespace() {
    let home = Home::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/invalid_configs/client_id_quotes.toml");
    let (ran, report) = doctor_json(home.mailtrail().arg("--config").arg(&path), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.whitespace",
        &["remove the spaces, quotes"],
    );
    let message = check(&report, "config")["message"].as_str().unwrap();
    assert!(message.contains("client_id_quotes.toml:"), "{message}");
}

#[test]
fn a_trailing_newline_in_the_secret_is_config_whitespace_never_trimmed() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let secret = sim.tenant().client_secret.clone();
    for (damaged, damage) in [
        (format!("{secret}\n"), "a trailing line break"),
        (format!("'{secret}'"), "quotes around it"),
        (format!(" {secret}"), "leading whitespace"),
    ] {
        let (ran, report) =
            doctor_json(home.at(&sim).env("MAILTRAIL_CLIENT_SECRET", &damaged), &[]);
        assert_eq!(ran.code, Some(1), "{}", ran.both());
        assert_check(
            &report,
            "secret",
            "fail",
            "config.whitespace",
            &["never trims a secret silently"],
        );
        let message = check(&report, "secret")["message"].as_str().unwrap();
        assert!(message.contains(damage), "{message}");
        assert!(
            message.contains(&format!("({} chars)", damaged.chars().count())),
            "{message}"
        );
        assert!(!ran.stdout.contains(&secret) && !ran.stderr.contains(&secret));
        // The region is still checked (no credential needed); nothing is signed in with it.
        assert_eq!(check(&report, "region")["status"], "ok");
        assert_skipped(&report, &AFTER_REGION);
    }
    assert_eq!(token_posts(&sim), 0, "a damaged secret is never sent");
}

#[test]
fn client_secret_in_the_toml_is_config_secret_in_file() {
    let home = Home::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/invalid_configs/client_secret_in_file.toml");
    let (ran, report) = doctor_json(home.mailtrail().arg("--config").arg(&path), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.secret_in_file",
        &["delete the client_secret line", "chmod 600"],
    );
    // The value in the file is not echoed.
    assert!(!ran.stdout.contains("Xy28Q~"), "{}", ran.stdout);
}

#[test]
fn plain_http_to_a_remote_host_is_config_insecure_endpoint() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let (ran, report) = doctor_json(
        home.at(&sim)
            .env("MAILTRAIL_GRAPH_ENDPOINT", "http://graph.example.com"),
        &[],
    );
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.insecure_endpoint",
        &["use https://", "127.0.0.1, ::1 and localhost"],
    );
}

#[test]
fn a_toml_syntax_error_is_config_syntax() {
    let home = Home::new();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/invalid_configs/syntax_error.toml");
    let (ran, report) = doctor_json(home.mailtrail().arg("--config").arg(&path), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.syntax",
        &["line and column"],
    );
    assert!(
        check(&report, "config")["message"]
            .as_str()
            .unwrap()
            .contains("syntax_error.toml:7:12: invalid TOML")
    );
}

#[test]
fn no_tenant_at_all_is_config_no_tenant() {
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.mailtrail(), &[]);
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.no_tenant",
        &["mailtrail init"],
    );
    assert!(
        ran.stderr.contains("configuration cannot be used"),
        "{}",
        ran.stderr
    );
}

#[test]
fn tenant_flag_selects_one_tenant_and_an_unknown_name_is_config_unknown_tenant() {
    let mut opts = mailtrail::simulator::SimOptions::new(
        doctor_support::SEED,
        mailtrail::simulator::Scale::Small,
        start_time(),
    );
    opts.freeze = true;
    opts.tenants = 2;
    let sim = Sim::with_options(opts);
    let home = Home::new();
    let [a, b] = [&sim.sim.tenants()[0], &sim.sim.tenants()[1]];
    let url = sim.url();
    let config = home.config(&format!(
        "[[tenant]]\nname = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"A_SECRET\"\nlogin_endpoint = \"{url}\"\ngraph_endpoint = \"{url}\"\n\n\
         [[tenant]]\nname = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"B_SECRET\"\nlogin_endpoint = \"{url}\"\ngraph_endpoint = \"{url}\"\n",
        a.name, a.tenant_id, a.client_id, b.name, b.tenant_id, b.client_id
    ));
    let base = || {
        let mut cmd = home.mailtrail();
        cmd.arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(home.db())
            .env("A_SECRET", &a.client_secret)
            .env("B_SECRET", &b.client_secret);
        cmd
    };
    let (ran, report) = doctor_json(&mut base(), &["--tenant", &b.name]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    let tenants: std::collections::BTreeSet<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["tenant"].as_str())
        .collect();
    assert_eq!(
        tenants.into_iter().collect::<Vec<_>>(),
        vec![b.name.as_str()]
    );

    let (ran, report) = doctor_json(&mut base(), &[]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    assert_eq!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"] == "token")
            .count(),
        2
    );

    let (ran, report) = doctor_json(&mut base(), &["--tenant", "nope"]);
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert_check(
        &report,
        "config",
        "fail",
        "config.unknown_tenant",
        &["--tenant"],
    );
}

// ----- secret.* -----

#[test]
fn an_unset_secret_variable_is_secret_missing() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let (ran, report) = doctor_json(home.at(&sim).env_remove("MAILTRAIL_CLIENT_SECRET"), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "secret",
        "fail",
        "secret.missing",
        &["export MAILTRAIL_CLIENT_SECRET=", "Certificates & secrets"],
    );
    assert_skipped(&report, &AFTER_REGION);
    assert_eq!(token_posts(&sim), 0);
}

#[cfg(unix)]
#[test]
fn a_group_readable_secret_file_is_secret_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&[]);
    let home = Home::new();
    let secret = sim.tenant().client_secret.clone();
    let file = home.path().join("secret");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let config = home.config(&format!("[[tenant]]\nname = \"contoso\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_file = \"{}\"\n", sim.tenant().tenant_id, sim.tenant().client_id, file.display()));
    let cmd = || {
        let mut cmd = home.at(&sim);
        cmd.env_remove("MAILTRAIL_CLIENT_SECRET")
            .env_remove("MAILTRAIL_TENANT_NAME")
            .arg("--config")
            .arg(&config);
        cmd
    };
    let (ran, report) = doctor_json(&mut cmd(), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    let fix = format!("chmod 600 {}", file.display());
    assert_check(
        &report,
        "secret",
        "fail",
        "secret.file_permissions",
        &[&fix],
    );
    assert!(
        check(&report, "secret")["message"]
            .as_str()
            .unwrap()
            .contains("(mode 0640)")
    );
    assert_skipped(&report, &AFTER_REGION);
    assert!(!ran.stdout.contains(&secret));
    let summary = &report["environment"]["tenants"][0]["secret"];
    assert_eq!(summary["mode"], "0640");
    assert!(
        summary["length"].is_null(),
        "an exposed file is not read: {summary}"
    );

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ran, report) = doctor_json(&mut cmd(), &[]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    let message = check(&report, "secret")["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "file {} (mode 0600), {} chars",
            file.display(),
            secret.len()
        )),
        "{message}"
    );
    assert_eq!(
        report["environment"]["tenants"][0]["secret"]["mode"],
        "0600"
    );
    assert_eq!(
        report["environment"]["tenants"][0]["secret"]["length"],
        secret.len()
    );
}

// ----- region.* -----

#[test]
fn a_gcc_high_tenant_configured_as_global_is_region_mismatch_before_any_credential() {
    let sim = Sim::start(&["wrong-region"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "region",
        "fail",
        "region.mismatch",
        &["set region = \"gcc-high\"", "MAILTRAIL_REGION=gcc-high"],
    );
    let message = check(&report, "region")["message"].as_str().unwrap();
    assert!(
        message.contains("msgraph_host graph.microsoft.us"),
        "{message}"
    );
    assert!(message.contains("but region = global"), "{message}");
    assert_skipped(&report, &AFTER_REGION);
    assert_eq!(
        token_posts(&sim),
        0,
        "the secret was sent to the wrong cloud"
    );
    assert!(
        sim.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        sim.requests()
    );
}

#[test]
fn region_china_is_region_unsupported_without_a_request() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_REGION", "china"), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "region",
        "fail",
        "region.unsupported",
        &["set region to its cloud"],
    );
    let message = check(&report, "region")["message"].as_str().unwrap();
    assert!(
        message.contains("neither security/alerts_v2 nor advanced hunting"),
        "{message}"
    );
    assert_skipped(&report, &AFTER_REGION);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[test]
fn a_tenant_that_lives_in_china_is_region_unsupported() {
    let sim = Sim::start(&["china"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(&report, "region", "fail", "region.unsupported", &[]);
    assert!(
        check(&report, "region")["message"]
            .as_str()
            .unwrap()
            .contains("msgraph_host microsoftgraph.chinacloudapi.cn")
    );
    assert_eq!(token_posts(&sim), 0);
}

// ----- auth.* -----

fn assert_support_ids(report: &Value, name: &str) {
    let message = check(report, name)["message"].as_str().unwrap();
    assert!(
        message.contains("trace ID ") && message.contains("correlation ID "),
        "{message}"
    );
}

#[test]
fn the_secret_id_instead_of_its_value_is_auth_invalid_secret() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let secret_id = sim.tenant().client_secret_id.clone();
    let (ran, report) = doctor_json(
        home.at(&sim).env("MAILTRAIL_CLIENT_SECRET", &secret_id),
        &[],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "token",
        "fail",
        "auth.invalid_secret",
        &[
            "Value",
            "not its Secret ID",
            "Certificates & secrets",
            "Microsoft support",
        ],
    );
    let message = check(&report, "token")["message"].as_str().unwrap();
    assert!(message.contains("AADSTS7000215"), "{message}");
    assert!(
        message.contains("is a GUID, which is what a secret's ID looks like"),
        "{message}"
    );
    assert_support_ids(&report, "token");
    assert_skipped(&report, &AFTER_REGION[1..]);
}

#[test]
fn an_expired_secret_is_auth_expired_secret() {
    let sim = Sim::start(&["expired-secret"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "token",
        "fail",
        "auth.expired_secret",
        &[
            "Certificates & secrets → New client secret",
            "delete the expired one",
        ],
    );
    assert!(
        check(&report, "token")["message"]
            .as_str()
            .unwrap()
            .contains("AADSTS7000222")
    );
    assert_support_ids(&report, "token");
}

#[test]
fn a_client_id_not_in_the_tenant_is_auth_unknown_client() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let other = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_CLIENT_ID", other), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "token",
        "fail",
        "auth.unknown_client",
        &[other, "Application (client) ID"],
    );
    assert!(
        check(&report, "token")["message"]
            .as_str()
            .unwrap()
            .contains("AADSTS700016")
    );
    assert_support_ids(&report, "token");
}

#[test]
fn an_unknown_tenant_is_auth_unknown_tenant_before_any_credential() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let other = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_TENANT_ID", other), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "region",
        "fail",
        "auth.unknown_tenant",
        &["Directory (tenant) ID", "region = \"gcc-high\""],
    );
    let message = check(&report, "region")["message"].as_str().unwrap();
    assert!(
        message.contains(other) && message.contains("AADSTS90002"),
        "{message}"
    );
    assert_support_ids(&report, "region");
    assert_skipped(&report, &AFTER_REGION);
    assert_eq!(token_posts(&sim), 0);
}

/// A stand-in for Entra that says the tenant is global but refuses the token as cross-cloud
/// (what happens when a confidential client of one cloud signs in at another).
fn cross_cloud_entra(sim: &Sim) -> String {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    let app = Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(|| async {
                axum::Json(json!({
                    "msgraph_host": "graph.microsoft.com",
                    "cloud_instance_name": "microsoftonline.com",
                    "tenant_region_scope": "NA",
                }))
            }),
        )
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({
                        "error": "invalid_request",
                        "error_description": "AADSTS900382: Confidential Client is not supported in Cross Cloud request. Trace ID: 5a3c Correlation ID: 9f1e Timestamp: 2026-11-20 12:00:00Z",
                        "error_codes": [900382],
                        "timestamp": "2026-11-20 12:00:00Z",
                        "trace_id": "5a3c0000-0000-0000-0000-000000000001",
                        "correlation_id": "9f1e0000-0000-0000-0000-000000000002",
                    })),
                )
            }),
        );
    let listener = sim
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    sim.runtime().spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[test]
fn a_cross_cloud_refusal_is_auth_cross_cloud_with_the_support_ids() {
    let sim = Sim::start(&[]);
    let entra = cross_cloud_entra(&sim);
    let home = Home::new();
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_LOGIN_ENDPOINT", &entra), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_eq!(check(&report, "region")["status"], "ok");
    assert_check(
        &report,
        "token",
        "fail",
        "auth.cross_cloud",
        &[
            "set region to the cloud the tenant lives in",
            "gcc-high or dod",
        ],
    );
    let message = check(&report, "token")["message"].as_str().unwrap();
    assert!(message.contains("AADSTS900382"), "{message}");
    assert!(
        message.contains("5a3c0000-0000-0000-0000-000000000001"),
        "{message}"
    );
    assert!(
        message.contains("9f1e0000-0000-0000-0000-000000000002"),
        "{message}"
    );
}

// ----- permissions -----

#[test]
fn alerts_only_is_permission_missing_thread_hunting_for_activity() {
    let sim = Sim::start(&["alerts-only"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(&report, "permissions: threats", "ok", "permission.ok", &[]);
    assert_check(
        &report,
        "permissions: activity",
        "fail",
        "permission.missing",
        &["ThreatHunting.Read.All", "Grant admin consent"],
    );
    let message = check(&report, "permissions: activity")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains(
            "lacks the application role ThreatHunting.Read.All (it has: SecurityAlert.Read.All)"
        ),
        "{message}"
    );
    assert_check(&report, "data: threats", "ok", "data.ok", &[]);
    assert_eq!(check(&report, "data: activity")["status"], "skip");
}

#[test]
fn hunting_only_is_permission_missing_security_alert_for_threats() {
    let sim = Sim::start(&["hunting-only"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "permissions: threats",
        "fail",
        "permission.missing",
        &["SecurityAlert.Read.All", "Grant admin consent"],
    );
    assert_check(&report, "permissions: activity", "ok", "permission.ok", &[]);
    assert_eq!(check(&report, "data: threats")["status"], "skip");
}

#[test]
fn a_token_without_roles_is_consent_missing_with_the_portal_steps() {
    let sim = Sim::start(&["no-roles"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    for name in ["permissions: threats", "permissions: activity"] {
        assert_check(
            &report,
            name,
            "fail",
            "consent.missing",
            &[
                "API permissions → Add a permission → Microsoft Graph → Application permissions",
                "SecurityAlert.Read.All and ThreatHunting.Read.All",
                "Grant admin consent",
            ],
        );
        assert!(
            check(&report, name)["message"]
                .as_str()
                .unwrap()
                .contains("no application roles")
        );
    }
    assert_eq!(check(&report, "least privilege")["status"], "skip");
    assert_skipped(&report, &["data: threats", "data: activity"]);
}

#[test]
fn more_roles_than_needed_is_a_permission_excess_warning() {
    let sim = Sim::start(&["excess-roles"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(
        ran.code,
        Some(0),
        "a warning is not a failure: {}",
        statuses(&report)
    );
    assert_check(
        &report,
        "least privilege",
        "warn",
        "permission.excess",
        &[
            "remove SecurityAlert.ReadWrite.All",
            "read-only app registration",
        ],
    );
    let message = check(&report, "least privilege")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.starts_with("the app holds more than it needs: SecurityAlert.ReadWrite.All ("),
        "{message}"
    );
}

// ----- data.* -----

#[test]
fn a_tenant_without_mdo_data_is_data_empty_for_both_streams() {
    let sim = Sim::start(&["empty"]);
    let home = Home::new();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    assert_check(
        &report,
        "data: threats",
        "warn",
        "data.empty",
        &["Defender for Office 365 (Plan 1 or 2, or E5)"],
    );
    assert!(
        check(&report, "data: threats")["message"]
            .as_str()
            .unwrap()
            .contains("no Defender for Office 365 alerts at all")
    );
    assert_check(
        &report,
        "data: activity",
        "warn",
        "data.empty",
        &["licensed"],
    );
    assert!(
        check(&report, "data: activity")["message"]
            .as_str()
            .unwrap()
            .contains("no EmailEvents in its 30 days")
    );
}

#[test]
fn nothing_within_the_lookback_is_data_empty_with_the_newest_time() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let config = home.config("[sync]\ninitial_lookback = \"1s\"\n");
    let (ran, report) = doctor_json(home.at(&sim).arg("--config").arg(&config), &[]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    for name in ["data: threats", "data: activity"] {
        assert_check(
            &report,
            name,
            "warn",
            "data.empty",
            &["mailtrail sync --since 7d"],
        );
        let message = check(&report, name)["message"].as_str().unwrap();
        assert!(
            message
                .contains("within the lookback (initial_lookback 1s): the newest is from 2026-11-"),
            "{message}"
        );
    }
}

#[test]
fn a_cursor_ahead_of_the_data_is_data_empty() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let synced = run(home.at(&sim).arg("sync"));
    assert_eq!(synced.code, Some(0), "{}", synced.both());
    let now = start_time().timestamp_nanos_opt().unwrap();
    let tenant = sim.tenant().name.clone();
    set_cursor(&home, &tenant, "activity", now + 2 * 3_600 * 1_000_000_000);
    set_cursor(&home, &tenant, "threats", now);

    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(0), "{}", statuses(&report));
    assert_check(
        &report,
        "data: activity",
        "warn",
        "data.empty",
        &["move it aside"],
    );
    let message = check(&report, "data: activity")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("activity cursor (2026-11-20T14:00:00Z) is ahead of Microsoft's clock (2026-11-20T12:00:00Z)"),
        "{message}"
    );
    assert_check(
        &report,
        "data: threats",
        "warn",
        "data.empty",
        &["move it aside"],
    );
    let message = check(&report, "data: threats")["message"].as_str().unwrap();
    assert!(
        message.contains("ahead of the newest MDO alert update"),
        "{message}"
    );
}

// ----- store.* and sync.* -----

#[cfg(unix)]
#[test]
fn a_store_readable_by_others_is_a_store_permissions_warning() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::start(&[]);
    let home = Home::new();
    assert_eq!(run(home.at(&sim).arg("sync")).code, Some(0));
    std::fs::set_permissions(home.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, report) = doctor_json(&mut home.at(&sim), &[]);
    let fix = format!("chmod 600 {}*", home.db().display());
    assert_check(
        &report,
        "store permissions",
        "warn",
        "store.permissions",
        &[&fix],
    );
}

#[test]
fn a_damaged_store_is_store_corrupt_and_left_untouched() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    assert_eq!(run(home.at(&sim).arg("sync")).code, Some(0));
    let mut bytes = std::fs::read(home.db()).unwrap();
    // The second and third pages (the header says how big a page is).
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    for b in bytes.iter_mut().skip(page).take(2 * page) {
        *b = 0xA5;
    }
    std::fs::write(home.db(), &bytes).unwrap();
    let (ran, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_eq!(ran.code, Some(1), "{}", statuses(&report));
    assert_check(&report, "store", "fail", "store.corrupt", &["backup"]);
    assert_eq!(check(&report, "last sync: threats")["status"], "skip");
    assert_eq!(
        std::fs::read(home.db()).unwrap(),
        bytes,
        "doctor wrote to the store"
    );
}

#[test]
fn a_foreign_database_is_store_foreign_and_a_text_file_store_unusable() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    std::fs::create_dir_all(home.db().parent().unwrap()).unwrap();
    rusqlite::Connection::open(home.db())
        .unwrap()
        .execute_batch("CREATE TABLE notes(x); INSERT INTO notes VALUES (1);")
        .unwrap();
    let (_, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_check(&report, "store", "fail", "store.foreign", &["--db"]);

    std::fs::write(home.db(), "not a database, just some notes that are long enough to matter ........................................").unwrap();
    let (_, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_check(&report, "store", "fail", "store.unusable", &["--db"]);
}

#[test]
fn sync_history_is_reported_per_stream_never_run_and_failing() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let synced = run(home.at(&sim).args(["sync", "--stream", "threats"]));
    assert_eq!(synced.code, Some(0), "{}", synced.both());
    let (_, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_check(&report, "last sync: threats", "ok", "sync.ok", &[]);
    assert_check(
        &report,
        "last sync: activity",
        "warn",
        "sync.never_run",
        &["mailtrail sync"],
    );

    sim.sim.set_faults(
        0,
        mailtrail::simulator::FaultPlan::default()
            .with_profiles(&["no-roles"])
            .unwrap(),
    );
    let failed = run(home.at(&sim).arg("sync"));
    assert_eq!(failed.code, Some(1), "{}", failed.both());
    let (_, report) = doctor_json(&mut home.at(&sim), &[]);
    assert_check(
        &report,
        "last sync: threats",
        "warn",
        "sync.failing",
        &["Grant admin consent"],
    );
    assert!(
        check(&report, "last sync: threats")["message"]
            .as_str()
            .unwrap()
            .contains("[consent.missing]")
    );
}

// ----- network -----

#[test]
fn a_refused_connection_is_cannot_reach_within_seconds() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let (ran, report) = doctor_json(
        home.at(&sim)
            .env("MAILTRAIL_LOGIN_ENDPOINT", "http://127.0.0.1:1")
            .env("MAILTRAIL_GRAPH_ENDPOINT", "http://127.0.0.1:1"),
        &[],
    );
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert!(
        ran.elapsed < Duration::from_secs(10),
        "took {:?}",
        ran.elapsed
    );
    assert_check(
        &report,
        "region",
        "fail",
        "network.unreachable",
        &["HTTPS_PROXY", "login_endpoint"],
    );
    let message = check(&report, "region")["message"].as_str().unwrap();
    assert!(
        message.starts_with("cannot reach 127.0.0.1:1: "),
        "{message}"
    );
    assert_skipped(&report, &AFTER_REGION);
}

#[test]
fn hosts_that_accept_and_never_answer_cost_under_10_seconds() {
    let silent = SilentHost::start();
    let sim = Sim::start(&[]);
    let home = Home::new();

    // Login host silent: the region check gives up, nothing else is tried.
    let (ran, report) = doctor_json(
        home.at(&sim)
            .env("MAILTRAIL_LOGIN_ENDPOINT", silent.url())
            .env("MAILTRAIL_GRAPH_ENDPOINT", silent.url()),
        &[],
    );
    eprintln!(
        "silent login and graph hosts: doctor took {:?}",
        ran.elapsed
    );
    assert!(
        ran.elapsed < Duration::from_secs(10),
        "took {:?}",
        ran.elapsed
    );
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "region",
        "fail",
        "network.timeout",
        &["HTTPS_PROXY"],
    );
    let message = check(&report, "region")["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "cannot reach 127.0.0.1:{}: no answer within 5 s",
            silent.port
        )
    );

    // Graph host silent: both probes give up together.
    let (ran, report) = doctor_json(
        home.at(&sim).env("MAILTRAIL_GRAPH_ENDPOINT", silent.url()),
        &[],
    );
    eprintln!("silent graph host: doctor took {:?}", ran.elapsed);
    assert!(
        ran.elapsed < Duration::from_secs(10),
        "took {:?}",
        ran.elapsed
    );
    assert_eq!(check(&report, "token")["status"], "ok");
    for name in ["permissions: threats", "permissions: activity"] {
        assert_check(
            &report,
            name,
            "fail",
            "network.timeout",
            &["graph_endpoint"],
        );
        assert!(
            check(&report, name)["message"]
                .as_str()
                .unwrap()
                .starts_with("cannot reach ")
        );
    }
    assert_skipped(&report, &["data: threats", "data: activity"]);

    // The human report says it plainly too.
    let text = run(home
        .at(&sim)
        .env("MAILTRAIL_LOGIN_ENDPOINT", silent.url())
        .arg("doctor"));
    assert!(
        text.elapsed < Duration::from_secs(10),
        "took {:?}",
        text.elapsed
    );
    assert!(text.stdout.contains("FAIL  region"), "{}", text.stdout);
    assert!(
        text.stdout.contains("cannot reach 127.0.0.1:"),
        "{}",
        text.stdout
    );
}
