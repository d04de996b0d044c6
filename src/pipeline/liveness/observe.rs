//! What the liveness checks look at: the selfie video's frames on a regular time grid, each
//! with the faces found and, for a frame with one face, its mesh, head pose, blendshapes, and
//! (on every `embed_every`-th such frame) its embedding and passive anti-spoof score; plus a
//! perceptual hash of the frame for replay detection.
//!
//! Frames are chosen by their timestamps, never by their indices, so a camera that drops or
//! jitters frames is measured as it really ran. Every frame is decoded and handed over; a
//! frame is a grid frame when its time reaches the next point of a grid (15 per second for a
//! clip of unknown length, as browsers record it; as dense as 30 per second when the
//! container declares a short clip; the grid's step doubles each time `max_frames` grid
//! frames were taken).
//!
//! Between two grid frames, the frames in between are held (at most `max_between`). A cheap
//! pass decides whether an event may lie there: the eyes or the mouth were moving at either
//! grid frame (blink or smile scores raised), or the eye and mouth patches of a held frame
//! (grey 12×6 at the earlier grid frame's landmark positions) differ from both grid frames
//! more than those differ from each other. Only then do the mesh and blendshapes run on
//! every held frame (`Observed::between`): a blink of 120–200 ms that fell between two grid
//! frames is still seen.
//!
//! The detector runs on every `detect_every`-th grid frame (and whenever the track is lost);
//! in between, the face is followed as MediaPipe does: the previous mesh gives the next crop
//! (the detector box moved with the eyes' midpoint and scaled with their distance) and the
//! five alignment points (eye centres, nose tip, mouth corners). A frame between detections
//! carries the last face count.

use std::path::Path;

use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;

use super::patches::{patch_distance, patches};
use super::pose::{HeadPose, head_pose};
use super::timing::{FrameClock, Grid};
use crate::domain::face::{BoundingBox, Detection, Embedding, Landmarks};
use crate::engine::decode::{self, Media, Sampling, VideoSummary};
use crate::engine::media::MediaError;
use crate::engine::mesh::{FaceMesh, shape};
use crate::engine::{Embed, Engine, EngineError, StageTimes};

/// How densely the video is looked at.
#[derive(Debug, Clone, Copy)]
pub struct ObserveSettings {
    /// Grid frames before the grid's step doubles (150 is 15 per second over 10 s).
    pub max_frames: usize,
    /// Embedding and anti-spoof on every n-th single-face grid frame.
    pub embed_every: usize,
    /// The detector on every n-th grid frame; the mesh follows the face in between.
    pub detect_every: usize,
    /// The grid when the clip's length is unknown, frames per second.
    pub grid_fps: f64,
    /// The densest grid, for a short clip of declared length, frames per second.
    pub max_grid_fps: f64,
    /// Frames held between two grid frames for the dense pass.
    pub max_between: usize,
}

impl Default for ObserveSettings {
    fn default() -> Self {
        Self { max_frames: 150, embed_every: 10, detect_every: 5, grid_fps: 15.0, max_grid_fps: 30.0, max_between: 8 }
    }
}

/// Below this presence score the mesh lost the face: detect again.
const MIN_PRESENCE: f32 = 0.5;

/// A grid frame with a blink score from here, or a smile score from `WINDOW_SMILE`, opens the
/// dense pass on the frames beside it (the challenge's event thresholds are higher).
const WINDOW_BLINK: f32 = 0.15;
const WINDOW_SMILE: f32 = 0.25;
/// A held frame whose patches differ from both grid frames' by more than this (grey levels,
/// mean absolute difference after each patch's mean is removed), and by more than half
/// what the two grid frames differ by, opens the dense pass.
const WINDOW_PATCH: f32 = 6.0;

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

    fn eventful(&self) -> bool {
        self.blink() >= WINDOW_BLINK || self.smile >= WINDOW_SMILE
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
    /// 64-bit difference hash of the whole frame (grey 9×8); 0 on frames between grid frames.
    pub dhash: u64,
}

/// Everything observed in one selfie video.
pub struct Observed {
    /// The grid frames, in time order.
    pub frames: Vec<Observation>,
    /// Frames between grid frames measured by the dense pass, in time order.
    pub between: Vec<Observation>,
    pub video: VideoSummary,
}

