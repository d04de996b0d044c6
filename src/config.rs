//! One typed configuration: defaults, then an optional TOML file, then `IDGATE_*` variables,
//! then command-line flags (applied by `cli`). The only place that reads the environment.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::EngineSettings;

/// Cosine threshold shipped for SFace: the FMR 1e-3 operating point measured by
/// `make calibrate` on ../shared/data/faces_hard, every pair of its 1,322 images (5,731
/// genuine, 867,450 impostor): 0.3720, FNMR 0.114 there. OpenCV publishes 0.363. See README.
pub const DEFAULT_MATCH_THRESHOLD: f32 = 0.372;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub engine: EngineSettings,
    pub face_match: FaceMatchSettings,
    pub decision: DecisionSettings,
    pub candidate: CandidateSettings,
    pub jobs: JobSettings,
    pub uploads: UploadSettings,
    pub tokens: TokenSettings,
    pub audit: AuditSettings,
}

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
}

impl Default for DecisionSettings {
    fn default() -> Self {
        Self { review_margin: 0.07 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CandidateSettings {
    /// How long a candidate link stays valid, in hours.
    pub token_ttl_hours: u64,
    /// Base of the candidate links idgate hands out.
    pub public_url: String,
    /// The consent text version the candidate must accept.
    pub consent_version: String,
}

impl Default for CandidateSettings {
    fn default() -> Self {
        Self { token_ttl_hours: 72, public_url: "http://127.0.0.1:8080".into(), consent_version: "2026-11".into() }
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
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self { head_interval_seconds: 5 }
    }
}

impl Settings {
    /// The `iss` of tokens (and the base of the JWKS URL).
    pub fn issuer(&self) -> String {
        self.tokens.issuer.clone().unwrap_or_else(|| self.candidate.public_url.trim_end_matches('/').to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadSettings {
    pub max_document_bytes: u64,
    pub max_selfie_bytes: u64,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self { max_document_bytes: 15 << 20, max_selfie_bytes: 60 << 20 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub bind: SocketAddr,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { bind: SocketAddr::from(([127, 0, 0, 1], 8080)) }
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

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name} is invalid: {message}")]
    Env { name: &'static str, message: String },
    #[error("{0}")]
    Invalid(&'static str),
}

impl Settings {
    /// Loads defaults, then `file` (or `IDGATE_CONFIG`), then `IDGATE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file = file.map(Path::to_path_buf).or_else(|| std::env::var_os("IDGATE_CONFIG").map(PathBuf::from));
        let mut settings = match file {
            Some(path) => Self::from_file(&path)?,
            None => Self::default(),
        };
        settings.apply_env(|name| std::env::var(name).ok())?;
        settings.validate()?;
        Ok(settings)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.message().to_owned() })
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &'static str, raw: &str) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            raw.parse().map_err(|e: T::Err| ConfigError::Env { name, message: e.to_string() })
        }
        if let Some(v) = var("IDGATE_MODELS_DIR") {
            self.engine.models_dir = PathBuf::from(v);
        }
        if let Some(v) = var("IDGATE_ORT_LIBRARY") {
            self.engine.runtime_library = Some(PathBuf::from(v));
        }
        if let Some(v) = var("IDGATE_INTRA_THREADS") {
            self.engine.intra_threads = parse("IDGATE_INTRA_THREADS", &v)?;
        }
        if let Some(v) = var("IDGATE_BIND") {
            self.server.bind = parse("IDGATE_BIND", &v)?;
        }
        if let Some(v) = var("IDGATE_DATA_DIR") {
            self.storage.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("IDGATE_DATABASE_URL") {
            self.storage.database_url = Some(Secret(v));
        }
        if let Some(v) = var("IDGATE_MASTER_KEY") {
            self.storage.master_key = Some(Secret(v));
        }
        if let Some(v) = var("IDGATE_MEDIA_URL") {
            self.storage.media_url = Some(v);
        }
        if let Some(v) = var("IDGATE_PUBLIC_URL") {
            self.candidate.public_url = v;
        }
        if let Some(v) = var("IDGATE_WORKERS") {
            self.jobs.workers = parse("IDGATE_WORKERS", &v)?;
        }
        if let Some(v) = var("IDGATE_ISSUER") {
            self.tokens.issuer = Some(v);
        }
        if let Some(v) = var("IDGATE_TOKEN_ALGORITHM") {
            self.tokens.algorithm = v;
        }
        if let Some(v) = var("IDGATE_MATCH_THRESHOLD") {
            self.face_match.threshold = parse("IDGATE_MATCH_THRESHOLD", &v)?;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(-1.0..=1.0).contains(&self.face_match.threshold) {
            return Err(ConfigError::Invalid("face_match.threshold must be within [-1, 1]"));
        }
        if self.engine.intra_threads == 0 || self.engine.intra_threads > 256 {
            return Err(ConfigError::Invalid("engine.intra_threads must be between 1 and 256"));
        }
        if self.engine.sample_frames == 0 || self.engine.sample_frames > 120 {
            return Err(ConfigError::Invalid("engine.sample_frames must be between 1 and 120"));
        }
        if let Some(url) = &self.storage.database_url
            && !(url.0.starts_with("sqlite:") || url.0.starts_with("postgres://") || url.0.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "storage.database_url must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if self.storage.media_url.as_deref().is_some_and(|u| !u.starts_with("s3://")) {
            return Err(ConfigError::Invalid("storage.media_url must be an s3://bucket/prefix URL"));
        }
        if url::Url::parse(&self.candidate.public_url).map_or(true, |u| !matches!(u.scheme(), "http" | "https")) {
            return Err(ConfigError::Invalid("candidate.public_url must be an http(s) URL"));
        }
        if self.candidate.token_ttl_hours == 0 || self.jobs.max_attempts < 1 || self.jobs.lease_seconds < 5 {
            return Err(ConfigError::Invalid(
                "candidate.token_ttl_hours, jobs.max_attempts must be >= 1 and jobs.lease_seconds >= 5",
            ));
        }
        if crate::crypto::signing::Alg::parse(&self.tokens.algorithm).is_none() {
            return Err(ConfigError::Invalid("tokens.algorithm must be EdDSA or ES256"));
        }
        if self.tokens.ttl_days == 0 || self.tokens.ttl_days > 3650 || !(0..=3600).contains(&self.tokens.leeway_seconds)
        {
            return Err(ConfigError::Invalid("tokens.ttl_days must be 1..=3650 and tokens.leeway_seconds 0..=3600"));
        }
        if self.audit.head_interval_seconds == 0 {
            return Err(ConfigError::Invalid("audit.head_interval_seconds must be >= 1"));
        }
        if !(0.0..=1.0).contains(&self.engine.detector.score_threshold) {
            return Err(ConfigError::Invalid("engine.detector.score_threshold must be within [0, 1]"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let mut s = Settings::default();
        s.apply_env(|name| match name {
            "IDGATE_BIND" => Some("127.0.0.1:0".into()),
            "IDGATE_MATCH_THRESHOLD" => Some("0.5".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.server.bind.port(), 0);
        assert_eq!(s.face_match.threshold, 0.5);
    }

    #[test]
    fn a_bad_variable_is_named_in_the_error() {
        let err = Settings::default().apply_env(|n| (n == "IDGATE_BIND").then(|| "nowhere".into())).unwrap_err();
        assert!(err.to_string().contains("IDGATE_BIND"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let err = toml::from_str::<Settings>("[server]\nbnid = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(err.message().contains("unknown field"), "{}", err.message());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let mut s = Settings::default();
        s.apply_env(|n| (n == "IDGATE_DATABASE_URL").then(|| "postgres://u:hunter2@db/x".into())).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&s).unwrap().contains("hunter2"));
    }

    #[test]
    fn out_of_range_threshold_is_invalid() {
        let mut s = Settings::default();
        s.face_match.threshold = 2.0;
        assert!(s.validate().is_err());
    }
}
