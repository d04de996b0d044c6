//! Where a webhook may go: public destinations only, so a tenant's `callback_url` cannot make
//! the worker reach inside the network it runs in (SSRF).
//!
//! Checked twice. When a verification is created, `Destinations::check` refuses a URL that is
//! not https (unless `webhooks.allow_http`), carries credentials, names an internal host
//! (`localhost`, a single label, `.internal`, `.local`, …) or is a non-public address literal.
//! When a webhook is sent, the same check runs on the stored URL, and the client's resolver
//! (`PublicResolver`) drops every resolved address that is not public and fails when none is
//! left, so a name that resolved to a public address at creation and to an inside one now (DNS
//! rebinding) is refused at connect time. The client never follows redirects and ignores proxy
//! variables (a proxy would resolve the name itself).
//!
//! `webhooks.allow_private_destinations` (off by default) lifts the address and name rules, for
//! a receiver on the same machine or network (the tests' local receivers).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipnet::{Ipv4Net, Ipv6Net};

/// IPv4 ranges that are not public unicast destinations (RFC 6890 and its updates).
const V4_NOT_PUBLIC: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // carrier-grade NAT (Alibaba's metadata: 100.100.100.200)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local (cloud metadata: 169.254.169.254)
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments (Oracle's metadata: 192.0.0.192)
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
];

/// IPv6 ranges inside 2000::/3 (global unicast) that are still not public destinations.
const V6_NOT_PUBLIC: [(Ipv6Addr, u8); 3] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (Teredo, ORCHID, …)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
];

fn in_v4(ip: Ipv4Addr, ranges: &[(Ipv4Addr, u8)]) -> bool {
    ranges.iter().any(|&(net, len)| Ipv4Net::new(net, len).is_ok_and(|n| n.contains(&ip)))
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    Ipv6Net::new(net, len).is_ok_and(|n| n.contains(&ip))
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), NAT64's
/// well-known prefix (64:ff9b::/96) and 6to4 (2002:aabb:ccdd::/48).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = ip.octets();
    let last = |o: &[u8; 16]| Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if in_v6(ip, Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return Some(last(&o));
    }
    if in_v6(ip, Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// Whether `ip` is a public unicast address a webhook may be sent to: not loopback, private,
/// link-local, carrier-grade NAT, multicast, documentation, reserved or unique-local, and not
/// an IPv6 form of such an IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !in_v4(v4, &V4_NOT_PUBLIC),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            // Only global unicast (2000::/3) is public; that excludes ::, ::1, the IPv4-compatible
            // ::/96, 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10, fec0::/10 and ff00::/8.
            None => {
                in_v6(v6, Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3)
                    && !V6_NOT_PUBLIC.iter().any(|&(net, len)| in_v6(v6, net, len))
            }
        },
    }
}

/// Host names that only mean something inside a network.
const INTERNAL_SUFFIXES: [&str; 10] = [
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home.arpa",
    ".corp",
    ".private",
    ".test",
];

/// Whether a host name (lower case, without a trailing dot) is an internal one: `localhost`, a
/// single label (resolved through the search domains), or under an internal suffix.
pub fn is_internal_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || !name.contains('.') || INTERNAL_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Why a destination is refused. `code()` is the stable rule name of the API's field error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not an http(s) URL with a host and without credentials")]
    Shape,
    #[error("webhooks are sent over https only")]
    NotHttps,
    #[error("the destination is not a public address")]
    NotPublic,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Self::Shape => "http_or_https_url_without_credentials",
            Self::NotHttps => "https_url_required",
            Self::NotPublic => "public_destination_required",
        }
    }
}

/// The `[webhooks]` rules for destinations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Destinations {
    pub allow_http: bool,
    pub allow_private: bool,
}

