//! Country names as lists write them ("Korea, North", "Democratic People's Republic of
//! Korea", "Iran (Islamic Republic of)") to ISO 3166-1 alpha-2.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Names the ISO short names do not cover, folded as `key` folds them.
const ALIASES: &[(&str, &str)] = &[
    ("KOREA NORTH", "KP"),
    ("NORTH KOREA", "KP"),
    ("DEMOCRATIC PEOPLE S REPUBLIC OF KOREA", "KP"),
    ("DPRK", "KP"),
    ("KOREA SOUTH", "KR"),
    ("SOUTH KOREA", "KR"),
    ("REPUBLIC OF KOREA", "KR"),
    ("IRAN", "IR"),
    ("RUSSIA", "RU"),
    ("SYRIA", "SY"),
    ("UNITED KINGDOM", "GB"),
    ("UNITED STATES", "US"),
    ("UNITED STATES OF AMERICA", "US"),
    ("TANZANIA", "TZ"),
    ("UNITED REPUBLIC OF TANZANIA", "TZ"),
    ("VENEZUELA", "VE"),
    ("BOLIVIA", "BO"),
    ("LAOS", "LA"),
    ("VIETNAM", "VN"),
    ("VIET NAM", "VN"),
    ("MOLDOVA", "MD"),
    ("BURMA", "MM"),
    ("TURKEY", "TR"),
    ("TURKIYE", "TR"),
    ("PALESTINIAN", "PS"),
    ("STATE OF PALESTINE", "PS"),
    ("WEST BANK", "PS"),
    ("GAZA", "PS"),
    ("CONGO DEMOCRATIC REPUBLIC OF THE", "CD"),
    ("DEMOCRATIC REPUBLIC OF THE CONGO", "CD"),
    ("CONGO REPUBLIC OF THE", "CG"),
    ("CONGO", "CG"),
    ("IVORY COAST", "CI"),
    ("COTE D IVOIRE", "CI"),
    ("CZECH REPUBLIC", "CZ"),
    ("MACEDONIA", "MK"),
    ("NORTH MACEDONIA", "MK"),
    ("KOSOVO", "XK"),
    ("THE GAMBIA", "GM"),
    ("GAMBIA THE", "GM"),
    ("BAHAMAS THE", "BS"),
    ("TAIWAN", "TW"),
    ("BRUNEI", "BN"),
    ("CAPE VERDE", "CV"),
    ("SWAZILAND", "SZ"),
    ("SAINT KITTS AND NEVIS", "KN"),
    ("ST KITTS AND NEVIS", "KN"),
    ("MICRONESIA", "FM"),
    ("VATICAN CITY", "VA"),
    ("HOLY SEE", "VA"),
    ("CURACAO", "CW"),
];

/// Upper-case ASCII words joined by one space.
fn key(name: &str) -> String {
    deunicode::deunicode(name)
        .to_ascii_uppercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn table() -> &'static HashMap<String, &'static str> {
    static TABLE: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut map: HashMap<String, &'static str> = HashMap::new();
        for code in isocountry::CountryCode::iter() {
            map.insert(key(code.name()), code.alpha2());
            // "Iran (Islamic Republic of)" → also "IRAN"; "Korea (Republic of)" is in ALIASES.
            if let Some((short, _)) = code.name().split_once(['(', ',']) {
                map.entry(key(short)).or_insert(code.alpha2());
            }
        }
        for (name, code) in ALIASES {
            map.insert((*name).to_owned(), code);
        }
        map
    })
}

/// The alpha-2 code of a country as a list names it, if known.
pub fn alpha2(name: &str) -> Option<&'static str> {
    let k = key(name);
    if k.len() == 2
        && let Ok(code) = isocountry::CountryCode::for_alpha2(&k)
    {
        return Some(code.alpha2());
    }
    table().get(&k).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_spellings_resolve() {
        assert_eq!(alpha2("Korea, North"), Some("KP"));
        assert_eq!(alpha2("Democratic People's Republic of Korea"), Some("KP"));
        assert_eq!(alpha2("Iran (Islamic Republic of)"), Some("IR"));
        assert_eq!(alpha2("Russian Federation"), Some("RU"));
        assert_eq!(alpha2("United Kingdom of Great Britain and Northern Ireland"), Some("GB"));
        assert_eq!(alpha2("Türkiye"), Some("TR"));
        assert_eq!(alpha2("Afghanistan"), Some("AF"));
        assert_eq!(alpha2("Atlantis"), None);
    }
}
