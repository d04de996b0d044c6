//! One score from the signals: a noisy-OR of per-signal probabilities. Each signal's weight
//! w (0–100) is read as the chance, on its own, that the application is fraudulent; the
//! score is 100 · (1 − Π(1 − wᵢ/100)), rounded. Independent red flags compound (two of 50
//! make 75), one signal never exceeds its own weight, and weight 0 is information only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every signal code with its default weight and why (the README's table is this one).
pub const DEFAULTS: &[(&str, u8, &str)] = &[
    ("phone_unparseable", 40, "not a phone number at all"),
    ("phone_invalid", 45, "not a number its own country issues (555-0100)"),
    ("phone_not_residence_country", 15, "common after a move; weak alone, compounds with others"),
    ("phone_voip", 35, "anyone can get one anywhere, with no identity behind it"),
    ("phone_premium_rate", 50, "not a personal line"),
    ("phone_toll_free", 40, "not a personal line"),
    ("phone_pager", 35, "not a personal line"),
    ("phone_uan", 30, "a company's routing number, not a person's"),
    ("phone_personal_number", 30, "a forwarding number that hides the real line"),
    ("phone_shared_cost", 30, "not a personal line"),
    ("phone_high_risk_country", 90, "a calling code in the sanctions-compliance set (+850)"),
    ("phone_other_identity", 60, "the same number on a verification of another identity in the organisation"),
    ("email_malformed", 40, "not a deliverable address"),
    ("email_disposable", 55, "a throw-away inbox: nobody applies for a job with one"),
    ("email_free_webmail", 0, "information only: most candidates use one"),
    ("email_other_identity", 60, "the same address (tags and Gmail dots ignored) under another identity"),
    ("education_timeline_impossible", 50, "dates that cannot be true against the birth date"),
    (
        "education_timeline_implausible",
        25,
        "dates that are unusual (study before 15, a degree before 19, over 10 years)",
    ),
    (
        "education_institution_unknown",
        25,
        "not in the world universities list (or only under another country): a human checks",
    ),
    ("education_overlap", 20, "two programmes at once for two years or more"),
    ("sanctions_match", 95, "a listed person: name, and birth date or nationality, agree (a human decides)"),
    ("sanctions_possible_match", 30, "a listed name is near, but the birth date or nationality does not confirm it"),
    ("sanctions_not_screened", 90, "no sanctions list is loaded: nobody checked (review by default)"),
    ("sanctions_list_stale", 20, "a list is older than sanctions.max_age_days: recent designations are missing"),
    ("nationality_high_risk", 90, "a nationality in the sanctions-compliance set"),
    ("residence_high_risk", 90, "a residence in the sanctions-compliance set"),
    ("document_nationality_high_risk", 90, "the document's nationality is in the sanctions-compliance set"),
    (
        "ip_north_korea",
        95,
        "an address in North Korea's ranges (175.45.176.0/22, 210.52.109.0/24, 77.94.35.0/24) or AS131279",
    ),
    ("ip_high_risk_country", 90, "an address the country table places in the sanctions-compliance set"),
    ("ip_hosting", 60, "a hosting, VPN or proxy network (ASN list or registered name): nobody's home line"),
    ("ip_country_not_residence", 30, "the address's country is not the claimed residence (travel happens)"),
    ("ip_country_changed", 35, "the candidate's requests came from more than one country"),
    ("ip_not_public", 0, "information only: a private or loopback client address (set server.trusted_proxies)"),
    ("timezone_high_risk", 90, "the browser's time zone is in the sanctions-compliance set (Asia/Pyongyang)"),
    ("timezone_not_residence", 50, "the browser's time zone is another country's than the claimed residence"),
    ("timezone_not_ip_country", 35, "the browser's time zone is not its address's country: a tunnel or proxy"),
    ("timezone_universal", 15, "the browser runs on UTC: servers and remote sessions do, laptops rarely"),
    ("language_high_risk_region", 80, "a browser language of the sanctions-compliance set (ko-KP)"),
    ("device_virtual_renderer", 80, "a virtual machine, remote desktop or software renderer drew the page"),
    ("device_automation", 70, "the browser is driven by automation (navigator.webdriver)"),
    (
        "device_remote_session_traits",
        30,
        "traits of remote sessions: colour depth below 24, a default VM display, no camera",
    ),
    ("device_other_identity", 90, "the same machine (device fingerprint) under another identity: a laptop farm"),
    ("network_other_identity", 20, "the same /24 (IPv4) or /48 (IPv6) under another identity: offices and NAT share"),
    ("network_many_identities", 60, "the same /24 or /48 under three or more other identities"),
    ("face_other_identity", 95, "the same face (1:N search) under another identity"),
    ("document_other_identity", 90, "the same document number under another identity"),
    ("selfie_other_identity", 90, "the same selfie (its bytes or its frames) under another identity"),
];

/// Weights by code: the defaults, with the operator's overrides (`risk.weights`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Weights(pub BTreeMap<String, u8>);

impl Weights {
    pub fn of(&self, code: &str) -> u8 {
        self.0
            .get(code)
            .copied()
            .or_else(|| DEFAULTS.iter().find(|(c, _, _)| *c == code).map(|(_, w, _)| *w))
            .unwrap_or(0)
            .min(100)
    }

    /// Codes in the overrides that no signal has (a typo in the configuration).
    pub fn unknown_codes(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).filter(|k| !DEFAULTS.iter().any(|(c, _, _)| c == k)).collect()
    }
}

/// The noisy-OR of the weights, 0–100.
pub fn combine(weights: impl IntoIterator<Item = u8>) -> u8 {
    let clean: f64 = weights.into_iter().map(|w| 1.0 - f64::from(w.min(100)) / 100.0).product();
    let score = (100.0 * (1.0 - clean)).round();
    // In [0, 100] by construction.
    score.clamp(0.0, 100.0) as u8
}

/// Where a score falls: `low` < 40 ≤ `medium` < 70 ≤ `high` ≤ the review threshold <
/// `very_high` (a human reviews).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl Band {
    pub fn of(score: u8, review_above: u8) -> Self {
        match score {
            s if s > review_above => Band::VeryHigh,
            s if s >= 70 => Band::High,
            s if s >= 40 => Band::Medium,
            _ => Band::Low,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_compound_without_exceeding_certainty() {
        assert_eq!(combine([]), 0);
        assert_eq!(combine([0, 0]), 0);
        assert_eq!(combine([45]), 45);
        assert_eq!(combine([50, 50]), 75);
        assert_eq!(combine([90, 90, 90]), 100);
        assert_eq!(Band::of(86, 85), Band::VeryHigh);
        assert_eq!(Band::of(85, 85), Band::High);
        assert_eq!(Band::of(39, 85), Band::Low);
    }

    #[test]
    fn overrides_replace_defaults() {
        let mut w = Weights::default();
        assert_eq!(w.of("phone_voip"), 35);
        w.0.insert("phone_voip".into(), 10);
        w.0.insert("phone_vop".into(), 10);
        assert_eq!((w.of("phone_voip"), w.of("no_such_code")), (10, 0));
        assert_eq!(w.unknown_codes(), ["phone_vop"]);
    }
}
