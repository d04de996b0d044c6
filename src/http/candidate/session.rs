//! `GET /v1/candidate/session`, `POST /v1/candidate/consent`,
//! `PUT /v1/candidate/document/{side}`, `PUT /v1/candidate/selfie`, `POST /v1/candidate/submit`.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use serde::{Deserialize, Serialize};

use super::readable::{self, Readability};
use super::upload::{Expect, decode_slot, format_name, read_limited, sha256_hex, validate};
use crate::audit::event::Kind;
use crate::context::Context;
use crate::crypto::secret_token;
use crate::domain::time::Timestamp;
use crate::domain::verification::{Status, Step};
use crate::http::auth::Candidate;
use crate::http::problem::ApiError;
use crate::pipeline::liveness::injection::CaptureReport;
use crate::storage::{MediaRecord, StepChange};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub verification_id: String,
    #[schema(value_type = String)]
    pub status: &'static str,
    /// consent, upload_document, upload_selfie, submit, or null when nothing is left to do.
    pub next_step: Option<&'static str>,
    /// The consent text version to accept.
    pub consent_version: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepDone {
    #[schema(value_type = String)]
    pub status: &'static str,
    pub next_step: Option<&'static str>,
    /// Use this token for the next call; the one just used no longer works.
    pub token: String,
    /// SHA-256 of the uploaded bytes, for uploads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// For a document photo: whether it looks usable (else the page suggests a retake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readability: Option<Readability>,
}

