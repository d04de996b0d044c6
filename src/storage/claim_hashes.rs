//! Keyed hashes of each verification's phone and e-mail with a keyed hash of the claimed
//! identity: to find the same contact under another identity in the organisation.

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

/// One claimed value's keyed hash (`kind`: `phone` or `email`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimHash {
    pub kind: &'static str,
    pub value_hash: String,
}

/// The keyed hashes of one verification's contacts and identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimHashes {
    pub identity_hash: String,
    pub values: Vec<ClaimHash>,
}

impl Store {
    pub(crate) async fn insert_claim_hashes(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        verification: &str,
        org: &str,
        hashes: &ClaimHashes,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO claim_hashes (verification_id, org_id, kind, value_hash, identity_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        );
        for value in &hashes.values {
            sqlx::query(&q)
                .bind(verification)
                .bind(org)
                .bind(value.kind)
                .bind(&value.value_hash)
                .bind(&hashes.identity_hash)
                .bind(now.millis())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// For each of `hashes`' values: the newest `limit` other verifications in `org` with the
    /// same value under another identity, as (kind, verification ids).
    pub async fn claims_under_other_identities(
        &self,
        org: &str,
        verification: &str,
        hashes: &ClaimHashes,
        limit: i64,
    ) -> Result<Vec<(&'static str, Vec<String>)>, StorageError> {
        let q = self.sql(
            "SELECT verification_id FROM claim_hashes WHERE org_id = ? AND kind = ? AND value_hash = ? \
             AND identity_hash <> ? AND verification_id <> ? ORDER BY created_at DESC LIMIT ?",
        );
        let mut out = Vec::new();
        for value in &hashes.values {
            let rows = sqlx::query(&q)
                .bind(org)
                .bind(value.kind)
                .bind(&value.value_hash)
                .bind(&hashes.identity_hash)
                .bind(verification)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
            let ids = rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<Vec<_>, _>>()?;
            if !ids.is_empty() {
                out.push((value.kind, ids));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// The keyed hash of a verification's claimed identity, and its organisation.
    pub async fn identity_of(&self, verification: &str) -> Result<Option<(String, String)>, StorageError> {
        let q = self.sql("SELECT identity_hash, org_id FROM claim_hashes WHERE verification_id = ? LIMIT 1");
        let row = sqlx::query(&q).bind(verification).fetch_optional(&self.pool).await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
