//! Console accounts: created by an operator with a one-time set-up link, set up with a
//! password (argon2id) and a TOTP authenticator, signed in with both (locked for
//! `LOCK_MINUTES` after `MAX_FAILURES` failures in a row; the HTTP layer also rate-limits
//! per address and per account), and kept in sessions: `SESSION_HOURS` at most,
//! `IDLE_MINUTES` idle, revocable. Every step is an audit event.

use std::time::Duration;

use crate::audit::event::{Actor, Kind, NewEvent};
use crate::context::Context;
use crate::crypto::{password, secret_token, totp};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::storage::{SessionRecord, StorageError, UserRecord};

pub const SESSION_HOURS: u64 = 12;
pub const IDLE_MINUTES: i64 = 30;
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MINUTES: u64 = 15;
pub const SETUP_HOURS: u64 = 72;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the e-mail address is not valid")]
    BadEmail,
    #[error("the role must be reviewer, auditor or admin")]
    BadRole,
    #[error("a user with that e-mail exists")]
    Taken,
    #[error("no such organisation (`idgate apikey create` makes one)")]
    NoOrganisation,
    #[error("the set-up link is invalid, used or expired")]
    SetupToken,
    #[error("a password is 12 to 256 characters")]
    Password,
    #[error("the authenticator code is wrong")]
    Code,
    #[error("sign-in failed")]
    SignInFailed,
    #[error("the account is locked")]
    Locked { retry_after_seconds: u64 },
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Internal(String),
}

/// A console user as the audit log names them.
pub fn actor(user: &UserRecord) -> Actor {
    Actor::User { user: user.id.clone(), role: user.role.parse().unwrap_or(Role::Auditor) }
}

/// A lower-cased, plausible e-mail address (1–254 characters, one `@`, no spaces).
pub fn normalise_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_lowercase();
    let ok = (3..=254).contains(&email.len())
        && email.split('@').count() == 2
        && email.split('@').all(|part| !part.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(email) } else { Err(AccountError::BadEmail) }
}

/// Where a new user is created: the store, the base of links, the time.
pub struct NewUserPlace<'a> {
    pub store: &'a crate::storage::Store,
    pub public_url: &'a str,
    pub now: Timestamp,
}

/// A new user: their id and one-time set-up link (shown once).
#[derive(Clone)]
pub struct NewUser {
    pub id: String,
    pub setup_link: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A new user of `org` waiting for set-up.
pub async fn create_user(
    place: &NewUserPlace<'_>,
    org: &str,
    role: &str,
    email: &str,
    by: Actor,
) -> Result<NewUser, AccountError> {
    let email = normalise_email(email)?;
    let role: Role = role.parse().map_err(|()| AccountError::BadRole)?;
    if role == Role::Hr {
        return Err(AccountError::BadRole);
    }
    if place.store.webhook_secret(org).await?.is_none() {
        return Err(AccountError::NoOrganisation);
    }
    let now = place.now;
    let id = uuid::Uuid::new_v4().to_string();
    let token = secret_token::generate();
    let expires = now.plus(Duration::from_secs(SETUP_HOURS * 3600));
    let event = NewEvent::of_org(Kind::UserCreated, org, by, serde_json::json!({ "user": id, "role": role.as_str() }));
    match place.store.create_user(&id, org, &email, role.as_str(), &token.digest, expires, &event, now).await {
        Ok(()) => Ok(NewUser { setup_link: format!("{}/console/#setup={}", place.public_url, token.token), id }),
        Err(e) if e.is_unique_violation() => Err(AccountError::Taken),
        Err(e) => Err(e.into()),
    }
}

/// What the set-up page shows: the e-mail, and a new TOTP secret (base32 and otpauth URL).
pub async fn setup_start(ctx: &Context, token: &str) -> Result<(String, String, String), AccountError> {
    let user = setup_user(ctx, token).await?;
    let secret = totp::new_secret();
    let sealed =
        ctx.sealer.seal(&secret, &format!("totp:{}", user.id)).map_err(|e| AccountError::Internal(e.to_string()))?;
    ctx.store.offer_totp(&user.id, &sealed).await?;
    let (base32, url) = totp::enrolment(&secret, &user.email).map_err(|e| AccountError::Internal(e.to_string()))?;
    Ok((user.email, base32, url))
}

/// Finishes set-up: a password and a first code from the authenticator.
pub async fn setup_finish(ctx: &Context, token: &str, new_password: &str, code: &str) -> Result<(), AccountError> {
    let user = setup_user(ctx, token).await?;
    let secret = open_totp(ctx, &user)?.ok_or(AccountError::Code)?;
    let now = ctx.clock.now();
    let step = totp::check(&secret, code, now).ok_or(AccountError::Code)?;
    let pw = new_password.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))?
        .map_err(|_| AccountError::Password)?;
    let event = NewEvent::of_org(Kind::UserSetUp, &user.org_id, actor(&user), serde_json::json!({ "user": user.id }));
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let digest = secret_token::digest(token);
    if !ctx.store.finish_setup(&user.id, &digest, &hash, step, &event, now).await? {
        return Err(AccountError::SetupToken);
    }
    Ok(())
}

