//! The risk stage: signals from what the candidate claims (phone, e-mail, education,
//! nationality and residence) and, in the pipeline, from what the document says, each with a
//! stable code, a weight and its evidence (never a name, number, address or birth date); one
//! 0–100 score from them (`score.rs`); above `decision.risk_review_above` a human reviews.
//!
//! It runs twice: when the verification is created (claims only, so the HR system sees the
//! score at once) and in the pipeline, where the document's results join.

pub mod education;
pub mod email;
pub mod face;
pub mod fit;
pub mod institutions;
pub mod lists;
pub mod network;
pub mod phone;
pub mod residence;
pub mod reuse;
pub mod sanctions;
pub mod score;

use serde::Serialize;
use time::Date;

use super::document_check::DocumentCheck;
use crate::domain::claims::RawClaims;
use crate::domain::time::Timestamp;
use crate::network::facts::NetworkFacts;
use crate::tokens::claims::CheckDetail;
pub use lists::{ListVersion, ReferenceLists};
pub use score::{Band, Weights};

/// Which family of red flags a signal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Phone,
    Email,
    Education,
    Nationality,
    Sanctions,
    /// Where the requests came from, the browser's time zone and languages.
    Network,
    /// The candidate's machine (renderer, automation) and its reuse.
    Device,
    /// The face found under another identity (1:N), or the same selfie.
    Face,
    /// The same document under another identity.
    Document,
}

/// One red flag: its code, its weight (0–100) and the evidence for it (no PII).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub code: &'static str,
    pub family: Family,
    pub weight: u8,
    pub evidence: serde_json::Value,
}

impl Signal {
    pub fn new(code: &'static str, family: Family, weights: &Weights, evidence: serde_json::Value) -> Self {
        Self { code, family, weight: weights.of(code), evidence }
    }
}

/// The operator's risk settings, as the stage needs them.
#[derive(Debug, Clone)]
pub struct RiskPolicy {
    pub weights: Weights,
    /// ISO alpha-2 codes (a sanctions-compliance setting; default `KP`).
    pub high_risk_countries: Vec<String>,
    pub review_above: u8,
    /// A list published longer ago is stale (`sanctions_list_stale`).
    pub sanctions_max_age_days: u32,
    /// A sanctions match whose birth date agrees rejects (else: at least review).
    pub reject_sanctions_match: bool,
}

/// When the stage ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// At creation, from the claims alone.
    Intake,
    /// In the pipeline, with the document's results.
    Pipeline,
}

/// The stage's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    pub score: u8,
    pub band: Band,
    /// Above the review threshold: a human looks even when every other stage passed.
    pub review: bool,
    pub review_above: u8,
    pub signals: Vec<Signal>,
    pub phase: Phase,
    pub assessed_at: Timestamp,
    /// The reference lists read, with their versions.
    pub lists: Vec<ListVersion>,
    /// The sanctions lists screened against (name, publication date, sha256, stale), and when.
    pub screened: Vec<sanctions::Screened>,
    pub screened_at: Timestamp,
    /// A sanctions match whose birth date agreed: at least review, whatever the weights.
    pub sanctions_hit: bool,
    /// … and the operator's setting makes it a reject.
    pub reject: bool,
}

impl Risk {
    fn of(
        (signals, screened): (Vec<Signal>, Vec<sanctions::Screened>),
        phase: Phase,
        now: Timestamp,
        (lists, network): (&ReferenceLists, &NetworkFacts),
        policy: &RiskPolicy,
    ) -> Self {
        let score = score::combine(signals.iter().map(|s| s.weight));
        let sanctions_hit = signals.iter().any(|s| {
            s.code == "sanctions_match"
                && s.evidence
                    .get("agreed")
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x == "birth_date" || x == "birth_year"))
        });
        Self {
            score,
            band: Band::of(score, policy.review_above),
            review: score > policy.review_above || sanctions_hit,
            sanctions_hit,
            reject: sanctions_hit && policy.reject_sanctions_match,
            screened,
            screened_at: now,
            review_above: policy.review_above,
            signals,
            phase,
            assessed_at: now,
            lists: lists.versions.iter().chain(&network.versions).cloned().collect(),
        }
    }

    /// Adds signals found after the stage ran (the document's and selfie's reuse) and scores again.
    pub fn add_signals(&mut self, signals: Vec<Signal>, policy: &RiskPolicy) {
        self.signals.extend(signals);
        self.score = score::combine(self.signals.iter().map(|s| s.weight));
        self.band = Band::of(self.score, policy.review_above);
        self.review = self.score > policy.review_above || self.sanctions_hit;
    }

    /// The codes of the signals with weight, for decisions and webhooks.
    pub fn codes(&self) -> Vec<&'static str> {
        self.signals.iter().map(|s| s.code).collect()
    }
}

impl super::stage::Stage for Risk {
    const NAME: &'static str = "risk";

    fn audit(&self) -> serde_json::Value {
        serde_json::json!({
            "phase": self.phase, "score": self.score, "band": self.band, "review": self.review,
            "signals": self.codes(), "lists": self.lists, "sanctions_lists": self.screened,
            "sanctions_entries": self.signals.iter().filter(|s| s.family == Family::Sanctions)
                .filter_map(|s| Some(format!("{}:{}", s.evidence.get("list")?.as_str()?, s.evidence.get("entry_id")?.as_str()?)))
                .collect::<Vec<_>>(),
        })
    }

