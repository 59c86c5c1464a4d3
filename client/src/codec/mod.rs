//! Codecs: VP8 (libvpx) and Opus (libopus).

pub mod opus;
pub mod scale;
pub mod vp8;
pub mod worker;
