//! Identity documents: the machine-readable zone, the AAMVA barcode of North American
//! licences, and reading them from photos. The parsers live in the `idgate-docparse` crate
//! (pure, fuzzed apart); the models and images are here.

pub use idgate_docparse::{aamva, mrz};

pub mod barcode;
pub mod ocr;
pub mod read;
pub mod reading;
pub mod specimens;
