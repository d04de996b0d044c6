//! `idgate serve`: load the engine, bind, print the real address, serve.

use std::net::SocketAddr;

use super::{Failure, load_engine};
use crate::config::Settings;
use crate::startup::Application;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (also IDGATE_BIND); port 0 picks a free port.
    #[arg(long)]
    bind: Option<SocketAddr>,
}

pub fn run(mut settings: Settings, args: Args) -> Result<(), Failure> {
    crate::telemetry::init("info,ort=warn");
    if let Some(bind) = args.bind {
        settings.server.bind = bind;
    }
    let engine = load_engine(&settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let app = Application::build(&settings, engine)
            .map_err(|e| Failure::internal(format!("cannot listen on {}: {e}", settings.server.bind)))?;
        let address = SocketAddr::new(settings.server.bind.ip(), app.port());
        println!("idgate listening on http://{address}");
        tracing::info!(%address, "listening");
        app.run().await.map_err(|e| Failure::internal(format!("server stopped: {e}")))
    })
}
