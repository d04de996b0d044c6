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
    /// The application's risk: assessed from the claims at creation, again with the
    /// document's results in the pipeline. No PII in it.
    #[schema(value_type = Option<RiskSchema>)]
    pub risk: Option<serde_json::Value>,
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
    /// The signed JWT; absent once the case's personal data was purged or erased.
    pub value: Option<String>,
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
            risk: v.risk.as_deref().and_then(|r| serde_json::from_str(r).ok()),
            consent: v.consent_version.clone().zip(v.consent_at).map(|(version, at)| Consent { version, at }),
            media,
            token: None,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// The risk stage's result, as the API gives it (documentation of its shape).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RiskSchema {
    /// 0–100: the noisy-OR of the signals' weights (README "Risk").
    pub score: u8,
    /// `low` (< 40), `medium` (< 70), `high` (up to `review_above`), `very_high`.
    pub band: String,
    /// Above `review_above`: a human reviews even when every other stage passed.
    pub review: bool,
    pub review_above: u8,
    pub signals: Vec<SignalSchema>,
    /// `intake` (claims only) or `pipeline` (with the document's results).
    pub phase: String,
    #[schema(value_type = String, format = DateTime)]
    pub assessed_at: String,
    /// The reference lists read: name, package, version, sha256.
    #[schema(value_type = Vec<Object>)]
    pub lists: Vec<serde_json::Value>,
    /// The sanctions lists screened against: name, published (YYYY-MM-DD), sha256, stale.
    #[schema(value_type = Vec<Object>)]
    pub screened: Vec<serde_json::Value>,
    /// When the sanctions screening ran.
    #[schema(value_type = String, format = DateTime)]
    pub screened_at: String,
    /// A sanctions match whose birth date agreed: at least review, whatever the score.
    pub sanctions_hit: bool,
    /// The operator set `sanctions.on_match = "reject"` and there is such a match.
    pub reject: bool,
}

/// One risk signal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignalSchema {
    /// Stable, e.g. `phone_high_risk_country`, `email_disposable`, `education_timeline_impossible`.
    pub code: String,
    /// `phone`, `email`, `education`, `nationality`, `sanctions`.
    pub family: String,
    /// 0–100 (configurable, `risk.weights`).
    pub weight: u8,
    /// Why: countries, line types, list versions, entry indexes, sanctions list and entry id
    /// with programmes, score and what agreed; never PII.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
}
