//! A job's case: its media decrypted into temp files, the claims it is checked against, the
//! pipeline run on the engine's blocking pool, and the document number sealed afterwards.

use std::io::Write;

use super::policy;
use crate::context::Context;
use crate::domain::challenge::{Challenge, Timing, parse_actions};
use crate::domain::claims::{BirthDate, RawClaims};
use crate::pipeline::document_check::{ClaimedIdentity, DocumentPolicy};
use crate::pipeline::document_reuse::{self, EarlierUse};
use crate::pipeline::liveness::Sighting;
use crate::pipeline::liveness::injection::CaptureReport;
use crate::pipeline::risk::RiskFacts;
use crate::pipeline::{self, AnsweredChallenge, CaseFacts, CaseFiles, LivenessFacts};
use crate::storage::{NewDocument, VerificationRecord};

/// Decrypts the media into owner-only temp files and runs the pipeline on the engine's
/// blocking pool. Errors are strings (stored as the job's last error; no PII).
/// What a failed attempt's (string) error begins with when the database was unreachable:
/// the worker hands such a job back uncounted (`worker::process`), whenever the database
/// returns — however soon.
pub(super) const DATABASE_UNAVAILABLE: &str = "database unavailable: ";

/// A storage error as the pipeline reports it, marked when the database was unreachable.
pub(super) fn storage_error(e: crate::storage::StorageError) -> String {
    let chain = crate::telemetry::error_chain(&e);
    if e.is_unavailable() { format!("{DATABASE_UNAVAILABLE}{chain}") } else { chain }
}

pub(super) async fn run_pipeline(ctx: &Context, verification: &str) -> Result<pipeline::StageResults, String> {
    let media = ctx.store.media_of(verification).await.map_err(storage_error)?;
    let tmp = ctx.settings.storage.data_dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let mut files = Vec::new();
    let mut selfie_bytes = Vec::new();
    let mut selfie_sha256 = String::new();
    for kind in ["document_front", "selfie", "document_back"] {
        let Some(record) = media.iter().find(|m| m.kind == kind) else {
            if kind == "document_back" {
                continue;
            }
            return Err(format!("{kind} missing"));
        };
        let bytes = ctx
            .media
            .get(&record.object_key, &format!("media:{verification}:{kind}"))
            .await
            .map_err(|e| crate::telemetry::error_chain(&e))?;
        let mut file = tempfile::NamedTempFile::new_in(&tmp).map_err(|e| e.to_string())?;
        file.write_all(&bytes).map_err(|e| e.to_string())?;
        files.push(file);
        if kind == "selfie" {
            selfie_bytes = bytes.to_vec();
            selfie_sha256.clone_from(&record.sha256);
        }
    }
    let mut files = files.into_iter();
    let (Some(document), Some(selfie)) = (files.next(), files.next()) else {
        return Err("media files".to_owned());
    };
    let back = files.next();
    let case = CaseFiles {
        verification: verification.to_owned(),
        document_front: document.path().to_path_buf(),
        document_back: back.as_ref().map(|f| f.path().to_path_buf()),
        selfie: selfie.path().to_path_buf(),
    };
    let policy = policy(ctx);
    let org = self::verification(ctx, verification).await?.org_id;
    let mut facts = case_facts(ctx, verification).await?;
    facts.liveness = liveness_facts(ctx, verification, &org, &selfie_sha256, selfie_bytes).await?;
    let engine = ctx.engine.clone();
    let span = tracing::Span::current();
    let results = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let results = pipeline::run(&engine, &case, &facts, policy).map_err(|e| crate::telemetry::error_chain(&e));
        drop((document, selfie, back));
        results
    })
    .await
    .map_err(|e| e.to_string())??;
    if let Some(pipeline::StageOutcome::Done(live)) = &results.liveness {
        ctx.store.put_fingerprint(verification, &live.fingerprint, ctx.clock.now()).await.map_err(storage_error)?;
    }
    store_templates(ctx, verification, &results).await?;
    Ok(results)
}

/// How many earlier selfie fingerprints a new selfie is compared with.
const FINGERPRINTS_COMPARED: i64 = 10_000;

