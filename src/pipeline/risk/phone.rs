//! Phone signals (the `phonenumber` crate's metadata): unparseable, invalid for its own
//! country, another country than the residence, a line type that hides who holds it, a
//! calling code in the high-risk set. (The same number under another identity is
//! `reuse.rs`.) Evidence names countries and types, never the number.

use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{PhoneNumber, Type};
use serde_json::json;

use super::{Family, Signal, Weights};

/// The number as claimed, read in the residence country when it has no `+` prefix.
pub fn parse(phone: &str, residence: &str) -> Option<PhoneNumber> {
    phonenumber::parse(Id::from_str(residence).ok(), phone).ok()
}

/// ISO alpha-2 of the number's country, if the calling code maps to one.
fn region(number: &PhoneNumber) -> Option<String> {
    number.country().id().map(|id| format!("{id:?}"))
}

fn line_type_code(kind: Type) -> Option<&'static str> {
    Some(match kind {
        Type::Voip => "phone_voip",
        Type::PremiumRate => "phone_premium_rate",
        Type::TollFree => "phone_toll_free",
        Type::Pager => "phone_pager",
        Type::Uan => "phone_uan",
        Type::PersonalNumber => "phone_personal_number",
        Type::SharedCost => "phone_shared_cost",
        _ => return None,
    })
}

/// The calling codes of the high-risk countries (KP is +850).
fn calling_code_of(country: &str) -> Option<u16> {
    phonenumber::metadata::DATABASE.by_id(country).map(|m| m.country_code())
}

pub fn signals(phone: &str, residence: &str, high_risk: &[String], weights: &Weights) -> Vec<Signal> {
    let mut out = Vec::new();
    let mut push = |code: &'static str, evidence| out.push(Signal::new(code, Family::Phone, weights, evidence));
    let Some(number) = parse(phone, residence) else {
        push("phone_unparseable", json!({}));
        return out;
    };
    let calling_code = number.country().code();
    let region = region(&number);
    if number.is_valid() {
        let kind = number.number_type(&phonenumber::metadata::DATABASE);
        if let Some(code) = line_type_code(kind) {
            push(code, json!({ "line_type": format!("{kind:?}"), "region": region }));
        }
    } else {
        let possible = phonenumber::is_viable(phone);
        push("phone_invalid", json!({ "calling_code": calling_code, "region": region, "viable_text": possible }));
    }
    if let Some(r) = region.as_deref()
        && r != residence
    {
        push("phone_not_residence_country", json!({ "region": r, "residence": residence }));
    }
    let risky =
        high_risk.iter().find(|c| region.as_deref() == Some(c.as_str()) || calling_code_of(c) == Some(calling_code));
    if let Some(country) = risky {
        push("phone_high_risk_country", json!({ "country": country, "calling_code": calling_code }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(phone: &str, residence: &str) -> Vec<&'static str> {
        signals(phone, residence, &["KP".to_owned()], &Weights::default()).iter().map(|s| s.code).collect()
    }

    #[test]
    fn the_red_flags_employers_name() {
        assert!(codes("(650) 253-0000", "US").is_empty(), "{:?}", codes("(650) 253-0000", "US"));
        assert!(codes("555-0100", "US").contains(&"phone_invalid"));
        let kp = codes("+850 2 381 5926", "US");
        assert!(kp.contains(&"phone_high_risk_country") && kp.contains(&"phone_not_residence_country"), "{kp:?}");
        assert_eq!(codes("+44 7911 123456", "US"), ["phone_not_residence_country"]);
        assert_eq!(codes("not a phone", "US"), ["phone_unparseable"]);
        assert!(codes("+44 909 879 0000", "GB").contains(&"phone_premium_rate"));
        assert!(codes("+44 56 0000 0000", "GB").contains(&"phone_voip"), "{:?}", codes("+44 56 0000 0000", "GB"));
        assert!(codes("030 901820", "DE").is_empty(), "{:?}", codes("030 901820", "DE"));
    }
}
