//! Published specimen documents, recognised by what only a specimen has: its document number,
//! its whole identity (family name, given names and birth date together), or a name made of
//! the word "specimen" in some language. A family name alone never makes a specimen: ERIKSSON
//! is ICAO's sample name and one of Sweden's most common, MUSTERMANN is rare but real.

use time::{Date, Month};

use crate::domain::names::fold;

/// Document numbers of published specimens (ICAO 9303 examples, public specimen documents,
/// the specimens in public MRZ libraries' test suites).
const NUMBERS: &[&str] = &[
    // ICAO 9303: the TD3, TD2/TD1 and visa examples.
    "L898902C3",
    "L898902C",
    "D23145890",
    "D23145890734",
    "L8988901C",
    // National specimens: UKR, CAN, ESP, LIE, SRB, LVA, MCO, SWE, CZE, INP, GBR/FRA visas.
    "XX000000",
    "ZE000509",
    "BAA000589",
    "ID9875401",
    "955555546",
    "PA9992921",
    "029067",
    "59000002",
    "99003853",
    "A2222222",
    "XI85935F8",
    "F00000000",
    // DEU and AUT identity card specimens.
    "T01008921",
    "PA1234567",
    // BEL identity card specimens (printed SPECIMEN<<SPECIMEN).
    "000001115702",
    "592211692174",
    "615057409939",
];

/// Whole identities of published specimens: (family name, given names, birth date).
const IDENTITIES: &[(&str, &str, (i32, Month, u8))] = &[
    // ICAO 9303 part 4 (TD3), parts 5 and 6 (TD1, TD2), and the older passport example.
    ("ERIKSSON", "ANNA MARIA", (1974, Month::August, 12)),
    ("ERIKSSON", "ANNA MARIA", (1969, Month::August, 6)),
    // ICAO 9303 part 7 (machine-readable visas).
    ("ERIKSSON", "ANNA MARIA", (1940, Month::September, 7)),
    // German identity card and passport specimen.
    ("MUSTERMANN", "ERIKA", (1964, Month::August, 12)),
    // Austrian identity card specimen.
    ("MUSTERFRAU", "MARIA", (1981, Month::December, 31)),
    // US visa specimen.
    ("TRAVELER", "HAPPY", (1966, Month::December, 12)),
];

/// Words that only a specimen prints as a family name.
const SPECIMEN_SURNAMES: &[&str] = &["SPECIMEN", "SPECIMAN", "ESPECIMEN", "VZOR"];

/// Words meaning "specimen" or "sample" that are also real family names somewhere (Sample,
/// Muster, Minta ...): a specimen only when the whole name, given names included, is made of
/// such words.
const SPECIMEN_WORDS: &[&str] = &[
    "SPECIMEN",
    "SPECIMAN",
    "ESPECIMEN",
    "VZOR",
    "WZOR",
    "MUSTER",
    "SAMPLE",
    "MINTA",
    "UZORAK",
    "MODELO",
    "EXEMPLAR",
    "NAYTE",
];

/// Why a document is a specimen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specimen {
    Number,
    Identity,
    Name,
}

/// Whether the document read is a published specimen. `number` as read (fillers allowed).
pub fn recognise(number: &str, family: &str, given: &str, birth: Option<Date>) -> Option<Specimen> {
    let number = number.trim_end_matches('<');
    if NUMBERS.contains(&number) {
        return Some(Specimen::Number);
    }
    let family = fold(family);
    let given = fold(given);
    let identity = IDENTITIES.iter().any(|(f, g, (y, m, d))| {
        fold(f) == family && fold(g) == given && birth.is_some_and(|b| (b.year(), b.month(), b.day()) == (*y, *m, *d))
    });
    if identity {
        return Some(Specimen::Identity);
    }
    let surname_is_the_word = matches!(family.as_slice(), [only] if SPECIMEN_SURNAMES.contains(&only.as_str()));
    let all_words = !family.is_empty()
        && !given.is_empty()
        && family.iter().chain(&given).all(|w| SPECIMEN_WORDS.contains(&w.as_str()));
    (surname_is_the_word || all_words).then_some(Specimen::Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: Month, d: u8) -> Option<Date> {
        Date::from_calendar_date(y, m, d).ok()
    }

    #[test]
    fn a_family_name_alone_is_no_specimen() {
        assert_eq!(recognise("91234567", "ERIKSSON", "JOHAN", date(1988, Month::March, 2)), None);
        assert_eq!(recognise("91234567", "ERIKSSON", "ANNA MARIA", date(1988, Month::March, 2)), None);
        assert_eq!(recognise("C01X00T47", "MUSTERMANN", "ERIKA", date(1990, Month::May, 1)), None);
        assert_eq!(recognise("123456789", "SAMPLE", "JOSEPH", date(1939, Month::February, 1)), None);
        assert_eq!(recognise("123456789", "MUSTER", "HANS", date(1970, Month::June, 1)), None);
    }

    #[test]
    fn numbers_identities_and_the_word_are_specimens() {
        assert_eq!(recognise("L898902C3", "X", "Y", None), Some(Specimen::Number));
        assert_eq!(recognise("D23145890<<<", "X", "Y", None), Some(Specimen::Number));
        let icao = recognise("123456789", "ERIKSSON", "ANNA MARIA", date(1974, Month::August, 12));
        assert_eq!(icao, Some(Specimen::Identity));
        let german = recognise("123456789", "Mustermann", "Erika", date(1964, Month::August, 12));
        assert_eq!(german, Some(Specimen::Identity));
        assert_eq!(recognise("123456789", "SPECIMEN", "ALICE MARIE", None), Some(Specimen::Name));
        assert_eq!(recognise("123456789", "VZOR", "SPECIMEN", None), Some(Specimen::Name));
        assert_eq!(recognise("123456789", "SAMPLE", "SPECIMEN", None), Some(Specimen::Name));
        assert_eq!(recognise("123456789", "MUSTER", "", None), None);
    }
}
