//! `POST /v1/candidate/preview`: live guidance while the selfie camera is open. The page
//! sends a small JPEG of the current frame about once a second; the answer says what to fix
//! (`no_face`, `only_one_face`, `move_closer`, `more_light`, `hold_still`, `face_in_oval`) or
//! nothing. Nothing is stored; the frame is dropped after the answer.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Serialize;

use super::upload::{bad_media, read_limited};
use crate::context::Context;
use crate::domain::quality::QualityIssue;
use crate::engine::decode::decode_image;
use crate::engine::{Embed, StageTimes};
use crate::http::auth::Candidate;
use crate::http::problem::ApiError;

/// Preview frames are small: 320×240 JPEGs are plenty.
const MAX_PREVIEW_BYTES: u64 = 256 * 1024;
/// A face narrower than this share of the frame is too far away.
const MIN_FACE_WIDTH: f32 = 0.22;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Guidance {
    /// What to fix, most important first; empty when the frame is good.
    pub feedback: Vec<&'static str>,
}

/// Guidance on one preview frame.
#[utoipa::path(post, path = "/v1/candidate/preview", tag = "candidate",
    request_body(description = "One camera frame: JPEG, PNG or WebP",
        content((super::upload::Upload = "image/jpeg"), (super::upload::Upload = "image/png"), (super::upload::Upload = "image/webp"))),
    responses((status = 200, body = Guidance), (status = 401, body = crate::http::problem::Problem),
        (status = 413, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)),
    security(("candidate_token" = [])))]
#[post("/v1/candidate/preview")]
pub async fn preview(
    ctx: web::Data<Context>,
    _candidate: Candidate,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let bytes = read_limited(&req, payload, MAX_PREVIEW_BYTES).await?;
    let _slot = super::upload::decode_slot(&ctx).await?;
    let engine = ctx.engine.clone();
    let limits = ctx.settings.engine.media;
    let thresholds = ctx.settings.engine.quality;
    let feedback = web::block(move || -> Result<Result<Vec<&'static str>, ApiError>, crate::engine::EngineError> {
        let (_, bgr) = match decode_image(&bytes, &limits) {
            Ok(decoded) => decoded,
            Err(e) => return Ok(Err(bad_media(e))),
        };
        let mut times = StageTimes::default();
        let frame = engine.analyse(&bgr, 0, 0.0, Embed::Never, &mut times)?;
        let mut feedback = Vec::new();
        match (frame.face_count(), &frame.primary) {
            (0, _) | (_, None) => feedback.push("no_face"),
            (n, Some(face)) => {
                if n > 1 {
                    feedback.push("only_one_face");
                }
                let b = face.detection.bbox;
                if b.width < MIN_FACE_WIDTH * frame.width as f32 {
                    feedback.push("move_closer");
                }
                let centre = (b.x + b.width / 2.0) / frame.width as f32;
                if !(0.3..=0.7).contains(&centre) {
                    feedback.push("face_in_oval");
                }
                for issue in face.quality.issues(&thresholds) {
                    match issue {
                        QualityIssue::TooDark => feedback.push("more_light"),
                        QualityIssue::TooBlurred => feedback.push("hold_still"),
                        QualityIssue::FaceCut => feedback.push("face_in_oval"),
                        QualityIssue::FaceTooSmall => feedback.push("move_closer"),
                        QualityIssue::NoFace | QualityIssue::SeveralFaces => {}
                    }
                }
            }
        }
        feedback.dedup();
        Ok(Ok(feedback))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(Guidance { feedback }))
}
