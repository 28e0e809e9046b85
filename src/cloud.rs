//! Microsoft clouds ("regions"): which login host, Graph host and token scope each one uses.
//!
//! Facts from GRAPH.md §1: the scope is always `{graph}/.default` of the cloud the tenant lives
//! in, even when an endpoint override points the HTTP traffic elsewhere (a proxy, the simulator).

use std::fmt;
use std::str::FromStr;

/// A Microsoft cloud a tenant can live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Region {
    /// The worldwide cloud, also used by GCC (moderate).
    Global,
    /// US Government L4 (GCC High).
    GccHigh,
    /// US Government L5 (DoD).
    Dod,
    /// Microsoft Azure operated by 21Vianet.
    China,
}

impl Region {
    pub const ALL: [Region; 4] = [Region::Global, Region::GccHigh, Region::Dod, Region::China];

    /// The name used in the config file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Region::Global => "global",
            Region::GccHigh => "gcc-high",
            Region::Dod => "dod",
            Region::China => "china",
        }
    }

    /// Comma-separated list of valid names, for error messages.
    pub fn valid_names() -> String {
        Region::ALL.map(Region::name).join(", ")
    }

    /// The Entra ID authority host for the client-credentials token request.
    pub fn login_host(self) -> &'static str {
        match self {
            Region::Global => "https://login.microsoftonline.com",
            Region::GccHigh | Region::Dod => "https://login.microsoftonline.us",
            Region::China => "https://login.partner.microsoftonline.cn",
        }
    }

    /// The Microsoft Graph service root.
    pub fn graph_host(self) -> &'static str {
        match self {
            Region::Global => "https://graph.microsoft.com",
            Region::GccHigh => "https://graph.microsoft.us",
            Region::Dod => "https://dod-graph.microsoft.us",
            Region::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// The `.default` scope of this cloud's Graph, as the token request must name it.
    pub fn scope(self) -> String {
        format!("{}/.default", self.graph_host())
    }

    /// Whether `security/alerts_v2` and `security/runHuntingQuery` exist in this cloud.
    pub fn has_security_api(self) -> bool {
        self != Region::China
    }

    /// The `cloud_instance_name` Entra reports in a tenant's OpenID configuration.
    pub fn cloud_instance_name(self) -> &'static str {
        match self {
            Region::Global => "microsoftonline.com",
            Region::GccHigh | Region::Dod => "microsoftonline.us",
            Region::China => "partner.microsoftonline.cn",
        }
    }

    /// The bare Graph host name (no scheme), as `msgraph_host` in OpenID configuration.
    pub fn msgraph_host(self) -> &'static str {
        self.graph_host().trim_start_matches("https://")
    }

    /// The region whose Graph host is `host` (with or without `https://`), if any.
    pub fn from_graph_host(host: &str) -> Option<Region> {
        let host = host.trim_start_matches("https://").trim_end_matches('/');
        Region::ALL
            .into_iter()
            .find(|r| r.msgraph_host().eq_ignore_ascii_case(host))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a region name that is not one of [`Region::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown region '{0}'; valid regions: global, gcc-high, dod, china (GCC moderate uses global)"
)]
pub struct UnknownRegion(pub String);

impl FromStr for Region {
    type Err = UnknownRegion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "global" | "gcc" | "worldwide" | "public" => Ok(Region::Global),
            "gcc-high" | "gcchigh" | "usgov" | "l4" => Ok(Region::GccHigh),
            "dod" | "l5" | "usgov-dod" => Ok(Region::Dod),
            "china" | "21vianet" => Ok(Region::China),
            _ => Err(UnknownRegion(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_follows_the_graph_host_of_the_cloud() {
        assert_eq!(
            Region::GccHigh.scope(),
            "https://graph.microsoft.us/.default"
        );
        assert_eq!(
            Region::Dod.scope(),
            "https://dod-graph.microsoft.us/.default"
        );
        assert_eq!(
            Region::Global.login_host(),
            "https://login.microsoftonline.com"
        );
    }

    #[test]
    fn region_names_round_trip() {
        for r in Region::ALL {
            assert_eq!(r.name().parse::<Region>().unwrap(), r);
            assert_eq!(Region::from_graph_host(r.graph_host()), Some(r));
        }
        assert!("mars".parse::<Region>().is_err());
    }

    #[test]
    fn china_has_no_security_api() {
        assert!(!Region::China.has_security_api());
        assert!(Region::Dod.has_security_api());
    }
}
