//! Head pose from the face mesh: `solvePnP` of six mesh points against a generic 3D face.
//!
//! Model points (arbitrary units, x to the image's right, y down, z away from the camera, the
//! nose tip at the origin): nose tip (mesh 1), chin (152), outer eye corners (33, 263) and
//! mouth corners (61, 291). The camera is the usual pinhole guess: focal length = frame
//! width, principal point at the centre, no distortion.
//!
//! Angles, in degrees: `yaw` > 0 when the subject turns to their own left (the nose moves to
//! the image's right in an unmirrored recording), `pitch` > 0 when they look up, `roll` > 0
//! when the head tilts clockwise in the image.

use opencv::calib3d;
use opencv::core::{Mat, Point3f, Vector};
use opencv::prelude::*;
use serde::Serialize;

use crate::engine::mesh::{FaceMesh, point2f};

const MODEL: [(usize, [f32; 3]); 6] = [
    (1, [0.0, 0.0, 0.0]),
    (152, [0.0, 330.0, 65.0]),
    (33, [-225.0, -170.0, 135.0]),
    (263, [225.0, -170.0, 135.0]),
    (61, [-150.0, 150.0, 125.0]),
    (291, [150.0, 150.0, 125.0]),
];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HeadPose {
    pub yaw: f32,
    pub pitch: f32,
    pub roll: f32,
}

/// The head pose of `mesh` in a `width`×`height` frame; `None` when solvePnP fails.
pub fn head_pose(mesh: &FaceMesh, width: i32, height: i32) -> Result<Option<HeadPose>, opencv::Error> {
    let object: Vector<Point3f> = MODEL.iter().map(|(_, p)| Point3f::new(p[0], p[1], p[2])).collect();
    let image: Vector<opencv::core::Point2f> = MODEL.iter().map(|(i, _)| point2f(mesh.xy(*i))).collect();
    let f = f64::from(width.max(height));
    let camera =
        Mat::from_slice_2d(&[[f, 0.0, f64::from(width) / 2.0], [0.0, f, f64::from(height) / 2.0], [0.0, 0.0, 1.0]])?;
    let distortion = Mat::zeros(4, 1, opencv::core::CV_64F)?.to_mat()?;
    let (mut rvec, mut tvec) = (Mat::default(), Mat::default());
    let solved = calib3d::solve_pnp(
        &object,
        &image,
        &camera,
        &distortion,
        &mut rvec,
        &mut tvec,
        false,
        calib3d::SOLVEPNP_ITERATIVE,
    )?;
    if !solved {
        return Ok(None);
    }
    let mut rotation = Mat::default();
    calib3d::rodrigues(&rvec, &mut rotation, &mut opencv::core::no_array())?;
    let r = |row: i32, col: i32| -> Result<f64, opencv::Error> { rotation.at_2d::<f64>(row, col).copied() };
    // Where the face looks: the model's -z axis (toward the camera) in camera coordinates.
    let (dx, dy, dz) = (-r(0, 2)?, -r(1, 2)?, -r(2, 2)?);
    let yaw = dx.atan2(-dz).to_degrees();
    let pitch = (-dy).atan2(-dz).to_degrees();
    // The model's x axis (subject's right eye to left eye) in the image.
    let roll = r(1, 0)?.atan2(r(0, 0)?).to_degrees();
    Ok(Some(HeadPose { yaw: yaw as f32, pitch: pitch as f32, roll: roll as f32 }))
}
