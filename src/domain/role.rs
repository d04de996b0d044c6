//! Who an API key speaks for.

use std::str::FromStr;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An HR system: creates and reads its organisation's verifications.
    Hr,
    /// A human reviewer: reads verifications (decides review cases, later).
    Reviewer,
    /// An auditor: reads verifications and (later) the audit log.
    Auditor,
    /// Everything within its organisation.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Self::Hr, Self::Reviewer, Self::Auditor, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hr => "hr",
            Self::Reviewer => "reviewer",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}
