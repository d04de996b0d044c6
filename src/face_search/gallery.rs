//! The 1:N gallery: every template quantised to i8 with its own scale (132 bytes for a
//! 128-d SFace template instead of 512), scanned exactly on all cores. An exact scan keeps
//! recall at 100% (a planted duplicate is never missed, which is the point of a fraud
//! check) and needs no index build; `benches/face_search.rs` measures it against f32 and
//! an HNSW graph (README "1:N face search").

use std::collections::HashSet;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The template size the gallery holds (SFace).
pub const DIM: usize = 128;

/// Who a template belongs to, as callers name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// A verification id (a UUID).
    pub verification: String,
    pub org: Arc<str>,
    /// The keyed hash of the claimed identity.
    pub identity: String,
    /// `document` or `selfie`.
    pub kind: &'static str,
}

/// A template above the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub owner: Owner,
    pub similarity: f32,
}

/// Which templates a search may return.
#[derive(Debug, Clone)]
pub struct Filter<'a> {
    pub not_verification: &'a str,
    pub not_identity: &'a str,
    /// Only this organisation's (None: every organisation's).
    pub org: Option<&'a str>,
}

/// An owner as stored: 40 bytes (the identity as 16 bytes of its SHA-256, the organisation
/// as an index into the gallery's table), so a million owners take 40 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    verification: [u8; 16],
    identity: [u8; 16],
    org: u32,
    document: bool,
}

