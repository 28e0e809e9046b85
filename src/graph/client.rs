//! The HTTP side of Graph: one client per tenant with rustls, timeouts, gzip, `HTTPS_PROXY`,
//! a `mailtrail/<version>` user agent, size-capped bodies, a client-side rate limit per
//! endpoint, and an explicit retry classifier (STYLE: Vector's `RetryLogic`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::Mutex;

use super::auth::{TokenSource, describe_non_json, host_of};
use super::error::{GraphError, TransportKind, parse_missing_roles};

/// Whether a response is final, and if not, how long to wait.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryDecision {
    Successful,
    /// Try again after this long (`None`: use backoff).
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    DontRetry,
}

/// The retry classifier for Graph responses (GRAPH.md §3, DESIGN §4).
pub fn classify(status: u16, retry_after: Option<&str>) -> RetryDecision {
    let after = retry_after.and_then(parse_retry_after);
    match status {
        200..=299 => RetryDecision::Successful,
        429 => RetryDecision::Retry {
            after,
            reason: "throttled (429)".into(),
        },
        500 | 502 | 503 | 504 => RetryDecision::Retry {
            after,
            reason: format!("server error ({status})"),
        },
        _ => RetryDecision::DontRetry,
    }
}

/// `Retry-After` in seconds, fractional allowed (Graph sends e.g. `2.128`), capped at 5 minutes.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(300.0)))
}

/// Full-jitter exponential backoff: a random wait in `[0, min(cap, base·2^attempt)]`.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base.saturating_mul(1u32 << attempt.min(16)).min(cap);
    let nanos = ceiling.as_nanos().max(1) as u64;
    // RandomState is seeded per instance from the OS: enough randomness for jitter.
    let r =
        std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), attempt);
    Duration::from_nanos(r % nanos)
}

/// The server's clock as seen through `Date` headers: windows are computed in Microsoft's
/// time, so a skewed local clock can neither skip data nor ask for the future.
#[derive(Debug, Default)]
pub struct ServerClock {
    /// The newest `Date` seen, and when (local monotonic time).
    last: std::sync::Mutex<Option<(chrono::DateTime<chrono::Utc>, Instant)>>,
}

/// For this long after an answer, "now" is that answer's `Date` itself: two passes against
/// the same answers compute the same windows, and being up to a minute behind only delays data
/// (the checkpoint never passes what was asked for).
const FRESH: Duration = Duration::from_secs(60);

impl ServerClock {
    /// Records the `Date` header of an answer.
    pub fn observe(&self, headers: &reqwest::header::HeaderMap) {
        let Some(date) = headers
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
        else {
            return;
        };
        let Ok(server) = chrono::DateTime::parse_from_rfc2822(date) else {
            return;
        };
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((server.with_timezone(&chrono::Utc), Instant::now()));
    }

    /// How long ago the last `Date` was seen.
    pub fn age(&self) -> Option<Duration> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|(_, at)| at.elapsed())
    }

    /// Now by the server: its last `Date` while fresh, then that `Date` plus the time since;
    /// the local clock only when the server was never heard.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match *self.last.lock().unwrap_or_else(|p| p.into_inner()) {
            Some((date, at)) if at.elapsed() < FRESH => date,
            Some((date, at)) => date + chrono::Duration::from_std(at.elapsed()).unwrap_or_default(),
            None => chrono::Utc::now(),
        }
    }
}

/// Counters of what the client went through, for the sync-run record.
#[derive(Debug, Default)]
pub struct CallStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub throttle_wait_ms: AtomicU64,
    pub token_refreshes: AtomicU64,
}

impl CallStats {
    pub fn snapshot(&self) -> CallCounts {
        CallCounts {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttle_wait_ms: self.throttle_wait_ms.load(Ordering::Relaxed),
            token_refreshes: self.token_refreshes.load(Ordering::Relaxed),
        }
    }
}

/// A copy of [`CallStats`] at one moment; subtract two to get one stream's share.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CallCounts {
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub throttle_wait_ms: u64,
    pub token_refreshes: u64,
}

