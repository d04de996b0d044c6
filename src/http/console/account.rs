//! The console's account endpoints (JSON, same origin): set-up from the one-time link,
//! sign-in (password + TOTP; rate-limited per client address and per account), sign-out,
//! and `me` (who is signed in, and the CSRF token for state changes).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::cookie;
use crate::context::Context;
use crate::domain::time::Timestamp;
use crate::http::problem::ApiError;
use crate::network::ReportLimiter;

/// Sign-in attempts per minute on this node: per client address and per account.
pub struct SignInLimits {
    by_address: ReportLimiter,
    by_account: ReportLimiter,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self { by_address: ReportLimiter::per_minute(20), by_account: ReportLimiter::per_minute(10) }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupStart {
    pub token: String,
}

#[derive(Serialize)]
pub struct Enrolment {
    pub email: String,
    /// Base32, for typing into an authenticator app.
    pub totp_secret: String,
    pub otpauth_url: String,
}

#[post("/console/api/setup/start")]
pub async fn setup_start(ctx: web::Data<Context>, body: web::Json<SetupStart>) -> Result<HttpResponse, ApiError> {
    let (email, totp_secret, otpauth_url) = crate::accounts::setup_start(&ctx, &body.token).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Enrolment {
        email,
        totp_secret,
        otpauth_url,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupFinish {
    pub token: String,
    pub password: String,
    pub code: String,
}

#[post("/console/api/setup/finish")]
pub async fn setup_finish(ctx: web::Data<Context>, body: web::Json<SetupFinish>) -> Result<HttpResponse, ApiError> {
    crate::accounts::setup_finish(&ctx, &body.token, &body.password, &body.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    pub code: String,
}

#[derive(Serialize)]
pub struct Me {
    pub user: String,
    pub email: String,
    pub role: String,
    pub organisation: String,
    /// Send it as `X-CSRF-Token` with every state change.
    pub csrf: String,
    pub expires_at: Timestamp,
}

#[post("/console/api/sign-in")]
pub async fn sign_in(
    ctx: web::Data<Context>,
    limits: web::Data<SignInLimits>,
    req: HttpRequest,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    let address = crate::http::client::sighting(&req, &ctx).map(|s| s.ip.to_string()).unwrap_or_default();
    let account = body.email.trim().to_lowercase();
    if !limits.by_address.allows(&address) || !limits.by_account.allows(&account) {
        return Err(ApiError::RateLimited { retry_after_seconds: 60 });
    }
    let session = crate::accounts::sign_in(&ctx, &body.email, &body.password, &body.code).await?;
    let max_age = crate::accounts::SESSION_HOURS * 3600;
    Ok(HttpResponse::NoContent()
        .insert_header(("Set-Cookie", cookie::set(&session.cookie, max_age)))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

#[post("/console/api/sign-out")]
pub async fn sign_out(ctx: web::Data<Context>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(value) = cookie::session_cookie(&req) {
        crate::accounts::sign_out(&ctx, &value).await?;
    }
    Ok(HttpResponse::NoContent().insert_header(("Set-Cookie", cookie::clear())).finish())
}

#[get("/console/api/me")]
pub async fn me(ctx: web::Data<Context>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let value = cookie::session_cookie(&req).ok_or(ApiError::Unauthenticated)?;
    let session = crate::accounts::session_of(&ctx, &value).await?.ok_or(ApiError::Unauthenticated)?;
    let u = session.user;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(Me {
        user: u.id,
        email: u.email,
        role: u.role,
        organisation: u.org_id,
        csrf: session.csrf,
        expires_at: session.expires_at,
    }))
}
