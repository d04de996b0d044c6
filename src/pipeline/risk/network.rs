//! The laptop-farm signals: where the candidate's requests came from (the address's network,
//! country and North Korean ranges), what the browser says about its place (time zone,
//! languages) and its machine (virtual or remote renderers, automation), and the same
//! machine or network behind other identities. Evidence names networks, never addresses.

use serde_json::json;

use super::{Family, Signal, Weights};
use crate::network::device::{machine_traits, region_of};
use crate::network::facts::NetworkFacts;
use crate::network::zones::ZonePlace;
use crate::storage::Linked;

/// How many other verifications a link's evidence names.
const NAMED: usize = 10;

/// Languages from `Accept-Language` (`ko-KP,ko;q=0.9` → `ko-KP`, `ko`).
fn accept_languages(header: &str) -> impl Iterator<Item = &str> {
    header.split(',').filter_map(|part| part.split(';').next()).map(str::trim).filter(|l| !l.is_empty())
}

pub fn signals(facts: &NetworkFacts, residence: &str, high_risk: &[String], w: &Weights) -> Vec<Signal> {
    let mut out = Vec::new();
    let residence = residence.to_uppercase();
    let high = |c: &str| high_risk.iter().any(|h| h.eq_ignore_ascii_case(c));
    let mut countries: Vec<&str> = Vec::new();
    for seen in &facts.sightings {
        let info = &seen.info;
        if let Some(why) = info.not_public {
            if !out.iter().any(|s: &Signal| s.code == "ip_not_public") {
                out.push(Signal::new("ip_not_public", Family::Network, w, json!({ "why": why, "step": seen.step })));
            }
            continue;
        }
        let has = |out: &[Signal], code: &str| out.iter().any(|s| s.code == code);
        let evidence = json!({
            "asn": info.asn, "organisation": info.organisation, "country": info.country, "step": seen.step,
            "why": info.hosting,
        });
        if info.north_korea {
            if !has(&out, "ip_north_korea") {
                out.push(Signal::new("ip_north_korea", Family::Network, w, evidence.clone()));
            }
        } else if let Some(c) = info.country.as_deref().filter(|c| high(c))
            && !has(&out, "ip_high_risk_country")
        {
            out.push(Signal::new("ip_high_risk_country", Family::Network, w, json!({ "country": c, "asn": info.asn })));
        }
        if info.hosting.is_some() && !has(&out, "ip_hosting") {
            out.push(Signal::new("ip_hosting", Family::Network, w, evidence));
        }
        if let Some(c) = info.country.as_deref()
            && !countries.contains(&c)
        {
            countries.push(c);
        }
    }
    if let Some(first) = countries.first().filter(|c| !residence.is_empty() && **c != residence) {
        out.push(Signal::new(
            "ip_country_not_residence",
            Family::Network,
            w,
            json!({ "ip_country": first, "residence": residence }),
        ));
    }
    if countries.len() > 1 {
        out.push(Signal::new("ip_country_changed", Family::Network, w, json!({ "countries": countries })));
    }
    out.extend(place_signals(facts, &residence, &countries, &high, w));
    out.extend(device_signals(facts, w));
    out.extend(link_signals(&facts.links, w));
    out
}

/// The browser's time zone and languages against the IP's country and the residence.
fn place_signals(
    facts: &NetworkFacts,
    residence: &str,
    ip_countries: &[&str],
    high: &dyn Fn(&str) -> bool,
    w: &Weights,
) -> Vec<Signal> {
    let mut out = Vec::new();
    match &facts.zone {
        Some(ZonePlace::Country(zone_country)) => {
            let zone = facts.device.as_ref().and_then(|d| d.timezone.clone());
            if high(zone_country) {
                out.push(Signal::new(
                    "timezone_high_risk",
                    Family::Network,
                    w,
                    json!({ "timezone": zone, "country": zone_country }),
                ));
            }
            if !residence.is_empty() && zone_country != residence {
                out.push(Signal::new(
                    "timezone_not_residence",
                    Family::Network,
                    w,
                    json!({ "timezone": zone, "timezone_country": zone_country, "residence": residence }),
                ));
            }
            if let Some(ip) = ip_countries.first().filter(|c| **c != zone_country) {
                out.push(Signal::new(
                    "timezone_not_ip_country",
                    Family::Network,
                    w,
                    json!({ "timezone": zone, "timezone_country": zone_country, "ip_country": ip }),
                ));
            }
        }
        Some(ZonePlace::Universal) => {
            let zone = facts.device.as_ref().and_then(|d| d.timezone.clone());
            out.push(Signal::new("timezone_universal", Family::Device, w, json!({ "timezone": zone })));
        }
        Some(ZonePlace::Unknown) | None => {}
    }
    let mut regions: Vec<String> = facts.device.as_ref().map(|d| d.language_regions()).unwrap_or_default();
    for seen in &facts.sightings {
        regions.extend(seen.accept_language.iter().flat_map(|h| accept_languages(h)).filter_map(region_of));
    }
    let flagged: Vec<&String> = regions.iter().filter(|r| high(r)).collect();
    if let Some(region) = flagged.first() {
        out.push(Signal::new("language_high_risk_region", Family::Network, w, json!({ "region": region })));
    }
    out
}

