//! The one integration-test binary (one link step). One file per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod authz;
mod bad_input;
mod bad_media;
mod compare_cli;
mod engine;
mod fixtures;
mod health;
mod helpers;
mod processes;
mod real_faces;
mod service_flow;
mod webhooks;
