//! Faces as the engine sees them: boxes, landmarks, detections and embeddings.

use std::fmt;

use serde::Serialize;

/// An axis-aligned box in source-image pixels (origin top-left).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoundingBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl BoundingBox {
    pub fn area(&self) -> f32 {
        self.width.max(0.0) * self.height.max(0.0)
    }

    /// Intersection over union, 0 when either box is empty.
    pub fn iou(&self, other: &Self) -> f32 {
        let left = self.x.max(other.x);
        let top = self.y.max(other.y);
        let right = (self.x + self.width).min(other.x + other.width);
        let bottom = (self.y + self.height).min(other.y + other.height);
        let inter = (right - left).max(0.0) * (bottom - top).max(0.0);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 { 0.0 } else { inter / union }
    }

    /// Fraction of the box's area that lies outside a `width` × `height` frame.
    pub fn fraction_outside(&self, width: f32, height: f32) -> f32 {
        let area = self.area();
        if area <= 0.0 {
            return 0.0;
        }
        let frame = BoundingBox { x: 0.0, y: 0.0, width, height };
        let left = self.x.max(frame.x);
        let top = self.y.max(frame.y);
        let right = (self.x + self.width).min(width);
        let bottom = (self.y + self.height).min(height);
        let inside = (right - left).max(0.0) * (bottom - top).max(0.0);
        1.0 - inside / area
    }
}

/// The five facial landmarks in the detector's order: the subject's right eye, left eye,
/// nose tip, right mouth corner, left mouth corner (image coordinates, pixels).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Landmarks(pub [[f32; 2]; 5]);

/// One face found by the detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detection {
    pub bbox: BoundingBox,
    pub landmarks: Landmarks,
    /// Detector confidence in [0, 1].
    pub score: f32,
}

/// An L2-normalised face embedding. Biometric data: `Debug` shows only its length.
#[derive(Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

/// Why a raw model output is not a usable embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddingError {
    #[error("embedding is empty")]
    Empty,
    #[error("embedding has a zero or non-finite norm")]
    Degenerate,
}

impl Embedding {
    /// L2-normalises a raw feature vector.
    pub fn from_raw(mut raw: Vec<f32>) -> Result<Self, EmbeddingError> {
        if raw.is_empty() {
            return Err(EmbeddingError::Empty);
        }
        let norm = raw.iter().map(|v| v * v).sum::<f32>().sqrt();
        if !norm.is_finite() || norm <= f32::EPSILON {
            return Err(EmbeddingError::Degenerate);
        }
        raw.iter_mut().for_each(|v| *v /= norm);
        Ok(Self(raw))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Cosine similarity in [-1, 1]; both sides are unit vectors, so it is the dot product.
    pub fn cosine(&self, other: &Self) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum::<f32>().clamp(-1.0, 1.0)
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
}

impl fmt::Debug for Embedding {
    // Biometric: never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Embedding({}-d, ***)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iou_of_identical_boxes_is_one_and_of_disjoint_is_zero() {
        let a = BoundingBox { x: 0.0, y: 0.0, width: 10.0, height: 10.0 };
        let b = BoundingBox { x: 20.0, ..a };
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        assert_eq!(a.iou(&b), 0.0);
    }

    #[test]
    fn box_half_outside_the_frame() {
        let a = BoundingBox { x: -5.0, y: 0.0, width: 10.0, height: 10.0 };
        assert!((a.fraction_outside(100.0, 100.0) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn zero_vector_is_not_an_embedding() {
        assert_eq!(Embedding::from_raw(vec![0.0; 4]), Err(EmbeddingError::Degenerate));
        assert_eq!(Embedding::from_raw(vec![]), Err(EmbeddingError::Empty));
    }

    #[test]
    fn debug_never_shows_values() {
        let e = Embedding::from_raw(vec![0.25, 0.5]).unwrap();
        assert_eq!(format!("{e:?}"), "Embedding(2-d, ***)");
    }

    proptest! {
        #[test]
        fn cosine_is_symmetric_bounded_and_one_with_itself(
            a in prop::collection::vec(-100.0f32..100.0, 8),
            b in prop::collection::vec(-100.0f32..100.0, 8),
        ) {
            if let (Ok(a), Ok(b)) = (Embedding::from_raw(a), Embedding::from_raw(b)) {
                prop_assert!((a.cosine(&b) - b.cosine(&a)).abs() < 1e-5);
                prop_assert!((-1.0..=1.0).contains(&a.cosine(&b)));
                prop_assert!((a.cosine(&a) - 1.0).abs() < 1e-4);
            }
        }
    }
}
