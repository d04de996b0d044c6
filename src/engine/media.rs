//! What an uploaded file is, before any decoder touches it: format by magic bytes, size limits
//! from the header, and structural completeness (a truncated file is refused, not half-decoded).

use serde::{Deserialize, Serialize};

/// Input limits. Checked before decoding, so a 20000×20000 image never reaches the allocator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaLimits {
    pub max_image_bytes: u64,
    pub max_video_bytes: u64,
    /// Largest accepted image, in pixels (width × height).
    pub max_image_pixels: u64,
    /// Largest accepted video frame side, in pixels.
    pub max_video_side: u32,
    /// Longest accepted video, in decoded frames.
    pub max_video_frames: usize,
    /// Most pixels a whole video may decode to (frame width × height × frames): checked on the
    /// container's declarations before decoding, and again as frames are decoded.
    pub max_video_pixel_frames: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            max_image_bytes: 25 << 20,
            max_video_bytes: 100 << 20,
            max_image_pixels: 40_000_000,
            max_video_side: 3840,
            max_video_frames: 1800,
            // A minute of 720p at 30 frames a second (27 s of 1080p, 7 s of 4K).
            max_video_pixel_frames: 1280 * 720 * 1800,
        }
    }
}

/// Why a file cannot be used. `code()` is public API (CLI JSON, problem+json).
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("file not found or not readable")]
    Unreadable(#[source] std::io::Error),
    #[error("file is empty")]
    Empty,
    #[error("file is larger than the {limit}-byte limit")]
    TooManyBytes { limit: u64 },
    #[error("not a supported image or video format")]
    UnsupportedFormat,
    #[error("the file is truncated or structurally broken")]
    Truncated,
    #[error("the file's checksums do not hold (corrupted)")]
    Corrupt,
    #[error("the file could not be decoded")]
    Undecodable,
    #[error("image of {width}x{height} exceeds the {limit}-pixel limit")]
    ImageTooLarge { width: u64, height: u64, limit: u64 },
    #[error("video frame of {width}x{height} exceeds the {limit}-pixel side limit")]
    VideoTooLarge { width: u32, height: u32, limit: u32 },
    #[error("video is longer than {limit} frames")]
    VideoTooLong { limit: usize },
    #[error("video decodes to more than {limit} pixels (width × height × frames)")]
    VideoOverBudget { limit: u64 },
    #[error("video codec {fourcc} is not accepted (VP8, VP9 or H.264)")]
    UnsupportedCodec { fourcc: String },
    #[error("video has no decodable frame")]
    NoFrames,
    #[error("expected an image, got a video")]
    NotAnImage,
}

impl MediaError {
    /// The same error again (an input decoded once is reported by every stage that needed it).
    pub fn same(&self) -> Self {
        match self {
            Self::Unreadable(e) => Self::Unreadable(std::io::Error::new(e.kind(), e.to_string())),
            Self::Empty => Self::Empty,
            Self::TooManyBytes { limit } => Self::TooManyBytes { limit: *limit },
            Self::UnsupportedFormat => Self::UnsupportedFormat,
            Self::Truncated => Self::Truncated,
            Self::Corrupt => Self::Corrupt,
            Self::Undecodable => Self::Undecodable,
            Self::ImageTooLarge { width, height, limit } => {
                Self::ImageTooLarge { width: *width, height: *height, limit: *limit }
            }
            Self::VideoTooLarge { width, height, limit } => {
                Self::VideoTooLarge { width: *width, height: *height, limit: *limit }
            }
            Self::VideoTooLong { limit } => Self::VideoTooLong { limit: *limit },
            Self::VideoOverBudget { limit } => Self::VideoOverBudget { limit: *limit },
            Self::UnsupportedCodec { fourcc } => Self::UnsupportedCodec { fourcc: fourcc.clone() },
            Self::NoFrames => Self::NoFrames,
            Self::NotAnImage => Self::NotAnImage,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreadable(_) => "file_unreadable",
            Self::Empty => "empty_file",
            Self::TooManyBytes { .. } => "file_too_large",
            Self::UnsupportedFormat => "unsupported_format",
            Self::Truncated => "truncated_file",
            Self::Corrupt => "corrupt_file",
            Self::Undecodable => "undecodable",
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::VideoTooLarge { .. } => "video_too_large",
            Self::VideoTooLong { .. } => "video_too_long",
            Self::VideoOverBudget { .. } => "video_over_pixel_budget",
            Self::UnsupportedCodec { .. } => "unsupported_codec",
            Self::NoFrames => "no_frames",
            Self::NotAnImage => "not_an_image",
        }
    }
}

