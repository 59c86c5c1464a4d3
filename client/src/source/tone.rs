//! The synthetic tone: a sine whose frequency is derived from the publisher's identity, so
//! a receiver can tell whose audio it decoded.

use std::f32::consts::TAU;

use crate::codec::opus::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::source::pattern::identity_tag;

/// The tone frequency for an identity: 300–1060 Hz in 40 Hz steps.
pub fn tone_hz(identity: &str) -> f32 {
    300.0 + f32::from(identity_tag(identity) % 20) * 40.0
}

pub struct ToneGenerator {
    hz: f32,
    phase: f32,
}

impl ToneGenerator {
    pub fn new(identity: &str) -> Self {
        ToneGenerator {
            hz: tone_hz(identity),
            phase: 0.0,
        }
    }

    pub fn hz(&self) -> f32 {
        self.hz
    }

    /// The next 20 ms of audio.
    pub fn next_frame(&mut self) -> Vec<i16> {
        let step = TAU * self.hz / SAMPLE_RATE as f32;
        (0..FRAME_SAMPLES)
            .map(|_| {
                let v = (self.phase.sin() * 8000.0) as i16;
                self.phase = (self.phase + step) % TAU;
                v
            })
            .collect()
    }
}

/// Power of `hz` in `samples` relative to their total power (Goertzel), 0.0–1.0.
pub fn tone_share(samples: &[i16], hz: f32) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let k = 2.0 * (TAU * hz / SAMPLE_RATE as f32).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    let mut total = 0.0f32;
    for &x in samples {
        let x = f32::from(x);
        total += x * x;
        let s = x + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - k * s1 * s2;
    if total == 0.0 {
        return 0.0;
    }
    // A pure tone of N samples has Goertzel power N/2 × total energy.
    (power / (total * samples.len() as f32 / 2.0)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::opus::{OpusDecoder, OpusEncoder};

    #[test]
    fn tone_is_recognised_after_opus() {
        let mut g = ToneGenerator::new("ada");
        let mut enc = OpusEncoder::new().unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let mut decoded = Vec::new();
        for _ in 0..25 {
            let packet = enc.encode(&g.next_frame()).unwrap();
            decoded.extend_from_slice(dec.decode(&packet).unwrap());
        }
        let tail = &decoded[decoded.len() - 4800..];
        let own = tone_share(tail, g.hz());
        let other = tone_share(tail, g.hz() + 200.0);
        assert!(own > 0.5, "own tone share {own}");
        assert!(other < 0.1, "other tone share {other}");
    }
}
