//! BGR pixels to the PP-OCR input layout: NCHW f32, (x/255 − 0.5)/0.5.

use opencv::core::Mat;
use opencv::prelude::*;

use crate::engine::EngineError;

/// Writes `bgr` (8-bit, 3 channels) into `out`, a [3, height, stride] plane set, at the
/// top-left, normalised to [−1, 1]. Pixels right of the image keep their value (0).
pub fn write_normalised(bgr: &Mat, out: &mut [f32], height: usize, stride: usize) -> Result<(), EngineError> {
    let owned;
    let continuous = if bgr.is_continuous() {
        bgr
    } else {
        owned = bgr.try_clone().map_err(EngineError::OpenCv)?;
        &owned
    };
    let width = usize::try_from(continuous.cols()).unwrap_or(0);
    let bytes = continuous.data_bytes().map_err(EngineError::OpenCv)?;
    let plane = height * stride;
    for (y, row) in bytes.chunks_exact(width * 3).take(height).enumerate() {
        for (x, px) in row.chunks_exact(3).take(stride).enumerate() {
            for (c, &value) in px.iter().enumerate() {
                if let Some(slot) = out.get_mut(c * plane + y * stride + x) {
                    *slot = (f32::from(value) / 255.0 - 0.5) / 0.5;
                }
            }
        }
    }
    Ok(())
}
