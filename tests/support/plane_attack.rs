//! Print attacks made the way an attacker makes them, for tests/api/liveness.rs and
//! benches/planarity.rs (included by `#[path]`): a photo printed on a flat card in front of
//! a pinhole camera (focal length 1000 px, 1280×720, 30 fps, 4 s), written as a VP8 WebM.
//!
//! The card (the photo 160 mm wide, on a light border) is 420 mm from the camera and moves as
//! a hand moves it, by `Motion`:
//! - `Held`: held still, with a hand's tremor (±1° and ±2 mm at 3–5 Hz);
//! - `Wobbled`: rocked in its own plane (roll ±12°), shifted ±25 mm and 40 mm nearer and
//!   farther, never turned out of its plane by more than the tremor;
//! - `Turned { left_first }`: turned ±30° about its vertical axis (one way, back, the other
//!   way, back), drifting ±20 mm sideways and ±10 mm up and down, with the tremor.
//!
//! Each frame gets the camera's blur (Gaussian σ 0.8) and sensor noise (σ 3 grey levels,
//! from a fixed seed per clip). Encoded by the ffmpeg command-line tool from raw frames.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use opencv::core::{Mat, Point2f, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{core, imgcodecs, imgproc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    Held,
    Wobbled,
    Turned { left_first: bool },
}

impl Motion {
    pub fn name(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Wobbled => "wobbled",
            Self::Turned { left_first: true } => "turned_left_first",
            Self::Turned { left_first: false } => "turned_right_first",
        }
    }
}

const WIDTH: i32 = 1280;
const HEIGHT: i32 = 720;
const FPS: u32 = 30;
const SECONDS: f64 = 4.0;
const FOCAL: f64 = 1000.0;
const DISTANCE_MM: f64 = 420.0;
const PHOTO_MM: f64 = 160.0;

/// The card's pose at time `t` (s): rotation about its vertical axis (yaw), in its plane
/// (roll), tilt about its horizontal axis (pitch), all radians, and its centre in mm.
fn pose(motion: Motion, t: f64) -> ([f64; 3], [f64; 3]) {
    use std::f64::consts::TAU;
    let tremor = |hz: f64, phase: f64| (TAU * hz * t + phase).sin();
    let (mut yaw, mut roll, mut pitch) = (tremor(4.1, 0.3).to_radians(), tremor(3.3, 1.0).to_radians() * 0.7, 0.0);
    pitch += tremor(4.7, 2.0).to_radians() * 0.8;
    let mut centre = [2.0 * tremor(3.7, 0.5), 2.0 * tremor(4.3, 1.7), DISTANCE_MM];
    match motion {
        Motion::Held => {}
        Motion::Wobbled => {
            roll += (12.0 * (TAU * t / 2.0).sin()).to_radians();
            centre[0] += 25.0 * (TAU * t / 3.0).sin();
            centre[1] += 15.0 * (TAU * t / 2.5 + 1.0).sin();
            centre[2] += 40.0 * (TAU * t / 4.0).sin();
        }
        Motion::Turned { left_first } => {
            // 0 → +30° → 0 → −30° → 0 over the clip, after half a second of holding still.
            let phase = ((t - 0.5) / (SECONDS - 0.5)).clamp(0.0, 1.0);
            let sign = if left_first { 1.0 } else { -1.0 };
            yaw += sign * (30.0 * (TAU * phase).sin()).to_radians();
            centre[0] += 20.0 * (TAU * t / 3.5).sin();
            centre[1] += 10.0 * (TAU * t / 2.0 + 0.7).sin();
        }
    }
    ([yaw, roll, pitch], centre)
}

/// Where the card's point (x, y) mm (from its centre) appears in the image.
fn project(x: f64, y: f64, [yaw, roll, pitch]: [f64; 3], centre: [f64; 3]) -> Point2f {
    // In-plane rotation, then tilt about the horizontal axis, then turn about the vertical.
    let (x, y) = (x * roll.cos() - y * roll.sin(), x * roll.sin() + y * roll.cos());
    let (y, z) = (y * pitch.cos(), y * pitch.sin());
    let (x, z) = (x * yaw.cos() + z * yaw.sin(), -x * yaw.sin() + z * yaw.cos());
    let (x, y, z) = (x + centre[0], y + centre[1], z + centre[2]);
    Point2f::new((f64::from(WIDTH) / 2.0 + FOCAL * x / z) as f32, (f64::from(HEIGHT) / 2.0 + FOCAL * y / z) as f32)
}

