//! Does the liveness stage's 3D check see a print? (`cargo bench --bench planarity`, in
//! `make bench`; figures printed, not asserted.)
//!
//! Attacks: every photo listed below printed on a card and moved in front of a pinhole
//! camera four ways (tests/support/plane_attack.rs: held, wobbled in its plane, turned ±30°
//! left first, right first), 4 s of 1280×720 VP8 each. Bona fide: the real clips there are
//! (Carphone pristine and compressed, a 720p VP8 re-encoding of it); the Chromium recording
//! is checked by tests/api/browser.rs.
//!
//! Printed: per clip the 3D check's figures; then APCER/BPCER of the 3D check alone (flags
//! `planar`) over the turned prints and over all prints, and of the whole stage (`passed`)
//! answering the challenge the print's motion best fits (turn_left,turn_right or the reverse;
//! for held and wobbled prints the same) against the real clips answering theirs.
//! IDGATE_PLANARITY_DUMP=DIR also writes each clip's per-frame measurements as JSON.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use idgate::config::Settings;
use idgate::domain::challenge::parse_actions;
use idgate::engine::Engine;
use idgate::pipeline::liveness::injection::CaptureReport;
use idgate::pipeline::liveness::observe::{ObserveSettings, observe};
use idgate::pipeline::liveness::planarity::{self, PlanarityThresholds};
use idgate::pipeline::liveness::{self, LivenessInput};

#[path = "../tests/support/images.rs"]
mod images;
use images::images_under;
#[path = "../tests/support/plane_attack.rs"]
mod plane_attack;
use plane_attack::{Motion, plane_attack};

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    p.exists().then_some(p)
}

/// The photos printed: the deepface portraits and the first image of each NUAA subject.
fn photos() -> Vec<PathBuf> {
    let mut photos: Vec<PathBuf> =
        images_under(&shared("faces/deepface/images").unwrap()).into_iter().take(14).collect();
    for subject in ["0001", "0003", "0005", "0007", "0009", "0011"] {
        let live = shared(&format!("spoof/nuaa/live/{subject}"));
        photos.extend(live.and_then(|d| images_under(&d).into_iter().next()));
    }
    photos
}

struct Row {
    name: String,
    attack: bool,
    turned: bool,
    planar: bool,
    measured: bool,
    passed: bool,
    detail: String,
}

fn assess(
    engine: &Engine,
    clip: &Path,
    challenge: &str,
    dump: Option<&Path>,
    name: &str,
) -> (bool, bool, bool, String) {
    let observed = observe(engine, clip, ObserveSettings::default()).unwrap();
    let p = planarity::assess(&observed.frames, &PlanarityThresholds::default()).unwrap();
    if let Some(dir) = dump {
        let frames: Vec<serde_json::Value> = observed
            .frames
            .iter()
            .filter_map(|o| {
                let f = o.face.as_ref()?;
                Some(serde_json::json!({
                    "t": o.timestamp_ms, "detected": o.detected,
                    "yaw": f.pose.map(|p| p.yaw), "pitch": f.pose.map(|p| p.pitch), "roll": f.pose.map(|p| p.roll),
                    "points": f.mesh.points,
                }))
            })
            .collect();
        std::fs::write(dir.join(format!("{name}.json")), serde_json::to_vec(&frames).unwrap()).unwrap();
    }
    let bytes = std::fs::read(clip).unwrap();
    let capture = CaptureReport::default();
    let steps = parse_actions(challenge).unwrap();
    let input = LivenessInput::alone(&steps, &capture, &bytes, idgate::config::DEFAULT_MATCH_THRESHOLD);
    let whole = liveness::assess(engine, clip, &input).unwrap();
    let detail = serde_json::to_string(&p).unwrap();
    (p.planar, p.measured, whole.passed, detail)
}

fn main() {
    let Some(carphone) = shared("video/carphone_pristine.mp4") else {
        return println!("SKIP planarity bench: ../shared/data is absent");
    };
    let settings = Settings::load(None).unwrap();
    let engine = Engine::load(&settings.engine).expect("models installed by `make setup`");
    let dump = std::env::var_os("IDGATE_PLANARITY_DUMP").map(PathBuf::from);
    if let Some(d) = &dump {
        std::fs::create_dir_all(d).unwrap();
    }
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-clips/planarity");
    std::fs::create_dir_all(&cache).unwrap();

    let mut rows: Vec<Row> = Vec::new();
    // Bona fide.
    let distorted = shared("video/carphone_distorted.mp4").unwrap();
    let vp8 = cache.join("carphone-720p-vp8.webm");
    if !vp8.exists() {
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&carphone)
            .args(["-vf", "scale=1280:720", "-c:v", "libvpx", "-b:v", "2500k", "-threads", "1"])
            .arg(&vp8)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    for (name, clip) in [("carphone", &carphone), ("carphone_distorted", &distorted), ("carphone_720p_vp8", &vp8)] {
        let (planar, measured, passed, detail) =
            assess(&engine, clip, "turn_right,blink,turn_left", dump.as_deref(), name);
        rows.push(Row { name: name.into(), attack: false, turned: true, planar, measured, passed, detail });
    }
    // Attacks.
    let motions =
        [Motion::Held, Motion::Wobbled, Motion::Turned { left_first: true }, Motion::Turned { left_first: false }];
    for (i, photo) in photos().iter().enumerate() {
        for motion in motions {
            let name = format!("print{i:02}_{}", motion.name());
            let clip = cache.join(format!("{name}.webm"));
            if !clip.exists() {
                plane_attack(photo, motion, i as u64, &clip);
            }
            let challenge = match motion {
                Motion::Turned { left_first: false } => "turn_right,turn_left",
                _ => "turn_left,turn_right",
            };
            let (planar, measured, passed, detail) = assess(&engine, &clip, challenge, dump.as_deref(), &name);
            let turned = matches!(motion, Motion::Turned { .. });
            rows.push(Row { name, attack: true, turned, planar, measured, passed, detail });
        }
    }
    for r in &rows {
        println!(
            "  {:<34} planar={:<5} measured={:<5} stage_passed={:<5} {}",
            r.name, r.planar, r.measured, r.passed, r.detail
        );
    }
    let rate = |hit: usize, of: usize| format!("{:.1}% ({hit}/{of})", 100.0 * hit as f64 / of.max(1) as f64);
    let bona: Vec<&Row> = rows.iter().filter(|r| !r.attack).collect();
    let turned: Vec<&Row> = rows.iter().filter(|r| r.attack && r.turned).collect();
    let attacks: Vec<&Row> = rows.iter().filter(|r| r.attack).collect();
    println!("| check | attacks | APCER (attacks accepted) | BPCER (real clips rejected) |");
    println!("|---|---|---|---|");
    println!(
        "| 3D check alone | turned prints | {} | {} |",
        rate(turned.iter().filter(|r| !r.planar).count(), turned.len()),
        rate(bona.iter().filter(|r| r.planar).count(), bona.len())
    );
    println!(
        "| 3D check alone | all prints | {} | {} |",
        rate(attacks.iter().filter(|r| !r.planar).count(), attacks.len()),
        rate(bona.iter().filter(|r| r.planar).count(), bona.len())
    );
    println!(
        "| whole stage | all prints | {} | {} |",
        rate(attacks.iter().filter(|r| r.passed).count(), attacks.len()),
        rate(bona.iter().filter(|r| !r.passed).count(), bona.len())
    );
}
