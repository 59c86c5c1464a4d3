//! The synthetic test pattern: a moving picture whose top rows carry, in 16×16 black and
//! white blocks, who published it, a frame counter and the capture time. A receiver
//! reads them back after decoding to check identity, order and end-to-end latency.
//!
//! Layout (bits, most significant first, row-major, 16 px blocks from the top-left):
//! magic `0xA5` (8) · identity tag (16) · frame counter (32) · capture time in ms since
//! the Unix epoch, low 48 bits (48) · XOR checksum of the 13 bytes before it (8).

use super::super::codec::vp8::i420_len;

const BLOCK: usize = 16;
const MAGIC: u8 = 0xA5;
const PAYLOAD_BYTES: usize = 13;
const BITS: usize = (PAYLOAD_BYTES + 1) * 8;
const HIGH: u8 = 235;
const LOW: u8 = 16;

/// What a pattern frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternStamp {
    pub tag: u16,
    pub counter: u32,
    pub capture_ms: u64,
}

/// A 16-bit tag of an identity (FNV-1a folded), drawn into every frame.
pub fn identity_tag(identity: &str) -> u16 {
    let mut h: u32 = 0x811c_9dc5;
    for b in identity.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    ((h >> 16) ^ (h & 0xffff)) as u16
}

fn stamp_bytes(s: PatternStamp) -> [u8; PAYLOAD_BYTES + 1] {
    let mut b = [0u8; PAYLOAD_BYTES + 1];
    b[0] = MAGIC;
    b[1..3].copy_from_slice(&s.tag.to_be_bytes());
    b[3..7].copy_from_slice(&s.counter.to_be_bytes());
    b[7..13].copy_from_slice(&s.capture_ms.to_be_bytes()[2..8]);
    b[13] = b[..13].iter().fold(0, |a, x| a ^ x);
    b
}

/// Smallest frame that holds the stamp: 160×112 (10 blocks per row).
pub fn fits(width: u32, height: u32) -> bool {
    let per_row = width as usize / BLOCK;
    per_row > 0 && BITS.div_ceil(per_row) * BLOCK + BLOCK <= height as usize
}

/// Draws pattern frames of one size.
pub struct PatternGenerator {
    width: u32,
    height: u32,
    tag: u16,
    counter: u32,
}

impl PatternGenerator {
    pub fn new(width: u32, height: u32, identity: &str) -> Self {
        assert!(
            fits(width, height),
            "{width}x{height} is too small for the pattern"
        );
        PatternGenerator {
            width,
            height,
            tag: identity_tag(identity),
            counter: 0,
        }
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The next frame (I420) stamped with `capture_ms`, and its stamp.
    pub fn next_frame(&mut self, capture_ms: u64) -> (Vec<u8>, PatternStamp) {
        let stamp = PatternStamp {
            tag: self.tag,
            counter: self.counter,
            capture_ms: capture_ms & 0xffff_ffff_ffff,
        };
        self.counter = self.counter.wrapping_add(1);
        let (w, h) = (self.width as usize, self.height as usize);
        let mut frame = vec![128u8; i420_len(self.width, self.height)];
        let y = &mut frame[..w * h];
        // Background: a diagonal gradient with a bar sweeping across, so it moves.
        let bar = (stamp.counter as usize * 4) % w;
        for row in 0..h {
            for col in 0..w {
                let moving = col >= bar && col < bar + 12;
                y[row * w + col] = if moving {
                    200
                } else {
                    (((row + col) / 4) % 96 + 64) as u8
                };
            }
        }
        let per_row = w / BLOCK;
        for (i, bit) in bits(&stamp_bytes(stamp)).enumerate() {
            let (br, bc) = (i / per_row, i % per_row);
            let value = if bit { HIGH } else { LOW };
            for row in br * BLOCK..(br + 1) * BLOCK {
                y[row * w + bc * BLOCK..row * w + (bc + 1) * BLOCK].fill(value);
            }
        }
        (frame, stamp)
    }
}

fn bits(bytes: &[u8]) -> impl Iterator<Item = bool> + '_ {
    bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
}

