//! Receiving an upload: stream the body up to a per-kind limit, check what the bytes really
//! are (decoding them fully, so a truncated or fake file is refused now, not later), and
//! store them sealed.

use actix_web::web;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::engine::decode::{self, Media};
use crate::engine::media::{MediaError, MediaFormat};
use crate::http::problem::ApiError;

/// An uploaded file, sent as the raw request body (OpenAPI: a binary string). The format is
/// read from the bytes, not the `Content-Type`; what cannot be decoded is refused with `422`.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Upload(#[allow(dead_code)] Vec<u8>);

/// The body, refused as soon as it passes `limit` bytes.
pub async fn read_limited(
    req: &actix_web::HttpRequest,
    mut payload: web::Payload,
    limit: u64,
) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(usize::try_from(declared.unwrap_or(0).min(limit)).unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::MalformedBody("the upload was interrupted".into()))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(bad_media(MediaError::Empty));
    }
    Ok(body)
}

/// A decoding slot (`uploads.concurrent_decodes` per node), held while an upload is decoded
/// and read; `busy` (503, Retry-After) after `uploads.decode_wait_seconds` without one.
pub async fn decode_slot(ctx: &Context) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    let wait = std::time::Duration::from_secs(ctx.settings.uploads.decode_wait_seconds);
    match tokio::time::timeout(wait, ctx.decoding.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(e)) => Err(ApiError::internal(&e)),
        Err(_) => Err(ApiError::Busy { retry_after_seconds: 5 }),
    }
}

pub fn bad_media(e: MediaError) -> ApiError {
    ApiError::BadMedia { code: e.code(), message: e.to_string() }
}

/// What kind of upload: images only, or a video (or image) selfie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Image,
    Selfie,
}

/// Decodes the bytes completely (off the async threads) and returns their format.
pub async fn validate(ctx: &Context, bytes: web::Bytes, expect: Expect) -> Result<MediaFormat, ApiError> {
    let limits = ctx.settings.engine.media;
    let tmp_dir = ctx.settings.storage.data_dir.join("tmp");
    let checked = web::block(move || -> Result<Result<MediaFormat, MediaError>, std::io::Error> {
        let format = MediaFormat::sniff(&bytes);
        match (format, expect) {
            (None, _) => Ok(Err(MediaError::UnsupportedFormat)),
            (Some(f), Expect::Image) if f.is_video() => Ok(Err(MediaError::NotAnImage)),
            (Some(f), _) if !f.is_video() => Ok(decode::decode_image(&bytes, &limits).map(|(f, _)| f)),
            (Some(f), _) => {
                std::fs::create_dir_all(&tmp_dir)?;
                let mut file = tempfile::NamedTempFile::new_in(&tmp_dir)?;
                std::io::Write::write_all(&mut file, &bytes)?;
                Ok(match decode::load(file.path(), &limits, decode::Sampling::Spread(1)) {
                    Ok(Media::Video(stream)) => stream.finish().map(|_| f),
                    Ok(Media::Image { format, .. }) => Ok(format),
                    Err(e) => Err(e),
                })
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    checked.map_err(bad_media)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub fn format_name(format: MediaFormat) -> String {
    serde_json::to_value(format).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
