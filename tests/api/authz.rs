//! The authorisation matrix: every endpoint against every role, another organisation, a
//! candidate token and the anonymous caller.

use reqwest::Method;

use crate::helpers::{Db, TestApp, claims_json, spawn_app};

const CALLERS: [&str; 7] = ["anonymous", "hr", "reviewer", "auditor", "admin", "other_org", "candidate"];

struct Endpoint {
    method: Method,
    path: &'static str,
    /// Expected status per caller, in `CALLERS` order.
    expect: [u16; 7],
}

async fn call(app: &TestApp, e: &Endpoint, caller: &str, id: &str) -> u16 {
    // Each call gets a fresh verification (and candidate token) so state does not leak.
    let (_, token) = app.created(&format!("matrix-{}", uuid::Uuid::new_v4().simple())).await;
    let path = e.path.replace("{id}", id);
    let mut req = app.http.request(e.method.clone(), app.url(&path));
    let credential = match caller {
        "anonymous" => None,
        "other_org" => Some(app.keys["other"].clone()),
        "candidate" => Some(token),
        role => Some(app.keys[role].clone()),
    };
    if let Some(c) = credential {
        req = req.bearer_auth(c);
    }
    req = match (e.method.clone(), e.path) {
        (Method::POST, "/v1/verifications") => req.json(&claims_json("matrix-new")),
        (Method::POST, "/v1/candidate/consent") => {
            req.json(&serde_json::json!({"consent_version": "2026-12", "accepted": true}))
        }
        (Method::POST, "/v1/candidate/device") => req.json(&serde_json::json!({"timezone": "Europe/Prague"})),
        (Method::POST, "/v1/admin/api-keys") => req.json(&serde_json::json!({"role": "hr"})),
        (Method::POST, "/v1/admin/users") => {
            req.json(&serde_json::json!({"email": "matrix@acme.example", "role": "auditor"}))
        }
        (Method::POST, "/v1/verifications/{id}/erasure") => {
            req.json(&serde_json::json!({"reason": "created_in_error"}))
        }
        (Method::POST, "/v1/verifications/{id}/review") => {
            req.json(&serde_json::json!({"decision": "reject", "reason": "other_fraud", "note": "matrix"}))
        }
        (Method::PUT, _) => req.body(vec![0u8; 16]),
        _ => req,
    };
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_against_every_caller() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let (id, _) = app.created("matrix-target").await;
    //                                      anon  hr   rev  aud  admin other cand
    let endpoints = [
        Endpoint { method: Method::POST, path: "/v1/verifications", expect: [401, 201, 403, 403, 201, 201, 401] },
        Endpoint { method: Method::GET, path: "/v1/verifications", expect: [401, 200, 200, 200, 200, 200, 401] },
        Endpoint { method: Method::GET, path: "/v1/verifications/{id}", expect: [401, 200, 200, 200, 200, 404, 401] },
        Endpoint { method: Method::GET, path: "/v1/candidate/session", expect: [401, 401, 401, 401, 401, 401, 200] },
        Endpoint { method: Method::POST, path: "/v1/candidate/consent", expect: [401, 401, 401, 401, 401, 401, 200] },
        // Any valid candidate token, in any state; an API key is not one.
        Endpoint { method: Method::POST, path: "/v1/candidate/device", expect: [401, 401, 401, 401, 401, 401, 202] },
        // A fresh candidate has not consented yet: authenticated, then refused by the state machine.
        Endpoint {
            method: Method::PUT,
            path: "/v1/candidate/document/front",
            expect: [401, 401, 401, 401, 401, 401, 409],
        },
        Endpoint { method: Method::PUT, path: "/v1/candidate/selfie", expect: [401, 401, 401, 401, 401, 401, 409] },
        Endpoint { method: Method::POST, path: "/v1/candidate/submit", expect: [401, 401, 401, 401, 401, 401, 409] },
        // Review: reviewers and admins decide, auditors read; a fresh case is not in review.
        Endpoint { method: Method::GET, path: "/v1/review-queue", expect: [401, 403, 200, 200, 200, 403, 401] },
        Endpoint {
            method: Method::POST,
            path: "/v1/verifications/{id}/claim",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::DELETE,
            path: "/v1/verifications/{id}/claim",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/verifications/{id}/review",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/verifications/{id}/reviews",
            expect: [401, 403, 200, 200, 200, 403, 401],
        },
        // A case's evidence: only the reviewer holding its claim (none is held here).
        Endpoint {
            method: Method::GET,
            path: "/v1/verifications/{id}/claims",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/verifications/{id}/media/document_front",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/verifications/{id}/frames",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/verifications/{id}/frames/0",
            expect: [401, 403, 409, 403, 409, 403, 401],
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/audit/evidence?verification={id}",
            expect: [401, 403, 403, 200, 200, 403, 401],
        },
        // The console's pages are public; its account endpoints need a session (not a key).
        Endpoint { method: Method::GET, path: "/console", expect: [200; 7] },
        Endpoint { method: Method::GET, path: "/console/api/me", expect: [401; 7] },
        // Admin: only an organisation's admins.
        Endpoint { method: Method::GET, path: "/v1/admin/api-keys", expect: [401, 403, 403, 403, 200, 403, 401] },
        Endpoint { method: Method::POST, path: "/v1/admin/api-keys", expect: [401, 403, 403, 403, 201, 403, 401] },
        Endpoint {
            method: Method::DELETE,
            path: "/v1/admin/api-keys/idg_00000000",
            expect: [401, 403, 403, 403, 404, 403, 401],
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/admin/webhook-secret",
            expect: [401, 403, 403, 403, 200, 403, 401],
        },
        Endpoint { method: Method::GET, path: "/v1/admin/users", expect: [401, 403, 403, 403, 200, 403, 401] },
        Endpoint { method: Method::POST, path: "/v1/admin/users", expect: [401, 403, 403, 403, 201, 403, 401] },
        Endpoint {
            method: Method::DELETE,
            path: "/v1/admin/users/00000000-0000-0000-0000-000000000000",
            expect: [401, 403, 403, 403, 404, 403, 401],
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/verifications/{id}/erasure",
            expect: [401, 403, 403, 403, 200, 403, 401],
        },
        Endpoint { method: Method::GET, path: "/healthz", expect: [200; 7] },
        Endpoint { method: Method::GET, path: "/readyz", expect: [200; 7] },
        Endpoint { method: Method::GET, path: "/metrics", expect: [200; 7] },
        Endpoint { method: Method::GET, path: "/openapi.json", expect: [200; 7] },
        Endpoint { method: Method::GET, path: "/docs", expect: [200; 7] },
    ];
    let mut failures = Vec::new();
    for e in &endpoints {
        for (caller, expected) in CALLERS.iter().zip(e.expect) {
            let got = call(&app, e, caller, &id).await;
            if got != expected {
                failures.push(format!("{} {} as {caller}: expected {expected}, got {got}", e.method, e.path));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn hash_checks(metrics: &str) -> u64 {
    let line = metrics.lines().find(|l| l.starts_with("idgate_api_key_hash_checks_total ")).expect("the counter");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Made-up keys cost no argon2 hash: an unknown prefix is refused from the database (then
/// from memory), a wrong secret for a real prefix is hashed once and then refused from memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_keys_are_refused_without_hashing() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let checks =
        || async { hash_checks(&app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap()) };
    let status = |key: String| {
        let req = app.http.get(app.url("/v1/verifications")).bearer_auth(key);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let before = checks().await;
    for i in 0..20 {
        assert_eq!(status(format!("idg_{i:08x}_not-a-real-secret-at-all-0000000000000000")).await, 401);
    }
    assert_eq!(checks().await, before, "unknown prefixes are refused without argon2");
    let real = app.keys["hr"].clone();
    let wrong = format!("{}_{}", &real[..12], "x".repeat(real.len() - 13));
    for _ in 0..5 {
        assert_eq!(status(wrong.clone()).await, 401);
    }
    assert_eq!(checks().await, before + 1, "a wrong secret is hashed once, then refused from memory");
    assert_eq!(status(real.clone()).await, 200);
    assert_eq!(status(real).await, 200);
    assert_eq!(checks().await, before + 2, "the right key is hashed once, then remembered");
}