fn device_signals(facts: &NetworkFacts, w: &Weights) -> Vec<Signal> {
    let Some(report) = &facts.device else { return Vec::new() };
    let traits = machine_traits(report);
    let mut out = Vec::new();
    if let Some(why) = traits.virtual_renderer {
        let renderer = report.webgl.as_ref().and_then(|g| g.renderer.clone());
        out.push(Signal::new(
            "device_virtual_renderer",
            Family::Device,
            w,
            json!({ "why": why, "renderer": renderer }),
        ));
    }
    if traits.webdriver {
        out.push(Signal::new("device_automation", Family::Device, w, json!({ "webdriver": true })));
    }
    if !traits.remote_traits.is_empty() {
        out.push(Signal::new(
            "device_remote_session_traits",
            Family::Device,
            w,
            json!({ "traits": traits.remote_traits }),
        ));
    }
    out
}

/// The same machine or network behind other identities.
pub fn link_signals(links: &[Linked], w: &Weights) -> Vec<Signal> {
    links
        .iter()
        .filter_map(|l| {
            let (code, family) = match (l.kind, l.identities) {
                ("device", _) => ("device_other_identity", Family::Device),
                ("ip_prefix", n) if n >= 3 => ("network_many_identities", Family::Network),
                ("ip_prefix", _) => ("network_other_identity", Family::Network),
                _ => return None,
            };
            let named: Vec<&String> = l.verifications.iter().take(NAMED).collect();
            Some(Signal::new(
                code,
                family,
                w,
                json!({
                    "identities": l.identities, "verifications": l.verifications.len(), "newest": named,
                    "other_organisations": l.other_organisations,
                }),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::IpInfo;
    use crate::network::facts::SeenFrom;

    fn seen(country: &str, step: &str, accept_language: Option<&str>) -> SeenFrom {
        SeenFrom {
            step: step.into(),
            info: IpInfo { asn: Some(7922), country: Some(country.into()), ..IpInfo::default() },
            accept_language: accept_language.map(str::to_owned),
        }
    }

    fn codes(signals: &[Signal]) -> Vec<&str> {
        signals.iter().map(|s| s.code).collect()
    }

    #[test]
    fn a_country_change_between_steps_and_a_header_language_are_seen() {
        let facts = NetworkFacts {
            sightings: vec![
                seen("US", "/v1/candidate/consent", None),
                seen("RU", "/v1/candidate/selfie", Some("ko-KP,ko;q=0.9")),
            ],
            ..NetworkFacts::default()
        };
        let s = signals(&facts, "us", &["KP".to_owned()], &Weights::default());
        assert_eq!(codes(&s), ["ip_country_changed", "language_high_risk_region"]);
        assert_eq!(s[0].evidence["countries"], json!(["US", "RU"]));
        // One country, the residence's, and no device report: nothing to say.
        let quiet = NetworkFacts {
            sightings: vec![seen("US", "/v1/candidate/consent", Some("en-US"))],
            ..NetworkFacts::default()
        };
        assert!(signals(&quiet, "US", &["KP".to_owned()], &Weights::default()).is_empty());
    }

    #[test]
    fn links_grow_stronger_with_identities() {
        let link =
            |kind, identities| Linked { kind, verifications: vec!["a".into()], identities, other_organisations: 0 };
        let w = Weights::default();
        assert_eq!(codes(&link_signals(&[link("ip_prefix", 1)], &w)), ["network_other_identity"]);
        assert_eq!(codes(&link_signals(&[link("ip_prefix", 3)], &w)), ["network_many_identities"]);
        let farm = link_signals(&[link("device", 9)], &w);
        assert_eq!(
            (farm[0].code, farm[0].weight, farm[0].evidence["identities"].as_u64()),
            ("device_other_identity", 90, Some(9))
        );
    }
}
