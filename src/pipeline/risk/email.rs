//! E-mail signals: malformed, a disposable domain (a list a registry package ships, its
//! version recorded), free webmail as information only. (The same address under another
//! identity is `reuse.rs`.) Evidence names the domain's kind, never the address.

use serde_json::json;

use super::lists::ReferenceLists;
use super::{Family, Signal, Weights};

/// `local@domain` with a non-empty local part (≤ 64), a dotted domain of letters, digits and
/// hyphens, and no spaces.
fn well_formed(address: &str) -> Option<&str> {
    let (local, domain) = address.rsplit_once('@')?;
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && labels_ok;
    ok.then_some(domain)
}

/// The domain and each parent domain (`a.b.example.com`, `b.example.com`, `example.com`).
fn with_parents(domain: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(domain);
    std::iter::from_fn(move || {
        let now = rest?;
        rest = now.split_once('.').map(|(_, tail)| tail).filter(|t| t.contains('.'));
        Some(now)
    })
}

pub fn signals(address: &str, lists: &ReferenceLists, weights: &Weights) -> Vec<Signal> {
    let Some(domain) = well_formed(address) else {
        return vec![Signal::new("email_malformed", Family::Email, weights, json!({}))];
    };
    let domain = domain.to_lowercase();
    let mut out = Vec::new();
    if with_parents(&domain).any(|d| lists.disposable.contains(d)) {
        out.push(Signal::new(
            "email_disposable",
            Family::Email,
            weights,
            json!({ "list": lists.version("disposable") }),
        ));
    } else if lists.free.contains(domain.as_str()) {
        out.push(Signal::new("email_free_webmail", Family::Email, weights, json!({ "list": lists.version("free") })));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_disposable_and_free() {
        let lists = ReferenceLists::from_domains(&["mailinator.com"], &["gmail.com"]);
        let codes = |a: &str| signals(a, &lists, &Weights::default()).iter().map(|s| s.code).collect::<Vec<_>>();
        assert_eq!(codes("jana.novakova@firma.cz"), Vec::<&str>::new());
        assert_eq!(codes("x@Mailinator.com"), ["email_disposable"]);
        assert_eq!(codes("x@eu.mailinator.com"), ["email_disposable"]);
        assert_eq!(codes("jana@gmail.com"), ["email_free_webmail"]);
        for bad in ["not-an-email", "a@b", "@example.com", "a b@example.com", "a@-x.com", "a@example..com"] {
            assert_eq!(codes(bad), ["email_malformed"], "{bad}");
        }
    }
}
