//! The simulator over real HTTP on an OS-chosen port: the Entra token contract, OpenID
//! configuration, alerts_v2 paging, advanced hunting windows, auth failures and faults,
//! determinism — each compared with the simulator's own ground truth.

mod common;

use std::collections::HashSet;

use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::{http, simulator, start_time, token};
use mailtrail::simulator::{FaultPlan, Scale, Simulator};
use serde_json::{Value, json};

async fn token_request(sim: &Simulator, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", sim.url()))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn creds<'a>(id: &'a str, secret: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

const GLOBAL_SCOPE: &str = "https://graph.microsoft.com/.default";

fn assert_entra_error(status: u16, body: &Value, want_status: u16, error: &str, code: u64) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let desc = body["error_description"].as_str().unwrap();
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert_eq!(body["error_codes"], json!([code]));
    for key in ["timestamp", "trace_id", "correlation_id"] {
        assert!(
            body[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key} missing in {body}"
        );
    }
}

fn jwt_payload(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn token_success_is_a_jwt_with_the_entra_claims() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let t = &sim.tenants()[0];
    let (status, body) = token_request(
        &sim,
        &t.tenant_id,
        &creds(&t.client_id, &t.client_secret, GLOBAL_SCOPE),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let claims = jwt_payload(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["tid"], t.tenant_id.as_str());
    assert_eq!(claims["appid"], t.client_id.as_str());
    assert_eq!(
        claims["iss"],
        format!("https://sts.windows.net/{}/", t.tenant_id)
    );
    assert_eq!(claims["exp"], start_time().timestamp() + 3599);
    assert_eq!(
        claims["roles"],
        json!(["SecurityAlert.Read.All", "ThreatHunting.Read.All"])
    );
    // The tenant can also be named by its domains.
    for name in [t.domain.clone(), t.initial_domain()] {
        let (status, _) = token_request(
            &sim,
            &name,
            &creds(&t.client_id, &t.client_secret, GLOBAL_SCOPE),
        )
        .await;
        assert_eq!(status, 200, "tenant named {name}");
    }
}

#[tokio::test]
async fn every_token_failure_has_the_real_code_and_body() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let t = &sim.tenants()[0];
    let (id, secret, tid) = (
        t.client_id.as_str(),
        t.client_secret.as_str(),
        t.tenant_id.as_str(),
    );

    let (s, b) = token_request(&sim, tid, &creds(id, "wrong-secret", GLOBAL_SCOPE)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000215);
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .contains("not the client secret ID")
    );

    // The classic mistake: the secret's ID pasted instead of its value.
    let (s, b) = token_request(&sim, tid, &creds(id, &t.client_secret_id, GLOBAL_SCOPE)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000215);

    let (s, b) = token_request(
        &sim,
        tid,
        &creds("11111111-2222-3333-4444-555555555555", secret, GLOBAL_SCOPE),
    )
    .await;
    assert_entra_error(s, &b, 400, "unauthorized_client", 700016);

    let (s, b) = token_request(
        &sim,
        "99999999-9999-9999-9999-999999999999",
        &creds(id, secret, GLOBAL_SCOPE),
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_tenant", 90002);

    let (s, b) = token_request(&sim, "not a tenant!", &creds(id, secret, GLOBAL_SCOPE)).await;
    assert_entra_error(s, &b, 400, "invalid_request", 900023);

    let (s, b) = token_request(
        &sim,
        tid,
        &creds(id, secret, "https://graph.example/.default"),
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_scope", 70011);

    let (s, b) = token_request(
        &sim,
        tid,
        &creds(id, secret, "https://graph.microsoft.com/User.Read"),
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_scope", 70011);

    let (s, b) = token_request(
        &sim,
        tid,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("scope", GLOBAL_SCOPE),
        ],
    )
    .await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000218);

    // An expired secret is refused even when it is the right one.
    sim.set_faults(
        0,
        FaultPlan::default()
            .with_profiles(&["expired-secret"])
            .unwrap(),
    );
    let (s, b) = token_request(&sim, tid, &creds(id, secret, GLOBAL_SCOPE)).await;
    assert_entra_error(s, &b, 401, "invalid_client", 7000222);
    assert!(b["error_description"].as_str().unwrap().contains("expired"));

    // A GCC High tenant asked for a global-cloud token.
    sim.set_faults(
        0,
        FaultPlan::default()
            .with_profiles(&["wrong-region"])
            .unwrap(),
    );
    let (s, b) = token_request(&sim, tid, &creds(id, secret, GLOBAL_SCOPE)).await;
    assert_entra_error(s, &b, 400, "invalid_request", 900382);
    let (s, _) = token_request(
        &sim,
        tid,
        &creds(id, secret, "https://graph.microsoft.us/.default"),
    )
    .await;
    assert_eq!(s, 200, "the tenant's own cloud works");
}

