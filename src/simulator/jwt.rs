//! Access tokens as Entra issues them: a JWT (base64url `header.payload.signature`) whose payload
//! carries `aud`, `iss`, `tid`, `appid`, `exp` and `roles`. The simulator signs with HMAC-SHA256
//! under a key derived from its seed, so it can verify its own tokens without keeping state.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The claims the simulator puts in (and reads back from) an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub appid: String,
    pub appidacr: String,
    pub idtyp: String,
    pub oid: String,
    pub sub: String,
    pub tid: String,
    pub uti: String,
    pub ver: String,
    /// Application roles granted and consented. Entra omits the claim when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// Why a presented token is refused (each maps to a real Graph 401 message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Empty,
    Malformed,
    BadSignature,
    Expired,
}

impl TokenProblem {
    /// The `message` Graph puts in its `InvalidAuthenticationToken` error.
    pub fn graph_message(self) -> &'static str {
        match self {
            TokenProblem::Empty => "Access token is empty.",
            TokenProblem::Malformed => {
                "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS or JWE Compact Serialization Format."
            }
            TokenProblem::BadSignature => {
                "Access token validation failure. Invalid audience or signature."
            }
            TokenProblem::Expired => "Access token has expired or is not yet valid.",
        }
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

const HEADER: &str = r#"{"typ":"JWT","alg":"HS256","kid":"mailtrail-simulator"}"#;

/// Serializes and signs `claims` as a compact JWT.
pub fn mint(key: &[u8], claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!("{}.{}", B64.encode(HEADER), B64.encode(payload));
    let sig = hmac_sha256(key, signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(sig))
}

/// Checks signature and lifetime of a presented token and returns its claims.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<Claims, TokenProblem> {
    if token.is_empty() {
        return Err(TokenProblem::Empty);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenProblem::Malformed);
    };
    let expected = hmac_sha256(key, format!("{h}.{p}").as_bytes());
    let presented = B64.decode(s).map_err(|_| TokenProblem::Malformed)?;
    if presented.as_slice() != expected.as_slice() {
        return Err(TokenProblem::BadSignature);
    }
    let payload = B64.decode(p).map_err(|_| TokenProblem::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenProblem::Malformed)?;
    let t = now.timestamp();
    if t >= claims.exp || t < claims.nbf {
        return Err(TokenProblem::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            aud: "https://graph.microsoft.com".into(),
            iss: "https://sts.windows.net/t/".into(),
            iat: 0,
            nbf: 0,
            exp,
            appid: "a".into(),
            appidacr: "1".into(),
            idtyp: "app".into(),
            oid: "o".into(),
            sub: "o".into(),
            tid: "t".into(),
            uti: "u".into(),
            ver: "1.0".into(),
            roles: vec!["SecurityAlert.Read.All".into()],
        }
    }

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let key = b"k";
        let tok = mint(key, &claims(100));
        let at = |s| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(
            verify(key, &tok, at(50)).unwrap().roles,
            vec!["SecurityAlert.Read.All"]
        );
        assert_eq!(verify(key, &tok, at(100)), Err(TokenProblem::Expired));
        assert_eq!(
            verify(b"other", &tok, at(50)),
            Err(TokenProblem::BadSignature)
        );
        assert_eq!(verify(key, "abc", at(50)), Err(TokenProblem::Malformed));
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
