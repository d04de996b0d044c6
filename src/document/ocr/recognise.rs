//! PP-OCR text recognition: each line cropped upright, scaled to 48 px high, padded right,
//! batched; CTC greedy decoding against the character list stored in the model's metadata.

use std::time::Instant;

use opencv::core::{Mat, Point2f, Size, Vector};
use opencv::imgproc;
use opencv::prelude::*;
use ort::value::TensorRef;

use super::detect::TextBox;
use super::tensor::write_normalised;
use crate::engine::runtime::ModelSession;
use crate::engine::{EngineError, StageTimes};

const HEIGHT: usize = 48;
const MIN_WIDTH: usize = 320;
const MAX_WIDTH: usize = 2400;
const BATCH: usize = 1;

/// A recognised line: its text and the probability of each character.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub confidence: Vec<f32>,
}

pub struct TextRecogniser {
    session: ModelSession,
    /// Index 0 is the CTC blank; 1..=n the model's characters; n+1 a space.
    labels: Vec<String>,
}

impl TextRecogniser {
    /// Reads its labels from the session's metadata, so the session is created now.
    pub fn new(env: &'static ort::environment::Environment, path: std::path::PathBuf) -> Result<Self, EngineError> {
        let session = crate::engine::runtime::session(env, &path)?;
        let list = session
            .metadata()
            .map_err(EngineError::Inference)?
            .custom("character")
            .ok_or(EngineError::UnexpectedOutput("text recogniser has no `character` metadata"))?;
        let mut labels = vec![String::new()];
        labels.extend(list.lines().map(str::to_owned));
        labels.push(" ".to_owned());
        Ok(Self { session: ModelSession::created(env, path, session), labels })
    }

    /// Reads each box of `bgr`, in order.
    pub fn read(&self, bgr: &Mat, boxes: &[TextBox], times: &mut StageTimes) -> Result<Vec<Line>, EngineError> {
        let crops = boxes.iter().map(|b| crop_upright(bgr, b)).collect::<Result<Vec<_>, _>>()?;
        self.read_crops(&crops, times)
    }

    /// Reads upright line images (BGR).
    pub fn read_crops(&self, crops: &[Mat], times: &mut StageTimes) -> Result<Vec<Line>, EngineError> {
        let widths: Vec<usize> = crops.iter().map(scaled_width).collect();
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by_key(|i| widths.get(*i).copied().unwrap_or(0));
        let mut lines = vec![Line { text: String::new(), confidence: Vec::new() }; crops.len()];
        for batch in order.chunks(BATCH) {
            let width = batch.iter().filter_map(|i| widths.get(*i)).copied().max().unwrap_or(MIN_WIDTH).max(MIN_WIDTH);
            let mut input = vec![0f32; batch.len() * 3 * HEIGHT * width];
            for (slot, i) in batch.iter().enumerate() {
                let (Some(crop), Some(w)) = (crops.get(*i), widths.get(*i)) else { continue };
                let mut resized = Mat::default();
                imgproc::resize(
                    crop,
                    &mut resized,
                    Size::new(*w as i32, HEIGHT as i32),
                    0.0,
                    0.0,
                    imgproc::INTER_LINEAR,
                )
                .map_err(EngineError::OpenCv)?;
                let one = 3 * HEIGHT * width;
                if let Some(out) = input.get_mut(slot * one..(slot + 1) * one) {
                    write_normalised(&resized, out, HEIGHT, width)?;
                }
            }
            let started = Instant::now();
            let mut session = self.session.lock()?;
            let tensor = TensorRef::from_array_view(([batch.len(), 3, HEIGHT, width], input.as_slice()))
                .map_err(EngineError::Inference)?;
            let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
            let spent = started.elapsed();
            times.inference += spent;
            crate::engine::runtime::note_inference("text_recogniser", spent);
            let (shape, probs) = outputs
                .get("fetch_name_0")
                .ok_or(EngineError::UnexpectedOutput("text recogniser output missing"))?
                .try_extract_tensor::<f32>()
                .map_err(EngineError::Inference)?;
            let (steps, classes) = match &shape[..] {
                [n, t, c] if *n as usize == batch.len() && *c as usize == self.labels.len() => {
                    (*t as usize, *c as usize)
                }
                _ => return Err(EngineError::UnexpectedOutput("text recogniser output has an unexpected shape")),
            };
            for (slot, i) in batch.iter().enumerate() {
                let Some(rows) = probs.get(slot * steps * classes..(slot + 1) * steps * classes) else { continue };
                if let Some(line) = lines.get_mut(*i) {
                    *line = self.decode(rows, classes);
                }
            }
        }
        Ok(lines)
    }