impl std::ops::Sub for CallCounts {
    type Output = CallCounts;
    fn sub(self, o: CallCounts) -> CallCounts {
        CallCounts {
            requests: self.requests.saturating_sub(o.requests),
            retries: self.retries.saturating_sub(o.retries),
            throttled: self.throttled.saturating_sub(o.throttled),
            throttle_wait_ms: self.throttle_wait_ms.saturating_sub(o.throttle_wait_ms),
            token_refreshes: self.token_refreshes.saturating_sub(o.token_refreshes),
        }
    }
}

/// A token bucket: `capacity` requests at once, refilled at `per_minute`.
pub struct RateLimit {
    capacity: f64,
    per_sec: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub fn per_minute(n: u32) -> Self {
        let capacity = f64::from(n.max(1));
        RateLimit {
            capacity,
            per_sec: capacity / 60.0,
            state: Mutex::new((capacity, Instant::now())),
        }
    }

    /// Waits until a request may go out; returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let mut waited = Duration::ZERO;
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                s.0 =
                    (s.0 + now.duration_since(s.1).as_secs_f64() * self.per_sec).min(self.capacity);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return waited;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.per_sec)
            };
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }
}

/// The two Graph endpoints mailtrail calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Alerts,
    Hunting,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Alerts => "security/alerts_v2",
            Api::Hunting => "security/runHuntingQuery",
        }
    }

    fn timeout(self) -> Duration {
        match self {
            Api::Alerts => Duration::from_secs(60),
            // Advanced hunting allows a query 3 minutes; leave room for the transfer.
            Api::Hunting => Duration::from_secs(200),
        }
    }

    fn body_cap(self) -> usize {
        match self {
            Api::Alerts => 256 << 20,
            // 100,000 rows of EmailEvents with every column.
            Api::Hunting => 1 << 30,
        }
    }
}

/// Retry budget of one call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

/// Builds the shared HTTP client: rustls (ring) with the platform's roots, gzip, env proxies,
/// the user agent, and redirects followed only within the same origin.
pub fn http_client() -> Result<reqwest::Client, GraphError> {
    http_client_with(Duration::from_secs(10))
}

/// [`http_client`] with another connect timeout (`doctor` gives up on silent hosts sooner).
///
/// A redirect is followed only to the same scheme, host and port as the original request: a
/// 307 from the token endpoint re-sends the form, secret included, to wherever it points.
pub fn http_client_with(connect_timeout: Duration) -> Result<reqwest::Client, GraphError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("mailtrail/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .gzip(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let next = attempt.url();
            let same_origin = attempt.previous().first().is_some_and(|first| {
                first.scheme() == next.scheme()
                    && first.host_str() == next.host_str()
                    && first.port_or_known_default() == next.port_or_known_default()
            });
            if same_origin && attempt.previous().len() < 3 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .build()
        .map_err(|e| GraphError::Transport {
            kind: TransportKind::Other,
            host: "-".into(),
            detail: e.to_string(),
        })
}

/// Maps a reqwest failure to a typed transport error with a readable detail.
pub fn transport_error(host: &str, e: &reqwest::Error) -> GraphError {
    let mut chain = Vec::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    let all = chain.join(": ").to_lowercase();
    let mut rustls_error = false;
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        rustls_error |= s.downcast_ref::<rustls::Error>().is_some()
            || s.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
        src = s.source();
    }
    let kind = if rustls_error
        || [
            "certificate",
            "tls",
            "handshake",
            "corrupt message",
            "peer is incompatible",
            "alert received",
        ]
        .iter()
        .any(|needle| all.contains(needle))
    {
        TransportKind::Tls
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_connect() {
        TransportKind::Connect
    } else if e.is_body() || e.is_decode() {
        TransportKind::Body
    } else {
        TransportKind::Other
    };
    // The innermost cause is the useful one ("Connection refused (os error 111)").
    let detail = chain.last().cloned().unwrap_or_default();
    GraphError::Transport {
        kind,
        host: host.to_string(),
        detail,
    }
}

/// Why reading a body failed.
pub enum ReadError {
    TooLarge(usize),
    Transport(reqwest::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(cap) => write!(f, "the answer is larger than {} MiB", cap >> 20),
            ReadError::Transport(e) => write!(f, "{e}"),
        }
    }
}

