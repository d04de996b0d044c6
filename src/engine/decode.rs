//! Decoding with OpenCV: images (JPEG, PNG, WebP, BMP, PNM; EXIF orientation applied) and
//! videos (WebM VP8/VP9, MP4 H.264, MOV, AVI through FFmpeg).
//!
//! Frame sampling rule: every frame of a video is decoded (so a truncated stream is noticed),
//! but only `sample` frames, spread evenly over the whole clip, are converted to BGR and kept
//! for analysis; the first frame is always one of them.
//! - When the container declares its frame count n, the frames at round(i·(n−1)/(sample−1))
//!   are picked up front and handed on as soon as they are decoded, so analysis overlaps
//!   decoding (see `VideoStream`).
//! - When it does not (browser WebM has no duration), frames are kept at a stride that
//!   doubles whenever `2 × sample` are held, then thinned to `sample` evenly spaced frames
//!   and handed on at the end.
//!
//! `Sampling::Every` hands on every frame as it is decoded (liveness chooses by timestamp
//! which frames it measures; a short channel bounds the frames held at once).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opencv::core::{Mat, Vector};
use opencv::prelude::*;
use opencv::{imgcodecs, videoio};

use super::media::{MediaError, MediaFormat, MediaLimits, check_image_header, check_structure};

/// One decoded video frame, BGR 8-bit.
pub struct VideoFrame {
    /// Position in the stream, from 0.
    pub index: usize,
    pub timestamp_ms: f64,
    pub bgr: Mat,
}

/// What a whole video decode found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoSummary {
    pub format: MediaFormat,
    /// Frames decoded in the whole clip.
    pub decoded: usize,
    pub fps: f64,
    pub width: u32,
    pub height: u32,
    /// Time the decoder thread was busy.
    pub busy: Duration,
}

/// A video being decoded on its own thread: sampled frames arrive on `frames()` (in stream
/// order) while the caller analyses them; `finish()` gives the summary or the media error.
pub struct VideoStream {
    frames: Receiver<VideoFrame>,
    info: Receiver<VideoInfo>,
    decoder: JoinHandle<Result<VideoSummary, MediaError>>,
}

impl VideoStream {
    /// The container's declarations, once it is open (`None` when it could not be opened:
    /// `finish` then says why). Ask once: they are sent once.
    pub fn info(&self) -> Option<VideoInfo> {
        self.info.recv().ok()
    }

    /// Sampled frames as they are decoded; ends when the decoder stops.
    pub fn frames(&self) -> impl Iterator<Item = VideoFrame> + '_ {
        self.frames.iter()
    }

    /// Waits for the decoder (draining frames nobody read) and returns its verdict.
    pub fn finish(self) -> Result<VideoSummary, MediaError> {
        self.frames.iter().for_each(drop);
        self.decoder.join().unwrap_or(Err(MediaError::Undecodable))
    }
}

/// Which frames of a video are handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// At most this many, spread evenly over the clip (see the module doc).
    Spread(usize),
    /// Every decoded frame, in stream order, as soon as it is decoded.
    Every,
}

/// Frames decoded ahead of the reader with `Sampling::Every` (each 720p frame is 2.7 MB).
const EVERY_AHEAD: usize = 3;

/// What the container says of a video before its frames are decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    /// The frame count it declares, when it declares a plausible one.
    pub declared_frames: Option<usize>,
    pub fps: f64,
}

/// An opened input: a decoded still image or a video being decoded.
pub enum Media {
    Image { format: MediaFormat, bgr: Mat },
    Video(VideoStream),
}

fn open(path: &Path) -> Result<(File, u64), MediaError> {
    let file = File::open(path).map_err(MediaError::Unreadable)?;
    let len = file.metadata().map_err(MediaError::Unreadable)?.len();
    if len == 0 {
        return Err(MediaError::Empty);
    }
    Ok((file, len))
}

