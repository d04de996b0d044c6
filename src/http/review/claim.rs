//! `POST /v1/verifications/{id}/claim`: a reviewer takes a case (one at a time; a case held
//! by another reviewer is a 409 until that claim expires).

use actix_web::{HttpResponse, delete, post, web};
use serde::Serialize;

use super::DECIDE;
use crate::audit::event::{Kind, NewEvent};
use crate::context::Context;
use crate::domain::time::Timestamp;
use crate::domain::verification::VerificationId;
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::storage::ClaimOutcome;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Claimed {
    pub verification_id: String,
    /// Who holds the case (`key:idg_…` or `user:…`).
    pub reviewer: String,
    /// The claim lapses then unless the case is decided (`review.claim_minutes`).
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Claim a case for review.
#[utoipa::path(post, path = "/v1/verifications/{id}/claim", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = Claimed, description = "Claimed (any other case this reviewer held is released)"),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem),
        (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem,
            description = "`claimed_by_another`, or `not_reviewable` (the case is not in review or rejected)")),
    security(("api_key" = [])))]
#[post("/v1/verifications/{id}/claim")]
pub async fn claim(ctx: web::Data<Context>, caller: Caller, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(DECIDE)?;
    let id = VerificationId::parse(&path).ok_or(ApiError::NotFound)?.to_string();
    let now = ctx.clock.now();
    let until = now.plus(std::time::Duration::from_secs(ctx.settings.review.claim_minutes * 60));
    let reviewer = caller.reviewer();
    let event = NewEvent::about(
        Kind::ReviewClaimed,
        &caller.org_id,
        &id,
        caller.actor(),
        serde_json::json!({ "expires_at": until.to_rfc3339() }),
    );
    let outcome = ctx
        .store
        .claim_case(&caller.org_id, &id, &reviewer, until, &event, now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match outcome {
        ClaimOutcome::Claimed { expires_at } => {
            tracing::info!(verification = %id, "case claimed for review");
            Ok(HttpResponse::Ok().json(Claimed { verification_id: id, reviewer, expires_at }))
        }
        ClaimOutcome::HeldByAnother => Err(ApiError::ClaimedByAnother),
        ClaimOutcome::NotReviewable(status) => Err(ApiError::NotReviewable { status: status.as_str() }),
        ClaimOutcome::NotFound => Err(ApiError::NotFound),
    }
}

/// Release a claimed case undecided (it goes back to the queue).
#[utoipa::path(delete, path = "/v1/verifications/{id}/claim", tag = "review", params(("id" = String, Path)),
    responses((status = 204, description = "Released"), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`claim_required`: the caller does not hold it")),
    security(("api_key" = [])))]
#[delete("/v1/verifications/{id}/claim")]
pub async fn release(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(DECIDE)?;
    let id = caller.own_verification(&ctx, &path).await?.id;
    let released =
        ctx.store.release_claim(&id, &caller.reviewer(), ctx.clock.now()).await.map_err(|e| ApiError::internal(&e))?;
    if released { Ok(HttpResponse::NoContent().finish()) } else { Err(ApiError::ClaimRequired) }
}
