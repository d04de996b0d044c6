//! The tracing subscriber: JSON lines when stderr is not a terminal, human text when it is.
//! Spans and events carry ids, counts, scores and outcomes only; never names, birth dates,
//! images, embeddings, tokens or API keys.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `default_filter` applies unless `RUST_LOG` is set
/// (`ort` is kept at `warn`: it logs every session step at `info`).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = if std::io::stderr().is_terminal() { builder.try_init() } else { builder.json().try_init() };
}

/// An error and its sources on one line (the causes are ours: no PII by construction).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        line.push_str(": ");
        line.push_str(&e.to_string());
        source = e.source();
    }
    line
}
