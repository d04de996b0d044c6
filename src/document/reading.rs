//! Reading a document photo: the machine-readable zone by OCR and, for licences, the PDF417
//! barcode, each parsed.

use std::path::Path;
use std::time::{Duration, Instant};

use opencv::core::Mat;
use time::Date;

use super::aamva::{self, Licence};
use super::barcode;
use super::read::{MrzRead, read_mrz};
use crate::engine::media::MediaError;
use crate::engine::{Engine, EngineError, StageTimes};

/// What one image said.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub mrz: Option<MrzRead>,
    pub barcode: Option<Licence>,
    /// A PDF417 symbol decoded but was no AAMVA payload.
    pub barcode_not_aamva: bool,
    pub ocr_time: Duration,
    pub barcode_time: Duration,
}

impl Reading {
    pub fn is_empty(&self) -> bool {
        self.mrz.is_none() && self.barcode.is_none()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("document image")]
    Media(#[from] MediaError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl ReadError {
    pub fn code(&self) -> String {
        match self {
            Self::Media(e) => format!("document_{}", e.code()),
            Self::Engine(e) => e.code().to_owned(),
        }
    }

    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::Media(_))
    }
}

pub fn read_document(engine: &Engine, path: &Path, today: Date) -> Result<Reading, ReadError> {
    let mut times = StageTimes::default();
    let bgr = engine.decode_image(path, &mut times)?;
    Ok(read_image(engine, &bgr, today)?)
}

/// The zone first; the barcode is tried when no zone with valid check digits was found.
pub fn read_image(engine: &Engine, bgr: &Mat, today: Date) -> Result<Reading, EngineError> {
    let mut reading = Reading::default();
    let started = Instant::now();
    let mut times = StageTimes::default();
    reading.mrz = read_mrz(engine.ocr(), bgr, today, &mut times)?;
    reading.ocr_time = started.elapsed();
    if reading.mrz.as_ref().is_some_and(|m| m.mrz.check_digits_valid()) {
        return Ok(reading);
    }
    let started = Instant::now();
    if let Some(payload) = barcode::decode_pdf417(bgr)? {
        match aamva::parse(&payload) {
            Ok(licence) => reading.barcode = Some(licence),
            Err(_) => reading.barcode_not_aamva = true,
        }
    }
    reading.barcode_time = started.elapsed();
    Ok(reading)
}
