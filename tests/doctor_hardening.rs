//! Hardening around the credential and hostile input (issue 6): redirects never carry a request
//! (and the secret in a token POST) to another origin, oversized answers are refused instead of
//! buffered, the store and its WAL/SHM are private whatever the umask, an exposed secret file
//! stops every command, and text from Graph cannot drive the terminal.

mod doctor_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use doctor_support::{CountingHost, Home, Sim, assert_check, check, doctor_json, run};
use mailtrail::graph::{Credentials, GraphClient, TokenSource};
use mailtrail::secret::Secret;

/// Serves `app` on 127.0.0.1 from the simulator's runtime; returns its base URL.
fn serve(sim: &Sim, app: Router) -> String {
    let listener = sim
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    sim.runtime().spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

/// A host that answers the token POST with 307 and alerts_v2 with 302, both to `target`
/// (another origin), and `/v1.0/security/alerts_v2-same` with a 302 to a path of its own.
fn redirector(sim: &Sim, target: String) -> String {
    let token_target = target.clone();
    let app =
        Router::new()
            .route(
                "/{tenant}/oauth2/v2.0/token",
                post(move || {
                    let to = format!("{token_target}/steal/token");
                    async move {
                        (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]).into_response()
                    }
                }),
            )
            .route(
                "/v1.0/security/alerts_v2",
                get(move || {
                    let to = format!("{target}/steal/alerts");
                    async move { (StatusCode::FOUND, [(header::LOCATION, to)]).into_response() }
                }),
            )
            .route(
                "/v1.0/security/alerts_v2-same",
                get(|| async {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, "/v1.0/security/alerts_v2-moved?$top=1")],
                    )
                        .into_response()
                }),
            )
            .route(
                "/v1.0/security/alerts_v2-moved",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"value":[]}"#,
                    )
                        .into_response()
                }),
            );
    serve(sim, app)
}

fn creds(sim: &Sim, login: &str) -> Credentials {
    let t = sim.tenant();
    Credentials {
        token_url: format!("{login}/{}/oauth2/v2.0/token", t.tenant_id),
        tenant_id: t.tenant_id.clone(),
        client_id: t.client_id.clone(),
        secret: Secret::new(t.client_secret.clone()),
        scope: "https://graph.microsoft.com/.default".into(),
    }
}

#[test]
fn redirects_to_another_host_or_port_are_not_followed() {
    let sim = Sim::start(&[]);
    let target = CountingHost::start();
    let http = mailtrail::graph::http_client().expect("http client");
    for other in [
        format!("http://127.0.0.1:{}", target.port), // same host, another port
        format!("http://localhost:{}", target.port), // another host name
    ] {
        let evil = redirector(&sim, other.clone());

        // A token POST redirected elsewhere would re-send the form, secret included.
        let source = TokenSource::new(creds(&sim, &evil));
        let result = sim.block_on(source.token(&http));
        let err = result
            .err()
            .unwrap_or_else(|| panic!("a token through {other}"));
        assert!(err.to_string().contains("HTTP 307"), "{err}");

        // A Graph GET redirected elsewhere would carry the bearer token.
        let client = GraphClient::new(
            http.clone(),
            TokenSource::new(creds(&sim, &sim.url())),
            &evil,
        );
        let page =
            sim.block_on(client.alerts_page(&format!("{evil}/v1.0/security/alerts_v2?$top=1")));
        let err = page
            .err()
            .unwrap_or_else(|| panic!("alerts through {other}"));
        assert!(err.to_string().contains("302"), "{err}");

        // Within the same origin a redirect is still followed.
        let page = sim
            .block_on(client.alerts_page(&format!("{evil}/v1.0/security/alerts_v2-same")))
            .expect("a same-origin redirect is followed");
        assert!(page.alerts.is_empty());
    }
    assert_eq!(target.hits(), 0, "a redirect reached the other origin");

    // Positive control: the target does count what reaches it.
    let direct = sim.block_on(
        http.get(format!("http://127.0.0.1:{}/x", target.port))
            .send(),
    );
    assert!(direct.is_ok());
    assert_eq!(target.hits(), 1);
}

