//! The audit log's tables: events appended inside the caller's transaction (so an action
//! and its record commit together), and the signed tree heads.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{StorageError, Store};
use crate::audit::event::NewEvent;
use crate::audit::merkle;
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: Timestamp,
    pub kind: String,
    pub org_id: Option<String>,
    pub verification_id: Option<String>,
    pub entry: String,
    pub leaf_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadRow {
    pub tree_size: i64,
    pub root_hash: String,
    pub signed_at: Timestamp,
    pub kid: String,
    pub signature: String,
    /// The log the head was signed for (None: a v1 head, signed before logs had ids).
    pub log_id: Option<String>,
}

/// Filters for reading events, in sequence order.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Events of this organisation plus the global ones (keys); `None`: all.
    pub org_id: Option<String>,
    pub verification_id: Option<String>,
    pub kind: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Events with a larger sequence number.
    pub after: Option<i64>,
    /// Events whose canonical entry contains each of these (exact) fragments, such as
    /// `"user":"…"` or `"decision":"reject"`.
    pub entry_contains: Vec<String>,
    pub limit: u32,
}

const EVENT_COLUMNS: &str = "seq, at, kind, org_id, verification_id, entry, leaf_hash";

fn event(row: &AnyRow) -> Result<AuditRow, StorageError> {
    Ok(AuditRow {
        seq: row.try_get(0)?,
        at: Timestamp::from_millis(row.try_get(1)?),
        kind: row.try_get(2)?,
        org_id: row.try_get(3)?,
        verification_id: row.try_get(4)?,
        entry: row.try_get(5)?,
        leaf_hash: row.try_get(6)?,
    })
}

fn head(row: &AnyRow) -> Result<HeadRow, StorageError> {
    Ok(HeadRow {
        tree_size: row.try_get(0)?,
        root_hash: row.try_get(1)?,
        signed_at: Timestamp::from_millis(row.try_get(2)?),
        kid: row.try_get(3)?,
        signature: row.try_get(4)?,
        log_id: row.try_get(5)?,
    })
}

