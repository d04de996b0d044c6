//! `/healthz` (the process is up) and `/readyz` (the models are loaded).

use std::sync::Arc;

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::engine::Engine;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(engine: web::Data<Arc<Engine>>) -> HttpResponse {
    let settings = engine.settings();
    HttpResponse::Ok().json(json!({
        "status": "ready",
        "models": ["face_detector", "face_recogniser"],
        "intra_threads": settings.intra_threads,
    }))
}
