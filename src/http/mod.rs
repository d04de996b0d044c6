//! HTTP surface (actix-web). Only this module and `startup` import actix.

pub mod audit;
pub mod auth;
pub mod candidate;
pub mod client;
pub mod health;
pub mod hr;
pub mod openapi;
pub mod problem;
pub mod tokens;
pub mod trace;
