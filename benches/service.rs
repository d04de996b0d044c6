//! Service benchmark: requests/s of `GET /v1/verifications/{id}` and `POST /v1/verifications`
//! on SQLite and (when IDGATE_TEST_DATABASE_URL is set, as `make bench` does) PostgreSQL,
//! from an in-process loopback load loop (32 concurrent connections, 5 s each), and the
//! end-to-end time of one verification (create → consent → uploads → submit → decision);
//! then, with that verification's token, the offer gate over HTTP; audit appends/s on each
//! database; and token verifications/s in process (EdDSA and ES256, one thread).

#![allow(clippy::indexing_slicing)] // serde_json::Value indexing returns Null, it never panics

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idgate::audit::event::{Actor, Kind, NewEvent};
use idgate::clock::SystemClock;
use idgate::config::{Secret, Settings};
use idgate::context::Context;
use idgate::crypto::api_key;
use idgate::domain::role::Role;
use idgate::engine::Engine;
use idgate::startup::Application;
use sqlx::Connection as _;

const CONCURRENCY: usize = 32;
const DURATION: Duration = Duration::from_secs(5);

fn claims(n: u64) -> serde_json::Value {
    serde_json::json!({"external_id": format!("bench-{n}"), "candidate": {
        "given_name": "Ada", "family_name": "Bench", "birth_date": "1990-01-01", "nationality": "GB",
        "residence_country": "GB", "phone": "+44 20 7946 0958", "email": "ada@example.com"}})
}

