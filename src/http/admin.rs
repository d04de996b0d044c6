//! An organisation's admins manage its API keys and webhook secret: list, create (with a
//! label and an expiry), revoke (in effect within a second on every node), rotate. Every
//! change is an audit event.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::problem::ApiError;
use crate::audit::event::{Kind, NewEvent};
use crate::context::Context;
use crate::crypto::api_key;
use crate::domain::claims::ClaimError;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::storage::{ApiKeyInfo, NewApiKeyRow};

const ADMIN: &[Role] = &[Role::Admin];

/// The longest a key may be made to last, in days.
const MAX_DAYS: u32 = 3_650;

fn invalid(field: &str, rule: &'static str) -> ApiError {
    ApiError::InvalidField(ClaimError { field: field.into(), rule })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub items: Vec<ApiKeyInfo>,
}

/// The organisation's API keys (never their secrets).
#[utoipa::path(get, path = "/v1/admin/api-keys", tag = "admin",
    responses((status = 200, body = KeyList), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[get("/v1/admin/api-keys")]
pub async fn list_keys(ctx: web::Data<Context>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let items = ctx.store.api_keys_of(&caller.org_id).await.map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().json(KeyList { items }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    #[schema(value_type = KeyRole)]
    pub role: String,
    /// What the key is for (1–100 characters, no control characters, not only spaces).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub label: Option<String>,
    /// The key stops working after this many days; none: until revoked.
    #[serde(default, deserialize_with = "crate::domain::whole::optional")]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// The roles a key can have (the schema of `role`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum KeyRole {
    Hr,
    Reviewer,
    Auditor,
    Admin,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    /// The key itself: shown only here.
    pub key: String,
    pub prefix: String,
    pub role: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

/// Create an API key for the organisation.
#[utoipa::path(post, path = "/v1/admin/api-keys", tag = "admin", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem),
        (status = 422, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/admin/api-keys")]
pub async fn create_key(
    ctx: web::Data<Context>,
    caller: Caller,
    body: web::Json<CreateKey>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let role: Role = body.role.parse().map_err(|()| invalid("role", "hr_reviewer_auditor_or_admin"))?;
    let label = body.label.as_deref().map(str::trim);
    let raw = body.label.as_deref().unwrap_or_default();
    if label.is_some_and(|l| l.is_empty() || raw.chars().count() > 100 || raw.chars().any(char::is_control)) {
        return Err(invalid("label", "1_to_100_printable_characters"));
    }
    if body.expires_in_days.is_some_and(|d| !(1..=MAX_DAYS).contains(&d)) {
        return Err(invalid("expires_in_days", "1_to_3650"));
    }
    let now = ctx.clock.now();
    let expires_at = body.expires_in_days.map(|d| now.plus(std::time::Duration::from_secs(u64::from(d) * 86_400)));
    let key =
        web::block(api_key::generate).await.map_err(|e| ApiError::internal(&e))?.map_err(|e| ApiError::internal(&e))?;
    let by = caller.reviewer();
    let row = NewApiKeyRow {
        prefix: &key.prefix,
        hash: &key.hash,
        org_id: &caller.org_id,
        role: role.as_str(),
        label,
        expires_at,
        created_by: &by,
    };
    let event = NewEvent::of_org(
        Kind::ApiKeyCreated,
        &caller.org_id,
        caller.actor(),
        serde_json::json!({
            "prefix": key.prefix, "role": role.as_str(), "expires_at": expires_at.map(Timestamp::to_rfc3339),
        }),
    );
    ctx.store.create_api_key(&row, &event, now).await.map_err(|e| ApiError::internal(&e))?;
    tracing::info!(prefix = %key.prefix, role = role.as_str(), "API key created");
    Ok(HttpResponse::Created().json(CreatedKey {
        key: key.key.clone(),
        prefix: key.prefix.clone(),
        role: role.as_str().to_owned(),
        expires_at,
    }))
}

/// Revoke one of the organisation's API keys: refused on every node within a second.
#[utoipa::path(delete, path = "/v1/admin/api-keys/{prefix}", tag = "admin", params(("prefix" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem),
        (status = 404, body = crate::http::problem::Problem, description = "No such unrevoked key in the organisation")),
    security(("api_key" = [])))]
#[delete("/v1/admin/api-keys/{prefix}")]
pub async fn revoke_key(
    ctx: web::Data<Context>,
    caller: Caller,
    prefix: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let prefix = prefix.into_inner();
    let well_formed =
        prefix.len() == 12 && prefix.strip_prefix("idg_").is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(ApiError::NotFound);
    }
    let event =
        NewEvent::of_org(Kind::ApiKeyRevoked, &caller.org_id, caller.actor(), serde_json::json!({ "prefix": prefix }));
    let now = ctx.clock.now();
    let revoked =
        ctx.store.revoke_api_key(&caller.org_id, &prefix, &event, now).await.map_err(|e| ApiError::internal(&e))?;
    if !revoked {
        return Err(ApiError::NotFound);
    }
    tracing::info!(prefix = %prefix, "API key revoked");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    /// The new `whsec_` secret: shown only here; webhooks are signed with it from now on.
    pub webhook_secret: String,
}