#[tokio::test]
async fn client_request_id_is_echoed_as_the_correlation_id() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let t = &sim.tenants()[0];
    let resp = http()
        .post(format!("{}/{}/oauth2/v2.0/token", sim.url(), t.tenant_id))
        .header("client-request-id", "0b3d6e1c-0000-4000-8000-000000000001")
        .form(&creds(&t.client_id, "nope", GLOBAL_SCOPE))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["correlation_id"],
        "0b3d6e1c-0000-4000-8000-000000000001"
    );
}

#[tokio::test]
async fn openid_configuration_names_the_tenants_cloud() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tid = sim.tenants()[0].tenant_id.clone();
    let url = format!("{}/{tid}/v2.0/.well-known/openid-configuration", sim.url());
    let body: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["msgraph_host"], "graph.microsoft.com");
    assert_eq!(body["cloud_instance_name"], "microsoftonline.com");
    assert!(body["tenant_region_scope"].is_string());
    assert_eq!(
        body["token_endpoint"],
        format!("https://login.microsoftonline.com/{tid}/oauth2/v2.0/token")
    );

    sim.set_faults(
        0,
        FaultPlan::default()
            .with_profiles(&["wrong-region"])
            .unwrap(),
    );
    let body: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["msgraph_host"], "graph.microsoft.us");
    assert_eq!(body["cloud_instance_name"], "microsoftonline.us");
    assert_eq!(body["tenant_region_scope"], "USGov");

    let resp = http()
        .get(format!(
            "{}/nobody.example/v2.0/.well-known/openid-configuration",
            sim.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([90002]));
}

async fn graph_get(
    sim: &Simulator,
    token: &str,
    url: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = http().get(url).bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let _ = sim;
    (status, headers, resp.json().await.unwrap_or(Value::Null))
}

