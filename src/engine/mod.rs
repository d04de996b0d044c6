//! The face engine: ONNX Runtime sessions created once and shared, OpenCV decoding, and the
//! per-frame analysis (detection, alignment, quality, embedding) that later stages reuse.

pub mod align;
pub mod antispoof;
mod codec;
pub mod decode;
pub mod detector;
pub mod manifest;
pub mod media;
pub mod mesh;
pub mod quality;
pub mod recogniser;
pub mod runtime;
pub mod stills;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opencv::core::Mat;
use opencv::prelude::*;
use serde::{Deserialize, Serialize};

use crate::document::ocr::{Ocr, TextDetector, TextRecogniser};
use crate::domain::face::{Detection, Embedding};
use crate::domain::quality::{FaceQuality, QualityIssue, QualityThresholds};
use antispoof::AntiSpoof;
use detector::{Detector, DetectorSettings};
use manifest::Manifest;
use mesh::MeshModels;
use recogniser::Recogniser;
use runtime::ModelSession;

/// Why the engine could not start or run. Not caused by the caller's media.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("model file {path} is missing: {fix}")]
    ModelMissing { path: PathBuf, fix: &'static str },
    #[error("model file {path} does not match its pinned sha256: {fix}")]
    ModelMismatch { path: PathBuf, fix: &'static str },
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    Runtime { path: PathBuf, message: String },
    #[error("cannot load model {path}")]
    ModelLoad { path: PathBuf, source: ort::Error },
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    #[error("model inference failed")]
    Inference(#[source] ort::Error),
    #[error("image operation failed")]
    OpenCv(#[source] opencv::Error),
    #[error("unexpected model output: {0}")]
    UnexpectedOutput(&'static str),
    #[error("a model session was poisoned by an earlier panic")]
    Poisoned,
}

impl EngineError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::ModelMissing { .. } => "model_missing",
            Self::ModelMismatch { .. } => "model_mismatch",
            Self::Runtime { .. } | Self::ModelLoad { .. } | Self::Manifest(_) => "engine_unavailable",
            Self::Inference(_) | Self::OpenCv(_) | Self::UnexpectedOutput(_) | Self::Poisoned => "engine_failure",
        }
    }
}

/// Time spent per stage, plus the part of it spent inside ONNX Runtime. Video decoding runs
/// beside the analysis, so the stages can add up to more than the wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub decode: Duration,
    pub detect: Duration,
    pub align: Duration,
    pub embed: Duration,
    /// Pure model time (session.run), a part of `detect` and `embed`.
    pub inference: Duration,
}

impl StageTimes {
    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &StageTimes) {
        self.decode += other.decode;
        self.detect += other.detect;
        self.align += other.align;
        self.embed += other.embed;
        self.inference += other.inference;
    }
}

/// Engine configuration (the `[engine]` section of the settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// Where setup put the models (and the runtime library).
    pub models_dir: PathBuf,
    /// The ONNX Runtime shared library; default: `models_dir`/the manifest's runtime file.
    pub runtime_library: Option<PathBuf>,
    /// Threads of the one intra-op pool every model session shares (the calling thread
    /// included; idle ones sleep, never spin). 2 by default, the machine's cores.
    pub intra_threads: usize,
    /// Video frames analysed per clip, spread evenly (see `decode`).
    pub sample_frames: usize,
    pub detector: DetectorSettings,
    pub quality: QualityThresholds,
    pub media: media::MediaLimits,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            models_dir: default_models_dir(),
            runtime_library: None,
            intra_threads: 2,
            sample_frames: 8,
            detector: DetectorSettings::default(),
            quality: QualityThresholds::default(),
            media: media::MediaLimits::default(),
        }
    }
}

/// `$XDG_CACHE_HOME/idgate/models` (else `~/.cache/idgate/models`): the same rule as
/// scripts/setup.py.
pub fn default_models_dir() -> PathBuf {
    dirs::cache_dir().unwrap_or_else(|| PathBuf::from(".cache")).join("idgate").join("models")
}

