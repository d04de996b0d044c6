//! Genuine and impostor cases built honestly from real photos in ../shared/data, since it
//! has no ID-plus-video pair of one person:
//! - the document is an ID-card-like image composed here around one photo of a person
//!   (deepface img34, Leonardo DiCaprio), with printed text;
//! - the genuine selfie is a 3 s WebM slideshow of three *other* photos of the same person
//!   (img35, img36, img37), one per second;
//! - the impostor selfie is the same kind of clip of another person (Katy Perry: img26–28).

use std::path::Path;
use std::sync::OnceLock;

use opencv::core::{Mat, Point, Rect, Scalar, Size};
use opencv::prelude::*;
use opencv::{imgcodecs, imgproc};

use crate::helpers::{encode, ffmpeg, shared_data, solid};

pub struct Fixtures {
    pub document: Vec<u8>,
    pub genuine_selfie: Vec<u8>,
    pub impostor_selfie: Vec<u8>,
}

/// The machine-readable zone of the fixture card (TD1), written by idgate's own formatter
/// for the claims in `helpers::claims_json`.
pub fn fixture_mrz() -> Vec<String> {
    use idgate::document::mrz::{Format, MrzData, Sex, format_lines};
    use time::macros::date;
    format_lines(&MrzData {
        format: Format::Td1,
        document_code: "ID".into(),
        issuing_state: "USA".into(),
        document_number: "X00000001".into(),
        surname: "TESTCANDIDATE".into(),
        given_names: "LEONARDO".into(),
        nationality: "USA".into(),
        birth_date: date!(1974 - 11 - 11),
        sex: Sex::Male,
        expiry_date: date!(2035 - 01 - 01),
        optional1: String::new(),
        optional2: String::new(),
    })
}

pub fn id_card(photo: &Path) -> Vec<u8> {
    let mut card = solid(900, 700, [215.0, 230.0, 240.0]);
    let portrait = imgcodecs::imread(photo.to_str().unwrap(), imgcodecs::IMREAD_COLOR).unwrap();
    let scale = (260.0 / portrait.cols() as f64).min(330.0 / portrait.rows() as f64);
    let size = Size::new((portrait.cols() as f64 * scale) as i32, (portrait.rows() as f64 * scale) as i32);
    let mut resized = Mat::default();
    imgproc::resize(&portrait, &mut resized, size, 0.0, 0.0, imgproc::INTER_AREA).unwrap();
    let mut roi = Mat::roi_mut(&mut card, Rect::new(40, 160, size.width, size.height)).unwrap();
    resized.copy_to(&mut roi).unwrap();
    for (i, line) in
        ["IDENTITY CARD", "Surname: TESTCANDIDATE", "Given names: LEONARDO", "Born: 11.11.1974", "No. X00000001"]
            .iter()
            .enumerate()
    {
        let at = Point::new(if i == 0 { 40 } else { 340 }, if i == 0 { 90 } else { 170 + 60 * i as i32 });
        imgproc::put_text(
            &mut card,
            line,
            at,
            imgproc::FONT_HERSHEY_SIMPLEX,
            1.0,
            Scalar::new(40.0, 40.0, 40.0, 0.0),
            2,
            imgproc::LINE_AA,
            false,
        )
        .unwrap();
    }
    for (i, line) in fixture_mrz().iter().enumerate() {
        let at = Point::new(40, 590 + 42 * i as i32);
        let ink = Scalar::new(30.0, 30.0, 30.0, 0.0);
        imgproc::put_text(&mut card, line, at, imgproc::FONT_HERSHEY_SIMPLEX, 1.05, ink, 2, imgproc::LINE_AA, false)
            .unwrap();
    }
    encode(".jpg", &card)
}

pub fn slideshow(photos: &[&Path], out: &Path) -> Vec<u8> {
    let mut args: Vec<String> = Vec::new();
    for p in photos {
        args.extend(["-loop", "1", "-t", "1", "-i"].map(String::from));
        args.push(p.to_str().unwrap().to_owned());
    }
    let scaled: String = (0..photos.len())
        .map(|i| format!("[{i}]scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=15[v{i}];"))
        .collect();
    let inputs: String = (0..photos.len()).map(|i| format!("[v{i}]")).collect();
    args.extend([
        "-filter_complex".into(),
        format!("{scaled}{inputs}concat=n={}:v=1:a=0[out]", photos.len()),
        "-map".into(),
        "[out]".into(),
    ]);
    args.extend(["-c:v", "libvpx", "-b:v", "800k", "-threads", "1"].map(String::from));
    args.push(out.to_str().unwrap().to_owned());
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
    std::fs::read(out).unwrap()
}

/// Built once per test run; `None` (with a message) when ../shared/data is absent.
pub fn fixtures() -> Option<&'static Fixtures> {
    static FIXTURES: OnceLock<Option<Fixtures>> = OnceLock::new();
    FIXTURES
        .get_or_init(|| {
            let images = shared_data("faces/deepface/images")?;
            let dir = tempfile::tempdir().unwrap();
            let img = |n: u32| images.join(format!("img{n}.jpg"));
            Some(Fixtures {
                document: id_card(&img(34)),
                genuine_selfie: slideshow(&[&img(35), &img(36), &img(37)], &dir.path().join("genuine.webm")),
                impostor_selfie: slideshow(&[&img(26), &img(27), &img(28)], &dir.path().join("impostor.webm")),
            })
        })
        .as_ref()
}
