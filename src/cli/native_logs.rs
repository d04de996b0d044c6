//! Keeping native libraries quiet, so a failed command prints exactly one line of ours.
//!
//! FFmpeg (inside OpenCV's video reader) writes container errors straight to stderr, and
//! OpenCV prints its own warnings. OpenCV reads `OPENCV_FFMPEG_LOGLEVEL` and
//! `OPENCV_LOG_LEVEL` from the environment when it first loads; changing our own environment
//! at run time needs `unsafe` (forbidden in this crate), so the process replaces itself once,
//! via `exec`, with both set. Variables the user set themselves are left as they are.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Re-executes the current program with the native log levels set. Returns only when they
/// are already set or when `exec` failed (then the program carries on, just noisier).
pub fn quieten() {
    if std::env::var_os("OPENCV_FFMPEG_LOGLEVEL").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut command = Command::new(exe);
    command.args(std::env::args_os().skip(1)).env("OPENCV_FFMPEG_LOGLEVEL", "-8");
    if std::env::var_os("OPENCV_LOG_LEVEL").is_none() {
        command.env("OPENCV_LOG_LEVEL", "ERROR");
    }
    let _exec_failed = command.exec();
}
