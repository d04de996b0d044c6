//! Scoring a person against the listed individuals.
//!
//! **Names.** Both names are folded into words (`fold`). The words of the query (given and
//! family names, in any order) are aligned one to one with the words of each listed name,
//! greedily by similarity, where two adjacent words may also stand as one (Yong-Chol,
//! Yongchol, Yong Chol). The name similarity is the mean over the query's words of their
//! aligned similarity (words under four letters weigh less), less 0.03 for each listed word left over (at most 0.12: middle names
//! the candidate did not give).
//!
//! **Score.** 0–100: `100 · name − 20`, then the birth date (`+20` the same date; `+12` the
//! listed year; `+10` within a listed circa or range; `+15`/`+5` the same month/year of a
//! listed exact date; `−25` none of the listed dates) and the nationality (`+5` listed, `−5`
//! another listed). A name alone therefore scores at most 80 and a common name with another
//! birth date about 55: neither reaches review (85 by default). Weak aliases never reach
//! review on their own.
//!
//! **Search.** Every listed word (and pair of adjacent words) is indexed by its canonical
//! spelling, its one-letter deletions (so one typo still meets it) and its consonant
//! skeleton (words of five letters or more); a listed name is scored only when the words that
//! meet it there weigh 60 % of the query (at least two words, or all of a shorter name).

use std::collections::HashMap;

use serde::Serialize;

use crate::fold::{self, Folded};
use crate::model::{BirthDate, Entry, EntryKind, List, ListMeta, NameStrength};

/// A person to screen.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub given_name: String,
    pub family_name: String,
    /// (year, month, day).
    pub birth_date: Option<(i32, u8, u8)>,
    /// ISO 3166-1 alpha-2.
    pub nationality: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreed {
    Name,
    BirthDate,
    BirthYear,
    Nationality,
}

/// One listed name that the query resembles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub list: String,
    pub entry_id: String,
    /// The listed name that matched (the primary name or an alias).
    pub name: String,
    pub alias: Option<NameStrength>,
    pub programs: Vec<String>,
    pub score: u8,
    pub name_similarity: f32,
    pub review: bool,
    pub agreed: Vec<Agreed>,
    /// Listed facts that contradict the query (`birth_date`, `nationality`).
    pub disagreed: Vec<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    /// A match scoring this or more goes to a human.
    pub review: u8,
    /// Matches scoring less are not reported.
    pub report: u8,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { review: 85, report: 60 }
    }
}

/// Name similarity below which a listed name is not reported at all.
const MIN_NAME: f64 = 0.80;
/// Word similarity below which two words are not aligned.
const MIN_WORD: f64 = 0.75;

/// A word or two adjacent words, with the positions they cover (bit i: word i) and their
/// weight in the mean (a word of one to three letters weighs its length over four: a
/// mistyped particle such as AL costs less than a mistyped name).
#[derive(Debug, Clone)]
struct Unit {
    folded: Folded,
    covers: u32,
    weight: f64,
}

fn weight_of(word: &str) -> f64 {
    f64::from(u32::try_from(word.len().min(4)).unwrap_or(4)) / 4.0
}

fn units(groups: &[Vec<String>]) -> (Vec<Unit>, u32, f64) {
    let mut out = Vec::new();
    let mut total = 0.0;
    let mut position = 0u32;
    for words in groups {
        let start = position;
        for word in words.iter().take(31) {
            out.push(Unit {
                folded: Folded::new(word.clone()),
                covers: 1 << position.min(31),
                weight: weight_of(word),
            });
            total += weight_of(word);
            position += 1;
        }
        for (i, pair) in words.windows(2).enumerate().take(30) {
            if let [a, b] = pair {
                let at = start + u32::try_from(i).unwrap_or(0);
                let weight = weight_of(a) + weight_of(b);
                out.push(Unit { folded: Folded::new(format!("{a}{b}")), covers: (0b11 << at.min(30)), weight });
            }
        }
    }
    (out, position.min(31), total)
}

struct IndexedName {
    entry: usize,
    name: String,
    strength: NameStrength,
    units: Vec<Unit>,
    words: u32,
    weight: f64,
}

struct IndexedEntry {
    list: usize,
    entry: Entry,
}

/// The individuals of the loaded lists, indexed for screening.
pub struct Screener {
    lists: Vec<ListMeta>,
    entries: Vec<IndexedEntry>,
    names: Vec<IndexedName>,
    /// Canonical spellings of every listed unit.
    vocabulary: Vec<Folded>,
    /// Search key → vocabulary ids.
    keys: HashMap<String, Vec<u32>>,
    /// Vocabulary id → (name id, positions covered).
    postings: Vec<Vec<(u32, u32)>>,
    pub thresholds: Thresholds,
}

