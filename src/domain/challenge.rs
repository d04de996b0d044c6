//! The active liveness challenge: a short random sequence of actions the candidate performs
//! in the selfie video, issued by the server for one session and usable once.
//!
//! A drawn challenge is four distinct actions out of seven (never two head turns in a row:
//! 720 sequences) and, for each, the moment the page prompts it (`Timing`): the first after
//! 1.0–1.5 s of holding still, each next one 2.0, 2.25 or 2.5 s later (27 · 3 = 81 timings
//! once the start is fixed). An action counts only when it starts inside its own window
//! (`Timing::window`), so a recorded clip has to match both the order and the timing of a
//! challenge it cannot know in advance (see `liveness::challenge` and the probability test
//! there).

use std::fmt;
use std::str::FromStr;

use rand::seq::{IndexedRandom, SliceRandom};
use serde::{Deserialize, Serialize};

/// One action. Left and right are the candidate's own (a mirrored preview shows them as in
/// a mirror; the recording is not mirrored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    TurnLeft,
    TurnRight,
    LookUp,
    LookDown,
    BlinkTwice,
    Smile,
    OpenMouth,
    /// One blink. Not drawn for candidates (too easy to get by chance); used to check the
    /// detector on real clips whose only natural blink is known.
    Blink,
}

impl Action {
    /// What the server draws from.
    pub const ISSUED: [Action; 7] =
        [Self::TurnLeft, Self::TurnRight, Self::LookUp, Self::LookDown, Self::BlinkTwice, Self::Smile, Self::OpenMouth];

    /// Every action, including those only used for recorded clips.
    pub const ALL: [Action; 8] = [
        Self::TurnLeft,
        Self::TurnRight,
        Self::LookUp,
        Self::LookDown,
        Self::BlinkTwice,
        Self::Smile,
        Self::OpenMouth,
        Self::Blink,
    ];

    /// A head movement (the head can be in one such pose at a time).
    pub fn is_pose(self) -> bool {
        matches!(self, Self::TurnLeft | Self::TurnRight | Self::LookUp | Self::LookDown)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TurnLeft => "turn_left",
            Self::TurnRight => "turn_right",
            Self::LookUp => "look_up",
            Self::LookDown => "look_down",
            Self::BlinkTwice => "blink_twice",
            Self::Smile => "smile",
            Self::OpenMouth => "open_mouth",
            Self::Blink => "blink",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown challenge action {0:?} (turn_left, turn_right, look_up, look_down, blink_twice, smile, open_mouth, blink)"
)]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// Parses a comma-separated list of actions (configuration).
pub fn parse_actions(list: &str) -> Result<Vec<Action>, UnknownAction> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Action::from_str).collect()
}

/// When the page prompts each step, in milliseconds from the start of the recording, and how
/// long after its prompt a step may start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Timing {
    pub prompts_ms: Vec<u32>,
    pub window_ms: u32,
}

/// A step may start this long before its prompt (the page's timers and the recording's first
/// frame are not started at the same instant).
pub const EARLY_MS: u32 = 200;
/// How long after its prompt a step may start.
pub const WINDOW_MS: u32 = 1800;
const FIRST_PROMPT_MS: [u32; 3] = [1000, 1250, 1500];
const GAPS_MS: [u32; 3] = [2000, 2250, 2500];

impl Timing {
    /// Where step `index`'s action must start, [from, to) in milliseconds, if it has a prompt.
    pub fn window(&self, index: usize) -> Option<(f64, f64)> {
        let at = f64::from(*self.prompts_ms.get(index)?);
        Some((at - f64::from(EARLY_MS), at + f64::from(self.window_ms)))
    }

    /// How long the page records: until the last step's window closes.
    pub fn record_ms(&self) -> u32 {
        self.prompts_ms.last().copied().unwrap_or_default() + self.window_ms
    }

    /// Random prompts for `steps` steps.
    pub fn draw(steps: usize) -> Self {
        let mut rng = rand::rng();
        let mut at = *FIRST_PROMPT_MS.choose(&mut rng).unwrap_or(&1000);
        let mut prompts_ms = Vec::with_capacity(steps);
        for _ in 0..steps {
            prompts_ms.push(at);
            at += *GAPS_MS.choose(&mut rng).unwrap_or(&2000);
        }
        Self { prompts_ms, window_ms: WINDOW_MS }
    }
}

/// An issued challenge: the actions in order and, when drawn at random, their prompts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub steps: Vec<Action>,
    pub timing: Option<Timing>,
}

impl Challenge {
    /// `count` actions with their timing (see the module doc).
    pub fn draw(count: usize) -> Self {
        let steps = draw(count);
        let timing = Timing::draw(steps.len());
        Self { steps, timing: Some(timing) }
    }
}

/// `count` distinct actions in random order, never two head turns in a row (so each turn
/// starts from the front).
pub fn draw(count: usize) -> Vec<Action> {
    let mut rng = rand::rng();
    loop {
        let mut actions = Action::ISSUED.to_vec();
        actions.shuffle(&mut rng);
        actions.truncate(count.clamp(1, Action::ISSUED.len()));
        let turns = |a: &Action| matches!(a, Action::TurnLeft | Action::TurnRight);
        if !actions.windows(2).any(|w| matches!(w, [a, b] if turns(a) && turns(b))) {
            return actions;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_distinct_actions_without_back_to_back_turns() {
        for _ in 0..200 {
            let a = draw(3);
            assert_eq!(a.len(), 3);
            let mut unique = a.clone();
            unique.sort_by_key(|x| x.as_str());
            unique.dedup();
            assert_eq!(unique.len(), 3, "{a:?}");
            assert!(!a.contains(&Action::Blink));
            assert!(
                !a.windows(2)
                    .any(|w| matches!(w, [Action::TurnLeft | Action::TurnRight, Action::TurnLeft | Action::TurnRight]))
            );
        }
    }

    #[test]
    fn drawn_timings_keep_windows_apart_and_fit_the_recording_limit() {
        for _ in 0..200 {
            let c = Challenge::draw(4);
            let t = c.timing.unwrap();
            assert_eq!(t.prompts_ms.len(), 4);
            for k in 0..3 {
                let (_, end) = t.window(k).unwrap();
                let (start, _) = t.window(k + 1).unwrap();
                assert!(end <= start, "{t:?}");
            }
            assert!(t.record_ms() <= 11_000, "{t:?}");
        }
    }

    #[test]
    fn actions_round_trip_and_unknown_ones_are_refused() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        assert_eq!(parse_actions("turn_right, blink"), Ok(vec![Action::TurnRight, Action::Blink]));
        assert!(parse_actions("wave").is_err());
    }
}
