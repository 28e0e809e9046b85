//! Value checks for the OCSF data types whose values have a format (`email_t`, `ip_t`,
//! `datetime_t`, `uuid_t`, `mac_t`, `bytestring_t`).
//!
//! One implementation serves both sides: the mappers only put a source value into a typed
//! attribute when it passes these checks (otherwise the value stays in `unmapped` / `data`), and
//! the validator uses them for the schema's regex constraints. The schema states its formats as
//! PCRE patterns; they are few and simple, so they are hand-written here rather than pulling in a
//! regex engine. Where a pattern is looser than intended (the IPv4 part of `ip_t` writes `.`
//! unescaped, so it accepts any separator), the check here is the intended, stricter reading:
//! whatever passes here also passes the OCSF Server.

/// The format check for a dictionary type, if this module has one.
pub fn format_check(type_name: &str) -> Option<fn(&str) -> bool> {
    match type_name {
        "email_t" => Some(is_email_t),
        "ip_t" => Some(is_ip_t),
        "datetime_t" => Some(is_datetime_t),
        "uuid_t" => Some(is_uuid_t),
        "mac_t" => Some(is_mac_t),
        "bytestring_t" => Some(is_bytestring_t),
        _ => None,
    }
}

/// `email_t`: ``^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$``.
///
/// ASCII only: an internationalised address (`josé@exämple.example`) does not match, and the
/// domain needs at least one dot (`user@localhost` does not match).
pub fn is_email_t(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    // In the pattern, `+-/` is a range: it adds `,` `-` `.` `/`.
    let local_ok = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+,-./=?^_`{|}~".contains(&b);
    if local.is_empty() || !local.bytes().all(local_ok) {
        return false;
    }
    let Some((first, rest)) = domain.split_once('.') else {
        return false;
    };
    let label_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    !first.is_empty()
        && first.bytes().all(label_ok)
        && !rest.is_empty()
        && rest.bytes().all(|b| label_ok(b) || b == b'.')
}

/// `ip_t`: an IPv4 or IPv6 address (IPv6 may carry a `%zone`), optionally surrounded by
/// whitespace, at most 40 characters.
pub fn is_ip_t(s: &str) -> bool {
    if s.chars().count() > 40 {
        return false;
    }
    // PCRE's `\s`: space, \t, \n, \x0B, \x0C, \r.
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\x0B');
    if t.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    let addr = match t.split_once('%') {
        Some((addr, zone)) if !zone.is_empty() => addr,
        Some(_) => return false,
        None => t,
    };
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

/// `datetime_t`: `^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?([Zz]|[\+-]\d{2}:\d{2})?$`.
pub fn is_datetime_t(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| {
        b.len() >= from + n && b[from..from + n].iter().all(u8::is_ascii_digit)
    };
    let at = |i: usize, set: &[u8]| b.get(i).is_some_and(|c| set.contains(c));
    if !(digits(0, 4)
        && at(4, b"-")
        && digits(5, 2)
        && at(7, b"-")
        && digits(8, 2)
        && at(10, b"Tt")
        && digits(11, 2)
        && at(13, b":")
        && digits(14, 2)
        && at(16, b":")
        && digits(17, 2))
    {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        None => true,
        Some(b'Z' | b'z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            digits(i + 1, 2) && at(i + 3, b":") && digits(i + 4, 2) && i + 6 == b.len()
        }
        Some(_) => false,
    }
}

/// `uuid_t`: `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`.
///
/// The schema's pattern has no anchors, and the OCSF Server matches it unanchored, so a string
/// that merely contains a UUID passes; this check does the same.
pub fn is_uuid_t(s: &str) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let b = s.as_bytes();
    (0..b.len()).any(|start| {
        let mut i = start;
        for (n, len) in GROUPS.iter().enumerate() {
            if n > 0 {
                if b.get(i) != Some(&b'-') {
                    return false;
                }
                i += 1;
            }
            if b.len() < i + len || !b[i..i + len].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += len;
        }
        true
    })
}

/// `mac_t`: `^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$`, at most 32 characters.
pub fn is_mac_t(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 17
        && b.chunks(3).all(|c| {
            c[0].is_ascii_hexdigit()
                && c[1].is_ascii_hexdigit()
                && (c.len() == 2 || c[2] == b':' || c[2] == b'-')
        })
}

/// `bytestring_t`: padded Base64, standard or URL-safe alphabet, or the empty string.
///
/// The schema's pattern requires a padded final group (`xx==` or `xxx=`); an unpadded string
/// whose length is a multiple of four does not match it, and does not match here either.
pub fn is_bytestring_t(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad == 0 || pad > 2 {
        return false;
    }
    let body = &b[..b.len() - pad];
    let standard = body
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
    let url_safe = body
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    standard || url_safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_t_follows_the_schema_pattern() {
        assert!(is_email_t("megan.bowen@contoso.com"));
        assert!(is_email_t("bounce-2231@mta1.billing-contoso.example"));
        assert!(is_email_t("a,b/c@x.y"));
        assert!(!is_email_t("user@localhost"));
        assert!(!is_email_t("josé@example.example"));
        assert!(!is_email_t("a@b@c.example"));
        assert!(!is_email_t("@example.example"));
        assert!(!is_email_t("user@.example"));
        assert!(!is_email_t("user@example."));
        assert!(!is_email_t("Name <user@example.example>"));
        assert!(!is_email_t("user\u{202e}@example.example"));
        assert!(!is_email_t(""));
    }

    #[test]
    fn ip_t_accepts_addresses_and_rejects_the_rest() {
        assert!(is_ip_t("203.0.113.45"));
        assert!(is_ip_t("2001:db8::1"));
        assert!(is_ip_t("fe80::1%eth0"));
        assert!(is_ip_t(" 198.51.100.7 "));
        assert!(!is_ip_t("203.0.113.256"));
        assert!(!is_ip_t("203.0.113.045"));
        assert!(!is_ip_t("not-an-ip"));
        assert!(!is_ip_t("fe80::1%"));
        assert!(!is_ip_t(""));
        // Valid for the standard library, but longer than ip_t's max_len of 40.
        assert!(!is_ip_t("0000:0000:0000:0000:0000:ffff:255.255.255.255"));
    }

    #[test]
    fn datetime_t_follows_rfc3339_pattern() {
        assert!(is_datetime_t("2026-05-04T09:12:41.3366667Z"));
        assert!(is_datetime_t("2026-05-04t09:12:41+02:00"));
        assert!(is_datetime_t("2026-05-04T09:12:41"));
        assert!(!is_datetime_t("2026-05-04 09:12:41Z"));
        assert!(!is_datetime_t("2026-05-04T09:12:41.Z"));
        assert!(!is_datetime_t("2026-05-04T09:12:41+0200"));
        assert!(!is_datetime_t("2026-05-04T09:12:41Zjunk"));
    }

    #[test]
    fn uuid_t_is_unanchored_like_the_server() {
        assert!(is_uuid_t("fa29bd4a-d8e8-4974-a0de-63c6f0359469"));
        assert!(is_uuid_t("id: fa29bd4a-d8e8-4974-a0de-63c6f0359469!"));
        assert!(!is_uuid_t("fa29bd4a-d8e8-4974-a0de-63c6f035946"));
        assert!(!is_uuid_t("zz29bd4a-d8e8-4974-a0de-63c6f0359469"));
    }

    #[test]
    fn mac_and_bytestring() {
        assert!(is_mac_t("18:36:F3:98:4F:9A"));
        assert!(is_mac_t("18-36-f3-98-4f-9a"));
        assert!(!is_mac_t("18:36:F3:98:4F"));
        assert!(!is_mac_t("18:36:F3:98:4F:9A:"));
        assert!(is_bytestring_t(""));
        assert!(is_bytestring_t("QUI="));
        assert!(is_bytestring_t("QQ=="));
        assert!(!is_bytestring_t("QUJD"));
        assert!(!is_bytestring_t("Q==="));
        assert!(!is_bytestring_t("QU+_=="));
    }
}
