//! 3D structure: a real head turning moves its landmarks in a way no single plane can
//! explain; a photo or a screen held up to the camera moves as a plane, so one homography
//! maps its landmarks from any frame to any other.
//!
//! Between the first single-face frame and each later one (frames where the detector ran),
//! an affine map is fitted to rigid mesh points (brow, eye corners, nose, cheeks, temples,
//! chin; not the mouth or eyelids). When a face turns, its outline is squeezed sideways: the
//! affine map's anisotropy (1 − smaller/larger singular value) grows. For the frame that is
//! most squeezed (at least `min_squeeze`), the rest of the motion is measured: the RMS
//! residual of the affine fit over the distance between the outer eye corners. A real head
//! turning shows parallax there (about 0.1 of the eye distance on the Carphone clip); a
//! print or a screen turning is squeezed like a plane and leaves only landmark noise (about
//! 0.01–0.02). Below `noise_floor` the motion is planar: a presentation-attack signal. The
//! homography residual of the same pair is reported beside it.
//!
//! Mesh noise limits this: the signal is reliable only together with the head pose and the
//! challenge (see `mod.rs`).

use opencv::calib3d;
use opencv::core::{Point2f, Vector};
use opencv::prelude::*;
use serde::Serialize;

use super::observe::{FaceTrack, Observation};
use crate::engine::mesh::point2f;

/// Mesh points that move with the skull.
const RIGID: [usize; 36] = [
    1, 4, 5, 6, 168, 197, 195, 33, 133, 263, 362, 70, 105, 107, 336, 334, 300, 234, 454, 93, 323, 132, 361, 50, 280,
    205, 425, 10, 109, 338, 151, 152, 127, 356, 162, 389,
];

#[derive(Debug, Clone, Copy)]
pub struct PlanarityThresholds {
    pub min_squeeze: f32,
    pub noise_floor: f32,
}

