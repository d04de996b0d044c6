//! `idgate calibrate (--pairs CSV | --dir DIR) [--fmr 1e-3 --fmr 1e-4] [--json]`: embeds each
//! image once (largest face), scores the labelled pairs and prints AUC and, per target
//! false-match rate, the threshold and the false non-match rate there.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Failure, error_chain, load_engine};
use crate::config::Settings;
use crate::domain::calibration::{Calibration, calibrate};
use crate::domain::face::Embedding;
use crate::engine::{Embed, Engine, StageTimes};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["pairs", "dir"])))]
pub struct Args {
    /// CSV with columns file_x,file_y,same_person (yes/no).
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Folder the CSV's paths are relative to (default: the CSV's own folder).
    #[arg(long, requires = "pairs")]
    root: Option<PathBuf>,
    /// Folder with one sub-folder of images per identity: every pair is scored.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Target false-match rates (repeatable).
    #[arg(long = "fmr", default_values_t = [1e-3, 1e-4])]
    fmrs: Vec<f64>,
    #[arg(long)]
    json: bool,
}

/// A labelled pair of image paths.
struct Pair {
    a: PathBuf,
    b: PathBuf,
    genuine: bool,
}

#[derive(Serialize)]
struct Report {
    images: usize,
    /// Images where no face could be embedded; pairs using them are left out.
    failed_to_enrol: usize,
    pairs_skipped: usize,
    #[serde(flatten)]
    calibration: Calibration,
    shipped_threshold: f32,
    shipped_fmr: f64,
    shipped_fnmr: f64,
}

pub fn run(settings: Settings, args: Args) -> Result<(), Failure> {
    crate::telemetry::init("warn,ort=error");
    let pairs = match (&args.pairs, &args.dir) {
        (Some(csv), _) => pairs_from_csv(csv, args.root.as_deref())?,
        (None, Some(dir)) => pairs_from_dir(dir)?,
        (None, None) => return Err(Failure::bad_input("give --pairs CSV or --dir DIR")),
    };
    if args.fmrs.iter().any(|f| !(0.0..1.0).contains(f)) {
        return Err(Failure::bad_input("--fmr must be within [0, 1)"));
    }
    let engine = load_engine(&settings)?;
    let files: BTreeSet<&Path> = pairs.iter().flat_map(|p| [p.a.as_path(), p.b.as_path()]).collect();
    let embeddings = embed_all(&engine, &files)?;
    if embeddings.is_empty() {
        let first = files.first().map(|p| p.display().to_string()).unwrap_or_default();
        return Err(Failure::bad_input(format!(
            "no face could be embedded from any of {} images (first: {first})",
            files.len()
        )));
    }
    let (mut genuine, mut impostor, mut skipped) = (Vec::new(), Vec::new(), 0);
    for pair in &pairs {
        match (embeddings.get(pair.a.as_path()), embeddings.get(pair.b.as_path())) {
            (Some(a), Some(b)) if pair.genuine => genuine.push(a.cosine(b)),
            (Some(a), Some(b)) => impostor.push(a.cosine(b)),
            _ => skipped += 1,
        }
    }
    let calibration = calibrate(&genuine, &impostor, &args.fmrs).map_err(|e| Failure::bad_input(e.to_string()))?;
    let shipped = settings.face_match.threshold;
    let report = Report {
        images: files.len(),
        failed_to_enrol: files.len() - embeddings.len(),
        pairs_skipped: skipped,
        shipped_threshold: shipped,
        shipped_fmr: rate(&impostor, |s| s >= shipped),
        shipped_fnmr: rate(&genuine, |s| s < shipped),
        calibration,
    };
    print_report(&report, args.json)
}

fn rate(scores: &[f32], counts: impl Fn(f32) -> bool) -> f64 {
    scores.iter().filter(|&&s| counts(s)).count() as f64 / scores.len().max(1) as f64
}

