//! Media bytes, sealed (AES-256-GCM, bound to verification and kind) and kept in an
//! `object_store`: the local filesystem by default.

use std::path::Path;
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use crate::crypto::aead::{SealError, Sealer};

#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    #[error("cannot prepare the media directory")]
    Io(#[from] std::io::Error),
    #[error("object store error")]
    Store(#[from] object_store::Error),
    #[error("media could not be sealed or opened")]
    Seal(#[from] SealError),
}

#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    sealer: Sealer,
}

impl MediaStore {
    /// A store under `dir` (created, owner-only).
    pub fn local(dir: &Path, sealer: Sealer) -> Result<Self, MediaStoreError> {
        std::fs::create_dir_all(dir)?;
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(Self { store: Arc::new(store), sealer })
    }

    /// An S3-compatible bucket, `s3://bucket/prefix`; credentials, region and endpoint come
    /// from the standard `AWS_*` variables (AWS_ENDPOINT for MinIO, Ceph, R2 …).
    pub fn s3(url: &str, sealer: Sealer) -> Result<Self, MediaStoreError> {
        let store = object_store::aws::AmazonS3Builder::from_env().with_url(url).build()?;
        let prefix = url::Url::parse(url).map(|u| u.path().trim_matches('/').to_owned()).unwrap_or_default();
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
        };
        Ok(Self { store, sealer })
    }

    /// Seals `bytes` for `context` and stores them at `key`.
    pub async fn put(&self, key: &str, context: &str, bytes: &[u8]) -> Result<(), MediaStoreError> {
        let sealed = self.sealer.seal(bytes, context)?;
        self.store.put(&ObjectPath::from(key), PutPayload::from(sealed)).await?;
        Ok(())
    }

    pub async fn get(&self, key: &str, context: &str) -> Result<Vec<u8>, MediaStoreError> {
        let sealed = self.store.get(&ObjectPath::from(key)).await?.bytes().await?;
        Ok(self.sealer.open(&sealed, context)?)
    }

    /// Deletes an object; one that is already gone is no error.
    pub async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object key under `prefix` (a verification's objects are under `<id>/`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, MediaStoreError> {
        use futures_util::TryStreamExt as _;
        let prefix = ObjectPath::from(prefix);
        let metas: Vec<object_store::ObjectMeta> = self.store.list(Some(&prefix)).try_collect().await?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::master_key::MasterKey;

    fn sealer() -> Sealer {
        Sealer::new(&MasterKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap())
    }

    #[tokio::test]
    async fn media_is_sealed_on_disk_and_bound_to_its_context() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::local(dir.path(), sealer()).unwrap();
        store.put("v1/selfie-1", "media:v1:selfie", b"JFIF face bytes").await.unwrap();
        let on_disk = std::fs::read(dir.path().join("v1/selfie-1")).unwrap();
        assert!(!on_disk.windows(4).any(|w| w == b"JFIF"), "stored sealed");
        assert_eq!(store.get("v1/selfie-1", "media:v1:selfie").await.unwrap(), b"JFIF face bytes");
        assert!(store.get("v1/selfie-1", "media:v2:selfie").await.is_err());
    }

    #[test]
    fn an_s3_url_builds_a_store_without_contacting_it() {
        assert!(MediaStore::s3("s3://bucket/prefix", sealer()).is_ok());
    }
}
