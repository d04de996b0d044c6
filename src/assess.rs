//! The risk assessed outside the pipeline: from the claims when a verification is created,
//! and again whenever the candidate's network or machine becomes known (a new address, a
//! device report), so that the HR system's `GET` shows those signals before submission.

use crate::context::Context;
use crate::domain::claims::{BirthDate, RawClaims};
use crate::domain::time::Timestamp;
use crate::network::facts::{self, NetworkFacts};
use crate::pipeline::risk::{self, Risk};
use crate::storage::{ClaimHashes, VerificationRecord};

#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error("storage")]
    Storage(#[from] crate::storage::StorageError),
    #[error("network facts")]
    Facts(#[from] facts::FactsError),
    #[error("the stored claims do not open or parse")]
    Claims,
    #[error("result encoding")]
    Json(#[from] serde_json::Error),
}

/// The claims-only risk of a new verification, with the keyed hashes stored for later
/// reuse look-ups.
pub async fn intake(
    ctx: &Context,
    (org, id): (&str, &str),
    raw: &RawClaims,
    birth: time::Date,
    now: Timestamp,
) -> Result<(Option<Risk>, ClaimHashes), AssessError> {
    let hashes = risk::reuse::hashes(raw, &ctx.sealer);
    let network = NetworkFacts { versions: ctx.network.versions.clone(), ..NetworkFacts::default() };
    Ok((assess(ctx, (org, id), raw, birth, now, &hashes, &network).await?, hashes))
}

async fn assess(
    ctx: &Context,
    (org, id): (&str, &str),
    raw: &RawClaims,
    birth: time::Date,
    now: Timestamp,
    hashes: &ClaimHashes,
    network: &NetworkFacts,
) -> Result<Option<Risk>, AssessError> {
    let reuse = ctx.store.claims_under_other_identities(org, id, hashes, risk::reuse::LOOKED_AT).await?;
    let policy = ctx.settings.risk_policy();
    let sanctions = ctx.sanctions.get();
    let risk_ctx = risk::Context { lists: &ctx.lists, policy: &policy, reuse: &reuse, sanctions: &sanctions, network };
    Ok(risk::assess_claims(raw, birth, now, &risk_ctx))
}

/// Assesses a verification again with what is now known of its network and machine, and
/// stores the result while the candidate is still on the page. Returns the new risk.
pub async fn reassess(ctx: &Context, record: &VerificationRecord) -> Result<Option<Risk>, AssessError> {
    if record.status.next_step().is_none() {
        return Ok(None);
    }
    let now = ctx.clock.now();
    let today = now.date().ok_or(AssessError::Claims)?;
    let raw = record.open_claims(&ctx.sealer).map_err(|_| AssessError::Claims)?;
    let birth = BirthDate::parse(&raw.birth_date, today).map_err(|_| AssessError::Claims)?.date();
    let hashes = risk::reuse::hashes(&raw, &ctx.sealer);
    let network = facts::load(ctx, &record.id, &record.org_id, &hashes.identity_hash).await?;
    let Some(risk) = assess(ctx, (&record.org_id, &record.id), &raw, birth, now, &hashes, &network).await? else {
        return Ok(None);
    };
    ctx.store.update_intake_risk(&record.id, risk.score, &serde_json::to_string(&risk)?).await?;
    Ok(Some(risk))
}
