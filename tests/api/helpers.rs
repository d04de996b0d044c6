//! Shared test plumbing: the real engine (loaded once), the real binary, generated media,
//! and `../shared/data` access that skips with a message when it is absent.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use idgate::config::Settings;
use idgate::engine::Engine;
use opencv::core::{Mat, Scalar, Vector};
use opencv::imgcodecs;
use opencv::prelude::*;

/// The engine as configured by default (models from setup), shared by every test.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let settings = Settings::load(None).expect("default settings");
            Engine::load(&settings.engine).expect("models installed by `make setup`")
        })
        .clone()
}

/// `../shared/data/<rel>`, or `None` after printing why the test is skipped.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("SKIP: {} is absent (../shared/data is not beside the checkout)", path.display());
        None
    }
}

/// Runs the real `idgate` binary.
pub fn idgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idgate")).args(args).output().expect("run idgate")
}

/// Runs ffmpeg (installed by setup) quietly; panics with its stderr when it fails.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg is installed by scripts/setup-system.sh");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A solid-colour BGR image.
pub fn solid(width: i32, height: i32, bgr: [f64; 3]) -> Mat {
    Mat::new_rows_cols_with_default(height, width, opencv::core::CV_8UC3, Scalar::new(bgr[0], bgr[1], bgr[2], 0.0))
        .expect("mat")
}

/// Encodes an image (".jpg", ".png", ".webp") to bytes.
pub fn encode(ext: &str, image: &Mat) -> Vec<u8> {
    let mut buf = Vector::<u8>::new();
    imgcodecs::imencode(ext, image, &mut buf, &Vector::new()).expect("encode");
    buf.to_vec()
}

pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The lines idgate itself wrote to stderr (libraries such as libpng may add warnings).
pub fn stderr_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr).lines().map(str::to_owned).collect()
}
