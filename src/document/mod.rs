//! Identity documents: the machine-readable zone, the AAMVA barcode of North American
//! licences, and reading them from photos.

pub mod aamva;
pub mod barcode;
pub mod mrz;
pub mod ocr;
pub mod read;
pub mod reading;