#[test]
fn doctor_does_not_follow_a_login_host_that_redirects_elsewhere() {
    let sim = Sim::start(&[]);
    let target = CountingHost::start();
    let port = target.port;
    let app = Router::new().fallback(move || {
        let to = format!("http://localhost:{port}/elsewhere");
        async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]).into_response() }
    });
    let evil = serve(&sim, app);
    let home = Home::new();
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_LOGIN_ENDPOINT", &evil), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(
        &report,
        "region",
        "warn",
        "region.unverified",
        &["login_endpoint"],
    );
    assert!(
        check(&report, "region")["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 307")
    );
    assert_eq!(check(&report, "token")["status"], "fail");
    assert_eq!(
        target.hits(),
        0,
        "doctor followed a redirect to another origin"
    );
}

/// A login host whose every answer is 2 MiB long.
fn oversized_login(sim: &Sim) -> String {
    let big = || async {
        let mut body = String::from("{\"access_token\":\"");
        body.push_str(&"a".repeat(2 << 20));
        body.push_str("\",\"expires_in\":3599}");
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    let app = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(big))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(big));
    serve(sim, app)
}

#[test]
fn oversized_answers_are_refused_not_buffered() {
    let sim = Sim::start(&[]);
    let login = oversized_login(&sim);
    let http = mailtrail::graph::http_client().expect("http client");
    let err = sim
        .block_on(TokenSource::new(creds(&sim, &login)).token(&http))
        .expect_err("a 2 MiB token answer is refused");
    assert!(err.to_string().contains("larger than 1 MiB"), "{err}");

    let home = Home::new();
    let (ran, report) = doctor_json(home.at(&sim).env("MAILTRAIL_LOGIN_ENDPOINT", &login), &[]);
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    assert_check(&report, "region", "fail", "graph.bad_response", &[]);
    assert!(
        check(&report, "region")["message"]
            .as_str()
            .unwrap()
            .contains("larger than 1 MiB")
    );
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `cmd`'s program run through `sh -c 'umask 000; exec …'` with the same environment.
fn with_open_umask(cmd: &Command, args: &[&str]) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(cmd.get_program())
        .args(args);
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => sh.env(key, v),
            None => sh.env_remove(key),
        };
    }
    sh
}

#[test]
fn the_store_and_its_wal_and_shm_are_0600_even_with_an_open_umask() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let ran = run(&mut with_open_umask(&home.at(&sim), &["sync"]));
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    assert_eq!(mode(&home.db()), 0o600, "the store");
    assert_eq!(
        mode(home.db().parent().unwrap()),
        0o700,
        "the store's directory"
    );
    // A reader leaves the WAL and shared-memory files behind: they must be as private.
    let ran = run(&mut with_open_umask(&home.at(&sim), &["status"]));
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    for suffix in ["-wal", "-shm"] {
        let mut name = home.db().into_os_string();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn a_group_readable_secret_file_stops_sync_before_anything_is_sent() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    let t = sim.tenant();
    let file = home.path().join("secret");
    std::fs::write(&file, &t.client_secret).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let config = home.config(&format!(
        "[[tenant]]\nname = \"contoso\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\nclient_secret_file = \"{}\"\n",
        t.tenant_id,
        t.client_id,
        file.display()
    ));
    let ran = run(home
        .at(&sim)
        .env_remove("MAILTRAIL_CLIENT_SECRET")
        .env_remove("MAILTRAIL_TENANT_NAME")
        .arg("--config")
        .arg(&config)
        .arg("sync"));
    assert_eq!(ran.code, Some(2), "{}", ran.both());
    assert!(
        ran.stderr
            .contains("readable by group or others (mode 0604)"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains(&t.client_secret));
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

// ----- hostile text on the terminal -----

const HOSTILE_ROLE: &str = "Evil\u{1b}[2J\u{1b}]0;pwned\u{7}Role\u{202e}";

/// Raw terminal controls: C0 (but newline and tab), DEL, C1, bidi overrides and isolates.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c < ' ' && c != '\n' && c != '\t')
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || mailtrail::terminal::is_bidi_control(c)
        })
        .collect()
}

fn hostile_sim() -> Sim {
    Sim::with_faults(mailtrail::simulator::FaultPlan {
        roles: Some(vec![HOSTILE_ROLE.to_string()]),
        ..Default::default()
    })
}

