//! `/healthz` (the process is up) and `/readyz` (the database answers, the models are loaded).

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::context::Context;

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and the models are loaded.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "The database does not answer")))]
#[get("/readyz")]
pub async fn readyz(ctx: web::Data<Context>) -> HttpResponse {
    match ctx.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "database": "ok",
            "models": ["face_detector", "face_recogniser"],
        })),
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::error_chain(&e), "database not ready");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "database": "error" }))
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Metrics", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(ctx: web::Data<Context>) -> HttpResponse {
    let depth = ctx.store.queue_depth().await.unwrap_or(-1);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(ctx.metrics.render(depth))
}
