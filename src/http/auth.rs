//! Who is calling: an HR system (API key) or a candidate (link token). Both arrive as
//! `Authorization: Bearer …`; keys are verified against their argon2 hash once and then
//! remembered by SHA-256 for a minute, so a busy HR system does not pay argon2 per request;
//! whether a remembered key was revoked or expired is re-read every second. Refusals are
//! remembered too: a prefix no key has is refused without a database look-up for
//! `UNKNOWN_PREFIX_TTL`, a wrong secret for a real prefix without argon2 for a minute; and
//! at most `HASH_CHECKS` argon2 checks run at once (each takes a core for ~20 ms).

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
/// A prefix found in no key is refused without a look-up this long (short: a key created a
/// moment ago on another node must not wait long).
const UNKNOWN_PREFIX_TTL: Duration = Duration::from_secs(2);
/// Argon2 checks running at once, on this node.
const HASH_CHECKS: usize = 2;

/// An authenticated organisation-side caller: a system with an API key, or a person
/// signed in to the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org_id: String,
    pub role: Role,
    pub principal: Principal,
}

/// Who exactly: both forms are safe to log and to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `idg_XXXXXXXX`.
    ApiKey(String),
    /// A console user's id.
    User(String),
}

impl Caller {
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if allowed.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// The verification `raw_id` if it is this caller's organisation's; any other (another
    /// organisation's, a malformed id) does not exist for them.
    pub async fn own_verification(&self, ctx: &Context, raw_id: &str) -> Result<VerificationRecord, ApiError> {
        let id = crate::domain::verification::VerificationId::parse(raw_id).ok_or(ApiError::NotFound)?.to_string();
        let found = ctx.store.get_verification(&id).await.map_err(|e| ApiError::internal(&e))?;
        found.filter(|v| v.org_id == self.org_id).ok_or(ApiError::NotFound)
    }

    /// Who decides as a reviewer (and created a key): `key:idg_…` or `user:…`.
    pub fn reviewer(&self) -> String {
        match &self.principal {
            Principal::ApiKey(prefix) => format!("key:{prefix}"),
            Principal::User(id) => format!("user:{id}"),
        }
    }

    /// This caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::ApiKey(prefix) => Actor::ApiKey { key_prefix: prefix.clone(), role: self.role },
            Principal::User(id) => Actor::User { user: id.clone(), role: self.role },
        }
    }
}

/// Recently verified keys, by SHA-256 of the key: (caller, verified at, row last checked
/// at, expiry). The argon2 hash is checked once a minute; whether the key was revoked or
/// expired is re-read (one primary-key look-up) when the entry is older than
/// `KEY_RECHECK`, so a revocation takes effect within a second on every node.
pub struct KeyCache {
    known: Mutex<HashMap<String, CachedKey>>,
    /// Refusals by `p:<prefix>` (no such key) and `k:<digest>` (wrong secret), with when.
    refused: Mutex<HashMap<String, Instant>>,
    hashing: tokio::sync::Semaphore,
}

impl Default for KeyCache {
    fn default() -> Self {
        Self { known: Mutex::default(), refused: Mutex::default(), hashing: tokio::sync::Semaphore::new(HASH_CHECKS) }
    }
}

#[derive(Clone)]
struct CachedKey {
    caller: Caller,
    verified: Instant,
    checked: Instant,
}

const KEY_RECHECK: Duration = Duration::from_millis(900);

/// What the cache knows of a presented key.
enum Cached {
    Fresh(Caller),
    /// Its hash was verified recently, but its state must be re-read.
    Recheck(Caller),
    Unknown,
}

impl KeyCache {
    fn get(&self, digest: &str) -> Cached {
        let Ok(map) = self.known.lock() else { return Cached::Unknown };
        match map.get(digest) {
            Some(k) if k.verified.elapsed() < KEY_CACHE_TTL && k.checked.elapsed() < KEY_RECHECK => {
                Cached::Fresh(k.caller.clone())
            }
            Some(k) if k.verified.elapsed() < KEY_CACHE_TTL => Cached::Recheck(k.caller.clone()),
            // Else the secret's hash is verified again (once a minute).
            _ => Cached::Unknown,
        }
    }

