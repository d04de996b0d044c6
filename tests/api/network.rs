//! Laptop farms through the HTTP API: the candidate's address (behind a trusted proxy, as
//! in production), the page's device report, and the signals the HR system's `GET` shows
//! before submission. Addresses are written into `X-Forwarded-For` by the test client,
//! which the test's settings trust (127.0.0.1); nothing leaves loopback.

use crate::helpers::{Db, TestApp, claims_json, shared_data, spawn_app, spawn_app_with};

/// A residential address (Comcast, US) of its own /24 for candidate `n`.
fn home_us(n: u32) -> String {
    format!("73.15.{n}.9")
}

/// The farm's laptop on a home line; a hosting address (DigitalOcean) and North Korea's.
const HOME_US: &str = "73.15.200.9";
const HOSTING: &str = "24.144.80.17";
const NORTH_KOREA: &str = "175.45.176.10";

/// A laptop's report; `n` makes the machine its own (its screen width).
fn laptop(n: u32, renderer: &str, timezone: &str, languages: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "timezone": timezone, "utc_offset_minutes": -300, "languages": languages,
        "screen": {"width": 1920 - n, "height": 1080, "colour_depth": 24}, "hardware_concurrency": 8, "device_memory_gb": 8,
        "platform": "Win32", "touch_points": 0, "webdriver": false, "media_devices": {"cameras": 1, "microphones": 1},
        "webgl": {"vendor": "Google Inc. (Intel)", "renderer": renderer}
    })
}

const INTEL: &str = "ANGLE (Intel, Intel(R) UHD Graphics 620 Direct3D11 vs_5_0 ps_5_0, D3D11)";

async fn trusting_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, |s| s.server.trusted_proxies = idgate::network::TrustedProxies::parse(&["127.0.0.1"]).unwrap())
        .await
}

/// A candidate of identity `n` (its own name, birth date, phone and e-mail) who consents
/// from `ip` and sends `device`; returns (id, the HR system's view of the risk).
async fn candidate(app: &TestApp, n: u32, ip: &str, device: Option<&serde_json::Value>) -> (String, serde_json::Value) {
    candidate_of(app, "hr", n, ip, device).await
}

/// As `candidate`, for the organisation of key `key`.
async fn candidate_of(
    app: &TestApp,
    key: &str,
    n: u32,
    ip: &str,
    device: Option<&serde_json::Value>,
) -> (String, serde_json::Value) {
    let mut claims = claims_json(&format!("farm-{n}"));
    let c = &mut claims["candidate"];
    c["given_name"] = ["Ava", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gus", "Hana"][n as usize % 8].into();
    let letter = |i: u32| char::from(b'a' + u8::try_from(i % 26).unwrap());
    c["family_name"] = format!("Sample{}{}", letter(n / 26), letter(n)).into();
    c["birth_date"] = format!("19{}-0{}-1{}", 80 + n % 15, 1 + n % 9, n % 10).into();
    c["phone"] = format!("+1 650 253 0{}", 100 + n).into();
    c["email"] = format!("candidate.{n}@example.com").into();
    let (id, token) = app.created_as(&app.keys[key], &claims).await;
    let consent = app
        .http
        .post(app.url("/v1/candidate/consent"))
        .bearer_auth(&token)
        .header("X-Forwarded-For", ip)
        .header("Accept-Language", "en-US,en;q=0.9")
        .json(&serde_json::json!({"consent_version": "2026-12", "accepted": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 200);
    let next: serde_json::Value = consent.json().await.unwrap();
    if let Some(device) = device {
        let sent = app
            .http
            .post(app.url("/v1/candidate/device"))
            .bearer_auth(next["token"].as_str().unwrap())
            .header("X-Forwarded-For", ip)
            .json(device)
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 202, "{}", sent.text().await.unwrap());
    }
    let (status, body) = app.get(&app.keys[key], &id).await;
    assert_eq!(status, 200, "{body}");
    (id, body["risk"].clone())
}

fn signal<'a>(risk: &'a serde_json::Value, code: &str) -> Option<&'a serde_json::Value> {
    risk["signals"].as_array().unwrap().iter().find(|s| s["code"] == code)
}

