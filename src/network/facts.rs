//! What is known about a verification's network and machine, read from storage and looked
//! up in the tables: the risk stage's input (`pipeline::risk::network`), at any time.

use std::net::IpAddr;

use serde::Serialize;

use super::client::Sighting;
use super::device::DeviceReport;
use super::tables::IpInfo;
use super::zones::ZonePlace;
use crate::context::Context;
use crate::pipeline::risk::ListVersion;
use crate::storage::{IdentityLink, Linked, StorageError};

/// How many other verifications per link are looked at (the newest).
pub const LINKS_LOOKED_AT: i64 = 200;

/// One distinct place a candidate request came from, as looked up (no address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenFrom {
    pub step: String,
    #[serde(flatten)]
    pub info: IpInfo,
    #[serde(skip)]
    pub accept_language: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NetworkFacts {
    pub sightings: Vec<SeenFrom>,
    pub device: Option<DeviceReport>,
    pub device_reports: i64,
    pub zone: Option<ZonePlace>,
    /// Whether the device report gives a fingerprint (enough stable parts).
    pub fingerprinted: bool,
    pub links: Vec<Linked>,
    pub versions: Vec<ListVersion>,
}

#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error("storage")]
    Storage(#[from] StorageError),
    #[error("a sealed network record does not open")]
    Sealed,
}

/// The network prefix compared across identities: /24 for IPv4, /48 for IPv6.
pub fn prefix_of(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => ipnet::Ipv4Net::new(v4, 24).map(|n| n.trunc().to_string()).unwrap_or_default(),
        IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, 48).map(|n| n.trunc().to_string()).unwrap_or_default(),
    }
}

pub fn ip_link(ctx: &Context, ip: IpAddr) -> IdentityLink {
    IdentityLink { kind: "ip_prefix", value_hash: ctx.sealer.lookup_hash("ip-prefix", &prefix_of(ip)) }
}

pub fn device_link(ctx: &Context, report: &DeviceReport) -> Option<IdentityLink> {
    let parts = report.stable_parts()?;
    Some(IdentityLink { kind: "device", value_hash: ctx.sealer.lookup_hash("device-fingerprint", &parts) })
}

pub fn open_sighting(ctx: &Context, verification: &str, sealed: &[u8]) -> Result<Sighting, FactsError> {
    let bytes = ctx.sealer.open(sealed, &format!("sighting:{verification}")).map_err(|_| FactsError::Sealed)?;
    serde_json::from_slice(&bytes).map_err(|_| FactsError::Sealed)
}

pub fn open_device(ctx: &Context, verification: &str, sealed: &[u8]) -> Result<DeviceReport, FactsError> {
    let bytes = ctx.sealer.open(sealed, &format!("device:{verification}")).map_err(|_| FactsError::Sealed)?;
    serde_json::from_slice(&bytes).map_err(|_| FactsError::Sealed)
}

/// Everything known now about `verification`'s network and machine.
pub async fn load(
    ctx: &Context,
    verification: &str,
    org: &str,
    identity_hash: &str,
) -> Result<NetworkFacts, FactsError> {
    let mut facts = NetworkFacts { versions: ctx.network.versions.clone(), ..NetworkFacts::default() };
    let mut links = Vec::new();
    for sealed in ctx.store.sightings(verification).await? {
        let sighting = open_sighting(ctx, verification, &sealed)?;
        let info = ctx.network.lookup(sighting.ip);
        if info.not_public.is_none() {
            let link = ip_link(ctx, sighting.ip);
            if !links.contains(&link) {
                links.push(link);
            }
        }
        facts.sightings.push(SeenFrom { step: sighting.step, info, accept_language: sighting.accept_language });
    }
    if let Some((sealed, count)) = ctx.store.device_report(verification).await? {
        let report = open_device(ctx, verification, &sealed)?;
        facts.zone = report.timezone.as_deref().map(|z| ctx.network.zones.place(z));
        if let Some(link) = device_link(ctx, &report) {
            facts.fingerprinted = true;
            links.push(link);
        }
        facts.device = Some(report);
        facts.device_reports = count;
    }
    let cross_org = ctx.settings.risk.cross_organisation_links;
    facts.links = ctx
        .store
        .linked_under_other_identities(org, verification, identity_hash, &links, cross_org, LINKS_LOOKED_AT)
        .await?;
    Ok(facts)
}
