//! The document stage in the service: its results on the HR API (without the document
//! number), claims that disagree with the document, and one document seen again: under the
//! same identity (a new application, another employer) it is information, under another
//! identity it is reuse, within the organisation.

use crate::fixtures::fixtures;
use crate::helpers::{Db, claims_json, spawn_app};
use crate::service_flow::{run_candidate_as, run_candidate_with};

on_both_engines! {
    document_results_disagreements_and_reuse => document_results_disagreements_and_reuse,
}

async fn document_results_disagreements_and_reuse(db: Db) {
    let Some(f) = fixtures() else { return };
    let Some(app) = spawn_app(db).await else { return };

    // The genuine candidate: the card's zone agrees with every claim.
    let genuine = run_candidate_with(&app, &claims_json("cand-doc"), &f.document, &f.genuine_selfie).await;
    let approved = app.wait_final(&genuine).await;
    assert_eq!(approved["decision"], "approve", "{approved}");
    let doc = &approved["results"]["document"];
    assert_eq!(
        (doc["outcome"].as_str(), doc["source"].as_str(), doc["format"].as_str()),
        (Some("done"), Some("mrz"), Some("TD1"))
    );
    assert_eq!(doc["check_digits_valid"], true);
    assert_eq!(doc["issuing_state"], "USA");
    assert_eq!(doc["expiry_date"], "2035-01-01");
    assert!(doc["name"]["similarity"].as_f64().unwrap() > 0.99, "{doc}");
    let serious: Vec<&serde_json::Value> =
        doc["findings"].as_array().unwrap().iter().filter(|f| f["severity"] != "info").collect();
    assert!(serious.is_empty(), "{doc}");
    assert!(!approved.to_string().contains("X00000001"), "the document number must not reach the API");
    assert!(doc.get("reuse").is_none(), "the first use of a document: {doc}");

    // The same person applies again, for another job (a new external id): approved; the earlier
    // verification is information, with its count.
    let again = run_candidate_with(&app, &claims_json("cand-doc-second-job"), &f.document, &f.genuine_selfie).await;
    let again = app.wait_final(&again).await;
    assert_eq!(again["decision"], "approve", "{again}");
    let doc = &again["results"]["document"];
    assert_eq!(
        doc["reuse"],
        serde_json::json!({"scope": "organisation", "same_identity": 1, "similar_identity": 0, "other_identity": 0, "other_identity_contradicted": 0})
    );
    assert!(codes(doc).contains(&"document_seen_before"), "{doc}");
    assert!(!codes(doc).contains(&"document_reused"), "{doc}");

    // The same person at another employer on the deployment: approved, and that employer learns
    // nothing of the first one's applicants (the other organisation's uses are not read).
    let globex = app.keys["other"].clone();
    let elsewhere =
        run_candidate_as(&app, &globex, &claims_json("globex-application-7"), &f.document, &f.genuine_selfie).await;
    let elsewhere = app.wait_final_as(&globex, &elsewhere).await;
    assert_eq!(elsewhere["decision"], "approve", "{elsewhere}");
    let doc = &elsewhere["results"]["document"];
    assert!(doc.get("reuse").is_none(), "{doc}");
    assert!(codes(doc).iter().all(|c| !c.starts_with("document_")), "{doc}");

    // Claims that disagree with the document: another name and birth date.
    let mut claims = claims_json("cand-liar");
    claims["candidate"]["family_name"] = "Smith".into();
    claims["candidate"]["given_name"] = "John".into();
    claims["candidate"]["birth_date"] = "1980-01-01".into();
    let liar = run_candidate_with(&app, &claims, &f.document, &f.genuine_selfie).await;
    let rejected = app.wait_final(&liar).await;
    assert_eq!(rejected["decision"], "reject", "{rejected}");
    let reasons: Vec<&str> = rejected["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    for reason in ["name_mismatch", "birth_date_mismatch", "document_reused"] {
        assert!(reasons.contains(&reason), "{reason} missing from {reasons:?}");
    }
    // Another identity with the same document, within the organisation: its two earlier uses
    // (the other employer's is not weighed: one tenant cannot burn a document for another).
    assert_eq!(rejected["results"]["document"]["reuse"]["other_identity"], 2, "{rejected}");

    // A third candidate with a nationality the document does not give: review, with the reason.
    let mut claims = claims_json("cand-nationality");
    claims["candidate"]["nationality"] = "CA".into();
    let other = run_candidate_with(&app, &claims, &f.document, &f.genuine_selfie).await;
    let reviewed = app.wait_final(&other).await;
    assert_eq!(reviewed["decision"], "review", "{reviewed}");
    let reasons: Vec<&str> = reviewed["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons.contains(&"nationality_mismatch"), "{reasons:?}");
    // The liar's earlier use, which the document contradicted, makes this candidate no impostor.
    assert!(reasons.contains(&"document_seen_with_contradicted_claims") && !reasons.contains(&"document_reused"));
    let reuse = &reviewed["results"]["document"]["reuse"];
    assert_eq!((reuse["same_identity"].as_u64(), reuse["other_identity_contradicted"].as_u64()), (Some(2), Some(1)));

    // A licence back whose barcode names someone else than the front's zone: rejected.
    let (id, token) = app.created_with(&claims_json("cand-two-sides")).await;
    let (_, body) = app.consent(&token).await;
    let mut token = body["token"].as_str().unwrap().to_owned();
    for (path, bytes) in [
        ("/v1/candidate/document/front", f.document.clone()),
        ("/v1/candidate/document/back", crate::document_cli::licence_back()),
        ("/v1/candidate/selfie", f.genuine_selfie.clone()),
    ] {
        let (status, body) = app.step(reqwest::Method::PUT, path, &token, Some(bytes)).await;
        assert_eq!(status, 200, "{path}: {body}");
        token = body["token"].as_str().unwrap().to_owned();
    }
    let (status, _) = app.step(reqwest::Method::POST, "/v1/candidate/submit", &token, None).await;
    assert_eq!(status, 200);
    let two_sides = app.wait_final(&id).await;
    assert_eq!(two_sides["decision"], "reject", "{two_sides}");
    assert!(two_sides["reasons"].as_array().unwrap().contains(&"mrz_barcode_disagree".into()), "{two_sides}");

    // The trail records the document stage with its findings, and no document number.
    let trail = app.get_json(&app.keys["auditor"], &format!("/v1/audit/verifications/{liar}")).await;
    let stage: serde_json::Value = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<serde_json::Value>(e["entry"].as_str().unwrap()).unwrap())
        .find(|e| e["kind"] == "stage.completed" && e["data"]["stage"] == "document")
        .unwrap_or_else(|| panic!("{trail}"));
    let codes: Vec<&str> =
        stage["data"]["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"name_mismatch") && codes.contains(&"document_reused"), "{stage}");
    assert_eq!(stage["data"]["reuse"]["other_identity"], 2, "{stage}");
    assert!(!trail.to_string().contains("X00000001"));
}

/// The finding codes of a document result.
fn codes(doc: &serde_json::Value) -> Vec<&str> {
    doc["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}
