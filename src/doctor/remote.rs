//! The checks that talk to Microsoft (or the simulator), in order: the tenant's cloud from its
//! OpenID configuration (no credential sent), the token, the smallest read per stream, the
//! roles the token carries, and whether there is data for the next sync to collect.
//!
//! The token and the Graph calls go through the collector's own [`GraphClient`], so doctor
//! tests the code that will run; only the budget differs: one retry, and every step cut off
//! after [`super::Settings::step_timeout`].

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::setup::PORTAL_PERMISSIONS;
use super::{Check, Settings, split_fix};
use crate::cloud::Region;
use crate::collector::threats::MDO_SOURCE;
use crate::config::{Stream, SyncConfig, TenantConfig};
use crate::graph::auth::{describe_non_json, host_of, token_roles};
use crate::graph::client::{RetryPolicy, http_client_with, read_capped, transport_error};
use crate::graph::error::TransportKind;
use crate::graph::{Credentials, GraphClient, GraphError, TokenError, TokenErrorKind, TokenSource};
use crate::secret::Secret;
use crate::store::alerts::parse_graph_time;
use crate::store::sync::format_ms;

/// The application roles mailtrail needs, one per stream; anything else is excess.
const NEEDED_ROLES: [&str; 2] = ["SecurityAlert.Read.All", "ThreatHunting.Read.All"];
/// An OpenID configuration is a few kilobytes.
const OPENID_CAP: usize = 1 << 20;
/// The smallest advanced-hunting read.
const HUNTING_PROBE: &str = "EmailEvents | take 1";
/// The newest email event (advanced hunting's default timespan is its 30 days).
const NEWEST_EVENT: &str = "EmailEvents | order by Timestamp desc | project Timestamp | take 1";
const NS_PER_SEC: i64 = 1_000_000_000;

const REGION: &str = "region";
const TOKEN: &str = "token";
const PRIVILEGE: &str = "least privilege";

/// The checks after the region check, in report order, with their code family.
const LATER: [(&str, &str); 6] = [
    (TOKEN, "auth"),
    ("permissions: threats", "permission"),
    ("permissions: activity", "permission"),
    (PRIVILEGE, "permission"),
    ("data: threats", "data"),
    ("data: activity", "data"),
];

fn permission_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Threats => LATER[1].0,
        Stream::Activity => LATER[2].0,
    }
}

fn data_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Threats => LATER[4].0,
        Stream::Activity => LATER[5].0,
    }
}

/// The checks from `LATER[from..]`, skipped for `reason`.
fn skip_after(from: usize, reason: &str) -> Vec<Check> {
    LATER[from..]
        .iter()
        .map(|(name, area)| Check::skip(name, area, reason))
        .collect()
}

/// Doctor's HTTP client and step budget.
pub(super) struct Remote {
    http: Result<reqwest::Client, String>,
    step: Duration,
}

impl Remote {
    pub(super) fn new(settings: Settings) -> Remote {
        Remote {
            http: http_client_with(settings.connect_timeout).map_err(|e| e.to_string()),
            step: settings.step_timeout,
        }
    }
}

/// What the remote checks of one tenant need.
pub(super) struct TenantInput<'a> {
    pub tenant: &'a TenantConfig,
    /// `None` when the secret check failed: nothing is sent then.
    pub secret: Option<Secret>,
    pub streams: &'a [Stream],
    pub sync: &'a SyncConfig,
    /// The store's checkpoints of this tenant (epoch ns).
    pub cursors: HashMap<Stream, i64>,
    pub config_file: Option<&'a Path>,
}

/// Runs `fut`, or gives up after `step` with a timeout naming `host`.
async fn bounded<T>(
    step: Duration,
    host: &str,
    fut: impl Future<Output = Result<T, GraphError>>,
) -> Result<T, GraphError> {
    match tokio::time::timeout(step, fut).await {
        Ok(result) => result,
        Err(_) => Err(GraphError::Transport {
            kind: TransportKind::Timeout,
            host: host.to_string(),
            detail: format!("no answer within {} s", step.as_secs_f64()),
        }),
    }
}

