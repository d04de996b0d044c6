//! `idgate verify --document ID.jpg [--document-back BACK.jpg] --selfie SELFIE.webm
//! --challenge turn_right,blink,turn_left [--prompts 1000,3250,5500] --claims claims.json
//! [--json]`: the worker's whole pipeline (document, face match, liveness, risk on the given
//! claims, decision) offline, with the configured lists and thresholds, printing the
//! decision, its reasons and each stage's time (and the part of it spent inside ONNX
//! Runtime). No store is opened: nothing is compared with earlier verifications.
//!
//! Exit 0 when a decision was reached (whatever it is), 2 for bad input, 1 otherwise.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Failure, error_chain, load_engine};
use crate::config::Settings;
use crate::domain::challenge::{Challenge, Timing, WINDOW_MS, parse_actions};
use crate::domain::claims::{BirthDate, RawClaims};
use crate::pipeline::decision::DecisionPolicy;
use crate::pipeline::document_check::{ClaimedIdentity, DocumentPolicy};
use crate::pipeline::liveness::injection::CaptureReport;
use crate::pipeline::risk::{ReferenceLists, RiskFacts};
use crate::pipeline::{self, AnsweredChallenge, CaseFacts, CaseFiles, LivenessFacts};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Photo of the identity document's front (JPEG, PNG, WebP).
    #[arg(long)]
    document: PathBuf,
    /// Photo of a driving licence's back (its PDF417 barcode).
    #[arg(long)]
    document_back: Option<PathBuf>,
    /// The selfie video (WebM, MP4).
    #[arg(long)]
    selfie: PathBuf,
    /// The challenge the selfie answers: comma-separated actions (turn_left, turn_right,
    /// look_up, look_down, blink_twice, smile, open_mouth, blink).
    #[arg(long)]
    challenge: String,
    /// When each step was prompted, ms from the start of the recording (a drawn challenge);
    /// without it the steps are checked in order only.
    #[arg(long, value_delimiter = ',')]
    prompts: Option<Vec<u32>>,
    /// The candidate's claims: the JSON an HR system sends (given_name, family_name,
    /// birth_date, nationality, residence_country, phone, email, education).
    #[arg(long)]
    claims: PathBuf,
    /// Print every stage's result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(settings: Settings, args: Args) -> Result<(), Failure> {
    let steps = parse_actions(&args.challenge).map_err(|e| Failure::bad_input(e.to_string()))?;
    if steps.is_empty() {
        return Err(Failure::bad_input("--challenge names no action"));
    }
    let timing = match args.prompts {
        Some(prompts) if prompts.len() != steps.len() => {
            return Err(Failure::bad_input(format!(
                "--prompts gives {} times for {} challenge steps",
                prompts.len(),
                steps.len()
            )));
        }
        Some(prompts_ms) => Some(Timing { prompts_ms, window_ms: WINDOW_MS }),
        None => None,
    };
    let raw = std::fs::read(&args.claims).map_err(|e| Failure::bad_input(format!("{}: {e}", args.claims.display())))?;
    let claims: RawClaims =
        serde_json::from_slice(&raw).map_err(|e| Failure::bad_input(format!("{}: {e}", args.claims.display())))?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let today = now.date().ok_or_else(|| Failure::internal("the clock is out of range"))?;
    let birth = BirthDate::parse(&claims.birth_date, today)
        .map_err(|e| Failure::bad_input(format!("{}: birth_date: {e}", args.claims.display())))?
        .date();
    let selfie_bytes =
        std::fs::read(&args.selfie).map_err(|e| Failure::bad_input(format!("{}: {e}", args.selfie.display())))?;

    crate::telemetry::init("warn,ort=error");
    let lists = ReferenceLists::load(&settings.risk.lists_dir).map_err(|e| Failure::internal(error_chain(&e)))?;
    let sanctions = crate::sanctions::Sanctions::load(&settings.sanctions_dir(), settings.sanctions.thresholds())
        .map_err(|e| Failure::internal(error_chain(&e)))?;
    let engine = load_engine(&settings)?;
    let decision = &settings.decision;
    let facts = CaseFacts {
        claims: ClaimedIdentity {
            given_name: claims.given_name.clone(),
            family_name: claims.family_name.clone(),
            birth_date: birth,
            nationality: claims.nationality.clone(),
        },
        today,
        document_policy: DocumentPolicy {
            min_age: decision.min_age,
            name_mismatch: decision.name_mismatch,
            name_match: decision.name_match,
        },
        liveness: LivenessFacts {
            required: true,
            challenge: Some(AnsweredChallenge {
                challenge: Challenge { steps, timing },
                capture: CaptureReport::default(),
                issued: 1,
            }),
            selfie_bytes,
            same_bytes: Vec::new(),
            earlier: Vec::new(),
        },
        risk: RiskFacts {
            claims,
            birth,
            today,
            now,
            lists: Arc::new(lists),
            policy: settings.risk_policy(),
            reuse: Default::default(),
            sanctions: Arc::new(sanctions),
            network: Default::default(),
            faces: None,
        },
    };
    let case = CaseFiles {
        verification: "offline".into(),
        document_front: args.document,
        document_back: args.document_back,
        selfie: args.selfie,
    };
    let policy =
        DecisionPolicy { match_threshold: settings.face_match.threshold, review_margin: decision.review_margin };
    let results = pipeline::run(&engine, &case, &facts, policy).map_err(|e| Failure::internal(error_chain(&e)))?;
    if args.json {
        let models: Vec<serde_json::Value> = crate::engine::runtime::inference_by_model()
            .into_iter()
            .map(|(model, spent, runs)| serde_json::json!({ "model": model, "runs": runs, "ms": spent.as_secs_f64() * 1e3 }))
            .collect();
        let json =
            serde_json::json!({ "results": results, "timings_ms": results.timings, "inference_by_model": models });
        outln!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return Ok(());
    }
    outln!("decision: {}", serde_json::to_value(results.decision.decision).unwrap_or_default().as_str().unwrap_or("?"));
    for reason in &results.decision.reasons {
        outln!("  reason: {reason}");
    }
    outln!("stage        wall ms  inference ms");
    let (mut wall, mut inference) = (0.0, 0.0);
    for t in &results.timings {
        outln!("{:<12} {:>7.0}  {:>12.0}", t.stage, t.wall_ms, t.inference_ms);
        wall += t.wall_ms;
        inference += t.inference_ms;
    }
    outln!("{:<12} {:>7.0}  {:>12.0}", "total", wall, inference);
    outln!("model              runs  inference ms");
    for (model, spent, runs) in crate::engine::runtime::inference_by_model() {
        outln!("{:<18} {:>4}  {:>12.0}", model, runs, spent.as_secs_f64() * 1e3);
    }
    Ok(())
}
