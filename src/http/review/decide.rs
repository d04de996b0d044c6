//! `POST /v1/verifications/{id}/review`: the claiming reviewer approves, rejects or asks for
//! a retake, with a reason code and a note; `GET /v1/verifications/{id}/reviews`: the case's
//! reviews and its current claim.

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::{DECIDE, READ};
use crate::context::Context;
use crate::domain::claims::ClaimError;
use crate::domain::review::{ReviewDecision, ReviewInput, ReviewRuleError};
use crate::domain::time::Timestamp;
use crate::domain::verification::VerificationId;
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::review::{Reviewer, decide};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    /// A reason code of the decision. approve: identity_confirmed, document_confirmed_manually,
    /// face_match_confirmed, risk_signal_explained, sanctions_false_positive, reuse_explained.
    /// reject: document_forged, document_not_matching_claims, face_mismatch_confirmed,
    /// liveness_spoof, sanctions_confirmed, identity_reused, laptop_farm, synthetic_identity,
    /// other_fraud. retake: document_unreadable, document_glare_or_crop, wrong_document,
    /// selfie_poor_quality, challenge_not_followed.
    pub reason: String,
    /// Why, in the reviewer's words (1–2,000 characters). Sealed at rest, never logged.
    pub note: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewDone {
    pub review_id: String,
    /// `final`: the decision took effect (audit event, webhook, token on approval);
    /// `pending`: it waits for a second reviewer who agrees (four eyes).
    #[schema(value_type = String)]
    pub state: &'static str,
    /// The verification's status now (`consented` after a retake: the candidate starts again
    /// at the document).
    #[schema(value_type = String)]
    pub status: &'static str,
    /// A retake's new candidate link: send it to the candidate (shown only here and in the
    /// `verification.retake_requested` webhook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_url: Option<String>,
}

fn rule_error(e: ReviewRuleError) -> ApiError {
    let (field, rule) = match e {
        ReviewRuleError::UnknownReason => ("reason", "unknown_reason_code"),
        ReviewRuleError::BadNote => ("note", "1_to_2000_characters_without_control_characters"),
    };
    ApiError::InvalidField(ClaimError { field: field.into(), rule })
}

/// Decide a claimed case.
#[utoipa::path(post, path = "/v1/verifications/{id}/review", tag = "review", params(("id" = String, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = ReviewDone, description = "Final"),
        (status = 202, body = ReviewDone, description = "Recorded, waiting for a second reviewer"),
        (status = 400, body = crate::http::problem::Problem), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`claim_required`, `claimed_by_another`, \
            `not_reviewable`, `second_reviewer_required`, `case_changed`, `evidence_unavailable`"),
        (status = 422, body = crate::http::problem::Problem, description = "`unknown_reason_code` or a bad note")),
    security(("api_key" = [])))]
#[post("/v1/verifications/{id}/review")]
pub async fn review(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(DECIDE)?;
    let id = VerificationId::parse(&path).ok_or(ApiError::NotFound)?.to_string();
    let input = ReviewInput::parse(body.decision, &body.reason, &body.note).map_err(rule_error)?;
    let who = Reviewer { id: caller.reviewer(), org_id: caller.org_id.clone(), actor: caller.actor() };
    let done = decide(&ctx, &who, &id, &input).await?;
    let view = ReviewDone {
        review_id: done.review_id,
        state: done.state,
        status: done.status.as_str(),
        candidate_url: done.candidate_url,
    };
    Ok(if done.state == "final" { HttpResponse::Ok() } else { HttpResponse::Accepted() }.json(view))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    pub id: String,
    pub reviewer: String,
    pub decision: ReviewDecision,
    pub reason: String,
    pub note: String,
    /// `pending`, `final` or `superseded`.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub reviewer: String,
    #[schema(value_type = String, format = DateTime)]
    pub claimed_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewHistory {
    /// Who holds the case now, if anyone.
    pub claim: Option<ClaimView>,
    /// Oldest first, notes opened for this caller.
    pub reviews: Vec<ReviewView>,
}

/// A case's reviews and its claim.
#[utoipa::path(get, path = "/v1/verifications/{id}/reviews", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = ReviewHistory), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/verifications/{id}/reviews")]
pub async fn history(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READ)?;
    let id = caller.own_verification(&ctx, &path).await?.id;
    let now = ctx.clock.now();
    let claim = ctx.store.claim_of(&id, now).await.map_err(|e| ApiError::internal(&e))?.map(|c| ClaimView {
        reviewer: c.reviewer,
        claimed_at: c.claimed_at,
        expires_at: c.expires_at,
    });
    let mut reviews = Vec::new();
    for r in ctx.store.reviews_of(&id).await.map_err(|e| ApiError::internal(&e))? {
        let note =
            ctx.sealer.open(&r.sealed_note, &format!("review-note:{}", r.id)).map_err(|e| ApiError::internal(&e))?;
        reviews.push(ReviewView {
            id: r.id,
            reviewer: r.reviewer,
            decision: r.decision,
            reason: r.reason,
            note: String::from_utf8_lossy(&note).into_owned(),
            state: r.state,
            at: r.at,
        });
    }
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(ReviewHistory { claim, reviews }))
}
