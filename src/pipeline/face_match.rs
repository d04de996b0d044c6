//! Face match: the face on the identity document against the face in the selfie.
//!
//! Policy: the document face is the largest face on the document. Selfie frames count when
//! they hold exactly one face; among those, frames passing every quality gate are used (if
//! none does, the single-face frames are used and their quality issues become reasons). The
//! similarity is the median over used frames, robust to a blink or a motion-blurred frame.
//! A match needs similarity >= threshold and no quality reason on either side.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tracing::instrument;

use crate::domain::face::BoundingBox;
use crate::domain::quality::{FaceQuality, QualityIssue};
use crate::engine::decode::Media;
use crate::engine::media::MediaError;
use crate::engine::{AnalysedFace, Embed, Engine, EngineError, FrameAnalysis, StageTimes};
use crate::tokens::claims::CheckDetail;

/// Which input a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Document,
    Selfie,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Selfie => "selfie",
        }
    }
}

/// The comparison could not run: bad input or a broken engine.
#[derive(Debug, thiserror::Error)]
pub enum FaceMatchError {
    #[error("{}", side.name())]
    Media { side: Side, source: MediaError },
    #[error("{}: no face found", side.name())]
    NoFace { side: Side },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl FaceMatchError {
    /// Stable code, e.g. `document_truncated_file`, `selfie_no_face`, `engine_failure`.
    pub fn code(&self) -> String {
        match self {
            Self::Media { side, source } => format!("{}_{}", side.name(), source.code()),
            Self::NoFace { side } => format!("{}_no_face", side.name()),
            Self::Engine(e) => e.code().to_owned(),
        }
    }

    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Self::Engine(_))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentFace {
    pub bbox: BoundingBox,
    pub detector_score: f32,
    pub faces_found: usize,
    pub quality: FaceQuality,
}

#[derive(Debug, Clone, Serialize)]
pub struct SelfieSummary {
    pub frames_decoded: usize,
    pub frames_analysed: usize,
    pub frames_single_face: usize,
    pub frames_used: usize,
    pub similarity_min: f32,
    pub similarity_median: f32,
    /// When, in the selfie, its face was seen best (highest detector score): a reviewer's
    /// key frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_frame_ms: Option<f64>,
}

/// Milliseconds per stage; `decode` of a video is the decoder thread's busy time, which
/// overlaps detection and embedding, so `total` (wall time) can be less than the sum.
#[derive(Debug, Clone, Serialize)]
pub struct Timings {
    pub decode: f64,
    pub detect: f64,
    pub align: f64,
    pub embed: f64,
    pub inference: f64,
    pub total: f64,
}

/// One selfie frame as face match reads it: how many faces, and the largest one measured
/// (embedded when it is alone).
#[derive(Debug, Clone)]
pub struct SelfieFrame {
    pub frame_index: usize,
    pub timestamp_ms: f64,
    pub faces: usize,
    pub primary: Option<AnalysedFace>,
}

impl From<FrameAnalysis> for SelfieFrame {
    fn from(f: FrameAnalysis) -> Self {
        Self { frame_index: f.frame_index, timestamp_ms: f.timestamp_ms, faces: f.face_count(), primary: f.primary }
    }
}

/// The selfie's frames face match uses, and how many the whole clip had.
#[derive(Debug, Clone, Default)]
pub struct SelfieFrames {
    pub decoded: usize,
    pub frames: Vec<SelfieFrame>,
}

/// The outcome of a comparison that ran.
#[derive(Debug, Clone, Serialize)]
pub struct FaceMatch {
    pub similarity: f32,
    pub threshold: f32,
    #[serde(rename = "match")]
    pub is_match: bool,
    pub document: DocumentFace,
    pub selfie: SelfieSummary,
    /// Machine-readable codes, `document_*` or `selfie_*`, when something failed.
    pub reasons: Vec<String>,
    pub timings_ms: Timings,
    /// The document portrait's embedding, for the liveness stage (not serialised).
    #[serde(skip)]
    pub document_embedding: Option<crate::domain::face::Embedding>,
    /// The selfie's template (its counted frames' mean), for the 1:N search (not serialised).
    #[serde(skip)]
    pub selfie_embedding: Option<crate::domain::face::Embedding>,
}

/// Compares the face on `document` with the face in `selfie` (an image or a video). The
/// selfie video is decoded on its own thread while the document and the frames already
/// decoded are analysed; a bad selfie file is reported before a faceless document.
#[instrument(name = "stage", skip_all, fields(stage = "face_match"))]
pub fn compare(engine: &Engine, document: &Path, selfie: &Path, threshold: f32) -> Result<FaceMatch, FaceMatchError> {
    let started = Instant::now();
    let mut times = StageTimes::default();
    let document = engine.decode_image(document, &mut times).map_err(|e| media_error(Side::Document, e))?;
    let selfie = engine.decode(selfie, &mut times).map_err(|e| media_error(Side::Selfie, e))?;
    let portrait = match analyse_document(engine, &document) {
        Ok(portrait) => portrait,
        Err(e) => {
            if let Media::Video(stream) = selfie {
                stream.finish().map_err(|e| media_error(Side::Selfie, e))?;
            }
            return Err(e);
        }
    };
    times.add(&portrait.times);
    let frames = analyse_selfie(engine, selfie, &mut times)?;
    conclude(portrait, &frames, threshold, &times, started)
}

/// The document's portrait: the largest face on it, embedded, and how many faces the
/// document shows, with what finding it cost.
pub struct Portrait {
    face: AnalysedFace,
    faces_found: usize,
    times: StageTimes,
}

/// Finds and embeds the document's portrait (on the pipeline's document thread, beside the
/// selfie's measurements).
pub fn analyse_document(engine: &Engine, document: &opencv::core::Mat) -> Result<Portrait, FaceMatchError> {
    let mut times = StageTimes::default();
    let analysis = engine.analyse(document, 0, 0.0, Embed::Largest, &mut times)?;
    let faces_found = analysis.face_count();
    let face = analysis.primary.ok_or(FaceMatchError::NoFace { side: Side::Document })?;
    Ok(Portrait { face, faces_found, times })
}

/// Compares the document's portrait with selfie frames already measured (the liveness
/// stage's face-match frames: the selfie is decoded once).
pub fn compare_frames(portrait: Portrait, frames: &SelfieFrames, threshold: f32) -> Result<FaceMatch, FaceMatchError> {
    let started = Instant::now();
    let times = portrait.times;
    conclude(portrait, frames, threshold, &times, started)
}

/// Compares the document's portrait with a selfie photo.
pub fn compare_image(
    engine: &Engine,
    portrait: Portrait,
    selfie: &opencv::core::Mat,
    threshold: f32,
) -> Result<FaceMatch, FaceMatchError> {
    let started = Instant::now();
    let mut times = portrait.times;
    let frame = engine.analyse(selfie, 0, 0.0, Embed::WhenAlone, &mut times)?;
    let frames = SelfieFrames { decoded: 1, frames: vec![frame.into()] };
    conclude(portrait, &frames, threshold, &times, started)
}

fn conclude(
    Portrait { face: document_face, faces_found, .. }: Portrait,
    selfie: &SelfieFrames,
    threshold: f32,
    times: &StageTimes,
    started: Instant,
) -> Result<FaceMatch, FaceMatchError> {
    let frames = &selfie.frames;
    if frames.iter().all(|f| f.primary.is_none()) {
        return Err(FaceMatchError::NoFace { side: Side::Selfie });
    }
    let verdict = judge(&document_face, frames, threshold)?;
    tracing::info!(
        similarity = verdict.similarity,
        is_match = verdict.is_match,
        frames_used = verdict.scores,
        "face match done"
    );
    Ok(FaceMatch {
        similarity: verdict.similarity,
        threshold,
        is_match: verdict.is_match,
        document: DocumentFace {
            bbox: document_face.detection.bbox,
            detector_score: document_face.detection.score,
            faces_found,
            quality: document_face.quality,
        },
        selfie: SelfieSummary {
            frames_decoded: selfie.decoded,
            frames_analysed: frames.len(),
            frames_single_face: frames.iter().filter(|f| f.faces == 1).count(),
            frames_used: verdict.scores,
            similarity_min: verdict.similarity_min,
            similarity_median: verdict.similarity,
            best_frame_ms: frames
                .iter()
                .filter_map(|f| f.primary.as_ref().map(|p| (f.timestamp_ms, p.detection.score)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(at, _)| at),
        },
        reasons: verdict.reasons,
        timings_ms: timings(times, started.elapsed().as_secs_f64() * 1e3),
        document_embedding: document_face.embedding.clone(),
        selfie_embedding: verdict.template,
    })
}

impl super::stage::Stage for FaceMatch {
    const NAME: &'static str = "face_match";

    fn audit(&self) -> serde_json::Value {
        serde_json::json!({
            "is_match": self.is_match, "reasons": self.reasons,
            "score_band": self.is_match.then(|| crate::tokens::issue::score_band(self.similarity, self.threshold)),
        })
    }

    fn evidence(&self, ctx: super::stage::EvidenceContext) -> Vec<CheckDetail> {
        vec![CheckDetail {
            check: "face_match".into(),
            check_method: "bvr".into(),
            result: "match".into(),
            score_band: Some(crate::tokens::issue::score_band(self.similarity, ctx.match_threshold).into()),
            lists: Vec::new(),
        }]
    }
}

fn media_error(side: Side, source: MediaError) -> FaceMatchError {
    FaceMatchError::Media { side, source }
}

/// Analyses the selfie: one frame for an image, the sampled frames of a video as they are
/// decoded.
fn analyse_selfie(engine: &Engine, media: Media, times: &mut StageTimes) -> Result<SelfieFrames, FaceMatchError> {
    match media {
        Media::Image { bgr, .. } => {
            Ok(SelfieFrames { decoded: 1, frames: vec![engine.analyse(&bgr, 0, 0.0, Embed::WhenAlone, times)?.into()] })
        }
        Media::Video(stream) => {
            let mut frames = Vec::new();
            for frame in stream.frames() {
                let analysis = engine.analyse(&frame.bgr, frame.index, frame.timestamp_ms, Embed::WhenAlone, times)?;
                frames.push(analysis.into());
            }
            let summary = stream.finish().map_err(|e| media_error(Side::Selfie, e))?;
            // Decoding ran beside the analysis: its busy time is reported, not added to the wall.
            times.decode += summary.busy;
            Ok(SelfieFrames { decoded: summary.decoded, frames })
        }
    }
}

struct Verdict {
    similarity: f32,
    similarity_min: f32,
    scores: usize,
    is_match: bool,
    reasons: Vec<String>,
    /// The mean of the frames' embeddings that counted, normalised: the selfie's template.
    template: Option<crate::domain::face::Embedding>,
}

/// The normalised mean of `embeddings` (one template for a selfie's frames).
fn mean_template<'a>(
    embeddings: impl Iterator<Item = &'a crate::domain::face::Embedding>,
) -> Option<crate::domain::face::Embedding> {
    let mut sum: Vec<f32> = Vec::new();
    for e in embeddings {
        if sum.is_empty() {
            sum = vec![0.0; e.len()];
        }
        sum.iter_mut().zip(e.as_slice()).for_each(|(s, v)| *s += v);
    }
    crate::domain::face::Embedding::from_raw(sum).ok()
}

/// Applies the module's policy: which frames count, the median similarity, the reasons.
fn judge(document: &AnalysedFace, frames: &[SelfieFrame], threshold: f32) -> Result<Verdict, EngineError> {
    let mut reasons: Vec<String> = document.issues.iter().map(|i| reason(Side::Document, *i)).collect();
    let single: Vec<&AnalysedFace> =
        frames.iter().filter(|f| f.faces == 1).filter_map(|f| f.primary.as_ref()).collect();
    if single.len() * 2 < frames.len() {
        reasons.push(reason(Side::Selfie, QualityIssue::SeveralFaces));
    }
    let clean: Vec<&AnalysedFace> = single.iter().copied().filter(|f| f.issues.is_empty()).collect();
    let used = if clean.is_empty() {
        let mut issues: Vec<QualityIssue> = single.iter().flat_map(|f| f.issues.iter().copied()).collect();
        issues.sort_by_key(|i| i.code());
        issues.dedup();
        reasons.extend(issues.into_iter().map(|i| reason(Side::Selfie, i)));
        single
    } else {
        clean
    };
    let reference = document.embedding.as_ref().ok_or(EngineError::UnexpectedOutput("document face not embedded"))?;
    let mut scores: Vec<f32> = used.iter().filter_map(|f| f.embedding.as_ref()).map(|e| reference.cosine(e)).collect();
    scores.sort_by(f32::total_cmp);
    if scores.is_empty() {
        reasons.push(reason(Side::Selfie, QualityIssue::NoFace));
    }
    reasons.dedup();
    let similarity = median(&scores);
    Ok(Verdict {
        similarity,
        similarity_min: scores.first().copied().unwrap_or(-1.0),
        scores: scores.len(),
        is_match: reasons.is_empty() && similarity >= threshold,
        reasons,
        template: mean_template(used.iter().filter_map(|f| f.embedding.as_ref())),
    })
}

fn reason(side: Side, issue: QualityIssue) -> String {
    format!("{}_{}", side.name(), issue.code())
}

fn median(sorted: &[f32]) -> f32 {
    match sorted.len() {
        0 => -1.0,
        n if n % 2 == 1 => sorted.get(n / 2).copied().unwrap_or(-1.0),
        n => (sorted.get(n / 2 - 1).copied().unwrap_or(-1.0) + sorted.get(n / 2).copied().unwrap_or(-1.0)) / 2.0,
    }
}

fn timings(t: &StageTimes, total: f64) -> Timings {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    Timings {
        decode: ms(t.decode),
        detect: ms(t.detect),
        align: ms(t.align),
        embed: ms(t.embed),
        inference: ms(t.inference),
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_lengths() {
        assert_eq!(median(&[0.1, 0.5, 0.9]), 0.5);
        assert!((median(&[0.2, 0.4]) - 0.3).abs() < 1e-6);
        assert_eq!(median(&[]), -1.0);
    }
}