    /// CTC greedy: the best class per step, repeats merged, blanks dropped.
    fn decode(&self, rows: &[f32], classes: usize) -> Line {
        let mut text = String::new();
        let mut confidence = Vec::new();
        let mut previous = 0usize;
        for step in rows.chunks_exact(classes) {
            let (best, p) =
                step.iter().enumerate().fold((0usize, f32::MIN), |acc, (i, p)| if *p > acc.1 { (i, *p) } else { acc });
            if best != 0
                && best != previous
                && let Some(label) = self.labels.get(best)
            {
                for _ in label.chars() {
                    confidence.push(p);
                }
                text.push_str(label);
            }
            previous = best;
        }
        Line { text, confidence }
    }
}

fn scaled_width(crop: &Mat) -> usize {
    let (w, h) = (crop.cols().max(1) as f32, crop.rows().max(1) as f32);
    ((HEIGHT as f32 * w / h).ceil() as usize).clamp(1, MAX_WIDTH)
}

/// The box's pixels, rotated so the text runs left to right (a box standing upright is
/// turned a quarter).
pub fn crop_upright(bgr: &Mat, b: &TextBox) -> Result<Mat, EngineError> {
    let cv = EngineError::OpenCv;
    let mut corners = [Point2f::default(); 4];
    b.rect.points(&mut corners).map_err(cv)?;
    // Order: top-left, top-right, bottom-right, bottom-left.
    let mut pts = corners.to_vec();
    pts.sort_by(|a, c| (a.x + a.y).total_cmp(&(c.x + c.y)));
    let (Some(tl), Some(br)) = (pts.first().copied(), pts.last().copied()) else {
        return Err(EngineError::UnexpectedOutput("degenerate text box"));
    };
    let rest: Vec<Point2f> = pts.get(1..3).unwrap_or_default().to_vec();
    let (tr, bl) = match rest.as_slice() {
        [a, c] if a.x - a.y > c.x - c.y => (*a, *c),
        [a, c] => (*c, *a),
        _ => return Err(EngineError::UnexpectedOutput("degenerate text box")),
    };
    let dist = |p: Point2f, q: Point2f| ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
    // A margin of a third of the line height at both ends: the detector's box can clip the
    // first or last character, which the recogniser then drops.
    let along = |a: Point2f, b: Point2f, by: f32| {
        let d = dist(a, b).max(1.0);
        Point2f::new(a.x + (a.x - b.x) / d * by, a.y + (a.y - b.y) / d * by)
    };
    let margin = dist(tl, bl).min(dist(tl, tr)) / 3.0;
    let (tl, tr, br, bl) = (along(tl, tr, margin), along(tr, tl, margin), along(br, bl, margin), along(bl, br, margin));
    let width = dist(tl, tr).max(dist(bl, br)).round().max(1.0);
    let height = dist(tl, bl).max(dist(tr, br)).round().max(1.0);
    let src: Vector<Point2f> = Vector::from_iter([tl, tr, br, bl]);
    let dst: Vector<Point2f> = Vector::from_iter([
        Point2f::new(0.0, 0.0),
        Point2f::new(width, 0.0),
        Point2f::new(width, height),
        Point2f::new(0.0, height),
    ]);
    let m = imgproc::get_perspective_transform(&src, &dst, opencv::core::DECOMP_LU).map_err(cv)?;
    let mut out = Mat::default();
    imgproc::warp_perspective(
        bgr,
        &mut out,
        &m,
        Size::new(width as i32, height as i32),
        imgproc::INTER_CUBIC,
        opencv::core::BORDER_REPLICATE,
        opencv::core::Scalar::default(),
    )
    .map_err(cv)?;
    if height / width >= 1.5 {
        let mut turned = Mat::default();
        opencv::core::rotate(&out, &mut turned, opencv::core::ROTATE_90_COUNTERCLOCKWISE).map_err(cv)?;
        return Ok(turned);
    }
    Ok(out)
}
