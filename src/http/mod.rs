//! HTTP surface (actix-web). Only this module and `startup` import actix.

pub mod admin;
pub mod admin_users;
pub mod audit;
pub mod audit_pack;
pub mod auth;
pub mod candidate;
pub mod client;
pub mod console;
pub mod health;
pub mod hr;
pub mod limits;
pub mod methods;
pub mod openapi;
pub mod problem;
pub mod review;
pub mod static_page;
pub mod tokens;
pub mod trace;
