//! Webhooks against a real local receiver that checks the Standard Webhooks signature and
//! fails the first delivery, so the retry is exercised too; and destinations inside the
//! network refused, at creation and when sending (loopback only: no test opens a connection
//! beyond it).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::helpers::{Db, WEBHOOK_SECRET, claims_json, spawn_app_with};

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub signature_valid: bool,
    pub body: serde_json::Value,
}

#[derive(Default)]
pub struct Receiver {
    pub deliveries: Mutex<Vec<Delivery>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<Receiver>>) -> HttpResponse {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (id, timestamp, signature) = (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"));
    let text = String::from_utf8_lossy(&body).into_owned();
    let expected = idgate::webhook::sign(WEBHOOK_SECRET, &id, timestamp.parse().unwrap_or(0), &text).unwrap();
    let signature_valid = !id.is_empty() && signature.split(' ').any(|s| s == expected);
    let mut deliveries = state.deliveries.lock().unwrap();
    deliveries.push(Delivery { id, signature_valid, body: serde_json::from_str(&text).unwrap_or_default() });
    // The very first delivery fails: the sender must retry.
    if deliveries.len() == 1 { HttpResponse::ServiceUnavailable().finish() } else { HttpResponse::NoContent().finish() }
}

/// A local receiver on loopback (its first delivery is answered 503).
pub async fn start_receiver() -> (String, Arc<Receiver>) {
    let state = Arc::new(Receiver::default());
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || App::new().app_data(data.clone()).route("/hook", web::post().to(receive)))
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}/hook"), state)
}

