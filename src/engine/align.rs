//! Face alignment: the similarity transform that maps the detector's 5 landmarks onto the
//! recogniser's 112×112 ArcFace template, and the warp itself.

use opencv::core::{BORDER_CONSTANT, Mat, Scalar, Size};
use opencv::imgproc;

use crate::domain::face::Landmarks;

/// Side of the aligned face crop.
pub const ALIGNED_SIDE: i32 = 112;

/// ArcFace 5-point template for 112×112 crops (insightface / OpenCV FaceRecognizerSF).
pub const TEMPLATE: [[f32; 2]; 5] =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/// Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
/// taking `from` onto `to`, as the 2×3 matrix [[a, -b, tx], [b, a, ty]]. This is Umeyama's
/// solution in 2-D, written with complex numbers: (a + ib) = Σ conj(s)·d / Σ |s|² over the
/// centred points. Returns `None` when the source points coincide.
pub fn similarity_transform(from: &[[f32; 2]; 5], to: &[[f32; 2]; 5]) -> Option<[[f64; 3]; 2]> {
    let n = from.len() as f64;
    let mean = |pts: &[[f32; 2]; 5]| {
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |(x, y), p| (x + f64::from(p[0]), y + f64::from(p[1])));
        (sx / n, sy / n)
    };
    let (msx, msy) = mean(from);
    let (mdx, mdy) = mean(to);
    let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
    for (s, d) in from.iter().zip(to) {
        let (sx, sy) = (f64::from(s[0]) - msx, f64::from(s[1]) - msy);
        let (dx, dy) = (f64::from(d[0]) - mdx, f64::from(d[1]) - mdy);
        re += sx * dx + sy * dy;
        im += sx * dy - sy * dx;
        norm += sx * sx + sy * sy;
    }
    if norm <= f64::EPSILON {
        return None;
    }
    let (a, b) = (re / norm, im / norm);
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    Some([[a, -b, tx], [b, a, ty]])
}

/// Warps the face to the 112×112 template (bilinear, black border). `None` when the
/// landmarks are degenerate.
pub fn align_face(bgr: &Mat, landmarks: &Landmarks) -> Result<Option<Mat>, opencv::Error> {
    let Some(matrix) = similarity_transform(&landmarks.0, &TEMPLATE) else { return Ok(None) };
    let matrix = Mat::from_slice_2d(&matrix)?;
    let mut aligned = Mat::default();
    imgproc::warp_affine(
        bgr,
        &mut aligned,
        &matrix,
        Size::new(ALIGNED_SIDE, ALIGNED_SIDE),
        imgproc::INTER_LINEAR,
        BORDER_CONSTANT,
        Scalar::all(0.0),
    )?;
    Ok(Some(aligned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn apply(m: &[[f64; 3]; 2], p: [f32; 2]) -> [f64; 2] {
        let (x, y) = (f64::from(p[0]), f64::from(p[1]));
        [m[0][0] * x + m[0][1] * y + m[0][2], m[1][0] * x + m[1][1] * y + m[1][2]]
    }

    #[test]
    fn template_maps_onto_itself() {
        let m = similarity_transform(&TEMPLATE, &TEMPLATE).unwrap();
        assert!((m[0][0] - 1.0).abs() < 1e-9 && m[1][0].abs() < 1e-9 && m[0][2].abs() < 1e-6);
    }

    #[test]
    fn coincident_points_have_no_transform() {
        assert!(similarity_transform(&[[3.0, 3.0]; 5], &TEMPLATE).is_none());
    }

    proptest! {
        #[test]
        fn recovers_any_exact_similarity(angle in -3.0f64..3.0, scale in 0.1f64..10.0, tx in -500.0f64..500.0, ty in -500.0f64..500.0) {
            let (c, s) = (scale * angle.cos(), scale * angle.sin());
            let moved = TEMPLATE.map(|[x, y]| {
                let (x, y) = (f64::from(x), f64::from(y));
                [(c * x - s * y + tx) as f32, (s * x + c * y + ty) as f32]
            });
            let m = similarity_transform(&moved, &TEMPLATE).unwrap();
            for (p, t) in moved.iter().zip(TEMPLATE) {
                let q = apply(&m, *p);
                prop_assert!((q[0] - f64::from(t[0])).abs() < 1e-2 && (q[1] - f64::from(t[1])).abs() < 1e-2);
            }
        }
    }
}
