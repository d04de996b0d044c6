//! Job workers: claim a pipeline job with a lease, keep the lease alive while the engine
//! works, write the outcome fenced by the lease, retry with backoff, give up after N tries.

mod case;
mod reuse;
mod webhooks;

use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;

use sha2::{Digest, Sha256};

use crate::audit::event::{Actor, Kind, NewEvent};
use crate::context::Context;
use crate::domain::verification::{Decision, Status};
use crate::pipeline;
use crate::pipeline::decision::DecisionPolicy;
use crate::pipeline::stage::EvidenceContext;
use crate::storage::{ClaimedJob, JobKind, Outcome};
use crate::storage::{KeyPurpose, NewDocument, NewToken};
use crate::tokens::issue::{IssueInput, StageEvidence, document_details, issue};

/// Runs `count` pipeline workers, (when `count` > 0) one webhook sender and the retention
/// purge, the audit
/// tree-head signer, the sanctions-list refresher and the 1:N index sync until `stop` turns true.
pub async fn run(ctx: Context, count: usize, stop: watch::Receiver<bool>) {
    let mut tasks: Vec<_> = (0..count)
        .map(|n| {
            let (ctx, stop) = (ctx.clone(), stop.clone());
            tokio::spawn(async move { worker_loop(ctx, format!("{}-{n}", uuid::Uuid::new_v4()), stop).await })
        })
        .collect();
    tasks.push(tokio::spawn(head_loop(ctx.clone(), stop.clone())));
    tasks.push(tokio::spawn(crate::sanctions_refresh::refresh_loop(ctx.clone(), stop.clone())));
    tasks.push(tokio::spawn(face_sync_loop(ctx.clone(), stop.clone())));
    if count > 0 {
        tasks.push(tokio::spawn(webhooks::webhook_loop(
            ctx.clone(),
            format!("{}-webhooks", uuid::Uuid::new_v4()),
            stop.clone(),
        )));
        tasks.push(tokio::spawn(crate::retention::purge_loop(ctx.clone(), stop.clone())));
    }
    for task in tasks {
        let _ = task.await;
    }
}

type StepError = Box<dyn std::error::Error + Send + Sync>;

