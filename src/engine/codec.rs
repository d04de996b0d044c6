//! Which videos are decoded at all: VP8, VP9 and H.264 only (the codec read before any frame
//! is), and a pixel × frame budget.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::media::{MediaError, MediaFormat, MediaLimits};

/// The four characters of a FOURCC code as OpenCV reports it (a little-endian u32 in an f64).
fn fourcc_text(raw: f64) -> String {
    let code = if raw.is_finite() && raw >= 0.0 { raw as u32 } else { 0 };
    code.to_le_bytes().iter().map(|&b| if b.is_ascii_graphic() { char::from(b) } else { '?' }).collect()
}

/// VP8, VP9 and H.264 only: what browsers record and phones write. Any other codec in an
/// accepted container (MJPEG in AVI, MPEG-4 Part 2 in MP4, …) is refused before decoding.
fn codec_accepted(fourcc: &str) -> bool {
    matches!(fourcc.to_ascii_uppercase().as_str(), "VP80" | "VP08" | "VP90" | "VP09" | "H264" | "AVC1" | "X264")
}

/// Refuses a video whose codec is not VP8, VP9 or H.264. In Matroska/WebM the stream carries no
/// FOURCC (OpenCV reports 0 for VP8 and VP9), so the tracks' `CodecID`s are read from the file's
/// head; in MP4, MOV and AVI the FOURCC is the sample entry or handler. A Matroska head that
/// names no video codec is left to the decoder (it cannot decode it either).
pub(super) fn check_codec(path: &Path, format: MediaFormat, fourcc: f64) -> Result<(), MediaError> {
    if format == MediaFormat::Matroska {
        let mut head = Vec::with_capacity(MATROSKA_HEAD);
        File::open(path)
            .and_then(|f| f.take(MATROSKA_HEAD as u64).read_to_end(&mut head))
            .map_err(MediaError::Unreadable)?;
        return match super::media::matroska_video_codecs(&head).into_iter().find(|c| !matroska_codec_accepted(c)) {
            Some(codec) => Err(MediaError::UnsupportedCodec { fourcc: codec }),
            None => Ok(()),
        };
    }
    let fourcc = fourcc_text(fourcc);
    if codec_accepted(&fourcc) { Ok(()) } else { Err(MediaError::UnsupportedCodec { fourcc }) }
}

/// How much of a Matroska file is read for its track entries (they come before the clusters).
const MATROSKA_HEAD: usize = 256 << 10;

fn matroska_codec_accepted(codec: &str) -> bool {
    matches!(codec, "V_VP8" | "V_VP9" | "V_MPEG4/ISO/AVC")
}

/// Whether `frames` frames of `frame_pixels` pixels pass the budget.
pub(super) fn over_budget(frame_pixels: u64, frames: usize, limits: &MediaLimits) -> bool {
    frame_pixels.saturating_mul(frames as u64) > limits.max_video_pixel_frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_vp8_vp9_and_h264_are_accepted() {
        let code = |s: &[u8; 4]| f64::from(u32::from_le_bytes(*s));
        assert_eq!(fourcc_text(code(b"VP80")), "VP80");
        for ok in [b"VP80", b"VP90", b"H264", b"avc1", b"h264"] {
            assert!(codec_accepted(&fourcc_text(code(ok))), "{ok:?}");
        }
        for refused in [b"MJPG", b"FMP4", b"mp4v", b"XVID", b"hev1", b"AV01", b"\0\0\0\0"] {
            assert!(!codec_accepted(&fourcc_text(code(refused))), "{refused:?}");
        }
        assert!(!codec_accepted(&fourcc_text(f64::NAN)));
    }

    #[test]
    fn the_pixel_budget_counts_every_frame() {
        let limits = MediaLimits::default();
        assert!(!over_budget(1280 * 720, 1800, &limits));
        assert!(over_budget(1280 * 720, 1801, &limits));
        assert!(over_budget(3840 * 2160, 250, &limits));
        assert!(!over_budget(640 * 480, 1800, &limits));
    }
}
