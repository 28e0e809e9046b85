//! The tenant's directory: its users (names, addresses, object ids, SIDs), its analysts, its
//! mail policies, and the look-alike domains an impersonator registers. Built once per data set;
//! small (at most a few thousand users).

use std::sync::Arc;

use super::words::{ANALYSTS, FIRST_NAMES, LAST_NAMES, SPECIAL_USERS};
use super::{DatasetSpec, stream};
use crate::simulator::rng::{Rng, hash};

#[derive(Debug)]
pub struct User {
    pub display: Arc<str>,
    /// `first.last` (the address's local part and the on-premises account name).
    pub local: Arc<str>,
    pub email: Arc<str>,
    pub object_id: Arc<str>,
}

/// A mail-flow policy of the tenant, named as EmailEvents' `EmailActionPolicy` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Spam,
    HighConfidenceSpam,
    Bulk,
    Phishing,
    HighConfidencePhishing,
    Antimalware,
    SafeAttachments,
    UserImpersonation,
    DomainImpersonation,
}

impl Policy {
    const ALL: [Policy; 9] = [
        Policy::Spam,
        Policy::HighConfidenceSpam,
        Policy::Bulk,
        Policy::Phishing,
        Policy::HighConfidencePhishing,
        Policy::Antimalware,
        Policy::SafeAttachments,
        Policy::UserImpersonation,
        Policy::DomainImpersonation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Spam => "Antispam spam",
            Policy::HighConfidenceSpam => "Antispam high-confidence spam",
            Policy::Bulk => "Antispam bulk",
            Policy::Phishing => "Antispam phishing",
            Policy::HighConfidencePhishing => "Antispam high-confidence phishing",
            Policy::Antimalware => "Antimalware",
            Policy::SafeAttachments => "Safe Attachments",
            Policy::UserImpersonation => "Antiphish user impersonation",
            Policy::DomainImpersonation => "Antiphish domain impersonation",
        }
    }
}

#[derive(Debug)]
pub struct Directory {
    pub users: Vec<User>,
    /// The tenant's short name: `contoso` for `contoso.com`.
    pub org: String,
    /// The same, capitalised, for display names ("Contoso Billing").
    pub org_title: String,
    /// NetBIOS-style domain of on-premises accounts (`CONTOSO`).
    pub netbios: String,
    /// `S-1-5-21-a-b-c`: users' SIDs are this plus a RID.
    sid_prefix: String,
    policy_guids: Vec<Arc<str>>,
    /// Domains one typo away from the tenant's, as registered by impersonators.
    pub lookalikes: Vec<String>,
}

impl Directory {
    pub fn new(spec: &DatasetSpec) -> Directory {
        let domain = spec.tenant_domain.trim().to_ascii_lowercase();
        let org: String = domain
            .split('.')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("tenant")
            .to_string();
        let org_title = title_case(&org);
        let netbios = org.to_ascii_uppercase().chars().take(15).collect();
        let mut r = Rng::new(spec.seed, &[stream::TENANT]);
        let sid_prefix = format!(
            "S-1-5-21-{}-{}-{}",
            r.range(1_000_000_000, 4_000_000_000),
            r.range(1_000_000_000, 4_000_000_000),
            r.range(1_000_000_000, 4_000_000_000)
        );
        let policy_guids = Policy::ALL
            .iter()
            .enumerate()
            .map(|(i, _)| Arc::from(Rng::new(spec.seed, &[stream::POLICY, i as u64]).guid()))
            .collect();

        let count = spec.scale.users();
        let combos = (FIRST_NAMES.len() * LAST_NAMES.len()) as u64;
        // A multiplier coprime with the number of combinations shuffles them per seed without
        // ever producing the same name twice.
        let offset = hash(spec.seed, &[stream::USER, u64::MAX]) % combos;
        let users = (0..count)
            .map(|u| {
                let (display, local) = match SPECIAL_USERS.get(u) {
                    Some((d, l)) => (d.to_string(), l.to_string()),
                    None => {
                        let c = ((u - SPECIAL_USERS.len()) as u64 * 7919 + offset) % combos;
                        let a = (c % FIRST_NAMES.len() as u64) as usize;
                        let b = ((c / FIRST_NAMES.len() as u64 + a as u64)
                            % LAST_NAMES.len() as u64) as usize;
                        let (fd, fl) = FIRST_NAMES[a];
                        let (ld, ll) = LAST_NAMES[b];
                        (format!("{fd} {ld}"), format!("{fl}.{ll}"))
                    }
                };
                let object_id = Rng::new(spec.seed, &[stream::USER, u as u64]).guid();
                User {
                    email: Arc::from(format!("{local}@{domain}")),
                    display: Arc::from(display),
                    local: Arc::from(local),
                    object_id: Arc::from(object_id),
                }
            })
            .collect();

        let lookalikes = lookalike_domains(&domain);
        Directory {
            users,
            org,
            org_title,
            netbios,
            sid_prefix,
            policy_guids,
            lookalikes,
        }
    }

