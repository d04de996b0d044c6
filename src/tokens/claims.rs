//! The claims of a verification token, in the shape of OpenID Connect for Identity
//! Assurance: who verified (`iss`), whom (`sub`, the verification), for whom (`aud`, the
//! organisation), and `verified_claims` with what was checked and the verified identity.
//! No image, embedding or raw score is ever part of a token.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    /// The verification id.
    pub sub: String,
    /// The organisation's client id.
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// The transaction of this issuance (also in the audit log).
    pub txn: String,
    pub verified_claims: VerifiedClaims,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedClaims {
    pub verification: Verification,
    pub claims: IdentityClaims,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub trust_framework: String,
    /// When the verification was decided (RFC 3339).
    pub time: String,
    /// The verification id, as the OIDC IA `verification_process`.
    pub verification_process: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    #[serde(rename = "type")]
    pub kind: String,
    /// What was read from the document, when it was read (document type, issuing country,
    /// a keyed hash of the number; never the number itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_details: Option<DocumentDetails>,
    pub check_details: Vec<CheckDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentDetails {
    #[serde(rename = "type")]
    pub kind: String,
    pub issuer_country: String,
    /// HMAC-SHA256 of the number under this deployment's look-up key: the same document
    /// gives the same value in every token, and nobody without the key can test a guess.
    pub document_number_hash: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckDetail {
    /// `mrz` or `pdf417` (the document read and checked), `face_match`, `liveness`,
    /// `risk_screening` (the application's risk signals, with the lists read).
    pub check: String,
    /// OIDC IA check method (`bvr`: biometric verification, remote).
    pub check_method: String,
    pub result: String,
    /// Coarse band of the score (`high`, `medium`, `low`); never the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_band: Option<String>,
    /// The reference lists a screening ran against (name, version, sha256).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<ListRef>,
}

/// One reference list a check read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRef {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityClaims {
    pub given_name: String,
    pub family_name: String,
    /// YYYY-MM-DD.
    pub birthdate: String,
}
