//! Real capture devices: a camera (nokhwa), a microphone (cpal) and a screen (xcap).
//!
//! The publisher asks for a frame on its own clock and must never wait long, so each
//! device is read on a background thread: video sources keep the latest converted frame
//! (the publisher may see a frame twice, or skip some), the microphone fills a short ring
//! buffer that [`MicrophoneSource::next_frame`] drains 20 ms at a time, padding with
//! silence when the device is behind. Opening waits for the device to deliver its first
//! frame, so a device that cannot capture fails at once with a clear error.

mod camera;
mod microphone;
mod screen;
mod speaker;

pub use camera::CameraSource;
pub use microphone::{audio_device, one_per_label, MicrophoneSource};
pub use screen::{screen_label, ScreenSource};
pub use speaker::Speaker;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{AudioSource, SourceError, VideoSource};
use crate::codec::opus::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::codec::vp8::i420_len;

/// Frames wider than this are scaled down by an integer factor.
pub const MAX_WIDTH: u32 = 1280;

/// What capture devices this machine has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceList {
    pub cameras: Vec<Device>,
    pub microphones: Vec<Device>,
    pub screens: Vec<Device>,
    pub speakers: Vec<Device>,
}

/// A device: the name its source is opened by, and what to call it for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// What the sources accept (PulseAudio's source name, ALSA's PCM id, the monitor's
    /// output name, the camera's name).
    pub name: String,
    /// A name people recognise: "Built-in Audio Analog Stereo", "Screen 1 (1920×1080)".
    pub label: String,
}

impl Device {
    fn same(name: String) -> Device {
        Device {
            label: name.clone(),
            name,
        }
    }
}

impl DeviceList {
    /// The names the sources accept, of one kind.
    pub fn names(devices: &[Device]) -> Vec<String> {
        devices.iter().map(|d| d.name.clone()).collect()
    }
}

/// Every camera, microphone and screen found; a kind that cannot be enumerated (no
/// driver, no display, a library that panics) is simply empty.
pub fn list_devices() -> DeviceList {
    DeviceList {
        cameras: guarded(|| camera::camera_names().unwrap_or_default()),
        microphones: guarded(|| microphone::microphone_names().unwrap_or_default()),
        screens: guarded(|| screen::screen_names().unwrap_or_default()),
        speakers: guarded(|| speaker::speaker_names().unwrap_or_default()),
    }
}

fn guarded(f: impl FnOnce() -> Vec<Device> + std::panic::UnwindSafe) -> Vec<Device> {
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
    /// Disconnected once the thread has ended and let go of the device.
    released: mpsc::Receiver<()>,
}

/// How long dropping a worker waits for its thread to let go of the device: a camera
/// opened right after a preview (the room after the device check) is otherwise still
/// busy. A device read blocked for longer is not waited for.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

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
        let (release, released) = mpsc::sync_channel::<()>(0);
        let interval = Duration::from_secs_f64(1.0 / f64::from(max_fps.max(1)));
        std::thread::Builder::new()
            .name(format!("{kind}-capture"))
            .spawn(move || {
                // Dropped last, after the device (`grab`) is: tells the worker's drop the
                // device is free.
                let _release = release;
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
                released,
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
        // The thread notices within one frame and closes the device; wait for that (a
        // blocked device read only so long).
        self.stop.store(true, Ordering::Relaxed);
        if let Err(mpsc::RecvTimeoutError::Timeout) = self.released.recv_timeout(RELEASE_WAIT) {
            tracing::warn!(kind = self.kind, "the capture thread did not stop in time");
        }
    }
}

fn black((w, h): (u32, u32)) -> Vec<u8> {
    let mut f = vec![128u8; i420_len(w, h)];
    f[..(w * h) as usize].fill(16);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dropping_a_capture_worker_waits_until_the_device_is_let_go() {
        // The "device": held by the grab function, as a camera handle is.
        let device = Arc::new(());
        let held = device.clone();
        let worker = VideoWorker::spawn("camera", 30, Duration::from_secs(2), move || {
            let grab: Grab = Box::new(move || {
                let _ = &held;
                std::thread::sleep(Duration::from_millis(40));
                Ok(Picture {
                    width: 4,
                    height: 4,
                    bytes_per_pixel: 3,
                    data: vec![0; 48],
                })
            });
            Ok(grab)
        })
        .expect("opens");
        assert_eq!(Arc::strong_count(&device), 2, "the thread holds the device");
        drop(worker);
        assert_eq!(
            Arc::strong_count(&device),
            1,
            "the device is free once the worker is dropped"
        );
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
    fn devices_are_listed_by_names_people_recognise() {
        assert_eq!(
            audio_device("null".into(), Some("Discard all samples")),
            None
        );
        let hw = audio_device(
            "hw:CARD=PCH,DEV=0".into(),
            Some("HDA Intel PCH, ALC257 Analog\nDirect hardware device without any conversions"),
        )
        .unwrap();
        assert_eq!(
            (hw.name.as_str(), hw.label.as_str()),
            ("hw:CARD=PCH,DEV=0", "HDA Intel PCH, ALC257 Analog")
        );
        let pulse = audio_device(
            "alsa_input.pci-0000_00_1f.3.analog-stereo".into(),
            Some("Built-in Audio Analog Stereo"),
        )
        .unwrap();
        assert_eq!(pulse.label, "Built-in Audio Analog Stereo");
        assert_eq!(
            audio_device("default".into(), Some("Default Audio Device"))
                .unwrap()
                .label,
            "System default"
        );
        assert_eq!(audio_device("pulse".into(), None).unwrap().label, "pulse");
        // One card, listed by ALSA in several ways, is offered once.
        let card = |name: &str| Device {
            name: name.into(),
            label: "HDA Intel PCH, ALC257 Analog".into(),
        };
        let other = Device {
            name: "hw:CARD=USB,DEV=0".into(),
            label: "USB Audio".into(),
        };
        let kept = one_per_label(vec![
            card("hw:CARD=PCH,DEV=0"),
            card("plughw:CARD=PCH,DEV=0"),
            other.clone(),
            card("sysdefault:CARD=PCH"),
            card("dsnoop:CARD=PCH,DEV=0"),
        ]);
        assert_eq!(kept, vec![card("sysdefault:CARD=PCH"), other]);
        // Screens: never the bare output name.
        assert_eq!(
            screen_label(0, 1, "", "screen", true, (1920, 1080)),
            "Entire screen (1920×1080)"
        );
        assert_eq!(
            screen_label(1, 2, "HDMI-1", "HDMI-1", false, (2560, 1440)),
            "Screen 2 (2560×1440)"
        );
        assert_eq!(
            screen_label(0, 2, "DELL U2720Q", "DP-1", true, (3840, 2160)),
            "DELL U2720Q (3840×2160), main"
        );
    }

    #[test]
    fn list_devices_never_panics() {
        let l = list_devices();
        for d in l.microphones.iter().chain(&l.speakers) {
            assert_ne!(d.name, "null", "{l:?}");
            assert!(!d.label.is_empty(), "{l:?}");
        }
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
}
