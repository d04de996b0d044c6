//! Document numbers longer than nine characters on TD1 and TD2 (ICAO 9303 part 5, 4.2.4 note
//! j; part 6 likewise): the nine principal characters, a filler where their check digit would
//! be, the rest of the number at the start of the optional field, then the check digit.
//!
//! ICAO's text computes that check digit over the whole number, without the filler. Some
//! issuers compute it over everything from the number's first character to the digit, the
//! filler included (`<` counts 0, but the characters after it take other weights). A zone
//! is accepted under the second convention only for an issuer known to use it.

use serde::Serialize;

use super::check_digit;

/// Which computation a long number's check digit follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Convention {
    /// Over the number alone (ICAO 9303's text; Portugal, and some Belgian series).
    Icao,
    /// Over the nine principal characters, the filler and the overflow.
    FillerIncluded,
}

/// Issuers known to print long numbers under the filler-included convention, each with the
/// evidence. Both conventions are accepted for them; every other issuer gets ICAO's only.
pub const FILLER_INCLUDED: &[(&str, &str)] = &[(
    "BEL",
    "Belgian identity cards: the Belgian special case of the Python `mrz` package \
     (Arg0s1080/mrz, mrz/special_cases/checker/id_card_belgium.py and its generator hash the \
     number as `first9 + '<' + overflow`), and the Belgian specimen 592211692174 (datacheckerbv/\
     MRZParser, testTD1_ID_BEL_2), whose digit holds only that way; the specimens 000001115702 \
     and 615057409939 of the same suite hold only the ICAO way, so Belgium issues both",
)];

fn filler_included_by(issuer: &[u8]) -> bool {
    let issuer = issuer.strip_suffix(b"<").unwrap_or(issuer);
    FILLER_INCLUDED.iter().any(|(state, _)| state.as_bytes() == issuer)
}

/// The convention under which `digit` is the check digit of the long `number` (principal
/// characters then overflow, no filler) from `issuer`, or `None` when neither holds.
pub fn convention(number: &[u8], digit: u8, issuer: &[u8]) -> Option<Convention> {
    if check_digit::holds(number, digit) {
        return Some(Convention::Icao);
    }
    if !filler_included_by(issuer) {
        return None;
    }
    let (principal, overflow) = number.split_at(number.len().min(9));
    let with_filler: Vec<u8> = principal.iter().chain(b"<").chain(overflow).copied().collect();
    check_digit::holds(&with_filler, digit).then_some(Convention::FillerIncluded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_convention_only_where_it_belongs() {
        // The ICAO TD1 example holds both ways; the Belgian specimens one way each.
        assert_eq!(convention(b"D23145890734", b'9', b"UTO"), Some(Convention::Icao));
        assert_eq!(convention(b"000001115702", b'7', b"BEL"), Some(Convention::Icao));
        assert_eq!(convention(b"592211692174", b'1', b"BEL"), Some(Convention::FillerIncluded));
        assert_eq!(convention(b"592211692174", b'1', b"NLD"), None);
        assert_eq!(convention(b"592211692174", b'2', b"BEL"), None);
    }
}
