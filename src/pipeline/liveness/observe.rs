//! What face match and the liveness checks look at, from one decode of the selfie video:
//! the frames on a regular time grid, each with the faces found and, for a frame with one
//! face, its mesh, head pose and blendshapes; on every `embed_every`-th grid frame (a
//! face-match frame) the face aligned, measured for quality and embedded, and on every
//! `spoof_every`-th of those the passive anti-spoof score; plus a perceptual hash of the
//! frame for replay detection.
//!
//! Work goes where the decision needs it. Frames are chosen by their timestamps, never by
//! their indices, so a camera that drops or jitters frames is measured as it really ran.
//! Every frame is decoded and handed over; a frame is a grid frame when its time reaches the
//! next point of a grid of 10 per second (the step doubles each time `max_frames` grid frames
//! were taken). Turns, looks, smiles and an open mouth are held for 100 ms and more: the grid
//! sees them.
//!
//! A blink is shorter (120–200 ms) and can fall between two grid frames. The frames in between
//! are held (at most `max_between`), and a cheap pass decides whether a blink may lie there:
//! the eyes were closing at either grid frame (blink score raised), or the eye patches of a
//! held frame (grey 12×6, cut where the eyes are at that frame's time, interpolated between
//! the two grid frames so that head motion is not mistaken for a blink) differ from both grid
//! frames' more than those differ from each other. Only then do the mesh and blendshapes run
//! on every held frame (`Observed::between`).
//!
//! The detector runs on every `detect_every`-th grid frame (and whenever the track is lost);
//! in between, the face is followed as MediaPipe does: the previous mesh gives the next crop
//! (the detector box moved with the eyes' midpoint and scaled with their distance) and the
//! five alignment points (eye centres, nose tip, mouth corners). A frame between detections
//! carries the last face count.

use std::path::Path;

use opencv::core::Mat;

use super::patches::{EyeBoxes, patch_distance, patches};
use super::pose::HeadPose;
use super::timing::{FrameClock, Grid};
use super::track::{Deep, dhash, follow, track};
use crate::domain::face::{BoundingBox, Detection, Embedding};
use crate::engine::decode::{self, Media, Sampling, VideoSummary};
use crate::engine::media::MediaError;
use crate::engine::mesh::FaceMesh;
use crate::engine::{AnalysedFace, Embed, Engine, EngineError, StageTimes};
use crate::pipeline::face_match::{SelfieFrame, SelfieFrames};

/// How densely the video is looked at.
#[derive(Debug, Clone, Copy)]
pub struct ObserveSettings {
    /// Grid frames before the grid's step doubles (150 is 15 per second over 10 s).
    pub max_frames: usize,
    /// Every n-th grid frame is a face-match frame: its face (when it is alone) is aligned,
    /// measured for quality and embedded.
    pub embed_every: usize,
    /// The passive anti-spoof model on every n-th face-match frame (recorded, never decides).
    pub spoof_every: usize,
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
        Self {
            max_frames: 150,
            embed_every: 6,
            spoof_every: 5,
            detect_every: 5,
            grid_fps: 10.0,
            max_grid_fps: 10.0,
            max_between: 4,
        }
    }
}

/// Below this presence score the mesh lost the face: detect again.
const MIN_PRESENCE: f32 = 0.5;

/// A grid frame with a blink score from here opens the dense pass on the frames beside it
/// (the challenge's blink threshold is higher).
const WINDOW_BLINK: f32 = 0.15;
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
    /// On face-match frames: the aligned face's quality and embedding.
    pub analysed: Option<AnalysedFace>,
    pub spoof: Option<f32>,
}

impl FaceTrack {
    /// Both eyes' blink score, averaged.
    pub fn blink(&self) -> f32 {
        (self.blink_left + self.blink_right) / 2.0
    }

    /// The embedding, on face-match frames.
    pub fn embedding(&self) -> Option<&Embedding> {
        self.analysed.as_ref()?.embedding.as_ref()
    }