/// The video `CodecID`s (`V_…`) of a Matroska/WebM file's track entries, read from its first
/// bytes: each is the EBML element 0x86 with a one-byte size, holding printable ASCII.
pub fn matroska_video_codecs(head: &[u8]) -> Vec<String> {
    let mut codecs: Vec<String> = Vec::new();
    for (i, pair) in head.windows(2).enumerate() {
        let [0x86, size] = *pair else { continue };
        if size & 0x80 == 0 {
            continue;
        }
        let len = usize::from(size & 0x7F);
        let Some(value) = head.get(i + 2..i + 2 + len) else { continue };
        if len >= 3 && value.starts_with(b"V_") && value.iter().all(u8::is_ascii_graphic) {
            let codec = String::from_utf8_lossy(value).into_owned();
            if !codecs.contains(&codec) {
                codecs.push(codec);
            }
        }
    }
    codecs
}

/// Formats recognised by their leading bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaFormat {
    Jpeg,
    Png,
    Webp,
    Bmp,
    Pnm,
    /// WebM / Matroska (EBML).
    Matroska,
    /// MP4, MOV and other ISO-BMFF / QuickTime files.
    IsoBmff,
    Avi,
}

impl MediaFormat {
    pub fn is_video(self) -> bool {
        matches!(self, Self::Matroska | Self::IsoBmff | Self::Avi)
    }

    /// Identifies the format from the first bytes; `None` for anything else (text, GIF, ...).
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
        let quicktime_atoms: [&[u8]; 6] = [b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"];
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if at(0, b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            Some(Self::Webp)
        } else if at(0, b"RIFF") && at(8, b"AVI ") {
            Some(Self::Avi)
        } else if at(0, b"BM") && bytes.len() > 26 {
            Some(Self::Bmp)
        } else if bytes.len() > 2 && at(0, b"P") && matches!(bytes.get(1), Some(b'2' | b'3' | b'5' | b'6')) {
            Some(Self::Pnm)
        } else if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(Self::Matroska)
        } else if quicktime_atoms.iter().any(|atom| at(4, atom)) {
            Some(Self::IsoBmff)
        } else {
            None
        }
    }
}

/// Checks an image's declared dimensions against the limit, from its header alone.
pub fn check_image_header(bytes: &[u8], limits: &MediaLimits) -> Result<(), MediaError> {
    let size = imagesize::blob_size(bytes).map_err(|_| MediaError::Truncated)?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 {
        return Err(MediaError::Undecodable);
    }
    if width.saturating_mul(height) > limits.max_image_pixels {
        return Err(MediaError::ImageTooLarge { width, height, limit: limits.max_image_pixels });
    }
    Ok(())
}

/// Checks that the container's own structure says the file is whole (and, for PNG, that
/// every chunk's CRC holds), so that a decoder never sees a cut or corrupted stream.
pub fn check_structure(format: MediaFormat, bytes: &[u8]) -> Result<(), MediaError> {
    let complete = match format {
        MediaFormat::Jpeg => jpeg_is_complete(bytes),
        MediaFormat::Png => return png_structure(bytes),
        MediaFormat::Webp => riff_is_complete(bytes),
        // Other formats are checked by their decoder (and videos by their frame count).
        _ => true,
    };
    if complete { Ok(()) } else { Err(MediaError::Truncated) }
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    bytes.get(at..at + 2).and_then(|b| b.try_into().ok()).map(|b| usize::from(u16::from_be_bytes(b)))
}

