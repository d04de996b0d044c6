//! The AAMVA DL/ID card design standard: the text encoded in the PDF417 barcode on the back of
//! US and Canadian driving licences and ID cards (versions 1 to 10).
//!
//! Dates: version 1 writes CCYYMMDD; later versions write MMDDCCYY in the US and CCYYMMDD in
//! Canada. A date that does not parse in its expected order is tried in the other and the
//! payload gets the problem `date_order_unexpected`.

mod elements;
mod header;
mod jurisdictions;

use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Month};

pub use header::{Designator, Header};
pub use jurisdictions::Jurisdiction;

use super::mrz::{Sex, fields_iso_date as iso_date};

/// The highest AAMVA version this parser knows.
pub const MAX_VERSION: u8 = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AamvaError {
    #[error("no AAMVA header and no DL/ID element: this is not a licence barcode")]
    NotAamva,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub street: Option<String>,
    pub street_2: Option<String>,
    pub city: Option<String>,
    pub jurisdiction: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// A licence or ID card as its barcode says. Holds personal data: never log it.
#[derive(Clone, PartialEq, Serialize)]
pub struct Licence {
    pub header: Option<Header>,
    pub jurisdiction: Option<Jurisdiction>,
    /// `DL` or `ID` (the first subfile), when the header says.
    pub document_type: Option<String>,
    pub document_number: Option<String>,
    pub family_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_names: Option<String>,
    pub suffix: Option<String>,
    #[serde(with = "iso_date")]
    pub birth_date: Option<Date>,
    #[serde(with = "iso_date")]
    pub expiry_date: Option<Date>,
    #[serde(with = "iso_date")]
    pub issue_date: Option<Date>,
    pub sex: Option<Sex>,
    pub address: Address,
    pub height_cm: Option<u16>,
    pub eye_colour: Option<&'static str>,
    /// Every element as written (ID → value), including jurisdiction-specific `Z` ones.
    pub elements: BTreeMap<String, String>,
    /// Something could not be read in full: what is here is what could be read safely.
    pub partial: bool,
    /// Stable codes: `bad_header`, `unknown_version`, `truncated`, `missing_elements`,
    /// `no_separators`, `date_order_unexpected`, `invalid_date`.
    pub problems: Vec<&'static str>,
}

impl std::fmt::Debug for Licence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Licence")
            .field("partial", &self.partial)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl Licence {
    /// Given names as one string (first, then middle).
    pub fn given_names(&self) -> Option<String> {
        let parts: Vec<&str> =
            [self.first_name.as_deref(), self.middle_names.as_deref()].into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn date(raw: &str, year_first: bool, problems: &mut Vec<&'static str>) -> Option<Date> {
    let d: String = raw.chars().filter(char::is_ascii_digit).collect();
    let parse = |year_first: bool| -> Option<Date> {
        let n = |r: std::ops::Range<usize>| d.get(r).and_then(|s| s.parse::<u32>().ok());
        let (y, m, day) = if year_first { (n(0..4)?, n(4..6)?, n(6..8)?) } else { (n(4..8)?, n(0..2)?, n(2..4)?) };
        let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(day).ok()?).ok()
    };
    if d.len() != 8 {
        problems.push("invalid_date");
        return None;
    }
    parse(year_first).or_else(|| {
        let other = parse(!year_first);
        problems.push(if other.is_some() { "date_order_unexpected" } else { "invalid_date" });
        other
    })
}

fn height_cm(raw: &str) -> Option<u16> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let n: f32 = digits.parse().ok()?;
    let upper = raw.to_ascii_uppercase();
    let cm = if upper.contains("CM") {
        n
    } else if upper.contains("IN") {
        n * 2.54
    } else if digits.len() == 3 {
        // Version 1: FII (feet, inches).
        let feet: f32 = digits.get(..1)?.parse().ok()?;
        let inches: f32 = digits.get(1..)?.parse().ok()?;
        (feet * 12.0 + inches) * 2.54
    } else {
        return None;
    };
    (50.0..=260.0).contains(&cm).then_some(cm.round() as u16)
}

fn eye_colour(code: &str) -> Option<&'static str> {
    Some(match code.trim() {
        "BLK" => "black",
        "BLU" => "blue",
        "BRO" => "brown",
        "GRY" => "grey",
        "GRN" => "green",
        "HAZ" => "hazel",
        "MAR" => "maroon",
        "PNK" => "pink",
        "DIC" => "dichromatic",
        "UNK" => "unknown",
        _ => return None,
    })
}

fn non_empty(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty() && s != "NONE" && s != "unavl" && s != "UNAVL")
}

