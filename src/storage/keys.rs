//! Signing keys (token and audit): the public JWK in clear, the private key sealed.
//! Activation retires the previous signer in the same transaction, with its audit event.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    Token,
    Audit,
}

impl KeyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Audit => "audit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet (so verifiers' caches learn it before it signs).
    Pending,
    Active,
    /// No longer signs; published until `publish_until`.
    Retired,
    /// Revoked in an emergency: unpublished, and every token it signed is revoked.
    Compromised,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Retired => "retired",
            Self::Compromised => "compromised",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Retired, Self::Compromised].into_iter().find(|s| s.as_str() == raw)
    }
}

#[derive(Clone)]
pub struct KeyRecord {
    pub kid: String,
    pub purpose: String,
    pub alg: String,
    pub public_jwk: String,
    pub sealed_private: Vec<u8>,
    pub state: KeyState,
    pub created_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub retired_at: Option<Timestamp>,
    pub publish_until: Option<Timestamp>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord").field("kid", &self.kid).field("state", &self.state).finish_non_exhaustive()
    }
}

const COLUMNS: &str =
    "kid, purpose, alg, public_jwk, sealed_private, state, created_at, activated_at, retired_at, publish_until";

fn key(row: &AnyRow) -> Result<KeyRecord, StorageError> {
    let state: String = row.try_get(5)?;
    let at = |i: usize| -> Result<Option<Timestamp>, StorageError> {
        Ok(row.try_get::<Option<i64>, _>(i)?.map(Timestamp::from_millis))
    };
    Ok(KeyRecord {
        kid: row.try_get(0)?,
        purpose: row.try_get(1)?,
        alg: row.try_get(2)?,
        public_jwk: row.try_get(3)?,
        sealed_private: row.try_get(4)?,
        state: KeyState::parse(&state).ok_or(StorageError::Corrupt("unknown key state"))?,
        created_at: Timestamp::from_millis(row.try_get(6)?),
        activated_at: at(7)?,
        retired_at: at(8)?,
        publish_until: at(9)?,
    })
}

impl Store {
    /// Inserts a pending key with its audit event.
    pub async fn insert_key(&self, k: &KeyRecord, event: &NewEvent) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self
            .sql(&format!("INSERT INTO signing_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
            .into_owned();
        sqlx::query(&q)
            .bind(&k.kid)
            .bind(&k.purpose)
            .bind(&k.alg)
            .bind(&k.public_jwk)
            .bind(k.sealed_private.clone())
            .bind(KeyState::Pending.as_str())
            .bind(k.created_at.millis())
            .bind(None::<i64>)
            .bind(None::<i64>)
            .bind(None::<i64>)
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, event, k.created_at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes `kid` the signer of its purpose. The current signer (if any) is retired and
    /// stays published until `publish_until(old kid)`. False when `kid` is not pending.
    pub async fn activate_key(
        &self,
        purpose: KeyPurpose,
        kid: &str,
        retired_publish_until: Timestamp,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "UPDATE signing_keys SET state = 'retired', retired_at = ?, publish_until = ? WHERE purpose = ? AND state = 'active'",
        );
        sqlx::query(&q)
            .bind(now.millis())
            .bind(retired_publish_until.millis())
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
        let q = self.sql(
            "UPDATE signing_keys SET state = 'active', activated_at = ? WHERE kid = ? AND purpose = ? AND state = 'pending'",
        );
        let done = sqlx::query(&q).bind(now.millis()).bind(kid).bind(purpose.as_str()).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a token key compromised (unpublished at once) and revokes every token it signed,
    /// with the audit event, in one transaction. `None` when no such key or already
    /// compromised; else the number of tokens revoked.
    pub async fn compromise_key(
        &self,
        kid: &str,
        by: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<Option<u64>, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "UPDATE signing_keys SET state = 'compromised', retired_at = COALESCE(retired_at, ?), publish_until = ? \
             WHERE kid = ? AND purpose = 'token' AND state <> 'compromised'",
        );
        let done = sqlx::query(&q).bind(now.millis()).bind(now.millis()).bind(kid).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let q = self.sql(
            "UPDATE tokens SET revoked_at = ?, revoked_reason = 'signing_key_compromised', revoked_by = ? \
             WHERE kid = ? AND revoked_at IS NULL",
        );
        let revoked = sqlx::query(&q).bind(now.millis()).bind(by).bind(kid).execute(&mut *tx).await?.rows_affected();
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(Some(revoked))
    }

    /// Every key of `purpose`, newest first.
    pub async fn keys(&self, purpose: KeyPurpose) -> Result<Vec<KeyRecord>, StorageError> {
        let q = self
            .sql(&format!("SELECT {COLUMNS} FROM signing_keys WHERE purpose = ? ORDER BY created_at DESC, kid"))
            .into_owned();
        let rows = sqlx::query(&q).bind(purpose.as_str()).fetch_all(&self.pool).await?;
        rows.iter().map(key).collect()
    }

    pub async fn active_key(&self, purpose: KeyPurpose) -> Result<Option<KeyRecord>, StorageError> {
        let q = self
            .sql(&format!("SELECT {COLUMNS} FROM signing_keys WHERE purpose = ? AND state = 'active'"))
            .into_owned();
        sqlx::query(&q).bind(purpose.as_str()).fetch_optional(&self.pool).await?.as_ref().map(key).transpose()
    }
}
