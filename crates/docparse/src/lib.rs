//! Pure parsers for identity documents, kept apart from the service so they build (and fuzz)
//! in seconds: no IO, no models, no async.
//!
//! - `mrz`: ICAO Doc 9303 machine-readable zones (TD1, TD2, TD3, MRV-A, MRV-B), every check
//!   digit, structure-driven OCR repair, and a formatter.
//! - `aamva`: the AAMVA DL/ID card design standard's barcode payload (versions 1 to 10).

pub mod aamva;
pub mod mrz;
