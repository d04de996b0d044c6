//! Finding and reading the machine-readable zone on a photo of a document: text lines read by
//! OCR, the MRZ-like ones grouped into rows, and the window of 2 or 3 consecutive rows that
//! parses best (most check digits holding) kept.

use opencv::core::{Mat, Point2f, RotatedRect, Size2f};
use opencv::prelude::*;
use serde::Serialize;
use time::Date;

use super::mrz::{self, Mrz, Repair};
use super::ocr::detect::Pass;
use super::ocr::{Ocr, ReadBox, TextBox};
use crate::engine::{EngineError, StageTimes};

/// Where the zone was found and what OCR read before repair.
#[derive(Debug, Clone, Serialize)]
pub struct MrzRead {
    #[serde(skip)]
    pub mrz: Mrz,
    /// The lines as the recogniser read them (before any repair).
    pub raw_lines: Vec<String>,
    /// The zone's bounding box in image pixels: x, y, width, height.
    pub region: [f32; 4],
}

/// Lines with at least this share of MRZ characters and these many characters are candidates.
const MIN_LEN: usize = 8;

fn mrz_like(text: &str) -> bool {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let good = chars.iter().filter(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '<' | '«')).count();
    chars.len() >= MIN_LEN && good * 10 >= chars.len() * 8 && (chars.contains(&'<') || chars.len() >= 28)
}

/// A row: boxes on one text line, left to right.
struct Row {
    text: String,
    confidence: Vec<f32>,
    bounds: [f32; 4],
}

fn rows(boxes: &[ReadBox]) -> Vec<Row> {
    let mut candidates: Vec<&ReadBox> = boxes.iter().filter(|b| mrz_like(&b.line.text)).collect();
    candidates.sort_by(|a, b| a.region.centre().y.total_cmp(&b.region.centre().y));
    let mut groups: Vec<Vec<&ReadBox>> = Vec::new();
    for b in candidates {
        let same_row = groups.last().and_then(|g| g.last()).is_some_and(|last| {
            (last.region.centre().y - b.region.centre().y).abs()
                < 0.6 * last.region.line_height().max(b.region.line_height())
        });
        match groups.last_mut() {
            Some(group) if same_row => group.push(b),
            _ => groups.push(vec![b]),
        }
    }
    groups
        .into_iter()
        .map(|mut group| {
            group.sort_by(|a, b| a.region.centre().x.total_cmp(&b.region.centre().x));
            let mut text = String::new();
            let mut confidence = Vec::new();
            let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
            for b in group {
                let t: String = b.line.text.chars().filter(|c| !c.is_whitespace()).collect();
                let c = if b.line.confidence.len() == b.line.text.chars().count() {
                    b.line
                        .text
                        .chars()
                        .zip(&b.line.confidence)
                        .filter(|(ch, _)| !ch.is_whitespace())
                        .map(|(_, p)| *p)
                        .collect()
                } else {
                    vec![1.0; t.chars().count()]
                };
                text.push_str(&t);
                confidence.extend(c);
                let r = b.region.rect.bounding_rect2f().unwrap_or_default();
                (x0, y0, x1, y1) = (x0.min(r.x), y0.min(r.y), x1.max(r.x + r.width), y1.max(r.y + r.height));
            }
            Row { text, confidence, bounds: [x0, y0, x1 - x0, y1 - y0] }
        })
        .collect()
}

/// How well a zone parsed: checks holding, then fewest failing, then fewest corrections.
fn rank(m: &Mrz) -> (usize, usize, i64) {
    let holding = m.checks.iter().filter(|c| c.valid).count();
    let failing = m.checks.len() - holding;
    (holding, usize::MAX - failing, -(m.corrections.len() as i64))
}

