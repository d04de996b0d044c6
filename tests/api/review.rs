//! Human review over the API, on both engines: the queue by risk, claims (a second claim is
//! a 409), decisions with reason codes acting as automatic ones (audit, webhook, token),
//! a retake that the candidate answers, and the four-eyes rule on an overturned reject.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;

use crate::fixtures::fixtures;
use crate::helpers::{Db, TestApp, claims_json, spawn_app_with};
use crate::service_flow::run_candidate_with;

/// Claims with a North Korean phone number: a genuine candidate scores very high (review).
fn risky(external_id: &str, callback: Option<&str>) -> serde_json::Value {
    let mut body = claims_json(external_id);
    body["candidate"]["phone"] = "+850 2 381 5926".into();
    if let Some(url) = callback {
        body["callback_url"] = url.into();
    }
    body
}

async fn post(app: &TestApp, key: &str, path: &str, body: Option<serde_json::Value>) -> (u16, serde_json::Value) {
    let mut req = app.http.post(app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

async fn claim(app: &TestApp, key: &str, id: &str) -> (u16, serde_json::Value) {
    post(app, key, &format!("/v1/verifications/{id}/claim"), None).await
}

async fn decide(app: &TestApp, key: &str, id: &str, decision: &str, reason: &str) -> (u16, serde_json::Value) {
    let body =
        serde_json::json!({ "decision": decision, "reason": reason, "note": format!("{decision}: checked by hand") });
    post(app, key, &format!("/v1/verifications/{id}/review"), Some(body)).await
}

/// A second reviewer key of organisation `acme`.
async fn second_reviewer(app: &TestApp) -> String {
    let key = idgate::crypto::api_key::generate().unwrap();
    let now = app.ctx.clock.now();
    app.ctx.store.insert_api_key(&key.prefix, &key.hash, "acme", "reviewer", now).await.unwrap();
    key.key
}

fn token_checks(token: &str) -> Vec<serde_json::Value> {
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["verified_claims"]["verification"]["evidence"][0]["check_details"].as_array().unwrap().clone()
}

async fn trail_kinds(app: &TestApp, id: &str) -> Vec<(String, String)> {
    let trail = app.get_json(&app.keys["auditor"], &format!("/v1/audit/verifications/{id}")).await;
    trail["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{trail}"))
        .iter()
        .map(|e| {
            let entry: serde_json::Value =
                e["entry"].as_str().map(|s| serde_json::from_str(s).unwrap()).unwrap_or_else(|| e.clone());
            (
                entry["kind"].as_str().unwrap_or_default().to_owned(),
                entry["actor"]["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn reviewers_decide_cases_from_the_queue(db: Db) {
    let Some(f) = fixtures() else { return };
    let (hook, receiver) = crate::webhooks::start_receiver().await;
    let Some(app) = spawn_app_with(db, crate::webhooks::local_receivers).await else { return };
    let reviewer = app.keys["reviewer"].clone();
    let other_reviewer = second_reviewer(&app).await;

    let first = run_candidate_with(&app, &risky("cand-risky-1", None), &f.document, &f.genuine_selfie).await;
    let second = run_candidate_with(&app, &risky("cand-risky-2", Some(&hook)), &f.document, &f.genuine_selfie).await;
    for id in [&first, &second] {
        let done = app.wait_final(id).await;
        assert_eq!(done["status"], "review", "{done}");
        assert!(done["reasons"].as_array().unwrap().contains(&"risk_score_high".into()), "{done}");
    }

    // The queue: highest risk first, then the longest waiting; HR may not read it.
    let queue = app.get_json(&reviewer, "/v1/review-queue").await;
    let ids: Vec<&str> = queue["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [first.as_str(), second.as_str()], "{queue}");
    assert!(queue["items"][0]["signals"].as_array().unwrap().contains(&"phone_high_risk_country".into()), "{queue}");
    let filtered = app.get_json(&reviewer, "/v1/review-queue?signal=sanctions_match").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 0, "{filtered}");
    let resp = app.http.get(app.url("/v1/review-queue")).bearer_auth(&app.keys["hr"]).send().await.unwrap();
    assert_eq!(resp.status(), 403);

    // One reviewer holds a case; another's claim and decision are refused.
    let (status, held) = claim(&app, &reviewer, &first).await;
    assert_eq!(status, 200, "{held}");
    let (status, refused) = claim(&app, &other_reviewer, &first).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("claimed_by_another")), "{refused}");
    let (status, refused) = decide(&app, &other_reviewer, &first, "approve", "identity_confirmed").await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("claimed_by_another")), "{refused}");
    let mine = app.get_json(&reviewer, "/v1/review-queue?reviewer=me").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    // A reason code must be one of the decision's; a note is required.
    let (status, bad) = decide(&app, &reviewer, &first, "approve", "document_forged").await;
    assert_eq!((status, bad["field"].as_str()), (422, Some("reason")), "{bad}");
    let body = serde_json::json!({ "decision": "approve", "reason": "identity_confirmed", "note": "" });
    let (status, bad) = post(&app, &reviewer, &format!("/v1/verifications/{first}/review"), Some(body)).await;
    assert_eq!((status, bad["field"].as_str()), (422, Some("note")), "{bad}");

    // Approval acts as an automatic one: approved, a token with the human review in it.
    let (status, done) = decide(&app, &reviewer, &first, "approve", "risk_signal_explained").await;
    assert_eq!(
        (status, done["state"].as_str(), done["status"].as_str()),
        (200, Some("final"), Some("approved")),
        "{done}"
    );
    let (_, approved) = app.get(&app.keys["hr"], &first).await;
    assert_eq!((approved["status"].as_str(), approved["decision"].as_str()), (Some("approved"), Some("approve")));
    let checks = token_checks(approved["token"]["value"].as_str().expect("a token"));
    assert!(checks.iter().any(|c| c["check"] == "human_review" && c["check_method"] == "vri"), "{checks:?}");
    assert!(checks.iter().any(|c| c["check"] == "face_match"), "the stages' evidence is kept: {checks:?}");
    let kinds = trail_kinds(&app, &first).await;
    for kind in ["review.claimed", "review.recorded", "verification.decided", "token.issued"] {
        assert!(kinds.iter().any(|(k, actor)| k == kind && actor == "api_key"), "{kind} by the reviewer: {kinds:?}");
    }
    let (status, gone) = claim(&app, &reviewer, &first).await;
    assert_eq!((status, gone["code"].as_str()), (409, Some("not_reviewable")), "{gone}");

    // A retake: a new link for the candidate, delivered by webhook; the candidate starts again
    // at the document and the pipeline runs again.
    assert_eq!(claim(&app, &reviewer, &second).await.0, 200);
    let (status, retake) = decide(&app, &reviewer, &second, "retake", "selfie_poor_quality").await;
    assert_eq!((status, retake["status"].as_str()), (200, Some("consented")), "{retake}");
    let url = retake["candidate_url"].as_str().expect("a new link").to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    let (status, session) = app.step(Method::GET, "/v1/candidate/session", &token, None).await;
    assert_eq!((status, session["next_step"].as_str()), (200, Some("upload_document")), "{session}");
    let mut delivered = None;
    for _ in 0..150 {
        delivered = receiver
            .deliveries
            .lock()
            .unwrap()
            .iter()
            .find(|d| d.body["type"] == "verification.retake_requested")
            .cloned();
        if delivered.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = delivered.expect("a retake_requested webhook");
    assert_eq!(delivered.body["data"]["candidate_url"].as_str(), Some(url.as_str()), "{:?}", delivered.body);
    let (status, body) = app.step(Method::PUT, "/v1/candidate/document/front", &token, Some(f.document.clone())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, body) = app.step(Method::PUT, "/v1/candidate/selfie", &token, Some(f.genuine_selfie.clone())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, body) = app.step(Method::POST, "/v1/candidate/submit", &token, None).await;
    assert_eq!(status, 200, "{body}");
    let again = app.wait_final(&second).await;
    assert_eq!(again["status"], "review", "{again}");
    // The retaken photo and video replaced the first ones: no orphaned object is left.
    assert_eq!(app.media_files(), 4, "two cases, two objects each");

    // A reject by the second reviewer: final at once, no token.
    assert_eq!(claim(&app, &other_reviewer, &second).await.0, 200);
    let (status, done) = decide(&app, &other_reviewer, &second, "reject", "identity_reused").await;
    assert_eq!((status, done["status"].as_str()), (200, Some("rejected")), "{done}");
    let (_, rejected) = app.get(&app.keys["hr"], &second).await;
    assert_eq!(rejected["reasons"], serde_json::json!(["identity_reused"]), "{rejected}");
    assert!(rejected.get("token").is_none(), "{rejected}");
    // Auditors find it by decision and by reviewer.
    let prefix = other_reviewer.get(..12).unwrap();
    let found =
        app.get_json(&app.keys["auditor"], &format!("/v1/audit/events?decision=reject&actor=key:{prefix}")).await;
    let kinds: Vec<&str> = found["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["review.recorded", "verification.decided"], "{found}");
    let none = app.get_json(&app.keys["auditor"], &format!("/v1/audit/events?decision=approve&actor={prefix}")).await;
    assert_eq!(none["events"].as_array().unwrap().len(), 0, "{none}");
    let bad =
        app.http.get(app.url("/v1/audit/events?actor=%25")).bearer_auth(&app.keys["auditor"]).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let history = app.get_json(&app.keys["auditor"], &format!("/v1/verifications/{second}/reviews")).await;
    let reviews = history["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 2, "{history}");
    assert_eq!(reviews[0]["note"], "retake: checked by hand");
}

async fn overturning_a_reject_takes_two_reviewers(db: Db) {
    let Some(f) = fixtures() else { return };
    // No borderline band: the impostor is rejected outright.
    let Some(app) = spawn_app_with(db, |s| s.decision.review_margin = 0.0).await else { return };
    let reviewer = app.keys["reviewer"].clone();
    let other_reviewer = second_reviewer(&app).await;
    let id = run_candidate_with(&app, &claims_json("cand-disputed"), &f.document, &f.impostor_selfie).await;
    let done = app.wait_final(&id).await;
    assert_eq!(done["status"], "rejected", "{done}");

    assert_eq!(claim(&app, &reviewer, &id).await.0, 200);
    let (status, first) = decide(&app, &reviewer, &id, "approve", "face_match_confirmed").await;
    assert_eq!(
        (status, first["state"].as_str(), first["status"].as_str()),
        (202, Some("pending"), Some("rejected")),
        "{first}"
    );
    let (_, still) = app.get(&app.keys["hr"], &id).await;
    assert_eq!(still["status"], "rejected");
    let queue = app.get_json(&reviewer, "/v1/review-queue").await;
    assert_eq!(queue["items"][0]["pending"][0]["decision"], "approve", "{queue}");

    // The same reviewer cannot be the second pair of eyes.
    assert_eq!(claim(&app, &reviewer, &id).await.0, 200);
    let (status, refused) = decide(&app, &reviewer, &id, "approve", "face_match_confirmed").await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("second_reviewer_required")), "{refused}");
    let resp =
        app.http.delete(app.url(&format!("/v1/verifications/{id}/claim"))).bearer_auth(&reviewer).send().await.unwrap();
    assert_eq!(resp.status(), 204);

    // Another reviewer agrees: approved, with a token.
    assert_eq!(claim(&app, &other_reviewer, &id).await.0, 200);
    let (status, second) = decide(&app, &other_reviewer, &id, "approve", "face_match_confirmed").await;
    assert_eq!(
        (status, second["state"].as_str(), second["status"].as_str()),
        (200, Some("final"), Some("approved")),
        "{second}"
    );
    let (_, approved) = app.get(&app.keys["hr"], &id).await;
    assert!(approved["token"]["value"].is_string(), "{approved}");
    let history = app.get_json(&reviewer, &format!("/v1/verifications/{id}/reviews")).await;
    let states: Vec<&str> =
        history["reviews"].as_array().unwrap().iter().map(|r| r["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["final", "final"], "{history}");
}

on_both_engines! {
    reviewers_decide => reviewers_decide_cases_from_the_queue,
    four_eyes => overturning_a_reject_takes_two_reviewers,
}
