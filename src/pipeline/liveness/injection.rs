//! Injection and replay signals: was this video shown to a real camera in this session, or
//! fed in (a virtual camera, an edited file, a replay of an earlier upload)? Each signal is
//! named and carries its evidence; none is trusted alone (the browser's report can be forged,
//! so it can only add suspicion, never remove it).

use serde::{Deserialize, Serialize};

/// What the browser saw while recording (client-side, so a signal only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureReport {
    /// The camera's label as the browser names it (`MediaStreamTrack.label`).
    #[serde(default)]
    pub camera_label: Option<String>,
    /// Frames the page saw while recording (`requestVideoFrameCallback`).
    #[serde(default)]
    pub frames: Option<u32>,
    #[serde(default)]
    pub interval_mean_ms: Option<f64>,
    #[serde(default)]
    pub interval_stddev_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// e.g. `virtual_camera`, `selfie_replayed`, `editing_tool_metadata`.
    pub code: &'static str,
    pub evidence: serde_json::Value,
}

/// Camera names of virtual or fake capture devices (lower case, matched as substrings).
const VIRTUAL_CAMERAS: [&str; 14] = [
    "obs virtual",
    "obs-camera",
    "manycam",
    "v4l2loopback",
    "dummy video",
    "virtual camera",
    "virtualcam",
    "snap camera",
    "xsplit",
    "splitcam",
    "e2esoft",
    "camtwist",
    "fake_device",
    "fake video capture",
];

/// Writing-application markers of editing and transcoding tools in a container's bytes. A
/// browser's MediaRecorder writes `Chrome` or `Mozilla`; a phone camera writes its vendor.
const EDITING_TOOLS: [(&str, &[u8]); 9] = [
    ("ffmpeg (Lavf)", b"Lavf"),
    ("ffmpeg (Lavc)", b"Lavc"),
    ("HandBrake", b"HandBrake"),
    ("Adobe Premiere", b"Adobe Premiere"),
    ("DaVinci Resolve", b"DaVinci"),
    ("OBS Studio", b"OBS Studio"),
    ("CapCut", b"CapCut"),
    ("Kdenlive", b"Kdenlive"),
    ("Shotcut", b"Shotcut"),
];

/// A label that is a file (Chromium's `--use-file-for-fake-video-capture` names the camera
/// after the file it plays) or a known virtual camera.
pub fn virtual_camera(report: &CaptureReport) -> Option<Signal> {
    let label = report.camera_label.as_deref()?;
    let lower = label.to_lowercase();
    let file = lower.starts_with('/')
        || lower.contains(":\\")
        || [".y4m", ".mjpeg", ".mjpg", ".mp4", ".webm", ".avi", ".mov"].iter().any(|ext| lower.ends_with(ext));
    let matched =
        if file { Some("a video file") } else { VIRTUAL_CAMERAS.iter().find(|name| lower.contains(*name)).copied() };
    matched.map(|name| Signal {
        code: "virtual_camera",
        evidence: serde_json::json!({ "camera_label": label, "matched": name }),
    })
}

/// Frame timing too regular for a real sensor (jitter under 0.05 ms over 30+ frames), or
/// impossible (over 120 fps, or far from the rate the video itself holds).
pub fn frame_timing(report: &CaptureReport, video_fps: f64) -> Option<Signal> {
    let (Some(frames), Some(mean), Some(stddev)) = (report.frames, report.interval_mean_ms, report.interval_stddev_ms)
    else {
        return None;
    };
    let reported_fps = if mean > 0.0 { 1000.0 / mean } else { f64::INFINITY };
    let why = if frames >= 30 && stddev < 0.05 {
        Some("too_regular")
    } else if reported_fps > 120.0 {
        Some("impossible_rate")
    } else if video_fps > 0.0 && frames >= 30 && (reported_fps / video_fps > 2.5 || video_fps / reported_fps > 2.5) {
        Some("rate_differs_from_video")
    } else {
        None
    };
    why.map(|why| Signal {
        code: "frame_timing",
        evidence: serde_json::json!({
            "why": why, "frames": frames, "interval_mean_ms": mean, "interval_stddev_ms": stddev,
            "video_fps": video_fps,
        }),
    })
}

