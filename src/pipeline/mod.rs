//! Verification stages, in the order they run (this file's order). Each stage is a module
//! whose result implements `stage::Stage`: the result owns its audit event and its token
//! evidence, so adding a stage is adding a module, a field of `StageResults` and its line in
//! `run`, `audit_events` and `evidence`; the worker only claims, runs and records jobs.
//!
//! 1. `document_check`: read the document (MRZ / PDF417) and check it against itself and
//!    against the candidate's claims; `document_reuse` weighs earlier verifications with the
//!    same document (looked up by the worker, which holds the store).
//! 2. `face_match`: the document portrait (the largest face on the document) against the
//!    selfie frames (quality gates included); its result records where the portrait was.
//! 3. `liveness`: the selfie video against the session's challenge (in order), planar motion,
//!    the same face throughout and as on the document, injection and replay signals.
//! 4. `risk`: the application's risk signals (claims, document, network and machine, and the
//!    faces searched 1:N against other identities), one 0–100 score; above
//!    `decision.risk_review_above` a human reviews.
//! 5. `decision`: approve / review / reject with reasons.

pub mod decision;
pub mod document_check;
pub mod document_reuse;
pub mod face_match;
pub mod liveness;
pub mod risk;
pub mod stage;

use std::path::PathBuf;

use serde::Serialize;
use tracing::instrument;

use opencv::core::Mat;

use crate::document::reading::ReadError;
use crate::engine::decode::Media;
use crate::engine::media::MediaError;
use crate::engine::{Engine, EngineError};
use decision::{DecisionPolicy, Verdict};
use document_check::{ClaimedIdentity, DocumentCheck, DocumentPolicy};
use face_match::{FaceMatch, FaceMatchError};
use liveness::injection::CaptureReport;
use liveness::observe::{ObserveError, ObserveSettings, Observed};
use liveness::{Liveness, LivenessInput};
use risk::{Risk, RiskFacts};
use stage::EvidenceContext;

use crate::tokens::claims::CheckDetail;

use crate::domain::challenge::Challenge;

/// The decrypted inputs of one verification, as files (removed when dropped).
pub struct CaseFiles {
    pub verification: String,
    pub document_front: PathBuf,
    /// A licence's back (its PDF417 barcode), when the candidate sent one.
    pub document_back: Option<PathBuf>,
    pub selfie: PathBuf,
}

/// What the stages compare the media with, and when.
pub struct CaseFacts {
    pub claims: ClaimedIdentity,
    pub today: time::Date,
    pub document_policy: DocumentPolicy,
    pub liveness: LivenessFacts,
    pub risk: RiskFacts,
}

/// What the liveness stage checks the selfie against (read from storage by the worker).
pub struct LivenessFacts {
    /// No answered challenge fails the stage (`challenge_missing`); else it is skipped.
    pub required: bool,
    /// The answered challenge and the browser's capture report.
    pub challenge: Option<AnsweredChallenge>,
    pub selfie_bytes: Vec<u8>,
    /// Other verifications whose selfie has the same bytes (the organisation's own, and
    /// others' only when cross-organisation links are on).
    pub same_bytes: Vec<liveness::Sighting>,
    pub earlier: Vec<(liveness::Sighting, Vec<u64>)>,
}

/// The challenge a selfie answered.
pub struct AnsweredChallenge {
    pub challenge: Challenge,
    pub capture: CaptureReport,
    /// Challenges issued in this attempt, this one included.
    pub issued: usize,
}

/// A stage that ran, or the input problem that stopped it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StageOutcome<T> {
    Done(T),
    Refused { code: String },
}

/// Every stage's result: stored with the verification (no raw biometrics).
#[derive(Debug, Clone, Serialize)]
pub struct StageResults {
    pub document: StageOutcome<DocumentCheck>,
    pub face_match: StageOutcome<FaceMatch>,
    /// Absent when the deployment does not require liveness and no challenge was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness: Option<StageOutcome<Liveness>>,
    pub risk: StageOutcome<Risk>,
    pub decision: Verdict,
    /// How long each stage took (not stored: the same case takes different times).
    #[serde(skip)]
    pub timings: Vec<StageTiming>,
}

/// One stage's wall time and the part of it spent inside ONNX Runtime.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StageTiming {
    pub stage: &'static str,
    pub wall_ms: f64,
    pub inference_ms: f64,
}

