//! Finding, checking and loading the ONNX Runtime library and the model files.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::{Environment, GlobalThreadPoolOptions};
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

/// Loads ONNX Runtime from `library` the first time; later calls reuse it. Every session runs
/// on one process-wide intra-op thread pool of `threads` threads (the calling thread is one of
/// them) whose idle threads sleep instead of spinning: the decoder thread and the other
/// requests keep the cores.
pub fn environment(library: &Path, threads: usize) -> Result<&'static Environment, EngineError> {
    let env = ENVIRONMENT.get_or_init(|| {
        // The library is loaded first: the pool's options are made through its API.
        let builder = ort::init_from(library).map_err(|e| e.to_string())?;
        let pool = GlobalThreadPoolOptions::default()
            .with_intra_threads(threads.max(1))
            .and_then(|p| p.with_inter_threads(1))
            .and_then(|p| p.with_spin_control(false))
            .map_err(|e| e.to_string())?;
        builder.with_name("idgate").with_global_thread_pool(pool).build().map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|message| EngineError::Runtime { path: library.to_path_buf(), message: message.clone() })
}

/// One session per model, created once and shared; it runs on the environment's thread pool.
/// No arena and no memory pattern: ONNX Runtime's arena keeps each session's largest
/// activations for good (and grows in powers of two), which for seven sessions cost more than
/// 150 MB of resident memory; allocating per run measured as fast (`cargo bench --bench verify`).
pub fn session(env: &Environment, model: &Path) -> Result<Session, EngineError> {
    let fail = |e: ort::Error| EngineError::ModelLoad { path: model.to_path_buf(), source: e };
    Session::builder(env)
        .map_err(fail)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| fail(e.into()))?
        .with_memory_pattern(false)
        .map_err(|e| fail(e.into()))?
        .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(false).build()])
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

/// A model's session, created on first use (or by `preload`): a one-shot `idgate verify`
/// reads the document before the face models exist, so the two never share the peak memory.
pub struct ModelSession {
    env: &'static Environment,
    path: PathBuf,
    slot: std::sync::Mutex<Option<Session>>,
}

/// The locked session (created if it was not yet).
pub struct SessionGuard<'a>(std::sync::MutexGuard<'a, Option<Session>>);

impl std::ops::Deref for SessionGuard<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        match self.0.as_ref() {
            Some(session) => session,
            None => unreachable!("a SessionGuard is only made around a created session"),
        }
    }
}

impl std::ops::DerefMut for SessionGuard<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        match self.0.as_mut() {
            Some(session) => session,
            None => unreachable!("a SessionGuard is only made around a created session"),
        }
    }
}

impl ModelSession {
    /// `path` must already be verified (`verified_path`).
    pub fn new(env: &'static Environment, path: PathBuf) -> Self {
        Self { env, path, slot: std::sync::Mutex::new(None) }
    }

    /// Around a session created already.
    pub fn created(env: &'static Environment, path: PathBuf, session: Session) -> Self {
        Self { env, path, slot: std::sync::Mutex::new(Some(session)) }
    }

    /// The session, locked for one run; created on first use.
    pub fn lock(&self) -> Result<SessionGuard<'_>, EngineError> {
        let mut slot = self.slot.lock().map_err(|_| EngineError::Poisoned)?;
        if slot.is_none() {
            *slot = Some(session(self.env, &self.path)?);
        }
        Ok(SessionGuard(slot))
    }

    /// Creates the session now (a server does, so that its first request is not slower).
    pub fn preload(&self) -> Result<(), EngineError> {
        self.lock().map(drop)
    }
}
