//! The decision stage: approve, send to a human (review) or reject, with reason codes.

use serde::Serialize;

use super::document_check::{DocumentCheck, Severity};
use super::face_match::FaceMatch;
use super::liveness::Liveness;
use super::risk::Risk;
use crate::domain::verification::Decision;

/// Thresholds the decision uses (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct DecisionPolicy {
    pub match_threshold: f32,
    /// Similarity in [threshold − margin, threshold) goes to review rather than reject.
    pub review_margin: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub decision: Decision,
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Before the stages ran.
    pub fn pending() -> Self {
        Self { decision: Decision::Review, reasons: vec!["pending".into()] }
    }
}

/// Each stage's result, or the code of the input problem that stopped it.
pub struct Stages<'a> {
    pub face: Result<&'a FaceMatch, &'a str>,
    pub document: Result<&'a DocumentCheck, &'a str>,
    /// When it ran.
    pub liveness: Option<Result<&'a Liveness, &'a str>>,
    pub risk: Result<&'a Risk, &'a str>,
}

/// The document's findings weigh in by severity: any critical one rejects, any
/// major one sends an otherwise approved verification to review; their codes are reasons.
/// Liveness (when it ran): a failure rejects with its reasons; its review signals send an
/// otherwise approved verification to review. A risk score above the review threshold sends
/// it to review (`risk_score_high`), whatever the other stages found; a sanctions match whose
/// birth date agrees is at least review, or a reject by configuration (`sanctions_match`).
pub fn decide(stages: &Stages<'_>, policy: DecisionPolicy) -> Verdict {
    let face_verdict = decide_face(stages.face, policy);
    let (severity, codes) = match stages.document {
        Ok(check) => (
            check.worst(),
            check.findings.iter().filter(|f| f.severity > Severity::Info).map(|f| f.code.to_owned()).collect(),
        ),
        Err(code) => (Some(Severity::Critical), vec![code.to_owned()]),
    };
    let mut reasons = face_verdict.reasons;
    for code in codes {
        if !reasons.contains(&code) {
            reasons.push(code);
        }
    }
    let mut decision = match (face_verdict.decision, severity) {
        (_, Some(Severity::Critical)) | (Decision::Reject, _) => Decision::Reject,
        (_, Some(Severity::Major)) | (Decision::Review, _) => Decision::Review,
        (d, _) => d,
    };
    let (live_decision, live_reasons) = match stages.liveness {
        None => (Decision::Approve, Vec::new()),
        Some(Err(code)) => (Decision::Reject, vec![code.to_owned()]),
        Some(Ok(l)) if !l.passed => (Decision::Reject, l.reasons.iter().chain(&l.review).cloned().collect()),
        Some(Ok(l)) if !l.review.is_empty() => (Decision::Review, l.review.clone()),
        Some(Ok(_)) => (Decision::Approve, Vec::new()),
    };
    for code in live_reasons {
        if !reasons.contains(&code) {
            reasons.push(code);
        }
    }
    decision = worse(decision, live_decision);
    let risk_decision = match stages.risk {
        Ok(risk) if risk.reject => {
            reasons.push("sanctions_match".to_owned());
            Decision::Reject
        }
        Ok(risk) if risk.sanctions_hit => {
            reasons.push("sanctions_match".to_owned());
            Decision::Review
        }
        Ok(risk) if risk.review => {
            reasons.push("risk_score_high".to_owned());
            Decision::Review
        }
        Ok(_) => Decision::Approve,
        Err(code) => {
            reasons.push(code.to_owned());
            Decision::Review
        }
    };
    Verdict { decision: worse(decision, risk_decision), reasons }
}

/// The more severe of two decisions.
fn worse(a: Decision, b: Decision) -> Decision {
    match (a, b) {
        (Decision::Reject, _) | (_, Decision::Reject) => Decision::Reject,
        (Decision::Review, _) | (_, Decision::Review) => Decision::Review,
        (d, _) => d,
    }
}

fn decide_face(face: Result<&FaceMatch, &str>, policy: DecisionPolicy) -> Verdict {
    let face = match face {
        Ok(face) => face,
        Err(code) => return Verdict { decision: Decision::Reject, reasons: vec![code.to_owned()] },
    };
    let mut reasons = face.reasons.clone();
    let decision = if face.is_match {
        Decision::Approve
    } else if face.similarity >= policy.match_threshold {
        // The faces agree but a quality gate failed: a human looks.
        Decision::Review
    } else if face.similarity >= policy.match_threshold - policy.review_margin {
        reasons.push("face_match_borderline".into());
        Decision::Review
    } else {
        reasons.push("face_mismatch".into());
        Decision::Reject
    };
    Verdict { decision, reasons }
}
