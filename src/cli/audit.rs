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
        /// Check an evidence pack (`GET /v1/audit/evidence`) on its own, offline: every
        /// entry's hash, its inclusion proof and the signed head.
        #[arg(long)]
        pack: Option<std::path::PathBuf>,
        /// A signed tree head kept outside the service (from /.well-known/audit-heads.json,
        /// /v1/audit/tree-head or the witness file): today's log must still extend it.
        #[arg(long)]
        against: Option<std::path::PathBuf>,
        /// Fail when entries older than this many seconds are covered by no signed head.
        #[arg(long, default_value_t = 300)]
        max_unsigned_age: u64,
    },
}

fn verify_pack(path: &std::path::Path, json: bool) -> Result<(), Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad_input(format!("cannot read {}: {e}", path.display())))?;
    let pack: crate::audit::pack::Pack = serde_json::from_str(&text)
        .map_err(|e| Failure::bad_input(format!("{} is not an evidence pack: {e}", path.display())))?;
    let report = crate::audit::pack::verify(&pack);
    if json {
        outln!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else if report.problems.is_empty() {
        outln!(
            "evidence pack ok: {} entries in a tree of {} signed by audit key {} (compare it with the published key)",
            report.events,
            report.tree_size,
            report.kid
        );
    }
    match report.problems.first() {
        None => Ok(()),
        Some((seq, code)) => Err(Failure {
            code: 1,
            message: format!(
                "evidence pack does not verify ({} problem(s)); first: {}{code}",
                report.problems.len(),
                seq.map(|s| format!("entry {s}, ")).unwrap_or_default()
            ),
        }),
    }
}

/// A kept head: a JSON head, or the last line of a witness file (one head per line), or the
/// newest head of an `audit-heads.json` answer.
fn kept_head(path: &std::path::Path) -> Result<crate::audit::check::KeptHead, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad_input(format!("cannot read {}: {e}", path.display())))?;
    let bad = |e: String| Failure::bad_input(format!("{} is not a signed tree head: {e}", path.display()));
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => serde_json::from_str(text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default())
            .map_err(|e| bad(e.to_string()))?,
    };
    let head = match value.get("heads").and_then(serde_json::Value::as_array) {
        Some(heads) => heads.last().cloned().ok_or_else(|| bad("no heads".into()))?,
        None => value,
    };
    serde_json::from_value(head).map_err(|e| bad(e.to_string()))
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    let Command::Verify { json, pack, against, max_unsigned_age } = command;
    if let Some(path) = pack {
        return verify_pack(&path, json);
    }
    let kept = match against {
        Some(path) => Some(kept_head(&path)?),
        None => None,
    };
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let expect = crate::audit::check::Expectations {
        kept,
        max_unsigned_age: Some((std::time::Duration::from_secs(max_unsigned_age), now)),
    };
    runtime()?.block_on(async move {
        let (store, keyring) = super::keys::open(&settings).await?;
        let report = crate::audit::check::check_with(&store, &keyring, &expect)
            .await
            .map_err(|e| Failure::internal(error_chain(&e)))?;
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
