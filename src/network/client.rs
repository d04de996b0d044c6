//! Who the candidate's request came from. The peer address, unless the peer is one of
//! `server.trusted_proxies`: then `Forwarded` (RFC 7239) or else `X-Forwarded-For` is read
//! from the right, and the first address that is not a trusted proxy is the client. A header
//! from any other peer is ignored: anyone can write one.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The proxies whose forwarding headers are believed (CIDRs; a bare address is one host).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    pub fn parse(items: &[&str]) -> Result<Self, String> {
        items.iter().map(|s| parse_net(s)).collect::<Result<Vec<_>, _>>().map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address (IPv4-mapped IPv6 written as IPv4). `forwarded` and
    /// `x_forwarded_for` are the headers' values in the order they arrived.
    pub fn client(&self, peer: IpAddr, forwarded: &[&str], x_forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops: Vec<Option<IpAddr>> = if forwarded.is_empty() {
            x_forwarded_for.iter().flat_map(|v| v.split(',')).map(parse_hop).collect()
        } else {
            forwarded.iter().flat_map(|v| v.split(',')).map(forwarded_for).collect()
        };
        for hop in hops.iter().rev() {
            // An element we cannot read (`unknown`, an obfuscated name) ends the chain: the
            // last address we could read is as far as we can see.
            let Some(ip) = hop else { return client };
            client = ip.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or CIDR"))
}

/// `for=` of one `Forwarded` element.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| parse_hop(value))?
    })
}

/// One hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, quoted or not.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    let (host, port) = s.rsplit_once(':')?;
    (host.contains('.') && port.bytes().all(|b| b.is_ascii_digit())).then(|| host.parse().ok())?
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        Self::parse(&refs).map_err(serde::de::Error::custom)
    }
}

/// What a candidate request says about where it came from (sealed at rest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    pub ip: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_language: Option<String>,
    /// The step (the API path) it was first seen on.
    pub step: String,
}

/// Headers are kept to this many characters (a header is not a place to store a novel).
pub const HEADER_KEPT: usize = 512;

pub fn clip(value: &str) -> String {
    value.chars().take(HEADER_KEPT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.9"), &[], &["175.45.176.1"]), ip("203.0.113.9"));
        let lb = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(lb.client(ip("198.51.100.7"), &["for=175.45.176.1"], &["175.45.176.1"]), ip("198.51.100.7"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.10"]).unwrap();
        // A client that writes its own X-Forwarded-For only moves itself to the left.
        let xff = ["6.6.6.6, 198.51.100.23", "10.1.2.3"];
        assert_eq!(proxies.client(ip("192.0.2.10"), &[], &xff), ip("198.51.100.23"));
        let fwd = [r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https"#, "for=10.0.0.5"];
        assert_eq!(proxies.client(ip("10.9.9.9"), &fwd, &["1.1.1.1"]), ip("2001:db8:cafe::17"));
        assert_eq!(proxies.client(ip("10.9.9.9"), &["for=198.51.100.1:8443"], &[]), ip("198.51.100.1"));
        // All trusted: the left-most; unreadable: the last readable hop.
        assert_eq!(proxies.client(ip("10.9.9.9"), &[], &["10.0.0.1"]), ip("10.0.0.1"));
        assert_eq!(proxies.client(ip("10.9.9.9"), &["for=unknown"], &[]), ip("10.9.9.9"));
        assert_eq!(proxies.client(ip("10.9.9.9"), &[], &["not an address"]), ip("10.9.9.9"));
        assert_eq!(proxies.client(ip("::ffff:10.1.1.1"), &[], &["198.51.100.2"]), ip("198.51.100.2"));
    }

    #[test]
    fn configuration_takes_cidrs_and_hosts() {
        let p: TrustedProxies = serde_json::from_str(r#"["127.0.0.1", "::1", "172.16.0.0/12"]"#).unwrap();
        assert!(p.contains(ip("172.20.1.1")) && p.contains(ip("::1")) && !p.contains(ip("127.0.0.2")));
        assert!(serde_json::from_str::<TrustedProxies>(r#"["10.0.0.0/33"]"#).is_err());
    }
}