/// Times the stages of one run, on the thread that runs them.
struct Stopwatch {
    timings: Vec<StageTiming>,
    at: (std::time::Instant, std::time::Duration),
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            timings: Vec::new(),
            at: (std::time::Instant::now(), crate::engine::runtime::inference_on_this_thread()),
        }
    }

    /// Ends `stage` (it started where the previous one ended).
    fn lap(&mut self, stage: &'static str) {
        let now = (std::time::Instant::now(), crate::engine::runtime::inference_on_this_thread());
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        self.timings.push(StageTiming {
            stage,
            wall_ms: ms(now.0 - self.at.0),
            inference_ms: ms(now.1.saturating_sub(self.at.1)),
        });
        self.at = now;
    }
}

/// The selfie as the stages read it: measured once, for face match and liveness.
enum Selfie {
    Video(Box<Observed>),
    Image(Mat),
    /// Unreadable media.
    Bad(MediaError),
}

/// The document's side of a run: its stage and the portrait face match needs.
struct DocumentSide {
    document: StageOutcome<DocumentCheck>,
    /// The portrait, or why there is none (an unreadable image, no face on it).
    portrait: Result<face_match::Portrait, FaceMatchError>,
}

/// Runs every stage in order. An engine failure is an error (the job is retried); a problem
/// with the candidate's media is a result. Each input is decoded once: the document's front
/// (and back) for the document stage and the portrait, the selfie video in one pass whose
/// measurements serve face match and liveness. (The document's side on a thread of its own
/// beside the selfie's was measured: 0.25 s sooner, but both sides' memory at once took the
/// peak over 400 MB, `cargo bench --bench verify`.)
#[instrument(name = "pipeline", skip_all, fields(verification = %case.verification))]
pub fn run(
    engine: &Engine,
    case: &CaseFiles,
    facts: &CaseFacts,
    policy: DecisionPolicy,
) -> Result<StageResults, EngineError> {
    let mut watch = Stopwatch::start();
    let DocumentSide { document, portrait } = document_side(engine, case, facts, &mut watch)?;
    let selfie = observe_selfie(engine, case)?;
    watch.lap("selfie");
    let face = {
        let _stage = tracing::info_span!("stage", stage = "face_match").entered();
        let compared = match (portrait, &selfie) {
            (Err(e @ FaceMatchError::Media { .. }), _) => Err(e),
            (_, Selfie::Bad(e)) => Err(FaceMatchError::Media { side: face_match::Side::Selfie, source: e.same() }),
            (Err(e), _) => Err(e),
            (Ok(portrait), Selfie::Video(observed)) => {
                face_match::compare_frames(portrait, &observed.selfie_frames(), policy.match_threshold)
            }
            (Ok(portrait), Selfie::Image(bgr)) => {
                face_match::compare_image(engine, portrait, bgr, policy.match_threshold)
            }
        };
        match compared {
            Ok(face) => StageOutcome::Done(face),
            Err(FaceMatchError::Engine(e)) => return Err(e),
            Err(e) => StageOutcome::Refused { code: e.code() },
        }
    };
    watch.lap("face_match");
    let liveness = liveness_stage(&selfie, &facts.liveness, &face, policy.match_threshold)?;
    drop(selfie);
    watch.lap("liveness");
    let risk = {
        let _stage = tracing::info_span!("stage", stage = "risk").entered();
        StageOutcome::Done(risk::assess_case(&facts.risk, document.as_result().ok(), face.as_result().ok()))
    };
    watch.lap("risk");
    let mut results = StageResults {
        document,
        face_match: face,
        liveness,
        risk,
        decision: decision::Verdict::pending(),
        timings: Vec::new(),
    };
    results.decide(policy);
    watch.lap("decision");
    results.timings = watch.timings;
    tracing::info!(decision = ?results.decision.decision, "pipeline done");
    Ok(results)
}

/// The document stage, then the portrait (the largest face on the front, embedded).
fn document_side(
    engine: &Engine,
    case: &CaseFiles,
    facts: &CaseFacts,
    watch: &mut Stopwatch,
) -> Result<DocumentSide, EngineError> {
    let mut times = crate::engine::StageTimes::default();
    let front = engine.decode_image_bytes(&case.document_front, &mut times);
    let document = {
        let _stage = tracing::info_span!("stage", stage = "document").entered();
        let back = case.document_back.as_deref().map(|b| engine.decode_image_bytes(b, &mut times)).transpose();
        // What the upload's readability answer read of the same bytes today is not read again.
        let known = |bytes: &[u8]| engine.readings().take(&case.verification, bytes, facts.today);
        let checked = match (&front, back) {
            (Ok((front_bytes, front)), Ok(back)) => document_check::check_images(
                engine,
                front,
                back.as_ref().map(|(_, bgr)| bgr),
                [known(front_bytes), back.as_ref().and_then(|(bytes, _)| known(bytes))],
                &facts.claims,
                facts.today,
                facts.document_policy,
            ),
            (Err(e), _) => Err(ReadError::Media(e.same())),
            (_, Err(e)) => Err(ReadError::Media(e)),
        };
        match checked {
            Ok(check) => StageOutcome::Done(check),
            Err(ReadError::Engine(e)) => return Err(e),
            Err(e) => StageOutcome::Refused { code: e.code() },
        }
    };
    watch.lap("document");
    let portrait = {
        let _stage = tracing::info_span!("stage", stage = "portrait").entered();
        match front {
            Err(e) => Err(FaceMatchError::Media { side: face_match::Side::Document, source: e }),
            Ok((_, bgr)) => match face_match::analyse_document(engine, &bgr) {
                Err(FaceMatchError::Engine(e)) => return Err(e),
                other => other,
            },
        }
    };
    watch.lap("portrait");
    Ok(DocumentSide { document, portrait })
}

