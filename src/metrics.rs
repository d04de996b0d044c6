//! Prometheus metrics: requests by route and status, latencies, pipeline stage durations,
//! decisions by outcome; the job queue depth is read from the database at scrape time.

use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    stages: HistogramVec,
    decisions: IntCounterVec,
    readings_reused: prometheus::IntCounter,
    api_key_hash_checks: prometheus::IntCounter,
    offer_gate: IntCounterVec,
    queue_depth: IntGauge,
    sanctions_lists: IntGauge,
    sanctions_age: prometheus::IntGaugeVec,
}

#[derive(Debug, thiserror::Error)]
#[error("metrics registry")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new_custom(Some("idgate".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route, method and status"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency by route")
                .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
            &["route", "method"],
        )?;
        let stages = HistogramVec::new(
            HistogramOpts::new("pipeline_stage_duration_seconds", "Pipeline stage durations")
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["stage"],
        )?;
        let decisions = IntCounterVec::new(Opts::new("decisions_total", "Pipeline outcomes"), &["outcome"])?;
        let readings_reused = prometheus::IntCounter::new(
            "document_readings_reused_total",
            "Document images the pipeline did not read again: the upload's readability answer had",
        )?;
        let api_key_hash_checks = prometheus::IntCounter::new(
            "api_key_hash_checks_total",
            "Presented API keys checked against their argon2 hash (cache misses with a real prefix)",
        )?;
        let offer_gate =
            IntCounterVec::new(Opts::new("offer_gate_checks_total", "Offer-gate answers"), &["may_offer"])?;
        let queue_depth = IntGauge::new("job_queue_depth", "Jobs queued or running")?;
        let sanctions_lists = IntGauge::new(
            "sanctions_lists_loaded",
            "Sanctions lists loaded (0: every case is sanctions_not_screened)",
        )?;
        let sanctions_age = prometheus::IntGaugeVec::new(
            Opts::new("sanctions_list_age_days", "Days since each sanctions list's publication (-1: unknown)"),
            &["list"],
        )?;
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(stages.clone()),
            Box::new(decisions.clone()),
            Box::new(readings_reused.clone()),
            Box::new(api_key_hash_checks.clone()),
            Box::new(offer_gate.clone()),
            Box::new(queue_depth.clone()),
            Box::new(sanctions_lists.clone()),
            Box::new(sanctions_age.clone()),
        ] {
            registry.register(c)?;
        }
        Ok(Self {
            registry,
            requests,
            latency,
            stages,
            decisions,
            readings_reused,
            api_key_hash_checks,
            offer_gate,
            queue_depth,
            sanctions_lists,
            sanctions_age,
        })
    }

    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    pub fn stage(&self, stage: &str, seconds: f64) {
        self.stages.with_label_values(&[stage]).observe(seconds);
    }

    pub fn decision(&self, outcome: &str) {
        self.decisions.with_label_values(&[outcome]).inc();
    }

    /// Document images whose upload-time reading the pipeline used.
    pub fn readings_reused(&self, images: usize) {
        self.readings_reused.inc_by(u64::try_from(images).unwrap_or(0));
    }

    pub fn api_key_hash_check(&self) {
        self.api_key_hash_checks.inc();
    }

    pub fn offer_gate(&self, may_offer: bool) {
        self.offer_gate.with_label_values(&[if may_offer { "true" } else { "false" }]).inc();
    }

    /// The loaded sanctions lists and their ages, set at scrape time.
    pub fn sanctions(&self, ages: &[(String, i64)]) {
        self.sanctions_lists.set(i64::try_from(ages.len()).unwrap_or(i64::MAX));
        for (list, age) in ages {
            self.sanctions_age.with_label_values(&[list.as_str()]).set(*age);
        }
    }

    /// The text exposition, with the queue depth set first.
    pub fn render(&self, queue_depth: i64) -> String {
        self.queue_depth.set(queue_depth);
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
