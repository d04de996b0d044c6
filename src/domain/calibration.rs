//! Threshold calibration from labelled genuine and impostor similarity scores.

use serde::Serialize;

/// Summary of two score distributions: AUC and the thresholds for target false-match rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub genuine: usize,
    pub impostor: usize,
    /// Area under the ROC curve (probability a genuine pair outscores an impostor pair; ties ½).
    pub auc: f64,
    pub operating_points: Vec<OperatingPoint>,
}

/// The threshold meeting one target false-match rate, with the rates measured there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatingPoint {
    pub target_fmr: f64,
    pub threshold: f32,
    pub fmr: f64,
    pub fnmr: f64,
    /// False when fewer than 1/target impostor pairs exist: the threshold is then only an
    /// upper-bound estimate (no impostor scored at or above it, but the sample is too small).
    pub resolved: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationError {
    #[error("calibration needs at least one genuine and one impostor pair")]
    NotEnoughPairs,
    #[error("a score is not a finite number")]
    NonFiniteScore,
}

/// A pair matches when `score >= threshold`.
pub fn calibrate(genuine: &[f32], impostor: &[f32], target_fmrs: &[f64]) -> Result<Calibration, CalibrationError> {
    if genuine.is_empty() || impostor.is_empty() {
        return Err(CalibrationError::NotEnoughPairs);
    }
    if genuine.iter().chain(impostor).any(|s| !s.is_finite()) {
        return Err(CalibrationError::NonFiniteScore);
    }
    let mut impostor_desc = impostor.to_vec();
    impostor_desc.sort_by(|a, b| b.total_cmp(a));
    let operating_points = target_fmrs.iter().map(|&target| operating_point(genuine, &impostor_desc, target)).collect();
    Ok(Calibration { genuine: genuine.len(), impostor: impostor.len(), auc: auc(genuine, impostor), operating_points })
}

fn operating_point(genuine: &[f32], impostor_desc: &[f32], target_fmr: f64) -> OperatingPoint {
    let n = impostor_desc.len();
    // At most `allowed` impostors may score at or above the threshold; put the threshold just
    // above the next one down so that it (and everything below) is rejected.
    let allowed = ((target_fmr * n as f64).floor() as usize).min(n);
    let threshold = match impostor_desc.get(allowed) {
        Some(score) => score.next_up(),
        None => impostor_desc.last().copied().unwrap_or(0.0),
    };
    let false_matches = impostor_desc.iter().filter(|&&s| s >= threshold).count();
    let false_non_matches = genuine.iter().filter(|&&s| s < threshold).count();
    OperatingPoint {
        target_fmr,
        threshold,
        fmr: false_matches as f64 / n as f64,
        fnmr: false_non_matches as f64 / genuine.len() as f64,
        resolved: (n as f64) * target_fmr >= 1.0,
    }
}

/// Mann–Whitney AUC by a merged sort: O((g + i) log(g + i)).
pub fn auc(genuine: &[f32], impostor: &[f32]) -> f64 {
    let mut all: Vec<(f32, bool)> =
        genuine.iter().map(|&s| (s, true)).chain(impostor.iter().map(|&s| (s, false))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut impostors_below, mut wins) = (0.0f64, 0.0f64);
    let mut i = 0;
    while let Some(&(score, _)) = all.get(i) {
        let tie_end = all.iter().skip(i).take_while(|(s, _)| *s == score).count() + i;
        let tie = all.get(i..tie_end).unwrap_or_default();
        let tie_genuine = tie.iter().filter(|(_, g)| *g).count() as f64;
        let tie_impostor = tie.len() as f64 - tie_genuine;
        wins += tie_genuine * (impostors_below + tie_impostor / 2.0);
        impostors_below += tie_impostor;
        i = tie_end;
    }
    wins / (genuine.len() as f64 * impostor.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn perfectly_separated_scores_have_auc_one_and_no_errors() {
        let c = calibrate(&[0.8, 0.9, 0.7], &[0.1, 0.2, 0.3, 0.0], &[0.25]).unwrap();
        assert_eq!(c.auc, 1.0);
        let p = &c.operating_points[0];
        assert_eq!((p.fmr, p.fnmr), (0.25, 0.0));
        assert!(p.threshold > 0.2 && p.threshold <= 0.3);
    }

    #[test]
    fn fmr_never_exceeds_target_and_threshold_is_just_above_an_impostor() {
        let impostor: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let c = calibrate(&[0.5, 0.995, 1.0], &impostor, &[1e-2, 1e-3]).unwrap();
        assert_eq!(c.operating_points[0].fmr, 0.01);
        assert_eq!(c.operating_points[1].fmr, 0.001);
        assert!((c.operating_points[0].fnmr - 1.0 / 3.0).abs() < 1e-9);
        assert!(c.operating_points[1].resolved);
    }

    #[test]
    fn too_few_impostors_is_flagged_unresolved() {
        let c = calibrate(&[0.9], &[0.1, 0.2], &[1e-3]).unwrap();
        assert!(!c.operating_points[0].resolved);
        assert_eq!(c.operating_points[0].fmr, 0.0);
    }

    #[test]
    fn empty_or_nan_input_is_an_error() {
        assert_eq!(calibrate(&[], &[0.1], &[1e-3]), Err(CalibrationError::NotEnoughPairs));
        assert_eq!(calibrate(&[f32::NAN], &[0.1], &[1e-3]), Err(CalibrationError::NonFiniteScore));
    }

    fn brute_auc(g: &[f32], i: &[f32]) -> f64 {
        let mut wins = 0.0;
        for a in g {
            for b in i {
                wins += if a > b {
                    1.0
                } else if a == b {
                    0.5
                } else {
                    0.0
                };
            }
        }
        wins / (g.len() * i.len()) as f64
    }

    proptest! {
        #[test]
        fn auc_equals_the_pairwise_definition(
            g in prop::collection::vec(0u8..20, 1..30),
            i in prop::collection::vec(0u8..20, 1..30),
        ) {
            let g: Vec<f32> = g.into_iter().map(f32::from).collect();
            let i: Vec<f32> = i.into_iter().map(f32::from).collect();
            prop_assert!((auc(&g, &i) - brute_auc(&g, &i)).abs() < 1e-9);
        }

        #[test]
        fn measured_fmr_is_within_target(i in prop::collection::vec(-1.0f32..1.0, 1..500), t in 0.0f64..0.5) {
            let c = calibrate(&[0.0], &i, &[t]).unwrap();
            prop_assert!(c.operating_points[0].fmr <= t + 1e-12);
        }
    }
}
