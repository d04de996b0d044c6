//! People's passwords (console users): argon2id with a random salt, PHC strings. A sign-in
//! for an unknown user is verified against a fixed hash, so it costs the same time.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;

/// The shortest password accepted (characters); NIST SP 800-63B asks for at least 8 and for
/// no composition rules; idgate guards identity decisions and asks for 12.
pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password is 12 to 256 characters")]
    Length,
    #[error("hashing failed")]
    Hash,
}

/// The argon2id PHC string of `password`, after checking its length.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
        return Err(PasswordError::Length);
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|_| PasswordError::Hash)?.to_string())
}

/// Whether `password` matches `phc` (constant time in the password).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Spends the time of one verification, for a user that does not exist.
pub fn verify_nobody(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("nobody has this password").unwrap_or_default());
    let _ = verify(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_short_ones_are_refused() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterz", &phc));
        assert_eq!(hash("short"), Err(PasswordError::Length));
        verify_nobody("anything at all");
    }
}