/// The search keys of a canonical spelling: itself, its one-letter deletions (from four
/// letters) and its skeleton (from three consonants).
fn search_keys(folded: &Folded) -> Vec<String> {
    let word = &folded.canonical;
    let mut keys = vec![word.clone()];
    if word.len() >= 4 {
        for i in 0..word.len() {
            let mut deleted = word.clone();
            deleted.remove(i);
            keys.push(deleted);
        }
    }
    if folded.skeleton.len() >= 2 && folded.word.len() >= 5 {
        keys.push(format!("#{}", folded.skeleton));
    }
    keys
}

impl Screener {
    pub fn new(lists: &[List], thresholds: Thresholds) -> Self {
        let mut s = Self {
            lists: lists.iter().map(|l| l.meta.clone()).collect(),
            entries: Vec::new(),
            names: Vec::new(),
            vocabulary: Vec::new(),
            keys: HashMap::new(),
            postings: Vec::new(),
            thresholds,
        };
        let mut vocabulary_ids: HashMap<String, u32> = HashMap::new();
        for (list_no, list) in lists.iter().enumerate() {
            for entry in list.entries.iter().filter(|e| e.kind == EntryKind::Individual) {
                let entry_no = s.entries.len();
                for listed in &entry.names {
                    let words = fold::words(&listed.name);
                    if words.is_empty() {
                        continue;
                    }
                    let (units, count, weight) = units(std::slice::from_ref(&words));
                    let name_no = u32::try_from(s.names.len()).unwrap_or(u32::MAX);
                    for unit in &units {
                        let id = *vocabulary_ids.entry(unit.folded.canonical.clone()).or_insert_with(|| {
                            let id = u32::try_from(s.vocabulary.len()).unwrap_or(u32::MAX);
                            for key in search_keys(&unit.folded) {
                                s.keys.entry(key).or_default().push(id);
                            }
                            s.vocabulary.push(unit.folded.clone());
                            s.postings.push(Vec::new());
                            id
                        });
                        if let Some(p) = s.postings.get_mut(id as usize) {
                            p.push((name_no, unit.covers));
                        }
                    }
                    s.names.push(IndexedName {
                        entry: entry_no,
                        name: listed.name.clone(),
                        strength: listed.strength,
                        units,
                        words: count,
                        weight,
                    });
                }
                s.entries.push(IndexedEntry { list: list_no, entry: entry.clone() });
            }
        }
        s
    }

    pub fn lists(&self) -> &[ListMeta] {
        &self.lists
    }

    /// Listed individuals and their names (aliases included).
    pub fn size(&self) -> (usize, usize) {
        (self.entries.len(), self.names.len())
    }

    /// The reported matches, best first, one per listed entry.
    pub fn screen(&self, query: &Query) -> Vec<Match> {
        let given = fold::words(&query.given_name);
        let family = fold::words(&query.family_name);
        let (query_units, query_words, query_weight) = units(&[given, family]);
        if query_words == 0 {
            return Vec::new();
        }
        // Name id → query positions met in the index.
        let mut met: HashMap<u32, u32> = HashMap::new();
        for unit in &query_units {
            let mut seen: std::collections::HashSet<u32> = std::collections::HashSet::new();
            for key in search_keys(&unit.folded) {
                for &id in self.keys.get(&key).into_iter().flatten() {
                    if !seen.insert(id) {
                        continue;
                    }
                    let Some(word) = self.vocabulary.get(id as usize) else { continue };
                    if fold::similarity(&unit.folded, word) < MIN_WORD {
                        continue;
                    }
                    for &(name, _) in self.postings.get(id as usize).into_iter().flatten() {
                        *met.entry(name).or_default() |= unit.covers;
                    }
                }
            }
        }
        let position_weight: Vec<f64> =
            query_units.iter().filter(|u| u.covers.count_ones() == 1).map(|u| u.weight).collect();
        let met_weight = |mask: u32| -> f64 {
            position_weight.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, w)| w).sum()
        };
        let mut best: HashMap<usize, Match> = HashMap::new();
        for (name_no, positions) in met {
            let Some(name) = self.names.get(name_no as usize) else { continue };
            // Most of the query (or all of a shorter listed name) must have met this name.
            let needed = name.weight.min((0.6 * query_weight).max(2.0)).min(query_weight) - 1e-9;
            if met_weight(positions) < needed {
                continue;
            }
            let Some(found) = self.score(query, &query_units, query_weight, name) else { continue };
            let keep = best.get(&name.entry).is_none_or(|m| found.score > m.score);
            if keep {
                best.insert(name.entry, found);
            }
        }
        let mut matches: Vec<Match> = best.into_values().filter(|m| m.score >= self.thresholds.report).collect();
        matches.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.entry_id.cmp(&b.entry_id)));
        matches
    }

    fn score(&self, query: &Query, query_units: &[Unit], query_weight: f64, name: &IndexedName) -> Option<Match> {
        let similarity = align(query_units, query_weight, &name.units, name.words);
        if similarity < MIN_NAME {
            return None;
        }
        let indexed = self.entries.get(name.entry)?;
        let entry = &indexed.entry;
        let mut agreed = vec![Agreed::Name];
        let mut disagreed = Vec::new();
        let birth = query.birth_date.map(|d| birth_date_points(d, &entry.birth_dates));
        let birth_points = match birth {
            Some((points, agreement)) => {
                agreed.extend(agreement);
                if points < 0 {
                    disagreed.push("birth_date");
                }
                points
            }
            None => 0,
        };
        let nationality_points = match &query.nationality {
            Some(n) if entry.nationalities.iter().any(|e| e.eq_ignore_ascii_case(n)) => {
                agreed.push(Agreed::Nationality);
                5
            }
            Some(_) if !entry.nationalities.is_empty() => {
                disagreed.push("nationality");
                -5
            }
            _ => 0,
        };
        let raw = (100.0 * similarity).round() as i32 - 20 + birth_points + nationality_points;
        let mut score = u8::try_from(raw.clamp(0, 100)).unwrap_or(0);
        if name.strength == NameStrength::Weak {
            score = score.min(self.thresholds.review.saturating_sub(1));
        }
        Some(Match {
            list: self.lists.get(indexed.list).map(|l| l.name.clone()).unwrap_or_default(),
            entry_id: entry.id.clone(),
            name: name.name.clone(),
            alias: (name.strength != NameStrength::Primary).then_some(name.strength),
            programs: entry.programs.clone(),
            score,
            name_similarity: similarity as f32,
            review: score >= self.thresholds.review,
            agreed,
            disagreed,
        })
    }
}

