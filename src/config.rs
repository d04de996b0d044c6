//! One typed configuration: defaults, then an optional TOML file, then `IDGATE_*` variables,
//! then command-line flags (applied by `cli`). The only place that reads the environment.

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
    pub engine: EngineSettings,
    pub face_match: FaceMatchSettings,
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
    fn out_of_range_threshold_is_invalid() {
        let mut s = Settings::default();
        s.face_match.threshold = 2.0;
        assert!(s.validate().is_err());
    }
}
