//! Liveness challenges, the capture each selfie answers with, and selfie fingerprints.

use sqlx::Row;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;

/// An issued challenge.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeRecord {
    pub id: String,
    pub verification_id: String,
    /// Comma-separated actions.
    pub steps: String,
    /// A drawn challenge's prompts (`domain::challenge::Timing` as JSON).
    pub timing: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// The challenge a verification's selfie answered.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredRecord {
    pub steps: String,
    pub timing: Option<String>,
    /// Its number among the challenges of its attempt (1 = the first asked).
    pub number: i64,
    /// The browser's capture report (JSON).
    pub report: String,
}

impl Store {
    /// Issues a challenge, voiding any earlier unanswered one of the same verification, and
    /// appends `event` (its data gains `number`). Returns the challenge's number in this
    /// attempt (since the last answered challenge), or `None`, issuing nothing, when `max`
    /// were already issued.
    pub async fn issue_challenge(
        &self,
        record: &ChallengeRecord,
        max: usize,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<Option<i64>, StorageError> {
        let mut tx = self.pool.begin().await?;
        // Writes first: the verification's row lock (PostgreSQL) or the write lock (SQLite)
        // serialises concurrent requests, so the count below cannot be raced past the cap.
        let lock = self.sql("UPDATE verifications SET id = id WHERE id = ?");
        sqlx::query(&lock).bind(&record.verification_id).execute(&mut *tx).await?;
        let count = self.sql(
            "SELECT COUNT(*) FROM challenges WHERE verification_id = ? AND issued_at > COALESCE(\
             (SELECT MAX(c.issued_at) FROM selfie_captures s JOIN challenges c ON c.id = s.challenge_id \
              WHERE s.verification_id = ?), -1)",
        );
        let issued: i64 = sqlx::query_scalar(&count)
            .bind(&record.verification_id)
            .bind(&record.verification_id)
            .fetch_one(&mut *tx)
            .await?;
        if issued >= i64::try_from(max).unwrap_or(i64::MAX) {
            tx.rollback().await?;
            return Ok(None);
        }
        let number = issued + 1;
        let void = self.sql("UPDATE challenges SET used_at = ? WHERE verification_id = ? AND used_at IS NULL");
        sqlx::query(&void).bind(now.millis()).bind(&record.verification_id).execute(&mut *tx).await?;
        let q = self.sql(
            "INSERT INTO challenges (id, verification_id, steps, timing, number, issued_at, expires_at, used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        );
        sqlx::query(&q)
            .bind(&record.id)
            .bind(&record.verification_id)
            .bind(&record.steps)
            .bind(&record.timing)
            .bind(number)
            .bind(now.millis())
            .bind(record.expires_at)
            .execute(&mut *tx)
            .await?;
        let mut event = event.clone();
        if let Some(data) = event.data.as_object_mut() {
            data.insert("number".into(), number.into());
        }
        self.append_audit(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(Some(number))
    }

    pub async fn challenge(&self, id: &str) -> Result<Option<ChallengeRecord>, StorageError> {
        let q = self.sql("SELECT id, verification_id, steps, timing, expires_at, used_at FROM challenges WHERE id = ?");
        let row = sqlx::query(&q).bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| {
            Ok(ChallengeRecord {
                id: r.try_get(0)?,
                verification_id: r.try_get(1)?,
                steps: r.try_get(2)?,
                timing: r.try_get(3)?,
                expires_at: r.try_get(4)?,
                used_at: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Spends the challenge for this verification's selfie and records the capture report.
    /// False when the challenge was already used, voided or expired meanwhile.
    pub async fn answer_challenge(
        &self,
        challenge: &str,
        verification: &str,
        report: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let spend = self.sql(
            "UPDATE challenges SET used_at = ? WHERE id = ? AND verification_id = ? AND used_at IS NULL AND expires_at > ?",
        );
        let spent = sqlx::query(&spend)
            .bind(now.millis())
            .bind(challenge)
            .bind(verification)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if spent != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let drop_old = self.sql("DELETE FROM selfie_captures WHERE verification_id = ?");
        sqlx::query(&drop_old).bind(verification).execute(&mut *tx).await?;
        let q = self
            .sql("INSERT INTO selfie_captures (verification_id, challenge_id, report, created_at) VALUES (?, ?, ?, ?)");
        sqlx::query(&q).bind(verification).bind(challenge).bind(report).bind(now.millis()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The answered challenge and the capture report of a verification's selfie.
    pub async fn selfie_capture(&self, verification: &str) -> Result<Option<AnsweredRecord>, StorageError> {
        let q = self.sql(
            "SELECT c.steps, c.timing, c.number, s.report FROM selfie_captures s \
             JOIN challenges c ON c.id = s.challenge_id \
             WHERE s.verification_id = ? AND c.verification_id = s.verification_id",
        );
        let row = sqlx::query(&q).bind(verification).fetch_optional(&self.pool).await?;
        row.map(|r| {
            Ok(AnsweredRecord {
                steps: r.try_get(0)?,
                timing: r.try_get(1)?,
                number: r.try_get::<i64, _>(2)?,
                report: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// (verification, organisation) of the other verifications whose selfie has exactly these
    /// bytes (of organisation `org` only, when given).
    pub async fn selfie_bytes_seen(
        &self,
        sha256: &str,
        verification: &str,
        org: Option<&str>,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let q = self.sql(
            "SELECT m.verification_id, v.org_id FROM media m JOIN verifications v ON v.id = m.verification_id \
             WHERE m.kind = 'selfie' AND m.sha256 = ? AND m.verification_id <> ? AND (? = '' OR v.org_id = ?) \
             ORDER BY m.verification_id LIMIT 20",
        );
        let org = org.unwrap_or_default();
        let rows = sqlx::query(&q).bind(sha256).bind(verification).bind(org).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// The most recent `limit` selfie fingerprints of other verifications (of organisation
    /// `org` only, when given).
    pub async fn recent_fingerprints(
        &self,
        verification: &str,
        org: Option<&str>,
        limit: i64,
    ) -> Result<Vec<((String, String), Vec<u64>)>, StorageError> {
        let q = self.sql(
            "SELECT f.verification_id, v.org_id, f.hashes FROM selfie_fingerprints f \
             JOIN verifications v ON v.id = f.verification_id \
             WHERE f.verification_id <> ? AND (? = '' OR v.org_id = ?) ORDER BY f.created_at DESC LIMIT ?",
        );
        let org = org.unwrap_or_default();
        let rows = sqlx::query(&q).bind(verification).bind(org).bind(org).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let hashes: String = r.try_get(2)?;
                let parsed = hashes.split(',').filter_map(|h| u64::from_str_radix(h, 16).ok()).collect();
                Ok(((r.try_get(0)?, r.try_get(1)?), parsed))
            })
            .collect()
    }

    pub async fn put_fingerprint(
        &self,
        verification: &str,
        hashes: &[u64],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let text = hashes.iter().map(|h| format!("{h:016x}")).collect::<Vec<_>>().join(",");
        let q = self.sql(
            "INSERT INTO selfie_fingerprints (verification_id, hashes, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (verification_id) DO UPDATE SET hashes = excluded.hashes",
        );
        sqlx::query(&q).bind(verification).bind(text).bind(now.millis()).execute(&self.pool).await?;
        Ok(())
    }
}
