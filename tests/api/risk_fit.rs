//! `idgate risk fit` on a database with reviewers' real decisions (made through the review
//! API): cases created with and without a North Korean phone number, rejected or approved
//! by a reviewer; the command proposes weights from them and changes nothing.

use sqlx::Connection as _;

use crate::helpers::{Db, TestApp, claims_json, idgate, spawn_app};

async fn decided(app: &TestApp, n: usize, risky: bool, reject: bool) {
    let mut raw = sqlx::AnyConnection::connect(&app.ctx.settings.storage.database_url()).await.unwrap();
    let key = &app.keys["reviewer"];
    for i in 0..n {
        let mut claims = claims_json(&format!("fit-{risky}-{reject}-{i}"));
        // A name of its own (letters only) for every case.
        let n = (u16::from(risky) * 2 + u16::from(reject)) * 100 + i as u16;
        let letters: String = n.to_string().bytes().map(|d| char::from(b'a' + (d - b'0'))).collect();
        claims["candidate"]["given_name"] = format!("Ana{letters}").into();
        // Every case its own phone and address (no reuse signals between them).
        let group = u16::from(risky) * 2 + u16::from(reject);
        claims["candidate"]["email"] = format!("fit{group}-{i}@example.com").into();
        claims["candidate"]["phone"] = if risky {
            format!("+850 2 381 {:04}", 5000 + group * 100 + i as u16)
        } else {
            format!("+1 212 736 {:04}", 1000 + group * 100 + i as u16)
        }
        .into();
        let (id, _) = app.created_with(&claims).await;
        // As if the pipeline had sent it to review (its stages' evidence kept, with no checks).
        let sql =
            "UPDATE verifications SET status = 'review', evidence = '{\"checks\":[],\"document\":null}' WHERE id = ?";
        sqlx::query(&idgate::storage::placeholders(app.ctx.store.backend(), sql))
            .bind(&id)
            .execute(&mut raw)
            .await
            .unwrap();
        let claimed =
            app.http.post(app.url(&format!("/v1/verifications/{id}/claim"))).bearer_auth(key).send().await.unwrap();
        assert_eq!(claimed.status(), 200);
        let (decision, reason) = if reject { ("reject", "other_fraud") } else { ("approve", "identity_confirmed") };
        let body = serde_json::json!({ "decision": decision, "reason": reason, "note": "fit test" });
        let resp = app
            .http
            .post(app.url(&format!("/v1/verifications/{id}/review")))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
}

async fn weights_are_proposed_from_reviewers_outcomes(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let data_dir = app.ctx.settings.storage.data_dir.to_str().unwrap().to_owned();
    let db_url = app.ctx.settings.storage.database_url();
    let fit = |extra: &[&str]| {
        let mut args = vec!["--data-dir", &data_dir, "--database-url", &db_url, "risk", "fit", "--org", "acme"];
        args.extend_from_slice(extra);
        idgate(&args)
    };
    decided(&app, 4, true, true).await;
    let out = fit(&[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("too few reviewed cases: 4"), "{out:?}");

    decided(&app, 11, true, true).await;
    decided(&app, 5, true, false).await;
    decided(&app, 3, false, true).await;
    decided(&app, 17, false, false).await;
    let out = fit(&["--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["cases"].as_u64(), report["rejected"].as_u64()), (Some(40), Some(18)), "{report}");
    // The KP number always brings "not the residence's country" with it: one group.
    let phone = report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "phone_high_risk_country + phone_not_residence_country")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!((phone["cases"].as_u64(), phone["rejected"].as_u64()), (Some(20), Some(15)), "{phone}");
    assert_eq!(phone["configured"], 92, "the noisy-OR of 90 and 15");
    let (low, proposed, high) =
        (phone["low"].as_u64().unwrap(), phone["proposed"].as_u64().unwrap(), phone["high"].as_u64().unwrap());
    // 15 of 20 rejected against 3 of 20 without it: (0.75 − 0.15) / 0.85 ≈ 0.7, shrunk by α.
    assert!((45..=80).contains(&proposed) && low < proposed && proposed < high, "{phone}");
    let text = fit(&[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    eprintln!("{stdout}");
    assert!(
        stdout.contains("[risk.weights]") && stdout.contains("phone_high_risk_country + phone_not_residence_country"),
        "{stdout}"
    );
    // Nothing was applied.
    assert_eq!(app.ctx.settings.risk.weights.of("phone_high_risk_country"), 90);
    let out = fit(&["--alpha", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

on_both_engines! {
    risk_fit => weights_are_proposed_from_reviewers_outcomes,
}
