//! Tokens over HTTP: the JWKS and discovery metadata, the offer gate, RFC 7662
//! introspection and revocation.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::event::{Kind, NewEvent};
use crate::context::Context;
use crate::domain::claims::ClaimError;
use crate::domain::role::Role;
use crate::http::auth::Caller;
use crate::http::problem::ApiError;
use crate::storage::KeyPurpose;
use crate::tokens::Jwks;
use crate::tokens::claims::TokenClaims;
use crate::tokens::registry::{Issued, Standing};
use crate::tokens::verify::{self, Expect, Rejection};

const GATE: &[Role] = &[Role::Hr, Role::Admin];
const REVOKE: &[Role] = &[Role::Hr, Role::Admin];
const INTROSPECT: &[Role] = &[Role::Hr, Role::Admin, Role::Reviewer, Role::Auditor];
/// How long verifiers may cache the key sets.
const JWKS_MAX_AGE: u32 = 300;

/// A published key set with `Cache-Control` and an `ETag` (304 on a match).
pub fn key_set(req: &HttpRequest, set: &Jwks) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(set).map_err(|e| ApiError::internal(&e))?;
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(&body).get(..16).unwrap_or_default()));
    let cache = format!("public, max-age={JWKS_MAX_AGE}");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body))
}

/// The token signing keys (RFC 7517): the signer, keys waiting to sign, and retired keys
/// until every token they signed has expired.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "tokens", responses((status = 200, description = "JWK Set"), (status = 304)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(ctx: web::Data<Context>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let keys = ctx.keys.published(KeyPurpose::Token).await.map_err(|e| ApiError::internal(&e))?;
    key_set(&req, &Jwks { keys })
}

/// Discovery metadata in the manner of OpenID Connect.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "tokens", responses((status = 200)))]
#[get("/.well-known/openid-configuration")]
pub async fn discovery(ctx: web::Data<Context>) -> HttpResponse {
    let base = ctx.settings.issuer();
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, format!("public, max-age={JWKS_MAX_AGE}"))).json(
        serde_json::json!({
            "issuer": base,
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "introspection_endpoint": format!("{base}/v1/tokens/introspect"),
            "offer_gate_endpoint": format!("{base}/v1/offer-gate"),
            "revocation_endpoint_template": format!("{base}/v1/tokens/{{jti}}/revoke"),
            "audit_keys_uri": format!("{base}/.well-known/audit-keys.json"),
            "token_signing_alg_values_supported": ["EdDSA", "ES256"],
            "verified_claims_supported": true,
            "trust_frameworks_supported": ["idgate"],
            "evidence_supported": ["document"],
            "claims_in_verified_claims_supported": ["given_name", "family_name", "birthdate"],
        }),
    )
}

