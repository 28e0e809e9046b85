//! Fault injection: what can go wrong between mailtrail and Microsoft, on purpose and
//! deterministically (every Nth request, never at random), so tests can assert exact outcomes.
//!
//! A [`FaultPlan`] comes from named profiles (`--faults throttle,poison`) and/or a TOML plan file
//! (`--fault-plan plan.toml`) whose keys are the fields below.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::cloud::Region;

/// Which requests a periodic fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Every Graph request (alerts and hunting).
    #[default]
    Graph,
    Alerts,
    Hunting,
}

impl Target {
    pub fn covers(self, endpoint: Endpoint) -> bool {
        match self {
            Target::Graph => true,
            Target::Alerts => endpoint == Endpoint::Alerts,
            Target::Hunting => endpoint == Endpoint::Hunting,
        }
    }
}

/// The two Graph endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Alerts,
    Hunting,
}

/// A fault that hits every `every`-th request of its target (counting from 1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Periodic {
    pub every: u32,
    #[serde(default)]
    pub target: Target,
    /// For 429/503: the `Retry-After` header value, verbatim (fractional seconds are allowed).
    #[serde(default)]
    pub retry_after: Option<String>,
    /// For `unavailable`: the status to send (503 or 504).
    #[serde(default)]
    pub status: Option<u16>,
}

impl Periodic {
    /// Whether request number `n` (1-based) of an endpoint is hit.
    pub fn hits(&self, endpoint: Endpoint, n: u64) -> bool {
        self.every > 0 && self.target.covers(endpoint) && n.is_multiple_of(u64::from(self.every))
    }
}

/// A time range of EmailEvents whose hunting queries fail until they have failed `failures` times.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoisonWindow {
    /// RFC 3339, or a negative duration relative to the simulator's start (`-6h`).
    pub from: String,
    pub to: String,
    pub failures: u32,
}

/// A poison window resolved to absolute times, with how many failures it has.
pub type PoisonRange = (DateTime<Utc>, DateTime<Utc>, u32);

/// The fault set of one simulated tenant.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FaultPlan {
    /// 429 TooManyRequests with Retry-After.
    pub throttle: Option<Periodic>,
    /// 503 ServiceUnavailable or 504 GatewayTimeout.
    pub unavailable: Option<Periodic>,
    /// A 200 whose JSON body is cut in half.
    pub truncate: Option<Periodic>,
    /// Lifetime of issued tokens in seconds (Entra: 3599).
    pub token_lifetime_secs: Option<u64>,
    pub poison: Vec<PoisonWindow>,
    /// Application roles granted and consented (default: the two read roles mailtrail needs).
    pub roles: Option<Vec<String>>,
    /// The cloud the tenant really lives in (default global): a client asking for another
    /// cloud's scope gets AADSTS900382, and openid-configuration reports this cloud.
    pub tenant_region: Option<Region>,
    /// A tenant without Defender for Office 365 data: no alerts, no EmailEvents.
    pub empty_tenant: bool,
    /// The app's only client secret has expired (AADSTS7000222).
    pub expired_secret: bool,
    /// Hunting schema keys as `Name`/`Type` (both spellings occur in Microsoft's docs).
    pub pascal_schema: bool,
}

/// The read roles mailtrail needs; what a correctly set-up app registration has.
pub const DEFAULT_ROLES: [&str; 2] = ["SecurityAlert.Read.All", "ThreatHunting.Read.All"];

/// A named profile: its name, what it does, and how it changes a plan.
pub struct Profile {
    pub name: &'static str,
    pub about: &'static str,
    apply: fn(&mut FaultPlan),
}

fn periodic(
    every: u32,
    target: Target,
    retry_after: Option<&str>,
    status: Option<u16>,
) -> Periodic {
    Periodic {
        every,
        target,
        retry_after: retry_after.map(str::to_string),
        status,
    }
}

fn roles(list: &[&str]) -> Option<Vec<String>> {
    Some(list.iter().map(|r| r.to_string()).collect())
}