/// Runs `CONCURRENCY` loops of `request` for `DURATION`; returns successful requests/s.
async fn load<F, Fut>(request: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let (ok, counter) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (request, ok, counter) = (request.clone(), ok.clone(), counter.clone());
            tokio::spawn(async move {
                while started.elapsed() < DURATION {
                    if request(counter.fetch_add(1, Ordering::Relaxed)).await {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn fresh_postgres(base: &str) -> Result<String, String> {
    sqlx::any::install_default_drivers();
    let name = format!("idgate_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(base).await.map_err(|e| e.to_string())?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.map_err(|e| e.to_string())?;
    let (server, _) = base.rsplit_once('/').ok_or("database URL has no path")?;
    Ok(format!("{server}/{name}"))
}

struct Media {
    document: Vec<u8>,
    selfie: Vec<u8>,
}

fn media(dir: &Path) -> Option<Media> {
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/video/carphone_pristine.mp4");
    if !clip.exists() {
        return None;
    }
    let (doc, selfie) = (dir.join("portrait.png"), dir.join("selfie.webm"));
    let run = |args: &[&str]| {
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let ok = run(&["-i", clip.to_str()?, "-vf", "select=eq(n\\,10),scale=352:288", "-frames:v", "1", doc.to_str()?])
        && run(&["-i", clip.to_str()?, "-ss", "1", "-c:v", "libvpx", "-b:v", "300k", selfie.to_str()?]);
    ok.then(|| Some(Media { document: std::fs::read(doc).ok()?, selfie: std::fs::read(selfie).ok()? })).flatten()
}

/// Sends `req` and reads the answer as JSON.
async fn json(req: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
    req.send().await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())
}

async fn end_to_end(http: &reqwest::Client, base: &str, key: &str, m: &Media) -> Result<(f64, String, String), String> {
    let started = Instant::now();
    let created = json(http.post(format!("{base}/v1/verifications")).bearer_auth(key).json(&claims(999_999))).await?;
    let id = created["id"].as_str().ok_or("no id")?.to_owned();
    let mut token = created["candidate_url"].as_str().and_then(|u| u.rsplit('/').next()).ok_or("no link")?.to_owned();
    let steps: [(reqwest::Method, &str, Option<Vec<u8>>); 4] = [
        (
            reqwest::Method::POST,
            "/v1/candidate/consent",
            Some(br#"{"consent_version":"2026-11","accepted":true}"#.to_vec()),
        ),
        (reqwest::Method::PUT, "/v1/candidate/document/front", Some(m.document.clone())),
        (reqwest::Method::PUT, "/v1/candidate/selfie", Some(m.selfie.clone())),
        (reqwest::Method::POST, "/v1/candidate/submit", None),
    ];
    for (method, path, body) in steps {
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/json");
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = json(req).await?;
        token = resp["token"].as_str().ok_or_else(|| format!("{path}: {resp}"))?.to_owned();
    }
    loop {
        let v = json(http.get(format!("{base}/v1/verifications/{id}")).bearer_auth(key)).await?;
        let status = v["status"].as_str().unwrap_or_default().to_owned();
        if ["approved", "rejected", "review", "failed"].contains(&status.as_str()) {
            return Ok((started.elapsed().as_secs_f64() * 1e3, status, id));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn bench(
    label: &str,
    database_url: Option<String>,
    engine: Arc<Engine>,
    m: Option<&Media>,
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut settings = Settings::load(None).map_err(|e| e.to_string())?;
    settings.server.bind = "127.0.0.1:0".parse().map_err(|_| "bind")?;
    settings.storage.data_dir = dir.path().join("data");
    settings.storage.database_url = database_url.map(Secret::new);
    settings.jobs.poll_millis = 20;
    // Throughput and the approved path; the liveness stage has its own bench (benches/liveness.rs).
    settings.liveness.required = false;
    let listener = idgate::startup::bind(&mut settings).map_err(|e| e.to_string())?;
    let ctx = Context::with_engine(settings, Arc::new(SystemClock), engine)
        .await
        .map_err(|e| idgate::telemetry::error_chain(&e))?;
    let now = ctx.clock.now();
    ctx.store
        .ensure_organisation("bench", &ctx.sealer.seal(b"whsec_AAAA", "webhook:bench").map_err(|e| e.to_string())?, now)
        .await
        .map_err(|e| e.to_string())?;
    let key = api_key::generate().map_err(|e| e.to_string())?;
    ctx.store
        .insert_api_key(&key.prefix, &key.hash, "bench", Role::Hr.as_str(), now)
        .await
        .map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(idgate::worker::run(ctx.clone(), 1, stopped));
    let app = Application::build(ctx.clone(), listener).map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    let http = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().map_err(|e| e.to_string())?;
    let key = Arc::new(key.key);

    let created =
        json(http.post(format!("{base}/v1/verifications")).bearer_auth(key.as_str()).json(&claims(0))).await?;
    let id = Arc::new(created["id"].as_str().ok_or("create failed")?.to_owned());
    let get = {
        let (http, base, key, id) = (http.clone(), base.clone(), key.clone(), id.clone());
        load(move |_| {
            let req = http.get(format!("{base}/v1/verifications/{id}")).bearer_auth(key.as_str());
            async move { req.send().await.is_ok_and(|r| r.status() == 200) }
        })
        .await
    };
    let post = {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        load(move |n| {
            let req = http.post(format!("{base}/v1/verifications")).bearer_auth(key.as_str()).json(&claims(n + 1));
            async move { req.send().await.is_ok_and(|r| r.status() == 201) }
        })
        .await
    };
    println!(
        "{label:<10} GET /v1/verifications/{{id}}: {get:>7.0} req/s | POST /v1/verifications: {post:>6.0} req/s ({CONCURRENCY} connections, {}s)",
        DURATION.as_secs()
    );
    if let Some(m) = m {
        let (ms, status, id) = end_to_end(&http, &base, &key, m).await?;
        println!(
            "{label:<10} one verification end to end (create → decision, 5 HTTP steps + pipeline): {ms:.0} ms, {status}"
        );
        let v = json(http.get(format!("{base}/v1/verifications/{id}")).bearer_auth(key.as_str())).await?;
        let token = v["token"]["value"].as_str().ok_or("no token on the approved verification")?.to_owned();
        let body = Arc::new(serde_json::json!({"token": token, "candidate": "bench-999999"}).to_string());
        let gate = {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            load(move |_| {
                let req = http
                    .post(format!("{base}/v1/offer-gate"))
                    .bearer_auth(key.as_str())
                    .header("content-type", "application/json")
                    .body(body.as_str().to_owned());
                async move {
                    match req.send().await {
                        Ok(r) => r.text().await.is_ok_and(|t| t.starts_with("{\"may_offer\":true")),
                        Err(_) => false,
                    }
                }
            })
            .await
        };
        println!(
            "{label:<10} POST /v1/offer-gate (may_offer: true): {gate:>7.0} req/s ({CONCURRENCY} connections, {}s)",
            DURATION.as_secs()
        );
    }
    let appends = {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(3) {
            let event =
                NewEvent::global(Kind::KeyGenerated, Actor::Operator { command: "bench" }, serde_json::json!({"n": n}));
            ctx.store.append_audit_now(&[event], ctx.clock.now()).await.map_err(|e| e.to_string())?;
            n += 1;
        }
        n as f64 / started.elapsed().as_secs_f64()
    };
    println!("{label:<10} audit appends (one event per transaction, one writer): {appends:>7.0} /s");
    let _ = stop.send(true);
    ctx.store.close().await;
    Ok(())
}

/// Token verifications per second on one thread, for each algorithm.
fn verify_in_process() -> Result<(), String> {
    use idgate::crypto::signing::{self, Alg};
    use idgate::tokens::keyring::Signer;
    use idgate::tokens::verify::{self, Expect, VerifyingKey};
    for alg in [Alg::EdDSA, Alg::ES256] {
        let key = signing::generate(alg).map_err(|e| e.to_string())?;
        let signer = Signer { kid: key.kid.clone(), alg, pkcs8: key.pkcs8 };
        let verifying = VerifyingKey::from_jwk(&key.public).ok_or("jwk")?;
        let now = idgate::clock::Clock::now(&SystemClock);
        let secs = now.millis() / 1000;
        let claims: idgate::tokens::claims::TokenClaims = serde_json::from_value(serde_json::json!({
            "iss": "https://idgate.example", "sub": "v", "aud": "acme", "iat": secs, "nbf": secs, "exp": secs + 3600,
            "jti": "j", "txn": "t", "verified_claims": {"verification": {"trust_framework": "idgate", "time": "2026-11-23T00:00:00Z",
            "verification_process": "v", "evidence": [{"type": "document", "check_details": [{"check": "face_match",
            "check_method": "bvr", "result": "match", "score_band": "high"}]}]},
            "claims": {"given_name": "Ada", "family_name": "Bench", "birthdate": "1990-01-01"}}
        }))
        .map_err(|e| e.to_string())?;
        let token = idgate::tokens::issue::sign(&claims, &signer).map_err(|e| e.to_string())?;
        let expect = Expect { issuer: "https://idgate.example", audience: "acme", now, leeway_seconds: 30 };
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < Duration::from_secs(2) {
            let checked = verify::verify(&token, |_| Some(&verifying), &expect);
            if !checked.reasons.is_empty() {
                return Err(format!("{:?}", checked.reasons));
            }
            n += 1;
        }
        let rate = n as f64 / started.elapsed().as_secs_f64();
        println!("in-process token verification, {}: {rate:>7.0} /s on one thread", alg.as_str());
    }
    Ok(())
}

fn main() -> Result<(), String> {
    verify_in_process()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let settings = Settings::load(None).map_err(|e| e.to_string())?;
        let engine = Engine::load(&settings.engine).map_err(|e| e.to_string())?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let m = media(dir.path());
        if m.is_none() {
            println!("SKIP end-to-end timing: ../shared/data is absent");
        }
        bench("sqlite", None, engine.clone(), m.as_ref()).await?;
        match std::env::var("IDGATE_TEST_DATABASE_URL") {
            Ok(base) => {
                let url = fresh_postgres(&base).await?;
                bench("postgres", Some(url.clone()), engine, m.as_ref()).await?;
                let name = url.rsplit('/').next().unwrap_or_default().to_owned();
                let mut conn = sqlx::AnyConnection::connect(&base).await.map_err(|e| e.to_string())?;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
            Err(_) => println!("SKIP postgres: IDGATE_TEST_DATABASE_URL is not set (`make bench` sets it)"),
        }
        Ok(())
    })
}
