//! Names folded for comparison: Unicode to ASCII (Ř → R, Юрий → Iurii), upper case,
//! apostrophes dropped ('ABD → ABD), split on anything else (hyphens included); each word then
//! has a canonical romanisation (Korean McCune–Reischauer, Revised and popular spellings of
//! the same syllable: Pak/Park/Bak, Ri/Lee/Yi, Choe/Choi, Chol/Chul, Yong/Young/Yeong) and a
//! consonant skeleton for the vowel spellings of Arabic and other names (Muhammad/Mohammed).

/// The words of a name, folded.
pub fn words(name: &str) -> Vec<String> {
    let ascii = deunicode::deunicode(name).to_ascii_uppercase();
    let joined: String = ascii.chars().filter(|c| !matches!(c, '\'' | '`' | '"')).collect();
    joined.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Whole-word spellings of the same Korean surname or syllable, to the first of each row.
const ROMANISATIONS: &[&[&str]] = &[
    &["PAK", "PARK", "BAK", "BARK", "PACK"],
    &["RI", "LEE", "YI", "RHEE", "LI", "YEE", "RHIE", "RHI"],
    &["CHOE", "CHOI", "CHOY", "CHWE"],
    &["KIM", "GIM", "KIMM"],
    &["JONG", "JUNG", "JEONG", "CHUNG", "CHONG", "CHEONG"],
    &["KANG", "GANG"],
    &["CHO", "JO", "CHOH"],
    &["YUN", "YOON", "YUHN"],
    &["JANG", "CHANG"],
    &["SIN", "SHIN"],
    &["HAN", "HAHN"],
    &["O", "OH"],
    &["SO", "SEO", "SUH"],
    &["KWON", "GWON"],
    &["AN", "AHN"],
    &["YU", "RYU", "YOO", "RYOO"],
    &["JON", "JEON", "CHUN", "CHON"],
    &["KO", "GO", "KOH"],
    &["MUN", "MOON"],
    &["YANG", "RYANG"],
    &["SON", "SOHN"],
    &["PAE", "BAE"],
    &["PAEK", "BAEK", "BAIK", "PAIK"],
    &["HO", "HEO", "HUH"],
    &["NO", "NOH", "ROH"],
    &["KWAK", "GWAK"],
    &["CHOL", "CHUL", "CHEOL"],
    &["YONG", "YOUNG", "YEONG", "RYONG"],
    &["HYON", "HYUN", "HYEON"],
    &["UN", "EUN"],
    &["KWANG", "GWANG"],
    &["KYU", "GYU"],
    &["KIL", "GIL"],
    &["KUK", "GUK", "GOOK", "KOOK"],
    &["CHIN", "JIN"],
    &["CHU", "JU", "JOO", "CHOO"],
    &["TONG", "DONG"],
    &["TAE", "DAE"],
    &["PYONG", "BYUNG", "BYEONG", "PYEONG"],
    &["SONG", "SUNG", "SEONG"],
    &["MYONG", "MYUNG", "MYEONG"],
    &["HUI", "HEE", "HUY"],
];

/// The canonical spelling of a folded word: a romanisation variant to its row's first
/// spelling, else vowel digraphs simplified (EO → O, EU → U, OO → U, OU → U), PH → F and
/// doubled letters collapsed.
pub fn canonical(word: &str) -> String {
    if let Some(row) = ROMANISATIONS.iter().find(|row| row.contains(&word)) {
        return row.first().copied().unwrap_or(word).to_owned();
    }
    let s = word.replace("EO", "O").replace("EU", "U").replace("OO", "U").replace("OU", "U").replace("PH", "F");
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// The consonant skeleton: the first letter, then the consonants without repeats (vowels,
/// H, W and Y dropped). Equal skeletons of words of five letters or more are a near-match
/// (Muhammad, Mohammed, Mohamad).
pub fn skeleton(word: &str) -> String {
    let mut chars = word.chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut out = String::from(first);
    for c in chars {
        let c = match c {
            'A' | 'E' | 'I' | 'O' | 'U' | 'H' | 'W' | 'Y' => continue,
            'Q' | 'C' => 'K',
            'Z' => 'S',
            other => other,
        };
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// How alike two folded words are, 0–1: Jaro–Winkler of the spellings or of their canonical
/// forms, 1 for the same canonical word, 0.92 for the same skeleton.
pub fn similarity(a: &Folded, b: &Folded) -> f64 {
    if a.canonical == b.canonical {
        return 1.0;
    }
    let mut best = strsim::jaro_winkler(&a.word, &b.word).max(strsim::jaro_winkler(&a.canonical, &b.canonical));
    if a.skeleton == b.skeleton && a.skeleton.len() >= 2 && a.word.len().min(b.word.len()) >= 5 {
        best = best.max(0.92);
    }
    best
}

/// A word with its canonical spelling and skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    pub word: String,
    pub canonical: String,
    pub skeleton: String,
}

impl Folded {
    pub fn new(word: String) -> Self {
        let canonical = canonical(&word);
        let skeleton = skeleton(&canonical);
        Self { word, canonical, skeleton }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(a: &str, b: &str) -> f64 {
        similarity(&Folded::new(a.into()), &Folded::new(b.into()))
    }

    #[test]
    fn spellings_of_the_same_name_agree() {
        assert_eq!(words("Yong-Chol O'Brien"), ["YONG", "CHOL", "OBRIEN"]);
        assert_eq!(words("ĐORĐEVIĆ, Ljubiša"), ["DORDEVIC", "LJUBISA"]);
        for (a, b) in [("PARK", "PAK"), ("LEE", "RI"), ("CHOI", "CHOE"), ("CHUL", "CHOL"), ("YOUNG", "YONG")] {
            assert!((sim(a, b) - 1.0).abs() < 1e-9, "{a} {b}");
        }
        assert!(sim("MOHAMMED", "MUHAMMAD") >= 0.92);
        assert!(sim("KIM", "KIN") < 0.9);
        assert!(sim("SMITH", "JONES") < 0.6);
    }
}
