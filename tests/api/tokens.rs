//! Verification tokens: issued on approval, checked at the offer gate, by introspection,
//! offline by `idgate token verify`, and by an independent JWT library from the JWKS
//! alone; revocation; rotation; and a forgery suite where each forgery has its own reason.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use idgate::clock::{Clock, ManualClock, SystemClock};
use idgate::crypto::signing::{self, Alg};
use idgate::storage::KeyPurpose;
use idgate::tokens::claims::TokenClaims;
use idgate::tokens::issue::sign;
use idgate::tokens::keyring::Signer;

use crate::fixtures::fixtures;
use crate::helpers::{Db, TestApp, idgate, spawn_app_clocked};
use crate::service_flow::run_candidate;

/// An approved verification of candidate `cand-token` and its token.
async fn approved(app: &TestApp) -> Option<(String, String)> {
    let f = fixtures()?;
    let id = run_candidate(app, "cand-token", &f.document, &f.genuine_selfie).await;
    let done = app.wait_final(&id).await;
    assert_eq!(done["status"], "approved", "{done}");
    let token = done["token"]["value"].as_str().expect("an approved verification has a token").to_owned();
    Some((id, token))
}

async fn gate(app: &TestApp, key: &str, token: &str, candidate: &str) -> (bool, Vec<String>) {
    let resp = app
        .http
        .post(app.url("/v1/offer-gate"))
        .bearer_auth(key)
        .json(&serde_json::json!({ "token": token, "candidate": candidate }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let reasons = body["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
    (body["may_offer"].as_bool().unwrap(), reasons)
}

async fn introspect(app: &TestApp, key: &str, token: &str) -> serde_json::Value {
    let resp = app
        .http
        .post(app.url("/v1/tokens/introspect"))
        .bearer_auth(key)
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn claims_of(token: &str) -> TokenClaims {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn lifecycle(db: Db) {
    let clock = Arc::new(SystemClock);
    let Some(app) = spawn_app_clocked(db, |_| {}, clock).await else { return };
    let Some((id, token)) = approved(&app).await else { return };

    // The claims: OIDC IA shape, no score, no image, no embedding.
    let claims = claims_of(&token);
    assert_eq!((claims.sub.as_str(), claims.aud.as_str()), (id.as_str(), "acme"));
    assert_eq!(claims.exp - claims.iat, 30 * 86_400);
    assert_eq!(claims.verified_claims.claims.family_name, "Testcandidate");
    assert_eq!(claims.verified_claims.verification.trust_framework, "idgate");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(!text.contains("similarity") && !text.contains("embedding"), "{text}");
    // The document evidence: type and issuer from the zone, a keyed hash of the number.
    let evidence = &claims.verified_claims.verification.evidence[0];
    let details = evidence.document_details.as_ref().expect("document details");
    assert_eq!((details.kind.as_str(), details.issuer_country.as_str()), ("idcard", "USA"));
    assert_eq!(details.document_number_hash.len(), 64);
    assert!(!text.contains("X00000001"), "{text}");
    let checks: Vec<&str> = evidence.check_details.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(checks, ["mrz", "face_match", "risk_screening", "sanctions_screening"]);
    // Which screenings ran against which list versions; no score.
    let sanctions = evidence.check_details.iter().find(|c| c.check == "sanctions_screening").unwrap();
    assert_eq!(sanctions.result, "no_match");
    let names: Vec<&str> = sanctions.lists.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["ofac-sdn", "un-consolidated"]);
    assert!(!text.contains("\"score\""), "{text}");

    assert_eq!(gate(&app, &app.keys["hr"], &token, "cand-token").await, (true, vec![]));
    assert_eq!(gate(&app, &app.keys["hr"], &token, "someone-else").await, (false, vec!["candidate_mismatch".into()]));
    assert_eq!(gate(&app, &app.keys["other"], &token, "cand-token").await, (false, vec!["wrong_audience".into()]));
    let active = introspect(&app, &app.keys["auditor"], &token).await;
    assert_eq!((active["active"].as_bool(), active["sub"].as_str()), (Some(true), Some(id.as_str())), "{active}");

    // The JWKS, with caching headers; a second fetch with its ETag is a 304.
    let resp = app.http.get(app.url("/.well-known/jwks.json")).send().await.unwrap();
    assert!(resp.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let jwks: serde_json::Value = resp.json().await.unwrap();
    let again = app.http.get(app.url("/.well-known/jwks.json")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let meta = app.get_json(&app.keys["hr"], "/.well-known/openid-configuration").await;
    assert_eq!(meta["jwks_uri"], format!("{}/.well-known/jwks.json", app.ctx.settings.issuer()));

    // An independent implementation (jwt-compact) accepts the token from the JWKS alone.
    independent_check(&jwks, &token, &app.ctx.settings.issuer(), &id);

    // Offline with the CLI, from a JWKS file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks.to_string()).unwrap();
    let iss = app.ctx.settings.issuer();
    let out = idgate(&["token", "verify", &token, "--jwks", file.to_str().unwrap(), "--aud", "acme", "--iss", &iss]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = idgate(&["token", "verify", &token, "--jwks", file.to_str().unwrap(), "--aud", "globex", "--iss", &iss]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "idgate: error: token rejected: wrong_audience");

    // Revocation: another organisation cannot; the owner can, once; effective at once.
    let jti = claims.jti.clone();
    let revoke = |key: String| {
        let url = app.url(&format!("/v1/tokens/{jti}/revoke"));
        let http = app.http.clone();
        async move {
            let resp = http
                .post(url)
                .bearer_auth(key)
                .json(&serde_json::json!({"reason": "offer withdrawn"}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    assert_eq!(revoke(app.keys["other"].clone()).await.0, 404);
    assert_eq!(revoke(app.keys["auditor"].clone()).await.0, 403);
    assert_eq!(revoke(app.keys["hr"].clone()).await.0, 200);
    let (status, body) = revoke(app.keys["admin"].clone()).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_revoked")));
    assert_eq!(gate(&app, &app.keys["hr"], &token, "cand-token").await, (false, vec!["revoked".into()]));
    let inactive = introspect(&app, &app.keys["hr"], &token).await;
    assert_eq!(inactive["active"], false);
    assert_eq!(inactive["reason"], "revoked");
    let (_, view) = app.get(&app.keys["hr"], &id).await;
    assert_eq!(view["token"]["revoked"], true);
    // Another organisation learns only that the token is not for it (not that it is revoked).
    assert_eq!(gate(&app, &app.keys["other"], &token, "cand-token").await, (false, vec!["wrong_audience".into()]));
    let foreign = introspect(&app, &app.keys["other"], &token).await;
    assert_eq!(foreign["reasons"], serde_json::json!(["wrong_audience"]), "{foreign}");

    // The audit trail has every step, each provably in the signed tree.
    let trail = app.get_json(&app.keys["auditor"], &format!("/v1/audit/verifications/{id}")).await;
    let kinds: Vec<&str> = trail["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "verification.created",
            "candidate.consented",
            "media.uploaded",
            "media.uploaded",
            "verification.submitted",
            "stage.completed",
            "stage.completed",
            "stage.completed",
            "verification.decided",
            "token.issued",
            "token.revoked"
        ]
    );
    crate::audit_log::check_trail(&app, &trail).await;
    assert!(!trail.to_string().contains("Testcandidate"), "no PII in the audit log");
    // Each stage wrote its own event; the risk stage's names its codes and list versions.
    let entries: Vec<serde_json::Value> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["entry"].as_str().unwrap()).unwrap())
        .collect();
    let data = |e: &serde_json::Value| e.get("data").cloned().unwrap_or_default();
    let stages: Vec<String> = entries.iter().filter_map(|e| data(e)["stage"].as_str().map(str::to_owned)).collect();
    assert_eq!(stages, ["document", "face_match", "risk"], "{entries:?}");
    let risk = entries.iter().map(data).find(|d| d["stage"] == "risk").unwrap();
    assert!(risk["signals"].is_array() && risk["sanctions_lists"].as_array().unwrap().len() == 2, "{risk}");

    // A newer verification of the same candidate supersedes this one's token (an older
    // approval must not pass after a newer rejection).
    let (newer, _) = app.created("cand-token").await;
    assert_ne!(newer, id);
    assert_eq!(
        gate(&app, &app.keys["hr"], &token, "cand-token").await,
        (false, vec!["revoked".into(), "superseded".into()])
    );
}

/// Emergency revocation of the signing key: unpublished at once, every token it signed
/// refused, a new key signs.
async fn compromise(db: Db) {
    let Some(app) = spawn_app_clocked(db, |_| {}, Arc::new(SystemClock)).await else { return };
    let Some((_, token)) = approved(&app).await else { return };
    let hr = app.keys["hr"].clone();
    assert_eq!(gate(&app, &hr, &token, "cand-token").await, (true, vec![]));
    let kid = idgate::tokens::verify::kid_of(&token).unwrap();
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let cli = |args: &[&str]| {
        let mut all = vec!["--data-dir", data_dir.as_str(), "--database-url", db_url.as_str(), "keys"];
        all.extend_from_slice(args);
        idgate(&all)
    };
    let out = cli(&["compromise", "no-such-kid", "--reason", "leaked"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // (A kid is base64url: it may begin with '-', and is taken as the kid all the same.)
    let out = cli(&["compromise", &kid, "--reason", "private key found in a public repository"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 token(s) it signed revoked"));

    // The JWKS drops it at once and publishes the new signer.
    let jwks = app.get_json(&hr, "/.well-known/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(!kids.contains(&kid.as_str()) && kids.len() == 1, "{jwks}");
    assert_ne!(app.ctx.keys.signer(KeyPurpose::Token).await.unwrap().kid, kid);
    // Every node refuses its tokens within tokens.revocation_refresh_millis (1 s): as revoked
    // until the node's key cache reloads, then by the key itself.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (ok, reasons) = gate(&app, &hr, &token, "cand-token").await;
    assert!(!ok && (reasons == ["revoked"] || reasons == ["key_compromised"]), "{reasons:?}");
    let again = cli(&["compromise", "--reason", "twice", &kid]);
    assert_eq!(again.status.code(), Some(2), "compromised once only");
}

fn independent_check(jwks: &serde_json::Value, token: &str, issuer: &str, subject: &str) {
    use jwt_compact::alg::{Ed25519, VerifyingKey as _};
    use jwt_compact::{Algorithm, AlgorithmExt, UntrustedToken};
    let untrusted = UntrustedToken::new(token).unwrap();
    let kid = untrusted.header().key_id.clone().unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap();
    assert_eq!(jwk["kty"], "OKP");
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let key = <Ed25519 as Algorithm>::VerifyingKey::from_slice(&x).unwrap();
    let checked = Ed25519.validator::<serde_json::Value>(&key).validate(&untrusted).unwrap();
    let expires = checked.claims().expiration.expect("exp").timestamp();
    assert!(expires > SystemClock.now().millis() / 1000);
    let custom = &checked.claims().custom;
    assert_eq!((custom["iss"].as_str(), custom["sub"].as_str()), (Some(issuer), Some(subject)));
}

fn forged_hs256(token: &str, secret: &[u8]) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let kid = idgate::tokens::verify::kid_of(token).unwrap();
    let header = URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

async fn forgeries(db: Db) {
    let clock = ManualClock::new(SystemClock.now());
    let Some(app) = spawn_app_clocked(db, |_| {}, Arc::new(clock.clone())).await else { return };
    let Some((_, token)) = approved(&app).await else { return };
    let hr = app.keys["hr"].clone();
    let genuine = claims_of(&token);
    let signer = app.ctx.keys.signer(KeyPurpose::Token).await.unwrap();
    let now = clock.now().millis() / 1000;
    let resign = |change: &dyn Fn(&mut TokenClaims), signer: &Signer| {
        let mut c = genuine.clone();
        change(&mut c);
        sign(&c, signer).unwrap()
    };
    let kid = idgate::tokens::verify::kid_of(&token).unwrap();
    let jwks = app.get_json(&app.keys["hr"], "/.well-known/jwks.json").await;
    let public_x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let stranger = signing::generate(Alg::EdDSA).unwrap();
    let stranger = Signer { kid: stranger.kid, alg: Alg::EdDSA, pkcs8: stranger.pkcs8 };
    let (h, p, s) = {
        let mut parts = token.split('.');
        (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap())
    };
    let mut changed = genuine.clone();
    changed.verified_claims.claims.birthdate = "1990-01-01".into();
    let changed_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&changed).unwrap());
    let none_header = URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());

    let cases: Vec<(&str, String, &str)> = vec![
        ("alg none", format!("{none_header}.{p}."), "algorithm_not_allowed"),
        (
            "HS256 keyed with the public key",
            forged_hs256(&token, &URL_SAFE_NO_PAD.decode(&public_x).unwrap()),
            "algorithm_not_allowed",
        ),
        ("HS256 keyed with the JWKS text", forged_hs256(&token, jwks.to_string().as_bytes()), "algorithm_not_allowed"),
        ("unknown kid", resign(&|_| {}, &stranger), "unknown_key"),
        (
            "expired",
            resign(
                &|c| {
                    c.iat = now - 7200;
                    c.nbf = now - 7200;
                    c.exp = now - 3600;
                },
                &signer,
            ),
            "expired",
        ),
        ("nbf in the future", resign(&|c| c.nbf = now + 3600, &signer), "not_yet_valid"),
        ("wrong aud", resign(&|c| c.aud = "globex".into(), &signer), "wrong_audience"),
        ("wrong iss", resign(&|c| c.iss = "https://idgate.evil.example".into(), &signer), "wrong_issuer"),
        ("payload changed after signing", format!("{h}.{changed_payload}.{s}"), "bad_signature"),
        ("not a JWT", "not.a.jwt".to_owned(), "malformed"),
        ("never issued here", resign(&|c| c.jti = uuid::Uuid::new_v4().to_string(), &signer), "unknown_token"),
    ];
    for (what, forged, reason) in &cases {
        assert_eq!(gate(&app, &hr, forged, "cand-token").await, (false, vec![(*reason).to_owned()]), "{what}");
        let i = introspect(&app, &hr, forged).await;
        assert_eq!((i["active"].as_bool(), i["reason"].as_str()), (Some(false), Some(*reason)), "{what}");
    }
    assert_eq!(gate(&app, &hr, &token, "cand-token").await, (true, vec![]), "the genuine token still passes");

    // Rotation with the CLI: old tokens keep passing while the old key is published.
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let out = idgate(&["--data-dir", &data_dir, "--database-url", &db_url, "keys", "rotate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jwks = app.get_json(&app.keys["hr"], "/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    let new_signer = app.ctx.keys.signer(KeyPurpose::Token).await.unwrap();
    assert_ne!(new_signer.kid, signer.kid);
    assert_eq!(gate(&app, &hr, &token, "cand-token").await, (true, vec![]));
    // The new key's tokens pass at once (an unknown kid reloads the keys, at most each second).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reissued = resign(&|_| {}, &new_signer);
    assert_eq!(gate(&app, &hr, &reissued, "cand-token").await, (true, vec![]));
    // A token the retired key signs after its retirement is refused (stolen old key).
    clock.advance(Duration::from_secs(3600));
    let late = resign(
        &|c| {
            c.iat = now + 3600;
            c.nbf = now + 3600;
        },
        &signer,
    );
    assert_eq!(gate(&app, &hr, &late, "cand-token").await, (false, vec!["key_retired".into()]));
    // After every token it signed has expired the old key is unpublished and refused.
    clock.advance(Duration::from_secs(31 * 86_400));
    let later = now + 31 * 86_400;
    let old = resign(
        &|c| {
            c.iat = later - 60;
            c.nbf = later - 60;
            c.exp = later + 3600;
        },
        &signer,
    );
    assert_eq!(gate(&app, &hr, &old, "cand-token").await, (false, vec!["key_retired".into()]));
    let jwks = app.get_json(&app.keys["hr"], "/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
    assert_eq!(gate(&app, &hr, &token, "cand-token").await, (false, vec!["expired".into()]));
    // The revoked reason is its own too.
    let fresh = resign(
        &|c| {
            c.iat = later;
            c.nbf = later;
            c.exp = later + 3600;
        },
        &new_signer,
    );
    assert_eq!(gate(&app, &hr, &fresh, "cand-token").await, (true, vec![]));
    let url = app.url(&format!("/v1/tokens/{}/revoke", genuine.jti));
    let resp = app.http.post(url).bearer_auth(&hr).json(&serde_json::json!({"reason": "test"})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(gate(&app, &hr, &fresh, "cand-token").await, (false, vec!["revoked".into()]));
}

/// ES256 by configuration: the token is signed with P-256 and verifies from the JWKS.
async fn es256(db: Db) {
    let Some(app) = spawn_app_clocked(db, |s| s.tokens.algorithm = "ES256".into(), Arc::new(SystemClock)).await else {
        return;
    };
    let Some((id, token)) = approved(&app).await else { return };
    assert!(idgate::tokens::verify::kid_of(&token).is_some());
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(gate(&app, &app.keys["hr"], &token, "cand-token").await, (true, vec![]));
    let jwks = app.get_json(&app.keys["hr"], "/.well-known/jwks.json").await;
    use jwt_compact::alg::Es256;
    use jwt_compact::{Algorithm, AlgorithmExt, UntrustedToken};
    let jwk = &jwks["keys"][0];
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
    let key = <Es256 as Algorithm>::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let checked = Es256.validator::<serde_json::Value>(&key).validate(&UntrustedToken::new(&token).unwrap()).unwrap();
    assert_eq!(checked.claims().custom["sub"].as_str(), Some(id.as_str()));
}

on_both_engines! {
    approval_token_passes_the_gate_verifies_elsewhere_and_revokes => lifecycle,
    each_forgery_is_refused_with_its_own_reason => forgeries,
    es256_tokens_verify_from_the_jwks => es256,
    a_compromised_signing_key_is_refused_everywhere_at_once => compromise,
}
