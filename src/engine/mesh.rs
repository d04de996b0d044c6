//! MediaPipe face mesh (478 points with irises) and its blendshape model.
//!
//! Crop (`../shared/models/SOURCES.md`): a square of 1.5 × the detector box's longer side
//! around the box centre, rotated so the eyes are level, resized to 256×256, RGB 0–1 NHWC.
//! The 478 (x, y, z) come back in crop pixels and are mapped back to the frame with the
//! inverse of the crop transform (z is scaled like x and y). The blendshape model takes the
//! (x, y) of 146 listed points and returns 52 ARKit scores.

use std::time::Instant;

use opencv::core::{BORDER_CONSTANT, Mat, Point2f, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;
use ort::value::TensorRef;

use super::runtime::ModelSession;
use super::{EngineError, StageTimes};
use crate::domain::face::Detection;

const SIDE: i32 = 256;
const ROI_SCALE: f32 = 1.5;
pub const MESH_POINTS: usize = 478;

/// The mesh points the blendshape model reads, in its input order.
const BLENDSHAPE_POINTS: [usize; 146] = [
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
    81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136, 144, 145, 146, 148, 149, 150, 152, 153,
    154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251,
    263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318,
    321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382, 384, 385, 386,
    387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
];

/// ARKit blendshape indices used by the liveness checks (subject's left and right).
pub mod shape {
    pub const EYE_BLINK_LEFT: usize = 9;
    pub const EYE_BLINK_RIGHT: usize = 10;
    pub const JAW_OPEN: usize = 25;
    pub const MOUTH_SMILE_LEFT: usize = 44;
    pub const MOUTH_SMILE_RIGHT: usize = 45;
}

/// One face's mesh in frame pixels. Biometric: `Debug` shows only the presence score.
#[derive(Clone)]
pub struct FaceMesh {
    pub points: Vec<[f32; 3]>,
    /// Face presence in [0, 1] (sigmoid of the model's logit).
    pub presence: f32,
}

impl std::fmt::Debug for FaceMesh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceMesh").field("presence", &self.presence).finish_non_exhaustive()
    }
}

impl FaceMesh {
    pub fn point(&self, index: usize) -> [f32; 3] {
        self.points.get(index).copied().unwrap_or([0.0; 3])
    }

    pub fn xy(&self, index: usize) -> [f32; 2] {
        let [x, y, _] = self.point(index);
        [x, y]
    }
}

pub struct MeshModels {
    mesh: ModelSession,
    blendshapes: ModelSession,
}

