//! Shared test plumbing: the real engine (loaded once), the real binary, generated media,
//! and `../shared/data` access that skips with a message when it is absent (and fails
//! instead under `make test`, which sets IDGATE_REQUIRE_DATA=1).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use idgate::config::Settings;
use idgate::engine::Engine;
use opencv::core::{Mat, Scalar, Vector};
use opencv::imgcodecs;
use opencv::prelude::*;

/// The engine as configured by default (models from setup), shared by every test.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let settings = Settings::load(None).expect("default settings");
            Engine::load(&settings.engine).expect("models installed by `make setup`")
        })
        .clone()
}

/// A test cannot run because `what` is missing: under IDGATE_REQUIRE_DATA=1 (`make test`)
/// that is a failure with one line naming it; otherwise a printed `SKIP:` line.
pub fn skip(what: &str) {
    assert!(std::env::var_os("IDGATE_REQUIRE_DATA").is_none(), "required but missing: {what}");
    eprintln!("SKIP: {what}");
}

/// `../shared/data/<rel>`, or `None` after `skip` (a failure under IDGATE_REQUIRE_DATA=1).
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!("{} is absent (../shared/data is not beside the checkout)", path.display()));
        None
    }
}

/// The real sanctions lists (../shared/data/sanctions: OFAC SDN 2021-07, UN 2026-02),
/// imported once per run into the target's temporary directory, as `idgate lists import`
/// does. Apps use them with `sanctions.max_age_days` wide enough that they are not stale.
pub fn sanctions_dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let data = shared_data("sanctions")?;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sanctions");
        let now = idgate::domain::time::Timestamp::from_millis(1_795_000_000_000);
        use idgate::sanctions::{Format, import};
        import(&dir, Format::OfacSdnCsv, &data.join("ofac_sdn_2021-07"), Some("2021-07-01".into()), now).unwrap();
        import(&dir, Format::UnXml, &data.join("un_consolidated_2026-02.xml"), None, now).unwrap();
        Some(dir)
    })
    .clone()
}

/// Runs the real `idgate` binary.
pub fn idgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idgate")).args(args).output().expect("run idgate")
}

/// Runs ffmpeg (installed by setup) quietly; panics with its stderr when it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed by scripts/setup-system.sh");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A VP8 WebM of ffmpeg's test pattern (no face): `size` like "320x240", `seconds` long.
pub fn pattern_webm(dir: &Path, size: &str, fps: u32, seconds: u32) -> PathBuf {
    let clip = dir.join(format!("pattern-{size}-{fps}-{seconds}.webm"));
    let source = format!("testsrc=size={size}:rate={fps}:duration={seconds}");
    ffmpeg(&["-f", "lavfi", "-i", &source, "-c:v", "libvpx", clip.to_str().unwrap()]);
    clip
}

/// A solid-colour BGR image.
pub fn solid(width: i32, height: i32, bgr: [f64; 3]) -> Mat {
    Mat::new_rows_cols_with_default(height, width, opencv::core::CV_8UC3, Scalar::new(bgr[0], bgr[1], bgr[2], 0.0))
        .expect("mat")
}

/// Encodes an image (".jpg", ".png", ".webp") to bytes.
pub fn encode(ext: &str, image: &Mat) -> Vec<u8> {
    let mut buf = Vector::<u8>::new();
    imgcodecs::imencode(ext, image, &mut buf, &Vector::new()).expect("encode");
    buf.to_vec()
}

pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The lines idgate itself wrote to stderr (libraries such as libpng may add warnings).
pub fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr).lines().map(str::to_owned).collect()
}

// ---- the service -------------------------------------------------------------------------

use std::collections::HashMap;

use idgate::clock::SystemClock;
use idgate::context::Context;
use idgate::crypto::api_key;
use idgate::domain::role::Role;
use idgate::startup::Application;
use sqlx::Connection as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The webhook secret of every test organisation.
pub const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A running service on port 0 with its own fresh database and data directory.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub ctx: Context,
    /// API keys of organisation `acme` by role, plus `other` (hr of organisation `globex`).
    pub keys: HashMap<&'static str, String>,
    _dir: tempfile::TempDir,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A fresh PostgreSQL database (UUID-named) on the server `make test` prepared, or `None`
/// (after `skip`) when IDGATE_TEST_DATABASE_URL is not set.
pub async fn fresh_postgres() -> Option<String> {
    let Ok(base) = std::env::var("IDGATE_TEST_DATABASE_URL") else {
        skip("PostgreSQL: IDGATE_TEST_DATABASE_URL is not set (`make test` sets it)");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("idgate_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&base).await.expect("connect to the test PostgreSQL");
    // Databases left by earlier runs are dropped once, before this run creates any.
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let mut sweep = sqlx::AnyConnection::connect(&base).await.expect("connect");
            let old: Vec<(String,)> =
                sqlx::query_as("SELECT datname::text FROM pg_database WHERE datname LIKE 'idgate_test_%'")
                    .fetch_all(&mut sweep)
                    .await
                    .unwrap_or_default();
            for (db,) in old {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut sweep).await;
            }
        })
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
    let (server, _) = base.rsplit_once('/').expect("database URL has a path");
    Some(format!("{server}/{name}"))
}

/// Starts the real application (routes, workers) with `tweak` applied to the settings.
pub async fn spawn_app_with(db: Db, tweak: impl FnOnce(&mut idgate::config::Settings)) -> Option<TestApp> {
    spawn_app_clocked(db, tweak, std::sync::Arc::new(SystemClock)).await
}

