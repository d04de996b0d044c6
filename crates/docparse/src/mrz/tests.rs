use time::macros::date;

use super::*;

const TODAY: Date = date!(2026 - 11 - 23);

const TD3: [&str; 2] = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];
const TD1: [&str; 3] =
    ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"];

fn parsed(lines: &[&str]) -> Mrz {
    parse(lines, TODAY, Repair::Ocr).unwrap()
}

#[test]
fn icao_passport_specimen() {
    let m = parsed(&TD3);
    assert_eq!(m.format, Format::Td3);
    assert!(m.check_digits_valid(), "{:?}", m.checks);
    assert_eq!((m.surname.as_str(), m.given_names.as_str()), ("ERIKSSON", "ANNA MARIA"));
    assert_eq!(m.document_number, "L898902C3");
    assert_eq!((m.issuing_state.as_str(), m.nationality.as_str()), ("UTO", "UTO"));
    assert_eq!(m.birth_date, Some(date!(1974 - 08 - 12)));
    assert_eq!(m.expiry_date, Some(date!(2012 - 04 - 15)));
    assert_eq!(m.sex, Sex::Female);
    assert_eq!(m.document_kind, DocumentKind::Passport);
    assert_eq!(m.optional_data, vec!["ZE184226B"]);
    assert_eq!(m.findings, vec!["expired"]);
    assert!(m.corrections.is_empty());
}

#[test]
fn icao_id_card_specimen() {
    let m = parsed(&TD1);
    assert_eq!(m.format, Format::Td1);
    assert!(m.check_digits_valid(), "{:?}", m.checks);
    assert_eq!(m.document_number, "D23145890");
    assert_eq!(m.document_kind, DocumentKind::IdCard);
}

#[test]
fn two_digit_years_follow_the_documented_windows() {
    use fields::{birth_date, expiry_date};
    assert_eq!(birth_date(b"261123", TODAY), Some(date!(2026 - 11 - 23)));
    assert_eq!(birth_date(b"261124", TODAY), Some(date!(1926 - 11 - 24)));
    assert_eq!(birth_date(b"000229", TODAY), Some(date!(2000 - 02 - 29)));
    assert_eq!(expiry_date(b"960101", TODAY), Some(date!(1996 - 01 - 01)));
    assert_eq!(expiry_date(b"750101", TODAY), Some(date!(2075 - 01 - 01)));
    assert_eq!(expiry_date(b"760101", TODAY), Some(date!(1976 - 01 - 01)));
    assert_eq!(birth_date(b"991332", TODAY), None);
}

#[test]
fn ocr_confusions_are_repaired_and_reported() {
    // O for 0 in the number, a digit in the name, a filler run one short, S for 5 in a date.
    let m = parsed(&["P<UTOERIKSS0N<<ANNA<MARIA<<<<<<<<<<<<<<<<<<", "L898902C36UTO74O8122F12O4159ZE184226B<<<<<10"]);
    assert!(m.check_digits_valid(), "{:?}", m.checks);
    assert_eq!(m.surname, "ERIKSSON");
    assert_eq!(m.birth_date, Some(date!(1974 - 08 - 12)));
    assert!(m.findings.contains(&"ocr_corrected"));
    assert!(m.corrections.iter().any(|c| c.from == '0' && c.to == 'O' && c.line == 0));
    // A free field: 0 read as O in the document number, found through its check digit.
    let m = parsed(&[TD3[0], "L8989O2C36UTO7408122F1204159ZE184226B<<<<<10"]);
    assert_eq!(m.document_number, "L898902C3");
    assert!(m.check_digits_valid());
    assert_eq!(m.corrections.len(), 1);
}

#[test]
fn a_check_digit_is_never_changed_to_make_the_line_valid() {
    let m = parse(&[TD3[0], "L898902C37UTO7408122F1204159ZE184226B<<<<<10"], TODAY, Repair::Ocr).unwrap();
    assert!(!m.check_digits_valid());
    assert!(m.findings.contains(&"check_digit_document_number"));
    assert!(m.corrections.iter().all(|c| !(c.line == 1 && c.column == 9)));
}

#[test]
fn long_document_numbers_overflow_on_td1() {
    let data = MrzData {
        format: Format::Td1,
        document_code: "I".into(),
        issuing_state: "NLD".into(),
        document_number: "XI85935F86999".into(),
        surname: "DE BRUIJN".into(),
        given_names: "WILLEKE LISELOTTE".into(),
        nationality: "NLD".into(),
        birth_date: date!(1965 - 03 - 10),
        sex: Sex::Female,
        expiry_date: date!(2031 - 03 - 10),
        optional1: String::new(),
        optional2: String::new(),
    };
    let lines = format_lines(&data);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = parse(&refs, TODAY, Repair::Strict).unwrap();
    assert!(m.check_digits_valid(), "{lines:?} {:?}", m.checks);
    assert_eq!(m.document_number, "XI85935F86999");
    assert_eq!(m.surname, "DE BRUIJN");
}

#[test]
fn text_that_is_no_mrz_is_refused() {
    assert_eq!(parse(&["hello"], TODAY, Repair::Ocr).unwrap_err().code(), "mrz_shape");
    let junk = "€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€";
    assert_eq!(parse(&[junk, junk], TODAY, Repair::Ocr).unwrap_err().code(), "mrz_characters");
    // One line of 88 is split into the two lines of a passport.
    let m = parse(&[&TD3.concat()], TODAY, Repair::Strict).unwrap();
    assert_eq!(m.format, Format::Td3);
}

