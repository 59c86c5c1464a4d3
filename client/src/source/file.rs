//! File sources: Y4M video (I420, "C420*") and WAV audio (16-bit PCM), both looping.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{AudioSource, SourceError, VideoSource};
use crate::codec::opus::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::codec::vp8::i420_len;

/// A Y4M file read frame by frame, starting over at the end.
pub struct Y4mSource {
    path: PathBuf,
    reader: BufReader<File>,
    width: u32,
    height: u32,
    fps: u32,
    data_start: u64,
}

fn bad(path: &Path, why: impl Into<String>) -> SourceError {
    SourceError::BadFile {
        path: path.to_path_buf(),
        reason: why.into(),
    }
}

impl Y4mSource {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let file = File::open(path).map_err(|e| bad(path, e.to_string()))?;
        let mut reader = BufReader::new(file);
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| bad(path, e.to_string()))?;
        let mut fields = header.split_whitespace();
        if fields.next() != Some("YUV4MPEG2") {
            return Err(bad(path, "not a Y4M file (no YUV4MPEG2 header)"));
        }
        let (mut width, mut height, mut fps) = (0u32, 0u32, 30u32);
        for f in fields {
            let (tag, value) = f.split_at(1);
            match tag {
                "W" => width = value.parse().unwrap_or(0),
                "H" => height = value.parse().unwrap_or(0),
                "F" => {
                    if let Some((n, d)) = value.split_once(':') {
                        let (n, d): (u32, u32) = (n.parse().unwrap_or(30), d.parse().unwrap_or(1));
                        fps = (n / d.max(1)).max(1);
                    }
                }
                "C" if !value.starts_with("420") => {
                    return Err(bad(path, format!("colour space C{value} is not 4:2:0")));
                }
                _ => {}
            }
        }
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(bad(
                path,
                format!("unsupported size {width}x{height} (must be even)"),
            ));
        }
        let data_start = reader
            .stream_position()
            .map_err(|e| bad(path, e.to_string()))?;
        Ok(Y4mSource {
            path: path.to_path_buf(),
            reader,
            width,
            height,
            fps,
            data_start,
        })
    }

    pub fn fps(&self) -> u32 {
        self.fps
    }

    fn read_frame(&mut self) -> Result<Option<Vec<u8>>, SourceError> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| bad(&self.path, e.to_string()))?;
        if n == 0 {
            return Ok(None);
        }
        if !line.starts_with("FRAME") {
            return Err(bad(&self.path, "expected a FRAME marker"));
        }
        let mut frame = vec![0u8; i420_len(self.width, self.height)];
        match self.reader.read_exact(&mut frame) {
            Ok(()) => Ok(Some(frame)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(bad(&self.path, e.to_string())),
        }
    }
}

impl VideoSource for Y4mSource {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    fn next_frame(&mut self, _capture_ms: u64) -> Result<Vec<u8>, SourceError> {
        if let Some(f) = self.read_frame()? {
            return Ok(f);
        }
        // Loop from the first frame.
        self.reader
            .seek(SeekFrom::Start(self.data_start))
            .map_err(|e| bad(&self.path, e.to_string()))?;
        self.read_frame()?
            .ok_or_else(|| bad(&self.path, "the file holds no complete frame"))
    }
}

/// A WAV file (16-bit PCM, any rate, mono or stereo), mixed to mono, resampled to
/// 48 kHz, looping.
pub struct WavSource {
    samples: Vec<i16>,
    pos: usize,
}

