//! After the pipeline: the same document or the same selfie under another identity, as
//! risk signals (the document's reuse is known once its number is hashed; the selfie's from
//! the liveness stage's replay and near-duplicate findings). The decision is made again.

use serde_json::json;

use super::policy;
use crate::context::Context;
use crate::pipeline::risk::{Family, Signal};
use crate::pipeline::{self, StageOutcome};
use crate::storage::VerificationRecord;

/// How many other verifications a signal's evidence names.
const NAMED: usize = 10;

fn signal(code: &'static str, family: Family, ctx: &Context, linked: &[(String, bool)]) -> Signal {
    let named: Vec<&String> = linked.iter().filter(|(_, own)| *own).map(|(id, _)| id).take(NAMED).collect();
    let other_orgs = linked.iter().filter(|(_, own)| !*own).count();
    let weights = &ctx.settings.risk.weights;
    Signal::new(
        code,
        family,
        weights,
        json!({ "verifications": linked.len(), "newest": named, "other_organisations": other_orgs }),
    )
}

/// The selfie's earlier sightings (replayed bytes, near-duplicate frames) under another
/// identity: (verification, in the organisation).
async fn selfie_links(
    ctx: &Context,
    record: &VerificationRecord,
    results: &pipeline::StageResults,
) -> Result<Vec<(String, bool)>, String> {
    let Some(StageOutcome::Done(live)) = &results.liveness else { return Ok(Vec::new()) };
    let mut ids: Vec<String> = live.seen.iter().map(|s| s.verification.clone()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let fail = super::case::storage_error;
    let Some((mine, _)) = ctx.store.identity_of(&record.id).await.map_err(fail)? else { return Ok(Vec::new()) };
    let mut linked = Vec::new();
    ids.sort();
    ids.dedup();
    for id in ids {
        if let Some((theirs, org)) = ctx.store.identity_of(&id).await.map_err(fail)? {
            let own = org == record.org_id;
            if theirs != mine && (own || ctx.settings.risk.cross_organisation_links) {
                linked.push((id, own));
            }
        }
    }
    Ok(linked)
}

/// Adds the document and selfie links to the risk and decides again.
pub(super) async fn add_links(
    ctx: &Context,
    record: &VerificationRecord,
    results: &mut pipeline::StageResults,
    document_links: &[(String, bool)],
) -> Result<(), String> {
    let selfie = selfie_links(ctx, record, results).await?;
    let StageOutcome::Done(risk) = &mut results.risk else { return Ok(()) };
    let mut added = Vec::new();
    if !document_links.is_empty() {
        added.push(signal("document_other_identity", Family::Document, ctx, document_links));
    }
    if !selfie.is_empty() {
        added.push(signal("selfie_other_identity", Family::Face, ctx, &selfie));
    }
    if added.is_empty() {
        return Ok(());
    }
    risk.add_signals(added, &ctx.settings.risk_policy());
    results.decide(policy(ctx));
    Ok(())
}