impl ReadError {
    pub fn into_graph_error(self, host: &str, endpoint: &str) -> GraphError {
        match self {
            ReadError::TooLarge(cap) => GraphError::BadResponse {
                endpoint: endpoint.into(),
                host: host.into(),
                what: format!("a body larger than {} MiB", cap >> 20),
                fix: "check graph_endpoint / login_endpoint; a shorter window or smaller page keeps answers small".into(),
            },
            ReadError::Transport(e) => transport_error(host, &e),
        }
    }
}

/// Reads a whole body, refusing more than `cap` bytes.
pub async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::with_capacity(
        resp.content_length()
            .map_or(8192, |n| (n as usize).min(cap)),
    );
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if out.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge(cap));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A Graph error envelope: `{"error":{"code","message",…}}`.
#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, rename = "innerError", alias = "innererror")]
    inner: Option<serde_json::Value>,
}

fn envelope(body: &[u8]) -> (String, String, Option<String>) {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(e) => {
            let rid = e
                .error
                .inner
                .as_ref()
                .and_then(|i| i.get("request-id"))
                .and_then(|r| r.as_str())
                .map(str::to_string);
            (e.error.code, e.error.message, rid)
        }
        Err(_) => (String::new(), describe_non_json(body), None),
    }
}

/// One page of `alerts_v2`: the alerts (raw JSON, verbatim) and the next link.
pub struct AlertsPage {
    pub alerts: Vec<Box<RawValue>>,
    pub next_link: Option<String>,
}

#[derive(Deserialize)]
struct AlertsBody {
    value: Vec<Box<RawValue>>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// A hunting result: column names and types, and each row as raw JSON.
pub struct HuntingResult {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Box<RawValue>>,
}

#[derive(Deserialize)]
struct SchemaColumn {
    #[serde(alias = "Name")]
    name: String,
    #[serde(alias = "Type", default)]
    r#type: String,
}

#[derive(Deserialize)]
struct HuntingBody {
    #[serde(alias = "Schema", default)]
    schema: Vec<SchemaColumn>,
    #[serde(alias = "Results")]
    results: Vec<Box<RawValue>>,
}

/// Graph for one tenant: authenticated, rate-limited, retrying.
pub struct GraphClient {
    http: reqwest::Client,
    auth: TokenSource,
    graph: String,
    host: String,
    alerts_limit: RateLimit,
    hunting_limit: RateLimit,
    /// Retry budget for alerts_v2 calls.
    pub policy: RetryPolicy,
    /// Retry budget for hunting calls (the collector splits windows that keep failing).
    pub hunting_policy: RetryPolicy,
    pub stats: Arc<CallStats>,
}

impl GraphClient {
    /// `graph` is the service root without `/v1.0` (e.g. `https://graph.microsoft.com`).
    pub fn new(http: reqwest::Client, auth: TokenSource, graph: &str) -> Self {
        let graph = graph.trim_end_matches('/').to_string();
        GraphClient {
            http,
            auth,
            host: host_of(&graph),
            graph,
            alerts_limit: RateLimit::per_minute(150),
            hunting_limit: RateLimit::per_minute(45),
            policy: RetryPolicy::default(),
            hunting_policy: RetryPolicy::default(),
            stats: Arc::new(CallStats::default()),
        }
    }

    /// Replaces the client-side rate limits (requests per minute; defaults: alerts 150,
    /// hunting 45, Graph's documented quotas).
    pub fn set_rate_limits(&mut self, alerts_per_minute: u32, hunting_per_minute: u32) {
        self.alerts_limit = RateLimit::per_minute(alerts_per_minute);
        self.hunting_limit = RateLimit::per_minute(hunting_per_minute);
    }

