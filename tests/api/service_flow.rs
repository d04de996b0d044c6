//! The whole flow over HTTP on port 0, on SQLite and on PostgreSQL.

use reqwest::Method;

use crate::fixtures::fixtures;
use crate::helpers::{Db, TestApp, spawn_app};

/// Walks a candidate through every step; returns the verification id.
pub async fn run_candidate(app: &TestApp, external_id: &str, document: &[u8], selfie: &[u8]) -> String {
    run_candidate_with(app, &crate::helpers::claims_json(external_id), document, selfie).await
}

/// The whole candidate flow for a verification created with `claims`.
pub async fn run_candidate_with(app: &TestApp, claims: &serde_json::Value, document: &[u8], selfie: &[u8]) -> String {
    run_candidate_as(app, &app.keys["hr"], claims, document, selfie).await
}

/// The whole candidate flow for a verification created with `key` (an organisation's hr key).
pub async fn run_candidate_as(
    app: &TestApp,
    key: &str,
    claims: &serde_json::Value,
    document: &[u8],
    selfie: &[u8],
) -> String {
    let (id, token) = app.created_as(key, claims).await;
    let (status, session) = app.step(Method::GET, "/v1/candidate/session", &token, None).await;
    assert_eq!((status, session["next_step"].as_str()), (200, Some("consent")));
    let token = app.upload_steps(&token, document, selfie).await;
    let (status, body) = app.step(Method::POST, "/v1/candidate/submit", &token, None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("submitted")), "{body}");
    id
}

async fn genuine_is_approved_and_impostor_is_not(db: Db) {
    let Some(f) = fixtures() else { return };
    let Some(app) = spawn_app(db).await else { return };

    let genuine = run_candidate(&app, "cand-genuine", &f.document, &f.genuine_selfie).await;
    let impostor = run_candidate(&app, "cand-impostor", &f.document, &f.impostor_selfie).await;

    let approved = app.wait_final(&genuine).await;
    assert_eq!(approved["status"], "approved", "{approved}");
    assert_eq!(approved["decision"], "approve");
    let similarity = approved["results"]["face_match"]["similarity"].as_f64().unwrap();
    assert!(similarity > 0.5, "{approved}");
    assert_eq!(approved["media"].as_array().unwrap().len(), 2);
    assert!(!approved.to_string().contains("embedding"));
    // A clean, plausible candidate scores low, and the pipeline's risk replaced the intake's.
    assert_eq!(
        (approved["risk"]["band"].as_str(), approved["risk"]["phase"].as_str()),
        (Some("low"), Some("pipeline")),
        "{approved}"
    );

    let refused = app.wait_final(&impostor).await;
    assert!(["rejected", "review"].contains(&refused["status"].as_str().unwrap()), "{refused}");
    assert!(
        refused["reasons"].as_array().unwrap().iter().any(|r| r == "face_mismatch" || r == "face_match_borderline"),
        "{refused}"
    );
    // Each pipeline used the reading its upload's readability answer made: no second OCR.
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("idgate_document_readings_reused_total 2"), "{metrics}");
    eprintln!(
        "{db:?}: genuine similarity {similarity:.3}; impostor {}",
        refused["results"]["face_match"]["similarity"]
    );
}

async fn steps_are_ordered_and_tokens_single_use(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let (_, first) = app.created("cand-order").await;
    let (status, body) = app.step(Method::POST, "/v1/candidate/submit", &first, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("step_out_of_order")));
    let (status, body) = app.consent(&first).await;
    assert_eq!(status, 200);
    let second = body["token"].as_str().unwrap().to_owned();
    // The spent token no longer opens the session.
    let (status, body) = app.consent(&first).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("candidate_token_invalid")));
    let (status, _) = app.step(Method::GET, "/v1/candidate/session", &first, None).await;
    assert_eq!(status, 401);
    let (status, body) = app.step(Method::GET, "/v1/candidate/session", &second, None).await;
    assert_eq!((status, body["next_step"].as_str()), (200, Some("upload_document")));
    // An HR key is not a candidate token.
    let (status, _) = app.step(Method::GET, "/v1/candidate/session", &app.keys["hr"], None).await;
    assert_eq!(status, 401);
}

