//! Microphones, through cpal.

use super::*;

/// How much captured audio we keep at most: older samples are dropped so latency stays
/// bounded when the publisher falls behind.
const MAX_BUFFERED: usize = SAMPLE_RATE as usize / 5;

/// The host microphones are listed and captured through: PulseAudio's own protocol when a
/// server is reachable (not ALSA's "pulse" plugin, which its sources also show up as), else
/// ALSA.
pub(super) fn capture_host() -> cpal::Host {
    #[cfg(target_os = "linux")]
    {
        if cpal::available_hosts().contains(&cpal::HostId::PulseAudio) {
            match cpal::host_from_id(cpal::HostId::PulseAudio) {
                Ok(host) => return host,
                Err(e) => {
                    tracing::debug!(error = %e, "PulseAudio unreachable, using ALSA")
                }
            }
        }
        if let Ok(host) = cpal::host_from_id(cpal::HostId::Alsa) {
            return host;
        }
    }
    cpal::default_host()
}

/// Whether the device belongs to the PulseAudio host.
pub(super) fn is_pulse(d: &cpal::Device) -> bool {
    #[cfg(target_os = "linux")]
    {
        use cpal::traits::DeviceTrait;
        d.id().is_ok_and(|id| id.host() == cpal::HostId::PulseAudio)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = d;
        false
    }
}

/// The name an audio device is listed (and chosen) by: PulseAudio's source or sink name
/// ("alsa_input.…", "….monitor"), ALSA's PCM id ("default", "pulse", "hw:CARD=…"), or
/// elsewhere the device's description.
pub(super) fn device_label(d: &cpal::Device) -> String {
    use cpal::traits::DeviceTrait;
    if is_pulse(d) {
        if let Ok(id) = d.id() {
            return id.id().to_string();
        }
    }
    match d.description() {
        Ok(desc) if cfg!(target_os = "linux") => desc.driver().unwrap_or(desc.name()).to_string(),
        Ok(desc) => desc.name().to_string(),
        Err(_) => d.to_string(),
    }
}

/// The input (or output) device called `wanted` (by label, description or id), or the
/// default one; an error names those available.
pub(super) fn pick_device(
    host: &cpal::Host,
    wanted: Option<&str>,
    input: bool,
    kind: &'static str,
) -> Result<cpal::Device, SourceError> {
    use cpal::traits::{DeviceTrait, HostTrait};
    let devices: Vec<cpal::Device> = if input {
        host.input_devices()
            .map(|d| d.filter(|d| d.supports_input()).collect())
            .unwrap_or_default()
    } else {
        host.output_devices()
            .map(|d| d.filter(|d| d.supports_output()).collect())
            .unwrap_or_default()
    };
    let available: Vec<String> = devices
        .iter()
        .map(device_label)
        .filter(|n| !NO_SOUND.contains(&n.as_str()))
        .collect();
    match wanted {
        None if input => host.default_input_device(),
        None => host.default_output_device(),
        Some(w) => devices.into_iter().find(|d| {
            let desc_name = d
                .description()
                .map(|x| x.name().to_string())
                .unwrap_or_default();
            let id = d.id().map(|i| i.to_string()).unwrap_or_default();
            matches(w, &[&device_label(d), &desc_name, &id])
        }),
    }
    .ok_or_else(|| no_device(kind, wanted, available))
}

pub(super) fn microphone_names() -> Result<Vec<Device>, String> {
    use cpal::traits::{DeviceTrait, HostTrait};
    let host = capture_host();
    let devices = host.input_devices().map_err(|e| e.to_string())?;
    Ok(listed(devices.filter(|d| d.supports_input())))
}

/// Audio devices as people should see them: named by their description, and without
/// those that carry no sound (ALSA's `null`, which captures silence and plays nowhere).
pub(super) fn listed(devices: impl Iterator<Item = cpal::Device>) -> Vec<Device> {
    use cpal::traits::DeviceTrait;
    one_per_label(
        devices
            .filter_map(|d| {
                let name = device_label(&d);
                let description = d.description().ok();
                let pretty = description.as_ref().map(|x| x.name().to_string());
                audio_device(name, pretty.as_deref())
            })
            .collect(),
    )
}