/// Calls `step` until `stop`; sleeps `jobs.poll_millis` whenever it found no work.
async fn poll_loop<F, Fut>(ctx: &Context, what: &str, mut stop: watch::Receiver<bool>, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, StepError>>,
{
    let poll = Duration::from_millis(ctx.settings.jobs.poll_millis);
    tracing::info!(what, "worker started");
    while !*stop.borrow() {
        match step().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(what, error = %crate::telemetry::error_chain(&*e), "worker step failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn worker_loop(ctx: Context, worker: String, stop: watch::Receiver<bool>) {
    poll_loop(&ctx, "pipeline", stop, || step(&ctx, &worker)).await;
}

/// Signs a tree head whenever the audit log has grown, every `audit.head_interval_seconds`.
/// Keeps this node's 1:N index in step with the template table (other nodes' decisions,
/// removals), every `face_search.sync_millis`.
async fn face_sync_loop(ctx: Context, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_millis(ctx.settings.face_search.sync_millis.max(100));
    while !*stop.borrow() {
        match ctx.faces.sync(&ctx.store, &ctx.sealer).await {
            Ok((0, 0)) => {}
            Ok((added, removed)) => tracing::info!(added, removed, size = ctx.faces.len(), "1:N face index synced"),
            Err(e) => tracing::error!(error = %crate::telemetry::error_chain(&e), "syncing the 1:N face index failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn head_loop(ctx: Context, mut stop: watch::Receiver<bool>) {
    let every = Duration::from_secs(ctx.settings.audit.head_interval_seconds);
    // The largest tree the witness URL has accepted.
    let mut witnessed = 0;
    loop {
        match ctx.audit.seal(&ctx.store, &ctx.keys, &ctx.clock).await {
            Ok(Some(head)) if head.tree_size > witnessed => {
                if send_to_witness(&ctx, &head).await {
                    witnessed = head.tree_size;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %crate::telemetry::error_chain(&e), "signing an audit tree head failed"),
        }
        // The last round runs after the stop: what was appended is covered before exit.
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// POSTs `head` to `audit.witness_url` (with the webhooks' client: no redirects, only allowed
/// destinations). True when there is no witness URL or it accepted the head.
async fn send_to_witness(ctx: &Context, head: &crate::storage::HeadRow) -> bool {
    let Some(url) = &ctx.settings.audit.witness_url else { return true };
    let timeout = Duration::from_secs(ctx.settings.webhooks.timeout_seconds);
    let body = crate::audit::log::witness_json(head);
    match ctx.webhooks.post(url).json(&body).timeout(timeout).send().await {
        Ok(resp) if resp.status().is_success() => true,
        Ok(resp) => {
            tracing::warn!(
                status = resp.status().as_u16(),
                "the audit witness refused the head; sent again next round"
            );
            false
        }
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::error_chain(&e), "the audit witness could not be reached; sent again next round");
            false
        }
    }
}

/// One round: fail exhausted jobs, claim one and run it. True when a job was run.
async fn step(ctx: &Context, worker: &str) -> Result<bool, StepError> {
    let now = ctx.clock.now();
    for (job, verification) in ctx.store.fail_exhausted(JobKind::Pipeline, now).await? {
        tracing::warn!(job = %job, verification = %verification, "job exhausted its attempts");
        let org = ctx.store.get_verification(&verification).await?.map(|v| v.org_id).unwrap_or_default();
        let event = failed_event(&org, &verification, &job);
        ctx.store.fail_verification(&verification, "processing_failed", &event, now).await?;
    }
    let lease = Duration::from_secs(ctx.settings.jobs.lease_seconds);
    let Some(job) = ctx.store.claim_job(JobKind::Pipeline, worker, now, now.plus(lease)).await? else {
        return Ok(false);
    };
    process(ctx, worker, &job).await?;
    Ok(true)
}

#[tracing::instrument(name = "job", skip_all, fields(job = %job.id, verification = %job.verification_id, attempt = job.attempts))]
async fn process(ctx: &Context, worker: &str, job: &ClaimedJob) -> Result<(), StepError> {
    match attempt(ctx, worker, job).await {
        Err(e)
            if crate::storage::StorageError::unavailable_in(&*e)
                || e.to_string().starts_with(case::DATABASE_UNAVAILABLE) =>
        {
            tracing::warn!(error = %crate::telemetry::error_chain(&*e), "database unavailable: the job goes back when it returns");
            hand_back(ctx, worker, job).await
        }
        other => other,
    }
}

/// The database went away during an attempt: wait for it (within the lease) and put the job
/// back uncounted, so that an outage neither spends attempts nor waits out the lease.
async fn hand_back(ctx: &Context, worker: &str, job: &ClaimedJob) -> Result<(), StepError> {
    let lease = Duration::from_secs(ctx.settings.jobs.lease_seconds);
    let deadline = tokio::time::Instant::now() + lease;
    loop {
        match ctx.store.release_job(&job.id, worker, ctx.clock.now()).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_unavailable() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// One attempt at a claimed job: run the pipeline and write its outcome (or the retry).
async fn attempt(ctx: &Context, worker: &str, job: &ClaimedJob) -> Result<(), StepError> {
    ctx.store.mark_processing(&job.verification_id, ctx.clock.now()).await?;
    let heartbeat = spawn_heartbeat(ctx.clone(), worker.to_owned(), job.id.clone());
    let result = match case::run_pipeline(ctx, &job.verification_id).await {
        Ok(results) => conclude(ctx, &job.verification_id, results).await,
        Err(e) => Err(e),
    };
    heartbeat.abort();
    // The attempt failed with the database gone (its reads and writes with it): not the
    // job's failure. Its own storage errors say so; otherwise the database is asked now.
    if let Err(e) = &result {
        if e.starts_with(case::DATABASE_UNAVAILABLE) {
            return Err(e.clone().into());
        }
        if let Err(unreachable) = ctx.store.ping().await
            && unreachable.is_unavailable()
        {
            return Err(unreachable.into());
        }
    }
    let now = ctx.clock.now();
    match result {
        Ok(done) => {
            record_metrics(ctx, &done.results);
            let reasons = serde_json::to_string(&done.results.decision.reasons)?;
            let decision = serde_json::to_value(done.results.decision.decision)?;
            let risk = match &done.results.risk {
                pipeline::StageOutcome::Done(risk) => Some((risk.score, serde_json::to_string(risk)?)),
                pipeline::StageOutcome::Refused { .. } => None,
            };
            let outcome = Outcome {
                status: done.results.decision.decision.status(),
                decision: decision.as_str(),
                reasons: &reasons,
                results: &done.json,
                audit: &done.events,
                token: done.token.as_ref(),
                document: done.document.as_ref(),
                risk: risk.as_ref().map(|(score, json)| (*score, json.as_str())),
                evidence: done.evidence.as_deref(),
            };
            if !ctx.store.finish_job(&job.id, worker, &job.verification_id, &outcome, None, now).await? {
                tracing::warn!("lease lost before completion: result discarded");
            }
        }
        Err(e) if job.attempts < job.max_attempts => {
            let delay = backoff(ctx.settings.jobs.backoff_seconds, job.attempts);
            tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "job failed, will retry");
            ctx.store.retry_job(&job.id, worker, now.plus(delay), &e, now).await?;
        }
        Err(e) => {
            tracing::error!(error = %e, "job failed on its last attempt");
            let org = ctx.store.get_verification(&job.verification_id).await?.map(|v| v.org_id).unwrap_or_default();
            let audit = [failed_event(&org, &job.verification_id, &job.id)];
            let outcome = Outcome {
                status: Status::Failed,
                decision: None,
                reasons: "[\"processing_failed\"]",
                results: "{}",
                audit: &audit,
                token: None,
                document: None,
                risk: None,
                evidence: None,
            };
            ctx.store.finish_job(&job.id, worker, &job.verification_id, &outcome, Some(&e), now).await?;
        }
    }
    Ok(())
}

const WORKER: Actor = Actor::System { component: "worker" };

fn failed_event(org: &str, verification: &str, job: &str) -> NewEvent {
    let data = serde_json::json!({ "job": job, "reason": "processing_failed" });
    NewEvent::about(Kind::Failed, org, verification, WORKER, data)
}

/// A pipeline result made ready to store: its JSON, its audit events and, on approval,
/// the signed token.
struct Concluded {
    results: pipeline::StageResults,
    json: String,
    events: Vec<NewEvent>,
    token: Option<NewToken>,
    document: Option<NewDocument>,
    /// What the stages established, JSON, kept for a reviewer's approval (not approved now).
    evidence: Option<String>,
}

/// Signs a token for an approved verification with the active token key: by the worker
/// for an automatic approval, by a reviewer's decision otherwise.
pub async fn issue_token(
    ctx: &Context,
    record: &crate::storage::VerificationRecord,
    evidence: StageEvidence,
    actor: Actor,
) -> Result<crate::tokens::issue::Issued, String> {
    let signer = ctx.keys.signer(KeyPurpose::Token).await.map_err(|e| crate::telemetry::error_chain(&e))?;
    let issuer = ctx.settings.issuer();
    let input = IssueInput {
        verification: record,
        evidence,
        issuer: &issuer,
        ttl_days: ctx.settings.tokens.ttl_days,
        now: ctx.clock.now(),
        actor,
    };
    issue(&input, &signer, &ctx.sealer).map_err(|e| crate::telemetry::error_chain(&e))
}

fn policy(ctx: &Context) -> DecisionPolicy {
    DecisionPolicy {
        match_threshold: ctx.settings.face_match.threshold,
        review_margin: ctx.settings.decision.review_margin,
    }
}

async fn conclude(ctx: &Context, verification: &str, mut results: pipeline::StageResults) -> Result<Concluded, String> {
    let record = case::verification(ctx, verification).await?;
    let (document, document_links) = case::seal_document(ctx, &record, &mut results).await?;
    reuse::add_links(ctx, &record, &mut results, &document_links).await?;
    let json = serde_json::to_string(&results).map_err(|e| e.to_string())?;
    let about = |kind, data| NewEvent::about(kind, &record.org_id, verification, WORKER, data);
    let threshold = ctx.settings.face_match.threshold;
    let decision = &results.decision;
    let mut events: Vec<NewEvent> =
        results.audit_events().into_iter().map(|data| about(Kind::StageCompleted, data)).collect();
    events.push(about(
        Kind::Decided,
        serde_json::json!({
            "decision": decision.decision, "status": decision.decision.status().as_str(),
            "reasons": decision.reasons, "results_sha256": hex::encode(Sha256::digest(json.as_bytes())),
        }),
    ));
    let evidence = StageEvidence {
        checks: results.evidence(EvidenceContext { match_threshold: threshold }),
        document: match (&results.document, &document) {
            (pipeline::StageOutcome::Done(check), Some(doc)) => Some(document_details(check, &doc.number_hash)),
            _ => None,
        },
    };
    let mut token = None;
    let mut kept_evidence = None;
    if decision.decision == Decision::Approve {
        let issued = issue_token(ctx, &record, evidence, WORKER).await?;
        events.push(issued.event);
        token = Some(issued.record);
    } else {
        kept_evidence = Some(serde_json::to_string(&evidence).map_err(|e| e.to_string())?);
    }
    Ok(Concluded { results, json, events, token, document, evidence: kept_evidence })
}

fn record_metrics(ctx: &Context, results: &pipeline::StageResults) {
    if let pipeline::StageOutcome::Done(face) = &results.face_match {
        let t = &face.timings_ms;
        for (stage, ms) in [("face_match", t.total), ("decode", t.decode), ("detect", t.detect), ("embed", t.embed)] {
            ctx.metrics.stage(stage, ms / 1e3);
        }
    }
    if let pipeline::StageOutcome::Done(document) = &results.document {
        ctx.metrics.readings_reused(document.readings_reused);
    }
    ctx.metrics.decision(results.decision.decision.status().as_str());
}

/// `base · 2^(attempt−1)`, ±25 % jitter.
fn backoff(base_seconds: u64, attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 16) - 1).unwrap_or(0);
    let base = Duration::from_secs(base_seconds).saturating_mul(2u32.saturating_pow(exp));
    base.mul_f64(rand::rng().random_range(0.75..1.25))
}

fn spawn_heartbeat(ctx: Context, worker: String, job: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let lease = Duration::from_secs(ctx.settings.jobs.lease_seconds);
        let mut tick = tokio::time::interval(lease / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            match ctx.store.heartbeat(&job, &worker, ctx.clock.now().plus(lease)).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => tracing::warn!(error = %crate::telemetry::error_chain(&e), "heartbeat failed"),
            }
        }
    })
}
