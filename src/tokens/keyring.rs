//! The signing keys as the service uses them: generation, rotation, the active signer of
//! each purpose, the published set (JWKS), and a cache of verification keys that reloads
//! when it meets a `kid` it does not know (a key rotated in by another process).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::audit::event::{Actor, Kind, NewEvent};
use crate::clock::SharedClock;
use crate::crypto::aead::{SealError, Sealer};
use crate::crypto::signing::{self, Alg, PublicJwk, SigningError};
use crate::domain::time::Timestamp;
use crate::storage::{KeyPurpose, KeyRecord, KeyState, StorageError, Store};
use crate::tokens::verify::VerifyingKey;

/// Keys are re-read at least this often, and at most this often on an unknown `kid`.
const RELOAD_EVERY: Duration = Duration::from_secs(60);
const RELOAD_ON_MISS_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("key material")]
    Signing(#[from] SigningError),
    #[error("a private key does not open with the master key (wrong master key, or tampered)")]
    Seal(#[from] SealError),
    #[error("no active {0} key: run `idgate keys generate`")]
    NoActiveKey(&'static str),
    #[error("stored key {0} is unreadable")]
    Corrupt(String),
}

/// The active private key of a purpose, opened.
pub struct Signer {
    pub kid: String,
    pub alg: Alg,
    pub pkcs8: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

struct Cache {
    keys: Arc<HashMap<String, VerifyingKey>>,
    loaded: Option<Instant>,
}

pub struct Keyring {
    store: Store,
    sealer: Sealer,
    clock: SharedClock,
    cache: RwLock<Cache>,
    reload: tokio::sync::Mutex<()>,
}

fn sealed_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

pub fn public_jwk(record: &KeyRecord) -> Result<PublicJwk, KeyError> {
    serde_json::from_str(&record.public_jwk).map_err(|_| KeyError::Corrupt(record.kid.clone()))
}

impl Keyring {
    pub fn new(store: Store, sealer: Sealer, clock: SharedClock) -> Self {
        Self {
            store,
            sealer,
            clock,
            cache: RwLock::new(Cache { keys: Arc::new(HashMap::new()), loaded: None }),
            reload: tokio::sync::Mutex::new(()),
        }
    }

    /// Makes sure both purposes have an active key (a fresh installation gets them on its
    /// first start). True when a key was generated.
    pub async fn ensure(&self, token_alg: Alg) -> Result<bool, KeyError> {
        let mut made = false;
        for (purpose, alg) in [(KeyPurpose::Token, token_alg), (KeyPurpose::Audit, Alg::EdDSA)] {
            if self.store.active_key(purpose).await?.is_none() {
                self.generate(purpose, alg, Actor::System { component: "server" }).await?;
                made = true;
            }
        }
        Ok(made)
    }

    /// Adds a key. It signs at once when its purpose has no signer; otherwise it is
    /// published and waits for `rotate`.
    pub async fn generate(&self, purpose: KeyPurpose, alg: Alg, actor: Actor) -> Result<KeyRecord, KeyError> {
        if purpose == KeyPurpose::Audit && alg != Alg::EdDSA {
            return Err(KeyError::Corrupt("audit keys are Ed25519".into()));
        }
        let key = signing::generate(alg)?;
        let now = self.clock.now();
        let record = KeyRecord {
            kid: key.kid.clone(),
            purpose: purpose.as_str().into(),
            alg: alg.as_str().into(),
            public_jwk: serde_json::to_string(&key.public).map_err(|_| KeyError::Corrupt(key.kid.clone()))?,
            sealed_private: self.sealer.seal(&key.pkcs8, &sealed_context(&key.kid))?,
            state: KeyState::Pending,
            created_at: now,
            activated_at: None,
            retired_at: None,
            publish_until: None,
        };
        let data = serde_json::json!({"kid": key.kid, "alg": alg.as_str(), "purpose": purpose.as_str()});
        self.store.insert_key(&record, &NewEvent::global(Kind::KeyGenerated, actor.clone(), data)).await?;
        if self.store.active_key(purpose).await?.is_none() {
            self.activate(purpose, &record.kid, actor).await?;
        }
        self.invalidate();
        Ok(record)
    }

    /// Makes the newest pending key (or a fresh one of `alg`) the signer; the old signer
    /// stays published until every token it signed has expired. Returns (new, old) kids.
    pub async fn rotate(
        &self,
        purpose: KeyPurpose,
        alg: Alg,
        actor: Actor,
    ) -> Result<(String, Option<String>), KeyError> {
        let keys = self.store.keys(purpose).await?;
        let old = keys.iter().find(|k| k.state == KeyState::Active).map(|k| k.kid.clone());
        let new = match keys.iter().find(|k| k.state == KeyState::Pending) {
            Some(pending) => pending.kid.clone(),
            None => {
                let record = self.generate(purpose, alg, actor.clone()).await?;
                if old.is_none() {
                    return Ok((record.kid, None));
                }
                record.kid
            }
        };
        self.activate(purpose, &new, actor).await?;
        self.invalidate();
        Ok((new, old))
    }

    async fn activate(&self, purpose: KeyPurpose, kid: &str, actor: Actor) -> Result<(), KeyError> {
        let now = self.clock.now();
        let old = self.store.active_key(purpose).await?;
        // Audit keys are never unpublished: old tree heads must stay verifiable.
        let until = match (&old, purpose) {
            (Some(_), KeyPurpose::Audit) | (None, _) => Timestamp::from_millis(i64::MAX),
            (Some(old), KeyPurpose::Token) => {
                self.store.last_expiry_of_key(&old.kid).await?.map_or(now, |last| last.max(now))
            }
        };
        let data = serde_json::json!({
            "kid": kid, "purpose": purpose.as_str(), "retired": old.as_ref().map(|k| k.kid.clone()),
            "retired_published_until": old.as_ref().map(|_| until.to_rfc3339()),
        });
        let event = NewEvent::global(Kind::KeyActivated, actor, data);
        if !self.store.activate_key(purpose, kid, until, &event, now).await? {
            return Err(KeyError::Corrupt(kid.to_owned()));
        }
        Ok(())
    }

    /// Emergency revocation of a token key (its private half leaked): unpublished at once,
    /// every token it signed revoked (the offer gate of every node refuses them within
    /// `tokens.revocation_refresh_millis`), and, when it was the signer, a new key signs from
    /// now on. Returns how many tokens were revoked; `None` when no such token key exists or it
    /// was compromised already.
    pub async fn compromise(&self, kid: &str, alg: Alg, reason: &str, actor: Actor) -> Result<Option<u64>, KeyError> {
        let now = self.clock.now();
        let was_active = self.store.active_key(KeyPurpose::Token).await?.is_some_and(|k| k.kid == kid);
        let data = serde_json::json!({ "kid": kid, "purpose": "token", "reason": reason, "was_signer": was_active });
        let event = NewEvent::global(Kind::KeyCompromised, actor.clone(), data);
        let by = match &actor {
            Actor::ApiKey { key_prefix, .. } => format!("key:{key_prefix}"),
            Actor::User { user, .. } => format!("user:{user}"),
            Actor::Operator { command } => format!("operator:{command}"),
            Actor::System { component } => format!("system:{component}"),
            Actor::Candidate { .. } => "candidate".to_owned(),
        };
        let Some(revoked) = self.store.compromise_key(kid, &by, &event, now).await? else { return Ok(None) };
        self.invalidate();
        if was_active {
            self.rotate(KeyPurpose::Token, alg, actor).await?;
        }
        Ok(Some(revoked))
    }

    /// The active key of `purpose`, opened.
    pub async fn signer(&self, purpose: KeyPurpose) -> Result<Signer, KeyError> {
        let record = self.store.active_key(purpose).await?.ok_or(KeyError::NoActiveKey(purpose.as_str()))?;
        self.open(&record)
    }

    /// Opens a stored private key and checks it against its public half.
    pub fn open(&self, record: &KeyRecord) -> Result<Signer, KeyError> {
        let alg = Alg::parse(&record.alg).ok_or_else(|| KeyError::Corrupt(record.kid.clone()))?;
        let pkcs8 = self.sealer.open(&record.sealed_private, &sealed_context(&record.kid))?;
        if signing::public_of(alg, &pkcs8)? != public_jwk(record)? {
            return Err(KeyError::Corrupt(record.kid.clone()));
        }
        Ok(Signer { kid: record.kid.clone(), alg, pkcs8 })
    }

    /// Keys a verifier may fetch now: pending, active, and retired ones still published.
    pub async fn published(&self, purpose: KeyPurpose) -> Result<Vec<PublicJwk>, KeyError> {
        let now = self.clock.now();
        let keys = self.store.keys(purpose).await?;
        keys.iter()
            .filter(|k| match k.state {
                KeyState::Pending | KeyState::Active => true,
                KeyState::Retired => k.publish_until.is_some_and(|u| u > now),
                KeyState::Compromised => false,
            })
            .map(public_jwk)
            .collect()
    }

    fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.write() {
            cache.loaded = None;
        }
    }

    /// Every token key (retired ones too, to name them when they are used) for verifying.
    /// Reloaded when stale, or when `kid` is unknown (at most once a second).
    pub async fn verifying_keys(&self, kid: Option<&str>) -> Result<Arc<HashMap<String, VerifyingKey>>, KeyError> {
        let fresh = |cache: &Cache| {
            cache.loaded.is_some_and(|at| {
                let age = at.elapsed();
                age < RELOAD_EVERY && (kid.is_none_or(|k| cache.keys.contains_key(k)) || age < RELOAD_ON_MISS_AFTER)
            })
        };
        if let Ok(cache) = self.cache.read()
            && fresh(&cache)
        {
            return Ok(cache.keys.clone());
        }
        let _one = self.reload.lock().await;
        if let Ok(cache) = self.cache.read()
            && fresh(&cache)
        {
            return Ok(cache.keys.clone());
        }
        let mut keys = HashMap::new();
        for record in self.store.keys(KeyPurpose::Token).await? {
            let Some(mut key) = VerifyingKey::from_jwk(&public_jwk(&record)?) else { continue };
            if matches!(record.state, KeyState::Retired | KeyState::Compromised) {
                key.retired_at = record.retired_at;
                key.publish_until = record.publish_until;
            }
            key.compromised = record.state == KeyState::Compromised;
            keys.insert(record.kid.clone(), key);
        }
        let keys = Arc::new(keys);
        if let Ok(mut cache) = self.cache.write() {
            *cache = Cache { keys: keys.clone(), loaded: Some(Instant::now()) };
        }
        Ok(keys)
    }
}