/// A failed call, as a check: "cannot reach …" for the network, the library's message and fix
/// otherwise. `endpoint_key` names the setting to check.
fn graph_failure(name: &str, e: &GraphError, endpoint_key: &str) -> Check {
    match e {
        GraphError::Transport {
            kind: TransportKind::Tls,
            host,
            detail,
        } => Check::fail(
            name,
            e.kind(),
            format!("TLS with {host} failed: {detail}"),
            format!(
                "a proxy that intercepts TLS needs its CA in the system trust store; otherwise check {endpoint_key}"
            ),
        ),
        GraphError::Transport { host, detail, .. } => Check::fail(
            name,
            e.kind(),
            format!("cannot reach {host}: {detail}"),
            format!(
                "check the network, HTTPS_PROXY and {endpoint_key} (a mistyped or unreachable host looks like this)"
            ),
        ),
        other => {
            let (message, fix) = split_fix(&other.to_string());
            Check::fail(
                name,
                other.kind(),
                message,
                fix.unwrap_or_else(|| {
                    format!("check {endpoint_key} and region, then run doctor again")
                }),
            )
        }
    }
}

/// All remote checks of one tenant.
pub(super) async fn diagnose(remote: &Remote, input: TenantInput<'_>) -> Vec<Check> {
    let t = input.tenant;
    let mut out = Vec::new();
    let http = match &remote.http {
        Ok(http) => http,
        Err(e) => {
            out.push(Check::fail(
                REGION,
                "network.client",
                format!("cannot set up HTTPS: {e}"),
                "this is a bug or a broken TLS set-up; please report it with `mailtrail doctor --json`",
            ));
            out.extend(skip_after(0, "no HTTP client"));
            return out;
        }
    };
    let (region, proceed) = region_check(remote, http, t, input.config_file).await;
    out.push(region);
    if !proceed {
        out.extend(skip_after(
            0,
            "the region check failed; no credential is sent until it passes",
        ));
        return out;
    }
    let Some(secret) = input.secret else {
        out.extend(skip_after(0, "no usable client secret (see secret)"));
        return out;
    };
    let secret_is_guid = looks_like_guid(secret.expose());

    let token_url = format!("{}/{}/oauth2/v2.0/token", t.login_endpoint, t.tenant_id);
    let login_host = host_of(&token_url);
    let creds = Credentials {
        token_url,
        tenant_id: t.tenant_id.clone(),
        client_id: t.client_id.clone(),
        secret,
        scope: t.scope.clone(),
    };
    let mut client = GraphClient::new(http.clone(), TokenSource::new(creds), &t.graph_endpoint);
    let quick = RetryPolicy {
        max_attempts: 2,
        base: Duration::from_millis(200),
        cap: Duration::from_secs(1),
    };
    client.policy = quick;
    client.hunting_policy = quick;

    let token = match bounded(remote.step, &login_host, client.auth().token(client.http())).await {
        Ok(token) => {
            out.push(Check::ok(
                TOKEN,
                "auth.ok",
                format!(
                    "signed in at {login_host} with client credentials (scope {})",
                    t.scope
                ),
            ));
            token
        }
        Err(e) => {
            out.push(token_failure(&e, secret_is_guid));
            out.extend(skip_after(1, "no access token (see token)"));
            return out;
        }
    };
    let roles = token_roles(&token);
    drop(token);

    let graph_host = host_of(&t.graph_endpoint);
    let enabled = |s: Stream| input.streams.contains(&s);
    let alerts = async {
        if enabled(Stream::Threats) {
            Some(bounded(remote.step, &graph_host, probe_alerts(&client)).await)
        } else {
            None
        }
    };
    let hunting = async {
        if enabled(Stream::Activity) {
            Some(bounded(remote.step, &graph_host, probe_hunting(&client)).await)
        } else {
            None
        }
    };
    let (alerts, hunting) = futures_util::future::join(alerts, hunting).await;
    let (check, threats_access) = permission_check(Stream::Threats, alerts, roles.as_deref());
    out.push(check);
    let (check, activity_access) = permission_check(Stream::Activity, hunting, roles.as_deref());
    out.push(check);
    out.push(privilege_check(roles.as_deref()));

    let now = client
        .auth()
        .clock()
        .now()
        .timestamp_nanos_opt()
        .unwrap_or(0);
    let judge = |stream: Stream, access: Access| {
        let client = &client;
        let graph_host = &graph_host;
        let cursor = input.cursors.get(&stream).copied();
        async move {
            let name = data_name(stream);
            match access {
                Access::NotEnabled => Check::skip(
                    name,
                    "data",
                    format!("stream {stream} is not in [sync] streams"),
                ),
                Access::Denied => {
                    Check::skip(name, "data", format!("{} failed", permission_name(stream)))
                }
                Access::NoTable => no_data(stream),
                Access::Granted => {
                    let newest = match stream {
                        Stream::Threats => {
                            bounded(remote.step, graph_host, newest_alert(client)).await
                        }
                        Stream::Activity => {
                            bounded(remote.step, graph_host, newest_event(client)).await
                        }
                    };
                    match newest {
                        Ok(newest) => judge_data(stream, newest, cursor, now, input.sync),
                        Err(e) => {
                            let shown = graph_failure(name, &e, "graph_endpoint");
                            Check::warn(
                                name,
                                "data.unverified",
                                format!("could not read the newest data: {}", shown.message),
                                "run doctor again later; the permission check above passed",
                            )
                        }
                    }
                }
            }
        }
    };
    let (threats, activity) = futures_util::future::join(
        judge(Stream::Threats, threats_access),
        judge(Stream::Activity, activity_access),
    )
    .await;
    out.push(threats);
    out.push(activity);
    out
}

