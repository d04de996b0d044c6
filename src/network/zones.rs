//! IANA time zones by country: `zone.tab` (one country per zone) and the aliases of
//! `tzdata.zi` (`L Asia/Kolkata Asia/Calcutta`: browsers still report some old names), both
//! from the PyPI `tzdata` package set-up installs.

use std::collections::HashMap;
use std::path::Path;

use crate::pipeline::risk::lists::{ListError, ListVersion, read_version};

pub const ZONES_FILE: &str = "zone.tab";
pub const LINKS_FILE: &str = "tzdata.zi";

#[derive(Debug, Default, Clone)]
pub struct Zones {
    country: HashMap<String, String>,
    pub versions: Vec<ListVersion>,
}

/// What a browser's time zone says about where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZonePlace {
    /// A zone of one country (ISO alpha-2).
    Country(String),
    /// `UTC`, `Etc/GMT+5` …: no place (servers and remote sessions often run on UTC).
    Universal,
    Unknown,
}

impl Zones {
    pub fn load(dir: &Path) -> Result<Self, ListError> {
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file))
                .map_err(|source| ListError::Io { file: dir.join(file).display().to_string(), source })
        };
        let (zones, links) = (read(ZONES_FILE)?, read(LINKS_FILE)?);
        let mut z = Self::parse(&zones, &links);
        if z.country.len() < 300 {
            return Err(ListError::Format { file: ZONES_FILE.into(), why: format!("only {} zones", z.country.len()) });
        }
        z.versions = vec![
            read_version(dir, "tz_zones", ZONES_FILE, zones.as_bytes())?,
            read_version(dir, "tz_links", LINKS_FILE, links.as_bytes())?,
        ];
        Ok(z)
    }

    pub fn parse(zone_tab: &str, tzdata_zi: &str) -> Self {
        let mut country: HashMap<String, String> = zone_tab
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split('\t');
                let (code, _, zone) = (f.next()?, f.next()?, f.next()?);
                Some((zone.to_owned(), code.to_owned()))
            })
            .collect();
        for line in tzdata_zi.lines() {
            let mut f = line.split_whitespace();
            if let (Some("L"), Some(target), Some(alias)) = (f.next(), f.next(), f.next())
                && let Some(code) = country.get(target).cloned()
            {
                country.entry(alias.to_owned()).or_insert(code);
            }
        }
        Self { country, versions: Vec::new() }
    }

    pub fn place(&self, zone: &str) -> ZonePlace {
        let zone = zone.trim();
        if let Some(code) = self.country.get(zone) {
            return ZonePlace::Country(code.clone());
        }
        let universal = ["UTC", "GMT", "UCT", "Zulu", "Universal", "Greenwich"];
        if universal.iter().any(|u| zone.eq_ignore_ascii_case(u)) || zone.starts_with("Etc/") {
            ZonePlace::Universal
        } else {
            ZonePlace::Unknown
        }
    }

    /// Whether `country` has a zone at all (else the comparison means nothing).
    pub fn has_country(&self, country: &str) -> bool {
        self.country.values().any(|c| c == country)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_and_their_aliases_name_a_country() {
        let z = Zones::parse(
            "# c\nKP\t+3901+12545\tAsia/Pyongyang\nIN\t+2232+08822\tAsia/Kolkata\n",
            "Z Asia/Kolkata 5:53:28 - LMT\nL Asia/Kolkata Asia/Calcutta\nL Nowhere/X Y/Z\n",
        );
        assert_eq!(z.place("Asia/Pyongyang"), ZonePlace::Country("KP".into()));
        assert_eq!(z.place("Asia/Calcutta"), ZonePlace::Country("IN".into()));
        assert_eq!((z.place("Etc/GMT+5"), z.place("UTC")), (ZonePlace::Universal, ZonePlace::Universal));
        assert_eq!(z.place("Mars/Olympus"), ZonePlace::Unknown);
    }
}
