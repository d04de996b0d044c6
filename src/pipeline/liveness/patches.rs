//! The cheap look at the eyes and the mouth: small grey patches at a mesh's positions, and how
//! far two sets of them differ. Biometric: never logged.

use opencv::core::{Mat, Rect, Size};
use opencv::imgproc;
use opencv::prelude::*;

use crate::engine::mesh::FaceMesh;

/// Mesh points around the right eye, the left eye and the mouth.
const PATCH_POINTS: [[usize; 4]; 3] = [[33, 133, 159, 145], [263, 362, 386, 374], [61, 291, 13, 14]];
const PATCH_SIZE: Size = Size { width: 12, height: 6 };

/// Grey 12×6 patches of both eyes and the mouth at `mesh`'s positions, each region's box at
/// least half as high as wide and grown by a quarter.
pub(super) fn patches(bgr: &Mat, mesh: &FaceMesh) -> Result<Vec<u8>, opencv::Error> {
    let mut grey = Mat::default();
    imgproc::cvt_color_def(bgr, &mut grey, imgproc::COLOR_BGR2GRAY)?;
    let mut out = Vec::with_capacity(3 * 72);
    for points in PATCH_POINTS {
        let xy: Vec<[f32; 2]> = points.iter().map(|&i| mesh.xy(i)).collect();
        let (x0, x1) = xy.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
        let (y0, y1) = xy.iter().fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
        let w = (x1 - x0).max(4.0) * 1.25;
        let h = (y1 - y0).max(w / 2.0) * 1.25;
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let left = ((cx - w / 2.0).round() as i32).clamp(0, grey.cols() - 1);
        let top = ((cy - h / 2.0).round() as i32).clamp(0, grey.rows() - 1);
        let right = ((cx + w / 2.0).round() as i32).clamp(left + 1, grey.cols());
        let bottom = ((cy + h / 2.0).round() as i32).clamp(top + 1, grey.rows());
        let roi = Mat::roi(&grey, Rect::new(left, top, right - left, bottom - top))?;
        let mut small = Mat::default();
        imgproc::resize(&roi, &mut small, PATCH_SIZE, 0.0, 0.0, imgproc::INTER_AREA)?;
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
