//! Webhook delivery: claimed while slots are free, each on its own task, fair between
//! organisations.

use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument;

use super::{StepError, backoff};
use crate::context::Context;
use crate::storage::{ClaimedJob, JobKind};

/// Deliveries in flight on one node, and per organisation: one organisation's black-hole
/// receiver holds at most `WEBHOOKS_PER_ORG` slots (each up to `webhooks.timeout_seconds`);
/// the others keep being delivered.
const WEBHOOKS_IN_FLIGHT: usize = 16;
const WEBHOOKS_PER_ORG: usize = 2;

/// Claims webhook jobs while slots are free (skipping organisations at their share) and
/// delivers each on its own task.
pub(super) async fn webhook_loop(ctx: Context, worker: String, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(ctx.settings.jobs.poll_millis);
    let mut in_flight: tokio::task::JoinSet<String> = tokio::task::JoinSet::new();
    let mut per_org: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    tracing::info!(what = "webhooks", "worker started");
    while !*stop.borrow() {
        while let Some(done) = in_flight.try_join_next() {
            release(&mut per_org, done.ok());
        }
        let claimed = if in_flight.len() < WEBHOOKS_IN_FLIGHT {
            let busy: Vec<String> =
                per_org.iter().filter(|(_, n)| **n >= WEBHOOKS_PER_ORG).map(|(org, _)| org.clone()).collect();
            match claim_webhook(&ctx, &worker, &busy).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::error!(what = "webhooks", error = %crate::telemetry::error_chain(&*e), "worker step failed");
                    None
                }
            }
        } else {
            None
        };
        if let Some((job, org)) = claimed {
            *per_org.entry(org.clone()).or_default() += 1;
            let (ctx, worker) = (ctx.clone(), worker.clone());
            in_flight.spawn(async move {
                if let Err(e) = deliver_webhook(&ctx, &worker, job).await {
                    tracing::error!(what = "webhooks", error = %crate::telemetry::error_chain(&*e), "worker step failed");
                }
                org
            });
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            Some(done) = in_flight.join_next(), if !in_flight.is_empty() => release(&mut per_org, done.ok()),
            _ = stop.changed() => {}
        }
    }
    while let Some(done) = in_flight.join_next().await {
        release(&mut per_org, done.ok());
    }
}

/// A delivery of `done`'s organisation ended (None: its task panicked; its slot stays taken).
fn release(per_org: &mut std::collections::HashMap<String, usize>, done: Option<String>) {
    if let Some(org) = done
        && let Some(n) = per_org.get_mut(&org)
    {
        *n = n.saturating_sub(1);
        if *n == 0 {
            per_org.remove(&org);
        }
    }
}

/// Fails exhausted webhook jobs and claims the next one of an organisation not in `busy`:
/// (job, its organisation).
async fn claim_webhook(
    ctx: &Context,
    worker: &str,
    busy: &[String],
) -> Result<Option<(ClaimedJob, String)>, StepError> {
    let now = ctx.clock.now();
    ctx.store.fail_exhausted(JobKind::Webhook, now).await?;
    let lease = Duration::from_secs(ctx.settings.jobs.lease_seconds);
    let Some(job) = ctx.store.claim_job_except(JobKind::Webhook, worker, now, now.plus(lease), busy).await? else {
        return Ok(None);
    };
    let org = ctx.store.get_verification(&job.verification_id).await?.map(|v| v.org_id).unwrap_or_default();
    Ok(Some((job, org)))
}

/// Delivers one claimed webhook job and records the outcome (done, retry later, or failed).
async fn deliver_webhook(ctx: &Context, worker: &str, job: ClaimedJob) -> Result<(), StepError> {
    let http = &ctx.webhooks;
    let span =
        tracing::info_span!("webhook", job = %job.id, verification = %job.verification_id, attempt = job.attempts);
    async {
        let now = ctx.clock.now();
        match crate::webhook::deliver(ctx, http, &job).await {
            Ok(()) => {
                ctx.store.close_job(&job.id, worker, None, now).await?;
            }
            Err(e) if job.attempts < job.max_attempts => {
                let delay = backoff(ctx.settings.jobs.backoff_seconds, job.attempts);
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "webhook delivery failed, will retry");
                ctx.store.retry_job(&job.id, worker, now.plus(delay), &e, now).await?;
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery failed for good");
                ctx.store.close_job(&job.id, worker, Some(&e), now).await?;
            }
        }
        Ok::<_, crate::storage::StorageError>(())
    }
    .instrument(span)
    .await?;
    Ok(())
}
