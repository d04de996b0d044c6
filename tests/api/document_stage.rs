//! The document stage's own checks on zones given as text (the parser as the service runs
//! it, OCR repair on): a real family name is no specimen, a published specimen still is, and
//! long Belgian and Portuguese card numbers are checked under their issuer's convention.

use std::time::Duration;

use idgate::document::mrz::{self, Format, MrzData, Repair, Sex, format_lines};
use idgate::document::read::MrzRead;
use idgate::document::reading::Reading;
use idgate::pipeline::document_check::{ClaimedIdentity, DocumentCheck, DocumentPolicy, Severity, assess};
use time::Date;
use time::macros::date;

const TODAY: Date = date!(2026 - 12 - 03);

fn claims(given: &str, family: &str, birth: Date, nationality: &str) -> ClaimedIdentity {
    ClaimedIdentity {
        given_name: given.into(),
        family_name: family.into(),
        birth_date: birth,
        nationality: nationality.into(),
    }
}

/// The document stage on a zone, as read.
fn stage(lines: &[&str], claimed: &ClaimedIdentity) -> DocumentCheck {
    let zone = mrz::parse(lines, TODAY, Repair::Ocr).unwrap();
    let reading = Reading {
        mrz: Some(MrzRead { mrz: zone, raw_lines: Vec::new(), region: [0.0; 4] }),
        barcode: None,
        barcode_not_aamva: false,
        ocr_time: Duration::ZERO,
        barcode_time: Duration::ZERO,
    };
    assess(&reading, claimed, TODAY, DocumentPolicy::default())
}

fn codes(check: &DocumentCheck) -> Vec<&'static str> {
    check.findings.iter().map(|f| f.code).collect()
}

/// A Swedish passport zone (TD3) for `surname<<given` with a number of our own.
fn swedish_passport(number: &str, surname: &str, given: &str, birth: Date) -> Vec<String> {
    format_lines(&MrzData {
        format: Format::Td3,
        document_code: "P".into(),
        issuing_state: "SWE".into(),
        document_number: number.into(),
        surname: surname.into(),
        given_names: given.into(),
        nationality: "SWE".into(),
        birth_date: birth,
        sex: Sex::Male,
        expiry_date: date!(2030 - 05 - 14),
        optional1: "8803021238".into(),
        optional2: String::new(),
    })
}

#[test]
fn an_eriksson_is_a_person_and_the_icao_specimen_is_still_a_specimen() {
    let johan = claims("Johan", "Eriksson", date!(1988 - 03 - 02), "SE");
    let lines = swedish_passport("91357246", "ERIKSSON", "JOHAN", date!(1988 - 03 - 02));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let check = stage(&refs, &johan);
    assert_eq!(check.check_digits_valid, Some(true), "{lines:?}");
    assert!(check.worst().is_none_or(|s| s == Severity::Info), "{:?}", check.findings);

    // The ICAO 9303 specimen passport, claimed exactly as printed: rejected as a specimen.
    let anna = claims("Anna Maria", "Eriksson", date!(1974 - 08 - 12), "UT");
    let specimen = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
    let check = stage(&specimen, &anna);
    assert!(codes(&check).contains(&"specimen_document"), "{:?}", check.findings);
    assert_eq!(check.worst(), Some(Severity::Critical));

    // The specimen's whole identity on a document with another number: still a specimen ...
    let lines = swedish_passport("91357246", "ERIKSSON", "ANNA MARIA", date!(1974 - 08 - 12));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let check = stage(&refs, &claims("Anna Maria", "Eriksson", date!(1974 - 08 - 12), "SE"));
    assert!(codes(&check).contains(&"specimen_document"), "{:?}", check.findings);
    // ... but Anna Maria Eriksson born on another day is a person.
    let lines = swedish_passport("91357246", "ERIKSSON", "ANNA MARIA", date!(1991 - 01 - 30));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let check = stage(&refs, &claims("Anna Maria", "Eriksson", date!(1991 - 01 - 30), "SE"));
    assert!(!codes(&check).contains(&"specimen_document"), "{:?}", check.findings);
    assert!(check.worst().is_none_or(|s| s == Severity::Info), "{:?}", check.findings);
}

#[test]
fn long_card_numbers_are_checked_under_their_issuers_convention() {
    let lotte = claims("Lotte Marie", "Peeters", date!(1988 - 06 - 17), "BE");
    let belgian = |line1: &str, line2: &'static str| {
        [line1.to_owned(), line2.to_owned(), "PEETERS<<LOTTE<MARIE<<<<<<<<<<".to_owned()]
    };
    for (zone, convention) in [
        (belgian("IDBEL591191706<4584<<<<<<<<<<<", "8806172F3105054BEL880617123459"), "icao"),
        (belgian("IDBEL591191706<4586<<<<<<<<<<<", "8806172F3105054BEL880617123455"), "filler_included"),
    ] {
        let refs: Vec<&str> = zone.iter().map(String::as_str).collect();
        let check = stage(&refs, &lotte);
        assert_eq!(check.check_digits_valid, Some(true), "{zone:?}");
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["long_number_check"], convention, "{json}");
        assert!(check.worst().is_none_or(|s| s == Severity::Info), "{:?}", check.findings);
    }
    // A digit that fits neither convention: a human looks.
    let zone = belgian("IDBEL591191706<4587<<<<<<<<<<<", "8806172F3105054BEL880617123458");
    let refs: Vec<&str> = zone.iter().map(String::as_str).collect();
    let check = stage(&refs, &lotte);
    assert!(codes(&check).contains(&"check_digits_invalid"), "{:?}", check.findings);
    assert_eq!(serde_json::to_value(&check).unwrap()["long_number_check"], serde_json::Value::Null);

    // Portugal: the ICAO convention only.
    let joao = claims("Joao Pedro", "Silva Santos", date!(1985 - 04 - 12), "PT");
    let line2 = "8504124M3301018PRT<<<<<<<<<<<4";
    let line3 = "SILVA<SANTOS<<JOAO<PEDRO<<<<<<";
    let check = stage(&["I<PRT135792460<ZZ61<<<<<<<<<<<", line2, line3], &joao);
    assert_eq!(check.check_digits_valid, Some(true));
    assert_eq!(serde_json::to_value(&check).unwrap()["long_number_check"], "icao");
    // The digit the filler-included convention gives (composite digit recomputed to match):
    // refused, as the number's check alone fails.
    let check = stage(&["I<PRT135792460<ZZ67<<<<<<<<<<<", "8504124M3301018PRT<<<<<<<<<<<2", line3], &joao);
    assert!(codes(&check).contains(&"check_digits_invalid"), "{:?}", check.findings);
}