/// One analysed face: where it is, how good it is, and (when asked) its embedding.
#[derive(Debug, Clone)]
pub struct AnalysedFace {
    pub detection: Detection,
    pub quality: FaceQuality,
    pub issues: Vec<QualityIssue>,
    pub embedding: Option<Embedding>,
}

/// What the engine found in one image or video frame. The liveness stage reuses these.
#[derive(Debug, Clone)]
pub struct FrameAnalysis {
    pub frame_index: usize,
    pub timestamp_ms: f64,
    pub width: i32,
    pub height: i32,
    /// Every face found, strongest first.
    pub detections: Vec<Detection>,
    /// The largest face, measured (and embedded when requested).
    pub primary: Option<AnalysedFace>,
}

impl FrameAnalysis {
    pub fn face_count(&self) -> usize {
        self.detections.len()
    }
}

/// When `Engine::analyse` computes the primary face's embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embed {
    Never,
    /// Always, for the largest face (a document: the portrait is the largest face, and a
    /// ghost image or a second photo beside it is expected).
    Largest,
    /// Only when the frame holds exactly one face (a selfie frame).
    WhenAlone,
}

/// Loaded models, shared by every request (`Arc<Engine>`).
pub struct Engine {
    detector: Detector,
    recogniser: Recogniser,
    ocr: Ocr,
    mesh: MeshModels,
    antispoof: AntiSpoof,
    readings: crate::document::reading::ReadingCache,
    settings: EngineSettings,
}

