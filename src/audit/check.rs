//! `idgate audit verify`: recompute every leaf from its stored entry, the root at every
//! signed head, and every head signature (with keys whose sealed private half must open
//! with the master key and match); report each problem with the first entry it implicates.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::merkle::{self, Frontier};
use crate::crypto::signing::{self, PublicJwk};
use crate::domain::time::Timestamp;
use crate::storage::{AuditRow, KeyPurpose, StorageError, Store};
use crate::tokens::keyring::{Keyring, public_jwk};

const PAGE: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The first entry implicated, when one is.
    pub seq: Option<i64>,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub entries: i64,
    pub heads: usize,
    /// Root of the whole log as recomputed.
    pub root: String,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problem that comes first in the log.
    pub fn first(&self) -> Option<&Problem> {
        self.problems.iter().min_by_key(|p| p.seq.unwrap_or(i64::MAX))
    }
}

/// A signed tree head someone kept (as `GET /.well-known/audit-heads.json` or
/// `GET /v1/audit/tree-head` gave it): the log must still extend it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct KeptHead {
    pub tree_size: i64,
    pub root_hash: String,
    pub signed_at_ms: i64,
    pub kid: String,
    pub signature: String,
    /// The log it was signed for (absent on v1 heads).
    #[serde(default)]
    pub log_id: Option<String>,
}

/// What else `check` holds the log to.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// A head kept outside: the log must have at least its entries, and its first
    /// `tree_size` entries must hash to its root.
    pub kept: Option<KeptHead>,
    /// Entries no head covers must not be older than this (the service signs a head every few
    /// seconds while the log grows: an old unsigned tail means heads were deleted), at `now`.
    pub max_unsigned_age: Option<(std::time::Duration, Timestamp)>,
}

fn entry_problem(row: &AuditRow, expected: i64) -> Option<Problem> {
    let bad = |code, message: String| Some(Problem { seq: Some(row.seq.min(expected)), code, message });
    if row.seq != expected {
        return bad("missing_entry", format!("entry {expected} is missing (the next stored entry is {})", row.seq));
    }
    let leaf = hex::encode(merkle::leaf_hash(row.entry.as_bytes()));
    if leaf != row.leaf_hash {
        return bad("entry_altered", format!("entry {} does not hash to its recorded leaf hash", row.seq));
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&row.entry) else {
        return bad("unreadable_entry", format!("entry {} is not JSON", row.seq));
    };
    if json.get("seq").and_then(serde_json::Value::as_i64) != Some(row.seq) {
        return bad(
            "misplaced_entry",
            format!("entry {} says it is entry {}", row.seq, json.get("seq").cloned().unwrap_or_default()),
        );
    }
    let at = json.get("at").and_then(serde_json::Value::as_str).and_then(Timestamp::parse_rfc3339);
    if at != Some(row.at)
        || json.get("kind").and_then(serde_json::Value::as_str) != Some(row.kind.as_str())
        || json.get("org").and_then(serde_json::Value::as_str) != row.org_id.as_deref()
        || json.get("verification").and_then(serde_json::Value::as_str) != row.verification_id.as_deref()
    {
        return bad("columns_altered", format!("entry {}'s indexed columns differ from its content", row.seq));
    }
    None
}

/// Checks the whole log. Storage errors are errors; everything found wrong is a problem.
pub async fn check(store: &Store, keys: &Keyring) -> Result<Report, StorageError> {
    check_with(store, keys, &Expectations::default()).await
}

