//! Following one face from frame to frame, as MediaPipe does, and measuring it: the mesh,
//! the blendshapes, the head pose and, on face-match frames, the aligned face (quality and
//! embedding) and the passive anti-spoof score; plus a frame's perceptual hash.

use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use super::observe::FaceTrack;
use super::pose::head_pose;
use crate::domain::face::{BoundingBox, Detection, Landmarks};
use crate::engine::mesh::{FaceMesh, shape};
use crate::engine::{Engine, EngineError, StageTimes};

/// The detection the previous frame's mesh implies for this frame.
pub(super) fn follow(previous: &Detection, mesh: &FaceMesh) -> Detection {
    let mid = |a: usize, b: usize| {
        let (p, q) = (mesh.xy(a), mesh.xy(b));
        [(p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0]
    };
    let (right_eye, left_eye) = (mid(33, 133), mid(263, 362));
    let [old_right, old_left, ..] = previous.landmarks.0;
    let distance = |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let scale = (distance(right_eye, left_eye) / distance(old_right, old_left).max(1.0)).clamp(0.5, 2.0);
    let old_mid = [(old_right[0] + old_left[0]) / 2.0, (old_right[1] + old_left[1]) / 2.0];
    let new_mid = [(right_eye[0] + left_eye[0]) / 2.0, (right_eye[1] + left_eye[1]) / 2.0];
    let b = previous.bbox;
    let (cx, cy) = (b.x + b.width / 2.0 - old_mid[0], b.y + b.height / 2.0 - old_mid[1]);
    let (w, h) = (b.width * scale, b.height * scale);
    Detection {
        bbox: BoundingBox {
            x: new_mid[0] + cx * scale - w / 2.0,
            y: new_mid[1] + cy * scale - h / 2.0,
            width: w,
            height: h,
        },
        landmarks: Landmarks([right_eye, left_eye, mesh.xy(1), mesh.xy(61), mesh.xy(291)]),
        score: previous.score,
    }
}

/// What a grid frame's face gets besides the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deep {
    No,
    /// A face-match frame: aligned, measured, embedded.
    Embed,
    /// A face-match frame that also gets the passive anti-spoof score.
    WithSpoof,
}

pub(super) fn track(
    engine: &Engine,
    bgr: &Mat,
    detection: &Detection,
    deep: Deep,
    times: &mut StageTimes,
) -> Result<FaceTrack, EngineError> {
    let mesh = engine.mesh().mesh(bgr, detection, times)?;
    let shapes = engine.mesh().blendshapes(&mesh, times)?;
    let score = |i: usize| shapes.get(i).copied().unwrap_or_default();
    let pose = head_pose(&mesh, bgr.cols(), bgr.rows()).map_err(EngineError::OpenCv)?;
    let analysed = match deep {
        Deep::No => None,
        Deep::Embed | Deep::WithSpoof => engine.analyse_face(bgr, *detection, true, times)?,
    };
    let spoof = match deep {
        Deep::WithSpoof => Some(engine.antispoof().score(bgr, &detection.bbox, times)?),
        Deep::No | Deep::Embed => None,
    };
    Ok(FaceTrack {
        bbox: detection.bbox,
        pose,
        blink_left: score(shape::EYE_BLINK_LEFT),
        blink_right: score(shape::EYE_BLINK_RIGHT),
        smile: (score(shape::MOUTH_SMILE_LEFT) + score(shape::MOUTH_SMILE_RIGHT)) / 2.0,
        jaw_open: score(shape::JAW_OPEN),
        mesh,
        analysed,
        spoof,
    })
}

/// Difference hash: grey, 9×8, one bit per horizontal neighbour pair (left brighter).
pub fn dhash(bgr: &Mat) -> Result<u64, opencv::Error> {
    let mut grey = Mat::default();
    imgproc::cvt_color_def(bgr, &mut grey, imgproc::COLOR_BGR2GRAY)?;
    let mut small = Mat::default();
    imgproc::resize(&grey, &mut small, Size::new(9, 8), 0.0, 0.0, imgproc::INTER_AREA)?;
    let bytes = small.data_bytes()?;
    let mut hash = 0u64;
    for row in bytes.chunks_exact(9) {
        for pair in row.windows(2) {
            let bit = matches!(pair, [a, b] if a > b);
            hash = (hash << 1) | u64::from(bit);
        }
    }
    Ok(hash)
}
