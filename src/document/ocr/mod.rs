//! Text reading with PaddleOCR's PP-OCRv6 detector and recogniser (from PyPI `rapidocr`),
//! run through ONNX Runtime.

pub mod detect;
pub mod recognise;
mod tensor;

pub use detect::{TextBox, TextDetector};
pub use recognise::{Line, TextRecogniser};

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
