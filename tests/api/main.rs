//! The one integration-test binary (one link step). One file per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

/// Two tests, on SQLite and on PostgreSQL, from one `async fn(Db)` of the calling module.
macro_rules! on_both_engines {
    ($($name:ident => $body:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(crate::helpers::Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(crate::helpers::Db::Postgres).await;
            }
        }
    )*};
}

mod admin;
mod audit_log;
mod authz;
mod bad_input;
mod bad_media;
mod browser;
mod compare_cli;
mod console;
mod database_outage;
mod document_checks;
mod document_cli;
mod document_stage;
mod documents;
mod engine;
mod evidence_pack;
mod face_search;
mod fixtures;
mod frame_drops;
mod health;
mod helpers;
mod limits;
mod lists_cli;
mod liveness;
mod network;
mod openapi_conformance;
// Shared with benches/planarity.rs, which makes every motion; the suite turns prints only.
#[allow(dead_code)]
#[path = "../support/plane_attack.rs"]
mod plane_attack;
#[path = "../support/print_attack.rs"]
mod print_attack;
mod processes;
mod real_faces;
mod retention;
mod review;
mod risk;
mod risk_fit;
mod service_flow;
mod tokens;
mod webhooks;
