//! Load generator: emulated participants with real ICE, DTLS and SRTP (str0m, sans-IO,
//! so one process carries many of them), publishing synthetic VP8 and Opus at realistic
//! rates and subscribing to everyone, against a real relay.
//!
//! Every frame's payload carries who sent it, a sequence number and the wall-clock send
//! time (µs), so a receiver measures loss and forwarding latency exactly. The relay
//! forwards whole frames without looking inside them (beyond the VP8 keyframe bit).

pub mod board;
pub mod chat;
pub mod constrained;
pub mod denoise;
pub mod encoders;
pub mod janus;
pub mod null;
pub mod participant;
pub mod relay;
pub mod report;
pub mod soak;

use std::time::Duration;

pub use participant::{ParticipantStats, Publish};
pub use report::{Report, Scenario};

/// Marks our payloads (after the codec's first bytes).
pub const MAGIC: &[u8; 4] = b"SHLG";

/// What a payload says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub publisher: u32,
    /// 0 camera, 1 microphone, 2 screen.
    pub track: u8,
    pub seq: u64,
    pub sent_us: u64,
}

/// Bytes of codec header before the stamp: a VP8 frame tag (with the start code and
/// size on keyframes), or an Opus TOC byte.
const VP8_KEY_HEADER: usize = 10;
const VP8_DELTA_HEADER: usize = 3;
const OPUS_HEADER: usize = 1;
const STAMP_LEN: usize = 4 + 4 + 1 + 8 + 8;

pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A synthetic VP8 frame of `size` bytes: a valid frame tag (keyframe or not, shown),
/// the stamp, zero padding.
pub fn vp8_frame(stamp: Stamp, keyframe: bool, size: usize) -> Vec<u8> {
    let header = if keyframe {
        VP8_KEY_HEADER
    } else {
        VP8_DELTA_HEADER
    };
    let size = size.max(header + STAMP_LEN);
    let mut out = Vec::with_capacity(size);
    // Frame tag: bit 0 = not a keyframe, bits 1-3 version 0, bit 4 show_frame, then the
    // first partition's size (we claim the rest of the frame).
    let first_part = (size - header) as u32;
    let tag = u32::from(!keyframe) | (1 << 4) | (first_part << 5);
    out.extend_from_slice(&tag.to_le_bytes()[..3]);
    if keyframe {
        out.extend_from_slice(&[0x9d, 0x01, 0x2a]);
        out.extend_from_slice(&640u16.to_le_bytes());
        out.extend_from_slice(&360u16.to_le_bytes());
    }
    put_stamp(&mut out, stamp);
    out.resize(size, 0);
    out
}

/// A synthetic Opus packet of `size` bytes.
pub fn opus_packet(stamp: Stamp, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size.max(OPUS_HEADER + STAMP_LEN));
    out.push(0x78); // TOC: SILK/CELT hybrid, 20 ms, one frame
    put_stamp(&mut out, stamp);
    out.resize(size.max(OPUS_HEADER + STAMP_LEN), 0);
    out
}

fn put_stamp(out: &mut Vec<u8>, s: Stamp) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&s.publisher.to_le_bytes());
    out.push(s.track);
    out.extend_from_slice(&s.seq.to_le_bytes());
    out.extend_from_slice(&s.sent_us.to_le_bytes());
}

/// Find the stamp in a received payload (after a VP8 or Opus header).
pub fn read_stamp(data: &[u8]) -> Option<Stamp> {
    for offset in [VP8_DELTA_HEADER, VP8_KEY_HEADER, OPUS_HEADER] {
        let Some(rest) = data.get(offset..offset + STAMP_LEN) else {
            continue;
        };
        if &rest[..4] != MAGIC {
            continue;
        }
        let u32_at = |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().unwrap());
        let u64_at = |i: usize| u64::from_le_bytes(rest[i..i + 8].try_into().unwrap());
        return Some(Stamp {
            publisher: u32_at(4),
            track: rest[8],
            seq: u64_at(9),
            sent_us: u64_at(17),
        });
    }
    None
}

/// Bytes per frame for a bitrate and a frame rate.
pub fn frame_bytes(kbps: u32, fps: u32) -> usize {
    (kbps as usize * 1000 / 8) / fps.max(1) as usize
}

/// Percentile (0..=1) of sorted values.
pub fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(i).copied()
}

/// Default pacing of synthetic media.
pub const VIDEO_FPS: u32 = 30;
pub const AUDIO_INTERVAL: Duration = Duration::from_millis(20);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_survive_both_payload_kinds() {
        let s = Stamp {
            publisher: 7,
            track: 0,
            seq: 42,
            sent_us: 123_456_789,
        };
        for key in [true, false] {
            let f = vp8_frame(s, key, 1600);
            assert_eq!(f.len(), 1600);
            assert_eq!(f[0] & 1 == 0, key, "VP8 keyframe bit");
            assert_eq!(read_stamp(&f), Some(s));
        }
        let a = Stamp { track: 1, ..s };
        let p = opus_packet(a, 80);
        assert_eq!(p.len(), 80);
        assert_eq!(read_stamp(&p), Some(a));
        assert_eq!(read_stamp(b"not ours at all, nothing to see"), None);
    }

    #[test]
    fn percentiles() {
        let v: Vec<u32> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), Some(501));
        assert_eq!(percentile(&v, 0.99), Some(990));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(frame_bytes(400, 30), 1666);
    }
}
