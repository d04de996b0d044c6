//! Liveness: was the selfie video a live person, present in this session, doing what the
//! session's challenge asked, and the same person throughout (and as on the document)?
//!
//! One module per check, each turning the observations into a typed result:
//! - `observe`: the per-frame measurements (faces, mesh, pose, blendshapes, embeddings);
//! - `pose`: head pose from the mesh (solvePnP against a generic 3D face);
//! - `events`: when each action is seen in the per-frame series;
//! - `challenge`: each requested action, in order, within its window;
//! - `planarity`: does the landmark motion fit one plane (a print or a screen)?
//! - `consistency`: one face, the same face throughout, the document's face;
//! - `injection`: virtual cameras, machine timing, editing tools, replays.
//!
//! Policy: a failed challenge, a turned face moving as a plane, a face that changes, a face unlike the
//! document's or the same bytes as another verification's selfie fail liveness (reject).
//! A second face, a near-duplicate of another selfie, a virtual camera, odd frame timing,
//! more than one challenge asked for or an editing tool's metadata send the case to a person (review). The passive anti-spoof
//! score is recorded and never decides (AUC 0.85 on prints; it calls most photos spoof).

pub mod challenge;
pub mod consistency;
mod events;
pub mod injection;
pub mod observe;
mod patches;
pub mod planarity;
pub mod pose;
mod timing;
mod track;

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use tracing::instrument;

use crate::domain::challenge::{Action, Timing};
use crate::domain::face::Embedding;
use crate::engine::Engine;
use crate::tokens::claims::CheckDetail;
use challenge::{ChallengeResult, ChallengeThresholds};
use consistency::Consistency;
use injection::{CaptureReport, Signal};
use observe::{ObserveError, ObserveSettings, Observed};
use planarity::{Planarity, PlanarityThresholds};

/// Another verification that showed this selfie (or one very like it). Only the organisation's
/// own are named in the stage's evidence; others are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub verification: String,
    /// Of the same organisation as the case.
    pub own: bool,
}

/// What the stage needs besides the video.
pub struct LivenessInput<'a> {
    pub steps: &'a [Action],
    /// When each step was prompted (a drawn challenge); `None` for a fixed one.
    pub timing: Option<&'a Timing>,
    /// Challenges issued for this attempt, the answered one included: more than one is a
    /// signal (an attacker with a recorded clip asks until one fits).
    pub challenges_issued: usize,
    pub capture: &'a CaptureReport,
    /// The selfie's bytes (container metadata).
    pub bytes: &'a [u8],
    /// Other verifications whose selfie has the same sha256.
    pub same_bytes: &'a [Sighting],
    /// Other verifications' selfie fingerprints.
    pub earlier: &'a [(Sighting, Vec<u64>)],
    pub document_face: Option<&'a Embedding>,
    pub face_threshold: f32,
}

