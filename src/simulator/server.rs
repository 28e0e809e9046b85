//! The simulator's HTTP server: Entra's token and OpenID endpoints and Graph's `alerts_v2` and
//! `runHuntingQuery`, with the real services' bodies, status codes and paging, on 127.0.0.1.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::clock::Clock;
use super::data::{Cell, Dataset, DatasetSpec, EMAIL_EVENTS_COLUMNS, Scale};
use super::faults::{Endpoint, FaultPlan, FaultPlanError};
use super::jwt::{self, Claims};
use super::kql;
use super::odata::{self, OrderBy, Property, Subject};
use super::rng::{self, Rng};
use crate::cloud::Region;

/// The most rows one hunting query returns (Graph: "up to 100,000 rows").
pub const HUNTING_ROW_CAP: u64 = 100_000;
/// The most alerts one `alerts_v2` page holds; larger `$top` values are clamped.
pub const ALERTS_PAGE_CAP: usize = 1000;
/// How far back advanced hunting keeps data.
pub const HUNTING_RETENTION_DAYS: i64 = 30;
/// Entra's access-token lifetime for client credentials.
pub const TOKEN_LIFETIME_SECS: u64 = 3599;

const TENANT_NAMES: [&str; 8] = [
    "contoso",
    "fabrikam",
    "northwind",
    "adatum",
    "tailspin",
    "wingtip",
    "litware",
    "woodgrove",
];

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub port: u16,
    pub seed: u64,
    pub scale: Scale,
    pub tenants: u8,
    /// Simulated time at start-up; also the data set's anchor (its "now" for history).
    pub start: DateTime<Utc>,
    pub freeze: bool,
    /// Applied to every tenant; change one tenant's later with [`Simulator::set_faults`].
    pub faults: FaultPlan,
}

impl SimOptions {
    pub fn new(seed: u64, scale: Scale, start: DateTime<Utc>) -> Self {
        SimOptions {
            port: 0,
            seed,
            scale,
            tenants: 1,
            start,
            freeze: false,
            faults: FaultPlan::default(),
        }
    }
}

/// One simulated tenant and the app registration that may read it.
pub struct SimTenant {
    pub name: String,
    pub tenant_id: String,
    /// The verified domain users' addresses are in, e.g. `contoso.com`.
    pub domain: String,
    pub client_id: String,
    /// The client secret *value* (what the portal shows once under Certificates & secrets).
    pub client_secret: String,
    /// The secret's ID (what users paste by mistake).
    pub client_secret_id: String,
    pub dataset: Dataset,
}

impl SimTenant {
    /// `{name}.onmicrosoft.com`, the initial domain every tenant has.
    pub fn initial_domain(&self) -> String {
        format!("{}.onmicrosoft.com", self.name)
    }
}

/// One request as the simulator saw it: no headers, no bodies, so no credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    pub status: u16,
}

#[derive(Default)]
struct Counters {
    /// Requests per (tenant, endpoint), 1-based once incremented.
    requests: HashMap<(usize, Endpoint), u64>,
    /// Failures left per (tenant, poison window index).
    poison_left: HashMap<(usize, usize), u32>,
}

struct Shared {
    seed: u64,
    start: DateTime<Utc>,
    clock: Clock,
    key: [u8; 32],
    tenants: Vec<SimTenant>,
    faults: RwLock<Vec<FaultPlan>>,
    counters: Mutex<Counters>,
    log: Mutex<Vec<RequestRecord>>,
    /// Every access token the token endpoint minted, for leak tests (never logged).
    issued: Mutex<Vec<String>>,
    seq: AtomicU64,
    /// Sorted alert lists per (tenant, snapshot, filter, order), so paging is O(page).
    listings: Mutex<Vec<(ListingKey, Arc<Vec<u32>>)>>,
}

type ListingKey = (usize, i64, String, String);

impl Shared {
    fn faults(&self, tenant: usize) -> FaultPlan {
        let plans = self.faults.read().unwrap_or_else(|p| p.into_inner());
        plans.get(tenant).cloned().unwrap_or_default()
    }

    fn next_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        Rng::new(self.seed, &[0x7ace, n]).guid()
    }

    fn tenant_by_path(&self, segment: &str) -> Option<usize> {
        self.tenants.iter().position(|t| {
            t.tenant_id.eq_ignore_ascii_case(segment)
                || t.domain.eq_ignore_ascii_case(segment)
                || t.initial_domain().eq_ignore_ascii_case(segment)
        })
    }

    fn bump(&self, tenant: usize, endpoint: Endpoint) -> u64 {
        let mut c = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let n = c.requests.entry((tenant, endpoint)).or_insert(0);
        *n += 1;
        *n
    }
}

