//! `POST /v1/candidate/device`: the candidate page's device report. Any valid candidate
//! token; the token is not spent and the state does not change. Limited in size (8 KiB)
//! and rate (`server.device_reports_per_minute` per verification, on each node).

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Serialize;

use crate::context::Context;
use crate::domain::claims::ClaimError;
use crate::http::auth::Candidate;
use crate::http::problem::ApiError;
use crate::network::DeviceReport;
use crate::network::facts;

/// A report larger than this is refused (a real one is under 1 KiB).
pub const DEVICE_REPORT_LIMIT: usize = 8 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceAccepted {
    /// How many reports this verification has sent (the latest is kept).
    pub reports: i64,
}

/// Report the candidate's device (time zone, languages, screen, GPU …) for the risk signals.
#[utoipa::path(post, path = "/v1/candidate/device", tag = "candidate", request_body = DeviceReport,
    responses((status = 202, body = DeviceAccepted), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 413, body = crate::http::problem::Problem),
        (status = 415, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem),
        (status = 429, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[post("/v1/candidate/device")]
pub async fn device(
    req: HttpRequest,
    ctx: web::Data<Context>,
    candidate: Candidate,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let json = req.headers().get(actix_web::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !json.is_some_and(|t| t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if body.len() > DEVICE_REPORT_LIMIT {
        return Err(ApiError::TooLarge { limit: DEVICE_REPORT_LIMIT as u64 });
    }
    let v = &candidate.verification;
    let report: DeviceReport = serde_json::from_slice(&body).map_err(|e| ApiError::MalformedBody(e.to_string()))?;
    report.validate().map_err(|e| ApiError::InvalidField(ClaimError { field: e.field.to_owned(), rule: e.rule }))?;
    // Counted once it would be stored: a malformed flood costs nothing to refuse.
    if !ctx.device_limiter.allows(&v.id) {
        return Err(ApiError::RateLimited { retry_after_seconds: 60 });
    }
    let sealed = serde_json::to_vec(&report)
        .map_err(|e| ApiError::internal(&e))
        .and_then(|bytes| ctx.sealer.seal(&bytes, &format!("device:{}", v.id)).map_err(|e| ApiError::internal(&e)))?;
    let now = ctx.clock.now();
    let reports = ctx.store.put_device_report(&v.id, &sealed, now).await.map_err(|e| ApiError::internal(&e))?;
    if let Some(link) = facts::device_link(&ctx, &report) {
        let claims = v.open_claims(&ctx.sealer).map_err(|e| ApiError::internal(&e))?;
        let identity = crate::pipeline::risk::reuse::hashes(&claims, &ctx.sealer).identity_hash;
        ctx.store
            .add_identity_links(&v.id, &v.org_id, &identity, &[link], now)
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    crate::assess::reassess(&ctx, v).await.map_err(|e| ApiError::internal(&e))?;
    tracing::info!(verification = %v.id, reports, "device report received");
    Ok(HttpResponse::Accepted().json(DeviceAccepted { reports }))
}
