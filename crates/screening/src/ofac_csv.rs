//! OFAC's legacy CSV set: `sdn.csv` (one row per entry: number, name `LAST, First`, type,
//! programmes, …, remarks), `alt.csv` (aliases) and `add.csv` (addresses, read for the
//! checksum only). `-0-` is an empty field. Birth dates and nationalities are in the remarks
//! (`DOB 18 Feb 1962; alt. DOB circa 1946; nationality Korea, North`). The set carries no
//! publication date: it is given on import.

use std::collections::HashMap;
use std::path::Path;

use crate::model::{BirthDate, Entry, EntryKind, List, ListedName, NameStrength, month_of};
use crate::{LoadError, countries};

const FORMAT: &str = "ofac-sdn-csv";

/// `dir` holds `sdn.csv`, `alt.csv` and `add.csv` (or `path` is `sdn.csv` itself, with the
/// others beside it).
pub fn load(path: &Path, published: Option<String>) -> Result<List, LoadError> {
    let dir = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let sdn = crate::read(&dir.join("sdn.csv"))?;
    let alt = crate::read(&dir.join("alt.csv"))?;
    let add = crate::read(&dir.join("add.csv"))?;
    parse(&sdn, &alt, &add, published).map_err(|why| LoadError::format(&dir.join("sdn.csv"), FORMAT, why))
}

fn field(value: Option<&str>) -> Option<String> {
    let v = value?.trim();
    (!v.is_empty() && v != "-0-").then(|| v.to_owned())
}

fn rows(bytes: &[u8], min_columns: usize, file: &str) -> Result<Vec<csv::StringRecord>, String> {
    let text = String::from_utf8_lossy(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("{file} row {}: {e}", n + 1))?;
        if row.len() == 1 && row.get(0).is_some_and(|c| c.trim().is_empty() || c.starts_with('\u{1a}')) {
            continue;
        }
        if row.len() < min_columns {
            return Err(format!("{file} row {}: {} columns, expected {min_columns}", n + 1, row.len()));
        }
        out.push(row);
    }
    Ok(out)
}

pub fn parse(sdn: &[u8], alt: &[u8], add: &[u8], published: Option<String>) -> Result<List, String> {
    let mut aliases: HashMap<String, Vec<ListedName>> = HashMap::new();
    for row in rows(alt, 4, "alt.csv")? {
        let (Some(ent), Some(name)) = (field(row.get(0)), field(row.get(3))) else { continue };
        aliases.entry(ent).or_default().push(ListedName { name, strength: NameStrength::Strong });
    }
    let mut entries = Vec::new();
    for row in rows(sdn, 12, "sdn.csv")? {
        let Some(id) = field(row.get(0)) else { continue };
        if id.parse::<u64>().is_err() {
            return Err(format!("sdn.csv: entry number {id:?} is not a number"));
        }
        let Some(name) = field(row.get(1)) else { continue };
        let kind = match field(row.get(2)).as_deref() {
            Some("individual") => EntryKind::Individual,
            None => EntryKind::Entity,
            Some(_) => EntryKind::Other,
        };
        let programs = field(row.get(3))
            .map(|p| p.split(['[', ']']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let remarks = field(row.get(11)).unwrap_or_default();
        let mut names = vec![ListedName { name, strength: NameStrength::Primary }];
        names.extend(aliases.remove(&id).unwrap_or_default());
        let (birth_dates, nationalities) = remarks_facts(&remarks);
        entries.push(Entry { id, kind, names, birth_dates, nationalities, programs });
    }
    if entries.is_empty() {
        return Err("sdn.csv has no entries".to_owned());
    }
    Ok(List::new("ofac-sdn", FORMAT, published, &[sdn, alt, add], entries))
}

/// Birth dates and nationalities (and citizenships) from an entry's remarks.
pub(crate) fn remarks_facts(remarks: &str) -> (Vec<BirthDate>, Vec<String>) {
    let mut dates = Vec::new();
    let mut nationalities = Vec::new();
    for part in remarks.split(';') {
        let part = part.trim().trim_end_matches('.').trim();
        let part = part.strip_prefix("alt. ").unwrap_or(part);
        if let Some(dob) = part.strip_prefix("DOB ") {
            dates.extend(parse_birth_date(dob));
        } else if let Some(country) = part.strip_prefix("nationality ").or_else(|| part.strip_prefix("citizen "))
            && let Some(code) = countries::alpha2(country)
            && !nationalities.iter().any(|n| n == code)
        {
            nationalities.push(code.to_owned());
        }
    }
    (dates, nationalities)
}

/// `18 Feb 1962`, `Feb 1962`, `1962`, `circa 1947`, `1973 to 1974`,
/// `01 Jan 1960 to 31 Dec 1962`.
pub fn parse_birth_date(text: &str) -> Option<BirthDate> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("circa ") {
        return Some(BirthDate::Circa { year: year_of(rest.split_whitespace().last()?)? });
    }
    if let Some((from, to)) = text.split_once(" to ") {
        let last_year = |s: &str| s.split_whitespace().last().and_then(year_of);
        return Some(BirthDate::Range { from: last_year(from)?, to: last_year(to)? });
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        [day, month, year] => Some(BirthDate::Exact {
            year: year_of(year)?,
            month: month_of(month)?,
            day: day.parse().ok().filter(|d| (1..=31).contains(d))?,
        }),
        [month, year] => Some(BirthDate::Month { year: year_of(year)?, month: month_of(month)? }),
        [year] => Some(BirthDate::Year { year: year_of(year)? }),
        _ => None,
    }
}

fn year_of(word: &str) -> Option<i32> {
    word.trim_end_matches('.').parse().ok().filter(|y| (1800..=2100).contains(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_give_dates_and_nationalities() {
        let (dates, nat) =
            remarks_facts("DOB 18 Feb 1962; alt. DOB circa 1946; nationality Korea, North; citizen Iran.");
        assert_eq!(dates, [BirthDate::Exact { year: 1962, month: 2, day: 18 }, BirthDate::Circa { year: 1946 }]);
        assert_eq!(nat, ["KP", "IR"]);
        assert_eq!(parse_birth_date("1973 to 1974"), Some(BirthDate::Range { from: 1973, to: 1974 }));
        assert_eq!(parse_birth_date("01 Jan 1960 to 31 Dec 1962"), Some(BirthDate::Range { from: 1960, to: 1962 }));
        assert_eq!(parse_birth_date("Jan 1960"), Some(BirthDate::Month { year: 1960, month: 1 }));
        assert_eq!(parse_birth_date("sometime"), None);
    }
}
