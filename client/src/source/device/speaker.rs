//! Speakers, through cpal: remote participants' audio, mixed and played.
//!
//! Each participant's 20 ms frames (48 kHz mono) go into their own short queue; the
//! output callback mixes every queue that has started playing. A queue starts once it
//! holds [`PREBUFFER`] samples (so network jitter does not crackle), stops when it runs
//! dry, and never grows past [`MAX_QUEUED`] (oldest samples dropped), so latency stays
//! bounded.

use std::collections::HashMap;

use super::microphone::{capture_host, device_label, pick_device};
use super::*;

/// Samples a participant's queue fills before it plays (40 ms).
const PREBUFFER: usize = SAMPLE_RATE as usize / 25;
/// Most samples queued per participant (200 ms).
const MAX_QUEUED: usize = SAMPLE_RATE as usize / 5;

#[derive(Default)]
struct Queue {
    samples: VecDeque<i16>,
    playing: bool,
}

#[derive(Default)]
struct Mixer {
    queues: HashMap<String, Queue>,
}

impl Mixer {
    fn push(&mut self, identity: &str, pcm: &[i16]) {
        let queue = self.queues.entry(identity.to_string()).or_default();
        queue.samples.extend(pcm.iter().copied());
        let excess = queue.samples.len().saturating_sub(MAX_QUEUED);
        queue.samples.drain(..excess);
        if queue.samples.len() >= PREBUFFER {
            queue.playing = true;
        }
    }

    /// The next mixed 48 kHz sample.
    fn next(&mut self) -> f32 {
        let mut sum = 0i32;
        for queue in self.queues.values_mut() {
            if !queue.playing {
                continue;
            }
            match queue.samples.pop_front() {
                Some(s) => sum += i32::from(s),
                None => queue.playing = false,
            }
        }
        (sum as f32 / 32768.0).clamp(-1.0, 1.0)
    }
}

/// Fills a device buffer of any rate and channel count from the 48 kHz mixer.
struct Output {
    mixer: Arc<Mutex<Mixer>>,
    channels: usize,
    /// 48 kHz samples per device frame.
    step: f64,
    pos: f64,
    current: f32,
}

impl Output {
    fn fill<T>(&mut self, data: &mut [T])
    where
        T: cpal::Sample + cpal::FromSample<f32>,
    {
        let mut mixer = self.mixer.lock().unwrap_or_else(|e| e.into_inner());
        for frame in data.chunks_mut(self.channels.max(1)) {
            self.pos += self.step;
            while self.pos >= 1.0 {
                self.current = mixer.next();
                self.pos -= 1.0;
            }
            let value = T::from_sample(self.current);
            for out in frame.iter_mut() {
                *out = value;
            }
        }
    }
}

/// Output devices by the names [`Speaker::open`] accepts.
pub(super) fn speaker_names() -> Result<Vec<Device>, String> {
    use cpal::traits::{DeviceTrait, HostTrait};
    let host = capture_host();
    let devices = host.output_devices().map_err(|e| e.to_string())?;
    Ok(super::microphone::listed(
        devices.filter(|d| d.supports_output()),
    ))
}

/// An output device playing the mix of everyone's audio. Dropping it stops playback.
pub struct Speaker {
    mixer: Arc<Mutex<Mixer>>,
    error: Arc<Mutex<Option<String>>>,
    name: String,
    _stop: mpsc::Sender<()>,
}

