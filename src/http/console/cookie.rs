//! The console's session cookie (`__Host-idgate_session`: Secure, HttpOnly,
//! SameSite=Strict, Path=/) and its CSRF check: a state-changing request with the cookie
//! must carry the session's token in `X-CSRF-Token` (the page reads it from
//! `GET /console/api/me`; another site can neither read it nor send the cookie).

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::domain::role::Role;
use crate::http::auth::{Caller, Principal};
use crate::http::problem::ApiError;

pub const COOKIE: &str = "__Host-idgate_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session cookie's value in a request, if any.
pub fn session_cookie(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get(actix_web::http::header::COOKIE)?.to_str().ok()?;
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// `Set-Cookie` for a new session lasting `max_age_seconds`.
pub fn set(value: &str, max_age_seconds: u64) -> String {
    format!("{COOKIE}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear() -> String {
    format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// A request's session cookie and, for a state change, its CSRF token.
pub struct SessionProof {
    cookie: String,
    csrf: Option<String>,
    safe: bool,
}

impl SessionProof {
    pub fn of(req: &HttpRequest) -> Option<Self> {
        let cookie = session_cookie(req)?;
        let csrf = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let safe = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
        Some(Self { cookie, csrf, safe })
    }

    /// The signed-in person as a caller (their organisation and role).
    pub async fn caller(self, ctx: &Context) -> Result<Caller, ApiError> {
        let session = crate::accounts::session_of(ctx, &self.cookie)
            .await
            .map_err(|e| ApiError::internal(&e))?
            .ok_or(ApiError::Unauthenticated)?;
        // Digests compared, so the comparison's time says nothing about the token.
        let matches = self.csrf.as_deref().is_some_and(|sent| Sha256::digest(sent) == Sha256::digest(&session.csrf));
        if !self.safe && !matches {
            return Err(ApiError::Csrf);
        }
        let role: Role = session.user.role.parse().map_err(|()| ApiError::Internal("stored user role".into()))?;
        Ok(Caller { org_id: session.user.org_id.clone(), role, principal: Principal::User(session.user.id) })
    }
}