/// Replace the organisation's webhook signing secret.
#[utoipa::path(post, path = "/v1/admin/webhook-secret", tag = "admin",
    responses((status = 200, body = RotatedSecret), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/admin/webhook-secret")]
pub async fn rotate_webhook_secret(ctx: web::Data<Context>, caller: Caller) -> Result<HttpResponse, ApiError> {
    caller.require(ADMIN)?;
    let secret = crate::webhook::new_secret();
    let sealed = ctx
        .sealer
        .seal(secret.as_bytes(), &format!("webhook:{}", caller.org_id))
        .map_err(|e| ApiError::internal(&e))?;
    let event = NewEvent::of_org(Kind::WebhookSecretRotated, &caller.org_id, caller.actor(), serde_json::json!({}));
    let now = ctx.clock.now();
    let done = ctx
        .store
        .rotate_webhook_secret(&caller.org_id, &sealed, &event, now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if !done {
        return Err(ApiError::NotFound);
    }
    tracing::info!("webhook secret rotated");
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(RotatedSecret { webhook_secret: secret }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// data_subject_request, consent_withdrawn, legal_obligation or created_in_error.
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// What was deleted, counted.
    #[schema(value_type = Object)]
    pub deleted: crate::storage::Deleted,
}

/// Erase a verification's media and personal data now. The case's status, decision, risk
/// codes and audit trail (digests only) remain.
#[utoipa::path(post, path = "/v1/verifications/{id}/erasure", tag = "admin", params(("id" = String, Path)),
    request_body = ErasureRequest,
    responses((status = 200, body = Erased), (status = 401, body = crate::http::problem::Problem),
        (status = 403, body = crate::http::problem::Problem), (status = 404, body = crate::http::problem::Problem),
        (status = 409, body = crate::http::problem::Problem, description = "`step_out_of_order`: the case is being processed"),
        (status = 422, body = crate::http::problem::Problem, description = "`unknown_reason_code`")),
    security(("api_key" = [])))]
#[post("/v1/verifications/{id}/erasure")]
pub async fn erase(
    ctx: web::Data<Context>,
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<ErasureRequest>,
) -> Result<HttpResponse, ApiError> {
    use crate::retention::PurgeError;
    caller.require(ADMIN)?;
    let id = crate::domain::verification::VerificationId::parse(&path).ok_or(ApiError::NotFound)?.to_string();
    let reason = crate::retention::ERASURE_REASONS
        .iter()
        .find(|r| **r == body.reason)
        .ok_or_else(|| invalid("reason", "unknown_reason_code"))?;
    match crate::retention::erase(&ctx, &caller.org_id, &id, caller.actor(), reason).await {
        Ok(deleted) => {
            tracing::info!(verification = %id, reason, "personal data erased");
            Ok(HttpResponse::Ok().json(Erased { deleted }))
        }
        Err(PurgeError::NotFound) => Err(ApiError::NotFound),
        Err(PurgeError::InFlight) => Err(ApiError::OutOfOrder { status: "processing" }),
        Err(e) => Err(ApiError::internal(&e)),
    }
}
