//! The engine on material the tests make themselves, and on what setup fetched.

use std::path::Path;

use idgate::engine::decode::decode_image;
use idgate::engine::media::MediaLimits;
use idgate::engine::{Embed, Engine, EngineError, EngineSettings, StageTimes};
use opencv::prelude::*;

use crate::helpers::{encode, engine, solid};

#[test]
fn a_blank_image_has_no_face() {
    let mut times = StageTimes::default();
    let analysis =
        engine().analyse(&solid(640, 480, [128.0, 128.0, 128.0]), 0, 0.0, Embed::Largest, &mut times).unwrap();
    assert_eq!(analysis.face_count(), 0);
    assert!(analysis.primary.is_none());
    assert!(times.inference > std::time::Duration::ZERO, "the detector really ran");
}

#[test]
fn a_tiny_image_decodes_and_has_no_face() {
    let bytes = encode(".png", &solid(3, 2, [0.0, 0.0, 255.0]));
    let (_, bgr) = decode_image(&bytes, &MediaLimits::default()).unwrap();
    assert_eq!((bgr.cols(), bgr.rows()), (3, 2));
    let analysis = engine().analyse(&bgr, 0, 0.0, Embed::Largest, &mut StageTimes::default()).unwrap();
    assert_eq!(analysis.face_count(), 0);
}

#[test]
fn corrupted_jpeg_bytes_are_refused_not_decoded() {
    let mut bytes = encode(".jpg", &solid(64, 64, [10.0, 200.0, 30.0]));
    let middle = bytes.len() / 2;
    bytes.truncate(middle);
    let err = decode_image(&bytes, &MediaLimits::default()).unwrap_err();
    assert_eq!(err.code(), "truncated_file");
}

/// Builds a JPEG with an EXIF APP1 segment carrying `orientation` (TIFF tag 0x0112).
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend([0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(u16::try_from(tiff.len() + 2).unwrap().to_be_bytes());
    out.extend(tiff);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn exif_orientation_is_honoured() {
    let jpeg = encode(".jpg", &solid(40, 20, [0.0, 0.0, 0.0]));
    let (_, upright) = decode_image(&with_exif_orientation(&jpeg, 1), &MediaLimits::default()).unwrap();
    assert_eq!((upright.cols(), upright.rows()), (40, 20));
    let (_, rotated) = decode_image(&with_exif_orientation(&jpeg, 6), &MediaLimits::default()).unwrap();
    assert_eq!((rotated.cols(), rotated.rows()), (20, 40), "orientation 6 = rotate 90° clockwise");
}

#[test]
fn webp_images_decode() {
    let bytes = encode(".webp", &solid(32, 16, [1.0, 2.0, 3.0]));
    let (format, bgr) = decode_image(&bytes, &MediaLimits::default()).unwrap();
    assert_eq!(format, idgate::engine::media::MediaFormat::Webp);
    assert_eq!((bgr.cols(), bgr.rows()), (32, 16));
}

fn copy_models_to(dir: &Path) -> EngineSettings {
    let defaults = EngineSettings::default();
    for entry in std::fs::read_dir(&defaults.models_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    EngineSettings { models_dir: dir.to_path_buf(), ..defaults }
}

#[test]
fn a_tampered_model_is_refused_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let settings = copy_models_to(dir.path());
    let target = dir.path().join("face_recognition_sface_2021dec_int8bq_fp32.onnx");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[1000] ^= 0xFF;
    std::fs::write(&target, bytes).unwrap();

    let err = Engine::load(&settings).err().expect("tampered model must not load");
    assert!(matches!(err, EngineError::ModelMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("face_recognition_sface_2021dec_int8bq_fp32.onnx") && message.contains("make setup"),
        "{message}"
    );
}

#[test]
fn a_missing_model_is_refused_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let settings = copy_models_to(dir.path());
    std::fs::remove_file(dir.path().join("face_detection_yunet_2023mar.onnx")).unwrap();

    let err = Engine::load(&settings).err().expect("missing model must not load");
    assert_eq!(err.code(), "model_missing");
    assert!(err.to_string().contains("face_detection_yunet_2023mar.onnx"), "{err}");
}
