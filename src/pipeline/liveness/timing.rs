//! Frame times: the grid that picks the grid frames from a stream of any frame rate, and the
//! repair of frame times some demuxers report as 0 ms.

use super::observe::ObserveSettings;
use crate::engine::decode::VideoInfo;

/// The time grid that chooses the grid frames.
pub(super) struct Grid {
    step_ms: f64,
    next_ms: Option<f64>,
    taken: usize,
    max_frames: usize,
}

impl Grid {
    pub(super) fn new(info: Option<VideoInfo>, settings: &ObserveSettings) -> Self {
        let unknown = 1000.0 / settings.grid_fps.max(1.0);
        let step_ms = match info {
            Some(VideoInfo { declared_frames: Some(n), fps }) if fps > 0.0 && fps <= 240.0 => {
                let length_ms = n as f64 * 1000.0 / fps;
                (length_ms / settings.max_frames.max(1) as f64).clamp(1000.0 / settings.max_grid_fps.max(1.0), unknown)
            }
            _ => unknown,
        };
        Self { step_ms, next_ms: None, taken: 0, max_frames: settings.max_frames.max(1) }
    }

    /// Whether the frame at `t` is the next grid frame (a quarter step early counts: timestamps
    /// are rounded to the millisecond and cameras jitter).
    pub(super) fn due(&mut self, t: f64) -> bool {
        if self.next_ms.is_some_and(|next| t < next - self.step_ms / 4.0) {
            return false;
        }
        self.taken += 1;
        if self.taken.is_multiple_of(self.max_frames) {
            self.step_ms *= 2.0;
        }
        let mut next = self.next_ms.unwrap_or(t) + self.step_ms;
        while next <= t {
            next += self.step_ms;
        }
        self.next_ms = Some(next);
        true
    }
}

/// Frame times as the stream gives them; some demuxers report 0 ms for the last frames of a
/// stream: those get the time their index implies at the pace of the frames before them.
#[derive(Default)]
pub(super) struct FrameClock {
    last: Option<(usize, f64)>,
    per_frame: Option<f64>,
}

impl FrameClock {
    pub(super) fn time(&mut self, index: usize, reported: f64) -> f64 {
        let t = match (self.last, self.per_frame) {
            (Some((i, t)), Some(pace)) if index > 0 && reported <= 0.0 => t + (index.saturating_sub(i)) as f64 * pace,
            _ => reported,
        };
        if let Some((i, previous)) = self.last
            && index > i
            && reported > 0.0
        {
            self.per_frame = Some((t - previous) / (index - i) as f64);
        }
        self.last = Some((index, t));
        t
    }
}
