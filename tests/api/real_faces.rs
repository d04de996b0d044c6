//! Real faces from ../shared/data (skipped with a message where absent): the shipped
//! threshold on labelled pairs, and accuracy figures printed for the closing note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use idgate::config::DEFAULT_MATCH_THRESHOLD;
use idgate::domain::calibration::calibrate;
use idgate::domain::face::Embedding;
use idgate::engine::decode::load_image;
use idgate::engine::{Embed, StageTimes};

use crate::helpers::{engine, shared_data};

fn embed(path: &Path) -> Embedding {
    let engine = engine();
    let bgr = load_image(path, &engine.settings().media).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let analysis = engine.analyse(&bgr, 0, 0.0, Embed::Largest, &mut StageTimes::default()).unwrap();
    analysis.primary.and_then(|f| f.embedding).unwrap_or_else(|| panic!("no face in {}", path.display()))
}

/// (file_x, file_y, same_person) rows of a shared pairs.csv.
fn read_pairs(csv: &Path) -> Vec<(String, String, bool)> {
    std::fs::read_to_string(csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[0].to_owned(), cells[1].to_owned(), cells[2] == "yes")
        })
        .collect()
}

fn score_pairs(root: &Path, pairs: &[(String, String, bool)]) -> (Vec<f32>, Vec<f32>) {
    let mut cache: BTreeMap<&str, Embedding> = BTreeMap::new();
    for (a, b, _) in pairs {
        for f in [a, b] {
            if !cache.contains_key(f.as_str()) {
                cache.insert(f, embed(&root.join(f)));
            }
        }
    }
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (a, b, same) in pairs {
        let score = cache[a.as_str()].cosine(&cache[b.as_str()]);
        if *same { genuine.push(score) } else { impostor.push(score) }
    }
    (genuine, impostor)
}

#[test]
fn deepface_pairs_are_all_decided_right_at_the_shipped_threshold() {
    let Some(dir) = shared_data("faces/deepface") else { return };
    let pairs = read_pairs(&dir.join("pairs.csv"));
    let (genuine, impostor) = score_pairs(&dir.join("images"), &pairs);
    let missed = genuine.iter().filter(|&&s| s < DEFAULT_MATCH_THRESHOLD).count();
    let false_matches = impostor.iter().filter(|&&s| s >= DEFAULT_MATCH_THRESHOLD).count();
    eprintln!(
        "deepface: {} genuine ({missed} missed), {} impostor ({false_matches} false matches) at {DEFAULT_MATCH_THRESHOLD}",
        genuine.len(),
        impostor.len()
    );
    assert_eq!((genuine.len(), impostor.len()), (64, 60));
    assert_eq!(missed, 0, "every genuine pair matches");
    assert_eq!(false_matches, 0, "no impostor pair matches");
}

#[test]
fn faceapi_crops_separate_identities() {
    let Some(dir) = shared_data("faces/faceapi_js") else { return };
    let mut images: Vec<(String, PathBuf)> = Vec::new();
    for person in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()) {
        for image in std::fs::read_dir(&person).unwrap().map(|e| e.unwrap().path()) {
            images.push((person.file_name().unwrap().to_string_lossy().into_owned(), image));
        }
    }
    let embeddings: Vec<Embedding> = images.iter().map(|(_, p)| embed(p)).collect();
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            let score = embeddings[i].cosine(&embeddings[j]);
            if images[i].0 == images[j].0 { genuine.push(score) } else { impostor.push(score) }
        }
    }
    let c = calibrate(&genuine, &impostor, &[]).unwrap();
    let false_matches = impostor.iter().filter(|&&s| s >= DEFAULT_MATCH_THRESHOLD).count();
    eprintln!(
        "faceapi_js: AUC {:.4}, {} genuine, {} impostor, {false_matches} false matches",
        c.auc,
        genuine.len(),
        impostor.len()
    );
    assert!(c.auc >= 0.99, "AUC {}", c.auc);
    assert_eq!(false_matches, 0);
}

/// The harder in-the-wild set: the shipped threshold must hold its calibrated operating
/// point (FMR about 1e-3) with the FNMR measured when it was chosen.
#[test]
fn faces_hard_holds_the_calibrated_operating_point() {
    let Some(dir) = shared_data("faces_hard") else { return };
    let pairs = read_pairs(&dir.join("pairs.csv"));
    let (genuine, impostor) = score_pairs(&dir, &pairs);
    let c = calibrate(&genuine, &impostor, &[1e-3]).unwrap();
    let fmr = impostor.iter().filter(|&&s| s >= DEFAULT_MATCH_THRESHOLD).count() as f64 / impostor.len() as f64;
    let fnmr = genuine.iter().filter(|&&s| s < DEFAULT_MATCH_THRESHOLD).count() as f64 / genuine.len() as f64;
    eprintln!(
        "faces_hard: {} genuine, {} impostor, AUC {:.4}; at {DEFAULT_MATCH_THRESHOLD}: FMR {fmr:.5}, FNMR {fnmr:.4}",
        genuine.len(),
        impostor.len(),
        c.auc
    );
    assert!(c.auc >= 0.975, "AUC {}", c.auc);
    assert!(fmr <= 0.0012, "FMR {fmr}");
    assert!(fnmr <= 0.12, "FNMR {fnmr}");
}
