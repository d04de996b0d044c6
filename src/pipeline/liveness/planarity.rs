//! 3D structure: a real head turning moves its landmarks in a way no single plane can
//! explain; a photo or a screen held up to the camera moves as a plane, so one homography
//! maps its landmarks from any frame to any other.
//!
//! Between the two single-face frames whose yaw differs most (and at least `min_yaw_spread`),
//! a least-squares homography is fitted to rigid mesh points (brow, eye corners, nose,
//! cheeks, temples, chin; not the mouth or eyelids, which move on their own). The residual is
//! the RMS distance between the mapped and the observed points, divided by the distance
//! between the outer eye corners. Below `planar_below` the motion is planar: a presentation
//! attack signal. With too little head motion the signal is not measured.

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
    pub min_yaw_spread: f32,
    pub planar_below: f32,
}

impl Default for PlanarityThresholds {
    fn default() -> Self {
        Self { min_yaw_spread: 12.0, planar_below: 0.02 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Planarity {
    /// False when the head did not turn enough to tell.
    pub measured: bool,
    /// RMS homography residual over the inter-ocular distance.
    pub residual: Option<f32>,
    pub yaw_spread: Option<f32>,
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

pub fn assess(frames: &[Observation], t: &PlanarityThresholds) -> Result<Planarity, opencv::Error> {
    let posed: Vec<(usize, &FaceTrack, f32)> = frames
        .iter()
        .filter_map(|o| {
            let f = o.face.as_ref()?;
            let yaw = f.pose.filter(|p| p.roll.abs() <= 90.0 && p.yaw.abs() <= 90.0)?.yaw;
            Some((o.frame_index, f, yaw))
        })
        .collect();
    let min = posed.iter().min_by(|a, b| a.2.total_cmp(&b.2));
    let max = posed.iter().max_by(|a, b| a.2.total_cmp(&b.2));
    let unmeasured =
        |spread| Planarity { measured: false, residual: None, yaw_spread: spread, frames: None, planar: false };
    let (Some(lo), Some(hi)) = (min, max) else { return Ok(unmeasured(None)) };
    let spread = hi.2 - lo.2;
    if spread < t.min_yaw_spread {
        return Ok(unmeasured(Some(spread)));
    }
    let scale = (eye_distance(lo.1) + eye_distance(hi.1)) / 2.0;
    let residual = homography_residual(&points(lo.1), &points(hi.1), scale)?;
    Ok(Planarity {
        measured: residual.is_some(),
        residual,
        yaw_spread: Some(spread),
        frames: Some((lo.0.min(hi.0), lo.0.max(hi.0))),
        planar: residual.is_some_and(|r| r < t.planar_below),
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
