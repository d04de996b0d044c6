//! `idgate apikey create --org ACME --role hr`: prints the key alone on its last line, once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

use super::{Failure, error_chain, runtime};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::context::{master_key, open_store};
use crate::crypto::aead::Sealer;
use crate::crypto::api_key;
use crate::domain::role::Role;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a key for an organisation (created on first use, with its webhook secret).
    Create {
        #[arg(long)]
        org: String,
        /// hr, reviewer, auditor or admin.
        #[arg(long)]
        role: String,
    },
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    let Command::Create { org, role } = command;
    let ok = (1..=64).contains(&org.len()) && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(Failure::bad_input("--org must be 1-64 of letters, digits, '-' and '_'"));
    }
    let role: Role = role.parse().map_err(|()| Failure::bad_input("--role must be hr, reviewer, auditor or admin"))?;
    let sealer = Sealer::new(&master_key(&settings).map_err(|e| Failure::internal(error_chain(&e)))?);
    let key = api_key::generate().map_err(|e| Failure::internal(e.to_string()))?;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let webhook_secret = format!("whsec_{}", STANDARD.encode(secret));
    let sealed = sealer
        .seal(webhook_secret.as_bytes(), &format!("webhook:{org}"))
        .map_err(|e| Failure::internal(e.to_string()))?;
    let now = SystemClock.now();
    let created = runtime()?.block_on(async {
        let store = open_store(&settings).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        let created =
            store.ensure_organisation(&org, &sealed, now).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        store
            .insert_api_key(&key.prefix, &key.hash, &org, role.as_str(), now)
            .await
            .map_err(|e| Failure::internal(error_chain(&e)))?;
        store.close().await;
        Ok::<_, Failure>(created)
    })?;
    outln!("organisation: {org}{}", if created { " (created)" } else { "" });
    if created {
        outln!("webhook secret (shown once): {webhook_secret}");
    }
    outln!("role: {}  prefix: {}", role.as_str(), key.prefix);
    outln!("{}", key.key);
    Ok(())
}
