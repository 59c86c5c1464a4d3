//! The screen, through xcap.

use super::*;

fn monitor_label(m: &xcap::Monitor) -> String {
    m.name().unwrap_or_else(|_| "?".into())
}

pub(super) fn screen_names() -> Result<Vec<Device>, String> {
    let monitors = xcap::Monitor::all().map_err(|e| e.to_string())?;
    let count = monitors.len();
    Ok(monitors
        .iter()
        .enumerate()
        .map(|(i, m)| Device {
            name: monitor_label(m),
            label: screen_label(
                i,
                count,
                &m.friendly_name().unwrap_or_default(),
                &monitor_label(m),
                m.is_primary().unwrap_or(false),
                (m.width().unwrap_or(0), m.height().unwrap_or(0)),
            ),
        })
        .collect())
}

/// What people call the `index`th of `count` monitors: its model when the system knows
/// it (not just the output's name, such as `screen`, `eDP-1` or `HDMI-1`), else "Entire
/// screen" or "Screen N", with its size and, among several, which one is the main one.
pub fn screen_label(
    index: usize,
    count: usize,
    friendly: &str,
    output: &str,
    primary: bool,
    (width, height): (u32, u32),
) -> String {
    let friendly = friendly.trim();
    let mut label = if !friendly.is_empty() && friendly != output {
        friendly.to_string()
    } else if count <= 1 {
        "Entire screen".to_string()
    } else {
        format!("Screen {}", index + 1)
    };
    if width > 0 && height > 0 {
        label.push_str(&format!(" ({width}×{height})"));
    }
    if primary && count > 1 {
        label.push_str(", main");
    }
    label
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
