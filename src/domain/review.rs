//! A human review: what a reviewer may decide, the reason codes each decision takes, and the
//! four-eyes rule. Pure: the storage and the HTTP layer apply it.

use serde::{Deserialize, Serialize};

use super::verification::Status;

/// What a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The candidate is who they claim: a token is issued as for an automatic approval.
    Approve,
    Reject,
    /// The candidate is asked to photograph the document and record the selfie again.
    Retake,
}

impl ReviewDecision {
    pub const ALL: [ReviewDecision; 3] = [Self::Approve, Self::Reject, Self::Retake];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Retake => "retake",
        }
    }

    /// The reason codes this decision takes (public API: listed in the OpenAPI, never renamed).
    pub fn reasons(self) -> &'static [&'static str] {
        match self {
            Self::Approve => APPROVE_REASONS,
            Self::Reject => REJECT_REASONS,
            Self::Retake => RETAKE_REASONS,
        }
    }

    /// The verification's status once this decision is final.
    pub fn status(self) -> Status {
        match self {
            Self::Approve => Status::Approved,
            Self::Reject => Status::Rejected,
            Self::Retake => Status::Consented,
        }
    }
}

/// Why a reviewer approved.
pub const APPROVE_REASONS: &[&str] = &[
    "identity_confirmed",
    "document_confirmed_manually",
    "face_match_confirmed",
    "risk_signal_explained",
    "sanctions_false_positive",
    "reuse_explained",
];

/// Why a reviewer rejected.
pub const REJECT_REASONS: &[&str] = &[
    "document_forged",
    "document_not_matching_claims",
    "face_mismatch_confirmed",
    "liveness_spoof",
    "sanctions_confirmed",
    "identity_reused",
    "laptop_farm",
    "synthetic_identity",
    "other_fraud",
];

/// Why a reviewer asked for a retake.
pub const RETAKE_REASONS: &[&str] = &[
    "document_unreadable",
    "document_glare_or_crop",
    "wrong_document",
    "selfie_poor_quality",
    "challenge_not_followed",
];

/// The longest note a reviewer may write (characters).
pub const NOTE_MAX_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRuleError {
    #[error("the reason code is not one of this decision's")]
    UnknownReason,
    #[error("the note is empty, too long or has control characters")]
    BadNote,
}

/// A decision with its reason and note, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct ReviewInput {
    pub decision: ReviewDecision,
    pub reason: &'static str,
    /// Free text by the reviewer: may name the candidate, so it is sealed at rest.
    pub note: String,
}

impl std::fmt::Debug for ReviewInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewInput").field("decision", &self.decision).field("reason", &self.reason).finish()
    }
}

impl ReviewInput {
    pub fn parse(decision: ReviewDecision, reason: &str, note: &str) -> Result<Self, ReviewRuleError> {
        let reason = decision.reasons().iter().find(|r| **r == reason).ok_or(ReviewRuleError::UnknownReason)?;
        let note = note.trim();
        let fits = !note.is_empty()
            && note.chars().count() <= NOTE_MAX_CHARS
            && note.chars().all(|c| !c.is_control() || c == '\n' || c == '\t');
        if !fits {
            return Err(ReviewRuleError::BadNote);
        }
        Ok(Self { decision, reason, note: note.to_owned() })
    }
}

/// The statuses a reviewer can act on: cases sent to review, and rejected ones (a rejection
/// can be overturned under the four-eyes rule).
pub fn reviewable(status: Status) -> bool {
    matches!(status, Status::Review | Status::Rejected)
}

/// Whether `decision` on a case in `status` with these automatic `reasons` needs a second
/// reviewer (four eyes): anything but a reject overturns an automatic reject or a sanctions
/// match.
pub fn needs_second_reviewer(decision: ReviewDecision, status: Status, reasons: &[String]) -> bool {
    decision != ReviewDecision::Reject && (status == Status::Rejected || reasons.iter().any(|r| r == "sanctions_match"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_belong_to_their_decision() {
        assert!(ReviewInput::parse(ReviewDecision::Reject, "document_forged", "MRZ font wrong").is_ok());
        assert_eq!(
            ReviewInput::parse(ReviewDecision::Approve, "document_forged", "x"),
            Err(ReviewRuleError::UnknownReason)
        );
        assert_eq!(
            ReviewInput::parse(ReviewDecision::Retake, "selfie_poor_quality", "   "),
            Err(ReviewRuleError::BadNote)
        );
        assert_eq!(
            ReviewInput::parse(ReviewDecision::Retake, "selfie_poor_quality", "a\u{0}b"),
            Err(ReviewRuleError::BadNote)
        );
        let long = "x".repeat(NOTE_MAX_CHARS + 1);
        assert_eq!(
            ReviewInput::parse(ReviewDecision::Retake, "selfie_poor_quality", &long),
            Err(ReviewRuleError::BadNote)
        );
        let parsed = ReviewInput::parse(ReviewDecision::Approve, "identity_confirmed", " ok\nchecked ").unwrap();
        assert_eq!(parsed.note, "ok\nchecked");
        assert!(!format!("{parsed:?}").contains("checked"));
    }

    #[test]
    fn overturning_a_reject_or_a_sanctions_match_takes_four_eyes() {
        let none: Vec<String> = Vec::new();
        let sanctions = vec!["risk_score_high".to_owned(), "sanctions_match".to_owned()];
        assert!(!needs_second_reviewer(ReviewDecision::Approve, Status::Review, &none));
        assert!(needs_second_reviewer(ReviewDecision::Approve, Status::Rejected, &none));
        assert!(needs_second_reviewer(ReviewDecision::Retake, Status::Rejected, &none));
        assert!(needs_second_reviewer(ReviewDecision::Approve, Status::Review, &sanctions));
        assert!(!needs_second_reviewer(ReviewDecision::Reject, Status::Review, &sanctions));
        assert!(!needs_second_reviewer(ReviewDecision::Reject, Status::Rejected, &none));
    }

    #[test]
    fn only_review_and_rejected_cases_are_reviewable() {
        let can: Vec<Status> = Status::ALL.into_iter().filter(|s| reviewable(*s)).collect();
        assert_eq!(can, [Status::Rejected, Status::Review]);
    }
}
