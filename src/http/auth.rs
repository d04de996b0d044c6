//! Who is calling: an HR system (API key) or a candidate (link token). Both arrive as
//! `Authorization: Bearer …`; keys are verified against their argon2 hash once and then
//! remembered by SHA-256 for a minute, so a busy HR system does not pay argon2 per request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use super::problem::ApiError;
use crate::audit::event::{Actor, Kind, NewEvent};
use crate::context::Context;
use crate::crypto::{api_key, secret_token};
use crate::domain::role::Role;
use crate::storage::VerificationRecord;

const KEY_CACHE_TTL: Duration = Duration::from_secs(60);
const KEY_CACHE_MAX: usize = 10_000;

/// An authenticated HR-side caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org_id: String,
    pub role: Role,
    /// `idg_XXXXXXXX`: safe to log and to audit.
    pub key_prefix: String,
}

impl Caller {
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// This caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        Actor::ApiKey { key_prefix: self.key_prefix.clone(), role: self.role }
    }
}

/// Recently verified keys, by SHA-256 of the key.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, (Caller, Instant)>>);

impl KeyCache {
    fn get(&self, digest: &str) -> Option<Caller> {
        let map = self.0.lock().ok()?;
        map.get(digest).filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL).map(|(c, _)| c.clone())
    }

    fn put(&self, digest: String, caller: Caller) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= KEY_CACHE_MAX {
                map.clear();
            }
            map.insert(digest, (caller, Instant::now()));
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

async fn authenticate(ctx: web::Data<Context>, cache: web::Data<KeyCache>, key: String) -> Result<Caller, ApiError> {
    let prefix = api_key::prefix_of(&key).ok_or(ApiError::Unauthenticated)?.to_owned();
    let digest = secret_token::digest(&key);
    if let Some(caller) = cache.get(&digest) {
        return Ok(caller);
    }
    let record = ctx.store.find_api_key(&prefix).await.map_err(|e| ApiError::internal(&e))?;
    let record = record.filter(|r| !r.revoked).ok_or(ApiError::Unauthenticated)?;
    let hash = record.hash.clone();
    let valid = web::block(move || api_key::verify(&key, &hash)).await.map_err(|e| ApiError::internal(&e))?;
    if !valid {
        return Err(ApiError::Unauthenticated);
    }
    let role = record.role.parse().map_err(|()| ApiError::Internal("stored key has an unknown role".into()))?;
    let caller = Caller { org_id: record.org_id, role, key_prefix: record.prefix };
    cache.put(digest, caller.clone());
    Ok(caller)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<Context>>().cloned();
        let cache = req.app_data::<web::Data<KeyCache>>().cloned();
        let key = bearer(req);
        Box::pin(async move {
            let (Some(ctx), Some(cache), Some(key)) = (ctx, cache, key) else { return Err(ApiError::Unauthenticated) };
            let caller = authenticate(ctx, cache, key).await?;
            tracing::Span::current().record("key_prefix", caller.key_prefix.as_str());
            Ok(caller)
        })
    }
}

/// A candidate, authenticated by the current link token of one verification.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub verification: VerificationRecord,
    /// Digest of the presented token (the step's compare-and-set uses it).
    pub presented: String,
}

impl Candidate {
    /// Where the request came from is recorded as part of authenticating it.
    async fn seen(
        ctx: &Context,
        v: &VerificationRecord,
        sighting: Option<crate::network::Sighting>,
    ) -> Result<(), ApiError> {
        let Some(sighting) = sighting else { return Ok(()) };
        super::client::record(ctx, v, &sighting).await.map_err(|e| {
            tracing::error!(error = %e, "recording the candidate's origin");
            ApiError::Internal(e)
        })
    }
}

impl Candidate {
    /// An audit event about this candidate's verification, by the candidate.
    pub fn event(&self, kind: Kind, data: serde_json::Value) -> NewEvent {
        let v = &self.verification;
        NewEvent::about(kind, &v.org_id, &v.id, Actor::Candidate { verification: v.id.clone() }, data)
    }
}

impl FromRequest for Candidate {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<Context>>().cloned();
        let token = bearer(req);
        let sighting = ctx.as_ref().and_then(|ctx| super::client::sighting(req, ctx));
        Box::pin(async move {
            let (Some(ctx), Some(token)) = (ctx, token) else { return Err(ApiError::CandidateToken) };
            if token.starts_with("idg_") {
                return Err(ApiError::CandidateToken);
            }
            let presented = secret_token::digest(&token);
            let found = ctx.store.find_by_token(&presented).await.map_err(|e| ApiError::internal(&e))?;
            let verification = found.ok_or(ApiError::CandidateToken)?;
            if verification.token_expires_at <= ctx.clock.now() {
                return Err(ApiError::CandidateToken);
            }
            Candidate::seen(&ctx, &verification, sighting).await?;
            Ok(Candidate { verification, presented })
        })
    }
}
