//! Opus at 48 kHz mono, 20 ms frames.

use audiopus::coder::{Decoder, Encoder};
use audiopus::{Application, Channels, SampleRate};

/// Samples in one 20 ms frame at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
pub const SAMPLE_RATE: u32 = 48_000;

#[derive(Debug, thiserror::Error)]
#[error("opus: {0}")]
pub struct OpusError(String);

pub struct OpusEncoder {
    inner: Encoder,
    buf: Vec<u8>,
}

impl OpusEncoder {
    pub fn new() -> Result<Self, OpusError> {
        let inner = Encoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)
            .map_err(|e| OpusError(e.to_string()))?;
        Ok(OpusEncoder {
            inner,
            buf: vec![0; 1500],
        })
    }

    /// Encode one 20 ms frame ([`FRAME_SAMPLES`] samples).
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, OpusError> {
        if pcm.len() != FRAME_SAMPLES {
            return Err(OpusError(format!(
                "a frame is {FRAME_SAMPLES} samples, got {}",
                pcm.len()
            )));
        }
        let n = self
            .inner
            .encode(pcm, &mut self.buf)
            .map_err(|e| OpusError(e.to_string()))?;
        Ok(self.buf[..n].to_vec())
    }
}

pub struct OpusDecoder {
    inner: Decoder,
    buf: Vec<i16>,
}

impl OpusDecoder {
    pub fn new() -> Result<Self, OpusError> {
        let inner = Decoder::new(SampleRate::Hz48000, Channels::Mono)
            .map_err(|e| OpusError(e.to_string()))?;
        Ok(OpusDecoder {
            inner,
            buf: vec![0; 5760],
        })
    }

    /// Decode one packet into mono samples.
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[i16], OpusError> {
        let n = self
            .inner
            .decode(Some(packet), &mut self.buf[..], false)
            .map_err(|e| OpusError(e.to_string()))?;
        Ok(&self.buf[..n])
    }
}
