//! The PDF417 barcode on the back of a licence, decoded with `rxing` (a port of ZXing).

use opencv::core::{Mat, Size};
use opencv::imgproc;
use opencv::prelude::*;
use rxing::{BarcodeFormat, DecodeHints};

use crate::engine::EngineError;

/// The longest side handed to the decoder; larger photos are scaled down first, since the
/// decoder's cost grows with the pixel count while a licence barcode stays readable.
const MAX_SIDE: i32 = 2000;

/// The raw bytes of the first PDF417 symbol in a BGR image, or `None` when none decodes.
pub fn decode_pdf417(bgr: &Mat) -> Result<Option<Vec<u8>>, EngineError> {
    let cv = EngineError::OpenCv;
    let mut grey = Mat::default();
    imgproc::cvt_color_def(bgr, &mut grey, imgproc::COLOR_BGR2GRAY).map_err(cv)?;
    let side = grey.cols().max(grey.rows());
    if side > MAX_SIDE {
        let scale = f64::from(MAX_SIDE) / f64::from(side);
        let mut small = Mat::default();
        imgproc::resize(&grey, &mut small, Size::new(0, 0), scale, scale, imgproc::INTER_AREA).map_err(cv)?;
        grey = small;
    }
    let owned = if grey.is_continuous() { grey } else { grey.try_clone().map_err(cv)? };
    let (w, h) = (u32::try_from(owned.cols()).unwrap_or(0), u32::try_from(owned.rows()).unwrap_or(0));
    let luma = owned.data_bytes().map_err(cv)?.to_vec();
    let mut hints = DecodeHints { TryHarder: Some(true), PureBarcode: Some(false), ..DecodeHints::default() };
    match rxing::helpers::detect_in_luma_with_hints(luma, w, h, Some(BarcodeFormat::PDF_417), &mut hints) {
        Ok(result) => {
            let raw = result.getRawBytes();
            // rxing gives the decoded text; its bytes are the payload (AAMVA text is ASCII).
            let text = result.getText().as_bytes().to_vec();
            Ok(Some(if text.is_empty() { raw.to_vec() } else { text }))
        }
        Err(_) => Ok(None),
    }
}