/// The best-parsing zone among the lines read, or `None` when no window of rows is an MRZ.
pub fn find_mrz(boxes: &[ReadBox], today: Date) -> Option<MrzRead> {
    let rows = rows(boxes);
    let mut best: Option<((usize, usize, i64), MrzRead)> = None;
    for size in [2usize, 3] {
        for window in rows.windows(size) {
            let read: Vec<(String, Vec<f32>)> = window.iter().map(|r| (r.text.clone(), r.confidence.clone())).collect();
            let Ok(m) = mrz::parse_read(&read, today, Repair::Ocr) else { continue };
            let rank = rank(&m);
            if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                let (x0, y0) =
                    window.iter().fold((f32::MAX, f32::MAX), |a, r| (a.0.min(r.bounds[0]), a.1.min(r.bounds[1])));
                let (x1, y1) = window.iter().fold((f32::MIN, f32::MIN), |a, r| {
                    (a.0.max(r.bounds[0] + r.bounds[2]), a.1.max(r.bounds[1] + r.bounds[3]))
                });
                let raw_lines = window.iter().map(|r| r.text.clone()).collect();
                best = Some((rank, MrzRead { mrz: m, raw_lines, region: [x0, y0, x1 - x0, y1 - y0] }));
            }
        }
    }
    best.map(|(_, read)| read)
}

/// Lines read first: a zone has at most three, and they are a document's longest.
const LONGEST_FIRST: usize = 4;

/// Lines at least this many times as wide as high are long lines (a zone's are about 20).
const LONG: f32 = 8.0;

/// Reads the zone on a BGR photo. MRZ lines are the longest text lines on a document, so the
/// detector first looks at the image no more than 960 px long (`Pass::Coarse`, a fraction of
/// the fine pass's cost on a phone photo, and enough to find lines of that size) and the four
/// longest lines at least 8 times as wide as high are read from the full image: a zone whose
/// check digits all hold ends the reading. Otherwise the fine pass looks again (the short side
/// at least 736 px), and its four longest lines are read, then the other lines that long, and
/// the shorter ones (down to 3 times, for a zone the detector split) only while no zone with
/// valid check digits was found.
pub fn read_mrz(ocr: &Ocr, bgr: &Mat, today: Date, times: &mut StageTimes) -> Result<Option<MrzRead>, EngineError> {
    let (longest, _, _) = lines(ocr.detector.detect(bgr, Pass::Coarse, times)?);
    let longest = longest.iter().map(|b| lengthened(b, COARSE_GROWTH)).collect();
    let mut read = read_boxes(ocr, bgr, longest, times)?;
    top_down(&mut read);
    let coarse = find_mrz(&read, today);
    if coarse.as_ref().is_some_and(|m| m.mrz.check_digits_valid()) {
        return Ok(coarse);
    }
    let (long, rest, short) = lines(ocr.detector.detect(bgr, Pass::Fine, times)?);
    let mut read = read_boxes(ocr, bgr, long, times)?;
    top_down(&mut read);
    let longest = find_mrz(&read, today);
    if longest.as_ref().is_some_and(|m| m.mrz.check_digits_valid()) {
        return Ok(longest);
    }
    read.extend(read_boxes(ocr, bgr, rest, times)?);
    top_down(&mut read);
    let first = find_mrz(&read, today).or(longest);
    if first.as_ref().is_some_and(|m| m.mrz.check_digits_valid()) || short.is_empty() {
        return Ok(first);
    }
    read.extend(read_boxes(ocr, bgr, short, times)?);
    top_down(&mut read);
    let second = find_mrz(&read, today).or(first);
    if second.as_ref().is_some_and(|m| m.mrz.check_digits_valid()) {
        return Ok(second);
    }
    let probed = probe_neighbours(ocr, bgr, &read, today, times)?;
    Ok(match (second, probed) {
        (Some(a), Some(b)) => Some(if rank(&b.mrz) > rank(&a.mrz) { b } else { a }),
        (a, b) => a.or(b),
    })
}

