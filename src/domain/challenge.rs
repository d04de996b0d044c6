//! The active liveness challenge: a short random sequence of actions the candidate performs
//! in the selfie video, issued by the server for one session and usable once.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// One action. Left and right are the candidate's own (a mirrored preview shows them as in
/// a mirror; the recording is not mirrored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    TurnLeft,
    TurnRight,
    LookUp,
    BlinkTwice,
    Smile,
    /// One blink. Not drawn for candidates (too easy to get by chance); used to check the
    /// detector on real clips whose only natural blink is known.
    Blink,
}

impl Action {
    /// What the server draws from.
    pub const ISSUED: [Action; 5] = [Self::TurnLeft, Self::TurnRight, Self::LookUp, Self::BlinkTwice, Self::Smile];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TurnLeft => "turn_left",
            Self::TurnRight => "turn_right",
            Self::LookUp => "look_up",
            Self::BlinkTwice => "blink_twice",
            Self::Smile => "smile",
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
#[error("unknown challenge action {0:?} (turn_left, turn_right, look_up, blink_twice, smile, blink)")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::TurnLeft, Self::TurnRight, Self::LookUp, Self::BlinkTwice, Self::Smile, Self::Blink]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// Parses a comma-separated list of actions (configuration).
pub fn parse_actions(list: &str) -> Result<Vec<Action>, UnknownAction> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Action::from_str).collect()
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
    fn actions_round_trip_and_unknown_ones_are_refused() {
        for a in Action::ISSUED.into_iter().chain([Action::Blink]) {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        assert_eq!(parse_actions("turn_right, blink"), Ok(vec![Action::TurnRight, Action::Blink]));
        assert!(parse_actions("wave").is_err());
    }
}