    pub fn policy_guid(&self, p: Policy) -> Arc<str> {
        let i = Policy::ALL.iter().position(|q| *q == p).unwrap_or(0);
        self.policy_guids[i].clone()
    }

    pub fn user_sid(&self, user: usize) -> String {
        format!("{}-{}", self.sid_prefix, 1100 + user)
    }

    /// An analyst: (display name, UPN) under the tenant's domain.
    pub fn analyst(&self, i: usize, domain: &str) -> (&'static str, String) {
        let (display, local) = ANALYSTS[i % ANALYSTS.len()];
        (
            display,
            format!("{local}@{}", domain.trim().to_ascii_lowercase()),
        )
    }
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Typo-squats of a domain: a doubled letter, a homoglyph digit, a "-corp" suffix, another TLD.
fn lookalike_domains(domain: &str) -> Vec<String> {
    let (label, tld) = domain.split_once('.').unwrap_or((domain, "com"));
    let label = if label.is_empty() { "tenant" } else { label };
    let mut out = Vec::new();
    let mid = label
        .char_indices()
        .nth(label.chars().count() / 2)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let (a, b) = label.split_at(mid);
    let doubled = b
        .chars()
        .next()
        .map(|c| format!("{a}{c}{b}"))
        .unwrap_or_else(|| format!("{label}{label}"));
    out.push(format!("{doubled}.{tld}"));
    let homoglyph = if label.contains('o') {
        label.replacen('o', "0", 1)
    } else if label.contains('l') {
        label.replacen('l', "1", 1)
    } else if label.contains('i') {
        label.replacen('i', "1", 1)
    } else {
        format!("{label}-inc")
    };
    out.push(format!("{homoglyph}.{tld}"));
    out.push(format!("{label}-corp.{tld}"));
    out.push(format!(
        "{label}.{}",
        if tld == "com" { "co" } else { "com" }
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::data::Scale;
    use std::collections::HashSet;

    fn spec(scale: Scale, domain: &str) -> DatasetSpec {
        DatasetSpec {
            seed: 11,
            scale,
            anchor: chrono::DateTime::UNIX_EPOCH,
            tenant_id: "t".into(),
            tenant_domain: domain.into(),
            empty: false,
        }
    }

    #[test]
    fn users_are_unique_and_include_non_ascii_names() {
        let d = Directory::new(&spec(Scale::Large, "contoso.com"));
        assert_eq!(d.users.len(), 2000);
        let emails: HashSet<_> = d.users.iter().map(|u| u.email.clone()).collect();
        assert_eq!(emails.len(), 2000);
        assert!(d.users.iter().any(|u| &*u.display == "José Núñez"));
        assert!(d.users.iter().any(|u| &*u.display == "王伟"));
        assert!(
            d.users
                .iter()
                .all(|u| u.email.is_ascii() && u.email.ends_with("@contoso.com"))
        );
    }

    #[test]
    fn lookalikes_differ_from_the_domain() {
        for domain in [
            "contoso.com",
            "fabrikam.onmicrosoft.com",
            "x.io",
            "",
            "nodot",
        ] {
            let d = Directory::new(&spec(Scale::Small, domain));
            assert_eq!(d.lookalikes.len(), 4);
            assert!(
                d.lookalikes.iter().all(|l| l != domain && !l.is_empty()),
                "{domain}: {:?}",
                d.lookalikes
            );
        }
    }
}
