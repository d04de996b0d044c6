//! A corpus of malformed inputs, made here: each must end the CLI with exit 2, one clear line
//! on stderr naming its code, and no panic, on whichever side it is given.

use std::path::{Path, PathBuf};

use crate::helpers::{encode, ffmpeg, idgate, solid, stderr_lines};

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    code: &'static str,
    /// Images are also tried as the document; videos only as the selfie.
    image: bool,
}

fn case(name: &'static str, bytes: Vec<u8>, code: &'static str, image: bool) -> Case {
    Case { name, bytes, code, image }
}

fn cut(bytes: &[u8], keep: f64) -> Vec<u8> {
    bytes[..(bytes.len() as f64 * keep) as usize].to_vec()
}

/// A well-formed PNG (valid CRCs) declaring the given dimensions, with a tiny IDAT.
fn png_with_dims(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    for (kind, data) in [(&b"IHDR"[..], ihdr), (b"IDAT", vec![0; 8]), (b"IEND", vec![])] {
        png.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
        let typed: Vec<u8> = [kind, &data[..]].concat();
        png.extend(&typed);
        png.extend(crc32fast::hash(&typed).to_be_bytes());
    }
    png
}

/// A real JPEG whose SOF0 dimensions are rewritten.
fn jpeg_with_dims(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = encode(".jpg", &solid(8, 8, [50.0, 60.0, 70.0]));
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline JPEG has SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

fn pseudo_random(n: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn video(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let mut all: Vec<&str> = args.to_vec();
    all.push(path.to_str().unwrap());
    ffmpeg(&all);
    std::fs::read(path).unwrap()
}

fn corpus(dir: &Path) -> Vec<Case> {
    let jpeg = encode(".jpg", &solid(64, 48, [90.0, 120.0, 150.0]));
    let png = encode(".png", &solid(64, 48, [90.0, 120.0, 150.0]));
    let webp = encode(".webp", &solid(64, 48, [90.0, 120.0, 150.0]));
    let mut corrupt_png = png.clone();
    let idat = corrupt_png.windows(4).position(|w| w == b"IDAT").unwrap();
    corrupt_png[idat + 4..idat + 12].copy_from_slice(&pseudo_random(8));
    let src = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2"];
    let mp4 = video(
        dir,
        "ok.mp4",
        &[&src[..], &["-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]].concat(),
    );
    let webm = video(dir, "ok.webm", &[&src[..], &["-c:v", "libvpx", "-b:v", "200k"]].concat());
    let mut cases = vec![
        case("empty.jpg", vec![], "empty_file", true),
        case("text-renamed.jpg", b"name,birth_date\nJane Doe,1990-01-01\n".to_vec(), "unsupported_format", true),
        case("random.bin", pseudo_random(4096), "unsupported_format", true),
        case("animation.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), "unsupported_format", true),
        case("truncated.jpg", cut(&jpeg, 0.6), "truncated_file", true),
        case("header-only.jpg", jpeg[..20].to_vec(), "truncated_file", true),
        case("truncated.png", cut(&png, 0.7), "truncated_file", true),
        case("truncated.webp", cut(&webp, 0.5), "truncated_file", true),
        case("huge-20000x20000.png", png_with_dims(20_000, 20_000), "image_too_large", true),
        case("huge-20000x20000.jpg", jpeg_with_dims(20_000, 20_000), "image_too_large", true),
        case("zero-size.jpg", jpeg_with_dims(0, 0), "undecodable", true),
        case("corrupt-pixels.png", corrupt_png, "corrupt_file", true),
        case("huge.pgm", b"P5\n30000 30000\n255\n\0\0\0\0".to_vec(), "image_too_large", true),
        case("ftyp-only.mp4", b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec(), "undecodable", false),
        case("ebml-only.webm", vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01], "undecodable", false),
        case("truncated.mp4", cut(&mp4, 0.5), "truncated_file", false),
        case("truncated.webm", cut(&webm, 0.4), "truncated_file", false),
        case(
            "audio-only.webm",
            video(dir, "audio.webm", &["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus"]),
            "undecodable",
            false,
        ),
        case(
            "too-wide.webm",
            video(dir, "wide.webm", &["-f", "lavfi", "-i", "testsrc=size=4000x16:rate=5:duration=1", "-c:v", "libvpx"]),
            "video_too_large",
            false,
        ),
        case(
            "too-long.mp4",
            video(
                dir,
                "long.mp4",
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc=size=32x32:rate=100:duration=19",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                ],
            ),
            "video_too_long",
            false,
        ),
    ];
    // Accepted containers around codecs that are not: MJPEG in AVI, MPEG-4 Part 2 in MP4.
    cases.push(case(
        "mjpeg.avi",
        video(dir, "mjpeg.avi", &[&src[..], &["-c:v", "mjpeg"]].concat()),
        "unsupported_codec",
        false,
    ));
    cases.push(case(
        "mjpeg.mkv",
        video(dir, "mjpeg.mkv", &[&src[..], &["-c:v", "mjpeg"]].concat()),
        "unsupported_codec",
        false,
    ));
    cases.push(case(
        "mpeg4-part2.mp4",
        video(dir, "part2.mp4", &[&src[..], &["-c:v", "mpeg4"]].concat()),
        "unsupported_codec",
        false,
    ));
    cases.push(case(
        "zero-frames.webm",
        video(
            dir,
            "zero.webm",
            &["-f", "lavfi", "-i", "testsrc=size=64x48:rate=25", "-frames:v", "0", "-c:v", "libvpx"],
        ),
        "undecodable",
        false,
    ));
    cases.push(case("video-as-document.webm", webm, "not_an_image", true));
    cases
}

fn run_case(dir: &Path, good: &Path, case: &Case, side: &str) {
    let bad: PathBuf = dir.join(case.name);
    std::fs::write(&bad, &case.bytes).unwrap();
    let (document, selfie) = if side == "document" { (&bad, &good.to_path_buf()) } else { (&good.to_path_buf(), &bad) };
    let out =
        idgate(&["compare", "--json", "--document", document.to_str().unwrap(), "--selfie", selfie.to_str().unwrap()]);
    let lines = stderr_lines(&out);
    let expected = format!("({side}_{})", case.code);
    assert_eq!(out.status.code(), Some(2), "{side} {}: {lines:?}", case.name);
    assert!(out.stdout.is_empty(), "{side} {}: nothing on stdout", case.name);
    assert_eq!(lines.len(), 1, "{side} {}: exactly one line on stderr: {lines:?}", case.name);
    assert!(lines[0].starts_with("idgate: error: "), "{side} {}: {lines:?}", case.name);
    assert!(lines[0].ends_with(&expected), "{side} {}: expected {expected}, got {lines:?}", case.name);
}

#[test]
fn every_malformed_file_gets_a_clean_error_code() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("blank.png");
    std::fs::write(&good, encode(".png", &solid(64, 48, [128.0, 128.0, 128.0]))).unwrap();
    let cases = corpus(dir.path());
    assert!(cases.len() >= 20);
    for case in &cases {
        if case.name == "video-as-document.webm" {
            run_case(dir.path(), &good, case, "document");
            continue;
        }
        run_case(dir.path(), &good, case, "selfie");
        if case.image {
            run_case(dir.path(), &good, case, "document");
        }
    }
}

#[test]
fn missing_files_and_directories_are_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("blank.png");
    std::fs::write(&good, encode(".png", &solid(64, 48, [128.0, 128.0, 128.0]))).unwrap();
    for path in [dir.path().join("does-not-exist.jpg"), dir.path().to_path_buf()] {
        let out = idgate(&["compare", "--document", path.to_str().unwrap(), "--selfie", good.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let lines = stderr_lines(&out);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].ends_with("(document_file_unreadable)"), "{lines:?}");
    }
}

#[test]
fn a_blank_document_has_no_face() {
    let dir = tempfile::tempdir().unwrap();
    let blank = dir.path().join("blank.jpg");
    std::fs::write(&blank, encode(".jpg", &solid(640, 400, [200.0, 200.0, 200.0]))).unwrap();
    let out = idgate(&["compare", "--document", blank.to_str().unwrap(), "--selfie", blank.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr_lines(&out), ["idgate: error: document: no face found (document_no_face)"]);
}
