//! `POST /v1/candidate/challenge`: a fresh liveness challenge for this session. It does not
//! spend the candidate's token (nothing moves forward); issuing again voids the previous one.

use actix_web::{HttpResponse, post, web};
use serde::Serialize;

use crate::context::Context;
use crate::domain::challenge::{self, Action, parse_actions};
use crate::domain::time::Timestamp;
use crate::domain::verification::Status;
use crate::http::auth::Candidate;
use crate::http::problem::ApiError;
use crate::storage::ChallengeRecord;

/// Recording limits the page enforces (the server checks the video itself).
pub const MIN_SECONDS: u32 = 4;
pub const MAX_SECONDS: u32 = 10;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeView {
    /// Send it with the selfie (`?challenge_id=`).
    pub challenge_id: String,
    /// Perform these in order, one at a time.
    pub steps: Vec<Action>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub min_seconds: u32,
    pub max_seconds: u32,
}

/// Issue the liveness challenge for the video selfie.
#[utoipa::path(post, path = "/v1/candidate/challenge", tag = "candidate",
    responses((status = 200, body = ChallengeView), (status = 401, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[post("/v1/candidate/challenge")]
pub async fn issue(ctx: web::Data<Context>, candidate: Candidate) -> Result<HttpResponse, ApiError> {
    let v = &candidate.verification;
    if v.status != Status::DocumentUploaded {
        return Err(ApiError::OutOfOrder { status: v.status.as_str() });
    }
    let settings = &ctx.settings.liveness;
    let steps = match &settings.fixed_challenge {
        Some(fixed) => parse_actions(fixed).map_err(|e| ApiError::internal(&e))?,
        None => challenge::draw(settings.steps),
    };
    let now = ctx.clock.now();
    let expires_at = now.plus(std::time::Duration::from_secs(settings.challenge_ttl_seconds));
    let record = ChallengeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        verification_id: v.id.clone(),
        steps: steps.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(","),
        expires_at: expires_at.millis(),
        used_at: None,
    };
    ctx.store.issue_challenge(&record, now).await.map_err(|e| ApiError::internal(&e))?;
    tracing::info!(verification = %v.id, steps = steps.len(), "challenge issued");
    Ok(HttpResponse::Ok().json(ChallengeView {
        challenge_id: record.id,
        steps,
        expires_at,
        min_seconds: MIN_SECONDS,
        max_seconds: MAX_SECONDS,
    }))
}

/// Checks that `id` is this verification's live, unanswered challenge.
pub async fn usable(ctx: &Context, candidate: &Candidate, id: Option<&str>) -> Result<String, ApiError> {
    let refuse = |code, message| Err(ApiError::Challenge { code, message });
    let Some(id) = id else {
        return refuse("challenge_required", "send the selfie with the challenge it answers (?challenge_id=)");
    };
    let Some(record) = ctx.store.challenge(id).await.map_err(|e| ApiError::internal(&e))? else {
        return refuse("challenge_unknown", "no such challenge: ask for a new one");
    };
    if record.verification_id != candidate.verification.id {
        return refuse("challenge_other_session", "this challenge belongs to another session");
    }
    if record.used_at.is_some() {
        return refuse("challenge_used", "this challenge was answered or replaced: ask for a new one");
    }
    if record.expires_at <= ctx.clock.now().millis() {
        return refuse("challenge_expired", "this challenge expired: ask for a new one");
    }
    Ok(record.id)
}
