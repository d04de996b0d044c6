//! `idgate liveness inspect VIDEO [--json]`: what the liveness stage sees in a selfie video,
//! frame by frame (faces, head pose, blink, smile, passive anti-spoof score).
//! `idgate liveness check VIDEO --challenge a,b,c`: the stage's verdict as JSON (exit 0 when
//! it passes, 1 when it fails, 2 for bad input).

use std::path::PathBuf;

use serde_json::json;

use super::{Failure, error_chain, load_engine};
use crate::config::Settings;
use crate::domain::challenge::parse_actions;
use crate::pipeline::liveness::injection::CaptureReport;
use crate::pipeline::liveness::observe::{ObserveError, ObserveSettings, observe};
use crate::pipeline::liveness::{self, LivenessInput};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the per-frame measurements of a selfie video.
    Inspect {
        video: PathBuf,
        /// Print one JSON object per frame instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the liveness stage on a video against a challenge and print its result as JSON.
    Check {
        video: PathBuf,
        /// Comma-separated actions: turn_left, turn_right, look_up, blink_twice, smile, blink.
        #[arg(long)]
        challenge: String,
        /// The camera label the browser would report.
        #[arg(long)]
        camera_label: Option<String>,
    },
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    let (video, json) = match command {
        Command::Inspect { video, json } => (video, json),
        Command::Check { video, challenge, camera_label } => return check(settings, video, &challenge, camera_label),
    };
    crate::telemetry::init("warn,ort=error");
    let engine = load_engine(&settings)?;
    let observed = observe(&engine, &video, ObserveSettings::default()).map_err(|e| match e {
        ObserveError::Engine(_) => Failure::internal(error_chain(&e)),
        _ => Failure::bad_input(error_chain(&e)),
    })?;
    if !json {
        outln!("frame  t_ms    faces  yaw    pitch  roll   blink  smile  jaw    spoof  (* between grid frames)");
    }
    let grid: std::collections::HashSet<usize> = observed.frames.iter().map(|o| o.frame_index).collect();
    for o in observed.timeline() {
        let between = !grid.contains(&o.frame_index);
        let f = o.face.as_ref();
        let pose = f.and_then(|f| f.pose);
        if json {
            outln!(
                "{}",
                json!({
                    "frame": o.frame_index, "t_ms": o.timestamp_ms, "faces": o.faces,
                    "yaw": pose.map(|p| p.yaw), "pitch": pose.map(|p| p.pitch), "roll": pose.map(|p| p.roll),
                    "blink": f.map(|f| f.blink()), "smile": f.map(|f| f.smile), "jaw_open": f.map(|f| f.jaw_open),
                    "presence": f.map(|f| f.mesh.presence), "spoof": f.and_then(|f| f.spoof),
                    "between": between,
                })
            );
        } else {
            let num = |v: Option<f32>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
            outln!(
                "{:<6} {:<7.0} {:<6} {:<6} {:<6} {:<6} {:<6} {:<6} {:<6} {}",
                format!("{}{}", o.frame_index, if between { "*" } else { "" }),
                o.timestamp_ms,
                o.faces,
                num(pose.map(|p| p.yaw)),
                num(pose.map(|p| p.pitch)),
                num(pose.map(|p| p.roll)),
                num(f.map(|f| f.blink())),
                num(f.map(|f| f.smile)),
                num(f.map(|f| f.jaw_open)),
                num(f.and_then(|f| f.spoof)),
            );
        }
    }
    Ok(())
}

fn check(settings: Settings, video: PathBuf, challenge: &str, camera_label: Option<String>) -> Result<(), Failure> {
    let steps = parse_actions(challenge).map_err(|e| Failure::bad_input(e.to_string()))?;
    crate::telemetry::init("warn,ort=error");
    let engine = load_engine(&settings)?;
    let bytes = std::fs::read(&video).map_err(|e| Failure::bad_input(format!("{}: {e}", video.display())))?;
    let capture = CaptureReport { camera_label, ..Default::default() };
    let input = LivenessInput::alone(&steps, &capture, &bytes, settings.face_match.threshold);
    let result = liveness::assess(&engine, &video, &input).map_err(|e| match e {
        ObserveError::Engine(_) => Failure::internal(error_chain(&e)),
        _ => Failure::bad_input(error_chain(&e)),
    })?;
    outln!("{}", serde_json::to_string_pretty(&result).unwrap_or_default());
    if result.passed {
        Ok(())
    } else {
        Err(Failure { code: 1, message: format!("liveness failed: {}", result.reasons.join(", ")) })
    }
}
