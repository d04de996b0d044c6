//! Document numbers: sealed, with a keyed hash to find the same document on other
//! verifications.

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
    /// Records the document of a decided verification (replacing the one of an earlier run:
    /// a retake is processed again).
    pub(crate) async fn insert_document(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        doc: &NewDocument,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql("DELETE FROM document_numbers WHERE verification_id = ?");
        sqlx::query(&q).bind(&doc.verification_id).execute(&mut **tx).await?;
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

    /// The newest `limit` other verifications whose document has this hash, with their
    /// organisation.
    pub async fn documents_with_hash(
        &self,
        number_hash: &str,
        verification: &str,
        org: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DocumentUse>, StorageError> {
        let q = self.sql(
            "SELECT verification_id, org_id FROM document_numbers WHERE number_hash = ? AND verification_id <> ? \
             AND (? = '' OR org_id = ?) ORDER BY created_at DESC LIMIT ?",
        );
        let org = org.unwrap_or_default();
        let rows = sqlx::query(&q)
            .bind(number_hash)
            .bind(verification)
            .bind(org)
            .bind(org)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(DocumentUse { verification_id: row.try_get(0)?, org_id: row.try_get(1)? })).collect()
    }
}

/// A verification that holds a given document.
#[derive(Debug, Clone)]
pub struct DocumentUse {
    pub verification_id: String,
    pub org_id: String,
}