/// The document-number check of a TD1 zone given as text, exactly as given.
fn number_check(lines: [&str; 3]) -> (bool, Option<LongNumberConvention>, String) {
    let m = parse(&lines, TODAY, Repair::Strict).unwrap();
    let valid = m.checks.iter().find(|c| c.field == Checked::DocumentNumber).is_some_and(|c| c.valid);
    (valid, m.long_number_check, m.document_number)
}

/// Changes the character at `col` of line 1 to `to`.
fn changed(line: &str, col: usize, to: char) -> String {
    line.chars().enumerate().map(|(i, c)| if i == col { to } else { c }).collect()
}

#[test]
fn belgian_long_numbers_hold_under_either_convention() {
    use LongNumberConvention::{FillerIncluded, Icao};
    // Belgian specimens from a public MRZ test suite (datacheckerbv/MRZParser, printed
    // SPECIMEN<<SPECIMEN), two of the ICAO kind and one filler-included; then ours. Each with
    // the convention its number's digit holds under.
    let zones: [([&str; 3], LongNumberConvention); 5] = [
        (["IDBEL000001115<7027<<<<<<<<<<<", "9502286F3001064BEL950228998747", "SPECIMEN<<SPECIMEN<<<<<<<<<<<<"], Icao),
        (["IDBEL615057409<9390<<<<<<<<<<<", "1202177F2506160BEL120217144293", "SPECIMEN<<SPECIMEN<<<<<<<<<<<<"], Icao),
        (
            ["IDBEL592211692<1741<<<<<<<<<<<", "9003107F2509301BEL900310244094", "SPECIMEN<<SPECIMEN<<<<<<<<<<<<"],
            FillerIncluded,
        ),
        // Ours: card numbers whose own mod-97 check holds, in both conventions.
        (["IDBEL591191706<4584<<<<<<<<<<<", "8806172F3105054BEL880617123459", "PEETERS<<LOTTE<MARIE<<<<<<<<<<"], Icao),
        (
            ["IDBEL591191706<4586<<<<<<<<<<<", "8806172F3105054BEL880617123455", "PEETERS<<LOTTE<MARIE<<<<<<<<<<"],
            FillerIncluded,
        ),
    ];
    for (lines, convention) in zones {
        let (valid, held, number) = number_check(lines);
        assert!(valid, "{lines:?}");
        assert_eq!(held, Some(convention), "{lines:?}");
        assert_eq!(number.len(), 12);
        let m = parse(&lines, TODAY, Repair::Strict).unwrap();
        assert!(m.check_digits_valid(), "{lines:?} {:?}", m.checks);
    }
    // One changed character (in the number, or the digit) fits neither convention.
    for (col, to) in [(8, '2'), (16, '6'), (18, '5'), (18, '0')] {
        let line = changed("IDBEL591191706<4584<<<<<<<<<<<", col, to);
        let (valid, held, _) =
            number_check([&line, "8806172F3105054BEL880617123459", "PEETERS<<LOTTE<MARIE<<<<<<<<<<"]);
        assert_eq!((valid, held), (false, None), "{line}");
    }
    // The filler-included digit is Belgium's own: the same zone from the Netherlands fails.
    let (valid, held, _) = number_check([
        "IDNLD591191706<4586<<<<<<<<<<<",
        "8806172F3105054NLD880617123455",
        "PEETERS<<LOTTE<MARIE<<<<<<<<<<",
    ]);
    assert_eq!((valid, held), (false, None));
}

#[test]
fn portuguese_long_numbers_follow_icao_only() {
    // Cartão de Cidadão numbers (8 digits, their digit, version ZZ, their digit; the card's own
    // check holds), written the ICAO way.
    let zones: [[&str; 3]; 2] = [
        ["I<PRT135792460<ZZ61<<<<<<<<<<<", "8504124M3301018PRT<<<<<<<<<<<4", "SILVA<SANTOS<<JOAO<PEDRO<<<<<<"],
        ["I<PRT204613582<ZZ85<<<<<<<<<<<", "8504124M3301018PRT<<<<<<<<<<<2", "SILVA<SANTOS<<JOAO<PEDRO<<<<<<"],
    ];
    for lines in zones {
        let (valid, held, number) = number_check(lines);
        assert_eq!((valid, held), (true, Some(LongNumberConvention::Icao)), "{lines:?}");
        assert!(number.ends_with("ZZ6") || number.ends_with("ZZ8"), "{number}");
        for (col, to) in [(6, '4'), (16, 'Y'), (18, '0')] {
            let line = changed(lines[0], col, to);
            let (valid, held, _) = number_check([&line, lines[1], lines[2]]);
            assert_eq!((valid, held), (false, None), "{line}");
        }
    }
    // The digit the filler-included convention would give is refused for Portugal.
    let (valid, _, _) = number_check([
        "I<PRT135792460<ZZ67<<<<<<<<<<<",
        "8504124M3301018PRT<<<<<<<<<<<4",
        "SILVA<SANTOS<<JOAO<PEDRO<<<<<<",
    ]);
    assert!(!valid);
}
