//! Whose network an address is in, from the registry tables set-up installs into
//! `risk.lists_dir` (`models/manifest.toml`): `@ip-location-db/asn` (range → ASN and
//! organisation, CSV), `@ip-location-db/geo-whois-asn-country-mmdb` (address → country,
//! MMDB) and the IANA zone table (`zones`). Each result names the versions it read.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::hosting;
use super::zones::Zones;
use crate::pipeline::risk::lists::{ListError, ListVersion, read_version};

pub const ASN_V4_FILE: &str = "asn-ipv4.csv";
pub const ASN_V6_FILE: &str = "asn-ipv6.csv";
pub const COUNTRY_FILE: &str = "ip-country.mmdb";

/// North Korea's allocated address space (APNIC and RIPE registries; `RISK-NOTES.md` §8)
/// and its ASN: decisive whatever the tables say.
pub const NORTH_KOREA_NETS: &[&str] = &["175.45.176.0/22", "210.52.109.0/24", "77.94.35.0/24"];
pub const NORTH_KOREA_ASN: u32 = 131_279;

/// Inclusive ranges, sorted by start, with the index of their (ASN, organisation).
struct Ranges<T> {
    starts: Vec<T>,
    ends: Vec<T>,
    owner: Vec<u32>,
}

impl<T: Ord + Copy> Ranges<T> {
    fn find(&self, ip: T) -> Option<u32> {
        let i = self.starts.partition_point(|s| *s <= ip).checked_sub(1)?;
        (*self.ends.get(i)? >= ip).then(|| self.owner.get(i).copied())?
    }
}

/// The loaded tables.
pub struct NetworkData {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
    /// (ASN, organisation), indexed by `Ranges::owner`.
    owners: Vec<(u32, String)>,
    country: maxminddb::Reader<Vec<u8>>,
    pub zones: Zones,
    north_korea: Vec<ipnet::IpNet>,
    pub versions: Vec<ListVersion>,
}

/// What the tables say about one address (no address in it: this goes into results).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IpInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Why the network is a hosting, VPN or proxy network (the ASN list or a name pattern).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosting: Option<&'static str>,
    pub north_korea: bool,
    /// Not a public address (private, loopback, documentation …): nothing can be looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_public: Option<&'static str>,
}

#[derive(serde::Deserialize)]
struct CountryRecord<'a> {
    country_code: &'a str,
}

static LOADED: Mutex<Option<(std::path::PathBuf, Arc<NetworkData>)>> = Mutex::new(None);

impl NetworkData {
    /// The tables in `dir` (loaded once per directory and process: they are 40 MB of text).
    pub fn load(dir: &Path) -> Result<Arc<Self>, ListError> {
        let mut loaded =
            LOADED.lock().map_err(|_| ListError::Format { file: "network".into(), why: "poisoned".into() })?;
        if let Some((at, data)) = loaded.as_ref().filter(|(at, _)| at == dir) {
            tracing::debug!(dir = %at.display(), "network tables already loaded");
            return Ok(data.clone());
        }
        let data = Arc::new(Self::read(dir)?);
        *loaded = Some((dir.to_path_buf(), data.clone()));
        Ok(data)
    }

    fn read(dir: &Path) -> Result<Self, ListError> {
        let io =
            |file: &'static str| move |source| ListError::Io { file: dir.join(file).display().to_string(), source };
        let mut owners = Vec::new();
        let mut by_owner = std::collections::HashMap::new();
        let v4_text = std::fs::read_to_string(dir.join(ASN_V4_FILE)).map_err(io(ASN_V4_FILE))?;
        let v4 = parse_ranges(&v4_text, ASN_V4_FILE, &mut owners, &mut by_owner, |ip| match ip {
            IpAddr::V4(v4) => Some(u32::from(v4)),
            IpAddr::V6(_) => None,
        })?;
        let v6_text = std::fs::read_to_string(dir.join(ASN_V6_FILE)).map_err(io(ASN_V6_FILE))?;
        let v6 = parse_ranges(&v6_text, ASN_V6_FILE, &mut owners, &mut by_owner, |ip| match ip {
            IpAddr::V6(v6) => Some(u128::from(v6)),
            IpAddr::V4(_) => None,
        })?;
        let country_bytes = std::fs::read(dir.join(COUNTRY_FILE)).map_err(io(COUNTRY_FILE))?;
        let zones = Zones::load(dir)?;
        let mut versions = vec![
            read_version(dir, "asn_ipv4", ASN_V4_FILE, v4_text.as_bytes())?,
            read_version(dir, "asn_ipv6", ASN_V6_FILE, v6_text.as_bytes())?,
            read_version(dir, "ip_country", COUNTRY_FILE, &country_bytes)?,
        ];
        versions.extend(zones.versions.iter().cloned());
        let country = maxminddb::Reader::from_source(country_bytes)
            .map_err(|e| ListError::Format { file: COUNTRY_FILE.into(), why: e.to_string() })?;
        let north_korea = NORTH_KOREA_NETS.iter().filter_map(|n| n.parse().ok()).collect();
        Ok(Self { v4, v6, owners, country, zones, north_korea, versions })
    }

