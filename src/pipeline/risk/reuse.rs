//! The same phone or e-mail under another identity in the organisation: one person behind
//! several names (or one laptop farm's contact details reused). Compared by keyed hashes only.

use serde_json::json;

use super::{Family, Signal, Weights};
use crate::crypto::aead::Sealer;
use crate::domain::claims::RawClaims;
use crate::domain::names;
use crate::storage::{ClaimHash, ClaimHashes};

/// How many earlier verifications with the same phone or e-mail are looked at (the newest).
pub const LOOKED_AT: i64 = 100;

/// How many earlier verifications are named in a signal's evidence.
const NAMED: usize = 5;

/// The phone as compared: E.164 when it parsed at intake, else its digits (and a leading +).
fn phone_key(phone: &str) -> String {
    let trimmed = phone.trim();
    let plus = if trimmed.starts_with('+') { "+" } else { "" };
    format!("{plus}{}", trimmed.chars().filter(char::is_ascii_digit).collect::<String>())
}

/// The address as compared: lower case, a `+tag` dropped, and Gmail's dots (which Gmail
/// ignores) removed.
pub fn email_key(email: &str) -> String {
    let lower = email.trim().to_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else { return lower };
    let local = local.split('+').next().unwrap_or(local);
    let local =
        if matches!(domain, "gmail.com" | "googlemail.com") { local.replace('.', "") } else { local.to_owned() };
    let domain = if domain == "googlemail.com" { "gmail.com" } else { domain };
    format!("{local}@{domain}")
}

/// The identity as compared: folded names and the birth date.
fn identity_key(claims: &RawClaims) -> String {
    format!(
        "{}|{}|{}",
        names::fold(&claims.given_name).join(" "),
        names::fold(&claims.family_name).join(" "),
        claims.birth_date
    )
}

/// The keyed hashes stored with a new verification.
pub fn hashes(claims: &RawClaims, sealer: &Sealer) -> ClaimHashes {
    ClaimHashes {
        identity_hash: sealer.lookup_hash("claim-identity", &identity_key(claims)),
        values: vec![
            ClaimHash { kind: "phone", value_hash: sealer.lookup_hash("claim-phone", &phone_key(&claims.phone)) },
            ClaimHash { kind: "email", value_hash: sealer.lookup_hash("claim-email", &email_key(&claims.email)) },
        ],
    }
}

/// Other verifications with the same value under another identity, by kind.
pub type Found = Vec<(&'static str, Vec<String>)>;

pub fn signals(found: &Found, weights: &Weights) -> Vec<Signal> {
    found
        .iter()
        .filter_map(|(kind, ids)| {
            let (code, family) = match *kind {
                "phone" => ("phone_other_identity", Family::Phone),
                "email" => ("email_other_identity", Family::Email),
                _ => return None,
            };
            let named: Vec<&String> = ids.iter().take(NAMED).collect();
            Some(Signal::new(code, family, weights, json!({ "verifications": ids.len(), "newest": named })))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_contact_compares_equal_however_written() {
        assert_eq!(email_key("Jane.Doe+jobs@GoogleMail.com"), email_key("janedoe@gmail.com"));
        assert_ne!(email_key("jane.doe@example.com"), email_key("janedoe@example.com"));
        assert_eq!(phone_key("+1 (650) 253-0000"), "+16502530000");
        let found: Found = vec![("phone", vec!["a".into(), "b".into()])];
        let s = signals(&found, &Weights::default());
        assert_eq!((s[0].code, s[0].evidence["verifications"].as_u64()), ("phone_other_identity", Some(2)));
    }
}
