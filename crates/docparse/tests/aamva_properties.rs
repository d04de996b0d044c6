//! Properties of the AAMVA parser: generated payloads of every version come back field by
//! field, with each version's and country's date order; damaged payloads are flagged partial;
//! arbitrary bytes never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use idgate_docparse::aamva;
use idgate_docparse::mrz::Sex;
use proptest::prelude::*;
use time::{Date, Duration};

#[derive(Debug, Clone)]
struct Card {
    version: u8,
    canadian: bool,
    family: String,
    first: String,
    middle: String,
    number: String,
    birth: Date,
    expiry: Date,
    issue: Date,
    sex: Sex,
    street: String,
    city: String,
}

fn date_text(d: Date, year_first: bool) -> String {
    let (y, m, day) = (d.year(), u8::from(d.month()), d.day());
    if year_first { format!("{y:04}{m:02}{day:02}") } else { format!("{m:02}{day:02}{y:04}") }
}

/// The payload a card printer would encode: header, one DL designator, the elements.
fn payload(c: &Card) -> Vec<u8> {
    let year_first = c.version == 1 || c.canadian;
    let iin = if c.canadian { "636012" } else { "636014" };
    let sex = match c.sex {
        Sex::Male => "1",
        Sex::Female => "2",
        Sex::Unspecified => "9",
    };
    let mut elements = vec![format!("DAQ{}", c.number)];
    if c.version == 1 {
        elements.push(format!("DAA{},{},{}", c.family, c.first, c.middle));
    } else if c.version == 2 {
        elements.push(format!("DCS{}", c.family));
        elements.push(format!("DCT{},{}", c.first, c.middle));
    } else {
        elements.push(format!("DCS{}", c.family));
        elements.push(format!("DAC{}", c.first));
        elements.push(format!("DAD{}", c.middle));
    }
    elements.push(format!("DBB{}", date_text(c.birth, year_first)));
    elements.push(format!("DBA{}", date_text(c.expiry, year_first)));
    elements.push(format!("DBD{}", date_text(c.issue, year_first)));
    elements.push(format!("DBC{sex}"));
    elements.push(format!("DAG{}", c.street));
    elements.push(format!("DAI{}", c.city));
    elements.push(format!("DCG{}", if c.canadian { "CAN" } else { "USA" }));
    let body = format!("DL{}\r", elements.join("\n"));
    let header_len = if c.version == 1 { 5 + 6 + 2 + 2 } else { 5 + 6 + 2 + 2 + 2 };
    let offset = 4 + header_len + 10;
    let versions = if c.version == 1 { format!("{:02}", c.version) } else { format!("{:02}00", c.version) };
    let header = format!("@\n\x1e\rANSI {iin}{versions}01DL{offset:04}{:04}", body.len());
    format!("{header}{body}").into_bytes()
}

fn day(from: (i32, u8), days: i64) -> impl Strategy<Value = Date> {
    let start = Date::from_calendar_date(from.0, time::Month::January, from.1).unwrap();
    (0..days).prop_map(move |d| start + Duration::days(d))
}

fn card() -> impl Strategy<Value = Card> {
    (
        1u8..=10,
        any::<bool>(),
        ("[A-Z]{2,12}", "[A-Z]{2,10}", "[A-Z]{2,10}"),
        "[A-Z0-9]{5,12}",
        (day((1930, 1), 25_000), day((2000, 1), 15_000)),
        prop::sample::select(vec![Sex::Male, Sex::Female, Sex::Unspecified]),
        ("[0-9]{1,5} [A-Z]{3,10} ST", "[A-Z]{3,12}"),
    )
        .prop_map(|(version, canadian, (family, first, middle), number, (birth, issue), sex, (street, city))| {
            Card {
                version,
                canadian,
                family,
                first,
                middle,
                number,
                birth,
                issue,
                expiry: issue + Duration::days(8 * 365),
                sex,
                street,
                city,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_payloads_round_trip(c in card()) {
        let licence = aamva::parse(&payload(&c)).unwrap();
        prop_assert!(!licence.partial, "{:?}", licence.problems);
        prop_assert!(licence.problems.is_empty(), "{:?}", licence.problems);
        let header = licence.header.as_ref().unwrap();
        prop_assert_eq!(header.version, c.version);
        prop_assert_eq!(licence.jurisdiction.unwrap().country, if c.canadian { "CAN" } else { "USA" });
        prop_assert_eq!(licence.document_number.as_deref(), Some(c.number.as_str()));
        prop_assert_eq!(licence.family_name.as_deref(), Some(c.family.as_str()));
        prop_assert_eq!(licence.first_name.as_deref(), Some(c.first.as_str()));
        prop_assert_eq!(licence.middle_names.as_deref(), Some(c.middle.as_str()));
        prop_assert_eq!(licence.birth_date, Some(c.birth));
        prop_assert_eq!(licence.expiry_date, Some(c.expiry));
        prop_assert_eq!(licence.issue_date, Some(c.issue));
        prop_assert_eq!(licence.sex, Some(c.sex));
        prop_assert_eq!(licence.address.street.as_deref(), Some(c.street.as_str()));
        prop_assert_eq!(licence.address.city.as_deref(), Some(c.city.as_str()));
    }

    /// Cut anywhere after the header: what is there is read, and the payload says it is partial.
    #[test]
    fn truncated_payloads_are_partial(c in card(), keep in 0.3f64..0.85) {
        let full = payload(&c);
        let cut = &full[..(full.len() as f64 * keep) as usize];
        match aamva::parse(cut) {
            Ok(licence) => prop_assert!(licence.partial && licence.problems.contains(&"truncated"), "{:?}", licence.problems),
            Err(e) => prop_assert_eq!(e, aamva::AamvaError::NotAamva),
        }
    }

    /// A version the standard does not have yet is read as the latest, and flagged.
    #[test]
    fn unknown_versions_are_flagged(mut c in card(), version in 11u8..=99) {
        c.version = version;
        let licence = aamva::parse(&payload(&c)).unwrap();
        prop_assert!(licence.partial && licence.problems.contains(&"unknown_version"));
        prop_assert_eq!(licence.document_number.as_deref(), Some(c.number.as_str()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = aamva::parse(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics_the_mrz_parser(lines in prop::collection::vec(".{0,50}", 0..4)) {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let today = time::macros::date!(2026 - 11 - 23);
        let _ = idgate_docparse::mrz::parse(&refs, today, idgate_docparse::mrz::Repair::Ocr);
    }
}
