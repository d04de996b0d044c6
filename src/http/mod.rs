//! HTTP surface (actix-web). Only this module and `startup` import actix.

pub mod health;