fn print_report(r: &Report, json: bool) -> Result<(), Failure> {
    if json {
        outln!("{}", serde_json::to_string(r).map_err(|e| Failure::internal(e.to_string()))?);
        return Ok(());
    }
    let c = &r.calibration;
    outln!(
        "images {} (failed to enrol {}), genuine pairs {}, impostor pairs {}, skipped {}",
        r.images,
        r.failed_to_enrol,
        c.genuine,
        c.impostor,
        r.pairs_skipped
    );
    outln!("AUC {:.4}", c.auc);
    for p in &c.operating_points {
        let note = if p.resolved { "" } else { " (too few impostor pairs to resolve this rate)" };
        outln!(
            "FMR target {:.0e}: threshold {:.4}, FMR {:.5}, FNMR {:.4}{note}",
            p.target_fmr,
            p.threshold,
            p.fmr,
            p.fnmr
        );
    }
    outln!("shipped threshold {:.4}: FMR {:.5}, FNMR {:.4}", r.shipped_threshold, r.shipped_fmr, r.shipped_fnmr);
    Ok(())
}

fn embed_all<'a>(engine: &Engine, files: &BTreeSet<&'a Path>) -> Result<BTreeMap<&'a Path, Embedding>, Failure> {
    let progress = std::io::stderr().is_terminal();
    let mut out = BTreeMap::new();
    for (i, &path) in files.iter().enumerate() {
        let mut times = StageTimes::default();
        let Ok(bgr) = crate::engine::decode::load_image(path, &engine.settings().media) else { continue };
        let analysis =
            engine.analyse(&bgr, 0, 0.0, Embed::Largest, &mut times).map_err(|e| Failure::internal(error_chain(&e)))?;
        if let Some(embedding) = analysis.primary.and_then(|f| f.embedding) {
            out.insert(path, embedding);
        }
        if progress && (i + 1) % 50 == 0 {
            eprint!("\rembedded {}/{}", i + 1, files.len());
        }
    }
    if progress {
        eprintln!();
    }
    Ok(out)
}

fn pairs_from_csv(csv: &Path, root: Option<&Path>) -> Result<Vec<Pair>, Failure> {
    let text =
        std::fs::read_to_string(csv).map_err(|e| Failure::bad_input(format!("cannot read {}: {e}", csv.display())))?;
    let root = root.unwrap_or_else(|| csv.parent().unwrap_or(Path::new(".")));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').map(str::trim).collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| Failure::bad_input(format!("{}: no column {name}", csv.display())))
    };
    let (x, y, same) = (column("file_x")?, column("file_y")?, column("same_person")?);
    let mut pairs = Vec::new();
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |i: usize| {
            cells
                .get(i)
                .copied()
                .ok_or_else(|| Failure::bad_input(format!("{}: line {} is short", csv.display(), n + 2)))
        };
        let genuine = match cell(same)? {
            "yes" | "1" | "true" => true,
            "no" | "0" | "false" => false,
            other => {
                return Err(Failure::bad_input(format!("{}: line {}: same_person is {other:?}", csv.display(), n + 2)));
            }
        };
        pairs.push(Pair { a: root.join(cell(x)?), b: root.join(cell(y)?), genuine });
    }
    Ok(pairs)
}

fn pairs_from_dir(dir: &Path) -> Result<Vec<Pair>, Failure> {
    let read = |d: &Path| -> Result<Vec<PathBuf>, Failure> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| Failure::bad_input(format!("cannot read {}: {e}", d.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        Ok(entries)
    };
    let mut images: Vec<(usize, PathBuf)> = Vec::new();
    for (identity, folder) in read(dir)?.into_iter().filter(|p| p.is_dir()).enumerate() {
        images.extend(read(&folder)?.into_iter().filter(|p| p.is_file()).map(|p| (identity, p)));
    }
    let mut pairs = Vec::new();
    for (i, (id_a, a)) in images.iter().enumerate() {
        for (id_b, b) in images.iter().skip(i + 1) {
            pairs.push(Pair { a: a.clone(), b: b.clone(), genuine: id_a == id_b });
        }
    }
    Ok(pairs)
}
