//! Text reading with PaddleOCR's PP-OCRv6 detector and recogniser (from PyPI `rapidocr`),
//! run through ONNX Runtime.

pub mod detect;
pub mod recognise;
mod tensor;

use opencv::core::Mat;

pub use detect::{TextBox, TextDetector};
pub use recognise::{Line, TextRecogniser};

use crate::engine::{EngineError, StageTimes};

/// Both text models, loaded once.
pub struct Ocr {
    pub detector: TextDetector,
    pub recogniser: TextRecogniser,
}

/// A line found and read.
#[derive(Debug, Clone)]
pub struct ReadBox {
    pub region: TextBox,
    pub line: Line,
}

impl Ocr {
    /// Finds the text lines of a BGR image and reads those at least `min_aspect` times as wide
    /// as high (lines, not isolated words), in reading order (top to bottom, left to right).
    pub fn read_lines(&self, bgr: &Mat, min_aspect: f32, times: &mut StageTimes) -> Result<Vec<ReadBox>, EngineError> {
        let mut boxes: Vec<TextBox> =
            self.detector.detect(bgr, times)?.into_iter().filter(|b| b.aspect() >= min_aspect).collect();
        boxes.sort_by(|a, b| a.centre().y.total_cmp(&b.centre().y).then(a.centre().x.total_cmp(&b.centre().x)));
        let lines = self.recogniser.read(bgr, &boxes, times)?;
        Ok(boxes.into_iter().zip(lines).map(|(region, line)| ReadBox { region, line }).collect())
    }
}
