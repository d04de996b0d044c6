//! `idgate user create --org ACME --role reviewer|auditor|admin --email ana@acme.example`:
//! prints the one-time set-up link (72 hours) on its last line. The person opens it, sets a
//! password and enrols an authenticator app.

use super::{Failure, error_chain, runtime};
use crate::accounts::{AccountError, NewUserPlace, create_user};
use crate::audit::event::Actor;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::context::open_store;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a console user and print their one-time set-up link.
    Create {
        #[arg(long)]
        org: String,
        /// reviewer, auditor or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: String,
    },
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    let Command::Create { org, role, email } = command;
    let link = runtime()?.block_on(async {
        let store = open_store(&settings).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        let public_url = settings.public_url();
        let place = NewUserPlace { store: &store, public_url: &public_url, now: SystemClock.now() };
        let made = create_user(&place, &org, &role, &email, Actor::Operator { command: "idgate user create" }).await;
        super::seal_audit(&settings, &store).await;
        store.close().await;
        made.map_err(|e| match e {
            AccountError::Storage(e) => Failure::internal(error_chain(&e)),
            AccountError::Internal(e) => Failure::internal(e),
            other => Failure::bad_input(other.to_string()),
        })
    })?;
    outln!("user: {} ({role}, {org})", email.trim().to_lowercase());
    outln!("set-up link (once, 72 hours):");
    outln!("{}", link.setup_link);
    Ok(())
}
