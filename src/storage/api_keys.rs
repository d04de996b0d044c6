//! Organisations and their API keys: created, listed and revoked by admins (audited), with
//! an optional expiry.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;

/// A stored API key (hash only).
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub prefix: String,
    pub hash: String,
    pub org_id: String,
    pub role: String,
    pub revoked: bool,
    pub expires_at: Option<Timestamp>,
}

/// What an admin sees of a key (never its hash).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiKeyInfo {
    pub prefix: String,
    pub role: String,
    pub label: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Who created it (`key:idg_…`, `operator`).
    pub created_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKeyRow<'a> {
    pub prefix: &'a str,
    pub hash: &'a str,
    pub org_id: &'a str,
    pub role: &'a str,
    pub label: Option<&'a str>,
    pub expires_at: Option<Timestamp>,
    pub created_by: &'a str,
}

fn millis(row: &AnyRow, i: usize) -> Result<Option<Timestamp>, StorageError> {
    Ok(row.try_get::<Option<i64>, _>(i)?.map(Timestamp::from_millis))
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

    /// Inserts a key without an audit event (test set-up).
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

    /// Inserts a key with its audit event (`api_key.created`).
    pub async fn create_api_key(
        &self,
        k: &NewApiKeyRow<'_>,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "INSERT INTO api_keys (prefix, hash, org_id, role, created_at, label, expires_at, created_by) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(k.prefix)
            .bind(k.hash)
            .bind(k.org_id)
            .bind(k.role)
            .bind(now.millis())
            .bind(k.label.map(str::to_owned))
            .bind(k.expires_at.map(Timestamp::millis))
            .bind(k.created_by)
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn find_api_key(&self, prefix: &str) -> Result<Option<ApiKeyRecord>, StorageError> {
        let q = self.sql("SELECT prefix, hash, org_id, role, revoked_at, expires_at FROM api_keys WHERE prefix = ?");
        let Some(row) = sqlx::query(&q).bind(prefix).fetch_optional(&self.pool).await? else { return Ok(None) };
        Ok(Some(ApiKeyRecord {
            prefix: row.try_get(0)?,
            hash: row.try_get(1)?,
            org_id: row.try_get(2)?,
            role: row.try_get(3)?,
            revoked: row.try_get::<Option<i64>, _>(4)?.is_some(),
            expires_at: millis(&row, 5)?,
        }))
    }

    /// The organisation's keys, newest first.
    pub async fn api_keys_of(&self, org_id: &str) -> Result<Vec<ApiKeyInfo>, StorageError> {
        let q = self.sql(
            "SELECT prefix, role, label, created_at, created_by, expires_at, revoked_at FROM api_keys \
             WHERE org_id = ? ORDER BY created_at DESC, prefix",
        );
        let rows = sqlx::query(&q).bind(org_id).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ApiKeyInfo {
                    prefix: r.try_get(0)?,
                    role: r.try_get(1)?,
                    label: r.try_get(2)?,
                    created_at: Timestamp::from_millis(r.try_get(3)?),
                    created_by: r.try_get(4)?,
                    expires_at: millis(r, 5)?,
                    revoked_at: millis(r, 6)?,
                })
            })
            .collect()
    }

    /// Revokes an organisation's key with its audit event; false when there is no such
    /// unrevoked key.
    pub async fn revoke_api_key(
        &self,
        org_id: &str,
        prefix: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql("UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND prefix = ? AND revoked_at IS NULL");
        let done = sqlx::query(&q).bind(now.millis()).bind(org_id).bind(prefix).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the organisation's sealed webhook secret, with its audit event.
    pub async fn rotate_webhook_secret(
        &self,
        org_id: &str,
        sealed_secret: &[u8],
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql("UPDATE organisations SET webhook_secret = ? WHERE id = ?");
        let done = sqlx::query(&q).bind(sealed_secret.to_vec()).bind(org_id).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
