//! From a (repaired) zone to typed fields, their validity and the findings.

use serde::Serialize;
use time::{Date, Month};

use super::layout::{Checked, Field, Format, Layout};
use super::zone::Zone;
use super::{CheckResult, FieldReport, Mrz};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Passport,
    IdCard,
    Visa,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    Unspecified,
}

impl Sex {
    pub fn code(self) -> char {
        match self {
            Sex::Male => 'M',
            Sex::Female => 'F',
            Sex::Unspecified => '<',
        }
    }
}

/// Dates as YYYY-MM-DD (or null).
pub mod iso_date {
    use serde::Serializer;
    use time::Date;
    use time::macros::format_description;

    pub fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date.and_then(|d| d.format(format_description!("[year]-[month]-[day]")).ok()) {
            Some(text) => s.serialize_str(&text),
            None => s.serialize_none(),
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A code or number without its fillers.
fn stripped(bytes: &[u8]) -> String {
    text(bytes).trim_matches('<').to_owned()
}

/// `SURNAME<<GIVEN<NAMES<<<<` → ("SURNAME", "GIVEN NAMES"); fillers inside a name are spaces.
pub fn names(bytes: &[u8]) -> (String, String) {
    let all = text(bytes);
    let all = all.trim_end_matches('<');
    let (primary, secondary) = all.split_once("<<").unwrap_or((all, ""));
    let words = |s: &str| s.split('<').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    (words(primary), words(secondary))
}

fn two_digits(bytes: &[u8]) -> Option<i32> {
    match bytes {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some(i32::from(a - b'0') * 10 + i32::from(b - b'0')),
        _ => None,
    }
}

/// YYMMDD with the century chosen by `century` from the two-digit year.
fn date(bytes: &[u8], century: impl Fn(i32, u8, u8) -> i32) -> Option<Date> {
    let yy = two_digits(bytes.get(0..2)?)?;
    let mm = u8::try_from(two_digits(bytes.get(2..4)?)?).ok()?;
    let dd = u8::try_from(two_digits(bytes.get(4..6)?)?).ok()?;
    let year = century(yy, mm, dd);
    Date::from_calendar_date(year, Month::try_from(mm).ok()?, dd).ok()
}

/// Birth: the latest year ending in `yy` that puts the date on or before `today`.
pub fn birth_date(bytes: &[u8], today: Date) -> Option<Date> {
    date(bytes, |yy, mm, dd| {
        let base = today.year() - today.year().rem_euclid(100) + yy;
        let fits = Month::try_from(mm)
            .ok()
            .and_then(|m| Date::from_calendar_date(base, m, dd).ok())
            .is_some_and(|d| d <= today);
        if fits { base } else { base - 100 }
    })
}

/// Expiry: the year ending in `yy` within [today − 50 years, today + 49 years].
pub fn expiry_date(bytes: &[u8], today: Date) -> Option<Date> {
    date(bytes, |yy, _, _| {
        let base = today.year() - today.year().rem_euclid(100) + yy;
        if base > today.year() + 49 {
            base - 100
        } else if base < today.year() - 50 {
            base + 100
        } else {
            base
        }
    })
}

fn letters_or_fillers(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|c| c.is_ascii_uppercase() || *c == b'<')
}

fn mrz_chars(bytes: &[u8]) -> bool {
    bytes.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'<')
}