pub const PROFILES: &[Profile] = &[
    Profile {
        name: "throttle",
        about: "429 TooManyRequests with a fractional Retry-After (0.25 s) on every 4th Graph request",
        apply: |p| p.throttle = Some(periodic(4, Target::Graph, Some("0.25"), None)),
    },
    Profile {
        name: "unavailable",
        about: "503 ServiceUnavailable (Retry-After: 1) on every 5th Graph request",
        apply: |p| p.unavailable = Some(periodic(5, Target::Graph, Some("1"), Some(503))),
    },
    Profile {
        name: "gateway-timeout",
        about: "504 GatewayTimeout without Retry-After on every 6th hunting query",
        apply: |p| p.unavailable = Some(periodic(6, Target::Hunting, None, Some(504))),
    },
    Profile {
        name: "truncated",
        about: "a 200 whose JSON body is cut in half on every 7th Graph request",
        apply: |p| p.truncate = Some(periodic(7, Target::Graph, None, None)),
    },
    Profile {
        name: "expiring-tokens",
        about: "access tokens that expire 5 s after issue (Entra: 3599 s)",
        apply: |p| p.token_lifetime_secs = Some(5),
    },
    Profile {
        name: "poison",
        about: "hunting queries touching 6h..5h before start fail (500 UnknownError) 3 times, then work",
        apply: |p| {
            p.poison.push(PoisonWindow {
                from: "-6h".into(),
                to: "-5h".into(),
                failures: 3,
            })
        },
    },
    Profile {
        name: "flaky",
        about: "throttle + unavailable + truncated + expiring-tokens + poison together",
        apply: |p| {
            for name in [
                "throttle",
                "unavailable",
                "truncated",
                "expiring-tokens",
                "poison",
            ] {
                if let Some(profile) = PROFILES.iter().find(|x| x.name == name) {
                    (profile.apply)(p);
                }
            }
        },
    },
    Profile {
        name: "no-roles",
        about: "no application roles consented: the token has no roles claim (403 on Graph)",
        apply: |p| p.roles = Some(Vec::new()),
    },
    Profile {
        name: "alerts-only",
        about: "only SecurityAlert.Read.All granted (hunting gets 403)",
        apply: |p| p.roles = roles(&["SecurityAlert.Read.All"]),
    },
    Profile {
        name: "hunting-only",
        about: "only ThreatHunting.Read.All granted (alerts get 403)",
        apply: |p| p.roles = roles(&["ThreatHunting.Read.All"]),
    },
    Profile {
        name: "excess-roles",
        about: "the read roles plus SecurityAlert.ReadWrite.All (more than mailtrail needs)",
        apply: |p| {
            p.roles = roles(&[
                "SecurityAlert.Read.All",
                "ThreatHunting.Read.All",
                "SecurityAlert.ReadWrite.All",
            ])
        },
    },
    Profile {
        name: "wrong-region",
        about: "the tenant lives in GCC High: global-cloud token requests get AADSTS900382",
        apply: |p| p.tenant_region = Some(Region::GccHigh),
    },
    Profile {
        name: "china",
        about: "the tenant lives in the China cloud, where alerts_v2 and hunting do not exist",
        apply: |p| p.tenant_region = Some(Region::China),
    },
    Profile {
        name: "empty",
        about: "a tenant without Defender for Office 365 data: no alerts, no EmailEvents",
        apply: |p| p.empty_tenant = true,
    },
    Profile {
        name: "expired-secret",
        about: "the client secret has expired (AADSTS7000222)",
        apply: |p| p.expired_secret = true,
    },
    Profile {
        name: "pascal-schema",
        about: "hunting schema keys spelled Name/Type instead of name/type",
        apply: |p| p.pascal_schema = true,
    },
];