    /// Whether the table's network `asn` is a hosting, VPN or proxy one (by the ASN list or
    /// its registered name), and its name; None when the table does not know the ASN.
    pub fn classify_asn(&self, asn: u32) -> Option<(Option<&'static str>, &str)> {
        let (_, org) = self.owners.iter().find(|(a, _)| *a == asn)?;
        Some((hosting::classify(asn, org), org.as_str()))
    }

    /// The ASN, organisation and country of `ip`, and whether it is hosting or North Korean.
    pub fn lookup(&self, ip: IpAddr) -> IpInfo {
        let ip = ip.to_canonical();
        if let Some(why) = not_public(ip) {
            return IpInfo { not_public: Some(why), ..IpInfo::default() };
        }
        let owner = match ip {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.find(u128::from(v6)),
        };
        let (asn, organisation) = owner
            .and_then(|i| self.owners.get(usize::try_from(i).ok()?))
            .map_or((None, None), |(asn, org)| (Some(*asn), Some(org.clone())));
        let country = self.country.lookup::<CountryRecord<'_>>(ip).ok().flatten().map(|r| r.country_code.to_owned());
        let north_korea = asn == Some(NORTH_KOREA_ASN)
            || self.north_korea.iter().any(|n| n.contains(&ip))
            || country.as_deref() == Some("KP");
        IpInfo {
            hosting: asn.and_then(|a| hosting::classify(a, organisation.as_deref().unwrap_or(""))),
            asn,
            organisation,
            country,
            north_korea,
            not_public: None,
        }
    }
}

fn parse_ranges<T: Ord + Copy>(
    text: &str,
    file: &str,
    owners: &mut Vec<(u32, String)>,
    by_owner: &mut std::collections::HashMap<(u32, String), u32>,
    convert: impl Fn(IpAddr) -> Option<T>,
) -> Result<Ranges<T>, ListError> {
    let bad =
        |n: usize| ListError::Format { file: file.to_owned(), why: format!("line {} is not start,end,asn,org", n + 1) };
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut fields = line.splitn(4, ',');
        let (Some(start), Some(end), Some(asn), org) = (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(bad(n));
        };
        let parse = |s: &str| s.trim().parse::<IpAddr>().ok().and_then(&convert);
        let (Some(start), Some(end), Ok(asn)) = (parse(start), parse(end), asn.trim().parse::<u32>()) else {
            return Err(bad(n));
        };
        let org = org.unwrap_or("").trim().trim_matches('"').replace("\"\"", "\"");
        let next = u32::try_from(owners.len()).map_err(|_| bad(n))?;
        let id = *by_owner.entry((asn, org.clone())).or_insert_with(|| {
            owners.push((asn, org));
            next
        });
        rows.push((start, end, id));
    }
    rows.sort_unstable_by_key(|r| r.0);
    Ok(Ranges {
        starts: rows.iter().map(|r| r.0).collect(),
        ends: rows.iter().map(|r| r.1).collect(),
        owner: rows.iter().map(|r| r.2).collect(),
    })
}

/// Why an address is not a public one (RFC 6890's special-purpose registries), if it is not.
pub fn not_public(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared_cgnat")
            } else if v4.is_link_local() {
                Some("link_local")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
                Some("documentation_or_benchmark")
            } else if a == 192 && b == 0 && c == 0 {
                Some("protocol_assignment")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link_local")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("documentation_or_benchmark")
            } else if v6.is_multicast() || first & 0xe000 != 0x2000 {
                Some("reserved")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_not_public() {
        for (ip, why) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("100.100.1.1", "shared_cgnat"),
            ("169.254.1.1", "link_local"),
            ("192.0.2.1", "documentation_or_benchmark"),
            ("::1", "loopback"),
            ("fd00::1", "private"),
            ("fe80::1", "link_local"),
            ("2001:db8::1", "documentation_or_benchmark"),
            ("::ffff:192.168.1.1", "private"),
        ] {
            assert_eq!(not_public(ip.parse().unwrap()), Some(why), "{ip}");
        }
        for ip in ["175.45.176.1", "8.8.8.8", "2a00:1450:4001::1"] {
            assert_eq!(not_public(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn ranges_find_the_covering_row() {
        let text = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd\n";
        let (mut owners, mut by) = (Vec::new(), std::collections::HashMap::new());
        let r = parse_ranges(text, "t", &mut owners, &mut by, |ip| match ip {
            IpAddr::V4(v) => Some(u32::from(v)),
            IpAddr::V6(_) => None,
        })
        .unwrap();
        let at = |s: &str| r.find(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()));
        assert_eq!(at("1.0.0.7").map(|i| owners[i as usize].clone()), Some((13335, "Cloudflare, Inc.".into())));
        assert_eq!(at("1.0.5.1").map(|i| owners[i as usize].0), Some(38803));
        assert_eq!((at("1.0.1.0"), at("0.9.9.9"), at("9.9.9.9")), (None, None, None));
        assert!(parse_ranges("x,y", "t", &mut owners, &mut by, |_| Some(0u32)).is_err());
    }
}
