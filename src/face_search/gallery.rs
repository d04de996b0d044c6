//! The 1:N gallery: every template quantised to i8 with its own scale (132 bytes for a
//! 128-d SFace template instead of 512), scanned exactly on all cores. An exact scan keeps
//! recall at 100% (a planted duplicate is never missed, which is the point of a fraud
//! check) and needs no index build; `benches/face_search.rs` measures it against f32 and
//! an HNSW graph (README "1:N face search").

use std::sync::Arc;

/// The template size the gallery holds (SFace).
pub const DIM: usize = 128;

/// Who a template belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub verification: Arc<str>,
    pub org: Arc<str>,
    pub identity: Arc<str>,
    /// `document` or `selfie`.
    pub kind: &'static str,
}

/// A template above the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub owner: Owner,
    pub similarity: f32,
}

/// Quantised templates and their owners, in insertion order.
#[derive(Default)]
pub struct Gallery {
    codes: Vec<i8>,
    scales: Vec<f32>,
    owners: Vec<Owner>,
    /// (verification, kind) held: a replaced template replaces, not duplicates.
    members: std::collections::HashSet<(Arc<str>, &'static str)>,
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
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Bytes held by the templates and scales (owners aside: they share their strings).
    pub fn template_bytes(&self) -> usize {
        self.codes.capacity() + self.scales.capacity() * 4
    }

    pub fn reserve(&mut self, n: usize) {
        self.codes.reserve(n * DIM);
        self.scales.reserve(n);
        self.owners.reserve(n);
    }

    /// Adds a unit-length template (replacing the owner's earlier one of its kind); false
    /// when it is not a finite `DIM`-vector.
    pub fn add(&mut self, template: &[f32], owner: Owner) -> bool {
        let Some((codes, scale)) = quantise(template) else { return false };
        if !self.members.insert((owner.verification.clone(), owner.kind)) {
            let (verification, kind) = (owner.verification.clone(), owner.kind);
            self.retain(|o| o.verification != verification || o.kind != kind);
            self.members.insert((verification, kind));
        }
        self.codes.extend_from_slice(&codes);
        self.scales.push(scale);
        self.owners.push(owner);
        true
    }

    /// Drops every template of `verification`; returns how many.
    pub fn remove(&mut self, verification: &str) -> usize {
        self.retain(|o| &*o.verification != verification)
    }

    fn retain(&mut self, keep_owner: impl Fn(&Owner) -> bool) -> usize {
        let before = self.owners.len();
        let keep: Vec<bool> = self.owners.iter().map(keep_owner).collect();
        if keep.iter().all(|k| *k) {
            return 0;
        }
        let mut codes = Vec::with_capacity(self.codes.len());
        let mut scales = Vec::with_capacity(self.scales.len());
        let mut owners = Vec::with_capacity(self.owners.len());
        for (((chunk, scale), owner), keep) in
            self.codes.chunks_exact(DIM).zip(&self.scales).zip(self.owners.drain(..)).zip(keep)
        {
            if keep {
                codes.extend_from_slice(chunk);
                scales.push(*scale);
                owners.push(owner);
            }
        }
        (self.codes, self.scales, self.owners) = (codes, scales, owners);
        self.members = self.owners.iter().map(|o| (o.verification.clone(), o.kind)).collect();
        before - self.owners.len()
    }

    /// Every template with cosine similarity ≥ `threshold` to `query` whose owner `admit`s,
    /// best first, at most `limit`. The scan is split over `threads` threads.
    pub fn search(
        &self,
        query: &[f32],
        threshold: f32,
        limit: usize,
        threads: usize,
        admit: &(dyn Fn(&Owner) -> bool + Sync),
    ) -> Vec<Hit> {
        let Some((q, q_scale)) = quantise(query) else { return Vec::new() };
        let n = self.owners.len();
        let threads = threads.clamp(1, 16).min(n.div_ceil(4096).max(1));
        let per = n.div_ceil(threads);
        let scan = |start: usize, end: usize| -> Vec<(usize, f32)> {
            let mut found = Vec::new();
            let codes = self.codes.get(start * DIM..end * DIM).unwrap_or_default();
            for (i, (chunk, scale)) in
                codes.chunks_exact(DIM).zip(self.scales.get(start..end).unwrap_or_default()).enumerate()
            {
                #[allow(clippy::cast_precision_loss)] // |dot| ≤ 128 · 127², exact in f32
                let similarity = dot(chunk, &q) as f32 * scale * q_scale;
                if similarity >= threshold {
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
            .filter_map(|(i, similarity)| {
                let owner = self.owners.get(i)?;
                admit(owner).then(|| Hit { owner: owner.clone(), similarity: similarity.clamp(-1.0, 1.0) })
            })
            .take(limit)
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

    fn owner(v: &str) -> Owner {
        Owner { verification: v.into(), org: "acme".into(), identity: v.into(), kind: "selfie" }
    }

    #[test]
    fn a_planted_duplicate_is_found_and_removed() {
        let mut g = Gallery::default();
        for i in 0..10_000u64 {
            assert!(g.add(&unit(i), owner(&format!("v{i}"))));
        }
        let probe = unit(4242);
        let hits = g.search(&probe, 0.5, 10, 2, &|_| true);
        assert_eq!(hits.len(), 1);
        assert_eq!(&*hits[0].owner.verification, "v4242");
        assert!((hits[0].similarity - 1.0).abs() < 0.01, "{}", hits[0].similarity);
        assert!(g.search(&probe, 0.5, 10, 1, &|o| &*o.verification != "v4242").is_empty());
        assert_eq!(g.remove("v4242"), 1);
        assert!(g.search(&probe, 0.5, 10, 2, &|_| true).is_empty());
        assert_eq!(g.len(), 9_999);
        assert!(!g.add(&[0.0; DIM], owner("zero")) && !g.add(&[1.0; 3], owner("short")));
    }

    #[test]
    fn quantised_similarity_is_close_to_the_exact_one() {
        let (a, b) = (unit(1), unit(2));
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let mut g = Gallery::default();
        g.add(&a, owner("a"));
        let hit = g.search(&b, -1.0, 1, 1, &|_| true);
        assert!((hit[0].similarity - exact).abs() < 0.01, "{} vs {exact}", hit[0].similarity);
    }
}
