//! The audit log over HTTP, for auditors (and admins) of an organisation: events, a
//! verification's trail with inclusion proofs, the signed tree head, consistency proofs,
//! JSON Lines export, and the audit public keys.

use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::stream;
use serde::{Deserialize, Serialize};

use crate::audit::event::Kind;
use crate::audit::log::AuditError;
use crate::context::Context;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::storage::{AuditRow, EventFilter, HeadRow, KeyPurpose};
use crate::tokens::Jwks;

pub(crate) const AUDIT: &[Role] = &[Role::Auditor, Role::Admin];
const PAGE_MAX: u32 = 1000;

pub(crate) fn audit_error(e: AuditError) -> ApiError {
    match e {
        // No tree of that size (yet), or no proof between those sizes.
        AuditError::OutOfRange => ApiError::NotFound,
        e => ApiError::internal(&e),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub kind: String,
    pub verification_id: Option<String>,
    /// The canonical entry: its bytes are the Merkle leaf (SHA-256 of 0x00 ‖ entry).
    pub entry: String,
    pub leaf_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<Vec<String>>,
}

impl EventView {
    fn new(row: AuditRow) -> Self {
        Self {
            seq: row.seq,
            at: row.at,
            kind: row.kind,
            verification_id: row.verification_id,
            entry: row.entry,
            leaf_hash: row.leaf_hash,
            inclusion_proof: None,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HeadView {
    pub tree_size: i64,
    /// Hex SHA-256 Merkle root (RFC 6962).
    pub root_hash: String,
    #[schema(value_type = String, format = DateTime)]
    pub signed_at: Timestamp,
    pub signed_at_ms: i64,
    /// The audit key (see /.well-known/audit-keys.json).
    pub kid: String,
    /// base64url Ed25519 signature over `signed_message`.
    pub signature: String,
    pub signed_message: String,
    /// The log this head was signed for (absent on heads signed before logs had ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
}

impl HeadView {
    pub fn new(h: HeadRow) -> Self {
        Self {
            signed_message: crate::audit::head_message(
                h.tree_size,
                &h.root_hash,
                h.signed_at.millis(),
                h.log_id.as_deref(),
            ),
            log_id: h.log_id.clone(),
            tree_size: h.tree_size,
            root_hash: h.root_hash,
            signed_at: h.signed_at,
            signed_at_ms: h.signed_at.millis(),
            kid: h.kid,
            signature: h.signature,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    pub verification: Option<String>,
    #[param(value_type = Option<crate::audit::event::Kind>)]
    pub kind: Option<String>,
    /// RFC 3339, inclusive.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339, exclusive.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Continue after this sequence number (`next` of the previous page).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Who acted: a console user (`user:ID`) or an API key (`idg_XXXXXXXX` or `key:idg_…`).
    #[param(
        pattern = r"^(user:[A-Za-z0-9_:-]{0,75}|key:[A-Za-z0-9_:-]{0,76}|idg_[A-Za-z0-9_:-]{0,76})$",
        max_length = 80
    )]
    pub actor: Option<String>,
    /// Events with this decision.
    #[param(value_type = Option<DecisionName>)]
    pub decision: Option<String>,
}

/// The decisions events can be filtered by (the schema of `decision`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DecisionName {
    Approve,
    Review,
    Reject,
    Retake,
}

/// The entry fragments that `actor` and `decision` ask for.
fn fragments(q: &EventQuery) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    if let Some(actor) = q.actor.as_deref() {
        let clean = (1..=80).contains(&actor.len())
            && actor.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
        let fragment = match (clean, actor.strip_prefix("user:"), actor.strip_prefix("key:")) {
            (true, Some(user), _) => format!("\"user\":\"{user}\""),
            (true, None, Some(prefix)) => format!("\"key_prefix\":\"{prefix}\""),
            (true, None, None) if actor.starts_with("idg_") => format!("\"key_prefix\":\"{actor}\""),
            _ => return Err(ApiError::InvalidQuery("actor is user:ID, key:idg_XXXXXXXX or idg_XXXXXXXX")),
        };
        out.push(fragment);
    }
    if let Some(decision) = q.decision.as_deref() {
        if !matches!(decision, "approve" | "review" | "reject" | "retake") {
            return Err(ApiError::InvalidQuery("decision is approve, review, reject or retake"));
        }
        out.push(format!("\"decision\":\"{decision}\""));
    }
    Ok(out)
}

fn filter(caller: &Caller, q: &EventQuery, limit: u32) -> Result<EventFilter, ApiError> {
    let time = |raw: &Option<String>| {
        raw.as_deref()
            .map(|t| Timestamp::parse_rfc3339(t).ok_or(ApiError::InvalidQuery("from and to must be RFC 3339 times")))
            .transpose()
    };
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::InvalidQuery("after must be 0 or more"));
    }
    if q.limit.is_some_and(|l| !(1..=PAGE_MAX).contains(&l)) {
        return Err(ApiError::InvalidQuery("limit must be between 1 and 1000"));
    }
    if q.kind.as_deref().is_some_and(|k| Kind::parse(k).is_none()) {
        return Err(ApiError::InvalidQuery("unknown event kind"));
    }
    Ok(EventFilter {
        org_id: Some(caller.org_id.clone()),
        verification_id: q.verification.clone(),
        kind: q.kind.clone(),
        from: time(&q.from)?,
        to: time(&q.to)?,
        after: q.after,
        entry_contains: fragments(q)?,
        limit,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<i64>,
}

/// Audit events of the caller's organisation (and global ones such as key rotations).
#[utoipa::path(get, path = "/v1/audit/events", tag = "audit", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/audit/events")]
pub async fn events(
    ctx: web::Data<Context>,
    caller: Caller,
    q: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(ApiError::InvalidQuery("limit must be between 1 and 1000"));
    }
    let mut f = filter(&caller, &q, limit + 1)?;
    f.limit = limit + 1;
    let mut rows = ctx.store.audit_events(&f).await.map_err(|e| ApiError::internal(&e))?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(|r| r.seq) } else { None };
    Ok(HttpResponse::Ok().json(EventPage { events: rows.into_iter().map(EventView::new).collect(), next }))
}