fn read_all(file: File, len: u64, limit: u64) -> Result<Vec<u8>, MediaError> {
    if len > limit {
        return Err(MediaError::TooManyBytes { limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or_default());
    file.take(limit + 1).read_to_end(&mut bytes).map_err(MediaError::Unreadable)?;
    Ok(bytes)
}

/// Opens `path` as an image (decoded now) or a video (decoding starts on its own thread),
/// whichever its content is.
pub fn load(path: &Path, limits: &MediaLimits, sampling: Sampling) -> Result<Media, MediaError> {
    let (mut file, len) = open(path)?;
    let mut head = [0u8; 32];
    let got = file.read(&mut head).map_err(MediaError::Unreadable)?;
    let format = MediaFormat::sniff(head.get(..got).unwrap_or_default()).ok_or(MediaError::UnsupportedFormat)?;
    if format.is_video() {
        if len > limits.max_video_bytes {
            return Err(MediaError::TooManyBytes { limit: limits.max_video_bytes });
        }
        return stream_video(path, format, *limits, sampling).map(Media::Video);
    }
    let (file, len) = open(path)?;
    let bytes = read_all(file, len, limits.max_image_bytes)?;
    decode_image(&bytes, limits).map(|(format, bgr)| Media::Image { format, bgr })
}

/// Reads the image file at `path` (at most the image byte limit), not yet decoded.
pub fn read_image_file(path: &Path, limits: &MediaLimits) -> Result<Vec<u8>, MediaError> {
    let (file, len) = open(path)?;
    read_all(file, len, limits.max_image_bytes)
}

/// Reads and decodes `path`, which must be an image.
pub fn load_image(path: &Path, limits: &MediaLimits) -> Result<Mat, MediaError> {
    decode_image(&read_image_file(path, limits)?, limits).map(|(_, bgr)| bgr)
}

/// Decodes image bytes to BGR, checking format, header dimensions and completeness first.
pub fn decode_image(bytes: &[u8], limits: &MediaLimits) -> Result<(MediaFormat, Mat), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    let format = MediaFormat::sniff(bytes).ok_or(MediaError::UnsupportedFormat)?;
    if format.is_video() {
        return Err(MediaError::NotAnImage);
    }
    check_image_header(bytes, limits)?;
    check_structure(format, bytes)?;
    // IMREAD_COLOR: always 3-channel BGR, and EXIF orientation is applied by OpenCV.
    let buf = Vector::<u8>::from_slice(bytes);
    let bgr = imgcodecs::imdecode(&buf, imgcodecs::IMREAD_COLOR).map_err(|_| MediaError::Undecodable)?;
    if bgr.empty() || bgr.cols() <= 0 || bgr.rows() <= 0 {
        return Err(MediaError::Undecodable);
    }
    Ok((format, bgr))
}

/// Keeps frames at a doubling stride so that at most `2 × sample` are held at once.
struct Sampler {
    sample: usize,
    stride: usize,
    kept: Vec<VideoFrame>,
}

impl Sampler {
    fn new(sample: usize) -> Self {
        Self { sample: sample.max(1), stride: 1, kept: Vec::new() }
    }

    fn wants(&self, index: usize) -> bool {
        index.is_multiple_of(self.stride)
    }

    fn keep(&mut self, frame: VideoFrame) {
        self.kept.push(frame);
        if self.kept.len() >= 2 * self.sample {
            self.stride *= 2;
            let stride = self.stride;
            self.kept.retain(|f| f.index % stride == 0);
        }
    }

    /// `sample` frames evenly spaced over what was kept (all of them if fewer).
    fn finish(self) -> Vec<VideoFrame> {
        let (n, want) = (self.kept.len(), self.sample);
        if n <= want {
            return self.kept;
        }
        let picks: Vec<usize> = (0..want).map(|i| i * (n - 1) / (want - 1).max(1)).collect();
        self.kept.into_iter().enumerate().filter(|(i, _)| picks.contains(i)).map(|(_, f)| f).collect()
    }
}

fn stream_video(
    path: &Path,
    format: MediaFormat,
    limits: MediaLimits,
    sampling: Sampling,
) -> Result<VideoStream, MediaError> {
    let ahead = match sampling {
        Sampling::Spread(sample) => sample.max(1),
        Sampling::Every => EVERY_AHEAD,
    };
    let (sender, frames) = sync_channel(ahead);
    let (info_sender, info) = sync_channel(1);
    let path: PathBuf = path.to_path_buf();
    let decoder = std::thread::Builder::new()
        .name("video-decode".into())
        .spawn(move || decode_video(&path, format, &limits, sampling, &info_sender, &sender))
        .map_err(MediaError::Unreadable)?;
    Ok(VideoStream { frames, info, decoder })
}

/// Whether `decoded` frames, the last at `last_ms`, fall short of `declared` frames at `fps`.
fn truncated(declared: usize, fps: f64, decoded: usize, last_ms: f64) -> bool {
    let few = (decoded as f64) < declared as f64 * 0.9 - 1.0;
    if !(fps > 0.0 && fps.is_finite()) {
        return few;
    }
    let length_ms = declared as f64 * 1000.0 / fps;
    few && last_ms < length_ms * 0.9 - 2000.0 / fps
}

/// The frame indices to keep when the clip's length is known.
fn planned_indices(declared: usize, sample: usize) -> Vec<usize> {
    let sample = sample.max(1).min(declared);
    (0..sample).map(|i| if sample == 1 { 0 } else { (i * (declared - 1) + (sample - 1) / 2) / (sample - 1) }).collect()
}

fn decode_video(
    path: &Path,
    format: MediaFormat,
    limits: &MediaLimits,
    sampling: Sampling,
    info: &SyncSender<VideoInfo>,
    sink: &SyncSender<VideoFrame>,
) -> Result<VideoSummary, MediaError> {
    let started = Instant::now();
    let mut capture =
        videoio::VideoCapture::from_file(path.as_os_str(), videoio::CAP_FFMPEG).map_err(|_| MediaError::Undecodable)?;
    if !capture.is_opened().unwrap_or(false) {
        return Err(MediaError::Undecodable);
    }
    let prop = |c: &videoio::VideoCapture, id| c.get(id).unwrap_or(0.0);
    let (width, height) =
        (prop(&capture, videoio::CAP_PROP_FRAME_WIDTH), prop(&capture, videoio::CAP_PROP_FRAME_HEIGHT));
    let limit = f64::from(limits.max_video_side);
    if width > limit || height > limit {
        return Err(MediaError::VideoTooLarge {
            width: width as u32,
            height: height as u32,
            limit: limits.max_video_side,
        });
    }
    super::codec::check_codec(path, format, prop(&capture, videoio::CAP_PROP_FOURCC))?;
    let frame_pixels = (width.max(0.0) as u64).saturating_mul(height.max(0.0) as u64).max(1);
    let fps = prop(&capture, videoio::CAP_PROP_FPS);
    let declared = prop(&capture, videoio::CAP_PROP_FRAME_COUNT);
    let declared = (declared.is_finite() && declared >= 1.0 && declared <= limits.max_video_frames as f64)
        .then_some(declared as usize);
    if declared.is_some_and(|n| super::codec::over_budget(frame_pixels, n, limits)) {
        return Err(MediaError::VideoOverBudget { limit: limits.max_video_pixel_frames });
    }
    let _ = info.send(VideoInfo { declared_frames: declared, fps });

    let (sample, every) = match sampling {
        Sampling::Spread(sample) => (sample, false),
        Sampling::Every => (usize::MAX, true),
    };
    let mut plan =
        declared.filter(|_| !every).map(|n| planned_indices(n, sample)).unwrap_or_default().into_iter().peekable();
    let mut sampler = Sampler::new(sample);
    let (mut decoded, mut sent) = (0usize, 0usize);
    let mut last_ms = 0.0f64;
    // Frames go to the reader at once (every frame, or a plan known up front) or are held by the sampler.
    let direct = every || declared.is_some();
    while capture.grab().unwrap_or(false) {
        if decoded >= limits.max_video_frames {
            return Err(MediaError::VideoTooLong { limit: limits.max_video_frames });
        }
        if super::codec::over_budget(frame_pixels, decoded + 1, limits) {
            return Err(MediaError::VideoOverBudget { limit: limits.max_video_pixel_frames });
        }
        let wanted = if every {
            true
        } else if declared.is_some() {
            plan.peek() == Some(&decoded)
        } else {
            sampler.wants(decoded)
        };
        last_ms = last_ms.max(prop(&capture, videoio::CAP_PROP_POS_MSEC));
        if wanted {
            let mut bgr = Mat::default();
            if capture.retrieve(&mut bgr, 0).unwrap_or(false) && !bgr.empty() {
                let frame =
                    VideoFrame { index: decoded, timestamp_ms: prop(&capture, videoio::CAP_PROP_POS_MSEC), bgr };
                if direct {
                    plan.next();
                    sent += 1;
                    if sink.send(frame).is_err() {
                        // Nobody listens any more (the caller failed elsewhere): stop.
                        return Err(MediaError::Undecodable);
                    }
                } else {
                    sampler.keep(frame);
                }
            }
        }
        decoded += 1;
    }
    if decoded == 0 {
        return Err(MediaError::NoFrames);
    }
    // A container that promises more frames than the stream holds, and whose frames stop
    // well before the time it declares, was cut short. (Fewer frames that reach the end are
    // a variable-rate clip from a camera that dropped frames.)
    if declared.is_some_and(|n| truncated(n, fps, decoded, last_ms)) {
        return Err(MediaError::Truncated);
    }
    for frame in sampler.finish() {
        sent += 1;
        let _ = sink.send(frame);
    }
    if sent == 0 {
        return Err(MediaError::NoFrames);
    }
    Ok(VideoSummary { format, decoded, fps, width: width as u32, height: height as u32, busy: started.elapsed() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(index: usize) -> VideoFrame {
        VideoFrame { index, timestamp_ms: 0.0, bgr: Mat::default() }
    }

    fn sampled(total: usize, sample: usize) -> Vec<usize> {
        let mut s = Sampler::new(sample);
        for i in 0..total {
            if s.wants(i) {
                s.keep(frame(i));
            }
        }
        s.finish().iter().map(|f| f.index).collect()
    }

    #[test]
    fn short_clips_keep_every_frame() {
        assert_eq!(sampled(5, 10), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn long_clips_are_sampled_evenly_from_start_to_near_end() {
        let picks = sampled(150, 10);
        assert_eq!(picks.len(), 10);
        assert_eq!(picks.first(), Some(&0));
        assert!(*picks.last().unwrap() >= 120, "{picks:?}");
        let gaps: Vec<usize> = picks.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().max().unwrap() <= &(2 * gaps.iter().min().unwrap()), "{gaps:?}");
    }

    #[test]
    fn planned_indices_span_the_clip_evenly() {
        assert_eq!(planned_indices(150, 8), vec![0, 21, 43, 64, 85, 106, 128, 149]);
        assert_eq!(planned_indices(3, 8), vec![0, 1, 2]);
        assert_eq!(planned_indices(10, 1), vec![0]);
    }

    #[test]
    fn a_clip_that_dropped_frames_is_not_a_truncated_one() {
        // 120 frames declared at 30 fps (4 s): half of them reaching 3.97 s dropped frames;
        // half of them ending at 2 s were cut.
        assert!(!truncated(120, 30.0, 60, 3970.0));
        assert!(truncated(120, 30.0, 60, 1990.0));
        assert!(!truncated(120, 30.0, 118, 1990.0));
    }

    #[test]
    fn text_bytes_are_an_unsupported_format() {
        let err = decode_image(b"just some text renamed to .jpg", &MediaLimits::default()).unwrap_err();
        assert_eq!(err.code(), "unsupported_format");
    }
}
