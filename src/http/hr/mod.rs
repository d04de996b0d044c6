//! The HR system's API: verifications of its own organisation.

pub mod verifications;
pub(crate) mod views;
