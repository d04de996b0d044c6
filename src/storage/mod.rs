//! Persistence on SQLite (embedded default) or PostgreSQL (scale-out), through one SQL
//! implementation on sqlx's `Any` driver: the schema uses only types both engines share
//! (TEXT, BIGINT milliseconds, BLOB/BYTEA), queries are written with `?` and numbered for
//! PostgreSQL, and the few engine-specific statements branch on `Backend`. Every storage
//! test runs on both engines.

mod api_keys;
mod audit;
mod claim_hashes;
mod documents;
mod face_templates;
mod job_claims;
mod jobs;
mod keys;
mod liveness;
mod media;
mod network;
pub mod objects;
mod retention;
mod reviews;
mod tokens;
mod users;
mod verifications;
mod webhooks;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use api_keys::{ApiKeyInfo, ApiKeyRecord, NewApiKeyRow};
pub use audit::{AuditRow, EventFilter, HeadRow};
pub use claim_hashes::{ClaimHash, ClaimHashes};
pub use documents::{DocumentUse, NewDocument};
pub use face_templates::TemplateRow;
pub use jobs::{ClaimedJob, JobKind, Outcome};
pub use keys::{KeyPurpose, KeyRecord, KeyState};
pub use liveness::{AnsweredRecord, ChallengeRecord};
pub use media::MediaRecord;
pub use network::{IdentityLink, Linked};
pub use retention::{Deleted, DueCase};
pub use reviews::{
    ClaimOutcome, ClaimRecord, FinalChange, NewLink, QueueFilter, ReviewRecord, ReviewWrite, ReviewWritten,
};
pub use tokens::{NewToken, TokenRecord};
pub use users::{SessionRecord, UserRecord};
pub use verifications::{ClaimsError, ListFilter, NewVerification, StepChange, VerificationRecord};
pub use webhooks::WebhookAttempt;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(&'static str),
}

impl StorageError {
    /// True for a unique-constraint violation (e.g. a duplicate idempotency key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when the database cannot be reached or is restarting (no connection within the
    /// acquire timeout, a dropped connection, SQLSTATE class 08 or 57P01–57P03): the request
    /// may succeed later, nothing about it is wrong.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_),
            ) => true,
            Self::Database(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|code| code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")),
            _ => false,
        }
    }

    /// Whether `cause` or anything it wraps is an unavailable database.
    pub fn unavailable_in(cause: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(cause);
        while let Some(e) = next {
            if e.downcast_ref::<StorageError>().is_some_and(StorageError::is_unavailable) {
                return true;
            }
            next = e.source();
        }
        false
    }
}

/// The database handle, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects (creating a SQLite file if needed) and configures the connection.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StorageError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { max_connections.min(8) } else { max_connections })
            // SQLite waits for its few writers; PostgreSQL that is not there is told fast (503).
            .acquire_timeout(Duration::from_secs(if backend == Backend::Sqlite { 10 } else { 5 }))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations for this engine.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// `?` placeholders, numbered `$1…` for PostgreSQL.
    fn sql<'q>(&self, query: &'q str) -> Cow<'q, str> {
        placeholders(self.backend, query)
    }
}

/// `query` with its `?` placeholders as `backend` wants them (numbered `$1…` for
/// PostgreSQL). Our SQL has no `?` in literals.
pub fn placeholders(backend: Backend, query: &str) -> Cow<'_, str> {
    match backend {
        Backend::Sqlite => Cow::Borrowed(query),
        Backend::Postgres => {
            let mut out = String::with_capacity(query.len() + 16);
            let mut n = 0;
            for c in query.chars() {
                if c == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(c);
                }
            }
            Cow::Owned(out)
        }
    }
}

/// A `sqlite://` URL for a database file, created if missing.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}
