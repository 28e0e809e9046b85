//! Everything that can go wrong between mailtrail and Microsoft, typed, each with the fix a user
//! needs. Token errors are classified by AADSTS code (never by description text, GRAPH.md §2);
//! Graph 403s by the roles they name (GRAPH.md §3).

use std::fmt;

/// The cause of a refused token request, by AADSTS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenErrorKind {
    /// 7000215: wrong secret — very often the secret's ID pasted instead of its value.
    InvalidSecret,
    /// 7000222: the secret has expired.
    ExpiredSecret,
    /// 7000218: no secret was sent.
    MissingSecret,
    /// 700016: the client id is not an app in this tenant (or in this cloud).
    UnknownClient,
    /// 90002 / 900023: the tenant does not exist here (typo, or another cloud).
    UnknownTenant,
    /// 900382 / 900432 / 90038: tenant and login host are in different clouds.
    CrossCloud,
    /// 70011: the scope is not valid for this cloud.
    BadScope,
    /// 7000112: the application is disabled.
    AppDisabled,
    /// Anything else.
    Other,
}

impl TokenErrorKind {
    pub fn from_code(code: Option<u32>) -> Self {
        match code {
            Some(7000215) => TokenErrorKind::InvalidSecret,
            Some(7000222) => TokenErrorKind::ExpiredSecret,
            Some(7000218) => TokenErrorKind::MissingSecret,
            Some(700016) => TokenErrorKind::UnknownClient,
            Some(90002) | Some(900023) => TokenErrorKind::UnknownTenant,
            Some(900382) | Some(900432) | Some(90038) => TokenErrorKind::CrossCloud,
            Some(70011) => TokenErrorKind::BadScope,
            Some(7000112) => TokenErrorKind::AppDisabled,
            _ => TokenErrorKind::Other,
        }
    }
}

/// A token request Entra refused, with what support needs to look it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    pub kind: TokenErrorKind,
    /// HTTP status of the refusal.
    pub status: u16,
    /// The AADSTS code (from `error_codes`, or parsed from the description).
    pub code: Option<u32>,
    /// The OAuth `error` value, e.g. `invalid_client`.
    pub error: String,
    /// Entra's own description, first sentence (without the trace lines).
    pub description: String,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    /// Which app and tenant were asked for, for the message.
    pub client_id: String,
    pub tenant_id: String,
}

impl TokenError {
    /// Parses an Entra error body. `None` when the body is not Entra's error shape.
    pub fn from_body(status: u16, body: &[u8], client_id: &str, tenant_id: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let error = v.get("error")?.as_str()?.to_string();
        let description = v
            .get("error_description")
            .and_then(|d| d.as_str())
            .unwrap_or_default();
        let code = v
            .get("error_codes")
            .and_then(|c| c.as_array())
            .and_then(|c| c.first())
            .and_then(|c| c.as_u64())
            .and_then(|c| u32::try_from(c).ok())
            .or_else(|| {
                let digits: String = description
                    .strip_prefix("AADSTS")?
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().ok()
            });
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        // Keep the message part: Entra appends "Trace ID: … Correlation ID: … Timestamp: …".
        let first = description
            .split(" Trace ID:")
            .next()
            .unwrap_or(description);
        let first = first.split_once(": ").map_or(first, |(head, rest)| {
            if head.starts_with("AADSTS") {
                rest
            } else {
                first
            }
        });
        Some(TokenError {
            kind: TokenErrorKind::from_code(code),
            status,
            code,
            error,
            description: first.trim().lines().next().unwrap_or_default().to_string(),
            trace_id: text("trace_id"),
            correlation_id: text("correlation_id"),
            client_id: client_id.to_string(),
            tenant_id: tenant_id.to_string(),
        })
    }

    /// What the user should do, in one line.
    pub fn fix(&self) -> String {
        match self.kind {
            TokenErrorKind::InvalidSecret => "use the client secret's Value, not its Secret ID (App registrations → your app → Certificates & secrets; a value is shown only once, so create a new secret if you no longer have it)".into(),
            TokenErrorKind::ExpiredSecret => "create a new client secret under App registrations → your app → Certificates & secrets and put its Value where mailtrail reads the secret".into(),
            TokenErrorKind::MissingSecret => "set the client secret (MAILTRAIL_CLIENT_SECRET, or the tenant's client_secret_env / client_secret_file)".into(),
            TokenErrorKind::UnknownClient => format!("check client_id ({}) against the Application (client) ID on the app's Overview page; the app must be registered in this tenant and in this cloud (region)", self.client_id),
            TokenErrorKind::UnknownTenant => format!("check tenant_id ({}) against the Directory (tenant) ID on the app's Overview page, and region: a GCC High or DoD tenant needs region = \"gcc-high\" or \"dod\" (`mailtrail doctor` checks)", self.tenant_id),
            TokenErrorKind::CrossCloud => "the tenant lives in another Microsoft cloud than the configured region; set region to the tenant's cloud (`mailtrail doctor` finds it)".into(),
            TokenErrorKind::BadScope => "the token scope does not fit this cloud; check region (and login_endpoint / graph_endpoint overrides)".into(),
            TokenErrorKind::AppDisabled => "the app registration is disabled in this tenant; enable it (Enterprise applications → your app → Properties → Enabled for users to sign in)".into(),
            TokenErrorKind::Other => "see the AADSTS code at https://login.microsoftonline.com/error and quote the trace and correlation IDs to Microsoft support".into(),
        }
    }