async fn idempotency(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let body = crate::helpers::claims_json("cand-idem");
    let send = |body: serde_json::Value| {
        app.http
            .post(app.url("/v1/verifications"))
            .bearer_auth(&app.keys["hr"])
            .header("Idempotency-Key", "req-42")
            .json(&body)
            .send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!((&first["id"], &first["candidate_url"]), (&again["id"], &again["candidate_url"]));
    let mut changed = body;
    changed["external_id"] = "someone-else".into();
    let conflict = send(changed).await.unwrap();
    assert_eq!(conflict.status(), 409);
    let list: serde_json::Value = app.get_json(&app.keys["hr"], "/v1/verifications").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "one verification, not three");
}

async fn listing(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    for i in 0..5 {
        app.created(&format!("cand-{i}")).await;
    }
    let other = app.create(&app.keys["other"], &crate::helpers::claims_json("globex-1")).await;
    assert_eq!(other.status(), 201);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url("/v1/verifications?limit=2");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value =
            app.http.get(url).bearer_auth(&app.keys["hr"]).send().await.unwrap().json().await.unwrap();
        seen.extend(page["items"].as_array().unwrap().iter().map(|v| v["external_id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["cand-0", "cand-1", "cand-2", "cand-3", "cand-4"], "own organisation only, each once");
    let filtered: serde_json::Value =
        app.get_json(&app.keys["reviewer"], "/v1/verifications?external_id=cand-3&status=created").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_link_expires() {
    let clock = idgate::clock::ManualClock::new(
        idgate::domain::time::Timestamp::parse_rfc3339("2026-11-23T12:00:00Z").unwrap(),
    );
    let Some(app) = crate::helpers::spawn_app_clocked(
        Db::Sqlite,
        |s| s.candidate.token_ttl_hours = 72,
        std::sync::Arc::new(clock.clone()),
    )
    .await
    else {
        return;
    };
    let (_, token) = app.created("cand-expiry").await;
    clock.advance(std::time::Duration::from_secs(71 * 3600));
    let (status, _) = app.step(Method::GET, "/v1/candidate/session", &token, None).await;
    assert_eq!(status, 200);
    clock.advance(std::time::Duration::from_secs(3600));
    let (status, body) = app.step(Method::GET, "/v1/candidate/session", &token, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("candidate_token_invalid")));
}

on_both_engines! {
    end_to_end => genuine_is_approved_and_impostor_is_not,
    candidate_steps_are_ordered_and_tokens_single_use => steps_are_ordered_and_tokens_single_use,
    idempotency_key_replays => idempotency,
    listing_paginates_within_the_organisation => listing,
}

/// A job whose input cannot be read is retried with backoff, then gives up as `failed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_is_retried_then_fails() {
    let Some(app) = crate::helpers::spawn_app_with(Db::Sqlite, |s| {
        s.jobs.workers = 0;
        s.jobs.max_attempts = 2;
        s.jobs.backoff_seconds = 1;
    })
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::helpers::pattern_webm(dir.path(), "160x120", 10, 1);
    let photo = crate::helpers::encode(".jpg", &crate::helpers::solid(64, 64, [9.0, 9.0, 9.0]));
    let id = run_candidate(&app, "cand-doomed", &photo, &std::fs::read(&clip).unwrap()).await;
    // The sealed media disappears from the store: every attempt fails.
    std::fs::remove_dir_all(app.ctx.settings.storage.media_dir().join(&id)).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(idgate::worker::run(app.ctx.clone(), 1, stopped));
    let failed = app.wait_final(&id).await;
    let _ = stop.send(true);
    assert_eq!(
        (failed["status"].as_str(), failed["reasons"][0].as_str()),
        (Some("failed"), Some("processing_failed")),
        "{failed}"
    );
    assert_eq!(app.ctx.store.jobs_of(&id).await.unwrap(), vec![("failed".to_owned(), 2)]);
}
