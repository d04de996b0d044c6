//! Claiming a job: the next due one (or one whose lease ran out), one per verification and
//! kind at a time, optionally skipping busy organisations.

use sqlx::Row;

use super::{Backend, ClaimedJob, JobKind, StorageError, Store};
use crate::domain::time::Timestamp;

impl Store {
    /// Claims the oldest due job of `kind` (queued and due, or running with an expired lease
    /// and attempts left) for `worker` until `lease_until`.
    pub async fn claim_job(
        &self,
        kind: JobKind,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<ClaimedJob>, StorageError> {
        self.claim_job_except(kind, worker, now, lease_until, &[]).await
    }

    /// As `claim_job`, skipping the jobs of verifications of the organisations in `busy` (so
    /// one organisation's slow receiver cannot hold every delivery slot).
    pub async fn claim_job_except(
        &self,
        kind: JobKind,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        busy: &[String],
    ) -> Result<Option<ClaimedJob>, StorageError> {
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let except = if busy.is_empty() {
            String::new()
        } else {
            let marks = vec!["?"; busy.len()].join(", ");
            format!(" AND j.verification_id NOT IN (SELECT id FROM verifications WHERE org_id IN ({marks}))")
        };
        // One job of a kind at a time per verification (its webhooks arrive in order).
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ?, locked_by = ?, updated_at = ? \
             WHERE id = (SELECT j.id FROM jobs j WHERE j.kind = ? AND ((j.status = 'queued' AND j.run_at <= ?) \
             OR (j.status = 'running' AND j.lease_until < ? AND j.attempts < j.max_attempts)) \
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.verification_id = j.verification_id AND r.kind = j.kind \
             AND r.status = 'running' AND r.lease_until >= ?){except} ORDER BY j.run_at, j.id LIMIT 1{lock}) \
             RETURNING id, verification_id, payload, attempts, max_attempts"
        );
        let q = self.sql(&sql).into_owned();
        let mut query = sqlx::query(&q)
            .bind(lease_until.millis())
            .bind(worker)
            .bind(now.millis())
            .bind(kind.as_str())
            .bind(now.millis())
            .bind(now.millis())
            .bind(now.millis());
        for org in busy {
            query = query.bind(org);
        }
        let row = query.fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ClaimedJob {
            id: row.try_get(0)?,
            verification_id: row.try_get(1)?,
            payload: row.try_get(2)?,
            attempts: row.try_get(3)?,
            max_attempts: row.try_get(4)?,
        }))
    }
}
