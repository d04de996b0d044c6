//! What callers may send (uploads, request rates) and where webhooks may go.

use serde::{Deserialize, Serialize};

/// Status webhooks to HR systems (`callback_url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Accept `http://` callback URLs (default: https only).
    pub allow_http: bool,
    /// Accept destinations inside the network: loopback, private, link-local and other
    /// non-public addresses, and internal names such as `localhost` (default: refused at
    /// creation and at connect time; see `webhook::destination`).
    pub allow_private_destinations: bool,
    /// How long one delivery may take, connection included.
    pub timeout_seconds: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { allow_http: false, allow_private_destinations: false, timeout_seconds: 10 }
    }
}

impl WebhookSettings {
    pub fn destinations(&self) -> crate::webhook::destination::Destinations {
        crate::webhook::destination::Destinations {
            allow_http: self.allow_http,
            allow_private: self.allow_private_destinations,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadSettings {
    pub max_document_bytes: u64,
    pub max_selfie_bytes: u64,
    /// Uploads of each document side per verification (the first and its retakes); more are
    /// refused (`uploads_exhausted`) before anything is decoded.
    pub max_document_uploads: u32,
    /// Uploads decoded (and document photos read) at once on a node; the others wait.
    pub concurrent_decodes: usize,
    /// How long an upload waits for a decoding slot before it is answered 503 `busy`.
    pub decode_wait_seconds: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_document_bytes: 15 << 20,
            max_selfie_bytes: 60 << 20,
            max_document_uploads: 5,
            concurrent_decodes: 2,
            decode_wait_seconds: 20,
        }
    }
}

/// Requests per minute, per caller, on each node (`429` with `Retry-After` beyond them).
/// Each allows a burst of a fifth of its minute at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    /// Per client address (behind `server.trusted_proxies`): every request but health,
    /// readiness and metrics.
    pub per_ip_per_minute: u32,
    /// Per API key (by its prefix).
    pub per_api_key_per_minute: u32,
    /// Per candidate link.
    pub per_candidate_per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { per_ip_per_minute: 6000, per_api_key_per_minute: 3000, per_candidate_per_minute: 300 }
    }
}