/// The lines of a zone are equally long and evenly spaced. When the detector found one full
/// line but missed its neighbour (a busy background can break it into fragments), the same
/// box is read again one line pitch above and below (pitch 1 to 1.6 line heights), and each
/// such line is tried with the rest.
fn probe_neighbours(
    ocr: &Ocr,
    bgr: &Mat,
    read: &[ReadBox],
    today: Date,
    times: &mut StageTimes,
) -> Result<Option<MrzRead>, EngineError> {
    let anchors: Vec<&ReadBox> = read
        .iter()
        .filter(|b| mrz_like(&b.line.text) && b.line.text.chars().filter(|c| !c.is_whitespace()).count() >= 28)
        .take(2)
        .collect();
    let mut best: Option<MrzRead> = None;
    for anchor in anchors {
        let (c, h) = (anchor.region.rect.center, anchor.region.line_height());
        let probes: Vec<TextBox> = [-1.6f32, -1.4, -1.2, -1.0, 1.0, 1.2, 1.4, 1.6]
            .iter()
            .filter_map(|k| {
                let centre = Point2f::new(c.x, c.y + k * h);
                let inside = centre.y - h / 2.0 >= 0.0 && centre.y + h / 2.0 <= bgr.rows() as f32;
                let rect = RotatedRect::new(centre, anchor.region.rect.size, anchor.region.rect.angle).ok()?;
                inside.then_some(TextBox { rect, score: anchor.region.score })
            })
            .collect();
        let lines = ocr.recogniser.read(bgr, &probes, times)?;
        for (region, line) in probes.into_iter().zip(lines) {
            if !mrz_like(&line.text) {
                continue;
            }
            let mut set: Vec<ReadBox> = read.to_vec();
            set.push(ReadBox { region, line });
            top_down(&mut set);
            if let Some(found) = find_mrz(&set, today)
                && best.as_ref().is_none_or(|b| rank(&found.mrz) > rank(&b.mrz))
            {
                best = Some(found);
            }
        }
    }
    Ok(best)
}

/// How much longer a coarse line is read, in line heights at each end: the coarse map's
/// regions stop short of a line's first and last characters.
const COARSE_GROWTH: f32 = 0.75;

/// `b` lengthened along its long side by `heights` line heights at each end.
fn lengthened(b: &TextBox, heights: f32) -> TextBox {
    let (size, grow) = (b.rect.size, 2.0 * heights * b.line_height());
    let size = if size.width >= size.height {
        Size2f::new(size.width + grow, size.height)
    } else {
        Size2f::new(size.width, size.height + grow)
    };
    let rect = RotatedRect::new(b.rect.center, size, b.rect.angle).unwrap_or(b.rect);
    TextBox { rect, score: b.score }
}

/// The detected lines by shape: the `LONGEST_FIRST` longest long lines, the other long ones,
/// and the short ones (at least 3 times as wide as high).
fn lines(boxes: Vec<TextBox>) -> (Vec<TextBox>, Vec<TextBox>, Vec<TextBox>) {
    let (mut long, short): (Vec<TextBox>, Vec<TextBox>) =
        boxes.into_iter().filter(|b| b.aspect() >= 3.0).partition(|b| b.aspect() >= LONG);
    let length = |b: &TextBox| b.rect.size.width.max(b.rect.size.height);
    long.sort_by(|a, b| length(b).total_cmp(&length(a)));
    let rest = long.split_off(long.len().min(LONGEST_FIRST));
    (long, rest, short)
}

/// Lines in reading order, top to bottom (`find_mrz` takes consecutive rows).
fn top_down(read: &mut [ReadBox]) {
    read.sort_by(|a, b| a.region.centre().y.total_cmp(&b.region.centre().y));
}

fn read_boxes(ocr: &Ocr, bgr: &Mat, boxes: Vec<TextBox>, times: &mut StageTimes) -> Result<Vec<ReadBox>, EngineError> {
    let lines = ocr.recogniser.read(bgr, &boxes, times)?;
    Ok(boxes.into_iter().zip(lines).map(|(region, line)| ReadBox { region, line }).collect())
}
