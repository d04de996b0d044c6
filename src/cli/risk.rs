//! `idgate risk fit [--org ACME] [--min-cases 5] [--alpha 1] [--json]`: fits the reviewers'
//! final approvals and rejections to the risk signals their cases carried and prints the
//! proposed weights beside the configured ones, with 95 % intervals. Nothing is applied: an
//! admin copies what they accept into `[risk.weights]`.

use super::{Failure, error_chain, runtime};
use crate::config::Settings;
use crate::context::open_store;
use crate::pipeline::risk::fit::{FitError, Outcome, fit, stored_codes};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Propose risk weights from reviewers' outcomes.
    Fit {
        /// One organisation's reviews (default: every organisation's).
        #[arg(long)]
        org: Option<String>,
        /// Signals seen on fewer reviewed cases are not fitted.
        #[arg(long, default_value_t = 5)]
        min_cases: usize,
        /// L2 regularisation of the coefficients.
        #[arg(long, default_value_t = 1.0)]
        alpha: f64,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    let Command::Fit { org, min_cases, alpha, json } = command;
    if !(alpha.is_finite() && alpha > 0.0) || min_cases == 0 {
        return Err(Failure::bad_input("--alpha must be above 0 and --min-cases at least 1"));
    }
    let rows = runtime()?.block_on(async {
        let store = open_store(&settings).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        let rows = store.review_outcomes(org.as_deref()).await.map_err(|e| Failure::internal(error_chain(&e)));
        store.close().await;
        rows
    })?;
    let outcomes: Vec<Outcome> = rows
        .iter()
        .map(|(decision, risk)| Outcome { signals: stored_codes(risk.as_deref()), rejected: decision == "reject" })
        .collect();
    let weights = &settings.risk.weights;
    let report = fit(&outcomes, |code| weights.of(code), min_cases, alpha).map_err(|e| match e {
        FitError::TooFew { .. } => Failure { code: 1, message: e.to_string() },
        FitError::Fit(_) => Failure::internal(e.to_string()),
    })?;
    if json {
        outln!("{}", serde_json::to_string(&report).unwrap_or_default());
        return Ok(());
    }
    outln!(
        "{} reviewed cases, {} rejected; a case with no signal is rejected {:.1} % of the time (alpha {})",
        report.cases,
        report.rejected,
        100.0 * report.leak,
        report.alpha
    );
    outln!(
        "{:<34} {:>6} {:>9} {:>11} {:>9} {:>14}",
        "signal",
        "cases",
        "rejected",
        "configured",
        "proposed",
        "95 % interval"
    );
    for s in &report.signals {
        outln!(
            "{:<34} {:>6} {:>9} {:>11} {:>9} {:>14}",
            s.code,
            s.cases,
            s.rejected,
            s.configured,
            s.proposed,
            format!("{}–{}", s.low, s.high)
        );
    }
    if !report.too_rare.is_empty() {
        outln!("not fitted (on fewer than {min_cases} reviewed cases): {}", report.too_rare.join(", "));
    }
    outln!("# proposed, not applied: copy what you accept into the configuration");
    outln!("[risk.weights]");
    for s in &report.signals {
        if s.code.contains(" + ") {
            // Signals that always came together: only their noisy-OR can be learnt.
            outln!(
                "# {}: together {} (configured together {}); split it between them",
                s.code,
                s.proposed,
                s.configured
            );
        } else {
            outln!("{} = {}", s.code, s.proposed);
        }
    }
    Ok(())
}
