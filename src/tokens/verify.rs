//! Checking a token: structure, algorithm (only the key's own, never `none` or HMAC), key,
//! signature, then every time and audience rule at once, so a caller learns all reasons.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::claims::TokenClaims;
use crate::crypto::signing::{Alg, PublicJwk};
use crate::domain::time::Timestamp;

/// Why a token is not accepted. `code()` is part of the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// Not three base64url parts with JSON header and claims of the right shape.
    Malformed,
    /// `none`, HMAC (key confusion) or any algorithm other than the key's own.
    AlgorithmNotAllowed,
    MissingKid,
    UnknownKey,
    /// Signed by a key that was rotated out and is past its publication, or after its
    /// retirement.
    KeyRetired,
    BadSignature,
    Expired,
    NotYetValid,
    WrongAudience,
    WrongIssuer,
    Revoked,
    /// Validly signed but never issued here (or its record is gone).
    UnknownToken,
    CandidateMismatch,
    /// The candidate has a newer verification: only its outcome counts.
    Superseded,
    /// Signed by a key revoked in an emergency (`idgate keys compromise`).
    KeyCompromised,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::MissingKid => "missing_kid",
            Self::UnknownKey => "unknown_key",
            Self::KeyRetired => "key_retired",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongAudience => "wrong_audience",
            Self::WrongIssuer => "wrong_issuer",
            Self::Revoked => "revoked",
            Self::UnknownToken => "unknown_token",
            Self::CandidateMismatch => "candidate_mismatch",
            Self::Superseded => "superseded",
            Self::KeyCompromised => "key_compromised",
        }
    }
}

/// A verification key as the verifier sees it.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub alg: Alg,
    pub key: DecodingKey,
    /// Set for keys rotated out: they verify tokens issued before `retired_at` until
    /// `publish_until`.
    pub retired_at: Option<Timestamp>,
    pub publish_until: Option<Timestamp>,
    /// Revoked in an emergency: nothing it signed is accepted.
    pub compromised: bool,
}

impl VerifyingKey {
    pub fn from_jwk(jwk: &PublicJwk) -> Option<Self> {
        let alg = Alg::parse(&jwk.alg)?;
        let key = match (alg, jwk.kty.as_str(), jwk.crv.as_str(), &jwk.y) {
            (Alg::EdDSA, "OKP", "Ed25519", None) => DecodingKey::from_ed_components(&jwk.x).ok()?,
            (Alg::ES256, "EC", "P-256", Some(y)) => DecodingKey::from_ec_components(&jwk.x, y).ok()?,
            _ => return None,
        };
        Some(Self { kid: jwk.kid.clone(), alg, key, retired_at: None, publish_until: None, compromised: false })
    }
}

/// What the verifier expects.
#[derive(Debug, Clone)]
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub now: Timestamp,
    pub leeway_seconds: i64,
}

#[derive(Debug, Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

fn algorithm(alg: Alg) -> Algorithm {
    match alg {
        Alg::EdDSA => Algorithm::EdDSA,
        Alg::ES256 => Algorithm::ES256,
    }
}

/// The header's `kid`, if the token has the shape of a JWS with one.
pub fn kid_of(token: &str) -> Option<String> {
    header(token).ok()?.kid
}

fn header(token: &str) -> Result<RawHeader, Rejection> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Rejection::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD.decode(h).map_err(|_| Rejection::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Rejection::Malformed)
}

/// The outcome of a check: the claims when the signature held (even if a claim rule then
/// failed), and every reason the token is not accepted (empty: accepted).
#[derive(Debug, Clone)]
pub struct Checked {
    pub claims: Option<TokenClaims>,
    pub reasons: Vec<Rejection>,
}

/// Verifies `token` with the key `find` returns for its `kid`. All failing claim rules
/// are reported together; structural and key failures stop the check.
pub fn verify<'k>(token: &str, find: impl Fn(&str) -> Option<&'k VerifyingKey>, expect: &Expect<'_>) -> Checked {
    match verify_inner(token, find, expect) {
        Ok((claims, reasons)) => Checked { claims: Some(claims), reasons },
        Err(reasons) => Checked { claims: None, reasons },
    }
}

fn verify_inner<'k>(
    token: &str,
    find: impl Fn(&str) -> Option<&'k VerifyingKey>,
    expect: &Expect<'_>,
) -> Result<(TokenClaims, Vec<Rejection>), Vec<Rejection>> {
    let header = header(token).map_err(|r| vec![r])?;
    if header.crit.is_some() {
        return Err(vec![Rejection::Malformed]);
    }
    let alg = header.alg.as_deref().and_then(Alg::parse).ok_or_else(|| vec![Rejection::AlgorithmNotAllowed])?;
    let kid = header.kid.ok_or_else(|| vec![Rejection::MissingKid])?;
    let key = find(&kid).ok_or_else(|| vec![Rejection::UnknownKey])?;
    if key.alg != alg {
        return Err(vec![Rejection::AlgorithmNotAllowed]);
    }
    if key.compromised {
        return Err(vec![Rejection::KeyCompromised]);
    }
    let mut validation = Validation::new(algorithm(alg));
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<TokenClaims>(token, &key.key, &validation).map_err(|e| {
        vec![match e.kind() {
            ErrorKind::InvalidSignature | ErrorKind::InvalidEcdsaKey | ErrorKind::InvalidEddsaKey => {
                Rejection::BadSignature
            }
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
                Rejection::AlgorithmNotAllowed
            }
            _ => Rejection::Malformed,
        }]
    })?;
    let claims = data.claims;
    let now = expect.now.millis().div_euclid(1000);
    let leeway = expect.leeway_seconds;
    let mut reasons = Vec::new();
    if claims.iss != expect.issuer {
        reasons.push(Rejection::WrongIssuer);
    }
    if claims.aud != expect.audience {
        reasons.push(Rejection::WrongAudience);
    }
    if claims.exp <= now - leeway {
        reasons.push(Rejection::Expired);
    }
    if claims.nbf > now + leeway || claims.iat > now + leeway {
        reasons.push(Rejection::NotYetValid);
    }
    // A retired key signs nothing new, and is refused altogether once unpublished (an
    // expired token says `expired` first: that is why it fails).
    let signed_after_retirement = key.retired_at.is_some_and(|at| claims.iat > at.millis().div_euclid(1000) + leeway);
    let unpublished = key.publish_until.is_some_and(|until| until <= expect.now);
    if signed_after_retirement || (unpublished && reasons.is_empty()) {
        reasons.push(Rejection::KeyRetired);
    }
    Ok((claims, reasons))
}
