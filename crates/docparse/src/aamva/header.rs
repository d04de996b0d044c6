//! The AAMVA file header: compliance indicator and separators, file type, IIN, versions,
//! number of entries and the subfile designators.

use serde::Serialize;

/// One subfile designator: type (`DL`, `ID`, `Z?`), offset and length as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Designator {
    pub kind: String,
    pub offset: usize,
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// `ANSI ` (current), `AAMVA` (early cards), as found.
    pub file_type: String,
    pub iin: String,
    pub version: u8,
    pub jurisdiction_version: Option<u8>,
    pub entries: u8,
    pub designators: Vec<Designator>,
    /// The data element separator (LF in the standard), when the payload kept it.
    #[serde(skip)]
    pub separator: Option<u8>,
    /// Byte offset where the designators end.
    #[serde(skip)]
    pub end: usize,
    /// Byte offset of the compliance indicator `@` (offsets count from it).
    #[serde(skip)]
    pub start: usize,
}

fn digits(bytes: &[u8], at: usize, n: usize) -> Option<usize> {
    let s = bytes.get(at..at + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Finds and reads the header; `None` when there is no file type marker followed by an IIN.
pub fn parse(bytes: &[u8]) -> Option<Header> {
    let (at, marker_len, file_type) =
        [(&b"ANSI "[..], "ANSI "), (b"AAMVA", "AAMVA"), (b"AMVA ", "AMVA "), (b"ANSI", "ANSI")]
            .iter()
            .filter_map(|(m, name)| {
                let at = find(bytes, m)?;
                digits(bytes, at + m.len(), 6).map(|_| (at, m.len(), *name))
            })
            .min_by_key(|(at, _, _)| *at)?;
    let start = bytes.get(..at).and_then(|b| b.iter().rposition(|c| *c == b'@')).unwrap_or(0);
    // The standard separator is LF; some scanners turn it into another punctuation mark (`|`).
    let separator = if bytes.contains(&b'\n') {
        Some(b'\n')
    } else {
        bytes.get(start + 1).copied().filter(|c| c.is_ascii_punctuation() && *c != b'@')
    };
    let mut p = at + marker_len;
    let iin = String::from_utf8_lossy(bytes.get(p..p + 6)?).into_owned();
    p += 6;
    let version = u8::try_from(digits(bytes, p, 2)?).ok()?;
    p += 2;
    let jurisdiction_version = if version >= 2 {
        let v = u8::try_from(digits(bytes, p, 2)?).ok()?;
        p += 2;
        Some(v)
    } else {
        None
    };
    let entries = u8::try_from(digits(bytes, p, 2)?).ok()?;
    p += 2;
    let mut designators = Vec::new();
    for _ in 0..entries {
        let kind = bytes.get(p..p + 2).filter(|k| k.iter().all(u8::is_ascii_alphanumeric));
        let (Some(kind), Some(offset), Some(length)) = (kind, digits(bytes, p + 2, 4), digits(bytes, p + 6, 4)) else {
            break;
        };
        designators.push(Designator { kind: String::from_utf8_lossy(kind).into_owned(), offset, length });
        p += 10;
    }
    Some(Header {
        file_type: file_type.trim().to_owned(),
        iin,
        version,
        jurisdiction_version,
        entries,
        designators,
        separator,
        end: p,
        start,
    })
}