#[test]
fn status_and_doctor_neutralise_hostile_graph_text() {
    let sim = hostile_sim();
    let home = Home::new();
    let synced = run(home.at(&sim).arg("sync"));
    assert_eq!(synced.code, Some(1), "{}", synced.both());
    assert!(
        raw_controls(&synced.stdout).is_empty(),
        "sync's table: {:?}",
        synced.stdout
    );

    let status = run(home.at(&sim).arg("status"));
    assert!(status.stdout.contains("Evil\\x1b[2J"), "{}", status.stdout);
    assert!(
        raw_controls(&status.stdout).is_empty(),
        "{:?}",
        status.stdout
    );

    let doctor = run(home.at(&sim).arg("doctor"));
    assert!(
        doctor
            .stdout
            .contains("Evil\\x1b[2J\\x1b]0;pwned\\x07Role\\u{202e}"),
        "{}",
        doctor.stdout
    );
    assert!(
        raw_controls(&doctor.stdout).is_empty(),
        "{:?}",
        doctor.stdout
    );
    let (_, report) = doctor_json(&mut home.at(&sim), &[]);
    let json = serde_json::to_string(&report).unwrap();
    assert!(raw_controls(&json).is_empty(), "{json}");
}

#[test]
fn status_neutralises_a_hostile_tenant_name_in_the_store() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    assert_eq!(run(home.at(&sim).arg("sync")).code, Some(0));
    rusqlite::Connection::open(home.db())
        .unwrap()
        .execute(
            "INSERT INTO sync_runs (tenant, stream, started_ms, ended_ms, outcome, error_kind, error_message)
             VALUES (?1, 'threats', 1, 2, 'failed', 'graph.refused', ?2)",
            rusqlite::params!["evil\u{1b}[2J\u{202e}", "boom \u{1b}]52;c;aGk=\u{7} done"],
        )
        .unwrap();
    let status = run(home.at(&sim).arg("status"));
    assert_eq!(status.code, Some(0), "{}", status.both());
    assert!(
        status.stdout.contains("evil\\x1b[2J\\u{202e}"),
        "{}",
        status.stdout
    );
    assert!(
        raw_controls(&status.stdout).is_empty(),
        "{:?}",
        status.stdout
    );
}

/// Known gap, reported to the lead (not fixed here: the code is theirs): `sync`'s failure
/// summary (`src/commands.rs`, `verdict()`, printed raw by `main.rs`) puts Graph's error text
/// on the terminal unneutralised; tracing lines escape C0 controls but keep bidi overrides.
#[test]
fn sync_errors_on_stderr_neutralise_hostile_graph_text() {
    let sim = hostile_sim();
    let home = Home::new();
    let synced = run(home.at(&sim).arg("-vv").arg("sync"));
    assert_eq!(synced.code, Some(1), "{}", synced.both());
    assert!(
        raw_controls(&synced.stderr).is_empty(),
        "{:?}",
        synced.stderr
    );
}

#[test]
fn hostile_text_detection_sees_escapes_and_bidi() {
    assert_eq!(
        raw_controls("a\u{1b}[2Jb\u{202e}c\n\t"),
        vec!['\u{1b}', '\u{202e}']
    );
    assert!(raw_controls("Evil\\x1b[2J ok").is_empty());
}

/// `mailtrail query` opens the store read-only: a statement that writes fails and changes
/// nothing. Skipped while `query` is not built.
#[test]
fn query_cannot_write_to_the_store() {
    let sim = Sim::start(&[]);
    let home = Home::new();
    assert_eq!(run(home.at(&sim).arg("sync")).code, Some(0));
    let before = std::fs::read(home.db()).unwrap();
    for sql in [
        "DELETE FROM alerts",
        "UPDATE checkpoints SET cursor = 'x'",
        "CREATE TABLE planted(x)",
        "PRAGMA user_version = 99",
    ] {
        let ran = run(home.at(&sim).args(["query", sql]));
        if ran.stderr.contains("not built yet") {
            eprintln!("query is not built yet; nothing to check");
            return;
        }
        assert_ne!(ran.code, Some(0), "`query {sql}` succeeded: {}", ran.both());
    }
    assert_eq!(
        std::fs::read(home.db()).unwrap(),
        before,
        "query changed the store"
    );
}
