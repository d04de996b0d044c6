//! The services a request or a job needs, built once from the settings and shared.

use crate::pipeline::risk::ReferenceLists;
use crate::sanctions::Sanctions;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::log::AuditLog;
use crate::crypto::signing::Alg;
use crate::tokens::keyring::Keyring;
use crate::tokens::registry::Registry;

use crate::clock::SharedClock;
use crate::config::Settings;
use crate::crypto::aead::Sealer;
use crate::crypto::master_key::{KeyError, MasterKey};
use crate::engine::{Engine, EngineError};
use crate::metrics::{Metrics, MetricsError};
use crate::storage::objects::{MediaStore, MediaStoreError};
use crate::storage::{StorageError, Store};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {0}")]
    DataDir(String, #[source] std::io::Error),
    #[error("master key")]
    Key(#[from] KeyError),
    #[error("database")]
    Storage(#[from] StorageError),
    #[error("media store")]
    Media(#[from] MediaStoreError),
    #[error("face engine")]
    Engine(#[from] EngineError),
    #[error("metrics")]
    Metrics(#[from] MetricsError),
    #[error("signing keys")]
    SigningKeys(#[from] crate::tokens::keyring::KeyError),
    #[error("risk reference lists (run `make setup`, or set risk.lists_dir)")]
    Lists(#[from] crate::pipeline::risk::lists::ListError),
    #[error("network tables (run `make setup`, or set risk.lists_dir)")]
    Network(#[source] crate::pipeline::risk::lists::ListError),
    #[error("sanctions lists (re-import them: idgate lists import)")]
    Sanctions(#[from] crate::sanctions::SanctionsError),
    #[error("the webhook HTTP client")]
    Webhooks(#[source] reqwest::Error),
}

#[derive(Clone)]
pub struct Context {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub media: MediaStore,
    pub sealer: Sealer,
    pub engine: Arc<Engine>,
    pub clock: SharedClock,
    pub metrics: Metrics,
    /// Token and audit signing keys.
    pub keys: Arc<Keyring>,
    /// Issued and revoked tokens (offer gate, introspection).
    pub tokens: Arc<Registry>,
    pub audit: Arc<AuditLog>,
    /// The risk stage's reference lists (disposable and free e-mail domains).
    pub lists: Arc<ReferenceLists>,
    /// The imported sanctions lists, indexed (replaced when a refresh brings new versions).
    pub sanctions: Arc<crate::sanctions_refresh::Current>,
    /// IP → ASN, organisation and country; time zones by country.
    pub network: Arc<crate::network::NetworkData>,
    /// The 1:N face index (this node's copy, following `face_templates`).
    pub faces: Arc<crate::face_search::FaceIndex>,
    /// Device reports per verification and minute (this node).
    pub device_limiter: Arc<crate::network::ReportLimiter>,
    /// The client webhooks are sent with (public destinations only, no redirects).
    pub webhooks: reqwest::Client,
    /// Slots for decoding uploads and reading document photos (`uploads.concurrent_decodes`).
    pub decoding: Arc<tokio::sync::Semaphore>,
}

impl Context {
    /// Opens (and migrates) the database, loads or creates the master key, opens the media
    /// store and loads the models.
    pub async fn build(settings: Settings, clock: SharedClock) -> Result<Self, StartError> {
        let engine_settings = settings.engine.clone();
        // A server creates every session now: its first request should not be the one that waits.
        let engine =
            tokio::task::spawn_blocking(move || Engine::load(&engine_settings).and_then(|e| e.preload().map(|()| e)))
                .await
                .map_err(|_| EngineError::Poisoned)??;
        Self::with_engine(settings, clock, engine).await
    }

    /// As `build`, around an engine already loaded (tests share one).
    pub async fn with_engine(settings: Settings, clock: SharedClock, engine: Arc<Engine>) -> Result<Self, StartError> {
        let lists = Arc::new(ReferenceLists::load(&settings.risk.lists_dir)?);
        let lists_dir = settings.risk.lists_dir.clone();
        let network = tokio::task::spawn_blocking(move || crate::network::NetworkData::load(&lists_dir))
            .await
            .map_err(|_| EngineError::Poisoned)?
            .map_err(StartError::Network)?;
        let sanctions_dir = settings.sanctions_dir();
        let thresholds = settings.sanctions.thresholds();
        let sanctions = tokio::task::spawn_blocking(move || Sanctions::load(&sanctions_dir, thresholds))
            .await
            .map_err(|_| EngineError::Poisoned)??;
        if sanctions.lists.is_empty() {
            tracing::warn!(
                "no sanctions lists loaded: every verification is sanctions_not_screened (idgate lists import)"
            );
        }
        let sanctions = Arc::new(crate::sanctions_refresh::Current::new(sanctions));
        let settings_device_rate = settings.server.device_reports_per_minute;
        let settings_decodes = settings.uploads.concurrent_decodes;
        let settings_witness = settings.audit.witness_file.clone();
        let store = open_store(&settings).await?;
        let sealer = Sealer::new(&master_key(&settings)?);
        let faces = Arc::new(crate::face_search::FaceIndex::default());
        let (templates, _) = faces.sync(&store, &sealer).await?;
        if templates > 0 {
            tracing::info!(templates, "1:N face index rebuilt");
        }
        let media = match &settings.storage.media_url {
            Some(url) => MediaStore::s3(url, sealer.clone())?,
            None => MediaStore::local(&settings.storage.media_dir(), sealer.clone())?,
        };
        let keys = Arc::new(Keyring::new(store.clone(), sealer.clone(), clock.clone()));
        let token_alg = Alg::parse(&settings.tokens.algorithm).unwrap_or(Alg::EdDSA);
        if keys.ensure(token_alg).await? {
            tracing::info!("generated the first token and audit signing keys");
        }
        let webhooks = settings.webhooks.destinations().client().map_err(StartError::Webhooks)?;
        let tokens = Arc::new(Registry::new(Duration::from_millis(settings.tokens.revocation_refresh_millis)));
        Ok(Self {
            settings: Arc::new(settings),
            store,
            media,
            sealer,
            engine,
            clock,
            metrics: Metrics::new()?,
            keys,
            tokens,
            audit: Arc::new(AuditLog::with_witness(settings_witness)),
            lists,
            sanctions,
            network,
            faces,
            device_limiter: Arc::new(crate::network::ReportLimiter::per_minute(settings_device_rate)),
            webhooks,
            decoding: Arc::new(tokio::sync::Semaphore::new(settings_decodes.max(1))),
        })
    }
}

/// Creates the data directory (and any missing parent) owner-only, mode 0700, if absent.
pub fn ensure_data_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates the data directory (owner-only), connects and migrates.
pub async fn open_store(settings: &Settings) -> Result<Store, StartError> {
    let dir = &settings.storage.data_dir;
    ensure_data_dir(dir).map_err(|e| StartError::DataDir(dir.display().to_string(), e))?;
    let store = Store::connect(&settings.storage.database_url(), settings.storage.max_connections).await?;
    store.migrate().await?;
    Ok(store)
}

/// The configured master key, or the one kept in the data directory (both created if absent,
/// so that any command may be the first to touch a data directory).
pub fn master_key(settings: &Settings) -> Result<MasterKey, KeyError> {
    match &settings.storage.master_key {
        Some(key) => MasterKey::from_base64(key.expose()),
        None => {
            let dir = &settings.storage.data_dir;
            let path = dir.join("master.key");
            ensure_data_dir(dir).map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
            MasterKey::load_or_create(&path)
        }
    }
}
