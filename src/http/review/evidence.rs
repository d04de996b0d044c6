//! What the reviewer holding a case sees of it, decrypted on demand for them alone and never
//! cached (`Cache-Control: no-store`): the candidate's claims, the document photo, and stills
//! of the selfie at each challenge step and where the face was seen best. Every look is an
//! audit event.

use std::io::Write;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use super::DECIDE;
use crate::audit::event::{Kind, NewEvent};
use crate::context::Context;
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::storage::VerificationRecord;

/// The case, if the caller holds its claim.
async fn held(ctx: &Context, caller: &Caller, id: &str) -> Result<VerificationRecord, ApiError> {
    caller.require(DECIDE)?;
    let v = caller.own_verification(ctx, id).await?;
    let claim = ctx.store.claim_of(&v.id, ctx.clock.now()).await.map_err(|e| ApiError::internal(&e))?;
    match claim {
        Some(c) if c.reviewer == caller.reviewer() => Ok(v),
        Some(_) => Err(ApiError::ClaimedByAnother),
        None => Err(ApiError::ClaimRequired),
    }
}

async fn viewed(ctx: &Context, caller: &Caller, v: &VerificationRecord, what: &str) -> Result<(), ApiError> {
    let event =
        NewEvent::about(Kind::EvidenceViewed, &v.org_id, &v.id, caller.actor(), serde_json::json!({ "what": what }));
    ctx.store.append_audit_now(&[event], ctx.clock.now()).await.map_err(|e| ApiError::internal(&e))
}

fn private(content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "no-store, private"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

/// The candidate's claims, for the reviewer holding the case.
#[utoipa::path(get, path = "/v1/verifications/{id}/claims", tag = "review", params(("id" = String, Path)),
    responses((status = 200, description = "The claims as the HR system sent them"),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem),
        (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`claim_required`, `claimed_by_another`")),
    security(("api_key" = [])))]
#[get("/v1/verifications/{id}/claims")]
pub async fn claims(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = held(&ctx, &caller, &path).await?;
    if v.sealed_claims.is_empty() {
        // Erased or purged.
        return Err(ApiError::NotFound);
    }
    let claims = v.open_claims(&ctx.sealer).map_err(|e| ApiError::internal(&e))?;
    viewed(&ctx, &caller, &v, "claims").await?;
    let body = serde_json::to_vec(&claims).map_err(|e| ApiError::internal(&e))?;
    Ok(private("application/json", body))
}

/// The document photo (`document_front` or `document_back`), for the reviewer holding the case.
#[utoipa::path(get, path = "/v1/verifications/{id}/media/{kind}", tag = "review",
    params(("id" = String, Path), ("kind" = String, Path, description = "document_front or document_back")),
    responses((status = 200, description = "The image as uploaded"),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem),
        (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`claim_required`, `claimed_by_another`")),
    security(("api_key" = [])))]
#[get("/v1/verifications/{id}/media/{kind}")]
pub async fn document_photo(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, kind) = path.into_inner();
    let v = held(&ctx, &caller, &id).await?;
    if !matches!(kind.as_str(), "document_front" | "document_back") {
        return Err(ApiError::NotFound);
    }
    let stored = ctx.store.media_of(&v.id).await.map_err(|e| ApiError::internal(&e))?;
    let record = stored.into_iter().find(|m| m.kind == kind).ok_or(ApiError::NotFound)?;
    let bytes = ctx
        .media
        .get(&record.object_key, &format!("media:{}:{kind}", v.id))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    viewed(&ctx, &caller, &v, &kind).await?;
    let content_type = match record.format.as_str() {
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "image/jpeg",
    };
    Ok(private(content_type, bytes))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyFrame {
    pub index: usize,
    pub at_ms: f64,
    /// `step_N_ACTION` (the middle of a challenge step) or `best_face`.
    pub label: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyFrames {
    pub frames: Vec<KeyFrame>,
}

/// The selfie's key frames: each done challenge step's middle, and the best face.
fn key_frames(v: &VerificationRecord) -> Vec<KeyFrame> {
    let results: serde_json::Value = serde_json::from_str(&v.results).unwrap_or_default();
    let mut frames = Vec::new();
    let steps = results.pointer("/liveness/challenge/steps").and_then(|s| s.as_array()).cloned().unwrap_or_default();
    for step in steps {
        let number = |key: &str| step.get(key).and_then(serde_json::Value::as_f64);
        let (Some(from), Some(to)) = (number("from_ms"), number("to_ms")) else { continue };
        let action = step.get("action").and_then(serde_json::Value::as_str).unwrap_or_default();
        let label = format!("step_{}_{action}", step.get("step").and_then(serde_json::Value::as_u64).unwrap_or(0));
        frames.push(KeyFrame { index: frames.len(), at_ms: (from + to) / 2.0, label });
    }
    if let Some(at) = results.pointer("/face_match/selfie/best_frame_ms").and_then(serde_json::Value::as_f64) {
        frames.push(KeyFrame { index: frames.len(), at_ms: at, label: "best_face".into() });
    }
    frames
}

/// Which stills of the selfie the reviewer can see.
#[utoipa::path(get, path = "/v1/verifications/{id}/frames", tag = "review", params(("id" = String, Path)),
    responses((status = 200, body = KeyFrames), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`claim_required`, `claimed_by_another`")),
    security(("api_key" = [])))]
#[get("/v1/verifications/{id}/frames")]
pub async fn frame_list(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let v = held(&ctx, &caller, &path).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(KeyFrames { frames: key_frames(&v) }))
}

/// One still of the selfie (JPEG, at most 480 px wide), decoded now from the sealed video.
#[utoipa::path(get, path = "/v1/verifications/{id}/frames/{index}", tag = "review",
    params(("id" = String, Path), ("index" = usize, Path)),
    responses((status = 200, description = "image/jpeg"), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`claim_required`, `claimed_by_another`")),
    security(("api_key" = [])))]
#[get("/v1/verifications/{id}/frames/{index}")]
pub async fn frame(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, ApiError> {
    let (id, index) = path.into_inner();
    let v = held(&ctx, &caller, &id).await?;
    let wanted = key_frames(&v).into_iter().find(|f| f.index == index).ok_or(ApiError::NotFound)?;
    let stored = ctx.store.media_of(&v.id).await.map_err(|e| ApiError::internal(&e))?;
    let record = stored.into_iter().find(|m| m.kind == "selfie").ok_or(ApiError::NotFound)?;
    let bytes = ctx
        .media
        .get(&record.object_key, &format!("media:{}:selfie", v.id))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let tmp = ctx.settings.storage.data_dir.join("tmp");
    let limits = ctx.settings.engine.media;
    let still = web::block(move || -> Result<Vec<u8>, String> {
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let mut file = tempfile::NamedTempFile::new_in(&tmp).map_err(|e| e.to_string())?;
        file.write_all(&bytes).map_err(|e| e.to_string())?;
        let mut stills =
            crate::engine::stills::stills(file.path(), &limits, &[wanted.at_ms]).map_err(|e| e.to_string())?;
        stills.pop().ok_or_else(|| "no still".to_owned())
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(ApiError::Internal)?;
    viewed(&ctx, &caller, &v, &format!("frame_{index}")).await?;
    Ok(private("image/jpeg", still))
}
