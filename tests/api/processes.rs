//! The real binary as separate processes: nothing personal reaches the logs, and a worker
//! killed with SIGKILL mid-job loses nothing.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;

use crate::fixtures::fixtures;
use crate::helpers::{ffmpeg, fresh_postgres, shared_data};

struct Service {
    child: Child,
    base: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn idgate(dir: &Path, db: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_idgate"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("IDGATE_CONFIG", dir.join("idgate.toml"))
        .env_remove("RUST_LOG")
        .env("IDGATE_LIVENESS_REQUIRED", "false");
    if let Some(url) = db {
        cmd.env("IDGATE_DATABASE_URL", url);
    }
    if let Some(lists) = crate::helpers::sanctions_dir() {
        cmd.env("IDGATE_SANCTIONS_DIR", lists);
    }
    cmd
}

fn api_key(dir: &Path, db: Option<&str>) -> String {
    let out = idgate(dir, db, &["apikey", "create", "--org", "acme", "--role", "hr"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned()
}

/// Starts `idgate serve` on port 0, its logs going to `log`.
fn serve(dir: &Path, db: Option<&str>, workers: usize, log: &Path) -> Service {
    let mut child = idgate(dir, db, &["serve", "--bind", "127.0.0.1:0"])
        .env("IDGATE_WORKERS", workers.to_string())
        .env("RUST_LOG", "debug,ort=warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().nth(3).unwrap_or_default().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    Service { child, base }
}

struct Flow {
    id: String,
    tokens: Vec<String>,
}

/// `POST /v1/verifications` for `external_id`: the created verification.
async fn create(http: &reqwest::Client, base: &str, key: &str, external_id: &str) -> serde_json::Value {
    let sent =
        http.post(format!("{base}/v1/verifications")).bearer_auth(key).json(&crate::helpers::claims_json(external_id));
    sent.send().await.unwrap().json().await.unwrap()
}

async fn candidate_flow(http: &reqwest::Client, base: &str, key: &str, document: &[u8], selfie: &[u8]) -> Flow {
    let created = create(http, base, key, "proc-1").await;
    let mut tokens = vec![created["candidate_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()];
    let steps: [(Method, &str, Option<Vec<u8>>); 4] = [
        (Method::POST, "/v1/candidate/consent", Some(br#"{"consent_version":"2026-12","accepted":true}"#.to_vec())),
        (Method::PUT, "/v1/candidate/document/front", Some(document.to_vec())),
        (Method::PUT, "/v1/candidate/selfie", Some(selfie.to_vec())),
        (Method::POST, "/v1/candidate/submit", None),
    ];
    for (method, path, body) in steps {
        let mut req = http.request(method, format!("{base}{path}")).bearer_auth(tokens.last().unwrap());
        if path.ends_with("consent") {
            req = req.header("content-type", "application/json");
        }
        if let Some(body) = body {
            req = req.body(body);
        }
        let resp: serde_json::Value = req.send().await.unwrap().json().await.unwrap();
        tokens.push(resp["token"].as_str().unwrap_or_else(|| panic!("{path}: {resp}")).to_owned());
    }
    Flow { id: created["id"].as_str().unwrap().to_owned(), tokens }
}

async fn wait_status(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    id: &str,
    done: impl Fn(&str) -> bool,
) -> serde_json::Value {
    for _ in 0..1200 {
        let v: serde_json::Value = http
            .get(format!("{base}/v1/verifications/{id}"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(v["status"].as_str().unwrap_or("")) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("verification {id} never reached the expected status");
}

fn is_final(s: &str) -> bool {
    ["approved", "rejected", "review", "failed"].contains(&s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_or_secret_reaches_the_logs() {
    let Some(f) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("idgate.toml"), "").unwrap();
    let key = api_key(dir.path(), None);
    let log = dir.path().join("serve.log");
    let service = serve(dir.path(), None, 1, &log);
    let http = reqwest::Client::new();
    let flow = candidate_flow(&http, &service.base, &key, &f.document, &f.genuine_selfie).await;
    let done = wait_status(&http, &service.base, &key, &flow.id, is_final).await;
    assert_eq!(done["status"], "approved");
    drop(service);

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(
        logs.contains(&flow.id) && logs.contains("request done") && logs.contains("face match done"),
        "logging works"
    );
    let mut secrets = vec![
        key.clone(),
        key[13..].to_owned(),
        "Leonardo".into(),
        "Testcandidate".into(),
        "1974-11-11".into(),
        "leo@example.com".into(),
        "2025550143".into(),
        "John Marshall".into(),
    ];
    secrets.extend(flow.tokens.iter().cloned());
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret or PII value reached the logs: {}…",
            &secret[..4.min(secret.len())]
        );
    }
}

/// A 24 s 720p clip of the genuine person, long enough to kill a worker while it decodes.
fn long_selfie(dir: &Path) -> Option<Vec<u8>> {
    let images = shared_data("faces/deepface/images")?;
    let out = dir.join("long.webm");
    let mut args: Vec<String> = Vec::new();
    for n in [35, 36, 37] {
        args.extend(["-loop", "1", "-t", "8", "-i"].map(String::from));
        args.push(images.join(format!("img{n}.jpg")).to_str().unwrap().to_owned());
    }
    let scale = "scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=30";
    args.extend([
        "-filter_complex".into(),
        format!("[0]{scale}[a];[1]{scale}[b];[2]{scale}[c];[a][b][c]concat=n=3:v=1:a=0[v]"),
        "-map".into(),
        "[v]".into(),
    ]);
    args.extend(["-c:v", "libvpx", "-b:v", "1M", "-deadline", "realtime", "-cpu-used", "8"].map(String::from));
    args.push(out.to_str().unwrap().to_owned());
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
    std::fs::read(out).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_loses_nothing() {
    let Some(f) = fixtures() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(selfie) = long_selfie(dir.path()) else { return };
    // On PostgreSQL when `make test` provides one (several workers share it), else SQLite.
    let db = fresh_postgres().await;
    let db = db.as_deref();
    std::fs::write(dir.path().join("idgate.toml"), "[jobs]\nlease_seconds = 5\npoll_millis = 50\nmax_attempts = 3\n")
        .unwrap();
    let key = api_key(dir.path(), db);
    let service = serve(dir.path(), db, 0, &dir.path().join("serve.log"));
    let http = reqwest::Client::new();
    let flow = candidate_flow(&http, &service.base, &key, &f.document, &selfie).await;

    let store_settings = {
        let mut s = idgate::config::Settings::default();
        s.storage.data_dir = dir.path().to_path_buf();
        s.storage.database_url = db.map(|u| idgate::config::Secret::new(u.to_owned()));
        s
    };
    let store = idgate::context::open_store(&store_settings).await.unwrap();
    let worker = |name: &str| {
        idgate(dir.path(), db, &["worker", "--workers", "1"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(name)).unwrap())
            .spawn()
            .unwrap()
    };
    let mut first = worker("worker-1.log");
    let mut claimed = false;
    for _ in 0..600 {
        if store.jobs_of(&flow.id).await.unwrap().first().is_some_and(|(status, _)| status == "running") {
            claimed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(claimed, "the first worker claimed the job");
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let mid = wait_status(&http, &service.base, &key, &flow.id, |_| true).await;
    assert!(!is_final(mid["status"].as_str().unwrap()), "killed before finishing: {}", mid["status"]);

    let mut second = worker("worker-2.log");
    let done = wait_status(&http, &service.base, &key, &flow.id, is_final).await;
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(done["status"], "approved", "{done}");
    assert_eq!(
        store.jobs_of(&flow.id).await.unwrap(),
        vec![("done".to_owned(), 2)],
        "one job, done once, on its second attempt"
    );
}

#[test]
fn invalid_configuration_stops_start_up_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("idgate.toml"), "").unwrap();
    for (name, value) in
        [("IDGATE_BIND", "nowhere"), ("IDGATE_DATABASE_URL", "mysql://db/x"), ("IDGATE_MASTER_KEY", "short")]
    {
        let out = idgate(dir.path(), None, &["serve"]).env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with('{')).collect();
        assert_eq!(lines.len(), 1, "{name}: {stderr}");
        assert!(lines[0].starts_with("idgate: error: "), "{name}: {stderr}");
        assert!(!stderr.contains(value) || name == "IDGATE_BIND", "{name}: the secret value is not echoed");
    }
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(&bad_file, "[server]\nbnid = 1\n").unwrap();
    let out = idgate(dir.path(), None, &["serve"]).env("IDGATE_CONFIG", &bad_file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The README's first commands in an empty folder: `apikey create` with a data directory that
/// does not exist yet creates it (0700, with the master key), and `serve` on port 0 then hands
/// out candidate links on the port it really listens on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_command_creates_the_data_dir_and_links_follow_the_bound_port() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("idgate.toml"), "").unwrap();
    let data = root.path().join("new/data");
    let cmd = |args: &[&str]| {
        let mut cmd = idgate(&data, None, args);
        cmd.env("IDGATE_CONFIG", root.path().join("idgate.toml")).env_remove("IDGATE_PUBLIC_URL");
        cmd
    };
    let out = cmd(&["apikey", "create", "--org", "ACME", "--role", "hr"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned();
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    assert!(data.join("master.key").is_file());

    let mut child = cmd(&["serve", "--bind", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let service = Service { child, base: line.split_whitespace().nth(3).unwrap_or_default().to_owned() };
    assert!(service.base.starts_with("http://127.0.0.1:") && !service.base.ends_with(":0"), "{line}");
    let created = create(&reqwest::Client::new(), &service.base, &key, "first-run").await;
    let url = created["candidate_url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/c/", service.base)), "{url} is not on {}", service.base);
}
