//! Where each field sits in each ICAO 9303 format, what characters it may hold, and which
//! spans each check digit covers.

use serde::Serialize;

/// The five machine-readable zone formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Format {
    /// ID card, 3 lines of 30.
    #[serde(rename = "TD1")]
    Td1,
    /// ID card, 2 lines of 36.
    #[serde(rename = "TD2")]
    Td2,
    /// Passport, 2 lines of 44.
    #[serde(rename = "TD3")]
    Td3,
    /// Visa A (full page), 2 lines of 44.
    #[serde(rename = "MRVA")]
    Mrva,
    /// Visa B (smaller), 2 lines of 36.
    #[serde(rename = "MRVB")]
    Mrvb,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Td1, Format::Td2, Format::Td3, Format::Mrva, Format::Mrvb];

    pub fn lines(self) -> usize {
        if self == Format::Td1 { 3 } else { 2 }
    }

    pub fn width(self) -> usize {
        match self {
            Format::Td1 => 30,
            Format::Td2 | Format::Mrvb => 36,
            Format::Td3 | Format::Mrva => 44,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Td1 => "TD1",
            Format::Td2 => "TD2",
            Format::Td3 => "TD3",
            Format::Mrva => "MRVA",
            Format::Mrvb => "MRVB",
        }
    }

    pub fn is_visa(self) -> bool {
        matches!(self, Format::Mrva | Format::Mrvb)
    }

    /// The format of `count` lines of about `width` characters whose first character is
    /// `first` (visas start with V), or `None` when no format has that shape.
    pub fn guess(count: usize, width: usize, first: u8) -> Option<Format> {
        let visa = first == b'V';
        match count {
            3 if (26..=34).contains(&width) => Some(Format::Td1),
            2 if (32..=40).contains(&width) => Some(if visa { Format::Mrvb } else { Format::Td2 }),
            2 if (40..=48).contains(&width) => Some(if visa { Format::Mrva } else { Format::Td3 }),
            _ => None,
        }
    }
}

/// What a position may hold; OCR confusions are fixed towards the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Letters and fillers: codes, countries, names.
    Alpha,
    /// Digits (and a filler where the standard allows one): dates and check digits.
    Numeric,
    /// Anything: document numbers and optional data.
    AlphaNum,
    /// `M`, `F`, `X` or `<`.
    Sex,
}

/// A run of characters on one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub start: usize,
    pub len: usize,
}

const fn span(line: usize, start: usize, len: usize) -> Span {
    Span { line, start, len }
}

/// The named fields of a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    DocumentCode,
    IssuingState,
    DocumentNumber,
    Optional1,
    BirthDate,
    Sex,
    ExpiryDate,
    Nationality,
    Optional2,
    Names,
    /// TD3's personal number (optional data, with its own check digit).
    PersonalNumber,
}

/// Which check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checked {
    DocumentNumber,
    BirthDate,
    ExpiryDate,
    PersonalNumber,
    Composite,
}

impl Checked {
    pub fn finding(self) -> &'static str {
        match self {
            Checked::DocumentNumber => "check_digit_document_number",
            Checked::BirthDate => "check_digit_birth_date",
            Checked::ExpiryDate => "check_digit_expiry_date",
            Checked::PersonalNumber => "check_digit_personal_number",
            Checked::Composite => "check_digit_composite",
        }
    }
}

pub struct Check {
    pub checked: Checked,
    pub data: &'static [Span],
    pub digit: Span,
}

pub struct Layout {
    pub fields: &'static [(Field, Span, Class)],
    pub checks: &'static [Check],
}

impl Layout {
    pub fn of(format: Format) -> &'static Layout {
        match format {
            Format::Td1 => &TD1,
            Format::Td2 => &TD2,
            Format::Td3 => &TD3,
            Format::Mrva => &MRVA,
            Format::Mrvb => &MRVB,
        }
    }

    pub fn span(&self, field: Field) -> Option<Span> {
        self.fields.iter().find(|(f, _, _)| *f == field).map(|(_, s, _)| *s)
    }

    pub fn check(&self, checked: Checked) -> Option<&Check> {
        self.checks.iter().find(|c| c.checked == checked)
    }

    /// The class of every position of every line (check digits are numeric).
    pub fn classes(&self, format: Format) -> Vec<Vec<Class>> {
        let mut classes = vec![vec![Class::AlphaNum; format.width()]; format.lines()];
        let mut set = |s: Span, class: Class| {
            if let Some(line) = classes.get_mut(s.line) {
                for c in line.iter_mut().skip(s.start).take(s.len) {
                    *c = class;
                }
            }
        };
        for (_, s, class) in self.fields {
            set(*s, *class);
        }
        for check in self.checks {
            set(check.digit, Class::Numeric);
        }
        classes
    }
}

use Class::{Alpha, AlphaNum, Numeric, Sex as SexClass};