    fn evidence(&self, _ctx: super::stage::EvidenceContext) -> Vec<CheckDetail> {
        let sanctions = CheckDetail {
            check: "sanctions_screening".into(),
            check_method: "data".into(),
            result: if self.screened.is_empty() {
                "not_screened"
            } else if self.signals.iter().any(|s| s.code == "sanctions_match") {
                "match_reviewed"
            } else {
                "no_match"
            }
            .into(),
            score_band: None,
            lists: self
                .screened
                .iter()
                .map(|l| crate::tokens::claims::ListRef {
                    name: l.name.clone(),
                    version: l.published.clone().unwrap_or_default(),
                    sha256: l.sha256.clone(),
                })
                .collect(),
        };
        vec![
            CheckDetail {
                check: "risk_screening".into(),
                check_method: "data".into(),
                result: if self.review { "reviewed" } else { "below_review_threshold" }.into(),
                score_band: None,
                lists: self.lists.iter().map(ListVersion::reference).collect(),
            },
            sanctions,
        ]
    }
}

/// What the claims are checked against besides themselves.
pub struct Context<'a> {
    pub lists: &'a ReferenceLists,
    pub policy: &'a RiskPolicy,
    /// Other verifications with the same phone or e-mail under another identity.
    pub reuse: &'a reuse::Found,
    pub sanctions: &'a crate::sanctions::Sanctions,
    /// Where the candidate connected from and on what machine, as far as known.
    pub network: &'a NetworkFacts,
}

/// The claims-only signals, and the sanctions lists screened.
fn claim_signals(
    claims: &RawClaims,
    birth: Date,
    today: Date,
    ctx: &Context<'_>,
    document: Option<sanctions::Person<'_>>,
) -> (Vec<Signal>, Vec<sanctions::Screened>) {
    let (lists, policy) = (ctx.lists, ctx.policy);
    let w = &policy.weights;
    let high = &policy.high_risk_countries;
    let mut signals = phone::signals(&claims.phone, &claims.residence_country, high, w);
    signals.extend(email::signals(&claims.email, lists, w));
    signals.extend(education::signals(&claims.education, birth, today, w));
    signals.extend(education::institution_signals(&claims.education, lists, w));
    signals.extend(residence::signals(&claims.nationality, &claims.residence_country, high, w));
    signals.extend(reuse::signals(ctx.reuse, w));
    signals.extend(network::signals(ctx.network, &claims.residence_country, high, w));
    let claimed = sanctions::Person {
        source: "claims",
        given_name: &claims.given_name,
        family_name: &claims.family_name,
        birth_date: Some(birth),
        nationality: Some(&claims.nationality),
    };
    let people: Vec<sanctions::Person<'_>> = std::iter::once(claimed).chain(document).collect();
    let (screened, found) = sanctions::screen(ctx.sanctions, &people, today, policy.sanctions_max_age_days, w);
    signals.extend(found);
    (signals, screened)
}

/// At creation: the claims alone.
pub fn assess_claims(claims: &RawClaims, birth: Date, now: Timestamp, ctx: &Context<'_>) -> Option<Risk> {
    let today = now.date()?;
    let signals = claim_signals(claims, birth, today, ctx, None);
    Some(Risk::of(signals, Phase::Intake, now, (ctx.lists, ctx.network), ctx.policy))
}

/// What the pipeline's risk stage reads (opened from storage by the worker).
#[derive(Clone)]
pub struct RiskFacts {
    pub claims: RawClaims,
    pub birth: Date,
    pub today: Date,
    pub now: Timestamp,
    pub lists: std::sync::Arc<ReferenceLists>,
    pub policy: RiskPolicy,
    pub reuse: reuse::Found,
    pub sanctions: std::sync::Arc<crate::sanctions::Sanctions>,
    pub network: NetworkFacts,
    /// The 1:N index to search the case's faces in (absent where no index is kept).
    pub faces: Option<crate::face_search::FaceSearch>,
}

impl std::fmt::Debug for RiskFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskFacts").finish_non_exhaustive()
    }
}

/// In the pipeline: the claims, what the document says and whose faces these are.
pub fn assess_case(
    facts: &RiskFacts,
    document: Option<&DocumentCheck>,
    face: Option<&super::face_match::FaceMatch>,
) -> Risk {
    let (lists, policy) = (&*facts.lists, &facts.policy);
    let ctx = Context { lists, policy, reuse: &facts.reuse, sanctions: &facts.sanctions, network: &facts.network };
    let document_person = document.and_then(|d| {
        let (given, family) = d.holder_names.as_ref()?;
        Some(sanctions::Person {
            source: "document",
            given_name: given,
            family_name: family,
            birth_date: d.birth_date,
            nationality: None,
        })
    });
    let (mut signals, screened) = claim_signals(&facts.claims, facts.birth, facts.today, &ctx, document_person);
    if let Some(nationality) = document.and_then(|d| d.nationality.as_deref()) {
        signals.extend(residence::document_signals(nationality, &policy.high_risk_countries, &policy.weights));
    }
    if let (Some(search), Some(face)) = (&facts.faces, face) {
        signals.extend(face::signals(search, face, &policy.weights));
    }
    Risk::of((signals, screened), Phase::Pipeline, facts.now, (lists, &facts.network), policy)
}
