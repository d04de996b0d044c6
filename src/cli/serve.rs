//! `idgate serve`, `idgate worker`, `idgate migrate`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{Failure, error_chain, runtime};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::context::{Context, open_store};
use crate::startup::{self, Application};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (also IDGATE_BIND); port 0 picks a free port.
    #[arg(long)]
    bind: Option<SocketAddr>,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// How many workers (default: jobs.workers, at least 1).
    #[arg(long)]
    workers: Option<usize>,
}

async fn context(settings: Settings) -> Result<Context, Failure> {
    Context::build(settings, Arc::new(SystemClock)).await.map_err(|e| Failure::internal(error_chain(&e)))
}

pub fn run(mut settings: Settings, args: Args) -> Result<(), Failure> {
    crate::telemetry::init("info,ort=warn,sqlx=warn");
    if let Some(bind) = args.bind {
        settings.server.bind = bind;
    }
    let bind = settings.server.bind;
    let cannot_listen = |e: std::io::Error| Failure::internal(format!("cannot listen on {bind}: {e}"));
    let listener = startup::bind(&mut settings).map_err(cannot_listen)?;
    runtime()?.block_on(async move {
        let ctx = context(settings).await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = tokio::spawn(crate::worker::run(ctx.clone(), ctx.settings.jobs.workers, stopped));
        let address = ctx.settings.server.bind;
        let app = Application::build(ctx.clone(), listener).map_err(cannot_listen)?;
        outln!("idgate listening on http://{address}");
        outln!("candidate links start with {}/c/", ctx.settings.public_url());
        tracing::info!(%address, "listening");
        let served = app.run().await;
        let _ = stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), workers).await;
        ctx.store.close().await;
        served.map_err(|e| Failure::internal(format!("server stopped: {e}")))
    })
}

pub fn worker(settings: Settings, args: WorkerArgs) -> Result<(), Failure> {
    crate::telemetry::init("info,ort=warn,sqlx=warn");
    let count = args.workers.unwrap_or(settings.jobs.workers).max(1);
    runtime()?.block_on(async move {
        let ctx = context(settings).await?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let workers = tokio::spawn(crate::worker::run(ctx.clone(), count, stopped));
        outln!("idgate worker running ({count})");
        if ctx.settings.candidate.public_url.is_none() && ctx.settings.tokens.issuer.is_none() {
            // The issuer then comes from this process's bind address, not the API's.
            tracing::warn!(issuer = %ctx.settings.issuer(), "no candidate.public_url: tokens name the bind address as issuer");
        }
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), workers).await;
        Ok(())
    })
}

pub fn migrate(settings: Settings) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    runtime()?.block_on(async move {
        let store = open_store(&settings).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        store.close().await;
        outln!("migrations applied");
        Ok(())
    })
}
