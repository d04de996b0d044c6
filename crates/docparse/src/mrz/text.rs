//! Writing a zone from field values (for tests, fixtures and the specimen generator).

use time::Date;

use super::check_digit::compute;
use super::fields::Sex;
use super::layout::Format;

/// The values a zone is written from. Text fields hold MRZ characters only (A–Z, 0–9, and
/// spaces in names); they are cut or padded to their width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrzData {
    pub format: Format,
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth_date: Date,
    pub sex: Sex,
    pub expiry_date: Date,
    /// TD1 line 1 / TD2 / visas: the optional field; TD3: the personal number.
    pub optional1: String,
    /// TD1 line 2's optional field.
    pub optional2: String,
}

fn pad(s: &str, width: usize) -> String {
    let mut out: String = s.chars().take(width).collect();
    while out.chars().count() < width {
        out.push('<');
    }
    out
}

fn yymmdd(d: Date) -> String {
    format!("{:02}{:02}{:02}", d.year().rem_euclid(100), u8::from(d.month()), d.day())
}

fn digit(data: &str) -> char {
    compute(data.as_bytes()).map_or('<', char::from)
}

fn names(surname: &str, given: &str, width: usize) -> String {
    let join = |s: &str| s.split_whitespace().collect::<Vec<_>>().join("<");
    let given = join(given);
    let text = if given.is_empty() { join(surname) } else { format!("{}<<{}", join(surname), given) };
    pad(&text, width)
}

/// The zone's lines for `data`, with every check digit computed. Document numbers longer than
/// nine characters overflow into the optional field on TD1 and TD2.
pub fn format_lines(data: &MrzData) -> Vec<String> {
    let f = data.format;
    let code = pad(&data.document_code, 2);
    let state = pad(&data.issuing_state, 3);
    let nat = pad(&data.nationality, 3);
    let birth = yymmdd(data.birth_date);
    let expiry = yymmdd(data.expiry_date);
    let sex = data.sex.code();
    let (number, optional1) = if data.document_number.len() > 9 && matches!(f, Format::Td1 | Format::Td2) {
        let (head, tail) = data.document_number.split_at(9);
        (format!("{head}<"), format!("{tail}{}{}", digit(&data.document_number), data.optional1))
    } else {
        let n = pad(&data.document_number, 9);
        let d = digit(&n);
        (format!("{n}{d}"), data.optional1.clone())
    };
    let bd = format!("{birth}{}", digit(&birth));
    let ed = format!("{expiry}{}", digit(&expiry));
    match f {
        Format::Td1 => {
            let l1 = format!("{code}{state}{number}{}", pad(&optional1, 15));
            let opt2 = pad(&data.optional2, 11);
            let mut l2 = format!("{bd}{sex}{ed}{nat}{opt2}");
            let composite = format!("{}{}{}{}", l1.get(5..30).unwrap_or(""), &bd, &ed, &opt2);
            l2.push(digit(&composite));
            vec![l1, l2, names(&data.surname, &data.given_names, 30)]
        }
        Format::Td2 | Format::Mrvb => {
            let l1 = format!("{code}{state}{}", names(&data.surname, &data.given_names, 31));
            let (width, composite) = if f == Format::Td2 { (7, true) } else { (8, false) };
            let opt = pad(&optional1, width);
            let mut l2 = format!("{number}{nat}{bd}{sex}{ed}{opt}");
            if composite {
                l2.push(digit(&format!("{number}{bd}{ed}{opt}")));
            }
            vec![l1, l2]
        }
        Format::Td3 | Format::Mrva => {
            let l1 = format!("{code}{state}{}", names(&data.surname, &data.given_names, 39));
            let mut l2 = format!("{number}{nat}{bd}{sex}{ed}");
            if f == Format::Td3 {
                let personal = pad(&optional1, 14);
                let pd = if personal.chars().all(|c| c == '<') { '<' } else { digit(&personal) };
                l2.push_str(&personal);
                l2.push(pd);
                l2.push(digit(&format!("{number}{bd}{ed}{personal}{pd}")));
            } else {
                l2.push_str(&pad(&optional1, 16));
            }
            vec![l1, l2]
        }
    }
}
