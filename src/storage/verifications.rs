//! Verifications: creation, lookup, listing, and the candidate steps as compare-and-set
//! updates (a step applies only from the expected status and with the current token).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::crypto::aead::{SealError, Sealer};
use crate::domain::claims::RawClaims;
use crate::domain::time::Timestamp;
use crate::domain::verification::Status;

pub(super) const COLUMNS: &str = "id, org_id, external_id, status, claims, callback_url, idempotency_key, request_digest, \
                       token_expires_at, consent_version, consent_at, decision, reasons, results, created_at, updated_at, sealed_link, \
                       risk_score, risk";

#[derive(Debug, Clone)]
pub struct NewVerification {
    pub id: String,
    pub org_id: String,
    pub external_id: String,
    pub sealed_claims: Vec<u8>,
    pub callback_url: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_digest: Option<String>,
    pub token_digest: String,
    pub token_expires_at: Timestamp,
    /// The first candidate link, sealed, so an idempotent replay can answer the same.
    pub sealed_link: Vec<u8>,
    /// The claims-only risk (score, JSON), when it could be assessed.
    pub risk: Option<(u8, String)>,
    /// Keyed hashes of the phone, the e-mail and the identity (for reuse look-ups).
    pub claim_hashes: super::ClaimHashes,
    pub now: Timestamp,
}

#[derive(Debug, Clone)]
pub struct VerificationRecord {
    pub id: String,
    pub org_id: String,
    pub external_id: String,
    pub status: Status,
    pub sealed_claims: Vec<u8>,
    pub callback_url: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_digest: Option<String>,
    pub token_expires_at: Timestamp,
    pub consent_version: Option<String>,
    pub consent_at: Option<Timestamp>,
    pub decision: Option<String>,
    /// JSON array of reason codes.
    pub reasons: String,
    /// JSON object of per-stage results (no raw biometrics).
    pub results: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub sealed_link: Vec<u8>,
    pub risk_score: Option<i64>,
    /// The risk stage's latest result, JSON.
    pub risk: Option<String>,
}

/// Why a verification's sealed claims could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    #[error("sealed claims")]
    Seal(#[from] SealError),
    #[error("the stored claims are unreadable")]
    Json,
}

impl VerificationRecord {
    /// The candidate's claims, opened from their sealed form.
    pub fn open_claims(&self, sealer: &Sealer) -> Result<RawClaims, ClaimsError> {
        let raw = sealer.open(&self.sealed_claims, &format!("claims:{}", self.id))?;
        serde_json::from_slice(&raw).map_err(|_| ClaimsError::Json)
    }
}

/// A candidate step as a compare-and-set: from `from` with the `presented` token digest to
/// `to` with the `next` one.
#[derive(Debug, Clone, Copy)]
pub struct StepChange<'a> {
    pub id: &'a str,
    pub from: Status,
    pub to: Status,
    pub presented: &'a str,
    pub next: &'a str,
}

/// Filters for listing an organisation's verifications, newest first.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    /// Only those whose risk score is above this.
    pub risk_above: Option<u8>,
    pub external_id: Option<String>,
    pub created_from: Option<Timestamp>,
    pub created_to: Option<Timestamp>,
    /// Continue after this (created_at, id).
    pub after: Option<(Timestamp, String)>,
    pub limit: u32,
}

pub(super) fn record(row: &AnyRow) -> Result<VerificationRecord, StorageError> {
    let status: String = row.try_get(3)?;
    Ok(VerificationRecord {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        external_id: row.try_get(2)?,
        status: status.parse().map_err(|()| StorageError::Corrupt("unknown status"))?,
        sealed_claims: row.try_get(4)?,
        callback_url: row.try_get(5)?,
        idempotency_key: row.try_get(6)?,
        request_digest: row.try_get(7)?,
        token_expires_at: Timestamp::from_millis(row.try_get(8)?),
        consent_version: row.try_get(9)?,
        consent_at: row.try_get::<Option<i64>, _>(10)?.map(Timestamp::from_millis),
        decision: row.try_get(11)?,
        reasons: row.try_get(12)?,
        results: row.try_get(13)?,
        created_at: Timestamp::from_millis(row.try_get(14)?),
        updated_at: Timestamp::from_millis(row.try_get(15)?),
        sealed_link: row.try_get(16)?,
        risk_score: row.try_get(17)?,
        risk: row.try_get(18)?,
    })
}