static TD1: Layout = Layout {
    fields: &[
        CODE,
        STATE,
        (Field::DocumentNumber, span(0, 5, 9), AlphaNum),
        (Field::Optional1, span(0, 15, 15), AlphaNum),
        (Field::BirthDate, span(1, 0, 6), Numeric),
        (Field::Sex, span(1, 7, 1), SexClass),
        (Field::ExpiryDate, span(1, 8, 6), Numeric),
        (Field::Nationality, span(1, 15, 3), Alpha),
        (Field::Optional2, span(1, 18, 11), AlphaNum),
        (Field::Names, span(2, 0, 30), Alpha),
    ],
    checks: &[
        Check { checked: Checked::DocumentNumber, data: &[span(0, 5, 9)], digit: span(0, 14, 1) },
        Check { checked: Checked::BirthDate, data: &[span(1, 0, 6)], digit: span(1, 6, 1) },
        Check { checked: Checked::ExpiryDate, data: &[span(1, 8, 6)], digit: span(1, 14, 1) },
        Check {
            checked: Checked::Composite,
            data: &[span(0, 5, 25), span(1, 0, 7), span(1, 8, 7), span(1, 18, 11)],
            digit: span(1, 29, 1),
        },
    ],
};

// TD2, TD3 and both visas share line 1's code, state and names (the names run to the end
// of the line) and line 2 up to the expiry check digit; only what follows differs.
type FieldSpec = (Field, Span, Class);

const CODE: FieldSpec = (Field::DocumentCode, span(0, 0, 2), Alpha);
const STATE: FieldSpec = (Field::IssuingState, span(0, 2, 3), Alpha);
const NAMES_36: FieldSpec = (Field::Names, span(0, 5, 31), Alpha);
const NAMES_44: FieldSpec = (Field::Names, span(0, 5, 39), Alpha);
const NUMBER: FieldSpec = (Field::DocumentNumber, span(1, 0, 9), AlphaNum);
const NATIONALITY: FieldSpec = (Field::Nationality, span(1, 10, 3), Alpha);
const BIRTH: FieldSpec = (Field::BirthDate, span(1, 13, 6), Numeric);
const SEX: FieldSpec = (Field::Sex, span(1, 20, 1), SexClass);
const EXPIRY: FieldSpec = (Field::ExpiryDate, span(1, 21, 6), Numeric);

const NUMBER_CHECK: Check = Check { checked: Checked::DocumentNumber, data: &[span(1, 0, 9)], digit: span(1, 9, 1) };
const BIRTH_CHECK: Check = Check { checked: Checked::BirthDate, data: &[span(1, 13, 6)], digit: span(1, 19, 1) };
const EXPIRY_CHECK: Check = Check { checked: Checked::ExpiryDate, data: &[span(1, 21, 6)], digit: span(1, 27, 1) };

static TD2: Layout = Layout {
    fields: &[
        CODE,
        STATE,
        NAMES_36,
        NUMBER,
        NATIONALITY,
        BIRTH,
        SEX,
        EXPIRY,
        (Field::Optional1, span(1, 28, 7), AlphaNum),
    ],
    checks: &[
        NUMBER_CHECK,
        BIRTH_CHECK,
        EXPIRY_CHECK,
        Check {
            checked: Checked::Composite,
            data: &[span(1, 0, 10), span(1, 13, 7), span(1, 21, 14)],
            digit: span(1, 35, 1),
        },
    ],
};

static TD3: Layout = Layout {
    fields: &[
        CODE,
        STATE,
        NAMES_44,
        NUMBER,
        NATIONALITY,
        BIRTH,
        SEX,
        EXPIRY,
        (Field::PersonalNumber, span(1, 28, 14), AlphaNum),
    ],
    checks: &[
        NUMBER_CHECK,
        BIRTH_CHECK,
        EXPIRY_CHECK,
        Check { checked: Checked::PersonalNumber, data: &[span(1, 28, 14)], digit: span(1, 42, 1) },
        Check {
            checked: Checked::Composite,
            data: &[span(1, 0, 10), span(1, 13, 7), span(1, 21, 22)],
            digit: span(1, 43, 1),
        },
    ],
};

static MRVA: Layout = Layout {
    fields: &[
        CODE,
        STATE,
        NAMES_44,
        NUMBER,
        NATIONALITY,
        BIRTH,
        SEX,
        EXPIRY,
        (Field::Optional1, span(1, 28, 16), AlphaNum),
    ],
    checks: &[NUMBER_CHECK, BIRTH_CHECK, EXPIRY_CHECK],
};

static MRVB: Layout = Layout {
    fields: &[
        CODE,
        STATE,
        NAMES_36,
        NUMBER,
        NATIONALITY,
        BIRTH,
        SEX,
        EXPIRY,
        (Field::Optional1, span(1, 28, 8), AlphaNum),
    ],
    checks: &[NUMBER_CHECK, BIRTH_CHECK, EXPIRY_CHECK],
};

/// Every (line, column) some check digit covers, the digits included.
pub fn covered_positions(format: Format) -> Vec<(usize, usize)> {
    let layout = Layout::of(format);
    let mut out: Vec<(usize, usize)> = layout
        .checks
        .iter()
        .flat_map(|c| c.data.iter().chain(std::iter::once(&c.digit)))
        .flat_map(|s| (s.start..s.start + s.len).map(move |col| (s.line, col)))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// What the character at (line, column) may be.
pub fn class_at(format: Format, line: usize, col: usize) -> Option<Class> {
    Layout::of(format).classes(format).get(line).and_then(|l| l.get(col)).copied()
}
