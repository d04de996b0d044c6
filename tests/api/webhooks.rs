//! Webhooks against a real local receiver that checks the Standard Webhooks signature and
//! fails the first delivery, so the retry is exercised too.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_are_delivered_signed_and_retried() {
    let (url, receiver) = start_receiver().await;
    let Some(app) = spawn_app_with(Db::Sqlite, |s| s.jobs.backoff_seconds = 1).await else { return };
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