impl Observed {
    /// Grid and dense-pass frames together, in time order: what events are read from.
    pub fn timeline(&self) -> Vec<&Observation> {
        let mut all: Vec<&Observation> = self.frames.iter().chain(&self.between).collect();
        all.sort_by(|a, b| a.timestamp_ms.total_cmp(&b.timestamp_ms).then(a.frame_index.cmp(&b.frame_index)));
        all
    }
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

/// A grid frame's face as the dense pass needs it: where it was and its patches.
struct Anchor {
    detection: Detection,
    mesh: FaceMesh,
    eventful: bool,
    patches: Vec<u8>,
}

/// A frame held between two grid frames.
struct Held {
    index: usize,
    t: f64,
    bgr: Mat,
}

/// Decodes and measures the selfie video at `path`.
pub fn observe(engine: &Engine, path: &Path, settings: ObserveSettings) -> Result<Observed, ObserveError> {
    let media = decode::load(path, &engine.settings().media, Sampling::Every)?;
    let Media::Video(stream) = media else {
        return Err(ObserveError::NotVideo);
    };
    let mut grid = Grid::new(stream.info(), &settings);
    let mut clock = FrameClock::default();
    let mut times = StageTimes::default();
    let mut frames = Vec::new();
    let mut between = Vec::new();
    let mut held: Vec<Held> = Vec::new();
    let mut anchor: Option<Anchor> = None;
    let mut single = 0usize;
    let mut followed: Option<(Detection, FaceTrack)> = None;
    let mut faces = 0usize;
    for frame in stream.frames() {
        let t = clock.time(frame.index, frame.timestamp_ms);
        if !grid.due(t) {
            if held.len() < settings.max_between {
                held.push(Held { index: frame.index, t, bgr: frame.bgr });
            }
            continue;
        }
        let mut face = None;
        let mut detected = false;
        let grid_index = frames.len();
        if let Some((detection, previous)) =
            followed.take().filter(|_| !grid_index.is_multiple_of(settings.detect_every.max(1)))
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
            let analysis = engine.analyse(&frame.bgr, frame.index, t, Embed::Never, &mut times)?;
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
        // The frames held since the last grid frame: measured when an event may be among them.
        if let Some(earlier) = anchor.take()
            && !held.is_empty()
            && worth_a_look(&earlier, face.as_ref(), &frame.bgr, &held)?
        {
            between.extend(dense_pass(engine, &earlier, &held, faces, &mut times)?);
        }
        held.clear();
        anchor = match (&followed, &face) {
            (Some((detection, _)), Some(f)) => Some(Anchor {
                detection: *detection,
                mesh: f.mesh.clone(),
                eventful: f.eventful(),
                patches: patches(&frame.bgr, &f.mesh).map_err(EngineError::OpenCv)?,
            }),
            _ => None,
        };
        let dhash = dhash(&frame.bgr).map_err(EngineError::OpenCv)?;
        frames.push(Observation { frame_index: frame.index, timestamp_ms: t, faces, face, detected, dhash });
    }
    let video = stream.finish()?;
    Ok(Observed { frames, between, video })
}

/// The cheap pass: may an event lie between the grid frame `earlier` and the next one (`later`,
/// in `later_bgr`)?
fn worth_a_look(
    earlier: &Anchor,
    later: Option<&FaceTrack>,
    later_bgr: &Mat,
    held: &[Held],
) -> Result<bool, EngineError> {
    if earlier.eventful || later.is_some_and(FaceTrack::eventful) {
        return Ok(true);
    }
    let cv = EngineError::OpenCv;
    let end = patches(later_bgr, &earlier.mesh).map_err(cv)?;
    let ends = patch_distance(&earlier.patches, &end);
    for frame in held {
        let here = patches(&frame.bgr, &earlier.mesh).map_err(cv)?;
        let apart = patch_distance(&here, &earlier.patches).min(patch_distance(&here, &end));
        if apart > WINDOW_PATCH && apart > ends / 2.0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Mesh, blendshapes and pose on every held frame, the face followed from `earlier`'s.
fn dense_pass(
    engine: &Engine,
    earlier: &Anchor,
    held: &[Held],
    faces: usize,
    times: &mut StageTimes,
) -> Result<Vec<Observation>, EngineError> {
    let mut out = Vec::with_capacity(held.len());
    let (mut detection, mut mesh) = (earlier.detection, earlier.mesh.clone());
    for frame in held {
        let next = follow(&detection, &mesh);
        let tracked = track(engine, &frame.bgr, &next, false, times)?;
        if tracked.mesh.presence < MIN_PRESENCE {
            break;
        }
        (detection, mesh) = (next, tracked.mesh.clone());
        out.push(Observation {
            frame_index: frame.index,
            timestamp_ms: frame.t,
            faces,
            face: Some(tracked),
            detected: false,
            dhash: 0,
        });
    }
    Ok(out)
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