impl<'a> LivenessInput<'a> {
    /// A clip assessed on its own: no other verifications, no document face.
    pub fn alone(steps: &'a [Action], capture: &'a CaptureReport, bytes: &'a [u8], face_threshold: f32) -> Self {
        Self {
            steps,
            timing: None,
            challenges_issued: 1,
            capture,
            bytes,
            same_bytes: &[],
            earlier: &[],
            document_face: None,
            face_threshold,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Passive {
    pub frames: usize,
    pub mean: Option<f32>,
    pub max: Option<f32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Liveness {
    pub passed: bool,
    /// Failures: the case is rejected.
    pub reasons: Vec<String>,
    /// Signals for a person to look at (codes of `signals` and of second faces).
    pub review: Vec<String>,
    pub challenge: ChallengeResult,
    pub planarity: Planarity,
    pub consistency: Consistency,
    pub passive: Passive,
    pub signals: Vec<Signal>,
    pub frames_decoded: usize,
    /// Grid frames plus the frames the dense pass measured between them (`frames_between`).
    pub frames_analysed: usize,
    pub frames_between: usize,
    pub elapsed_ms: f64,
    /// Perceptual fingerprint of this video, to store for later replay checks.
    #[serde(skip)]
    pub fingerprint: Vec<u64>,
    /// The other verifications that showed this selfie (replayed or near duplicate), for the
    /// reuse links; never serialised (another organisation's ids are not shown).
    #[serde(skip)]
    pub seen: Vec<Sighting>,
}

impl super::stage::Stage for Liveness {
    const NAME: &'static str = "liveness";

    fn audit(&self) -> serde_json::Value {
        serde_json::json!({
            "passed": self.passed, "reasons": self.reasons, "review": self.review,
            "challenge_passed": self.challenge.passed, "planarity_measured": self.planarity.measured,
            "signals": self.signals.iter().map(|s| s.code).collect::<Vec<_>>(),
            "frames_analysed": self.frames_analysed,
        })
    }

    fn evidence(&self, _ctx: super::stage::EvidenceContext) -> Vec<CheckDetail> {
        vec![CheckDetail {
            check: "liveness".into(),
            check_method: "bvr".into(),
            result: if self.review.is_empty() { "live" } else { "live_reviewed" }.into(),
            score_band: None,
            lists: Vec::new(),
        }]
    }
}

/// Decodes and measures the selfie video, then judges it (`assess_observed`).
pub fn assess(engine: &Engine, selfie: &Path, input: &LivenessInput<'_>) -> Result<Liveness, ObserveError> {
    let observed = observe::observe(engine, selfie, ObserveSettings::default())?;
    assess_observed(&observed, input).map_err(|e| ObserveError::Engine(crate::engine::EngineError::OpenCv(e)))
}

/// Judges a selfie video already measured (the pipeline measures it once for face match and
/// liveness).
#[instrument(name = "stage", skip_all, fields(stage = "liveness"))]
pub fn assess_observed(observed: &Observed, input: &LivenessInput<'_>) -> Result<Liveness, opencv::Error> {
    let started = Instant::now();
    let frames = &observed.frames;
    let challenge = challenge::verify(&observed.timeline(), input.steps, input.timing, &ChallengeThresholds::default());
    let planarity = planarity::assess(frames, &PlanarityThresholds::default())?;
    let consistency = consistency::assess(frames, input.document_face, input.face_threshold);
    let spoof: Vec<f32> = frames.iter().filter_map(|o| o.face.as_ref()?.spoof).collect();
    let passive = Passive {
        frames: spoof.len(),
        mean: (!spoof.is_empty()).then(|| spoof.iter().sum::<f32>() / spoof.len() as f32),
        max: spoof.iter().copied().max_by(f32::total_cmp),
    };
    let fingerprint = injection::fingerprint(&frames.iter().map(|o| o.dhash).collect::<Vec<_>>());

    let mut reasons = challenge.reasons.clone();
    let mut signals: Vec<Signal> = Vec::new();
    if frames.iter().all(|o| o.face.is_none()) {
        reasons.push("liveness_no_single_face".to_owned());
    }
    // A face that turned (measured) and moved as a plane is a print or a screen: reject.
    if planarity.planar {
        reasons.push("liveness_planar_motion".to_owned());
        signals.push(Signal {
            code: "planar_motion",
            evidence: serde_json::json!({
                "squeeze": planarity.squeeze, "parallax": planarity.parallax, "noise": planarity.noise,
                "ratio": planarity.ratio,
            }),
        });
    }
    for (first, last) in &consistency.changed {
        reasons.push(format!("liveness_face_changed_frames_{first}_{last}"));
    }
    for (first, last) in &consistency.unlike_document {
        reasons.push(format!("liveness_unlike_document_frames_{first}_{last}"));
    }
    let mut seen: Vec<Sighting> = Vec::new();
    if !input.same_bytes.is_empty() {
        reasons.push("selfie_replayed".to_owned());
        let own: Vec<&str> = input.same_bytes.iter().filter(|s| s.own).map(|s| s.verification.as_str()).collect();
        let others = input.same_bytes.len() - own.len();
        signals.push(Signal {
            code: "selfie_replayed",
            evidence: serde_json::json!({ "verifications": own, "other_organisations": others }),
        });
        seen.extend(input.same_bytes.iter().cloned());
    }
    let near: Vec<(&Sighting, f32)> = input
        .earlier
        .iter()
        .map(|(sighting, theirs)| (sighting, injection::near_duplicate_share(&fingerprint, theirs)))
        .filter(|(_, share)| *share >= 0.5)
        .collect();
    if !near.is_empty() && input.same_bytes.is_empty() {
        let matches: Vec<serde_json::Value> = near
            .iter()
            .filter(|(s, _)| s.own)
            .map(|(s, share)| serde_json::json!({ "verification": s.verification, "matching_frames": share }))
            .collect();
        let others = near.len() - matches.len();
        signals.push(Signal {
            code: "selfie_near_duplicate",
            evidence: serde_json::json!({ "matches": matches, "other_organisations": others }),
        });
        seen.extend(near.iter().map(|(s, _)| (*s).clone()));
    }
    if let Some((first, last)) = consistency.extra_faces.first() {
        signals.push(Signal {
            code: "second_face",
            evidence: serde_json::json!({ "frames": [first, last], "ranges": consistency.extra_faces.len() }),
        });
    }
    if input.challenges_issued > 1 {
        signals.push(Signal {
            code: "challenge_reissued",
            evidence: serde_json::json!({ "challenges": input.challenges_issued }),
        });
    }
    signals.extend(injection::virtual_camera(input.capture));
    signals.extend(injection::frame_timing(input.capture, observed.video.fps));
    signals.extend(injection::editing_metadata(input.bytes));
    let review: Vec<String> = signals
        .iter()
        .filter(|s| !matches!(s.code, "selfie_replayed" | "planar_motion"))
        .map(|s| s.code.to_owned())
        .collect();
    tracing::info!(passed = reasons.is_empty(), reasons = reasons.len(), signals = signals.len(), "liveness done");
    Ok(Liveness {
        passed: reasons.is_empty(),
        reasons,
        review,
        challenge,
        planarity,
        consistency,
        passive,
        signals,
        frames_decoded: observed.video.decoded,
        frames_analysed: frames.len() + observed.between.len(),
        frames_between: observed.between.len(),
        elapsed_ms: observed.elapsed_ms + started.elapsed().as_secs_f64() * 1000.0,
        fingerprint,
        seen,
    })
}