/// Read the stamp from a decoded frame; `None` if it is not a valid pattern frame. A
/// frame scaled to half its size (a camera's small layer) has blocks of half the size,
/// and is read as well.
pub fn read_stamp(width: u32, height: u32, i420: &[u8]) -> Option<PatternStamp> {
    read_stamp_in(width, height, i420, BLOCK)
        .or_else(|| read_stamp_in(width, height, i420, BLOCK / 2))
}

fn read_stamp_in(width: u32, height: u32, i420: &[u8], block: usize) -> Option<PatternStamp> {
    let w = width as usize;
    let per_row = w / block;
    let fits = per_row > 0 && BITS.div_ceil(per_row) * block + block <= height as usize;
    if !fits || i420.len() < (width * height) as usize {
        return None;
    }
    let mut bytes = [0u8; PAYLOAD_BYTES + 1];
    // The block's centre half, away from edges that compression smears.
    let (from, to) = (block / 4, block - block / 4);
    let area = ((to - from) * (to - from)) as u32;
    for i in 0..BITS {
        let (br, bc) = (i / per_row, i % per_row);
        let mut sum = 0u32;
        for row in br * block + from..br * block + to {
            for col in bc * block + from..bc * block + to {
                sum += u32::from(i420[row * w + col]);
            }
        }
        if sum / area > 128 {
            bytes[i / 8] |= 1 << (7 - i % 8);
        }
    }
    let checksum = bytes[..PAYLOAD_BYTES].iter().fold(0, |a, x| a ^ x);
    if bytes[0] != MAGIC || bytes[PAYLOAD_BYTES] != checksum {
        return None;
    }
    let mut ms = [0u8; 8];
    ms[2..8].copy_from_slice(&bytes[7..13]);
    Some(PatternStamp {
        tag: u16::from_be_bytes([bytes[1], bytes[2]]),
        counter: u32::from_be_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]),
        capture_ms: u64::from_be_bytes(ms),
    })
}

/// Milliseconds between `capture_ms` (low 48 bits of a Unix time in ms) and `now_ms`.
pub fn latency_ms(capture_ms: u64, now_ms: u64) -> i64 {
    let now48 = now_ms & 0xffff_ffff_ffff;
    now48 as i64 - capture_ms as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::vp8::{Vp8Decoder, Vp8Encoder};

    #[test]
    fn stamp_survives_drawing() {
        let mut g = PatternGenerator::new(320, 240, "ada");
        let (f, s) = g.next_frame(1_795_000_000_123);
        assert_eq!(read_stamp(320, 240, &f), Some(s));
        let (f2, s2) = g.next_frame(1_795_000_000_190);
        assert_eq!(s2.counter, 1);
        assert_eq!(
            read_stamp(320, 240, &f2).unwrap().capture_ms,
            1_795_000_000_190
        );
        assert_ne!(identity_tag("ada"), identity_tag("bob"));
    }

    #[test]
    fn stamp_survives_vp8() {
        let (w, h) = (320, 240);
        let mut g = PatternGenerator::new(w, h, "bob");
        let mut enc = Vp8Encoder::new(w, h, 15, 250).unwrap();
        let mut dec = Vp8Decoder::new().unwrap();
        let mut read = 0;
        for i in 0..30u64 {
            let (frame, stamp) = g.next_frame(1_000 + i * 66);
            for e in enc.encode(&frame, false).unwrap() {
                for d in dec.decode(&e.data).unwrap() {
                    assert_eq!(read_stamp(d.width, d.height, &d.i420), Some(stamp));
                    read += 1;
                }
            }
        }
        assert_eq!(read, 30);
    }

    #[test]
    fn garbage_is_not_a_stamp() {
        assert_eq!(read_stamp(320, 240, &vec![128u8; i420_len(320, 240)]), None);
        assert_eq!(read_stamp(32, 32, &[0u8; 2000]), None);
    }
}
