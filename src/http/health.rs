//! `/healthz` (the process is up) and `/readyz` (the database answers, the models are loaded;
//! its detail says which sanctions lists are loaded, how old, and whether screening runs,
//! which network tables, and how many templates this node's 1:N index holds).

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
            "sanctions": sanctions_detail(&ctx),
            "network_tables": ctx.network.versions.iter()
                .map(|v| json!({ "name": v.name, "version": format!("{}@{}", v.package, v.version) }))
                .collect::<Vec<_>>(),
            "face_index": { "templates": ctx.faces.len() },
        })),
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::error_chain(&e), "database not ready");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "database": "error" }))
        }
    }
}

/// The loaded sanctions lists with their age: `ok`, `stale` (one is older than
/// `sanctions.max_age_days`) or `not_screened` (none loaded: every case goes to review).
fn sanctions_detail(ctx: &Context) -> serde_json::Value {
    let today = ctx.clock.now().date();
    let max_age = i64::from(ctx.settings.sanctions.max_age_days);
    let lists: Vec<serde_json::Value> = ctx
        .sanctions
        .get()
        .lists
        .iter()
        .map(|(meta, imported)| {
            let age = today.and_then(|t| crate::sanctions::Sanctions::age_days(meta, t));
            json!({
                "name": meta.name, "published": meta.published, "sha256": meta.sha256, "imported_at": imported,
                "age_days": age, "stale": age.is_none_or(|a| a > max_age),
            })
        })
        .collect();
    let status = if lists.is_empty() {
        "not_screened"
    } else if lists.iter().any(|l| l["stale"] == true) {
        "stale"
    } else {
        "ok"
    };
    json!({ "status": status, "max_age_days": max_age, "lists": lists })
}

/// Sanctions list ages by list (−1: no publication date), for the metrics.
fn sanctions_ages(ctx: &Context) -> Vec<(String, i64)> {
    let today = ctx.clock.now().date();
    ctx.sanctions
        .get()
        .lists
        .iter()
        .map(|(m, _)| (m.name.clone(), today.and_then(|t| crate::sanctions::Sanctions::age_days(m, t)).unwrap_or(-1)))
        .collect()
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Metrics", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(ctx: web::Data<Context>) -> HttpResponse {
    let depth = ctx.store.queue_depth().await.unwrap_or(-1);
    ctx.metrics.sanctions(&sanctions_ages(&ctx));
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(ctx.metrics.render(depth))
}
