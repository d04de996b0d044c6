//! The challenge on cameras that drop frames: the real Carphone clip (30 fps; it turns right
//! at ~0.9 s, blinks at ~1.4 s and ~3.1 s, turns left at ~2.8 s) re-encoded with frames
//! removed and the survivors keeping their own timestamps (variable frame rate, as a busy
//! laptop records):
//! - every second frame dropped (15 fps);
//! - 30% dropped at random (ffmpeg's `random(0)`, whose seed is fixed: the same frames each run);
//! - no frame dropped but written as a browser writes WebM (no duration), one frame late, so
//!   the 15 fps grid steps over both blinks' shut frames and only the dense pass between grid
//!   frames can see them.
//!
//! Each must pass the challenge the clip performs and fail one it does not; a print attack
//! of a real photo fails, whole and with frames dropped. The stage runs on the real models
//! (no HTTP: the service tests in liveness.rs cover that path).

use std::path::{Path, PathBuf};

use idgate::domain::challenge::parse_actions;
use idgate::pipeline::liveness::injection::CaptureReport;
use idgate::pipeline::liveness::{self, Liveness, LivenessInput};

use crate::helpers::{engine, ffmpeg, shared_data};
use crate::print_attack::print_attack;

const PERFORMED: &str = "turn_right,blink,turn_left";

/// Re-encodes `clip` to VP8 WebM through the filter `vf`, keeping each frame's own time.
fn reencode(clip: &Path, vf: &str, out: &Path, live: bool) -> PathBuf {
    let mut args = vec!["-i", clip.to_str().unwrap(), "-vf", vf, "-fps_mode", "passthrough"];
    args.extend(["-c:v", "libvpx", "-b:v", "1M", "-threads", "1"]);
    if live {
        args.extend(["-f", "webm", "-live", "1"]);
    }
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
    out.to_path_buf()
}

fn assess(video: &Path, challenge: &str) -> Liveness {
    let steps = parse_actions(challenge).unwrap();
    let bytes = std::fs::read(video).unwrap();
    let capture = CaptureReport::default();
    let input = LivenessInput::alone(&steps, &capture, &bytes, idgate::config::DEFAULT_MATCH_THRESHOLD);
    liveness::assess(&engine(), video, &input).unwrap()
}

/// Where each step was seen, for the log: `turn_right 934–1568 ms, ...`.
fn times(live: &Liveness) -> String {
    let step = |s: &liveness::challenge::StepResult| match (s.from_ms, s.to_ms) {
        (Some(a), Some(b)) => format!("{} {a:.0}-{b:.0} ms ({})", s.action, s.outcome),
        _ => format!("{} ({})", s.action, s.outcome),
    };
    live.challenge.steps.iter().map(step).collect::<Vec<_>>().join(", ")
}

fn passes_its_challenge_and_fails_another(name: &str, video: &Path) {
    let live = assess(video, PERFORMED);
    println!(
        "{name}: {} decoded, {} analysed ({} between grid frames): {}",
        live.frames_decoded,
        live.frames_analysed,
        live.frames_between,
        times(&live)
    );
    assert!(live.challenge.passed, "{name}: {:?} {}", live.challenge.reasons, times(&live));
    let blink = live.challenge.steps.get(1).and_then(|s| s.from_ms).unwrap();
    assert!((1250.0..1550.0).contains(&blink), "{name}: the blink is at ~1.4 s: {}", times(&live));

    let other = assess(video, "turn_right,smile");
    assert_eq!(other.challenge.reasons, ["challenge_step_2_smile_missing"], "{name}: {}", times(&other));
    assert!(!other.passed, "{name}");
}

fn carphone() -> Option<(tempfile::TempDir, PathBuf)> {
    let clip = shared_data("video/carphone_pristine.mp4")?;
    Some((tempfile::tempdir().unwrap(), clip))
}

#[test]
fn every_second_frame_dropped() {
    let Some((dir, clip)) = carphone() else { return };
    let video = reencode(&clip, "select=not(mod(n\\,2))", &dir.path().join("half.webm"), false);
    passes_its_challenge_and_fails_another("15 fps (every second frame dropped)", &video);
}

#[test]
fn thirty_percent_dropped_at_random() {
    let Some((dir, clip)) = carphone() else { return };
    let video = reencode(&clip, "select=gt(random(0)\\,0.3)", &dir.path().join("drop30.webm"), false);
    passes_its_challenge_and_fails_another("30% dropped at random", &video);
}

#[test]
fn blinks_between_grid_frames_are_found_by_the_dense_pass() {
    let Some((dir, clip)) = carphone() else { return };
    let video = reencode(&clip, "select=gte(n\\,1),setpts=PTS-STARTPTS", &dir.path().join("late.webm"), true);
    let live = assess(&video, "turn_right,blink_twice");
    println!("browser-style WebM, one frame late: {} between grid frames: {}", live.frames_between, times(&live));
    assert!(live.frames_between > 0, "the dense pass never ran");
    assert!(live.challenge.passed, "{:?} {}", live.challenge.reasons, times(&live));
    passes_its_challenge_and_fails_another("browser-style WebM, one frame late", &video);
}

#[test]
fn print_attacks_fail_whole_and_with_frames_dropped() {
    let Some(photo) = shared_data("faces/deepface/images/img34.jpg") else { return };
    let dir = tempfile::tempdir().unwrap();
    let whole = print_attack(&photo, &dir.path().join("print.webm"));
    let dropped = reencode(&whole, "select=not(mod(n\\,2))", &dir.path().join("print-half.webm"), false);
    for (name, video) in [("print", whole), ("print, every second frame dropped", dropped)] {
        let live = assess(&video, PERFORMED);
        println!("{name}: {}", times(&live));
        assert!(!live.challenge.passed, "{name}: {}", times(&live));
        assert!(!live.passed, "{name}");
    }
}
