//! HR API keys: `idg_<prefix>_<secret>`. The prefix (8 hex) is stored in clear to find the
//! key and to show in audit trails; the whole key is stored only as an argon2id hash.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

pub struct NewApiKey {
    /// The full key, shown once.
    pub key: String,
    /// `idg_XXXXXXXX`, stored and shown.
    pub prefix: String,
    /// argon2id PHC string.
    pub hash: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewApiKey({}, ***)", self.prefix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("hashing failed")]
    Hash,
}

pub fn generate() -> Result<NewApiKey, ApiKeyError> {
    let mut id = [0u8; 4];
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut id);
    rand::rng().fill_bytes(&mut secret);
    let prefix = format!("idg_{}", hex::encode(id));
    let key = format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(secret));
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| ApiKeyError::Hash)?;
    let hash = Argon2::default().hash_password(key.as_bytes(), &salt).map_err(|_| ApiKeyError::Hash)?.to_string();
    Ok(NewApiKey { key, prefix, hash })
}

/// The prefix of a presented key, if it has the right shape.
pub fn prefix_of(key: &str) -> Option<&str> {
    let prefix = key.get(..12)?;
    (prefix.starts_with("idg_") && key.as_bytes().get(12) == Some(&b'_')).then_some(prefix)
}

/// Constant-time verification of a presented key against its stored hash.
pub fn verify(key: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(key.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_verifies_against_its_hash_and_nothing_else_does() {
        let k = generate().unwrap();
        assert_eq!(prefix_of(&k.key), Some(k.prefix.as_str()));
        assert!(verify(&k.key, &k.hash));
        assert!(!verify(&format!("{}x", k.key), &k.hash));
        assert!(!k.hash.contains(&k.key));
        assert!(format!("{k:?}").ends_with("***)"));
    }
}