/// Follows nextLinks verbatim and returns (pages, all alerts).
async fn page_all(sim: &Simulator, token: &str, first: &str) -> (usize, Vec<Value>) {
    let mut url = first.to_string();
    let mut pages = 0;
    let mut all = Vec::new();
    loop {
        let (status, _, body) = graph_get(sim, token, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        pages += 1;
        all.extend(body["value"].as_array().unwrap().iter().cloned());
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => return (pages, all),
        }
    }
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn paging_returns_each_matching_alert_exactly_once() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    let now = sim.clock().now();
    let dataset = &sim.tenants()[0].dataset;
    let mdo_truth: HashSet<String> = dataset
        .visible_mdo_alerts(now)
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        mdo_truth.len() > 100,
        "small scale has a few hundred MDO alerts"
    );
    let since = now - Duration::days(3);
    let since_text = since.to_rfc3339_opts(SecondsFormat::Secs, true);
    let all_heads: Vec<_> = (0..dataset.alert_count())
        .filter_map(|i| dataset.alert_head(i, now))
        .collect();

    let cases: Vec<(String, HashSet<String>)> = vec![
        (
            "".to_string(),
            all_heads.iter().map(|h| h.id.clone()).collect(),
        ),
        (
            "serviceSource eq 'microsoftDefenderForOffice365'".to_string(),
            mdo_truth.clone(),
        ),
        (
            format!(
                "serviceSource eq 'microsoftDefenderForOffice365' and lastUpdateDateTime ge {since_text}"
            ),
            all_heads
                .iter()
                .filter(|h| {
                    h.service_source == "microsoftDefenderForOffice365" && h.last_update >= since
                })
                .map(|h| h.id.clone())
                .collect(),
        ),
        (
            format!("createdDateTime lt {since_text} and status ne 'resolved'"),
            all_heads
                .iter()
                .filter(|h| h.created < since && h.status != "resolved")
                .map(|h| h.id.clone())
                .collect(),
        ),
    ];
    for (filter, truth) in cases {
        for top in [1usize, 7, 100, 1000, 5000] {
            if top == 1 && truth.len() > 300 {
                continue; // one request per alert: covered by the smaller filters
            }
            let mut url = format!(
                "{}/v1.0/security/alerts_v2?$top={top}&$orderby=lastUpdateDateTime%20asc",
                sim.url()
            );
            if !filter.is_empty() {
                url.push_str(&format!("&$filter={}", filter.replace(' ', "%20")));
            }
            let (pages, alerts) = page_all(&sim, &tok, &url).await;
            let ids: Vec<String> = alerts
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect();
            let unique: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(
                ids.len(),
                unique.len(),
                "duplicates with filter '{filter}' top {top}"
            );
            assert_eq!(unique, truth, "filter '{filter}' top {top}");
            let page_size = top.min(1000);
            assert_eq!(
                pages,
                truth.len().div_ceil(page_size).max(1),
                "pages for top {top}"
            );
            let times: Vec<DateTime<Utc>> = alerts
                .iter()
                .map(|a| time(&a["lastUpdateDateTime"]))
                .collect();
            assert!(
                times.windows(2).all(|w| w[0] <= w[1]),
                "ascending lastUpdateDateTime"
            );
        }
    }
}

#[tokio::test]
async fn paging_is_a_stable_snapshot_while_the_clock_runs() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    let now = sim.clock().now();
    let truth = sim.tenants()[0].dataset.visible_mdo_alerts(now).len();
    let first = format!(
        "{}/v1.0/security/alerts_v2?$top=50&$filter=serviceSource%20eq%20'microsoftDefenderForOffice365'",
        sim.url()
    );
    let (_, _, body) = graph_get(&sim, &tok, &first).await;
    // Time moves on between pages: new alerts and updates appear, but this listing must not shift.
    sim.clock().advance(Duration::hours(6));
    let tok = token(&sim, 0).await;
    let (_, rest) = page_all(&sim, &tok, body["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(50 + rest.len(), truth);
}

#[tokio::test]
async fn bad_alert_queries_get_graph_400s() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    for query in [
        "$filter=title%20eq%20'x'",
        "$filter=lastUpdateDateTime%20ge%20yesterday",
        "$filter=status%20eq%20'new'%20or%20status%20eq%20'resolved'",
        "$top=abc",
        "$skiptoken=garbage",
        "$select=id",
        "$orderby=severity",
    ] {
        let (status, _, body) = graph_get(
            &sim,
            &tok,
            &format!("{}/v1.0/security/alerts_v2?{query}", sim.url()),
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "BadRequest");
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }
}