/// The answered challenge, the capture report and what earlier selfies looked like.
async fn liveness_facts(
    ctx: &Context,
    verification: &str,
    org: &str,
    sha256: &str,
    selfie_bytes: Vec<u8>,
) -> Result<LivenessFacts, String> {
    let fail = storage_error;
    let challenge = match ctx.store.selfie_capture(verification).await.map_err(fail)? {
        Some(answered) => {
            let steps = parse_actions(&answered.steps).map_err(|e| e.to_string())?;
            let timing: Option<Timing> = answered
                .timing
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| format!("stored challenge timing: {e}"))?;
            let capture: CaptureReport = serde_json::from_str(&answered.report).unwrap_or_default();
            let issued = usize::try_from(answered.number).unwrap_or(1).max(1);
            Some(AnsweredChallenge { challenge: Challenge { steps, timing }, capture, issued })
        }
        None => None,
    };
    // The organisation's own selfies only, unless cross-organisation links are on: another
    // tenant's upload must not make this candidate's selfie a replay.
    let scope = (!ctx.settings.risk.cross_organisation_links).then_some(org);
    let sighting = |(verification, their_org): (String, String)| Sighting { own: their_org == org, verification };
    let same_bytes = ctx.store.selfie_bytes_seen(sha256, verification, scope).await.map_err(fail)?;
    let earlier = ctx.store.recent_fingerprints(verification, scope, FINGERPRINTS_COMPARED).await.map_err(fail)?;
    Ok(LivenessFacts {
        required: ctx.settings.liveness.required,
        challenge,
        selfie_bytes,
        same_bytes: same_bytes.into_iter().map(sighting).collect(),
        earlier: earlier.into_iter().map(|(seen, hashes)| (sighting(seen), hashes)).collect(),
    })
}

/// The verification a job is about (an error string when it cannot be read or is gone).
pub(super) async fn verification(ctx: &Context, id: &str) -> Result<VerificationRecord, String> {
    ctx.store.get_verification(id).await.map_err(storage_error)?.ok_or_else(|| "verification vanished".to_owned())
}

/// The claimed identity of a verification, from its sealed claims.
fn claimed_identity(ctx: &Context, record: &VerificationRecord, today: time::Date) -> Result<ClaimedIdentity, String> {
    let claims = record.open_claims(&ctx.sealer).map_err(|e| crate::telemetry::error_chain(&e))?;
    identity_of(claims, today)
}

/// The identity part of opened claims.
fn identity_of(claims: RawClaims, today: time::Date) -> Result<ClaimedIdentity, String> {
    let birth_date = BirthDate::parse(&claims.birth_date, today).map_err(|e| format!("claims: {e}"))?.date();
    Ok(ClaimedIdentity {
        given_name: claims.given_name,
        family_name: claims.family_name,
        birth_date,
        nationality: claims.nationality,
    })
}

fn today(ctx: &Context) -> Result<time::Date, String> {
    ctx.clock.now().date().ok_or_else(|| "clock out of range".to_owned())
}

fn document_policy(ctx: &Context) -> DocumentPolicy {
    let d = &ctx.settings.decision;
    DocumentPolicy { min_age: d.min_age, name_mismatch: d.name_mismatch, name_match: d.name_match }
}

/// The candidate's claims (opened from their sealed form) and today's date.
async fn case_facts(ctx: &Context, verification_id: &str) -> Result<CaseFacts, String> {
    let record = verification(ctx, verification_id).await?;
    let today = today(ctx)?;
    let raw = record.open_claims(&ctx.sealer).map_err(|e| crate::telemetry::error_chain(&e))?;
    let claims = identity_of(raw.clone(), today)?;
    let hashes = crate::pipeline::risk::reuse::hashes(&raw, &ctx.sealer);
    let reuse = ctx
        .store
        .claims_under_other_identities(&record.org_id, &record.id, &hashes, crate::pipeline::risk::reuse::LOOKED_AT)
        .await
        .map_err(storage_error)?;
    let network = crate::network::facts::load(ctx, &record.id, &record.org_id, &hashes.identity_hash)
        .await
        .map_err(|e| crate::telemetry::error_chain(&e))?;
    let risk = RiskFacts {
        claims: raw,
        birth: claims.birth_date,
        today,
        now: ctx.clock.now(),
        lists: ctx.lists.clone(),
        policy: ctx.settings.risk_policy(),
        reuse,
        sanctions: ctx.sanctions.get(),
        network,
        faces: Some(face_search(ctx, &record, &hashes.identity_hash).await?),
    };
    Ok(CaseFacts {
        claims,
        today,
        document_policy: document_policy(ctx),
        risk,
        liveness: LivenessFacts {
            required: ctx.settings.liveness.required,
            challenge: None,
            selfie_bytes: Vec::new(),
            same_bytes: Vec::new(),
            earlier: Vec::new(),
        },
    })
}

/// The 1:N search for this case, on the index brought up to date first (other nodes may
/// have decided cases since the last sync).
async fn face_search(
    ctx: &Context,
    record: &VerificationRecord,
    identity: &str,
) -> Result<crate::face_search::FaceSearch, String> {
    ctx.faces.sync(&ctx.store, &ctx.sealer).await.map_err(|e| crate::telemetry::error_chain(&e))?;
    Ok(crate::face_search::FaceSearch {
        index: ctx.faces.clone(),
        scope: crate::face_search::Scope {
            org: record.org_id.clone(),
            identity: identity.to_owned(),
            verification: record.id.clone(),
            cross_org: ctx.settings.risk.cross_organisation_links,
        },
        threshold: ctx.settings.face_search_threshold(ctx.faces.len()),
    })
}

