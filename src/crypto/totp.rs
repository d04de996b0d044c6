//! The console's second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s, one step of skew),
//! as authenticator apps expect, through `totp-rs`. A code is accepted once: the caller
//! keeps the last step used.

use rand::RngCore;
use totp_rs::{Builder, Secret, Totp};

use crate::domain::time::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the TOTP secret is unusable")]
    Secret,
}

/// A new 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], account: &str) -> Result<Totp, TotpError> {
    Builder::new()
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some("idgate"))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|_| TotpError::Secret)
}

/// What an authenticator app is given: the base32 secret and the `otpauth://` URL.
pub fn enrolment(secret: &[u8], account: &str) -> Result<(String, String), TotpError> {
    let t = totp(secret, account)?;
    let url = t.to_url().map_err(|_| TotpError::Secret)?;
    Ok((Secret::from(secret.to_vec()).to_base32(), url))
}

/// The step a code is valid for at `now` (± one step), if any.
pub fn check(secret: &[u8], code: &str, now: Timestamp) -> Option<u64> {
    let seconds = u64::try_from(now.millis().div_euclid(1000)).ok()?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "check").ok()?.check(code, seconds)
}

/// The code at `now` (tests and the CLI's self-check).
pub fn code_at(secret: &[u8], now: Timestamp) -> Option<String> {
    let seconds = u64::try_from(now.millis().div_euclid(1000)).ok()?;
    Some(totp(secret, "code").ok()?.generate(seconds).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B, SHA-1, the last 6 digits of its 8-digit values.
    #[test]
    fn codes_match_the_rfc_vectors() {
        let secret = b"12345678901234567890";
        for (seconds, code) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924")] {
            let now = Timestamp::from_millis(seconds * 1000);
            assert_eq!(code_at(secret, now).as_deref(), Some(code));
            assert!(check(secret, code, now).is_some());
        }
        let now = Timestamp::from_millis(59_000);
        assert_eq!(check(secret, "287083", now), None);
        assert_eq!(check(secret, "28708", now), None);
        assert_eq!(check(secret, "abcdef", now), None);
        // Two steps later the code is refused.
        assert_eq!(check(secret, "287082", Timestamp::from_millis(59_000 + 61_000)), None);
    }

    #[test]
    fn enrolment_gives_a_base32_secret_and_an_otpauth_url() {
        let secret = new_secret();
        let (base32, url) = enrolment(&secret, "ana@acme.example").unwrap();
        assert!(url.starts_with("otpauth://totp/") && url.contains(&base32), "{url}");
    }
}
