//! The job queue, in the same database as the verifications so that a submit and its job
//! are one transaction. Workers claim with a lease (PostgreSQL: `FOR UPDATE SKIP LOCKED`;
//! SQLite: one atomic UPDATE, its single writer serialises claims), extend it while they
//! work, and finish fenced by `locked_by`: a worker whose lease was taken over cannot
//! complete, so a job completes once.

use sqlx::Row;

use super::{NewToken, StepChange, StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;
use crate::domain::verification::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Pipeline,
    Webhook,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pipeline => "pipeline",
            Self::Webhook => "webhook",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: String,
    pub verification_id: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// What a finished pipeline job writes: the verification's outcome, its audit events and,
/// on approval, the token.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub status: Status,
    pub decision: Option<&'a str>,
    pub reasons: &'a str,
    pub results: &'a str,
    pub audit: &'a [NewEvent],
    pub token: Option<&'a NewToken>,
    /// The document number read, sealed and hashed.
    pub document: Option<&'a super::NewDocument>,
    /// The pipeline's risk (score, JSON), replacing the one from creation.
    pub risk: Option<(u8, &'a str)>,
    /// What the stages established (JSON), kept when not approved: a reviewer's approval
    /// issues it.
    pub evidence: Option<&'a str>,
}

/// Status-change webhooks are queued in the same transaction as the change (an outbox in
/// the jobs table), and only for verifications with a callback URL.
pub(crate) const WEBHOOK_ATTEMPTS: i64 = 8;

impl Store {
    pub(crate) async fn queue_webhook(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        verification: &str,
        status: Status,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.queue_webhook_of(tx, verification, status, "verification.status_changed", now).await
    }

    /// A webhook of type `kind` (`verification.status_changed`, `verification.risk_scored`).
    pub(crate) async fn queue_webhook_of(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        verification: &str,
        status: Status,
        kind: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO jobs (id, kind, verification_id, payload, status, attempts, max_attempts, run_at, created_at, updated_at) \
             SELECT ?, 'webhook', id, ?, 'queued', 0, ?, ?, ?, ? FROM verifications WHERE id = ? AND callback_url IS NOT NULL",
        );
        let payload = serde_json::json!({ "status": status.as_str(), "type": kind }).to_string();
        sqlx::query(&q)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(payload)
            .bind(WEBHOOK_ATTEMPTS)
            .bind(now.millis())
            .bind(now.millis())
            .bind(now.millis())
            .bind(verification)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Moves a verification from `selfie_uploaded` to `submitted` (token rotated) and queues
    /// its pipeline job, atomically. False when the step is out of order or the token stale.
    pub async fn submit(
        &self,
        step: StepChange<'_>,
        job_id: &str,
        max_attempts: i64,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let Some(mut tx) = self.begin_step(step, None, now).await? else { return Ok(false) };
        self.insert_job(&mut tx, job_id, JobKind::Pipeline, step.id, "{}", max_attempts, now).await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_job(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        job_id: &str,
        kind: JobKind,
        verification: &str,
        payload: &str,
        max_attempts: i64,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO jobs (id, kind, verification_id, payload, status, attempts, max_attempts, run_at, created_at, updated_at) \
             VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(job_id)
            .bind(kind.as_str())
            .bind(verification)
            .bind(payload)
            .bind(max_attempts)
            .bind(now.millis())
            .bind(now.millis())
            .bind(now.millis())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Running jobs whose lease expired with no attempt left: marked failed, returned.
    pub async fn fail_exhausted(&self, kind: JobKind, now: Timestamp) -> Result<Vec<(String, String)>, StorageError> {
        let q = self.sql(
            "UPDATE jobs SET status = 'failed', last_error = 'lease expired on the last attempt', updated_at = ? \
             WHERE kind = ? AND status = 'running' AND lease_until < ? AND attempts >= max_attempts RETURNING id, verification_id",
        );
        let rows =
            sqlx::query(&q).bind(now.millis()).bind(kind.as_str()).bind(now.millis()).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// Extends the lease; false when the job is no longer this worker's.
    pub async fn heartbeat(&self, job: &str, worker: &str, lease_until: Timestamp) -> Result<bool, StorageError> {
        let q = self.sql("UPDATE jobs SET lease_until = ? WHERE id = ? AND locked_by = ? AND status = 'running'");
        let done = sqlx::query(&q).bind(lease_until.millis()).bind(job).bind(worker).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts the job back in the queue to run now, without counting the attempt: the attempt
    /// could not run or write because the database was unreachable, nothing was wrong with it.
    pub async fn release_job(&self, job: &str, worker: &str, now: Timestamp) -> Result<bool, StorageError> {
        let q = self.sql(
            "UPDATE jobs SET status = 'queued', run_at = ?, lease_until = NULL, locked_by = NULL, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = 'database unavailable', updated_at = ? \
             WHERE id = ? AND locked_by = ? AND status = 'running'",
        );
        let done =
            sqlx::query(&q).bind(now.millis()).bind(now.millis()).bind(job).bind(worker).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts the job back in the queue for `run_at` (a retry after a failure).
    pub async fn retry_job(
        &self,
        job: &str,
        worker: &str,
        run_at: Timestamp,
        error: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let q = self.sql(
            "UPDATE jobs SET status = 'queued', run_at = ?, lease_until = NULL, locked_by = NULL, last_error = ?, updated_at = ? \
             WHERE id = ? AND locked_by = ? AND status = 'running'",
        );
        let done = sqlx::query(&q)
            .bind(run_at.millis())
            .bind(error)
            .bind(now.millis())
            .bind(job)
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the job done (or failed) and writes the outcome on its verification, atomically
    /// and only if this worker still holds the job. False when it does not.
    pub async fn finish_job(
        &self,
        job: &str,
        worker: &str,
        verification: &str,
        outcome: &Outcome<'_>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        if !self.close_job_in(&mut tx, job, worker, error, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        self.set_outcome(&mut tx, verification, outcome, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Closes a job this worker holds as `done` or `failed`. False when it no longer holds it.
    pub async fn close_job(
        &self,
        job: &str,
        worker: &str,
        failed: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let closed = self.close_job_in(&mut tx, job, worker, failed, now).await?;
        tx.commit().await?;
        Ok(closed)
    }

    async fn close_job_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        job: &str,
        worker: &str,
        failed: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let q = self.sql("UPDATE jobs SET status = ?, last_error = ?, updated_at = ? WHERE id = ? AND locked_by = ? AND status = 'running'");
        let status = if failed.is_some() { "failed" } else { "done" };
        let done = sqlx::query(&q)
            .bind(status)
            .bind(failed.map(str::to_owned))
            .bind(now.millis())
            .bind(job)
            .bind(worker)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes an outcome (with its audit events and token) on a verification that is not
    /// final yet; nothing when it is final already.
    pub async fn set_outcome(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        verification: &str,
        outcome: &Outcome<'_>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "UPDATE verifications SET status = ?, decision = ?, reasons = ?, results = ?, updated_at = ?, \
             risk_score = COALESCE(?, risk_score), risk = COALESCE(?, risk), evidence = ? \
             WHERE id = ? AND status IN ('submitted', 'processing')",
        );
        let done = sqlx::query(&q)
            .bind(outcome.status.as_str())
            .bind(outcome.decision.map(str::to_owned))
            .bind(outcome.reasons)
            .bind(outcome.results)
            .bind(now.millis())
            .bind(outcome.risk.map(|(score, _)| i64::from(score)))
            .bind(outcome.risk.map(|(_, json)| json.to_owned()))
            .bind(outcome.evidence.map(str::to_owned))
            .bind(verification)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(());
        }
        for event in outcome.audit {
            self.append_audit(tx, event, now).await?;
        }
        if let Some(token) = outcome.token {
            self.insert_token(tx, token).await?;
        }
        if let Some(document) = outcome.document {
            self.insert_document(tx, document, now).await?;
        }
        self.queue_webhook(tx, verification, outcome.status, now).await?;
        Ok(())
    }

    /// Marks a verification failed outside a job (its job was exhausted).
    pub async fn fail_verification(
        &self,
        verification: &str,
        reason: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let reasons = serde_json::json!([reason]).to_string();
        let audit = std::slice::from_ref(event);
        self.set_outcome(
            &mut tx,
            verification,
            &Outcome {
                status: Status::Failed,
                decision: None,
                reasons: &reasons,
                results: "{}",
                audit,
                token: None,
                document: None,
                risk: None,
                evidence: None,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks a verification as being processed.
    pub async fn mark_processing(&self, verification: &str, now: Timestamp) -> Result<(), StorageError> {
        let q = self.sql(
            "UPDATE verifications SET status = 'processing', updated_at = ? WHERE id = ? AND status = 'submitted'",
        );
        sqlx::query(&q).bind(now.millis()).bind(verification).execute(&self.pool).await?;
        Ok(())
    }

    /// Jobs waiting or running, for /metrics.
    pub async fn queue_depth(&self) -> Result<i64, StorageError> {
        let row = sqlx::query("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// (status, attempts) of every job of a verification, oldest first.
    pub async fn jobs_of(&self, verification: &str) -> Result<Vec<(String, i64)>, StorageError> {
        let q = self.sql("SELECT status, attempts FROM jobs WHERE verification_id = ? ORDER BY created_at, id");
        let rows = sqlx::query(&q).bind(verification).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}
