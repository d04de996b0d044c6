//! A whole verification, as whole processes (`cargo bench --bench verify`, in `make bench`;
//! figures printed, not asserted): `idgate verify` on the bench selfie (the Carphone clip
//! looped to 5 s, scaled to 1280×720, VP8, as benches/face_pipeline.rs makes it), a
//! passport specimen and a claims file, against `idgate liveness check` + `idgate compare`
//! on the same files (the two commands a verification took before `idgate verify`).
//!
//! Each command runs 3 times under GNU time (`/usr/bin/time`, Debian package `time`, set up
//! by `make setup`); the medians of wall time, CPU (user + system) and peak RSS are printed.
//! The pair's figures are the two processes added up. With IDGATE_BENCH_BEFORE=PATH (an
//! `idgate` binary built from an older commit, e.g. `git worktree add ../old b5c6e76 &&
//! cargo build --release --manifest-path ../old/Cargo.toml`) that binary's pair is measured
//! in the same run, so before and after share the machine's state. Then the median `verify`
//! run's per-stage times and per-model inference are printed.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const RUNS: usize = 3;
const CHALLENGE: &str = "turn_right,blink,turn_left";

fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    p.exists().then_some(p)
}

#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    wall_s: f64,
    cpu_s: f64,
    rss_mb: f64,
}

/// Runs `program args` under GNU time; returns its figures and stdout.
fn measure(program: &Path, args: &[&str]) -> (Figures, String) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(report.path())
        .arg(program)
        .args(args)
        .output()
        .expect("GNU time (/usr/bin/time) is installed by `make setup`");
    let text = std::fs::read_to_string(report.path()).unwrap();
    let last = text.lines().last().unwrap_or_default();
    let v: Vec<f64> = last.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    assert_eq!(v.len(), 4, "{} {args:?}: {text} {}", program.display(), String::from_utf8_lossy(&out.stderr));
    (Figures { wall_s: v[0], cpu_s: v[1] + v[2], rss_mb: v[3] / 1024.0 }, String::from_utf8_lossy(&out.stdout).into())
}

fn median(mut runs: Vec<Figures>) -> Figures {
    let pick = |f: fn(&Figures) -> f64, runs: &mut Vec<Figures>| {
        runs.sort_by(|a, b| f(a).total_cmp(&f(b)));
        f(&runs[runs.len() / 2])
    };
    Figures {
        wall_s: pick(|f| f.wall_s, &mut runs),
        cpu_s: pick(|f| f.cpu_s, &mut runs),
        rss_mb: pick(|f| f.rss_mb, &mut runs),
    }
}

/// `liveness check` + `compare` of `binary`: each run's two processes added up (RSS: both the
/// larger and the sum).
fn pair(binary: &Path, document: &str, selfie: &str) -> (Figures, f64) {
    let mut runs = Vec::new();
    let mut larger = Vec::new();
    for _ in 0..RUNS {
        let (live, _) = measure(binary, &["liveness", "check", selfie, "--challenge", CHALLENGE]);
        let (face, _) = measure(binary, &["compare", "--document", document, "--selfie", selfie]);
        runs.push(Figures {
            wall_s: live.wall_s + face.wall_s,
            cpu_s: live.cpu_s + face.cpu_s,
            rss_mb: live.rss_mb + face.rss_mb,
        });
        larger.push(live.rss_mb.max(face.rss_mb));
    }
    larger.sort_by(f64::total_cmp);
    (median(runs), larger[larger.len() / 2])
}

fn main() {
    let (Some(carphone), Some(document)) =
        (shared("video/carphone_pristine.mp4"), shared("mrz/specimen_images/passports/Canada.png"))
    else {
        return println!("SKIP verify bench: ../shared/data is absent");
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-clips");
    std::fs::create_dir_all(&dir).unwrap();
    let selfie = dir.join("selfie-720p-5s.webm");
    if !selfie.exists() {
        let ok = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i"])
            .arg(&carphone)
            .args(["-t", "5", "-vf", "scale=1280:720", "-r", "30", "-an", "-threads", "1"])
            .args(["-c:v", "libvpx", "-b:v", "2M", "-deadline", "good", "-cpu-used", "4"])
            .arg(&selfie)
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let claims = dir.join("bench-claims.json");
    std::fs::write(
        &claims,
        r#"{"given_name":"Ada","family_name":"Bench","birth_date":"1990-01-01","nationality":"GB",
            "residence_country":"GB","phone":"+44 7911 123456","email":"ada@example.org"}"#,
    )
    .unwrap();
    let idgate = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/idgate");
    let ok = Command::new(env!("CARGO")).args(["build", "--release", "--locked", "--bin", "idgate"]).status().unwrap();
    assert!(ok.success(), "cannot build target/release/idgate");
    let (doc, clip, claims) = (document.to_str().unwrap(), selfie.to_str().unwrap(), claims.to_str().unwrap());
    let verify_args =
        ["verify", "--document", doc, "--selfie", clip, "--challenge", CHALLENGE, "--claims", claims, "--json"];

    println!("5 s 1280x720 VP8 selfie, {} ; medians of {RUNS} whole processes", document.display());
    println!("| command | wall s | CPU s | peak RSS MB |");
    println!("|---|---|---|---|");
    let row = |label: &str, f: Figures, note: &str| {
        println!("| {label} | {:.2} | {:.2} | {:.0}{note} |", f.wall_s, f.cpu_s, f.rss_mb);
    };
    if let Some(before) = std::env::var_os("IDGATE_BENCH_BEFORE").map(PathBuf::from) {
        let (f, larger) = pair(&before, doc, clip);
        row("before: `liveness check` + `compare`", f, &format!(" (sum; larger process {larger:.0})"));
    }
    let (f, larger) = pair(&idgate, doc, clip);
    row("now: `liveness check` + `compare`", f, &format!(" (sum; larger process {larger:.0})"));
    let mut runs: Vec<(Figures, String)> = (0..RUNS).map(|_| measure(&idgate, &verify_args)).collect();
    row("now: `verify` (whole pipeline)", median(runs.iter().map(|r| r.0).collect()), "");

    runs.sort_by(|a, b| a.0.wall_s.total_cmp(&b.0.wall_s));
    let json: serde_json::Value = serde_json::from_str(&runs[RUNS / 2].1).unwrap();
    println!("`verify` (median run) decision: {}", json["results"]["decision"]);
    let (mut wall, mut inference) = (0.0, 0.0);
    for t in json["timings_ms"].as_array().unwrap() {
        let (w, i) = (t["wall_ms"].as_f64().unwrap(), t["inference_ms"].as_f64().unwrap());
        println!("  stage {:<11} {w:>6.0} ms, inference {i:>6.0} ms", t["stage"].as_str().unwrap());
        (wall, inference) = (wall + w, inference + i);
    }
    println!("  stages {wall:.0} ms, of which pure inference {inference:.0} ms ({:.0}%)", 100.0 * inference / wall);
    for m in json["inference_by_model"].as_array().unwrap() {
        println!(
            "  model {:<16} {:>4} runs {:>6.0} ms",
            m["model"].as_str().unwrap(),
            m["runs"],
            m["ms"].as_f64().unwrap()
        );
    }
}
