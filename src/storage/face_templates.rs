//! Sealed face templates of decided verifications, and their removals: the 1:N index on
//! every node follows both tables by `seq`.

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

/// One stored template (sealed).
#[derive(Debug, Clone)]
pub struct TemplateRow {
    pub seq: i64,
    pub verification_id: String,
    pub org_id: String,
    pub identity_hash: String,
    pub kind: String,
    pub sealed: Vec<u8>,
}

impl Store {
    /// Stores a verification's templates (`(kind, sealed)`), replacing earlier ones of that kind.
    pub async fn put_face_templates(
        &self,
        verification: &str,
        org: &str,
        identity_hash: &str,
        templates: &[(&str, Vec<u8>)],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let delete = self.sql("DELETE FROM face_templates WHERE verification_id = ? AND kind = ?");
        let insert = self.sql(
            "INSERT INTO face_templates (verification_id, org_id, identity_hash, kind, sealed, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        );
        for (kind, sealed) in templates {
            sqlx::query(&delete).bind(verification).bind(*kind).execute(&mut *tx).await?;
            sqlx::query(&insert)
                .bind(verification)
                .bind(org)
                .bind(identity_hash)
                .bind(*kind)
                .bind(sealed.as_slice())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Templates stored after `seq`, oldest first, at most `limit`.
    pub async fn face_templates_after(&self, seq: i64, limit: i64) -> Result<Vec<TemplateRow>, StorageError> {
        let q = self.sql(
            "SELECT seq, verification_id, org_id, identity_hash, kind, sealed FROM face_templates \
             WHERE seq > ? ORDER BY seq LIMIT ?",
        );
        let rows = sqlx::query(&q).bind(seq).bind(limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(TemplateRow {
                    seq: r.try_get(0)?,
                    verification_id: r.try_get(1)?,
                    org_id: r.try_get(2)?,
                    identity_hash: r.try_get(3)?,
                    kind: r.try_get(4)?,
                    sealed: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Removals recorded after `seq`: (seq, verification id).
    pub async fn face_removals_after(&self, seq: i64) -> Result<Vec<(i64, String)>, StorageError> {
        let q = self.sql("SELECT seq, verification_id FROM face_template_removals WHERE seq > ? ORDER BY seq");
        let rows = sqlx::query(&q).bind(seq).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// Deletes a verification's templates (retention, erasure) and records the removal for
    /// the other nodes' indexes. Returns how many were deleted.
    pub async fn remove_face_templates(&self, verification: &str, now: Timestamp) -> Result<u64, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql("DELETE FROM face_templates WHERE verification_id = ?");
        let deleted = sqlx::query(&q).bind(verification).execute(&mut *tx).await?.rows_affected();
        let q = self.sql("INSERT INTO face_template_removals (verification_id, removed_at) VALUES (?, ?)");
        sqlx::query(&q).bind(verification).bind(now.millis()).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }
}
