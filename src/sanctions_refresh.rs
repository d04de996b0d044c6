//! Keeping the sanctions lists current: every `sanctions.refresh_minutes` (and at start when
//! sources are configured) each configured source is read again, from a path or an http(s) URL, and imported
//! when its bytes changed; then `sanctions.dir` is read again (so lists imported by `idgate
//! lists import` are picked up too) and the screener replaced. A source that fails keeps the
//! version already loaded, with an error in the log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::context::Context;
use crate::sanctions::{Format, Sanctions, import};

/// One list to keep current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub format: Format,
    /// A path, or an http(s) URL; for `ofac-sdn-csv`, the folder or base URL of the CSV set.
    pub location: String,
    /// For the CSV set, which states none: the publication date is taken as the day it was
    /// fetched unless given here.
    #[serde(default)]
    pub published: Option<String>,
}

/// The lists in use, replaced whole when a refresh brings a new version.
pub struct Current(RwLock<Arc<Sanctions>>);

impl Current {
    pub fn new(sanctions: Sanctions) -> Self {
        Self(RwLock::new(Arc::new(sanctions)))
    }

    pub fn get(&self) -> Arc<Sanctions> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, sanctions: Sanctions) {
        let next = Arc::new(sanctions);
        match self.0.write() {
            Ok(mut guard) => *guard = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }
}

/// The biggest list file read from a URL (the SDN XML is about 15 MB).
const MAX_BYTES: usize = 200 * 1024 * 1024;

async fn fetch(http: &reqwest::Client, url: &str, to: &Path) -> Result<(), String> {
    let resp = http.get(url).send().await.map_err(|e| format!("{url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("{url}: answered {}", resp.status()));
    }
    if resp.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(format!("{url}: larger than {MAX_BYTES} bytes"));
    }
    let bytes = resp.bytes().await.map_err(|e| format!("{url}: {e}"))?;
    if bytes.len() > MAX_BYTES {
        return Err(format!("{url}: larger than {MAX_BYTES} bytes"));
    }
    tokio::fs::write(to, &bytes).await.map_err(|e| format!("{}: {e}", to.display()))
}

/// The source's file (or folder) on disk: the path itself, or a download into `tmp`.
async fn local(http: &reqwest::Client, source: &Source, tmp: &Path) -> Result<PathBuf, String> {
    let url = &source.location;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Ok(PathBuf::from(url));
    }
    if source.format == Format::OfacSdnCsv {
        let base = url.trim_end_matches('/');
        for file in ["sdn.csv", "alt.csv", "add.csv"] {
            fetch(http, &format!("{base}/{file}"), &tmp.join(file)).await?;
        }
        return Ok(tmp.to_path_buf());
    }
    let file = tmp.join("list");
    fetch(http, url, &file).await?;
    Ok(file)
}

/// One round: every source imported, the directory read again. True when the lists changed.
pub async fn refresh(ctx: &Context, http: &reqwest::Client) -> bool {
    let dir = ctx.settings.sanctions_dir();
    for source in &ctx.settings.sanctions.sources {
        let outcome = async {
            let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
            let path = local(http, source, tmp.path()).await?;
            let (dir, format, published, now) = (dir.clone(), source.format, source.published.clone(), ctx.clock.now());
            let published = published
                .or_else(|| (format == Format::OfacSdnCsv).then(|| now.date().map(|d| d.to_string())).flatten());
            tokio::task::spawn_blocking(move || import(&dir, format, &path, published, now))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
        }
        .await;
        match outcome {
            Ok(meta) => tracing::debug!(list = %meta.name, sha256 = %meta.sha256, "sanctions source read"),
            Err(e) => {
                tracing::error!(source = %source.location, error = %e, "sanctions source failed; the loaded version stays")
            }
        }
    }
    let thresholds = ctx.settings.sanctions.thresholds();
    let loaded = tokio::task::spawn_blocking(move || Sanctions::load(&dir, thresholds)).await;
    let fresh = match loaded {
        Ok(Ok(fresh)) => fresh,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "re-reading the sanctions lists failed; the loaded version stays");
            return false;
        }
        Err(_) => return false,
    };
    let digest = |s: &Sanctions| s.lists.iter().map(|(m, _)| m.sha256.clone()).collect::<Vec<_>>();
    if digest(&fresh) == digest(&ctx.sanctions.get()) {
        return false;
    }
    let names: Vec<String> =
        fresh.lists.iter().map(|(m, _)| format!("{}@{}", m.name, m.published.as_deref().unwrap_or("?"))).collect();
    tracing::info!(lists = ?names, "sanctions lists loaded");
    ctx.sanctions.replace(fresh);
    true
}

/// Refreshes at start and then every `sanctions.refresh_minutes` (0: at start only) until `stop`.
pub async fn refresh_loop(ctx: Context, mut stop: watch::Receiver<bool>) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(3))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default();
    let minutes = ctx.settings.sanctions.refresh_minutes;
    // The directory was read at start: only sources need a first round now.
    let mut due = !ctx.settings.sanctions.sources.is_empty();
    while !*stop.borrow() {
        if due {
            refresh(&ctx, &http).await;
        }
        due = true;
        if minutes == 0 {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(minutes.saturating_mul(60))) => {}
            _ = stop.changed() => {}
        }
    }
}
