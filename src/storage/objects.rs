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

    pub async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        self.store.delete(&ObjectPath::from(key)).await?;
        Ok(())
    }
}
