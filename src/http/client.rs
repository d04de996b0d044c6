//! The candidate request's origin (`network::client`), read from the connection and headers,
//! and recorded once per distinct origin: sealed, with the network prefix's keyed hash.

use actix_web::HttpRequest;
use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderName, USER_AGENT};

use crate::context::Context;
use crate::network::client::{Sighting, clip};
use crate::network::facts;
use crate::storage::VerificationRecord;

fn values<'a>(req: &'a HttpRequest, name: &HeaderName) -> Vec<&'a str> {
    req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect()
}

/// The client's address: the peer, or what the trusted proxies in front say (None without a
/// peer address, as in some unit tests).
pub fn client_ip(req: &HttpRequest, ctx: &Context) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = values(req, &actix_web::http::header::FORWARDED);
    let xff = values(req, &HeaderName::from_static("x-forwarded-for"));
    Some(ctx.settings.server.trusted_proxies.client(peer, &forwarded, &xff))
}

/// Where this request came from (None without a peer address, as in some unit tests).
pub fn sighting(req: &HttpRequest, ctx: &Context) -> Option<Sighting> {
    let ip = client_ip(req, ctx)?;
    let header = |name: &HeaderName| values(req, name).first().map(|v| clip(v));
    Some(Sighting {
        ip,
        user_agent: header(&USER_AGENT),
        accept_language: header(&ACCEPT_LANGUAGE),
        step: clip(req.path()),
    })
}

/// Records `sighting` for `v` if it is new; a new origin re-assesses the risk.
pub async fn record(ctx: &Context, v: &VerificationRecord, sighting: &Sighting) -> Result<(), String> {
    let fail = |e: &dyn std::error::Error| crate::telemetry::error_chain(e);
    let key = format!(
        "{}|{}|{}",
        sighting.ip,
        sighting.user_agent.as_deref().unwrap_or(""),
        sighting.accept_language.as_deref().unwrap_or("")
    );
    let info_hash = ctx.sealer.lookup_hash("sighting", &key);
    let json = serde_json::to_vec(sighting).map_err(|e| fail(&e))?;
    let sealed = ctx.sealer.seal(&json, &format!("sighting:{}", v.id)).map_err(|e| fail(&e))?;
    let now = ctx.clock.now();
    if !ctx.store.record_sighting(&v.id, &info_hash, &sealed, now).await.map_err(|e| fail(&e))? {
        return Ok(());
    }
    if crate::network::tables::not_public(sighting.ip).is_none() {
        let claims = v.open_claims(&ctx.sealer).map_err(|e| fail(&e))?;
        let identity = crate::pipeline::risk::reuse::hashes(&claims, &ctx.sealer).identity_hash;
        let link = facts::ip_link(ctx, sighting.ip);
        ctx.store.add_identity_links(&v.id, &v.org_id, &identity, &[link], now).await.map_err(|e| fail(&e))?;
    }
    crate::assess::reassess(ctx, v).await.map_err(|e| fail(&e))?;
    Ok(())
}
