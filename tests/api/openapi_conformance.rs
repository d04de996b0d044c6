//! The API matches its OpenAPI document. schemathesis (PyPI, pinned and hash-checked by
//! scripts/requirements-schemathesis.txt, in a throwaway venv that scripts/setup-schemathesis.sh
//! makes; `make test` hands its path over in IDGATE_SCHEMATHESIS) runs every one of its checks
//! against the served `/openapi.json`, with a candidate link's token and, in turn, an HR,
//! reviewer, auditor and admin key: documented
//! status codes and content types (problem+json), response schemas and headers, schema-valid
//! requests taken and schema-violating ones refused, 405 with `Allow` for undeclared methods,
//! 401 without credentials. It must find nothing.
//!
//! The service is the real one on loopback; its rate limits are lifted here (they have their
//! own tests in `limits`), since schemathesis sends a few thousand requests in seconds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::helpers::{Db, skip, spawn_app_with};

/// The schemathesis executable `make test` installed, or `None` after `skip`.
fn schemathesis() -> Option<PathBuf> {
    let Some(path) = std::env::var_os("IDGATE_SCHEMATHESIS").map(PathBuf::from) else {
        skip("schemathesis: IDGATE_SCHEMATHESIS is not set (`make test` installs it and sets it)");
        return None;
    };
    assert!(path.is_file(), "IDGATE_SCHEMATHESIS={} is not a file", path.display());
    Some(path)
}

/// `label: N` from schemathesis' summary (`Selected: 44/44` gives 44).
fn figure(summary: &str, label: &str) -> Option<usize> {
    let line = summary.lines().find(|l| l.trim_start().starts_with(label))?;
    let value = line.trim_start().strip_prefix(label)?.trim();
    value.split('/').next()?.trim().parse().ok()
}

/// Runs `command` to its end, killing it after `limit` (a stuck run fails instead of hanging).
fn run_bounded(mut command: std::process::Command, limit: Duration) -> std::process::Output {
    use std::process::Stdio;
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run schemathesis");
    // Drain both pipes while it runs, so that a full pipe cannot stall it.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf).unwrap_or_default()
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).map(|_| buf).unwrap_or_default()
    });
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("schemathesis did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::process::Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schemathesis_check_passes_against_the_served_openapi_document() {
    let Some(st) = schemathesis() else { return };
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.server.rate_limits.per_ip_per_minute = 1_000_000;
        s.server.rate_limits.per_api_key_per_minute = 1_000_000;
        s.server.rate_limits.per_candidate_per_minute = 1_000_000;
    })
    .await
    else {
        return;
    };
    let operations = {
        let doc: serde_json::Value = app.http.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
        let methods = ["get", "put", "post", "delete", "patch"];
        let paths = doc["paths"].as_object().unwrap().values();
        paths
            .map(|item| item.as_object().unwrap().keys().filter(|k| methods.contains(&k.as_str())).count())
            .sum::<usize>()
    };
    // Each role reaches other operations past its checks; admin last, since its run may
    // revoke keys and rotate the webhook secret.
    for role in ["hr", "reviewer", "auditor", "admin"] {
        let (_, candidate_token) = app.created(&format!("openapi-conformance-{role}")).await;
        let summary = run_schemathesis(&st, &app.url("/openapi.json"), &app.keys[role], &candidate_token).await;
        // Not vacuous: every documented operation was selected and tested.
        assert_eq!(figure(&summary, "Selected:"), Some(operations), "{role}: {summary}");
        assert_eq!(figure(&summary, "Tested:"), Some(operations), "{role}: {summary}");
        assert!(summary.contains(" passed"), "{role}: {summary}");
    }
}

/// One schemathesis run with every check; panics with its report when it finds anything.
/// Returns its summary.
async fn run_schemathesis(st: &Path, openapi: &str, api_key: &str, candidate_token: &str) -> String {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis");
    let work = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(st);
    command
        .current_dir(work.path())
        .env("IDGATE_ST_API_KEY", api_key)
        .env("IDGATE_ST_CANDIDATE_TOKEN", candidate_token)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONPATH", &config)
        .arg("--config-file")
        .arg(config.join("schemathesis.toml"))
        .args(["--no-color", "run", openapi, "--checks", "all"])
        .args(["--max-examples", "30", "--seed", "1", "--workers", "1", "--request-timeout", "60"])
        .args(["--generation-database", "none"]);
    let out = tokio::task::spawn_blocking(move || run_bounded(command, Duration::from_secs(600))).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.rsplit_once("= SUMMARY =").map_or(stdout.as_ref(), |(_, s)| s).to_owned();
    eprintln!("schemathesis summary:{summary}");
    assert!(out.status.success(), "schemathesis found failures:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    summary
}
