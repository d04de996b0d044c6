//! What every stage gives besides its result: the data of its audit event (codes, bands and
//! hashes; never a name, number, birth date or biometric) and what an approved token says it
//! established.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StageOutcome;
use crate::tokens::claims::CheckDetail;

/// What the stages' token evidence is relative to.
#[derive(Debug, Clone, Copy)]
pub struct EvidenceContext {
    pub match_threshold: f32,
}

pub trait Stage: Serialize {
    /// The stage's name in the audit log (`document`, `face_match`, ...).
    const NAME: &'static str;

    /// The audit event's data: a JSON object (`stage`, `outcome` and `result_sha256` are added).
    fn audit(&self) -> serde_json::Value;

    /// What an approved token records of this stage (nothing by default).
    fn evidence(&self, _ctx: EvidenceContext) -> Vec<CheckDetail> {
        Vec::new()
    }
}

/// The sha256 of a value's JSON: the audit log commits to a result without holding it.
pub fn sha256_json<T: Serialize>(value: &T) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(value).unwrap_or_default()))
}

impl<T: Stage> StageOutcome<T> {
    /// The stage's audit event data, whether it ran or was refused.
    pub fn audit_event(&self) -> serde_json::Value {
        match self {
            StageOutcome::Done(result) => {
                let mut data = result.audit();
                if let Some(object) = data.as_object_mut() {
                    object.insert("stage".into(), T::NAME.into());
                    object.insert("outcome".into(), "done".into());
                    object.insert("result_sha256".into(), sha256_json(self).into());
                }
                data
            }
            StageOutcome::Refused { code } => {
                serde_json::json!({ "stage": T::NAME, "outcome": "refused", "code": code })
            }
        }
    }

    pub fn evidence(&self, ctx: EvidenceContext) -> Vec<CheckDetail> {
        match self {
            StageOutcome::Done(result) => result.evidence(ctx),
            StageOutcome::Refused { .. } => Vec::new(),
        }
    }

    /// The result, or the code of the input problem that stopped the stage.
    pub fn as_result(&self) -> Result<&T, &str> {
        match self {
            StageOutcome::Done(result) => Ok(result),
            StageOutcome::Refused { code } => Err(code),
        }
    }
}
