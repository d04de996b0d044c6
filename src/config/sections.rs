//! The sections of the configuration: their fields, defaults and documentation.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::DEFAULT_MATCH_THRESHOLD;
use super::intake::RateLimitSettings;
use crate::pipeline::document_reuse::SeenScope;
use crate::pipeline::risk::Weights;

/// A secret string: never printed, never serialised back.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// Holds the SQLite database, the media and the generated master key by default.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite at `data_dir/idgate.db`. A secret
    /// (it may hold a password).
    pub database_url: Option<Secret>,
    /// Where sealed media is stored on disk; default `data_dir/media`.
    pub media_dir: Option<PathBuf>,
    /// Store media in an S3-compatible bucket instead: `s3://bucket/prefix` (credentials
    /// from the standard AWS_* variables).
    pub media_url: Option<String>,
    pub max_connections: u32,
    /// AES-256 master key in base64 (IDGATE_MASTER_KEY); default: generated once into
    /// `data_dir/master.key` (mode 0600).
    pub master_key: Option<Secret>,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            media_dir: None,
            media_url: None,
            max_connections: 16,
            master_key: None,
        }
    }
}

impl StorageSettings {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => crate::storage::sqlite_url(&self.data_dir.join("idgate.db")),
        }
    }

    pub fn media_dir(&self) -> PathBuf {
        self.media_dir.clone().unwrap_or_else(|| self.data_dir.join("media"))
    }
}

/// How the pipeline's results become a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionSettings {
    /// Below the match threshold by less than this (cosine), or with quality reasons, the
    /// case goes to a human (review) instead of being rejected.
    pub review_margin: f32,
    /// The youngest a candidate may be, in years on the day of the verification.
    pub min_age: u8,
    /// Name similarity (0–1) below which the document's name disagrees with the claim
    /// (reject), and up to which a human looks (review).
    pub name_mismatch: f32,
    pub name_match: f32,
    /// Where earlier verifications of the same identity with the same document are counted
    /// (`document_seen_before`): `organisation` (default) or `deployment`. A document under
    /// another identity is `document_reused` within the organisation (anywhere with
    /// `risk.cross_organisation_links`).
    pub document_seen_scope: SeenScope,
    /// A risk score above this sends the case to review even when every other stage passed.
    pub risk_review_above: u8,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        Self {
            review_margin: 0.07,
            min_age: 18,
            name_mismatch: 0.75,
            name_match: 0.9,
            document_seen_scope: SeenScope::Organisation,
            risk_review_above: 85,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CandidateSettings {
    /// How long a candidate link stays valid, in hours.
    pub token_ttl_hours: u64,
    /// Base of the candidate links idgate hands out (and of the token issuer). Unset: the
    /// address the server is bound to (`Settings::public_url`).
    pub public_url: Option<String>,
    /// The consent text version the candidate must accept.
    pub consent_version: String,
}

impl Default for CandidateSettings {
    fn default() -> Self {
        Self { token_ttl_hours: 72, public_url: None, consent_version: "2026-12".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobSettings {
    /// Workers run inside `idgate serve` (0: none; run `idgate worker` instead).
    pub workers: usize,
    pub lease_seconds: u64,
    pub max_attempts: i64,
    /// First retry delay; doubled on every attempt, with ±25 % jitter.
    pub backoff_seconds: u64,
    pub poll_millis: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self { workers: 1, lease_seconds: 60, max_attempts: 3, backoff_seconds: 5, poll_millis: 250 }
    }
}

/// Verification tokens (JWT) issued on approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// The `iss` of every token; default: `candidate.public_url`.
    pub issuer: Option<String>,
    /// Token lifetime in days.
    pub ttl_days: u64,
    /// Algorithm of newly generated token keys: `EdDSA` (Ed25519) or `ES256` (P-256).
    pub algorithm: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_seconds: i64,
    /// How often a node picks up revocations made on other nodes (its own are immediate).
    pub revocation_refresh_millis: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            issuer: None,
            ttl_days: 30,
            algorithm: "EdDSA".into(),
            leeway_seconds: 30,
            revocation_refresh_millis: 1000,
        }
    }
}

/// The audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    /// A new tree head is signed this often when the log has grown.
    pub head_interval_seconds: u64,
    /// A witness: every head this node signs is appended to this file as one JSON line (keep
    /// it on storage the database's administrators cannot write; `idgate audit verify
    /// --against FILE` checks the log against its last line).
    pub witness_file: Option<std::path::PathBuf>,
    /// A witness elsewhere: the newest signed head is POSTed here (JSON, as a line of the
    /// witness file) each round until it is accepted (2xx). The webhooks' rules apply: https
    /// and a public destination unless `webhooks.allow_http` / `allow_private_destinations`.
    pub witness_url: Option<String>,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { head_interval_seconds: 5, witness_file: None, witness_url: None }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// Peers (CIDRs or addresses) whose `Forwarded` / `X-Forwarded-For` is believed: the
    /// load balancers in front of idgate. Empty (default): the peer is the client.
    pub trusted_proxies: crate::network::TrustedProxies,
    /// Device reports a candidate may send per minute (the page sends one).
    pub device_reports_per_minute: u32,
    pub rate_limits: RateLimitSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            trusted_proxies: crate::network::TrustedProxies::default(),
            device_reports_per_minute: 6,
            rate_limits: RateLimitSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaceMatchSettings {
    /// Cosine similarity at or above which two faces match.
    pub threshold: f32,
}

