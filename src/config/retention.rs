//! The `[retention]` section: how long verification media and personal data are kept.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Days after a case is closed (decided, failed or abandoned) that its photos and
    /// video are deleted.
    pub media_days: u32,
    /// Days after a case is closed that its personal data is deleted: the sealed claims,
    /// candidate link and token, device reports and sightings, face templates (and their
    /// 1:N index entries), selfie fingerprints, the sealed document number, reuse hashes and
    /// reviewers' notes. The audit log keeps its digests.
    pub personal_data_days: u32,
    /// How often the purge runs, in minutes.
    pub purge_interval_minutes: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { media_days: 30, personal_data_days: 365, purge_interval_minutes: 60 }
    }
}