/// Walks the JPEG marker segments (ITU T.81 B.1) to an EOI marker; embedded EXIF
/// thumbnails are skipped as part of their APP1 segment.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut pos = 2;
    loop {
        let (Some(&0xFF), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else { return false };
        match marker {
            0xD9 => return true,
            0xFF => pos += 1, // fill byte
            0xD0..=0xD7 | 0x01 => pos += 2,
            0xDA => {
                let Some(len) = be16(bytes, pos + 2) else { return false };
                pos += 2 + len;
                // Entropy-coded data runs to the next marker that is neither stuffing nor RST.
                loop {
                    match (bytes.get(pos), bytes.get(pos + 1)) {
                        (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => pos += 2,
                        (Some(0xFF), Some(0xFF)) => pos += 1,
                        (Some(0xFF), Some(_)) => break,
                        (Some(_), _) => pos += 1,
                        (None, _) => return false,
                    }
                }
            }
            _ => {
                let Some(len) = be16(bytes, pos + 2) else { return false };
                pos += 2 + len;
            }
        }
    }
}

/// Walks the PNG chunks to IEND, checking each chunk's CRC-32 (PNG spec 5.3).
fn png_structure(bytes: &[u8]) -> Result<(), MediaError> {
    let be32 = |at: usize| bytes.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    let mut pos = 8;
    while let Some(len) = be32(pos) {
        let data_end = pos.saturating_add(8).saturating_add(len as usize);
        let (Some(typed), Some(crc)) = (bytes.get(pos + 4..data_end), be32(data_end)) else {
            return Err(MediaError::Truncated);
        };
        if crc32fast::hash(typed) != crc {
            return Err(MediaError::Corrupt);
        }
        if typed.starts_with(b"IEND") {
            return Ok(());
        }
        pos = data_end + 4;
    }
    Err(MediaError::Truncated)
}

fn riff_is_complete(bytes: &[u8]) -> bool {
    bytes
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .is_some_and(|size| bytes.len() >= size.saturating_add(8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_is_not_media() {
        assert_eq!(MediaFormat::sniff(b"hello, this is not a photo"), None);
        assert_eq!(MediaFormat::sniff(b""), None);
        assert_eq!(MediaFormat::sniff(b"GIF89a......"), None);
    }

    #[test]
    fn known_magics_are_recognised() {
        assert_eq!(MediaFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(MediaFormat::Jpeg));
        assert_eq!(MediaFormat::sniff(b"\x1a\x45\xdf\xa3rest"), Some(MediaFormat::Matroska));
        assert_eq!(MediaFormat::sniff(b"\0\0\0\x20ftypisom"), Some(MediaFormat::IsoBmff));
        assert_eq!(MediaFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaFormat::Webp));
    }

    #[test]
    fn a_minimal_png_is_whole_only_with_iend_and_its_crc() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend([0, 0, 0, 0]);
        png.extend(b"IEND");
        png.extend([0xAE, 0x42, 0x60, 0x82]);
        assert!(check_structure(MediaFormat::Png, &png).is_ok());
        let cut = png.get(..png.len() - 1).unwrap();
        assert_eq!(check_structure(MediaFormat::Png, cut).unwrap_err().code(), "truncated_file");
        *png.last_mut().unwrap() ^= 1;
        assert_eq!(check_structure(MediaFormat::Png, &png).unwrap_err().code(), "corrupt_file");
    }

    proptest! {
        #[test]
        fn walkers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let mut jpeg = vec![0xFF, 0xD8];
            jpeg.extend(&bytes);
            let _ = check_structure(MediaFormat::Jpeg, &jpeg);
            let _ = check_structure(MediaFormat::Png, &bytes);
            let _ = check_structure(MediaFormat::Webp, &bytes);
            let _ = MediaFormat::sniff(&bytes);
        }
    }
}