impl Engine {
    /// Checks every model against the manifest, loads ONNX Runtime and creates the sessions.
    pub fn load(settings: &EngineSettings) -> Result<Arc<Self>, EngineError> {
        let manifest = Manifest::embedded()?;
        let library = match &settings.runtime_library {
            Some(path) => path.clone(),
            None => runtime::verified_path(&settings.models_dir, &manifest.runtime)?,
        };
        let env = runtime::environment(&library, settings.intra_threads)?;
        let detector_path = runtime::verified_path(&settings.models_dir, manifest.model("face_detector")?)?;
        let recogniser_path = runtime::verified_path(&settings.models_dir, manifest.model("face_recogniser")?)?;
        let text_detector_path = runtime::verified_path(&settings.models_dir, manifest.model("text_detector")?)?;
        let text_recogniser_path = runtime::verified_path(&settings.models_dir, manifest.model("text_recogniser")?)?;
        let ocr = Ocr {
            detector: TextDetector::new(ModelSession::new(env, text_detector_path)),
            recogniser: TextRecogniser::new(env, text_recogniser_path)?,
        };
        let model = |name: &'static str| -> Result<ModelSession, EngineError> {
            let path = runtime::verified_path(&settings.models_dir, manifest.model(name)?)?;
            Ok(ModelSession::new(env, path))
        };
        let mesh = MeshModels::new(model("face_mesh")?, model("face_blendshapes")?);
        let antispoof = AntiSpoof::new(model("antispoof")?);
        Ok(Arc::new(Self {
            detector: Detector::new(ModelSession::new(env, detector_path), settings.detector),
            recogniser: Recogniser::new(ModelSession::new(env, recogniser_path)),
            ocr,
            mesh,
            antispoof,
            readings: Default::default(),
            settings: settings.clone(),
        }))
    }

    /// Creates every model's session now (a server does at start, so that its first request
    /// is not the one that waits; a one-shot command lets each be created when first used).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.detector.preload()?;
        self.recogniser.preload()?;
        self.ocr.detector.preload()?;
        self.mesh.preload()?;
        self.antispoof.preload()
    }

    /// Document readings made for the upload's readability answer, for the pipeline to reuse.
    pub fn readings(&self) -> &crate::document::reading::ReadingCache {
        &self.readings
    }

    /// The text models (document reading).
    pub fn ocr(&self) -> &Ocr {
        &self.ocr
    }

    /// The face mesh and blendshape models (active liveness).
    pub fn mesh(&self) -> &MeshModels {
        &self.mesh
    }

    /// The weak passive anti-spoof model.
    pub fn antispoof(&self) -> &AntiSpoof {
        &self.antispoof
    }

    /// Embeds one detected face (aligned first); `None` when its landmarks are degenerate.
    pub fn embed_face(
        &self,
        bgr: &Mat,
        face: &Detection,
        times: &mut StageTimes,
    ) -> Result<Option<Embedding>, EngineError> {
        let Some(aligned) = align::align_face(bgr, &face.landmarks).map_err(EngineError::OpenCv)? else {
            return Ok(None);
        };
        self.embed_aligned(&aligned, times).map(Some)
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// Opens an image or video file, timing the part done on this thread as the decode
    /// stage (a video goes on decoding on its own thread: see `decode::VideoStream`).
    pub fn decode(&self, path: &Path, times: &mut StageTimes) -> Result<decode::Media, media::MediaError> {
        let started = Instant::now();
        let media = decode::load(path, &self.settings.media, decode::Sampling::Spread(self.settings.sample_frames));
        times.decode += started.elapsed();
        media
    }

    /// Decodes an image file (a video is refused), timing it as the decode stage.
    pub fn decode_image(&self, path: &Path, times: &mut StageTimes) -> Result<Mat, media::MediaError> {
        let started = Instant::now();
        let image = decode::load_image(path, &self.settings.media);
        times.decode += started.elapsed();
        image
    }

    /// As `decode_image`, keeping the file's bytes (to look up what was read of them before).
    pub fn decode_image_bytes(&self, path: &Path, times: &mut StageTimes) -> Result<(Vec<u8>, Mat), media::MediaError> {
        let started = Instant::now();
        let image = decode::read_image_file(path, &self.settings.media)
            .and_then(|bytes| decode::decode_image(&bytes, &self.settings.media).map(|(_, bgr)| (bytes, bgr)));
        times.decode += started.elapsed();
        image
    }

    /// Detects faces in a BGR frame and analyses the largest one; `embed` says when to also
    /// compute its embedding.
    pub fn analyse(
        &self,
        bgr: &Mat,
        frame_index: usize,
        timestamp_ms: f64,
        embed: Embed,
        times: &mut StageTimes,
    ) -> Result<FrameAnalysis, EngineError> {
        let started = Instant::now();
        let detections = self.detector.detect(bgr, times)?;
        times.detect += started.elapsed();
        let largest = detections.iter().max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())).copied();
        let primary = match largest {
            Some(face) => {
                let wanted = match embed {
                    Embed::Never => false,
                    Embed::Largest => true,
                    Embed::WhenAlone => detections.len() == 1,
                };
                self.analyse_face(bgr, face, wanted, times)?
            }
            None => None,
        };
        Ok(FrameAnalysis { frame_index, timestamp_ms, width: bgr.cols(), height: bgr.rows(), detections, primary })
    }

    /// Aligns, measures and (optionally) embeds one detected face. `None` when its landmarks
    /// are degenerate.
    pub fn analyse_face(
        &self,
        bgr: &Mat,
        face: Detection,
        embed: bool,
        times: &mut StageTimes,
    ) -> Result<Option<AnalysedFace>, EngineError> {
        let started = Instant::now();
        let Some(aligned) = align::align_face(bgr, &face.landmarks).map_err(EngineError::OpenCv)? else {
            return Ok(None);
        };
        let quality = quality::measure(&face, &aligned, bgr.cols(), bgr.rows()).map_err(EngineError::OpenCv)?;
        times.align += started.elapsed();
        let issues = quality.issues(&self.settings.quality);
        let embedding = if embed { Some(self.embed_aligned(&aligned, times)?) } else { None };
        Ok(Some(AnalysedFace { detection: face, quality, issues, embedding }))
    }

    fn embed_aligned(&self, aligned: &Mat, times: &mut StageTimes) -> Result<Embedding, EngineError> {
        let started = Instant::now();
        let embedding = self.recogniser.embed(aligned, times);
        times.embed += started.elapsed();
        embedding
    }
}