/// Signs a head for the current log if it grew, and returns the latest.
pub(crate) async fn current_head(ctx: &Context) -> Result<HeadRow, ApiError> {
    ctx.audit.seal(&ctx.store, &ctx.keys, &ctx.clock).await.map_err(audit_error)?.ok_or(ApiError::NotFound)
}

/// The latest signed tree head (a new one is signed first if the log grew).
#[utoipa::path(get, path = "/v1/audit/tree-head", tag = "audit",
    responses((status = 200, body = HeadView), (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/audit/tree-head")]
pub async fn tree_head(ctx: web::Data<Context>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT)?;
    Ok(HttpResponse::Ok().json(HeadView::new(current_head(&ctx).await?)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Trail {
    pub verification_id: String,
    pub tree_head: HeadView,
    /// Every event of the verification, each with its inclusion proof in `tree_head`.
    pub events: Vec<EventView>,
}

/// A verification's whole trail with inclusion proofs against a signed head.
#[utoipa::path(get, path = "/v1/audit/verifications/{id}", tag = "audit", params(("id" = String, Path)),
    responses((status = 200, body = Trail), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/audit/verifications/{id}")]
pub async fn trail(ctx: web::Data<Context>, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT)?;
    let v = ctx.store.get_verification(&id).await.map_err(|e| ApiError::internal(&e))?;
    v.filter(|v| v.org_id == caller.org_id).ok_or(ApiError::NotFound)?;
    let head = current_head(&ctx).await?;
    let f = EventFilter {
        org_id: Some(caller.org_id.clone()),
        verification_id: Some(id.clone()),
        limit: 100_000,
        ..EventFilter::default()
    };
    let rows = ctx.store.audit_events(&f).await.map_err(|e| ApiError::internal(&e))?;
    let mut trail_events = Vec::with_capacity(rows.len());
    for row in rows.into_iter().filter(|r| r.seq < head.tree_size) {
        let proof = ctx.audit.inclusion(&ctx.store, row.seq, head.tree_size).await.map_err(audit_error)?;
        let mut view = EventView::new(row);
        view.inclusion_proof = Some(proof);
        trail_events.push(view);
    }
    Ok(HttpResponse::Ok().json(Trail {
        verification_id: id.into_inner(),
        tree_head: HeadView::new(head),
        events: trail_events,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// A tree size: 1 or more, at most `second`.
    #[param(minimum = 1)]
    pub first: i64,
    /// A tree size: at most the log's current size.
    #[param(minimum = 1)]
    pub second: i64,
}

/// Proof (RFC 6962 §2.1.2) that the tree of `first` entries is a prefix of the tree of `second`.
#[utoipa::path(get, path = "/v1/audit/consistency", tag = "audit", params(ConsistencyQuery),
    responses((status = 200), (status = 400, body = crate::http::problem::Problem), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem),
        (status = 404, description = "No tree of `second` entries yet, or `first` is larger than `second`", body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/audit/consistency")]
pub async fn consistency(
    ctx: web::Data<Context>,
    caller: Caller,
    q: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT)?;
    if q.first < 1 || q.second < 1 {
        return Err(ApiError::InvalidQuery("first and second are tree sizes: 1 or more"));
    }
    let proof = ctx.audit.consistency(&ctx.store, q.first, q.second).await.map_err(audit_error)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "first": q.first, "second": q.second, "proof": proof })))
}

/// The organisation's events as JSON Lines: one canonical entry per line (hash each line
/// as a leaf to check it against the tree).
#[utoipa::path(get, path = "/v1/audit/export", tag = "audit", params(EventQuery),
    responses((status = 200, content_type = "application/x-ndjson"), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/audit/export")]
pub async fn export(
    ctx: web::Data<Context>,
    caller: Caller,
    q: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT)?;
    // `limit` is the size of the pages read behind the stream; every matching event is sent.
    let first = filter(&caller, &q, q.limit.unwrap_or(PAGE_MAX))?;
    let pages = stream::unfold(Some(first), move |state| {
        let ctx = ctx.clone();
        async move {
            let mut f = state?;
            match ctx.store.audit_events(&f).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let mut out = String::new();
                    for row in &rows {
                        out.push_str(&row.entry);
                        out.push('\n');
                    }
                    let full = rows.len() == f.limit as usize;
                    f.after = rows.last().map(|r| r.seq);
                    Some((Ok::<_, actix_web::Error>(web::Bytes::from(out)), full.then_some(f)))
                }
                Err(e) => Some((Err(ApiError::internal(&e).into()), None)),
            }
        }
    });
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").streaming(pages))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HeadsQuery {
    /// Only heads of a larger tree than this (page on with the last `tree_size`).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Heads answered per page.
const HEADS_PAGE: i64 = 1000;

/// Every signed tree head, oldest first, for anyone to keep (no authentication: a head holds
/// sizes, hashes, times and signatures, nothing about anyone). A head kept today proves
/// tomorrow that the log was only appended to: `idgate audit verify --against HEAD.json`.
#[utoipa::path(get, path = "/.well-known/audit-heads.json", tag = "audit", params(HeadsQuery),
    responses((status = 200), (status = 400, body = crate::http::problem::Problem)))]
#[get("/.well-known/audit-heads.json")]
pub async fn public_heads(ctx: web::Data<Context>, q: web::Query<HeadsQuery>) -> Result<HttpResponse, ApiError> {
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::InvalidQuery("after must be 0 or more"));
    }
    let heads = ctx.store.heads_after(after, HEADS_PAGE).await.map_err(|e| ApiError::internal(&e))?;
    let next = (heads.len() as i64 == HEADS_PAGE).then(|| heads.last().map(|h| h.tree_size)).flatten();
    let heads: Vec<HeadView> = heads.into_iter().map(HeadView::new).collect();
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(serde_json::json!({ "heads": heads, "next_after": next })))
}

/// The audit public keys (JWK Set): every key that ever signed a tree head.
#[utoipa::path(get, path = "/.well-known/audit-keys.json", tag = "audit", responses((status = 200), (status = 304)))]
#[get("/.well-known/audit-keys.json")]
pub async fn audit_keys(ctx: web::Data<Context>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let keys = ctx.keys.published(KeyPurpose::Audit).await.map_err(|e| ApiError::internal(&e))?;
    crate::http::tokens::key_set(&req, &Jwks { keys })
}
