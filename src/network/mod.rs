//! Where a candidate connects from and on what machine: the client address behind trusted
//! proxies (`client`), the registry tables that say whose network an address is in
//! (`tables`, `hosting`), time zones by country (`zones`) and the browser's device report
//! (`device`). The risk stage turns them into signals (`pipeline::risk::network`).

pub mod client;
pub mod device;
pub mod facts;
pub mod hosting;
pub mod tables;
pub mod zones;

pub use client::{Sighting, TrustedProxies};
pub use device::DeviceReport;
pub use tables::{IpInfo, NetworkData};

/// Device reports per verification and minute, on this node.
pub struct ReportLimiter(governor::DefaultKeyedRateLimiter<String>);

impl ReportLimiter {
    pub fn per_minute(n: u32) -> Self {
        let n = std::num::NonZeroU32::new(n.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        Self(governor::RateLimiter::keyed(governor::Quota::per_minute(n)))
    }

    pub fn allows(&self, verification: &str) -> bool {
        if self.0.len() > 100_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&verification.to_owned()).is_ok()
    }
}
