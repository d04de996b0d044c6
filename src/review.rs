//! A reviewer's decision on a case, taken as an automatic decision is: an audit event, a
//! status-change webhook and, on approval, a token with the stages' evidence plus the human
//! review. Four eyes: a decision that overturns an automatic reject or a sanctions match
//! waits for a second reviewer who agrees. Shared by the API and the console.

use crate::audit::event::{Actor, Kind, NewEvent};
use crate::context::Context;
use crate::crypto::secret_token;
use crate::domain::review::{ReviewDecision, ReviewInput, needs_second_reviewer, reviewable};
use crate::domain::time::Timestamp;
use crate::domain::verification::Status;
use crate::storage::{
    FinalChange, NewLink, NewToken, ReviewRecord, ReviewWrite, ReviewWritten, StorageError, VerificationRecord,
};
use crate::tokens::claims::CheckDetail;
use crate::tokens::issue::StageEvidence;

/// Who decides: the reviewer's id (`key:…`, `user:…`), organisation and audit actor.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub id: String,
    pub org_id: String,
    pub actor: Actor,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such case")]
    NotFound,
    #[error("the case is {0:?}, not waiting for a reviewer")]
    NotReviewable(Status),
    #[error("another reviewer holds the case")]
    ClaimedByAnother,
    #[error("the reviewer does not hold the case")]
    ClaimRequired,
    #[error("the same reviewer cannot be the second pair of eyes")]
    SecondReviewerRequired,
    #[error("the case changed meanwhile")]
    CaseChanged,
    #[error("the stages' evidence was not kept for this case")]
    EvidenceUnavailable,
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Internal(String),
}

/// What a decision did.
#[derive(Debug, Clone)]
pub struct Decided {
    pub review_id: String,
    /// `final`, or `pending` (waiting for a second reviewer).
    pub state: &'static str,
    /// The verification's status afterwards.
    pub status: Status,
    /// A retake's new candidate link (shown once, as at creation).
    pub candidate_url: Option<String>,
}

/// Takes `input` on case `id` for `who`, who must hold the claim.
pub async fn decide(ctx: &Context, who: &Reviewer, id: &str, input: &ReviewInput) -> Result<Decided, ReviewError> {
    let v = ctx.store.get_verification(id).await?.filter(|v| v.org_id == who.org_id).ok_or(ReviewError::NotFound)?;
    if !reviewable(v.status) {
        return Err(ReviewError::NotReviewable(v.status));
    }
    let now = ctx.clock.now();
    match ctx.store.claim_of(id, now).await? {
        Some(c) if c.reviewer == who.id => {}
        Some(_) => return Err(ReviewError::ClaimedByAnother),
        None => return Err(ReviewError::ClaimRequired),
    }
    let reasons: Vec<String> = serde_json::from_str(&v.reasons).unwrap_or_default();
    let pending: Vec<ReviewRecord> =
        ctx.store.reviews_of(id).await?.into_iter().filter(|r| r.state == "pending").collect();
    let four_eyes = ctx.settings.review.four_eyes && needs_second_reviewer(input.decision, v.status, &reasons);
    let confirmed = pending.iter().find(|p| p.decision == input.decision && p.reviewer != who.id);
    if four_eyes && confirmed.is_none() && pending.iter().any(|p| p.decision == input.decision && p.reviewer == who.id)
    {
        return Err(ReviewError::SecondReviewerRequired);
    }
    let is_final = !four_eyes || confirmed.is_some();
    let review_id = uuid::Uuid::new_v4().to_string();
    let sealed_note = ctx
        .sealer
        .seal(input.note.as_bytes(), &format!("review-note:{review_id}"))
        .map_err(|e| ReviewError::Internal(e.to_string()))?;
    let record = ReviewRecord {
        id: review_id.clone(),
        verification_id: id.to_owned(),
        reviewer: who.id.clone(),
        decision: input.decision,
        reason: input.reason.to_owned(),
        sealed_note,
        state: if is_final { "final" } else { "pending" }.to_owned(),
        at: now,
    };
    let about = |kind, data| NewEvent::about(kind, &v.org_id, id, who.actor.clone(), data);
    let mut events = vec![about(
        Kind::ReviewRecorded,
        serde_json::json!({
            "review": review_id, "decision": input.decision, "reason": input.reason, "state": record.state,
            "four_eyes": four_eyes, "confirms": confirmed.map(|c| c.id.clone()), "from_status": v.status.as_str(),
        }),
    )];
    let mut outcome = Outcome::default();
    if is_final {
        outcome = finalise(ctx, who, &v, input, &review_id, confirmed.is_some(), now).await?;
        events.append(&mut outcome.events);
    }
    let reasons_json = serde_json::to_string(&outcome.reasons).map_err(|e| ReviewError::Internal(e.to_string()))?;
    let change = is_final.then(|| FinalChange {
        status: input.decision.status(),
        decision: match input.decision {
            ReviewDecision::Approve => Some("approve"),
            ReviewDecision::Reject => Some("reject"),
            ReviewDecision::Retake => None,
        },
        reasons: &reasons_json,
        token: outcome.token.as_ref(),
        link: outcome.link.as_ref(),
        webhook: match input.decision {
            ReviewDecision::Retake => "verification.retake_requested",
            _ => "verification.status_changed",
        },
    });
    let write = ReviewWrite {
        review: &record,
        org_id: &v.org_id,
        from: v.status,
        change,
        earlier_pending: if confirmed.is_some() { "final" } else { "superseded" },
        audit: &events,
    };
    match ctx.store.record_review(&write, now).await? {
        ReviewWritten::Done => {}
        ReviewWritten::ClaimRequired => return Err(ReviewError::ClaimRequired),
        ReviewWritten::Conflict => return Err(ReviewError::CaseChanged),
    }
    tracing::info!(verification = %id, decision = input.decision.as_str(), state = record.state, "review recorded");
    Ok(Decided {
        review_id,
        state: if is_final { "final" } else { "pending" },
        status: if is_final { input.decision.status() } else { v.status },
        candidate_url: outcome.candidate_url,
    })
}

