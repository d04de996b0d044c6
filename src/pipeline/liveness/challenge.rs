//! Did the video perform the session's challenge, each action in order and within its window?
//!
//! The events each action is seen as are found by `events`.
//!
//! A timed challenge (every drawn one: `domain::challenge::Timing`): step k is met by an event
//! of its action that starts inside its own window, from `EARLY_MS` before its prompt to
//! `window_ms` after it. The step fails as `wrong_action` when, in that window, the opposite
//! head movement (left for right, up for down) starts before the asked one, and as
//! `out_of_window` when its action happens only elsewhere in the clip.
//!
//! An untimed challenge (a fixed one, for recorded clips): step k is met by the first
//! matching event that starts after step k−1's event started and no later than `window_ms`
//! after it (the first step: after the clip's start). Order is by onset, so a blink while
//! the head is still turned counts after the turn. A step whose action happens only before
//! that point is out of order; one that never happens is missing.

use serde::Serialize;

use super::events::{Event, events, series};
use super::observe::Observation;
use crate::domain::challenge::{Action, Timing};

#[derive(Debug, Clone, Copy)]
pub struct ChallengeThresholds {
    pub turn_degrees: f32,
    pub up_degrees: f32,
    pub blink_closed: f32,
    pub blink_open: f32,
    pub blink_rise: f32,
    pub blink_max_ms: f64,
    pub smile: f32,
    pub smile_rise: f32,
    pub jaw_open: f32,
    pub jaw_rise: f32,
    pub hold_ms: f64,
    pub window_ms: f64,
}

impl Default for ChallengeThresholds {
    fn default() -> Self {
        Self {
            turn_degrees: 15.0,
            up_degrees: 8.0,
            blink_closed: 0.2,
            blink_open: 0.12,
            blink_rise: 0.15,
            blink_max_ms: 1000.0,
            smile: 0.5,
            smile_rise: 0.3,
            jaw_open: 0.35,
            jaw_rise: 0.25,
            hold_ms: 100.0,
            window_ms: 6000.0,
        }
    }
}

/// Where one step was seen, or why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    pub step: usize,
    pub action: Action,
    /// `done`, `missing`, `out_of_order`, `out_of_window` or `wrong_action`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<f64>,
    /// The step's window, for a timed challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<(f64, f64)>,
}

