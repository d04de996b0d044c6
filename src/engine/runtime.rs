//! Finding, checking and loading the ONNX Runtime library and the model files.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use sha2::{Digest, Sha256};

use super::EngineError;
use super::manifest::PinnedFile;

const FIX: &str = "run `make setup` (or `python3 scripts/setup.py`) to fetch and check it";

/// The process-wide ONNX Runtime environment; the library can be loaded only once.
static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// Checks that `dir/file` exists and has the pinned sha256; returns its path. A converted
/// model has no fixed hash: its `<file>.source` sidecar (written by the set-up after the
/// numeric checks) must name the pinned source and the file's current hash.
pub fn verified_path(dir: &Path, pinned: &PinnedFile) -> Result<PathBuf, EngineError> {
    let path = dir.join(&pinned.file);
    let file = File::open(&path).map_err(|_| EngineError::ModelMissing { path: path.clone(), fix: FIX })?;
    let actual = sha256_of(file).map_err(|_| EngineError::ModelMissing { path: path.clone(), fix: FIX })?;
    let expected = match (&pinned.sha256, &pinned.member_sha256) {
        (Some(sha256), _) => sha256.clone(),
        (None, Some(source)) => converted_hash(&path, source)?,
        (None, None) => return Err(EngineError::ModelMismatch { path, fix: FIX }),
    };
    if actual != expected {
        return Err(EngineError::ModelMismatch { path, fix: FIX });
    }
    Ok(path)
}

/// What `<file>.source` records about a converted model.
#[derive(serde::Deserialize)]
struct ConversionRecord {
    source_sha256: String,
    onnx_sha256: String,
}

/// The hash the converted file at `path` must have, if its sidecar names `source`.
fn converted_hash(path: &Path, source: &str) -> Result<String, EngineError> {
    let mut sidecar = path.as_os_str().to_owned();
    sidecar.push(".source");
    let mismatch = || EngineError::ModelMismatch { path: path.to_path_buf(), fix: FIX };
    let text = std::fs::read_to_string(PathBuf::from(sidecar)).map_err(|_| mismatch())?;
    let record: ConversionRecord = serde_json::from_str(&text).map_err(|_| mismatch())?;
    if record.source_sha256 != source {
        return Err(mismatch());
    }
    Ok(record.onnx_sha256)
}

fn sha256_of(file: File) -> std::io::Result<String> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Loads ONNX Runtime from `library` the first time; later calls reuse it.
pub fn environment(library: &Path) -> Result<&'static Environment, EngineError> {
    let env = ENVIRONMENT.get_or_init(|| {
        ort::init_from(library).map_err(|e| e.to_string())?.with_name("idgate").build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|message| EngineError::Runtime { path: library.to_path_buf(), message: message.clone() })
}

/// One session per model, created once and shared.
pub fn session(env: &Environment, model: &Path, intra_threads: usize) -> Result<Session, EngineError> {
    let fail = |e: ort::Error| EngineError::ModelLoad { path: model.to_path_buf(), source: e };
    Session::builder(env)
        .map_err(fail)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| fail(e.into()))?
        .with_intra_threads(intra_threads)
        .map_err(|e| fail(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| fail(e.into()))?
        .commit_from_file(model)
        .map_err(fail)
}

/// Per-model inference on one thread: (model, time, runs).
type Ledger = Vec<(&'static str, std::time::Duration, u32)>;

thread_local! {
    static INFERENCE: std::cell::RefCell<Ledger> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Adds `spent` running `model` to this thread's inference ledger (every `session.run` call
/// site does).
pub fn note_inference(model: &'static str, spent: std::time::Duration) {
    INFERENCE.with(|ledger| {
        let mut ledger = ledger.borrow_mut();
        match ledger.iter_mut().find(|(m, ..)| *m == model) {
            Some((_, total, runs)) => {
                *total += spent;
                *runs += 1;
            }
            None => ledger.push((model, spent, 1)),
        }
    });
}

/// Time this thread has spent inside ONNX Runtime so far: the difference of two readings is
/// the pure inference share of the work between them.
pub fn inference_on_this_thread() -> std::time::Duration {
    INFERENCE.with(|ledger| ledger.borrow().iter().map(|(_, d, _)| *d).sum())
}

/// This thread's inference so far, per model: (model, time, runs).
pub fn inference_by_model() -> Vec<(&'static str, std::time::Duration, u32)> {
    INFERENCE.with(|ledger| ledger.borrow().clone())
}