/// As `spawn_app_with`, on a clock the test controls.
pub async fn spawn_app_clocked(
    db: Db,
    tweak: impl FnOnce(&mut idgate::config::Settings),
    clock: idgate::clock::SharedClock,
) -> Option<TestApp> {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = idgate::config::Settings::load(None).unwrap();
    settings.server.bind = "127.0.0.1:0".parse().unwrap();
    settings.storage.data_dir = dir.path().join("data");
    settings.storage.database_url = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(idgate::config::Secret::new(fresh_postgres().await?)),
    };
    settings.jobs.poll_millis = 50;
    settings.jobs.backoff_seconds = 1;
    // Most suites test the other stages with plain clips; tests/api/liveness.rs and the
    // browser test turn liveness back on (the shipped default).
    settings.liveness.required = false;
    settings.sanctions.dir = sanctions_dir();
    settings.sanctions.max_age_days = 36_500;
    tweak(&mut settings);
    let listener = idgate::startup::bind(&mut settings).unwrap();
    let workers = settings.jobs.workers;
    let ctx = Context::with_engine(settings, clock, engine()).await.unwrap();
    let mut keys = HashMap::new();
    let now = ctx.clock.now();
    for (org, role, name) in [
        ("acme", Role::Hr, "hr"),
        ("acme", Role::Reviewer, "reviewer"),
        ("acme", Role::Auditor, "auditor"),
        ("acme", Role::Admin, "admin"),
        ("globex", Role::Hr, "other"),
    ] {
        ctx.store
            .ensure_organisation(
                org,
                &ctx.sealer.seal(WEBHOOK_SECRET.as_bytes(), &format!("webhook:{org}")).unwrap(),
                now,
            )
            .await
            .unwrap();
        let key = api_key::generate().unwrap();
        ctx.store.insert_api_key(&key.prefix, &key.hash, org, role.as_str(), now).await.unwrap();
        keys.insert(name, key.key);
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(idgate::worker::run(ctx.clone(), workers, stopped));
    let app = Application::build(ctx.clone(), listener).unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run());
    Some(TestApp { base, http: reqwest::Client::new(), ctx, keys, _dir: dir, stop })
}

pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, |_| {}).await
}

pub fn claims_json(external_id: &str) -> serde_json::Value {
    serde_json::json!({
        "external_id": external_id,
        "candidate": {
            "given_name": "Leonardo", "family_name": "Testcandidate", "birth_date": "1974-11-11",
            "nationality": "US", "residence_country": "US", "phone": "+1 202 555 0143",
            "email": "leo@example.com",
            "education": [{"institution": "John Marshall High School", "country": "US", "start_year": 1988, "end_year": 1992}]
        }
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn create(&self, key: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http.post(self.url("/v1/verifications")).bearer_auth(key).json(body).send().await.unwrap()
    }

    /// Creates a verification as `acme` hr: (id, candidate token).
    pub async fn created(&self, external_id: &str) -> (String, String) {
        self.created_with(&claims_json(external_id)).await
    }

    /// Creates a verification with these claims as `acme` hr: (id, candidate token).
    pub async fn created_with(&self, claims: &serde_json::Value) -> (String, String) {
        self.created_as(&self.keys["hr"], claims).await
    }

    /// Creates a verification with these claims with `key`: (id, candidate token).
    pub async fn created_as(&self, key: &str, claims: &serde_json::Value) -> (String, String) {
        let resp = self.create(key, claims).await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap_or_default());
        let body: serde_json::Value = resp.json().await.unwrap();
        let token = body["candidate_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        (body["id"].as_str().unwrap().to_owned(), token)
    }

    /// A candidate step; returns (status, body).
    pub async fn step(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, serde_json::Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn consent(&self, token: &str) -> (u16, serde_json::Value) {
        let resp = self
            .http
            .post(self.url("/v1/candidate/consent"))
            .bearer_auth(token)
            .json(&serde_json::json!({"consent_version": "2026-12", "accepted": true}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Consent, the document's front and the selfie, each step asserted: the token for submit.
    pub async fn upload_steps(&self, token: &str, document: &[u8], selfie: &[u8]) -> String {
        let (status, body) = self.consent(token).await;
        assert_eq!(status, 200, "{body}");
        let token = body["token"].as_str().unwrap().to_owned();
        let (status, body) =
            self.step(reqwest::Method::PUT, "/v1/candidate/document/front", &token, Some(document.to_vec())).await;
        assert_eq!(status, 200, "{body}");
        let token = body["token"].as_str().unwrap().to_owned();
        let (status, body) =
            self.step(reqwest::Method::PUT, "/v1/candidate/selfie", &token, Some(selfie.to_vec())).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// GET `path` with `key`, as JSON.
    pub async fn get_json(&self, key: &str, path: &str) -> serde_json::Value {
        self.http.get(self.url(path)).bearer_auth(key).send().await.unwrap().json().await.unwrap()
    }

    pub async fn get(&self, key: &str, id: &str) -> (u16, serde_json::Value) {
        let resp = self.http.get(self.url(&format!("/v1/verifications/{id}"))).bearer_auth(key).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Polls until the verification leaves the in-flight states (60 s at most).
    pub async fn wait_final(&self, id: &str) -> serde_json::Value {
        self.wait_final_as(&self.keys["hr"], id).await
    }

    /// `wait_final` for a verification of the organisation of `key`.
    pub async fn wait_final_as(&self, key: &str, id: &str) -> serde_json::Value {
        for _ in 0..600 {
            let (_, body) = self.get(key, id).await;
            if ["approved", "rejected", "review", "failed"].contains(&body["status"].as_str().unwrap_or("")) {
                return body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("verification {id} did not finish");
    }

    /// Files in the media store.
    pub fn media_files(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |d| {
                d.filter_map(Result::ok).map(|e| if e.path().is_dir() { count(&e.path()) } else { 1 }).sum()
            })
        }
        count(&self.ctx.settings.storage.media_dir())
    }
}
