//! PostgreSQL restarts while verifications are created, uploaded and processed. The test runs
//! its own PostgreSQL (`initdb` + `pg_ctl` in a temporary folder, on a free loopback port; never
//! the server the other tests share), stops it with work in flight and starts it again:
//! requests during the outage are answered `503` problem+json (`unavailable`, `Retry-After`)
//! within seconds, `/readyz` says not ready, and afterwards nothing is lost or duplicated and
//! every job completes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::fixtures::fixtures;
use crate::helpers::{Db, TestApp, claims_json, skip, spawn_app_with};

/// A PostgreSQL server of the test's own, stopped (and its folder removed) on drop.
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    /// `initdb` in a temporary folder, then `start`. `None` (after `skip`) without PostgreSQL's
    /// server programs (`make test` installs them).
    fn create() -> Option<Self> {
        let Some(bin) = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|versions| {
            let mut bins: Vec<PathBuf> = versions
                .filter_map(Result::ok)
                .map(|v| v.path().join("bin"))
                .filter(|b| b.join("initdb").is_file())
                .collect();
            bins.sort();
            bins.pop()
        }) else {
            skip("PostgreSQL server programs (/usr/lib/postgresql/*/bin/initdb): `make test` installs them");
            return None;
        };
        // initdb refuses root: as root, the cluster belongs to (and runs as) `postgres`.
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = tempfile::Builder::new().prefix("idgate-pg-").tempdir().unwrap();
        if as_postgres {
            let chown = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
            assert!(chown.success(), "chown the PostgreSQL folder");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = OwnPostgres { bin, dir, port, as_postgres };
        let data = pg.data();
        pg.run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        pg.start();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = command.args(args).current_dir(self.dir.path()).output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "-t", "60", "start"]);
    }

    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "-t", "60", "stop"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let pid = Path::new(&self.data()).join("postmaster.pid");
        if pid.exists() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
            }));
        }
    }
}

/// Sends `request`, which must be answered within 20 s (not hang).
async fn answered(request: reqwest::RequestBuilder) -> reqwest::Response {
    tokio::time::timeout(Duration::from_secs(20), request.send())
        .await
        .expect("answered within 20 s during the outage")
        .unwrap()
}

async fn assert_unavailable(what: &str, resp: reqwest::Response) {
    let status = resp.status().as_u16();
    let kind = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let retry = resp.headers().get("retry-after").is_some();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")), "{what}: {body}");
    assert_eq!(kind, "application/problem+json", "{what}");
    assert!(retry, "{what}: Retry-After");
}

