//! 1:N: the same person's face under two names. Two different ID cards whose portraits are
//! different photos of one person (deepface's Katy Perry, img26 and img42) and different
//! selfie clips (img27–28, img43–44), under two claimed identities: the second is found
//! with its similarity and the first verification's id, and goes to review. A second node
//! on the same database follows the index within seconds, a removal reaches it too, and a
//! node that starts later rebuilds the index from the database.

use std::time::Duration;

use crate::fixtures::{fixtures, id_card, slideshow};
use crate::helpers::{Db, claims_json, shared_data, spawn_app};
use crate::service_flow::run_candidate_with;

fn identity(external_id: &str, given: &str, family: &str, birth: &str, n: u32) -> serde_json::Value {
    let mut claims = claims_json(external_id);
    let c = &mut claims["candidate"];
    (c["given_name"], c["family_name"], c["birth_date"]) = (given.into(), family.into(), birth.into());
    (c["phone"], c["email"]) = (format!("+1 650 253 0{}", 150 + n).into(), format!("person.{n}@example.com").into());
    claims
}

fn face_signal(body: &serde_json::Value) -> Option<serde_json::Value> {
    body["risk"]["signals"].as_array().unwrap().iter().find(|s| s["code"] == "face_other_identity").cloned()
}

/// Polls `check` for up to 20 s (another node follows every `face_search.sync_millis`).
async fn within_seconds(what: &str, check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 20 s");
}

async fn the_same_face_under_two_names_is_found(db: Db) {
    let Some(images) = shared_data("faces/deepface/images") else { return };
    let Some(f) = fixtures() else { return };
    let Some(app) = spawn_app(db).await else { return };
    // A second node: its own index, following the same database.
    let node_b = idgate::context::Context::with_engine(
        (*app.ctx.settings).clone(),
        app.ctx.clock.clone(),
        crate::helpers::engine(),
    )
    .await
    .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(idgate::worker::run(node_b.clone(), 0, stopped));

    let dir = tempfile::tempdir().unwrap();
    let img = |n: u32| images.join(format!("img{n}.jpg"));
    let card_a = id_card(&img(26));
    let selfie_a = slideshow(&[&img(27), &img(28)], &dir.path().join("a.webm"));
    let card_b = id_card(&img(42));
    let selfie_b = slideshow(&[&img(43), &img(44)], &dir.path().join("b.webm"));

    let first =
        run_candidate_with(&app, &identity("face-a", "Katheryn", "Hudson", "1984-10-25", 1), &card_a, &selfie_a).await;
    let first_done = app.wait_final(&first).await;
    assert!(face_signal(&first_done).is_none(), "nobody to find yet: {first_done}");
    within_seconds("node B indexing the first case", || node_b.faces.len() == 2).await;

    // An unrelated person (the DiCaprio fixture) is not found.
    let other = run_candidate_with(
        &app,
        &identity("face-other", "Leo", "Other", "1974-11-11", 2),
        &f.document,
        &f.genuine_selfie,
    )
    .await;
    let other_done = app.wait_final(&other).await;
    assert!(face_signal(&other_done).is_none(), "{other_done}");

    let second =
        run_candidate_with(&app, &identity("face-b", "Kate", "Smith", "1990-02-03", 3), &card_b, &selfie_b).await;
    let done = app.wait_final(&second).await;
    let signal = face_signal(&done).unwrap_or_else(|| panic!("not found: {done}"));
    eprintln!("1:N: {signal}");
    let evidence = &signal["evidence"];
    assert_eq!(evidence["identities"], 1, "{evidence}");
    let found = &evidence["matches"][0];
    assert_eq!(found["verification"], first.as_str(), "{evidence}");
    let threshold = evidence["threshold"]["threshold"].as_f64().unwrap();
    assert!(found["similarity"].as_f64().unwrap() >= threshold, "{evidence}");
    assert_eq!(evidence["threshold"]["gallery"], 4, "two cases of two templates before this one");
    assert!(threshold > f64::from(idgate::config::DEFAULT_MATCH_THRESHOLD), "FMR = FPIR / N: {evidence}");
    assert_eq!(signal["family"], "face");
    // The two cards share the fixture's document number: that link is found too.
    let codes: Vec<&str> =
        done["risk"]["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"document_other_identity"), "{codes:?}");
    assert_eq!(done["risk"]["band"], "very_high", "{}", done["risk"]);
    assert_ne!(done["status"], "approved", "{done}");
    // No template or embedding is in the API's answer.
    assert!(!done.to_string().contains("embedding") && !done.to_string().contains("template\":["));

    // Erasure: the first case's templates leave the database and both nodes' indexes.
    within_seconds("node B indexing every case", || node_b.faces.len() == 6).await;
    let removed = app.ctx.store.remove_face_templates(&first, app.ctx.clock.now()).await.unwrap();
    assert_eq!(removed, 2);
    within_seconds("the removal reaching node B", || node_b.faces.len() == 4).await;
    within_seconds("the removal reaching node A", || app.ctx.faces.len() == 4).await;
    // A node that starts now rebuilds the index from the database, removals included.
    let node_c = idgate::context::Context::with_engine(
        (*app.ctx.settings).clone(),
        app.ctx.clock.clone(),
        crate::helpers::engine(),
    )
    .await
    .unwrap();
    assert_eq!(node_c.faces.len(), 4);
    let _ = stop.send(true);
}

on_both_engines! {
    same_face_two_names => the_same_face_under_two_names_is_found,
}