/// The decided case's face templates, sealed, into the 1:N index (this node at once, the
/// others at their next sync).
async fn store_templates(ctx: &Context, verification: &str, results: &pipeline::StageResults) -> Result<(), String> {
    let pipeline::StageOutcome::Done(face) = &results.face_match else { return Ok(()) };
    let record = self::verification(ctx, verification).await?;
    let claims = record.open_claims(&ctx.sealer).map_err(|e| crate::telemetry::error_chain(&e))?;
    let identity = crate::pipeline::risk::reuse::hashes(&claims, &ctx.sealer).identity_hash;
    let mut sealed = Vec::new();
    for (kind, template) in [("document", &face.document_embedding), ("selfie", &face.selfie_embedding)] {
        if let Some(template) = template {
            let blob =
                crate::face_search::seal(&ctx.sealer, verification, kind, template).map_err(|e| e.to_string())?;
            sealed.push((kind, blob));
        }
    }
    let fail = storage_error;
    ctx.store
        .put_face_templates(verification, &record.org_id, &identity, &sealed, ctx.clock.now())
        .await
        .map_err(fail)?;
    ctx.faces.sync(&ctx.store, &ctx.sealer).await.map_err(fail)?;
    Ok(())
}

/// Whether a verification's document stage found its claims contradicted by the document.
fn contradicted_by_document(record: &VerificationRecord) -> bool {
    let results: serde_json::Value = serde_json::from_str(&record.results).unwrap_or_default();
    results.pointer("/document/findings").and_then(serde_json::Value::as_array).is_some_and(|findings| {
        findings.iter().any(|f| matches!(f["code"].as_str(), Some("name_mismatch" | "birth_date_mismatch")))
    })
}

/// How many earlier verifications with the same document are weighed (the newest).
const EARLIER_USES_WEIGHED: i64 = 200;

/// The document number sealed and hashed; earlier verifications with the same document are
/// weighed by identity (`document_reuse`), and the decision is made again. Also returns the
/// ids of the organisation's verifications (every organisation's with cross-organisation
/// links on) that used the document under another identity (a risk signal).
pub(super) async fn seal_document(
    ctx: &Context,
    record: &VerificationRecord,
    results: &mut pipeline::StageResults,
) -> Result<(Option<NewDocument>, Vec<(String, bool)>), String> {
    let pipeline::StageOutcome::Done(check) = &mut results.document else { return Ok((None, Vec::new())) };
    let Some(number) = check.document_number.take() else { return Ok((None, Vec::new())) };
    let fail = storage_error;
    let issuer = check.issuing_state.clone().unwrap_or_default();
    let number_hash = ctx.sealer.lookup_hash("document-number", &format!("{issuer}:{number}"));
    let sealed_number =
        ctx.sealer.seal(number.as_bytes(), &format!("document-number:{}", record.id)).map_err(|e| e.to_string())?;
    let today = today(ctx)?;
    let mut earlier = Vec::new();
    let mut others = Vec::new();
    // Another organisation's use counts only with cross-organisation links on: a tenant
    // holding someone's ID photo must not burn the document for everyone else.
    // (`decision.document_seen_scope = "deployment"` reads them too, to count the same identity's
    // earlier uses everywhere: information, never a reuse.)
    let cross_org = ctx.settings.risk.cross_organisation_links;
    let everywhere = cross_org || ctx.settings.decision.document_seen_scope == document_reuse::SeenScope::Deployment;
    let scope = (!everywhere).then_some(record.org_id.as_str());
    let uses =
        ctx.store.documents_with_hash(&number_hash, &record.id, scope, EARLIER_USES_WEIGHED).await.map_err(fail)?;
    let current = if uses.is_empty() { None } else { Some(claimed_identity(ctx, record, today)?) };
    for used in uses {
        let other = ctx.store.get_verification(&used.verification_id).await.map_err(fail)?;
        let contradicted = other.as_ref().is_some_and(contradicted_by_document);
        let identity = other.and_then(|other| claimed_identity(ctx, &other, today).ok());
        let own_org = used.org_id == record.org_id;
        let kinship = match (&current, &identity) {
            (Some(current), Some(identity)) => Some(document_reuse::kinship(current, identity, document_policy(ctx))),
            _ => None,
        };
        if !own_org && !cross_org && kinship != Some(document_reuse::Kinship::Same) {
            continue;
        }
        if kinship == Some(document_reuse::Kinship::Other) {
            others.push((used.verification_id.clone(), own_org));
        }
        earlier.push(EarlierUse { org_id: used.org_id, identity, contradicted });
    }
    if let Some(current) = current {
        let scope = ctx.settings.decision.document_seen_scope;
        check.add_reuse(document_reuse::assess(&current, &record.org_id, &earlier, scope, document_policy(ctx)));
        results.decide(policy(ctx));
    }
    let document = NewDocument {
        verification_id: record.id.clone(),
        org_id: record.org_id.clone(),
        external_id: record.external_id.clone(),
        number_hash,
        sealed_number,
    };
    Ok((Some(document), others))
}
