//! `idgate apikey create --org ACME --role hr [--label …] [--expires-days N]`: prints the key
//! alone on its last line, once. `idgate apikey list --org ACME` and
//! `idgate apikey revoke --org ACME PREFIX`. Every change is an audit event.

use super::{Failure, error_chain, runtime};
use crate::audit::event::{Actor, Kind, NewEvent};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::context::{master_key, open_store};
use crate::crypto::aead::Sealer;
use crate::crypto::api_key;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::storage::{NewApiKeyRow, Store};

const ACTOR: Actor = Actor::Operator { command: "idgate apikey" };

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a key for an organisation (created on first use, with its webhook secret).
    Create {
        #[arg(long)]
        org: String,
        /// hr, reviewer, auditor or admin.
        #[arg(long)]
        role: String,
        /// What the key is for.
        #[arg(long)]
        label: Option<String>,
        /// The key stops working after this many days (1–3650).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// The organisation's keys (never their secrets).
    List {
        #[arg(long)]
        org: String,
    },
    /// Revoke a key by its prefix (`idg_XXXXXXXX`): refused by every node within a second.
    Revoke {
        #[arg(long)]
        org: String,
        prefix: String,
    },
}

fn check_org(org: &str) -> Result<(), Failure> {
    let ok = (1..=64).contains(&org.len()) && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(Failure::bad_input("--org must be 1-64 of letters, digits, '-' and '_'")) }
}

/// Runs `work` on the configured store and closes it.
fn with_store<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&Store) -> Result<T, crate::storage::StorageError>,
) -> Result<T, Failure> {
    runtime()?.block_on(async {
        let store = open_store(settings).await.map_err(|e| Failure::internal(error_chain(&e)))?;
        let out = work(&store).await.map_err(|e| Failure::internal(error_chain(&e)));
        super::seal_audit(settings, &store).await;
        store.close().await;
        out
    })
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    match command {
        Command::Create { org, role, label, expires_days } => create(&settings, &org, &role, label, expires_days),
        Command::List { org } => {
            check_org(&org)?;
            let keys = with_store(&settings, async |store| store.api_keys_of(&org).await)?;
            for k in keys {
                let state = match (k.revoked_at, k.expires_at) {
                    (Some(at), _) => format!("revoked {}", at.to_rfc3339()),
                    (None, Some(at)) => format!("expires {}", at.to_rfc3339()),
                    (None, None) => "active".to_owned(),
                };
                outln!("{}  {:<8}  {}  {}", k.prefix, k.role, state, k.label.unwrap_or_default());
            }
            Ok(())
        }
        Command::Revoke { org, prefix } => {
            check_org(&org)?;
            let event = NewEvent::of_org(Kind::ApiKeyRevoked, &org, ACTOR, serde_json::json!({ "prefix": prefix }));
            let now = SystemClock.now();
            let done = with_store(&settings, async |store| store.revoke_api_key(&org, &prefix, &event, now).await)?;
            if !done {
                return Err(Failure::bad_input("no such unrevoked key in that organisation"));
            }
            outln!("revoked: {prefix}");
            Ok(())
        }
    }
}

fn create(
    settings: &Settings,
    org: &str,
    role: &str,
    label: Option<String>,
    expires_days: Option<u32>,
) -> Result<(), Failure> {
    check_org(org)?;
    let role: Role = role.parse().map_err(|()| Failure::bad_input("--role must be hr, reviewer, auditor or admin"))?;
    if expires_days.is_some_and(|d| !(1..=3_650).contains(&d)) {
        return Err(Failure::bad_input("--expires-days must be between 1 and 3650"));
    }
    if label.as_deref().is_some_and(|l| l.is_empty() || l.chars().count() > 100 || l.chars().any(char::is_control)) {
        return Err(Failure::bad_input("--label must be 1-100 printable characters"));
    }
    let sealer = Sealer::new(&master_key(settings).map_err(|e| Failure::internal(error_chain(&e)))?);
    let key = api_key::generate().map_err(|e| Failure::internal(e.to_string()))?;
    let webhook_secret = crate::webhook::new_secret();
    let sealed = sealer
        .seal(webhook_secret.as_bytes(), &format!("webhook:{org}"))
        .map_err(|e| Failure::internal(e.to_string()))?;
    let now = SystemClock.now();
    let expires_at = expires_days.map(|d| now.plus(std::time::Duration::from_secs(u64::from(d) * 86_400)));
    let row = NewApiKeyRow {
        prefix: &key.prefix,
        hash: &key.hash,
        org_id: org,
        role: role.as_str(),
        label: label.as_deref(),
        expires_at,
        created_by: "operator",
    };
    let event = NewEvent::of_org(
        Kind::ApiKeyCreated,
        org,
        ACTOR,
        serde_json::json!({ "prefix": key.prefix, "role": role.as_str(), "expires_at": expires_at.map(Timestamp::to_rfc3339) }),
    );
    let created = with_store(settings, async |store| {
        let created = store.ensure_organisation(org, &sealed, now).await?;
        store.create_api_key(&row, &event, now).await?;
        Ok(created)
    })?;
    outln!("organisation: {org}{}", if created { " (created)" } else { "" });
    if created {
        outln!("webhook secret (shown once): {webhook_secret}");
    }
    outln!("role: {}  prefix: {}", role.as_str(), key.prefix);
    outln!("{}", key.key);
    Ok(())
}