/// What the candidate should do next.
#[utoipa::path(get, path = "/v1/candidate/session", tag = "candidate",
    responses((status = 200, body = SessionView), (status = 401, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[get("/v1/candidate/session")]
pub async fn session(ctx: web::Data<Context>, candidate: Candidate) -> HttpResponse {
    let v = &candidate.verification;
    HttpResponse::Ok().json(SessionView {
        verification_id: v.id.clone(),
        status: v.status.as_str(),
        next_step: v.status.next_step(),
        consent_version: ctx.settings.candidate.consent_version.clone(),
        expires_at: v.token_expires_at,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// Must equal the session's `consent_version`.
    pub consent_version: String,
    /// Must be true.
    pub accepted: bool,
}

fn transition(candidate: &Candidate, step: Step) -> Result<Status, ApiError> {
    let from = candidate.verification.status;
    from.after(step).ok_or(ApiError::OutOfOrder { status: from.as_str() })
}

fn done(status: Status, token: String, sha256: Option<String>) -> HttpResponse {
    HttpResponse::Ok().json(step_done(status, token, sha256))
}

fn step_done(status: Status, token: String, sha256: Option<String>) -> StepDone {
    StepDone { status: status.as_str(), next_step: status.next_step(), token, sha256, readability: None }
}

/// Record the candidate's consent.
#[utoipa::path(post, path = "/v1/candidate/consent", tag = "candidate", request_body = ConsentRequest,
    responses((status = 200, body = StepDone), (status = 401, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[post("/v1/candidate/consent")]
pub async fn consent(
    ctx: web::Data<Context>,
    candidate: Candidate,
    body: web::Json<ConsentRequest>,
) -> Result<HttpResponse, ApiError> {
    let to = transition(&candidate, Step::Consent)?;
    if !body.accepted || body.consent_version != ctx.settings.candidate.consent_version {
        return Err(ApiError::InvalidField(crate::domain::claims::ClaimError {
            field: "consent_version".into(),
            rule: "must_accept_current_version",
        }));
    }
    let now = ctx.clock.now();
    let next = secret_token::generate();
    let v = &candidate.verification;
    let consent = Some((body.consent_version.as_str(), now));
    let step = StepChange { id: &v.id, from: v.status, to, presented: &candidate.presented, next: &next.digest };
    let event = candidate.event(Kind::Consented, serde_json::json!({ "consent_version": body.consent_version }));
    let moved = ctx.store.advance(step, consent, &event, now).await.map_err(|e| ApiError::internal(&e))?;
    if !moved {
        return Err(ApiError::CandidateToken);
    }
    tracing::info!(verification = %v.id, "consent recorded");
    Ok(done(to, next.token, None))
}

async fn upload(
    ctx: &Context,
    candidate: &Candidate,
    kind: &str,
    step: Step,
    bytes: web::Bytes,
    expect: Expect,
) -> Result<StepDone, ApiError> {
    let to = transition(candidate, step)?;
    let format = validate(ctx, bytes.clone(), expect).await?;
    let v = &candidate.verification;
    let now = ctx.clock.now();
    let record = MediaRecord {
        kind: kind.to_owned(),
        object_key: format!("{}/{kind}-{}", v.id, uuid::Uuid::new_v4()),
        sha256: sha256_hex(&bytes),
        size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        format: format_name(format),
    };
    let context = format!("media:{}:{kind}", v.id);
    ctx.media.put(&record.object_key, &context, &bytes).await.map_err(|e| ApiError::internal(&e))?;
    let next = secret_token::generate();
    let step = StepChange { id: &v.id, from: v.status, to, presented: &candidate.presented, next: &next.digest };
    let event = candidate.event(
        Kind::MediaUploaded,
        serde_json::json!({ "kind": kind, "sha256": record.sha256, "size": record.size, "format": record.format }),
    );
    let replaced = ctx.store.media_of(&v.id).await.map_err(|e| ApiError::internal(&e))?;
    let stored = ctx.store.record_upload(step, &record, &event, now).await;
    if !matches!(stored, Ok(true)) {
        // Refused or failed: the object must not outlive the attempt.
        let _ = ctx.media.delete(&record.object_key).await;
    }
    if !stored.map_err(|e| ApiError::internal(&e))? {
        return Err(ApiError::CandidateToken);
    }
    // A retaken photo replaces the earlier one, whose object is no longer referenced (the
    // retention purge removes any that a failure here leaves behind).
    for old in replaced.iter().filter(|m| m.kind == kind && m.object_key != record.object_key) {
        if let Err(e) = ctx.media.delete(&old.object_key).await {
            tracing::warn!(error = %e, "deleting a replaced upload failed");
        }
    }
    tracing::info!(verification = %v.id, kind, size = record.size, "upload stored");
    Ok(step_done(to, next.token, Some(record.sha256)))
}

/// Upload the ID document photo (`front`, then optionally `back`).
#[utoipa::path(put, path = "/v1/candidate/document/{side}", tag = "candidate", params(("side" = Side, Path, description = "front, then back when the document has one")),
    request_body(description = "A photo of the document: JPEG, PNG, WebP, BMP or PNM",
        content((super::upload::Upload = "image/jpeg"), (super::upload::Upload = "image/png"), (super::upload::Upload = "image/webp"))),
    responses((status = 200, body = StepDone), (status = 401, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem), (status = 413, body = crate::http::problem::Problem),
        (status = 422, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[put("/v1/candidate/document/{side}")]
pub async fn document(
    ctx: web::Data<Context>,
    candidate: Candidate,
    side: web::Path<Side>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = match side.into_inner() {
        Side::Front => "document_front",
        Side::Back if candidate.verification.status == Status::DocumentUploaded => "document_back",
        Side::Back => return Err(ApiError::OutOfOrder { status: candidate.verification.status.as_str() }),
    };
    transition(&candidate, Step::UploadDocument)?;
    let limit = ctx.settings.uploads.max_document_uploads;
    let uploads =
        ctx.store.uploads_since_retake(&candidate.verification.id, kind).await.map_err(|e| ApiError::internal(&e))?;
    if uploads >= limit {
        return Err(ApiError::UploadsExhausted { limit });
    }
    let bytes = web::Bytes::from(read_limited(&req, payload, ctx.settings.uploads.max_document_bytes).await?);
    // One slot for the decode and the reading: an upload is stored only if it can be read.
    let _slot = decode_slot(&ctx).await?;
    let mut stored = upload(&ctx, &candidate, kind, Step::UploadDocument, bytes.clone(), Expect::Image).await?;
    stored.readability =
        Some(readable::assess(&ctx, candidate.verification.id.clone(), bytes, kind == "document_front").await?);
    Ok(HttpResponse::Ok().json(stored))
}

/// Which side of the document a photo shows.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Front,
    Back,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SelfieQuery {
    /// The challenge this video answers (from `POST /v1/candidate/challenge`). Required unless
    /// the deployment turned liveness off.
    pub challenge_id: Option<String>,
}

/// The `Idgate-Capture` header: what the browser saw while recording (JSON, at most 2 KiB).
fn capture_report(req: &HttpRequest) -> Result<CaptureReport, ApiError> {
    let Some(value) = req.headers().get("Idgate-Capture") else { return Ok(CaptureReport::default()) };
    let bad =
        || ApiError::MalformedBody("the Idgate-Capture header is not a capture report (JSON, at most 2 KiB)".into());
    if value.len() > 2048 {
        return Err(bad());
    }
    serde_json::from_slice(value.as_bytes()).map_err(|_| bad())
}

/// Upload the selfie video (WebM, MP4, MOV), answering the session's liveness challenge.
#[utoipa::path(put, path = "/v1/candidate/selfie", tag = "candidate", params(SelfieQuery,
        ("Idgate-Capture" = Option<String>, Header, description = "JSON capture report: camera_label, frames, interval_mean_ms, interval_stddev_ms")),
    request_body(description = "The selfie video: WebM (VP8, VP9) or MP4/MOV (H.264)",
        content((super::upload::Upload = "video/webm"), (super::upload::Upload = "video/mp4"), (super::upload::Upload = "video/quicktime"))),
    responses((status = 200, body = StepDone), (status = 401, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem), (status = 413, body = crate::http::problem::Problem),
        (status = 422, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[put("/v1/candidate/selfie")]
pub async fn selfie(
    ctx: web::Data<Context>,
    candidate: Candidate,
    query: web::Query<SelfieQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    transition(&candidate, Step::UploadSelfie)?;
    let report = capture_report(&req)?;
    let challenge = match (&query.challenge_id, ctx.settings.liveness.required) {
        (None, false) => None,
        (id, _) => Some(super::challenge::usable(&ctx, &candidate, id.as_deref()).await?),
    };
    let bytes = web::Bytes::from(read_limited(&req, payload, ctx.settings.uploads.max_selfie_bytes).await?);
    let _slot = decode_slot(&ctx).await?;
    let response = upload(&ctx, &candidate, "selfie", Step::UploadSelfie, bytes, Expect::Selfie).await?;
    if let Some(challenge) = challenge {
        let report = serde_json::to_string(&report).unwrap_or_default();
        let answered = ctx
            .store
            .answer_challenge(&challenge, &candidate.verification.id, &report, ctx.clock.now())
            .await
            .map_err(|e| ApiError::internal(&e))?;
        if !answered {
            // Raced by a newer challenge: the pipeline finds no answered challenge and rejects.
            tracing::warn!(verification = %candidate.verification.id, "challenge spent before the selfie was bound");
        }
    }
    Ok(HttpResponse::Ok().json(response))
}

/// Submit: the checks run in the background; poll the session (or wait for the webhook).
#[utoipa::path(post, path = "/v1/candidate/submit", tag = "candidate",
    responses((status = 200, body = StepDone), (status = 401, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[post("/v1/candidate/submit")]
pub async fn submit(ctx: web::Data<Context>, candidate: Candidate) -> Result<HttpResponse, ApiError> {
    let to = transition(&candidate, Step::Submit)?;
    let v = &candidate.verification;
    let next = secret_token::generate();
    let job = uuid::Uuid::new_v4().to_string();
    let now = ctx.clock.now();
    let step = StepChange { id: &v.id, from: v.status, to, presented: &candidate.presented, next: &next.digest };
    let event = candidate.event(Kind::Submitted, serde_json::json!({ "job": job }));
    let queued = ctx
        .store
        .submit(step, &job, ctx.settings.jobs.max_attempts, &event, now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if !queued {
        return Err(ApiError::CandidateToken);
    }
    tracing::info!(verification = %v.id, job = %job, "submitted");
    Ok(done(to, next.token, None))
}