impl Destinations {
    /// Checks a URL's scheme, credentials and host (an address literal, or a name that is not
    /// an internal one). Names are resolved only when sending (`PublicResolver`).
    pub fn check(&self, url: &url::Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Shape);
        }
        if url.scheme() == "http" && !self.allow_http {
            return Err(Refusal::NotHttps);
        }
        let public = match url.host().ok_or(Refusal::Shape)? {
            url::Host::Ipv4(ip) => is_public(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => is_public(IpAddr::V6(ip)),
            url::Host::Domain(name) => !is_internal_name(name),
        };
        if public || self.allow_private { Ok(()) } else { Err(Refusal::NotPublic) }
    }

    /// The HTTP client webhooks are sent with: no redirects, no proxy, the resolver that keeps
    /// public addresses only (unless private destinations are allowed), bounded connect time.
    pub fn client(&self) -> Result<reqwest::Client, reqwest::Error> {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .https_only(!self.allow_http);
        let builder = if self.allow_private { builder } else { builder.dns_resolver(Arc::new(PublicResolver)) };
        builder.build()
    }
}

/// The resolved addresses were all non-public: the connection is not attempted.
#[derive(Debug, thiserror::Error)]
#[error("the destination resolves to no public address")]
pub struct ResolvedInside;

/// A resolver that keeps only public addresses (`is_public`) of what the system resolver
/// returns, and fails when none is left.
pub struct PublicResolver;

impl PublicResolver {
    /// The public addresses of `host` (port 0).
    pub async fn lookup(host: &str) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let all = tokio::net::lookup_host((host, 0)).await?;
        let public: Vec<SocketAddr> = all.filter(|a| is_public(a.ip())).collect();
        if public.is_empty() { Err(Box::new(ResolvedInside)) } else { Ok(public) }
    }
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = Self::lookup(&host).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a send failed because the destination resolved inside (found in the error's chain).
pub fn resolved_inside(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<ResolvedInside>() {
            return true;
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.100.100.200",
            "192.0.0.192",
            "192.0.2.10",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
        ] {
            assert!(!is_public(ip(inside)), "{inside} must not be public");
        }
    }

    #[test]
    fn public_addresses_are_public() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "192.0.3.1",
            "169.253.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(public)), "{public} must be public");
        }
    }

    fn check(policy: Destinations, url: &str) -> Result<(), Refusal> {
        policy.check(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_host() {
        let strict = Destinations::default();
        assert_eq!(check(strict, "https://hooks.example.com/idgate"), Ok(()));
        assert_eq!(check(strict, "https://[2606:4700:4700::1111]:8443/h"), Ok(()));
        assert_eq!(check(strict, "http://hooks.example.com/idgate"), Err(Refusal::NotHttps));
        assert_eq!(check(strict, "ftp://hooks.example.com/"), Err(Refusal::Shape));
        assert_eq!(check(strict, "https://user:pw@hooks.example.com/"), Err(Refusal::Shape));
        for inside in [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://127.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.1.2.3:8443/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00:ec2::254]/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://metadata.google.internal/",
            "https://printer.local/",
            "https://intranet/",
            "https://router.home.arpa/",
        ] {
            assert_eq!(check(strict, inside), Err(Refusal::NotPublic), "{inside}");
        }
        let open = Destinations { allow_http: true, allow_private: true };
        assert_eq!(check(open, "http://127.0.0.1:8080/hook"), Ok(()));
        assert_eq!(check(open, "http://localhost/hook"), Ok(()));
        assert_eq!(check(open, "ftp://127.0.0.1/"), Err(Refusal::Shape));
    }

    // Resolves through /etc/hosts only: no packet leaves the machine.
    #[tokio::test]
    async fn the_resolver_drops_inside_addresses_and_fails_when_none_is_left() {
        let err = PublicResolver::lookup("localhost").await.unwrap_err();
        assert!(resolved_inside(&*err), "{err}");
    }

    #[test]
    fn a_strict_client_builds() {
        assert!(Destinations::default().client().is_ok());
        assert!(Destinations { allow_http: true, allow_private: true }.client().is_ok());
    }
}
