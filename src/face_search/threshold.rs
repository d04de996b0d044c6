//! The 1:N threshold for a gallery of N templates. One search makes N comparisons, so its
//! false-positive identification rate is FPIR ≈ N · FMR (NIST SP 800-63A-4 asks FPIR ≤
//! 1:1,000): the per-comparison FMR must be FPIR / N, and the threshold rises with the
//! gallery. The thresholds per FMR are idgate's calibration of SFace on faces_hard (`make
//! calibrate`: 867,450 impostor pairs, README "Threshold and accuracy"); below the smallest
//! measured FMR they are extrapolated along the last decade's slope, and said to be.

use serde::Serialize;

/// (FMR, threshold) measured on faces_hard, rising strictness.
pub const CALIBRATED: &[(f64, f32)] = &[(1e-3, 0.3720), (1e-4, 0.4327), (1e-5, 0.4841)];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchThreshold {
    pub threshold: f32,
    /// The per-comparison false-match rate it was chosen for (FPIR / N).
    pub per_comparison_fmr: f64,
    pub gallery: usize,
    /// Beyond the calibrated range (a large gallery).
    pub extrapolated: bool,
    /// Set by `face_search.threshold` instead.
    pub configured: bool,
}

/// The threshold for `gallery` templates at target `fpir`, never below `floor` (the 1:1
/// match threshold).
pub fn for_gallery(gallery: usize, fpir: f64, floor: f32) -> SearchThreshold {
    #[allow(clippy::cast_precision_loss)] // a gallery count, far below 2^52
    let fmr = (fpir / gallery.max(1) as f64).clamp(1e-12, 1.0);
    let (threshold, extrapolated) = threshold_at(fmr);
    SearchThreshold {
        threshold: threshold.max(floor),
        per_comparison_fmr: fmr,
        gallery,
        extrapolated,
        configured: false,
    }
}

fn threshold_at(fmr: f64) -> (f32, bool) {
    let points: Vec<(f64, f32)> = CALIBRATED.iter().map(|(f, t)| (f.log10(), *t)).collect();
    let x = fmr.log10();
    let (Some(first), Some(last)) = (points.first(), points.last()) else { return (1.0, true) };
    if x >= first.0 {
        return (first.1, false);
    }
    for pair in points.windows(2) {
        if let [(x0, t0), (x1, t1)] = pair
            && x <= *x0
            && x >= *x1
        {
            #[allow(clippy::cast_possible_truncation)]
            let t = t0 + (t1 - t0) * ((x - x0) / (x1 - x0)) as f32;
            return (t, false);
        }
    }
    let slope = points.iter().rev().nth(1).map_or(0.05, |prev| (last.1 - prev.1) / (prev.0 - last.0) as f32);
    #[allow(clippy::cast_possible_truncation)]
    let t = last.1 + slope * (last.0 - x) as f32;
    (t.min(0.99), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_rises_with_the_gallery() {
        let small = for_gallery(1, 1e-3, 0.372);
        assert_eq!((small.threshold, small.extrapolated), (0.372, false));
        let ten = for_gallery(10, 1e-3, 0.372);
        assert!((ten.threshold - 0.4327).abs() < 1e-4 && ten.per_comparison_fmr == 1e-4, "{ten:?}");
        let hundred = for_gallery(100, 1e-3, 0.372);
        assert!((hundred.threshold - 0.4841).abs() < 1e-4, "{hundred:?}");
        let million = for_gallery(1_000_000, 1e-3, 0.372);
        assert!(million.extrapolated && (million.threshold - (0.4841 + 4.0 * 0.0514)).abs() < 1e-3, "{million:?}");
        let between = for_gallery(3, 1e-3, 0.372);
        assert!(between.threshold > 0.372 && between.threshold < 0.4327);
    }
}