/// What a final decision adds: its events, reasons, token or new link.
#[derive(Default)]
struct Outcome {
    events: Vec<NewEvent>,
    reasons: Vec<String>,
    token: Option<NewToken>,
    link: Option<NewLink>,
    candidate_url: Option<String>,
}

async fn finalise(
    ctx: &Context,
    who: &Reviewer,
    v: &VerificationRecord,
    input: &ReviewInput,
    review_id: &str,
    second: bool,
    now: Timestamp,
) -> Result<Outcome, ReviewError> {
    let about = |kind, data| NewEvent::about(kind, &v.org_id, &v.id, who.actor.clone(), data);
    let mut out = Outcome { reasons: vec![input.reason.to_owned()], ..Outcome::default() };
    let decided = |status: Status, reasons: &[String]| {
        about(
            Kind::Decided,
            serde_json::json!({
                "decision": input.decision, "status": status.as_str(), "reasons": reasons,
                "review": review_id, "second_reviewer": second,
            }),
        )
    };
    match input.decision {
        ReviewDecision::Approve => {
            // Erased personal data: nothing left to put in a token.
            if v.sealed_claims.is_empty() {
                return Err(ReviewError::EvidenceUnavailable);
            }
            let kept = ctx.store.evidence_of(&v.id).await?.ok_or(ReviewError::EvidenceUnavailable)?;
            let mut evidence: StageEvidence =
                serde_json::from_str(&kept).map_err(|_| ReviewError::EvidenceUnavailable)?;
            evidence.checks.push(CheckDetail {
                check: "human_review".into(),
                // OIDC IA: visual inspection of the evidence, remotely, by a person.
                check_method: "vri".into(),
                result: "approved".into(),
                score_band: None,
                lists: Vec::new(),
            });
            out.events.push(decided(Status::Approved, &out.reasons));
            let issued =
                crate::worker::issue_token(ctx, v, evidence, who.actor.clone()).await.map_err(ReviewError::Internal)?;
            out.events.push(issued.event);
            out.token = Some(issued.record);
        }
        ReviewDecision::Reject => out.events.push(decided(Status::Rejected, &out.reasons)),
        ReviewDecision::Retake => {
            out.reasons.insert(0, "retake_requested".to_owned());
            let token = secret_token::generate();
            let url = format!("{}/c/{}", ctx.settings.public_url(), token.token);
            let expires_at = now.plus(std::time::Duration::from_secs(ctx.settings.candidate.token_ttl_hours * 3600));
            let sealed_link = ctx
                .sealer
                .seal(url.as_bytes(), &format!("link:{}", v.id))
                .map_err(|e| ReviewError::Internal(e.to_string()))?;
            out.events.push(about(
                Kind::RetakeRequested,
                serde_json::json!({ "review": review_id, "reason": input.reason, "link_expires_at": expires_at.to_rfc3339() }),
            ));
            out.link = Some(NewLink { token_digest: token.digest, expires_at, sealed_link });
            out.candidate_url = Some(url);
        }
    }
    Ok(out)
}
