//! `idgate document mrz | read` through the real binary: JSON shape, exit codes, and a
//! licence back drawn here (an AAMVA payload encoded as PDF417 by rxing's writer, printed on
//! a card, turned a little and saved as JPEG) read from a photo.

use opencv::core::{Mat, Point2f, Rect, Scalar, Size};
use opencv::imgproc;
use rxing::Writer;

use crate::helpers::{encode, idgate, solid, stderr_lines, stdout_json};

const TD3: [&str; 2] = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"];

#[test]
fn mrz_text_is_parsed_with_its_checks_and_bad_text_exits_2() {
    let out = idgate(&["document", "mrz", "--json", TD3[0], TD3[1]]);
    assert_eq!(out.status.code(), Some(0));
    let j = stdout_json(&out);
    assert_eq!((j["format"].as_str(), j["check_digits_valid"].as_bool()), (Some("TD3"), Some(true)));
    let f = &j["fields"];
    assert_eq!(f["document_number"], "L898902C3");
    assert_eq!((f["surname"].as_str(), f["given_names"].as_str()), (Some("ERIKSSON"), Some("ANNA MARIA")));
    assert_eq!((f["birth_date"].as_str(), f["expiry_date"].as_str()), (Some("1974-08-12"), Some("2012-04-15")));
    assert_eq!(
        (f["issuing_state"].as_str(), f["nationality"].as_str(), f["sex"].as_str()),
        (Some("UTO"), Some("UTO"), Some("F"))
    );
    assert!(j["findings"].as_array().unwrap().contains(&"expired".into()));

    // A wrong check digit parses (exit 0) and says so.
    let bad = TD3[1].replacen("L898902C36", "L898902C37", 1);
    let out = idgate(&["document", "mrz", "--json", TD3[0], &bad]);
    assert_eq!(out.status.code(), Some(0));
    let j = stdout_json(&out);
    assert_eq!(j["check_digits_valid"], false);
    assert!(j["findings"].as_array().unwrap().contains(&"check_digit_document_number".into()), "{j}");

    // Text that is no zone at all: exit 2, one line on stderr.
    let out = idgate(&["document", "mrz", "hello", "world"]);
    assert_eq!(out.status.code(), Some(2));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("not a machine-readable zone"), "{lines:?}");
}

/// An AAMVA version 9 payload of a California licence.
fn payload() -> String {
    let elements = [
        "DAQD1234567",
        "DCSMONTGOMERY",
        "DACJANE",
        "DADELIZABETH",
        "DBB07041985",
        "DBA07042030",
        "DBD07042022",
        "DBC2",
        "DAYBLU",
        "DAU065 IN",
        "DAG2570 24TH STREET",
        "DAISACRAMENTO",
        "DAJCA",
        "DAK958180000  ",
        "DCGUSA",
    ];
    let body = format!("DL{}\r", elements.join("\n"));
    format!("@\n\x1e\rANSI 636014090001DL0031{:04}{body}", body.len())
}

pub fn licence_back() -> Vec<u8> {
    let matrix = rxing::pdf417::PDF417Writer.encode(&payload(), &rxing::BarcodeFormat::PDF_417, 0, 0).unwrap();
    let (w, h) = (matrix.width() as i32, matrix.height() as i32);
    // The writer's matrix already has rows several modules tall; scale it to about 880 px wide.
    let m = (880 / w).max(1);
    let (mx, my) = (m, m);
    eprintln!("pdf417 matrix {w}x{h}, module {m}px");
    let mut card = solid(1000, 640, [232.0, 236.0, 240.0]);
    let (x0, y0) = ((1000 - w * mx) / 2, (640 - h * my) / 2);
    for y in 0..h {
        for x in 0..w {
            if matrix.get(x as u32, y as u32) {
                let cell = Rect::new(x0 + x * mx, y0 + y * my, mx, my);
                imgproc::rectangle(&mut card, cell, Scalar::all(20.0), -1, imgproc::LINE_8, 0).unwrap();
            }
        }
    }
    // Held a little crooked, as in a phone photo.
    let rotation = imgproc::get_rotation_matrix_2d(Point2f::new(500.0, 320.0), 3.0, 1.0).unwrap();
    let mut turned = Mat::default();
    imgproc::warp_affine(
        &card,
        &mut turned,
        &rotation,
        Size::new(1000, 640),
        imgproc::INTER_LINEAR,
        opencv::core::BORDER_REPLICATE,
        Scalar::default(),
    )
    .unwrap();
    encode(".jpg", &turned)
}

#[test]
fn a_licence_back_photo_is_read_from_its_barcode() {
    let dir = tempfile::tempdir().unwrap();
    let back = dir.path().join("back.jpg");
    std::fs::write(&back, licence_back()).unwrap();
    let out = idgate(&["document", "read", "--json", back.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let j = stdout_json(&out);
    assert_eq!(j["family_name"], "MONTGOMERY", "{j}");
    assert_eq!((j["first_name"].as_str(), j["middle_names"].as_str()), (Some("JANE"), Some("ELIZABETH")));
    assert_eq!((j["birth_date"].as_str(), j["expiry_date"].as_str()), (Some("1985-07-04"), Some("2030-07-04")));
    assert_eq!(j["document_number"], "D1234567");
    assert_eq!(j["jurisdiction"]["code"], "CA");
    assert_eq!((j["height_cm"].as_u64(), j["eye_colour"].as_str()), (Some(165), Some("blue")));
    assert_eq!(j["address"]["postal_code"], "95818");
    assert_eq!(j["partial"], false);
    // The text form names the same fields.
    let out = idgate(&["document", "read", back.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("format: AAMVA 9") && text.contains("MONTGOMERY") && text.contains("partial: false"),
        "{text}"
    );

    // A blank card: no zone, no barcode: exit 2 with one line.
    let blank = dir.path().join("blank.png");
    std::fs::write(&blank, encode(".png", &solid(800, 500, [240.0, 240.0, 240.0]))).unwrap();
    let out = idgate(&["document", "read", blank.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_lines(&out)[0].contains("no_document_data"), "{:?}", stderr_lines(&out));
    // A missing file: exit 2, the media error's code.
    let out = idgate(&["document", "read", dir.path().join("nope.jpg").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_lines(&out)[0].contains("document_file_unreadable"), "{:?}", stderr_lines(&out));
}
