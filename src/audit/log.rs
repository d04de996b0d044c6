//! The audit log as the service uses it: a cache of the leaf hashes (loaded incrementally,
//! checked to be gap-free), head signing, and proofs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::merkle::{self, Hash};
use crate::clock::SharedClock;
use crate::crypto::signing;
use crate::storage::{HeadRow, KeyPurpose, StorageError, Store};
use crate::tokens::keyring::{KeyError, Keyring};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("audit key")]
    Key(#[from] KeyError),
    #[error("the audit log has a gap or an unreadable hash at entry {0}")]
    Broken(i64),
    #[error("no such tree size or entry")]
    OutOfRange,
}

pub struct AuditLog {
    leaves: tokio::sync::Mutex<Vec<Hash>>,
}

impl Default for AuditLog {
    fn default() -> Self {
        Self::new()
    }
}

fn parse_hash(hex_str: &str) -> Option<Hash> {
    hex::decode(hex_str).ok()?.try_into().ok()
}

impl AuditLog {
    pub fn new() -> Self {
        Self { leaves: tokio::sync::Mutex::new(Vec::new()) }
    }

    /// The leaf hashes of every committed event (cached; new ones loaded).
    async fn synced(&self, store: &Store) -> Result<tokio::sync::MutexGuard<'_, Vec<Hash>>, AuditError> {
        let mut leaves = self.leaves.lock().await;
        let from = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
        for (seq, hash) in store.audit_leaves(from).await? {
            if seq != i64::try_from(leaves.len()).unwrap_or(i64::MAX) {
                return Err(AuditError::Broken(seq));
            }
            leaves.push(parse_hash(&hash).ok_or(AuditError::Broken(seq))?);
        }
        Ok(leaves)
    }

    /// Signs a head for the current size if the log grew since the last one; returns the
    /// latest head (none while the log is empty).
    pub async fn seal(
        &self,
        store: &Store,
        keys: &Keyring,
        clock: &SharedClock,
    ) -> Result<Option<HeadRow>, AuditError> {
        let latest = store.latest_head().await?;
        let leaves = self.synced(store).await?;
        let size = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
        if size == 0 || latest.as_ref().is_some_and(|h| h.tree_size >= size) {
            return Ok(latest);
        }
        let root = hex::encode(merkle::root(&leaves));
        drop(leaves);
        let signer = keys.signer(KeyPurpose::Audit).await?;
        let signed_at = clock.now();
        let message = super::head_message(size, &root, signed_at.millis());
        let signature = signing::ed25519_sign(&signer.pkcs8, message.as_bytes()).map_err(KeyError::from)?;
        let head = HeadRow {
            tree_size: size,
            root_hash: root,
            signed_at,
            kid: signer.kid,
            signature: URL_SAFE_NO_PAD.encode(signature),
        };
        store.insert_head(&head).await?;
        Ok(store.latest_head().await?)
    }

    /// The audit path of entry `seq` in the tree of `size` entries.
    pub async fn inclusion(&self, store: &Store, seq: i64, size: i64) -> Result<Vec<String>, AuditError> {
        let leaves = self.synced(store).await?;
        let size = usize::try_from(size).map_err(|_| AuditError::OutOfRange)?;
        let seq = usize::try_from(seq).map_err(|_| AuditError::OutOfRange)?;
        let prefix = leaves.get(..size).ok_or(AuditError::OutOfRange)?;
        let proof = merkle::inclusion_proof(seq, prefix).ok_or(AuditError::OutOfRange)?;
        Ok(proof.iter().map(hex::encode).collect())
    }

    /// Proof that the tree of `first` entries is a prefix of the tree of `second`.
    pub async fn consistency(&self, store: &Store, first: i64, second: i64) -> Result<Vec<String>, AuditError> {
        let leaves = self.synced(store).await?;
        let first = usize::try_from(first).map_err(|_| AuditError::OutOfRange)?;
        let second = usize::try_from(second).map_err(|_| AuditError::OutOfRange)?;
        let prefix = leaves.get(..second).ok_or(AuditError::OutOfRange)?;
        let proof = merkle::consistency_proof(first, prefix).ok_or(AuditError::OutOfRange)?;
        Ok(proof.iter().map(hex::encode).collect())
    }
}
