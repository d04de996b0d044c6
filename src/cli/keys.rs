//! `idgate keys generate | rotate | list`: the token and audit signing keys.

use std::sync::Arc;

use super::{Failure, error_chain, runtime};
use crate::audit::event::Actor;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::context::{master_key, open_store};
use crate::crypto::aead::Sealer;
use crate::crypto::signing::Alg;
use crate::storage::{KeyPurpose, Store};
use crate::tokens::keyring::Keyring;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add a key. It signs at once if its purpose has no signer; otherwise it is published
    /// and waits for `rotate` (publish first, so verifiers' caches know it before it signs).
    Generate(KeyArgs),
    /// Make the newest waiting key (or a new one) the signer; the old one stays published
    /// until every token it signed has expired.
    Rotate(KeyArgs),
    /// Emergency revocation of a token key whose private half leaked: it is unpublished at
    /// once, every token it signed is revoked, and when it was the signer a new key signs.
    Compromise {
        /// The key's kid (`idgate keys list`); it may begin with `-`.
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// List the keys and their states.
    List {
        #[arg(long, default_value = "token")]
        purpose: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// token or audit.
    #[arg(long, default_value = "token")]
    purpose: String,
    /// EdDSA or ES256 (default: tokens.algorithm; audit keys are always EdDSA).
    #[arg(long)]
    alg: Option<String>,
}

fn purpose(raw: &str) -> Result<KeyPurpose, Failure> {
    match raw {
        "token" => Ok(KeyPurpose::Token),
        "audit" => Ok(KeyPurpose::Audit),
        _ => Err(Failure::bad_input("--purpose must be token or audit")),
    }
}

fn alg(settings: &Settings, purpose: KeyPurpose, raw: Option<&str>) -> Result<Alg, Failure> {
    match (purpose, raw) {
        (KeyPurpose::Audit, None | Some("EdDSA")) => Ok(Alg::EdDSA),
        (KeyPurpose::Audit, Some(_)) => Err(Failure::bad_input("audit keys are EdDSA (Ed25519)")),
        (KeyPurpose::Token, raw) => Alg::parse(raw.unwrap_or(&settings.tokens.algorithm))
            .ok_or_else(|| Failure::bad_input("--alg must be EdDSA or ES256")),
    }
}

/// The store and a keyring on it (no models needed).
pub async fn open(settings: &Settings) -> Result<(Store, Keyring), Failure> {
    let store = open_store(settings).await.map_err(|e| Failure::internal(error_chain(&e)))?;
    let sealer = Sealer::new(&master_key(settings).map_err(|e| Failure::internal(error_chain(&e)))?);
    let keyring = Keyring::new(store.clone(), sealer, Arc::new(SystemClock));
    Ok((store, keyring))
}

const ACTOR: Actor = Actor::Operator { command: "idgate keys" };

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    crate::telemetry::init("warn");
    runtime()?.block_on(async move {
        let (store, keyring) = open(&settings).await?;
        let fail = |e: crate::tokens::keyring::KeyError| Failure::internal(error_chain(&e));
        let result = match command {
            Command::Generate(args) => {
                let p = purpose(&args.purpose)?;
                let record = keyring.generate(p, alg(&settings, p, args.alg.as_deref())?, ACTOR).await.map_err(fail)?;
                let state = store.keys(p).await.map_err(|e| Failure::internal(error_chain(&e)))?;
                let active = state.iter().any(|k| k.kid == record.kid && k.state == crate::storage::KeyState::Active);
                outln!(
                    "{} {} key {} ({})",
                    if active { "active" } else { "pending" },
                    p.as_str(),
                    record.kid,
                    record.alg
                );
                Ok(())
            }
            Command::Rotate(args) => {
                let p = purpose(&args.purpose)?;
                let (new, old) =
                    keyring.rotate(p, alg(&settings, p, args.alg.as_deref())?, ACTOR).await.map_err(fail)?;
                match old {
                    Some(old) => outln!(
                        "{} signer is now {new}; {old} is retired (published until its tokens expire)",
                        p.as_str()
                    ),
                    None => outln!("{} signer is now {new}", p.as_str()),
                }
                Ok(())
            }
            Command::Compromise { kid, reason } => {
                let reason = reason.trim();
                if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
                    return Err(Failure::bad_input("--reason must be 1 to 500 printable characters"));
                }
                let token_alg = alg(&settings, KeyPurpose::Token, None)?;
                match keyring.compromise(&kid, token_alg, reason, ACTOR).await.map_err(fail)? {
                    Some(revoked) => {
                        outln!("token key {kid} is compromised: unpublished, {revoked} token(s) it signed revoked");
                        Ok(())
                    }
                    None => Err(Failure::bad_input(format!("no token key {kid} that is not compromised already"))),
                }
            }
            Command::List { purpose: raw, json } => {
                let p = purpose(&raw)?;
                let keys = store.keys(p).await.map_err(|e| Failure::internal(error_chain(&e)))?;
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "kid": k.kid, "alg": k.alg, "state": k.state.as_str(), "created_at": k.created_at,
                            "activated_at": k.activated_at, "retired_at": k.retired_at,
                            "published_until": k.publish_until.filter(|t| t.millis() < i64::MAX),
                        })
                    })
                    .collect();
                if json {
                    outln!("{}", serde_json::Value::Array(rows));
                } else {
                    for k in &keys {
                        outln!("{}\t{}\t{}\t{}", k.kid, k.alg, k.state.as_str(), k.created_at.to_rfc3339());
                    }
                }
                Ok(())
            }
        };
        super::seal_audit(&settings, &store).await;
        store.close().await;
        result
    })
}
