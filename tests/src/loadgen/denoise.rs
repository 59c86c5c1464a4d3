//! What noise suppression costs: RNNoise (`nnnoiseless`) over synthetic microphone audio
//! (a voice-like tone in a steady hiss), one stream on one thread, as the client runs it.

use std::time::{Duration, Instant};

use studyhall_client::source::denoise::Denoiser;

use super::relay::cpu_time;

/// The cost of suppressing noise in `audio` worth of one microphone.
#[derive(Debug, Clone, Copy)]
pub struct DenoiseCost {
    pub audio: Duration,
    /// CPU time of this process while processing (user + system).
    pub cpu: Duration,
    pub wall: Duration,
}

impl DenoiseCost {
    /// The CPU time (the wall time where /proc does not say: one thread did the work).
    fn spent(&self) -> Duration {
        if self.cpu.is_zero() {
            self.wall
        } else {
            self.cpu
        }
    }

    /// CPU per 10 ms frame, in µs.
    pub fn us_per_frame(&self) -> f64 {
        let frames = self.audio.as_secs_f64() * 100.0;
        self.spent().as_micros() as f64 / frames
    }

    /// Share of one core one microphone keeps busy.
    pub fn core_share(&self) -> f64 {
        self.spent().as_secs_f64() / self.audio.as_secs_f64()
    }

    pub fn markdown(&self) -> String {
        format!(
            "| RNNoise (nnnoiseless 0.5), 48 kHz mono | {:.0} s of audio | {:.1} µs per 10 ms frame | {:.2}% of one core per microphone |",
            self.audio.as_secs_f64(),
            self.us_per_frame(),
            self.core_share() * 100.0
        )
    }
}

/// Suppress noise in `audio` worth of synthetic microphone input, as fast as it goes.
pub fn measure(audio: Duration) -> DenoiseCost {
    let frames = (audio.as_secs_f64() * 50.0) as usize;
    let mut rng = 0x5eed_u64;
    let mut t = 0f64;
    let mut input: Vec<Vec<i16>> = Vec::with_capacity(frames.min(3000));
    // 60 s of input is made once and cycled, so making it is not measured.
    for _ in 0..frames.min(3000) {
        let frame = (0..960)
            .map(|_| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let hiss = ((rng >> 33) as i64 % 1600 - 800) as f64;
                // A 180 Hz voice-like tone, on for half of each second.
                let voice = if (t * 2.0).fract() < 0.5 {
                    6000.0 * (2.0 * std::f64::consts::PI * 180.0 * t).sin()
                } else {
                    0.0
                };
                t += 1.0 / 48_000.0;
                (hiss + voice) as i16
            })
            .collect();
        input.push(frame);
    }
    let mut denoiser = Denoiser::new();
    let pid = std::process::id();
    let cpu_from = cpu_time(pid);
    let started = Instant::now();
    let mut buf = vec![0i16; 960];
    for i in 0..frames {
        buf.copy_from_slice(&input[i % input.len()]);
        std::hint::black_box(denoiser.process(&mut buf));
    }
    let wall = started.elapsed();
    let cpu = match (cpu_from, cpu_time(pid)) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    DenoiseCost { audio, cpu, wall }
}