/// The full check of a token presented by `caller`: signature and claims, then that it
/// was issued here, is not revoked, is for the candidate's newest verification, and (when
/// given) is for `candidate`. A token for another organisation is answered `wrong_audience`
/// (with what the token itself says) and nothing is looked up: whether it was issued,
/// revoked or superseded is not the caller's to learn.
pub async fn check(
    ctx: &Context,
    caller: &Caller,
    token: &str,
    candidate: Option<&str>,
) -> Result<(Option<TokenClaims>, Option<Issued>, Vec<Rejection>), ApiError> {
    let kid = verify::kid_of(token);
    let keys = ctx.keys.verifying_keys(kid.as_deref()).await.map_err(|e| ApiError::internal(&e))?;
    let issuer = ctx.settings.issuer();
    let now = ctx.clock.now();
    let expect =
        Expect { issuer: &issuer, audience: &caller.org_id, now, leeway_seconds: ctx.settings.tokens.leeway_seconds };
    let mut checked = verify::verify(token, |kid| keys.get(kid), &expect);
    let Some(claims) = &checked.claims else { return Ok((None, None, checked.reasons)) };
    if checked.reasons.contains(&Rejection::WrongAudience) {
        return Ok((None, None, checked.reasons));
    }
    let standing = ctx.tokens.standing(&ctx.store, &claims.jti, now).await.map_err(|e| ApiError::internal(&e))?;
    let mut issued = None;
    match standing {
        Standing::Issued { issued: i, revoked } if i.verification_id == claims.sub => {
            if revoked.is_some() {
                checked.reasons.push(Rejection::Revoked);
            }
            if candidate.is_some_and(|c| c != i.external_id) {
                checked.reasons.push(Rejection::CandidateMismatch);
            }
            let latest = ctx
                .store
                .latest_verification_of(&i.org_id, &i.external_id)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            if latest.is_some_and(|latest| latest != i.verification_id) {
                checked.reasons.push(Rejection::Superseded);
            }
            issued = Some(i);
        }
        _ => checked.reasons.push(Rejection::UnknownToken),
    }
    Ok((checked.claims, issued, checked.reasons))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferGateRequest {
    /// The verification token idgate issued.
    pub token: String,
    /// The HR system's own id for the candidate (the verification's `external_id`).
    pub candidate: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfferGateAnswer {
    pub may_offer: bool,
    /// Why not: `malformed`, `algorithm_not_allowed`, `missing_kid`, `unknown_key`,
    /// `key_retired`, `bad_signature`, `expired`, `not_yet_valid`, `wrong_audience`,
    /// `wrong_issuer`, `revoked`, `unknown_token`, `candidate_mismatch`, `superseded` (the
    /// candidate has a newer verification), `key_compromised`.
    pub reasons: Vec<Rejection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<crate::domain::time::Timestamp>,
}

/// May this candidate be made an offer? Checks the token's signature, issuer, audience
/// (the calling organisation), validity period, revocation and subject.
#[utoipa::path(post, path = "/v1/offer-gate", tag = "tokens", request_body = OfferGateRequest,
    responses((status = 200, body = OfferGateAnswer), (status = 400, body = crate::http::problem::Problem),
        (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/offer-gate")]
pub async fn offer_gate(
    ctx: web::Data<Context>,
    caller: Caller,
    body: web::Json<OfferGateRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(GATE)?;
    let (_, issued, reasons) = check(&ctx, &caller, body.token.trim(), Some(&body.candidate)).await?;
    ctx.metrics.offer_gate(reasons.is_empty());
    let ok = reasons.is_empty();
    Ok(HttpResponse::Ok().json(OfferGateAnswer {
        may_offer: ok,
        reasons,
        verification_id: issued.as_ref().filter(|_| ok).map(|i| i.verification_id.clone()),
        expires_at: issued.filter(|_| ok).map(|i| i.expires_at),
    }))
}

/// RFC 7662 §2.1, as a form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IntrospectionRequest {
    /// The verification token.
    pub token: String,
    /// Ignored (only verification tokens exist).
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
}

/// Token introspection (RFC 7662): `active` and, when active, the token's claims; when not,
/// `reason` (an idgate extension) with the first reason code.
#[utoipa::path(post, path = "/v1/tokens/introspect", tag = "tokens",
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = 400, body = crate::http::problem::Problem), (status = 401, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/tokens/introspect")]
pub async fn introspect(
    ctx: web::Data<Context>,
    caller: Caller,
    form: web::Form<IntrospectionRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(INTROSPECT)?;
    let (claims, issued, reasons) = check(&ctx, &caller, form.token.trim(), None).await?;
    let body = match (claims, issued) {
        (Some(c), Some(i)) if reasons.is_empty() => serde_json::json!({
            "active": true, "iss": c.iss, "sub": c.sub, "aud": c.aud, "iat": c.iat, "nbf": c.nbf, "exp": c.exp,
            "jti": c.jti, "token_type": "verification", "candidate": i.external_id,
        }),
        _ => serde_json::json!({
            "active": false,
            "reason": reasons.first().map(|r| r.code()),
            "reasons": reasons,
        }),
    };
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(body))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why (recorded in the audit log): 1 to 500 characters, no control characters, not only
    /// spaces.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub reason: String,
}

/// Revoke a token: the offer gate and introspection refuse it from now on.
#[utoipa::path(post, path = "/v1/tokens/{jti}/revoke", tag = "tokens", request_body = RevokeRequest,
    params(("jti" = String, Path)),
    responses((status = 200), (status = 401, body = crate::http::problem::Problem), (status = 403, body = crate::http::problem::Problem),
        (status = 404, body = crate::http::problem::Problem), (status = 409, body = crate::http::problem::Problem),
        (status = 422, body = crate::http::problem::Problem)),
    security(("api_key" = [])))]
#[post("/v1/tokens/{jti}/revoke")]
pub async fn revoke(
    ctx: web::Data<Context>,
    caller: Caller,
    jti: web::Path<String>,
    body: web::Json<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(REVOKE)?;
    let reason = body.reason.trim();
    if reason.is_empty() || body.reason.chars().count() > 500 || body.reason.chars().any(char::is_control) {
        return Err(ApiError::InvalidField(ClaimError {
            field: "reason".into(),
            rule: "1_to_500_printable_characters",
        }));
    }
    let token = ctx.store.token(&jti).await.map_err(|e| ApiError::internal(&e))?;
    let token = token.filter(|t| t.org_id == caller.org_id).ok_or(ApiError::NotFound)?;
    if token.revoked_at.is_some() {
        return Err(ApiError::AlreadyRevoked);
    }
    let now = ctx.clock.now();
    let event = NewEvent::about(
        Kind::TokenRevoked,
        &token.org_id,
        &token.verification_id,
        caller.actor(),
        serde_json::json!({ "jti": token.jti, "reason": reason }),
    );
    if !ctx
        .store
        .revoke_token(&token.jti, reason, &caller.reviewer(), &event, now)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        return Err(ApiError::AlreadyRevoked);
    }
    ctx.tokens.revoked(&token.jti, reason);
    tracing::info!(jti = %token.jti, verification = %token.verification_id, "token revoked");
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "jti": token.jti, "revoked": true, "reason": reason, "revoked_at": now,
    })))
}
