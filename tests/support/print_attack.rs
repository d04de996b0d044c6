//! Honest presentation-attack material, shared by tests/api/liveness.rs and
//! benches/liveness.rs (included by `#[path]`): a hand-held print of a real photo, i.e. the
//! photo on a plane that turns about its vertical axis (±25°) and drifts, seen by a pinhole
//! camera; 4 s at 15 fps, VP8 WebM, written to `out`.

use std::path::{Path, PathBuf};
use std::process::Command;

use opencv::core::{Mat, Point2f, Scalar, Size, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

pub fn print_attack(photo: &Path, out: &Path) -> PathBuf {
    let image = imgcodecs::imread(photo.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let (w, h) = (image.cols() as f32, image.rows() as f32);
    let frames = out.with_extension("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for i in 0..60 {
        let t = i as f32 / 60.0;
        let angle = (25.0f32 * (t * std::f32::consts::TAU).sin()).to_radians();
        let drift = 20.0 * (t * std::f32::consts::PI).sin();
        let scale = 300.0 / w.max(h);
        let project = |x: f32, y: f32| {
            let (x, y) = ((x - w / 2.0) * scale, (y - h / 2.0) * scale);
            let z = 900.0 + x * angle.sin();
            Point2f::new(320.0 + drift + 700.0 * x * angle.cos() / z, 240.0 + 700.0 * y / z)
        };
        let corners = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
        let src: Vector<Point2f> = corners.iter().map(|&(x, y)| Point2f::new(x, y)).collect();
        let dst: Vector<Point2f> = corners.iter().map(|&(x, y)| project(x, y)).collect();
        let m = imgproc::get_perspective_transform(&src, &dst, opencv::core::DECOMP_LU).unwrap();
        let mut frame = Mat::default();
        let grey = Scalar::new(60.0, 70.0, 80.0, 0.0);
        imgproc::warp_perspective(&image, &mut frame, &m, Size::new(640, 480), imgproc::INTER_LINEAR, 0, grey).unwrap();
        imgcodecs::imwrite(frames.join(format!("{i:03}.png")).to_str().unwrap(), &frame, &Vector::new()).unwrap();
    }
    let pattern = frames.join("%03d.png");
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-framerate", "15", "-i"])
        .arg(&pattern)
        .args(["-c:v", "libvpx", "-b:v", "1M"])
        .arg(out)
        .status()
        .expect("ffmpeg is installed by scripts/setup-system.sh");
    assert!(status.success(), "ffmpeg could not encode the print attack");
    out.to_path_buf()
}
