//! Splitting a URL string into the OCSF `url` object (`url_string`, `scheme`, `hostname`,
//! `domain`, `port`, `path`, `query_string`).
//!
//! Email URLs are attacker-written, so this is a tolerant splitter, not a validating parser:
//! the raw string always goes to `url_string` unchanged (`url_t` has no format), and a part is
//! only added when it can be read off unambiguously.

use serde_json::{Map, Value};

use super::record::put;
use super::types::is_ip_t;

/// Second-level labels under which registrations happen one level deeper (`example.co.uk`).
/// Not the Public Suffix List: a short list of the common ones, so that `domain` is right for
/// most mail and merely one label short for the rest.
const TWO_LABEL_SUFFIXES: [&str; 16] = [
    "co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.jp", "co.nz", "com.br",
    "com.cn", "com.mx", "co.in", "co.za", "com.tr", "com.sg",
];

/// The `url` object for `raw`, with `category_ids` [18] "Phishing" when `phishing`.
pub(crate) fn url_object(raw: &str, phishing: bool) -> Map<String, Value> {
    let mut url = Map::new();
    put(&mut url, "url_string", raw);
    if let Some((scheme, rest)) = raw.split_once("://")
        && is_scheme(scheme)
    {
        put(&mut url, "scheme", scheme.to_ascii_lowercase());
        split_after_scheme(rest, &mut url);
    }
    if phishing {
        put(&mut url, "category_ids", vec![18]);
        put(&mut url, "categories", vec!["Phishing"]);
    }
    url
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn split_after_scheme(rest: &str, url: &mut Map<String, Value>) {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // userinfo@host:port — the userinfo is a classic phishing disguise; it stays in url_string.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if let Some((host, port)) = split_port(host_port) {
        // A host with whitespace or control characters cannot have come from a working URL;
        // reading a hostname off it would be a guess.
        if !host.is_empty() && !host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            put(url, "hostname", host);
            if let Some(domain) = registrable_domain(host) {
                put(url, "domain", domain);
            }
        }
        if let Some(port) = port {
            put(url, "port", port);
        }
    }
    let tail = tail.split_once('#').map_or(tail, |(before, _)| before);
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    if !path.is_empty() {
        put(url, "path", path);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        put(url, "query_string", q);
    }
}

/// `host:port`, `[v6]:port` or `host`; `None` when the part after the colon is not a port
/// (then which part is the host is anyone's guess).
fn split_port(host_port: &str) -> Option<(&str, Option<u16>)> {
    if let Some(v6) = host_port.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        return match after {
            "" => Some((addr, None)),
            _ => Some((addr, Some(after.strip_prefix(':')?.parse().ok()?))),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port.parse().ok()?))),
        None => Some((host_port, None)),
    }
}

/// The registered domain of a host name (`login.billing-contoso.example` →
/// `billing-contoso.example`); none for IP literals and single-label hosts.
fn registrable_domain(host: &str) -> Option<String> {
    if is_ip_t(host) {
        return None;
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let last_two = labels[labels.len() - 2..].join(".");
    let take = if TWO_LABEL_SUFFIXES.contains(&last_two.as_str()) {
        3
    } else {
        2
    };
    (labels.len() >= take).then(|| labels[labels.len() - take..].join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_the_worked_example_url() {
        let u = url_object(
            "https://login.billing-contoso.example/secure/verify?id=88213",
            true,
        );
        assert_eq!(
            Value::Object(u),
            json!({
                "url_string": "https://login.billing-contoso.example/secure/verify?id=88213",
                "scheme": "https",
                "hostname": "login.billing-contoso.example",
                "domain": "billing-contoso.example",
                "path": "/secure/verify",
                "query_string": "id=88213",
                "category_ids": [18],
                "categories": ["Phishing"]
            })
        );
    }

    #[test]
    fn tolerates_odd_urls() {
        let u = url_object("HTTP://user:pw@[2001:db8::1]:8443#frag", false);
        assert_eq!(u["scheme"], "http");
        assert_eq!(u["hostname"], "2001:db8::1");
        assert_eq!(u["port"], 8443);
        assert!(u.get("domain").is_none());
        assert!(u.get("path").is_none());

        let u = url_object("not a url", false);
        assert_eq!(Value::Object(u), json!({"url_string": "not a url"}));

        let u = url_object("https://shop.example.co.uk:notaport/a?", false);
        assert!(u.get("hostname").is_none());
        assert_eq!(u["path"], "/a");
        assert!(u.get("query_string").is_none());

        let u = url_object("https://www.example.co.uk/", false);
        assert_eq!(u["domain"], "example.co.uk");
        let u = url_object("https://localhost/x", false);
        assert!(u.get("domain").is_none());
        let u = url_object("https://", false);
        assert_eq!(
            Value::Object(u),
            json!({"url_string": "https://", "scheme": "https"})
        );
    }
}
