//! Learning from reviewers: a logistic regression (`linfa-logistic`, L2) of reviewers'
//! final outcomes (reject = 1, approve = 0) on the risk signals the cases carried, turned
//! into proposed noisy-OR weights with 95 % intervals. With a leak ℓ = σ(β₀) (the reject
//! rate of a case with no signal), a signal alone gives p = σ(β₀ + βᵢ); the noisy-OR weight
//! that reproduces it is wᵢ = (p − ℓ) / (1 − ℓ), clipped to 0–100. The intervals come from
//! the inverse of the penalised Fisher information at the fit. Nothing is applied: the
//! report sits beside the configured weights for an admin to judge.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::Serialize;

/// The signal codes of a stored risk (its JSON); none when it is absent or unreadable.
pub fn stored_codes(risk: Option<&str>) -> Vec<String> {
    let risk: serde_json::Value = risk.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    risk.get("signals")
        .and_then(|s| s.as_array())
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .collect()
}

/// One reviewed case: the signal codes it carried and whether the reviewer rejected it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub signals: Vec<String>,
    pub rejected: bool,
}

/// A signal's proposal (or a group's: signals that always came together, joined by ` + `,
/// whose noisy-OR the proposal is).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub code: String,
    /// Reviewed cases that carried it, and how many of those were rejected.
    pub cases: usize,
    pub rejected: usize,
    pub coefficient: f64,
    pub standard_error: f64,
    pub configured: u8,
    pub proposed: u8,
    /// 95 % interval of the proposed weight.
    pub low: u8,
    pub high: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitReport {
    pub cases: usize,
    pub rejected: usize,
    /// The reject rate of a case with no signal (σ(β₀)).
    pub leak: f64,
    pub alpha: f64,
    pub signals: Vec<Proposal>,
    /// Signals seen on fewer than `min_cases` reviewed cases (not fitted).
    pub too_rare: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("too few reviewed cases: {cases} (at least {needed}, with both approvals and rejections)")]
    TooFew { cases: usize, needed: usize },
    #[error("the regression did not fit: {0}")]
    Fit(String),
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn weight(p: f64, leak: f64) -> u8 {
    let w = if leak >= 1.0 { 0.0 } else { (p - leak) / (1.0 - leak) };
    (100.0 * w).round().clamp(0.0, 100.0) as u8
}

/// Gauss–Jordan inverse of a small symmetric positive-definite matrix.
// Every index is below `n`, the matrix's side, by the loops' bounds.
#[allow(clippy::indexing_slicing)]
fn inverse(m: &Array2<f64>) -> Option<Array2<f64>> {
    let n = m.nrows();
    let mut a = m.clone();
    let mut inv = Array2::<f64>::eye(n);
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[[i, col]].abs().total_cmp(&a[[j, col]].abs()))?;
        if a[[pivot, col]].abs() < 1e-12 {
            return None;
        }
        for k in 0..n {
            a.swap([col, k], [pivot, k]);
            inv.swap([col, k], [pivot, k]);
        }
        let d = a[[col, col]];
        for k in 0..n {
            a[[col, k]] /= d;
            inv[[col, k]] /= d;
        }
        for row in (0..n).filter(|r| *r != col) {
            let f = a[[row, col]];
            for k in 0..n {
                a[[row, k]] -= f * a[[col, k]];
                inv[[row, k]] -= f * inv[[col, k]];
            }
        }
    }
    Some(inv)
}

