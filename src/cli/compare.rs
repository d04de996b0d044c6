//! `idgate compare --document ID --selfie VIDEO_OR_IMAGE [--json]`.

use std::path::PathBuf;

use super::{Failure, error_chain, load_engine};
use crate::config::Settings;
use crate::pipeline::face_match::{self, FaceMatch};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Photo of the identity document (JPEG, PNG, WebP).
    #[arg(long)]
    document: PathBuf,
    /// Selfie video (WebM, MP4, MOV) or image.
    #[arg(long)]
    selfie: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Override the match threshold (cosine).
    #[arg(long)]
    threshold: Option<f32>,
}

pub fn run(settings: Settings, args: Args) -> Result<(), Failure> {
    crate::telemetry::init("warn,ort=error");
    let threshold = args.threshold.unwrap_or(settings.face_match.threshold);
    if !(-1.0..=1.0).contains(&threshold) {
        return Err(Failure::bad_input("--threshold must be within [-1, 1]"));
    }
    let engine = load_engine(&settings)?;
    let result = face_match::compare(&engine, &args.document, &args.selfie, threshold).map_err(|e| {
        let message = format!("{} ({})", error_chain(&e), e.code());
        if e.is_bad_input() { Failure::bad_input(message) } else { Failure::internal(message) }
    })?;
    if args.json {
        let line = serde_json::to_string(&result).map_err(|e| Failure::internal(e.to_string()))?;
        outln!("{line}");
    } else {
        print_text(&result);
    }
    Ok(())
}

fn print_text(r: &FaceMatch) {
    outln!("match:       {}", if r.is_match { "yes" } else { "no" });
    outln!("similarity:  {:.3} (threshold {:.3})", r.similarity, r.threshold);
    outln!(
        "document:    face score {:.2}, {} face(s) on the document",
        r.document.detector_score,
        r.document.faces_found
    );
    outln!(
        "selfie:      {} frame(s) decoded, {} analysed, {} with one face, {} used; similarity min {:.3}, median {:.3}",
        r.selfie.frames_decoded,
        r.selfie.frames_analysed,
        r.selfie.frames_single_face,
        r.selfie.frames_used,
        r.selfie.similarity_min,
        r.selfie.similarity_median
    );
    if !r.reasons.is_empty() {
        outln!("reasons:     {}", r.reasons.join(", "));
    }
    outln!("time:        {:.0} ms", r.timings_ms.total);
}
