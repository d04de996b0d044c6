//! The tamper-evident audit log: every event is a leaf of an RFC 6962 Merkle tree; idgate
//! signs tree heads (size, root, time) with its audit key; auditors get inclusion and
//! consistency proofs and can recompute everything with `idgate audit verify`.
//!
//! - `event`: what an event says (canonical JSON, no PII in clear).
//! - `merkle`: hashing, roots, proofs.
//! - `log`: the service's view: leaf cache, head signing, proofs.
//! - `check`: recomputing the whole log and every signed head.

pub mod check;
pub mod event;
pub mod log;
pub mod merkle;
pub mod pack;

/// The bytes a tree head signature covers: v2 names the log (`log_id`); heads signed before
/// logs had ids are v1.
pub fn head_message(tree_size: i64, root_hex: &str, signed_at_ms: i64, log_id: Option<&str>) -> String {
    match log_id {
        Some(log) => format!("idgate-tree-head/v2\n{log}\n{tree_size}\n{root_hex}\n{signed_at_ms}\n"),
        None => format!("idgate-tree-head/v1\n{tree_size}\n{root_hex}\n{signed_at_ms}\n"),
    }
}
