//! Evidence packs: exported by an auditor for one verification or a date range, checked
//! offline by `idgate audit verify --pack`, which fails on one changed byte.

use crate::helpers::{Db, idgate, spawn_app};

async fn an_evidence_pack_verifies_offline(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let (id, token) = app.created("pack-1").await;
    let _ = app.consent(&token).await;
    let auditor = &app.keys["auditor"];
    let fetch = |query: String| {
        let (http, url, key) = (app.http.clone(), app.url(&format!("/v1/audit/evidence?{query}")), auditor.clone());
        async move { http.get(url).bearer_auth(key).send().await.unwrap() }
    };
    let resp = fetch(format!("verification={id}")).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let pack: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(pack["format"], "idgate-evidence-pack/v1");
    assert!(pack["readme"].as_str().unwrap().contains("idgate audit verify --pack"));
    assert_eq!(pack["events"].as_array().unwrap().len(), 2, "created and consented: {pack}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.json");
    std::fs::write(&file, pack.to_string()).unwrap();
    let out = idgate(&["audit", "verify", "--pack", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("evidence pack ok: 2 entries"));

    // One changed byte of an entry, or a forged head, is found.
    let mut changed = pack.clone();
    let entry = changed["events"][1]["entry"].as_str().unwrap().replacen("\"v\":1", "\"v\":2", 1);
    changed["events"][1]["entry"] = entry.into();
    std::fs::write(&file, changed.to_string()).unwrap();
    let out = idgate(&["audit", "verify", "--pack", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("entry_altered") && stderr.lines().count() == 1, "{stderr}");
    let mut forged = pack.clone();
    forged["tree_head"]["signed_at_ms"] = (pack["tree_head"]["signed_at_ms"].as_i64().unwrap() + 1).into();
    std::fs::write(&file, forged.to_string()).unwrap();
    let out = idgate(&["audit", "verify", "--pack", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad_head_signature"), "{out:?}");
    std::fs::write(&file, "{\"not\": \"a pack\"}").unwrap();
    let out = idgate(&["audit", "verify", "--pack", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    // A date range; bad queries and other callers.
    let resp = fetch("from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z".into()).await;
    let range: serde_json::Value = resp.json().await.unwrap();
    assert!(range["events"].as_array().unwrap().len() >= 2, "{range}");
    // An open range, and one that ends before it starts (empty); a time that is not RFC 3339.
    let open: serde_json::Value = fetch("from=2000-01-01T00:00:00Z".into()).await.json().await.unwrap();
    assert_eq!(open["events"].as_array().unwrap().len(), range["events"].as_array().unwrap().len(), "{open}");
    let empty: serde_json::Value =
        fetch("from=2100-01-01T00:00:00Z&to=2000-01-01T00:00:00Z".into()).await.json().await.unwrap();
    assert_eq!(empty["events"].as_array().unwrap().len(), 0, "{empty}");
    assert_eq!(fetch("from=yesterday".into()).await.status(), 400);
    let hr = app.http.get(app.url(&format!("/v1/audit/evidence?verification={id}"))).bearer_auth(&app.keys["hr"]);
    assert_eq!(hr.send().await.unwrap().status(), 403);
}

on_both_engines! {
    evidence_pack => an_evidence_pack_verifies_offline,
}
