//! Command line: `idgate serve | worker | migrate | apikey | compare | calibrate | keys |
//! token | audit | lists | screen | verify`. Errors end
//! as one line on stderr and a non-zero exit: 2 for bad input or usage, 1 for anything else.

/// `println!` that stops quietly when stdout is closed (`idgate ... | head`) instead of
/// panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod apikey;
mod audit;
mod calibrate;
mod compare;
mod document;
mod keys;
mod lists;
mod liveness;
mod native_logs;
mod risk;
mod screen;
mod serve;
mod token;
mod user;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Secret, Settings};

#[derive(Debug, Parser)]
#[command(name = "idgate", version, about = "Identity-verification gateway for remote hiring")]
struct Cli {
    /// TOML configuration file (also IDGATE_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory: SQLite database, media, generated master key (also IDGATE_DATA_DIR).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (also IDGATE_DATABASE_URL).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (with in-process workers unless jobs.workers = 0).
    Serve(serve::Args),
    /// Run job workers only (several machines can share one PostgreSQL).
    Worker(serve::WorkerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage HR API keys.
    #[command(subcommand)]
    Apikey(apikey::Command),
    /// Manage console users (reviewers, auditors, admins).
    #[command(subcommand)]
    User(user::Command),
    /// Learn from reviewers: propose risk weights from their outcomes.
    #[command(subcommand)]
    Risk(risk::Command),
    /// Compare the face on an ID document with the face in a selfie image or video.
    Compare(compare::Args),
    /// Measure genuine and impostor score distributions and print thresholds per FMR.
    Calibrate(calibrate::Args),
    /// Read identity documents: the MRZ on a photo or given as text, a licence's barcode.
    #[command(subcommand)]
    Document(document::Command),
    /// Look at what the liveness stage sees in a selfie video.
    #[command(subcommand)]
    Liveness(liveness::Command),
    /// Manage the token and audit signing keys.
    #[command(subcommand)]
    Keys(keys::Command),
    /// Check verification tokens offline.
    #[command(subcommand)]
    Token(token::Command),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(audit::Command),
    /// Import and show the sanctions lists the service screens against.
    #[command(subcommand)]
    Lists(lists::Command),
    /// Screen one person against the loaded sanctions lists.
    Screen(screen::Args),
    /// Run the whole pipeline offline on one case: document, selfie, challenge, claims.
    Verify(verify::Args),
}

/// A failed command: what to print and how to exit.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self { code: 1, message: message.into() }
    }
}

pub fn run() -> ExitCode {
    native_logs::quieten();
    let cli = Cli::parse();
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => return fail(Failure::internal(format!("invalid configuration: {e}"))),
    };
    if let Some(dir) = cli.data_dir {
        settings.storage.data_dir = dir;
    }
    if let Some(url) = cli.database_url {
        settings.storage.database_url = Some(Secret::new(url));
    }
    if let Err(e) = settings.validate() {
        return fail(Failure::internal(format!("invalid configuration: {e}")));
    }
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(settings, args),
        Command::Worker(args) => serve::worker(settings, args),
        Command::Migrate => serve::migrate(settings),
        Command::Apikey(command) => apikey::run(settings, command),
        Command::User(command) => user::run(settings, command),
        Command::Risk(command) => risk::run(settings, command),
        Command::Compare(args) => compare::run(settings, args),
        Command::Calibrate(args) => calibrate::run(settings, args),
        Command::Document(command) => document::run(settings, command),
        Command::Liveness(command) => liveness::run(settings, command),
        Command::Keys(command) => keys::run(settings, command),
        Command::Token(command) => token::run(settings, command),
        Command::Audit(command) => audit::run(settings, command),
        Command::Lists(command) => lists::run(settings, command),
        Command::Screen(args) => screen::run(settings, args),
        Command::Verify(args) => verify::run(settings, args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(failure),
    }
}

fn fail(failure: Failure) -> ExitCode {
    eprintln!("idgate: error: {}", failure.message);
    ExitCode::from(failure.code)
}

/// Loads the engine or fails with the engine's own message (which names the fix).
fn load_engine(settings: &Settings) -> Result<std::sync::Arc<crate::engine::Engine>, Failure> {
    crate::engine::Engine::load(&settings.engine).map_err(|e| Failure::internal(error_chain(&e)))
}

/// Signs a tree head over what a command appended to the audit log (and hands it to the
/// witness), so that a log written while no service runs has no unsigned tail (`idgate audit
/// verify` flags one older than `--max-unsigned-age`). Without an audit key yet (no service
/// ever ran) there is nothing to sign with; a failure is a warning, the command's work stands.
async fn seal_audit(settings: &Settings, store: &crate::storage::Store) {
    let sealed = async {
        let sealer = crate::crypto::aead::Sealer::new(&crate::context::master_key(settings)?);
        let clock: crate::clock::SharedClock = std::sync::Arc::new(crate::clock::SystemClock);
        let keyring = crate::tokens::keyring::Keyring::new(store.clone(), sealer, clock.clone());
        let log = crate::audit::log::AuditLog::with_witness(settings.audit.witness_file.clone());
        match log.seal(store, &keyring, &clock).await {
            Err(crate::audit::log::AuditError::Key(crate::tokens::keyring::KeyError::NoActiveKey(_))) => Ok(()),
            other => other.map(drop).map_err(Box::<dyn std::error::Error + Send + Sync>::from),
        }
    };
    if let Err(e) = sealed.await {
        tracing::warn!(error = %error_chain(&*e), "signing an audit tree head after this command failed");
    }
}

/// A multi-threaded async runtime for the commands that need one.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))
}

pub use crate::telemetry::error_chain;
