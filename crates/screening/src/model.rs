//! A sanctions list as loaded: what the matcher needs of each entry, and the list's version.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Individual,
    Entity,
    /// Vessels, aircraft and the like.
    Other,
}

/// How much a listed name says: the primary name, a strong alias, or a weak one (OFAC's
/// "weak AKA", UN's "Low" quality: broad nicknames that should never match alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameStrength {
    Primary,
    Strong,
    Weak,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedName {
    pub name: String,
    pub strength: NameStrength,
}

/// A birth date as a list gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BirthDate {
    Exact {
        year: i32,
        month: u8,
        day: u8,
    },
    Month {
        year: i32,
        month: u8,
    },
    Year {
        year: i32,
    },
    /// "circa", "approximately": within two years.
    Circa {
        year: i32,
    },
    /// From one year to another, both included.
    Range {
        from: i32,
        to: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The list's own id (OFAC `ent_num`, UN `REFERENCE_NUMBER`).
    pub id: String,
    pub kind: EntryKind,
    pub names: Vec<ListedName>,
    #[serde(default)]
    pub birth_dates: Vec<BirthDate>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub nationalities: Vec<String>,
    /// e.g. `DPRK2`, `SDGT`.
    #[serde(default)]
    pub programs: Vec<String>,
}

/// What a list is and which version of it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMeta {
    /// `ofac-sdn` or `un-consolidated`.
    pub name: String,
    /// The format it was read from (`ofac-sdn-csv`, `ofac-sdn-xml`, `un-xml`).
    pub format: String,
    /// The publication date the list states (YYYY-MM-DD), or the one given on import.
    pub published: Option<String>,
    /// sha256 of the source bytes (the CSV set's files in order: sdn, alt, add).
    pub sha256: String,
    pub entries: usize,
    pub individuals: usize,
    /// Names with aliases, over all entries.
    pub names: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List {
    pub meta: ListMeta,
    pub entries: Vec<Entry>,
}

impl List {
    pub(crate) fn new(
        name: &str,
        format: &str,
        published: Option<String>,
        sources: &[&[u8]],
        entries: Vec<Entry>,
    ) -> Self {
        let mut hash = Sha256::new();
        for source in sources {
            hash.update(source);
        }
        let meta = ListMeta {
            name: name.to_owned(),
            format: format.to_owned(),
            published,
            sha256: hex::encode(hash.finalize()),
            entries: entries.len(),
            individuals: entries.iter().filter(|e| e.kind == EntryKind::Individual).count(),
            names: entries.iter().map(|e| e.names.len()).sum(),
        };
        Self { meta, entries }
    }
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/// A month's number from its English name or abbreviation.
pub(crate) fn month_of(word: &str) -> Option<u8> {
    let upper = word.to_ascii_uppercase();
    let prefix = upper.get(..3)?;
    MONTHS.iter().position(|m| *m == prefix).and_then(|i| u8::try_from(i + 1).ok())
}

/// A YYYY-MM-DD date's parts.
pub(crate) fn iso_date(text: &str) -> Option<(i32, u8, u8)> {
    let mut parts = text.trim().get(..10)?.split('-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day = parts.next()?.parse().ok().filter(|d| (1..=31).contains(d))?;
    Some((year, month, day))
}
