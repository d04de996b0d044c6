//! The audit log: proofs that check out independently, and tampering of every kind found by
//! `idgate audit verify` (and the library check it runs), 100 % of the time.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use idgate::audit::check::check;
use idgate::audit::merkle::{self, Hash};
use idgate::crypto::signing::{self, PublicJwk};
use idgate::storage::{Backend, placeholders};
use reqwest::Method;
use sqlx::Row;

use crate::helpers::{Db, TestApp, encode, idgate, solid, spawn_app, spawn_app_with};

fn hash(hex_str: &str) -> Hash {
    hex::decode(hex_str).unwrap().try_into().unwrap()
}

/// Checks a head's signature with the published audit key.
async fn check_head(app: &TestApp, head: &serde_json::Value) {
    let keys: serde_json::Value =
        app.http.get(app.url("/.well-known/audit-keys.json")).send().await.unwrap().json().await.unwrap();
    let jwk = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == head["kid"]).expect("head key published");
    let jwk: PublicJwk = serde_json::from_value(jwk.clone()).unwrap();
    let message = idgate::audit::head_message(
        head["tree_size"].as_i64().unwrap(),
        head["root_hash"].as_str().unwrap(),
        head["signed_at_ms"].as_i64().unwrap(),
        head["log_id"].as_str(),
    );
    assert_eq!(head["signed_message"].as_str().unwrap(), message);
    let sig = URL_SAFE_NO_PAD.decode(head["signature"].as_str().unwrap()).unwrap();
    assert!(signing::ed25519_verify(&jwk, message.as_bytes(), &sig), "head signature");
}

