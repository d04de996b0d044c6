//! Sanctions screening of persons. A list is read from its official format (`ofac_csv`,
//! `ofac_xml`, `un_xml`) into `List`: entries with their names (primary, strong and weak
//! aliases), birth dates as listed (exact, month, year, circa, ranges), nationalities and
//! programmes, and the list's publication date and sha256. `Screener` indexes the
//! individuals of one or more lists and scores a person against them (`matcher`).

pub mod countries;
pub mod fold;
pub mod matcher;
pub mod model;
pub mod ofac_csv;
pub mod ofac_xml;
pub mod un_xml;
mod xml;

pub use matcher::{Agreed, Match, Query, Screener, Thresholds};
pub use model::{BirthDate, Entry, EntryKind, List, ListMeta, ListedName, NameStrength};

/// Why a list file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not a {format} file: {why}")]
    Format { path: String, format: &'static str, why: String },
}

impl LoadError {
    pub(crate) fn format(path: &std::path::Path, format: &'static str, why: impl std::fmt::Display) -> Self {
        Self::Format { path: path.display().to_string(), format, why: why.to_string() }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }
}

/// Reads a file, with the error naming it.
pub(crate) fn read(path: &std::path::Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|e| LoadError::io(path, e))
}
