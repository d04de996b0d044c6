//! 1:N face search: every decided verification's document and selfie templates, sealed in
//! the database (`face_templates`) and held here in memory (`gallery`), searched at
//! decision for the same face under another identity. The index is rebuilt at start and
//! follows the table by `seq` (`sync`, every `face_search.sync_millis` on every node), so a
//! worker's new templates and a deletion's removals reach every node within seconds.

pub mod gallery;
pub mod threshold;

use std::sync::{Arc, RwLock};

use gallery::{DIM, Gallery, Hit, Owner};
pub use threshold::SearchThreshold;

use crate::crypto::aead::Sealer;
use crate::domain::face::Embedding;
use crate::storage::{StorageError, Store};

/// Rows read per round trip while following the table.
const SYNC_BATCH: i64 = 5_000;

/// At most this many hits are reported per template.
const HITS_KEPT: usize = 10;

#[derive(Default)]
pub struct FaceIndex {
    gallery: RwLock<Gallery>,
    /// The last template and removal `seq` applied; held through a sync, so that concurrent
    /// syncs (workers, the loop) take turns instead of applying the same rows twice.
    seen: tokio::sync::Mutex<(i64, i64)>,
}

/// Whose templates a search may find: other identities, in the organisation unless the
/// operator allows more.
#[derive(Debug, Clone)]
pub struct Scope {
    pub org: String,
    pub identity: String,
    pub verification: String,
    pub cross_org: bool,
}

/// The sealing context of a template.
pub fn template_context(verification: &str, kind: &str) -> String {
    format!("face-template:{verification}:{kind}")
}

pub fn seal(
    sealer: &Sealer,
    verification: &str,
    kind: &str,
    e: &Embedding,
) -> Result<Vec<u8>, crate::crypto::aead::SealError> {
    let bytes: Vec<u8> = e.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect();
    sealer.seal(&bytes, &template_context(verification, kind))
}

fn open(sealer: &Sealer, verification: &str, kind: &str, sealed: &[u8]) -> Option<Vec<f32>> {
    let bytes = sealer.open(sealed, &template_context(verification, kind)).ok()?;
    let v: Vec<f32> = bytes.chunks_exact(4).filter_map(|c| c.try_into().ok().map(f32::from_le_bytes)).collect();
    (v.len() == DIM).then_some(v)
}

fn kind_of(kind: &str) -> &'static str {
    if kind == "document" { "document" } else { "selfie" }
}

impl FaceIndex {
    pub fn len(&self) -> usize {
        self.gallery.read().map_or(0, |g| g.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies the table's new templates and removals. Returns (added, removed).
    pub async fn sync(&self, store: &Store, sealer: &Sealer) -> Result<(usize, usize), StorageError> {
        let mut seen = self.seen.lock().await;
        let (mut seq, mut removal_seq) = *seen;
        let mut added = 0;
        loop {
            let rows = store.face_templates_after(seq, SYNC_BATCH).await?;
            let Some(last) = rows.last().map(|r| r.seq) else { break };
            let opened: Vec<(Owner, Vec<f32>)> = rows
                .iter()
                .filter_map(|r| {
                    let template = open(sealer, &r.verification_id, &r.kind, &r.sealed);
                    if template.is_none() {
                        tracing::warn!(verification = %r.verification_id, "a face template does not open: skipped");
                    }
                    let owner = Owner {
                        verification: r.verification_id.clone(),
                        org: r.org_id.as_str().into(),
                        identity: r.identity_hash.clone(),
                        kind: kind_of(&r.kind),
                    };
                    Some((owner, template?))
                })
                .collect();
            if let Ok(mut g) = self.gallery.write() {
                g.reserve(opened.len());
                for (owner, template) in opened {
                    added += usize::from(g.add(&template, &owner));
                }
            }
            seq = last;
            if rows.len() < usize::try_from(SYNC_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        let removals = store.face_removals_after(removal_seq).await?;
        let mut removed = 0;
        if let Some((last, _)) = removals.last() {
            // One pass over the gallery for the whole batch (retention removes many at once).
            let ids: Vec<&str> = removals.iter().map(|(_, v)| v.as_str()).collect();
            if let Ok(mut g) = self.gallery.write() {
                removed = g.remove_all(&ids);
            }
            removal_seq = *last;
        }
        *seen = (seq, removal_seq);
        Ok((added, removed))
    }

    /// Removes a verification's templates from this node's index now.
    pub fn remove(&self, verification: &str) -> usize {
        self.gallery.write().map_or(0, |mut g| g.remove(verification))
    }

    /// The templates like `template` under another identity in `scope`, at `threshold`.
    pub fn search(&self, template: &Embedding, scope: &Scope, threshold: f32) -> Vec<Hit> {
        let Ok(g) = self.gallery.read() else { return Vec::new() };
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let filter = gallery::Filter {
            not_verification: &scope.verification,
            not_identity: &scope.identity,
            org: (!scope.cross_org).then_some(scope.org.as_str()),
        };
        g.search(template.as_slice(), threshold, HITS_KEPT, threads, &filter)
    }
}

/// The pipeline's handle on the index: what to search and how strictly.
#[derive(Clone)]
pub struct FaceSearch {
    pub index: Arc<FaceIndex>,
    pub scope: Scope,
    pub threshold: SearchThreshold,
}

impl std::fmt::Debug for FaceSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceSearch").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}
