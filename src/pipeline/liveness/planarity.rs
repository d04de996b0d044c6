//! 3D structure: a real head turning moves its landmarks in a way no single plane can
//! explain; a photo or a screen held up to the camera moves as a plane, so one homography
//! maps its landmarks from any frame to any other, however it is turned (perspective
//! foreshortening of a plane is a homography, not parallax).
//!
//! Between the first single-face frame and each later grid frame, rigid mesh points (brow, eye
//! corners, nose, cheeks, temples, chin; not the mouth or eyelids) are compared:
//! - an affine map fitted to them tells how much the face was squeezed sideways (1 − smaller /
//!   larger singular value): a turn squeezes the outline. Below `min_squeeze` on every frame
//!   the face did not turn enough to tell (`measured: false`);
//! - on the most squeezed tenth of the frames (at least three), the RMS residual of the
//!   best homography over the eye distance is the face's `parallax` (its median);
//! - the landmark noise is measured on the same clip: the homography residual between
//!   consecutive grid frames, whose lower quartile is the jitter of a face that barely moved.
//!
//! The motion is planar when the parallax does not stand out from what a plane leaves: under
//! `parallax_floor` (the mesh's own bias on a warped face: it places a flat face's landmarks a
//! little as if the face were a head) and under `noise_ratio` times the noise (a noisy mesh
//! raises every residual). On generated print attacks (benches/planarity.rs: 18 photos on a
//! card held, wobbled and turned ±30° in front of a pinhole camera, 720p VP8) a turned print
//! leaves 0.009–0.023 of the eye distance (noise 0.004–0.010); the real Carphone clips leave
//! 0.028 and more.
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
    pub parallax_floor: f32,
    pub noise_ratio: f32,
}