async fn hunt(
    sim: &Simulator,
    token: &str,
    query: &str,
    timespan: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut body = json!({ "Query": query });
    if let Some(t) = timespan {
        body["Timespan"] = json!(t);
    }
    let resp = http()
        .post(format!("{}/v1.0/security/runHuntingQuery", sim.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn window_query(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let f = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    format!(
        "EmailEvents | where Timestamp > datetime({}) and Timestamp <= datetime({}) | project Timestamp, NetworkMessageId, RecipientEmailAddress, Subject | order by Timestamp asc",
        f(from),
        f(to)
    )
}

#[tokio::test]
async fn hunting_windows_return_exactly_the_rows_inside_them() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    let now = sim.clock().now();
    let dataset = &sim.tenants()[0].dataset;
    let windows = [
        (now - Duration::hours(24), now - Duration::hours(23)),
        (now - Duration::days(29), now - Duration::days(20)),
        (now - Duration::minutes(30), now),
        (
            now - Duration::minutes(7) + Duration::nanoseconds(123_400),
            now - Duration::minutes(2),
        ),
    ];
    let mut total = 0;
    for (from, to) in windows {
        let (status, _, text) = hunt(&sim, &tok, &window_query(from, to), None).await;
        assert_eq!(status, 200, "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        let schema: Vec<&str> = body["schema"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            schema,
            [
                "Timestamp",
                "NetworkMessageId",
                "RecipientEmailAddress",
                "Subject"
            ]
        );
        assert_eq!(body["schema"][0]["type"], "DateTime");
        let rows = body["results"].as_array().unwrap();
        let got: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["NetworkMessageId"].as_str().unwrap().into(),
                    r["RecipientEmailAddress"].as_str().unwrap().into(),
                )
            })
            .collect();
        let want = dataset.visible_email_event_keys(from, to, now);
        assert_eq!(got, want, "window {from} .. {to}");
        for r in rows {
            let ts = time(&r["Timestamp"]);
            assert!(ts > from && ts <= to, "{ts} outside ({from}, {to}]");
        }
        total += rows.len();
    }
    assert!(total > 0, "the windows hold data");

    // Timespan narrows too, and data older than 30 days is gone.
    let (_, _, text) = hunt(
        &sim,
        &tok,
        "EmailEvents | project NetworkMessageId, RecipientEmailAddress",
        Some("P1D"),
    )
    .await;
    let body: Value = serde_json::from_str(&text).unwrap();
    let want = dataset.visible_email_event_keys(
        now - Duration::days(1) - Duration::nanoseconds(100),
        now,
        now,
    );
    assert_eq!(body["results"].as_array().unwrap().len(), want.len());
    let (_, _, text) = hunt(
        &sim,
        &tok,
        &window_query(now - Duration::days(40), now - Duration::days(31)),
        None,
    )
    .await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["results"], json!([]), "advanced hunting keeps 30 days");
}

#[tokio::test]
async fn hunting_caps_at_100000_rows_and_take_limits() {
    let sim = simulator(Scale::Large, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    // Large scale holds ~33,000 events a day: five days are over the cap.
    let (status, _, text) = hunt(
        &sim,
        &tok,
        "EmailEvents | project NetworkMessageId",
        Some("P5D"),
    )
    .await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["results"].as_array().unwrap().len(), 100_000);
    let (_, _, text) = hunt(&sim, &tok, "EmailEvents | take 1", None).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert!(
        body["schema"].as_array().unwrap().len() >= 30,
        "every EmailEvents column"
    );
    let (_, _, text) = hunt(
        &sim,
        &tok,
        "EmailEvents | order by Timestamp desc | take 5",
        None,
    )
    .await;
    let body: Value = serde_json::from_str(&text).unwrap();
    let times: Vec<DateTime<Utc>> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| time(&r["Timestamp"]))
        .collect();
    assert_eq!(times.len(), 5);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn unknown_tables_and_columns_are_400_semantic_errors() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    for (q, needle) in [
        (
            "DeviceProcessEvents | take 1",
            "Failed to resolve table or column expression named 'DeviceProcessEvents'",
        ),
        (
            "EmailEvents | project Nope",
            "Failed to resolve scalar expression named 'Nope'",
        ),
        (
            "EmailEvents | where Nope == 1",
            "Failed to resolve scalar expression named 'Nope'",
        ),
    ] {
        let (status, _, text) = hunt(&sim, &tok, q, None).await;
        assert_eq!(status, 400, "{q}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["code"], "BadRequest");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(needle),
            "{text}"
        );
    }
}

