//! Issuing a token for an approved verification: the claims, signed by the active token
//! key, with the record (token sealed) and the audit event to store with the decision.

use jsonwebtoken::{EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::claims::{
    CheckDetail, DocumentDetails, Evidence, IdentityClaims, TokenClaims, Verification, VerifiedClaims,
};
use super::keyring::{KeyError, Signer};
use crate::audit::event::{Actor, Kind, NewEvent};
use crate::crypto::aead::{SealError, Sealer};
use crate::crypto::signing::Alg;
use crate::document::mrz::DocumentKind;
use crate::domain::time::Timestamp;
use crate::pipeline::document_check::DocumentCheck;
use crate::storage::{ClaimsError, NewToken, VerificationRecord};

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("signing key")]
    Key(#[from] KeyError),
    #[error("sealed data")]
    Seal(#[from] SealError),
    #[error("the stored claims are unreadable")]
    Claims,
    #[error("signing failed")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// A signed token, what to store, and its audit event.
pub struct Issued {
    pub token: String,
    pub record: NewToken,
    pub event: NewEvent,
    pub claims: TokenClaims,
}

/// Coarse band of a face-match similarity above the threshold: never the score itself.
pub fn score_band(similarity: f32, threshold: f32) -> &'static str {
    let margin = similarity - threshold;
    if margin >= 0.3 {
        "high"
    } else if margin >= 0.15 {
        "medium"
    } else {
        "low"
    }
}

/// What the stages established, as a token states it: kept with a case that was not
/// approved automatically, so that a reviewer's approval issues the same evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageEvidence {
    /// What each stage established (`pipeline::StageResults::evidence`).
    pub checks: Vec<CheckDetail>,
    /// What was read from the document (`document_details`).
    pub document: Option<DocumentDetails>,
}

/// The token's document details of what the document stage read.
pub fn document_details(check: &DocumentCheck, number_hash: &str) -> DocumentDetails {
    DocumentDetails {
        kind: document_type(check).into(),
        issuer_country: check.issuing_state.clone().unwrap_or_default(),
        document_number_hash: number_hash.to_owned(),
    }
}

pub struct IssueInput<'a> {
    pub verification: &'a VerificationRecord,
    pub evidence: StageEvidence,
    pub issuer: &'a str,
    pub ttl_days: u64,
    pub now: Timestamp,
    pub actor: Actor,
}

pub fn sign(claims: &TokenClaims, signer: &Signer) -> Result<String, jsonwebtoken::errors::Error> {
    let (alg, key) = match signer.alg {
        Alg::EdDSA => (jsonwebtoken::Algorithm::EdDSA, EncodingKey::from_ed_der(&signer.pkcs8)),
        Alg::ES256 => (jsonwebtoken::Algorithm::ES256, EncodingKey::from_ec_der(&signer.pkcs8)),
    };
    let mut header = Header::new(alg);
    header.kid = Some(signer.kid.clone());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, claims, &key)
}

pub fn issue(input: &IssueInput<'_>, signer: &Signer, sealer: &Sealer) -> Result<Issued, IssueError> {
    let v = input.verification;
    let person = v.open_claims(sealer).map_err(|e| match e {
        ClaimsError::Seal(e) => IssueError::Seal(e),
        ClaimsError::Json => IssueError::Claims,
    })?;
    let jti = uuid::Uuid::new_v4().to_string();
    let txn = uuid::Uuid::new_v4().to_string();
    let iat = input.now.millis().div_euclid(1000);
    let exp = iat.saturating_add(i64::try_from(input.ttl_days).unwrap_or(i64::MAX / 86_400 - 1) * 86_400);
    let claims = TokenClaims {
        iss: input.issuer.to_owned(),
        sub: v.id.clone(),
        aud: v.org_id.clone(),
        iat,
        nbf: iat,
        exp,
        jti: jti.clone(),
        txn: txn.clone(),
        verified_claims: VerifiedClaims {
            verification: Verification {
                trust_framework: "idgate".into(),
                time: input.now.to_rfc3339(),
                verification_process: v.id.clone(),
                evidence: vec![Evidence {
                    kind: "document".into(),
                    document_details: input.evidence.document.clone(),
                    check_details: input.evidence.checks.clone(),
                }],
            },
            claims: IdentityClaims {
                given_name: person.given_name,
                family_name: person.family_name,
                birthdate: person.birth_date,
            },
        },
    };
    let token = sign(&claims, signer)?;
    let expires_at = Timestamp::from_millis(exp.saturating_mul(1000));
    let record = NewToken {
        jti: jti.clone(),
        verification_id: v.id.clone(),
        org_id: v.org_id.clone(),
        kid: signer.kid.clone(),
        txn: txn.clone(),
        sealed_token: sealer.seal(token.as_bytes(), &format!("token:{jti}"))?,
        issued_at: input.now,
        expires_at,
    };
    let data = serde_json::json!({
        "jti": jti, "txn": txn, "kid": signer.kid, "alg": signer.alg.as_str(),
        "expires_at": expires_at.to_rfc3339(), "token_sha256": hex::encode(Sha256::digest(token.as_bytes())),
    });
    let event = NewEvent::about(Kind::TokenIssued, &v.org_id, &v.id, input.actor.clone(), data);
    Ok(Issued { token, record, event, claims })
}

/// The OIDC IA document type of what the stage read.
fn document_type(check: &DocumentCheck) -> &'static str {
    match (check.source, check.document_kind) {
        ("pdf417", _) => "driving_permit",
        (_, Some(DocumentKind::Passport)) => "passport",
        (_, Some(DocumentKind::IdCard)) => "idcard",
        (_, Some(DocumentKind::Visa)) => "visa",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_relative_to_the_threshold() {
        assert_eq!(score_band(0.8, 0.372), "high");
        assert_eq!(score_band(0.55, 0.372), "medium");
        assert_eq!(score_band(0.40, 0.372), "low");
    }
}