impl Default for PlanarityThresholds {
    fn default() -> Self {
        Self { min_squeeze: 0.05, parallax_floor: 0.025, noise_ratio: 2.5 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Planarity {
    /// False when the face did not turn enough to tell.
    pub measured: bool,
    /// Anisotropy of the most squeezed frame's affine map.
    pub squeeze: Option<f32>,
    /// What no plane explains: the median RMS homography residual over the eye distance, on the
    /// most squeezed frames.
    pub parallax: Option<f32>,
    /// The landmark jitter: the lower quartile of consecutive frames' homography residual.
    pub noise: Option<f32>,
    /// `parallax` over `noise`.
    pub ratio: Option<f32>,
    /// The first frame and the most squeezed one.
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

fn median(mut values: Vec<f32>) -> Option<f32> {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied()
}

/// The lower quartile of `values`.
fn lower_quartile(mut values: Vec<f32>) -> Option<f32> {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 4).copied()
}

pub fn assess(frames: &[Observation], t: &PlanarityThresholds) -> Result<Planarity, opencv::Error> {
    let faces: Vec<(usize, &FaceTrack)> =
        frames.iter().filter_map(|o| Some((o.frame_index, o.face.as_ref()?))).collect();
    let unmeasured = |squeeze| Planarity {
        measured: false,
        squeeze,
        parallax: None,
        noise: None,
        ratio: None,
        frames: None,
        planar: false,
    };
    let Some(&(first_index, first)) = faces.first() else { return Ok(unmeasured(None)) };
    let reference = points(first);
    // Every later frame against the first: (index, squeeze, homography residual).
    let mut turned: Vec<(usize, f32, f32)> = Vec::new();
    for &(index, face) in faces.iter().skip(1) {
        let scale = (eye_distance(first) + eye_distance(face)) / 2.0;
        let current = points(face);
        let Some((_, squeeze)) = affine_fit(&reference, &current, scale) else { continue };
        if let Some(residual) = homography_residual(&reference, &current, scale)? {
            turned.push((index, squeeze, residual));
        }
    }
    turned.sort_by(|a, b| b.1.total_cmp(&a.1));
    let Some(&(most_index, most, _)) = turned.first() else { return Ok(unmeasured(None)) };
    if most < t.min_squeeze {
        return Ok(unmeasured(Some(most)));
    }
    let top = turned.len().div_ceil(10).max(3);
    let parallax = median(turned.iter().take(top).map(|f| f.2).collect());
    let mut steps = Vec::new();
    for pair in faces.windows(2) {
        if let [(_, a), (_, b)] = pair {
            let scale = (eye_distance(a) + eye_distance(b)) / 2.0;
            steps.extend(homography_residual(&points(a), &points(b), scale)?);
        }
    }
    let noise = lower_quartile(steps);
    let ratio = parallax.zip(noise).map(|(p, n)| p / n.max(1e-4));
    let explained = t.parallax_floor.max(t.noise_ratio * noise.unwrap_or_default());
    let planar = parallax.is_some_and(|p| p < explained);
    Ok(Planarity {
        measured: true,
        squeeze: Some(most),
        parallax,
        noise,
        ratio,
        frames: Some((first_index, most_index)),
        planar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::face::BoundingBox;
    use crate::engine::mesh::FaceMesh;

    /// 478 points on a face-sized surface (mm, x right, y down, z away from the camera): the eye
    /// corners where the mesh has them, the rest on a grid. `depth` gives each point's z.
    fn surface(depth: impl Fn(f32, f32) -> f32) -> Vec<[f32; 3]> {
        (0..478)
            .map(|i| {
                let (x, y) = match i {
                    33 => (-45.0, -15.0),
                    263 => (45.0, -15.0),
                    133 => (-15.0, -15.0),
                    362 => (15.0, -15.0),
                    _ => ((i % 22) as f32 * 6.0 - 63.0, (i / 22) as f32 * 7.0 - 75.0),
                };
                [x, y, depth(x, y)]
            })
            .collect()
    }

    /// Frames of `points` turned about the vertical axis from 0 to `degrees` in front of a
    /// pinhole camera (f = 1000 px, 450 mm away), with landmark noise of `noise` px.
    fn turned(points: &[[f32; 3]], degrees: f32, noise: f32) -> Vec<Observation> {
        let mut seed = 7u64;
        let mut jitter = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 2.0 * noise
        };
        (0..30)
            .map(|k| {
                let a = (degrees * k as f32 / 29.0).to_radians();
                let mesh: Vec<[f32; 3]> = points
                    .iter()
                    .map(|&[x, y, z]| {
                        let (x, z) = (x * a.cos() + z * a.sin(), -x * a.sin() + z * a.cos() + 450.0);
                        [640.0 + 1000.0 * x / z + jitter(), 360.0 + 1000.0 * y / z + jitter(), 0.0]
                    })
                    .collect();
                let face = FaceTrack {
                    bbox: BoundingBox { x: 500.0, y: 200.0, width: 280.0, height: 320.0 },
                    mesh: FaceMesh { points: mesh, presence: 1.0 },
                    pose: None,
                    blink_left: 0.0,
                    blink_right: 0.0,
                    smile: 0.0,
                    jaw_open: 0.0,
                    analysed: None,
                    spoof: None,
                };
                Observation {
                    frame_index: k,
                    timestamp_ms: k as f64 * 100.0,
                    faces: 1,
                    face: Some(face),
                    detected: true,
                    dhash: 0,
                    matched: false,
                }
            })
            .collect()
    }

    #[test]
    fn a_turned_card_is_planar_and_a_turned_head_is_not() {
        let t = PlanarityThresholds::default();
        let card = surface(|_, _| 0.0);
        // A head: the nose 35 mm forward of the cheeks, the sides curving back.
        let head = surface(|x, y| -35.0 * (-(x * x + y * y) / (2.0 * 20.0 * 20.0)).exp() + 0.006 * x * x);
        let flat = assess(&turned(&card, 30.0, 0.7), &t).unwrap();
        assert!(flat.measured && flat.planar, "{flat:?}");
        let real = assess(&turned(&head, 20.0, 0.7), &t).unwrap();
        assert!(real.measured && !real.planar, "{real:?}");
        // Held still: nothing to tell.
        let still = assess(&turned(&card, 0.0, 0.7), &t).unwrap();
        assert!(!still.measured && !still.planar, "{still:?}");
    }

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
