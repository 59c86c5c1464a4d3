//! Real capture devices: a camera (nokhwa), a microphone (cpal) and a screen (xcap).
//!
//! The publisher asks for a frame on its own clock and must never wait long, so each
//! device is read on a background thread: video sources keep the latest converted frame
//! (the publisher may see a frame twice, or skip some), the microphone fills a short ring
//! buffer that [`MicrophoneSource::next_frame`] drains 20 ms at a time, padding with
//! silence when the device is behind. Opening waits for the device to deliver its first
//! frame, so a device that cannot capture fails at once with a clear error.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{AudioSource, SourceError, VideoSource};
use crate::codec::opus::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::codec::vp8::i420_len;

/// Frames wider than this are scaled down by an integer factor.
pub const MAX_WIDTH: u32 = 1280;

/// What capture devices this machine has, by the names the sources accept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceList {
    pub cameras: Vec<String>,
    pub microphones: Vec<String>,
    pub screens: Vec<String>,
}

/// Every camera, microphone and screen found; a kind that cannot be enumerated (no
/// driver, no display, a library that panics) is simply empty.
pub fn list_devices() -> DeviceList {
    DeviceList {
        cameras: guarded(|| camera_names().unwrap_or_default()),
        microphones: guarded(|| microphone_names().unwrap_or_default()),
        screens: guarded(|| screen_names().unwrap_or_default()),
    }
}

fn guarded(f: impl FnOnce() -> Vec<String> + std::panic::UnwindSafe) -> Vec<String> {
    std::panic::catch_unwind(f).unwrap_or_default()
}

fn device_error(kind: &'static str, reason: impl ToString) -> SourceError {
    SourceError::Device {
        kind,
        reason: reason.to_string(),
    }
}

fn no_device(kind: &'static str, requested: Option<&str>, available: Vec<String>) -> SourceError {
    SourceError::NoDevice {
        kind,
        requested: requested.map(str::to_string),
        available,
    }
}

/// Does a user-supplied name pick this device? Exact (ignoring case) or a unique-enough
/// part of it is the caller's business; we accept exact matches on any of the labels.
fn matches(wanted: &str, labels: &[&str]) -> bool {
    labels.iter().any(|l| l.eq_ignore_ascii_case(wanted))
}

// ---------------------------------------------------------------------------------------
// Pixel conversion

/// An RGB(A) picture as a device delivered it.
struct Picture {
    width: u32,
    height: u32,
    /// 3 (RGB) or 4 (RGBA) bytes per pixel, rows tightly packed.
    bytes_per_pixel: usize,
    data: Vec<u8>,
}

/// The output size for a `width`×`height` picture: scaled down by the smallest integer
/// factor that fits [`MAX_WIDTH`], then cropped to even dimensions.
pub fn output_size(width: u32, height: u32) -> (u32, u32, u32) {
    let factor = width.div_ceil(MAX_WIDTH).max(1);
    ((width / factor) & !1, (height / factor) & !1, factor)
}

/// Convert to tightly packed I420 (BT.601, limited range) of `out_w`×`out_h`, averaging
/// `factor`×`factor` blocks. Pixels beyond the picture (its size changed since the first
/// frame) are black.
fn to_i420(p: &Picture, factor: u32, out_w: u32, out_h: u32) -> Vec<u8> {
    let (ow, oh) = (out_w as usize, out_h as usize);
    let (sw, sh, f) = (p.width as usize, p.height as usize, factor.max(1) as usize);
    let bpp = p.bytes_per_pixel;
    // 1. Scale to an RGB picture of the output size.
    let mut rgb = vec![0u8; ow * oh * 3];
    for y in 0..oh {
        for x in 0..ow {
            let (x0, y0) = (x * f, y * f);
            if x0 >= sw || y0 >= sh {
                continue;
            }
            let (x1, y1) = ((x0 + f).min(sw), (y0 + f).min(sh));
            let mut sum = [0u32; 3];
            for sy in y0..y1 {
                let row = &p.data[(sy * sw + x0) * bpp..(sy * sw + x1) * bpp];
                for px in row.chunks_exact(bpp) {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                }
            }
            let n = ((x1 - x0) * (y1 - y0)) as u32;
            let o = (y * ow + x) * 3;
            for c in 0..3 {
                rgb[o + c] = ((sum[c] + n / 2) / n) as u8;
            }
        }
    }
    rgb_to_i420(&rgb, ow, oh)
}

