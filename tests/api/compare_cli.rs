//! `idgate compare` end to end on real media: a portrait cut from a video against the video.

use std::path::Path;

use crate::helpers::{ffmpeg, idgate, shared_data, stdout_json};

fn compare(document: &Path, selfie: &Path) -> serde_json::Value {
    let out =
        idgate(&["compare", "--json", "--document", document.to_str().unwrap(), "--selfie", selfie.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    stdout_json(&out)
}

#[test]
fn the_same_person_in_a_recompressed_webm_matches_and_another_person_does_not() {
    let (Some(video), Some(astronaut)) =
        (shared_data("video/carphone_pristine.mp4"), shared_data("faces/single/astronaut.png"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let still = dir.path().join("portrait.png");
    let webm = dir.path().join("selfie.webm");
    ffmpeg(&[
        "-i",
        video.to_str().unwrap(),
        "-vf",
        "select=eq(n\\,10),scale=352:288",
        "-frames:v",
        "1",
        still.to_str().unwrap(),
    ]);
    ffmpeg(&["-i", video.to_str().unwrap(), "-ss", "1", "-c:v", "libvpx", "-b:v", "300k", webm.to_str().unwrap()]);

    let same = compare(&still, &webm);
    assert_eq!(same["match"], true, "{same}");
    assert!(same["similarity"].as_f64().unwrap() > 0.6, "{same}");
    assert_eq!(same["reasons"], serde_json::json!([]));
    assert!(same["selfie"]["frames_decoded"].as_u64().unwrap() >= 80, "{same}");
    assert_eq!(same["selfie"]["frames_analysed"], 8);
    for key in ["decode", "detect", "align", "embed", "inference", "total"] {
        assert!(same["timings_ms"][key].as_f64().unwrap() > 0.0, "timings_ms.{key}: {same}");
    }
    assert_eq!(same["document"]["faces_found"], 1);

    let other = compare(&astronaut, &webm);
    assert_eq!(other["match"], false, "{other}");
    assert!(other["similarity"].as_f64().unwrap() < other["threshold"].as_f64().unwrap());
}

#[test]
fn a_clip_without_a_face_is_refused_as_selfie_no_face() {
    let Some(astronaut) = shared_data("faces/single/astronaut.png") else { return };
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::helpers::pattern_webm(dir.path(), "320x240", 15, 2);
    let out = idgate(&["compare", "--document", astronaut.to_str().unwrap(), "--selfie", clip.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).trim_end().ends_with("(selfie_no_face)"));
}

/// Street footage with small, distant faces of several people: compared, but not a match,
/// and the reasons say why.
#[test]
fn a_street_clip_with_small_faces_is_not_a_match_and_says_why() {
    let (Some(bikes), Some(astronaut)) = (shared_data("video/bikes.mp4"), shared_data("faces/single/astronaut.png"))
    else {
        return;
    };
    let result = compare(&astronaut, &bikes);
    assert_eq!(result["match"], false, "{result}");
    let reasons: Vec<&str> = result["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons.contains(&"selfie_several_faces"), "{reasons:?}");
}