impl Store {
    /// Inserts a verification with its audit event.
    pub async fn insert_verification(&self, v: &NewVerification, event: &NewEvent) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        let q = self.sql(
            "INSERT INTO verifications (id, org_id, external_id, status, claims, callback_url, idempotency_key, request_digest, \
             token_digest, token_expires_at, sealed_link, created_at, updated_at, risk_score, risk) \
             VALUES (?, ?, ?, 'created', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(&v.id)
            .bind(&v.org_id)
            .bind(&v.external_id)
            .bind(v.sealed_claims.clone())
            .bind(v.callback_url.clone())
            .bind(v.idempotency_key.clone())
            .bind(v.request_digest.clone())
            .bind(&v.token_digest)
            .bind(v.token_expires_at.millis())
            .bind(v.sealed_link.clone())
            .bind(v.now.millis())
            .bind(v.now.millis())
            .bind(v.risk.as_ref().map(|(score, _)| i64::from(*score)))
            .bind(v.risk.as_ref().map(|(_, json)| json.clone()))
            .execute(&mut *tx)
            .await?;
        self.insert_claim_hashes(&mut tx, &v.id, &v.org_id, &v.claim_hashes, v.now).await?;
        if v.risk.is_some() {
            self.queue_webhook_of(&mut tx, &v.id, Status::Created, "verification.risk_scored", v.now).await?;
        }
        self.append_audit(&mut tx, event, v.now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_verification(&self, id: &str) -> Result<Option<VerificationRecord>, StorageError> {
        let q = self.sql(&format!("SELECT {COLUMNS} FROM verifications WHERE id = ?")).into_owned();
        sqlx::query(&q).bind(id).fetch_optional(&self.pool).await?.as_ref().map(record).transpose()
    }

    pub async fn find_idempotent(&self, org_id: &str, key: &str) -> Result<Option<VerificationRecord>, StorageError> {
        let q = self
            .sql(&format!("SELECT {COLUMNS} FROM verifications WHERE org_id = ? AND idempotency_key = ?"))
            .into_owned();
        sqlx::query(&q).bind(org_id).bind(key).fetch_optional(&self.pool).await?.as_ref().map(record).transpose()
    }

    /// The id of an organisation's newest verification of a candidate (by `external_id`).
    pub async fn latest_verification_of(
        &self,
        org_id: &str,
        external_id: &str,
    ) -> Result<Option<String>, StorageError> {
        let q = self.sql(
            "SELECT id FROM verifications WHERE org_id = ? AND external_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        );
        let row = sqlx::query(&q).bind(org_id).bind(external_id).fetch_optional(&self.pool).await?;
        row.map(|r| r.try_get(0)).transpose().map_err(Into::into)
    }

    /// The verification a candidate token (digest) currently opens.
    pub async fn find_by_token(&self, digest: &str) -> Result<Option<VerificationRecord>, StorageError> {
        let q = self.sql(&format!("SELECT {COLUMNS} FROM verifications WHERE token_digest = ?")).into_owned();
        sqlx::query(&q).bind(digest).fetch_optional(&self.pool).await?.as_ref().map(record).transpose()
    }

    pub async fn list_verifications(
        &self,
        org_id: &str,
        f: &ListFilter,
    ) -> Result<Vec<VerificationRecord>, StorageError> {
        let mut sql = format!("SELECT {COLUMNS} FROM verifications WHERE org_id = ?");
        if f.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if f.external_id.is_some() {
            sql.push_str(" AND external_id = ?");
        }
        if f.risk_above.is_some() {
            sql.push_str(" AND risk_score > ?");
        }
        if f.created_from.is_some() {
            sql.push_str(" AND created_at >= ?");
        }
        if f.created_to.is_some() {
            sql.push_str(" AND created_at < ?");
        }
        if f.after.is_some() {
            sql.push_str(" AND (created_at < ? OR (created_at = ? AND id < ?))");
        }
        sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT ?");
        let sql = self.sql(&sql).into_owned();
        let mut query = sqlx::query(&sql).bind(org_id);
        if let Some(s) = f.status {
            query = query.bind(s.as_str());
        }
        if let Some(e) = &f.external_id {
            query = query.bind(e.clone());
        }
        if let Some(r) = f.risk_above {
            query = query.bind(i64::from(r));
        }
        if let Some(t) = f.created_from {
            query = query.bind(t.millis());
        }
        if let Some(t) = f.created_to {
            query = query.bind(t.millis());
        }
        if let Some((t, id)) = &f.after {
            query = query.bind(t.millis()).bind(t.millis()).bind(id.clone());
        }
        let rows = query.bind(i64::from(f.limit)).fetch_all(&self.pool).await?;
        rows.iter().map(record).collect()
    }

    /// Applies a candidate step: moves `step.id` from `from` to `to` and replaces the token
    /// digest, only if the status and the presented token are still current. False when they
    /// are not (a replayed token or a concurrent step). The status-change webhook and the
    /// audit event are written in the same transaction.
    pub async fn advance(
        &self,
        step: StepChange<'_>,
        consent: Option<(&str, Timestamp)>,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let Some(mut tx) = self.begin_step(step, consent, now).await? else { return Ok(false) };
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records an upload and applies its step in one transaction (nothing is written when
    /// the step is refused).
    pub async fn record_upload(
        &self,
        step: StepChange<'_>,
        media: &super::MediaRecord,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let Some(mut tx) = self.begin_step(step, None, now).await? else { return Ok(false) };
        self.put_media(&mut tx, step.id, media, now).await?;
        self.append_audit(&mut tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Opens a transaction and applies `step` in it: the transaction to continue with, or
    /// `None` (rolled back) when the step was refused.
    pub(crate) async fn begin_step(
        &self,
        step: StepChange<'_>,
        consent: Option<(&str, Timestamp)>,
        now: Timestamp,
    ) -> Result<Option<sqlx::Transaction<'static, sqlx::Any>>, StorageError> {
        let mut tx = self.pool.begin().await?;
        if self.apply_step(&mut tx, step, consent, now).await? {
            Ok(Some(tx))
        } else {
            tx.rollback().await?;
            Ok(None)
        }
    }

    /// The compare-and-set of a step inside `tx` (plus its webhook when the status changes).
    pub(crate) async fn apply_step(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        step: StepChange<'_>,
        consent: Option<(&str, Timestamp)>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let (version, at) = consent.map_or((None, None), |(v, t)| (Some(v.to_owned()), Some(t.millis())));
        let q = self.sql(
            "UPDATE verifications SET status = ?, token_digest = ?, consent_version = COALESCE(?, consent_version), \
             consent_at = COALESCE(?, consent_at), updated_at = ? WHERE id = ? AND status = ? AND token_digest = ?",
        );
        let done = sqlx::query(&q)
            .bind(step.to.as_str())
            .bind(step.next)
            .bind(version)
            .bind(at)
            .bind(now.millis())
            .bind(step.id)
            .bind(step.from.as_str())
            .bind(step.presented)
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if step.from != step.to {
            self.queue_webhook(tx, step.id, step.to, now).await?;
        }
        Ok(true)
    }
}
