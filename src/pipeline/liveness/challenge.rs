//! Did the video perform the session's challenge, each action in order and within its window?
//!
//! From the per-frame series (pose and blendshapes of the single face, on the grid frames and
//! the frames the dense pass measured between them), events are found by time, never by
//! frame count, so a camera at 12 fps or one that drops frames is read as it ran:
//! - a turn: yaw at least `turn_degrees` from the neutral yaw (the median over the clip's
//!   first second), held for `hold_ms`;
//! - look up: pitch at least `up_degrees` above the neutral pitch, held for `hold_ms`;
//! - a blink: the mean eye-blink score rises to `blink_closed` (and `blink_rise` above the
//!   neutral score) and falls back below `blink_open` (and half that rise) within
//!   `blink_max_ms`; `blink_twice` needs two such blinks. A real blink closes the eyes for
//!   well under 100 ms, so at 30 fps one frame may be all that sees it shut and at 12 fps
//!   none: the half-closed frames either side reach `blink_closed` (Carphone: 0.71 on the
//!   shut frame, 0.24 and 0.35 beside it, 0.01–0.10 otherwise);
//! - look down: pitch at least `up_degrees` below the neutral pitch, held for `hold_ms`;
//! - a smile: the mean mouth-smile score at least `smile` and `smile_rise` above the neutral
//!   score, held for `hold_ms`;
//! - an open mouth: the jaw-open score at least `jaw_open` and `jaw_rise` above the neutral
//!   score, held for `hold_ms`.
//!
//! "Held for `hold_ms`" is measured from the run's first sample to the first sample after it
//! (or, at the clip's end, its last sample plus the typical frame gap), so two samples at
//! 15 fps, two at 12 fps and three at 30 fps all hold for 100 ms.
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
//! Pose outliers (a solvePnP flip: |roll| over 90°) are dropped before the series is built.

use serde::Serialize;

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

#[derive(Debug, Clone, Serialize)]
pub struct ChallengeResult {
    pub passed: bool,
    pub steps: Vec<StepResult>,
    /// e.g. `challenge_step_2_smile_missing`.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    t: f64,
    yaw: f32,
    pitch: f32,
    blink: f32,
    smile: f32,
    jaw: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    from: f64,
    to: f64,
}

fn series(frames: &[&Observation]) -> Vec<Sample> {
    frames
        .iter()
        .filter_map(|o| {
            let face = o.face.as_ref()?;
            let pose = face.pose.filter(|p| p.roll.abs() <= 90.0 && p.yaw.abs() <= 90.0)?;
            Some(Sample {
                t: o.timestamp_ms,
                yaw: pose.yaw,
                pitch: pose.pitch,
                blink: face.blink(),
                smile: face.smile,
                jaw: face.jaw_open,
            })
        })
        .collect()
}

fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// The typical time between samples (the median gap).
fn frame_gap(samples: &[Sample]) -> f64 {
    let mut gaps: Vec<f64> = samples.windows(2).filter_map(|w| Some(w.get(1)?.t - w.first()?.t)).collect();
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).copied().unwrap_or(0.0)
}

/// Slack for timestamps rounded to the millisecond.
const TIME_SLACK_MS: f64 = 1.0;

/// Runs where `on` holds for at least `hold_ms` (first sample to the first sample after).
fn runs(samples: &[Sample], hold_ms: f64, on: impl Fn(&Sample) -> bool) -> Vec<Event> {
    // Frame times are whole milliseconds: three frames at 30 fps span 99.9 ms or 100 ms.
    let hold_ms = hold_ms - TIME_SLACK_MS;
    let mut events = Vec::new();
    let mut start: Option<f64> = None;
    let mut last = 0.0;
    for s in samples {
        match (on(s), start) {
            (true, None) => start = Some(s.t),
            (false, Some(from)) => {
                if s.t - from >= hold_ms {
                    events.push(Event { from, to: last });
                }
                start = None;
            }
            _ => {}
        }
        last = s.t;
    }
    if let Some(from) = start
        && last + frame_gap(samples) - from >= hold_ms
    {
        events.push(Event { from, to: last });
    }
    events
}

/// Blinks with hysteresis: closed at `closed`, reopened below `open` within `max_ms`.
fn blinks(samples: &[Sample], closed: f32, open: f32, max_ms: f64) -> Vec<Event> {
    let mut events = Vec::new();
    let mut shut: Option<f64> = None;
    for s in samples {
        match shut {
            None if s.blink >= closed => shut = Some(s.t),
            Some(from) if s.blink < open => {
                if s.t - from <= max_ms {
                    events.push(Event { from, to: s.t });
                }
                shut = None;
            }
            _ => {}
        }
    }
    events
}

