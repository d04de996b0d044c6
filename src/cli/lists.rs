//! `idgate lists import --format F PATH [--published YYYY-MM-DD]` and `idgate lists show`:
//! the sanctions lists the service screens against (`sanctions.dir`).

use std::path::PathBuf;

use clap::Subcommand;

use super::Failure;
use crate::config::Settings;
use crate::sanctions::{self, Format, SanctionsError};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a list in its official format and store it (replacing that list's previous version).
    Import {
        #[arg(long, value_enum)]
        format: Format,
        /// The file, or the folder holding the CSV set.
        path: PathBuf,
        /// The publication date (YYYY-MM-DD): the CSV set states none.
        #[arg(long)]
        published: Option<String>,
    },
    /// The lists loaded: name, format, publication date, sha256, counts, age.
    Show {
        #[arg(long)]
        json: bool,
    },
}

fn failure(e: SanctionsError) -> Failure {
    match e {
        SanctionsError::Io { .. } => Failure::internal(e.to_string()),
        SanctionsError::Load(idgate_screening::LoadError::Io { .. }) => Failure::bad_input(e.to_string()),
        _ => Failure::bad_input(e.to_string()),
    }
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    let dir = settings.sanctions_dir();
    let clock = crate::clock::SystemClock;
    let now = crate::clock::Clock::now(&clock);
    match command {
        Command::Import { format, path, published } => {
            let meta = sanctions::import(&dir, format, &path, published, now).map_err(failure)?;
            outln!(
                "imported {} ({}): {} entries, {} individuals, {} names; published {}; sha256 {}",
                meta.name,
                meta.format,
                meta.entries,
                meta.individuals,
                meta.names,
                meta.published.as_deref().unwrap_or("unknown"),
                meta.sha256
            );
            Ok(())
        }
        Command::Show { json } => {
            let stored = sanctions::load(&dir).map_err(failure)?;
            let today = now.date().ok_or_else(|| Failure::internal("clock out of range"))?;
            if json {
                let lists: Vec<_> = stored
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "list": s.list.meta, "imported_at": s.imported_at,
                            "age_days": sanctions::Sanctions::age_days(&s.list.meta, today),
                        })
                    })
                    .collect();
                outln!("{}", serde_json::json!({ "dir": dir, "lists": lists }));
                return Ok(());
            }
            if stored.is_empty() {
                outln!("no sanctions lists in {} (idgate lists import --format … PATH)", dir.display());
            }
            for s in &stored {
                let m = &s.list.meta;
                let age = sanctions::Sanctions::age_days(m, today)
                    .map_or("unknown age".to_owned(), |d| format!("{d} days old"));
                outln!(
                    "{}\t{}\tpublished {} ({age})\t{} entries, {} individuals, {} names\tsha256 {}\timported {}",
                    m.name,
                    m.format,
                    m.published.as_deref().unwrap_or("unknown"),
                    m.entries,
                    m.individuals,
                    m.names,
                    m.sha256,
                    s.imported_at
                );
            }
            Ok(())
        }
    }
}