async fn setup_user(ctx: &Context, token: &str) -> Result<UserRecord, AccountError> {
    let digest = secret_token::digest(token);
    ctx.store.user_by_setup(&digest, ctx.clock.now()).await?.ok_or(AccountError::SetupToken)
}

fn open_totp(ctx: &Context, user: &UserRecord) -> Result<Option<Vec<u8>>, AccountError> {
    user.sealed_totp
        .as_ref()
        .map(|sealed| ctx.sealer.open(sealed, &format!("totp:{}", user.id)))
        .transpose()
        .map_err(|e| AccountError::Internal(e.to_string()))
}

/// A new session: the cookie's value and the CSRF token the page sends back.
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSession(***)")
    }
}

/// Signs in with e-mail, password and a TOTP code. Every failure looks the same, except a
/// locked account (which says when to try again).
pub async fn sign_in(ctx: &Context, email: &str, pw: &str, code: &str) -> Result<NewSession, AccountError> {
    let now = ctx.clock.now();
    let email = normalise_email(email).map_err(|_| AccountError::SignInFailed)?;
    let found = ctx.store.user_by_email(&email).await?;
    let Some(user) = found.filter(|u| !u.disabled && u.password_hash.is_some()) else {
        let pw = pw.to_owned();
        let _ = tokio::task::spawn_blocking(move || password::verify_nobody(&pw)).await;
        return Err(AccountError::SignInFailed);
    };
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        let seconds = u64::try_from((until.millis() - now.millis()).div_euclid(1000) + 1).unwrap_or(1);
        return Err(AccountError::Locked { retry_after_seconds: seconds });
    }
    let (pw, phc) = (pw.to_owned(), user.password_hash.clone().unwrap_or_default());
    let password_ok = tokio::task::spawn_blocking(move || password::verify(&pw, &phc))
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))?;
    let step = match (password_ok, open_totp(ctx, &user)?) {
        (true, Some(secret)) => totp::check(&secret, code, now)
            .filter(|step| user.totp_last_step.is_none_or(|last| i64::try_from(*step).is_ok_and(|s| s > last))),
        _ => None,
    };
    let Some(step) = step else {
        let until = now.plus(Duration::from_secs(LOCK_MINUTES * 60));
        let event = NewEvent::of_org(
            Kind::UserLocked,
            &user.org_id,
            actor(&user),
            serde_json::json!({ "user": user.id, "until": until.to_rfc3339(), "failures": MAX_FAILURES }),
        );
        if ctx.store.sign_in_failed(&user.id, MAX_FAILURES, until, &event, now).await? {
            tracing::warn!(user = %user.id, "console account locked after repeated failures");
        }
        return Err(AccountError::SignInFailed);
    };
    let cookie = secret_token::generate();
    let csrf = secret_token::generate().token;
    let expires_at = now.plus(Duration::from_secs(SESSION_HOURS * 3600));
    let event =
        NewEvent::of_org(Kind::UserSignedIn, &user.org_id, actor(&user), serde_json::json!({ "user": user.id }));
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if !ctx.store.open_session(&user.id, step, &cookie.digest, &csrf, expires_at, &event, now).await? {
        return Err(AccountError::SignInFailed);
    }
    Ok(NewSession { cookie: cookie.token, csrf, expires_at })
}

/// The live session of a cookie value; its idle time restarts (at most once a minute).
pub async fn session_of(ctx: &Context, cookie: &str) -> Result<Option<SessionRecord>, AccountError> {
    let digest = secret_token::digest(cookie);
    let now = ctx.clock.now();
    let Some(session) = ctx.store.session(&digest, now, IDLE_MINUTES * 60_000).await? else { return Ok(None) };
    if now.millis() - session.last_seen_at.millis() > 60_000 {
        ctx.store.touch_session(&digest, now).await?;
    }
    Ok(Some(session))
}

/// Ends the session of a cookie value.
pub async fn sign_out(ctx: &Context, cookie: &str) -> Result<(), AccountError> {
    let Some(session) = session_of(ctx, cookie).await? else { return Ok(()) };
    let user = &session.user;
    let event =
        NewEvent::of_org(Kind::UserSignedOut, &user.org_id, actor(user), serde_json::json!({ "user": user.id }));
    ctx.store.revoke_session(&secret_token::digest(cookie), &event, ctx.clock.now()).await?;
    Ok(())
}
