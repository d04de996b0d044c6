//! Evidence packs: the audit entries of one verification (or of a date range), each with its
//! inclusion proof against one signed tree head, the head itself, the audit keys and a
//! README, in one JSON file an auditor can keep and check offline with
//! `idgate audit verify --pack FILE` (no database, no network).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::merkle::{self, Hash};
use crate::crypto::signing::PublicJwk;

pub const FORMAT: &str = "idgate-evidence-pack/v1";

pub const README: &str = "\
This is an idgate evidence pack: audit log entries, each with an RFC 6962 inclusion proof \
against one signed tree head, the head, and the audit public keys.\n\
\n\
To check it offline: idgate audit verify --pack THIS_FILE\n\
It recomputes every entry's leaf hash (SHA-256 of 0x00 followed by the entry's bytes), \
folds each inclusion proof up to the head's root (RFC 9162 section 2.1.3.2), rebuilds the \
signed message and checks the head's Ed25519 signature with the key named by its kid.\n\
\n\
The key in the pack is only as trustworthy as its source: compare the printed kid with the \
deployment's published audit keys (/.well-known/audit-keys.json) or a head you kept earlier.\n\
Entries hold digests, codes and decisions, never names, images or biometric templates.\n";

/// One entry with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackEvent {
    pub seq: i64,
    /// The canonical entry: its bytes are hashed.
    pub entry: String,
    pub leaf_hash: String,
    /// Hex node hashes, leaf to root.
    pub inclusion_proof: Vec<String>,
}

/// The signed tree head the proofs lead to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackHead {
    pub tree_size: i64,
    pub root_hash: String,
    pub signed_at_ms: i64,
    pub kid: String,
    pub signature: String,
    /// The log the head was signed for (absent on v1 heads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    pub format: String,
    pub readme: String,
    /// What was asked for (`verification`, or `from`/`to`).
    pub scope: serde_json::Value,
    pub organisation: String,
    pub tree_head: PackHead,
    pub audit_keys: Vec<PublicJwk>,
    pub events: Vec<PackEvent>,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackReport {
    pub events: usize,
    pub tree_size: i64,
    pub kid: String,
    /// `(seq or none, code)`: entry_altered, not_in_signed_tree, unknown_audit_key,
    /// bad_head_signature, unsupported_format.
    pub problems: Vec<(Option<i64>, &'static str)>,
}

fn parse_hash(text: &str) -> Option<Hash> {
    hex::decode(text).ok()?.try_into().ok()
}

/// Checks a pack on its own.
pub fn verify(pack: &Pack) -> PackReport {
    let head = &pack.tree_head;
    let mut problems = Vec::new();
    if pack.format != FORMAT {
        problems.push((None, "unsupported_format"));
    }
    let root = parse_hash(&head.root_hash);
    let size = u64::try_from(head.tree_size).unwrap_or(0);
    for event in &pack.events {
        let leaf = merkle::leaf_hash(event.entry.as_bytes());
        if hex::encode(leaf) != event.leaf_hash {
            problems.push((Some(event.seq), "entry_altered"));
        }
        let proof: Option<Vec<Hash>> = event.inclusion_proof.iter().map(|h| parse_hash(h)).collect();
        let included = match (root, proof, u64::try_from(event.seq)) {
            (Some(root), Some(proof), Ok(index)) => merkle::verify_inclusion(index, size, &leaf, &proof, &root),
            _ => false,
        };
        if !included {
            problems.push((Some(event.seq), "not_in_signed_tree"));
        }
    }
    match pack.audit_keys.iter().find(|k| k.kid == head.kid && k.crv == "Ed25519") {
        None => problems.push((None, "unknown_audit_key")),
        Some(key) => {
            let message =
                super::head_message(head.tree_size, &head.root_hash, head.signed_at_ms, head.log_id.as_deref());
            let valid = match (URL_SAFE_NO_PAD.decode(&key.x), URL_SAFE_NO_PAD.decode(&head.signature)) {
                (Ok(x), Ok(sig)) => ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, x)
                    .verify(message.as_bytes(), &sig)
                    .is_ok(),
                _ => false,
            };
            if !valid {
                problems.push((None, "bad_head_signature"));
            }
        }
    }
    PackReport { events: pack.events.len(), tree_size: head.tree_size, kid: head.kid.clone(), problems }
}
