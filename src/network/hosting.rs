//! Hosting, VPN and proxy networks, by ASN. No registry package ships a maintained list of
//! datacenter ranges, VPN exits or Tor exits (npm and PyPI were searched: `ipcat` on PyPI
//! is an empty placeholder, the rest are API clients), so idgate relies on the ASN table:
//! a list of the large cloud, hosting and VPN-exit networks below, and the words hosting
//! networks put in their registered names. Measured against a third-party list of 742
//! hosting and VPN ASNs in `tests/api/network.rs`.

/// Cloud, hosting and VPN-exit networks (ASN, who).
pub const HOSTING_ASNS: &[(u32, &str)] = &[
    (16509, "Amazon AWS"),
    (14618, "Amazon AWS"),
    (8987, "Amazon AWS"),
    (396982, "Google Cloud"),
    (19527, "Google Cloud"),
    (8075, "Microsoft Azure"),
    (8068, "Microsoft Azure"),
    (31898, "Oracle Cloud"),
    (14061, "DigitalOcean"),
    (16276, "OVH"),
    (35540, "OVH"),
    (24940, "Hetzner"),
    (213230, "Hetzner"),
    (212317, "Hetzner"),
    (63949, "Akamai Linode"),
    (20473, "Vultr (Choopa)"),
    (9009, "M247"),
    (60068, "Datacamp (CDN77)"),
    (212238, "Datacamp (CDN77)"),
    (36352, "ColoCrossing"),
    (53667, "FranTech / BuyVM"),
    (45102, "Alibaba Cloud"),
    (37963, "Alibaba Cloud"),
    (132203, "Tencent Cloud"),
    (45090, "Tencent Cloud"),
    (51167, "Contabo"),
    (197540, "netcup"),
    (12876, "Scaleway"),
    (8560, "IONOS"),
    (26496, "GoDaddy"),
    (398101, "GoDaddy"),
    (46606, "Unified Layer"),
    (40676, "Psychz"),
    (22612, "Namecheap"),
    (54290, "Hostwinds"),
    (55286, "ServerMania"),
    (62240, "Clouvider"),
    (136787, "TEFINCOM (VPN exits)"),
    (147049, "PacketHub (VPN exits)"),
    (207137, "PacketHub (VPN exits)"),
    (49981, "WorldStream"),
    (43350, "NForce"),
    (60781, "Leaseweb"),
    (28753, "Leaseweb"),
    (30633, "Leaseweb"),
    (59253, "Leaseweb"),
    (16265, "Leaseweb"),
    (25820, "IT7 Networks"),
    (8100, "QuadraNet"),
    (29802, "HVC"),
    (32613, "iWeb"),
    (13213, "UK2 Group"),
    (20860, "Iomart"),
    (47583, "Hostinger"),
    (204915, "Hostinger"),
    (211252, "Delis (VPN exits)"),
    (9370, "Sakura Internet"),
    (7506, "GMO Internet"),
    (135377, "UCloud"),
    (55990, "Huawei Cloud"),
    (136907, "Huawei Cloud"),
    (3223, "Voxility"),
    (51447, "RootLayer"),
    (19318, "Interserver"),
    (202425, "IP Volume"),
    (44477, "Stark Industries"),
    (210644, "AEZA"),
    (35916, "MultaCom"),
    (46562, "Performive"),
];

/// Words that hosting networks (not access ISPs) put in their registered names.
const NAME_WORDS: &[&str] = &[
    "host",
    "datacenter",
    "data center",
    "data centre",
    "server",
    "servidor",
    "vps",
    "colocation",
    "dedicated",
    "cloud",
    "vpn",
    "proxy",
    "anonymous",
    "virtual private",
];

/// Why `asn` (registered as `organisation`) is a hosting, VPN or proxy network, if it is.
pub fn classify(asn: u32, organisation: &str) -> Option<&'static str> {
    if HOSTING_ASNS.iter().any(|(a, _)| *a == asn) {
        return Some("hosting_asn_list");
    }
    let name = organisation.to_lowercase();
    NAME_WORDS.iter().any(|w| name.contains(w)).then_some("hosting_name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_and_hosting_names_are_hosting_access_isps_are_not() {
        assert_eq!(classify(16509, "AMAZON-02"), Some("hosting_asn_list"));
        assert_eq!(classify(99999, "Example Dedicated Servers Ltd"), Some("hosting_name"));
        for (asn, isp) in [
            (7922, "Comcast Cable Communications, LLC"),
            (3320, "Deutsche Telekom AG"),
            (2856, "British Telecommunications PLC"),
        ] {
            assert_eq!(classify(asn, isp), None, "{isp}");
        }
    }
}
