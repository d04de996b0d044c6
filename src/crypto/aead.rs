//! AES-256-GCM sealing with a random 96-bit nonce. The associated data binds a ciphertext to
//! where it belongs (e.g. `claims:<verification id>`), so a blob moved to another row does
//! not open. Layout: version byte 1 ‖ nonce (12) ‖ ciphertext+tag.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

use super::master_key::MasterKey;

const VERSION: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("encryption failed")]
    Seal,
    #[error("ciphertext is malformed, was tampered with, or belongs elsewhere")]
    Open,
}

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    /// HMAC key for look-up hashes, derived from the master key (never the key itself).
    lookup_key: ring::hmac::Key,
}

impl Sealer {
    pub fn new(key: &MasterKey) -> Self {
        let master = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.bytes());
        let derived = ring::hmac::sign(&master, b"idgate lookup-hash key v1");
        let lookup_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref());
        Self { cipher: Aes256Gcm::new(key.bytes().into()), lookup_key }
    }

    /// A keyed hash (HMAC-SHA256, hex) of `value` in `context`: equal values give equal
    /// hashes, and without the master key nobody can test a guess.
    pub fn lookup_hash(&self, context: &str, value: &str) -> String {
        let mut ctx = ring::hmac::Context::with_key(&self.lookup_key);
        ctx.update(context.as_bytes());
        ctx.update(b"\0");
        ctx.update(value.as_bytes());
        hex::encode(ctx.sign().as_ref())
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| SealError::Seal)?;
        let mut out = Vec::with_capacity(1 + nonce.len() + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, blob: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let (Some(&VERSION), Some(nonce), Some(sealed)) = (blob.first(), blob.get(1..13), blob.get(13..)) else {
            return Err(SealError::Open);
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&MasterKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap())
    }

    #[test]
    fn sealed_data_opens_only_in_its_context_and_untampered() {
        let s = sealer();
        let blob = s.seal(b"Jane Doe", "claims:1").unwrap();
        assert!(!blob.windows(8).any(|w| w == b"Jane Doe"));
        assert_eq!(s.open(&blob, "claims:1").unwrap(), b"Jane Doe");
        assert_eq!(s.open(&blob, "claims:2"), Err(SealError::Open));
        let mut tampered = blob.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(s.open(&tampered, "claims:1"), Err(SealError::Open));
        assert_eq!(s.open(&blob[..5], "claims:1"), Err(SealError::Open));
    }
}
