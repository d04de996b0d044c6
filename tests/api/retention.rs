//! Retention and erasure on both engines: after the purge no byte of a closed case's media,
//! claims or face templates is left in the object store, the database or the 1:N index; a
//! case waiting for a reviewer keeps its evidence; the audit log still verifies.

use std::sync::Arc;
use std::time::Duration;

use idgate::clock::{Clock, ManualClock, SystemClock};

use crate::fixtures::fixtures;
use crate::helpers::{Db, TestApp, claims_json, idgate, spawn_app_clocked};
use crate::service_flow::run_candidate_with;

const DAY: Duration = Duration::from_secs(86_400);

/// Every file of the database (SQLite: the file and its write-ahead log), as bytes. (Debian's
/// SQLite is built with SECURE_DELETE; idgate also sets the pragma for other builds.)
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let db = app.ctx.settings.storage.data_dir.join("idgate.db");
    let mut bytes = std::fs::read(&db).unwrap_or_default();
    bytes.extend(std::fs::read(db.with_extension("db-wal")).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() >= 16 && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn templates_of(app: &TestApp, id: &str) -> Vec<Vec<u8>> {
    let rows = app.ctx.store.face_templates_after(0, 10_000).await.unwrap();
    rows.into_iter().filter(|r| r.verification_id == id).map(|r| r.sealed).collect()
}

async fn purged_events(app: &TestApp, id: &str) -> Vec<serde_json::Value> {
    let page = app.get_json(&app.keys["auditor"], &format!("/v1/audit/events?verification={id}&limit=1000")).await;
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "verification.purged")
        .map(|e| serde_json::from_str(e["entry"].as_str().unwrap()).unwrap())
        .collect()
}