impl WavSource {
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| bad(path, e.to_string()))?;
        if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(bad(path, "not a WAV file (no RIFF/WAVE header)"));
        }
        let (mut channels, mut rate, mut bits, mut data) = (0u16, 0u32, 0u16, None);
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let len =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            let body = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
            match id {
                b"fmt " if body.len() >= 16 => {
                    let format = u16::from_le_bytes([body[0], body[1]]);
                    if format != 1 {
                        return Err(bad(path, format!("format {format} is not PCM")));
                    }
                    channels = u16::from_le_bytes([body[2], body[3]]);
                    rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
                    bits = u16::from_le_bytes([body[14], body[15]]);
                }
                b"data" => data = Some(body),
                _ => {}
            }
            at += 8 + len + (len % 2);
        }
        let data = data.ok_or_else(|| bad(path, "no data chunk"))?;
        if bits != 16 || !(1..=2).contains(&channels) || rate == 0 {
            return Err(bad(
                path,
                format!("{bits}-bit, {channels} channels, {rate} Hz: only 16-bit mono or stereo PCM is supported"),
            ));
        }
        let mono: Vec<f32> = data
            .chunks_exact(2 * channels as usize)
            .map(|frame| {
                let sum: i32 = frame
                    .chunks_exact(2)
                    .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])))
                    .sum();
                sum as f32 / f32::from(channels)
            })
            .collect();
        if mono.is_empty() {
            return Err(bad(path, "the data chunk holds no samples"));
        }
        // Linear resampling to 48 kHz.
        let ratio = rate as f64 / f64::from(SAMPLE_RATE);
        let out_len = ((mono.len() as f64) / ratio).floor().max(1.0) as usize;
        let samples = (0..out_len)
            .map(|i| {
                let x = i as f64 * ratio;
                let j = x.floor() as usize;
                let frac = (x - j as f64) as f32;
                let a = mono[j.min(mono.len() - 1)];
                let b = mono[(j + 1).min(mono.len() - 1)];
                (a + (b - a) * frac).round().clamp(-32768.0, 32767.0) as i16
            })
            .collect();
        Ok(WavSource { samples, pos: 0 })
    }
}

impl AudioSource for WavSource {
    fn next_frame(&mut self) -> Result<Vec<i16>, SourceError> {
        let mut out = Vec::with_capacity(FRAME_SAMPLES);
        while out.len() < FRAME_SAMPLES {
            let take = (FRAME_SAMPLES - out.len()).min(self.samples.len() - self.pos);
            out.extend_from_slice(&self.samples[self.pos..self.pos + take]);
            self.pos = (self.pos + take) % self.samples.len();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn y4m_frames_loop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.y4m");
        let mut f = File::create(&path).unwrap();
        writeln!(f, "YUV4MPEG2 W16 H8 F15:1 Ip A1:1 C420jpeg").unwrap();
        for v in [10u8, 20] {
            f.write_all(b"FRAME\n").unwrap();
            f.write_all(&vec![v; i420_len(16, 8)]).unwrap();
        }
        drop(f);
        let mut s = Y4mSource::open(&path).unwrap();
        assert_eq!((s.size(), s.fps()), ((16, 8), 15));
        let firsts: Vec<u8> = (0..5).map(|_| s.next_frame(0).unwrap()[0]).collect();
        assert_eq!(firsts, [10, 20, 10, 20, 10]);
    }

    #[test]
    fn wav_is_resampled_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let samples: Vec<i16> = (0..8000)
            .map(|i| if i % 2 == 0 { 1000 } else { -1000 })
            .collect();
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
        wav.extend_from_slice(&1u16.to_le_bytes()); // mono
        wav.extend_from_slice(&16_000u32.to_le_bytes());
        wav.extend_from_slice(&32_000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
        wav.extend_from_slice(&data);
        std::fs::write(&path, wav).unwrap();
        let mut s = WavSource::open(&path).unwrap();
        assert_eq!(
            s.samples.len(),
            24_000,
            "0.5 s at 16 kHz is 24000 samples at 48 kHz"
        );
        for _ in 0..40 {
            assert_eq!(s.next_frame().unwrap().len(), FRAME_SAMPLES);
        }
        std::fs::write(&path, b"RIFF0000WAVEjunk").unwrap();
        assert!(matches!(
            WavSource::open(&path),
            Err(SourceError::BadFile { .. })
        ));
    }
}