/// The neutral pose: the samples of the first `BASELINE_MS` (the page asks the candidate to
/// hold still in the oval before the first step), or of the first quarter of a shorter clip.
fn baseline(samples: &[Sample]) -> &[Sample] {
    let start = samples.first().map_or(0.0, |s| s.t);
    let within = samples.iter().take_while(|s| s.t - start < BASELINE_MS).count();
    let quarter = samples.len().div_ceil(4);
    samples.get(..within.min(quarter).max(1)).unwrap_or(samples)
}

const BASELINE_MS: f64 = 1000.0;

/// Events of each action in the clip, in time order. `blink_twice` events span two blinks.
fn events(samples: &[Sample], action: Action, t: &ChallengeThresholds) -> Vec<Event> {
    let neutral = baseline(samples);
    let yaw0 = median(neutral.iter().map(|s| s.yaw).collect());
    let pitch0 = median(neutral.iter().map(|s| s.pitch).collect());
    let smile0 = median(neutral.iter().map(|s| s.smile).collect());
    let blink0 = median(neutral.iter().map(|s| s.blink).collect());
    let jaw0 = median(neutral.iter().map(|s| s.jaw).collect());
    let closed = t.blink_closed.max(blink0 + t.blink_rise);
    let open = t.blink_open.max(blink0 + t.blink_rise / 2.0);
    let hold = t.hold_ms;
    match action {
        Action::TurnLeft => runs(samples, hold, |s| s.yaw - yaw0 >= t.turn_degrees),
        Action::TurnRight => runs(samples, hold, |s| yaw0 - s.yaw >= t.turn_degrees),
        Action::LookUp => runs(samples, hold, |s| s.pitch - pitch0 >= t.up_degrees),
        Action::LookDown => runs(samples, hold, |s| pitch0 - s.pitch >= t.up_degrees),
        Action::Smile => runs(samples, hold, |s| s.smile >= t.smile && s.smile - smile0 >= t.smile_rise),
        Action::OpenMouth => runs(samples, hold, |s| s.jaw >= t.jaw_open && s.jaw - jaw0 >= t.jaw_rise),
        Action::Blink => blinks(samples, closed, open, t.blink_max_ms),
        Action::BlinkTwice => {
            let single = blinks(samples, closed, open, t.blink_max_ms);
            single
                .windows(2)
                .filter_map(|w| match w {
                    [a, b] if b.from - a.to <= t.window_ms / 2.0 => Some(Event { from: a.from, to: b.to }),
                    _ => None,
                })
                .collect()
        }
    }
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
        results.push(StepResult {
            step: index + 1,
            action,
            outcome,
            from_ms: event.map(|e| e.from),
            to_ms: event.map(|e| e.to),
            window_ms: window,
        });
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
        results.push(StepResult {
            step: index + 1,
            action,
            outcome,
            from_ms: event.map(|e| e.from),
            to_ms: event.map(|e| e.to),
            window_ms: None,
        });
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::challenge::Challenge;

    fn s(t: f64, yaw: f32, blink: f32) -> Sample {
        Sample { t, yaw, pitch: 0.0, blink, smile: 0.0, jaw: 0.0 }
    }

    #[test]
    fn runs_are_held_by_time_and_close_at_the_end() {
        // 15 fps: one sample over the line is 67 ms, too short; two are 133 ms.
        let at = |i: u32, yaw| s(f64::from(i) * 66.7, yaw, 0.0);
        let samples = [at(0, 0.0), at(1, 20.0), at(2, 0.0), at(3, 20.0), at(4, 21.0)];
        let e = runs(&samples, 100.0, |x| x.yaw > 15.0);
        assert_eq!(e, vec![Event { from: 3.0 * 66.7, to: 4.0 * 66.7 }]);
        // 30 fps: two samples (67 ms) are not held long enough, three are.
        let at = |i: u32, yaw| s(f64::from(i) * 33.3, yaw, 0.0);
        let two = [at(0, 0.0), at(1, 20.0), at(2, 20.0), at(3, 0.0)];
        assert!(runs(&two, 100.0, |x| x.yaw > 15.0).is_empty());
        let three = [at(0, 0.0), at(1, 20.0), at(2, 20.0), at(3, 20.0), at(4, 0.0)];
        assert_eq!(runs(&three, 100.0, |x| x.yaw > 15.0).len(), 1);
    }

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

    #[test]
    fn a_blink_needs_the_eyes_to_reopen_soon() {
        let samples = [s(0.0, 0.0, 0.1), s(1.0, 0.0, 0.7), s(2.0, 0.0, 0.3), s(3.0, 0.0, 0.1), s(4.0, 0.0, 0.6)];
        assert_eq!(blinks(&samples, 0.45, 0.25, 1000.0), vec![Event { from: 1.0, to: 3.0 }]);
        // Eyes shut for two seconds: not a blink.
        let long = [s(0.0, 0.0, 0.05), s(100.0, 0.0, 0.7), s(2100.0, 0.0, 0.05)];
        assert!(blinks(&long, 0.2, 0.12, 1000.0).is_empty());
    }
}
