//! What the candidate claims to be, parsed once into types that cannot hold bad values.
//! Every error names the field and the rule, never the value. `Debug` of PII is redacted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

use super::time::Timestamp;

/// A claim that broke a rule: `field` is the JSON path, `rule` a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ClaimError {
    pub field: String,
    pub rule: &'static str,
}

fn err(field: &str, rule: &'static str) -> ClaimError {
    ClaimError { field: field.to_owned(), rule }
}

macro_rules! redacted_debug {
    ($($name:ident),*) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(***)"))
            }
        }
    )*};
}

/// A given or family name: 1–100 characters of letters, marks, spaces, `-`, `'`, `.`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str, field: &str) -> Result<Self, ClaimError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || raw.chars().count() > 100 {
            return Err(err(field, "length_1_to_100"));
        }
        let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.' | '\u{2019}') || is_mark(c);
        if !trimmed.chars().all(allowed) {
            return Err(err(field, "letters_spaces_hyphens_apostrophes_only"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// A birth date (YYYY-MM-DD) in the past, at most 130 years ago.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BirthDate(Date);

impl BirthDate {
    pub fn parse(raw: &str, today: Date) -> Result<Self, ClaimError> {
        let date = Date::parse(raw, format_description!("[year]-[month]-[day]"))
            .map_err(|_| err("birth_date", "date_yyyy_mm_dd"))?;
        if date >= today {
            return Err(err("birth_date", "in_the_future"));
        }
        if today.year() - date.year() > 130 {
            return Err(err("birth_date", "more_than_130_years_ago"));
        }
        Ok(Self(date))
    }

    pub fn date(self) -> Date {
        self.0
    }

    pub fn to_iso(self) -> String {
        self.0.format(format_description!("[year]-[month]-[day]")).unwrap_or_default()
    }
}

/// An ISO 3166-1 alpha-2 country code known to the phone-number metadata.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Country(phonenumber::country::Id);

impl Country {
    pub fn parse(raw: &str, field: &str) -> Result<Self, ClaimError> {
        if raw.len() != 2 || !raw.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err(field, "iso_3166_alpha2"));
        }
        phonenumber::country::Id::from_str(raw).map(Self).map_err(|_| err(field, "unknown_country"))
    }

    pub fn code(self) -> String {
        format!("{:?}", self.0)
    }

    pub fn id(self) -> phonenumber::country::Id {
        self.0
    }
}

/// A phone number as claimed: in E.164 when it parses (valid or not: validity is a risk
/// signal, not a reason to refuse the verification), else the trimmed text.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `raw`; numbers without a `+` prefix are read in the `residence` country. Only
    /// an empty, over-long or control-character value is refused.
    pub fn parse(raw: &str, residence: Country) -> Result<Self, ClaimError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || raw.chars().count() > 64 || raw.chars().any(char::is_control) {
            return Err(err("phone", "1_to_64_characters_without_control_characters"));
        }
        Ok(match phonenumber::parse(Some(residence.id()), trimmed) {
            Ok(number) => Self(number.format().mode(phonenumber::Mode::E164).to_string()),
            Err(_) => Self(trimmed.to_owned()),
        })
    }

    /// E.164 when the number parsed, else the text as claimed.
    pub fn e164(&self) -> &str {
        &self.0
    }
}