/// One entry per label: ALSA lists each card several times over (`sysdefault:`,
/// `plughw:`, `hw:`, `front:`, `dsnoop:`, ... all described alike), which would show as
/// one name repeated. The one kept converts formats and rates for us where it can
/// (`sysdefault`, then `plughw`), in the place of the first.
pub fn one_per_label(devices: Vec<Device>) -> Vec<Device> {
    fn rank(name: &str) -> u8 {
        match name.split_once(':').map_or(name, |(kind, _)| kind) {
            "default" => 0,
            "sysdefault" => 1,
            "plughw" => 2,
            "hw" => 3,
            "front" => 4,
            _ => 5,
        }
    }
    let mut out: Vec<Device> = Vec::new();
    for d in devices {
        match out.iter_mut().find(|o| o.label == d.label) {
            Some(kept) if rank(&d.name) < rank(&kept.name) => *kept = d,
            Some(_) => {}
            None => out.push(d),
        }
    }
    out
}

/// An audio device named `name` (and described as `description`), as it is listed:
/// `None` for a device that carries no sound.
pub fn audio_device(name: String, description: Option<&str>) -> Option<Device> {
    if NO_SOUND.contains(&name.as_str()) {
        return None;
    }
    // ALSA descriptions run to two lines ("HDA Intel PCH, ALC257 Analog\nDirect hardware
    // device without any conversions"): the first names the device.
    let described = description
        .and_then(|d| d.lines().next())
        .map(str::trim)
        .filter(|d| !d.is_empty() && *d != name);
    let label = match (described, name.as_str()) {
        (_, "default") => "System default".to_string(),
        (Some(d), _) => d.to_string(),
        (None, _) => name.clone(),
    };
    Some(Device { name, label })
}

/// ALSA PCMs that carry no sound.
const NO_SOUND: &[&str] = &["null"];

/// Linear-interpolation resampler for a continuous stream cut into chunks.
struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Position of the next output sample; 0 is the last sample of the previous chunk.
    pos: f64,
    prev: f32,
}

impl Resampler {
    fn new(from_rate: u32, to_rate: u32) -> Resampler {
        Resampler {
            step: f64::from(from_rate) / f64::from(to_rate),
            pos: 1.0,
            prev: 0.0,
        }
    }

    fn process(&mut self, input: &[f32], mut out: impl FnMut(f32)) {
        let n = input.len();
        if n == 0 {
            return;
        }
        // x[0] is `prev`, x[k] is input[k - 1]; x[n] (pos == n) needs no right neighbour.
        while self.pos <= n as f64 {
            let i = self.pos as usize;
            let frac = (self.pos - i as f64) as f32;
            let a = if i == 0 { self.prev } else { input[i - 1] };
            let b = if i < n { input[i] } else { a };
            out(a + (b - a) * frac);
            self.pos += self.step;
        }
        self.pos -= n as f64;
        self.prev = input[n - 1];
    }
}

/// State the audio callback fills.
struct Capture {
    channels: usize,
    resampler: Resampler,
    mono: Vec<f32>,
    buffer: Arc<Mutex<VecDeque<i16>>>,
}

impl Capture {
    fn push<T>(&mut self, data: &[T])
    where
        T: cpal::Sample,
        f32: cpal::FromSample<T>,
    {
        self.mono.clear();
        let ch = self.channels.max(1);
        self.mono.extend(
            data.chunks_exact(ch)
                .map(|frame| frame.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() / ch as f32),
        );
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        self.resampler.process(&self.mono, |s| {
            buffer.push_back((s.clamp(-1.0, 1.0) * 32767.0).round() as i16);
        });
        let excess = buffer.len().saturating_sub(MAX_BUFFERED);
        buffer.drain(..excess);
    }
}