pub fn read(zone: &Zone, today: Date, length_adjusted: usize) -> Mrz {
    let format = zone.format;
    let layout = Layout::of(format);
    let checks: Vec<CheckResult> =
        zone.checks().into_iter().map(|(field, valid)| CheckResult { field, valid }).collect();
    let check_ok = |c: Checked| checks.iter().find(|r| r.field == c).map(|r| r.valid);

    let code = zone.field(Field::DocumentCode);
    let document_kind = match (format, code.first()) {
        (Format::Mrva | Format::Mrvb, _) | (_, Some(b'V')) => DocumentKind::Visa,
        (Format::Td3, Some(b'P')) => DocumentKind::Passport,
        (_, Some(b'I' | b'A' | b'C')) => DocumentKind::IdCard,
        _ => DocumentKind::Other,
    };
    let (surname, given_names) = names(zone.field(Field::Names));
    let birth = birth_date(zone.field(Field::BirthDate), today);
    let expiry = expiry_date(zone.field(Field::ExpiryDate), today);
    let sex = match zone.field(Field::Sex) {
        b"M" => Some(Sex::Male),
        b"F" => Some(Sex::Female),
        b"X" | b"<" => Some(Sex::Unspecified),
        _ => None,
    };
    let document_number = match zone.long_number() {
        Some((number, _)) => stripped(&number),
        None => stripped(zone.field(Field::DocumentNumber)),
    };

    let mut reports = Vec::new();
    let mut findings: Vec<&'static str> = Vec::new();
    for (field, span, _) in layout.fields {
        let bytes = zone.text(*span);
        let valid = match field {
            Field::DocumentNumber => check_ok(Checked::DocumentNumber).unwrap_or(true) && !document_number.is_empty(),
            Field::BirthDate => birth.is_some() && check_ok(Checked::BirthDate).unwrap_or(true),
            Field::ExpiryDate => expiry.is_some() && check_ok(Checked::ExpiryDate).unwrap_or(true),
            Field::PersonalNumber => mrz_chars(bytes) && check_ok(Checked::PersonalNumber).unwrap_or(true),
            Field::Sex => sex.is_some(),
            Field::Names => letters_or_fillers(bytes) && !surname.is_empty(),
            Field::DocumentCode => letters_or_fillers(bytes) && bytes.first().is_some_and(u8::is_ascii_uppercase),
            Field::IssuingState | Field::Nationality => {
                letters_or_fillers(bytes) && bytes.first().is_some_and(u8::is_ascii_uppercase)
            }
            Field::Optional1 | Field::Optional2 => mrz_chars(bytes),
        };
        if !valid {
            findings.push(invalid_finding(*field));
        }
        reports.push(FieldReport { field: *field, valid, confidence: zone.span_confidence(*span) });
    }
    for check in &checks {
        if !check.valid {
            findings.push(check.field.finding());
        }
    }
    if !zone.corrections.is_empty() || length_adjusted > 0 {
        findings.push("ocr_corrected");
    }
    if expiry.is_some_and(|e| e < today) {
        findings.push("expired");
    }
    if let (Some(b), Some(e)) = (birth, expiry)
        && b >= e
    {
        findings.push("birth_after_expiry");
    }
    findings.sort_unstable();
    findings.dedup();

    let optional_data = [Field::Optional1, Field::Optional2, Field::PersonalNumber]
        .iter()
        .map(|f| stripped(zone.field(*f)))
        .filter(|s| !s.is_empty())
        .collect();
    let mean = reports.iter().map(|r| r.confidence).sum::<f32>() / reports.len().max(1) as f32;
    let all_checks = checks.iter().all(|c| c.valid);
    Mrz {
        format,
        lines: zone.text_lines(),
        document_code: stripped(code),
        document_kind,
        issuing_state: stripped(zone.field(Field::IssuingState)),
        document_number,
        surname,
        given_names,
        nationality: stripped(zone.field(Field::Nationality)),
        birth_date: birth,
        sex: sex.unwrap_or(Sex::Unspecified),
        expiry_date: expiry,
        optional_data,
        long_number_check: zone.long_number_convention(),
        checks,
        fields: reports,
        corrections: zone.corrections.clone(),
        findings,
        confidence: if all_checks { mean } else { mean * 0.5 },
    }
}

fn invalid_finding(field: Field) -> &'static str {
    match field {
        Field::DocumentCode => "invalid_document_code",
        Field::IssuingState => "invalid_issuing_state",
        Field::DocumentNumber => "invalid_document_number",
        Field::Optional1 | Field::Optional2 => "invalid_optional_data",
        Field::BirthDate => "invalid_birth_date",
        Field::Sex => "invalid_sex",
        Field::ExpiryDate => "invalid_expiry_date",
        Field::Nationality => "invalid_nationality",
        Field::Names => "invalid_names",
        Field::PersonalNumber => "invalid_personal_number",
    }
}
