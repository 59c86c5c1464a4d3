//! Cameras, through nokhwa.

use super::*;

pub(super) fn camera_names() -> Result<Vec<Device>, String> {
    let cameras = nokhwa::query(nokhwa::utils::ApiBackend::Auto).map_err(|e| e.to_string())?;
    Ok(cameras
        .iter()
        .map(|c| Device::same(c.human_name()))
        .collect())
}

/// A camera, converted to I420 at its native size (even, at most [`MAX_WIDTH`] wide).
pub struct CameraSource {
    worker: VideoWorker,
    name: String,
}

impl CameraSource {
    /// Open a camera by index ("0") or name; `None` is the first camera. A camera that
    /// is busy, as it is for a moment after another user of it let go (the device check
    /// before joining a room), is tried again for up to 2 s.
    pub fn open(name: Option<&str>) -> Result<CameraSource, SourceError> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match Self::open_once(name) {
                Err(SourceError::Device { reason, .. })
                    if reason.to_ascii_lowercase().contains("busy")
                        && Instant::now() < deadline =>
                {
                    tracing::debug!(%reason, "camera busy; trying again");
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    fn open_once(name: Option<&str>) -> Result<CameraSource, SourceError> {
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
}