/// Looks for an editing or transcoding tool's name in the container's first and last 64 KiB
/// (where Matroska, WebM and MP4 keep their headers and metadata).
pub fn editing_metadata(bytes: &[u8]) -> Option<Signal> {
    const SPAN: usize = 64 * 1024;
    let head = bytes.get(..SPAN.min(bytes.len())).unwrap_or_default();
    let tail = bytes.get(bytes.len().saturating_sub(SPAN)..).unwrap_or_default();
    let found: Vec<&str> = EDITING_TOOLS
        .iter()
        .filter(|(_, marker)| [head, tail].iter().any(|part| part.windows(marker.len()).any(|w| w == *marker)))
        .map(|(name, _)| *name)
        .collect();
    (!found.is_empty())
        .then(|| Signal { code: "editing_tool_metadata", evidence: serde_json::json!({ "tools": found }) })
}

/// Perceptual fingerprint of a video: the difference hashes of up to 16 evenly spaced frames.
pub fn fingerprint(hashes: &[u64]) -> Vec<u64> {
    let n = hashes.len();
    if n <= 16 {
        return hashes.to_vec();
    }
    (0..16).filter_map(|i| hashes.get(i * (n - 1) / 15)).copied().collect()
}

/// The share of `ours` that has a near twin (Hamming distance ≤ 6 of 64 bits) in `theirs`.
pub fn near_duplicate_share(ours: &[u64], theirs: &[u64]) -> f32 {
    if ours.is_empty() {
        return 0.0;
    }
    let twins = ours.iter().filter(|a| theirs.iter().any(|b| (*a ^ b).count_ones() <= 6)).count();
    twins as f32 / ours.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_cameras_are_named_and_real_ones_are_not() {
        let report = |label: &str| CaptureReport { camera_label: Some(label.into()), ..Default::default() };
        assert_eq!(virtual_camera(&report("OBS Virtual Camera")).map(|s| s.code), Some("virtual_camera"));
        assert!(virtual_camera(&report("ManyCam Virtual Webcam")).is_some());
        assert!(virtual_camera(&report("Dummy video device (0x0000)")).is_some());
        assert!(virtual_camera(&report("/tmp/x/camera.y4m")).is_some());
        assert!(virtual_camera(&report("FaceTime HD Camera (Built-in)")).is_none());
        assert!(virtual_camera(&report("Integrated Camera: Integrated C")).is_none());
    }

    #[test]
    fn frame_timing_flags_machine_regular_and_impossible_rates() {
        let report = |stddev, mean| CaptureReport {
            frames: Some(90),
            interval_mean_ms: Some(mean),
            interval_stddev_ms: Some(stddev),
            ..Default::default()
        };
        assert!(frame_timing(&report(2.1, 33.4), 30.0).is_none());
        assert_eq!(frame_timing(&report(0.0, 33.333), 30.0).unwrap().evidence["why"], "too_regular");
        assert_eq!(frame_timing(&report(1.0, 4.0), 30.0).unwrap().evidence["why"], "impossible_rate");
        assert_eq!(frame_timing(&report(1.0, 33.0), 5.0).unwrap().evidence["why"], "rate_differs_from_video");
    }

    #[test]
    fn editing_tools_are_found_in_the_header() {
        let mut file = vec![0u8; 100_000];
        file.get_mut(40..44).unwrap().copy_from_slice(b"Lavf");
        assert!(editing_metadata(&file).is_some());
        assert!(editing_metadata(b"\x1aE\xdf\xa3 ... Chrome ... Chrome").is_none());
    }

    #[test]
    fn near_duplicates_survive_a_few_flipped_bits() {
        let ours = [0xffff_0000_ffff_0000u64, 0x0f0f_0f0f_0f0f_0f0f];
        let theirs = [0xffff_0000_ffff_0007u64, 0x1234_5678_9abc_def0];
        assert!((near_duplicate_share(&ours, &theirs) - 0.5).abs() < 1e-6);
        assert_eq!(fingerprint(&(0..100).collect::<Vec<u64>>()).len(), 16);
    }
}
