//! Noise suppression on the microphone: RNNoise, through `nnnoiseless` (a Rust port of
//! Xiph's library: a small recurrent network that estimates, 100 times a second, how
//! much of each frequency band is speech, and turns the rest down). It runs on the
//! captured 48 kHz audio before it is encoded, and can be switched while running.
//!
//! Only real microphones go through it: the synthetic tone and WAV files are what tests
//! measure, and a steady tone is exactly what RNNoise removes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nnnoiseless::DenoiseState;

use super::{AudioSource, SourceError};

/// Whether noise suppression is on: shared by everything that captures the microphone
/// (the device check, the room's media, a media session started after a reconnect), so
/// one switch reaches all of them. On by default.
#[derive(Clone)]
pub struct NoiseSuppression(Arc<AtomicBool>);

impl NoiseSuppression {
    pub fn new(on: bool) -> NoiseSuppression {
        NoiseSuppression(Arc::new(AtomicBool::new(on)))
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }
}

impl Default for NoiseSuppression {
    fn default() -> Self {
        NoiseSuppression::new(true)
    }
}

impl std::fmt::Debug for NoiseSuppression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoiseSuppression({})", self.is_on())
    }
}

/// RNNoise over 48 kHz mono audio in any whole number of its 10 ms frames.
pub struct Denoiser {
    state: Box<DenoiseState<'static>>,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl Default for Denoiser {
    fn default() -> Self {
        Denoiser::new()
    }
}

impl Denoiser {
    /// Samples RNNoise works on at a time (10 ms).
    pub const FRAME: usize = DenoiseState::FRAME_SIZE;

    pub fn new() -> Denoiser {
        Denoiser {
            state: DenoiseState::new(),
            input: vec![0.0; Self::FRAME],
            output: vec![0.0; Self::FRAME],
        }
    }

    /// Suppress the noise in `pcm` in place; returns the probability (0..1) that the
    /// last 10 ms held a voice. A tail shorter than a frame is left as it is.
    pub fn process(&mut self, pcm: &mut [i16]) -> f32 {
        let mut voice = 0.0;
        for chunk in pcm.chunks_exact_mut(Self::FRAME) {
            for (x, s) in self.input.iter_mut().zip(chunk.iter()) {
                *x = f32::from(*s);
            }
            voice = self.state.process_frame(&mut self.output, &self.input);
            for (s, y) in chunk.iter_mut().zip(&self.output) {
                *s = y.round().clamp(-32768.0, 32767.0) as i16;
            }
        }
        voice
    }
}

/// A microphone whose audio goes through [`Denoiser`] while `switch` is on.
pub struct Denoised {
    inner: Box<dyn AudioSource>,
    switch: NoiseSuppression,
    /// Started afresh each time suppression is turned on: the network's memory of the
    /// audio before it was off would be stale.
    denoiser: Option<Denoiser>,
}

impl Denoised {
    pub fn new(inner: Box<dyn AudioSource>, switch: NoiseSuppression) -> Denoised {
        Denoised {
            inner,
            switch,
            denoiser: None,
        }
    }
}

impl AudioSource for Denoised {
    fn next_frame(&mut self) -> Result<Vec<i16>, SourceError> {
        let mut pcm = self.inner.next_frame()?;
        if self.switch.is_on() {
            self.denoiser
                .get_or_insert_with(Denoiser::new)
                .process(&mut pcm);
        } else {
            self.denoiser = None;
        }
        Ok(pcm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic white noise at about -30 dBFS.
    struct Hiss(u64);

    impl AudioSource for Hiss {
        fn next_frame(&mut self) -> Result<Vec<i16>, SourceError> {
            Ok((0..960)
                .map(|_| {
                    self.0 = self
                        .0
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((self.0 >> 33) as i64 % 2000 - 1000) as i16
                })
                .collect())
        }
    }

    fn rms(frames: &[Vec<i16>]) -> f64 {
        let (sum, n) = frames.iter().flatten().fold((0.0, 0usize), |(s, n), &x| {
            (s + f64::from(x) * f64::from(x), n + 1)
        });
        (sum / n as f64).sqrt()
    }

    #[test]
    fn steady_hiss_is_turned_down_while_on_and_passes_while_off() {
        let switch = NoiseSuppression::default();
        let mut mic = Denoised::new(Box::new(Hiss(7)), switch.clone());
        let mut run =
            |n: usize| -> Vec<Vec<i16>> { (0..n).map(|_| mic.next_frame().unwrap()).collect() };
        let original = rms(&(0..50)
            .map(|_| Hiss(7).next_frame().unwrap())
            .collect::<Vec<_>>());
        // Half a second to settle, then a second measured.
        run(25);
        let on = rms(&run(50));
        assert!(
            on < original / 10.0,
            "noise at {on:.0} RMS with suppression, {original:.0} without (want 20 dB less)"
        );
        switch.set(false);
        let off = rms(&run(50));
        assert!(
            (off - original).abs() < original * 0.1,
            "{off:.0} RMS with suppression off, {original:.0} from the source"
        );
    }

    #[test]
    fn a_tail_shorter_than_a_frame_is_left_alone() {
        let mut d = Denoiser::new();
        let mut pcm = vec![1000i16; Denoiser::FRAME + 10];
        d.process(&mut pcm);
        assert!(pcm[Denoiser::FRAME..].iter().all(|&s| s == 1000));
    }
}