impl StepResult {
    fn new(
        index: usize,
        action: Action,
        outcome: &'static str,
        event: Option<Event>,
        window: Option<(f64, f64)>,
    ) -> Self {
        let (from_ms, to_ms) = (event.map(|e| e.from), event.map(|e| e.to));
        Self { step: index + 1, action, outcome, from_ms, to_ms, window_ms: window }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChallengeResult {
    pub passed: bool,
    pub steps: Vec<StepResult>,
    /// e.g. `challenge_step_2_smile_missing`.
    pub reasons: Vec<String>,
}

/// The head movement that undoes `action`'s (left for right, up for down).
fn opposite(action: Action) -> Option<Action> {
    match action {
        Action::TurnLeft => Some(Action::TurnRight),
        Action::TurnRight => Some(Action::TurnLeft),
        Action::LookUp => Some(Action::LookDown),
        Action::LookDown => Some(Action::LookUp),
        _ => None,
    }
}

/// Checks `steps` (with their `timing`, when drawn) against the observed frames
/// (`Observed::timeline`: in time order).
pub fn verify(
    frames: &[&Observation],
    steps: &[Action],
    timing: Option<&Timing>,
    thresholds: &ChallengeThresholds,
) -> ChallengeResult {
    let samples = series(frames);
    let found = |action: Action| events(&samples, action, thresholds);
    let results = match timing {
        Some(timing) => timed(steps, timing, found),
        None => untimed(steps, samples.first().map_or(0.0, |s| s.t), thresholds.window_ms, found),
    };
    let mut reasons: Vec<String> = results
        .iter()
        .filter(|r| r.outcome != "done")
        .map(|r| format!("challenge_step_{}_{}_{}", r.step, r.action, r.outcome))
        .collect();
    if steps.is_empty() {
        reasons.push("challenge_empty".to_owned());
    }
    ChallengeResult { passed: reasons.is_empty(), steps: results, reasons }
}

/// Each step inside its own window (see the module doc).
fn timed(steps: &[Action], timing: &Timing, found: impl Fn(Action) -> Vec<Event>) -> Vec<StepResult> {
    let mut results = Vec::new();
    for (index, &action) in steps.iter().enumerate() {
        let window = timing.window(index);
        let all = found(action);
        let inside = |e: &&Event| window.is_some_and(|(from, to)| e.from >= from && e.from < to);
        let (outcome, event) = match all.iter().find(inside) {
            Some(e) => {
                let undone = opposite(action)
                    .map(&found)
                    .unwrap_or_default()
                    .iter()
                    .any(|o| window.is_some_and(|(from, _)| o.from >= from && o.from < e.from));
                (if undone { "wrong_action" } else { "done" }, Some(*e))
            }
            None if all.is_empty() => ("missing", None),
            None => ("out_of_window", all.first().copied()),
        };
        results.push(StepResult::new(index, action, outcome, event, window));
    }
    results
}

/// Each step after the previous one, within `window_ms` of it (see the module doc).
fn untimed(steps: &[Action], start: f64, window_ms: f64, found: impl Fn(Action) -> Vec<Event>) -> Vec<StepResult> {
    // Strictly after the cursor: the first step may start on the first sample.
    let mut cursor = start - 1.0;
    let mut results = Vec::new();
    for (index, &action) in steps.iter().enumerate() {
        let all = found(action);
        let next = all.iter().find(|e| e.from > cursor && e.from <= cursor + window_ms);
        let (outcome, event) = match next {
            Some(e) => ("done", Some(*e)),
            None if all.iter().any(|e| e.from < cursor) => ("out_of_order", all.first().copied()),
            None => ("missing", None),
        };
        if let (true, Some(e)) = (outcome == "done", event) {
            cursor = e.from;
        }
        results.push(StepResult::new(index, action, outcome, event, None));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::challenge::Challenge;

    /// The events of a clip that answered `challenge`, each action starting `reaction` ms after
    /// its prompt.
    fn answered(challenge: &Challenge, reaction: impl Fn(usize) -> f64) -> impl Fn(Action) -> Vec<Event> {
        let timing = challenge.timing.clone().unwrap();
        let steps = challenge.steps.clone();
        move |action| {
            steps
                .iter()
                .zip(&timing.prompts_ms)
                .enumerate()
                .filter(|(_, (a, _))| **a == action)
                .map(|(k, (_, at))| {
                    let from = f64::from(*at) + reaction(k);
                    Event { from, to: from + 600.0 }
                })
                .collect()
        }
    }

    #[test]
    fn a_recorded_answer_fits_another_drawn_challenge_less_than_once_in_a_hundred() {
        // The attacker holds one clip that answered a real challenge (reaction 0.4–1.2 s) and
        // asks for challenges (at most 3 per verification) until one fits.
        use rand::Rng;
        let mut rng = rand::rng();
        let trials = 200_000;
        let mut fits = 0;
        for _ in 0..trials {
            let recorded = Challenge::draw(4);
            let delays: Vec<f64> = (0..4).map(|_| rng.random_range(400.0..1200.0)).collect();
            let clip = answered(&recorded, |k| delays[k]);
            let asked = Challenge::draw(4);
            let result = timed(&asked.steps, asked.timing.as_ref().unwrap(), &clip);
            fits += usize::from(result.iter().all(|r| r.outcome == "done"));
        }
        let p = fits as f64 / f64::from(trials);
        let three_tries = 1.0 - (1.0 - p).powi(3);
        eprintln!("P(a recorded answer fits a drawn challenge) = {p:.5}, within three tries {three_tries:.5}");
        assert!(three_tries <= 0.01, "P(one fits) = {p}, with three tries {three_tries}");
    }

    #[test]
    fn a_timed_step_must_start_in_its_window_and_not_after_the_opposite_movement() {
        let challenge = Challenge {
            steps: vec![Action::TurnLeft, Action::Smile],
            timing: Some(Timing { prompts_ms: vec![1000, 3000], window_ms: 1800 }),
        };
        let timing = challenge.timing.as_ref().unwrap();
        let on_time = answered(&challenge, |_| 700.0);
        assert!(timed(&challenge.steps, timing, &on_time).iter().all(|r| r.outcome == "done"));
        let late = answered(&challenge, |k| if k == 1 { 1900.0 } else { 700.0 });
        let r = timed(&challenge.steps, timing, &late);
        assert_eq!(r[1].outcome, "out_of_window");
        // Turning right first, then left, in the left turn's window.
        let both = |a: Action| match a {
            Action::TurnRight => vec![Event { from: 1300.0, to: 1500.0 }],
            Action::TurnLeft => vec![Event { from: 1900.0, to: 2300.0 }],
            Action::Smile => vec![Event { from: 3600.0, to: 4000.0 }],
            _ => Vec::new(),
        };
        let r = timed(&challenge.steps, timing, both);
        assert_eq!((r[0].outcome, r[1].outcome), ("wrong_action", "done"));
    }
}
