//! Did the video perform the session's challenge, each action in order and within its window?
//!
//! From the per-frame series (pose and blendshapes of the single face), events are found:
//! - a turn: yaw at least `turn_degrees` from the neutral yaw (the median over the clip's
//!   first second), held for two samples;
//! - look up: pitch at least `up_degrees` above the neutral pitch, held for two samples;
//! - a blink: the mean eye-blink score rises to `blink_closed` and falls below `blink_open`;
//!   `blink_twice` needs two such blinks;
//! - a smile: the mean mouth-smile score at least `smile` and `smile_rise` above the neutral score,
//!   held for two samples.
//!
//! Step k is met by the first matching event that starts after step k−1's event started and
//! no later than `window_ms` after it (the first step: after the clip's start). Order is by
//! onset, so a blink while the head is still turned counts after the turn. A step whose
//! action happens only before that point is out of order; one that never happens is missing.
//! Pose outliers (a solvePnP flip: |roll| over 90°) are dropped before the series is built.

use serde::Serialize;

use super::observe::Observation;
use crate::domain::challenge::Action;

#[derive(Debug, Clone, Copy)]
pub struct ChallengeThresholds {
    pub turn_degrees: f32,
    pub up_degrees: f32,
    pub blink_closed: f32,
    pub blink_open: f32,
    pub smile: f32,
    pub smile_rise: f32,
    pub window_ms: f64,
}

impl Default for ChallengeThresholds {
    fn default() -> Self {
        Self {
            turn_degrees: 15.0,
            up_degrees: 8.0,
            blink_closed: 0.45,
            blink_open: 0.25,
            smile: 0.5,
            smile_rise: 0.3,
            window_ms: 6000.0,
        }
    }
}

/// Where one step was seen, or why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    pub step: usize,
    pub action: Action,
    /// `done`, `missing` or `out_of_order`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<f64>,
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
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Event {
    from: f64,
    to: f64,
}

fn series(frames: &[Observation]) -> Vec<Sample> {
    frames
        .iter()
        .filter_map(|o| {
            let face = o.face.as_ref()?;
            let pose = face.pose.filter(|p| p.roll.abs() <= 90.0 && p.yaw.abs() <= 90.0)?;
            Some(Sample { t: o.timestamp_ms, yaw: pose.yaw, pitch: pose.pitch, blink: face.blink(), smile: face.smile })
        })
        .collect()
}

fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// Runs of at least `min` consecutive samples where `on` holds.
fn runs(samples: &[Sample], min: usize, on: impl Fn(&Sample) -> bool) -> Vec<Event> {
    let mut events = Vec::new();
    let mut start: Option<(usize, f64)> = None;
    let mut last = 0.0;
    for (i, s) in samples.iter().enumerate() {
        match (on(s), start) {
            (true, None) => start = Some((i, s.t)),
            (false, Some((first, from))) => {
                if i - first >= min {
                    events.push(Event { from, to: last });
                }
                start = None;
            }
            _ => {}
        }
        last = s.t;
    }
    if let Some((first, from)) = start
        && samples.len() - first >= min
    {
        events.push(Event { from, to: last });
    }
    events
}

/// Blinks with hysteresis: closed at `closed`, reopened below `open`.
fn blinks(samples: &[Sample], closed: f32, open: f32) -> Vec<Event> {
    let mut events = Vec::new();
    let mut shut: Option<f64> = None;
    for s in samples {
        match shut {
            None if s.blink >= closed => shut = Some(s.t),
            Some(from) if s.blink < open => {
                events.push(Event { from, to: s.t });
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
    match action {
        Action::TurnLeft => runs(samples, 2, |s| s.yaw - yaw0 >= t.turn_degrees),
        Action::TurnRight => runs(samples, 2, |s| yaw0 - s.yaw >= t.turn_degrees),
        Action::LookUp => runs(samples, 2, |s| s.pitch - pitch0 >= t.up_degrees),
        Action::Smile => runs(samples, 2, |s| s.smile >= t.smile && s.smile - smile0 >= t.smile_rise),
        Action::Blink => blinks(samples, t.blink_closed, t.blink_open),
        Action::BlinkTwice => {
            let single = blinks(samples, t.blink_closed, t.blink_open);
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

/// Checks `steps` against the observed frames.
pub fn verify(frames: &[Observation], steps: &[Action], thresholds: &ChallengeThresholds) -> ChallengeResult {
    let samples = series(frames);
    // Strictly after the cursor: the first step may start on the first sample.
    let mut cursor = samples.first().map_or(0.0, |s| s.t) - 1.0;
    let mut results = Vec::new();
    let mut reasons = Vec::new();
    for (index, &action) in steps.iter().enumerate() {
        let step = index + 1;
        let found = events(&samples, action, thresholds);
        let next = found.iter().find(|e| e.from > cursor && e.from <= cursor + thresholds.window_ms);
        let (outcome, event) = match next {
            Some(e) => ("done", Some(*e)),
            None if found.iter().any(|e| e.from < cursor) => ("out_of_order", found.first().copied()),
            None => ("missing", None),
        };
        if outcome == "done"
            && let Some(e) = event
        {
            cursor = e.from;
        } else {
            reasons.push(format!("challenge_step_{step}_{action}_{outcome}"));
        }
        results.push(StepResult { step, action, outcome, from_ms: event.map(|e| e.from), to_ms: event.map(|e| e.to) });
    }
    if steps.is_empty() {
        reasons.push("challenge_empty".to_owned());
    }
    ChallengeResult { passed: reasons.is_empty(), steps: results, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: f64, yaw: f32, blink: f32) -> Sample {
        Sample { t, yaw, pitch: 0.0, blink, smile: 0.0 }
    }

    #[test]
    fn runs_need_two_samples_and_close_at_the_end() {
        let samples = [s(0.0, 0.0, 0.0), s(1.0, 20.0, 0.0), s(2.0, 0.0, 0.0), s(3.0, 20.0, 0.0), s(4.0, 21.0, 0.0)];
        let e = runs(&samples, 2, |x| x.yaw > 15.0);
        assert_eq!(e, vec![Event { from: 3.0, to: 4.0 }]);
    }

    #[test]
    fn a_blink_needs_the_eyes_to_reopen() {
        let samples = [s(0.0, 0.0, 0.1), s(1.0, 0.0, 0.7), s(2.0, 0.0, 0.3), s(3.0, 0.0, 0.1), s(4.0, 0.0, 0.6)];
        assert_eq!(blinks(&samples, 0.45, 0.25), vec![Event { from: 1.0, to: 3.0 }]);
    }
}
