//! Organisations and their API keys.

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

/// A stored API key (hash only).
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub prefix: String,
    pub hash: String,
    pub org_id: String,
    pub role: String,
    pub revoked: bool,
}

impl Store {
    /// Creates the organisation with its sealed webhook secret unless it exists; true when
    /// it was created.
    pub async fn ensure_organisation(
        &self,
        org_id: &str,
        sealed_secret: &[u8],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let q = self.sql(
            "INSERT INTO organisations (id, webhook_secret, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
        );
        let done =
            sqlx::query(&q).bind(org_id).bind(sealed_secret.to_vec()).bind(now.millis()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// The organisation's sealed webhook secret.
    pub async fn webhook_secret(&self, org_id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let q = self.sql("SELECT webhook_secret FROM organisations WHERE id = ?");
        let row = sqlx::query(&q).bind(org_id).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get::<Vec<u8>, _>(0)).transpose()?)
    }

    pub async fn insert_api_key(
        &self,
        prefix: &str,
        hash: &str,
        org_id: &str,
        role: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql("INSERT INTO api_keys (prefix, hash, org_id, role, created_at) VALUES (?, ?, ?, ?, ?)");
        sqlx::query(&q).bind(prefix).bind(hash).bind(org_id).bind(role).bind(now.millis()).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn find_api_key(&self, prefix: &str) -> Result<Option<ApiKeyRecord>, StorageError> {
        let q = self.sql("SELECT prefix, hash, org_id, role, revoked_at FROM api_keys WHERE prefix = ?");
        let Some(row) = sqlx::query(&q).bind(prefix).fetch_optional(&self.pool).await? else { return Ok(None) };
        Ok(Some(ApiKeyRecord {
            prefix: row.try_get(0)?,
            hash: row.try_get(1)?,
            org_id: row.try_get(2)?,
            role: row.try_get(3)?,
            revoked: row.try_get::<Option<i64>, _>(4)?.is_some(),
        }))
    }
}
