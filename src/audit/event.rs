//! What an audit event says: who did what to which verification, and when. Events carry
//! digests, codes and decisions, never raw biometrics or PII in clear. The stored entry is
//! the canonical JSON below; its bytes are the Merkle leaf.

use serde::Serialize;

use crate::domain::role::Role;
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Kind {
    #[serde(rename = "verification.created")]
    VerificationCreated,
    #[serde(rename = "candidate.consented")]
    Consented,
    #[serde(rename = "media.uploaded")]
    MediaUploaded,
    #[serde(rename = "challenge.issued")]
    ChallengeIssued,
    #[serde(rename = "verification.submitted")]
    Submitted,
    #[serde(rename = "stage.completed")]
    StageCompleted,
    #[serde(rename = "verification.decided")]
    Decided,
    #[serde(rename = "verification.failed")]
    Failed,
    #[serde(rename = "token.issued")]
    TokenIssued,
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    #[serde(rename = "key.generated")]
    KeyGenerated,
    #[serde(rename = "key.activated")]
    KeyActivated,
    #[serde(rename = "key.compromised")]
    KeyCompromised,
    #[serde(rename = "review.claimed")]
    ReviewClaimed,
    #[serde(rename = "review.recorded")]
    ReviewRecorded,
    #[serde(rename = "verification.retake_requested")]
    RetakeRequested,
    #[serde(rename = "api_key.created")]
    ApiKeyCreated,
    #[serde(rename = "api_key.revoked")]
    ApiKeyRevoked,
    #[serde(rename = "webhook_secret.rotated")]
    WebhookSecretRotated,
    #[serde(rename = "verification.purged")]
    Purged,
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.set_up")]
    UserSetUp,
    #[serde(rename = "user.signed_in")]
    UserSignedIn,
    #[serde(rename = "user.signed_out")]
    UserSignedOut,
    #[serde(rename = "user.locked")]
    UserLocked,
    #[serde(rename = "case.evidence_viewed")]
    EvidenceViewed,
    #[serde(rename = "user.disabled")]
    UserDisabled,
}

impl Kind {
    pub const ALL: [Kind; 27] = [
        Self::VerificationCreated,
        Self::Consented,
        Self::MediaUploaded,
        Self::ChallengeIssued,
        Self::Submitted,
        Self::StageCompleted,
        Self::Decided,
        Self::Failed,
        Self::TokenIssued,
        Self::TokenRevoked,
        Self::KeyGenerated,
        Self::KeyActivated,
        Self::KeyCompromised,
        Self::ReviewClaimed,
        Self::ReviewRecorded,
        Self::RetakeRequested,
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
        Self::WebhookSecretRotated,
        Self::Purged,
        Self::UserCreated,
        Self::UserSetUp,
        Self::UserSignedIn,
        Self::UserSignedOut,
        Self::UserLocked,
        Self::EvidenceViewed,
        Self::UserDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerificationCreated => "verification.created",
            Self::Consented => "candidate.consented",
            Self::MediaUploaded => "media.uploaded",
            Self::ChallengeIssued => "challenge.issued",
            Self::Submitted => "verification.submitted",
            Self::StageCompleted => "stage.completed",
            Self::Decided => "verification.decided",
            Self::Failed => "verification.failed",
            Self::TokenIssued => "token.issued",
            Self::TokenRevoked => "token.revoked",
            Self::KeyGenerated => "key.generated",
            Self::KeyActivated => "key.activated",
            Self::KeyCompromised => "key.compromised",
            Self::ReviewClaimed => "review.claimed",
            Self::ReviewRecorded => "review.recorded",
            Self::RetakeRequested => "verification.retake_requested",
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::WebhookSecretRotated => "webhook_secret.rotated",
            Self::Purged => "verification.purged",
            Self::UserCreated => "user.created",
            Self::UserSetUp => "user.set_up",
            Self::UserSignedIn => "user.signed_in",
            Self::UserSignedOut => "user.signed_out",
            Self::UserLocked => "user.locked",
            Self::EvidenceViewed => "case.evidence_viewed",
            Self::UserDisabled => "user.disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// An HR-side caller, by its key prefix (`idg_XXXXXXXX`, never the secret).
    ApiKey { key_prefix: String, role: Role },
    /// The candidate, holding the verification's link.
    Candidate { verification: String },
    /// idgate itself (`worker`, `server`).
    System { component: &'static str },
    /// An operator at the command line.
    Operator { command: &'static str },
    /// A person signed in to the console, by user id (never the e-mail).
    User { user: String, role: Role },
}

/// An event to append (the sequence number is given by the log).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: Kind,
    pub org_id: Option<String>,
    pub verification_id: Option<String>,
    pub actor: Actor,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn about(kind: Kind, org_id: &str, verification: &str, actor: Actor, data: serde_json::Value) -> Self {
        Self { kind, org_id: Some(org_id.to_owned()), verification_id: Some(verification.to_owned()), actor, data }
    }

    /// An event about an organisation, not one verification (its keys, its secrets).
    pub fn of_org(kind: Kind, org_id: &str, actor: Actor, data: serde_json::Value) -> Self {
        Self { kind, org_id: Some(org_id.to_owned()), verification_id: None, actor, data }
    }

    pub fn global(kind: Kind, actor: Actor, data: serde_json::Value) -> Self {
        Self { kind, org_id: None, verification_id: None, actor, data }
    }

    /// The canonical entry: fixed field order, `data` with sorted keys (serde_json's map).
    pub fn entry(&self, seq: u64, at: Timestamp) -> Result<String, serde_json::Error> {
        #[derive(Serialize)]
        struct Entry<'a> {
            v: u8,
            seq: u64,
            at: String,
            kind: Kind,
            org: Option<&'a str>,
            verification: Option<&'a str>,
            actor: &'a Actor,
            data: &'a serde_json::Value,
        }
        serde_json::to_string(&Entry {
            v: 1,
            seq,
            at: at.to_rfc3339(),
            kind: self.kind,
            org: self.org_id.as_deref(),
            verification: self.verification_id.as_deref(),
            actor: &self.actor,
            data: &self.data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_entries_are_canonical() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        let e = NewEvent::about(
            Kind::Consented,
            "acme",
            "v1",
            Actor::Candidate { verification: "v1".into() },
            serde_json::json!({"z": 1, "a": 2}),
        );
        let entry = e.entry(7, Timestamp::from_millis(1_795_000_000_000)).unwrap();
        assert_eq!(
            entry,
            r#"{"v":1,"seq":7,"at":"2026-11-18T11:06:40Z","kind":"candidate.consented","org":"acme","verification":"v1","actor":{"type":"candidate","verification":"v1"},"data":{"a":2,"z":1}}"#
        );
    }
}
