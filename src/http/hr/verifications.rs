//! `POST /v1/verifications`, `GET /v1/verifications/{id}`, `GET /v1/verifications`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::views::{TokenView, VerificationView};
use crate::audit::event::{Kind, NewEvent};
use crate::context::Context;
use crate::crypto::secret_token;
use crate::domain::claims::{ClaimError, Claims, ExternalId, RawClaims};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::verification::{Status, VerificationId};
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::storage::{ListFilter, NewVerification, VerificationRecord};
use crate::webhook::destination::Destinations;

const WRITE: &[Role] = &[Role::Hr, Role::Admin];
const READ: &[Role] = &[Role::Hr, Role::Admin, Role::Reviewer, Role::Auditor];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVerification {
    /// The HR system's own id for the candidate: 1–128 of `A-Z a-z 0-9 . _ : -`.
    #[schema(pattern = r"^[A-Za-z0-9._:-]{1,128}$", min_length = 1, max_length = 128)]
    pub external_id: String,
    pub candidate: RawClaims,
    /// Where status changes are delivered (Standard Webhooks): an https URL without
    /// credentials whose host is public (no loopback, private, link-local or other internal
    /// address or name; `webhooks.allow_http` and `webhooks.allow_private_destinations` lift
    /// these rules). Redirects are not followed.
    pub callback_url: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: String,
    #[schema(value_type = String)]
    pub status: &'static str,
    /// Send this link to the candidate; it is shown only here.
    pub candidate_url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

fn field(field: &str, rule: &'static str) -> ApiError {
    ApiError::InvalidField(ClaimError { field: field.into(), rule })
}

/// The callback URL, when it is one webhooks may be sent to (`webhook::destination`).
fn callback(raw: Option<&str>, destinations: Destinations) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let url = url::Url::parse(raw).map_err(|_| field("callback_url", "invalid_url"))?;
    destinations.check(&url).map_err(|refusal| field("callback_url", refusal.code()))?;
    Ok(Some(url.to_string()))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else { return Ok(None) };
    let key = value.to_str().map_err(|_| field("Idempotency-Key", "visible_ascii"))?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(field("Idempotency-Key", "1_to_255_visible_ascii"));
    }
    Ok(Some(key.to_owned()))
}