async fn the_purge_leaves_nothing_behind(db: Db) {
    let Some(f) = fixtures() else { return };
    let clock = ManualClock::new(SystemClock.now());
    let tweak = |s: &mut idgate::config::Settings| {
        s.retention.media_days = 30;
        s.retention.personal_data_days = 90;
    };
    let Some(app) = spawn_app_clocked(db, tweak, Arc::new(clock.clone())).await else { return };
    let closed = run_candidate_with(&app, &claims_json("cand-retained"), &f.document, &f.genuine_selfie).await;
    let mut risky = claims_json("cand-in-review");
    risky["candidate"]["phone"] = "+850 2 381 5926".into();
    let waiting = run_candidate_with(&app, &risky, &f.document, &f.genuine_selfie).await;
    assert_eq!(app.wait_final(&closed).await["status"], "approved");
    assert_eq!(app.wait_final(&waiting).await["status"], "review");
    assert_eq!(app.media_files(), 4);
    let record = app.ctx.store.get_verification(&closed).await.unwrap().unwrap();
    let sealed_claims = record.sealed_claims.clone();
    let templates = templates_of(&app, &closed).await;
    assert_eq!(templates.len(), 2, "document and selfie templates");
    let sealed_token = app.ctx.store.token_of(&closed).await.unwrap().unwrap().sealed_token;
    let index_before = app.ctx.faces.len();
    assert_eq!(index_before, 4);

    // Nothing is due yet.
    let none = idgate::retention::purge_once(&app.ctx).await.unwrap();
    assert_eq!((none.media_cases, none.personal_cases), (0, 0));

    // Past the media limit: the closed case's photo and video go, the waiting case's stay.
    clock.advance(31 * DAY);
    let first = idgate::retention::purge_once(&app.ctx).await.unwrap();
    assert_eq!((first.media_cases, first.personal_cases), (1, 0));
    assert_eq!(app.media_files(), 2);
    assert!(app.ctx.store.media_of(&closed).await.unwrap().is_empty());
    assert_eq!(app.ctx.store.media_of(&waiting).await.unwrap().len(), 2);
    assert_eq!(app.ctx.store.get_verification(&closed).await.unwrap().unwrap().sealed_claims, sealed_claims);

    // The check below can see them: before the purge they are in the database's files.
    if db == Db::Sqlite {
        let bytes = database_bytes(&app);
        assert!(contains(&bytes, &sealed_claims) && templates.iter().all(|t| contains(&bytes, t)));
    }

    // Past the personal-data limit: claims, templates (and index entries), token copy gone.
    clock.advance(60 * DAY);
    let second = idgate::retention::purge_once(&app.ctx).await.unwrap();
    assert_eq!((second.media_cases, second.personal_cases), (0, 1));
    let after = app.ctx.store.get_verification(&closed).await.unwrap().unwrap();
    assert!(after.sealed_claims.is_empty() && after.sealed_link.is_empty());
    assert!(templates_of(&app, &closed).await.is_empty());
    assert_eq!(app.ctx.faces.len(), 2, "the closed case's two templates left the index");
    assert!(app.ctx.store.sightings(&closed).await.unwrap().is_empty());
    if db == Db::Sqlite {
        let bytes = database_bytes(&app);
        assert!(!contains(&bytes, &sealed_claims), "sealed claims bytes remain in the database file");
        assert!(!contains(&bytes, &sealed_token), "the sealed token remains in the database file");
        for t in &templates {
            assert!(!contains(&bytes, t), "a sealed template remains in the database file");
        }
    }
    // HR still reads the outcome; the token's copy is gone.
    let (status, view) = app.get(&app.keys["hr"], &closed).await;
    assert_eq!((status, view["status"].as_str()), (200, Some("approved")), "{view}");
    assert!(view["token"]["value"].is_null() && view["media"].as_array().unwrap().is_empty(), "{view}");
    let events = purged_events(&app, &closed).await;
    let tiers: Vec<&str> = events.iter().map(|e| e["data"]["tier"].as_str().unwrap()).collect();
    assert_eq!(tiers, ["media", "personal_data"], "{events:?}");
    assert_eq!(events[1]["data"]["deleted"]["templates"], 2, "{events:?}");

    // Erasure on request: at once, by an admin, with a reason code.
    let url = app.url(&format!("/v1/verifications/{waiting}/erasure"));
    let resp = app
        .http
        .post(&url)
        .bearer_auth(&app.keys["hr"])
        .json(&serde_json::json!({"reason": "data_subject_request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .http
        .post(&url)
        .bearer_auth(&app.keys["admin"])
        .json(&serde_json::json!({"reason": "because"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = app
        .http
        .post(&url)
        .bearer_auth(&app.keys["admin"])
        .json(&serde_json::json!({"reason": "data_subject_request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let erased: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        (erased["deleted"]["media"].as_u64(), erased["deleted"]["templates"].as_u64()),
        (Some(2), Some(2)),
        "{erased}"
    );
    assert_eq!(app.media_files(), 0);
    assert_eq!(app.ctx.faces.len(), 0);
    // The erased case stays in review, but nothing is left to approve it with.
    let reviewer = &app.keys["reviewer"];
    let claimed = app
        .http
        .post(app.url(&format!("/v1/verifications/{waiting}/claim")))
        .bearer_auth(reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 200);
    let claims = app
        .http
        .get(app.url(&format!("/v1/verifications/{waiting}/claims")))
        .bearer_auth(reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(claims.status(), 404);
    let body = serde_json::json!({"decision": "approve", "reason": "identity_confirmed", "note": "erased"});
    let approve = app
        .http
        .post(app.url(&format!("/v1/verifications/{waiting}/review")))
        .bearer_auth(reviewer)
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem: serde_json::Value = approve.json().await.unwrap();
    assert_eq!(problem["code"], "evidence_unavailable", "{problem}");
    let events = purged_events(&app, &waiting).await;
    assert!(
        events.iter().all(|e| e["data"]["reason"] == "data_subject_request" && e["actor"]["type"] == "api_key"),
        "{events:?}"
    );

    // The audit log still verifies: digests were kept, nothing was rewritten.
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let out = idgate(&["--data-dir", &data_dir, "--database-url", &db_url, "audit", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

on_both_engines! {
    purge => the_purge_leaves_nothing_behind,
}
