//! The cheap look at the eyes: small grey patches at a mesh's positions, and how far two sets
//! of them differ. Biometric: never logged.

use opencv::core::{Mat, Rect, Size};
use opencv::imgproc;
use opencv::prelude::*;

use crate::engine::mesh::FaceMesh;

/// Mesh points around the right eye and the left eye.
const PATCH_POINTS: [[usize; 4]; 2] = [[33, 133, 159, 145], [263, 362, 386, 374]];
const PATCH_SIZE: Size = Size { width: 12, height: 6 };

/// Where the two eyes are: each region's centre, width and height, at least half as high as
/// wide and grown by a quarter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct EyeBoxes([[f32; 4]; 2]);

impl EyeBoxes {
    pub(super) fn of(mesh: &FaceMesh) -> Self {
        Self(PATCH_POINTS.map(|points| {
            let xy = points.map(|i| mesh.xy(i));
            let (x0, x1) = xy.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
            let (y0, y1) = xy.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
            let w = (x1 - x0).max(4.0) * 1.25;
            let h = (y1 - y0).max(w / 2.0) * 1.25;
            [(x0 + x1) / 2.0, (y0 + y1) / 2.0, w, h]
        }))
    }

    /// The boxes a fraction `at` (0–1) of the way from `self` to `to`: where the eyes are on a
    /// frame between two measured ones, the head's motion followed.
    pub(super) fn towards(&self, to: &Self, at: f32) -> Self {
        let mut out = self.0;
        for (o, b) in out.iter_mut().zip(to.0) {
            for (v, w) in o.iter_mut().zip(b) {
                *v += (w - *v) * at;
            }
        }
        Self(out)
    }
}

/// Grey 12×6 patches of both eyes in `boxes`.
pub(super) fn patches(bgr: &Mat, boxes: &EyeBoxes) -> Result<Vec<u8>, opencv::Error> {
    let mut out = Vec::with_capacity(PATCH_POINTS.len() * 72);
    for [cx, cy, w, h] in boxes.0 {
        let left = ((cx - w / 2.0).round() as i32).clamp(0, bgr.cols() - 1);
        let top = ((cy - h / 2.0).round() as i32).clamp(0, bgr.rows() - 1);
        let right = ((cx + w / 2.0).round() as i32).clamp(left + 1, bgr.cols());
        let bottom = ((cy + h / 2.0).round() as i32).clamp(top + 1, bgr.rows());
        // Only the region is turned grey, not the whole frame.
        let roi = Mat::roi(bgr, Rect::new(left, top, right - left, bottom - top))?;
        let mut colour = Mat::default();
        imgproc::resize(&roi, &mut colour, PATCH_SIZE, 0.0, 0.0, imgproc::INTER_AREA)?;
        let mut small = Mat::default();
        imgproc::cvt_color_def(&colour, &mut small, imgproc::COLOR_BGR2GRAY)?;
        out.extend_from_slice(small.data_bytes()?);
    }
    Ok(out)
}

/// Mean absolute difference of two patch sets, each region's mean brightness removed.
pub(super) fn patch_distance(a: &[u8], b: &[u8]) -> f32 {
    let region = (PATCH_SIZE.width * PATCH_SIZE.height) as usize;
    let mut total = 0.0f32;
    let mut count = 0usize;
    for (ra, rb) in a.chunks(region).zip(b.chunks(region)) {
        let mean = |r: &[u8]| r.iter().map(|&v| f32::from(v)).sum::<f32>() / r.len().max(1) as f32;
        let (ma, mb) = (mean(ra), mean(rb));
        total += ra.iter().zip(rb).map(|(&x, &y)| ((f32::from(x) - ma) - (f32::from(y) - mb)).abs()).sum::<f32>();
        count += ra.len().min(rb.len());
    }
    if count == 0 { 0.0 } else { total / count as f32 }
}