// ---------------------------------------------------------------------------------------------
// Region
// ---------------------------------------------------------------------------------------------

/// The fields of a tenant's OpenID configuration that say which cloud it lives in.
#[derive(Deserialize)]
struct OpenIdConfig {
    msgraph_host: Option<String>,
    cloud_instance_name: Option<String>,
    tenant_region_sub_scope: Option<String>,
}

/// The cloud an OpenID configuration describes: by `msgraph_host`, else by
/// `cloud_instance_name` (GCC High and DoD share one; the sub-scope tells them apart).
fn tenant_cloud(o: &OpenIdConfig) -> Option<Region> {
    if let Some(region) = o.msgraph_host.as_deref().and_then(Region::from_graph_host) {
        return Some(region);
    }
    let instance = o.cloud_instance_name.as_deref()?.to_ascii_lowercase();
    Some(match instance.as_str() {
        "microsoftonline.com" => Region::Global,
        "microsoftonline.us" => match o.tenant_region_sub_scope.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("DOD") => Region::Dod,
            _ => Region::GccHigh,
        },
        "partner.microsoftonline.cn" | "chinacloudapi.cn" => Region::China,
        _ => return None,
    })
}

fn looks_like_guid(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

const UNKNOWN_TENANT_FIX: &str = "check tenant_id against the Directory (tenant) ID on the app's Overview page; a GCC High or DoD tenant is known only to login.microsoftonline.us: set region = \"gcc-high\" or \"dod\"";

fn china_unsupported(evidence: &str) -> Check {
    Check::fail(
        REGION,
        "region.unsupported",
        format!(
            "the tenant is in the China cloud (21Vianet){evidence}, where Microsoft Graph offers neither security/alerts_v2 nor advanced hunting: there is nothing mailtrail can collect"
        ),
        "nothing to change in mailtrail; if the tenant is not in China, set region to its cloud (global, gcc-high or dod)",
    )
}

/// Compares the cloud the tenant lives in with the configured region, before any credential
/// is sent. Returns the check and whether later checks may run.
async fn region_check(
    remote: &Remote,
    http: &reqwest::Client,
    t: &TenantConfig,
    config_file: Option<&Path>,
) -> (Check, bool) {
    if !t.region.has_security_api() {
        return (
            china_unsupported(" (region = china in the configuration)"),
            false,
        );
    }
    let url = format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        t.login_endpoint, t.tenant_id
    );
    let host = host_of(&url);
    let step = remote.step;
    let answer = bounded(step, &host, async {
        let resp = http
            .get(&url)
            .send()
            .await
            .map_err(|e| transport_error(&host, &e))?;
        let status = resp.status().as_u16();
        let body = read_capped(resp, OPENID_CAP)
            .await
            .map_err(|e| e.into_graph_error(&host, "the OpenID configuration"))?;
        Ok::<_, GraphError>((status, body))
    })
    .await;
    let (status, body) = match answer {
        Ok(answer) => answer,
        Err(e) => return (graph_failure(REGION, &e, "login_endpoint"), false),
    };
    if status == 200 {
        return match serde_json::from_slice::<OpenIdConfig>(&body) {
            Ok(oid) => judge_region(t, &oid, config_file),
            Err(_) => (
                Check::warn(
                    REGION,
                    "region.unverified",
                    format!(
                        "{host} answered the tenant's OpenID configuration with {}, so the tenant's cloud cannot be confirmed",
                        describe_non_json(&body)
                    ),
                    "check login_endpoint: it must be the Entra ID login host of the tenant's cloud (or a proxy that passes answers through)",
                ),
                true,
            ),
        };
    }
    match TokenError::from_body(status, &body, &t.client_id, &t.tenant_id) {
        Some(e) if e.kind == TokenErrorKind::UnknownTenant => {
            let code = e.code.map(|c| format!(" (AADSTS{c})")).unwrap_or_default();
            (
                Check::fail(
                    REGION,
                    "auth.unknown_tenant",
                    format!(
                        "tenant {} is not known at {host}{code}{}",
                        t.tenant_id,
                        e.ids()
                    ),
                    UNKNOWN_TENANT_FIX,
                ),
                false,
            )
        }
        _ => (
            Check::warn(
                REGION,
                "region.unverified",
                format!(
                    "{host} answered HTTP {status} for the tenant's OpenID configuration, so the tenant's cloud cannot be confirmed"
                ),
                "check login_endpoint: it must be the Entra ID login host of the tenant's cloud",
            ),
            true,
        ),
    }
}

