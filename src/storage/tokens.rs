//! Issued verification tokens: who they are for, which key signed them, until when, and
//! whether (and why, and by whom) they were revoked. The token itself is sealed (it holds
//! the candidate's name and birth date).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;

#[derive(Clone)]
pub struct NewToken {
    pub jti: String,
    pub verification_id: String,
    pub org_id: String,
    pub kid: String,
    pub txn: String,
    pub sealed_token: Vec<u8>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("jti", &self.jti).field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct TokenRecord {
    pub jti: String,
    pub verification_id: String,
    pub org_id: String,
    /// The HR system's candidate id of the verification.
    pub external_id: String,
    pub kid: String,
    pub txn: String,
    pub sealed_token: Vec<u8>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("jti", &self.jti)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "t.jti, t.verification_id, t.org_id, v.external_id, t.kid, t.txn, t.sealed_token, t.issued_at, \
                       t.expires_at, t.revoked_at, t.revoked_reason";

fn token(row: &AnyRow) -> Result<TokenRecord, StorageError> {
    Ok(TokenRecord {
        jti: row.try_get(0)?,
        verification_id: row.try_get(1)?,
        org_id: row.try_get(2)?,
        external_id: row.try_get(3)?,
        kid: row.try_get(4)?,
        txn: row.try_get(5)?,
        sealed_token: row.try_get(6)?,
        issued_at: Timestamp::from_millis(row.try_get(7)?),
        expires_at: Timestamp::from_millis(row.try_get(8)?),
        revoked_at: row.try_get::<Option<i64>, _>(9)?.map(Timestamp::from_millis),
        revoked_reason: row.try_get(10)?,
    })
}

impl Store {
    pub(crate) async fn insert_token(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        t: &NewToken,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO tokens (jti, verification_id, org_id, kid, txn, sealed_token, issued_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(&t.jti)
            .bind(&t.verification_id)
            .bind(&t.org_id)
            .bind(&t.kid)
            .bind(&t.txn)
            .bind(t.sealed_token.clone())
            .bind(t.issued_at.millis())
            .bind(t.expires_at.millis())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn token(&self, jti: &str) -> Result<Option<TokenRecord>, StorageError> {
        let q = self
            .sql(&format!(
                "SELECT {COLUMNS} FROM tokens t JOIN verifications v ON v.id = t.verification_id WHERE t.jti = ?"
            ))
            .into_owned();
        sqlx::query(&q).bind(jti).fetch_optional(&self.pool).await?.as_ref().map(token).transpose()
    }

    /// The newest token of a verification.
    pub async fn token_of(&self, verification: &str) -> Result<Option<TokenRecord>, StorageError> {
        let q = self
            .sql(&format!(
                "SELECT {COLUMNS} FROM tokens t JOIN verifications v ON v.id = t.verification_id \
                 WHERE t.verification_id = ? ORDER BY t.issued_at DESC LIMIT 1"
            ))
            .into_owned();
        sqlx::query(&q).bind(verification).fetch_optional(&self.pool).await?.as_ref().map(token).transpose()
    }

    /// Revokes a token with its audit event. False when it was revoked already.
    pub async fn revoke_token(
        &self,
        jti: &str,
        reason: &str,
        by: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "UPDATE tokens SET revoked_at = ?, revoked_reason = ?, revoked_by = ? WHERE jti = ? AND revoked_at IS NULL",
        );
        let done = sqlx::query(&q).bind(now.millis()).bind(reason).bind(by).bind(jti).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// (jti, reason) of the tokens revoked at or after `since`.
    pub async fn revoked_since(&self, since: Timestamp) -> Result<Vec<(String, String)>, StorageError> {
        let q = self.sql("SELECT jti, revoked_reason FROM tokens WHERE revoked_at >= ?");
        let rows = sqlx::query(&q).bind(since.millis()).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get::<Option<String>, _>(1)?.unwrap_or_default()))).collect()
    }

    /// The latest expiry of the tokens a key signed.
    pub async fn last_expiry_of_key(&self, kid: &str) -> Result<Option<Timestamp>, StorageError> {
        let q = self.sql("SELECT MAX(expires_at) FROM tokens WHERE kid = ?");
        let row = sqlx::query(&q).bind(kid).fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(Timestamp::from_millis))
    }
}
