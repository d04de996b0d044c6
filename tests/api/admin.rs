//! Admins manage their organisation's API keys and webhook secret: listed without secrets,
//! created with a label and an expiry, revoked with effect within a second on every node,
//! every change audited.

use std::sync::Arc;
use std::time::Duration;

use idgate::clock::ManualClock;
use idgate::domain::time::Timestamp;

use crate::helpers::{Db, TestApp, claims_json, spawn_app_clocked};

async fn create_status(app: &TestApp, base: &str, key: &str) -> u16 {
    let body = claims_json(&format!("admin-{}", uuid::Uuid::new_v4().simple()));
    app.http
        .post(format!("{base}/v1/verifications"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn audit_kinds(app: &TestApp) -> Vec<String> {
    let page = app.get_json(&app.keys["auditor"], "/v1/audit/events?limit=1000").await;
    page["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

async fn admins_manage_keys(db: Db) {
    let clock = ManualClock::new(Timestamp::from_millis(1_796_000_000_000));
    let Some(app) = spawn_app_clocked(db, |_| {}, Arc::new(clock.clone())).await else { return };
    let admin = app.keys["admin"].clone();

    // Only admins, and only their organisation's keys, without hashes.
    let resp = app.http.get(app.url("/v1/admin/api-keys")).bearer_auth(&app.keys["hr"]).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let list = app.get_json(&admin, "/v1/admin/api-keys").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 4, "{list}");
    assert!(!list.to_string().contains("argon2"), "{list}");

    // Created with a label and an expiry; it works at once.
    let resp = app
        .http
        .post(app.url("/v1/admin/api-keys"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "role": "hr", "label": "ATS integration", "expires_in_days": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created: serde_json::Value = resp.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    let prefix = created["prefix"].as_str().unwrap().to_owned();
    assert_eq!(create_status(&app, &app.base, &key).await, 201);
    let list = app.get_json(&admin, "/v1/admin/api-keys").await;
    let row = list["items"].as_array().unwrap().iter().find(|k| k["prefix"] == prefix.as_str()).unwrap().clone();
    assert_eq!((row["label"].as_str(), row["role"].as_str()), (Some("ATS integration"), Some("hr")), "{row}");
    assert!(row["created_by"].as_str().unwrap().starts_with("key:idg_"), "{row}");

    // Bad input: a clear answer, nothing created.
    for (body, field) in [
        (serde_json::json!({ "role": "root" }), "role"),
        (serde_json::json!({ "role": "hr", "expires_in_days": 0 }), "expires_in_days"),
        (serde_json::json!({ "role": "hr", "label": "a\u{7}b" }), "label"),
    ] {
        let resp = app.http.post(app.url("/v1/admin/api-keys")).bearer_auth(&admin).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 422);
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert_eq!(app.get_json(&admin, "/v1/admin/api-keys").await["items"].as_array().unwrap().len(), 5);

    // Expiry: a day later the key is refused.
    clock.advance(Duration::from_secs(86_400 + 1));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(create_status(&app, &app.base, &key).await, 401);

    // Revocation reaches a second node serving the same database within a second, though
    // that node had the key in its cache.
    let resp = app
        .http
        .post(app.url("/v1/admin/api-keys"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "role": "hr" }))
        .send()
        .await
        .unwrap();
    let second: serde_json::Value = resp.json().await.unwrap();
    let (key2, prefix2) = (second["key"].as_str().unwrap().to_owned(), second["prefix"].as_str().unwrap().to_owned());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let node = idgate::startup::Application::build(app.ctx.clone(), listener).unwrap();
    let node_base = format!("http://127.0.0.1:{}", node.port());
    tokio::spawn(node.run());
    assert_eq!(create_status(&app, &node_base, &key2).await, 201);
    let resp =
        app.http.delete(app.url(&format!("/v1/admin/api-keys/{prefix2}"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(create_status(&app, &node_base, &key2).await, 401);
    assert_eq!(create_status(&app, &app.base, &key2).await, 401);
    let resp =
        app.http.delete(app.url(&format!("/v1/admin/api-keys/{prefix2}"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 404, "revoking twice");
    // Another organisation's key cannot be revoked from here.
    let other = app.keys["other"].get(..12).unwrap().to_owned();
    let resp =
        app.http.delete(app.url(&format!("/v1/admin/api-keys/{other}"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    // Webhook secret rotation: a new secret, shown once.
    let resp = app.http.post(app.url("/v1/admin/webhook-secret")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let rotated: serde_json::Value = resp.json().await.unwrap();
    let secret = rotated["webhook_secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret != crate::helpers::WEBHOOK_SECRET);
    let sealed = app.ctx.store.webhook_secret("acme").await.unwrap().unwrap();
    assert_eq!(app.ctx.sealer.open(&sealed, "webhook:acme").unwrap(), secret.as_bytes());

    let kinds = audit_kinds(&app).await;
    for kind in ["api_key.created", "api_key.revoked", "webhook_secret.rotated"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing: {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| *k == "api_key.created").count(), 2, "{kinds:?}");
}

on_both_engines! {
    keys_are_managed => admins_manage_keys,
}
