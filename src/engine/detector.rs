//! YuNet face detector (2023mar): letterbox to 640×640, decode the three strides, NMS.
//! Decoding follows ../shared/models/SOURCES.md and OpenCV's FaceDetectorYN.

use std::time::Instant;

use opencv::core::{Mat, Scalar, Size};
use opencv::imgproc;
use opencv::prelude::*;
use ort::value::TensorRef;

use super::runtime::ModelSession;
use super::{EngineError, StageTimes};
use crate::domain::face::{BoundingBox, Detection, Landmarks};

/// The model's fixed input side.
const INPUT_SIDE: i32 = 640;
const STRIDES: [usize; 3] = [8, 16, 32];

/// Detector options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectorSettings {
    /// Minimum face score in [0, 1]. OpenCV's default is 0.9; SOURCES.md found 0.6 works well.
    pub score_threshold: f32,
    /// IoU above which the weaker of two boxes is suppressed (0.3 as in OpenCV).
    pub nms_iou: f32,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        Self { score_threshold: 0.6, nms_iou: 0.3 }
    }
}

pub struct Detector {
    session: ModelSession,
    settings: DetectorSettings,
}

impl Detector {
    pub fn new(session: ModelSession, settings: DetectorSettings) -> Self {
        Self { session, settings }
    }

    /// Creates the session now (see `Engine::preload`).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.session.preload()
    }

    /// Every face in a BGR image, strongest first, in source-image pixels. A face that
    /// fills the whole image (a tightly cropped portrait) is often missed by YuNet, so when
    /// nothing is found the image is tried once more inside a black border of a quarter of
    /// its size on each side.
    pub fn detect(&self, bgr: &Mat, times: &mut StageTimes) -> Result<Vec<Detection>, EngineError> {
        let faces = self.detect_once(bgr, times)?;
        if !faces.is_empty() {
            return Ok(faces);
        }
        let (dx, dy) = (bgr.cols() / 4, bgr.rows() / 4);
        let mut padded = Mat::default();
        opencv::core::copy_make_border(
            bgr,
            &mut padded,
            dy,
            dy,
            dx,
            dx,
            opencv::core::BORDER_CONSTANT,
            Scalar::all(0.0),
        )
        .map_err(EngineError::OpenCv)?;
        let mut faces = self.detect_once(&padded, times)?;
        for face in &mut faces {
            shift(face, -(dx as f32), -(dy as f32));
        }
        Ok(faces)
    }

    fn detect_once(&self, bgr: &Mat, times: &mut StageTimes) -> Result<Vec<Detection>, EngineError> {
        let (input, scale) = letterbox(bgr)?;
        let started = Instant::now();
        let mut session = self.session.lock()?;
        let tensor =
            TensorRef::from_array_view(([1usize, 3, 640, 640], input.as_slice())).map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let spent = started.elapsed();
        times.inference += spent;
        crate::engine::runtime::note_inference("face_detector", spent);
        let mut candidates = Vec::new();
        for stride in STRIDES {
            let tensor = |kind: &str| -> Result<&[f32], EngineError> {
                let name = format!("{kind}_{stride}");
                let value = outputs.get(name.as_str()).ok_or(EngineError::UnexpectedOutput("yunet output missing"))?;
                Ok(value.try_extract_tensor::<f32>().map_err(EngineError::Inference)?.1)
            };
            decode_stride(
                stride,
                [tensor("cls")?, tensor("obj")?, tensor("bbox")?, tensor("kps")?],
                &self.settings,
                &mut candidates,
            );
        }
        drop(outputs);
        drop(session);
        let mut faces = non_maximum_suppression(candidates, self.settings.nms_iou);
        for face in &mut faces {
            unscale(face, scale);
        }
        Ok(faces)
    }
}

/// Resizes to fit 640×640 (aspect kept), pads right and bottom with 0, and lays the BGR
/// pixels out as NCHW f32 in 0–255. Returns the tensor data and the scale applied.
fn letterbox(bgr: &Mat) -> Result<(Vec<f32>, f32), EngineError> {
    let (w, h) = (bgr.cols(), bgr.rows());
    let scale = (INPUT_SIDE as f32 / w as f32).min(INPUT_SIDE as f32 / h as f32);
    let (nw, nh) = (
        ((w as f32 * scale).round() as i32).clamp(1, INPUT_SIDE),
        ((h as f32 * scale).round() as i32).clamp(1, INPUT_SIDE),
    );
    let interpolation = if scale < 1.0 { imgproc::INTER_AREA } else { imgproc::INTER_LINEAR };
    let mut resized = Mat::default();
    imgproc::resize(bgr, &mut resized, Size::new(nw, nh), 0.0, 0.0, interpolation).map_err(EngineError::OpenCv)?;
    let side = INPUT_SIDE as usize;
    let plane = side * side;
    let mut input = vec![0f32; 3 * plane];
    let (nw, nh) = (nw as usize, nh as usize);
    let continuous =
        if resized.is_continuous() { resized } else { resized.try_clone().map_err(EngineError::OpenCv)? };
    let bytes = continuous.data_bytes().map_err(EngineError::OpenCv)?;
    for (y, row) in bytes.chunks_exact(nw * 3).take(nh).enumerate() {
        for (x, px) in row.chunks_exact(3).enumerate() {
            let at = y * side + x;
            for (c, &value) in px.iter().enumerate() {
                if let Some(slot) = input.get_mut(c * plane + at) {
                    *slot = f32::from(value);
                }
            }
        }
    }
    Ok((input, scale))
}

