//! Client-credentials sign-in per tenant and cloud (GRAPH.md §1–2): one token cached until
//! shortly before `expires_in` runs out, dropped on a Graph 401, never printed.

use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::client::{read_capped, transport_error};
use super::error::{GraphError, TokenError, TokenErrorKind};
use crate::secret::Secret;

/// What a token request needs: where, for whom, and the secret.
#[derive(Clone)]
pub struct Credentials {
    /// `{login}/{tenant}/oauth2/v2.0/token`.
    pub token_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub secret: Secret,
    /// `{graph}/.default` of the tenant's cloud.
    pub scope: String,
}

struct CachedToken {
    token: Secret,
    refresh_at: Instant,
}

/// Fetches and caches one tenant's access token.
pub struct TokenSource {
    creds: Credentials,
    cached: Mutex<Option<CachedToken>>,
    clock: super::client::ServerClock,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: serde_json::Value,
}

/// How long before expiry a token is replaced: five minutes, or a fifth of a short lifetime.
fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(Duration::from_secs(300))
}

impl TokenSource {
    pub fn new(creds: Credentials) -> Self {
        TokenSource {
            creds,
            cached: Mutex::new(None),
            clock: Default::default(),
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// The server clock as observed on this tenant's answers (token endpoint and Graph).
    pub fn clock(&self) -> &super::client::ServerClock {
        &self.clock
    }

    /// A valid token: the cached one while it is fresh, otherwise a new one.
    pub async fn token(&self, http: &reqwest::Client) -> Result<Secret, GraphError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && Instant::now() < c.refresh_at
        {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.request(http).await?;
        *cached = Some(CachedToken {
            token: token.clone(),
            refresh_at: Instant::now() + lifetime - refresh_margin(lifetime),
        });
        Ok(token)
    }

    /// Asks the login host for the time (an unauthenticated GET of the tenant's OpenID
    /// configuration, once per pass). Failures are ignored: the clock then falls back to the
    /// newest `Date` it has seen.
    pub async fn refresh_clock(&self, http: &reqwest::Client) {
        let url = self.creds.token_url.replace(
            "/oauth2/v2.0/token",
            "/v2.0/.well-known/openid-configuration",
        );
        if let Ok(resp) = http.get(&url).timeout(Duration::from_secs(10)).send().await {
            self.clock.observe(resp.headers());
        }
    }

    /// Forgets the cached token (after Graph answered 401 with it).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    /// One token request. Transient failures (5xx, 429, connection) are retried a few times.
    async fn request(&self, http: &reqwest::Client) -> Result<(Secret, Duration), GraphError> {
        let c = &self.creds;
        let host = host_of(&c.token_url);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.secret.expose()),
                ("scope", c.scope.as_str()),
            ];
            let sent = http
                .post(&c.token_url)
                .form(&form)
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) if attempt < 3 => {
                    tracing::debug!("token request to {host} failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                    continue;
                }
                Err(e) => return Err(transport_error(&host, &e)),
            };
            self.clock.observe(resp.headers());
            let status = resp.status().as_u16();
            let body = match read_capped(resp, 1 << 20).await {
                Ok(b) => b,
                Err(e) if attempt < 3 => {
                    tracing::debug!("reading the token answer failed ({e}); retrying");
                    continue;
                }
                Err(e) => return Err(e.into_graph_error(&host, "the token endpoint")),
            };
            if status == 200 {
                let parsed: TokenBody = serde_json::from_slice(&body).map_err(|_| GraphError::BadResponse {
                    endpoint: "the token endpoint".into(),
                    host: host.clone(),
                    what: describe_non_json(&body),
                    fix: "check login_endpoint: it must be the Entra ID login host of the tenant's cloud".into(),
                })?;
                let secs = match &parsed.expires_in {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.parse().ok(),
                    _ => None,
                }
                .unwrap_or(3599)
                .max(1);
                tracing::debug!(
                    "new access token for tenant {} (expires in {secs} s)",
                    c.tenant_id
                );
                return Ok((Secret::new(parsed.access_token), Duration::from_secs(secs)));
            }
            if let Some(err) = TokenError::from_body(status, &body, &c.client_id, &c.tenant_id) {
                if err.kind == TokenErrorKind::Other && status >= 500 && attempt < 3 {
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                    continue;
                }
                return Err(GraphError::Token(Box::new(err)));
            }
            if (status == 429 || status >= 500) && attempt < 3 {
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                continue;
            }
            return Err(GraphError::BadResponse {
                endpoint: "the token endpoint".into(),
                host,
                what: format!("HTTP {status} and {}", describe_non_json(&body)),
                fix:
                    "check login_endpoint: it must be the Entra ID login host of the tenant's cloud"
                        .into(),
            });
        }
    }
}

/// The host part of a URL, for messages.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| url.to_string())
}

/// Describes a body that should have been JSON, for a one-line message.
pub fn describe_non_json(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        "an empty body".into()
    } else if trimmed.starts_with('<') {
        "an HTML page instead of JSON (a proxy, captive portal or wrong endpoint?)".into()
    } else if trimmed.starts_with('{') || trimmed.starts_with('[') {
        "JSON that is cut off or malformed".into()
    } else {
        "a body that is not JSON".into()
    }
}

/// The application roles in an access token's `roles` claim (no signature check: this is
/// advice for `doctor`, not a security decision). `None` when the token is not a JWT.
pub fn token_roles(token: &Secret) -> Option<Vec<String>> {
    let payload = token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(
        claims
            .get("roles")
            .and_then(|r| r.as_array())
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tokens_refresh_early_long_ones_five_minutes_before() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3599)),
            Duration::from_secs(300)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(5)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn roles_come_from_the_jwt_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"roles":["SecurityAlert.Read.All"],"tid":"t"}"#);
        let tok = Secret::new(format!("e30.{payload}.sig"));
        assert_eq!(
            token_roles(&tok),
            Some(vec!["SecurityAlert.Read.All".to_string()])
        );
        let none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"tid":"t"}"#);
        assert_eq!(
            token_roles(&Secret::new(format!("e30.{none}.sig"))),
            Some(vec![])
        );
        assert_eq!(token_roles(&Secret::new("opaque")), None);
    }

    #[test]
    fn non_json_bodies_are_described() {
        assert!(describe_non_json(b"<!DOCTYPE html><html>").contains("HTML"));
        assert!(describe_non_json(b"{\"value\":[").contains("cut off"));
        assert_eq!(describe_non_json(b""), "an empty body");
    }
}
