//! Retention and erasure: which closed cases are past their limits, and deleting a case's
//! media rows or its personal data in one transaction with its audit event. Media objects
//! themselves are deleted by the caller (`retention`) before the rows that name them.

use sqlx::Row;

use super::{Backend, StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;

/// Statuses whose cases are closed: nothing more will happen to them without a person
/// (review is not closed: a reviewer still needs the evidence).
const CLOSED: &str =
    "('approved', 'rejected', 'failed', 'created', 'consented', 'document_uploaded', 'selfie_uploaded')";

/// A case due for a purge: id and organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCase {
    pub verification_id: String,
    pub org_id: String,
}

/// What was deleted, counted (for the audit event).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Deleted {
    pub media: u64,
    pub templates: u64,
    pub fingerprints: u64,
    pub device_reports: u64,
    pub sightings: u64,
    pub documents: u64,
    pub links: u64,
    pub tokens: u64,
    pub review_notes: u64,
}

impl Store {
    /// Closed cases last changed before `before` whose media was not purged yet.
    pub async fn media_due(&self, before: Timestamp, limit: i64) -> Result<Vec<DueCase>, StorageError> {
        self.due("media_purged_at", before, limit).await
    }

    /// Closed cases last changed before `before` whose personal data was not purged yet.
    pub async fn personal_data_due(&self, before: Timestamp, limit: i64) -> Result<Vec<DueCase>, StorageError> {
        self.due("personal_purged_at", before, limit).await
    }

    async fn due(&self, column: &str, before: Timestamp, limit: i64) -> Result<Vec<DueCase>, StorageError> {
        let q = self
            .sql(&format!(
                "SELECT id, org_id FROM verifications WHERE status IN {CLOSED} AND updated_at < ? AND {column} IS NULL \
                 ORDER BY updated_at, id LIMIT ?"
            ))
            .into_owned();
        let rows = sqlx::query(&q).bind(before.millis()).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(DueCase { verification_id: r.try_get(0)?, org_id: r.try_get(1)? })).collect()
    }

    /// Deletes a case's media rows (its objects are gone already) and marks it purged.
    pub async fn purge_media_rows(
        &self,
        verification: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<Deleted, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql("DELETE FROM media WHERE verification_id = ?");
        let media = sqlx::query(&q).bind(verification).execute(&mut *tx).await?.rows_affected();
        let q = self.sql("UPDATE verifications SET media_purged_at = ? WHERE id = ?");
        sqlx::query(&q).bind(now.millis()).bind(verification).execute(&mut *tx).await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(Deleted { media, ..Deleted::default() })
    }

    /// Deletes a case's personal data: claims and link emptied, tokens' sealed copies and
    /// reviewers' notes emptied, device reports, sightings, templates (with a removal row
    /// for every node's 1:N index), fingerprints, the sealed document number and the reuse
    /// hashes deleted. `event` is built from the counts by `event_of`.
    pub async fn purge_personal_data(
        &self,
        verification: &str,
        event_of: impl FnOnce(&Deleted) -> NewEvent,
        now: Timestamp,
    ) -> Result<Deleted, StorageError> {
        let mut tx = self.pool.begin().await?;
        let mut d = Deleted::default();
        let id = verification;
        d.templates = self.delete_of(&mut tx, "DELETE FROM face_templates WHERE verification_id = ?", id).await?;
        d.fingerprints =
            self.delete_of(&mut tx, "DELETE FROM selfie_fingerprints WHERE verification_id = ?", id).await?;
        d.device_reports = self.delete_of(&mut tx, "DELETE FROM device_reports WHERE verification_id = ?", id).await?;
        d.sightings = self.delete_of(&mut tx, "DELETE FROM candidate_sightings WHERE verification_id = ?", id).await?;
        d.documents = self.delete_of(&mut tx, "DELETE FROM document_numbers WHERE verification_id = ?", id).await?;
        d.links = self.delete_of(&mut tx, "DELETE FROM identity_links WHERE verification_id = ?", id).await?
            + self.delete_of(&mut tx, "DELETE FROM claim_hashes WHERE verification_id = ?", id).await?;
        self.delete_of(&mut tx, "DELETE FROM selfie_captures WHERE verification_id = ?", id).await?;
        let empty: Vec<u8> = Vec::new();
        let q = self.sql("UPDATE tokens SET sealed_token = ? WHERE verification_id = ?");
        d.tokens = sqlx::query(&q).bind(empty.clone()).bind(verification).execute(&mut *tx).await?.rows_affected();
        let q = self.sql("UPDATE reviews SET sealed_note = ? WHERE verification_id = ?");
        d.review_notes =
            sqlx::query(&q).bind(empty.clone()).bind(verification).execute(&mut *tx).await?.rows_affected();
        let q = self.sql("UPDATE verifications SET claims = ?, sealed_link = ?, personal_purged_at = ? WHERE id = ?");
        sqlx::query(&q).bind(empty.clone()).bind(empty).bind(now.millis()).bind(verification).execute(&mut *tx).await?;
        if d.templates > 0 {
            let q = self.sql("INSERT INTO face_template_removals (verification_id, removed_at) VALUES (?, ?)");
            sqlx::query(&q).bind(verification).bind(now.millis()).execute(&mut *tx).await?;
        }
        self.append_audit(&mut tx, &event_of(&d), now).await?;
        tx.commit().await?;
        Ok(d)
    }

    async fn delete_of(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        sql: &str,
        verification: &str,
    ) -> Result<u64, StorageError> {
        let q = self.sql(sql);
        Ok(sqlx::query(&q).bind(verification).execute(&mut **tx).await?.rows_affected())
    }

    /// After deleting personal data on SQLite, the write-ahead log still holds the old pages:
    /// checkpoint it into the database (whose freed pages `secure_delete` zeroed) and
    /// truncate it.
    pub async fn flush_deleted(&self) -> Result<(), StorageError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        }
        Ok(())
    }
}
