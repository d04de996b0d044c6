//! Comparing a claimed name with the name on a document: case, accents and transliteration
//! folded (both the plain Latin fold and ICAO 9303's digraphs, Ü → UE), given and family order
//! tolerated, extra middle names and MRZ truncation tolerated; the result is a similarity in
//! [0, 1], not only equality.

use deunicode::deunicode;
use strsim::jaro_winkler;

/// Upper-case ASCII words of a name, folded the plain way (Müller → MULLER).
pub fn fold(name: &str) -> Vec<String> {
    words(&deunicode(name))
}

/// The ICAO 9303 transliteration of the common digraph letters (Müller → MUELLER).
pub fn fold_icao(name: &str) -> Vec<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'Ä' | 'ä' | 'Æ' | 'æ' => out.push_str("AE"),
            'Ö' | 'ö' | 'Ø' | 'ø' | 'Œ' | 'œ' => out.push_str("OE"),
            'Ü' | 'ü' => out.push_str("UE"),
            'ß' => out.push_str("SS"),
            'Þ' | 'þ' => out.push_str("TH"),
            other => out.push(other),
        }
    }
    words(&deunicode(&out))
}

fn words(ascii: &str) -> Vec<String> {
    ascii
        .to_ascii_uppercase()
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// How a claimed name compares with a document's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NameMatch {
    /// 0–1: the mean of the family-name and given-name similarities.
    pub similarity: f32,
    /// The document has the claimed family name as its given names and vice versa.
    pub swapped: bool,
}

/// Similarity of word lists: each claimed word against its best document word (a document
/// word that the claimed word starts with counts fully, for MRZ truncation), averaged. Extra
/// document words (middle names) cost nothing; missing claimed words do.
fn words_similarity(claimed: &[String], document: &[String]) -> f64 {
    if claimed.is_empty() || document.is_empty() {
        return 0.0;
    }
    let joined = |w: &[String]| w.concat();
    // Words run together or split differently (VAN DER BERG / VANDERBERG).
    let whole = jaro_winkler(&joined(claimed), &joined(document));
    let per_word = claimed
        .iter()
        .map(|c| {
            document
                .iter()
                .map(|d| if d.len() >= 3 && c.starts_with(d.as_str()) { 1.0 } else { jaro_winkler(c, d) })
                .fold(0.0, f64::max)
        })
        .sum::<f64>()
        / claimed.len() as f64;
    whole.max(per_word)
}

fn compare_folded(given: &[String], family: &[String], doc_given: &[String], doc_family: &[String]) -> NameMatch {
    let straight = (words_similarity(family, doc_family) + words_similarity(given, doc_given)) / 2.0;
    let swapped = (words_similarity(family, doc_given) + words_similarity(given, doc_family)) / 2.0;
    if swapped > straight + 0.05 {
        NameMatch { similarity: swapped as f32, swapped: true }
    } else {
        NameMatch { similarity: straight as f32, swapped: false }
    }
}

/// Compares the claimed given and family names with the document's, under both folds.
pub fn compare(given: &str, family: &str, doc_given: &str, doc_family: &str) -> NameMatch {
    let plain = compare_folded(&fold(given), &fold(family), &fold(doc_given), &fold(doc_family));
    let icao = compare_folded(&fold_icao(given), &fold_icao(family), &fold(doc_given), &fold(doc_family));
    if icao.similarity > plain.similarity { icao } else { plain }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_transliteration() {
        assert_eq!(fold("José-María Ñúñez"), vec!["JOSE", "MARIA", "NUNEZ"]);
        assert_eq!(fold_icao("Müller"), vec!["MUELLER"]);
        assert!(compare("Jürgen", "Müller", "JUERGEN", "MUELLER").similarity > 0.99);
        assert!(compare("Jürgen", "Müller", "JURGEN", "MULLER").similarity > 0.99);
    }

    #[test]
    fn middle_names_truncation_and_order_are_tolerated() {
        assert!(compare("Anna", "Eriksson", "ANNA MARIA", "ERIKSSON").similarity > 0.99);
        assert!(compare("Maximilian", "Schwarzenegger", "MAXIMILIA", "SCHWARZENEGGER").similarity > 0.99);
        let swapped = compare("Eriksson", "Anna", "ANNA", "ERIKSSON");
        assert!(swapped.swapped && swapped.similarity > 0.99);
    }

    #[test]
    fn different_people_score_low() {
        assert!(compare("Leonardo", "Testcandidate", "ANNA MARIA", "ERIKSSON").similarity < 0.6);
        let near = compare("Jon", "Smith", "JOHN", "SMITH").similarity;
        assert!(near > 0.9 && near < 1.0, "{near}");
    }
}