impl Speaker {
    /// Open the default output device (`None`) or one by name.
    pub fn open(name: Option<&str>) -> Result<Speaker, SourceError> {
        use cpal::traits::{DeviceTrait, StreamTrait};

        let mixer = Arc::new(Mutex::new(Mixer::default()));
        let error = Arc::new(Mutex::new(None::<String>));
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (opened_tx, opened_rx) = mpsc::sync_channel::<Result<String, SourceError>>(1);
        let wanted = name.map(str::to_string);
        let (thread_mixer, thread_error) = (mixer.clone(), error.clone());
        std::thread::Builder::new()
            .name("speaker-playback".into())
            .spawn(move || {
                let opened = (|| {
                    let host = capture_host();
                    let device = pick_device(&host, wanted.as_deref(), false, "speaker")?;
                    let label = device_label(&device);
                    let supported = device
                        .default_output_config()
                        .map_err(|e| device_error("speaker", format!("{label}: {e}")))?;
                    let pulse = super::microphone::is_pulse(&device);
                    let format = if pulse {
                        cpal::SampleFormat::F32
                    } else {
                        supported.sample_format()
                    };
                    let mut config = supported.config();
                    if pulse {
                        // 20 ms device buffers: low latency without underruns.
                        config.buffer_size =
                            cpal::BufferSize::Fixed((config.sample_rate / 50).max(1));
                    }
                    let mut output = Output {
                        mixer: thread_mixer,
                        channels: usize::from(config.channels),
                        step: f64::from(SAMPLE_RATE) / f64::from(config.sample_rate.max(1)),
                        pos: 0.0,
                        current: 0.0,
                    };
                    let on_error = {
                        let slot = thread_error.clone();
                        move |e: cpal::Error| {
                            tracing::warn!(error = %e, "speaker stream error");
                            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                        }
                    };
                    use cpal::SampleFormat as F;
                    let stream = match format {
                        F::I16 => device.build_output_stream(
                            config,
                            move |d: &mut [i16], _: &_| output.fill(d),
                            on_error,
                            None,
                        ),
                        F::I32 => device.build_output_stream(
                            config,
                            move |d: &mut [i32], _: &_| output.fill(d),
                            on_error,
                            None,
                        ),
                        F::F32 => device.build_output_stream(
                            config,
                            move |d: &mut [f32], _: &_| output.fill(d),
                            on_error,
                            None,
                        ),
                        F::U8 => device.build_output_stream(
                            config,
                            move |d: &mut [u8], _: &_| output.fill(d),
                            on_error,
                            None,
                        ),
                        F::U16 => device.build_output_stream(
                            config,
                            move |d: &mut [u16], _: &_| output.fill(d),
                            on_error,
                            None,
                        ),
                        other => {
                            return Err(device_error(
                                "speaker",
                                format!("{label}: unsupported sample format {other}"),
                            ))
                        }
                    }
                    .map_err(|e| device_error("speaker", format!("{label}: {e}")))?;
                    stream
                        .play()
                        .map_err(|e| device_error("speaker", format!("{label}: {e}")))?;
                    Ok((stream, label))
                })();
                match opened {
                    Ok((stream, label)) => {
                        let _ = opened_tx.send(Ok(label));
                        let _ = stop_rx.recv();
                        drop(stream);
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| device_error("speaker", e))?;
        let name = opened_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| device_error("speaker", "the device did not open in time"))??;
        Ok(Speaker {
            mixer,
            error,
            name,
            _stop: stop_tx,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queue 48 kHz mono audio from `identity`.
    pub fn push(&self, identity: &str, pcm: &[i16]) {
        self.mixer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(identity, pcm);
    }

    /// Forget a participant's queue (they left).
    pub fn remove(&self, identity: &str) {
        self.mixer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .queues
            .remove(identity);
    }

    /// The last error the stream reported, if any.
    pub fn last_error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_waits_for_the_prebuffer_then_sums_and_clamps() {
        let mut m = Mixer::default();
        m.push("a", &vec![1000; PREBUFFER - 1]);
        assert_eq!(m.next(), 0.0, "not enough buffered to start");
        m.push("a", &[1000]);
        m.push("b", &vec![30000; PREBUFFER]);
        // a + b = 31000
        assert!((m.next() - 31000.0 / 32768.0).abs() < 1e-6);
        m.push("c", &vec![30000; PREBUFFER]);
        assert_eq!(m.next(), 1.0, "the sum is clamped");
    }

    #[test]
    fn queues_stay_short_and_restart_after_running_dry() {
        let mut m = Mixer::default();
        m.push("a", &vec![7; MAX_QUEUED * 3]);
        assert_eq!(m.queues["a"].samples.len(), MAX_QUEUED);
        for _ in 0..MAX_QUEUED {
            m.next();
        }
        assert_eq!(m.next(), 0.0);
        assert!(
            !m.queues["a"].playing,
            "dry queue waits for a new prebuffer"
        );
    }

    #[test]
    fn output_resamples_to_the_device_rate_and_fills_every_channel() {
        let mixer = Arc::new(Mutex::new(Mixer::default()));
        mixer
            .lock()
            .unwrap()
            .push("a", &(0..PREBUFFER as i16).collect::<Vec<_>>());
        let mut out = Output {
            mixer: mixer.clone(),
            channels: 2,
            step: 48_000.0 / 24_000.0,
            pos: 0.0,
            current: 0.0,
        };
        let mut buf = vec![0f32; 8];
        out.fill(&mut buf);
        // At half the rate every second sample is played, on both channels.
        let expect: Vec<f32> = [1, 3, 5, 7]
            .iter()
            .flat_map(|&s| [s as f32 / 32768.0; 2])
            .collect();
        assert_eq!(buf, expect);
    }
}
