//! PP-OCR text detection: a probability map per pixel, then DB post-processing (binarise at
//! 0.3, one box per connected region with a mean score of at least 0.5, grown by the unclip
//! ratio 1.6, as a rotated rectangle).

use std::time::Instant;

use opencv::core::{Mat, Point, Point2f, RotatedRect, Size, Size2f, Vector};
use opencv::imgproc;
use opencv::prelude::*;
use ort::value::TensorRef;

use super::tensor::write_normalised;
use crate::engine::runtime::ModelSession;
use crate::engine::{EngineError, StageTimes};

/// The fine pass: the short side scaled to at least 736 px (PP-OCR's setting), the long side
/// to at most 2400.
const MIN_SIDE: f32 = 736.0;
const MAX_SIDE: f32 = 2400.0;
/// The coarse pass: the long side at most 960 px (PaddleOCR's default limit), a small scan's
/// short side enlarged to 480 px. A document's machine-readable lines are its longest and
/// boldest: they are found at this size on a phone photo of a page and on a small scan alike,
/// at a fraction of the fine pass's cost (a 4000×3000 photo: 960×720 instead of 2400×1800).
const COARSE_MAX_SIDE: f32 = 960.0;
const COARSE_MIN_SIDE: f32 = 480.0;
const THRESHOLD: f32 = 0.3;
const BOX_SCORE: f32 = 0.5;
const UNCLIP: f32 = 1.6;

/// A text region in source-image pixels: a rotated rectangle and its mean score.
#[derive(Debug, Clone, Copy)]
pub struct TextBox {
    pub rect: RotatedRect,
    pub score: f32,
}

impl TextBox {
    /// The long side over the short side.
    pub fn aspect(&self) -> f32 {
        let s = self.rect.size;
        s.width.max(s.height) / s.width.min(s.height).max(1.0)
    }

    pub fn centre(&self) -> Point2f {
        self.rect.center
    }

    /// The height of the line (the short side).
    pub fn line_height(&self) -> f32 {
        self.rect.size.width.min(self.rect.size.height)
    }
}

/// How finely the detector looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The image at most 960 px long (a small one's short side 480): a first look for the
    /// long lines.
    Coarse,
    /// The short side at least 736 px: small print on a small image.
    Fine,
}

pub struct TextDetector {
    session: ModelSession,
}

impl TextDetector {
    pub fn new(session: ModelSession) -> Self {
        Self { session }
    }

    /// Creates the session now (see `Engine::preload`).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.session.preload()
    }

    /// Every text region of a BGR image, found at the resolution of `pass`.
    pub fn detect(&self, bgr: &Mat, pass: Pass, times: &mut StageTimes) -> Result<Vec<TextBox>, EngineError> {
        let (w, h) = (bgr.cols() as f32, bgr.rows() as f32);
        let scale = match pass {
            Pass::Fine => {
                let scale = (MIN_SIDE / w.min(h)).max(1.0);
                if w.max(h) * scale > MAX_SIDE { MAX_SIDE / w.max(h) } else { scale }
            }
            Pass::Coarse => (COARSE_MIN_SIDE / w.min(h)).max(1.0).min(COARSE_MAX_SIDE / w.max(h)),
        };
        let round32 = |v: f32| (((v * scale) / 32.0).round() as i32).max(1) * 32;
        let (nw, nh) = (round32(w), round32(h));
        let mut resized = Mat::default();
        imgproc::resize(bgr, &mut resized, Size::new(nw, nh), 0.0, 0.0, imgproc::INTER_LINEAR)
            .map_err(EngineError::OpenCv)?;
        let (uw, uh) = (nw as usize, nh as usize);
        let mut input = vec![0f32; 3 * uw * uh];
        write_normalised(&resized, &mut input, uh, uw)?;
        let started = Instant::now();
        let mut session = self.session.lock()?;
        let tensor =
            TensorRef::from_array_view(([1usize, 3, uh, uw], input.as_slice())).map_err(EngineError::Inference)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(EngineError::Inference)?;
        let spent = started.elapsed();
        times.inference += spent;
        crate::engine::runtime::note_inference("text_detector", spent);
        let (_, map) = outputs
            .get("fetch_name_0")
            .ok_or(EngineError::UnexpectedOutput("text detector output missing"))?
            .try_extract_tensor::<f32>()
            .map_err(EngineError::Inference)?;
        if map.len() != uw * uh {
            return Err(EngineError::UnexpectedOutput("text detector map has the wrong size"));
        }
        let boxes = db_boxes(map, uw, uh)?;
        let (sx, sy) = (w / nw as f32, h / nh as f32);
        Ok(boxes
            .into_iter()
            .map(|b| {
                let c = b.rect.center;
                let rect = RotatedRect::new(
                    Point2f::new(c.x * sx, c.y * sy),
                    Size2f::new(b.rect.size.width * sx, b.rect.size.height * sy),
                    b.rect.angle,
                )
                .unwrap_or(b.rect);
                TextBox { rect, score: b.score }
            })
            .collect())
    }
}

