//! One span per request with a request id, the matched route (never the raw target: query
//! strings may carry identifiers) and the status; request metrics recorded on the way out.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use tracing::{Instrument, field};

use crate::context::Context;

pub async fn trace(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let ctx = req.app_data::<web::Data<Context>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, route = %route, status = field::Empty, key_prefix = field::Empty);
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    span.record("status", status);
    span.in_scope(|| tracing::info!(latency_ms = seconds * 1e3, "request done"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    if let Some(ctx) = ctx {
        ctx.metrics.request(&route, &method, status, seconds);
    }
    Ok(res)
}
