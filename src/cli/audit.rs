//! `idgate audit verify`: recompute the whole audit log and check every signed head.

use super::{Failure, error_chain, runtime};
use crate::config::Settings;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Recompute every entry's hash, the root at every signed tree head and every head
    /// signature; exit 1 naming the first bad entry if anything is off.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    let Command::Verify { json } = command;
    runtime()?.block_on(async move {
        let (store, keyring) = super::keys::open(&settings).await?;
        let report =
            crate::audit::check::check(&store, &keyring).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        store.close().await;
        if json {
            outln!("{}", serde_json::to_string(&report).unwrap_or_default());
        } else if report.ok() {
            outln!("audit log ok: {} entries, {} signed heads, root {}", report.entries, report.heads, report.root);
        } else {
            for p in &report.problems {
                outln!("{}: {}", p.code, p.message);
            }
        }
        match report.first() {
            None => Ok(()),
            Some(p) => Err(Failure {
                code: 1,
                message: format!(
                    "audit log does not verify ({} problem(s)); first: {}{}: {}",
                    report.problems.len(),
                    p.seq.map(|s| format!("entry {s}, ")).unwrap_or_default(),
                    p.code,
                    p.message
                ),
            }),
        }
    })
}
