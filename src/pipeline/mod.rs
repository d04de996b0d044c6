//! Verification stages, in the order they run (this file's order). Each stage is a module
//! with a typed result; adding a stage is adding a module and a field of `StageResults`.
//!
//! 1. `document_check`: read the document (MRZ / PDF417) and check it against itself and
//!    against the candidate's claims; `document_reuse` weighs earlier verifications with the
//!    same document (looked up by the worker, which holds the store).
//! 2. `face_match`: the document portrait (the largest face on the document) against the
//!    selfie frames (quality gates included); its result records where the portrait was.
//! 3. `liveness`: the selfie video against the session's challenge (in order), planar motion,
//!    the same face throughout and as on the document, injection and replay signals.
//! 4. `decision`: approve / review / reject with reasons.

pub mod decision;
pub mod document_check;
pub mod document_reuse;
pub mod face_match;
pub mod liveness;

use std::path::PathBuf;

use serde::Serialize;
use tracing::instrument;

use crate::document::reading::ReadError;
use crate::engine::{Engine, EngineError};
use decision::{DecisionPolicy, Verdict};
use document_check::{ClaimedIdentity, DocumentCheck, DocumentPolicy};
use face_match::{FaceMatch, FaceMatchError};
use liveness::injection::CaptureReport;
use liveness::observe::ObserveError;
use liveness::{Liveness, LivenessInput};

use crate::domain::challenge::Action;

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
}

/// What the liveness stage checks the selfie against (read from storage by the worker).
pub struct LivenessFacts {
    /// No answered challenge fails the stage (`challenge_missing`); else it is skipped.
    pub required: bool,
    /// The answered challenge's steps and the browser's capture report.
    pub challenge: Option<(Vec<Action>, CaptureReport)>,
    pub selfie_bytes: Vec<u8>,
    pub same_bytes: Vec<String>,
    pub earlier: Vec<(String, Vec<u64>)>,
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
    pub decision: Verdict,
}

/// Runs every stage in order. An engine failure is an error (the job is retried); a problem
/// with the candidate's media is a result.
#[instrument(name = "pipeline", skip_all, fields(verification = %case.verification))]
pub fn run(
    engine: &Engine,
    case: &CaseFiles,
    facts: &CaseFacts,
    policy: DecisionPolicy,
) -> Result<StageResults, EngineError> {
    let document = {
        let _stage = tracing::info_span!("stage", stage = "document").entered();
        match document_check::check(
            engine,
            &case.document_front,
            case.document_back.as_deref(),
            &facts.claims,
            facts.today,
            facts.document_policy,
        ) {
            Ok(check) => StageOutcome::Done(check),
            Err(ReadError::Engine(e)) => return Err(e),
            Err(e) => StageOutcome::Refused { code: e.code() },
        }
    };
    let face = match face_match::compare(engine, &case.document_front, &case.selfie, policy.match_threshold) {
        Ok(face) => StageOutcome::Done(face),
        Err(FaceMatchError::Engine(e)) => return Err(e),
        Err(e) => StageOutcome::Refused { code: e.code() },
    };
    let liveness = liveness_stage(engine, case, &facts.liveness, &face, policy.match_threshold)?;
    let mut results = StageResults { document, face_match: face, liveness, decision: decision::Verdict::pending() };
    results.decide(policy);
    tracing::info!(decision = ?results.decision.decision, "pipeline done");
    Ok(results)
}

fn liveness_stage(
    engine: &Engine,
    case: &CaseFiles,
    facts: &LivenessFacts,
    face: &StageOutcome<FaceMatch>,
    threshold: f32,
) -> Result<Option<StageOutcome<Liveness>>, EngineError> {
    let Some((steps, capture)) = &facts.challenge else {
        return Ok(facts.required.then(|| StageOutcome::Refused { code: "challenge_missing".to_owned() }));
    };
    let document_face = match face {
        StageOutcome::Done(f) => f.document_embedding.as_ref(),
        StageOutcome::Refused { .. } => None,
    };
    let input = LivenessInput {
        steps,
        capture,
        bytes: &facts.selfie_bytes,
        same_bytes: &facts.same_bytes,
        earlier: &facts.earlier,
        document_face,
        face_threshold: threshold,
    };
    Ok(Some(match liveness::assess(engine, &case.selfie, &input) {
        Ok(result) => StageOutcome::Done(result),
        Err(ObserveError::Engine(e)) => return Err(e),
        Err(ObserveError::NotVideo) => StageOutcome::Refused { code: "selfie_not_video".to_owned() },
        Err(ObserveError::Media(e)) => StageOutcome::Refused { code: format!("selfie_{}", e.code()) },
    }))
}

impl StageResults {
    /// (Re)computes the decision from the stages' results.
    pub fn decide(&mut self, policy: DecisionPolicy) {
        let _stage = tracing::info_span!("stage", stage = "decision").entered();
        let face = match &self.face_match {
            StageOutcome::Done(f) => Ok(f),
            StageOutcome::Refused { code } => Err(code.as_str()),
        };
        let document = match &self.document {
            StageOutcome::Done(d) => Ok(d),
            StageOutcome::Refused { code } => Err(code.as_str()),
        };
        let liveness = self.liveness.as_ref().map(|l| match l {
            StageOutcome::Done(l) => Ok(l),
            StageOutcome::Refused { code } => Err(code.as_str()),
        });
        self.decision = decision::decide(face, document, liveness, policy);
    }
}
