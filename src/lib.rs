//! idgate: an identity-verification gateway for remote hiring.
//!
//! Layout: `domain` (pure types), `engine` (models and media), `pipeline` (stages in order),
//! `http` + `startup` (the service), `cli` (commands), `config`, `telemetry`.

pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod http;
pub mod pipeline;
pub mod startup;
pub mod telemetry;