/// A running simulator. Dropping it (or [`Simulator::stop`]) shuts the server down.
pub struct Simulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    /// Binds 127.0.0.1:`opts.port` and starts serving. Must be called within a Tokio runtime.
    pub async fn start(opts: SimOptions) -> std::io::Result<Simulator> {
        let tenants = (0..usize::from(opts.tenants.clamp(1, 8)))
            .map(|i| build_tenant(&opts, i))
            .collect::<Vec<_>>();
        let mut key = [0u8; 32];
        for (i, chunk) in key.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&rng::hash(opts.seed, &[0x5ec7, i as u64]).to_le_bytes());
        }
        let shared = Arc::new(Shared {
            seed: opts.seed,
            start: opts.start,
            clock: Clock::new(opts.start, opts.freeze),
            key,
            faults: RwLock::new(vec![opts.faults.clone(); tenants.len()]),
            tenants,
            counters: Mutex::new(Counters::default()),
            log: Mutex::new(Vec::new()),
            issued: Mutex::new(Vec::new()),
            seq: AtomicU64::new(0),
            listings: Mutex::new(Vec::new()),
        });
        let app = router(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Simulator {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`: the login and the Graph endpoint at once.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tenants(&self) -> &[SimTenant] {
        &self.shared.tenants
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Replaces one tenant's fault plan (counters of periodic faults keep running).
    pub fn set_faults(&self, tenant: usize, plan: FaultPlan) {
        let mut plans = self
            .shared
            .faults
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = plans.get_mut(tenant) {
            *slot = plan;
        }
        let mut c = self
            .shared
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        c.poison_left.retain(|(t, _), _| *t != tenant);
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every access token issued so far, so that tests can search outputs for them.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared
            .issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The lines a user pastes into a shell to point mailtrail at tenant `i`.
    pub fn credential_lines(&self, i: usize) -> Vec<String> {
        let Some(t) = self.shared.tenants.get(i) else {
            return Vec::new();
        };
        vec![
            format!("export MAILTRAIL_TENANT_ID={}", t.tenant_id),
            format!("export MAILTRAIL_CLIENT_ID={}", t.client_id),
            format!("export MAILTRAIL_CLIENT_SECRET='{}'", t.client_secret),
            format!("export MAILTRAIL_LOGIN_ENDPOINT={}", self.url()),
            format!("export MAILTRAIL_GRAPH_ENDPOINT={}", self.url()),
        ]
    }

    /// Stops serving and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn build_tenant(opts: &SimOptions, i: usize) -> SimTenant {
    let mut r = Rng::new(opts.seed, &[0x7e4a, i as u64]);
    let name = TENANT_NAMES[i % TENANT_NAMES.len()].to_string();
    let tenant_id = r.guid();
    let client_id = r.guid();
    let client_secret_id = r.guid();
    // Entra secret values: 40 characters, a '~' after the 3-character prefix.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.";
    let mut client_secret: String = (0..3)
        .map(|_| *r.pick(ALPHABET) as char)
        .collect::<String>()
        + "8Q~";
    client_secret.extend((0..36).map(|_| *r.pick(ALPHABET) as char));
    let domain = format!("{name}.com");
    let dataset = Dataset::new(DatasetSpec {
        seed: rng::hash(opts.seed, &[0xda7a, i as u64]),
        scale: opts.scale,
        anchor: opts.start,
        tenant_id: tenant_id.clone(),
        tenant_domain: domain.clone(),
        empty: false,
    });
    SimTenant {
        name,
        tenant_id,
        domain,
        client_id,
        client_secret,
        client_secret_id,
        dataset,
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/v1.0/security/alerts_v2", get(list_alerts))
        .route("/v1.0/security/runHuntingQuery", post(run_hunting_query))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), log_request))
        .with_state(shared)
}

/// Records method, path and status of every request, and logs them. Never headers or bodies:
/// that is where the secret and the tokens travel.
async fn log_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut resp = next.run(req).await;
    // Like any HTTP server, answer with the current (simulated) time: clients that correct for
    // clock skew read it, and tests that move the simulator's clock stay consistent.
    let date = shared
        .clock
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(v) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, v);
    }
    let status = resp.status().as_u16();
    tracing::info!(target: "mailtrail::simulator", "{method} {path} -> {status}");
    let mut log = shared.log.lock().unwrap_or_else(|p| p.into_inner());
    if log.len() < 1_000_000 {
        log.push(RequestRecord {
            method,
            path,
            status,
        });
    }
    resp
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Entra: token and OpenID configuration
// ---------------------------------------------------------------------------------------------

/// An Entra error body (GRAPH.md §2): `error`, `error_description` starting with the AADSTS
/// code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
fn entra_error(
    shared: &Shared,
    headers: &HeaderMap,
    status: StatusCode,
    error: &str,
    code: u32,
    description: &str,
) -> Response {
    let now = shared.clock.now();
    let trace_id = shared.next_id();
    let correlation_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| shared.next_id());
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    json_response(status, &body)
}

fn decode_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// Whether `s` could name a tenant at all (a GUID or a DNS name); Entra answers AADSTS900023
/// otherwise.
fn plausible_tenant(s: &str) -> bool {
    let guid = s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let dns = s.contains('.')
        && s.split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    guid || dns
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let s = &shared;
    let bad = |status, error, code, desc: &str| entra_error(s, &headers, status, error, code, desc);
    let mut form = decode_form(&body);
    if let Some((id, secret)) = basic_credentials(&headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    let Some(idx) = s.tenant_by_path(&tenant) else {
        if !plausible_tenant(&tenant) {
            return bad(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900023,
                &format!(
                    "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
                ),
            );
        }
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        );
    };
    let t = &s.tenants[idx];
    let plan = s.faults(idx);
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return bad(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
        None => {
            return bad(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let Some(client_id) = form.get("client_id") else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let scope = form.get("scope").map(String::as_str).unwrap_or_default();
    let scope_cloud = scope
        .strip_suffix("/.default")
        .and_then(Region::from_graph_host)
        .filter(|_| !scope.contains(' '));
    let Some(scope_cloud) = scope_cloud else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        );
    };
    if scope_cloud != plan.region() {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900382,
            "Confidential Client is not supported in Cross Cloud request.",
        );
    }
    if !client_id.eq_ignore_ascii_case(&t.client_id) {
        return bad(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                t.name
            ),
        );
    }
    let Some(secret) = form.get("client_secret") else {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    };
    if secret != &t.client_secret {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                t.client_id
            ),
        );
    }
    if plan.expired_secret {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            &format!(
                "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                t.client_id
            ),
        );
    }
    let now = s.clock.now();
    let lifetime = plan.token_lifetime_secs.unwrap_or(TOKEN_LIFETIME_SECS);
    let uti = s.next_id();
    let claims = Claims {
        aud: scope_cloud.graph_host().to_string(),
        iss: format!("https://sts.windows.net/{}/", t.tenant_id),
        iat: now.timestamp(),
        nbf: now.timestamp() - 300,
        exp: now.timestamp() + lifetime as i64,
        appid: t.client_id.clone(),
        appidacr: "1".into(),
        idtyp: "app".into(),
        oid: Rng::new(s.seed, &[0x0b1d, idx as u64]).guid(),
        sub: Rng::new(s.seed, &[0x0b1d, idx as u64]).guid(),
        tid: t.tenant_id.clone(),
        uti,
        ver: "1.0".into(),
        roles: plan.granted_roles(),
    };
    let access_token = jwt::mint(&s.key, &claims);
    {
        let mut issued = s.issued.lock().unwrap_or_else(|p| p.into_inner());
        if issued.len() < 100_000 {
            issued.push(access_token.clone());
        }
    }
    let body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    });
    json_response(StatusCode::OK, &body)
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    Some((dec(id), dec(secret)))
}

async fn openid_configuration(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(idx) = shared.tenant_by_path(&tenant) else {
        return entra_error(
            &shared,
            &headers,
            StatusCode::BAD_REQUEST,
            "invalid_tenant",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    };
    let t = &shared.tenants[idx];
    let region = shared.faults(idx).region();
    let login = region.login_host();
    let tid = &t.tenant_id;
    let (scope, sub_scope) = match region {
        Region::Global => ("NA", None),
        Region::GccHigh => ("USGov", Some("DODCON")),
        Region::Dod => ("USGov", Some("DOD")),
        Region::China => ("AS", None),
    };
    let mut body = json!({
        "token_endpoint": format!("{login}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{login}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{login}/{tid}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("https://{}/oidc/userinfo", region.msgraph_host()),
        "authorization_endpoint": format!("{login}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{login}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{login}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver"],
        "kerberos_endpoint": format!("{login}/{tid}/kerberos"),
        "tenant_region_scope": scope,
        "cloud_instance_name": region.cloud_instance_name(),
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": region.msgraph_host(),
        "rbac_url": "https://pas.windows.net",
    });
    if let (Some(sub), Some(obj)) = (sub_scope, body.as_object_mut()) {
        obj.insert("tenant_region_sub_scope".into(), json!(sub));
    }
    json_response(StatusCode::OK, &body)
}

// ---------------------------------------------------------------------------------------------
// Graph: common envelope, authentication, roles, faults
// ---------------------------------------------------------------------------------------------

fn graph_error(
    shared: &Shared,
    headers: &HeaderMap,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response {
    let request_id = shared.next_id();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| request_id.clone());
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": shared.clock.now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": request_id,
                "client-request-id": client_request_id,
            }
        }
    });
    let mut resp = json_response(status, &body);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("request-id", v);
    }
    resp
}

/// What a Graph handler may serve, once the request passed authentication, roles and faults.
struct Admitted {
    tenant: usize,
    /// Cut the body in half (the `truncate` fault).
    truncate: bool,
    plan: FaultPlan,
}

const ALERT_ROLES: [&str; 4] = [
    "SecurityAlert.Read.All",
    "SecurityAlert.ReadWrite.All",
    "SecurityIncident.Read.All",
    "SecurityIncident.ReadWrite.All",
];
const HUNTING_ROLES: [&str; 1] = ["ThreatHunting.Read.All"];

// The error is the finished HTTP answer; boxing it would only add noise to two handlers.
#[allow(clippy::result_large_err)]
fn admit(shared: &Shared, headers: &HeaderMap, endpoint: Endpoint) -> Result<Admitted, Response> {
    let unauthorized = |problem: jwt::TokenProblem| {
        let mut r = graph_error(
            shared,
            headers,
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            problem.graph_message(),
        );
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .trim();
    let claims = jwt::verify(&shared.key, presented, shared.clock.now()).map_err(unauthorized)?;
    let tenant = shared
        .tenants
        .iter()
        .position(|t| t.tenant_id == claims.tid)
        .ok_or_else(|| unauthorized(jwt::TokenProblem::BadSignature))?;
    let plan = shared.faults(tenant);
    let segment = match endpoint {
        Endpoint::Alerts => "alerts_v2",
        Endpoint::Hunting => "runHuntingQuery",
    };
    if !plan.region().has_security_api() {
        return Err(graph_error(
            shared,
            headers,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{segment}'."),
        ));
    }
    let required: &[&str] = match endpoint {
        Endpoint::Alerts => &ALERT_ROLES,
        Endpoint::Hunting => &HUNTING_ROLES,
    };
    if !claims.roles.iter().any(|r| required.contains(&r.as_str())) {
        let message = format!(
            "Missing application roles. API required roles: {}, application roles: {}.",
            required.join(","),
            claims.roles.join(",")
        );
        return Err(graph_error(
            shared,
            headers,
            StatusCode::FORBIDDEN,
            "Forbidden",
            &message,
        ));
    }
    let n = shared.bump(tenant, endpoint);
    if let Some(p) = plan.throttle.as_ref().filter(|p| p.hits(endpoint, n)) {
        let mut r = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": {
                "code": "TooManyRequests",
                "innerError": {
                    "code": "429",
                    "date": shared.clock.now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "message": "Please retry after",
                    "request-id": shared.next_id(),
                    "status": "429"
                },
                "message": "Please retry again later."
            }}),
        );
        let after = p.retry_after.clone().unwrap_or_else(|| "1".into());
        if let Ok(v) = HeaderValue::from_str(&after) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(r);
    }
    if let Some(p) = plan.unavailable.as_ref().filter(|p| p.hits(endpoint, n)) {
        let (status, code, message) = match p.status {
            Some(504) => (StatusCode::GATEWAY_TIMEOUT, "UnknownError", ""),
            _ => (
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "Service Unavailable",
            ),
        };
        let mut r = graph_error(shared, headers, status, code, message);
        if let Some(v) = p
            .retry_after
            .as_ref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(r);
    }
    let truncate = plan.truncate.as_ref().is_some_and(|p| p.hits(endpoint, n));
    Ok(Admitted {
        tenant,
        truncate,
        plan,
    })
}

/// Percent-encodes a query value the way Graph writes its own nextLinks.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

// ---------------------------------------------------------------------------------------------
// GET /v1.0/security/alerts_v2
// ---------------------------------------------------------------------------------------------

fn parse_query_string(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

fn encode_skiptoken(snapshot_ms: i64, offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("v1:{snapshot_ms}:{offset}"))
}

fn decode_skiptoken(token: &str) -> Option<(i64, usize)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(ms), Some(off), None) => Some((ms.parse().ok()?, off.parse().ok()?)),
        _ => None,
    }
}

async fn list_alerts(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let admitted = match admit(&shared, &headers, Endpoint::Alerts) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let bad = |msg: &str| {
        graph_error(
            &shared,
            &headers,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            msg,
        )
    };
    let params = parse_query_string(raw.as_deref().unwrap_or_default());
    let (mut filter_text, mut orderby_text, mut top, mut skip, mut token, mut count) = (
        String::new(),
        String::new(),
        ALERTS_PAGE_CAP,
        0usize,
        None,
        false,
    );
    for (k, v) in &params {
        match k.as_str() {
            "$filter" => filter_text = v.clone(),
            "$orderby" => orderby_text = v.clone(),
            "$top" => match v.parse::<i64>() {
                Ok(n) if n > 0 => top = (n as usize).min(ALERTS_PAGE_CAP),
                _ => return bad(&format!("Invalid value '{v}' for query option '$top'.")),
            },
            "$skip" => match v.parse::<usize>() {
                Ok(n) if n <= 500 => skip = n,
                Ok(_) => return bad("The limit of '500' for Skip query has been exceeded."),
                Err(_) => return bad(&format!("Invalid value '{v}' for query option '$skip'.")),
            },
            "$skiptoken" => match decode_skiptoken(v) {
                Some(t) => token = Some(t),
                None => return bad("The $skiptoken is invalid or has expired."),
            },
            "$count" => match v.as_str() {
                "true" => count = true,
                "false" => count = false,
                _ => return bad(&format!("Invalid value '{v}' for query option '$count'.")),
            },
            other if other.starts_with('$') => {
                return bad(&format!(
                    "Query option '{other}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings."
                ));
            }
            _ => {}
        }
    }
    let filter = match filter_text.is_empty() {
        true => odata::Filter::default(),
        false => match odata::parse_filter(&filter_text) {
            Ok(f) => f,
            Err(msg) => return bad(&msg),
        },
    };
    let order = match orderby_text.is_empty() {
        true => OrderBy {
            property: Property::CreatedDateTime,
            descending: true,
        },
        false => match odata::parse_orderby(&orderby_text) {
            Ok(o) => o,
            Err(msg) => return bad(&msg),
        },
    };
    let now = shared.clock.now();
    let (snapshot, offset) = match token {
        Some((ms, off)) => match DateTime::from_timestamp_millis(ms) {
            Some(t) => (t, off),
            None => return bad("The $skiptoken is invalid or has expired."),
        },
        None => (now, skip),
    };
    let listing = alert_listing(
        &shared,
        admitted.tenant,
        &admitted.plan,
        snapshot,
        &filter,
        &filter_text,
        order,
        &orderby_text,
    );
    let dataset = &shared.tenants[admitted.tenant].dataset;
    let end = (offset + top).min(listing.len());
    let page: Vec<Value> = listing
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .filter_map(|&i| dataset.alert_json(i, snapshot))
        .collect();
    let base = base_url(&headers);
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{base}/v1.0/$metadata#security/alerts_v2")),
    );
    if count {
        body.insert("@odata.count".into(), json!(listing.len()));
    }
    if end < listing.len() {
        let mut link = format!("{base}/v1.0/security/alerts_v2?");
        for (k, v) in [("$filter", &filter_text), ("$orderby", &orderby_text)] {
            if !v.is_empty() {
                link.push_str(&format!("{k}={}&", utf8_percent_encode(v, QUERY_VALUE)));
            }
        }
        link.push_str(&format!(
            "$top={top}&$skiptoken={}",
            encode_skiptoken(snapshot.timestamp_millis(), end)
        ));
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(page));
    let mut bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    if admitted.truncate {
        bytes.truncate(bytes.len() / 2);
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")], bytes).into_response()
}

/// The indices of the alerts matching a filter at a snapshot time, in the requested order.
/// Cached so that following nextLinks does not rescan every alert for every page.
#[allow(clippy::too_many_arguments)]
fn alert_listing(
    shared: &Shared,
    tenant: usize,
    plan: &FaultPlan,
    snapshot: DateTime<Utc>,
    filter: &odata::Filter,
    filter_text: &str,
    order: OrderBy,
    order_text: &str,
) -> Arc<Vec<u32>> {
    let key: ListingKey = (
        tenant,
        snapshot.timestamp_millis(),
        filter_text.to_string(),
        order_text.to_string(),
    );
    if let Some((_, hit)) = shared
        .listings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(k, _)| *k == key)
    {
        return hit.clone();
    }
    let dataset = &shared.tenants[tenant].dataset;
    let mut rows: Vec<(DateTime<Utc>, String, u32)> = Vec::new();
    if !plan.empty_tenant {
        for i in 0..dataset.alert_count() {
            let Some(h) = dataset.alert_head(i, snapshot) else {
                continue;
            };
            let subject = Subject {
                service_source: h.service_source,
                status: h.status,
                severity: h.severity,
                classification: h.classification,
                determination: h.determination,
                assigned_to: h.assigned_to.as_deref(),
                created: h.created,
                last_update: h.last_update,
            };
            if filter.matches(&subject) {
                let t = if order.property == Property::LastUpdateDateTime {
                    h.last_update
                } else {
                    h.created
                };
                rows.push((t, h.id, i));
            }
        }
    }
    rows.sort();
    if order.descending {
        rows.reverse();
    }
    let listing = Arc::new(rows.into_iter().map(|(_, _, i)| i).collect::<Vec<_>>());
    let mut cache = shared.listings.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= 8 {
        cache.remove(0);
    }
    cache.push((key, listing.clone()));
    listing
}

// ---------------------------------------------------------------------------------------------
// POST /v1.0/security/runHuntingQuery
// ---------------------------------------------------------------------------------------------

/// Parses an ISO 8601 duration of days/hours/minutes/seconds (`P30D`, `PT12H`, `P1DT2H`).
fn parse_iso_duration(s: &str) -> Option<Duration> {
    let rest = s.strip_prefix('P').or_else(|| s.strip_prefix('p'))?;
    let (date, time) = match rest.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = Duration::zero();
    let mut any = false;
    let mut take = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
            } else {
                let secs = units.iter().find(|(u, _)| u.eq_ignore_ascii_case(&c))?.1;
                let n: f64 = num.parse().ok()?;
                total += Duration::milliseconds((n * secs as f64 * 1000.0) as i64);
                num.clear();
                any = true;
            }
        }
        num.is_empty().then_some(())
    };
    take(date, &[('W', 604_800), ('D', 86_400)])?;
    if let Some(t) = time {
        take(t, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    any.then_some(total)
}

/// Resolves a `Timespan` to `[start, end]` (the forms of GRAPH.md §5).
fn parse_timespan(s: &str, now: DateTime<Utc>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let time = |x: &str| kql::parse_datetime(x);
    match s.split_once('/') {
        Some((a, b)) => match (parse_iso_duration(a), parse_iso_duration(b)) {
            (Some(d), None) => time(b).map(|end| (end - d, end)),
            (None, Some(d)) => time(a).map(|start| (start, start + d)),
            (None, None) => Some((time(a)?, time(b)?)),
            (Some(_), Some(_)) => None,
        },
        None => match parse_iso_duration(s) {
            Some(d) => Some((now - d, now)),
            None => time(s).map(|start| (start, now)),
        },
    }
}

fn write_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut start = 0;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_cell(out: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Str(s) | Cell::DateTime(s) => write_json_str(out, s),
        Cell::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
    }
}

fn predicate_holds(p: &kql::Predicate, cell: Cell<'_>) -> bool {
    use kql::{CmpOp, Literal};
    match (cell, &p.value) {
        (Cell::Str(s) | Cell::DateTime(s), Literal::Str(v)) => match p.op {
            CmpOp::Eq => s == v,
            CmpOp::Ne => s != v,
            CmpOp::EqCi => s.to_lowercase() == v.to_lowercase(),
            CmpOp::NeCi => s.to_lowercase() != v.to_lowercase(),
            CmpOp::Gt => s > v.as_str(),
            CmpOp::Ge => s >= v.as_str(),
            CmpOp::Lt => s < v.as_str(),
            CmpOp::Le => s <= v.as_str(),
        },
        (Cell::Int(n), Literal::Int(v)) => match p.op {
            CmpOp::Eq | CmpOp::EqCi => n == *v,
            CmpOp::Ne | CmpOp::NeCi => n != *v,
            CmpOp::Gt => n > *v,
            CmpOp::Ge => n >= *v,
            CmpOp::Lt => n < *v,
            CmpOp::Le => n <= *v,
        },
        (Cell::Null, _) => matches!(p.op, CmpOp::Ne | CmpOp::NeCi),
        _ => false,
    }
}

/// The rows of a query, in its order, at most `limit`: ascending straight from the data set,
/// descending by walking back from the end in hour-sized slices so memory stays bounded.
fn hunting_rows<'a>(
    dataset: &'a Dataset,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    query: &'a kql::Query,
    limit: u64,
) -> Box<dyn Iterator<Item = super::data::EmailEvent> + 'a> {
    let keep = move |e: &super::data::EmailEvent| {
        query
            .predicates
            .iter()
            .all(|p| predicate_holds(p, e.cell(p.column)))
    };
    if query.descending != Some(true) {
        return Box::new(
            dataset
                .email_events(from, to, now)
                .filter(keep)
                .take(limit as usize),
        );
    }
    let slice = Duration::hours(1);
    let mut upper = to;
    let mut buffer: Vec<super::data::EmailEvent> = Vec::new();
    let mut emitted = 0u64;
    Box::new(std::iter::from_fn(move || {
        loop {
            if emitted >= limit {
                return None;
            }
            if let Some(e) = buffer.pop() {
                emitted += 1;
                return Some(e);
            }
            if upper <= from {
                return None;
            }
            let lower = (upper - slice).max(from);
            buffer = dataset
                .email_events(lower, upper, now)
                .filter(keep)
                .collect();
            upper = lower;
        }
    }))
}

async fn run_hunting_query(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&shared, &headers, Endpoint::Hunting) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let bad = |msg: &str| {
        graph_error(
            &shared,
            &headers,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            msg,
        )
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(&format!("Invalid request body: {e}")),
    };
    let field = |name: &str| {
        request
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.clone())
    };
    let Some(query_text) = field("Query").and_then(|v| v.as_str().map(str::to_string)) else {
        return bad("The 'Query' parameter is required.");
    };
    let now = shared.clock.now();
    let columns: Vec<&str> = EMAIL_EVENTS_COLUMNS.iter().map(|(name, _)| *name).collect();
    let query = match kql::parse(&query_text, "EmailEvents", &columns, now) {
        Ok(q) => q,
        Err(e) => return bad(&e.message()),
    };
    let retention_start = now - Duration::days(HUNTING_RETENTION_DAYS);
    let (span_start, span_end) = match field("Timespan")
        .and_then(|v| v.as_str().map(str::to_string))
    {
        None => (retention_start, now),
        Some(s) => match parse_timespan(&s, now) {
            Some(span) => span,
            None => {
                return bad(&format!(
                    "Invalid Timespan '{s}': use ISO 8601, e.g. P1D or 2026-11-01T00:00:00Z/2026-11-02T00:00:00Z."
                ));
            }
        },
    };
    // (from, to] in the data set's terms: exclusive start, inclusive end, 100 ns resolution.
    let tick = Duration::nanoseconds(100);
    let mut from = (span_start - tick).max(retention_start - tick);
    let mut to = span_end.min(now);
    if let Some(b) = query.lower {
        from = from.max(if b.inclusive { b.at - tick } else { b.at });
    }
    if let Some(b) = query.upper {
        to = to.min(if b.inclusive { b.at } else { b.at - tick });
    }
    let poisoned = match admitted.plan.poison_ranges(shared.start) {
        Ok(ranges) => ranges
            .iter()
            .enumerate()
            .any(|(i, (p_from, p_to, failures))| {
                let overlaps = from < *p_to && to > *p_from;
                if !overlaps {
                    return false;
                }
                let mut c = shared.counters.lock().unwrap_or_else(|p| p.into_inner());
                let left = c
                    .poison_left
                    .entry((admitted.tenant, i))
                    .or_insert(*failures);
                if *left > 0 {
                    *left -= 1;
                    true
                } else {
                    false
                }
            }),
        Err(e) => {
            return graph_error(
                &shared,
                &headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "UnknownError",
                &e.to_string(),
            );
        }
    };
    if poisoned {
        return graph_error(
            &shared,
            &headers,
            StatusCode::INTERNAL_SERVER_ERROR,
            "UnknownError",
            "",
        );
    }
    let projection: Vec<usize> = query
        .project
        .clone()
        .unwrap_or_else(|| (0..EMAIL_EVENTS_COLUMNS.len()).collect());
    let limit = query.take.unwrap_or(HUNTING_ROW_CAP).min(HUNTING_ROW_CAP);
    let empty = admitted.plan.empty_tenant || from >= to;
    let pascal = admitted.plan.pascal_schema;
    let truncate = admitted.truncate;
    let base = base_url(&headers);
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let worker = shared.clone();
    let tenant = admitted.tenant;
    tokio::task::spawn_blocking(move || {
        let (name_key, type_key) = if pascal {
            ("Name", "Type")
        } else {
            ("name", "type")
        };
        let mut out = Vec::with_capacity(256 * 1024);
        out.extend_from_slice(b"{\"@odata.context\":");
        write_json_str(
            &mut out,
            &format!("{base}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults"),
        );
        out.extend_from_slice(b",\"schema\":[");
        for (n, &c) in projection.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let (name, ty) = EMAIL_EVENTS_COLUMNS[c];
            out.extend_from_slice(
                format!(
                    "{{\"{name_key}\":\"{name}\",\"{type_key}\":\"{}\"}}",
                    ty.name()
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(b"],\"results\":[");
        let dataset = &worker.tenants[tenant].dataset;
        let rows: Box<dyn Iterator<Item = super::data::EmailEvent>> = if empty {
            Box::new(std::iter::empty())
        } else {
            hunting_rows(dataset, from, to, now, &query, limit)
        };
        // A truncated body stops after half the rows of a full page, mid-array.
        let stop_at = if truncate {
            Some(limit.min(1000) / 2)
        } else {
            None
        };
        for (n, row) in rows.enumerate() {
            if stop_at == Some(n as u64) {
                let _ = tx.blocking_send(std::mem::take(&mut out));
                return;
            }
            if n > 0 {
                out.push(b',');
            }
            out.push(b'{');
            for (k, &c) in projection.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write_json_str(&mut out, EMAIL_EVENTS_COLUMNS[c].0);
                out.push(b':');
                write_cell(&mut out, row.cell(c));
            }
            out.push(b'}');
            if out.len() >= 256 * 1024 && tx.blocking_send(std::mem::take(&mut out)).is_err() {
                return; // the client went away
            }
        }
        if stop_at.is_some() {
            // Fewer rows than the cut point: cut the closing brackets instead.
            let _ = tx.blocking_send(std::mem::take(&mut out));
            return;
        }
        out.extend_from_slice(b"]}");
        let _ = tx.blocking_send(out);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(Bytes::from(chunk)), rx))
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")], Body::from_stream(stream)).into_response()
}

async fn not_found(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    let segment = path.rsplit('/').next().unwrap_or_default().to_string();
    let _ = method;
    graph_error(
        &shared,
        &headers,
        StatusCode::BAD_REQUEST,
        "BadRequest",
        &format!("Resource not found for the segment '{segment}'."),
    )
}

/// Faults that make no sense until time is known are checked up front.
pub fn validate_plan(plan: &FaultPlan, start: DateTime<Utc>) -> Result<(), FaultPlanError> {
    plan.poison_ranges(start).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_forms_of_the_graph_docs() {
        let now = kql::parse_datetime("2026-11-26T12:00:00Z").unwrap();
        let t = |s| kql::parse_datetime(s).unwrap();
        assert_eq!(
            parse_timespan("P30D", now),
            Some((now - Duration::days(30), now))
        );
        assert_eq!(
            parse_timespan("2024-02-01T08:00:00Z/2024-02-15T08:00:00Z", now),
            Some((t("2024-02-01T08:00:00Z"), t("2024-02-15T08:00:00Z")))
        );
        assert_eq!(
            parse_timespan("P1D/2024-02-15T08:00:00Z", now),
            Some((t("2024-02-14T08:00:00Z"), t("2024-02-15T08:00:00Z")))
        );
        assert_eq!(
            parse_timespan("2024-02-01T08:00:00Z/PT12H", now),
            Some((t("2024-02-01T08:00:00Z"), t("2024-02-01T20:00:00Z")))
        );
        assert_eq!(
            parse_timespan("2024-02-01T08:00:00Z", now),
            Some((t("2024-02-01T08:00:00Z"), now))
        );
        assert_eq!(parse_timespan("yesterday", now), None);
    }

    #[test]
    fn json_strings_escape_control_characters() {
        let mut out = Vec::new();
        write_json_str(&mut out, "a\"b\\\u{1b}[31m\n\u{202e}");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\"a\\\"b\\\\\\u001b[31m\\n\u{202e}\"");
        let back: String = serde_json::from_str(&text).unwrap();
        assert_eq!(back, "a\"b\\\u{1b}[31m\n\u{202e}");
    }

    #[test]
    fn skiptokens_round_trip_and_reject_garbage() {
        let t = encode_skiptoken(1_764_000_000_000, 2000);
        assert_eq!(decode_skiptoken(&t), Some((1_764_000_000_000, 2000)));
        assert_eq!(decode_skiptoken("not-a-token"), None);
    }
}
