//! The one integration-test binary (one link step). One file per area.

mod bad_media;
mod compare_cli;
mod engine;
mod health;
mod helpers;
mod real_faces;
