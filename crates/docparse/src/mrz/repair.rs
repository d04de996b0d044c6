//! OCR repair driven by the zone's structure. Three passes, each recorded as corrections:
//! 1. filler runs lengthened or shortened so each line has the format's width;
//! 2. characters that cannot stand where they are moved to their class (a digit in a name
//!    becomes the letter it is mistaken for, a letter in a date the digit);
//! 3. in free fields covered by a failing check digit, the usual confusions (O/0, I/1, B/8,
//!    S/5, Z/2, G/6, ...) are tried, most likely first, until the check digit holds.
//!
//! A check digit is never changed into another digit to make a line valid.

use super::layout::{Checked, Class, Format, Layout};
use super::zone::Zone;

/// Letter → digit, for positions that must be digits.
fn to_digit(c: u8) -> Option<u8> {
    Some(match c {
        b'O' | b'Q' | b'D' | b'U' => b'0',
        b'I' | b'L' => b'1',
        b'Z' => b'2',
        b'A' => b'4',
        b'S' => b'5',
        b'G' => b'6',
        b'T' => b'7',
        b'B' => b'8',
        _ => return None,
    })
}

/// Digit → letter, for positions that must be letters.
fn to_letter(c: u8) -> Option<u8> {
    Some(match c {
        b'0' => b'O',
        b'1' => b'I',
        b'2' => b'Z',
        b'4' => b'A',
        b'5' => b'S',
        b'6' => b'G',
        b'7' => b'T',
        b'8' => b'B',
        _ => return None,
    })
}

/// Confusable pairs in free fields, most likely first (as measured on PP-OCR reads). G/6 is
/// not here: their values differ by 10, so no check digit can tell them apart and a "repair"
/// could never be confirmed.
const SWAPS: [(u8, u8); 9] = [
    (b'O', b'0'),
    (b'I', b'1'),
    (b'B', b'8'),
    (b'S', b'5'),
    (b'Z', b'2'),
    (b'D', b'0'),
    (b'Q', b'0'),
    (b'A', b'4'),
    (b'T', b'7'),
];

fn swaps_of(c: u8) -> impl Iterator<Item = (usize, u8)> {
    SWAPS.iter().enumerate().filter_map(move |(rank, (a, b))| {
        if c == *a {
            Some((rank, *b))
        } else if c == *b {
            Some((rank, *a))
        } else {
            None
        }
    })
}

/// Text as read, upper-cased, with blanks dropped and look-alikes of the filler mapped to it.
pub fn normalise(text: &str) -> Vec<u8> {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            c @ ('A'..='Z' | '0'..='9' | '<') => c as u8,
            '«' | '‹' | '＜' | '(' | '[' | '{' | 'く' | '〈' | '≤' => b'<',
            // Vertical strokes: the class pass turns them into 1 where a digit belongs.
            '|' | '!' | 'Ⅰ' | 'ǀ' => b'I',
            _ => b'?',
        })
        .collect()
}

/// Every way of making `line` `width` long by lengthening or shortening one filler run (or
/// padding / cutting fillers at the end). The line itself when it already fits.
pub fn fit_length(line: &[u8], width: usize) -> Vec<Vec<u8>> {
    if line.len() == width {
        return vec![line.to_vec()];
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    let runs = filler_runs(line);
    if line.len() < width {
        let missing = width - line.len();
        let mut padded = line.to_vec();
        padded.resize(width, b'<');
        out.push(padded);
        for (start, len) in runs {
            let mut l = line.to_vec();
            l.splice(start + len..start + len, std::iter::repeat_n(b'<', missing));
            out.push(l);
        }
    } else {
        let extra = line.len() - width;
        for (start, len) in runs.into_iter().rev() {
            if len > extra {
                let mut l = line.to_vec();
                l.drain(start..start + extra);
                out.push(l);
            }
        }
        if out.is_empty() {
            out.push(line.get(..width).unwrap_or(line).to_vec());
        }
    }
    out.dedup();
    out
}

fn filler_runs(line: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if line.get(i) == Some(&b'<') {
            let start = i;
            while line.get(i) == Some(&b'<') {
                i += 1;
            }
            runs.push((start, i - start));
        } else {
            i += 1;
        }
    }
    runs
}

/// Pass 2: every character moved to its position's class.
pub fn fix_classes(zone: &mut Zone) {
    let classes = Layout::of(zone.format).classes(zone.format);
    for (line_no, line_classes) in classes.iter().enumerate() {
        for (col, class) in line_classes.iter().enumerate() {
            let Some(c) = zone.at(line_no, col) else { continue };
            let fixed = match class {
                Class::Numeric if !c.is_ascii_digit() && c != b'<' => to_digit(c),
                Class::Alpha if c.is_ascii_digit() => to_letter(c),
                Class::Sex if !matches!(c, b'M' | b'F' | b'X' | b'<') => match c {
                    b'H' | b'N' => Some(b'M'),
                    b'E' | b'P' => Some(b'F'),
                    _ => None,
                },
                _ => None,
            };
            if let Some(to) = fixed {
                zone.correct(line_no, col, to);
            }
        }
    }
}