/// RGB (3 bytes a pixel) to I420, BT.601 limited range; chroma from 2×2 averages.
fn rgb_to_i420(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; i420_len(w as u32, h as u32)];
    let (y_plane, chroma) = out.split_at_mut(w * h);
    let (u_plane, v_plane) = chroma.split_at_mut((w / 2) * (h / 2));
    for y in 0..h {
        for x in 0..w {
            let o = (y * w + x) * 3;
            let (r, g, b) = (
                i32::from(rgb[o]),
                i32::from(rgb[o + 1]),
                i32::from(rgb[o + 2]),
            );
            y_plane[y * w + x] = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8;
        }
    }
    for cy in 0..h / 2 {
        for cx in 0..w / 2 {
            let mut s = [0i32; 3];
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let o = ((cy * 2 + dy) * w + cx * 2 + dx) * 3;
                for c in 0..3 {
                    s[c] += i32::from(rgb[o + c]);
                }
            }
            let (r, g, b) = ((s[0] + 2) / 4, (s[1] + 2) / 4, (s[2] + 2) / 4);
            u_plane[cy * (w / 2) + cx] = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8;
            v_plane[cy * (w / 2) + cx] = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Video capture on a background thread

#[derive(Default)]
struct Latest {
    size: Option<(u32, u32)>,
    frame: Option<Vec<u8>>,
    frames: u64,
    error: Option<String>,
}

type Shared = Arc<(Mutex<Latest>, Condvar)>;

/// A capture thread that keeps the newest frame, converted.
struct VideoWorker {
    kind: &'static str,
    shared: Shared,
    stop: Arc<AtomicBool>,
    size: (u32, u32),
}

type Grab = Box<dyn FnMut() -> Result<Picture, String>>;

impl VideoWorker {
    /// `open` runs on the capture thread (device handles need not be `Send`) and returns
    /// the grab function, called in a loop no faster than `max_fps`.
    fn spawn<F>(
        kind: &'static str,
        max_fps: u32,
        first_frame_timeout: Duration,
        open: F,
    ) -> Result<VideoWorker, SourceError>
    where
        F: FnOnce() -> Result<Grab, SourceError> + Send + 'static,
    {
        let shared: Shared = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (opened_tx, opened_rx) = mpsc::sync_channel::<Result<(), SourceError>>(1);
        let (thread_shared, thread_stop) = (shared.clone(), stop.clone());
        let interval = Duration::from_secs_f64(1.0 / f64::from(max_fps.max(1)));
        std::thread::Builder::new()
            .name(format!("{kind}-capture"))
            .spawn(move || {
                let mut grab = match open() {
                    Ok(g) => {
                        let _ = opened_tx.send(Ok(()));
                        g
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                let mut geometry: Option<(u32, u32, u32)> = None;
                let (lock, ready) = &*thread_shared;
                while !thread_stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match grab() {
                        Ok(picture) => {
                            let (w, h, factor) = *geometry
                                .get_or_insert_with(|| output_size(picture.width, picture.height));
                            if w == 0 || h == 0 {
                                let mut l = lock.lock().unwrap_or_else(|e| e.into_inner());
                                l.error = Some(format!(
                                    "the {kind} delivered a {}x{} picture",
                                    picture.width, picture.height
                                ));
                                ready.notify_all();
                                return;
                            }
                            let frame = to_i420(&picture, factor, w, h);
                            let mut l = lock.lock().unwrap_or_else(|e| e.into_inner());
                            l.size = Some((w, h));
                            l.frame = Some(frame);
                            l.frames += 1;
                            ready.notify_all();
                        }
                        Err(e) => {
                            let mut l = lock.lock().unwrap_or_else(|e| e.into_inner());
                            l.error = Some(e);
                            ready.notify_all();
                            return;
                        }
                    }
                    if let Some(rest) = interval.checked_sub(started.elapsed()) {
                        std::thread::sleep(rest);
                    }
                }
            })
            .map_err(|e| device_error(kind, e))?;
        match opened_rx.recv_timeout(first_frame_timeout) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                return Err(device_error(kind, "the device did not open in time"));
            }
        }
        let (lock, ready) = &*shared;
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = ready
            .wait_timeout_while(guard, first_frame_timeout, |l| {
                l.size.is_none() && l.error.is_none()
            })
            .unwrap_or_else(|e| e.into_inner());
        let result = match (&guard.error, guard.size) {
            (Some(e), _) => Err(device_error(kind, e)),
            (None, Some(size)) => Ok(size),
            (None, None) => Err(device_error(
                kind,
                format!("no frame within {first_frame_timeout:?}"),
            )),
        };
        drop(guard);
        match result {
            Ok(size) => Ok(VideoWorker {
                kind,
                shared,
                stop,
                size,
            }),
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    fn latest(&self) -> Result<Vec<u8>, SourceError> {
        let l = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = &l.error {
            return Err(device_error(self.kind, e));
        }
        Ok(l.frame.clone().unwrap_or_else(|| black(self.size)))
    }

    fn frames_captured(&self) -> u64 {
        self.shared
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .frames
    }
}

impl Drop for VideoWorker {
    fn drop(&mut self) {
        // The thread notices within one frame; a blocked device read is not waited for.
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn black((w, h): (u32, u32)) -> Vec<u8> {
    let mut f = vec![128u8; i420_len(w, h)];
    f[..(w * h) as usize].fill(16);
    f
}

// ---------------------------------------------------------------------------------------
// Camera

fn camera_names() -> Result<Vec<String>, String> {
    let cameras = nokhwa::query(nokhwa::utils::ApiBackend::Auto).map_err(|e| e.to_string())?;
    Ok(cameras.iter().map(|c| c.human_name()).collect())
}

/// A camera, converted to I420 at its native size (even, at most [`MAX_WIDTH`] wide).
pub struct CameraSource {
    worker: VideoWorker,
    name: String,
}

impl CameraSource {
    /// Open a camera by index ("0") or name; `None` is the first camera.
    pub fn open(name: Option<&str>) -> Result<CameraSource, SourceError> {
        use nokhwa::pixel_format::RgbFormat;
        use nokhwa::utils::{
            ApiBackend, CameraFormat, FrameFormat, RequestedFormat, RequestedFormatType,
        };

        let cameras = guarded_query()?;
        let available: Vec<String> = cameras.iter().map(|c| c.human_name()).collect();
        let chosen = match name {
            None => cameras.first(),
            Some(wanted) => cameras
                .iter()
                .find(|c| matches(wanted, &[&c.human_name(), &c.index().to_string()])),
        };
        let Some(info) = chosen else {
            return Err(no_device("camera", name, available));
        };
        let index = info.index().clone();
        let camera_name = info.human_name();
        let worker = VideoWorker::spawn("camera", 60, Duration::from_secs(10), move || {
            let wanted = [
                RequestedFormatType::Closest(CameraFormat::new_from(
                    1280,
                    720,
                    FrameFormat::MJPEG,
                    30,
                )),
                RequestedFormatType::Closest(CameraFormat::new_from(
                    1280,
                    720,
                    FrameFormat::YUYV,
                    30,
                )),
                RequestedFormatType::AbsoluteHighestFrameRate,
                RequestedFormatType::None,
            ];
            let mut last_error = String::new();
            let mut camera = None;
            for request in wanted {
                match nokhwa::Camera::with_backend(
                    index.clone(),
                    RequestedFormat::new::<RgbFormat>(request),
                    ApiBackend::Auto,
                ) {
                    Ok(c) => {
                        camera = Some(c);
                        break;
                    }
                    Err(e) => last_error = e.to_string(),
                }
            }
            let mut camera = camera.ok_or_else(|| device_error("camera", last_error))?;
            camera
                .open_stream()
                .map_err(|e| device_error("camera", e))?;
            Ok(Box::new(move || {
                let buffer = camera.frame().map_err(|e| e.to_string())?;
                let image = buffer
                    .decode_image::<RgbFormat>()
                    .map_err(|e| e.to_string())?;
                Ok(Picture {
                    width: image.width(),
                    height: image.height(),
                    bytes_per_pixel: 3,
                    data: image.into_raw(),
                })
            }) as Grab)
        })?;
        Ok(CameraSource {
            worker,
            name: camera_name,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Frames captured so far (the publisher may use fewer).
    pub fn frames_captured(&self) -> u64 {
        self.worker.frames_captured()
    }
}

fn guarded_query() -> Result<Vec<nokhwa::utils::CameraInfo>, SourceError> {
    match std::panic::catch_unwind(|| nokhwa::query(nokhwa::utils::ApiBackend::Auto)) {
        Ok(Ok(list)) => Ok(list),
        // Enumeration failing (no V4L2 at all) means: no camera here.
        Ok(Err(_)) | Err(_) => Ok(Vec::new()),
    }
}

impl VideoSource for CameraSource {
    fn size(&self) -> (u32, u32) {
        self.worker.size
    }

    fn next_frame(&mut self, _capture_ms: u64) -> Result<Vec<u8>, SourceError> {
        self.worker.latest()
    }
}

// ---------------------------------------------------------------------------------------
// Screen

fn monitor_label(m: &xcap::Monitor) -> String {
    m.name().unwrap_or_else(|_| "?".into())
}

fn screen_names() -> Result<Vec<String>, String> {
    let monitors = xcap::Monitor::all().map_err(|e| e.to_string())?;
    Ok(monitors.iter().map(monitor_label).collect())
}

/// A monitor, captured as RGBA and converted to I420, scaled down by an integer factor
/// when wider than [`MAX_WIDTH`].
pub struct ScreenSource {
    worker: VideoWorker,
    name: String,
}

impl ScreenSource {
    /// Open the primary monitor (`None`) or one by name (or id), capturing at most
    /// `max_fps` frames a second.
    pub fn open(name: Option<&str>, max_fps: u32) -> Result<ScreenSource, SourceError> {
        // Enumerate here for a clear error, then again on the capture thread (the
        // monitor handles are not `Send`).
        let monitors = std::panic::catch_unwind(xcap::Monitor::all)
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let available: Vec<String> = monitors.iter().map(monitor_label).collect();
        let pick = |monitors: &[xcap::Monitor], name: Option<&str>| -> Option<usize> {
            match name {
                None => monitors
                    .iter()
                    .position(|m| m.is_primary().unwrap_or(false))
                    .or(if monitors.is_empty() { None } else { Some(0) }),
                Some(wanted) => monitors.iter().position(|m| {
                    let id = m.id().map(|i| i.to_string()).unwrap_or_default();
                    let friendly = m.friendly_name().unwrap_or_default();
                    matches(wanted, &[&monitor_label(m), &friendly, &id])
                }),
            }
        };
        let Some(index) = pick(&monitors, name) else {
            return Err(no_device("screen", name, available));
        };
        let screen_name = monitor_label(&monitors[index]);
        drop(monitors);
        let wanted = name.map(str::to_string);
        let worker = VideoWorker::spawn("screen", max_fps, Duration::from_secs(5), move || {
            let monitors = xcap::Monitor::all().map_err(|e| device_error("screen", e))?;
            let available: Vec<String> = monitors.iter().map(monitor_label).collect();
            let index = pick(&monitors, wanted.as_deref())
                .ok_or_else(|| no_device("screen", wanted.as_deref(), available))?;
            let monitor = monitors.into_iter().nth(index).expect("picked above");
            Ok(Box::new(move || {
                let image = monitor.capture_image().map_err(|e| e.to_string())?;
                Ok(Picture {
                    width: image.width(),
                    height: image.height(),
                    bytes_per_pixel: 4,
                    data: image.into_raw(),
                })
            }) as Grab)
        })?;
        Ok(ScreenSource {
            worker,
            name: screen_name,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Frames captured so far (the publisher may use fewer).
    pub fn frames_captured(&self) -> u64 {
        self.worker.frames_captured()
    }
}

impl VideoSource for ScreenSource {
    fn size(&self) -> (u32, u32) {
        self.worker.size
    }

    fn next_frame(&mut self, _capture_ms: u64) -> Result<Vec<u8>, SourceError> {
        self.worker.latest()
    }
}

// ---------------------------------------------------------------------------------------
// Microphone

/// How much captured audio we keep at most: older samples are dropped so latency stays
/// bounded when the publisher falls behind.
const MAX_BUFFERED: usize = SAMPLE_RATE as usize / 5;

/// The name a microphone is listed (and chosen) by: ALSA's PCM id ("default", "pulse",
/// "hw:CARD=…") where the host has one, else the device's description.
fn microphone_label(d: &cpal::Device) -> String {
    use cpal::traits::DeviceTrait;
    match d.description() {
        Ok(desc) if cfg!(target_os = "linux") => desc.driver().unwrap_or(desc.name()).to_string(),
        Ok(desc) => desc.name().to_string(),
        Err(_) => d.to_string(),
    }
}

fn microphone_names() -> Result<Vec<String>, String> {
    use cpal::traits::{DeviceTrait, HostTrait};
    let host = cpal::default_host();
    let devices = host.input_devices().map_err(|e| e.to_string())?;
    Ok(devices
        .filter(|d| d.supports_input())
        .map(|d| microphone_label(&d))
        .collect())
}

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
        use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

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
                    let host = cpal::default_host();
                    let devices: Vec<cpal::Device> = host
                        .input_devices()
                        .map(|d| d.filter(|d| d.supports_input()).collect())
                        .unwrap_or_default();
                    let available: Vec<String> = devices.iter().map(microphone_label).collect();
                    let device = match &wanted {
                        None => host.default_input_device(),
                        Some(w) => devices.into_iter().find(|d| {
                            let desc_name = d
                                .description()
                                .map(|x| x.name().to_string())
                                .unwrap_or_default();
                            let id = d.id().map(|i| i.to_string()).unwrap_or_default();
                            matches(w, &[&microphone_label(d), &desc_name, &id])
                        }),
                    }
                    .ok_or_else(|| no_device("microphone", wanted.as_deref(), available))?;
                    let label = microphone_label(&device);
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
                    let config = supported.config();
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
                    let stream = match supported.sample_format() {
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

    fn has_video_device() -> bool {
        std::fs::read_dir("/dev")
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("video"))
            })
            .unwrap_or(false)
    }

    #[test]
    fn camera_opens_or_says_none_found() {
        let listed = list_devices().cameras;
        if has_video_device() {
            let mut cam = CameraSource::open(None).expect("a /dev/video* device exists");
            let (w, h) = cam.size();
            assert!(w > 0 && h > 0 && w % 2 == 0 && h % 2 == 0, "{w}x{h}");
            let frame = cam.next_frame(0).unwrap();
            assert_eq!(frame.len(), i420_len(w, h));
            assert!(!listed.is_empty());
        } else {
            assert!(
                listed.is_empty(),
                "no /dev/video* but cameras listed: {listed:?}"
            );
            let err = CameraSource::open(None).err().expect("no camera here");
            assert!(
                matches!(&err, SourceError::NoDevice { kind: "camera", requested: None, available } if available.is_empty()),
                "{err:?}"
            );
            assert_eq!(err.to_string(), "no camera found on this machine");
        }
    }

    #[test]
    fn camera_by_unknown_name_lists_what_exists() {
        let err = CameraSource::open(Some("no-such-camera-xyz"))
            .err()
            .expect("no camera has that name");
        let SourceError::NoDevice {
            kind, available, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*kind, "camera");
        let msg = err.to_string();
        assert!(
            msg.starts_with("no camera named \"no-such-camera-xyz\""),
            "{msg}"
        );
        for name in available {
            assert!(msg.contains(name.as_str()), "{msg}");
        }
    }

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
        // Whatever ALSA lists here (at least its "null" device) is named in the message.
        assert_eq!(available, &list_devices().microphones);
        let msg = err.to_string();
        for name in available {
            assert!(msg.contains(name.as_str()), "{msg}");
        }
    }

    #[test]
    fn no_device_messages() {
        let e = no_device("camera", Some("X"), vec!["a".into(), "b".into()]);
        assert_eq!(e.to_string(), "no camera named \"X\"; available: a, b");
        let e = no_device("screen", None, vec![]);
        assert_eq!(e.to_string(), "no screen found on this machine");
        let e = no_device("microphone", Some("X"), vec![]);
        assert_eq!(
            e.to_string(),
            "no microphone named \"X\"; no microphone found on this machine"
        );
        let e = no_device("microphone", None, vec!["null".into()]);
        assert_eq!(e.to_string(), "no default microphone; available: null");
    }

    #[test]
    fn list_devices_never_panics() {
        let l = list_devices();
        // Without a display there is no screen (with one, there is at least one).
        if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
            assert!(l.screens.is_empty(), "{l:?}");
        }
    }

    #[test]
    fn output_size_is_even_and_fits() {
        assert_eq!(output_size(640, 480), (640, 480, 1));
        assert_eq!(output_size(641, 481), (640, 480, 1));
        assert_eq!(output_size(1280, 720), (1280, 720, 1));
        assert_eq!(output_size(1920, 1080), (960, 540, 2));
        assert_eq!(output_size(2560, 1440), (1280, 720, 2));
        assert_eq!(output_size(3840, 2160), (1280, 720, 3));
        assert_eq!(output_size(1, 1), (0, 0, 1));
    }

    #[test]
    fn rgba_converts_to_bt601_i420() {
        // 4x2 picture, left half pure red, right half white; an odd extra column is cropped.
        let (w, h) = (5u32, 2u32);
        let mut data = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                data.extend_from_slice(if x < 2 {
                    &[255, 0, 0, 255]
                } else {
                    &[255, 255, 255, 255]
                });
            }
        }
        let p = Picture {
            width: w,
            height: h,
            bytes_per_pixel: 4,
            data,
        };
        let (ow, oh, f) = output_size(w, h);
        assert_eq!((ow, oh), (4, 2));
        let out = to_i420(&p, f, ow, oh);
        assert_eq!(out.len(), i420_len(4, 2));
        // BT.601 limited range: red Y=82 U=90 V=240; white Y=235 U=V=128.
        assert_eq!(&out[..4], &[82, 82, 235, 235]);
        assert_eq!(&out[8..10], &[90, 128]);
        assert_eq!(&out[10..12], &[240, 128]);
    }

    #[test]
    fn downscale_averages_blocks() {
        // 2x2 of black and white checkers averaged by factor 2 → mid grey.
        let p = Picture {
            width: 4,
            height: 4,
            bytes_per_pixel: 3,
            data: (0..16)
                .flat_map(|i| {
                    let v = if (i % 4 + i / 4) % 2 == 0 { 0 } else { 254 };
                    [v, v, v]
                })
                .collect(),
        };
        let out = to_i420(&p, 2, 2, 2);
        let grey = (((66 + 129 + 25) * 127 + 128) >> 8) + 16;
        assert_eq!(&out[..4], &[grey as u8; 4]);
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
