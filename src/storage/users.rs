//! People who use the console: reviewers, auditors and admins of an organisation, with an
//! argon2id password, a sealed TOTP secret, a lock after repeated failures, and sessions
//! kept by digest (the cookie's value is never stored).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::domain::time::Timestamp;

/// A console user.
#[derive(Clone)]
pub struct UserRecord {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub sealed_totp: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub failed_attempts: i64,
    pub locked_until: Option<Timestamp>,
    pub setup_expires_at: Option<Timestamp>,
    pub disabled: bool,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord").field("id", &self.id).field("role", &self.role).finish_non_exhaustive()
    }
}

/// A session, found by the digest of its cookie.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf: String,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

const USER_COLUMNS: &str = "u.id, u.org_id, u.email, u.role, u.password_hash, u.sealed_totp, u.totp_last_step, \
                            u.failed_attempts, u.locked_until, u.setup_expires_at, u.disabled_at";

fn user(row: &AnyRow) -> Result<UserRecord, StorageError> {
    let at = |i: usize| -> Result<Option<Timestamp>, StorageError> {
        Ok(row.try_get::<Option<i64>, _>(i)?.map(Timestamp::from_millis))
    };
    Ok(UserRecord {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        email: row.try_get(2)?,
        role: row.try_get(3)?,
        password_hash: row.try_get(4)?,
        sealed_totp: row.try_get(5)?,
        totp_last_step: row.try_get(6)?,
        failed_attempts: row.try_get(7)?,
        locked_until: at(8)?,
        setup_expires_at: at(9)?,
        disabled: row.try_get::<Option<i64>, _>(10)?.is_some(),
    })
}

impl Store {
    /// Creates a user waiting for set-up (the digest of a one-time set-up token), with its
    /// audit event. A unique violation means the e-mail is taken.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_user(
        &self,
        id: &str,
        org: &str,
        email: &str,
        role: &str,
        setup_digest: &str,
        setup_expires_at: Timestamp,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "INSERT INTO users (id, org_id, email, role, failed_attempts, setup_digest, setup_expires_at, created_at) \
             VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(id)
            .bind(org)
            .bind(email)
            .bind(role)
            .bind(setup_digest)
            .bind(setup_expires_at.millis())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StorageError> {
        let q = self.sql(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = ?")).into_owned();
        sqlx::query(&q).bind(email).fetch_optional(&self.pool).await?.as_ref().map(user).transpose()
    }

    /// The user a set-up token (digest) belongs to, while it is valid.
    pub async fn user_by_setup(&self, digest: &str, now: Timestamp) -> Result<Option<UserRecord>, StorageError> {
        let q = self
            .sql(&format!(
                "SELECT {USER_COLUMNS} FROM users u WHERE u.setup_digest = ? AND u.setup_expires_at > ? AND u.disabled_at IS NULL"
            ))
            .into_owned();
        sqlx::query(&q).bind(digest).bind(now.millis()).fetch_optional(&self.pool).await?.as_ref().map(user).transpose()
    }

    /// Stores a TOTP secret offered during set-up (not yet confirmed).
    pub async fn offer_totp(&self, user_id: &str, sealed: &[u8]) -> Result<(), StorageError> {
        let q = self.sql("UPDATE users SET sealed_totp = ? WHERE id = ? AND setup_digest IS NOT NULL");
        sqlx::query(&q).bind(sealed.to_vec()).bind(user_id).execute(&self.pool).await?;
        Ok(())
    }

    /// Completes set-up: the password set, the set-up token spent, the TOTP step used.
    /// False when the token was spent meanwhile.
    pub async fn finish_setup(
        &self,
        user_id: &str,
        setup_digest: &str,
        password_hash: &str,
        step: i64,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "UPDATE users SET password_hash = ?, totp_last_step = ?, setup_digest = NULL, setup_expires_at = NULL, \
             failed_attempts = 0, locked_until = NULL WHERE id = ? AND setup_digest = ?",
        );
        let done =
            sqlx::query(&q).bind(password_hash).bind(step).bind(user_id).bind(setup_digest).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records a failed sign-in; locks the user until `lock_until` once `max` failures in a
    /// row are reached (with `lock_event` then). Returns whether it is now locked.
    pub async fn sign_in_failed(
        &self,
        user_id: &str,
        max: i64,
        lock_until: Timestamp,
        lock_event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q =
            self.sql("UPDATE users SET failed_attempts = failed_attempts + 1 WHERE id = ? RETURNING failed_attempts");
        let failures: i64 = sqlx::query(&q).bind(user_id).fetch_one(&mut *tx).await?.try_get(0)?;
        let locked = failures >= max;
        if locked {
            let q = self.sql("UPDATE users SET locked_until = ?, failed_attempts = 0 WHERE id = ?");
            sqlx::query(&q).bind(lock_until.millis()).bind(user_id).execute(&mut *tx).await?;
            self.append_audit(&mut tx, lock_event, now).await?;
        }
        tx.commit().await?;
        Ok(locked)
    }

    /// Opens a session after a successful sign-in: the TOTP step recorded (compare-and-set:
    /// a code is used once), failures reset. False when the step was used meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn open_session(
        &self,
        user_id: &str,
        step: i64,
        digest: &str,
        csrf: &str,
        expires_at: Timestamp,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "UPDATE users SET totp_last_step = ?, failed_attempts = 0, locked_until = NULL \
             WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
        );
        let done = sqlx::query(&q).bind(step).bind(user_id).bind(step).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let q = self.sql(
            "INSERT INTO user_sessions (digest, user_id, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(digest)
            .bind(user_id)
            .bind(csrf)
            .bind(now.millis())
            .bind(now.millis())
            .bind(expires_at.millis())
            .execute(&mut *tx)
            .await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The live session with this digest (not revoked, not expired, idle less than `idle`
    /// ms), and its user (not disabled).
    pub async fn session(
        &self,
        digest: &str,
        now: Timestamp,
        idle_ms: i64,
    ) -> Result<Option<SessionRecord>, StorageError> {
        let q = self
            .sql(&format!(
                "SELECT {USER_COLUMNS}, s.csrf, s.last_seen_at, s.expires_at FROM user_sessions s \
                 JOIN users u ON u.id = s.user_id WHERE s.digest = ? AND s.revoked_at IS NULL AND s.expires_at > ? \
                 AND s.last_seen_at > ? AND u.disabled_at IS NULL"
            ))
            .into_owned();
        let row = sqlx::query(&q)
            .bind(digest)
            .bind(now.millis())
            .bind(now.millis().saturating_sub(idle_ms))
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionRecord {
            user: user(&row)?,
            csrf: row.try_get(11)?,
            last_seen_at: Timestamp::from_millis(row.try_get(12)?),
            expires_at: Timestamp::from_millis(row.try_get(13)?),
        }))
    }

