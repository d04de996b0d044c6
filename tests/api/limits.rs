//! What one caller can cost: request rate limits per address, API key and candidate link
//! (429 problem+json with Retry-After), decoding slots (503 `busy`), document retakes capped,
//! and a bounded flood beside normal HR traffic (loopback only; it stops by itself).

use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::{Db, TestApp, claims_json, encode, solid, spawn_app_with};

async fn problem(resp: reqwest::Response) -> (u16, Option<String>, serde_json::Value) {
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let kind = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    if status >= 400 {
        assert_eq!(kind, "application/problem+json", "{body}");
    }
    (status, retry, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_over_their_rate_are_told_when_to_come_back() {
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.server.rate_limits.per_ip_per_minute = 1000;
        s.server.rate_limits.per_api_key_per_minute = 10;
        s.server.rate_limits.per_candidate_per_minute = 5;
    })
    .await
    else {
        return;
    };
    // An API key: a burst of 2 (a creation and a list), then 429 with Retry-After; another key
    // is not affected.
    let list = |key: String| app.http.get(app.url("/v1/verifications")).bearer_auth(key).send();
    let hr = app.keys["hr"].clone();
    let (_, token) = app.created("rated").await;
    assert_eq!(list(hr.clone()).await.unwrap().status(), 200);
    let (status, retry, body) = problem(list(hr.clone()).await.unwrap()).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    let seconds: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=6).contains(&seconds), "{seconds}");
    assert_eq!(list(app.keys["auditor"].clone()).await.unwrap().status(), 200, "another key has its own");
    // Health, readiness and metrics are never limited.
    for _ in 0..20 {
        assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    }
    // A candidate link: a burst of 1.
    let session = || app.step(Method::GET, "/v1/candidate/session", &token, None);
    assert_eq!(session().await.0, 200);
    let (status, body) = session().await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_is_limited_whatever_keys_it_makes_up() {
    let Some(app) = spawn_app_with(Db::Sqlite, |s| s.server.rate_limits.per_ip_per_minute = 50).await else {
        return;
    };
    let mut statuses = Vec::new();
    for i in 0..30 {
        let key = format!("idg_{i:08x}_made-up-secret-0000000000000000000000000000");
        let resp = app.http.get(app.url("/v1/verifications")).bearer_auth(key).send().await.unwrap();
        statuses.push(resp.status().as_u16());
    }
    // The address's burst is 10: then every further request is refused before authentication.
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20, "{statuses:?}");
}

/// Consent, then the front of the document: (token after consent).
async fn consented(app: &TestApp, external_id: &str) -> String {
    let (_, token) = app.created(external_id).await;
    let (status, body) = app.consent(&token).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_retakes_are_capped_and_decoding_waits_for_a_slot() {
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.uploads.max_document_uploads = 2;
        s.uploads.concurrent_decodes = 1;
        s.uploads.decode_wait_seconds = 1;
    })
    .await
    else {
        return;
    };
    let photo = encode(".jpg", &solid(64, 64, [40.0, 90.0, 160.0]));
    let mut token = consented(&app, "retaker").await;
    for _ in 0..2 {
        let (status, body) = app.step(Method::PUT, "/v1/candidate/document/front", &token, Some(photo.clone())).await;
        assert_eq!(status, 200, "{body}");
        token = body["token"].as_str().unwrap().to_owned();
    }
    let (status, body) = app.step(Method::PUT, "/v1/candidate/document/front", &token, Some(photo.clone())).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("uploads_exhausted")), "{body}");

    // Every decoding slot taken: the upload waits its second, then 503 busy, and nothing moved.
    let token = consented(&app, "waiter").await;
    let held = app.ctx.decoding.clone().acquire_owned().await.unwrap();
    let resp = app
        .http
        .put(app.url("/v1/candidate/document/front"))
        .bearer_auth(&token)
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    let (status, retry, body) = problem(resp).await;
    assert_eq!((status, body["code"].as_str(), retry.as_deref()), (503, Some("busy"), Some("5")), "{body}");
    drop(held);
    let (status, body) = app.step(Method::PUT, "/v1/candidate/document/front", &token, Some(photo)).await;
    assert_eq!(status, 200, "the same token still works once a slot is free: {body}");
}