/// DB post-processing on a probability map of `w`×`h`.
fn db_boxes(map: &[f32], w: usize, h: usize) -> Result<Vec<TextBox>, EngineError> {
    let cv = EngineError::OpenCv;
    let mask_bytes: Vec<u8> = map.iter().map(|p| if *p > THRESHOLD { 255 } else { 0 }).collect();
    let mask = Mat::new_rows_cols_with_data(h as i32, w as i32, &mask_bytes).map_err(cv)?;
    let mut contours: Vector<Vector<Point>> = Vector::new();
    imgproc::find_contours(&mask, &mut contours, imgproc::RETR_LIST, imgproc::CHAIN_APPROX_SIMPLE, Point::new(0, 0))
        .map_err(cv)?;
    let mut out = Vec::new();
    for contour in contours.iter() {
        if contour.len() < 4 {
            continue;
        }
        let rect = imgproc::min_area_rect(&contour).map_err(cv)?;
        if rect.size.width.min(rect.size.height) < 3.0 {
            continue;
        }
        let score = mean_inside(map, w, h, &contour)?;
        if score < BOX_SCORE {
            continue;
        }
        let area = rect.size.width * rect.size.height;
        let perimeter = 2.0 * (rect.size.width + rect.size.height);
        let grow = area * UNCLIP / perimeter.max(1.0);
        let grown = RotatedRect::new(
            rect.center,
            Size2f::new(rect.size.width + 2.0 * grow, rect.size.height + 2.0 * grow),
            rect.angle,
        )
        .map_err(cv)?;
        if grown.size.width.min(grown.size.height) < 5.0 {
            continue;
        }
        out.push(TextBox { rect: grown, score });
    }
    Ok(out)
}

/// The mean probability inside a contour (over its bounding box, masked by the polygon).
fn mean_inside(map: &[f32], w: usize, h: usize, contour: &Vector<Point>) -> Result<f32, EngineError> {
    let cv = EngineError::OpenCv;
    let bounds = imgproc::bounding_rect(contour).map_err(cv)?;
    let (x0, y0) = (bounds.x.max(0), bounds.y.max(0));
    let (x1, y1) = ((bounds.x + bounds.width).min(w as i32), (bounds.y + bounds.height).min(h as i32));
    if x1 <= x0 || y1 <= y0 {
        return Ok(0.0);
    }
    let mut local = Mat::zeros(y1 - y0, x1 - x0, opencv::core::CV_8UC1).map_err(cv)?.to_mat().map_err(cv)?;
    let shifted: Vector<Point> = contour.iter().map(|p| Point::new(p.x - x0, p.y - y0)).collect();
    let polys: Vector<Vector<Point>> = Vector::from_iter([shifted]);
    imgproc::fill_poly(&mut local, &polys, opencv::core::Scalar::all(1.0), imgproc::LINE_8, 0, Point::new(0, 0))
        .map_err(cv)?;
    let inside = local.data_bytes().map_err(cv)?;
    let lw = (x1 - x0) as usize;
    let (mut sum, mut count) = (0f32, 0usize);
    for (i, flag) in inside.iter().enumerate() {
        if *flag != 0 {
            let (x, y) = (x0 as usize + i % lw, y0 as usize + i / lw);
            sum += map.get(y * w + x).copied().unwrap_or(0.0);
            count += 1;
        }
    }
    Ok(if count == 0 { 0.0 } else { sum / count as f32 })
}