/// An e-mail address as claimed (its domain lower-cased). Only an empty, over-long (> 254) or
/// control-character value is refused: a malformed address is a risk signal.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ClaimError> {
        let untrimmed = raw;
        let raw = raw.trim();
        if raw.is_empty() || untrimmed.len() > 254 || untrimmed.chars().any(char::is_control) {
            return Err(err("email", "1_to_254_bytes_without_control_characters"));
        }
        Ok(Self(match raw.rsplit_once('@') {
            Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
            None => raw.to_owned(),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The HR system's own id for the candidate: 1–128 of `A-Z a-z 0-9 . _ : -`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(raw: &str) -> Result<Self, ClaimError> {
        let ok = (1..=128).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(err("external_id", "1_to_128_of_alnum_dot_underscore_colon_dash"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

redacted_debug!(PersonName, BirthDate, Phone, Email);

/// One claimed education entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Education {
    /// 1–200 characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub institution: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub degree: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "super::whole::optional")]
    #[schema(minimum = 1000, maximum = 9999)]
    pub start_year: Option<i32>,
    #[serde(default, deserialize_with = "super::whole::optional")]
    #[schema(minimum = 1000, maximum = 9999)]
    pub end_year: Option<i32>,
}

/// The claims as they arrive (JSON); `Claims::parse` turns them into checked types.
/// Rules JSON Schema cannot state are refused with `422` naming the field and the rule: names
/// are letters, marks, spaces, `-`, `'`, `.`; a birth date lies in the past, at most 130 years
/// back. The phone and e-mail are taken as claimed (their quality is a risk signal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClaims {
    /// 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub given_name: String,
    /// 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub family_name: String,
    #[schema(format = Date)]
    pub birth_date: String,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
    /// ISO 3166-1 alpha-2; a phone number without `+` is read in this country.
    pub residence_country: String,
    /// 1–64 characters, no control characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub phone: String,
    /// 1–254 bytes, no control characters, not only spaces.
    #[schema(
        min_length = 1,
        max_length = 254,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub email: String,
    /// At most 20 entries.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub education: Vec<Education>,
}

/// Checked claims. Stored encrypted; serialised only into that encrypted form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub given_name: PersonName,
    pub family_name: PersonName,
    pub birth_date: BirthDate,
    pub nationality: Country,
    pub residence_country: Country,
    pub phone: Phone,
    pub email: Email,
    pub education: Vec<Education>,
}

impl Claims {
    pub fn parse(raw: &RawClaims, now: Timestamp) -> Result<Self, ClaimError> {
        let today = now.date().ok_or_else(|| err("birth_date", "clock_out_of_range"))?;
        let residence_country = Country::parse(&raw.residence_country, "residence_country")?;
        if raw.education.len() > 20 {
            return Err(err("education", "at_most_20_entries"));
        }
        for (i, e) in raw.education.iter().enumerate() {
            check_education(e, i)?;
        }
        Ok(Self {
            given_name: PersonName::parse(&raw.given_name, "given_name")?,
            family_name: PersonName::parse(&raw.family_name, "family_name")?,
            birth_date: BirthDate::parse(&raw.birth_date, today)?,
            nationality: Country::parse(&raw.nationality, "nationality")?,
            residence_country,
            phone: Phone::parse(&raw.phone, residence_country)?,
            email: Email::parse(&raw.email)?,
            education: raw.education.clone(),
        })
    }

    /// The normalised form, as stored (encrypted).
    pub fn to_raw(&self) -> RawClaims {
        RawClaims {
            given_name: self.given_name.as_str().to_owned(),
            family_name: self.family_name.as_str().to_owned(),
            birth_date: self.birth_date.to_iso(),
            nationality: self.nationality.code(),
            residence_country: self.residence_country.code(),
            phone: self.phone.e164().to_owned(),
            email: self.email.as_str().to_owned(),
            education: self.education.clone(),
        }
    }
}

fn check_education(e: &Education, i: usize) -> Result<(), ClaimError> {
    let field = |name: &str| format!("education[{i}].{name}");
    if e.institution.trim().is_empty() || e.institution.chars().count() > 200 {
        return Err(ClaimError { field: field("institution"), rule: "length_1_to_200" });
    }
    if e.degree.as_ref().is_some_and(|d| d.chars().count() > 200) {
        return Err(ClaimError { field: field("degree"), rule: "at_most_200" });
    }
    if let Some(c) = &e.country {
        Country::parse(c, &field("country"))?;
    }
    for (name, year) in [("start_year", e.start_year), ("end_year", e.end_year)] {
        // Structural only: an impossible timeline is a risk signal, not a refusal.
        if year.is_some_and(|y| !(1000..=9999).contains(&y)) {
            return Err(ClaimError { field: field(name), rule: "four_digit_year" });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-11-23T12:00:00Z").unwrap()
    }

    pub(crate) fn raw() -> RawClaims {
        RawClaims {
            given_name: "Zoë".into(),
            family_name: "O'Neill-Smith".into(),
            birth_date: "1990-02-28".into(),
            nationality: "IE".into(),
            residence_country: "DE".into(),
            phone: "030 901820".into(),
            email: "Zoe@Example.COM".into(),
            education: vec![],
        }
    }

    #[test]
    fn good_claims_are_normalised() {
        let c = Claims::parse(&raw(), now()).unwrap();
        assert_eq!(c.phone.e164(), "+4930901820");
        assert_eq!(c.email.as_str(), "Zoe@example.com");
        assert_eq!(c.birth_date.to_iso(), "1990-02-28");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (fn(&mut RawClaims), &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (|r| r.birth_date = "28/02/1990".into(), "birth_date", "date_yyyy_mm_dd"),
            (|r| r.birth_date = "2030-01-01".into(), "birth_date", "in_the_future"),
            (|r| r.email = "a\u{7}@example.com".into(), "email", "1_to_254_bytes_without_control_characters"),
            (|r| r.phone = " ".into(), "phone", "1_to_64_characters_without_control_characters"),
            (|r| r.nationality = "XX".into(), "nationality", "unknown_country"),
            (|r| r.given_name = "R2-D2".into(), "given_name", "letters_spaces_hyphens_apostrophes_only"),
            (|r| r.family_name = " ".into(), "family_name", "length_1_to_100"),
        ];
        for (mutate, field, rule) in cases {
            let mut r = raw();
            mutate(&mut r);
            assert_eq!(Claims::parse(&r, now()).unwrap_err(), ClaimError { field: field.into(), rule });
        }
    }

    #[test]
    fn suspicious_but_parseable_claims_are_taken() {
        let mut r = raw();
        r.phone = "555-0100".into();
        r.email = "not-an-email".into();
        r.education.push(Education {
            institution: "TU Berlin".into(),
            degree: None,
            country: Some("DE".into()),
            start_year: Some(2012),
            end_year: Some(2010),
        });
        let c = Claims::parse(&r, now()).unwrap();
        assert_eq!((c.phone.e164(), c.email.as_str()), ("+495550100", "not-an-email"));
        r.education[0].end_year = Some(20100);
        assert_eq!(Claims::parse(&r, now()).unwrap_err().field, "education[0].end_year");
    }

    #[test]
    fn pii_is_redacted_in_debug() {
        let c = Claims::parse(&raw(), now()).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("Zo") && !shown.contains("1990") && !shown.contains("4930"), "{shown}");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = PersonName::parse(&s, "f");
            let _ = Email::parse(&s);
            let _ = ExternalId::parse(&s);
            let _ = BirthDate::parse(&s, now().date().unwrap());
            if let Ok(c) = Country::parse("DE", "c") { let _ = Phone::parse(&s, c); }
        }
    }
}