/// A microphone as 20 ms frames of 48 kHz mono.
pub struct MicrophoneSource {
    buffer: Arc<Mutex<VecDeque<i16>>>,
    error: Arc<Mutex<Option<String>>>,
    name: String,
    device_rate: u32,
    device_channels: u16,
    /// Dropping it ends the thread that owns the stream.
    _stop: mpsc::Sender<()>,
}

impl MicrophoneSource {
    /// Open the default input device (`None`) or one by name (as [`list_devices`] shows it).
    pub fn open(name: Option<&str>) -> Result<MicrophoneSource, SourceError> {
        use cpal::traits::{DeviceTrait, StreamTrait};

        let buffer = Arc::new(Mutex::new(VecDeque::with_capacity(MAX_BUFFERED + 4096)));
        let error = Arc::new(Mutex::new(None::<String>));
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (opened_tx, opened_rx) =
            mpsc::sync_channel::<Result<(String, u32, u16), SourceError>>(1);
        let wanted = name.map(str::to_string);
        let (thread_buffer, thread_error) = (buffer.clone(), error.clone());
        std::thread::Builder::new()
            .name("microphone-capture".into())
            .spawn(move || {
                let opened = (|| {
                    let host = capture_host();
                    let device = pick_device(&host, wanted.as_deref(), true, "microphone")?;
                    let label = device_label(&device);
                    let supported = device
                        .default_input_config()
                        .or_else(|e| {
                            device
                                .supported_input_configs()
                                .ok()
                                .and_then(|mut c| c.next())
                                .map(|range| range.with_max_sample_rate())
                                .ok_or(e)
                        })
                        .map_err(|e| device_error("microphone", format!("{label}: {e}")))?;
                    // PulseAudio converts to any format: take floats rather than the
                    // source's own (which may be one we do not read, such as 24-bit).
                    let pulse = is_pulse(&device);
                    let format = if pulse {
                        cpal::SampleFormat::F32
                    } else {
                        supported.sample_format()
                    };
                    let mut config = supported.config();
                    if pulse {
                        // Left to the server, a record stream comes in ~2 s fragments: ask for
                        // 10 ms ones (and that source latency), so a reader on a 20 ms clock
                        // rarely finds the buffer empty.
                        config.buffer_size =
                            cpal::BufferSize::Fixed((config.sample_rate / 100).max(1));
                    }
                    let (rate, channels) = (config.sample_rate, config.channels);
                    let mut capture = Capture {
                        channels: usize::from(channels),
                        resampler: Resampler::new(rate, SAMPLE_RATE),
                        mono: Vec::new(),
                        buffer: thread_buffer,
                    };
                    let on_error = {
                        let slot = thread_error.clone();
                        move |e: cpal::Error| {
                            tracing::warn!(error = %e, "microphone stream error");
                            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                        }
                    };
                    use cpal::SampleFormat as F;
                    let stream = match format {
                        F::I16 => device.build_input_stream(
                            config,
                            move |d: &[i16], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        F::I32 => device.build_input_stream(
                            config,
                            move |d: &[i32], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        F::F32 => device.build_input_stream(
                            config,
                            move |d: &[f32], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        F::F64 => device.build_input_stream(
                            config,
                            move |d: &[f64], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        F::U8 => device.build_input_stream(
                            config,
                            move |d: &[u8], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        F::U16 => device.build_input_stream(
                            config,
                            move |d: &[u16], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        F::I8 => device.build_input_stream(
                            config,
                            move |d: &[i8], _: &_| capture.push(d),
                            on_error,
                            None,
                        ),
                        other => {
                            return Err(device_error(
                                "microphone",
                                format!("{label}: unsupported sample format {other}"),
                            ))
                        }
                    }
                    .map_err(|e| device_error("microphone", format!("{label}: {e}")))?;
                    stream
                        .play()
                        .map_err(|e| device_error("microphone", format!("{label}: {e}")))?;
                    Ok((stream, label, rate, channels))
                })();
                match opened {
                    Ok((stream, label, rate, channels)) => {
                        let _ = opened_tx.send(Ok((label, rate, channels)));
                        // Keep the stream alive until the source is dropped.
                        let _ = stop_rx.recv();
                        drop(stream);
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| device_error("microphone", e))?;
        let (name, device_rate, device_channels) = opened_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| device_error("microphone", "the device did not open in time"))??;
        Ok(MicrophoneSource {
            buffer,
            error,
            name,
            device_rate,
            device_channels,
            _stop: stop_tx,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's own format: (sample rate, channels).
    pub fn device_format(&self) -> (u32, u16) {
        (self.device_rate, self.device_channels)
    }

    /// Samples waiting (48 kHz mono).
    pub fn buffered(&self) -> usize {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The last error the stream reported, if any (the stream may have recovered).
    pub fn last_error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl AudioSource for MicrophoneSource {
    /// 960 samples: what was captured, padded with silence if the device is behind.
    fn next_frame(&mut self) -> Result<Vec<i16>, SourceError> {
        let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        let take = buffer.len().min(FRAME_SAMPLES);
        let mut frame: Vec<i16> = buffer.drain(..take).collect();
        frame.resize(FRAME_SAMPLES, 0);
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn microphone_by_unknown_name_lists_what_exists() {
        let err = MicrophoneSource::open(Some("no-such-microphone-xyz"))
            .err()
            .expect("no microphone has that name");
        let SourceError::NoDevice {
            kind, available, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*kind, "microphone");
        // Whatever the host lists here is named in the message, as listed for people
        // (without ALSA's soundless "null").
        assert_eq!(available, &DeviceList::names(&list_devices().microphones));
        assert!(!available.iter().any(|n| n == "null"), "{available:?}");
        let msg = err.to_string();
        for name in available {
            assert!(msg.contains(name.as_str()), "{msg}");
        }
    }

    #[test]
    fn resampler_keeps_rate_and_shape() {
        // 1 s of 441 Hz at 44.1 kHz → 48 000 samples at 48 kHz, same sine.
        let mut r = Resampler::new(44_100, 48_000);
        let mut out = Vec::new();
        let input: Vec<f32> = (0..44_100)
            .map(|i| (i as f32 * 441.0 * std::f32::consts::TAU / 44_100.0).sin())
            .collect();
        for chunk in input.chunks(441) {
            r.process(chunk, |s| out.push(s));
        }
        assert!((out.len() as i64 - 48_000).abs() <= 1, "{}", out.len());
        for (i, s) in out.iter().enumerate().take(47_000) {
            let want = (i as f32 * 441.0 * std::f32::consts::TAU / 48_000.0).sin();
            assert!((s - want).abs() < 0.01, "sample {i}: {s} vs {want}");
        }
        // Same rate: a pass-through.
        let mut r = Resampler::new(48_000, 48_000);
        let mut out = Vec::new();
        r.process(&[0.1, 0.2, 0.3], |s| out.push(s));
        r.process(&[0.4], |s| out.push(s));
        assert_eq!(out, vec![0.1, 0.2, 0.3, 0.4]);
    }

    #[test]
    fn capture_downmixes_and_pads_with_silence() {
        let buffer = Arc::new(Mutex::new(VecDeque::new()));
        let mut c = Capture {
            channels: 2,
            resampler: Resampler::new(48_000, 48_000),
            mono: Vec::new(),
            buffer: buffer.clone(),
        };
        c.push(&[0.5f32, 0.0, 0.25, 0.25]);
        let mut mic = MicrophoneSource {
            buffer,
            error: Arc::default(),
            name: "test".into(),
            device_rate: 48_000,
            device_channels: 2,
            _stop: mpsc::channel().0,
        };
        let frame = mic.next_frame().unwrap();
        assert_eq!(frame.len(), FRAME_SAMPLES);
        assert_eq!(&frame[..3], &[8192, 8192, 0]);
        assert!(frame[2..].iter().all(|&s| s == 0));
    }
}