impl Store {
    /// Appends `event` in `tx` and returns its sequence number. The counter row is updated
    /// first: it serialises appenders (row lock on PostgreSQL, the write lock on SQLite), so
    /// committed events always form a gap-free prefix.
    pub async fn append_audit(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let row = sqlx::query("UPDATE audit_state SET size = size + 1 WHERE id = 1 RETURNING size")
            .fetch_one(&mut **tx)
            .await?;
        let size: i64 = row.try_get(0)?;
        let seq = u64::try_from(size - 1).map_err(|_| StorageError::Corrupt("audit size"))?;
        let entry = event.entry(seq, now).map_err(|_| StorageError::Corrupt("audit entry"))?;
        let leaf = hex::encode(merkle::leaf_hash(entry.as_bytes()));
        let q = self.sql(
            "INSERT INTO audit_events (seq, at, kind, org_id, verification_id, entry, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(size - 1)
            .bind(now.millis())
            .bind(event.kind.as_str())
            .bind(event.org_id.clone())
            .bind(event.verification_id.clone())
            .bind(entry)
            .bind(leaf)
            .execute(&mut **tx)
            .await?;
        Ok(seq)
    }

    /// Appends events in a transaction of their own.
    pub async fn append_audit_now(&self, events: &[NewEvent], now: Timestamp) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        for e in events {
            self.append_audit(&mut tx, e, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn audit_events(&self, f: &EventFilter) -> Result<Vec<AuditRow>, StorageError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE 1 = 1");
        if f.org_id.is_some() {
            sql.push_str(" AND (org_id = ? OR org_id IS NULL)");
        }
        if f.verification_id.is_some() {
            sql.push_str(" AND verification_id = ?");
        }
        if f.kind.is_some() {
            sql.push_str(" AND kind = ?");
        }
        if f.from.is_some() {
            sql.push_str(" AND at >= ?");
        }
        if f.to.is_some() {
            sql.push_str(" AND at < ?");
        }
        if f.after.is_some() {
            sql.push_str(" AND seq > ?");
        }
        let find = match self.backend {
            super::Backend::Sqlite => " AND instr(entry, ?) > 0",
            super::Backend::Postgres => " AND strpos(entry, ?) > 0",
        };
        for _ in &f.entry_contains {
            sql.push_str(find);
        }
        sql.push_str(" ORDER BY seq LIMIT ?");
        let sql = self.sql(&sql).into_owned();
        let mut q = sqlx::query(&sql);
        if let Some(v) = &f.org_id {
            q = q.bind(v.clone());
        }
        if let Some(v) = &f.verification_id {
            q = q.bind(v.clone());
        }
        if let Some(v) = &f.kind {
            q = q.bind(v.clone());
        }
        if let Some(v) = f.from {
            q = q.bind(v.millis());
        }
        if let Some(v) = f.to {
            q = q.bind(v.millis());
        }
        if let Some(v) = f.after {
            q = q.bind(v);
        }
        for fragment in &f.entry_contains {
            q = q.bind(fragment.clone());
        }
        let rows = q.bind(i64::from(f.limit)).fetch_all(&self.pool).await?;
        rows.iter().map(event).collect()
    }

    /// Every event from `from_seq` on, in order (for the verifier and the proof cache).
    pub async fn audit_range(&self, from_seq: i64, limit: i64) -> Result<Vec<AuditRow>, StorageError> {
        let q = self
            .sql(&format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?"))
            .into_owned();
        let rows = sqlx::query(&q).bind(from_seq).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(event).collect()
    }

    /// How many `kind` uploads (`media.uploaded`) a verification had since its last retake
    /// request (a reviewer's retake starts the count again).
    pub async fn uploads_since_retake(&self, verification: &str, kind: &str) -> Result<u32, StorageError> {
        let q = self.sql(
            "SELECT kind, entry FROM audit_events WHERE verification_id = ? \
             AND kind IN ('media.uploaded', 'verification.retake_requested') ORDER BY seq",
        );
        let rows = sqlx::query(&q).bind(verification).fetch_all(&self.pool).await?;
        let mut count = 0u32;
        for row in &rows {
            let event: String = row.try_get(0)?;
            if event == "verification.retake_requested" {
                count = 0;
                continue;
            }
            let entry: String = row.try_get(1)?;
            let parsed: serde_json::Value = serde_json::from_str(&entry).unwrap_or_default();
            if parsed.pointer("/data/kind").and_then(serde_json::Value::as_str) == Some(kind) {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The log's id, made (a random UUID) the first time it is asked for.
    pub async fn audit_log_id(&self) -> Result<String, StorageError> {
        if let Some(id) = self.existing_audit_log_id().await? {
            return Ok(id);
        }
        let q = self.sql("UPDATE audit_state SET log_id = ? WHERE id = 1 AND log_id IS NULL");
        sqlx::query(&q).bind(uuid::Uuid::new_v4().to_string()).execute(&self.pool).await?;
        self.existing_audit_log_id().await?.ok_or(StorageError::Corrupt("the audit log id was not kept"))
    }

    /// The log's id, if it has one yet.
    pub async fn existing_audit_log_id(&self) -> Result<Option<String>, StorageError> {
        let row = sqlx::query("SELECT log_id FROM audit_state WHERE id = 1").fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// The log's size as its counter says.
    pub async fn audit_size(&self) -> Result<i64, StorageError> {
        let row = sqlx::query("SELECT size FROM audit_state WHERE id = 1").fetch_one(&self.pool).await?;
        Ok(row.try_get(0)?)
    }

    /// Stores a signed head; false when one for that size exists already.
    pub async fn insert_head(&self, h: &HeadRow) -> Result<bool, StorageError> {
        let q = self.sql(
            "INSERT INTO audit_heads (tree_size, root_hash, signed_at, kid, signature, log_id) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (tree_size) DO NOTHING",
        );
        let done = sqlx::query(&q)
            .bind(h.tree_size)
            .bind(&h.root_hash)
            .bind(h.signed_at.millis())
            .bind(&h.kid)
            .bind(&h.signature)
            .bind(h.log_id.clone())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn latest_head(&self) -> Result<Option<HeadRow>, StorageError> {
        let row = sqlx::query(
            "SELECT tree_size, root_hash, signed_at, kid, signature, log_id FROM audit_heads ORDER BY tree_size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(head).transpose()
    }

    pub async fn head_of_size(&self, size: i64) -> Result<Option<HeadRow>, StorageError> {
        let q = self
            .sql("SELECT tree_size, root_hash, signed_at, kid, signature, log_id FROM audit_heads WHERE tree_size = ?");
        sqlx::query(&q).bind(size).fetch_optional(&self.pool).await?.as_ref().map(head).transpose()
    }

    /// Up to `limit` heads of a size above `after`, smallest first.
    pub async fn heads_after(&self, after: i64, limit: i64) -> Result<Vec<HeadRow>, StorageError> {
        let q = self.sql(
            "SELECT tree_size, root_hash, signed_at, kid, signature, log_id FROM audit_heads WHERE tree_size > ? \
             ORDER BY tree_size LIMIT ?",
        );
        let rows = sqlx::query(&q).bind(after).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(head).collect()
    }

    pub async fn heads(&self) -> Result<Vec<HeadRow>, StorageError> {
        let rows = sqlx::query(
            "SELECT tree_size, root_hash, signed_at, kid, signature, log_id FROM audit_heads ORDER BY tree_size",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(head).collect()
    }
}
