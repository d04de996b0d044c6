//! Webhook delivery bookkeeping: closing webhook jobs and recording each attempt.

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub job_id: String,
    pub attempt: i64,
    pub verification_id: String,
    pub url: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub at: Timestamp,
}

impl Store {
    pub async fn record_webhook_attempt(&self, a: &WebhookAttempt) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO webhook_attempts (job_id, attempt, verification_id, url, status_code, error, duration_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (job_id, attempt) DO NOTHING",
        );
        sqlx::query(&q)
            .bind(&a.job_id)
            .bind(a.attempt)
            .bind(&a.verification_id)
            .bind(&a.url)
            .bind(a.status_code)
            .bind(a.error.clone())
            .bind(a.duration_ms)
            .bind(a.at.millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every attempt for a verification, oldest first.
    pub async fn webhook_attempts(&self, verification: &str) -> Result<Vec<WebhookAttempt>, StorageError> {
        let q = self.sql(
            "SELECT job_id, attempt, verification_id, url, status_code, error, duration_ms, at FROM webhook_attempts \
             WHERE verification_id = ? ORDER BY at, attempt",
        );
        let rows = sqlx::query(&q).bind(verification).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(WebhookAttempt {
                    job_id: r.try_get(0)?,
                    attempt: r.try_get(1)?,
                    verification_id: r.try_get(2)?,
                    url: r.try_get(3)?,
                    status_code: r.try_get(4)?,
                    error: r.try_get(5)?,
                    duration_ms: r.try_get(6)?,
                    at: Timestamp::from_millis(r.try_get(7)?),
                })
            })
            .collect()
    }
}
