//! Pure domain types: no IO, no async, nothing of ours imported.

pub mod calibration;
pub mod challenge;
pub mod claims;
pub mod face;
pub mod names;
pub mod quality;
pub mod review;
pub mod role;
pub mod time;
pub mod verification;
pub mod whole;