/// As `check`, holding the log to a kept head and to a bound on its unsigned tail.
pub async fn check_with(store: &Store, keys: &Keyring, expect: &Expectations) -> Result<Report, StorageError> {
    let mut problems = Vec::new();
    let heads = store.heads().await?;
    let log_id = store.existing_audit_log_id().await?;
    let mut audit_keys: HashMap<String, PublicJwk> = HashMap::new();
    for record in store.keys(KeyPurpose::Audit).await? {
        match (keys.open(&record), public_jwk(&record)) {
            (Ok(_), Ok(jwk)) => {
                audit_keys.insert(record.kid.clone(), jwk);
            }
            _ => problems.push(Problem {
                seq: None,
                code: "audit_key_invalid",
                message: format!("audit key {} does not open with the master key or does not match", record.kid),
            }),
        }
    }

    // One pass over the entries; the root is taken at every signed size.
    let mut roots: HashMap<i64, String> = heads.iter().map(|h| (h.tree_size, String::new())).collect();
    if let Some(kept) = &expect.kept {
        roots.insert(kept.tree_size, String::new());
    }
    let covered = heads.iter().map(|h| h.tree_size).max().unwrap_or(0);
    let mut first_unsigned: Option<(i64, Timestamp)> = None;
    let mut frontier = Frontier::default();
    let mut expected = 0i64;
    loop {
        let rows = store.audit_range(expected, PAGE).await?;
        let Some(last) = rows.last().map(|r| r.seq) else { break };
        for row in &rows {
            if let Some(p) = entry_problem(row, expected) {
                problems.push(p);
            }
            if row.seq >= covered && first_unsigned.is_none() {
                first_unsigned = Some((row.seq, row.at));
            }
            // The tree is over the entries as stored, in stored order.
            frontier.push(merkle::leaf_hash(row.entry.as_bytes()));
            expected = row.seq + 1;
            let size = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
            if let Some(root) = roots.get_mut(&size) {
                *root = hex::encode(frontier.root());
            }
        }
        expected = expected.max(last + 1);
    }
    let entries = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
    let entry_problems: Vec<i64> = problems.iter().filter_map(|p| p.seq).collect();

    let mut previous: Option<(i64, Timestamp)> = None;
    for head in &heads {
        let start = previous.map_or(0, |(size, _)| size);
        let message =
            super::head_message(head.tree_size, &head.root_hash, head.signed_at.millis(), head.log_id.as_deref());
        if head.log_id.is_some() && head.log_id != log_id {
            problems.push(Problem {
                seq: None,
                code: "foreign_head",
                message: format!("the head of size {} was signed for another log", head.tree_size),
            });
        }
        let signature = URL_SAFE_NO_PAD.decode(&head.signature).unwrap_or_default();
        match audit_keys.get(&head.kid) {
            None => problems.push(Problem {
                seq: None,
                code: "unknown_head_key",
                message: format!("the head of size {} is signed by unknown key {}", head.tree_size, head.kid),
            }),
            Some(key) if !signing::ed25519_verify(key, message.as_bytes(), &signature) => problems.push(Problem {
                seq: None,
                code: "bad_head_signature",
                message: format!("the signature of the head of size {} does not verify", head.tree_size),
            }),
            Some(_) => {}
        }
        if head.tree_size > entries {
            problems.push(Problem {
                seq: Some(entries),
                code: "truncated",
                message: format!(
                    "a head signed {} covers {} entries but the log has {entries}: entries from {entries} on were removed",
                    head.signed_at.to_rfc3339(),
                    head.tree_size
                ),
            });
        } else if roots.get(&head.tree_size).map(String::as_str) != Some(head.root_hash.as_str()) {
            // Pointed at the first entry already found wrong in its range, if any.
            let culprit = entry_problems.iter().copied().find(|s| (start..head.tree_size).contains(s));
            problems.push(Problem {
                seq: Some(culprit.unwrap_or(start)),
                code: "root_mismatch",
                message: format!(
                    "the first {} entries do not hash to the root signed {}: an entry from {start} to {} was changed, removed or reordered",
                    head.tree_size,
                    head.signed_at.to_rfc3339(),
                    head.tree_size - 1
                ),
            });
        }
        if previous.is_some_and(|(_, at)| head.signed_at < at) {
            problems.push(Problem {
                seq: Some(start),
                code: "head_time_order",
                message: format!("the head of size {} is dated before the head before it", head.tree_size),
            });
        }
        previous = Some((head.tree_size, head.signed_at));
    }
    if let Some(kept) = &expect.kept {
        problems.extend(kept_head_problems(kept, log_id.as_deref(), &audit_keys, &roots, entries));
    }
    if let (Some((max_age, now)), Some((seq, at))) = (expect.max_unsigned_age, first_unsigned) {
        let age_ms = now.millis() - at.millis();
        if age_ms > i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX) {
            problems.push(Problem {
                seq: Some(seq),
                code: "unsigned_tail",
                message: format!(
                    "entries from {seq} on ({} s old) are covered by no signed head: heads were removed, or the service stopped signing",
                    age_ms / 1000
                ),
            });
        }
    }
    let counter = store.audit_size().await?;
    if counter != entries {
        problems.push(Problem {
            seq: Some(counter.min(entries)),
            code: "counter_mismatch",
            message: format!("the log's counter says {counter} entries but {entries} are stored"),
        });
    }
    problems.sort_by_key(|p| p.seq.unwrap_or(i64::MAX));
    Ok(Report { entries, heads: heads.len(), root: hex::encode(frontier.root()), problems })
}

/// What is wrong between a kept head and today's log: its signature (by an audit key of this
/// log), then whether the log still has its entries and their root.
fn kept_head_problems(
    kept: &KeptHead,
    log_id: Option<&str>,
    audit_keys: &HashMap<String, PublicJwk>,
    roots: &HashMap<i64, String>,
    entries: i64,
) -> Vec<Problem> {
    let problem = |seq, code, message: String| Problem { seq, code, message };
    if kept.log_id.is_some() && kept.log_id.as_deref() != log_id {
        return vec![problem(None, "kept_head_other_log", "the kept head was signed for another audit log".into())];
    }
    let message = super::head_message(kept.tree_size, &kept.root_hash, kept.signed_at_ms, kept.log_id.as_deref());
    let signature = URL_SAFE_NO_PAD.decode(&kept.signature).unwrap_or_default();
    match audit_keys.get(&kept.kid) {
        None => {
            return vec![problem(
                None,
                "kept_head_unknown_key",
                format!("the kept head is signed by {}, which is not an audit key of this log", kept.kid),
            )];
        }
        Some(key) if !signing::ed25519_verify(key, message.as_bytes(), &signature) => {
            return vec![problem(None, "kept_head_bad_signature", "the kept head's signature does not verify".into())];
        }
        Some(_) => {}
    }
    if kept.tree_size > entries {
        return vec![problem(
            Some(entries),
            "truncated_since_kept_head",
            format!("the kept head covers {} entries but the log has {entries}: entries were removed", kept.tree_size),
        )];
    }
    if roots.get(&kept.tree_size).map(String::as_str) != Some(kept.root_hash.as_str()) {
        return vec![problem(
            Some(0),
            "rewritten_since_kept_head",
            format!(
                "the log's first {} entries no longer hash to the kept head's root: entries were rewritten",
                kept.tree_size
            ),
        )];
    }
    Vec::new()
}
