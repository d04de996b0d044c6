//! Status-change webhooks per Standard Webhooks: headers `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` ("v1," + base64 HMAC-SHA256 over "id.timestamp.body", keyed with the
//! organisation's `whsec_` secret). Retried with exponential backoff and jitter by the job
//! queue; every attempt is recorded. Only to public destinations (`destination`).

pub mod destination;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::context::Context;
use crate::storage::{ClaimedJob, WebhookAttempt};
use destination::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("the webhook secret is not a whsec_ base64 secret")]
    BadSecret,
}

/// A new organisation webhook secret: `whsec_` + 32 random bytes in base64.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    format!("whsec_{}", STANDARD.encode(secret))
}

/// The `webhook-signature` value for one message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, SignError> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").ok_or(SignError::BadSecret)?)
        .map_err(|_| SignError::BadSecret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| SignError::BadSecret)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Why a delivery got no answer.
enum Failure {
    Refused(Refusal),
    Http(reqwest::Error),
}

impl Failure {
    /// The attempt's recorded reason (stable words, no URL or address).
    fn reason(&self) -> String {
        match self {
            Self::Refused(refusal) => format!("destination not allowed: {}", refusal.code()),
            Self::Http(e) if destination::resolved_inside(e) => "destination not allowed: resolves inside".into(),
            Self::Http(e) if e.is_timeout() => "timeout".into(),
            Self::Http(_) => "connection failed".into(),
        }
    }
}

/// Delivers one webhook job. `Ok` when the receiver answered 2xx; `Err` with a short reason
/// (no PII) otherwise. The attempt is recorded either way.
pub async fn deliver(ctx: &Context, http: &reqwest::Client, job: &ClaimedJob) -> Result<(), String> {
    let v = ctx
        .store
        .get_verification(&job.verification_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("verification gone")?;
    let url = v.callback_url.clone().ok_or("no callback URL")?;
    let sealed = ctx.store.webhook_secret(&v.org_id).await.map_err(|e| e.to_string())?.ok_or("organisation gone")?;
    let secret = ctx.sealer.open(&sealed, &format!("webhook:{}", v.org_id)).map_err(|e| e.to_string())?;
    let secret = String::from_utf8(secret).map_err(|_| "webhook secret is not text")?;
    let status: serde_json::Value = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let now = ctx.clock.now();
    let risk: Option<serde_json::Value> = v.risk.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let risk = risk.map(|r| {
        let codes: Vec<&serde_json::Value> =
            r.get("signals").and_then(|s| s.as_array()).into_iter().flatten().filter_map(|s| s.get("code")).collect();
        serde_json::json!({ "score": r.get("score"), "band": r.get("band"), "review": r.get("review"), "signals": codes })
    });
    let kind = status.get("type").and_then(serde_json::Value::as_str).unwrap_or("verification.status_changed");
    // A retake's new link goes to the HR system, which sends it to the candidate.
    let candidate_url = if kind == "verification.retake_requested" {
        let link = ctx.sealer.open(&v.sealed_link, &format!("link:{}", v.id)).map_err(|e| e.to_string())?;
        Some(String::from_utf8(link).map_err(|_| "link is not text")?)
    } else {
        None
    };
    let body = serde_json::json!({
        "type": kind,
        "timestamp": now.to_rfc3339(),
        "data": {
            "id": v.id, "external_id": v.external_id, "status": status.get("status"),
            "decision": v.decision, "reasons": serde_json::from_str::<serde_json::Value>(&v.reasons).unwrap_or_default(),
            "risk": risk,
        }
    });
    let mut body = body;
    if let (Some(url), Some(data)) = (candidate_url, body.get_mut("data").and_then(|d| d.as_object_mut())) {
        data.insert("candidate_url".into(), url.into());
    }
    let body = body.to_string();
    let timestamp = now.millis().div_euclid(1000);
    let signature = sign(&secret, &job.id, timestamp, &body).map_err(|e| e.to_string())?;
    let started = Instant::now();
    // The stored URL is checked again (the settings may have changed since it was accepted);
    // names are resolved by the client's resolver, which keeps public addresses only.
    let allowed =
        url::Url::parse(&url).map_err(|_| Refusal::Shape).and_then(|u| ctx.settings.webhooks.destinations().check(&u));
    let sent = match allowed {
        Err(refusal) => Err(Failure::Refused(refusal)),
        Ok(()) => http
            .post(&url)
            .header("content-type", "application/json")
            .header("webhook-id", &job.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .timeout(Duration::from_secs(ctx.settings.webhooks.timeout_seconds.max(1)))
            .body(body)
            .send()
            .await
            .map_err(Failure::Http),
    };
    let (status_code, error) = match &sent {
        Ok(resp) if resp.status().is_success() => (Some(i64::from(resp.status().as_u16())), None),
        Ok(resp) => {
            (Some(i64::from(resp.status().as_u16())), Some(format!("receiver answered {}", resp.status().as_u16())))
        }
        Err(failure) => (None, Some(failure.reason())),
    };
    let attempt = WebhookAttempt {
        job_id: job.id.clone(),
        attempt: job.attempts,
        verification_id: v.id.clone(),
        url,
        status_code,
        error: error.clone(),
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        at: now,
    };
    ctx.store.record_webhook_attempt(&attempt).await.map_err(|e| e.to_string())?;
    match error {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks specification.
    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_bad_secret_is_an_error() {
        assert!(sign("nope", "id", 1, "{}").is_err());
    }
}
