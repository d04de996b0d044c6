//! Stills from a selfie video at given times, for a reviewer's eyes: the decoded frame
//! nearest each time, scaled to at most `MAX_WIDTH` pixels wide, as JPEG. Nothing is kept.

use std::path::Path;

use opencv::core::{Mat, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use super::decode::{Media, Sampling, load};
use super::media::{MediaError, MediaLimits};

pub const MAX_WIDTH: i32 = 480;

/// The frame nearest each of `at_ms` (in that order), as JPEG. A still image gives itself
/// for every time.
pub fn stills(path: &Path, limits: &MediaLimits, at_ms: &[f64]) -> Result<Vec<Vec<u8>>, MediaError> {
    let mut nearest: Vec<Option<(f64, Mat)>> = vec![None; at_ms.len()];
    match load(path, limits, Sampling::Every)? {
        Media::Image { bgr, .. } => {
            for slot in &mut nearest {
                *slot = Some((0.0, bgr.clone()));
            }
        }
        Media::Video(stream) => {
            for frame in stream.frames() {
                for (slot, target) in nearest.iter_mut().zip(at_ms) {
                    let distance = (frame.timestamp_ms - target).abs();
                    if slot.as_ref().is_none_or(|(best, _)| distance < *best) {
                        *slot = Some((distance, frame.bgr.clone()));
                    }
                }
            }
            stream.finish()?;
        }
    }
    nearest.into_iter().map(|slot| slot.ok_or(MediaError::NoFrames).and_then(|(_, bgr)| jpeg(&bgr))).collect()
}

fn jpeg(bgr: &Mat) -> Result<Vec<u8>, MediaError> {
    let (width, height) = (bgr.cols(), bgr.rows());
    let scaled = if width > MAX_WIDTH {
        let h = (i64::from(height) * i64::from(MAX_WIDTH) / i64::from(width.max(1))) as i32;
        let mut out = Mat::default();
        imgproc::resize(bgr, &mut out, Size::new(MAX_WIDTH, h.max(1)), 0.0, 0.0, imgproc::INTER_AREA)
            .map_err(|_| MediaError::Undecodable)?;
        out
    } else {
        bgr.clone()
    };
    let mut buf = Vector::<u8>::new();
    let params = Vector::<i32>::from_slice(&[imgcodecs::IMWRITE_JPEG_QUALITY, 85]);
    imgcodecs::imencode(".jpg", &scaled, &mut buf, &params).map_err(|_| MediaError::Undecodable)?;
    Ok(buf.to_vec())
}
