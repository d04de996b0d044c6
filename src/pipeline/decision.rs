//! The decision stage: approve, send to a human (review) or reject, with reason codes.

use serde::Serialize;

use super::face_match::FaceMatch;
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

/// `face` is the face-match result, or the code of the input problem that stopped it.
pub fn decide(face: Result<&FaceMatch, &str>, policy: DecisionPolicy) -> Verdict {
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
