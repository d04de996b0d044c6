//! Human review: claims on cases, the review queue, and review decisions written with their
//! status change, audit events, token and webhook in one transaction.

use sqlx::Row;

use super::{NewToken, StorageError, Store, VerificationRecord};
use crate::audit::event::NewEvent;
use crate::domain::review::ReviewDecision;
use crate::domain::time::Timestamp;
use crate::domain::verification::Status;

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This reviewer holds the case until then (any other claim of theirs was released).
    Claimed { expires_at: Timestamp },
    /// Another reviewer holds it.
    HeldByAnother,
    /// The case is not in a status a reviewer acts on (the status it is in).
    NotReviewable(Status),
    /// No such case in this organisation.
    NotFound,
}

/// A claim on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRecord {
    pub reviewer: String,
    pub claimed_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A recorded review decision (the note stays sealed).
#[derive(Clone)]
pub struct ReviewRecord {
    pub id: String,
    pub verification_id: String,
    pub reviewer: String,
    pub decision: ReviewDecision,
    pub reason: String,
    pub sealed_note: Vec<u8>,
    /// `pending` (waiting for a second reviewer), `final`, `superseded`.
    pub state: String,
    pub at: Timestamp,
}

impl std::fmt::Debug for ReviewRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewRecord").field("id", &self.id).field("decision", &self.decision).finish_non_exhaustive()
    }
}

/// A new candidate link (a retake): its digest, expiry and sealed form.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub token_digest: String,
    pub expires_at: Timestamp,
    pub sealed_link: Vec<u8>,
}

/// The verification's change when a review decision is final.
#[derive(Debug, Clone)]
pub struct FinalChange<'a> {
    pub status: Status,
    /// `approve` or `reject`; none for a retake.
    pub decision: Option<&'a str>,
    /// JSON array of reason codes.
    pub reasons: &'a str,
    pub token: Option<&'a NewToken>,
    pub link: Option<&'a NewLink>,
    /// The webhook's type.
    pub webhook: &'static str,
}

/// A review decision to write.
#[derive(Debug, Clone)]
pub struct ReviewWrite<'a> {
    pub review: &'a ReviewRecord,
    pub org_id: &'a str,
    /// The status the decision was taken on (the change applies only from it).
    pub from: Status,
    /// `None`: the decision waits for a second reviewer.
    pub change: Option<FinalChange<'a>>,
    /// What earlier pending reviews of the case become: `final` when this one confirms
    /// them, else `superseded`.
    pub earlier_pending: &'static str,
    pub audit: &'a [NewEvent],
}

/// What writing a review did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewWritten {
    Done,
    /// The reviewer does not hold the claim (never had it, or it expired).
    ClaimRequired,
    /// The case changed meanwhile.
    Conflict,
}

/// Filters of the review queue.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only cases last changed before this (older than an age).
    pub changed_before: Option<Timestamp>,
    pub limit: u32,
}

fn review(row: &sqlx::any::AnyRow) -> Result<ReviewRecord, StorageError> {
    let decision: String = row.try_get(3)?;
    Ok(ReviewRecord {
        id: row.try_get(0)?,
        verification_id: row.try_get(1)?,
        reviewer: row.try_get(2)?,
        decision: ReviewDecision::ALL
            .into_iter()
            .find(|d| d.as_str() == decision)
            .ok_or(StorageError::Corrupt("unknown review decision"))?,
        reason: row.try_get(4)?,
        sealed_note: row.try_get(5)?,
        state: row.try_get(6)?,
        at: Timestamp::from_millis(row.try_get(7)?),
    })
}