/// The name similarity of two unit lists (see the module's comment).
fn align(query: &[Unit], query_weight: f64, listed: &[Unit], listed_words: u32) -> f64 {
    let mut pairs: Vec<(f64, u32, u32, f64)> = Vec::with_capacity(query.len() * listed.len());
    for q in query {
        for l in listed {
            let s = fold::similarity(&q.folded, &l.folded);
            if s >= MIN_WORD {
                pairs.push((s, q.covers, l.covers, q.weight));
            }
        }
    }
    // Best first; at equal similarity the unit covering more words.
    pairs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| (b.1.count_ones() + b.2.count_ones()).cmp(&(a.1.count_ones() + a.2.count_ones())))
    });
    let (mut used_q, mut used_l, mut total) = (0u32, 0u32, 0.0);
    for (s, q, l, weight) in pairs {
        if used_q & q != 0 || used_l & l != 0 {
            continue;
        }
        used_q |= q;
        used_l |= l;
        total += s * weight;
    }
    let left_over = listed_words.saturating_sub(used_l.count_ones());
    total / query_weight.max(f64::EPSILON) - (0.03 * f64::from(left_over)).min(0.12)
}

/// Points for the birth date against the listed ones (the best of them), and what agreed.
fn birth_date_points((year, month, day): (i32, u8, u8), listed: &[BirthDate]) -> (i32, Option<Agreed>) {
    listed
        .iter()
        .map(|b| match *b {
            BirthDate::Exact { year: y, month: m, day: d } if (y, m, d) == (year, month, day) => {
                (20, Some(Agreed::BirthDate))
            }
            BirthDate::Exact { year: y, .. } if y == year => (5, Some(Agreed::BirthYear)),
            BirthDate::Exact { year: y, month: m, day: d } if (y - year).abs() == 1 && (m, d) == (month, day) => {
                (5, Some(Agreed::BirthYear))
            }
            BirthDate::Month { year: y, month: m } if (y, m) == (year, month) => (15, Some(Agreed::BirthDate)),
            BirthDate::Month { year: y, .. } if y == year => (5, Some(Agreed::BirthYear)),
            BirthDate::Year { year: y } if y == year => (12, Some(Agreed::BirthYear)),
            BirthDate::Year { year: y } if (y - year).abs() == 1 => (0, None),
            BirthDate::Circa { year: y } if (y - year).abs() <= 2 => (10, Some(Agreed::BirthYear)),
            BirthDate::Circa { year: y } if (y - year).abs() <= 4 => (0, None),
            BirthDate::Range { from, to } if (from..=to).contains(&year) => (10, Some(Agreed::BirthYear)),
            BirthDate::Range { from, to } if (from - 1..=to + 1).contains(&year) => (0, None),
            _ => (-25, None),
        })
        .max_by_key(|(points, _)| *points)
        .unwrap_or((0, None))
}
