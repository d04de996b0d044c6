//! `idgate token verify TOKEN --jwks FILE_OR_URL --aud ID`: the offline check an HR system
//! can run with nothing but the published keys. Revocation needs the service (offer gate).

use std::io::Read;

use super::{Failure, runtime};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::crypto::signing::PublicJwk;
use crate::tokens::verify::{self, Expect, VerifyingKey};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify a token offline against a JWKS (file or http(s) URL).
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The token, or - to read it from standard input.
    token: String,
    /// The JWK Set: a file, or the URL of /.well-known/jwks.json.
    #[arg(long)]
    jwks: String,
    /// The audience: your organisation's client id.
    #[arg(long)]
    aud: String,
    /// The expected issuer (default: this installation's, tokens.issuer).
    #[arg(long)]
    iss: Option<String>,
    #[arg(long)]
    json: bool,
}

async fn load_jwks(source: &str) -> Result<String, Failure> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let resp = reqwest::get(source).await.map_err(|e| Failure::bad_input(format!("cannot fetch {source}: {e}")))?;
        if !resp.status().is_success() {
            return Err(Failure::bad_input(format!("cannot fetch {source}: HTTP {}", resp.status())));
        }
        resp.text().await.map_err(|e| Failure::bad_input(format!("cannot read {source}: {e}")))
    } else {
        std::fs::read_to_string(source).map_err(|e| Failure::bad_input(format!("cannot read {source}: {e}")))
    }
}

/// The keys of a JWK Set we can use (others, e.g. RSA keys of other issuers, are skipped).
fn keys_of(text: &str) -> Result<Vec<VerifyingKey>, Failure> {
    let set: serde_json::Value = serde_json::from_str(text).map_err(|_| Failure::bad_input("the JWKS is not JSON"))?;
    let keys = set
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| Failure::bad_input("the JWKS has no \"keys\" array"))?;
    Ok(keys
        .iter()
        .filter_map(|k| serde_json::from_value::<PublicJwk>(k.clone()).ok())
        .filter_map(|jwk| VerifyingKey::from_jwk(&jwk))
        .collect())
}

pub fn run(settings: Settings, command: Command) -> Result<(), Failure> {
    let Command::Verify(args) = command;
    let token = if args.token == "-" {
        let mut buf = String::new();
        std::io::stdin().read_to_string(&mut buf).map_err(|e| Failure::bad_input(format!("cannot read stdin: {e}")))?;
        buf.trim().to_owned()
    } else {
        args.token.trim().to_owned()
    };
    let text = runtime()?.block_on(load_jwks(&args.jwks))?;
    let keys = keys_of(&text)?;
    let issuer = args.iss.unwrap_or_else(|| settings.issuer());
    let expect = Expect {
        issuer: &issuer,
        audience: &args.aud,
        now: SystemClock.now(),
        leeway_seconds: settings.tokens.leeway_seconds,
    };
    let checked = verify::verify(&token, |kid| keys.iter().find(|k| k.kid == kid), &expect);
    match (checked.claims, checked.reasons.is_empty()) {
        (Some(claims), true) => {
            if args.json {
                outln!("{}", serde_json::to_string(&claims).unwrap_or_default());
            } else {
                outln!(
                    "valid: verification {} for {}, token {}, expires {} (revocation is checked by the offer gate, not offline)",
                    claims.sub,
                    claims.aud,
                    claims.jti,
                    crate::domain::time::Timestamp::from_millis(claims.exp.saturating_mul(1000)).to_rfc3339()
                );
            }
            Ok(())
        }
        _ => {
            let codes: Vec<&str> = checked.reasons.iter().map(|r| r.code()).collect();
            Err(Failure { code: 1, message: format!("token rejected: {}", codes.join(", ")) })
        }
    }
}