/// Decodes one stride's anchors into candidate faces in letterbox pixels.
fn decode_stride(
    stride: usize,
    [cls, obj, bbox, kps]: [&[f32]; 4],
    settings: &DetectorSettings,
    out: &mut Vec<Detection>,
) {
    let cols = INPUT_SIDE as usize / stride;
    let s = stride as f32;
    for (i, (c, o)) in cls.iter().zip(obj).enumerate() {
        let score = (c.clamp(0.0, 1.0) * o.clamp(0.0, 1.0)).sqrt();
        if score < settings.score_threshold {
            continue;
        }
        let Some(&[bx, by, bw, bh]) = bbox.get(i * 4..i * 4 + 4) else { continue };
        let Some(k) = kps.get(i * 10..i * 10 + 10) else { continue };
        let (col, row) = ((i % cols) as f32, (i / cols) as f32);
        let (cx, cy) = ((col + bx) * s, (row + by) * s);
        let (w, h) = (bw.exp() * s, bh.exp() * s);
        let mut landmarks = [[0f32; 2]; 5];
        for (point, xy) in landmarks.iter_mut().zip(k.chunks_exact(2)) {
            if let &[x, y] = xy {
                *point = [(col + x) * s, (row + y) * s];
            }
        }
        out.push(Detection {
            bbox: BoundingBox { x: cx - w / 2.0, y: cy - h / 2.0, width: w, height: h },
            landmarks: Landmarks(landmarks),
            score,
        });
    }
}

/// Greedy NMS: strongest first, dropping any box overlapping a kept one by more than `iou`.
pub fn non_maximum_suppression(mut candidates: Vec<Detection>, iou: f32) -> Vec<Detection> {
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for candidate in candidates {
        if kept.iter().all(|k| k.bbox.iou(&candidate.bbox) <= iou) {
            kept.push(candidate);
        }
    }
    kept
}

fn shift(face: &mut Detection, dx: f32, dy: f32) {
    face.bbox.x += dx;
    face.bbox.y += dy;
    for p in &mut face.landmarks.0 {
        *p = [p[0] + dx, p[1] + dy];
    }
}

fn unscale(face: &mut Detection, scale: f32) {
    let b = &mut face.bbox;
    (b.x, b.y, b.width, b.height) = (b.x / scale, b.y / scale, b.width / scale, b.height / scale);
    for p in &mut face.landmarks.0 {
        *p = [p[0] / scale, p[1] / scale];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32) -> Detection {
        Detection {
            bbox: BoundingBox { x, y: 0.0, width: 10.0, height: 10.0 },
            landmarks: Landmarks([[0.0; 2]; 5]),
            score,
        }
    }

    #[test]
    fn nms_keeps_the_strongest_of_overlapping_boxes_and_all_separate_ones() {
        let kept = non_maximum_suppression(vec![det(0.0, 0.7), det(1.0, 0.9), det(50.0, 0.8)], 0.3);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.8]);
    }

    #[test]
    fn anchor_decoding_follows_the_yunet_formula() {
        let mut out = Vec::new();
        let cells = 80 * 80;
        let mut cls = vec![0.0; cells];
        let mut obj = vec![0.0; cells];
        let mut bbox = vec![0.0; cells * 4];
        let kps = vec![0.5; cells * 10];
        // Anchor at row 2, column 3 of stride 8: centre (3.5·8, 2.5·8), size e^0·8.
        let i = 2 * 80 + 3;
        cls[i] = 0.81;
        obj[i] = 1.0;
        bbox[i * 4] = 0.5;
        bbox[i * 4 + 1] = 0.5;
        decode_stride(8, [&cls, &obj, &bbox, &kps], &DetectorSettings::default(), &mut out);
        assert_eq!(out.len(), 1);
        let d = out[0];
        assert!((d.score - 0.9).abs() < 1e-6);
        assert_eq!((d.bbox.x, d.bbox.y, d.bbox.width), (24.0, 16.0, 8.0));
        assert_eq!(d.landmarks.0[0], [28.0, 20.0]);
    }
}