fn codes(risk: &serde_json::Value) -> Vec<&str> {
    risk["signals"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect()
}

async fn a_laptop_farm_is_obvious(db: Db) {
    let Some(app) = trusting_app(db).await else { return };
    let device = laptop(0, INTEL, "America/New_York", &["en-US", "en"]);
    let mut ids = Vec::new();
    let mut last = serde_json::Value::Null;
    for n in 0..6 {
        let (id, risk) = candidate(&app, n, HOME_US, Some(&device)).await;
        ids.push(id);
        last = risk;
    }
    // The sixth identity on the same laptop and network: five others, named by id.
    let farm = signal(&last, "device_other_identity").unwrap_or_else(|| panic!("{last}"));
    assert_eq!(farm["evidence"]["identities"], 5, "{farm}");
    let named: Vec<&str> = farm["evidence"]["newest"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(named.len(), 5);
    assert!(named.iter().all(|id| ids[..5].contains(&id.to_string())), "{farm}");
    assert_eq!(farm["family"], "device");
    let network = signal(&last, "network_many_identities").unwrap_or_else(|| panic!("{last}"));
    assert_eq!(network["evidence"]["identities"], 5);
    assert_eq!(last["band"], "very_high", "{last}");
    assert!(last["score"].as_u64().unwrap() > 85, "{last}");
    // The first had nobody to be compared with: a clean candidate from a home address.
    let (_, first) = app.get(&app.keys["hr"], &ids[0]).await;
    assert_eq!(first["risk"]["band"], "low", "{first}");
    // Another organisation's candidate on the same laptop is not linked (the default).
    let (_, other) = candidate_of(&app, "other", 7, HOME_US, Some(&device)).await;
    assert!(
        signal(&other, "device_other_identity").is_none() && signal(&other, "network_many_identities").is_none(),
        "{other}"
    );
}

async fn addresses_and_places_are_read(db: Db) {
    let Some(app) = trusting_app(db).await else { return };
    let home = |n| laptop(n, INTEL, "America/New_York", &["en-US", "en"]);

    // A clean candidate from a residential address with a consistent device.
    let (_, clean) = candidate(&app, 20, &home_us(20), Some(&home(20))).await;
    assert_eq!(clean["band"], "low", "{clean}");
    assert!(
        codes(&clean).iter().all(|c| !c.starts_with("ip_") && !c.starts_with("timezone") && !c.starts_with("device")),
        "{clean}"
    );
    let versions: Vec<&str> = clean["lists"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    for table in ["asn_ipv4", "asn_ipv6", "ip_country", "tz_zones"] {
        assert!(versions.contains(&table), "{versions:?}");
    }

    // North Korea's address block: enough alone.
    let (_, kp) = candidate(&app, 21, NORTH_KOREA, Some(&home(21))).await;
    let s = signal(&kp, "ip_north_korea").unwrap_or_else(|| panic!("{kp}"));
    assert_eq!((s["evidence"]["asn"].as_u64(), s["family"].as_str()), (Some(131_279), Some("network")), "{s}");
    assert_eq!(kp["band"], "very_high", "{kp}");

    // A VPN exit in a datacenter, and the browser's clock is in Shanghai.
    let leaky = laptop(22, INTEL, "Asia/Shanghai", &["zh-CN", "en-US"]);
    let (_, vpn) = candidate(&app, 22, HOSTING, Some(&leaky)).await;
    let s = signal(&vpn, "ip_hosting").unwrap_or_else(|| panic!("{vpn}"));
    assert_eq!(
        (s["evidence"]["asn"].as_u64(), s["evidence"]["why"].as_str()),
        (Some(14061), Some("hosting_asn_list")),
        "{s}"
    );
    let tz = signal(&vpn, "timezone_not_residence").unwrap_or_else(|| panic!("{vpn}"));
    assert_eq!(
        (tz["evidence"]["timezone_country"].as_str(), tz["evidence"]["residence"].as_str()),
        (Some("CN"), Some("US"))
    );
    assert_eq!(vpn["band"], "very_high", "{vpn}");

    // A home address, but the browser lives in Pyongyang and speaks ko-KP.
    let pyongyang = laptop(23, INTEL, "Asia/Pyongyang", &["ko-KP", "ko"]);
    let (_, zone) = candidate(&app, 23, &home_us(23), Some(&pyongyang)).await;
    assert!(
        signal(&zone, "timezone_high_risk").is_some() && signal(&zone, "language_high_risk_region").is_some(),
        "{zone}"
    );
    assert_eq!(signal(&zone, "timezone_not_residence").unwrap()["evidence"]["timezone_country"], "KP");
    assert_eq!(zone["band"], "very_high", "{zone}");

    // A remote desktop: no GPU driver, a 16-bit default display.
    let mut remote = laptop(24, "Microsoft Basic Render Driver", "America/New_York", &["en-US"]);
    remote["screen"] = serde_json::json!({"width": 1024, "height": 768, "colour_depth": 16});
    let (_, rdp) = candidate(&app, 24, &home_us(24), Some(&remote)).await;
    let s = signal(&rdp, "device_virtual_renderer").unwrap_or_else(|| panic!("{rdp}"));
    assert_eq!(s["evidence"]["renderer"], "Microsoft Basic Render Driver");
    let traits = &signal(&rdp, "device_remote_session_traits").unwrap()["evidence"]["traits"];
    assert_eq!(traits, &serde_json::json!(["colour_depth_below_24", "default_virtual_display_size"]));
    assert_eq!(rdp["band"], "very_high", "{rdp}");

    // IPv6 from a home network is read like IPv4; a private address is said, not scored.
    let (_, v6) = candidate(&app, 25, "2601:1c0:4f00::17", Some(&home(25))).await;
    assert_eq!(v6["band"], "low", "{v6}");
    assert!(signal(&v6, "ip_country_not_residence").is_none(), "{v6}");
    let (_, private) = candidate(&app, 26, "10.20.30.40", Some(&home(26))).await;
    let s = signal(&private, "ip_not_public").unwrap_or_else(|| panic!("{private}"));
    assert_eq!((s["weight"].as_u64(), s["evidence"]["why"].as_str()), (Some(0), Some("private")));
}

on_both_engines! {
    laptop_farm => a_laptop_farm_is_obvious,
    network_scenarios => addresses_and_places_are_read,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_header_from_an_untrusted_peer_is_ignored() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let (_, risk) = candidate(&app, 40, NORTH_KOREA, None).await;
    assert!(signal(&risk, "ip_north_korea").is_none(), "{risk}");
    // The peer itself (loopback) is what was recorded.
    assert_eq!(signal(&risk, "ip_not_public").unwrap()["evidence"]["why"], "loopback", "{risk}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_device_reports_get_a_clear_answer_and_a_burst_is_limited() {
    let Some(app) = spawn_app(Db::Sqlite).await else { return };
    let (id, token) = app.created("device-bad-input").await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        let req =
            app.http.post(app.url("/v1/candidate/device")).bearer_auth(&token).header("Content-Type", content_type);
        async move {
            let resp = req.body(body).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    let json = "application/json";
    for (body, content_type, status, code) in [
        (vec![b' '; 9 * 1024], json, 413, "upload_too_large"),
        (b"{\"timezone\": ".to_vec(), json, 400, "malformed_body"),
        (br#"{"canvas_hash": "abc"}"#.to_vec(), json, 400, "malformed_body"),
        (br#"{"screen": {"width": -1}}"#.to_vec(), json, 400, "malformed_body"),
        (br#"{"utc_offset_minutes": 5000}"#.to_vec(), json, 422, "out_of_range"),
        (br#"{"languages": ["en\u0000"]}"#.to_vec(), json, 422, "language_tags"),
        (br#"{"timezone": "UTC"}"#.to_vec(), "text/plain", 415, "unsupported_media_type"),
    ] {
        let (got, problem) = post(body, content_type).await;
        assert_eq!((got, problem["code"].as_str()), (status, Some(code)), "{problem}");
    }
    let (got, problem) = post(br#"{"languages": ["en"]}"#.to_vec(), json).await;
    assert_eq!(problem["field"], serde_json::Value::Null);
    assert_eq!(got, 202, "{problem}");
    // 10,000 reports in a burst: the first few are taken, the rest get 429 with Retry-After.
    let limit = app.ctx.settings.server.device_reports_per_minute as usize;
    let body = serde_json::to_vec(&laptop(1, INTEL, "Europe/Prague", &["cs-CZ"])).unwrap();
    use futures_util::StreamExt;
    let statuses: Vec<u16> = futures_util::stream::iter(0..10_000)
        .map(|_| {
            let req = app.http.post(app.url("/v1/candidate/device")).bearer_auth(&token).header("Content-Type", json);
            let body = body.clone();
            async move { req.body(body).send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((accepted, limited), (limit - 1, 10_000 - (limit - 1)), "nothing else: {:?}", &statuses[..20]);
    // Nothing lost: every accepted report counted, the latest kept; the token still works.
    let (sealed, reports) = app.ctx.store.device_report(&id).await.unwrap().unwrap();
    assert_eq!(reports as usize, limit);
    let kept = idgate::network::facts::open_device(&app.ctx, &id, &sealed).unwrap();
    assert_eq!(kept.timezone.as_deref(), Some("Europe/Prague"));
    // The burst also spent the link's request allowance (server.rate_limits): it refills at
    // 5 a second.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, _) = app.consent(&token).await;
    assert_eq!(status, 200, "a device report does not spend the token");
}

/// The hosting classifier (an ASN list and registered-name words, `network::hosting`)
/// against a third-party list of 742 hosting, VPN and abuse-prone ASNs
/// (../shared/data/ip/bad_asn_list.csv), and the North Korean block in the shipped tables.
#[test]
fn hosting_networks_are_recognised_by_asn() {
    let Some(bad) = shared_data("ip/bad_asn_list.csv") else { return };
    let settings = idgate::config::Settings::load(None).unwrap();
    let data = idgate::network::NetworkData::load(&settings.risk.lists_dir).unwrap();
    let asns: Vec<u32> = std::fs::read_to_string(bad)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next()?.trim().trim_matches('"').parse().ok())
        .collect::<std::collections::BTreeSet<u32>>()
        .into_iter()
        .collect();
    let known: Vec<(Option<&str>, &str)> = asns.iter().filter_map(|a| data.classify_asn(*a)).collect();
    let flagged = known.iter().filter(|(why, _)| why.is_some()).count();
    eprintln!(
        "hosting: {} ASNs listed, {} in the table, {flagged} recognised ({:.1} %)",
        asns.len(),
        known.len(),
        100.0 * flagged as f64 / known.len() as f64
    );
    assert!(known.len() > 500, "the table names most listed ASNs");
    assert!(flagged * 100 >= known.len() * 40, "recognised {flagged} of {}", known.len());
    // Access networks people live on are not hosting.
    for asn in [7922, 701, 7018, 3320, 3215, 2856, 4134, 9121] {
        let (why, org) = data.classify_asn(asn).unwrap();
        assert_eq!(why, None, "AS{asn} {org}");
    }
    let kp = data.lookup("175.45.178.1".parse().unwrap());
    assert!(kp.north_korea && kp.asn == Some(131_279), "{kp:?}");
    let v6 = data.lookup("2601:1c0:4f00::17".parse().unwrap());
    assert_eq!((v6.asn, v6.country.as_deref(), v6.hosting), (Some(7922), Some("US"), None), "{v6:?}");
}
