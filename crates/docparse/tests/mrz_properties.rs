//! Properties of the MRZ parser over generated zones of every format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use idgate_docparse::mrz::{self, Class, Format, MrzData, Repair, Sex, format_lines};
use proptest::prelude::*;
use time::macros::date;
use time::{Date, Duration};

const TODAY: Date = date!(2026 - 11 - 23);

fn word() -> impl Strategy<Value = String> {
    "[A-Z]{1,9}"
}

fn words(min: usize, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(word(), min..=max).prop_map(|w| w.join(" "))
}

fn country() -> impl Strategy<Value = String> {
    "[A-Z]{3}"
}

fn format() -> impl Strategy<Value = Format> {
    prop::sample::select(Format::ALL.to_vec())
}

/// A day between `from` and `from + days`.
fn day(from: Date, days: i64) -> impl Strategy<Value = Date> {
    (0..days).prop_map(move |d| from + Duration::days(d))
}

fn zone() -> impl Strategy<Value = MrzData> {
    (
        format(),
        "[A-Z]",
        (country(), country()),
        "[A-Z0-9]{1,9}",
        (words(1, 2), words(0, 3)),
        day(date!(1927 - 01 - 01), 36_000),
        day(date!(2000 - 01 - 01), 17_000),
        prop::sample::select(vec![Sex::Male, Sex::Female, Sex::Unspecified]),
        ("[A-Z0-9]{0,7}", "[A-Z0-9]{0,11}"),
    )
        .prop_map(|(format, second, (state, nat), number, (surname, given), birth, expiry, sex, (opt1, opt2))| {
            let first = match format {
                Format::Td3 => "P",
                Format::Mrva | Format::Mrvb => "V",
                Format::Td1 | Format::Td2 => "I",
            };
            MrzData {
                format,
                document_code: format!("{first}{second}"),
                issuing_state: state,
                document_number: number,
                surname,
                given_names: given,
                nationality: nat,
                birth_date: birth.min(TODAY),
                sex,
                expiry_date: expiry,
                optional1: opt1,
                optional2: if format == Format::Td1 { opt2 } else { String::new() },
            }
        })
        .prop_filter("names fit the line", |d| {
            let width = match d.format {
                Format::Td1 => 30,
                Format::Td2 | Format::Mrvb => 31,
                Format::Td3 | Format::Mrva => 39,
            };
            d.surname.len() + d.given_names.len() + 2 <= width
        })
}

