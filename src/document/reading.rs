//! Reading a document photo: the machine-readable zone by OCR and, for licences, the PDF417
//! barcode, each parsed.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

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

/// Readings of document photos made for the upload's readability answer, for the pipeline to
/// use instead of reading the same photo again: keyed by the verification, the photo's sha256
/// and the day (the findings depend on it), so that a reading serves only the verification whose
/// candidate uploaded it; in memory only, at most `CAPACITY` of them, each for at most `KEEP`,
/// and taken (removed) when used. A reading is personal data: it never leaves the process and
/// expires. A worker in another process, or a photo read on another day, reads it again.
#[derive(Default)]
pub struct ReadingCache {
    entries: Mutex<VecDeque<Cached>>,
}

struct Cached {
    verification: String,
    sha256: [u8; 32],
    day: Date,
    at: Instant,
    reading: Reading,
}

const CAPACITY: usize = 256;
const KEEP: Duration = Duration::from_secs(3600);

impl ReadingCache {
    /// Keeps what `bytes`, uploaded for `verification`, read as on `day` (replacing an earlier
    /// reading of the same).
    pub fn put(&self, verification: &str, bytes: &[u8], day: Date, reading: Reading) {
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let Ok(mut entries) = self.entries.lock() else { return };
        entries.retain(|e| !(e.verification == verification && e.sha256 == sha256) && e.at.elapsed() < KEEP);
        while entries.len() >= CAPACITY {
            entries.pop_front();
        }
        entries.push_back(Cached { verification: verification.to_owned(), sha256, day, at: Instant::now(), reading });
    }

    /// What `bytes` of `verification` read as on `day`, if it was kept; it is not kept any longer.
    pub fn take(&self, verification: &str, bytes: &[u8], day: Date) -> Option<Reading> {
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let mut entries = self.entries.lock().ok()?;
        entries.retain(|e| e.at.elapsed() < KEEP);
        let at = entries.iter().position(|e| e.verification == verification && e.sha256 == sha256 && e.day == day)?;
        entries.remove(at).map(|e| e.reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_taken_once_by_its_verification_for_the_same_bytes_and_day() {
        let cache = ReadingCache::default();
        let day = time::macros::date!(2026 - 12 - 06);
        let reading = Reading { barcode_not_aamva: true, ..Reading::default() };
        cache.put("v1", b"photo", day, reading);
        assert!(cache.take("v1", b"other photo", day).is_none());
        assert!(cache.take("v2", b"photo", day).is_none(), "another verification's");
        assert!(cache.take("v1", b"photo", day.next_day().unwrap()).is_none());
        assert!(cache.take("v1", b"photo", day).is_some_and(|r| r.barcode_not_aamva));
        assert!(cache.take("v1", b"photo", day).is_none(), "taken once");
        for i in 0..(CAPACITY + 10) {
            cache.put("v1", format!("photo {i}").as_bytes(), day, Reading::default());
        }
        assert!(cache.take("v1", b"photo 0", day).is_none(), "the oldest went first");
        assert!(cache.take("v1", format!("photo {}", CAPACITY + 9).as_bytes(), day).is_some());
    }
}
