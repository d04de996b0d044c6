//! `models/manifest.toml`, compiled in: which files the engine needs and their pinned hashes.

use serde::Deserialize;

const MANIFEST: &str = include_str!("../../models/manifest.toml");

/// One pinned file (the runtime library or a model).
#[derive(Debug, Clone, Deserialize)]
pub struct PinnedFile {
    pub file: String,
    /// The file's own hash; absent for a model converted at set-up (its bytes vary by run).
    #[serde(default)]
    pub sha256: Option<String>,
    /// For a converted model: the hash of the source it must have been converted from, as
    /// recorded beside it in `<file>.source` by `scripts/setup.py` after the numeric checks.
    #[serde(default)]
    pub member_sha256: Option<String>,
    pub licence: String,
    pub package: String,
    pub version: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub runtime: PinnedFile,
    pub model: Vec<PinnedFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("models/manifest.toml is invalid")]
    Invalid(#[source] toml::de::Error),
    #[error("models/manifest.toml lists no model named {0}")]
    MissingModel(&'static str),
}

impl Manifest {
    pub fn embedded() -> Result<Self, ManifestError> {
        toml::from_str(MANIFEST).map_err(ManifestError::Invalid)
    }

    pub fn model(&self, name: &'static str) -> Result<&PinnedFile, ManifestError> {
        self.model.iter().find(|m| m.name.as_deref() == Some(name)).ok_or(ManifestError::MissingModel(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_manifest_pins_every_model() {
        let m = Manifest::embedded().unwrap();
        for name in ["face_detector", "face_recogniser", "text_detector", "text_recogniser"] {
            let model = m.model(name).unwrap();
            assert_eq!(model.sha256.as_deref().map(str::len), Some(64), "{name}");
        }
        for name in ["face_mesh", "face_blendshapes", "antispoof"] {
            let model = m.model(name).unwrap();
            assert!(model.sha256.is_none(), "{name}: converted, so no fixed file hash");
            assert_eq!(model.member_sha256.as_deref().map(str::len), Some(64), "{name}");
        }
        assert!(m.runtime.file.starts_with("libonnxruntime.so"));
    }
}