    fn eventful(&self) -> bool {
        self.blink() >= WINDOW_BLINK
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
    /// A face-match frame (every `embed_every`-th grid frame).
    pub matched: bool,
}

/// Everything observed in one selfie video.
pub struct Observed {
    /// The grid frames, in time order.
    pub frames: Vec<Observation>,
    /// Frames between grid frames measured by the dense pass, in time order.
    pub between: Vec<Observation>,
    pub video: VideoSummary,
    /// Wall time of the decode and the measurements.
    pub elapsed_ms: f64,
}

impl Observed {
    /// The face-match frames, as face match reads them.
    pub fn selfie_frames(&self) -> SelfieFrames {
        SelfieFrames {
            decoded: self.video.decoded,
            frames: self
                .frames
                .iter()
                .filter(|o| o.matched)
                .map(|o| SelfieFrame {
                    frame_index: o.frame_index,
                    timestamp_ms: o.timestamp_ms,
                    faces: o.faces,
                    primary: o.face.as_ref().and_then(|f| f.analysed.clone()),
                })
                .collect(),
        }
    }

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
    t: f64,
    eyes: EyeBoxes,
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
    let media = open(engine, path)?;
    let Media::Video(stream) = media else {
        return Err(ObserveError::NotVideo);
    };
    observe_stream(engine, stream, settings)
}

/// Opens a selfie the way `observe_stream` reads it: an image decoded, or a video whose every
/// frame is handed over as it is decoded.
pub fn open(engine: &Engine, path: &Path) -> Result<Media, MediaError> {
    decode::load(path, &engine.settings().media, Sampling::Every)
}

/// Measures a selfie video being decoded (opened by `open`).
pub fn observe_stream(
    engine: &Engine,
    stream: decode::VideoStream,
    settings: ObserveSettings,
) -> Result<Observed, ObserveError> {
    let started = std::time::Instant::now();
    let mut grid = Grid::new(stream.info(), &settings);
    let mut clock = FrameClock::default();
    let mut times = StageTimes::default();
    let mut frames = Vec::new();
    let mut between = Vec::new();
    let mut held: Vec<Held> = Vec::new();
    let mut anchor: Option<Anchor> = None;
    let mut matched_frames = 0usize;
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
        let matched = grid_index.is_multiple_of(settings.embed_every.max(1));
        let deep = match matched {
            false => Deep::No,
            true if matched_frames.is_multiple_of(settings.spoof_every.max(1)) => Deep::WithSpoof,
            true => Deep::Embed,
        };
        matched_frames += usize::from(matched);
        if let Some((detection, previous)) =
            followed.take().filter(|_| !grid_index.is_multiple_of(settings.detect_every.max(1)))
        {
            let next = follow(&detection, &previous.mesh);
            let tracked = track(engine, &frame.bgr, &next, deep, &mut times)?;
            if tracked.mesh.presence >= MIN_PRESENCE {
                followed = Some((next, tracked.clone()));
                face = Some(tracked);
            }
        }
        if face.is_none() {
            let analysis = engine.analyse(&frame.bgr, frame.index, t, Embed::Never, &mut times)?;
            faces = analysis.face_count();
            if let (1, Some(detection)) = (faces, analysis.detections.first()) {
                let tracked = track(engine, &frame.bgr, detection, deep, &mut times)?;
                followed = Some((*detection, tracked.clone()));
                face = Some(tracked);
                detected = true;
            }
        }
        // The frames held since the last grid frame: measured when an event may be among them.
        if let Some(earlier) = anchor.take()
            && !held.is_empty()
        {
            let look = match worth_a_look(&earlier, face.as_ref(), t, &frame.bgr, &held)? {
                Look::Skip => &[],
                Look::All => held.as_slice(),
                Look::One(i) => held.get(i..=i).unwrap_or_default(),
            };
            between.extend(dense_pass(engine, &earlier, look, faces, &mut times)?);
        }
        held.clear();
        anchor = match (&followed, &face) {
            (Some((detection, _)), Some(f)) => {
                let eyes = EyeBoxes::of(&f.mesh);
                Some(Anchor {
                    detection: *detection,
                    mesh: f.mesh.clone(),
                    eventful: f.eventful(),
                    t,
                    eyes,
                    patches: patches(&frame.bgr, &eyes).map_err(EngineError::OpenCv)?,
                })
            }
            _ => None,
        };
        let dhash = dhash(&frame.bgr).map_err(EngineError::OpenCv)?;
        frames.push(Observation { frame_index: frame.index, timestamp_ms: t, faces, face, detected, dhash, matched });
    }
    let video = stream.finish()?;
    Ok(Observed { frames, between, video, elapsed_ms: started.elapsed().as_secs_f64() * 1e3 })
}

/// Which held frames the dense pass measures.
enum Look {
    Skip,
    All,
    /// The one whose eyes differ most from both grid frames'.
    One(usize),
}

/// The cheap pass: may a blink lie between the grid frame `earlier` and the next one (`later`,
/// at `later_t`, in `later_bgr`)? When either grid frame's eyes were already closing, every
/// held frame is measured. Otherwise the eye patches of each held frame are cut where the eyes
/// are at its time (the two grid frames' eye boxes interpolated, so the head's motion is not
/// mistaken for a blink) and compared with both ends': the frame that differs most, when it
/// differs enough, is measured (a blink's closed frame).
fn worth_a_look(
    earlier: &Anchor,
    later: Option<&FaceTrack>,
    later_t: f64,
    later_bgr: &Mat,
    held: &[Held],
) -> Result<Look, EngineError> {
    if earlier.eventful || later.is_some_and(FaceTrack::eventful) {
        return Ok(Look::All);
    }
    let Some(later) = later else { return Ok(Look::All) };
    let cv = EngineError::OpenCv;
    let later_eyes = EyeBoxes::of(&later.mesh);
    let end = patches(later_bgr, &later_eyes).map_err(cv)?;
    let ends = patch_distance(&earlier.patches, &end);
    let span = (later_t - earlier.t).max(1.0);
    let mut most: Option<(usize, f32)> = None;
    for (i, frame) in held.iter().enumerate() {
        let at = ((frame.t - earlier.t) / span).clamp(0.0, 1.0) as f32;
        let here = patches(&frame.bgr, &earlier.eyes.towards(&later_eyes, at)).map_err(cv)?;
        let apart = patch_distance(&here, &earlier.patches).min(patch_distance(&here, &end));
        if apart > WINDOW_PATCH && apart > ends / 2.0 && most.is_none_or(|(_, m)| apart > m) {
            most = Some((i, apart));
        }
    }
    Ok(most.map_or(Look::Skip, |(i, _)| Look::One(i)))
}

/// Mesh, blendshapes and pose on the held frames given, the face followed from `earlier`'s.
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
        let tracked = track(engine, &frame.bgr, &next, Deep::No, times)?;
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
            matched: false,
        });
    }
    Ok(out)
}