/// A bounded flood (loopback, at most 10 s): an unauthenticated flood and a candidate-upload
/// flood from many tasks, with an HR system's normal traffic beside them through its own
/// address. The floods are cut by their limits, the service stays up and HR is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_are_cut_and_hr_traffic_is_still_served() {
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.server.rate_limits.per_ip_per_minute = 600;
        s.server.rate_limits.per_candidate_per_minute = 60;
        // The HR system comes through a trusted proxy that names it (another address).
        s.server.trusted_proxies = idgate::network::TrustedProxies::parse(&["127.0.0.1"]).unwrap();
    })
    .await
    else {
        return;
    };
    let photo = encode(".jpg", &solid(640, 480, [40.0, 90.0, 160.0]));
    let token = consented(&app, "flooder").await;
    let flood_started = Instant::now();
    let deadline = flood_started + Duration::from_secs(10);
    let flood = |upload: bool| {
        let (http, base, token, photo) = (app.http.clone(), app.base.clone(), token.clone(), photo.clone());
        tokio::spawn(async move {
            let mut counts = [0usize; 6]; // 2xx, 401, 429, 409, 503, other
            for _ in 0..150 {
                if Instant::now() > deadline {
                    break;
                }
                let req = if upload {
                    http.put(format!("{base}/v1/candidate/document/front")).bearer_auth(&token).body(photo.clone())
                } else {
                    http.get(format!("{base}/v1/verifications")).bearer_auth("idg_deadbeef_nope")
                };
                let slot = match req.send().await.map(|r| r.status().as_u16()) {
                    Ok(200..=299) => 0,
                    Ok(401) => 1,
                    Ok(429) => 2,
                    Ok(409) => 3,
                    Ok(503) => 4,
                    _ => 5,
                };
                counts[slot] += 1;
            }
            counts
        })
    };
    let floods: Vec<_> = (0..8).map(|i| flood(i % 2 == 0)).collect();
    let hr = app.keys["hr"].clone();
    let mut served = Vec::new();
    for i in 0..10 {
        let started = Instant::now();
        let resp = app
            .http
            .post(app.url("/v1/verifications"))
            .bearer_auth(&hr)
            .header("x-forwarded-for", "198.51.100.20")
            .json(&claims_json(&format!("hr-normal-{i}")))
            .send()
            .await
            .unwrap();
        served.push((resp.status().as_u16(), started.elapsed()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut totals = [0usize; 6];
    for f in floods {
        for (t, c) in totals.iter_mut().zip(f.await.unwrap()) {
            *t += c;
        }
    }
    let flood_seconds = flood_started.elapsed().as_secs_f64();
    let slowest = served.iter().map(|(_, d)| *d).max().unwrap();
    println!(
        "flood: {} requests: {} ok, {} 401, {} 429, {} 409, {} 503, {} other; HR: {}/10 created, slowest {:?}",
        totals.iter().sum::<usize>(),
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        totals[4],
        totals[5],
        served.iter().filter(|(s, _)| *s == 201).count(),
        slowest
    );
    assert!(served.iter().all(|(s, _)| *s == 201), "HR traffic is served: {served:?}");
    assert_eq!(totals[5], 0, "no connection error or server error: {totals:?}");
    assert!(totals[2] > 0, "the floods met their limits: {totals:?}");
    // The address's burst (120) and its refill (10 a second) bound what got through.
    let through = totals[0] + totals[1] + totals[3] + totals[4];
    assert!(through as f64 <= 121.0 + 10.0 * flood_seconds, "{through} in {flood_seconds:.1} s: {totals:?}");
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}