#[tokio::test]
async fn graph_401_without_or_with_an_expired_token() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let url = format!("{}/v1.0/security/alerts_v2?$top=1", sim.url());
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(body["error"]["message"], "Access token is empty.");

    let tok = token(&sim, 0).await;
    assert_eq!(graph_get(&sim, &tok, &url).await.0, 200);
    sim.clock().advance(Duration::seconds(3600));
    let (status, headers, body) = graph_get(&sim, &tok, &url).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
    assert!(headers.contains_key("www-authenticate"));

    let mut forged = tok.clone();
    forged.push('x');
    assert_eq!(graph_get(&sim, &forged, &url).await.0, 401);
}

#[tokio::test]
async fn short_lived_tokens_expire_server_side() {
    let sim = simulator(
        Scale::Small,
        FaultPlan::default()
            .with_profiles(&["expiring-tokens"])
            .unwrap(),
    )
    .await;
    let t = &sim.tenants()[0];
    let (_, body) = token_request(
        &sim,
        &t.tenant_id,
        &creds(&t.client_id, &t.client_secret, GLOBAL_SCOPE),
    )
    .await;
    assert_eq!(body["expires_in"], 5);
    let tok = body["access_token"].as_str().unwrap().to_string();
    let url = format!("{}/v1.0/security/alerts_v2?$top=1", sim.url());
    assert_eq!(graph_get(&sim, &tok, &url).await.0, 200);
    sim.clock().advance(Duration::seconds(5));
    assert_eq!(graph_get(&sim, &tok, &url).await.0, 401);
}

#[tokio::test]
async fn missing_roles_give_the_real_403_texts() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let alerts = format!("{}/v1.0/security/alerts_v2?$top=1", sim.url());
    let cases = [
        (
            "no-roles",
            Some(
                "Missing application roles. API required roles: SecurityAlert.Read.All,SecurityAlert.ReadWrite.All,SecurityIncident.Read.All,SecurityIncident.ReadWrite.All, application roles: .",
            ),
            Some(
                "Missing application roles. API required roles: ThreatHunting.Read.All, application roles: .",
            ),
        ),
        (
            "hunting-only",
            Some(
                "Missing application roles. API required roles: SecurityAlert.Read.All,SecurityAlert.ReadWrite.All,SecurityIncident.Read.All,SecurityIncident.ReadWrite.All, application roles: ThreatHunting.Read.All.",
            ),
            None,
        ),
        (
            "alerts-only",
            None,
            Some(
                "Missing application roles. API required roles: ThreatHunting.Read.All, application roles: SecurityAlert.Read.All.",
            ),
        ),
    ];
    for (profile, alert_msg, hunt_msg) in cases {
        sim.set_faults(0, FaultPlan::default().with_profiles(&[profile]).unwrap());
        let tok = token(&sim, 0).await;
        let claims = jwt_payload(&tok);
        if profile == "no-roles" {
            assert!(
                claims.get("roles").is_none(),
                "no roles claim without consent"
            );
        }
        let (status, _, body) = graph_get(&sim, &tok, &alerts).await;
        match alert_msg {
            Some(m) => {
                assert_eq!(status, 403, "{profile}");
                assert_eq!(body["error"]["code"], "Forbidden");
                assert_eq!(body["error"]["message"], m);
            }
            None => assert_eq!(status, 200, "{profile}"),
        }
        let (status, _, text) = hunt(&sim, &tok, "EmailEvents | take 1", None).await;
        match hunt_msg {
            Some(m) => {
                assert_eq!(status, 403, "{profile}");
                let body: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(body["error"]["message"], m);
            }
            None => assert_eq!(status, 200, "{profile}"),
        }
    }
}

#[tokio::test]
async fn throttling_carries_a_fractional_retry_after() {
    let sim = simulator(
        Scale::Small,
        FaultPlan::default().with_profiles(&["throttle"]).unwrap(),
    )
    .await;
    let tok = token(&sim, 0).await;
    let url = format!("{}/v1.0/security/alerts_v2?$top=1", sim.url());
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let (status, headers, body) = graph_get(&sim, &tok, &url).await;
        if status == 429 {
            assert_eq!(headers["retry-after"], "0.25");
            assert_eq!(body["error"]["code"], "TooManyRequests");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 200, 200, 200, 429]);
}