impl Default for PlanarityThresholds {
    fn default() -> Self {
        Self { min_squeeze: 0.05, noise_floor: 0.025 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Planarity {
    /// False when the face did not turn enough to tell.
    pub measured: bool,
    /// Anisotropy of the most squeezed frame's affine map.
    pub squeeze: Option<f32>,
    /// Non-affine motion of that frame (RMS affine residual over the eye distance).
    pub parallax: Option<f32>,
    /// RMS homography residual of the same pair over the eye distance.
    pub homography_residual: Option<f32>,
    pub frames: Option<(usize, usize)>,
    /// The landmark motion fits one plane: a print or a screen.
    pub planar: bool,
}

fn points(face: &FaceTrack) -> Vector<Point2f> {
    RIGID.iter().map(|&i| point2f(face.mesh.xy(i))).collect()
}

/// The RMS residual of the best homography from `a` to `b`, over `scale`.
pub fn homography_residual(a: &Vector<Point2f>, b: &Vector<Point2f>, scale: f32) -> Result<Option<f32>, opencv::Error> {
    let h = calib3d::find_homography(a, b, &mut opencv::core::no_array(), 0, 3.0)?;
    if h.empty() || scale <= 0.0 {
        return Ok(None);
    }
    let at = |r: i32, c: i32| h.at_2d::<f64>(r, c).copied();
    let m = [[at(0, 0)?, at(0, 1)?, at(0, 2)?], [at(1, 0)?, at(1, 1)?, at(1, 2)?], [at(2, 0)?, at(2, 1)?, at(2, 2)?]];
    let mut sum = 0.0f64;
    for (p, q) in a.iter().zip(b.iter()) {
        let (x, y) = (f64::from(p.x), f64::from(p.y));
        let w = m[2][0] * x + m[2][1] * y + m[2][2];
        if w.abs() < 1e-9 {
            return Ok(None);
        }
        let px = (m[0][0] * x + m[0][1] * y + m[0][2]) / w;
        let py = (m[1][0] * x + m[1][1] * y + m[1][2]) / w;
        sum += (px - f64::from(q.x)).powi(2) + (py - f64::from(q.y)).powi(2);
    }
    let rms = (sum / a.len().max(1) as f64).sqrt();
    Ok(Some((rms / f64::from(scale)) as f32))
}

fn eye_distance(face: &FaceTrack) -> f32 {
    let (a, b) = (face.mesh.xy(33), face.mesh.xy(263));
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// The least-squares affine map from `a` to `b`: its RMS residual over `scale`, and its
/// anisotropy (1 − smaller/larger singular value of the linear part).
pub fn affine_fit(a: &Vector<Point2f>, b: &Vector<Point2f>, scale: f32) -> Option<(f32, f32)> {
    // Normal equations: the same 3×3 matrix (sums of x², xy, x, y², y, 1) for x' and y'.
    let (mut sxx, mut sxy, mut sx, mut syy, mut sy, mut n) = (0.0f64, 0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut rx, mut ry) = ([0.0f64; 3], [0.0f64; 3]);
    for (p, q) in a.iter().zip(b.iter()) {
        let (x, y, u, v) = (f64::from(p.x), f64::from(p.y), f64::from(q.x), f64::from(q.y));
        (sxx, sxy, sx, syy, sy, n) = (sxx + x * x, sxy + x * y, sx + x, syy + y * y, sy + y, n + 1.0);
        rx = [rx[0] + x * u, rx[1] + y * u, rx[2] + u];
        ry = [ry[0] + x * v, ry[1] + y * v, ry[2] + v];
    }
    let m = [[sxx, sxy, sx], [sxy, syy, sy], [sx, sy, n]];
    let (cx, cy) = (solve3(m, rx)?, solve3(m, ry)?);
    let sum: f64 = a
        .iter()
        .zip(b.iter())
        .map(|(p, q)| {
            let (x, y) = (f64::from(p.x), f64::from(p.y));
            (cx[0] * x + cx[1] * y + cx[2] - f64::from(q.x)).powi(2)
                + (cy[0] * x + cy[1] * y + cy[2] - f64::from(q.y)).powi(2)
        })
        .sum();
    let (p, q, r, t) = (cx[0], cx[1], cy[0], cy[1]);
    let frobenius = p * p + q * q + r * r + t * t;
    let det = p * t - q * r;
    let root = (frobenius * frobenius - 4.0 * det * det).max(0.0).sqrt();
    let (large, small) = (((frobenius + root) / 2.0).sqrt(), ((frobenius - root) / 2.0).max(0.0).sqrt());
    let squeeze = if large > 0.0 { 1.0 - small / large } else { 0.0 };
    (scale > 0.0).then(|| (((sum / n.max(1.0)).sqrt() / f64::from(scale)) as f32, squeeze as f32))
}

fn det3(m: [[f64; 3]; 3]) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

/// Cramer's rule; `None` for a singular system.
fn solve3(m: [[f64; 3]; 3], r: [f64; 3]) -> Option<[f64; 3]> {
    let d = det3(m);
    if d.abs() < 1e-9 {
        return None;
    }
    let with = |c: usize| {
        let mut k = m;
        for (row, value) in k.iter_mut().zip(r) {
            if let Some(slot) = row.get_mut(c) {
                *slot = value;
            }
        }
        k
    };
    Some([det3(with(0)) / d, det3(with(1)) / d, det3(with(2)) / d])
}

pub fn assess(frames: &[Observation], t: &PlanarityThresholds) -> Result<Planarity, opencv::Error> {
    let faces: Vec<(usize, &FaceTrack)> =
        frames.iter().filter_map(|o| Some((o.frame_index, o.face.as_ref()?))).collect();
    let unmeasured = |squeeze| Planarity {
        measured: false,
        squeeze,
        parallax: None,
        homography_residual: None,
        frames: None,
        planar: false,
    };
    let Some(&(first_index, first)) = faces.first() else { return Ok(unmeasured(None)) };
    let reference = points(first);
    let most = faces
        .iter()
        .skip(1)
        .filter_map(|&(index, face)| {
            let scale = (eye_distance(first) + eye_distance(face)) / 2.0;
            let current = points(face);
            let (parallax, squeeze) = affine_fit(&reference, &current, scale)?;
            Some((index, current, scale, parallax, squeeze))
        })
        .max_by(|a, b| a.4.total_cmp(&b.4));
    let Some((index, current, scale, parallax, squeeze)) = most else { return Ok(unmeasured(None)) };
    if squeeze < t.min_squeeze {
        return Ok(unmeasured(Some(squeeze)));
    }
    Ok(Planarity {
        measured: true,
        squeeze: Some(squeeze),
        parallax: Some(parallax),
        homography_residual: homography_residual(&reference, &current, scale)?,
        frames: Some((first_index, index)),
        planar: parallax < t.noise_floor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_moved_by_a_homography_leave_no_residual_and_3d_motion_does() {
        let a: Vector<Point2f> = (0..36).map(|i| Point2f::new((i % 6) as f32 * 10.0, (i / 6) as f32 * 10.0)).collect();
        let planar: Vector<Point2f> = a
            .iter()
            .map(|p| {
                let w = 1.0 + 0.002 * p.x;
                Point2f::new((1.1 * p.x + 0.2 * p.y + 5.0) / w, (0.1 * p.x + 0.9 * p.y - 3.0) / w)
            })
            .collect();
        let r = homography_residual(&a, &planar, 50.0).unwrap().unwrap();
        assert!(r < 1e-3, "{r}");
        // A bump in the middle (depth) moves differently under rotation.
        let bumped: Vector<Point2f> = a
            .iter()
            .map(|p| {
                let depth = 20.0 * (-((p.x - 25.0).powi(2) + (p.y - 25.0).powi(2)) / 200.0).exp();
                Point2f::new(p.x + 0.4 * depth, p.y)
            })
            .collect();
        let r = homography_residual(&a, &bumped, 50.0).unwrap().unwrap();
        assert!(r > 0.02, "{r}");
    }
}
