//! Splitting a subfile into its elements (three-letter ID, value). With the standard's data
//! element separator this is a split; payloads that lost their separators (some scanners
//! strip control characters) are split at the known element IDs instead.

use std::collections::BTreeMap;

/// Every DL/ID element ID of AAMVA versions 1 to 10.
const KNOWN: &[&str] = &[
    "DAA", "DAB", "DAC", "DAD", "DAE", "DAF", "DAG", "DAH", "DAI", "DAJ", "DAK", "DAL", "DAM", "DAN", "DAO", "DAP",
    "DAQ", "DAR", "DAS", "DAT", "DAU", "DAV", "DAW", "DAX", "DAY", "DAZ", "DBA", "DBB", "DBC", "DBD", "DBE", "DBF",
    "DBG", "DBH", "DBI", "DBJ", "DBK", "DBL", "DBM", "DBN", "DBO", "DBP", "DBQ", "DBR", "DBS", "DCA", "DCB", "DCD",
    "DCE", "DCF", "DCG", "DCH", "DCI", "DCJ", "DCK", "DCL", "DCM", "DCN", "DCO", "DCP", "DCQ", "DCR", "DCS", "DCT",
    "DCU", "DDA", "DDB", "DDC", "DDD", "DDE", "DDF", "DDG", "DDH", "DDI", "DDJ", "DDK", "DDL",
];

pub fn is_known(id: &[u8]) -> bool {
    KNOWN.iter().any(|k| k.as_bytes() == id)
}

fn is_id(id: &[u8], subfiles: &[String]) -> bool {
    is_known(id)
        || (id.len() == 3
            && id.first() == Some(&b'Z')
            && subfiles.iter().any(|k| k.as_bytes() == id.get(..2).unwrap_or_default()))
}

/// Drops a leading subfile type when an element follows it: `DLDAQ...` → `DAQ...`,
/// `ZCZCA...` → `ZCA...` (but `ZCDBRN` is the element `ZCD`).
fn strip_kind<'a>(piece: &'a [u8], subfiles: &[String]) -> &'a [u8] {
    let (Some(kind), Some(next)) = (piece.get(..2), piece.get(2..5)) else { return piece };
    let is_kind = subfiles.iter().any(|k| k.as_bytes() == kind);
    let follows = if kind.first() == Some(&b'Z') { next.get(..2) == Some(kind) } else { is_known(next) };
    if is_kind && follows { piece.get(2..).unwrap_or_default() } else { piece }
}

fn value(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{FFFD}')
        .to_owned()
}

/// Elements from `body` (everything after the designators). `subfiles` are the designator
/// types; `separator` the data element separator if the payload kept it.
pub fn split(body: &[u8], separator: Option<u8>, subfiles: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // The first element: after a subfile type (`DLDAQ...`) or bare (`DAQ...`), whichever is first.
    let start = (0..body.len()).find_map(|i| {
        let typed = body.get(i..i + 2).is_some_and(|k| subfiles.iter().any(|s| s.as_bytes() == k))
            && body.get(i + 2..i + 5).is_some_and(|id| is_id(id, subfiles));
        if typed { Some(i + 2) } else { body.get(i..i + 3).is_some_and(is_known).then_some(i) }
    });
    let Some(start) = start else { return out };
    let body = body.get(start..).unwrap_or_default();
    match separator {
        Some(sep) => {
            for piece in body.split(|c| *c == sep || *c == b'\r') {
                // Stray bytes (spaces, undefined characters) before an element ID are dropped.
                let lead = piece.iter().position(u8::is_ascii_alphanumeric).unwrap_or(piece.len());
                let piece = strip_kind(piece.get(lead..).unwrap_or_default(), subfiles);
                if let (Some(id), Some(rest)) = (piece.get(..3), piece.get(3..))
                    && is_id(id, subfiles)
                {
                    out.entry(value(id)).or_insert_with(|| value(rest));
                }
            }
        }
        None => {
            let starts: Vec<usize> = (0..body.len()).filter(|&i| body.get(i..i + 3).is_some_and(is_known)).collect();
            // Keep only starts that do not fall inside the previous element's ID.
            let mut kept: Vec<usize> = Vec::new();
            for s in starts {
                if kept.last().is_none_or(|k| s >= k + 3) {
                    kept.push(s);
                }
            }
            for (n, s) in kept.iter().enumerate() {
                let end = kept.get(n + 1).copied().unwrap_or(body.len());
                if let (Some(id), Some(rest)) = (body.get(*s..s + 3), body.get(s + 3..end)) {
                    out.entry(value(id)).or_insert_with(|| value(rest));
                }
            }
        }
    }
    out
}