/// The crop's forward transform (frame → crop) as a 2×3 matrix, and its inverse.
fn crop_transform(face: &Detection) -> ([[f64; 3]; 2], [[f64; 3]; 2]) {
    let b = face.bbox;
    let (cx, cy) = (f64::from(b.x + b.width / 2.0), f64::from(b.y + b.height / 2.0));
    let side = f64::from(b.width.max(b.height) * ROI_SCALE).max(1.0);
    let [right_eye, left_eye, ..] = face.landmarks.0;
    let angle = f64::from(left_eye[1] - right_eye[1]).atan2(f64::from(left_eye[0] - right_eye[0]));
    let scale = f64::from(SIDE) / side;
    let (cos, sin) = (angle.cos() * scale, angle.sin() * scale);
    let half = f64::from(SIDE) / 2.0;
    // Rotate by -angle around the centre, scale, move the centre to the crop's middle.
    let forward = [[cos, sin, half - cos * cx - sin * cy], [-sin, cos, half + sin * cx - cos * cy]];
    let inv_scale = 1.0 / scale;
    let (ic, is) = (angle.cos() * inv_scale, angle.sin() * inv_scale);
    let inverse = [[ic, -is, cx - ic * half + is * half], [is, ic, cy - is * half - ic * half]];
    (forward, inverse)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl MeshModels {
    pub fn new(mesh: ModelSession, blendshapes: ModelSession) -> Self {
        Self { mesh, blendshapes }
    }

    /// Creates both sessions now (see `Engine::preload`).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.mesh.preload()?;
        self.blendshapes.preload()
    }

    /// The mesh of the face the detector found in a BGR frame.
    pub fn mesh(&self, bgr: &Mat, face: &Detection, times: &mut StageTimes) -> Result<FaceMesh, EngineError> {
        let (forward, inverse) = crop_transform(face);
        let input = square_crop_nhwc(bgr, forward, SIDE)?;
        let started = Instant::now();
        let mut session = self.mesh.lock()?;
        let side = SIDE as usize;
        let tensor =
            TensorRef::from_array_view(([1usize, side, side, 3], input.as_slice())).map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let raw = outputs.get("Identity").ok_or(EngineError::UnexpectedOutput("mesh output Identity missing"))?;
        let (_, raw) = raw.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        let logit = outputs.get("Identity_1").ok_or(EngineError::UnexpectedOutput("mesh output Identity_1 missing"))?;
        let (_, logit) = logit.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        let spent = started.elapsed();
        times.inference += spent;
        crate::engine::runtime::note_inference("face_mesh", spent);
        if raw.len() != MESH_POINTS * 3 {
            return Err(EngineError::UnexpectedOutput("mesh output is not 478 x 3"));
        }
        let z_scale = (inverse[0][0].powi(2) + inverse[1][0].powi(2)).sqrt();
        let points = raw
            .chunks_exact(3)
            .map(|p| {
                let &[x, y, z] = p else { return [0.0; 3] };
                let (x, y, z) = (f64::from(x), f64::from(y), f64::from(z));
                let fx = inverse[0][0] * x + inverse[0][1] * y + inverse[0][2];
                let fy = inverse[1][0] * x + inverse[1][1] * y + inverse[1][2];
                [fx as f32, fy as f32, (z * z_scale) as f32]
            })
            .collect();
        Ok(FaceMesh { points, presence: sigmoid(logit.first().copied().unwrap_or(f32::NEG_INFINITY)) })
    }

    /// The 52 ARKit blendshape scores of a mesh.
    pub fn blendshapes(&self, mesh: &FaceMesh, times: &mut StageTimes) -> Result<Vec<f32>, EngineError> {
        let input: Vec<f32> = BLENDSHAPE_POINTS.iter().flat_map(|&i| mesh.xy(i)).collect();
        let started = Instant::now();
        let mut session = self.blendshapes.lock()?;
        let tensor = TensorRef::from_array_view(([1usize, BLENDSHAPE_POINTS.len(), 2], input.as_slice()))
            .map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let value = outputs
            .get("StatefulPartitionedCall:0")
            .ok_or(EngineError::UnexpectedOutput("blendshape output missing"))?;
        let (_, scores) = value.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        let spent = started.elapsed();
        times.inference += spent;
        crate::engine::runtime::note_inference("blendshapes", spent);
        if scores.len() != 52 {
            return Err(EngineError::UnexpectedOutput("blendshape output is not 52 scores"));
        }
        Ok(scores.to_vec())
    }

    /// Runs both models on the closed-form input of `scripts/convert_tflite.py` and returns
    /// the first outputs, to compare with the record in `models/manifest.toml`.
    pub fn closed_form_outputs(&self) -> Result<(Vec<f32>, f32, Vec<f32>), EngineError> {
        let side = SIDE as usize;
        let image: Vec<f32> = (0..side)
            .flat_map(|y| (0..side).flat_map(move |x| (0..3).map(move |c| ((7 * y + 13 * x + 29 * c) % 256) as f32)))
            .map(|v| v / 255.0)
            .collect();
        let mut session = self.mesh.lock()?;
        let tensor =
            TensorRef::from_array_view(([1usize, side, side, 3], image.as_slice())).map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let missing = EngineError::UnexpectedOutput("mesh output missing");
        let (_, mesh) =
            outputs.get("Identity").ok_or(missing)?.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        let missing = EngineError::UnexpectedOutput("mesh output missing");
        let (_, logit) =
            outputs.get("Identity_1").ok_or(missing)?.try_extract_tensor::<f32>().map_err(EngineError::Inference)?;
        let mesh_first = mesh.iter().take(6).copied().collect();
        let logit = logit.first().copied().unwrap_or_default();
        drop(outputs);
        drop(session);
        let points: Vec<f32> =
            (0..BLENDSHAPE_POINTS.len()).flat_map(|i| [((37 * i) % 256) as f32, ((91 * i) % 256) as f32]).collect();
        let mut session = self.blendshapes.lock()?;
        let tensor = TensorRef::from_array_view(([1usize, BLENDSHAPE_POINTS.len(), 2], points.as_slice()))
            .map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let missing = EngineError::UnexpectedOutput("blendshape output missing");
        let (_, shapes) = outputs
            .get("StatefulPartitionedCall:0")
            .ok_or(missing)?
            .try_extract_tensor::<f32>()
            .map_err(EngineError::Inference)?;
        Ok((mesh_first, logit, shapes.iter().take(6).copied().collect()))
    }
}

/// The `side`×`side` crop that the 2×3 `transform` maps `bgr` to (black outside the frame),
/// as NHWC RGB floats in [0, 1]: the input of the TFLite-born models.
pub fn square_crop_nhwc(bgr: &Mat, transform: [[f64; 3]; 2], side: i32) -> Result<Vec<f32>, EngineError> {
    let matrix = Mat::from_slice_2d(&transform).map_err(EngineError::OpenCv)?;
    let mut crop = Mat::default();
    imgproc::warp_affine(
        bgr,
        &mut crop,
        &matrix,
        Size::new(side, side),
        imgproc::INTER_LINEAR,
        BORDER_CONSTANT,
        Scalar::all(0.0),
    )
    .map_err(EngineError::OpenCv)?;
    nhwc_rgb_unit(&crop)
}

/// A BGR 8-bit crop as NHWC RGB floats in [0, 1].
fn nhwc_rgb_unit(crop: &Mat) -> Result<Vec<f32>, EngineError> {
    let bytes = crop.data_bytes().map_err(EngineError::OpenCv)?;
    let mut input = Vec::with_capacity(bytes.len());
    for px in bytes.chunks_exact(3) {
        input.extend(px.iter().rev().map(|&v| f32::from(v) / 255.0));
    }
    Ok(input)
}

/// A point as OpenCV wants it.
pub fn point2f(p: [f32; 2]) -> Point2f {
    Point2f::new(p[0], p[1])
}