    fn put(&self, digest: String, caller: Caller) {
        if let Ok(mut map) = self.known.lock() {
            if map.len() >= KEY_CACHE_MAX {
                map.clear();
            }
            let now = Instant::now();
            map.insert(digest, CachedKey { caller, verified: now, checked: now });
        }
    }

    /// The key's row was just re-read and it may still be used.
    fn checked(&self, digest: &str) {
        if let Ok(mut map) = self.known.lock()
            && let Some(k) = map.get_mut(digest)
        {
            k.checked = Instant::now();
        }
    }

    /// Whether `what` was refused within `ttl`.
    fn refused_recently(&self, what: &str, ttl: Duration) -> bool {
        self.refused.lock().is_ok_and(|map| map.get(what).is_some_and(|at| at.elapsed() < ttl))
    }

    fn refuse(&self, what: String) {
        if let Ok(mut map) = self.refused.lock() {
            if map.len() >= KEY_CACHE_MAX {
                map.retain(|_, at| at.elapsed() < KEY_CACHE_TTL);
                if map.len() >= KEY_CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(what, Instant::now());
        }
    }

    fn forget(&self, digest: &str) {
        if let Ok(mut map) = self.known.lock() {
            map.remove(digest);
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A stored key that may be used now: not revoked, not expired.
fn usable(record: &crate::storage::ApiKeyRecord, now: crate::domain::time::Timestamp) -> bool {
    !record.revoked && record.expires_at.is_none_or(|at| at > now)
}

async fn authenticate(ctx: web::Data<Context>, cache: web::Data<KeyCache>, key: String) -> Result<Caller, ApiError> {
    let prefix = api_key::prefix_of(&key).ok_or(ApiError::Unauthenticated)?.to_owned();
    let digest = secret_token::digest(&key);
    let cached = match cache.get(&digest) {
        Cached::Fresh(caller) => return Ok(caller),
        other => other,
    };
    let (unknown_prefix, wrong_secret) = (format!("p:{prefix}"), format!("k:{digest}"));
    if cache.refused_recently(&unknown_prefix, UNKNOWN_PREFIX_TTL)
        || cache.refused_recently(&wrong_secret, KEY_CACHE_TTL)
    {
        return Err(ApiError::Unauthenticated);
    }
    let record = ctx.store.find_api_key(&prefix).await.map_err(|e| ApiError::internal(&e))?;
    let Some(record) = record else {
        cache.refuse(unknown_prefix);
        return Err(ApiError::Unauthenticated);
    };
    if !usable(&record, ctx.clock.now()) {
        cache.forget(&digest);
        return Err(ApiError::Unauthenticated);
    }
    if let Cached::Recheck(caller) = cached {
        cache.checked(&digest);
        return Ok(caller);
    }
    let hash = record.hash.clone();
    let permit = cache.hashing.acquire().await.map_err(|e| ApiError::internal(&e))?;
    ctx.metrics.api_key_hash_check();
    let valid = web::block(move || api_key::verify(&key, &hash)).await.map_err(|e| ApiError::internal(&e))?;
    drop(permit);
    if !valid {
        cache.refuse(wrong_secret);
        return Err(ApiError::Unauthenticated);
    }
    let role = record.role.parse().map_err(|()| ApiError::Internal("stored key has an unknown role".into()))?;
    let caller = Caller { org_id: record.org_id, role, principal: Principal::ApiKey(record.prefix) };
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
        let session = super::console::cookie::SessionProof::of(req);
        Box::pin(async move {
            let (Some(ctx), Some(cache)) = (ctx, cache) else { return Err(ApiError::Unauthenticated) };
            let caller = match (key, session) {
                (Some(key), _) => authenticate(ctx, cache, key).await?,
                (None, Some(session)) => session.caller(&ctx).await?,
                (None, None) => return Err(ApiError::Unauthenticated),
            };
            tracing::Span::current().record("key_prefix", caller.reviewer().as_str());
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
