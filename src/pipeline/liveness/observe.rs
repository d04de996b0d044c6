//! What the liveness checks look at: per sampled frame of the selfie video, the faces found,
//! and for a frame with one face its mesh, head pose, blendshapes, and (on every
//! `embed_every`-th such frame) its embedding and passive anti-spoof score; plus a
//! perceptual hash of the frame for replay detection.

use std::path::Path;

use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use super::pose::{HeadPose, head_pose};
use crate::domain::face::{BoundingBox, Embedding};
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
}

impl Default for ObserveSettings {
    fn default() -> Self {
        Self { max_frames: 150, embed_every: 6 }
    }
}

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
    for frame in stream.frames() {
        let analysis = engine.analyse(&frame.bgr, frame.index, frame.timestamp_ms, Embed::Never, &mut times)?;
        let faces = analysis.face_count();
        let face = match (faces, analysis.detections.first()) {
            (1, Some(detection)) => {
                let deep = single.is_multiple_of(settings.embed_every.max(1));
                single += 1;
                Some(track(engine, &frame.bgr, detection, deep, &mut times)?)
            }
            _ => None,
        };
        let dhash = dhash(&frame.bgr).map_err(EngineError::OpenCv)?;
        frames.push(Observation { frame_index: frame.index, timestamp_ms: frame.timestamp_ms, faces, face, dhash });
    }
    let video = stream.finish()?;
    repair_timestamps(&mut frames);
    Ok(Observed { frames, video })
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
    detection: &crate::domain::face::Detection,
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
