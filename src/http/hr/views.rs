//! What HR callers see of a verification: status, decision, reasons and per-stage results;
//! never the media, the embeddings or the candidate's claims.

use serde::Serialize;

use crate::domain::time::Timestamp;
use crate::storage::{MediaRecord, VerificationRecord};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Consent {
    pub version: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerificationView {
    pub id: String,
    pub external_id: String,
    #[schema(value_type = String)]
    pub status: &'static str,
    pub decision: Option<String>,
    pub reasons: Vec<String>,
    /// Per-stage results (scores, boxes, quality, timings); no raw biometrics.
    #[schema(value_type = Object)]
    pub results: serde_json::Value,
    pub consent: Option<Consent>,
    /// What was uploaded: kind, sha256, size, format. The media itself is never served.
    #[schema(value_type = Vec<Object>)]
    pub media: Vec<MediaRecord>,
    /// The verification token, once approved: check it at the offer gate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenView>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// The signed JWT.
    pub value: String,
    pub jti: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub revoked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
}

impl VerificationView {
    pub fn new(v: &VerificationRecord, media: Vec<MediaRecord>) -> Self {
        Self {
            id: v.id.clone(),
            external_id: v.external_id.clone(),
            status: v.status.as_str(),
            decision: v.decision.clone(),
            reasons: serde_json::from_str(&v.reasons).unwrap_or_default(),
            results: serde_json::from_str(&v.results).unwrap_or_default(),
            consent: v.consent_version.clone().zip(v.consent_at).map(|(version, at)| Consent { version, at }),
            media,
            token: None,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}
