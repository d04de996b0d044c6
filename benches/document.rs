//! Document reading (criterion): one MRZ read by OCR from a 1000×700 photo, and 100k MRZ
//! strings parsed (with OCR repair on; a tenth carry an O/0 confusion to repair).
//!
//! `cargo bench --bench document`. The photo is a card drawn here with a passport zone
//! written by idgate's formatter; with ../shared/data beside the checkout the ICAO specimen
//! passport, scaled onto a 1000×700 page, is measured too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use idgate::document::mrz::{self, Format, MrzData, Repair, Sex, format_lines};
use idgate::document::read::read_mrz;
use idgate::engine::{Engine, EngineSettings, StageTimes};
use opencv::core::{Mat, Point, Rect, Scalar, Size};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};
use time::macros::date;
use time::{Date, Duration as Days};

const TODAY: Date = date!(2026 - 11 - 23);

fn sample(n: usize) -> MrzData {
    let format = Format::ALL[n % 5];
    let code = match format {
        Format::Td3 => "P",
        Format::Mrva | Format::Mrvb => "V",
        _ => "I",
    };
    MrzData {
        format,
        document_code: code.into(),
        issuing_state: ["UTO", "CAN", "DEU", "FRA", "JPN"][n % 5].into(),
        document_number: format!("X{:08}", n * 7919 % 100_000_000),
        surname: ["ERIKSSON", "MARTIN", "DE LA CRUZ", "NGUYEN", "OKAFOR"][n % 5].into(),
        given_names: ["ANNA MARIA", "SARAH", "JOSE", "VAN", "CHIDI"][n / 5 % 5].into(),
        nationality: "UTO".into(),
        birth_date: date!(1950 - 01 - 01) + Days::days((n * 37 % 20_000) as i64),
        sex: [Sex::Male, Sex::Female][n % 2],
        expiry_date: date!(2027 - 01 - 01) + Days::days((n * 13 % 3_000) as i64),
        optional1: String::new(),
        optional2: String::new(),
    }
}

fn photo(lines: &[String]) -> Mat {
    let mut page =
        Mat::new_rows_cols_with_default(700, 1000, opencv::core::CV_8UC3, Scalar::new(225.0, 232.0, 238.0, 0.0))
            .unwrap();
    let ink = Scalar::new(35.0, 35.0, 35.0, 0.0);
    for (i, text) in ["PASSPORT", "Surname / Nom", "ERIKSSON", "Given names", "ANNA MARIA", "Date of birth 12 AUG 1974"]
        .iter()
        .enumerate()
    {
        imgproc::put_text(
            &mut page,
            text,
            Point::new(360, 90 + 55 * i as i32),
            imgproc::FONT_HERSHEY_SIMPLEX,
            0.9,
            ink,
            2,
            imgproc::LINE_AA,
            false,
        )
        .unwrap();
    }
    imgproc::rectangle(
        &mut page,
        Rect::new(60, 80, 250, 320),
        Scalar::new(150.0, 160.0, 170.0, 0.0),
        -1,
        imgproc::LINE_8,
        0,
    )
    .unwrap();
    for (i, line) in lines.iter().enumerate() {
        imgproc::put_text(
            &mut page,
            line,
            Point::new(30, 590 + 50 * i as i32),
            imgproc::FONT_HERSHEY_SIMPLEX,
            0.95,
            ink,
            2,
            imgproc::LINE_AA,
            false,
        )
        .unwrap();
    }
    page
}

fn specimen() -> Option<Mat> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mrz/specimen_images/passports/ICAO_Example.png");
    if !path.exists() {
        eprintln!("SKIP specimen: {} is absent", path.display());
        return None;
    }
    let image = imgcodecs::imread(path.to_str()?, imgcodecs::IMREAD_COLOR).ok()?;
    let scale = (1000.0 / image.cols() as f64).min(700.0 / image.rows() as f64);
    let size = Size::new((image.cols() as f64 * scale) as i32, (image.rows() as f64 * scale) as i32);
    let mut resized = Mat::default();
    imgproc::resize(&image, &mut resized, size, 0.0, 0.0, imgproc::INTER_CUBIC).ok()?;
    let mut page = Mat::new_rows_cols_with_default(700, 1000, opencv::core::CV_8UC3, Scalar::all(255.0)).ok()?;
    let mut roi = Mat::roi_mut(&mut page, Rect::new(0, 0, size.width, size.height)).ok()?;
    resized.copy_to(&mut roi).ok()?;
    Some(page)
}

fn read_photo(c: &mut Criterion) {
    let engine = Engine::load(&EngineSettings::default()).expect("models installed by `make setup`");
    let lines = format_lines(&sample(2));
    let drawn = photo(&lines);
    let check = read_mrz(engine.ocr(), &drawn, TODAY, &mut StageTimes::default()).unwrap().expect("zone found");
    assert!(check.mrz.check_digits_valid(), "{:?}", check.mrz.findings);
    let mut group = c.benchmark_group("mrz_read_1000x700");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    group.bench_function("drawn_passport", |b| {
        b.iter(|| read_mrz(engine.ocr(), black_box(&drawn), TODAY, &mut StageTimes::default()).unwrap())
    });
    if let Some(page) = specimen() {
        group.bench_function("icao_specimen", |b| {
            b.iter(|| read_mrz(engine.ocr(), black_box(&page), TODAY, &mut StageTimes::default()).unwrap())
        });
    }
    group.finish();
}

fn parse_many(c: &mut Criterion) {
    let zones: Vec<Vec<String>> = (0..100_000)
        .map(|n| {
            let mut lines = format_lines(&sample(n));
            if n % 10 == 0 {
                // An O/0 confusion in the number, for the repair to find.
                let at = if lines.len() == 3 { 0 } else { 1 };
                let col = if lines.len() == 3 { 7 } else { 2 };
                let mut bytes = lines[at].clone().into_bytes();
                bytes[col] = if bytes[col] == b'0' { b'O' } else { bytes[col] };
                lines[at] = String::from_utf8(bytes).unwrap();
            }
            lines
        })
        .collect();
    let valid = zones
        .iter()
        .filter(|lines| {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            mrz::parse(&refs, TODAY, Repair::Ocr).unwrap().check_digits_valid()
        })
        .count();
    eprintln!("mrz_parse: {valid}/{} valid after repair (a tenth had an O for a 0)", zones.len());
    let mut group = c.benchmark_group("mrz_parse");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("100k_strings", |b| {
        b.iter(|| {
            let mut valid = 0usize;
            for lines in &zones {
                let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
                valid += usize::from(mrz::parse(&refs, TODAY, Repair::Ocr).unwrap().check_digits_valid());
            }
            valid
        })
    });
    group.finish();
}

criterion_group!(benches, read_photo, parse_many);
criterion_main!(benches);