impl Default for FaceMatchSettings {
    fn default() -> Self {
        Self { threshold: DEFAULT_MATCH_THRESHOLD }
    }
}

/// The 1:N face search (README "1:N face search").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaceSearchSettings {
    /// Target false-positive identification rate per search (NIST SP 800-63A-4: ≤ 0.001).
    /// The threshold is the calibrated one for FMR = fpir / gallery size.
    pub fpir: f64,
    /// A fixed cosine threshold instead (not recommended: it does not follow the gallery).
    pub threshold: Option<f32>,
    /// How often every node follows the template table (new templates, removals).
    pub sync_millis: u64,
}

impl Default for FaceSearchSettings {
    fn default() -> Self {
        Self { fpir: 1e-3, threshold: None, sync_millis: 2_000 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LivenessSettings {
    /// Without a completed challenge the verification is rejected (`challenge_missing`).
    /// Only integrations that run their own liveness should turn this off.
    pub required: bool,
    /// Actions per challenge, drawn at random, each with a random prompt time.
    pub steps: usize,
    /// Challenges a candidate may ask for per attempt (each is audited; more than one sends
    /// the case to a person, `challenge_reissued`). Default 3.
    pub max_challenges: usize,
    /// How long an issued challenge can be answered, in seconds.
    pub challenge_ttl_seconds: u64,
    /// Issue this comma-separated sequence instead of a random one. For demonstrations and
    /// tests with recorded clips only: a fixed challenge can be prepared for.
    pub fixed_challenge: Option<String>,
}

impl Default for LivenessSettings {
    fn default() -> Self {
        Self { required: true, steps: 4, max_challenges: 3, challenge_ttl_seconds: 600, fixed_challenge: None }
    }
}

/// What a sanctions match does when the birth date agrees: at least `review` (default), or
/// `reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnSanctionsMatch {
    Review,
    Reject,
}

/// Sanctions screening: where the imported lists are and how matches are weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SanctionsSettings {
    /// Where `idgate lists import` stores the lists. Default `<data_dir>/sanctions`.
    pub dir: Option<PathBuf>,
    /// A list published longer ago than this adds `sanctions_list_stale`. Default 31.
    pub max_age_days: u32,
    /// A match scoring this (0–100) or more goes to a human. Default 85.
    pub review_threshold: u8,
    /// Matches scoring less are not reported. Default 60.
    pub report_threshold: u8,
    pub on_match: OnSanctionsMatch,
    /// Lists to keep current: `{ format = "un-xml", location = "https://…" or a path }`.
    pub sources: Vec<crate::sanctions_refresh::Source>,
    /// Sources and `dir` are read again this often (and at start). 0: at start only. Default 60.
    pub refresh_minutes: u64,
}

impl Default for SanctionsSettings {
    fn default() -> Self {
        Self {
            dir: None,
            max_age_days: 31,
            review_threshold: 85,
            report_threshold: 60,
            on_match: OnSanctionsMatch::Review,
            sources: Vec::new(),
            refresh_minutes: 60,
        }
    }
}

impl SanctionsSettings {
    pub fn thresholds(&self) -> idgate_screening::Thresholds {
        idgate_screening::Thresholds { review: self.review_threshold, report: self.report_threshold }
    }
}

/// The risk stage: its weights, the high-risk country set and where its lists are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskSettings {
    /// ISO alpha-2 countries whose phone codes, nationalities and residences are risk
    /// signals: a sanctions-compliance setting the operator owns. Default `["KP"]`.
    pub high_risk_countries: Vec<String>,
    /// Per-signal weights (0–100) replacing the defaults, by code (README "Risk").
    pub weights: Weights,
    /// Where set-up puts the reference lists (disposable and free e-mail domains), each with
    /// its `.source.json`. Default `$XDG_CACHE_HOME/idgate/lists`.
    pub lists_dir: PathBuf,
    /// Link devices, networks, documents and selfies (replays, near duplicates, reuse) to
    /// verifications of other organisations too (counted, never named). Off by default: an
    /// organisation's candidates are its own business, and one tenant cannot burn a document
    /// or a selfie for another.
    pub cross_organisation_links: bool,
}

impl Default for RiskSettings {
    fn default() -> Self {
        Self {
            high_risk_countries: vec!["KP".to_owned()],
            weights: Weights::default(),
            cross_organisation_links: false,
            lists_dir: dirs::cache_dir().unwrap_or_else(|| PathBuf::from(".cache")).join("idgate").join("lists"),
        }
    }
}
