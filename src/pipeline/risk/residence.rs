//! Nationality and residence in the operator's high-risk set (default `KP`): a
//! sanctions-compliance setting the operator owns (`risk.high_risk_countries`).

use serde_json::json;

use super::{Family, Signal, Weights};

/// ISO alpha-3 of an alpha-2 code (the document gives alpha-3).
fn alpha3(alpha2: &str) -> Option<&'static str> {
    isocountry::CountryCode::for_alpha2(alpha2).ok().map(|c| c.alpha3())
}

pub fn signals(nationality: &str, residence: &str, high_risk: &[String], weights: &Weights) -> Vec<Signal> {
    let mut out = Vec::new();
    for (code, country) in [("nationality_high_risk", nationality), ("residence_high_risk", residence)] {
        if high_risk.iter().any(|c| c.eq_ignore_ascii_case(country)) {
            out.push(Signal::new(code, Family::Nationality, weights, json!({ "country": country })));
        }
    }
    out
}

/// The document's nationality (ICAO alpha-3, e.g. `PRK`) against the set.
pub fn document_signals(document_nationality: &str, high_risk: &[String], weights: &Weights) -> Vec<Signal> {
    let hit = high_risk.iter().find(|c| alpha3(c) == Some(document_nationality));
    hit.map(|c| {
        let evidence = json!({ "country": c, "document_nationality": document_nationality });
        Signal::new("document_nationality_high_risk", Family::Nationality, weights, evidence)
    })
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_set_and_nothing_else() {
        let set = ["KP".to_owned()];
        let w = Weights::default();
        assert!(signals("US", "US", &set, &w).is_empty());
        let codes: Vec<_> = signals("KP", "CN", &set, &w).iter().map(|s| s.code).collect();
        assert_eq!(codes, ["nationality_high_risk"]);
        assert_eq!(document_signals("PRK", &set, &w).len(), 1);
        assert!(document_signals("KOR", &set, &w).is_empty());
    }
}
