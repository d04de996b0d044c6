//! The `[review]` section: how human reviewers work on cases.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewSettings {
    /// How long a reviewer's claim on a case lasts without a decision, in minutes; then any
    /// reviewer may claim it.
    pub claim_minutes: u64,
    /// Four eyes: a decision that overturns an automatic reject or a sanctions match (an
    /// approval or a retake) takes effect only when a second reviewer agrees.
    pub four_eyes: bool,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        Self { claim_minutes: 30, four_eyes: true }
    }
}