    pub fn auth(&self) -> &TokenSource {
        &self.auth
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Now by the server's clock (see [`ServerClock`]), freshly asked; signs in first so that
    /// credential problems surface before any window is planned.
    pub async fn server_now(&self) -> Result<chrono::DateTime<chrono::Utc>, GraphError> {
        self.auth.token(&self.http).await?;
        self.auth.refresh_clock(&self.http).await;
        Ok(self.auth.clock().now())
    }

    /// The first `alerts_v2` URL for a filter and page size.
    pub fn alerts_url(&self, filter: &str, top: u32, orderby: Option<&str>) -> String {
        let mut url = reqwest::Url::parse(&format!("{}/v1.0/security/alerts_v2", self.graph))
            .unwrap_or_else(|_| {
                reqwest::Url::parse("https://graph.microsoft.com/v1.0/security/alerts_v2")
                    .expect("static URL")
            });
        {
            let mut q = url.query_pairs_mut();
            if !filter.is_empty() {
                q.append_pair("$filter", filter);
            }
            if let Some(o) = orderby {
                q.append_pair("$orderby", o);
            }
            q.append_pair("$top", &top.to_string());
        }
        url.to_string()
    }

    /// Fetches one page; `url` is the first URL or a nextLink, followed verbatim.
    pub async fn alerts_page(&self, url: &str) -> Result<AlertsPage, GraphError> {
        let body: AlertsBody = self
            .call(
                Api::Alerts,
                |http, token| http.get(url).bearer_auth(token),
                |b| {
                    serde_json::from_slice::<AlertsBody>(b).map_err(|_| {
                        if serde_json::from_slice::<serde_json::Value>(b).is_ok() {
                            "a JSON body without a `value` array".to_string()
                        } else {
                            describe_non_json(b)
                        }
                    })
                },
            )
            .await?;
        Ok(AlertsPage {
            alerts: body.value,
            next_link: body.next_link,
        })
    }

    /// Runs one advanced-hunting query.
    pub async fn run_hunting_query(
        &self,
        query: &str,
        timespan: Option<&str>,
    ) -> Result<HuntingResult, GraphError> {
        let url = format!("{}/v1.0/security/runHuntingQuery", self.graph);
        let mut req = serde_json::json!({ "Query": query });
        if let Some(t) = timespan {
            req["Timespan"] = serde_json::Value::String(t.to_string());
        }
        let body: HuntingBody = self
            .call(
                Api::Hunting,
                |http, token| http.post(&url).bearer_auth(token).json(&req),
                |b| {
                    serde_json::from_slice::<HuntingBody>(b).map_err(|_| {
                        if serde_json::from_slice::<serde_json::Value>(b).is_ok() {
                            "a JSON body without `schema` and `results`".to_string()
                        } else {
                            describe_non_json(b)
                        }
                    })
                },
            )
            .await?;
        Ok(HuntingResult {
            columns: body
                .schema
                .into_iter()
                .map(|c| (c.name, c.r#type))
                .collect(),
            rows: body.results,
        })
    }

    /// Sends a request until it succeeds or a final answer comes, following DESIGN §4:
    /// 429/5xx/connection failures/unparseable 200s retry (Retry-After or backoff); 401 drops
    /// the token and retries once; 400/403/404 do not retry.
    async fn call<T: DeserializeOwned>(
        &self,
        api: Api,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, GraphError> {
        let endpoint = api.name();
        let policy = match api {
            Api::Alerts => self.policy,
            Api::Hunting => self.hunting_policy,
        };
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let waited = match api {
                Api::Alerts => self.alerts_limit.acquire().await,
                Api::Hunting => self.hunting_limit.acquire().await,
            };
            if !waited.is_zero() {
                self.stats
                    .throttle_wait_ms
                    .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
            }
            let token = self.auth.token(&self.http).await?;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let sent = build(&self.http, token.expose())
                .timeout(api.timeout())
                .send()
                .await;
            let last = attempt >= policy.max_attempts;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    let err = transport_error(&self.host, &e);
                    if last
                        || matches!(
                            err,
                            GraphError::Transport {
                                kind: TransportKind::Tls,
                                ..
                            }
                        )
                    {
                        return Err(err);
                    }
                    tracing::info!("{endpoint}: {err}; retrying");
                    self.pause(attempt, None, false, &policy).await;
                    continue;
                }
            };
            self.auth.clock().observe(resp.headers());
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = match read_capped(resp, api.body_cap()).await {
                Ok(b) => b,
                Err(ReadError::TooLarge(cap)) => {
                    return Err(ReadError::TooLarge(cap).into_graph_error(&self.host, endpoint));
                }
                Err(e) if !last => {
                    tracing::info!("{endpoint}: reading the answer failed ({e}); retrying");
                    self.pause(attempt, None, false, &policy).await;
                    continue;
                }
                Err(e) => return Err(e.into_graph_error(&self.host, endpoint)),
            };
            match classify(status, retry_after.as_deref()) {
                RetryDecision::Successful => match parse(&body) {
                    Ok(v) => return Ok(v),
                    Err(what) if last => {
                        return Err(GraphError::BadResponse {
                            endpoint: endpoint.into(),
                            host: self.host.clone(),
                            what,
                            fix: "check graph_endpoint: it must be Microsoft Graph's service root (e.g. https://graph.microsoft.com), and any proxy must pass answers through unchanged".into(),
                        });
                    }
                    Err(what) => {
                        tracing::info!("{endpoint}: HTTP {status} with {what}; retrying");
                        self.pause(attempt, None, false, &policy).await;
                    }
                },
                RetryDecision::Retry { after, reason } => {
                    let throttled = status == 429;
                    if last {
                        let (code, message, _) = envelope(&body);
                        return Err(GraphError::Unavailable {
                            endpoint: endpoint.into(),
                            status,
                            code,
                            message,
                            attempts: attempt,
                        });
                    }
                    tracing::info!("{endpoint}: {reason}; retrying");
                    self.pause(attempt, after, throttled, &policy).await;
                }
                RetryDecision::DontRetry => {
                    let (code, message, request_id) = envelope(&body);
                    match status {
                        401 if !refreshed => {
                            refreshed = true;
                            attempt -= 1;
                            self.auth.invalidate().await;
                            self.stats.token_refreshes.fetch_add(1, Ordering::Relaxed);
                            tracing::info!(
                                "{endpoint}: 401 ({message}); fetching a new token once"
                            );
                        }
                        401 => {
                            return Err(GraphError::Unauthorized {
                                endpoint: endpoint.into(),
                                message,
                            });
                        }
                        403 => {
                            let (missing, granted) =
                                parse_missing_roles(&message).unwrap_or_default();
                            return Err(GraphError::Forbidden {
                                endpoint: endpoint.into(),
                                missing,
                                granted,
                                message,
                            });
                        }
                        400 | 404 | 405 => {
                            if message.contains("Resource not found for the segment") {
                                return Err(GraphError::Unsupported(format!(
                                    "{endpoint} does not exist at {} ({message}); fix: alerts_v2 and advanced hunting are not available in the China cloud; check region and graph_endpoint",
                                    self.host
                                )));
                            }
                            return Err(GraphError::Refused {
                                endpoint: endpoint.into(),
                                status,
                                code,
                                message,
                                request_id,
                            });
                        }
                        _ => {
                            return Err(GraphError::Status {
                                endpoint: endpoint.into(),
                                status,
                                message,
                            });
                        }
                    }
                }
            }
        }
    }

    async fn pause(
        &self,
        attempt: u32,
        after: Option<Duration>,
        throttled: bool,
        policy: &RetryPolicy,
    ) {
        let wait = after.unwrap_or_else(|| backoff(attempt, policy.base, policy.cap));
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        if throttled {
            self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            self.stats
                .throttle_wait_ms
                .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
        }
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classifier_follows_the_design() {
        assert_eq!(classify(200, None), RetryDecision::Successful);
        assert_eq!(
            classify(429, Some("2.128")),
            RetryDecision::Retry {
                after: Some(Duration::from_secs_f64(2.128)),
                reason: "throttled (429)".into()
            }
        );
        assert!(matches!(
            classify(503, None),
            RetryDecision::Retry { after: None, .. }
        ));
        assert!(matches!(
            classify(504, Some("1")),
            RetryDecision::Retry { .. }
        ));
        for s in [400, 401, 403, 404] {
            assert_eq!(classify(s, None), RetryDecision::DontRetry, "{s}");
        }
    }

    #[test]
    fn retry_after_accepts_fractions_and_refuses_junk() {
        assert_eq!(parse_retry_after("0.25"), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("86400"), Some(Duration::from_secs(300)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 0..20 {
            let d = backoff(attempt, Duration::from_millis(500), Duration::from_secs(30));
            assert!(d <= Duration::from_secs(30));
            assert!(d <= Duration::from_millis(500) * (1 << attempt.min(16)));
        }
    }

    #[tokio::test]
    async fn the_rate_limit_allows_a_burst_then_spaces_requests() {
        let limit = RateLimit::per_minute(600); // 10 per second, burst of 600
        let start = Instant::now();
        for _ in 0..600 {
            limit.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "the burst is immediate"
        );
        let waited = limit.acquire().await;
        assert!(
            waited >= Duration::from_millis(50),
            "then ~100 ms apart: {waited:?}"
        );
    }
}
