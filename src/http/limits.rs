//! Request rate limits (`server.rate_limits`): per client address, per API key and per
//! candidate link, each a keyed token bucket (`governor`) on this node. A request over a
//! limit is answered `429` problem+json `rate_limited` with `Retry-After` before any handler,
//! database look-up or hash runs. Health, readiness and metrics are not limited.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::problem::ApiError;
use crate::config::RateLimitSettings;
use crate::context::Context;
use crate::crypto::secret_token;

/// Keys kept before the limiters forget the idle ones.
const MAX_KEYS: usize = 100_000;

pub struct RequestLimits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_key: DefaultKeyedRateLimiter<String>,
    per_link: DefaultKeyedRateLimiter<String>,
}

fn quota(per_minute: u32) -> Quota {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new((per_minute / 5).max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(n).allow_burst(burst)
}

/// Who a request's bearer is: an API key (by prefix) or a candidate link (by digest).
enum Bearer {
    ApiKey(String),
    Link(String),
}

fn bearer(req: &ServiceRequest) -> Option<Bearer> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    match crate::crypto::api_key::prefix_of(token) {
        Some(prefix) => Some(Bearer::ApiKey(prefix.to_owned())),
        None if !token.is_empty() => Some(Bearer::Link(secret_token::digest(token))),
        None => None,
    }
}

impl RequestLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self {
            per_ip: RateLimiter::keyed(quota(settings.per_ip_per_minute)),
            per_key: RateLimiter::keyed(quota(settings.per_api_key_per_minute)),
            per_link: RateLimiter::keyed(quota(settings.per_candidate_per_minute)),
        }
    }

    /// `Err(seconds)` to wait when a request from `ip` with `bearer` is over a limit.
    fn check(&self, ip: IpAddr, bearer: Option<Bearer>) -> Result<(), u64> {
        let wait = |not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>| {
            not_until.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil().max(1.0) as u64
        };
        if self.per_ip.len() > MAX_KEYS {
            self.per_ip.retain_recent();
        }
        self.per_ip.check_key(&ip).map_err(wait)?;
        match bearer {
            Some(Bearer::ApiKey(prefix)) => {
                if self.per_key.len() > MAX_KEYS {
                    self.per_key.retain_recent();
                }
                self.per_key.check_key(&prefix).map_err(wait)
            }
            Some(Bearer::Link(digest)) => {
                if self.per_link.len() > MAX_KEYS {
                    self.per_link.retain_recent();
                }
                self.per_link.check_key(&digest).map_err(wait)
            }
            None => Ok(()),
        }
    }
}

/// Not limited: what load balancers and monitoring poll.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limits = req.app_data::<web::Data<RequestLimits>>().cloned();
    let ctx = req.app_data::<web::Data<Context>>().cloned();
    if let (Some(limits), Some(ctx)) = (limits, ctx)
        && !exempt(req.path())
        && let Some(ip) = crate::http::client::client_ip(req.request(), &ctx)
        && let Err(retry_after_seconds) = limits.check(ip, bearer(&req))
    {
        let response = ApiError::RateLimited { retry_after_seconds }.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_caller_has_its_own_bucket_and_the_address_bounds_them_all() {
        let limits = RequestLimits::new(&RateLimitSettings {
            per_ip_per_minute: 50,
            per_api_key_per_minute: 10,
            per_candidate_per_minute: 5,
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let key = || Some(Bearer::ApiKey("idg_0000000a".into()));
        // Bursts of a fifth of the minute: 2 for the key, 1 for the link.
        assert!(limits.check(ip, key()).is_ok());
        assert!(limits.check(ip, key()).is_ok());
        let wait = limits.check(ip, key()).unwrap_err();
        assert!((1..=6).contains(&wait), "{wait}");
        assert!(limits.check(ip, Some(Bearer::ApiKey("idg_0000000b".into()))).is_ok(), "another key");
        assert!(limits.check(ip, Some(Bearer::Link("d1".into()))).is_ok());
        assert!(limits.check(ip, Some(Bearer::Link("d1".into()))).is_err());
        // The address's own burst (10) is spent across all of them.
        let other: IpAddr = "::1".parse().unwrap();
        let spent = (0..20).filter(|_| limits.check(other, None).is_ok()).count();
        assert_eq!(spent, 10);
    }
}