/// A candidate change: (likelihood rank, (line, column), new character).
type Swap = (usize, (usize, usize), u8);

/// Pass 3: for each failing check of a field (document or personal number; never the
/// composite alone), try the confusions in its free (AlphaNum) positions that no passing check
/// covers. A repair is made only when exactly one choice works, and "works" is strict, since
/// with a mod-10 check digit a blind search "validates" one random change in ten:
/// - where the format has a composite check, a change must make both the field's check and
///   the composite hold (two sums): any single swap, or a pair of characters out of step with
///   their field (a letter in a mostly-digit number, or a digit in a mostly-letter one);
/// - visas have no composite: only a single out-of-step character is tried.
///
/// When the misread is a confusion the repair knows, the right fix is always among the
/// candidates and always works, so uniqueness means the result is the right fix or none.
pub fn search_swaps(zone: &mut Zone) {
    let format = zone.format;
    let classes = Layout::of(format).classes(format);
    let has_composite = Layout::of(format).check(Checked::Composite).is_some();
    for checked in zone.failing_checks() {
        if checked == Checked::Composite || !zone.failing_checks().contains(&checked) {
            continue;
        }
        let protected = zone.positions_of_passing_checks();
        let positions = zone.check_positions(checked);
        let free: Vec<(usize, usize)> = positions
            .iter()
            .copied()
            .filter(|&(l, c)| classes.get(l).and_then(|cl| cl.get(c)) == Some(&Class::AlphaNum))
            .filter(|p| !protected.contains(p))
            .collect();
        let swaps = |only_out_of_step: bool| -> Vec<Swap> {
            let mut list: Vec<Swap> = free
                .iter()
                .copied()
                .filter(|&(l, c)| !only_out_of_step || out_of_step(zone, &positions, l, c))
                .flat_map(|(l, c)| {
                    let ch = zone.at(l, c).unwrap_or(b'<');
                    swaps_of(ch).map(move |(rank, to)| (rank, (l, c), to))
                })
                .collect();
            list.sort_by_key(|(rank, _, _)| *rank);
            list
        };
        let (all, suspicious) = (swaps(false), swaps(true));
        if has_composite {
            let wanted = [checked, Checked::Composite];
            if try_swaps(zone, &wanted, &all, 1) == Search::NoneWorked {
                try_swaps(zone, &wanted, &suspicious, 2);
            }
        } else {
            try_swaps(zone, &[checked], &suspicious, 1);
        }
    }
}

/// Whether the character at (line, col) is of the minority kind (letter or digit) among the
/// characters of its run of checked positions on that line.
fn out_of_step(zone: &Zone, positions: &[(usize, usize)], line: usize, col: usize) -> bool {
    let run: Vec<u8> = positions.iter().filter(|(l, _)| *l == line).filter_map(|&(l, c)| zone.at(l, c)).collect();
    let digits = run.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = run.iter().filter(|c| c.is_ascii_uppercase()).count();
    match zone.at(line, col) {
        Some(c) if c.is_ascii_uppercase() => digits > letters,
        Some(c) if c.is_ascii_digit() => letters > digits,
        _ => false,
    }
}

/// Tries every combination of `depth` swaps; applies the one that makes every `wanted` check
/// hold when it is the only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    Repaired,
    /// More than one choice works: nothing is changed, and no deeper search is made.
    Ambiguous,
    NoneWorked,
}

fn try_swaps(zone: &mut Zone, wanted: &[Checked], singles: &[Swap], depth: usize) -> Search {
    const MAX_POOL: usize = 16;
    let pool = singles.get(..singles.len().min(MAX_POOL)).unwrap_or(singles);
    let mut combos: Vec<Vec<&Swap>> = Vec::new();
    for (i, a) in pool.iter().enumerate() {
        if depth == 1 {
            combos.push(vec![a]);
            continue;
        }
        for b in pool.iter().skip(i + 1) {
            if a.1 != b.1 {
                combos.push(vec![a, b]);
            }
        }
    }
    let mut found: Option<Zone> = None;
    for combo in combos {
        let mut trial = zone.clone();
        for (_, (l, c), to) in &combo {
            trial.correct(*l, *c, *to);
        }
        if wanted.iter().all(|c| trial.check_holds(*c)) {
            if found.is_some() {
                return Search::Ambiguous;
            }
            found = Some(trial);
        }
    }
    match found {
        Some(trial) => {
            *zone = trial;
            Search::Repaired
        }
        None => Search::NoneWorked,
    }
}

/// Lines fitted to `format`, every combination of fillers tried (small: a few runs a line).
pub fn fitted_variants(lines: &[Vec<u8>], format: Format) -> Vec<(Vec<Vec<u8>>, usize)> {
    let mut variants: Vec<(Vec<Vec<u8>>, usize)> = vec![(Vec::new(), 0)];
    for line in lines {
        let fits = fit_length(line, format.width());
        let changed = usize::from(line.len() != format.width());
        variants = variants
            .into_iter()
            .flat_map(|(prefix, n)| {
                fits.iter().map(move |f| {
                    let mut p = prefix.clone();
                    p.push(f.clone());
                    (p, n + changed)
                })
            })
            .take(256)
            .collect();
    }
    variants
}
