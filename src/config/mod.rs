//! One typed configuration: defaults, then an optional TOML file, then `IDGATE_*` variables,
//! then command-line flags (applied by `cli`). The only place that reads the environment.

mod intake;
mod retention;
mod review;
mod sections;

pub use intake::{RateLimitSettings, UploadSettings, WebhookSettings};
pub use retention::RetentionSettings;
pub use review::ReviewSettings;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use sections::{
    AuditSettings, CandidateSettings, DecisionSettings, FaceMatchSettings, FaceSearchSettings, JobSettings,
    LivenessSettings, OnSanctionsMatch, RiskSettings, SanctionsSettings, Secret, ServerSettings, StorageSettings,
    TokenSettings,
};

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
    pub face_search: FaceSearchSettings,
    pub decision: DecisionSettings,
    pub candidate: CandidateSettings,
    pub jobs: JobSettings,
    pub webhooks: WebhookSettings,
    pub uploads: UploadSettings,
    pub tokens: TokenSettings,
    pub audit: AuditSettings,
    pub liveness: LivenessSettings,
    pub risk: RiskSettings,
    pub sanctions: SanctionsSettings,
    pub review: ReviewSettings,
    pub retention: RetentionSettings,
}

impl Settings {
    /// What the risk stage needs of the settings.
    pub fn risk_policy(&self) -> crate::pipeline::risk::RiskPolicy {
        crate::pipeline::risk::RiskPolicy {
            weights: self.risk.weights.clone(),
            high_risk_countries: self.risk.high_risk_countries.iter().map(|c| c.to_ascii_uppercase()).collect(),
            review_above: self.decision.risk_review_above,
            sanctions_max_age_days: self.sanctions.max_age_days,
            reject_sanctions_match: self.sanctions.on_match == OnSanctionsMatch::Reject,
        }
    }

    /// The 1:N threshold for a gallery of `gallery` templates.
    pub fn face_search_threshold(&self, gallery: usize) -> crate::face_search::SearchThreshold {
        let mut t =
            crate::face_search::threshold::for_gallery(gallery, self.face_search.fpir, self.face_match.threshold);
        if let Some(fixed) = self.face_search.threshold {
            (t.threshold, t.configured) = (fixed, true);
        }
        t
    }

    /// Where the imported sanctions lists are (`sanctions.dir`, default `<data_dir>/sanctions`).
    pub fn sanctions_dir(&self) -> PathBuf {
        self.sanctions.dir.clone().unwrap_or_else(|| self.storage.data_dir.join("sanctions"))
    }

    /// The `iss` of tokens (and the base of the JWKS URL).
    pub fn issuer(&self) -> String {
        self.tokens.issuer.clone().unwrap_or_else(|| self.public_url())
    }