#[tokio::test]
async fn unavailable_truncated_and_poison_faults() {
    let plan = FaultPlan::default()
        .with_profiles(&["unavailable", "truncated", "poison"])
        .unwrap();
    let sim = simulator(Scale::Small, plan).await;
    let tok = token(&sim, 0).await;
    let url = format!("{}/v1.0/security/alerts_v2?$top=5", sim.url());
    let mut seen = Vec::new();
    for _ in 0..7 {
        let resp = http().get(&url).bearer_auth(&tok).send().await.unwrap();
        let status = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        let parses = serde_json::from_str::<Value>(&text).is_ok();
        seen.push((status, retry, parses));
    }
    assert_eq!(seen[4], (503, Some("1".to_string()), true));
    assert_eq!(seen[6], (200, None, false), "the 7th body is cut in half");
    assert!(seen[..4].iter().all(|s| s.0 == 200 && s.2));

    // The poison window (6h..5h before start) fails three times, then answers.
    let now = sim.clock().now();
    let q = window_query(now - Duration::hours(7), now - Duration::hours(4));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, _, text) = hunt(&sim, &tok, &q, None).await;
        if status == 500 {
            let body: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(body["error"]["code"], "UnknownError");
        }
        statuses.push(status);
    }
    // The 5th hunting request would be hit by `unavailable`; these are requests 1..=4.
    assert_eq!(statuses, [500, 500, 500, 200]);
    // A window that does not touch the poison range is never affected.
    let (status, _, _) = hunt(
        &sim,
        &tok,
        &window_query(now - Duration::hours(2), now),
        None,
    )
    .await;
    assert_eq!(
        status, 503,
        "5th hunting request: the unavailable fault, not poison"
    );
}

#[tokio::test]
async fn empty_tenant_and_china_cloud() {
    let sim = simulator(
        Scale::Small,
        FaultPlan::default().with_profiles(&["empty"]).unwrap(),
    )
    .await;
    let tok = token(&sim, 0).await;
    let (status, _, body) = graph_get(
        &sim,
        &tok,
        &format!("{}/v1.0/security/alerts_v2", sim.url()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["value"], json!([]));
    let (_, _, text) = hunt(&sim, &tok, "EmailEvents | take 10", None).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["results"], json!([]));

    sim.set_faults(0, FaultPlan::default().with_profiles(&["china"]).unwrap());
    let t = &sim.tenants()[0];
    let (status, body) = token_request(
        &sim,
        &t.tenant_id,
        &creds(
            &t.client_id,
            &t.client_secret,
            "https://microsoftgraph.chinacloudapi.cn/.default",
        ),
    )
    .await;
    assert_eq!(status, 200);
    let tok = body["access_token"].as_str().unwrap();
    let (status, _, body) =
        graph_get(&sim, tok, &format!("{}/v1.0/security/alerts_v2", sim.url())).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'alerts_v2'."
    );
}

#[tokio::test]
async fn pascal_schema_fault_spells_name_and_type_capitalised() {
    let sim = simulator(
        Scale::Small,
        FaultPlan::default()
            .with_profiles(&["pascal-schema"])
            .unwrap(),
    )
    .await;
    let tok = token(&sim, 0).await;
    let (_, _, text) = hunt(&sim, &tok, "EmailEvents | project Timestamp | take 1", None).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["schema"],
        json!([{"Name": "Timestamp", "Type": "DateTime"}])
    );
}

/// Sends the same sequence of requests to a fresh simulator and returns every body.
async fn transcript() -> Vec<String> {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let t = &sim.tenants()[0];
    let mut out = Vec::new();
    let (_, body) = token_request(
        &sim,
        &t.tenant_id,
        &creds(&t.client_id, "bad", GLOBAL_SCOPE),
    )
    .await;
    out.push(body.to_string());
    let (_, body) = token_request(
        &sim,
        &t.tenant_id,
        &creds(&t.client_id, &t.client_secret, GLOBAL_SCOPE),
    )
    .await;
    out.push(body.to_string());
    let tok = body["access_token"].as_str().unwrap().to_string();
    let base = sim.url();
    let (_, alerts) = page_all(
        &sim,
        &tok,
        &format!("{base}/v1.0/security/alerts_v2?$top=100"),
    )
    .await;
    out.push(serde_json::to_string(&alerts).unwrap());
    let now = sim.clock().now();
    let (_, _, text) = hunt(
        &sim,
        &tok,
        &window_query(now - Duration::days(2), now),
        None,
    )
    .await;
    out.push(text);
    out.iter().map(|s| s.replace(&base, "http://SIM")).collect()
}

