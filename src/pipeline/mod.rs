//! Verification stages, in the order they run (this file's order). Each stage is a module
//! with a typed result; adding a stage is adding a module and a field of `StageResults`.
//!
//! 1. `face_match`: the document portrait against the selfie frames (quality gates included).
//! 2. `decision`: approve / review / reject with reasons.

pub mod decision;
pub mod face_match;

use std::path::PathBuf;

use serde::Serialize;
use tracing::instrument;

use crate::engine::{Engine, EngineError};
use decision::{DecisionPolicy, Verdict};
use face_match::{FaceMatch, FaceMatchError};

/// The decrypted inputs of one verification, as files (removed when dropped).
pub struct CaseFiles {
    pub verification: String,
    pub document_front: PathBuf,
    pub selfie: PathBuf,
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
    pub face_match: StageOutcome<FaceMatch>,
    pub decision: Verdict,
}

/// Runs every stage in order. An engine failure is an error (the job is retried); a problem
/// with the candidate's media is a result.
#[instrument(name = "pipeline", skip_all, fields(verification = %case.verification))]
pub fn run(engine: &Engine, case: &CaseFiles, policy: DecisionPolicy) -> Result<StageResults, EngineError> {
    let face = match face_match::compare(engine, &case.document_front, &case.selfie, policy.match_threshold) {
        Ok(face) => StageOutcome::Done(face),
        Err(FaceMatchError::Engine(e)) => return Err(e),
        Err(e) => StageOutcome::Refused { code: e.code() },
    };
    let decision = {
        let _stage = tracing::info_span!("stage", stage = "decision").entered();
        match &face {
            StageOutcome::Done(f) => decision::decide(Ok(f), policy),
            StageOutcome::Refused { code } => decision::decide(Err(code), policy),
        }
    };
    tracing::info!(decision = ?decision.decision, "pipeline done");
    Ok(StageResults { face_match: face, decision })
}