/// Creates a verification with an Idempotency-Key: the answer's status and body.
async fn create(app: &TestApp, external_id: &str) -> (u16, serde_json::Value) {
    let resp = app
        .http
        .post(app.url("/v1/verifications"))
        .bearer_auth(&app.keys["hr"])
        .header("Idempotency-Key", format!("outage-{external_id}"))
        .json(&claims_json(external_id))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

fn token_of(created: &serde_json::Value) -> String {
    created["candidate_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_loses_and_duplicates_nothing() {
    let Some(f) = fixtures() else { return };
    let Some(pg) = tokio::task::spawn_blocking(OwnPostgres::create).await.unwrap() else { return };
    let url = pg.url();
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.storage.database_url = Some(idgate::config::Secret::new(url.clone()));
        s.jobs.workers = 2;
    })
    .await
    else {
        return;
    };

    // Before: six candidates with their uploads; three submit, so jobs are in flight.
    let mut ids = Vec::new();
    let mut submit_tokens = Vec::new();
    for n in 0..6 {
        let (status, created) = create(&app, &format!("outage-{n}")).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap().to_owned());
        submit_tokens.push(app.upload_steps(&token_of(&created), &f.document, &f.genuine_selfie).await);
    }
    for token in &submit_tokens[..3] {
        let (status, body) = app.step(Method::POST, "/v1/candidate/submit", token, None).await;
        assert_eq!(status, 200, "{body}");
    }

    // The outage starts while a worker holds a job (its pipeline runs, its result is not
    // written yet): every kind of caller is told 503, fast; readiness says not ready.
    {
        use sqlx::Connection as _;
        let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (running,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM jobs WHERE kind = 'pipeline' AND status = 'running'")
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            if running > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "a worker claims a job within 60 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let pg = tokio::task::spawn_blocking(move || {
        pg.stop();
        pg
    })
    .await
    .unwrap();
    let outage = Instant::now();
    let resp = answered(
        app.http
            .post(app.url("/v1/verifications"))
            .bearer_auth(&app.keys["hr"])
            .header("Idempotency-Key", "outage-during")
            .json(&claims_json("outage-during")),
    )
    .await;
    assert_unavailable("create", resp).await;
    let resp =
        answered(app.http.get(app.url(&format!("/v1/verifications/{}", ids[0]))).bearer_auth(&app.keys["hr"])).await;
    assert_unavailable("read", resp).await;
    let resp = answered(app.http.post(app.url("/v1/candidate/submit")).bearer_auth(&submit_tokens[3])).await;
    assert_unavailable("submit", resp).await;
    let ready = answered(app.http.get(app.url("/readyz"))).await;
    assert_eq!(ready.status(), 503, "readyz during the outage");
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "unavailable", "{ready}");
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200, "the process is up");
    eprintln!("outage: four answers in {:?}", outage.elapsed());

    // Back: the same requests succeed; the Idempotency-Key'd create was not half-made.
    let pg = tokio::task::spawn_blocking(move || {
        pg.start();
        pg
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.http.get(app.url("/readyz")).send().await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "/readyz is ready again within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, created) = create(&app, "during").await;
    assert_eq!(status, 201, "{created}");
    let (status, again) = create(&app, "during").await;
    assert_eq!((status, &again["id"]), (200, &created["id"]), "a retried create replays, not duplicates");
    ids.push(created["id"].as_str().unwrap().to_owned());
    for token in &submit_tokens[3..] {
        let (status, body) = app.step(Method::POST, "/v1/candidate/submit", token, None).await;
        assert_eq!(status, 200, "{body}");
    }

    // Every submitted case completes, once: one decision, one job, no failure.
    for id in &ids[..6] {
        let done = app.wait_final(id).await;
        assert_eq!(done["status"], "approved", "{id}: {done}");
    }
    let auditor = &app.keys["auditor"];
    for id in &ids[..6] {
        let trail = app.get_json(auditor, &format!("/v1/audit/verifications/{id}")).await;
        let kinds: Vec<&str> = trail["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
        for (kind, expected) in [
            ("verification.created", 1),
            ("verification.submitted", 1),
            ("verification.decided", 1),
            ("token.issued", 1),
            ("verification.failed", 0),
        ] {
            assert_eq!(kinds.iter().filter(|k| **k == kind).count(), expected, "{id}: {kind} in {kinds:?}");
        }
    }
    // One pipeline job each, done, and the outage spent no attempt: a job it interrupted was
    // handed back when the database returned, not left to wait out its lease and retry.
    use sqlx::Connection as _;
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
    let jobs: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT verification_id, status, attempts, last_error FROM jobs WHERE kind = 'pipeline' ORDER BY verification_id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut expected: Vec<&String> = ids[..6].iter().collect();
    expected.sort();
    assert_eq!(jobs.iter().map(|j| &j.0).collect::<Vec<_>>(), expected, "one pipeline job per submitted case");
    for (verification, status, attempts, last_error) in &jobs {
        assert_eq!((status.as_str(), *attempts), ("done", 1), "{verification}: {last_error:?}");
    }
    let page = app.get_json(&app.keys["hr"], "/v1/verifications?limit=200").await;
    let listed = page["items"].as_array().unwrap();
    assert_eq!(listed.len(), 7, "six before, one after: nothing lost, nothing doubled");
    drop(pg);
}