/// The penalised Fisher information at the fit (intercept first): Zᵀ W Z + α·I on the
/// coefficients, W = diag(p(1 − p)).
// Every index is below k + 1, the matrix's side, by the loops' bounds.
#[allow(clippy::indexing_slicing)]
fn information(x: &Array2<f64>, b0: f64, beta: &Array1<f64>, alpha: f64) -> Array2<f64> {
    let k = x.ncols();
    let mut info = Array2::<f64>::zeros((k + 1, k + 1));
    for row in x.rows() {
        let p = sigmoid(b0 + row.dot(beta));
        let w = p * (1.0 - p);
        let z: Vec<f64> = std::iter::once(1.0).chain(row.iter().copied()).collect();
        for (a, za) in z.iter().enumerate() {
            for (b, zb) in z.iter().enumerate() {
                info[[a, b]] += w * za * zb;
            }
        }
    }
    for j in 1..=k {
        info[[j, j]] += alpha;
    }
    info
}

/// Fits the outcomes; signals on fewer than `min_cases` cases are left out.
pub fn fit(
    outcomes: &[Outcome],
    configured: impl Fn(&str) -> u8,
    min_cases: usize,
    alpha: f64,
) -> Result<FitReport, FitError> {
    let rejected = outcomes.iter().filter(|o| o.rejected).count();
    let needed = 20;
    if outcomes.len() < needed || rejected == 0 || rejected == outcomes.len() {
        return Err(FitError::TooFew { cases: outcomes.len(), needed });
    }
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for o in outcomes {
        for s in &o.signals {
            *counts.entry(s.as_str()).or_default() += 1;
        }
    }
    let frequent: Vec<&str> = counts.iter().filter(|(_, n)| **n >= min_cases).map(|(c, _)| *c).collect();
    let too_rare = counts.iter().filter(|(_, n)| **n < min_cases).map(|(c, _)| (*c).to_owned()).collect();
    // Signals that always come together cannot be told apart: they are fitted as one group.
    let mut groups: Vec<(Vec<bool>, Vec<&str>)> = Vec::new();
    for code in frequent {
        let present: Vec<bool> = outcomes.iter().map(|o| o.signals.iter().any(|s| s == code)).collect();
        match groups.iter_mut().find(|(p, _)| *p == present) {
            Some((_, members)) => members.push(code),
            None => groups.push((present, vec![code])),
        }
    }
    let (n, k) = (outcomes.len(), groups.len());
    let x = Array2::from_shape_fn((n, k), |(i, j)| {
        let has = groups.get(j).and_then(|(p, _)| p.get(i)).copied().unwrap_or(false);
        if has { 1.0 } else { 0.0 }
    });
    let y: Array1<usize> = outcomes.iter().map(|o| usize::from(o.rejected)).collect();
    let model = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(500)
        .fit(&Dataset::new(x.clone(), y))
        .map_err(|e| FitError::Fit(e.to_string()))?;
    // linfa's positive class is the first one it met in the data: turn the model round when
    // that was "approved", so that σ(β₀ + x·β) is the probability of a reject.
    let sign = if model.labels().pos.class == 1 { 1.0 } else { -1.0 };
    let (b0, beta) = (sign * model.intercept(), model.params().mapv(|b| sign * b));
    let info = information(&x, b0, &beta, alpha);
    let cov = inverse(&info).ok_or_else(|| FitError::Fit("singular information matrix".into()))?;
    let leak = sigmoid(b0);
    let signals = groups
        .iter()
        .enumerate()
        .map(|(j, (present, members))| {
            let at_cov = |a: usize, b: usize| cov.get((a, b)).copied().unwrap_or(0.0);
            let coef = beta.get(j).copied().unwrap_or(0.0);
            let (var_b0, var_bj, cov_0j) = (at_cov(0, 0), at_cov(j + 1, j + 1), at_cov(0, j + 1));
            // The interval of β₀ + βⱼ (its variance includes their covariance).
            let se_sum = (var_b0 + var_bj + 2.0 * cov_0j).max(0.0).sqrt();
            let at = |z: f64| weight(sigmoid(b0 + coef + z * se_sum), leak);
            let with: Vec<&Outcome> = outcomes.iter().zip(present).filter(|(_, p)| **p).map(|(o, _)| o).collect();
            Proposal {
                code: members.join(" + "),
                cases: with.len(),
                rejected: with.iter().filter(|o| o.rejected).count(),
                coefficient: coef,
                standard_error: var_bj.max(0.0).sqrt(),
                configured: crate::pipeline::risk::score::combine(members.iter().map(|c| configured(c))),
                proposed: at(0.0),
                low: at(-1.96),
                high: at(1.96),
            }
        })
        .collect();
    Ok(FitReport { cases: n, rejected, leak, alpha, signals, too_rare })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Cases drawn from a known noisy-OR: leak 5 %, `strong` 80 %, `weak` 10 %, `noise` 0 %.
    /// With `exclusive`, a case carries at most one signal (where a logistic model and a
    /// noisy-OR agree exactly); else signals overlap (where they differ a little).
    fn drawn(n: usize, seed: u64, exclusive: bool) -> Vec<Outcome> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let mut signals = Vec::new();
                let mut clean = 0.95;
                for (code, w, share) in [("strong", 0.8, 0.3), ("weak", 0.1, 0.4), ("noise", 0.0, 0.5)] {
                    if (!exclusive || signals.is_empty()) && rng.random_bool(share) {
                        signals.push(code.to_owned());
                        clean *= 1.0 - w;
                    }
                }
                Outcome { signals, rejected: rng.random_bool(1.0 - clean) }
            })
            .collect()
    }

    fn simulated(n: usize, seed: u64) -> Vec<Outcome> {
        drawn(n, seed, false)
    }

    #[test]
    fn the_fit_recovers_known_weights_within_its_intervals() {
        let report = fit(&drawn(4_000, 7, true), |_| 50, 5, 0.01).unwrap();
        let get = |c: &str| report.signals.iter().find(|s| s.code == c).unwrap().clone();
        for (code, truth) in [("strong", 80), ("weak", 10), ("noise", 0)] {
            let s = get(code);
            assert!(s.low <= truth && truth <= s.high, "{s:?}");
            assert!(s.proposed.abs_diff(truth) <= 6, "{s:?}");
        }
        assert!((report.leak - 0.05).abs() < 0.02, "{report:?}");
        assert_eq!(get("strong").configured, 50);
    }

    #[test]
    fn overlapping_signals_keep_their_order() {
        let report = fit(&simulated(4_000, 11), |_| 50, 5, 1.0).unwrap();
        let get = |c: &str| report.signals.iter().find(|s| s.code == c).unwrap().proposed;
        assert!(get("strong") >= 70 && get("weak") < 25 && get("noise") < 10, "{report:?}");
    }

    #[test]
    fn too_few_or_one_sided_outcomes_are_refused() {
        let few = simulated(10, 1);
        assert!(matches!(fit(&few, |_| 0, 5, 1.0), Err(FitError::TooFew { .. })));
        let all_approved: Vec<Outcome> = (0..50).map(|_| Outcome { signals: vec![], rejected: false }).collect();
        assert!(matches!(fit(&all_approved, |_| 0, 5, 1.0), Err(FitError::TooFew { .. })));
    }

    #[test]
    fn signals_that_always_come_together_are_one_group() {
        let mut cases = simulated(600, 5);
        for case in &mut cases {
            if case.signals.iter().any(|s| s == "strong") {
                case.signals.push("twin".into());
            }
        }
        let report = fit(&cases, |c| if c == "twin" { 50 } else { 80 }, 5, 0.1).unwrap();
        let group = report.signals.iter().find(|s| s.code == "strong + twin").unwrap();
        assert_eq!(group.configured, 90, "the noisy-OR of 80 and 50: {group:?}");
        assert!(group.proposed > 60, "{group:?}");
    }

    #[test]
    fn rare_signals_are_not_fitted() {
        let mut cases = simulated(500, 3);
        cases.push(Outcome { signals: vec!["once".into()], rejected: true });
        let report = fit(&cases, |_| 0, 5, 1.0).unwrap();
        assert_eq!(report.too_rare, ["once"]);
    }
}
