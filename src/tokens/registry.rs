//! What the offer gate needs to know about a token beyond its signature: that idgate
//! issued it, for which verification and candidate, and whether it was revoked. Kept in
//! memory: a token's facts never change except revocation, which is immediate on this node
//! and picked up from the database every `revocation_refresh_millis` from other nodes.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::domain::time::Timestamp;
use crate::storage::{StorageError, Store};

const MAX_ENTRIES: usize = 200_000;
/// Revocations are re-read with this overlap, against clock skew between nodes.
const OVERLAP: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub verification_id: String,
    pub org_id: String,
    pub external_id: String,
    pub expires_at: Timestamp,
}

#[derive(Default)]
struct State {
    issued: HashMap<String, Issued>,
    revoked: HashMap<String, String>,
    refreshed: Option<(Instant, Timestamp)>,
}

pub struct Registry {
    state: RwLock<State>,
    refresh_every: Duration,
    refresh: tokio::sync::Mutex<()>,
}

/// A token's standing: unknown here, or issued (and maybe revoked, with the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Unknown,
    Issued { issued: Issued, revoked: Option<String> },
}

impl Registry {
    pub fn new(refresh_every: Duration) -> Self {
        Self { state: RwLock::new(State::default()), refresh_every, refresh: tokio::sync::Mutex::new(()) }
    }

    fn due(&self) -> bool {
        self.state.read().map_or(true, |s| s.refreshed.is_none_or(|(at, _)| at.elapsed() >= self.refresh_every))
    }

    async fn refresh(&self, store: &Store, now: Timestamp) -> Result<(), StorageError> {
        if !self.due() {
            return Ok(());
        }
        let _one = self.refresh.lock().await;
        if !self.due() {
            return Ok(());
        }
        let since = self
            .state
            .read()
            .ok()
            .and_then(|s| s.refreshed.map(|(_, t)| Timestamp::from_millis(t.millis() - OVERLAP.as_millis() as i64)))
            .unwrap_or(Timestamp::from_millis(0));
        let revoked = store.revoked_since(since).await?;
        if let Ok(mut s) = self.state.write() {
            s.revoked.extend(revoked);
            s.refreshed = Some((Instant::now(), now));
        }
        Ok(())
    }

    /// The standing of `jti`, from memory or (once) from the database.
    pub async fn standing(&self, store: &Store, jti: &str, now: Timestamp) -> Result<Standing, StorageError> {
        self.refresh(store, now).await?;
        let known = self.state.read().ok().and_then(|s| {
            s.issued.get(jti).map(|i| Standing::Issued { issued: i.clone(), revoked: s.revoked.get(jti).cloned() })
        });
        if let Some(standing) = known {
            return Ok(standing);
        }
        let Some(record) = store.token(jti).await? else { return Ok(Standing::Unknown) };
        let issued = Issued {
            verification_id: record.verification_id,
            org_id: record.org_id,
            external_id: record.external_id,
            expires_at: record.expires_at,
        };
        let revoked = record.revoked_at.map(|_| record.revoked_reason.unwrap_or_default());
        if let Ok(mut s) = self.state.write() {
            if s.issued.len() >= MAX_ENTRIES {
                s.issued.clear();
            }
            s.issued.insert(jti.to_owned(), issued.clone());
            if let Some(reason) = &revoked {
                s.revoked.insert(jti.to_owned(), reason.clone());
            }
        }
        Ok(Standing::Issued { issued, revoked })
    }

    /// Records a revocation made by this node (effective at once).
    pub fn revoked(&self, jti: &str, reason: &str) {
        if let Ok(mut s) = self.state.write() {
            s.revoked.insert(jti.to_owned(), reason.to_owned());
        }
    }
}
