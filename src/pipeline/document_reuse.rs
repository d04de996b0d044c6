//! The same document on earlier verifications. A document is *reused* when it appears under
//! another claimed identity (another name or birth date, names compared as the document stage
//! compares them): critical, wherever it was. The same identity seen again (a second
//! application, a second employer on the deployment) is information only, counted within the
//! organisation unless the operator widens the scope. An earlier use under another identity
//! whose claims the document itself contradicted (its name or birth date) is the likely
//! impostor, not the candidate now: that is for a human, not a reject.

use serde::{Deserialize, Serialize};

use super::document_check::{ClaimedIdentity, DocumentPolicy, Finding, Severity};
use crate::domain::names;

/// Where the same identity's earlier verifications are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeenScope {
    /// Only the verification's own organisation (another employer's applicants stay private).
    #[default]
    Organisation,
    /// Every organisation on the deployment.
    Deployment,
}

/// How two claimed identities compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinship {
    Same,
    /// Same birth date, names between the mismatch and match thresholds: a human looks.
    Similar,
    Other,
}

/// Compares two claimed identities: the birth dates must be equal, the names as similar as
/// the document stage requires of a claim and its document (either way round, so that extra
/// middle names on one side cost nothing).
pub fn kinship(a: &ClaimedIdentity, b: &ClaimedIdentity, policy: DocumentPolicy) -> Kinship {
    if a.birth_date != b.birth_date {
        return Kinship::Other;
    }
    let there = names::compare(&a.given_name, &a.family_name, &b.given_name, &b.family_name).similarity;
    let back = names::compare(&b.given_name, &b.family_name, &a.given_name, &a.family_name).similarity;
    let similarity = there.max(back);
    if similarity >= policy.name_match {
        Kinship::Same
    } else if similarity >= policy.name_mismatch {
        Kinship::Similar
    } else {
        Kinship::Other
    }
}

/// One earlier verification with the same document: its organisation and claimed identity
/// (`None` when its claims could not be opened; it then counts as a similar identity, for a
/// human to look at).
pub struct EarlierUse {
    pub org_id: String,
    pub identity: Option<ClaimedIdentity>,
    /// Its document stage found the claims contradicted by the document (name or birth date).
    pub contradicted: bool,
}

/// The stage's record of earlier uses (counts only; which verifications is for reviewers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reuse {
    pub scope: SeenScope,
    /// The same identity, within the scope.
    pub same_identity: usize,
    /// A similar identity (same birth date, names only partly alike), anywhere.
    pub similar_identity: usize,
    /// Another identity, anywhere, whose claims agreed with the document.
    pub other_identity: usize,
    /// Another identity, anywhere, whose claims the document contradicted.
    pub other_identity_contradicted: usize,
}

/// Counts the earlier uses of the document by how their identity compares with `current`.
pub fn assess(
    current: &ClaimedIdentity,
    org_id: &str,
    earlier: &[EarlierUse],
    scope: SeenScope,
    policy: DocumentPolicy,
) -> Reuse {
    let mut reuse =
        Reuse { scope, same_identity: 0, similar_identity: 0, other_identity: 0, other_identity_contradicted: 0 };
    for used in earlier {
        match used.identity.as_ref().map_or(Kinship::Similar, |other| kinship(current, other, policy)) {
            Kinship::Same if scope == SeenScope::Deployment || used.org_id == org_id => reuse.same_identity += 1,
            Kinship::Same => {}
            Kinship::Similar => reuse.similar_identity += 1,
            Kinship::Other if used.contradicted => reuse.other_identity_contradicted += 1,
            Kinship::Other => reuse.other_identity += 1,
        }
    }
    reuse
}

impl Reuse {
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if self.other_identity > 0 {
            out.push(Finding { code: "document_reused", severity: Severity::Critical });
        }
        if self.other_identity_contradicted > 0 {
            out.push(Finding { code: "document_seen_with_contradicted_claims", severity: Severity::Major });
        }
        if self.similar_identity > 0 {
            out.push(Finding { code: "document_seen_similar_identity", severity: Severity::Major });
        }
        if self.same_identity > 0 {
            out.push(Finding { code: "document_seen_before", severity: Severity::Info });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn person(given: &str, family: &str, birth: time::Date) -> ClaimedIdentity {
        ClaimedIdentity {
            given_name: given.into(),
            family_name: family.into(),
            birth_date: birth,
            nationality: "SE".into(),
        }
    }

    fn used(org: &str, identity: ClaimedIdentity) -> EarlierUse {
        EarlierUse { org_id: org.into(), identity: Some(identity), contradicted: false }
    }

    #[test]
    fn the_same_person_again_is_information_another_is_reuse() {
        let policy = DocumentPolicy::default();
        let johan = person("Johan", "Eriksson", date!(1988 - 03 - 02));
        let again = person("JOHAN ERIK", "ERIKSSON", date!(1988 - 03 - 02));
        let other_birth = person("Johan", "Eriksson", date!(1988 - 03 - 03));
        let other_name = person("Leonardo", "Testcandidate", date!(1988 - 03 - 02));
        let typo = person("Johann", "Erikson", date!(1988 - 03 - 02));
        assert_eq!(kinship(&johan, &again, policy), Kinship::Same);
        assert_eq!(kinship(&johan, &other_birth, policy), Kinship::Other);
        assert_eq!(kinship(&johan, &other_name, policy), Kinship::Other);
        assert_ne!(kinship(&johan, &typo, policy), Kinship::Other);

        let earlier = [used("acme", again.clone()), used("acme", again.clone()), used("globex", again)];
        let reuse = assess(&johan, "acme", &earlier, SeenScope::Organisation, policy);
        assert_eq!((reuse.same_identity, reuse.other_identity), (2, 0));
        let codes: Vec<&str> = reuse.findings().iter().map(|f| f.code).collect();
        assert_eq!(codes, ["document_seen_before"]);
        assert_eq!(assess(&johan, "acme", &earlier, SeenScope::Deployment, policy).same_identity, 3);
        assert!(assess(&johan, "initech", &earlier[2..], SeenScope::Organisation, policy).findings().is_empty());

        let unreadable = EarlierUse { org_id: "acme".into(), identity: None, contradicted: false };
        let earlier = [used("globex", other_name.clone()), unreadable];
        let reuse = assess(&johan, "acme", &earlier, SeenScope::Organisation, policy);
        let findings = reuse.findings();
        assert_eq!(findings[0], Finding { code: "document_reused", severity: Severity::Critical });
        assert_eq!(findings[1].code, "document_seen_similar_identity");

        // An earlier impostor whom the document contradicted does not make this candidate one.
        let impostor = EarlierUse { org_id: "acme".into(), identity: Some(other_name), contradicted: true };
        let reuse = assess(&johan, "acme", &[impostor], SeenScope::Organisation, policy);
        let findings = reuse.findings();
        assert_eq!(findings, [Finding { code: "document_seen_with_contradicted_claims", severity: Severity::Major }]);
    }
}
