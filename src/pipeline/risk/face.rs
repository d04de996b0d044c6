//! The same face under another identity: the document portrait and the selfie template
//! searched against every decided verification's templates (`face_search`), at the
//! threshold calibrated for the gallery's size. Evidence: similarity and the other
//! verification's id (only within the organisation; other organisations are counted).

use std::collections::BTreeMap;

use serde_json::json;

use super::{Family, Signal, Weights};
use crate::face_search::FaceSearch;
use crate::pipeline::face_match::FaceMatch;

/// How many other verifications the evidence names.
const NAMED: usize = 10;

/// The best match with one other verification.
struct Best {
    similarity: f32,
    template: &'static str,
    matched: &'static str,
    own_org: bool,
    identity: String,
}

pub fn signals(search: &FaceSearch, face: &FaceMatch, w: &Weights) -> Vec<Signal> {
    let threshold = search.threshold.threshold;
    let mut best: BTreeMap<String, Best> = BTreeMap::new();
    for (template, kind) in [(&face.document_embedding, "document"), (&face.selfie_embedding, "selfie")] {
        let Some(template) = template else { continue };
        for hit in search.index.search(template, &search.scope, threshold) {
            let candidate = Best {
                similarity: hit.similarity,
                template: kind,
                matched: hit.owner.kind,
                own_org: *hit.owner.org == *search.scope.org,
                identity: hit.owner.identity.clone(),
            };
            let entry = best.entry(hit.owner.verification.clone());
            let slot = entry.or_insert(Best { similarity: f32::MIN, ..candidate.clone_shape() });
            if candidate.similarity > slot.similarity {
                *slot = candidate;
            }
        }
    }
    if best.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<(String, Best)> = best.into_iter().collect();
    found.sort_by(|a, b| b.1.similarity.total_cmp(&a.1.similarity));
    let identities: std::collections::BTreeSet<&str> = found.iter().map(|(_, f)| f.identity.as_str()).collect();
    let other_orgs = found.iter().filter(|(_, f)| !f.own_org).count();
    let matches: Vec<serde_json::Value> = found
        .iter()
        .filter(|(_, f)| f.own_org)
        .take(NAMED)
        .map(|(id, f)| {
            json!({ "verification": id, "similarity": (f64::from(f.similarity) * 1000.0).round() / 1000.0,
                    "template": f.template, "matched": f.matched })
        })
        .collect();
    vec![Signal::new(
        "face_other_identity",
        Family::Face,
        w,
        json!({
            "identities": identities.len(), "matches": matches, "other_organisations": other_orgs,
            "threshold": search.threshold,
        }),
    )]
}

impl Best {
    fn clone_shape(&self) -> Self {
        Self { identity: self.identity.clone(), ..*self }
    }
}
