//! Records of stored media (the bytes themselves are in the object store, sealed).

use sqlx::Row;

use super::{StorageError, Store};
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MediaRecord {
    pub kind: String,
    #[serde(skip)]
    pub object_key: String,
    pub sha256: String,
    pub size: i64,
    pub format: String,
}

impl Store {
    /// Records (or replaces, for a retaken photo) the media of one kind.
    pub async fn put_media(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        verification: &str,
        media: &MediaRecord,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let q = self.sql(
            "INSERT INTO media (verification_id, kind, object_key, sha256, size, format, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (verification_id, kind) DO UPDATE SET object_key = excluded.object_key, sha256 = excluded.sha256, \
             size = excluded.size, format = excluded.format, created_at = excluded.created_at",
        );
        sqlx::query(&q)
            .bind(verification)
            .bind(&media.kind)
            .bind(&media.object_key)
            .bind(&media.sha256)
            .bind(media.size)
            .bind(&media.format)
            .bind(now.millis())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    pub async fn media_of(&self, verification: &str) -> Result<Vec<MediaRecord>, StorageError> {
        let q = self
            .sql("SELECT kind, object_key, sha256, size, format FROM media WHERE verification_id = ? ORDER BY kind");
        let rows = sqlx::query(&q).bind(verification).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(MediaRecord {
                    kind: r.try_get(0)?,
                    object_key: r.try_get(1)?,
                    sha256: r.try_get(2)?,
                    size: r.try_get(3)?,
                    format: r.try_get(4)?,
                })
            })
            .collect()
    }
}
