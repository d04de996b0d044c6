//! The reviewers' and auditors' console: in Debian's Chromium (tests/browser/console.mjs)
//! on real cases (the Carphone clip answering its challenge, a North Korean phone number for
//! the riskier one), and its sessions over plain HTTP: set-up, sign-in with password and
//! TOTP, lock-out, CSRF, and the same authorisation as API keys of the same role.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use idgate::accounts::{NewUserPlace, create_user};
use idgate::audit::event::Actor;
use idgate::crypto::totp;
use sqlx::Connection as _;

use crate::browser::browser_tools;
use crate::helpers::{Db, TestApp, claims_json, ffmpeg, spawn_app_with};
use crate::liveness::{CARPHONE_DOES, carphone_case, finish, up_to_selfie_with};

const OPERATOR: Actor = Actor::Operator { command: "test" };

/// A user of `acme` with this role, and the token of their set-up link.
async fn new_user(app: &TestApp, role: &str, email: &str) -> String {
    let place = NewUserPlace { store: &app.ctx.store, public_url: &app.base, now: app.ctx.clock.now() };
    let link = create_user(&place, "acme", role, email, OPERATOR).await.unwrap().setup_link;
    assert!(link.starts_with(&format!("{}/console/#setup=", app.base)), "{link}");
    link.rsplit('=').next().unwrap().to_owned()
}

fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = String::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = alphabet.iter().position(|a| *a == c.to_ascii_uppercase()).unwrap();
        bits.push_str(&format!("{v:05b}"));
    }
    bits.as_bytes()
        .chunks(8)
        .filter(|c| c.len() == 8)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
        .collect()
}

