//! Measuring a detected face: size, sharpness, brightness and how much is outside the frame.

use opencv::core::{Mat, Vector};
use opencv::{core, imgproc};

use crate::domain::face::Detection;
use crate::domain::quality::FaceQuality;

/// Measures `face` given its aligned 112×112 crop and the frame size it was found in.
/// Sharpness and brightness are taken on the aligned crop, so they do not depend on the
/// source resolution.
pub fn measure(
    face: &Detection,
    aligned_bgr: &Mat,
    frame_width: i32,
    frame_height: i32,
) -> Result<FaceQuality, opencv::Error> {
    let mut grey = Mat::default();
    imgproc::cvt_color(aligned_bgr, &mut grey, imgproc::COLOR_BGR2GRAY, 0)?;
    let brightness = core::mean(&grey, &core::no_array())?.0[0] as f32;
    let mut laplacian = Mat::default();
    imgproc::laplacian(&grey, &mut laplacian, core::CV_64F, 1, 1.0, 0.0, core::BORDER_DEFAULT)?;
    let (mut mean, mut stddev) = (Vector::<f64>::new(), Vector::<f64>::new());
    core::mean_std_dev(&laplacian, &mut mean, &mut stddev, &core::no_array())?;
    let sd = stddev.get(0).unwrap_or(0.0);
    let [right_eye, left_eye, ..] = face.landmarks.0;
    let eye_distance_px = (right_eye[0] - left_eye[0]).hypot(right_eye[1] - left_eye[1]);
    Ok(FaceQuality {
        eye_distance_px,
        sharpness: (sd * sd) as f32,
        brightness,
        outside_fraction: face.bbox.fraction_outside(frame_width as f32, frame_height as f32),
    })
}