fn judge_region(t: &TenantConfig, o: &OpenIdConfig, config_file: Option<&Path>) -> (Check, bool) {
    let evidence = format!(
        "msgraph_host {}, cloud_instance_name {}",
        o.msgraph_host.as_deref().unwrap_or("-"),
        o.cloud_instance_name.as_deref().unwrap_or("-")
    );
    match tenant_cloud(o) {
        None => (
            Check::warn(
                REGION,
                "region.unverified",
                format!(
                    "the tenant's OpenID configuration names no cloud mailtrail knows ({evidence})"
                ),
                "check login_endpoint: it must be the Entra ID login host of the tenant's cloud",
            ),
            true,
        ),
        Some(actual) if actual == t.region => (
            Check::ok(
                REGION,
                "region.ok",
                format!(
                    "the tenant lives in the {actual} cloud ({evidence}), as region = {} says",
                    t.region
                ),
            ),
            true,
        ),
        Some(Region::China) => (china_unsupported(&format!(" ({evidence})")), false),
        Some(actual) => {
            let place = match config_file {
                Some(file) => format!(
                    " in the [[tenant]] table named '{}' in {} (or MAILTRAIL_REGION={actual})",
                    t.name,
                    file.display()
                ),
                None => format!(": export MAILTRAIL_REGION={actual}"),
            };
            (
                Check::fail(
                    REGION,
                    "region.mismatch",
                    format!(
                        "the tenant lives in the {actual} cloud ({evidence}), but region = {}: the token and every Graph call would go to the wrong cloud",
                        t.region
                    ),
                    format!(
                        "set region = \"{actual}\"{place}; the app registration must live in that cloud too"
                    ),
                ),
                false,
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Token
// ---------------------------------------------------------------------------------------------

fn token_failure(e: &GraphError, secret_is_guid: bool) -> Check {
    let GraphError::Token(te) = e else {
        return graph_failure(TOKEN, e, "login_endpoint");
    };
    let (mut message, library_fix) = split_fix(&e.to_string());
    if te.kind == TokenErrorKind::InvalidSecret && secret_is_guid {
        message
            .push_str("; the configured secret is a GUID, which is what a secret's ID looks like");
    }
    let mut fix = match te.kind {
        TokenErrorKind::InvalidSecret => "put the client secret's Value where mailtrail reads it, not its Secret ID (App registrations → your app → Certificates & secrets; the Value is shown only once, so create a new secret if you no longer have it)".to_string(),
        TokenErrorKind::ExpiredSecret => "rotate it: App registrations → your app → Certificates & secrets → New client secret, put the new Value where mailtrail reads the secret, then delete the expired one".to_string(),
        TokenErrorKind::UnknownTenant => UNKNOWN_TENANT_FIX.to_string(),
        TokenErrorKind::CrossCloud => "set region to the cloud the tenant lives in (gcc-high or dod for US Government tenants, global for commercial and GCC) and register the app in that cloud".to_string(),
        _ => library_fix.unwrap_or_else(|| te.fix()),
    };
    if te.trace_id.is_some() || te.correlation_id.is_some() {
        fix.push_str(
            "; if that does not help, quote the trace and correlation IDs to Microsoft support",
        );
    }
    Check::fail(TOKEN, e.kind(), message, fix)
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

/// What the permission check of a stream allows the data check to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    NotEnabled,
    Granted,
    /// Hunting works but the tenant has no EmailEvents table (no Defender for Office 365).
    NoTable,
    Denied,
}

/// `GET alerts_v2?$top=1`. `Ok(true)`: readable.
async fn probe_alerts(client: &GraphClient) -> Result<bool, GraphError> {
    client
        .alerts_page(&client.alerts_url("", 1, None))
        .await
        .map(|_| true)
}

/// `EmailEvents | take 1`. `Ok(false)`: hunting works but the table does not exist.
async fn probe_hunting(client: &GraphClient) -> Result<bool, GraphError> {
    match client.run_hunting_query(HUNTING_PROBE, None).await {
        Ok(_) => Ok(true),
        Err(GraphError::Refused { message, .. })
            if message.contains("Failed to resolve table") && message.contains("EmailEvents") =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn permission_check(
    stream: Stream,
    probe: Option<Result<bool, GraphError>>,
    token_roles: Option<&[String]>,
) -> (Check, Access) {
    let name = permission_name(stream);
    let (role, read) = match stream {
        Stream::Threats => (NEEDED_ROLES[0], "GET security/alerts_v2?$top=1"),
        Stream::Activity => (NEEDED_ROLES[1], "runHuntingQuery `EmailEvents | take 1`"),
    };
    let result = match probe {
        None => {
            return (
                Check::skip(
                    name,
                    "permission",
                    format!("stream {stream} is not in [sync] streams"),
                ),
                Access::NotEnabled,
            );
        }
        Some(result) => result,
    };
    match result {
        Ok(true) => (
            Check::ok(
                name,
                "permission.ok",
                format!("{read} succeeded: {role} works"),
            ),
            Access::Granted,
        ),
        Ok(false) => (
            Check::ok(
                name,
                "permission.ok",
                format!(
                    "{read} was allowed ({role} works), but the tenant has no EmailEvents table (see data)"
                ),
            ),
            Access::NoTable,
        ),
        Err(GraphError::Forbidden {
            endpoint, granted, ..
        }) => {
            let has: Vec<String> = if granted.is_empty() {
                token_roles.map(<[String]>::to_vec).unwrap_or_default()
            } else {
                granted
            };
            let check = if has.is_empty() {
                Check::fail(
                    name,
                    "consent.missing",
                    format!(
                        "Graph denied {endpoint}: the access token carries no application roles, so no permission was added or admin consent was not granted"
                    ),
                    PORTAL_PERMISSIONS,
                )
            } else {
                Check::fail(
                    name,
                    "permission.missing",
                    format!(
                        "Graph denied {endpoint}: the app lacks the application role {role} (it has: {})",
                        has.join(", ")
                    ),
                    format!(
                        "Microsoft Entra admin center → App registrations → your app → API permissions → Add a permission → Microsoft Graph → Application permissions → {role} → Grant admin consent for <your tenant>"
                    ),
                )
            };
            (check, Access::Denied)
        }
        Err(e) => (graph_failure(name, &e, "graph_endpoint"), Access::Denied),
    }
}

/// The roles the token carries, against the two read roles mailtrail needs.
fn privilege_check(roles: Option<&[String]>) -> Check {
    let Some(roles) = roles else {
        return Check::skip(
            PRIVILEGE,
            "permission",
            "the access token is not a JWT, so its roles cannot be read",
        );
    };
    if roles.is_empty() {
        return Check::skip(
            PRIVILEGE,
            "permission",
            "the access token carries no application roles (see permissions)",
        );
    }
    let excess: Vec<&str> = roles
        .iter()
        .map(String::as_str)
        .filter(|r| !NEEDED_ROLES.contains(r))
        .collect();
    if excess.is_empty() {
        return Check::ok(
            PRIVILEGE,
            "permission.least_privilege",
            format!(
                "the token carries {}: nothing beyond what mailtrail needs",
                roles.join(", ")
            ),
        );
    }
    let list = excess.join(", ");
    Check::warn(
        PRIVILEGE,
        "permission.excess",
        format!(
            "the app holds more than it needs: {list} (mailtrail needs only SecurityAlert.Read.All and ThreatHunting.Read.All, both read-only)"
        ),
        format!(
            "remove {list} under App registrations → your app → API permissions (… → Remove permission), then grant admin consent again; a dedicated, read-only app registration for mailtrail is the recommended practice"
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

/// The newest MDO alert's `lastUpdateDateTime` (epoch ns), `None` when there is no MDO alert.
async fn newest_alert(client: &GraphClient) -> Result<Option<i64>, GraphError> {
    let filter = format!("serviceSource eq '{MDO_SOURCE}'");
    let newest_first = client.alerts_url(&filter, 1, Some("lastUpdateDateTime desc"));
    let page = match client.alerts_page(&newest_first).await {
        // $orderby is not documented for alerts_v2; without it Graph lists newest first.
        Err(GraphError::Refused { .. }) => {
            client
                .alerts_page(&client.alerts_url(&filter, 1, None))
                .await?
        }
        other => other?,
    };
    Ok(page.alerts.first().and_then(|raw| {
        let v: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
        parse_graph_time(v.get("lastUpdateDateTime")?.as_str()?)
    }))
}

/// The newest EmailEvents `Timestamp` (epoch ns), `None` when there is none in 30 days.
async fn newest_event(client: &GraphClient) -> Result<Option<i64>, GraphError> {
    let result = client.run_hunting_query(NEWEST_EVENT, None).await?;
    Ok(result.rows.first().and_then(|raw| {
        let v: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
        parse_graph_time(v.get("Timestamp")?.as_str()?)
    }))
}

fn no_data(stream: Stream) -> Check {
    match stream {
        Stream::Threats => Check::warn(
            data_name(stream),
            "data.empty",
            "alerts_v2 holds no Defender for Office 365 alerts at all (serviceSource microsoftDefenderForOffice365)",
            "nothing to collect yet: check that the tenant has Defender for Office 365 (Plan 1 or 2, or E5) and that its alert policies are on; alerts of other Defender products are not collected",
        ),
        Stream::Activity => Check::warn(
            data_name(stream),
            "data.empty",
            "advanced hunting has no EmailEvents in its 30 days: the tenant has no Defender for Office 365 email data",
            "EmailEvents exists only where Defender for Office 365 is licensed and mail flows through Exchange Online; check the licence in the Microsoft 365 admin center",
        ),
    }
}

fn when(ns: i64) -> String {
    format_ms(ns / 1_000_000)
}

/// "3d4h ago", to the minute.
fn ago(ns: i64, now: i64) -> String {
    let secs = ((now - ns) / NS_PER_SEC).max(0) as u64;
    let rounded = match secs {
        0..60 => secs,
        60..86_400 => secs - secs % 60,
        _ => secs - secs % 3_600,
    };
    format!(
        "{} ago",
        crate::duration::format_duration(Duration::from_secs(rounded))
    )
}

const CURSOR_FIX: &str = "if the store was copied from another machine or tenant, or the clock was wrong when it was written, move it aside (or pass --db with a new file) and sync again";

/// Whether the next sync will find data, from the newest data in Graph, the stored cursor and
/// Microsoft's clock (all epoch ns): none at all, a cursor ahead of the data, nothing within the
/// lookback, or fine.
fn judge_data(
    stream: Stream,
    newest: Option<i64>,
    cursor: Option<i64>,
    now: i64,
    sync: &SyncConfig,
) -> Check {
    let name = data_name(stream);
    let Some(newest) = newest else {
        return no_data(stream);
    };
    let what = match stream {
        Stream::Threats => "MDO alert update",
        Stream::Activity => "EmailEvent",
    };
    if let Some(cursor) = cursor {
        if cursor > now + 60 * NS_PER_SEC {
            return Check::warn(
                name,
                "data.empty",
                format!(
                    "the stored {stream} cursor ({}) is ahead of Microsoft's clock ({}): sync asks only for data after it, so newer data is skipped until then",
                    when(cursor),
                    when(now)
                ),
                CURSOR_FIX,
            );
        }
        if stream == Stream::Threats && cursor > newest + NS_PER_SEC {
            return Check::warn(
                name,
                "data.empty",
                format!(
                    "the stored threats cursor ({}) is ahead of the newest MDO alert update ({}): sync asks only for alerts updated after it",
                    when(cursor),
                    when(newest)
                ),
                CURSOR_FIX,
            );
        }
    }
    let lookback = i64::try_from(sync.initial_lookback.as_nanos()).unwrap_or(i64::MAX / 2);
    if newest < now.saturating_sub(lookback) {
        return Check::warn(
            name,
            "data.empty",
            format!(
                "no {what} within the lookback (initial_lookback {}): the newest is from {} ({})",
                crate::duration::format_duration(sync.initial_lookback),
                when(newest),
                ago(newest, now)
            ),
            "normal for a quiet tenant; to collect older data once, run `mailtrail sync --since 7d` (alerts reach back 180d, email events 30d)",
        );
    }
    Check::ok(
        name,
        "data.ok",
        format!("newest {what} at {} ({})", when(newest), ago(newest, now)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600 * NS_PER_SEC;
    const NOW: i64 = 1_800_000_000 * NS_PER_SEC;

    #[test]
    fn data_is_judged_none_future_cursor_ahead_old_or_fine() {
        let sync = SyncConfig::default(); // lookback 24h
        let t = Stream::Threats;
        let a = Stream::Activity;
        assert!(
            judge_data(t, None, None, NOW, &sync)
                .message
                .contains("no Defender for Office 365 alerts at all")
        );
        assert!(
            judge_data(a, None, None, NOW, &sync)
                .message
                .contains("no EmailEvents")
        );
        let future = judge_data(a, Some(NOW - HOUR), Some(NOW + 2 * HOUR), NOW, &sync);
        assert_eq!(future.code, "data.empty");
        assert!(
            future.message.contains("ahead of Microsoft's clock"),
            "{future:?}"
        );
        let ahead = judge_data(t, Some(NOW - 2 * HOUR), Some(NOW - HOUR), NOW, &sync);
        assert!(
            ahead
                .message
                .contains("ahead of the newest MDO alert update"),
            "{ahead:?}"
        );
        // An activity cursor at now − lag is normal even when the newest event is older.
        let caught_up = judge_data(a, Some(NOW - 2 * HOUR), Some(NOW - HOUR / 12), NOW, &sync);
        assert_eq!(caught_up.code, "data.ok", "{caught_up:?}");
        let old = judge_data(t, Some(NOW - 50 * HOUR), None, NOW, &sync);
        assert!(
            old.message
                .contains("within the lookback (initial_lookback 1d)"),
            "{old:?}"
        );
        assert!(old.message.contains("2d2h ago"), "{old:?}");
        let fine = judge_data(t, Some(NOW - HOUR), Some(NOW - HOUR), NOW, &sync);
        assert_eq!(fine.status, super::super::Status::Ok);
    }

    #[test]
    fn the_tenant_cloud_comes_from_msgraph_host_then_the_instance_name() {
        let oid = |host: Option<&str>, instance: Option<&str>, sub: Option<&str>| OpenIdConfig {
            msgraph_host: host.map(str::to_string),
            cloud_instance_name: instance.map(str::to_string),
            tenant_region_sub_scope: sub.map(str::to_string),
        };
        assert_eq!(
            tenant_cloud(&oid(Some("graph.microsoft.us"), None, None)),
            Some(Region::GccHigh)
        );
        assert_eq!(
            tenant_cloud(&oid(Some("dod-graph.microsoft.us"), None, None)),
            Some(Region::Dod)
        );
        assert_eq!(
            tenant_cloud(&oid(None, Some("microsoftonline.us"), Some("DOD"))),
            Some(Region::Dod)
        );
        assert_eq!(
            tenant_cloud(&oid(None, Some("microsoftonline.com"), None)),
            Some(Region::Global)
        );
        assert_eq!(
            tenant_cloud(&oid(Some("graph.example"), Some("mars"), None)),
            None
        );
    }

    #[test]
    fn least_privilege_names_the_excess_roles() {
        let roles: Vec<String> = [
            "SecurityAlert.Read.All",
            "ThreatHunting.Read.All",
            "SecurityAlert.ReadWrite.All",
        ]
        .map(String::from)
        .to_vec();
        let c = privilege_check(Some(&roles));
        assert_eq!(c.code, "permission.excess");
        assert!(c.message.contains("SecurityAlert.ReadWrite.All"));
        assert!(!c.message.starts_with("SecurityAlert.Read.All,"));
        assert_eq!(
            privilege_check(Some(&roles[..2])).code,
            "permission.least_privilege"
        );
        assert_eq!(privilege_check(Some(&[])).code, "permission.skipped");
    }

    #[test]
    fn a_guid_secret_is_recognised() {
        assert!(looks_like_guid("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
        assert!(!looks_like_guid("abc8Q~1b4e28ba2fa111d2883f0016d3cca427x"));
    }
}
