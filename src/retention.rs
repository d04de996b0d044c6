//! Retention and erasure. A scheduled purge deletes the media of cases closed more than
//! `retention.media_days` ago (every object under the case, so retakes' leftovers too) and
//! their personal data after `retention.personal_data_days`; an admin's erasure does both at
//! once. Each purge is a `verification.purged` audit event with counts and a reason code;
//! the audit log keeps its digests, so `idgate audit verify` still passes.

use std::time::Duration;

use tokio::sync::watch;

use crate::audit::event::{Actor, Kind, NewEvent};
use crate::context::Context;
use crate::domain::time::Timestamp;
use crate::domain::verification::Status;
use crate::storage::{Deleted, DueCase, StorageError};

/// How many cases one round purges per tier (the rest wait for the next round).
const BATCH: i64 = 500;

/// Why an admin erases a case's data (public API: listed in the OpenAPI, never renamed).
pub const ERASURE_REASONS: &[&str] =
    &["data_subject_request", "consent_withdrawn", "legal_obligation", "created_in_error"];

const RETENTION: Actor = Actor::System { component: "retention" };

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("media store")]
    Media(#[from] crate::storage::objects::MediaStoreError),
    #[error("the 1:N index")]
    Index(String),
    #[error("no such case")]
    NotFound,
    #[error("the case is being processed")]
    InFlight,
}

/// What one round purged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub media_cases: usize,
    pub personal_cases: usize,
}

fn days_before(now: Timestamp, days: u32) -> Timestamp {
    Timestamp::from_millis(now.millis().saturating_sub(i64::from(days) * 86_400_000))
}

/// One round of the scheduled purge.
pub async fn purge_once(ctx: &Context) -> Result<Purged, PurgeError> {
    let now = ctx.clock.now();
    let limits = &ctx.settings.retention;
    let mut done = Purged::default();
    for case in ctx.store.media_due(days_before(now, limits.media_days), BATCH).await? {
        purge_media(ctx, &case, RETENTION, "retention").await?;
        done.media_cases += 1;
    }
    for case in ctx.store.personal_data_due(days_before(now, limits.personal_data_days), BATCH).await? {
        purge_personal(ctx, &case, RETENTION, "retention").await?;
        done.personal_cases += 1;
    }
    if done.personal_cases > 0 {
        settle(ctx).await?;
    }
    if done != Purged::default() {
        tracing::info!(media = done.media_cases, personal = done.personal_cases, "retention purge");
    }
    Ok(done)
}

/// Erases a case's media and personal data now (an admin's decision, with its reason code).
pub async fn erase(ctx: &Context, org: &str, id: &str, actor: Actor, reason: &str) -> Result<Deleted, PurgeError> {
    let v = ctx.store.get_verification(id).await?.filter(|v| v.org_id == org).ok_or(PurgeError::NotFound)?;
    if matches!(v.status, Status::Submitted | Status::Processing) {
        return Err(PurgeError::InFlight);
    }
    let case = DueCase { verification_id: v.id, org_id: v.org_id };
    let mut deleted = purge_media(ctx, &case, actor.clone(), reason).await?;
    let personal = purge_personal(ctx, &case, actor, reason).await?;
    deleted.templates = personal.templates;
    deleted.fingerprints = personal.fingerprints;
    deleted.device_reports = personal.device_reports;
    deleted.sightings = personal.sightings;
    deleted.documents = personal.documents;
    deleted.links = personal.links;
    deleted.tokens = personal.tokens;
    deleted.review_notes = personal.review_notes;
    settle(ctx).await?;
    Ok(deleted)
}

/// Deletes every object of the case, then its media rows.
async fn purge_media(ctx: &Context, case: &DueCase, actor: Actor, reason: &str) -> Result<Deleted, PurgeError> {
    let objects = ctx.media.list(&format!("{}/", case.verification_id)).await?;
    for key in &objects {
        ctx.media.delete(key).await?;
    }
    let event = NewEvent::about(
        Kind::Purged,
        &case.org_id,
        &case.verification_id,
        actor,
        serde_json::json!({ "tier": "media", "reason": reason, "objects": objects.len() }),
    );
    let mut deleted = ctx.store.purge_media_rows(&case.verification_id, &event, ctx.clock.now()).await?;
    deleted.media = u64::try_from(objects.len()).unwrap_or(u64::MAX);
    Ok(deleted)
}

async fn purge_personal(ctx: &Context, case: &DueCase, actor: Actor, reason: &str) -> Result<Deleted, PurgeError> {
    let event = |d: &Deleted| {
        NewEvent::about(
            Kind::Purged,
            &case.org_id,
            &case.verification_id,
            actor.clone(),
            serde_json::json!({ "tier": "personal_data", "reason": reason, "deleted": d }),
        )
    };
    Ok(ctx.store.purge_personal_data(&case.verification_id, event, ctx.clock.now()).await?)
}

/// After personal data went: the write-ahead log flushed (SQLite) and this node's 1:N index
/// without the removed templates (other nodes follow at their next sync).
async fn settle(ctx: &Context) -> Result<(), PurgeError> {
    ctx.store.flush_deleted().await?;
    ctx.faces.sync(&ctx.store, &ctx.sealer).await.map_err(|e| PurgeError::Index(e.to_string()))?;
    Ok(())
}

/// Runs the purge every `retention.purge_interval_minutes` until `stop`.
pub async fn purge_loop(ctx: Context, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(ctx.settings.retention.purge_interval_minutes.saturating_mul(60));
    while !*stop.borrow() {
        if let Err(e) = purge_once(&ctx).await {
            tracing::error!(error = %crate::telemetry::error_chain(&e), "retention purge failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
