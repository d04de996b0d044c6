//! The sanctions lists this deployment screens against: imported by `idgate lists import`
//! from their official formats into `sanctions.dir` (default `<data_dir>/sanctions`), one
//! JSON file per list (`ofac-sdn.json`, `un-consolidated.json`), written whole and renamed
//! into place so a failed import leaves the previous version. The service and `idgate
//! screen` load them at start and index them (`idgate_screening::Screener`).

use std::path::{Path, PathBuf};

use idgate_screening::{List, ListMeta, Screener, Thresholds};
use serde::{Deserialize, Serialize};

use crate::domain::time::Timestamp;

/// The formats `idgate lists import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// OFAC's legacy CSV set (`sdn.csv`, `alt.csv`, `add.csv`; PATH is their folder or `sdn.csv`).
    OfacSdnCsv,
    /// Treasury's `sdn.xml`.
    OfacSdnXml,
    /// The UN Security Council consolidated list (`consolidated.xml`).
    UnXml,
}

#[derive(Debug, thiserror::Error)]
pub enum SanctionsError {
    #[error(transparent)]
    Load(#[from] idgate_screening::LoadError),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not an imported list: {why}")]
    Stored { path: String, why: String },
    #[error("--published must be YYYY-MM-DD")]
    Published,
}

/// A list as stored: when it was imported, and the list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub imported_at: String,
    pub list: List,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SanctionsError + '_ {
    move |source| SanctionsError::Io { path: path.display().to_string(), source }
}

/// Reads `path` in `format` and stores it in `dir`, replacing that list's previous version.
/// `published` (YYYY-MM-DD) is required knowledge for the CSV set, which states no date.
pub fn import(
    dir: &Path,
    format: Format,
    path: &Path,
    published: Option<String>,
    now: Timestamp,
) -> Result<ListMeta, SanctionsError> {
    if published
        .as_deref()
        .is_some_and(|p| time::Date::parse(p, &time::format_description::well_known::Iso8601::DATE).is_err())
    {
        return Err(SanctionsError::Published);
    }
    let mut list = match format {
        Format::OfacSdnCsv => idgate_screening::ofac_csv::load(path, published.clone())?,
        Format::OfacSdnXml => idgate_screening::ofac_xml::load(path)?,
        Format::UnXml => idgate_screening::un_xml::load(path)?,
    };
    if let Some(p) = published {
        list.meta.published = Some(p);
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = dir.join(format!("{}.json", list.meta.name));
    let stored = Stored { imported_at: now.to_rfc3339(), list };
    let json = serde_json::to_vec(&stored)
        .map_err(|e| SanctionsError::Stored { path: target.display().to_string(), why: e.to_string() })?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    std::io::Write::write_all(&mut tmp, &json).map_err(io(&target))?;
    tmp.as_file().sync_all().map_err(io(&target))?;
    tmp.persist(&target).map_err(|e| SanctionsError::Io { path: target.display().to_string(), source: e.error })?;
    Ok(stored.list.meta)
}

/// Every list stored in `dir` (none when it does not exist), by name.
pub fn load(dir: &Path) -> Result<Vec<Stored>, SanctionsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(io(path))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| SanctionsError::Stored { path: path.display().to_string(), why: e.to_string() })
        })
        .collect()
}

/// The loaded lists, indexed, and when each was published and imported.
pub struct Sanctions {
    pub screener: Screener,
    pub lists: Vec<(ListMeta, String)>,
}

impl Sanctions {
    pub fn new(stored: Vec<Stored>, thresholds: Thresholds) -> Self {
        let lists: Vec<List> = stored.iter().map(|s| s.list.clone()).collect();
        Self {
            screener: Screener::new(&lists, thresholds),
            lists: stored.into_iter().map(|s| (s.list.meta, s.imported_at)).collect(),
        }
    }

    pub fn load(dir: &Path, thresholds: Thresholds) -> Result<Self, SanctionsError> {
        Ok(Self::new(load(dir)?, thresholds))
    }

    /// Days since the oldest list's publication (None: no list, or one without a date).
    pub fn age_days(meta: &ListMeta, today: time::Date) -> Option<i64> {
        let published =
            time::Date::parse(meta.published.as_deref()?, &time::format_description::well_known::Iso8601::DATE).ok()?;
        Some((today - published).whole_days())
    }
}
