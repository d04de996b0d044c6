//! Asymmetric signing keys: Ed25519 (EdDSA, the default) and P-256 (ES256). Generated with
//! `ring` as PKCS#8; the private half is sealed with the master key before it is stored,
//! the public half is kept as a JWK (RFC 7517 / RFC 8037) for the JWKS.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    EdDSA,
    ES256,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "EdDSA" | "eddsa" | "ed25519" => Some(Self::EdDSA),
            "ES256" | "es256" => Some(Self::ES256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("key generation failed")]
    Generate,
    #[error("the private key does not parse or does not match its public key")]
    BadKey,
}

/// A public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

/// A fresh key: its id, the PKCS#8 private key (seal it!) and the public JWK.
pub struct GeneratedKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub public: PublicJwk,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The kid is the RFC 7638 thumbprint of the public key (base64url SHA-256 of its required
/// members in lexicographic order), so it names the key and cannot collide by accident.
fn thumbprint(alg: Alg, x: &str, y: Option<&str>) -> String {
    let canonical = match (alg, y) {
        (Alg::ES256, Some(y)) => format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
        _ => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
    };
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn jwk(alg: Alg, public: &[u8]) -> Result<PublicJwk, SigningError> {
    let (kty, crv, x, y) = match alg {
        Alg::EdDSA => ("OKP", "Ed25519", URL_SAFE_NO_PAD.encode(public), None),
        Alg::ES256 => {
            // Uncompressed SEC1 point: 0x04 ‖ x (32) ‖ y (32).
            let (Some(x), Some(y)) = (public.get(1..33), public.get(33..65)) else { return Err(SigningError::BadKey) };
            ("EC", "P-256", URL_SAFE_NO_PAD.encode(x), Some(URL_SAFE_NO_PAD.encode(y)))
        }
    };
    Ok(PublicJwk {
        kid: thumbprint(alg, &x, y.as_deref()),
        kty: kty.into(),
        crv: crv.into(),
        x,
        y,
        use_: "sig".into(),
        alg: alg.as_str().into(),
    })
}

pub fn generate(alg: Alg) -> Result<GeneratedKey, SigningError> {
    let rng = SystemRandom::new();
    let pkcs8 = match alg {
        Alg::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| SigningError::Generate)?,
        Alg::ES256 => EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| SigningError::Generate)?,
    };
    let public = public_of(alg, pkcs8.as_ref())?;
    Ok(GeneratedKey { kid: public.kid.clone(), pkcs8: pkcs8.as_ref().to_vec(), public })
}

/// The public JWK of a PKCS#8 private key (also checks that it parses).
pub fn public_of(alg: Alg, pkcs8: &[u8]) -> Result<PublicJwk, SigningError> {
    match alg {
        Alg::EdDSA => {
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| SigningError::BadKey)?;
            jwk(alg, pair.public_key().as_ref())
        }
        Alg::ES256 => {
            let pair =
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
                    .map_err(|_| SigningError::BadKey)?;
            jwk(alg, pair.public_key().as_ref())
        }
    }
}

/// Signs `message` with an Ed25519 PKCS#8 key (tree heads).
pub fn ed25519_sign(pkcs8: &[u8], message: &[u8]) -> Result<Vec<u8>, SigningError> {
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| SigningError::BadKey)?;
    Ok(pair.sign(message).as_ref().to_vec())
}

/// Checks an Ed25519 signature against a JWK's `x`.
pub fn ed25519_verify(public: &PublicJwk, message: &[u8], sig: &[u8]) -> bool {
    if public.kty != "OKP" || public.crv != "Ed25519" {
        return false;
    }
    let Ok(key) = URL_SAFE_NO_PAD.decode(&public.x) else { return false };
    signature::UnparsedPublicKey::new(&signature::ED25519, key).verify(message, sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_thumbprint_kids_and_sign() {
        for alg in [Alg::EdDSA, Alg::ES256] {
            let key = generate(alg).unwrap();
            assert_eq!(key.kid.len(), 43);
            assert_eq!(public_of(alg, &key.pkcs8).unwrap(), key.public);
            assert_ne!(generate(alg).unwrap().kid, key.kid);
        }
        let key = generate(Alg::EdDSA).unwrap();
        let sig = ed25519_sign(&key.pkcs8, b"head").unwrap();
        assert!(ed25519_verify(&key.public, b"head", &sig));
        assert!(!ed25519_verify(&key.public, b"hea d", &sig));
        assert!(format!("{key:?}").len() < 80);
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 8037 appendix A.3: the Ed25519 example key's thumbprint.
        let kid = thumbprint(Alg::EdDSA, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", None);
        assert_eq!(kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
