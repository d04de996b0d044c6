//! The red flags employers name, through the HTTP API: each application is taken (201) and
//! scored at once with the right signal family and band; `risk_above` filters by the score.
//! The clean candidate's approval end to end (low band, risk evidence in the token) is in
//! `service_flow`.

use crate::helpers::{Db, TestApp, claims_json, spawn_app, spawn_app_with};

/// Creates a verification with `change` applied to the default claims (with a phone and an
/// address of its own, so that cases do not share them) and returns its risk.
async fn scored(app: &TestApp, external_id: &str, change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut claims = claims_json(external_id);
    claims["candidate"]["phone"] = format!("+1 650 253 0{n}").into();
    claims["candidate"]["email"] = format!("leo.{n}@example.com").into();
    change(&mut claims["candidate"]);
    let (id, _) = app.created_with(&claims).await;
    let (status, body) = app.get(&app.keys["hr"], &id).await;
    assert_eq!(status, 200, "{body}");
    body["risk"].clone()
}

fn codes(risk: &serde_json::Value) -> Vec<String> {
    risk["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_owned()).collect()
}

fn family_of(risk: &serde_json::Value, code: &str) -> String {
    let signal = risk["signals"].as_array().unwrap().iter().find(|s| s["code"] == code);
    signal.unwrap_or_else(|| panic!("no {code} in {risk}"))["family"].as_str().unwrap().to_owned()
}

async fn red_flags_are_taken_and_scored(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    // A clean, plausible candidate: local phone, ordinary e-mail, a known university at 18.
    let clean = scored(&app, "clean", |c| {
        c["education"] = serde_json::json!([{"institution": "Stanford University", "country": "US", "start_year": 1992, "end_year": 1996}]);
    })
    .await;
    assert_eq!((clean["band"].as_str(), clean["phase"].as_str()), (Some("low"), Some("intake")), "{clean}");
    assert!(codes(&clean).iter().all(|c| !c.starts_with("education") && !c.starts_with("phone")), "{clean}");
    assert!(clean["score"].as_u64().unwrap() < 40, "{clean}");

    // (change, expected code, its family, expected band)
    type Case = (fn(&mut serde_json::Value), &'static str, &'static str, &'static str);
    let cases: Vec<(&str, Case)> = vec![
        ("us-555", (|c| c["phone"] = "555-0100".into(), "phone_invalid", "phone", "medium")),
        ("kp-phone", (|c| c["phone"] = "+850 2 381 5926".into(), "phone_high_risk_country", "phone", "very_high")),
        ("uk-mobile", (|c| c["phone"] = "+44 7911 123456".into(), "phone_not_residence_country", "phone", "low")),
        ("not-a-phone", (|c| c["phone"] = "call me maybe".into(), "phone_unparseable", "phone", "medium")),
        ("mailinator", (|c| c["email"] = "leo@mailinator.com".into(), "email_disposable", "email", "medium")),
        ("malformed-mail", (|c| c["email"] = "leo-at-example".into(), "email_malformed", "email", "medium")),
        (
            "child-student",
            (
                |c| {
                    c["birth_date"] = "1990-03-01".into();
                    c["education"] = serde_json::json!([{"institution": "Kim Il Sung University", "country": "KP", "start_year": 1995, "end_year": 1996}]);
                },
                "education_timeline_impossible",
                "education",
                "medium",
            ),
        ),
        ("kp-national", (|c| c["nationality"] = "KP".into(), "nationality_high_risk", "nationality", "very_high")),
        (
            "nowhere-university",
            (
                |c| c["education"] = serde_json::json!([{"institution": "Universidad Imaginaria de Ningunaparte", "country": "ES", "start_year": 1993, "end_year": 1997}]),
                "education_institution_unknown",
                "education",
                "low",
            ),
        ),
    ];
    for (external_id, (change, code, family, band)) in cases {
        let risk = scored(&app, external_id, change).await;
        assert!(codes(&risk).contains(&code.to_owned()), "{external_id}: {risk}");
        assert_eq!(family_of(&risk, code), family, "{external_id}: {risk}");
        assert_eq!(risk["band"].as_str(), Some(band), "{external_id}: {risk}");
        let text = risk.to_string();
        assert!(
            !text.contains("5926") && !text.contains("mailinator.com") && !text.contains("1990-03-01"),
            "PII in {text}"
        );
    }

    // One phone and one address behind two identities.
    let first = scored(&app, "reuse-1", |c| c["phone"] = "+1 650 253 0001".into()).await;
    assert!(!codes(&first).contains(&"phone_other_identity".to_owned()), "{first}");
    // The same person again is not another identity.
    let again = scored(&app, "reuse-3", |c| c["phone"] = "+1 650 253 0001".into()).await;
    assert!(!codes(&again).contains(&"phone_other_identity".to_owned()), "{again}");
    let first_email = scored(&app, "reuse-mail", |c| c["email"] = "leo.doe@gmail.com".into()).await;
    assert!(!codes(&first_email).contains(&"email_other_identity".to_owned()), "{first_email}");
    let other = scored(&app, "reuse-2", |c| {
        c["given_name"] = "Maria".into();
        c["phone"] = "+1 (650) 253-0001".into();
        c["email"] = "Leo.Doe+jobs@GoogleMail.com".into();
    })
    .await;
    let found = codes(&other);
    assert!(
        found.contains(&"phone_other_identity".to_owned()) && found.contains(&"email_other_identity".to_owned()),
        "{other}"
    );

    let high: serde_json::Value = app.get_json(&app.keys["hr"], "/v1/verifications?risk_above=85").await;
    let mut ids: Vec<&str> =
        high["items"].as_array().unwrap().iter().map(|v| v["external_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["kp-national", "kp-phone"], "{high}");
}

on_both_engines! {
    red_flags_are_taken_and_scored_at_creation => red_flags_are_taken_and_scored,
}

/// A listed person, an innocent namesake, and what is said when lists are missing or old.
async fn sanctions_are_screened_at_creation(db: Db) {
    let Some(app) = spawn_app(db).await else { return };
    let listed = scored(&app, "listed", |c| {
        c["given_name"] = "Yong Chol".into();
        c["family_name"] = "Kim".into();
        c["birth_date"] = "1962-02-18".into();
        c["nationality"] = "KP".into();
    })
    .await;
    let hit = listed["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "sanctions_match")
        .unwrap_or_else(|| panic!("{listed}"));
    let e = &hit["evidence"];
    assert_eq!(
        (e["list"].as_str(), e["entry_id"].as_str(), e["programs"][0].as_str()),
        (Some("ofac-sdn"), Some("17614"), Some("DPRK2")),
        "{hit}"
    );
    assert!(e["agreed"].as_array().unwrap().contains(&"birth_date".into()), "{hit}");
    assert_eq!(
        (listed["band"].as_str(), listed["review"].as_bool(), listed["sanctions_hit"].as_bool()),
        (Some("very_high"), Some(true), Some(true))
    );
    assert!(listed["screened_at"].is_string(), "{listed}");
    let names: Vec<&str> = listed["screened"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ofac-sdn", "un-consolidated"]);
    assert!(!listed.to_string().to_uppercase().contains("YONG"), "no name in the risk: {listed}");

    let namesake = scored(&app, "namesake", |c| {
        c["given_name"] = "Yong Chol".into();
        c["family_name"] = "Kim".into();
        c["birth_date"] = "1991-06-30".into();
    })
    .await;
    assert!(!codes(&namesake).contains(&"sanctions_match".to_owned()), "{namesake}");
    assert_eq!(namesake["band"].as_str(), Some("low"), "{namesake}");

    // No list loaded: nobody checked, so a human looks. An old list says so.
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().to_path_buf();
    let Some(unscreened) = spawn_app_with(db, move |s| s.sanctions.dir = Some(path)).await else { return };
    let risk = scored(&unscreened, "unscreened", |_| {}).await;
    assert!(codes(&risk).contains(&"sanctions_not_screened".to_owned()), "{risk}");
    assert_eq!(risk["band"].as_str(), Some("very_high"), "{risk}");
    let Some(old) = spawn_app_with(db, |s| s.sanctions.max_age_days = 31).await else { return };
    let risk = scored(&old, "old-lists", |_| {}).await;
    assert!(codes(&risk).contains(&"sanctions_list_stale".to_owned()), "{risk}");
}

on_both_engines! {
    sanctions_are_screened_when_created => sanctions_are_screened_at_creation,
}

/// Configured sources (a path and a loopback URL) are imported at start and swapped in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_sources_are_fetched_and_loaded() {
    use actix_web::{App, HttpServer, web};
    let Some(data) = crate::helpers::shared_data("sanctions") else { return };
    let un = std::fs::read(data.join("un_consolidated_2026-02.xml")).unwrap();
    let server = HttpServer::new(move || {
        let body = un.clone();
        App::new().route(
            "/consolidated.xml",
            web::get().to(move || {
                let body = body.clone();
                async move { actix_web::HttpResponse::Ok().content_type("application/xml").body(body) }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://127.0.0.1:{}/consolidated.xml", server.addrs()[0].port());
    tokio::spawn(server.run());
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_path_buf();
    let ofac = data.join("ofac_sdn_2021-07").to_str().unwrap().to_owned();
    let Some(app) = spawn_app_with(Db::Sqlite, move |s| {
        s.sanctions.dir = Some(dir);
        s.sanctions.sources = vec![
            idgate::sanctions_refresh::Source {
                format: idgate::sanctions::Format::UnXml,
                location: url,
                published: None,
            },
            idgate::sanctions_refresh::Source {
                format: idgate::sanctions::Format::OfacSdnCsv,
                location: ofac,
                published: Some("2021-07-01".into()),
            },
        ];
    })
    .await
    else {
        return;
    };
    let mut status = serde_json::Value::Null;
    for _ in 0..300 {
        let body: serde_json::Value = app.http.get(app.url("/readyz")).send().await.unwrap().json().await.unwrap();
        status = body["sanctions"].clone();
        if status["lists"].as_array().is_some_and(|l| l.len() == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let names: Vec<&str> = status["lists"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ofac-sdn", "un-consolidated"], "{status}");
    let risk = scored(&app, "after-refresh", |c| {
        c["given_name"] = "Yong Chol".into();
        c["family_name"] = "Kim".into();
        c["birth_date"] = "1962-02-18".into();
    })
    .await;
    assert!(codes(&risk).contains(&"sanctions_match".to_owned()), "{risk}");
}
