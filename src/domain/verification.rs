//! A verification's identity and its state machine.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Opaque verification id (UUID v4, random).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VerificationId(uuid::Uuid);

impl VerificationId {
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::parse_str(raw).ok().map(Self)
    }
}

impl fmt::Display for VerificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a verification is. Transitions: created → consented → document_uploaded →
/// selfie_uploaded → submitted → processing → approved | rejected | review | failed
/// (processing may go back to submitted when a job is retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Consented,
    DocumentUploaded,
    SelfieUploaded,
    Submitted,
    Processing,
    Approved,
    Rejected,
    Review,
    Failed,
}

/// The candidate steps and what the state machine allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Consent,
    UploadDocument,
    UploadSelfie,
    Submit,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Self::Created,
        Self::Consented,
        Self::DocumentUploaded,
        Self::SelfieUploaded,
        Self::Submitted,
        Self::Processing,
        Self::Approved,
        Self::Rejected,
        Self::Review,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Consented => "consented",
            Self::DocumentUploaded => "document_uploaded",
            Self::SelfieUploaded => "selfie_uploaded",
            Self::Submitted => "submitted",
            Self::Processing => "processing",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Review => "review",
            Self::Failed => "failed",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected | Self::Review | Self::Failed)
    }

    /// The status after `step`, or `None` when the step is out of order. Re-uploading the
    /// document is allowed until the selfie is in (a candidate may retake a blurred photo).
    pub fn after(self, step: Step) -> Option<Status> {
        match (self, step) {
            (Self::Created, Step::Consent) => Some(Self::Consented),
            (Self::Consented | Self::DocumentUploaded, Step::UploadDocument) => Some(Self::DocumentUploaded),
            (Self::DocumentUploaded, Step::UploadSelfie) => Some(Self::SelfieUploaded),
            (Self::SelfieUploaded, Step::Submit) => Some(Self::Submitted),
            _ => None,
        }
    }

    /// What the candidate should do next.
    pub fn next_step(self) -> Option<&'static str> {
        match self {
            Self::Created => Some("consent"),
            Self::Consented => Some("upload_document"),
            Self::DocumentUploaded => Some("upload_selfie"),
            Self::SelfieUploaded => Some("submit"),
            _ => None,
        }
    }
}

impl FromStr for Status {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or(())
    }
}

/// The pipeline's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Review,
    Reject,
}

impl Decision {
    pub fn status(self) -> Status {
        match self {
            Self::Approve => Status::Approved,
            Self::Review => Status::Review,
            Self::Reject => Status::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_walks_every_step_once() {
        let mut s = Status::Created;
        for step in [Step::Consent, Step::UploadDocument, Step::UploadSelfie, Step::Submit] {
            s = s.after(step).unwrap();
        }
        assert_eq!(s, Status::Submitted);
    }

    #[test]
    fn out_of_order_steps_are_refused() {
        assert_eq!(Status::Created.after(Step::UploadSelfie), None);
        assert_eq!(Status::Consented.after(Step::Consent), None);
        assert_eq!(Status::Submitted.after(Step::UploadDocument), None);
        assert_eq!(Status::SelfieUploaded.after(Step::UploadDocument), None);
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
    }
}