/// Create a verification and get the candidate's link.
#[utoipa::path(post, path = "/v1/verifications", tag = "hr", request_body = CreateVerification,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = Created), (status = 200, body = Created, description = "Idempotent replay"),
        (status = 400, body = crate::http::problem::Problem), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 409, body = crate::http::problem::Problem),
        (status = 415, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/verifications")]
pub async fn create(
    ctx: web::Data<Context>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<CreateVerification>,
) -> Result<HttpResponse, ApiError> {
    caller.require(WRITE)?;
    let now = ctx.clock.now();
    let body = body.into_inner();
    let claims = Claims::parse(&body.candidate, now).map_err(ApiError::InvalidField)?;
    let external_id = ExternalId::parse(&body.external_id).map_err(ApiError::InvalidField)?;
    let callback_url = callback(body.callback_url.as_deref(), ctx.settings.webhooks.destinations())?;
    let key = idempotency_key(&req)?;
    let raw = claims.to_raw();
    let claims_json = serde_json::to_vec(&raw).map_err(|e| ApiError::internal(&e))?;
    let digest = hex::encode(
        Sha256::new()
            .chain_update(external_id.as_str())
            .chain_update(&claims_json)
            .chain_update(callback_url.as_deref().unwrap_or(""))
            .finalize(),
    );
    if let Some(key) = &key
        && let Some(existing) =
            ctx.store.find_idempotent(&caller.org_id, key).await.map_err(|e| ApiError::internal(&e))?
    {
        return replay(&ctx, existing, &digest);
    }

    let id = VerificationId::random().to_string();
    let (risk, claim_hashes) = crate::assess::intake(&ctx, (&caller.org_id, &id), &raw, claims.birth_date.date(), now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let token = secret_token::generate();
    let link = format!("{}/c/{}", ctx.settings.public_url(), token.token);
    let expires_at = now.plus(std::time::Duration::from_secs(ctx.settings.candidate.token_ttl_hours * 3600));
    let seal =
        |bytes: &[u8], what: &str| ctx.sealer.seal(bytes, &format!("{what}:{id}")).map_err(|e| ApiError::internal(&e));
    let new = NewVerification {
        id: id.clone(),
        org_id: caller.org_id.clone(),
        external_id: external_id.as_str().to_owned(),
        sealed_claims: seal(&claims_json, "claims")?,
        callback_url,
        idempotency_key: key.clone(),
        request_digest: Some(digest.clone()),
        token_digest: token.digest,
        token_expires_at: expires_at,
        sealed_link: seal(link.as_bytes(), "link")?,
        risk: risk
            .as_ref()
            .map(|r| serde_json::to_string(r).map(|json| (r.score, json)))
            .transpose()
            .map_err(|e| ApiError::internal(&e))?,
        claim_hashes,
        now,
    };
    let event = NewEvent::about(
        Kind::VerificationCreated,
        &caller.org_id,
        &id,
        caller.actor(),
        serde_json::json!({
            "request_sha256": digest, "idempotency_key": key.is_some(), "callback": new.callback_url.is_some(),
            "link_expires_at": expires_at.to_rfc3339(),
            "risk": risk.as_ref().map(|r| serde_json::json!({ "score": r.score, "signals": r.codes(), "lists": r.lists })),
        }),
    );
    match ctx.store.insert_verification(&new, &event).await {
        Ok(()) => {}
        // A concurrent request with the same key won the race: answer as a replay.
        Err(e) if e.is_unique_violation() && key.is_some() => {
            let existing = ctx
                .store
                .find_idempotent(&caller.org_id, key.as_deref().unwrap_or_default())
                .await
                .map_err(|e| ApiError::internal(&e))?;
            return replay(&ctx, existing.ok_or(ApiError::IdempotencyConflict)?, &digest);
        }
        Err(e) => return Err(ApiError::internal(&e)),
    }
    tracing::info!(verification = %id, org = %caller.org_id, "verification created");
    Ok(HttpResponse::Created().json(Created { id, status: Status::Created.as_str(), candidate_url: link, expires_at }))
}

fn replay(ctx: &Context, existing: VerificationRecord, digest: &str) -> Result<HttpResponse, ApiError> {
    if existing.request_digest.as_deref() != Some(digest) {
        return Err(ApiError::IdempotencyConflict);
    }
    let link =
        ctx.sealer.open(&existing.sealed_link, &format!("link:{}", existing.id)).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().json(Created {
        id: existing.id,
        status: existing.status.as_str(),
        candidate_url: String::from_utf8_lossy(&link).into_owned(),
        expires_at: existing.token_expires_at,
    }))
}

/// One verification of the caller's organisation.
#[utoipa::path(get, path = "/v1/verifications/{id}", tag = "hr", params(("id" = String, Path)),
    responses((status = 200, body = VerificationView), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/verifications/{id}")]
pub async fn get_one(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READ)?;
    let v = caller.own_verification(&ctx, &path).await?;
    let id = v.id.clone();
    let media = ctx.store.media_of(&id).await.map_err(|e| ApiError::internal(&e))?;
    let mut view = VerificationView::new(&v, media);
    if let Some(t) = ctx.store.token_of(&id).await.map_err(|e| ApiError::internal(&e))? {
        // An emptied copy: the personal data was purged (the token itself is the holder's).
        let value = if t.sealed_token.is_empty() {
            None
        } else {
            let value =
                ctx.sealer.open(&t.sealed_token, &format!("token:{}", t.jti)).map_err(|e| ApiError::internal(&e))?;
            Some(String::from_utf8(value).map_err(|e| ApiError::internal(&e))?)
        };
        view.token = Some(TokenView {
            value,
            jti: t.jti,
            expires_at: t.expires_at,
            revoked: t.revoked_at.is_some(),
            revoked_reason: t.revoked_reason,
        });
    }
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[param(value_type = Option<crate::domain::verification::Status>)]
    pub status: Option<String>,
    pub external_id: Option<String>,
    /// RFC 3339; created at or after.
    #[param(format = DateTime)]
    pub created_from: Option<String>,
    /// RFC 3339; created before.
    #[param(format = DateTime)]
    pub created_to: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    pub cursor: Option<String>,
    /// 0–100: only verifications whose risk score is above it.
    #[param(minimum = 0, maximum = 100)]
    pub risk_above: Option<u8>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub items: Vec<VerificationView>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// A page's position: `<created_at millis>.<id>` of its last row (plain, so that the
/// OpenAPI pattern says exactly which cursors exist).
fn cursor(v: &crate::storage::VerificationRecord) -> String {
    format!("{}.{}", v.created_at.millis(), v.id)
}

fn parse_cursor(raw: &str) -> Option<(Timestamp, String)> {
    let (millis, id) = raw.split_once('.')?;
    if millis.is_empty() || millis.len() > 15 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let canonical = id.len() == 36 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'-'));
    let id = VerificationId::parse(id).filter(|_| canonical)?.to_string();
    Some((Timestamp::from_millis(millis.parse().ok()?), id))
}

/// The caller's organisation's verifications, newest first.
#[utoipa::path(get, path = "/v1/verifications", tag = "hr", params(ListQuery),
    responses((status = 200, body = Page), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/verifications")]
pub async fn list(
    ctx: web::Data<Context>,
    caller: Caller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(READ)?;
    let q = query.into_inner();
    let time = |raw: &Option<String>| -> Result<Option<Timestamp>, ApiError> {
        raw.as_deref()
            .map(|r| Timestamp::parse_rfc3339(r).ok_or(ApiError::InvalidQuery("dates are RFC 3339")))
            .transpose()
    };
    if q.risk_above.is_some_and(|r| r > 100) {
        return Err(ApiError::InvalidQuery("risk_above is 0 to 100"));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::InvalidQuery("limit is 1 to 200"));
    }
    let filter = ListFilter {
        status: q
            .status
            .as_deref()
            .map(|s| s.parse().map_err(|()| ApiError::InvalidQuery("unknown status")))
            .transpose()?,
        external_id: q.external_id.clone(),
        risk_above: q.risk_above,
        created_from: time(&q.created_from)?,
        created_to: time(&q.created_to)?,
        after: q.cursor.as_deref().map(|c| parse_cursor(c).ok_or(ApiError::InvalidQuery("bad cursor"))).transpose()?,
        limit: limit + 1,
    };
    let mut rows = ctx.store.list_verifications(&caller.org_id, &filter).await.map_err(|e| ApiError::internal(&e))?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more.then(|| rows.last().map(cursor)).flatten();
    let items = rows.iter().map(|v| VerificationView::new(v, Vec::new())).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