/// Writes the attack clip of `photo` moved by `motion` to `out` (VP8 WebM).
pub fn plane_attack(photo: &Path, motion: Motion, seed: u64, out: &Path) {
    let image = imgcodecs::imread(photo.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    assert!(!image.empty(), "cannot read {}", photo.display());
    // The printed card: the photo on a light border (8% of its width).
    let pad = (image.cols() as f64 * 0.08).round() as i32;
    let mut card = Mat::default();
    let paper = Scalar::new(228.0, 232.0, 235.0, 0.0);
    core::copy_make_border(&image, &mut card, pad, pad, pad, pad, core::BORDER_CONSTANT, paper).unwrap();
    let (w, h) = (f64::from(card.cols()), f64::from(card.rows()));
    let mm = PHOTO_MM / f64::from(image.cols());
    let corners = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let src: Vector<Point2f> = corners.iter().map(|&(x, y)| Point2f::new(x as f32, y as f32)).collect();

    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24"])
        .args(["-s", &format!("{WIDTH}x{HEIGHT}"), "-r", &FPS.to_string(), "-i", "-"])
        .args(["-c:v", "libvpx", "-b:v", "2500k", "-deadline", "realtime", "-cpu-used", "8", "-threads", "1"])
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
        .expect("ffmpeg is installed by scripts/setup-system.sh");
    let mut stdin = child.stdin.take().unwrap();
    // A room behind the card: a soft vertical gradient.
    let mut background = Mat::new_rows_cols_with_default(HEIGHT, WIDTH, core::CV_8UC3, Scalar::all(0.0)).unwrap();
    for row in 0..HEIGHT {
        let v = 70.0 + 60.0 * f64::from(row) / f64::from(HEIGHT);
        imgproc::line(
            &mut background,
            core::Point::new(0, row),
            core::Point::new(WIDTH - 1, row),
            Scalar::new(v * 0.9, v, v * 1.1, 0.0),
            1,
            imgproc::LINE_8,
            0,
        )
        .unwrap();
    }
    let mut rng = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let frames = (SECONDS * f64::from(FPS)) as usize;
    for i in 0..frames {
        let t = i as f64 / f64::from(FPS);
        let (angles, centre) = pose(motion, t);
        let dst: Vector<Point2f> =
            corners.iter().map(|&(x, y)| project((x - w / 2.0) * mm, (y - h / 2.0) * mm, angles, centre)).collect();
        let m = imgproc::get_perspective_transform(&src, &dst, core::DECOMP_LU).unwrap();
        let mut frame = background.clone();
        imgproc::warp_perspective(
            &card,
            &mut frame,
            &m,
            Size::new(WIDTH, HEIGHT),
            imgproc::INTER_LINEAR,
            core::BORDER_TRANSPARENT,
            Scalar::all(0.0),
        )
        .unwrap();
        let mut blurred = Mat::default();
        imgproc::gaussian_blur_def(&frame, &mut blurred, Size::new(0, 0), 0.8).unwrap();
        let mut noise = Mat::new_rows_cols_with_default(HEIGHT, WIDTH, core::CV_16SC3, Scalar::all(0.0)).unwrap();
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        core::set_rng_seed(i32::try_from(rng >> 33).unwrap()).unwrap();
        core::randn(&mut noise, &Scalar::all(0.0), &Scalar::all(3.0)).unwrap();
        let mut noisy = Mat::default();
        core::add(&blurred, &noise, &mut noisy, &core::no_array(), core::CV_8U).unwrap();
        stdin.write_all(noisy.data_bytes().unwrap()).unwrap();
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "ffmpeg could not encode the attack clip");
}