    fn what(&self) -> String {
        match self.kind {
            TokenErrorKind::InvalidSecret => "the client secret was rejected".into(),
            TokenErrorKind::ExpiredSecret => "the client secret has expired".into(),
            TokenErrorKind::MissingSecret => "no client secret was sent".into(),
            TokenErrorKind::UnknownClient => format!(
                "application {} is not registered in tenant {}",
                self.client_id, self.tenant_id
            ),
            TokenErrorKind::UnknownTenant => format!("tenant {} was not found", self.tenant_id),
            TokenErrorKind::CrossCloud => "the tenant is in a different Microsoft cloud".into(),
            TokenErrorKind::BadScope => "the token scope is not valid".into(),
            TokenErrorKind::AppDisabled => "the application is disabled".into(),
            TokenErrorKind::Other => {
                format!("sign-in failed ({}: {})", self.error, self.description)
            }
        }
    }

    /// ` (trace ID …, correlation ID …)` or empty.
    pub fn ids(&self) -> String {
        match (&self.trace_id, &self.correlation_id) {
            (Some(t), Some(c)) => format!(" (trace ID {t}, correlation ID {c})"),
            (Some(t), None) => format!(" (trace ID {t})"),
            (None, Some(c)) => format!(" (correlation ID {c})"),
            (None, None) => String::new(),
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self
            .code
            .map(|c| format!(" (AADSTS{c})"))
            .unwrap_or_default();
        write!(
            f,
            "{}{code}{}; fix: {}",
            self.what(),
            self.ids(),
            self.fix()
        )
    }
}

/// How a request failed on the way (no HTTP answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// DNS failure, connection refused, unreachable network.
    Connect,
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The connection broke while reading the answer.
    Body,
    Other,
}

/// A failed call to Microsoft (or the simulator), as the collector and the user see it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("{0}")]
    Token(Box<TokenError>),

    /// 403: the app lacks an application role (or admin consent).
    #[error("{}", forbidden_message(.endpoint, .missing, .granted))]
    Forbidden {
        endpoint: String,
        /// Roles any one of which would do, as Graph lists them.
        missing: Vec<String>,
        /// Roles the token carries (empty: no consent at all).
        granted: Vec<String>,
        message: String,
    },

    /// 401 even with a fresh token.
    #[error(
        "Graph rejected a fresh access token for {endpoint}: {message}; fix: check that region matches the tenant's cloud and that login_endpoint / graph_endpoint belong together"
    )]
    Unauthorized { endpoint: String, message: String },

    /// 400/404: the request itself was refused (a bug, or an API that does not exist here).
    #[error("Graph refused the request to {endpoint} ({status} {code}): {message}")]
    Refused {
        endpoint: String,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },

    /// 429/5xx that did not clear within the retry budget.
    #[error("Graph kept failing for {endpoint} ({status} {code}) after {attempts} attempts{}; it will be retried on the next run", if .message.is_empty() { String::new() } else { format!(": {}", .message) })]
    Unavailable {
        endpoint: String,
        status: u16,
        code: String,
        message: String,
        attempts: u32,
    },

    /// Any other unexpected HTTP status.
    #[error("unexpected HTTP {status} from {endpoint}: {message}")]
    Status {
        endpoint: String,
        status: u16,
        message: String,
    },

    #[error("{}", transport_message(.kind, .host, .detail))]
    Transport {
        kind: TransportKind,
        host: String,
        detail: String,
    },

    /// A 2xx whose body is not what Graph sends (HTML from a proxy, truncated, wrong shape).
    #[error("{host} answered {endpoint} with {what}; fix: {fix}")]
    BadResponse {
        endpoint: String,
        host: String,
        what: String,
        fix: String,
    },

    /// The configured cloud has no such API.
    #[error("{0}")]
    Unsupported(String),
}

fn forbidden_message(endpoint: &str, missing: &[String], granted: &[String]) -> String {
    let need = missing
        .first()
        .cloned()
        .unwrap_or_else(|| "the required role".into());
    if granted.is_empty() {
        format!(
            "Graph denied {endpoint}: the app's token carries no application roles — admin consent was not granted (or no permission was added); fix: App registrations → your app → API permissions → add Microsoft Graph application permission {need} and click \"Grant admin consent\""
        )
    } else {
        format!(
            "Graph denied {endpoint}: missing application role {need} (the app has: {}); fix: App registrations → your app → API permissions → add Microsoft Graph application permission {need} and click \"Grant admin consent\"",
            granted.join(", ")
        )
    }
}

