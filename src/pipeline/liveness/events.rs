//! Events in the per-frame series of a selfie video, for the challenge: the pose and
//! blendshapes of the single face, on the grid frames and the frames the dense pass measured
//! between them. Events are found by time, never by frame count, so a camera at 12 fps or one
//! that drops frames is read as it ran:
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
//! Pose outliers (a solvePnP flip: |roll| over 90°) are dropped before the series is built.

use super::challenge::ChallengeThresholds;
use super::observe::Observation;
use crate::domain::challenge::Action;

#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub(super) t: f64,
    yaw: f32,
    pitch: f32,
    blink: f32,
    smile: f32,
    jaw: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Event {
    pub(super) from: f64,
    pub(super) to: f64,
}

pub(super) fn series(frames: &[&Observation]) -> Vec<Sample> {
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
pub(super) fn events(samples: &[Sample], action: Action, t: &ChallengeThresholds) -> Vec<Event> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_blink_needs_the_eyes_to_reopen_soon() {
        let samples = [s(0.0, 0.0, 0.1), s(1.0, 0.0, 0.7), s(2.0, 0.0, 0.3), s(3.0, 0.0, 0.1), s(4.0, 0.0, 0.6)];
        assert_eq!(blinks(&samples, 0.45, 0.25, 1000.0), vec![Event { from: 1.0, to: 3.0 }]);
        // Eyes shut for two seconds: not a blink.
        let long = [s(0.0, 0.0, 0.05), s(100.0, 0.0, 0.7), s(2100.0, 0.0, 0.05)];
        assert!(blinks(&long, 0.2, 0.12, 1000.0).is_empty());
    }
}
