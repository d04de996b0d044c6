//! `GET /v1/review-queue`: the organisation's cases waiting for a reviewer, highest risk
//! first, then the longest waiting; filtered by risk signal, age and reviewer.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};

use super::READ;
use crate::context::Context;
use crate::domain::time::Timestamp;
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::storage::QueueFilter;

/// How many cases are read before filtering by signal and reviewer.
const SCANNED: u32 = 1_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// Only cases with this risk signal or reason code (e.g. `sanctions_match`).
    pub signal: Option<String>,
    /// Only cases waiting at least this many minutes (at most a year).
    #[param(minimum = 0, maximum = 525_600)]
    pub older_than_minutes: Option<u32>,
    /// `me` (claimed by the caller), `unclaimed`, or a reviewer id (`key:idg_…`).
    pub reviewer: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingView {
    pub reviewer: String,
    pub decision: crate::domain::review::ReviewDecision,
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub id: String,
    pub external_id: String,
    #[schema(value_type = String)]
    pub status: &'static str,
    pub risk_score: Option<i64>,
    pub risk_band: Option<String>,
    /// The risk signals' codes.
    pub signals: Vec<String>,
    /// The automatic decision's reasons.
    pub reasons: Vec<String>,
    /// Since when the case waits (its last change).
    #[schema(value_type = String, format = DateTime)]
    pub waiting_since: Timestamp,
    pub claimed_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub claim_expires_at: Option<Timestamp>,
    /// Decisions waiting for a second reviewer.
    pub pending: Vec<PendingView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queue {
    pub items: Vec<QueueItem>,
}

fn signals(risk: Option<&str>) -> (Option<String>, Vec<String>) {
    let parsed: serde_json::Value = risk.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    let band = parsed.get("band").and_then(|b| b.as_str()).map(str::to_owned);
    (band, crate::pipeline::risk::fit::stored_codes(risk))
}

/// The review queue.
#[utoipa::path(get, path = "/v1/review-queue", tag = "review", params(QueueQuery),
    responses((status = 200, body = Queue), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/review-queue")]
pub async fn queue(
    ctx: web::Data<Context>,
    caller: Caller,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READ)?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidQuery("limit is 1 to 200"));
    }
    if q.older_than_minutes.is_some_and(|m| m > 525_600) {
        return Err(ApiError::InvalidQuery("older_than_minutes is 0 to 525600"));
    }
    let now = ctx.clock.now();
    let changed_before = q
        .older_than_minutes
        .map(|m| Timestamp::from_millis(now.millis().saturating_sub(i64::from(m).saturating_mul(60_000))));
    let fail = |e: crate::storage::StorageError| ApiError::internal(&e);
    let rows =
        ctx.store.review_queue(&caller.org_id, &QueueFilter { changed_before, limit: SCANNED }).await.map_err(fail)?;
    let claims = ctx.store.claims_of_org(&caller.org_id, now).await.map_err(fail)?;
    let me = caller.reviewer();
    let mut items = Vec::new();
    for v in rows {
        let (band, codes) = signals(v.risk.as_deref());
        let reasons: Vec<String> = serde_json::from_str(&v.reasons).unwrap_or_default();
        if let Some(signal) = &q.signal
            && !codes.contains(signal)
            && !reasons.contains(signal)
        {
            continue;
        }
        let claim = claims.get(&v.id);
        let holder = claim.map(|c| c.reviewer.as_str());
        let wanted = match q.reviewer.as_deref() {
            None => true,
            Some("me") => holder == Some(me.as_str()),
            Some("unclaimed") => holder.is_none(),
            Some(id) => holder == Some(id),
        };
        if !wanted {
            continue;
        }
        let pending = ctx
            .store
            .reviews_of(&v.id)
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|r| r.state == "pending")
            .map(|r| PendingView { reviewer: r.reviewer, decision: r.decision, reason: r.reason, at: r.at })
            .collect();
        items.push(QueueItem {
            id: v.id.clone(),
            external_id: v.external_id.clone(),
            status: v.status.as_str(),
            risk_score: v.risk_score,
            risk_band: band,
            signals: codes,
            reasons,
            waiting_since: v.updated_at,
            claimed_by: claim.map(|c| c.reviewer.clone()),
            claim_expires_at: claim.map(|c| c.expires_at),
            pending,
        });
        if items.len() >= limit as usize {
            break;
        }
    }
    Ok(HttpResponse::Ok().json(Queue { items }))
}