fn identity_key(identity: &str) -> [u8; 16] {
    let digest = Sha256::digest(identity.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
    key
}

fn member_key(verification: [u8; 16], document: bool) -> u64 {
    let id = u128::from_le_bytes(verification);
    // Both halves (a UUID's randomness is spread over them), then the kind.
    #[allow(clippy::cast_possible_truncation)]
    let folded = (id as u64) ^ ((id >> 64) as u64).rotate_left(29);
    folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(document)
}

/// Quantised templates and their owners, in insertion order.
#[derive(Default)]
pub struct Gallery {
    codes: Vec<i8>,
    scales: Vec<f32>,
    slots: Vec<Slot>,
    orgs: Vec<Arc<str>>,
    /// A key per (verification, kind) held: a replaced template replaces, not duplicates
    /// (a collision only costs a scan).
    members: HashSet<u64>,
}

/// `v` as i8 codes and the scale that turns them back (`v ≈ codes · scale`).
pub fn quantise(v: &[f32]) -> Option<([i8; DIM], f32)> {
    if v.len() != DIM || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max <= f32::EPSILON {
        return None;
    }
    let scale = max / 127.0;
    let mut codes = [0i8; DIM];
    for (c, x) in codes.iter_mut().zip(v) {
        // |x / scale| ≤ 127 by construction.
        *c = (x / scale).round().clamp(-127.0, 127.0) as i8;
    }
    Some((codes, scale))
}

#[inline]
fn dot(a: &[i8], b: &[i8; DIM]) -> i32 {
    // Widened to i16 products summed in i32: the compiler vectorises this (pmaddwd).
    a.iter().zip(b.iter()).map(|(x, y)| i32::from(i16::from(*x) * i16::from(*y))).sum()
}

impl Gallery {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Bytes held by the templates and scales.
    pub fn template_bytes(&self) -> usize {
        self.codes.capacity() + self.scales.capacity() * 4
    }

    pub fn reserve(&mut self, n: usize) {
        self.codes.reserve(n * DIM);
        self.scales.reserve(n);
        self.slots.reserve(n);
        self.members.reserve(n);
    }

    fn org_index(&mut self, org: &Arc<str>) -> u32 {
        if let Some(i) = self.orgs.iter().position(|o| o == org) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.orgs.push(org.clone());
        u32::try_from(self.orgs.len() - 1).unwrap_or(u32::MAX)
    }

    /// Adds a unit-length template (replacing the owner's earlier one of its kind); false
    /// when it is not a finite `DIM`-vector or the verification id is not a UUID.
    pub fn add(&mut self, template: &[f32], owner: &Owner) -> bool {
        let Some((codes, scale)) = quantise(template) else { return false };
        let Ok(verification) = uuid::Uuid::parse_str(&owner.verification) else { return false };
        let slot = Slot {
            verification: *verification.as_bytes(),
            identity: identity_key(&owner.identity),
            org: self.org_index(&owner.org),
            document: owner.kind == "document",
        };
        if !self.members.insert(member_key(slot.verification, slot.document)) {
            self.retain(|s| s.verification != slot.verification || s.document != slot.document);
        }
        self.codes.extend_from_slice(&codes);
        self.scales.push(scale);
        self.slots.push(slot);
        true
    }

    /// Drops every template of `verification`; returns how many.
    pub fn remove(&mut self, verification: &str) -> usize {
        let Ok(id) = uuid::Uuid::parse_str(verification) else { return 0 };
        self.retain(|s| s.verification != *id.as_bytes())
    }

    /// Drops every template of these verifications in one pass; returns how many.
    pub fn remove_all(&mut self, verifications: &[&str]) -> usize {
        let ids: HashSet<[u8; 16]> =
            verifications.iter().filter_map(|v| uuid::Uuid::parse_str(v).ok()).map(|u| *u.as_bytes()).collect();
        if ids.is_empty() {
            return 0;
        }
        self.retain(|s| !ids.contains(&s.verification))
    }

    fn retain(&mut self, keep_slot: impl Fn(&Slot) -> bool) -> usize {
        let before = self.slots.len();
        let keep: Vec<bool> = self.slots.iter().map(keep_slot).collect();
        if keep.iter().all(|k| *k) {
            return 0;
        }
        let mut codes = Vec::with_capacity(self.codes.len());
        let mut scales = Vec::with_capacity(self.scales.len());
        let mut slots = Vec::with_capacity(self.slots.len());
        for (((chunk, scale), slot), keep) in self.codes.chunks_exact(DIM).zip(&self.scales).zip(&self.slots).zip(keep)
        {
            if keep {
                codes.extend_from_slice(chunk);
                scales.push(*scale);
                slots.push(*slot);
            }
        }
        (self.codes, self.scales, self.slots) = (codes, scales, slots);
        self.members = self.slots.iter().map(|s| member_key(s.verification, s.document)).collect();
        before - self.slots.len()
    }

    fn owner(&self, slot: &Slot) -> Owner {
        Owner {
            verification: uuid::Uuid::from_bytes(slot.verification).to_string(),
            org: self.orgs.get(slot.org as usize).cloned().unwrap_or_else(|| "".into()),
            identity: hex::encode(slot.identity),
            kind: if slot.document { "document" } else { "selfie" },
        }
    }

    /// Every template with cosine similarity ≥ `threshold` to `query` that `filter` admits,
    /// best first, at most `limit`. The scan is split over `threads` threads.
    pub fn search(&self, query: &[f32], threshold: f32, limit: usize, threads: usize, filter: &Filter<'_>) -> Vec<Hit> {
        let Some((q, q_scale)) = quantise(query) else { return Vec::new() };
        let not_verification = uuid::Uuid::parse_str(filter.not_verification).map(|u| *u.as_bytes()).ok();
        let not_identity = identity_key(filter.not_identity);
        let org = match filter.org {
            Some(name) => match self.orgs.iter().position(|o| &**o == name) {
                Some(i) => Some(u32::try_from(i).unwrap_or(u32::MAX)),
                None => return Vec::new(),
            },
            None => None,
        };
        let admit = |s: &Slot| {
            s.identity != not_identity && Some(s.verification) != not_verification && org.is_none_or(|o| s.org == o)
        };
        let n = self.slots.len();
        let threads = threads.clamp(1, 16).min(n.div_ceil(4096).max(1));
        let per = n.div_ceil(threads);
        let scan = |start: usize, end: usize| -> Vec<(usize, f32)> {
            let mut found = Vec::new();
            let codes = self.codes.get(start * DIM..end * DIM).unwrap_or_default();
            let scales = self.scales.get(start..end).unwrap_or_default();
            for (i, (chunk, scale)) in codes.chunks_exact(DIM).zip(scales).enumerate() {
                #[allow(clippy::cast_precision_loss)] // |dot| ≤ 128 · 127², exact in f32
                let similarity = dot(chunk, &q) as f32 * scale * q_scale;
                if similarity >= threshold && self.slots.get(start + i).is_some_and(admit) {
                    found.push((start + i, similarity));
                }
            }
            found
        };
        let mut found: Vec<(usize, f32)> = if threads == 1 {
            scan(0, n)
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> =
                    (0..threads).map(|t| s.spawn(move || scan((t * per).min(n), ((t + 1) * per).min(n)))).collect();
                handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
            })
        };
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        found
            .into_iter()
            .take(limit)
            .filter_map(|(i, similarity)| {
                let slot = self.slots.get(i)?;
                Some(Hit { owner: self.owner(slot), similarity: similarity.clamp(-1.0, 1.0) })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64) -> Vec<f32> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let v: Vec<f32> = (0..DIM)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect();
        let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
        v.into_iter().map(|a| a / norm).collect()
    }

    fn id(i: u64) -> String {
        uuid::Uuid::from_u128(u128::from(i)).to_string()
    }

    fn owner(i: u64) -> Owner {
        Owner { verification: id(i), org: "acme".into(), identity: format!("identity-{i}"), kind: "selfie" }
    }

    fn all<'a>() -> Filter<'a> {
        Filter { not_verification: "", not_identity: "", org: None }
    }

    #[test]
    fn a_planted_duplicate_is_found_and_removed() {
        let mut g = Gallery::default();
        for i in 0..10_000u64 {
            assert!(g.add(&unit(i), &owner(i)));
        }
        let probe = unit(4242);
        let hits = g.search(&probe, 0.5, 10, 2, &all());
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].owner.verification, id(4242));
        assert_eq!(hits[0].owner.org.as_ref(), "acme");
        assert!((hits[0].similarity - 1.0).abs() < 0.01, "{}", hits[0].similarity);
        let me = id(4242);
        let not_self = Filter { not_verification: &me, ..all() };
        assert!(g.search(&probe, 0.5, 10, 1, &not_self).is_empty());
        let same_identity = Filter { not_identity: "identity-4242", ..all() };
        assert!(g.search(&probe, 0.5, 10, 1, &same_identity).is_empty());
        assert!(g.search(&probe, 0.5, 10, 1, &Filter { org: Some("globex"), ..all() }).is_empty());
        assert_eq!(g.search(&probe, 0.5, 10, 1, &Filter { org: Some("acme"), ..all() }).len(), 1);
        // A replaced template replaces.
        assert!(g.add(&unit(4242), &owner(4242)));
        assert_eq!(g.len(), 10_000);
        assert_eq!(g.remove(&me), 1);
        assert!(g.search(&probe, 0.5, 10, 2, &all()).is_empty());
        assert_eq!(g.len(), 9_999);
        assert_eq!(g.remove_all(&[&id(1), &id(2), "not-a-uuid", &id(4242)]), 2);
        assert_eq!(g.len(), 9_997);
        assert!(!g.add(&[0.0; DIM], &owner(1)) && !g.add(&[1.0; 3], &owner(2)));
        assert!(!g.add(&unit(3), &Owner { verification: "not-a-uuid".into(), ..owner(3) }));
    }

    #[test]
    fn quantised_similarity_is_close_to_the_exact_one() {
        let (a, b) = (unit(1), unit(2));
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let mut g = Gallery::default();
        g.add(&a, &owner(1));
        let hit = g.search(&b, -1.0, 1, 1, &all());
        assert!((hit[0].similarity - exact).abs() < 0.01, "{} vs {exact}", hit[0].similarity);
    }
}
