use crate::helpers::{Db, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_answer_on_a_port_zero_server() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!((body["status"].as_str(), body["database"].as_str()), (Some("ready"), Some("ok")));
    // The sanctions lists loaded and their age (the test lists are old, max_age_days wide).
    let sanctions = &body["sanctions"];
    assert_eq!(sanctions["status"].as_str(), Some("ok"), "{body}");
    let names: Vec<&str> = sanctions["lists"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ofac-sdn", "un-consolidated"]);
    // The network tables read, and this node's 1:N index (empty in a fresh database).
    let tables: Vec<&str> =
        body["network_tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tables, ["asn_ipv4", "asn_ipv6", "ip_country", "tz_zones", "tz_links"], "{body}");
    assert_eq!(body["face_index"]["templates"], 0, "{body}");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("idgate_sanctions_lists_loaded 2"), "{metrics}");
    assert!(metrics.contains("idgate_sanctions_list_age_days{list=\"ofac-sdn\"}"), "{metrics}");

    // None loaded: still ready (the service works), but it says nobody is screened.
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_path_buf();
    let bare = crate::helpers::spawn_app_with(Db::Sqlite, move |s| s.sanctions.dir = Some(path)).await.unwrap();
    let body: serde_json::Value = bare.http.get(bare.url("/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["sanctions"]["status"].as_str(), Some("not_screened"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_are_problem_json_404s() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let resp = app.http.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_every_endpoint_and_its_errors() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let spec: serde_json::Value = app.http.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"), "{}", spec["openapi"]);
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/v1/verifications",
        "/v1/verifications/{id}",
        "/v1/candidate/session",
        "/v1/candidate/consent",
        "/v1/candidate/device",
        "/v1/candidate/document/{side}",
        "/v1/candidate/selfie",
        "/v1/candidate/submit",
        "/v1/review-queue",
        "/v1/verifications/{id}/claim",
        "/v1/verifications/{id}/review",
        "/v1/verifications/{id}/reviews",
    ] {
        let item = paths.get(path).unwrap_or_else(|| panic!("{path} undocumented"));
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.keys().any(|code| code.starts_with('4')), "{method} {path} documents no error");
        }
    }
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    let device = &spec["components"]["schemas"]["DeviceReport"];
    assert!(device["properties"]["webgl"].is_object() && device["properties"]["timezone"].is_object(), "{device}");
    // The reviewers' reason codes are listed.
    let review = spec["components"]["schemas"]["ReviewRequest"].to_string();
    for code in idgate::domain::review::ReviewDecision::ALL.iter().flat_map(|d| d.reasons()) {
        assert!(review.contains(code), "reason code {code} is not in the OpenAPI");
    }
    let docs = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("/openapi.json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let (id, _) = app.created("metrics-1").await;
    let _ = app.get(&app.keys["hr"], &id).await;
    let resp = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert!(resp.headers().contains_key("x-request-id"));
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(r#"idgate_http_requests_total{method="POST",route="/v1/verifications",status="201"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"route="/v1/verifications/{id}",status="200"} 1"#), "{text}");
    assert!(text.contains("idgate_job_queue_depth 0"), "{text}");
    assert!(text.contains("idgate_http_request_duration_seconds_bucket"), "{text}");
}
