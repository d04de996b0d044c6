//! Bad input gets the right 4xx and problem code, and leaves the database and the media
//! store as they were.

use reqwest::Method;

use crate::helpers::{Db, TestApp, claims_json, spawn_app_with};

async fn problem(resp: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: serde_json::Value = resp.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned(), body)
}

/// (status, media rows, media files, verifications listed) of a verification.
async fn snapshot(app: &TestApp, id: &str) -> (String, usize, usize, usize) {
    let (_, v) = app.get(&app.keys["hr"], id).await;
    let list: serde_json::Value = app.get_json(&app.keys["hr"], "/v1/verifications?limit=200").await;
    (
        v["status"].as_str().unwrap().to_owned(),
        v["media"].as_array().unwrap().len(),
        app.media_files(),
        list["items"].as_array().unwrap().len(),
    )
}

async fn create_refusals(app: &TestApp) {
    let post = |body: String, content_type: &str| {
        app.http
            .post(app.url("/v1/verifications"))
            .bearer_auth(&app.keys["hr"])
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, code, _) = problem(post("{\"external_id\": ".into(), "application/json").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "malformed_body"));
    let (status, code, _) = problem(post(claims_json("x").to_string(), "text/plain").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));
    let mut unknown = claims_json("x");
    unknown["candidate"]["shoe_size"] = 44.into();
    let (status, code, body) = problem(post(unknown.to_string(), "application/json").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "malformed_body"));
    assert!(body["detail"].as_str().unwrap().contains("shoe_size"), "{body}");
    let mut bad_date = claims_json("x");
    bad_date["candidate"]["birth_date"] = "11/11/1974".into();
    let (status, code, body) = problem(post(bad_date.to_string(), "application/json").await.unwrap()).await;
    assert_eq!((status, code.as_str(), body["field"].as_str()), (422, "date_yyyy_mm_dd", Some("birth_date")));
    // Structurally broken claims are refused; suspicious but parseable ones are risk signals.
    let mut bad_email = claims_json("x");
    bad_email["candidate"]["email"] = "leo\u{7}@example.com".into();
    let (status, _, body) = problem(post(bad_email.to_string(), "application/json").await.unwrap()).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("email")));
    let mut control = claims_json("x");
    control["candidate"]["phone"] = "+1 650\n253 0000".into();
    let (status, _, body) = problem(post(control.to_string(), "application/json").await.unwrap()).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("phone")));
    let mut huge = claims_json("x");
    huge["candidate"]["given_name"] = "A".repeat(10 * 1024 * 1024).into();
    let status = post(huge.to_string(), "application/json").await.unwrap().status().as_u16();
    assert!(status == 413 || status == 400, "a 10 MB name: {status}");
    let mut many = claims_json("x");
    many["candidate"]["education"] =
        (0..500).map(|i| serde_json::json!({ "institution": format!("School {i}") })).collect::<Vec<_>>().into();
    let (status, code, body) = problem(post(many.to_string(), "application/json").await.unwrap()).await;
    assert_eq!(
        (status, code.as_str(), body["field"].as_str()),
        (422, "at_most_20_entries", Some("education")),
        "{body}"
    );
    let mut bad_callback = claims_json("x");
    bad_callback["callback_url"] = "ftp://example.com/hook".into();
    let (status, _, body) = problem(post(bad_callback.to_string(), "application/json").await.unwrap()).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("callback_url")));
}

async fn refused_everywhere(db: Db) {
    let Some(app) = spawn_app_with(db, |s| s.uploads.max_document_bytes = 50_000).await else { return };
    create_refusals(&app).await;
    let (id, token) = app.created("cand-bad").await;
    let before_consent = snapshot(&app, &id).await;
    let (_, body) = app.consent(&token).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let before = snapshot(&app, &id).await;
    assert_eq!((before_consent.1, before.0.as_str()), (0, "consented"));

    let put = |path: &'static str, body: Vec<u8>, token: String| {
        let app = &app;
        async move { problem(app.http.put(app.url(path)).bearer_auth(token).body(body).send().await.unwrap()).await }
    };
    let (status, code, _) = put("/v1/candidate/document/front", vec![0xFF; 60_000], token.clone()).await;
    assert_eq!((status, code.as_str()), (413, "upload_too_large"));
    let (status, code, _) =
        put("/v1/candidate/document/front", b"this is a text file, not a photo".to_vec(), token.clone()).await;
    assert_eq!((status, code.as_str()), (422, "unsupported_format"));
    let jpeg = crate::helpers::encode(".jpg", &crate::helpers::solid(64, 64, [1.0, 2.0, 3.0]));
    let (status, code, _) = put("/v1/candidate/document/front", jpeg[..jpeg.len() / 2].to_vec(), token.clone()).await;
    assert_eq!((status, code.as_str()), (422, "truncated_file"));
    let (status, code, _) = put("/v1/candidate/selfie", b"not a video".to_vec(), token.clone()).await;
    assert_eq!((status, code.as_str()), (409, "step_out_of_order"));
    assert_eq!(snapshot(&app, &id).await, before, "nothing written by refused uploads");

    // A good document, then bad selfies.
    let (status, body) = app.step(Method::PUT, "/v1/candidate/document/front", &token, Some(jpeg.clone())).await;
    assert_eq!(status, 200, "{body}");
    let spent = token;
    let token = body["token"].as_str().unwrap().to_owned();
    let after_document = snapshot(&app, &id).await;
    assert_eq!((after_document.0.as_str(), after_document.1, after_document.2), ("document_uploaded", 1, 1));
    let (status, code, _) =
        put("/v1/candidate/selfie", b"a text file renamed to selfie.webm".to_vec(), token.clone()).await;
    assert_eq!((status, code.as_str()), (422, "unsupported_format"));
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::helpers::pattern_webm(dir.path(), "320x240", 25, 2);
    let webm = std::fs::read(&clip).unwrap();
    let (status, code, _) = put("/v1/candidate/selfie", webm[..webm.len() / 2].to_vec(), token.clone()).await;
    assert_eq!((status, code.as_str()), (422, "truncated_file"));
    // A replayed (spent) token is refused even with good media.
    let (status, code, _) = put("/v1/candidate/document/front", jpeg.clone(), spent).await;
    assert_eq!((status, code.as_str()), (401, "candidate_token_invalid"));
    assert_eq!(snapshot(&app, &id).await, after_document, "nothing written by refused selfies or replays");

    // Another organisation's id does not exist for this caller.
    let (status, body) = app.get(&app.keys["other"], &id).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, _) = app.get(&app.keys["hr"], "not-a-uuid").await;
    assert_eq!(status, 404);
    let resp = app.http.get(app.url("/v1/verifications?limit=0")).bearer_auth(&app.keys["hr"]).send().await.unwrap();
    assert_eq!(problem(resp).await.0, 400);
    let resp = app.http.get(app.url("/v1/verifications?colour=red")).bearer_auth(&app.keys["hr"]).send().await.unwrap();
    assert_eq!(problem(resp).await.1, "invalid_query");
    let resp =
        app.http.get(app.url("/v1/verifications?risk_above=101")).bearer_auth(&app.keys["hr"]).send().await.unwrap();
    assert_eq!(problem(resp).await.1, "invalid_query");
}

on_both_engines! {
    bad_input_is_refused_and_changes_nothing => refused_everywhere,
}