fn transport_message(kind: &TransportKind, host: &str, detail: &str) -> String {
    match kind {
        TransportKind::Connect => format!(
            "cannot reach {host}: {detail}; fix: check the network, HTTPS_PROXY, and login_endpoint / graph_endpoint"
        ),
        TransportKind::Timeout => format!(
            "{host} did not answer in time: {detail}; fix: check the network and HTTPS_PROXY, then retry"
        ),
        TransportKind::Tls => format!(
            "TLS with {host} failed: {detail}; fix: a proxy that intercepts TLS needs its CA in the system trust store; check login_endpoint / graph_endpoint"
        ),
        TransportKind::Body => format!(
            "the connection to {host} broke while reading the answer: {detail}; it will be retried"
        ),
        TransportKind::Other => format!("request to {host} failed: {detail}"),
    }
}

impl GraphError {
    /// A short, stable label for run records and status output.
    pub fn kind(&self) -> &'static str {
        match self {
            GraphError::Token(t) => match t.kind {
                TokenErrorKind::InvalidSecret => "auth.invalid_secret",
                TokenErrorKind::ExpiredSecret => "auth.expired_secret",
                TokenErrorKind::MissingSecret => "auth.missing_secret",
                TokenErrorKind::UnknownClient => "auth.unknown_client",
                TokenErrorKind::UnknownTenant => "auth.unknown_tenant",
                TokenErrorKind::CrossCloud => "auth.cross_cloud",
                TokenErrorKind::BadScope => "auth.bad_scope",
                TokenErrorKind::AppDisabled => "auth.app_disabled",
                TokenErrorKind::Other => "auth.other",
            },
            GraphError::Forbidden { granted, .. } if granted.is_empty() => "consent.missing",
            GraphError::Forbidden { .. } => "permission.missing",
            GraphError::Unauthorized { .. } => "auth.rejected",
            GraphError::Refused { .. } => "graph.refused",
            GraphError::Unavailable { .. } => "graph.unavailable",
            GraphError::Status { .. } => "graph.status",
            GraphError::Transport {
                kind: TransportKind::Tls,
                ..
            } => "network.tls",
            GraphError::Transport {
                kind: TransportKind::Timeout,
                ..
            } => "network.timeout",
            GraphError::Transport { .. } => "network.unreachable",
            GraphError::BadResponse { .. } => "graph.bad_response",
            GraphError::Unsupported(_) => "region.unsupported",
        }
    }

    /// Whether trying the same thing again later can succeed without a config change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GraphError::Unavailable { .. }
                | GraphError::Transport { .. }
                | GraphError::BadResponse { .. }
        )
    }
}

/// Parses the role lists out of Graph's 403 text: "Missing application roles. API required
/// roles: A,B, application roles: C,D." → (required, granted).
pub fn parse_missing_roles(message: &str) -> Option<(Vec<String>, Vec<String>)> {
    let rest = message.split("API required roles:").nth(1)?;
    let (required, granted) = rest.split_once("application roles:")?;
    let list = |s: &str| {
        s.trim()
            .trim_end_matches('.')
            .trim_end_matches(',')
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    Some((list(required), list(granted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_errors_are_classified_by_code_not_text() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure ... Trace ID: t1 Correlation ID: c1 Timestamp: 2026-11-26 12:00:00Z","error_codes":[7000215],"timestamp":"2026-11-26 12:00:00Z","trace_id":"t1","correlation_id":"c1"}"#;
        let e = TokenError::from_body(401, body, "app", "tenant").unwrap();
        assert_eq!(e.kind, TokenErrorKind::InvalidSecret);
        assert_eq!(e.code, Some(7000215));
        assert_eq!(e.description, "Invalid client secret provided. Ensure ...");
        let text = e.to_string();
        assert!(
            text.contains("AADSTS7000215") && text.contains("not its Secret ID"),
            "{text}"
        );
        assert!(text.contains("trace ID t1, correlation ID c1"), "{text}");
        assert_eq!(GraphError::Token(Box::new(e)).kind(), "auth.invalid_secret");
    }

    #[test]
    fn code_falls_back_to_the_description() {
        let body = br#"{"error":"invalid_request","error_description":"AADSTS900382: Confidential Client is not supported in Cross Cloud request."}"#;
        let e = TokenError::from_body(400, body, "a", "t").unwrap();
        assert_eq!(e.kind, TokenErrorKind::CrossCloud);
        assert!(TokenError::from_body(400, b"<html>", "a", "t").is_none());
    }

    #[test]
    fn roles_are_read_from_the_403_text() {
        let (req, granted) = parse_missing_roles("Missing application roles. API required roles: SecurityAlert.Read.All,SecurityAlert.ReadWrite.All, application roles: .").unwrap();
        assert_eq!(
            req,
            ["SecurityAlert.Read.All", "SecurityAlert.ReadWrite.All"]
        );
        assert!(granted.is_empty());
        let (_, granted) = parse_missing_roles("Missing application roles. API required roles: ThreatHunting.Read.All, application roles: SecurityAlert.Read.All.").unwrap();
        assert_eq!(granted, ["SecurityAlert.Read.All"]);
    }
}
