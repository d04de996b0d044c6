//! What the liveness checks look at: per sampled frame of the selfie video, the faces found,
//! and for a frame with one face its mesh, head pose, blendshapes, and (on every
//! `embed_every`-th such frame) its embedding and passive anti-spoof score; plus a
//! perceptual hash of the frame for replay detection.
//!
//! The detector runs on every `detect_every`-th frame (and whenever the track is lost); in
//! between, the face is followed as MediaPipe does: the previous mesh gives the next crop
//! (the detector box moved with the eyes' midpoint and scaled with their distance) and the
//! five alignment points (eye centres, nose tip, mouth corners). A frame between detections
//! carries the last face count.

use std::path::Path;

use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use super::pose::{HeadPose, head_pose};
use crate::domain::face::{BoundingBox, Detection, Embedding, Landmarks};
use crate::engine::decode::{self, Media, VideoSummary};
use crate::engine::media::MediaError;
use crate::engine::mesh::{FaceMesh, shape};
use crate::engine::{Embed, Engine, EngineError, StageTimes};

/// How densely the video is looked at.
#[derive(Debug, Clone, Copy)]
pub struct ObserveSettings {
    /// Frames analysed at most (spread evenly; 150 is 15 per second over 10 s).
    pub max_frames: usize,
    /// Embedding and anti-spoof on every n-th single-face frame.
    pub embed_every: usize,
    /// The detector on every n-th frame; the mesh follows the face in between.
    pub detect_every: usize,
}

impl Default for ObserveSettings {
    fn default() -> Self {
        Self { max_frames: 150, embed_every: 10, detect_every: 5 }
    }
}

/// Below this presence score the mesh lost the face: detect again.
const MIN_PRESENCE: f32 = 0.5;

/// The one face of a frame, measured. Biometric: never logged.
#[derive(Clone)]
pub struct FaceTrack {
    pub bbox: BoundingBox,
    pub mesh: FaceMesh,
    pub pose: Option<HeadPose>,
    pub blink_left: f32,
    pub blink_right: f32,
    pub smile: f32,
    pub jaw_open: f32,
    pub embedding: Option<Embedding>,
    pub spoof: Option<f32>,
}

impl FaceTrack {
    /// Both eyes' blink score, averaged.
    pub fn blink(&self) -> f32 {
        (self.blink_left + self.blink_right) / 2.0
    }
}

#[derive(Clone)]
pub struct Observation {
    pub frame_index: usize,
    pub timestamp_ms: f64,
    pub faces: usize,
    pub face: Option<FaceTrack>,
    /// The face was found by the detector on this frame (not followed from the last mesh).
    pub detected: bool,
    /// 64-bit difference hash of the whole frame (grey 9×8).
    pub dhash: u64,
}

/// Everything observed in one selfie video.
pub struct Observed {
    pub frames: Vec<Observation>,
    pub video: VideoSummary,
}

#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("the selfie is a still image; liveness needs a video")]
    NotVideo,
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Decodes and measures the selfie video at `path`.
pub fn observe(engine: &Engine, path: &Path, settings: ObserveSettings) -> Result<Observed, ObserveError> {
    let media = decode::load(path, &engine.settings().media, settings.max_frames)?;
    let Media::Video(stream) = media else {
        return Err(ObserveError::NotVideo);
    };
    let mut times = StageTimes::default();
    let mut frames = Vec::new();
    let mut single = 0usize;
    let mut followed: Option<(Detection, FaceTrack)> = None;
    let mut faces = 0usize;
    for (k, frame) in stream.frames().enumerate() {
        let mut face = None;
        let mut detected = false;
        if let Some((detection, previous)) = followed.take().filter(|_| !k.is_multiple_of(settings.detect_every.max(1)))
        {
            let next = follow(&detection, &previous.mesh);
            let deep = single.is_multiple_of(settings.embed_every.max(1));
            let tracked = track(engine, &frame.bgr, &next, deep, &mut times)?;
            if tracked.mesh.presence >= MIN_PRESENCE {
                single += 1;
                followed = Some((next, tracked.clone()));
                face = Some(tracked);
            }
        }
        if face.is_none() {
            let analysis = engine.analyse(&frame.bgr, frame.index, frame.timestamp_ms, Embed::Never, &mut times)?;
            faces = analysis.face_count();
            if let (1, Some(detection)) = (faces, analysis.detections.first()) {
                let deep = single.is_multiple_of(settings.embed_every.max(1));
                single += 1;
                let tracked = track(engine, &frame.bgr, detection, deep, &mut times)?;
                followed = Some((*detection, tracked.clone()));
                face = Some(tracked);
                detected = true;
            }
        }
        let dhash = dhash(&frame.bgr).map_err(EngineError::OpenCv)?;
        frames.push(Observation {
            frame_index: frame.index,
            timestamp_ms: frame.timestamp_ms,
            faces,
            face,
            detected,
            dhash,
        });
    }
    let video = stream.finish()?;
    repair_timestamps(&mut frames);
    Ok(Observed { frames, video })
}

/// The detection the previous frame's mesh implies for this frame.
fn follow(previous: &Detection, mesh: &FaceMesh) -> Detection {
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

/// Some demuxers report 0 ms for the last frames of a stream: those get the time their
/// index implies at the pace of the frames before them.
fn repair_timestamps(frames: &mut [Observation]) {
    let mut pace: Option<(usize, f64, f64)> = None; // (index, ms, ms per frame)
    let mut previous: Option<(usize, f64)> = None;
    for o in frames.iter_mut() {
        if o.frame_index > 0 && o.timestamp_ms <= 0.0 {
            if let Some((index, ms, per_frame)) = pace {
                o.timestamp_ms = ms + (o.frame_index - index) as f64 * per_frame;
            }
            continue;
        }
        if let Some((index, ms)) = previous
            && o.frame_index > index
        {
            pace = Some((o.frame_index, o.timestamp_ms, (o.timestamp_ms - ms) / (o.frame_index - index) as f64));
        }
        previous = Some((o.frame_index, o.timestamp_ms));
    }
}

fn track(
    engine: &Engine,
    bgr: &Mat,
    detection: &Detection,
    deep: bool,
    times: &mut StageTimes,
) -> Result<FaceTrack, EngineError> {
    let mesh = engine.mesh().mesh(bgr, detection, times)?;
    let shapes = engine.mesh().blendshapes(&mesh, times)?;
    let score = |i: usize| shapes.get(i).copied().unwrap_or_default();
    let pose = head_pose(&mesh, bgr.cols(), bgr.rows()).map_err(EngineError::OpenCv)?;
    let (embedding, spoof) = if deep {
        (engine.embed_face(bgr, detection, times)?, Some(engine.antispoof().score(bgr, &detection.bbox, times)?))
    } else {
        (None, None)
    };
    Ok(FaceTrack {
        bbox: detection.bbox,
        pose,
        blink_left: score(shape::EYE_BLINK_LEFT),
        blink_right: score(shape::EYE_BLINK_RIGHT),
        smile: (score(shape::MOUTH_SMILE_LEFT) + score(shape::MOUTH_SMILE_RIGHT)) / 2.0,
        jaw_open: score(shape::JAW_OPEN),
        mesh,
        embedding,
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
