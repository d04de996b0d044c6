//! Machine-readable zones (ICAO Doc 9303): TD1, TD2, TD3, MRV-A and MRV-B, parsed into
//! fields with every check digit, repaired where OCR confused characters.
//!
//! Two-digit years: a birth year is the latest year ending in those digits that is not after
//! the reference day (nobody is born in the future); an expiry year is the one ending in those
//! digits within 50 years before to 49 years after the reference day (documents run at most
//! ten years, so an old expiry stays in the past and a new one in the future).

mod check_digit;
mod fields;
mod layout;
mod long_number;
mod repair;
mod text;
mod zone;

pub use check_digit::char_value;
pub use check_digit::compute as check_digit;
pub use fields::{DocumentKind, Sex, iso_date as fields_iso_date};
pub use layout::{Checked, Class, Field, Format, class_at, covered_positions};
pub use long_number::{Convention as LongNumberConvention, FILLER_INCLUDED};
pub use text::{MrzData, format_lines};
pub use zone::Correction;

use serde::Serialize;
use time::Date;

use zone::Zone;

/// Text that is no machine-readable zone at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotMrz {
    #[error("expected 2 or 3 lines of 30, 36 or 44 characters, got {lines} line(s) of up to {width}")]
    Shape { lines: usize, width: usize },
    #[error("the text is mostly characters a machine-readable zone cannot hold")]
    Characters,
}

impl NotMrz {
    pub fn code(&self) -> &'static str {
        match self {
            NotMrz::Shape { .. } => "mrz_shape",
            NotMrz::Characters => "mrz_characters",
        }
    }
}

/// Whether to repair OCR confusions (`Strict` reports the text exactly as given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    Strict,
    Ocr,
}

/// One check digit's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub field: Checked,
    pub valid: bool,
}

/// A field's validity (its check digit, or its own rules) and confidence (0–1: the weakest
/// character as read, halved where the repair changed it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FieldReport {
    pub field: Field,
    pub valid: bool,
    pub confidence: f32,
}

/// A parsed zone. Holds personal data: never log it.
#[derive(Clone, PartialEq, Serialize)]
pub struct Mrz {
    pub format: Format,
    pub lines: Vec<String>,
    pub document_code: String,
    pub document_kind: DocumentKind,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    #[serde(with = "fields::iso_date")]
    pub birth_date: Option<Date>,
    pub sex: Sex,
    #[serde(with = "fields::iso_date")]
    pub expiry_date: Option<Date>,
    pub optional_data: Vec<String>,
    /// For a number longer than nine characters on TD1/TD2: the convention its check digit
    /// held under (`None` for a short number, or a digit that fits no accepted convention).
    pub long_number_check: Option<long_number::Convention>,
    pub checks: Vec<CheckResult>,
    pub fields: Vec<FieldReport>,
    pub corrections: Vec<Correction>,
    /// Stable codes: failed check digits, invalid fields, `ocr_corrected`, `expired`.
    pub findings: Vec<&'static str>,
    pub confidence: f32,
}

impl std::fmt::Debug for Mrz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mrz").field("format", &self.format).field("findings", &self.findings).finish_non_exhaustive()
    }
}

impl Mrz {
    /// Every check digit holds.
    pub fn check_digits_valid(&self) -> bool {
        self.checks.iter().all(|c| c.valid)
    }

    pub fn field(&self, field: Field) -> Option<&FieldReport> {
        self.fields.iter().find(|f| f.field == field)
    }
}

/// Parses clean text (one string per line), as given.
pub fn parse(lines: &[&str], today: Date, repair: Repair) -> Result<Mrz, NotMrz> {
    let read: Vec<(String, Vec<f32>)> = lines.iter().map(|l| ((*l).to_owned(), Vec::new())).collect();
    parse_read(&read, today, repair)
}

/// Parses lines as read by OCR, each with its per-character confidence (empty = certain).
pub fn parse_read(lines: &[(String, Vec<f32>)], today: Date, repair: Repair) -> Result<Mrz, NotMrz> {
    let mut normalised: Vec<(Vec<u8>, Vec<f32>)> = lines
        .iter()
        .map(|(text, conf)| {
            let line = repair::normalise(text);
            let conf = if conf.len() == line.len() { conf.clone() } else { vec![1.0; line.len()] };
            (line, conf)
        })
        .filter(|(line, _)| !line.is_empty())
        .collect();
    if let [(single, conf)] = normalised.as_slice()
        && let Some(width) =
            [30usize, 36, 44].into_iter().find(|w| single.len() == w * 2 || (*w == 30 && single.len() == 90))
    {
        normalised = single.chunks(width).zip(conf.chunks(width)).map(|(l, c)| (l.to_vec(), c.to_vec())).collect();
    }
    let width = normalised.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let first = normalised.first().and_then(|(l, _)| l.first()).copied().unwrap_or(b'?');
    let format =
        Format::guess(normalised.len(), width, first).ok_or(NotMrz::Shape { lines: normalised.len(), width })?;
    let total: usize = normalised.iter().map(|(l, _)| l.len()).sum();
    let foreign = normalised.iter().flat_map(|(l, _)| l.iter()).filter(|c| **c == b'?').count();
    if foreign * 5 > total {
        return Err(NotMrz::Characters);
    }
    let raw: Vec<Vec<u8>> = normalised.iter().map(|(l, _)| l.clone()).collect();
    let zone = match repair {
        Repair::Strict => strict_zone(format, &normalised),
        Repair::Ocr => repaired_zone(format, &raw, &normalised),
    };
    Ok(fields::read(&zone, today, usize::from(raw.iter().any(|l| l.len() != format.width()))))
}

fn strict_zone(format: Format, lines: &[(Vec<u8>, Vec<f32>)]) -> Zone {
    let width = format.width();
    let (text, conf) = lines
        .iter()
        .map(|(l, c)| {
            let mut l = l.clone();
            let mut c = c.clone();
            l.resize(width, b'<');
            c.resize(width, 1.0);
            (l, c)
        })
        .unzip();
    Zone::new(format, text, conf)
}

/// Tries every filler fitting, repairs each, keeps the one with most checks holding and
/// fewest changes.
fn repaired_zone(format: Format, raw: &[Vec<u8>], lines: &[(Vec<u8>, Vec<f32>)]) -> Zone {
    let mut best: Option<(usize, usize, Zone)> = None;
    for (variant, _) in repair::fitted_variants(raw, format) {
        let conf = variant.iter().zip(lines).map(|(l, (_, c))| fit_confidence(c, l.len())).collect();
        let mut zone = Zone::new(format, variant, conf);
        repair::fix_classes(&mut zone);
        repair::search_swaps(&mut zone);
        let failing = zone.failing_checks().len();
        let changes = zone.corrections.len();
        if best.as_ref().is_none_or(|(f, c, _)| (failing, changes) < (*f, *c)) {
            best = Some((failing, changes, zone));
        }
    }
    best.map(|(_, _, z)| z).unwrap_or_else(|| strict_zone(format, lines))
}

fn fit_confidence(conf: &[f32], width: usize) -> Vec<f32> {
    let mut c = conf.to_vec();
    c.resize(width, conf.iter().copied().fold(1.0, f32::min));
    c
}

#[cfg(test)]
mod tests;