/// Sets a user up over HTTP: (password, TOTP secret).
async fn set_up(app: &TestApp, token: &str, password: &str) -> Vec<u8> {
    let start: serde_json::Value = app
        .http
        .post(app.url("/console/api/setup/start"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = base32_decode(start["totp_secret"].as_str().unwrap());
    let code = totp::code_at(&secret, app.ctx.clock.now()).unwrap();
    let resp = app
        .http
        .post(app.url("/console/api/setup/finish"))
        .json(&serde_json::json!({ "token": token, "password": password, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap());
    secret
}

fn code_in(secret: &[u8], app: &TestApp, seconds: u64) -> String {
    totp::code_at(secret, app.ctx.clock.now().plus(std::time::Duration::from_secs(seconds))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_and_auditors_use_the_console_in_chromium() {
    let Some(tools) = browser_tools() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some((document, clip)) = carphone_case(dir.path()) else { return };
    // The same camera clip re-encoded as a browser would (a second, less risky case).
    let pristine = dir.path().join("pristine.mp4");
    std::fs::write(&pristine, &clip).unwrap();
    let webm = dir.path().join("recoded.webm");
    ffmpeg(&["-i", pristine.to_str().unwrap(), "-c:v", "libvpx", "-b:v", "1M", webm.to_str().unwrap()]);
    let recoded = std::fs::read(&webm).unwrap();
    let shots =
        std::env::var_os("IDGATE_SCREENSHOTS_DIR").map_or_else(|| dir.path().join("shots"), std::path::PathBuf::from);
    std::fs::create_dir_all(&shots).unwrap();
    let Some(app) = spawn_app_with(Db::Sqlite, |s| {
        s.liveness.required = true;
        s.liveness.fixed_challenge = Some(CARPHONE_DOES.into());
    })
    .await
    else {
        return;
    };

    let mut risky = claims_json("console-risky");
    risky["candidate"]["phone"] = "+850 2 381 5926".into();
    let (high, token, challenge) = up_to_selfie_with(&app, &risky, &document).await;
    let done = finish(&app, &high, &token, &challenge, &clip).await;
    assert_eq!(done["status"], "review", "{done}");
    let (low, token, challenge) = up_to_selfie_with(&app, &claims_json("console-plain"), &document).await;
    let other = finish(&app, &low, &token, &challenge, &recoded).await;
    assert_eq!(other["status"], "review", "{other}");
    assert!(done["risk"]["score"].as_u64() > other["risk"]["score"].as_u64(), "{} {}", done["risk"], other["risk"]);

    let setup = new_user(&app, "reviewer", "ana@acme.example").await;
    let setup_link = format!("{}/console/#setup={setup}", app.base);
    let second = set_up(&app, &new_user(&app, "reviewer", "ben@acme.example").await, "second reviewer pw").await;
    let auditor = set_up(&app, &new_user(&app, "auditor", "ola@acme.example").await, "auditor password").await;
    let admin = set_up(&app, &new_user(&app, "admin", "adm@acme.example").await, "admin password!").await;
    let b32 = |s: &[u8]| {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let bits: String = s.iter().map(|b| format!("{b:08b}")).collect();
        bits.as_bytes()
            .chunks(5)
            .map(|c| {
                let mut v = String::from_utf8(c.to_vec()).unwrap();
                while v.len() < 5 {
                    v.push('0');
                }
                alphabet[usize::from_str_radix(&v, 2).unwrap()] as char
            })
            .collect::<String>()
    };

    let mut child = Command::new("node")
        .current_dir(&tools)
        .arg("console.mjs")
        .args([
            &app.base,
            &setup_link,
            "ana@acme.example",
            "first reviewer pw",
            "ben@acme.example",
            "second reviewer pw",
            &b32(&second),
            "ola@acme.example",
            "auditor password",
            &b32(&auditor),
            shots.to_str().unwrap(),
            "adm@acme.example",
            "admin password!",
            &b32(&admin),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node is on the machine");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let db_url = app.ctx.settings.storage.database_url();
    let mut report = serde_json::Value::Null;
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        lines.push(line.clone());
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        match msg["phase"].as_str() {
            Some("TAMPER") => {
                // One byte of one of the rejected case's entries changes in the database.
                let mut raw = sqlx::AnyConnection::connect(&db_url).await.unwrap();
                let (seq, entry): (i64, String) = sqlx::query_as(
                    "SELECT seq, entry FROM audit_events WHERE verification_id = ? ORDER BY seq LIMIT 1",
                )
                .bind(&high)
                .fetch_one(&mut raw)
                .await
                .unwrap();
                sqlx::query("UPDATE audit_events SET entry = ? WHERE seq = ?")
                    .bind(entry.replacen("\"v\":1", "\"v\":2", 1))
                    .bind(seq)
                    .execute(&mut raw)
                    .await
                    .unwrap();
                writeln!(stdin, "go").unwrap();
            }
            Some("DONE" | "FAILED") => {
                report = msg;
                break;
            }
            _ => {}
        }
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success() && report["phase"] == "DONE", "{lines:?} {stderr}");
    let r = &report["report"];
    eprintln!("console report: {r}");

    assert!(r["setup_notice"].as_str().unwrap().contains("ready"), "{r}");
    assert!(r["wrong_code_notice"].as_str().unwrap().contains("sign_in_failed"), "{r}");
    assert_eq!(r["queue"], serde_json::json!([high, low]), "highest risk first: {r}");
    let case = &r["case"];
    assert_eq!(case["id"], high.as_str());
    let frames = case["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 4, "three challenge steps and the best face: {case}");
    assert!(frames.iter().any(|f| f.as_str().unwrap().contains("best face")), "{case}");
    assert_eq!(case["liveness"].as_array().unwrap().len(), 3, "{case}");
    assert!(case["liveness"].as_array().unwrap().iter().all(|s| s.as_str().unwrap().contains("done")), "{case}");
    assert!(
        case["signals"].as_array().unwrap().iter().any(|s| s.as_str().unwrap().starts_with("phone_high_risk_country"))
    );
    assert!(case["facts"].as_str().unwrap().contains("threshold"), "{case}");
    assert!(case["claims"].as_str().unwrap().contains("Testcandidate"), "the reviewer sees the claims: {case}");
    assert!(r["decided_notice"].as_str().unwrap().contains("rejected"), "{r}");
    assert_eq!(r["next_case"], low.as_str());
    assert!(r["second_sees_claimed_by"].as_str().unwrap().starts_with("user:"), "{r}");
    assert!(r["second_claim_notice"].as_str().unwrap().contains("claimed_by_another"), "{r}");
    assert!(r["verified"].as_str().unwrap().starts_with("verified"), "{r}");
    let tampered = r["tampered"].as_str().unwrap();
    assert!(tampered.contains("does not verify") && tampered.contains("entry_altered"), "{r}");
    assert!(r["new_key_notice"].as_str().unwrap().contains("shown once"), "{r}");
    assert_eq!(r["keys_after_create"], 1, "{r}");
    assert!(r["revoked_row"].as_str().unwrap().contains("revoked"), "{r}");
    assert_eq!(r["external_requests"], serde_json::json!([]), "the console fetched elsewhere: {r}");
    assert!(r.as_object().unwrap().keys().all(|k| !k.ends_with("_page_error")), "{r}");

    // The decision acted as an automatic one, by the signed-in person.
    let (_, rejected) = app.get(&app.keys["hr"], &high).await;
    assert_eq!((rejected["status"].as_str(), rejected["reasons"][0].as_str()), (Some("rejected"), Some("laptop_farm")));
    let page = app.get_json(&app.keys["auditor"], &format!("/v1/audit/events?verification={high}&limit=1000")).await;
    let by_user: Vec<String> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e["entry"].as_str().unwrap()).unwrap())
        .filter(|e| e["actor"]["type"] == "user")
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in ["review.claimed", "case.evidence_viewed", "review.recorded", "verification.decided"] {
        assert!(by_user.iter().any(|k| k == kind), "{kind} by the reviewer: {by_user:?}");
    }
}

/// A signed-in session: (cookie header value, CSRF token).
async fn signed_in(app: &TestApp, email: &str, password: &str, secret: &[u8], ahead: u64) -> (String, String) {
    let resp = app
        .http
        .post(app.url("/console/api/sign-in"))
        .json(&serde_json::json!({ "email": email, "password": password, "code": code_in(secret, app, ahead) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "{}", resp.text().await.unwrap_or_default());
    let set = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    let cookie = set.split(';').next().unwrap().to_owned();
    let me: serde_json::Value =
        app.http.get(app.url("/console/api/me")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    (cookie, me["csrf"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sessions_are_authorised_by_role_locked_after_failures_and_need_csrf() {
    let Some(app) = spawn_app_with(Db::Sqlite, |_| {}).await else { return };
    let (id, _) = app.created("console-authz").await;
    let mut sessions = Vec::new();
    for (n, role) in ["reviewer", "auditor", "admin"].into_iter().enumerate() {
        let email = format!("{role}@acme.example");
        let secret = set_up(&app, &new_user(&app, role, &email).await, "a long enough password").await;
        let (cookie, csrf) = signed_in(&app, &email, "a long enough password", &secret, 30).await;
        sessions.push((role, cookie, csrf, secret, email, n));
    }
    //                       path, method, body, expected for reviewer, auditor, admin
    let review = serde_json::json!({"decision": "reject", "reason": "other_fraud", "note": "matrix"});
    let routes: [(&str, reqwest::Method, Option<serde_json::Value>, [u16; 3]); 9] = [
        ("/v1/review-queue", reqwest::Method::GET, None, [200, 200, 200]),
        ("/v1/verifications/{id}", reqwest::Method::GET, None, [200, 200, 200]),
        ("/v1/verifications/{id}/claim", reqwest::Method::POST, None, [409, 403, 409]),
        ("/v1/verifications/{id}/review", reqwest::Method::POST, Some(review), [409, 403, 409]),
        ("/v1/verifications/{id}/claims", reqwest::Method::GET, None, [409, 403, 409]),
        ("/v1/verifications/{id}/frames", reqwest::Method::GET, None, [409, 403, 409]),
        ("/v1/audit/events", reqwest::Method::GET, None, [403, 200, 200]),
        ("/v1/admin/api-keys", reqwest::Method::GET, None, [403, 403, 200]),
        ("/v1/verifications", reqwest::Method::POST, Some(claims_json("by-a-person")), [403, 403, 201]),
    ];
    let mut failures = Vec::new();
    for (path, method, body, expected) in &routes {
        let url = app.url(&path.replace("{id}", &id));
        for ((role, cookie, csrf, ..), want) in sessions.iter().zip(expected) {
            let mut req = app.http.request(method.clone(), &url).header("cookie", cookie).header("x-csrf-token", csrf);
            if let Some(body) = body {
                req = req.json(body);
            }
            let got = req.send().await.unwrap().status().as_u16();
            if got != *want {
                failures.push(format!("{method} {path} as {role}: expected {want}, got {got}"));
            }
        }
        // Without a session: 401. A state change without the CSRF token: 403.
        let anonymous = app.http.request(method.clone(), &url).send().await.unwrap().status().as_u16();
        if anonymous != 401 {
            failures.push(format!("{method} {path} without a session: {anonymous}"));
        }
        if *method != reqwest::Method::GET {
            let (_, cookie, ..) = &sessions[2];
            let mut req = app.http.request(method.clone(), &url).header("cookie", cookie);
            if let Some(body) = body {
                req = req.json(body);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let problem: serde_json::Value = resp.json().await.unwrap_or_default();
            if (status, problem["code"].as_str()) != (403, Some("csrf_token_invalid")) {
                failures.push(format!("{method} {path} without CSRF: {status} {problem}"));
            }
        }
    }
    for page in ["/console", "/console/", "/console/assets/console.js", "/console/assets/verify.js"] {
        let resp = app.http.get(app.url(page)).send().await.unwrap();
        let csp = resp.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned());
        if resp.status() != 200 || !csp.is_some_and(|c| c.contains("default-src 'none'")) {
            failures.push(format!("GET {page}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // An admin manages users: creates one (a set-up link), disables another, whose session
    // ends at once.
    let (_, admin_cookie, admin_csrf, ..) = &sessions[2];
    let as_admin = |method: reqwest::Method, path: &str| {
        app.http.request(method, app.url(path)).header("cookie", admin_cookie).header("x-csrf-token", admin_csrf)
    };
    let made = as_admin(reqwest::Method::POST, "/v1/admin/users")
        .json(&serde_json::json!({"email": "New@Acme.example", "role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let made: serde_json::Value = made.json().await.unwrap();
    assert!(made["setup_link"].as_str().unwrap().contains("/console/#setup="), "{made}");
    let taken = as_admin(reqwest::Method::POST, "/v1/admin/users")
        .json(&serde_json::json!({"email": "new@acme.example", "role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 409);
    let users: serde_json::Value =
        as_admin(reqwest::Method::GET, "/v1/admin/users").send().await.unwrap().json().await.unwrap();
    let auditor =
        users["items"].as_array().unwrap().iter().find(|u| u["email"] == "auditor@acme.example").unwrap().clone();
    let pending = users["items"].as_array().unwrap().iter().find(|u| u["email"] == "new@acme.example").unwrap().clone();
    assert_eq!((auditor["set_up"].as_bool(), pending["set_up"].as_bool()), (Some(true), Some(false)), "{users}");
    let gone = as_admin(reqwest::Method::DELETE, &format!("/v1/admin/users/{}", auditor["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let (_, auditor_cookie, ..) = &sessions[1];
    let refused = app.http.get(app.url("/v1/audit/events")).header("cookie", auditor_cookie).send().await.unwrap();
    assert_eq!(refused.status(), 401, "a disabled user's session ends");
    let disabled = app.get_json(&app.keys["auditor"], "/v1/audit/events?kind=user.disabled").await;
    assert_eq!(disabled["events"].as_array().unwrap().len(), 1, "{disabled}");

    // Sign-out ends the session at once.
    let (_, cookie, csrf, secret, email, _) = sessions.remove(0);
    let resp = app
        .http
        .post(app.url("/console/api/sign-out"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app.http.get(app.url("/v1/review-queue")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    // Five wrong codes in a row lock the account (audited); the right code is then refused too.
    for _ in 0..5 {
        let resp = app
            .http
            .post(app.url("/console/api/sign-in"))
            .json(&serde_json::json!({ "email": email, "password": "a long enough password", "code": "000000" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401);
    }
    let resp = app
        .http
        .post(app.url("/console/api/sign-in"))
        .json(&serde_json::json!({ "email": email, "password": "a long enough password", "code": code_in(&secret, &app, 0) }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "account_locked", "{problem}");
    let events = app.get_json(&app.keys["auditor"], "/v1/audit/events?kind=user.locked").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 1, "{events}");
    // An unknown account fails like a wrong password; set-up links work once.
    let resp = app
        .http
        .post(app.url("/console/api/sign-in"))
        .json(&serde_json::json!({ "email": "nobody@acme.example", "password": "whatever it is", "code": "123456" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let token = new_user(&app, "auditor", "once@acme.example").await;
    set_up(&app, &token, "used once only pw").await;
    let again = app
        .http
        .post(app.url("/console/api/setup/start"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    // A burst of sign-ins from one address is cut at 20 a minute (whatever the accounts).
    let mut statuses = Vec::new();
    for n in 0..25 {
        let body = serde_json::json!({ "email": format!("guess{n}@acme.example"), "password": "not it at all", "code": "123456" });
        statuses
            .push(app.http.post(app.url("/console/api/sign-in")).json(&body).send().await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429) && statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
}
