//! The ICAO 9303 check digit: weights 7, 3, 1 repeating; digits count as themselves, A–Z as
//! 10–35, the filler `<` as 0; the sum modulo 10.

/// The value of one MRZ character, or `None` outside `0-9A-Z<`.
pub fn char_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The check digit of `data`, or `None` if it holds a character outside the MRZ set.
pub fn compute(data: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (c, weight) in data.iter().zip(WEIGHTS.iter().cycle()) {
        sum += char_value(*c)? * weight;
    }
    u8::try_from(sum % 10).ok().map(|d| b'0' + d)
}

/// Whether `digit` is the check digit of `data`. A filler in the digit's place counts as 0
/// (ICAO 9303 allows it where the checked field is all fillers).
pub fn holds(data: &[u8], digit: u8) -> bool {
    let digit = if digit == b'<' { b'0' } else { digit };
    compute(data) == Some(digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_examples() {
        // ICAO 9303 part 3, 4.9: the worked example and the specimen passport's fields.
        assert_eq!(compute(b"520727"), Some(b'3'));
        assert_eq!(compute(b"L898902C3"), Some(b'6'));
        assert_eq!(compute(b"740812"), Some(b'2'));
        assert_eq!(compute(b"120415"), Some(b'9'));
        assert_eq!(compute(b"AB2134<<<"), Some(b'5'));
        assert_eq!(compute(b"a"), None);
        assert!(holds(b"<<<<<<<<<<<<<<", b'<'));
    }
}
