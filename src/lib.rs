//! idgate: an identity-verification gateway for remote hiring.
//!
//! Layout: `domain` (pure types), `engine` (models and media), `pipeline` (stages in order),
//! `storage` (SQLite / PostgreSQL), `crypto` (keys and secrets), `http` + `startup` (the
//! service), `cli` (commands), `config`, `clock`, `telemetry`.

pub mod accounts;
pub mod assess;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod crypto;
pub mod document;
pub mod domain;
pub mod engine;
pub mod face_search;
pub mod http;
pub mod metrics;
pub mod network;
pub mod pipeline;
pub mod retention;
pub mod review;
pub mod sanctions;
pub mod sanctions_refresh;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod tokens;
pub mod webhook;
pub mod worker;