fn parse(lines: &[String], repair: Repair) -> mrz::Mrz {
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    mrz::parse(&refs, TODAY, repair).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// format → parse gives the fields back, every check digit holding, nothing "repaired".
    #[test]
    fn every_format_round_trips(data in zone()) {
        let lines = format_lines(&data);
        prop_assert_eq!(lines.len(), data.format.lines());
        prop_assert!(lines.iter().all(|l| l.len() == data.format.width()), "{:?}", lines);
        for repair in [Repair::Strict, Repair::Ocr] {
            let m = parse(&lines, repair);
            prop_assert_eq!(m.format, data.format);
            prop_assert!(m.check_digits_valid(), "{:?} {:?}", lines, m.checks);
            prop_assert!(m.corrections.is_empty(), "{:?}", m.corrections);
            prop_assert_eq!(&m.document_number, &data.document_number);
            prop_assert_eq!(&m.surname, &data.surname);
            prop_assert_eq!(&m.given_names, &data.given_names);
            prop_assert_eq!(&m.issuing_state, &data.issuing_state);
            prop_assert_eq!(&m.nationality, &data.nationality);
            prop_assert_eq!(m.birth_date, Some(data.birth_date));
            prop_assert_eq!(m.expiry_date, Some(data.expiry_date));
            prop_assert_eq!(m.sex, data.sex);
            let mut expected: Vec<&str> = Vec::new();
            if data.birth_date >= data.expiry_date {
                expected.push("birth_after_expiry");
            }
            if data.expiry_date < TODAY {
                expected.push("expired");
            }
            prop_assert_eq!(m.findings.clone(), expected);
        }
    }

    /// TD1 numbers of 10 to 14 characters overflow into the optional field and come back.
    #[test]
    fn long_td1_numbers_round_trip(mut data in zone(), number in "[A-Z0-9]{10,14}") {
        data.format = Format::Td1;
        data.document_code = "ID".into();
        data.document_number = number.clone();
        data.optional1 = String::new();
        prop_assume!(data.surname.len() + data.given_names.len() + 2 <= 30);
        let m = parse(&format_lines(&data), Repair::Strict);
        prop_assert!(m.check_digits_valid());
        prop_assert_eq!(m.document_number, number);
    }

    /// One changed character is caught: where a check digit covers it, by a check digit or a
    /// field rule, unless its value differs by a multiple of 10 (0/A/K/U, 1/B/L/V, ...: the
    /// blind spot of the 7-3-1 scheme, asserted here as exactly that); anywhere, a character
    /// of the wrong kind (a digit in a name) is a field error.
    #[test]
    fn a_single_changed_character_is_detected(data in zone(), line in 0usize..3, col in 0usize..44, to in "[A-Z0-9<]") {
        let mut lines = format_lines(&data);
        let (line, col) = (line % lines.len(), col % lines[0].len());
        let from = lines[line].as_bytes()[col];
        let to = if to.as_bytes()[0] == from { if from == b'<' { b'A' } else { b'<' } } else { to.as_bytes()[0] };
        let mut bytes = lines[line].clone().into_bytes();
        bytes[col] = to;
        lines[line] = String::from_utf8(bytes).unwrap();
        let m = parse(&lines, Repair::Strict);
        let detected = !m.check_digits_valid() || m.findings.iter().any(|f| f.starts_with("invalid_"));
        let covered = mrz::covered_positions(data.format).contains(&(line, col));
        let blind = mrz::char_value(to).unwrap() % 10 == mrz::char_value(from).unwrap() % 10;
        if covered && !blind {
            prop_assert!(detected, "{:?} changed at {},{}: {:?}", lines, line, col, m.checks);
        }
        let wrong_kind = match mrz::class_at(data.format, line, col) {
            Some(Class::Alpha) => to.is_ascii_digit(),
            Some(Class::Numeric) => to.is_ascii_uppercase(),
            _ => false,
        };
        if wrong_kind {
            prop_assert!(detected, "{:?}: {:?}", lines, m.findings);
        }
    }

    /// With OCR repair on, a letter/digit confusion in the document number that leaves the
    /// character out of step with the number (a letter among digits, or the reverse) is put
    /// back and reported as a correction, or left failing; never turned into another valid
    /// number. (On a visa, a confusion that blends in, a digit among digits, stays unrepaired.)
    #[test]
    fn repair_restores_or_reports(data in zone(), at in 0usize..9) {
        let mut lines = format_lines(&data);
        let (line, col) = if data.format == Format::Td1 { (0, 5 + at) } else { (1, at) };
        let field: Vec<u8> = lines[line].as_bytes()[col - at..col - at + 9].to_vec();
        let from = lines[line].as_bytes()[col];
        let to = match from { b'0' => b'O', b'O' => b'0', b'1' => b'I', b'I' => b'1', b'8' => b'B', b'B' => b'8', b'5' => b'S', b'S' => b'5', _ => return Ok(()) };
        let mut corrupted = field.clone();
        corrupted[at] = to;
        let digits = corrupted.iter().filter(|c| c.is_ascii_digit()).count();
        let letters = corrupted.iter().filter(|c| c.is_ascii_uppercase()).count();
        let out_of_step = if to.is_ascii_digit() { letters > digits } else { digits > letters };
        // Formats with a composite try every single swap; visas only out-of-step characters.
        prop_assume!(out_of_step || !data.format.is_visa());
        let mut bytes = lines[line].clone().into_bytes();
        bytes[col] = to;
        lines[line] = String::from_utf8(bytes).unwrap();
        let m = parse(&lines, Repair::Ocr);
        if m.check_digits_valid() {
            prop_assert_eq!(&m.lines, &format_lines(&data), "repaired into another value");
            prop_assert!(!m.corrections.is_empty());
        }
    }
}
