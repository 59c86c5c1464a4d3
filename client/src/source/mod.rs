//! Media sources behind two traits, so the publisher does not care where frames come
//! from. Synthetic sources (a test pattern that carries who/when/which frame, and a
//! per-identity tone) work on any machine; file sources play Y4M and WAV files; device
//! sources capture a camera, a microphone or a screen.

pub mod denoise;
pub mod device;
pub mod file;
pub mod pattern;
pub mod tone;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot use {path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
    /// The requested capture device (or, with no name, any such device) is not there.
    #[error("{}", no_device_message(kind, requested.as_deref(), available))]
    NoDevice {
        kind: &'static str,
        requested: Option<String>,
        available: Vec<String>,
    },
    /// The device is there but capturing from it failed.
    #[error("{kind} capture failed: {reason}")]
    Device { kind: &'static str, reason: String },
}

fn no_device_message(kind: &str, requested: Option<&str>, available: &[String]) -> String {
    let what = match requested {
        Some(name) => format!("no {kind} named {name:?}"),
        None if available.is_empty() => return format!("no {kind} found on this machine"),
        None => format!("no default {kind}"),
    };
    if available.is_empty() {
        format!("{what}; no {kind} found on this machine")
    } else {
        format!("{what}; available: {}", available.join(", "))
    }
}

/// Produces I420 frames of a fixed size.
pub trait VideoSource: Send {
    fn size(&self) -> (u32, u32);
    /// The next frame; `capture_ms` is now, in ms since the Unix epoch.
    fn next_frame(&mut self, capture_ms: u64) -> Result<Vec<u8>, SourceError>;
}

/// Produces 20 ms frames of 48 kHz mono audio.
pub trait AudioSource: Send {
    fn next_frame(&mut self) -> Result<Vec<i16>, SourceError>;
}

impl VideoSource for pattern::PatternGenerator {
    fn size(&self) -> (u32, u32) {
        pattern::PatternGenerator::size(self)
    }

    fn next_frame(&mut self, capture_ms: u64) -> Result<Vec<u8>, SourceError> {
        Ok(pattern::PatternGenerator::next_frame(self, capture_ms).0)
    }
}

impl AudioSource for tone::ToneGenerator {
    fn next_frame(&mut self) -> Result<Vec<i16>, SourceError> {
        Ok(tone::ToneGenerator::next_frame(self))
    }
}

/// Where a video track's frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoInput {
    TestPattern,
    Y4m(PathBuf),
    /// A camera by index or name; `None` is the first one.
    Camera(Option<String>),
    /// A monitor by name; `None` is the primary one.
    Screen(Option<String>),
}

/// Where a microphone track's samples come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioInput {
    Tone,
    Wav(PathBuf),
    /// An input device by name; `None` is the default one.
    Microphone(Option<String>),
}