/// Every event of a trail hashes to its leaf and is included in the signed head.
pub async fn check_trail(app: &TestApp, trail: &serde_json::Value) {
    let head = &trail["tree_head"];
    check_head(app, head).await;
    let size = head["tree_size"].as_u64().unwrap();
    let root = hash(head["root_hash"].as_str().unwrap());
    for e in trail["events"].as_array().unwrap() {
        let leaf = merkle::leaf_hash(e["entry"].as_str().unwrap().as_bytes());
        assert_eq!(hex::encode(leaf), e["leaf_hash"].as_str().unwrap());
        let proof: Vec<Hash> =
            e["inclusion_proof"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
        assert!(merkle::verify_inclusion(e["seq"].as_u64().unwrap(), size, &leaf, &proof, &root), "{e}");
    }
}

/// A log of a few verifications with several signed heads; returns its size.
async fn build_log(app: &TestApp) -> i64 {
    let doc = encode(".jpg", &solid(320, 240, [90.0, 120.0, 150.0]));
    for n in 0..3 {
        let (_, token) = app.created(&format!("cand-audit-{n}")).await;
        let (status, body) = app.consent(&token).await;
        assert_eq!(status, 200);
        if n == 0 {
            let token = body["token"].as_str().unwrap();
            let (status, body) = app.step(Method::PUT, "/v1/candidate/document/front", token, Some(doc.clone())).await;
            assert_eq!(status, 200, "{body}");
        }
        let head = app.get_json(&app.keys["auditor"], "/v1/audit/tree-head").await;
        check_head(app, &head).await;
    }
    app.ctx.store.audit_size().await.unwrap()
}

fn sql(db: Db, query: &str) -> String {
    let backend = if db == Db::Sqlite { Backend::Sqlite } else { Backend::Postgres };
    placeholders(backend, query).into_owned()
}

struct Raw {
    pool: sqlx::AnyPool,
    db: Db,
}

impl Raw {
    async fn exec(&self, query: &str, args: &[&str]) {
        let q = sql(self.db, query);
        let mut query = sqlx::query(&q);
        for a in args {
            query = match a.parse::<i64>() {
                Ok(n) => query.bind(n),
                Err(_) => query.bind(a.to_string()),
            };
        }
        query.execute(&self.pool).await.unwrap();
    }

    async fn row(&self, seq: i64) -> (i64, i64, String, Option<String>, Option<String>, String, String) {
        let q =
            sql(self.db, "SELECT at, kind, entry, org_id, verification_id, leaf_hash FROM audit_events WHERE seq = ?");
        let r = sqlx::query(&q).bind(seq).fetch_one(&self.pool).await.unwrap();
        (seq, r.get(0), r.get(1), r.get(3), r.get(4), r.get(2), r.get(5))
    }

    async fn put_back(&self, row: &(i64, i64, String, Option<String>, Option<String>, String, String)) {
        let q = sql(
            self.db,
            "INSERT INTO audit_events (seq, at, kind, org_id, verification_id, entry, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        );
        sqlx::query(&q)
            .bind(row.0)
            .bind(row.1)
            .bind(row.2.clone())
            .bind(row.3.clone())
            .bind(row.4.clone())
            .bind(row.5.clone())
            .bind(row.6.clone())
            .execute(&self.pool)
            .await
            .unwrap();
    }
}

async fn first_problem(app: &TestApp) -> Option<(Option<i64>, &'static str)> {
    let report = check(&app.ctx.store, &app.ctx.keys).await.unwrap();
    report.first().map(|p| (p.seq, p.code))
}

async fn codes(app: &TestApp) -> Vec<&'static str> {
    check(&app.ctx.store, &app.ctx.keys).await.unwrap().problems.iter().map(|p| p.code).collect()
}

async fn tampering_is_always_found(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let n = build_log(&app).await;
    assert!(n >= 10, "{n} events");
    assert_eq!(first_problem(&app).await, None);
    sqlx::any::install_default_drivers();
    let raw = Raw { pool: sqlx::AnyPool::connect(&app.ctx.settings.storage.database_url()).await.unwrap(), db };
    let upd = "UPDATE audit_events SET entry = ?, leaf_hash = ? WHERE seq = ?";

    // One byte of any entry, with and without the leaf hash recomputed to match.
    for seq in 0..n {
        let q = sql(db, "SELECT entry, leaf_hash FROM audit_events WHERE seq = ?");
        let r = sqlx::query(&q).bind(seq).fetch_one(&raw.pool).await.unwrap();
        let (entry, leaf): (String, String) = (r.get(0), r.get(1));
        let mut bytes = entry.clone().into_bytes();
        let at = (seq as usize * 7919) % bytes.len();
        bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
        let tampered = String::from_utf8(bytes).unwrap();
        raw.exec(upd, &[&tampered, &leaf, &seq.to_string()]).await;
        assert_eq!(first_problem(&app).await.map(|p| p.0), Some(Some(seq)), "byte {at} of entry {seq}");
        let rehashed = hex::encode(merkle::leaf_hash(tampered.as_bytes()));
        raw.exec(upd, &[&tampered, &rehashed, &seq.to_string()]).await;
        let found = first_problem(&app).await;
        assert!(found.is_some_and(|(s, _)| s.unwrap_or(i64::MAX) <= seq), "rehashed entry {seq}: {found:?}");
        raw.exec(upd, &[&entry, &leaf, &seq.to_string()]).await;
    }
    assert_eq!(first_problem(&app).await, None);

    // Delete any one entry.
    for seq in 0..n {
        let row = raw.row(seq).await;
        raw.exec("DELETE FROM audit_events WHERE seq = ?", &[&seq.to_string()]).await;
        assert_eq!(first_problem(&app).await.map(|p| p.0), Some(Some(seq)), "deleted {seq}");
        raw.put_back(&row).await;
    }

    // Swap two entries (content and hashes).
    for (i, j) in [(0, 1), (2, 7), (5, n - 1)] {
        let (a, b) = (raw.row(i).await, raw.row(j).await);
        raw.exec(upd, &[&b.5, &b.6, &i.to_string()]).await;
        raw.exec(upd, &[&a.5, &a.6, &j.to_string()]).await;
        assert_eq!(first_problem(&app).await.map(|p| p.0), Some(Some(i)), "swapped {i} and {j}");
        raw.exec(upd, &[&a.5, &a.6, &i.to_string()]).await;
        raw.exec(upd, &[&b.5, &b.6, &j.to_string()]).await;
    }
    assert_eq!(first_problem(&app).await, None);

    // Replace a signed head: another root, or a signature by a key of the forger's own.
    let heads = app.ctx.store.heads().await.unwrap();
    let head = &heads[1];
    let other_root = heads[0].root_hash.clone();
    raw.exec("UPDATE audit_heads SET root_hash = ? WHERE tree_size = ?", &[&other_root, &head.tree_size.to_string()])
        .await;
    assert!(codes(&app).await.contains(&"bad_head_signature"));
    let forger = signing::generate(signing::Alg::EdDSA).unwrap();
    let message =
        idgate::audit::head_message(head.tree_size, &other_root, head.signed_at.millis(), head.log_id.as_deref());
    let sig = URL_SAFE_NO_PAD.encode(signing::ed25519_sign(&forger.pkcs8, message.as_bytes()).unwrap());
    raw.exec(
        "UPDATE audit_heads SET signature = ?, kid = ? WHERE tree_size = ?",
        &[&sig, &heads[0].kid, &head.tree_size.to_string()],
    )
    .await;
    assert!(codes(&app).await.contains(&"bad_head_signature"));
    raw.exec(
        "UPDATE audit_heads SET root_hash = ?, signature = ?, kid = ? WHERE tree_size = ?",
        &[&head.root_hash, &head.signature, &head.kid, &head.tree_size.to_string()],
    )
    .await;
    assert_eq!(first_problem(&app).await, None);

    // The CLI on the real database: intact, then one changed byte.
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let out = idgate(&["--data-dir", &data_dir, "--database-url", &db_url, "audit", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("audit log ok: {n} entries")));
    let row = raw.row(3).await;
    raw.exec(upd, &[&row.5.replacen("\"v\":1", "\"v\":2", 1), &row.6, "3"]).await;
    let out = idgate(&["--data-dir", &data_dir, "--database-url", &db_url, "audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("first: entry 3, entry_altered"), "{stderr}");
    raw.exec(upd, &[&row.5, &row.6, "3"]).await;

    // Truncate the tail (and the counter with it).
    let last = raw.row(n - 1).await;
    let before = raw.row(n - 2).await;
    raw.exec("DELETE FROM audit_events WHERE seq >= ?", &[&(n - 2).to_string()]).await;
    raw.exec("UPDATE audit_state SET size = ? WHERE id = 1", &[&(n - 2).to_string()]).await;
    assert_eq!(first_problem(&app).await, Some((Some(n - 2), "truncated")));
    raw.put_back(&before).await;
    raw.put_back(&last).await;
    raw.exec("UPDATE audit_state SET size = ? WHERE id = 1", &[&n.to_string()]).await;
    assert_eq!(first_problem(&app).await, None);
}

async fn auditors_read_page_export_and_prove(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let n = build_log(&app).await;
    let auditor = &app.keys["auditor"];
    // Roles: HR systems and reviewers do not read the audit log.
    for who in ["hr", "reviewer"] {
        let resp = app.http.get(app.url("/v1/audit/events")).bearer_auth(&app.keys[who]).send().await.unwrap();
        assert_eq!(resp.status(), 403);
    }
    // Pages of 5 cover everything once, in order.
    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let path = match after {
            Some(a) => format!("/v1/audit/events?limit=5&after={a}"),
            None => "/v1/audit/events?limit=5".into(),
        };
        let page = app.get_json(auditor, &path).await;
        seen.extend(page["events"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()));
        match page["next"].as_i64() {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
    let consents = app.get_json(auditor, "/v1/audit/events?kind=candidate.consented").await;
    assert_eq!(consents["events"].as_array().unwrap().len(), 3);
    let resp = app.http.get(app.url("/v1/audit/events?kind=nonsense")).bearer_auth(auditor).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // Another organisation's auditor sees none of acme's events (key events are global).
    // The export is JSON Lines whose lines hash to the tree's leaves.
    let export = app.http.get(app.url("/v1/audit/export")).bearer_auth(auditor).send().await.unwrap();
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let text = export.text().await.unwrap();
    let leaves: Vec<Hash> = text.lines().map(|l| merkle::leaf_hash(l.as_bytes())).collect();
    assert_eq!(leaves.len() as i64, n);
    let head = app.get_json(auditor, "/v1/audit/tree-head").await;
    assert_eq!(head["tree_size"].as_i64(), Some(n));
    assert_eq!(hex::encode(merkle::root(&leaves)), head["root_hash"].as_str().unwrap());
    // Consistency between the first signed head and the latest.
    let heads = app.ctx.store.heads().await.unwrap();
    let (first, last) = (&heads[0], heads.last().unwrap());
    let proof = app
        .get_json(auditor, &format!("/v1/audit/consistency?first={}&second={}", first.tree_size, last.tree_size))
        .await;
    let proof: Vec<Hash> = proof["proof"].as_array().unwrap().iter().map(|h| hash(h.as_str().unwrap())).collect();
    assert!(merkle::verify_consistency(
        first.tree_size as u64,
        last.tree_size as u64,
        &hash(&first.root_hash),
        &hash(&last.root_hash),
        &proof
    ));
    let resp =
        app.http.get(app.url("/v1/audit/consistency?first=0&second=3")).bearer_auth(auditor).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    // A trail: every event of one verification with proofs.
    let v = app.get_json(&app.keys["hr"], "/v1/verifications?external_id=cand-audit-0").await;
    let id = v["items"][0]["id"].as_str().unwrap();
    let trail = app.get_json(auditor, &format!("/v1/audit/verifications/{id}")).await;
    assert_eq!(trail["events"].as_array().unwrap().len(), 3);
    check_trail(&app, &trail).await;
    let resp = app
        .http
        .get(app.url(&format!("/v1/audit/verifications/{id}")))
        .bearer_auth(&app.keys["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Someone with write access to the database rewrites the log and removes the heads that
/// would give it away. `audit verify` alone cannot tell; a head kept outside (the public
/// heads endpoint, or the witness file) can, and a node that starts on the rewritten log with
/// the witness configured refuses to sign it.
async fn rewrites_are_caught_by_a_kept_head(db: Db) {
    let witness_dir = tempfile::tempdir().unwrap();
    let witness = witness_dir.path().join("heads.jsonl");
    let witness_path = witness.clone();
    // Heads only on demand (GET /v1/audit/tree-head), so none is re-signed behind the test.
    let Some(app) = spawn_app_with(db, move |s| {
        s.audit.head_interval_seconds = 3600;
        s.audit.witness_file = Some(witness_path);
    })
    .await
    else {
        return;
    };
    let n = build_log(&app).await;
    // Anyone may keep the heads: no authentication.
    let public: serde_json::Value =
        app.http.get(app.url("/.well-known/audit-heads.json")).send().await.unwrap().json().await.unwrap();
    let heads = public["heads"].as_array().unwrap().clone();
    assert!(heads.len() >= 3 && heads.last().unwrap()["tree_size"] == n, "{public}");
    let kept = witness_dir.path().join("kept.json");
    std::fs::write(&kept, heads.last().unwrap().to_string()).unwrap();
    let witnessed = std::fs::read_to_string(&witness).unwrap();
    assert_eq!(witnessed.lines().count(), heads.len(), "every head reached the witness");

    sqlx::any::install_default_drivers();
    let raw = Raw { pool: sqlx::AnyPool::connect(&app.ctx.settings.storage.database_url()).await.unwrap(), db };
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let verify = |extra: &[&str]| {
        let mut args = vec!["--data-dir", data_dir.as_str(), "--database-url", db_url.as_str(), "audit", "verify"];
        args.extend_from_slice(extra);
        idgate(&args)
    };
    let kept_arg = kept.to_str().unwrap().to_owned();
    let witness_arg = witness.to_str().unwrap().to_owned();
    assert!(verify(&["--against", &kept_arg]).status.success());
    // Each head names its log; a head of another log is not evidence about this one.
    let mut foreign = heads.last().unwrap().clone();
    assert!(foreign["log_id"].as_str().is_some_and(|id| id.len() == 36), "{foreign}");
    foreign["log_id"] = uuid::Uuid::new_v4().to_string().into();
    let foreign_path = witness_dir.path().join("foreign.json");
    std::fs::write(&foreign_path, foreign.to_string()).unwrap();
    let out = verify(&["--against", foreign_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept_head_other_log"));
    let stored_heads = app.ctx.store.heads().await.unwrap();
    let k = stored_heads[stored_heads.len() - 2].tree_size;

    // Attack 1: the tail deleted with the heads that cover it.
    let tail: Vec<_> = {
        let mut rows = Vec::new();
        for seq in k..n {
            rows.push(raw.row(seq).await);
        }
        rows
    };
    raw.exec("DELETE FROM audit_events WHERE seq >= ?", &[&k.to_string()]).await;
    raw.exec("DELETE FROM audit_heads WHERE tree_size > ?", &[&k.to_string()]).await;
    raw.exec("UPDATE audit_state SET size = ? WHERE id = 1", &[&k.to_string()]).await;
    assert!(verify(&[]).status.success(), "undetectable from the database alone");
    for against in [&kept_arg, &witness_arg] {
        let out = verify(&["--against", against]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("first: entry {k}, truncated_since_kept_head")), "{stderr}");
    }
    for row in &tail {
        raw.put_back(row).await;
    }
    for head in stored_heads.iter().filter(|h| h.tree_size > k) {
        app.ctx.store.insert_head(head).await.unwrap();
    }
    raw.exec("UPDATE audit_state SET size = ? WHERE id = 1", &[&n.to_string()]).await;
    assert!(verify(&["--against", &kept_arg]).status.success());

    // Attack 2: entries from k on rewritten with their leaf hashes recomputed, the heads from k
    // on removed.
    let row = raw.row(k).await;
    let forged = row.5.replacen("\"v\":1", "\"v\":2", 1);
    assert_ne!(forged, row.5);
    let rehashed = hex::encode(merkle::leaf_hash(forged.as_bytes()));
    raw.exec("UPDATE audit_events SET entry = ?, leaf_hash = ? WHERE seq = ?", &[&forged, &rehashed, &k.to_string()])
        .await;
    raw.exec("DELETE FROM audit_heads WHERE tree_size > ?", &[&k.to_string()]).await;
    assert!(verify(&[]).status.success(), "undetectable from the database alone");
    let out = verify(&["--against", &kept_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rewritten_since_kept_head"));
    // A node starting on the rewritten log: with the witness it refuses to sign; without it,
    // it would sign the forged tree (what the witness is for).
    let node = idgate::audit::log::AuditLog::with_witness(Some(witness.clone()));
    let refused = node.seal(&app.ctx.store, &app.ctx.keys, &app.ctx.clock).await;
    assert!(matches!(refused, Err(idgate::audit::log::AuditError::Diverged(size)) if size == n), "{refused:?}");
    // Leaf hashes that do not match their entries are never signed either.
    raw.exec("UPDATE audit_events SET leaf_hash = ? WHERE seq = ?", &[&row.6, &k.to_string()]).await;
    let node = idgate::audit::log::AuditLog::new();
    let refused = node.seal(&app.ctx.store, &app.ctx.keys, &app.ctx.clock).await;
    assert!(matches!(refused, Err(idgate::audit::log::AuditError::Altered(seq)) if seq == k), "{refused:?}");
    raw.exec("UPDATE audit_events SET entry = ?, leaf_hash = ? WHERE seq = ?", &[&row.5, &row.6, &k.to_string()]).await;

    // Heads removed and nothing re-signed for a while: the unsigned tail is itself a finding.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let out = verify(&["--max-unsigned-age", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("first: entry {k}, unsigned_tail")));
    for head in stored_heads.iter().filter(|h| h.tree_size > k) {
        app.ctx.store.insert_head(head).await.unwrap();
    }
    assert!(verify(&["--against", &witness_arg, "--max-unsigned-age", "1"]).status.success());
}

on_both_engines! {
    every_kind_of_tampering_is_found => tampering_is_always_found,
    a_kept_head_catches_rewrites_the_database_hides => rewrites_are_caught_by_a_kept_head,
    auditors_page_export_and_prove => auditors_read_page_export_and_prove,
}

/// Commands that append to the log while no service runs sign a head over it too, so the log
/// they leave has no unsigned tail.
#[test]
fn commands_that_write_the_log_sign_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    for args in [
        vec!["--data-dir", d, "keys", "generate", "--purpose", "audit"],
        vec!["--data-dir", d, "apikey", "create", "--org", "acme", "--role", "hr"],
    ] {
        let out = idgate(&args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = idgate(&["--data-dir", d, "audit", "verify", "--max-unsigned-age", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 signed heads"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A witness elsewhere: `audit.witness_url` receives the newest signed head each round until
/// it accepts it (a refusal is sent again), and a head it kept proves the log later. A URL the
/// webhooks' rules refuse stops start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_url_is_sent_every_new_head() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let state = actix_web::web::Data::new(received.clone());
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().app_data(state.clone()).route(
            "/heads",
            actix_web::web::post().to(
                |body: actix_web::web::Json<serde_json::Value>,
                 seen: actix_web::web::Data<Arc<Mutex<Vec<serde_json::Value>>>>| async move {
                    let mut seen = seen.lock().unwrap();
                    seen.push(body.into_inner());
                    // The first head is refused: it must come again.
                    if seen.len() == 1 {
                        actix_web::HttpResponse::ServiceUnavailable().finish()
                    } else {
                        actix_web::HttpResponse::NoContent().finish()
                    }
                },
            ),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://127.0.0.1:{}/heads", server.addrs()[0].port());
    tokio::spawn(server.run());

    // Refused by the webhooks' rules unless they allow a local, plain-http receiver.
    let mut settings = idgate::config::Settings::load(None).unwrap();
    settings.audit.witness_url = Some(url.clone());
    assert!(settings.validate().is_err(), "a loopback http witness needs [webhooks] to allow it");
    crate::webhooks::local_receivers(&mut settings);
    assert!(settings.validate().is_ok());

    let witness_url = url.clone();
    let Some(app) = spawn_app_with(Db::Sqlite, move |s| {
        crate::webhooks::local_receivers(s);
        s.audit.witness_url = Some(witness_url);
        s.audit.head_interval_seconds = 1;
    })
    .await
    else {
        return;
    };
    let n = build_log(&app).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let last = loop {
        let seen = received.lock().unwrap().clone();
        if let Some(head) = seen.last().filter(|h| h["tree_size"] == n && seen.len() >= 2) {
            break head.clone();
        }
        assert!(std::time::Instant::now() < deadline, "the witness got {seen:?}, not a head of {n}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let sizes: Vec<i64> = received.lock().unwrap().iter().map(|h| h["tree_size"].as_i64().unwrap()).collect();
    // The first head was refused and a head came again after it; sizes never go back.
    assert!(sizes.len() >= 2 && sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");

    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("witnessed.json");
    std::fs::write(&kept, last.to_string()).unwrap();
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let out = idgate(&[
        "--data-dir",
        &data_dir,
        "--database-url",
        &db_url,
        "audit",
        "verify",
        "--against",
        kept.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
