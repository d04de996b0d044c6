//! `GET /v1/audit/evidence?verification=ID` (or `?from=&to=`): an evidence pack to keep and
//! check offline (`audit::pack`).

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::audit::{AUDIT, audit_error, current_head};
use super::auth::Caller;
use super::problem::ApiError;
use crate::audit::pack::{FORMAT, Pack, PackEvent, PackHead, README};
use crate::context::Context;
use crate::domain::time::Timestamp;
use crate::domain::verification::VerificationId;
use crate::storage::{EventFilter, KeyPurpose};

/// The most entries one pack holds.
const PACK_MAX: u32 = 100_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PackQuery {
    /// One verification's whole trail.
    pub verification: Option<String>,
    /// Or the organisation's entries from (inclusive, RFC 3339)…
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// … to (exclusive, RFC 3339).
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// An evidence pack: entries with inclusion proofs, the signed head, the audit keys and a
/// README on checking it offline with `idgate audit verify --pack FILE`.
#[utoipa::path(get, path = "/v1/audit/evidence", tag = "audit", params(PackQuery),
    responses((status = 200, description = "application/json attachment (idgate-evidence-pack/v1)"),
        (status = 400, body = crate::http::problem::Problem), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/audit/evidence")]
pub async fn evidence_pack(
    ctx: web::Data<Context>,
    caller: Caller,
    q: web::Query<PackQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(AUDIT)?;
    let time = |raw: &Option<String>| {
        raw.as_deref()
            .map(|t| Timestamp::parse_rfc3339(t).ok_or(ApiError::InvalidQuery("from and to must be RFC 3339 times")))
            .transpose()
    };
    let (from, to) = (time(&q.from)?, time(&q.to)?);
    // Each given parameter narrows the pack: one verification's trail, a time range, both, or
    // (none) the organisation's whole log; a range that ends before it starts holds nothing.
    let verification = match &q.verification {
        Some(id) => {
            let id = VerificationId::parse(id).ok_or(ApiError::NotFound)?.to_string();
            let v = ctx.store.get_verification(&id).await.map_err(|e| ApiError::internal(&e))?;
            v.filter(|v| v.org_id == caller.org_id).ok_or(ApiError::NotFound)?;
            Some(id)
        }
        None => None,
    };
    let scope = serde_json::json!({
        "verification": verification, "from": from.map(Timestamp::to_rfc3339), "to": to.map(Timestamp::to_rfc3339),
    });
    let head = current_head(&ctx).await?;
    let filter = EventFilter {
        org_id: Some(caller.org_id.clone()),
        verification_id: verification.clone(),
        from,
        to,
        limit: PACK_MAX,
        ..EventFilter::default()
    };
    let rows = ctx.store.audit_events(&filter).await.map_err(|e| ApiError::internal(&e))?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows.into_iter().filter(|r| r.seq < head.tree_size) {
        let inclusion_proof = ctx.audit.inclusion(&ctx.store, row.seq, head.tree_size).await.map_err(audit_error)?;
        events.push(PackEvent { seq: row.seq, entry: row.entry, leaf_hash: row.leaf_hash, inclusion_proof });
    }
    let audit_keys = ctx.keys.published(KeyPurpose::Audit).await.map_err(|e| ApiError::internal(&e))?;
    let pack = Pack {
        format: FORMAT.into(),
        readme: README.into(),
        scope,
        organisation: caller.org_id.clone(),
        tree_head: PackHead {
            tree_size: head.tree_size,
            root_hash: head.root_hash,
            signed_at_ms: head.signed_at.millis(),
            kid: head.kid,
            signature: head.signature,
            log_id: head.log_id,
        },
        audit_keys,
        events,
    };
    let name = verification.unwrap_or_else(|| "range".to_owned());
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"idgate-evidence-{name}.json\"")))
        .insert_header(("Cache-Control", "no-store"))
        .json(pack))
}
