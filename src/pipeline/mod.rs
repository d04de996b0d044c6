//! Verification stages, in the order they run (this file's order). Each stage is a module
//! with a typed result; adding a stage is adding a module and a field of `StageResults`.
//!
//! 1. `document_check`: read the document (MRZ / PDF417) and check it against itself and
//!    against the candidate's claims.
//! 2. `face_match`: the document portrait (the largest face on the document) against the
//!    selfie frames (quality gates included); its result records where the portrait was.
//! 3. `decision`: approve / review / reject with reasons.

pub mod decision;
pub mod document_check;
pub mod face_match;

use std::path::PathBuf;

use serde::Serialize;
use tracing::instrument;

use crate::document::reading::ReadError;
use crate::engine::{Engine, EngineError};
use decision::{DecisionPolicy, Verdict};
use document_check::{ClaimedIdentity, DocumentCheck, DocumentPolicy};
use face_match::{FaceMatch, FaceMatchError};

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
    let mut results = StageResults { document, face_match: face, decision: decision::Verdict::pending() };
    results.decide(policy);
    tracing::info!(decision = ?results.decision.decision, "pipeline done");
    Ok(results)
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
        self.decision = decision::decide(face, document, policy);
    }
}
