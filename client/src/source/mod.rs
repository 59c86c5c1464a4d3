//! Media sources behind two traits, so the publisher does not care where frames come
//! from. Synthetic sources (a test pattern that carries who/when/which frame, and a
//! per-identity tone) work on any machine; file sources play Y4M and WAV files.

pub mod file;
pub mod pattern;
pub mod tone;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot use {path}: {reason}")]
    BadFile { path: PathBuf, reason: String },
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
}

/// Where a microphone track's samples come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioInput {
    Tone,
    Wav(PathBuf),
}
