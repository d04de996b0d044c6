//! Face quality gates: measured values in, machine-readable reasons out.

use serde::Serialize;

/// Why a face (or a whole input) is not good enough to compare. `code()` is public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityIssue {
    NoFace,
    SeveralFaces,
    FaceTooSmall,
    TooBlurred,
    TooDark,
    FaceCut,
}

impl QualityIssue {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoFace => "no_face",
            Self::SeveralFaces => "several_faces",
            Self::FaceTooSmall => "face_too_small",
            Self::TooBlurred => "too_blurred",
            Self::TooDark => "too_dark",
            Self::FaceCut => "face_cut",
        }
    }
}

/// Limits below (or above) which a face is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityThresholds {
    /// Smallest accepted inter-ocular distance, in source pixels. 112×112 alignment puts the
    /// eyes 35 px apart; below ~20 px the crop is upsampled more than 1.7× and loses detail.
    pub min_eye_distance_px: f32,
    /// Smallest accepted variance of the Laplacian of the aligned 112×112 grey crop.
    pub min_sharpness: f32,
    /// Smallest accepted mean luma (0–255) of the aligned crop.
    pub min_brightness: f32,
    /// Largest accepted fraction of the face box outside the frame.
    pub max_outside_fraction: f32,
}

impl Default for QualityThresholds {
    fn default() -> Self {
        Self { min_eye_distance_px: 20.0, min_sharpness: 15.0, min_brightness: 40.0, max_outside_fraction: 0.10 }
    }
}

/// What was measured on one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FaceQuality {
    pub eye_distance_px: f32,
    pub sharpness: f32,
    pub brightness: f32,
    pub outside_fraction: f32,
}

impl FaceQuality {
    /// Every gate this face fails, in a fixed order.
    pub fn issues(&self, limits: &QualityThresholds) -> Vec<QualityIssue> {
        let mut issues = Vec::new();
        if self.eye_distance_px < limits.min_eye_distance_px {
            issues.push(QualityIssue::FaceTooSmall);
        }
        if self.sharpness < limits.min_sharpness {
            issues.push(QualityIssue::TooBlurred);
        }
        if self.brightness < limits.min_brightness {
            issues.push(QualityIssue::TooDark);
        }
        if self.outside_fraction > limits.max_outside_fraction {
            issues.push(QualityIssue::FaceCut);
        }
        issues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> FaceQuality {
        FaceQuality { eye_distance_px: 60.0, sharpness: 200.0, brightness: 120.0, outside_fraction: 0.0 }
    }

    #[test]
    fn a_good_face_passes_every_gate() {
        assert!(good().issues(&QualityThresholds::default()).is_empty());
    }

    #[test]
    fn each_gate_names_its_reason() {
        let limits = QualityThresholds::default();
        let cases = [
            (FaceQuality { eye_distance_px: 5.0, ..good() }, QualityIssue::FaceTooSmall),
            (FaceQuality { sharpness: 1.0, ..good() }, QualityIssue::TooBlurred),
            (FaceQuality { brightness: 10.0, ..good() }, QualityIssue::TooDark),
            (FaceQuality { outside_fraction: 0.4, ..good() }, QualityIssue::FaceCut),
        ];
        for (quality, issue) in cases {
            assert_eq!(quality.issues(&limits), vec![issue]);
        }
    }
}
