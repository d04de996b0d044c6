//! Verification stages, in the order they run. For now: the face match.

pub mod face_match;