/// Parses a decoded barcode payload.
pub fn parse(payload: &[u8]) -> Result<Licence, AamvaError> {
    let mut problems: Vec<&'static str> = Vec::new();
    let header = header::parse(payload);
    let (body, separator, kinds) = match &header {
        Some(h) => {
            let kinds: Vec<String> = h.designators.iter().map(|d| d.kind.clone()).collect();
            (payload.get(h.end..).unwrap_or_default(), h.separator, kinds)
        }
        None => {
            problems.push("bad_header");
            (payload, payload.iter().copied().find(|c| *c == b'\n'), vec!["DL".to_owned(), "ID".to_owned()])
        }
    };
    let elements = elements::split(body, separator, &kinds);
    if elements.is_empty() {
        return Err(AamvaError::NotAamva);
    }
    let version = header.as_ref().map_or(1, |h| h.version);
    if let Some(h) = &header {
        if h.version == 0 || h.version > MAX_VERSION {
            problems.push("unknown_version");
        }
        if h.separator.is_none() {
            problems.push("no_separators");
        }
        let expected = h.designators.iter().map(|d| d.offset + d.length).max().unwrap_or(0);
        let available = payload.len().saturating_sub(h.start);
        if h.separator.is_some() && (h.designators.len() < usize::from(h.entries) || available * 10 < expected * 9) {
            problems.push("truncated");
        }
    }
    let jurisdiction = header.as_ref().and_then(|h| jurisdictions::by_iin(&h.iin));
    let country = non_empty(elements.get("DCG")).or_else(|| jurisdiction.map(|j| j.country.to_owned()));
    let year_first = version <= 1 || country.as_deref() == Some("CAN");

    // Names: DCS/DAC/DAD (v3+), DCS + DCT (v2), DAB/DAC/DAD or DAA "FAMILY,FIRST,MIDDLE,SUFFIX" (v1).
    let full: Vec<String> = non_empty(elements.get("DAA"))
        .map(|s| s.split([',', '$']).map(|p| p.trim().to_owned()).collect())
        .unwrap_or_default();
    let given: Vec<String> = non_empty(elements.get("DCT"))
        .map(|s| s.split([',', ' ', '$']).filter(|p| !p.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let family_name = non_empty(elements.get("DCS"))
        .or_else(|| non_empty(elements.get("DAB")))
        .or_else(|| full.first().cloned().filter(|s| !s.is_empty()));
    let first_name = non_empty(elements.get("DAC"))
        .or_else(|| given.first().cloned())
        .or_else(|| full.get(1).cloned().filter(|s| !s.is_empty()));
    let middle_names = non_empty(elements.get("DAD"))
        .or_else(|| (given.len() > 1).then(|| given.get(1..).unwrap_or_default().join(" ")))
        .or_else(|| full.get(2).cloned().filter(|s| !s.is_empty()));
    let suffix = non_empty(elements.get("DCU"))
        .or_else(|| non_empty(elements.get("DAE")))
        .or_else(|| full.get(3).cloned().filter(|s| !s.is_empty()));

    let mut dated = |id: &str| non_empty(elements.get(id)).and_then(|raw| date(&raw, year_first, &mut problems));
    let birth_date = dated("DBB");
    let expiry_date = dated("DBA");
    let issue_date = dated("DBD");
    let sex = non_empty(elements.get("DBC")).and_then(|s| match s.as_str() {
        "1" | "M" => Some(Sex::Male),
        "2" | "F" => Some(Sex::Female),
        "9" | "X" => Some(Sex::Unspecified),
        _ => None,
    });
    let postal_code = non_empty(elements.get("DAK")).map(|p| {
        let p = p.trim_end_matches([' ', '-']).to_owned();
        match (p.len(), p.chars().all(|c| c.is_ascii_digit())) {
            (9, true) if p.ends_with("0000") => p.get(..5).unwrap_or(&p).to_owned(),
            (9, true) => format!("{}-{}", p.get(..5).unwrap_or(""), p.get(5..).unwrap_or("")),
            _ => p,
        }
    });
    let document_number = non_empty(elements.get("DAQ")).or_else(|| non_empty(elements.get("DBJ")));
    if document_number.is_none() || birth_date.is_none() || family_name.is_none() || expiry_date.is_none() {
        problems.push("missing_elements");
    }
    problems.sort_unstable();
    problems.dedup();
    let partial =
        problems.iter().any(|p| matches!(*p, "bad_header" | "unknown_version" | "truncated" | "missing_elements"));
    Ok(Licence {
        jurisdiction,
        document_type: header.as_ref().and_then(|h| h.designators.first()).map(|d| d.kind.clone()),
        document_number,
        family_name,
        first_name,
        middle_names,
        suffix,
        birth_date,
        expiry_date,
        issue_date,
        sex,
        address: Address {
            street: non_empty(elements.get("DAG")),
            street_2: non_empty(elements.get("DAH")),
            city: non_empty(elements.get("DAI")),
            jurisdiction: non_empty(elements.get("DAJ")),
            postal_code,
            country,
        },
        height_cm: non_empty(elements.get("DAU"))
            .and_then(|h| height_cm(&h))
            .or_else(|| non_empty(elements.get("DAV")).and_then(|h| height_cm(&format!("{h} CM")))),
        eye_colour: non_empty(elements.get("DAY")).and_then(|e| eye_colour(&e)),
        elements,
        partial,
        problems,
        header,
    })
}