/// A fault plan that cannot be used, with the reason.
#[derive(Debug, thiserror::Error)]
pub enum FaultPlanError {
    #[error("unknown fault profile '{name}'; profiles: {valid}")]
    UnknownProfile { name: String, valid: String },
    #[error("cannot read fault plan {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("fault plan {path}: {message}")]
    Parse { path: String, message: String },
    #[error(
        "fault plan: poison window time '{0}' is neither RFC 3339 nor a negative duration like -6h"
    )]
    BadTime(String),
}

impl FaultPlan {
    /// Applies named profiles on top of this plan, in order.
    pub fn with_profiles<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self, FaultPlanError> {
        for name in names {
            let name = name.as_ref().trim();
            if name.is_empty() || name == "none" {
                continue;
            }
            let profile = PROFILES.iter().find(|p| p.name == name).ok_or_else(|| {
                FaultPlanError::UnknownProfile {
                    name: name.to_string(),
                    valid: PROFILES
                        .iter()
                        .map(|p| p.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?;
            (profile.apply)(&mut self);
        }
        Ok(self)
    }

    /// Reads a TOML plan file.
    pub fn from_file(path: &Path) -> Result<Self, FaultPlanError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FaultPlanError::Read {
            path: shown.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| FaultPlanError::Parse {
            path: shown,
            message: e.message().to_string(),
        })
    }

    /// The roles a token of this tenant carries.
    pub fn granted_roles(&self) -> Vec<String> {
        match &self.roles {
            Some(r) => r.clone(),
            None => DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
        }
    }

    pub fn region(&self) -> Region {
        self.tenant_region.unwrap_or(Region::Global)
    }

    /// Poison windows as absolute ranges, resolving relative times against `start`.
    pub fn poison_ranges(&self, start: DateTime<Utc>) -> Result<Vec<PoisonRange>, FaultPlanError> {
        self.poison
            .iter()
            .map(|w| {
                Ok((
                    resolve_time(&w.from, start)?,
                    resolve_time(&w.to, start)?,
                    w.failures,
                ))
            })
            .collect()
    }
}

fn resolve_time(s: &str, start: DateTime<Utc>) -> Result<DateTime<Utc>, FaultPlanError> {
    if let Some(rel) = s.strip_prefix('-') {
        let d = crate::duration::parse_duration(rel)
            .map_err(|_| FaultPlanError::BadTime(s.to_string()))?;
        let d = Duration::from_std(d).map_err(|_| FaultPlanError::BadTime(s.to_string()))?;
        return Ok(start - d);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| FaultPlanError::BadTime(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaky_combines_the_transient_faults() {
        let p = FaultPlan::default().with_profiles(&["flaky"]).unwrap();
        assert!(p.throttle.is_some() && p.unavailable.is_some() && p.truncate.is_some());
        assert_eq!(p.token_lifetime_secs, Some(5));
        assert_eq!(p.poison.len(), 1);
    }

    #[test]
    fn unknown_profile_lists_the_valid_ones() {
        let e = FaultPlan::default()
            .with_profiles(&["nope"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown fault profile 'nope'") && e.contains("throttle"),
            "{e}"
        );
    }

    #[test]
    fn periodic_hits_every_nth_request_of_its_target() {
        let p = periodic(3, Target::Hunting, None, None);
        let hits: Vec<u64> = (1..=9).filter(|&n| p.hits(Endpoint::Hunting, n)).collect();
        assert_eq!(hits, vec![3, 6, 9]);
        assert!(!p.hits(Endpoint::Alerts, 3));
    }

    #[test]
    fn plan_file_keys_are_checked() {
        let plan: FaultPlan = toml::from_str(
            "roles = []\n[throttle]\nevery = 2\nretry_after = \"1.5\"\n[[poison]]\nfrom = \"-2h\"\nto = \"-1h\"\nfailures = 2\n",
        )
        .unwrap();
        assert_eq!(plan.granted_roles(), Vec::<String>::new());
        let start = "2026-11-01T12:00:00Z".parse().unwrap();
        let ranges = plan.poison_ranges(start).unwrap();
        assert_eq!(
            ranges[0].0,
            "2026-11-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(toml::from_str::<FaultPlan>("trottle = 1").is_err());
    }
}
