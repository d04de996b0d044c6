//! Education signals from the claimed entries against the birth date and today: timelines
//! that cannot be true (study before the age of 12, an end before the start, a start in the
//! future), that are unusual (study before 15, a degree finished before 19, more than ten
//! years, an end more than seven years ahead), and full-time programmes overlapping for two
//! years or more; the age rules skip secondary schools (by name). Unknown is never a reject by
//! itself. Evidence names entries by index.

use serde_json::json;
use time::Date;

use super::institutions::Found;
use super::{Family, ReferenceLists, Signal, Weights};
use crate::domain::claims::Education;

/// Younger than this at the start is impossible for post-secondary study; younger than
/// `UNUSUAL_START_AGE` is unusual.
const IMPOSSIBLE_START_AGE: i32 = 12;
const UNUSUAL_START_AGE: i32 = 15;
/// Younger than this at the end of a degree is unusual.
const UNUSUAL_DEGREE_AGE: i32 = 19;
const LONGEST_PLAUSIBLE_YEARS: i32 = 10;
const FURTHEST_PLANNED_END: i32 = 7;
const OVERLAP_YEARS: i32 = 2;

fn problem(rule: &'static str, entry: usize, impossible: bool, weights: &Weights) -> Signal {
    let code = if impossible { "education_timeline_impossible" } else { "education_timeline_implausible" };
    Signal::new(code, Family::Education, weights, json!({ "entry": entry, "rule": rule }))
}

/// A secondary school by its name: the age rules are for post-secondary study.
fn secondary(institution: &str) -> bool {
    let folded = deunicode::deunicode(institution).to_lowercase();
    ["high school", "secondary", "gymnasium", "lycee", "grammar school", "middle school"]
        .iter()
        .any(|w| folded.contains(w))
}

/// Institutions not in the list (secondary schools aside, which it hardly covers), or found
/// only under another country. Weighted for review, never a reject by itself.
pub fn institution_signals(education: &[Education], lists: &ReferenceLists, weights: &Weights) -> Vec<Signal> {
    if lists.institutions.is_empty() {
        return Vec::new();
    }
    let list = lists.version("institutions");
    education
        .iter()
        .enumerate()
        .filter(|(_, e)| !secondary(&e.institution))
        .filter_map(|(i, e)| {
            let found = lists.institutions.find(&e.institution, e.country.as_deref());
            let elsewhere = match found {
                Found::Here => return None,
                Found::Elsewhere => true,
                Found::Nowhere => false,
            };
            let evidence = json!({ "entry": i, "found_in_another_country": elsewhere, "list": list });
            Some(Signal::new("education_institution_unknown", Family::Education, weights, evidence))
        })
        .collect()
}

pub fn signals(education: &[Education], birth: Date, today: Date, weights: &Weights) -> Vec<Signal> {
    let mut out = Vec::new();
    let born = birth.year();
    let this_year = today.year();
    for (i, e) in education.iter().enumerate() {
        let school = secondary(&e.institution);
        let mut found = |rule, impossible| out.push(problem(rule, i, impossible, weights));
        if let (Some(start), Some(end)) = (e.start_year, e.end_year) {
            if end < start {
                found("end_before_start", true);
            } else if end - start > LONGEST_PLAUSIBLE_YEARS {
                found("longer_than_10_years", false);
            }
        }
        if let Some(start) = e.start_year {
            if start > this_year {
                found("starts_in_the_future", true);
            } else if start - born < IMPOSSIBLE_START_AGE && !school {
                found("started_before_12", true);
            } else if start - born < UNUSUAL_START_AGE && !school {
                found("started_before_15", false);
            }
        }
        if let Some(end) = e.end_year {
            if !school
                && end - born < UNUSUAL_DEGREE_AGE
                && e.start_year.is_none_or(|s| s - born >= IMPOSSIBLE_START_AGE)
            {
                found("degree_before_19", false);
            }
            if end > this_year + FURTHEST_PLANNED_END {
                found("ends_more_than_7_years_ahead", false);
            }
        }
    }
    let spans: Vec<(usize, i32, i32)> = education
        .iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i, e.start_year?, e.end_year?)))
        .filter(|(_, s, e)| e >= s)
        .collect();
    for (n, (i, s1, e1)) in spans.iter().enumerate() {
        for (j, s2, e2) in spans.iter().skip(n + 1) {
            let overlap = e1.min(e2) - s1.max(s2);
            if overlap >= OVERLAP_YEARS {
                let evidence = json!({ "entries": [i, j], "years": overlap });
                out.push(Signal::new("education_overlap", Family::Education, weights, evidence));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn entry(start: Option<i32>, end: Option<i32>) -> Education {
        Education {
            institution: "Charles University".into(),
            degree: None,
            country: None,
            start_year: start,
            end_year: end,
        }
    }

    fn rules(entries: &[Education]) -> Vec<(String, String)> {
        signals(entries, date!(1990 - 05 - 01), date!(2026 - 12 - 03), &Weights::default())
            .iter()
            .map(|s| (s.code.to_owned(), s.evidence["rule"].as_str().unwrap_or("overlap").to_owned()))
            .collect()
    }

    #[test]
    fn impossible_unusual_and_ordinary_timelines() {
        assert!(rules(&[entry(Some(2008), Some(2012)), entry(Some(2012), Some(2014))]).is_empty());
        assert!(rules(&[entry(None, None)]).is_empty());
        let early = rules(&[entry(Some(1995), Some(1996))]);
        assert_eq!(early, [("education_timeline_impossible".to_owned(), "started_before_12".to_owned())]);
        assert_eq!(rules(&[entry(Some(2012), Some(2010))])[0].1, "end_before_start");
        assert_eq!(rules(&[entry(Some(2004), Some(2008))])[0].1, "started_before_15");
        assert_eq!(rules(&[entry(None, Some(2007))])[0].1, "degree_before_19");
        assert_eq!(rules(&[entry(Some(2030), None)])[0].1, "starts_in_the_future");
        assert_eq!(rules(&[entry(Some(2008), Some(2020))])[0].1, "longer_than_10_years");
        let overlap = rules(&[entry(Some(2008), Some(2012)), entry(Some(2009), Some(2013))]);
        assert_eq!(overlap, [("education_overlap".to_owned(), "overlap".to_owned())]);
    }
}
