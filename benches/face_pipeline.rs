//! Face-match pipeline benchmark: 1 ID photo + a 5 s 720p selfie video (VP8 WebM as browsers
//! record, and H.264 MP4), made from ../shared/data's Carphone clip with ffmpeg.
//!
//! Prints, per container, the median over the runs of each stage (decode, detect, align,
//! embed), the pure inference time, the total and the pipeline overhead (total − inference),
//! then the process's peak RSS. Run with `make bench`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use idgate::config::Settings;
use idgate::engine::Engine;
use idgate::pipeline::face_match::{Timings, compare};

const RUNS: usize = 7;

fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    path.exists().then_some(path)
}

/// Loops Carphone to 5 s and scales it to 1280×720 (deterministic encoder settings).
fn make_selfie(source: &Path, out: &Path, codec: &[&str]) -> Result<(), String> {
    if out.exists() {
        return Ok(());
    }
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i"])
        .arg(source)
        .args(["-t", "5", "-vf", "scale=1280:720", "-r", "30", "-an", "-threads", "1"])
        .args(codec)
        .arg(out)
        .status()
        .map_err(|e| format!("ffmpeg: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("ffmpeg failed for {}", out.display())) }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kb / 1024.0
}

fn report(label: &str, runs: &[Timings]) {
    let m = |f: fn(&Timings) -> f64| median(runs.iter().map(f).collect());
    let (total, inference) = (m(|t| t.total), m(|t| t.inference));
    println!(
        "{label:<10} decode {:>7.1} ms | detect {:>6.1} | align {:>5.1} | embed {:>6.1} | inference {:>6.1} | total {:>7.1} ms | overhead {:>5.1} ms ({:.0}% of total)",
        m(|t| t.decode),
        m(|t| t.detect),
        m(|t| t.align),
        m(|t| t.embed),
        inference,
        total,
        total - inference,
        100.0 * (total - inference) / total
    );
}

fn main() -> Result<(), String> {
    let (Some(carphone), Some(document)) =
        (shared("video/carphone_pristine.mp4"), shared("mrz/specimen_images/passports/Canada.png"))
    else {
        println!("SKIP: ../shared/data is absent; the benchmark needs its Carphone clip and a passport specimen");
        return Ok(());
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-media");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let webm = dir.join("selfie-720p-5s.webm");
    let mp4 = dir.join("selfie-720p-5s.mp4");
    make_selfie(&carphone, &webm, &["-c:v", "libvpx", "-b:v", "2M", "-deadline", "good", "-cpu-used", "4"])?;
    make_selfie(&carphone, &mp4, &["-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p"])?;

    let settings = Settings::load(None).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let engine = Engine::load(&settings.engine).map_err(|e| e.to_string())?;
    println!("engine load (hash check + 2 sessions): {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    println!("document {} ; {RUNS} runs each, medians", document.display());
    for (label, selfie) in [("webm-vp8", &webm), ("mp4-h264", &mp4)] {
        compare(&engine, &document, selfie, settings.face_match.threshold).map_err(|e| e.to_string())?; // warm-up
        let runs = (0..RUNS)
            .map(|_| compare(&engine, &document, selfie, settings.face_match.threshold).map(|r| r.timings_ms))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        report(label, &runs);
    }
    println!("peak RSS {:.0} MB", peak_rss_mb());
    Ok(())
}