/// Opens the selfie and, for a video, measures it in one pass.
fn observe_selfie(engine: &Engine, case: &CaseFiles) -> Result<Selfie, EngineError> {
    let _stage = tracing::info_span!("stage", stage = "selfie").entered();
    Ok(match liveness::observe::open(engine, &case.selfie) {
        Ok(Media::Image { bgr, .. }) => Selfie::Image(bgr),
        Ok(Media::Video(stream)) => match liveness::observe::observe_stream(engine, stream, ObserveSettings::default())
        {
            Ok(observed) => Selfie::Video(Box::new(observed)),
            Err(ObserveError::Engine(e)) => return Err(e),
            Err(ObserveError::Media(e)) => Selfie::Bad(e),
            Err(ObserveError::NotVideo) => Selfie::Bad(MediaError::Undecodable),
        },
        Err(e) => Selfie::Bad(e),
    })
}

fn liveness_stage(
    selfie: &Selfie,
    facts: &LivenessFacts,
    face: &StageOutcome<FaceMatch>,
    threshold: f32,
) -> Result<Option<StageOutcome<Liveness>>, EngineError> {
    let Some(answered) = &facts.challenge else {
        return Ok(facts.required.then(|| StageOutcome::Refused { code: "challenge_missing".to_owned() }));
    };
    let observed = match selfie {
        Selfie::Video(observed) => observed,
        Selfie::Image(_) => return Ok(Some(StageOutcome::Refused { code: "selfie_not_video".to_owned() })),
        Selfie::Bad(e) => return Ok(Some(StageOutcome::Refused { code: format!("selfie_{}", e.code()) })),
    };
    let document_face = match face {
        StageOutcome::Done(f) => f.document_embedding.as_ref(),
        StageOutcome::Refused { .. } => None,
    };
    let input = LivenessInput {
        steps: &answered.challenge.steps,
        timing: answered.challenge.timing.as_ref(),
        challenges_issued: answered.issued,
        capture: &answered.capture,
        bytes: &facts.selfie_bytes,
        same_bytes: &facts.same_bytes,
        earlier: &facts.earlier,
        document_face,
        face_threshold: threshold,
    };
    let _stage = tracing::info_span!("stage", stage = "liveness").entered();
    liveness::assess_observed(observed, &input).map(|l| Some(StageOutcome::Done(l))).map_err(EngineError::OpenCv)
}

impl StageResults {
    /// (Re)computes the decision from the stages' results.
    pub fn decide(&mut self, policy: DecisionPolicy) {
        let _stage = tracing::info_span!("stage", stage = "decision").entered();
        let stages = decision::Stages {
            face: self.face_match.as_result(),
            document: self.document.as_result(),
            liveness: self.liveness.as_ref().map(StageOutcome::as_result),
            risk: self.risk.as_result(),
        };
        self.decision = decision::decide(&stages, policy);
    }

    /// Each stage's audit event data, in the order the stages ran (the decision's own event
    /// is the worker's, as it commits to the stored results).
    pub fn audit_events(&self) -> Vec<serde_json::Value> {
        let mut events = vec![self.document.audit_event(), self.face_match.audit_event()];
        events.extend(self.liveness.as_ref().map(StageOutcome::audit_event));
        events.push(self.risk.audit_event());
        events
    }

    /// What an approved token says the stages established.
    pub fn evidence(&self, ctx: EvidenceContext) -> Vec<CheckDetail> {
        let mut checks = self.document.evidence(ctx);
        checks.extend(self.face_match.evidence(ctx));
        checks.extend(self.liveness.iter().flat_map(|l| l.evidence(ctx)));
        checks.extend(self.risk.evidence(ctx));
        checks
    }
}
