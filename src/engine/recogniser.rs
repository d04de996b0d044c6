//! SFace recogniser: aligned 112×112 BGR crop in, L2-normalised 128-d embedding out.

use std::time::Instant;

use opencv::core::Mat;
use opencv::prelude::*;
use ort::value::TensorRef;

use super::align::ALIGNED_SIDE;
use super::runtime::ModelSession;
use super::{EngineError, StageTimes};
use crate::domain::face::Embedding;

pub struct Recogniser {
    session: ModelSession,
}

impl Recogniser {
    pub fn new(session: ModelSession) -> Self {
        Self { session }
    }

    /// Creates the session now (see `Engine::preload`).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.session.preload()
    }

    /// Embeds an aligned crop. The model wants NCHW RGB in raw 0–255 (it normalises itself).
    pub fn embed(&self, aligned_bgr: &Mat, times: &mut StageTimes) -> Result<Embedding, EngineError> {
        let side = ALIGNED_SIDE as usize;
        let plane = side * side;
        let bytes = aligned_bgr.data_bytes().map_err(EngineError::OpenCv)?;
        if bytes.len() != plane * 3 {
            return Err(EngineError::UnexpectedOutput("aligned crop is not 112x112 BGR"));
        }
        let mut input = vec![0f32; 3 * plane];
        for (i, px) in bytes.chunks_exact(3).enumerate() {
            // BGR -> RGB planes.
            for (c, &value) in px.iter().rev().enumerate() {
                if let Some(slot) = input.get_mut(c * plane + i) {
                    *slot = f32::from(value);
                }
            }
        }
        let started = Instant::now();
        let mut session = self.session.lock()?;
        let tensor =
            TensorRef::from_array_view(([1usize, 3, side, side], input.as_slice())).map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let spent = started.elapsed();
        times.inference += spent;
        crate::engine::runtime::note_inference("face_recogniser", spent);
        let value = outputs.get("fc1").ok_or(EngineError::UnexpectedOutput("sface output fc1 missing"))?;
        let (_, raw) = value.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        Embedding::from_raw(raw.to_vec())
            .map_err(|_| EngineError::UnexpectedOutput("sface returned a degenerate embedding"))
    }
}
