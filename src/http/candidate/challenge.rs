//! `POST /v1/candidate/challenge`: a fresh liveness challenge for this session. It does not
//! spend the candidate's token (nothing moves forward); issuing again voids the previous one.
//! Each is audited (`challenge.issued` with its number); at most `liveness.max_challenges`
//! per attempt (`challenge_limit_reached`), and a selfie answering any but the first is sent
//! to a person (`challenge_reissued`).

use actix_web::{HttpResponse, post, web};
use serde::Serialize;

use crate::audit::event::Kind;
use crate::context::Context;
use crate::domain::challenge::{Action, Challenge, Timing, parse_actions};
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
    /// When to prompt each step (ms from the start of the recording) and how long after its
    /// prompt the step may start; absent for a fixed challenge (then one step every 2.5 s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Challenges this attempt may still ask for after this one.
    pub remaining: usize,
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
    let Challenge { steps, timing } = match &settings.fixed_challenge {
        Some(fixed) => Challenge { steps: parse_actions(fixed).map_err(|e| ApiError::internal(&e))?, timing: None },
        None => Challenge::draw(settings.steps),
    };
    let now = ctx.clock.now();
    let expires_at = now.plus(std::time::Duration::from_secs(settings.challenge_ttl_seconds));
    let record = ChallengeRecord {
        id: uuid::Uuid::new_v4().to_string(),
        verification_id: v.id.clone(),
        steps: steps.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(","),
        timing: timing.as_ref().map(serde_json::to_string).transpose().map_err(|e| ApiError::internal(&e))?,
        expires_at: expires_at.millis(),
        used_at: None,
    };
    let event = candidate.event(
        Kind::ChallengeIssued,
        serde_json::json!({ "challenge": record.id, "steps": steps.len(), "timed": timing.is_some() }),
    );
    let number = ctx
        .store
        .issue_challenge(&record, settings.max_challenges, &event, now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(number) = number else {
        return Err(ApiError::Challenge {
            code: "challenge_limit_reached",
            message: "no more challenges can be issued for this attempt: answer the last one",
        });
    };
    tracing::info!(verification = %v.id, steps = steps.len(), number, "challenge issued");
    let record_seconds = timing.as_ref().map_or(0, |t| t.record_ms().div_ceil(1000));
    Ok(HttpResponse::Ok().json(ChallengeView {
        challenge_id: record.id,
        steps,
        timing,
        remaining: settings.max_challenges.saturating_sub(usize::try_from(number).unwrap_or(usize::MAX)),
        expires_at,
        min_seconds: MIN_SECONDS,
        max_seconds: MAX_SECONDS.max(record_seconds),
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
