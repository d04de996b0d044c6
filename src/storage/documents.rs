//! Document numbers: sealed, with a keyed hash to find the same document used by another
//! candidate.

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

/// A document number ready to store (sealed, hashed).
#[derive(Clone)]
pub struct NewDocument {
    pub verification_id: String,
    pub org_id: String,
    pub external_id: String,
    pub number_hash: String,
    pub sealed_number: Vec<u8>,
}

impl std::fmt::Debug for NewDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDocument").field("verification_id", &self.verification_id).finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) async fn insert_document(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        doc: &NewDocument,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO document_numbers (verification_id, org_id, external_id, number_hash, sealed_number, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(&doc.verification_id)
            .bind(&doc.org_id)
            .bind(&doc.external_id)
            .bind(&doc.number_hash)
            .bind(doc.sealed_number.clone())
            .bind(now.millis())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Other verifications whose document has this hash, for another candidate (another
    /// organisation, or another external ID in the same one).
    pub async fn document_used_by_others(
        &self,
        number_hash: &str,
        verification: &str,
        org_id: &str,
        external_id: &str,
    ) -> Result<i64, StorageError> {
        let q = self.sql(
            "SELECT COUNT(*) FROM document_numbers WHERE number_hash = ? AND verification_id <> ? \
             AND (org_id <> ? OR external_id <> ?)",
        );
        let row = sqlx::query(&q)
            .bind(number_hash)
            .bind(verification)
            .bind(org_id)
            .bind(external_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }
}
