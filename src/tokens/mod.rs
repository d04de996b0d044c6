//! Verification tokens: signed JWTs (EdDSA by default, ES256 by configuration) that the
//! hiring system checks before it makes an offer.
//!
//! - `claims`: what a token says (OIDC for Identity Assurance in shape).
//! - `keyring`: signing keys: generation, rotation, JWKS, verification-key cache.
//! - `issue`: building and signing a token on approval.
//! - `verify`: checking one, with a reason code for every way it can fail.
//! - `registry`: issued and revoked tokens, for the offer gate and introspection.

pub mod claims;
pub mod issue;
pub mod keyring;
pub mod registry;
pub mod verify;

use serde::{Deserialize, Serialize};

use crate::crypto::signing::PublicJwk;

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}
