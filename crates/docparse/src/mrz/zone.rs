//! A machine-readable zone as fixed-width lines, with the confidence of each character and
//! the corrections made so far; answers which check digits hold.

use serde::Serialize;

use super::check_digit;
use super::layout::{Checked, Field, Format, Layout, Span};
use super::long_number::{self, Convention};

/// One character changed by the repair: where, from what, to what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub line: usize,
    pub column: usize,
    pub from: char,
    pub to: char,
}

#[derive(Clone)]
pub struct Zone {
    pub format: Format,
    pub lines: Vec<Vec<u8>>,
    pub confidence: Vec<Vec<f32>>,
    pub corrections: Vec<Correction>,
}

impl Zone {
    pub fn new(format: Format, lines: Vec<Vec<u8>>, confidence: Vec<Vec<f32>>) -> Self {
        Self { format, lines, confidence, corrections: Vec::new() }
    }

    pub fn at(&self, line: usize, col: usize) -> Option<u8> {
        self.lines.get(line).and_then(|l| l.get(col)).copied()
    }

    pub fn text(&self, span: Span) -> &[u8] {
        self.lines.get(span.line).and_then(|l| l.get(span.start..span.start + span.len)).unwrap_or_default()
    }

    pub fn field(&self, field: Field) -> &[u8] {
        Layout::of(self.format).span(field).map(|s| self.text(s)).unwrap_or_default()
    }

    /// Changes one character and records it (a no-op if it is already `to`).
    pub fn correct(&mut self, line: usize, col: usize, to: u8) {
        let Some(slot) = self.lines.get_mut(line).and_then(|l| l.get_mut(col)) else { return };
        if *slot == to {
            return;
        }
        let from = *slot;
        *slot = to;
        if let Some(conf) = self.confidence.get_mut(line).and_then(|l| l.get_mut(col)) {
            *conf *= 0.5;
        }
        match self.corrections.iter().position(|c| c.line == line && c.column == col) {
            Some(i) if self.corrections.get(i).is_some_and(|c| c.from == char::from(to)) => {
                self.corrections.remove(i);
            }
            Some(i) => {
                if let Some(c) = self.corrections.get_mut(i) {
                    c.to = char::from(to);
                }
            }
            None => self.corrections.push(Correction { line, column: col, from: char::from(from), to: char::from(to) }),
        }
    }

    /// TD1 and TD2 numbers longer than 9 characters: the check digit's place holds `<` and
    /// the rest of the number, then its check digit, open the optional field.
    pub fn long_number(&self) -> Option<(Vec<u8>, Span)> {
        if !matches!(self.format, Format::Td1 | Format::Td2) {
            return None;
        }
        let layout = Layout::of(self.format);
        let check = layout.check(Checked::DocumentNumber)?;
        let optional = layout.span(Field::Optional1)?;
        if self.text(check.digit) != b"<" {
            return None;
        }
        let extra = self.text(optional);
        let used = extra.iter().position(|c| *c == b'<').unwrap_or(extra.len());
        if used < 2 {
            return None;
        }
        let mut number = self.field(Field::DocumentNumber).to_vec();
        number.extend_from_slice(extra.get(..used - 1)?);
        Some((number, Span { line: optional.line, start: optional.start + used - 1, len: 1 }))
    }

    /// The data a check covers and where its digit is.
    fn check_parts(&self, checked: Checked) -> Option<(Vec<u8>, Span)> {
        let layout = Layout::of(self.format);
        let check = layout.check(checked)?;
        if checked == Checked::DocumentNumber
            && let Some(long) = self.long_number()
        {
            return Some(long);
        }
        let data = check.data.iter().flat_map(|s| self.text(*s).iter().copied()).collect();
        Some((data, check.digit))
    }

    /// The convention a long document number's check digit holds under, if it is long and
    /// holds at all.
    pub fn long_number_convention(&self) -> Option<Convention> {
        self.long_number().and_then(|long| self.convention_of(&long))
    }

    fn convention_of(&self, (number, digit): &(Vec<u8>, Span)) -> Option<Convention> {
        let digit = self.text(*digit).first().copied()?;
        long_number::convention(number, digit, self.field(Field::IssuingState))
    }

    pub fn check_holds(&self, checked: Checked) -> bool {
        if checked == Checked::DocumentNumber
            && let Some(long) = self.long_number()
        {
            return self.convention_of(&long).is_some();
        }
        self.check_parts(checked).is_some_and(|(data, digit)| {
            let digit = self.text(digit).first().copied().unwrap_or(b'?');
            // A filler for a digit is allowed only where the whole field is fillers.
            (digit != b'<' || data.iter().all(|c| *c == b'<')) && check_digit::holds(&data, digit)
        })
    }

    /// Every check of the format with whether it holds, in layout order.
    pub fn checks(&self) -> Vec<(Checked, bool)> {
        Layout::of(self.format).checks.iter().map(|c| (c.checked, self.check_holds(c.checked))).collect()
    }

    pub fn failing_checks(&self) -> Vec<Checked> {
        self.checks().into_iter().filter(|(_, ok)| !ok).map(|(c, _)| c).collect()
    }

    /// The (line, column) positions a check covers, its digit excluded.
    pub fn check_positions(&self, checked: Checked) -> Vec<(usize, usize)> {
        let layout = Layout::of(self.format);
        let Some(check) = layout.check(checked) else { return Vec::new() };
        let mut spans: Vec<Span> = check.data.to_vec();
        if checked == Checked::DocumentNumber
            && let (Some((number, _)), Some(optional)) = (self.long_number(), layout.span(Field::Optional1))
        {
            spans.push(Span { line: optional.line, start: optional.start, len: number.len().saturating_sub(9) });
        }
        spans.iter().flat_map(|s| (s.start..s.start + s.len).map(move |c| (s.line, c))).collect()
    }

    /// Positions covered by a check that holds (a repair must leave them alone), digits included.
    pub fn positions_of_passing_checks(&self) -> Vec<(usize, usize)> {
        let layout = Layout::of(self.format);
        self.checks()
            .into_iter()
            .filter(|(_, ok)| *ok)
            .flat_map(|(checked, _)| {
                let mut p = self.check_positions(checked);
                if let Some(c) = layout.check(checked) {
                    p.push((c.digit.line, c.digit.start));
                }
                p
            })
            .collect()
    }

    /// The lowest character confidence in a span (1 for clean text).
    pub fn span_confidence(&self, span: Span) -> f32 {
        self.confidence
            .get(span.line)
            .and_then(|l| l.get(span.start..span.start + span.len))
            .map(|c| c.iter().copied().fold(1.0f32, f32::min))
            .unwrap_or(0.0)
    }

    pub fn text_lines(&self) -> Vec<String> {
        self.lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect()
    }
}