    /// The base of candidate links, without a trailing slash: `candidate.public_url`, or else
    /// the address the server listens on (`serve` puts the real port there when 0 was asked
    /// for; an unspecified address such as 0.0.0.0 becomes loopback).
    pub fn public_url(&self) -> String {
        if let Some(url) = &self.candidate.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let bind = self.server.bind;
        let ip = match bind.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, bind.port()))
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
        if let Some(v) = var("IDGATE_SANCTIONS_DIR") {
            self.sanctions.dir = Some(PathBuf::from(v));
        }
        if let Some(v) = var("IDGATE_LISTS_DIR") {
            self.risk.lists_dir = PathBuf::from(v);
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
        if let Some(v) = var("IDGATE_TRUSTED_PROXIES") {
            let items: Vec<&str> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
            self.server.trusted_proxies = crate::network::TrustedProxies::parse(&items)
                .map_err(|message| ConfigError::Env { name: "IDGATE_TRUSTED_PROXIES", message })?;
        }
        if let Some(v) = var("IDGATE_DATA_DIR") {
            self.storage.data_dir = PathBuf::from(v);
        }
        if let Some(v) = var("IDGATE_DATABASE_URL") {
            self.storage.database_url = Some(Secret::new(v));
        }
        if let Some(v) = var("IDGATE_MASTER_KEY") {
            self.storage.master_key = Some(Secret::new(v));
        }
        if let Some(v) = var("IDGATE_MEDIA_URL") {
            self.storage.media_url = Some(v);
        }
        if let Some(v) = var("IDGATE_PUBLIC_URL") {
            self.candidate.public_url = Some(v);
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
        if let Some(v) = var("IDGATE_LIVENESS_REQUIRED") {
            self.liveness.required = parse("IDGATE_LIVENESS_REQUIRED", &v)?;
        }
        if let Some(v) = var("IDGATE_LIVENESS_FIXED_CHALLENGE") {
            self.liveness.fixed_challenge = Some(v);
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=5).contains(&self.liveness.steps) {
            return Err(ConfigError::Invalid("liveness.steps must be between 1 and 5"));
        }
        if !(1..=20).contains(&self.liveness.max_challenges) {
            return Err(ConfigError::Invalid("liveness.max_challenges must be between 1 and 20"));
        }
        if let Some(fixed) = &self.liveness.fixed_challenge
            && crate::domain::challenge::parse_actions(fixed).map_or(true, |a| a.is_empty())
        {
            return Err(ConfigError::Invalid(
                "liveness.fixed_challenge must list actions: turn_left, turn_right, look_up, look_down, blink_twice, smile, \
                 open_mouth, blink",
            ));
        }
        if !self.risk.weights.unknown_codes().is_empty() {
            return Err(ConfigError::Invalid("risk.weights names a signal code that does not exist (README: Risk)"));
        }
        if self.risk.weights.0.values().any(|w| *w > 100) || self.decision.risk_review_above > 100 {
            return Err(ConfigError::Invalid("risk weights and decision.risk_review_above are 0 to 100"));
        }
        let s = &self.sanctions;
        if s.review_threshold > 100 || s.report_threshold > s.review_threshold {
            return Err(ConfigError::Invalid("sanctions thresholds: report_threshold ≤ review_threshold ≤ 100"));
        }
        let countries_ok = self.risk.high_risk_countries.iter().all(|c| isocountry::CountryCode::for_alpha2(c).is_ok());
        if !countries_ok {
            return Err(ConfigError::Invalid("risk.high_risk_countries must be ISO 3166-1 alpha-2 codes"));
        }
        if !(-1.0..=1.0).contains(&self.face_match.threshold) {
            return Err(ConfigError::Invalid("face_match.threshold must be within [-1, 1]"));
        }
        let r = &self.retention;
        if r.media_days == 0 || r.personal_data_days < r.media_days || r.purge_interval_minutes == 0 {
            return Err(ConfigError::Invalid(
                "retention: media_days ≥ 1, personal_data_days ≥ media_days, purge_interval_minutes ≥ 1",
            ));
        }
        if !(1..=24 * 60).contains(&self.review.claim_minutes) {
            return Err(ConfigError::Invalid("review.claim_minutes must be between 1 and 1440"));
        }
        if self.engine.intra_threads == 0 || self.engine.intra_threads > 256 {
            return Err(ConfigError::Invalid("engine.intra_threads must be between 1 and 256"));
        }
        if self.engine.sample_frames == 0 || self.engine.sample_frames > 120 {
            return Err(ConfigError::Invalid("engine.sample_frames must be between 1 and 120"));
        }
        if let Some(url) = &self.storage.database_url
            && !(url.expose().starts_with("sqlite:")
                || url.expose().starts_with("postgres://")
                || url.expose().starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "storage.database_url must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        if let Some(witness) = &self.audit.witness_url {
            let destinations = crate::webhook::destination::Destinations {
                allow_http: self.webhooks.allow_http,
                allow_private: self.webhooks.allow_private_destinations,
            };
            if url::Url::parse(witness).map_or(true, |u| destinations.check(&u).is_err()) {
                return Err(ConfigError::Invalid(
                    "audit.witness_url must be an https URL to a public destination (or allowed by [webhooks])",
                ));
            }
        }
        if self.storage.media_url.as_deref().is_some_and(|u| !u.starts_with("s3://")) {
            return Err(ConfigError::Invalid("storage.media_url must be an s3://bucket/prefix URL"));
        }
        if let Some(public) = &self.candidate.public_url
            && url::Url::parse(public).map_or(true, |u| !matches!(u.scheme(), "http" | "https"))
        {
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
    fn links_follow_the_bound_address_unless_a_public_url_is_set() {
        let mut s = Settings::default();
        s.server.bind = "127.0.0.1:18080".parse().unwrap();
        assert_eq!(s.public_url(), "http://127.0.0.1:18080");
        assert_eq!(s.issuer(), "http://127.0.0.1:18080");
        s.server.bind = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(s.public_url(), "http://127.0.0.1:9000");
        s.server.bind = "[::]:9000".parse().unwrap();
        assert_eq!(s.public_url(), "http://[::1]:9000");
        s.candidate.public_url = Some("https://verify.example.com/".into());
        assert_eq!(s.public_url(), "https://verify.example.com");
        s.candidate.public_url = Some("ftp://x".into());
        assert!(s.validate().is_err());
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