    /// Marks a session as seen now (idle timeout).
    pub async fn touch_session(&self, digest: &str, now: Timestamp) -> Result<(), StorageError> {
        let q = self.sql("UPDATE user_sessions SET last_seen_at = ? WHERE digest = ?");
        sqlx::query(&q).bind(now.millis()).bind(digest).execute(&self.pool).await?;
        Ok(())
    }

    /// The organisation's users, oldest first.
    pub async fn users_of(&self, org: &str) -> Result<Vec<(UserRecord, Timestamp)>, StorageError> {
        let q = self
            .sql(&format!(
                "SELECT {USER_COLUMNS}, u.created_at FROM users u WHERE u.org_id = ? ORDER BY u.created_at, u.id"
            ))
            .into_owned();
        let rows = sqlx::query(&q).bind(org).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((user(r)?, Timestamp::from_millis(r.try_get(11)?)))).collect()
    }

    /// Disables an organisation's user and ends their sessions, with the audit event; false
    /// when there is no such enabled user.
    pub async fn disable_user(
        &self,
        org: &str,
        user_id: &str,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql("UPDATE users SET disabled_at = ? WHERE id = ? AND org_id = ? AND disabled_at IS NULL");
        let done = sqlx::query(&q).bind(now.millis()).bind(user_id).bind(org).execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let q = self.sql("UPDATE user_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL");
        sqlx::query(&q).bind(now.millis()).bind(user_id).execute(&mut *tx).await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a session (sign-out).
    pub async fn revoke_session(&self, digest: &str, event: &NewEvent, now: Timestamp) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql("UPDATE user_sessions SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL");
        let done = sqlx::query(&q).bind(now.millis()).bind(digest).execute(&mut *tx).await?;
        if done.rows_affected() == 1 {
            self.append_audit(&mut tx, event, now).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