impl Store {
    /// Claims a reviewable case of `org` for `reviewer` until `until`, releasing any other
    /// case they hold and any expired claim on this one; the audit event is written with it.
    pub async fn claim_case(
        &self,
        org: &str,
        verification: &str,
        reviewer: &str,
        until: Timestamp,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<ClaimOutcome, StorageError> {
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite the transaction then holds the write lock from the start
        // (waiting for it under busy_timeout) instead of failing to upgrade a read later.
        let q = self.sql("DELETE FROM review_claims WHERE verification_id = ? AND expires_at <= ?");
        sqlx::query(&q).bind(verification).bind(now.millis()).execute(&mut *tx).await?;
        let q = self.sql("SELECT status FROM verifications WHERE id = ? AND org_id = ?");
        let Some(row) = sqlx::query(&q).bind(verification).bind(org).fetch_optional(&mut *tx).await? else {
            tx.rollback().await?;
            return Ok(ClaimOutcome::NotFound);
        };
        let status: Status = row.try_get::<String, _>(0)?.parse().map_err(|()| StorageError::Corrupt("status"))?;
        if !crate::domain::review::reviewable(status) {
            tx.rollback().await?;
            return Ok(ClaimOutcome::NotReviewable(status));
        }
        let q = self.sql("SELECT reviewer FROM review_claims WHERE verification_id = ?");
        let holder: Option<String> =
            sqlx::query(&q).bind(verification).fetch_optional(&mut *tx).await?.map(|r| r.try_get(0)).transpose()?;
        match holder {
            Some(other) if other != reviewer => return Ok(ClaimOutcome::HeldByAnother),
            Some(_) => {
                let q = self.sql("UPDATE review_claims SET expires_at = ? WHERE verification_id = ?");
                sqlx::query(&q).bind(until.millis()).bind(verification).execute(&mut *tx).await?;
            }
            None => {
                let q = self.sql("DELETE FROM review_claims WHERE org_id = ? AND reviewer = ?");
                sqlx::query(&q).bind(org).bind(reviewer).execute(&mut *tx).await?;
                let q = self.sql(
                    "INSERT INTO review_claims (verification_id, org_id, reviewer, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                );
                let inserted = sqlx::query(&q)
                    .bind(verification)
                    .bind(org)
                    .bind(reviewer)
                    .bind(now.millis())
                    .bind(until.millis())
                    .execute(&mut *tx)
                    .await;
                match inserted.map_err(StorageError::from) {
                    Ok(_) => {}
                    // Another reviewer's claim won a concurrent race.
                    Err(e) if e.is_unique_violation() => return Ok(ClaimOutcome::HeldByAnother),
                    Err(e) => return Err(e),
                }
            }
        }
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(ClaimOutcome::Claimed { expires_at: until })
    }

    /// Releases `reviewer`'s claim on a case; false when they did not hold it.
    pub async fn release_claim(
        &self,
        verification: &str,
        reviewer: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let q = self.sql("DELETE FROM review_claims WHERE verification_id = ? AND reviewer = ? AND expires_at > ?");
        let done = sqlx::query(&q).bind(verification).bind(reviewer).bind(now.millis()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The unexpired claim on a case, if any.
    pub async fn claim_of(&self, verification: &str, now: Timestamp) -> Result<Option<ClaimRecord>, StorageError> {
        let q = self.sql(
            "SELECT reviewer, claimed_at, expires_at FROM review_claims WHERE verification_id = ? AND expires_at > ?",
        );
        let row = sqlx::query(&q).bind(verification).bind(now.millis()).fetch_optional(&self.pool).await?;
        row.map(|r| {
            Ok(ClaimRecord {
                reviewer: r.try_get(0)?,
                claimed_at: Timestamp::from_millis(r.try_get(1)?),
                expires_at: Timestamp::from_millis(r.try_get(2)?),
            })
        })
        .transpose()
    }

    /// Every review of a case, oldest first.
    pub async fn reviews_of(&self, verification: &str) -> Result<Vec<ReviewRecord>, StorageError> {
        let q = self.sql(
            "SELECT id, verification_id, reviewer, decision, reason, sealed_note, state, at FROM reviews \
             WHERE verification_id = ? ORDER BY at, id",
        );
        let rows = sqlx::query(&q).bind(verification).fetch_all(&self.pool).await?;
        rows.iter().map(review).collect()
    }

    /// Writes a review: the row, and (when final) the verification's change from `from` with
    /// its token, webhook and the supersession of pending reviews; the claim is released and
    /// the audit events appended, all or nothing.
    pub async fn record_review(&self, w: &ReviewWrite<'_>, now: Timestamp) -> Result<ReviewWritten, StorageError> {
        let r = w.review;
        let mut tx = self.pool.begin().await?;
        let q = self.sql("DELETE FROM review_claims WHERE verification_id = ? AND reviewer = ? AND expires_at > ?");
        let released =
            sqlx::query(&q).bind(&r.verification_id).bind(&r.reviewer).bind(now.millis()).execute(&mut *tx).await?;
        if released.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(ReviewWritten::ClaimRequired);
        }
        if let Some(change) = &w.change
            && !self.apply_review_change(&mut tx, &r.verification_id, w.from, change, now).await?
        {
            tx.rollback().await?;
            return Ok(ReviewWritten::Conflict);
        }
        let q = self.sql("UPDATE reviews SET state = ? WHERE verification_id = ? AND state = 'pending'");
        sqlx::query(&q).bind(w.earlier_pending).bind(&r.verification_id).execute(&mut *tx).await?;
        let q = self.sql(
            "INSERT INTO reviews (id, verification_id, org_id, reviewer, decision, reason, sealed_note, state, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(&r.id)
            .bind(&r.verification_id)
            .bind(w.org_id)
            .bind(&r.reviewer)
            .bind(r.decision.as_str())
            .bind(&r.reason)
            .bind(r.sealed_note.clone())
            .bind(&r.state)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        for event in w.audit {
            self.append_audit(&mut tx, event, now).await?;
        }
        tx.commit().await?;
        Ok(ReviewWritten::Done)
    }

    async fn apply_review_change(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        verification: &str,
        from: Status,
        change: &FinalChange<'_>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let q = self.sql(
            "UPDATE verifications SET status = ?, decision = ?, reasons = ?, updated_at = ?, \
             token_digest = COALESCE(?, token_digest), token_expires_at = COALESCE(?, token_expires_at), \
             sealed_link = COALESCE(?, sealed_link) WHERE id = ? AND status = ?",
        );
        let done = sqlx::query(&q)
            .bind(change.status.as_str())
            .bind(change.decision.map(str::to_owned))
            .bind(change.reasons)
            .bind(now.millis())
            .bind(change.link.map(|l| l.token_digest.clone()))
            .bind(change.link.map(|l| l.expires_at.millis()))
            .bind(change.link.map(|l| l.sealed_link.clone()))
            .bind(verification)
            .bind(from.as_str())
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(token) = change.token {
            self.insert_token(tx, token).await?;
        }
        self.queue_webhook_of(tx, verification, change.status, change.webhook, now).await?;
        Ok(true)
    }

    /// The organisation's reviewable cases (`review`, and `rejected` ones someone holds or
    /// has a pending review on), highest risk first, then the longest waiting.
    pub async fn review_queue(&self, org: &str, f: &QueueFilter) -> Result<Vec<VerificationRecord>, StorageError> {
        let mut sql = format!(
            "SELECT {} FROM verifications v WHERE v.org_id = ? AND (v.status = 'review' OR (v.status = 'rejected' AND \
             (EXISTS (SELECT 1 FROM review_claims c WHERE c.verification_id = v.id) \
              OR EXISTS (SELECT 1 FROM reviews r WHERE r.verification_id = v.id AND r.state = 'pending'))))",
            super::verifications::COLUMNS
        );
        if f.changed_before.is_some() {
            sql.push_str(" AND v.updated_at < ?");
        }
        sql.push_str(" ORDER BY COALESCE(v.risk_score, -1) DESC, v.updated_at ASC, v.id LIMIT ?");
        let sql = self.sql(&sql).into_owned();
        let mut query = sqlx::query(&sql).bind(org);
        if let Some(t) = f.changed_before {
            query = query.bind(t.millis());
        }
        let rows = query.bind(i64::from(f.limit)).fetch_all(&self.pool).await?;
        rows.iter().map(super::verifications::record).collect()
    }

    /// The unexpired claims of the organisation's cases, by verification.
    pub async fn claims_of_org(
        &self,
        org: &str,
        now: Timestamp,
    ) -> Result<std::collections::HashMap<String, ClaimRecord>, StorageError> {
        let q = self.sql(
            "SELECT verification_id, reviewer, claimed_at, expires_at FROM review_claims WHERE org_id = ? AND expires_at > ?",
        );
        let rows = sqlx::query(&q).bind(org).bind(now.millis()).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    ClaimRecord {
                        reviewer: r.try_get(1)?,
                        claimed_at: Timestamp::from_millis(r.try_get(2)?),
                        expires_at: Timestamp::from_millis(r.try_get(3)?),
                    },
                ))
            })
            .collect()
    }

    /// Reviewers' final approvals and rejections (the latest per case) with the risk the case
    /// carried (JSON), of one organisation or of all: what `idgate risk fit` learns from.
    pub async fn review_outcomes(&self, org: Option<&str>) -> Result<Vec<(String, Option<String>)>, StorageError> {
        let mut sql = "SELECT r.verification_id, r.decision, v.risk FROM reviews r JOIN verifications v \
                       ON v.id = r.verification_id WHERE r.state = 'final' AND r.decision IN ('approve', 'reject')"
            .to_owned();
        if org.is_some() {
            sql.push_str(" AND r.org_id = ?");
        }
        sql.push_str(" ORDER BY r.verification_id, r.at, r.id");
        let sql = self.sql(&sql).into_owned();
        let mut query = sqlx::query(&sql);
        if let Some(org) = org {
            query = query.bind(org);
        }
        let mut latest = std::collections::BTreeMap::<String, (String, Option<String>)>::new();
        for row in query.fetch_all(&self.pool).await? {
            latest.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
        }
        Ok(latest.into_values().collect())
    }

    /// What the stages established for a case not approved automatically (JSON).
    pub async fn evidence_of(&self, verification: &str) -> Result<Option<String>, StorageError> {
        let q = self.sql("SELECT evidence FROM verifications WHERE id = ?");
        let row = sqlx::query(&q).bind(verification).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get::<Option<String>, _>(0)).transpose()?.flatten())
    }
}