#[tokio::test]
async fn the_same_seed_gives_byte_identical_responses() {
    let a = transcript().await;
    let b = transcript().await;
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(x == y, "responses differ");
    }
    assert!(a[3].len() > 10_000, "the hunting body is substantial");
}

#[tokio::test]
async fn request_log_has_method_path_status_and_no_credentials() {
    let sim = simulator(Scale::Small, FaultPlan::default()).await;
    let tok = token(&sim, 0).await;
    let _ = graph_get(
        &sim,
        &tok,
        &format!("{}/v1.0/security/alerts_v2?$top=1", sim.url()),
    )
    .await;
    let log = sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].method.as_str(), log[0].status), ("POST", 200));
    assert!(log[0].path.ends_with("/oauth2/v2.0/token"));
    assert_eq!(log[1].path, "/v1.0/security/alerts_v2?$top=1");
    let secret = &sim.tenants()[0].client_secret;
    for r in &log {
        assert!(!r.path.contains(secret.as_str()) && !r.path.contains(&tok));
    }
}

mod snapshots {
    use super::*;

    fn redact(text: &str, sim: &Simulator) -> String {
        text.replace(&sim.url(), "http://127.0.0.1:[port]")
    }

    fn pretty(v: &Value) -> String {
        serde_json::to_string_pretty(v).unwrap()
    }

    #[tokio::test]
    async fn snapshot_token_error() {
        let sim = simulator(Scale::Small, FaultPlan::default()).await;
        let t = &sim.tenants()[0];
        let (_, body) = token_request(
            &sim,
            &t.tenant_id,
            &creds(&t.client_id, "wrong", GLOBAL_SCOPE),
        )
        .await;
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("simulator_token_error_7000215", pretty(&body));
        });
    }

    #[tokio::test]
    async fn snapshot_forbidden() {
        let sim = simulator(
            Scale::Small,
            FaultPlan::default().with_profiles(&["no-roles"]).unwrap(),
        )
        .await;
        let tok = token(&sim, 0).await;
        let (_, _, body) = graph_get(
            &sim,
            &tok,
            &format!("{}/v1.0/security/alerts_v2", sim.url()),
        )
        .await;
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("simulator_alerts_403_no_roles", pretty(&body));
        });
    }

    #[tokio::test]
    async fn snapshot_small_alerts_page() {
        let sim = simulator(Scale::Small, FaultPlan::default()).await;
        let tok = token(&sim, 0).await;
        let url = format!(
            "{}/v1.0/security/alerts_v2?$top=2&$orderby=lastUpdateDateTime%20desc&$filter=serviceSource%20eq%20'microsoftDefenderForOffice365'",
            sim.url()
        );
        let (_, _, body) = graph_get(&sim, &tok, &url).await;
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("simulator_alerts_page", redact(&pretty(&body), &sim));
        });
    }

    #[tokio::test]
    async fn snapshot_small_hunting_result() {
        let sim = simulator(Scale::Small, FaultPlan::default()).await;
        let tok = token(&sim, 0).await;
        let (_, _, text) = hunt(
            &sim,
            &tok,
            "EmailEvents | where Timestamp > ago(1d) | project Timestamp, NetworkMessageId, SenderFromAddress, RecipientEmailAddress, Subject, DeliveryAction, DeliveryLocation, ThreatTypes | take 3",
            None,
        )
        .await;
        let body: Value = serde_json::from_str(&text).unwrap();
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("simulator_hunting_result", redact(&pretty(&body), &sim));
        });
    }
}
