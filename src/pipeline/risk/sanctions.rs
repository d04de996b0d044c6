//! Sanctions signals: the claimed names, birth date and nationality (and, once the document
//! stage has read them, the document's names) screened against the loaded lists. Evidence
//! names the list, its entry and programmes, the score and what agreed: never the name.
//! No list loaded is `sanctions_not_screened` (review by default); a list published longer
//! ago than `sanctions.max_age_days` is `sanctions_list_stale`.

use idgate_screening::{Match, Query};
use serde::Serialize;
use serde_json::json;
use time::Date;

use super::{Family, Signal, Weights};
use crate::sanctions::Sanctions;

/// One list screened against, as the result and the token's evidence name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Screened {
    pub name: String,
    pub published: Option<String>,
    pub sha256: String,
    pub stale: bool,
}

/// A person to screen: the claims' or the document's names.
pub struct Person<'a> {
    /// `claims` or `document`.
    pub source: &'static str,
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub birth_date: Option<Date>,
    /// ISO alpha-2.
    pub nationality: Option<&'a str>,
}

fn evidence(source: &str, m: &Match) -> serde_json::Value {
    json!({
        "source": source, "list": m.list, "entry_id": m.entry_id, "programs": m.programs, "score": m.score,
        "alias": m.alias, "agreed": m.agreed, "disagreed": m.disagreed,
    })
}

/// The lists' versions and the signals for `people`.
pub fn screen(
    sanctions: &Sanctions,
    people: &[Person<'_>],
    today: Date,
    max_age_days: u32,
    weights: &Weights,
) -> (Vec<Screened>, Vec<Signal>) {
    let lists: Vec<Screened> = sanctions
        .lists
        .iter()
        .map(|(meta, _)| Screened {
            name: meta.name.clone(),
            published: meta.published.clone(),
            sha256: meta.sha256.clone(),
            stale: Sanctions::age_days(meta, today).is_none_or(|d| d > i64::from(max_age_days)),
        })
        .collect();
    let mut signals = Vec::new();
    if lists.is_empty() {
        signals.push(Signal::new("sanctions_not_screened", Family::Sanctions, weights, json!({})));
        return (lists, signals);
    }
    for stale in lists.iter().filter(|l| l.stale) {
        let evidence = json!({ "list": stale.name, "published": stale.published, "max_age_days": max_age_days });
        signals.push(Signal::new("sanctions_list_stale", Family::Sanctions, weights, evidence));
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    for person in people {
        let query = Query {
            given_name: person.given_name.to_owned(),
            family_name: person.family_name.to_owned(),
            birth_date: person.birth_date.map(|d| (d.year(), u8::from(d.month()), d.day())),
            nationality: person.nationality.map(str::to_owned),
        };
        for m in sanctions.screener.screen(&query) {
            let key = (m.list.clone(), m.entry_id.clone());
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let code = if m.review { "sanctions_match" } else { "sanctions_possible_match" };
            signals.push(Signal::new(code, Family::Sanctions, weights, evidence(person.source, &m)));
        }
    }
    (lists, signals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sanctions::Stored;
    use idgate_screening::{BirthDate, Entry, EntryKind, List, ListMeta, ListedName, NameStrength};

    fn lists(published: &str) -> Sanctions {
        let entry = Entry {
            id: "17614".into(),
            kind: EntryKind::Individual,
            names: vec![ListedName { name: "KIM, Yong Chol".into(), strength: NameStrength::Primary }],
            birth_dates: vec![BirthDate::Exact { year: 1962, month: 2, day: 18 }],
            nationalities: vec!["KP".into()],
            programs: vec!["DPRK2".into()],
        };
        let meta = ListMeta {
            name: "ofac-sdn".into(),
            format: "ofac-sdn-csv".into(),
            published: Some(published.into()),
            sha256: "00".repeat(32),
            entries: 1,
            individuals: 1,
            names: 1,
        };
        let stored = Stored { imported_at: "2026-12-01T00:00:00Z".into(), list: List { meta, entries: vec![entry] } };
        Sanctions::new(vec![stored], idgate_screening::Thresholds::default())
    }

    fn codes(signals: &[Signal]) -> Vec<&'static str> {
        signals.iter().map(|s| s.code).collect()
    }

    #[test]
    fn the_document_is_screened_too_and_a_match_is_reported_once() {
        let today = Date::from_calendar_date(2026, time::Month::December, 3).unwrap();
        let born = Date::from_calendar_date(1962, time::Month::February, 18).unwrap();
        let claimed = Person {
            source: "claims",
            given_name: "Jane",
            family_name: "Doe",
            birth_date: Some(born),
            nationality: None,
        };
        let printed = Person {
            source: "document",
            given_name: "YONG CHOL",
            family_name: "KIM",
            birth_date: Some(born),
            nationality: None,
        };
        let w = Weights::default();
        let (screened, signals) = screen(&lists("2026-11-30"), &[claimed, printed], today, 31, &w);
        assert_eq!(codes(&signals), ["sanctions_match"]);
        assert_eq!(
            (signals[0].evidence["source"].as_str(), signals[0].evidence["entry_id"].as_str()),
            (Some("document"), Some("17614"))
        );
        assert!(!signals[0].evidence.to_string().contains("KIM"), "no name in evidence");
        assert!(!screened[0].stale);
        let again = Person {
            source: "document",
            given_name: "Yong-Chol",
            family_name: "Kim",
            birth_date: Some(born),
            nationality: Some("KP"),
        };
        let twice = Person {
            source: "claims",
            given_name: "Yong Chol",
            family_name: "Kim",
            birth_date: Some(born),
            nationality: Some("KP"),
        };
        assert_eq!(codes(&screen(&lists("2026-11-30"), &[twice, again], today, 31, &w).1), ["sanctions_match"]);

        let old = screen(&lists("2021-07-01"), &[], today, 31, &w);
        assert!(old.0[0].stale && codes(&old.1) == ["sanctions_list_stale"]);
        let none = Sanctions::new(Vec::new(), idgate_screening::Thresholds::default());
        assert_eq!(codes(&screen(&none, &[], today, 31, &w).1), ["sanctions_not_screened"]);
    }
}
