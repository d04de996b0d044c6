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
    #[error("the stored entry {0} does not hash to its recorded leaf hash (the log was altered)")]
    Altered(i64),
    #[error("the stored entries no longer hash to the root of the last signed head, of size {0} (the log was altered)")]
    Diverged(i64),
    #[error("no such tree size or entry")]
    OutOfRange,
    #[error("the audit witness file")]
    Witness(#[source] std::io::Error),
}

pub struct AuditLog {
    leaves: tokio::sync::Mutex<Vec<Hash>>,
    /// Whether the loaded leaves were checked against the last head signed before this
    /// process (once: from then on the cache is what this node signs).
    anchored: std::sync::atomic::AtomicBool,
    /// `audit.witness_file`: receives every head this node signs; its last head is also one
    /// the log must still extend before this node signs anything.
    witness: Option<std::path::PathBuf>,
}

/// Entries loaded per query when the cache catches up.
const PAGE: i64 = 10_000;

impl Default for AuditLog {
    fn default() -> Self {
        Self::new()
    }
}

fn parse_hash(hex_str: &str) -> Option<Hash> {
    hex::decode(hex_str).ok()?.try_into().ok()
}

/// A signed head as witnesses keep it (a line of the witness file, the witness URL's body,
/// and what `idgate audit verify --against` reads).
pub fn witness_json(head: &HeadRow) -> serde_json::Value {
    serde_json::json!({
        "tree_size": head.tree_size, "root_hash": head.root_hash, "signed_at_ms": head.signed_at.millis(),
        "kid": head.kid, "signature": head.signature, "log_id": head.log_id,
    })
}

impl AuditLog {
    pub fn new() -> Self {
        Self::with_witness(None)
    }

    /// A log whose signed heads are also appended to `witness` (one JSON line each).
    pub fn with_witness(witness: Option<std::path::PathBuf>) -> Self {
        Self {
            leaves: tokio::sync::Mutex::new(Vec::new()),
            anchored: std::sync::atomic::AtomicBool::new(false),
            witness,
        }
    }

    /// The last head in the witness file (None when there is no file or it is empty).
    fn witnessed(&self) -> Result<Option<(i64, String)>, AuditError> {
        let Some(path) = &self.witness else { return Ok(None) };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(AuditError::Witness(e)),
        };
        let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) else { return Ok(None) };
        let head: serde_json::Value = serde_json::from_str(line).map_err(|e| AuditError::Witness(e.into()))?;
        let size = head.get("tree_size").and_then(serde_json::Value::as_i64);
        let root = head.get("root_hash").and_then(serde_json::Value::as_str);
        match (size, root) {
            (Some(size), Some(root)) => Ok(Some((size, root.to_owned()))),
            _ => Err(AuditError::Witness(std::io::Error::other("the witness's last line is not a tree head"))),
        }
    }

    /// Appends a signed head to the witness file, flushed to disk.
    fn witness(&self, head: &HeadRow) -> Result<(), AuditError> {
        use std::io::Write;
        let Some(path) = &self.witness else { return Ok(()) };
        let mut line = serde_json::to_vec(&witness_json(head)).map_err(|e| AuditError::Witness(e.into()))?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(AuditError::Witness)?;
        file.write_all(&line).and_then(|()| file.sync_data()).map_err(AuditError::Witness)
    }

    /// The leaf hashes of every committed event (cached; new ones loaded). Each new leaf is
    /// recomputed from its stored entry and must equal the recorded hash: a node never signs
    /// a leaf it did not compute.
    async fn synced(&self, store: &Store) -> Result<tokio::sync::MutexGuard<'_, Vec<Hash>>, AuditError> {
        let mut leaves = self.leaves.lock().await;
        loop {
            let from = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
            let rows = store.audit_range(from, PAGE).await?;
            let full = rows.len() as i64 == PAGE;
            for row in rows {
                if row.seq != i64::try_from(leaves.len()).unwrap_or(i64::MAX) {
                    return Err(AuditError::Broken(row.seq));
                }
                let leaf = merkle::leaf_hash(row.entry.as_bytes());
                if parse_hash(&row.leaf_hash) != Some(leaf) {
                    return Err(AuditError::Altered(row.seq));
                }
                leaves.push(leaf);
            }
            if !full {
                break;
            }
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
        // Before this process signs anything: the entries must still hash to the last signed
        // root (rewritten entries with recomputed leaf hashes are caught here).
        // So must they hash to the witness's last head (which the database cannot rewrite).
        if !self.anchored.load(std::sync::atomic::Ordering::Acquire) {
            let stored = latest.as_ref().map(|h| (h.tree_size, h.root_hash.clone()));
            for (size, root) in [stored, self.witnessed()?].into_iter().flatten() {
                let signed = usize::try_from(size).unwrap_or(usize::MAX);
                let prefix = leaves.get(..signed).ok_or(AuditError::Diverged(size))?;
                if hex::encode(merkle::root(prefix)) != root {
                    return Err(AuditError::Diverged(size));
                }
            }
            self.anchored.store(true, std::sync::atomic::Ordering::Release);
        }
        if size == 0 || latest.as_ref().is_some_and(|h| h.tree_size >= size) {
            return Ok(latest);
        }
        let root = hex::encode(merkle::root(&leaves));
        drop(leaves);
        let signer = keys.signer(KeyPurpose::Audit).await?;
        let log_id = store.audit_log_id().await?;
        let signed_at = clock.now();
        let message = super::head_message(size, &root, signed_at.millis(), Some(&log_id));
        let signature = signing::ed25519_sign(&signer.pkcs8, message.as_bytes()).map_err(KeyError::from)?;
        let head = HeadRow {
            tree_size: size,
            root_hash: root,
            signed_at,
            kid: signer.kid,
            signature: URL_SAFE_NO_PAD.encode(signature),
            log_id: Some(log_id),
        };
        if store.insert_head(&head).await?
            && let Err(e) = self.witness(&head)
        {
            tracing::error!(error = %crate::telemetry::error_chain(&e), "writing the head to the audit witness failed");
        }
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
