//! Is a document photo usable? Answered with the upload, so the page can ask for a retake
//! before the candidate moves on: a face on the front, a machine-readable zone or barcode,
//! and a sharp, well-lit portrait. Advice only: the pipeline decides later.

use actix_web::web;
use serde::Serialize;

use crate::context::Context;
use crate::document::reading::read_image;
use crate::engine::decode::decode_image;
use crate::engine::{Embed, StageTimes};
use crate::http::problem::ApiError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Readability {
    pub face_found: bool,
    /// An MRZ with valid check digits, or an AAMVA barcode, was read.
    pub data_found: bool,
    /// Why the page should suggest a retake: `no_face`, `no_document_data`, and the portrait's
    /// quality issues (`too_blurred`, `too_dark`, …).
    pub issues: Vec<String>,
}

impl Readability {
    pub fn ok(&self) -> bool {
        self.issues.is_empty()
    }
}

/// `front` expects a portrait and, on most documents, the zone; `back` a barcode. The reading
/// is kept for `verification`'s pipeline (`ReadingCache`).
pub async fn assess(
    ctx: &Context,
    verification: String,
    bytes: web::Bytes,
    front: bool,
) -> Result<Readability, ApiError> {
    let engine = ctx.engine.clone();
    let limits = ctx.settings.engine.media;
    let today = ctx.clock.now().date().ok_or_else(|| ApiError::Internal("clock out of range".into()))?;
    let thresholds = ctx.settings.engine.quality;
    web::block(move || -> Result<Readability, crate::engine::EngineError> {
        let Ok((_, bgr)) = decode_image(&bytes, &limits) else {
            return Ok(Readability { face_found: false, data_found: false, issues: vec!["undecodable".into()] });
        };
        let mut times = StageTimes::default();
        let analysis = engine.analyse(&bgr, 0, 0.0, Embed::Never, &mut times)?;
        let reading = read_image(&engine, &bgr, today)?;
        engine.readings().put(&verification, &bytes, today, reading.clone());
        let data_found = reading.mrz.as_ref().is_some_and(|m| m.mrz.check_digits_valid()) || reading.barcode.is_some();
        let mut issues = Vec::new();
        if front && analysis.primary.is_none() {
            issues.push("no_face".to_owned());
        }
        if !data_found {
            issues.push("no_document_data".to_owned());
        }
        if front && let Some(face) = &analysis.primary {
            issues.extend(face.quality.issues(&thresholds).iter().map(|i| i.code().to_owned()));
        }
        Ok(Readability { face_found: analysis.primary.is_some(), data_found, issues })
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))
}