/// The explicit settings under which a receiver on loopback over http is accepted.
pub fn local_receivers(s: &mut idgate::config::Settings) {
    s.webhooks.allow_http = true;
    s.webhooks.allow_private_destinations = true;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_are_delivered_signed_and_retried() {
    let (url, receiver) = start_receiver().await;
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.jobs.backoff_seconds = 1;
        local_receivers(s);
    })
    .await
    else {
        return;
    };
    let mut body = claims_json("hooked");
    body["callback_url"] = url.clone().into();
    let created: serde_json::Value = app.create(&app.keys["hr"], &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["candidate_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let (status, _) = app.consent(&token).await;
    assert_eq!(status, 200);

    let mut deliveries = Vec::new();
    for _ in 0..100 {
        deliveries = receiver.deliveries.lock().unwrap().clone();
        if deliveries.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(deliveries.len(), 3, "{deliveries:?}");
    assert!(deliveries.iter().all(|d| d.signature_valid), "{deliveries:?}");
    // The first delivery failed; its retry kept its webhook-id (the other may come between).
    assert_eq!(deliveries.iter().filter(|d| d.id == deliveries[0].id).count(), 2, "a retry keeps its webhook-id");
    // Creation scored the claims at once and said so; then the status changed.
    let of_type = |t: &str| deliveries.iter().rev().find(|d| d.body["type"] == t).map(|d| d.body.clone());
    let scored = of_type("verification.risk_scored").expect("a risk_scored webhook");
    assert!(scored["data"]["risk"]["score"].is_u64() && scored["data"]["risk"]["signals"].is_array(), "{scored}");
    let changed = of_type("verification.status_changed").expect("a status_changed webhook");
    let data = &changed["data"];
    assert_eq!(
        (data["id"].as_str(), data["status"].as_str(), data["external_id"].as_str()),
        (Some(id.as_str()), Some("consented"), Some("hooked"))
    );
    assert!(
        data.get("given_name").is_none() && deliveries.iter().all(|d| !d.body.to_string().contains("Leonardo")),
        "no claims in webhooks"
    );

    let attempts = app.ctx.store.webhook_attempts(&id).await.unwrap();
    let codes: Vec<Option<i64>> = attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(503), Some(204), Some(204)]);
    assert_eq!(attempts[0].error.as_deref(), Some("receiver answered 503"));

    // A changed body no longer matches its signature.
    let forged = idgate::webhook::sign(WEBHOOK_SECRET, &deliveries[1].id, 1, "{}").unwrap();
    assert_ne!(forged, idgate::webhook::sign(WEBHOOK_SECRET, &deliveries[1].id, 1, "{ }").unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_urls_inside_the_network_are_refused_at_creation() {
    // Default settings (https only, public destinations only); no worker, so nothing is sent.
    let Some(app) = spawn_app_with(Db::Sqlite, |s| s.jobs.workers = 0).await else { return };
    for (url, rule) in [
        ("http://hooks.example.com/idgate", "https_url_required"),
        ("https://127.0.0.1:8443/hook", "public_destination_required"),
        ("https://2130706433/hook", "public_destination_required"),
        ("https://169.254.169.254/latest/meta-data/", "public_destination_required"),
        ("https://10.0.0.7/hook", "public_destination_required"),
        ("https://100.100.100.200/hook", "public_destination_required"),
        ("https://[::1]/hook", "public_destination_required"),
        ("https://[::ffff:169.254.169.254]/hook", "public_destination_required"),
        ("https://[fd00:ec2::254]/hook", "public_destination_required"),
        ("https://localhost/hook", "public_destination_required"),
        ("https://metadata.google.internal/computeMetadata/v1/", "public_destination_required"),
        ("https://hr-backend/hook", "public_destination_required"),
        ("https://admin:pw@hooks.example.com/hook", "http_or_https_url_without_credentials"),
    ] {
        let mut body = claims_json("inside");
        body["callback_url"] = url.into();
        let resp = app.create(&app.keys["hr"], &body).await;
        let status = resp.status().as_u16();
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(
            (status, problem["field"].as_str(), problem["code"].as_str()),
            (422, Some("callback_url"), Some(rule)),
            "{url}: {problem}"
        );
    }
    let mut body = claims_json("outside");
    body["callback_url"] = "https://hooks.example.com/idgate".into();
    assert_eq!(app.create(&app.keys["hr"], &body).await.status().as_u16(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_callback_that_points_inside_is_not_sent_when_the_rules_say_no() {
    // Accepted while local receivers were allowed (no worker ran); sent by a worker whose
    // settings refuse private destinations: the receiver hears nothing, the attempt says why.
    let (url, receiver) = start_receiver().await;
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        local_receivers(s);
        s.jobs.workers = 0;
    })
    .await
    else {
        return;
    };
    let mut body = claims_json("rebound");
    body["callback_url"] = url.into();
    let created: serde_json::Value = app.create(&app.keys["hr"], &body).await.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    let mut strict = app.ctx.clone();
    let mut settings = (*strict.settings).clone();
    settings.webhooks.allow_private_destinations = false;
    strict.webhooks = settings.webhooks.destinations().client().unwrap();
    strict.settings = std::sync::Arc::new(settings);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(idgate::worker::run(strict, 1, stopped));
    let mut attempts = Vec::new();
    for _ in 0..100 {
        attempts = app.ctx.store.webhook_attempts(&id).await.unwrap();
        if !attempts.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    assert!(!attempts.is_empty(), "the risk_scored webhook was attempted");
    assert_eq!(attempts[0].error.as_deref(), Some("destination not allowed: public_destination_required"));
    assert_eq!(attempts[0].status_code, None);
    assert!(receiver.deliveries.lock().unwrap().is_empty(), "nothing reached the receiver");
}

// A name that resolves inside is refused by the client's resolver before any connection: the
// check that holds against DNS rebinding (the name is not looked at by the URL rules here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_inside_is_refused_at_connect_time() {
    let (url, receiver) = start_receiver().await;
    let by_name = url.replace("127.0.0.1", "localhost");
    let client =
        idgate::webhook::destination::Destinations { allow_http: true, allow_private: false }.client().unwrap();
    let err = client.post(&by_name).body("{}").send().await.unwrap_err();
    assert!(idgate::webhook::destination::resolved_inside(&err), "{err:?}");
    // The same receiver is reachable when private destinations are allowed.
    let open = idgate::webhook::destination::Destinations { allow_http: true, allow_private: true }.client().unwrap();
    let answered = open.post(&by_name).body("{}").send().await.unwrap();
    assert!(answered.status().is_server_error() || answered.status().is_success());
    assert_eq!(receiver.deliveries.lock().unwrap().len(), 1, "only the allowed client reached it");
}

/// A receiver that accepts connections and never answers (held until the test ends).
async fn start_black_hole() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    format!("http://127.0.0.1:{port}/hook")
}

// One organisation's black-hole receiver holds at most its share of the delivery slots:
// another organisation's webhook is delivered while the black hole's are still waiting out
// their timeout (before, deliveries went one at a time: it waited for all of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_receiver_does_not_delay_another_organisation() {
    let hole = start_black_hole().await;
    let (url, receiver) = start_receiver().await;
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        local_receivers(s);
        s.webhooks.timeout_seconds = 8;
    })
    .await
    else {
        return;
    };
    let mut stuck = Vec::new();
    for i in 0..4 {
        let mut body = claims_json(&format!("stuck-{i}"));
        body["callback_url"] = hole.clone().into();
        let created: serde_json::Value = app.create(&app.keys["hr"], &body).await.json().await.unwrap();
        stuck.push(created["id"].as_str().unwrap().to_owned());
    }
    let mut body = claims_json("globex-hooked");
    body["callback_url"] = url.into();
    let started = std::time::Instant::now();
    assert_eq!(app.create(&app.keys["other"], &body).await.status().as_u16(), 201);
    while receiver.deliveries.lock().unwrap().is_empty() && started.elapsed() < Duration::from_secs(7) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waited = started.elapsed();
    assert!(!receiver.deliveries.lock().unwrap().is_empty(), "globex's webhook never came");
    let mut stuck_attempts = 0;
    for id in &stuck {
        stuck_attempts += app.ctx.store.webhook_attempts(id).await.unwrap().len();
    }
    assert_eq!(stuck_attempts, 0, "delivered after {waited:?}, while the black hole's were still waiting");
}
