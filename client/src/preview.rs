//! Device check before joining: the chosen camera encoded as it would be sent (for a
//! self-preview) and the chosen microphone's level, with no room involved.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use studyhall_protocol::TrackSource;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::codec::vp8::Vp8Error;
use crate::codec::worker::Vp8Worker;
use crate::media::publish::Feed;
use crate::media::receive::now_us;
use crate::media::stats::{audio_level, smooth_level};
use crate::media::{now_ms, EncodedVideo, MediaError, VideoFormat};
use crate::source::denoise::NoiseSuppression;
use crate::source::{AudioInput, VideoInput};

/// What the preview shows right now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreviewStatus {
    /// Microphone loudness, 0..1.
    pub level: f32,
    pub camera_error: Option<String>,
    pub microphone_error: Option<String>,
}

/// A running preview; dropping it stops it and releases the devices soon after, and
/// [`Preview::stop`] waits until they are released.
pub struct Preview {
    status: Arc<Mutex<PreviewStatus>>,
    _stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Longest [`Preview::stop`] waits for the devices to close.
const STOP_WAIT: Duration = Duration::from_secs(3);

impl Preview {
    /// Open the devices and start. A device that cannot open is reported in the status
    /// (the other one still runs), so the user sees which one is at fault.
    pub async fn start(
        camera: Option<VideoInput>,
        microphone: Option<AudioInput>,
        format: VideoFormat,
        frames: mpsc::Sender<EncodedVideo>,
        noise: NoiseSuppression,
    ) -> Preview {
        let status = Arc::new(Mutex::new(PreviewStatus::default()));
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        if let Some(input) = camera {
            let opened =
                tokio::task::spawn_blocking(move || Feed::video(&input, "preview", format))
                    .await
                    .map_err(|e| MediaError::Source(e.to_string()))
                    .and_then(|r| r);
            match opened {
                Ok(Feed::Video(source)) => {
                    tasks.push(tokio::spawn(run_video(
                        source,
                        format,
                        frames,
                        status.clone(),
                        stop_rx.clone(),
                    )));
                }
                Ok(Feed::Audio(_)) => unreachable!("a video input opens a video feed"),
                Err(e) => {
                    status
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .camera_error = Some(e.to_string())
                }
            }
        }
        if let Some(input) = microphone {
            let opened =
                tokio::task::spawn_blocking(move || Feed::microphone(&input, "preview", &noise))
                    .await
                    .map_err(|e| MediaError::Source(e.to_string()))
                    .and_then(|r| r);
            match opened {
                Ok(Feed::Audio(source)) => {
                    tasks.push(tokio::spawn(run_audio(source, status.clone(), stop_rx)));
                }
                Ok(Feed::Video(_)) => unreachable!("an audio input opens an audio feed"),
                Err(e) => {
                    status
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .microphone_error = Some(e.to_string())
                }
            }
        }
        Preview {
            status,
            _stop: stop,
            tasks,
        }
    }

    /// Stop, and return once the devices are closed, so that they can be opened again at
    /// once (a camera still held by the preview's capture thread is busy).
    pub async fn stop(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        drop(self);
        for task in tasks {
            let _ = tokio::time::timeout(STOP_WAIT, task).await;
        }
    }

    pub fn status(&self) -> PreviewStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Closing a device waits for its capture thread: done off the runtime's workers.
async fn release<T: Send + 'static>(source: T) {
    let _ = tokio::task::spawn_blocking(move || drop(source)).await;
}

async fn run_video(
    mut source: Box<dyn crate::source::VideoSource>,
    format: VideoFormat,
    frames: mpsc::Sender<EncodedVideo>,
    status: Arc<Mutex<PreviewStatus>>,
    stop: watch::Receiver<bool>,
) {
    video_loop(&mut source, format, frames, status, stop).await;
    release(source).await;
}

async fn video_loop(
    source: &mut Box<dyn crate::source::VideoSource>,
    format: VideoFormat,
    frames: mpsc::Sender<EncodedVideo>,
    status: Arc<Mutex<PreviewStatus>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(format.fps.max(1))));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let failed = |e: &dyn std::fmt::Display| {
        status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .camera_error = Some(e.to_string());
    };
    let encoder = match Vp8Worker::spawn("preview", format.fps, format.bitrate_kbps) {
        Ok(e) => e,
        Err(e) => return failed(&e),
    };
    let mut count: u32 = 0;
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        let frame = match source.next_frame(now_ms()) {
            Ok(frame) => frame,
            Err(e) => return failed(&e),
        };
        let size = source.size();
        // A viewer may attach at any time: a keyframe every second keeps the wait short.
        let keyframe = count % format.fps.max(1) == 0;
        count = count.wrapping_add(1);
        let encoded = match encoder.encode(frame, size, keyframe).await {
            Ok(encoded) => encoded,
            Err(e @ Vp8Error::Dimensions(..)) => return failed(&e),
            Err(_) => continue,
        };
        for f in encoded {
            let _ = frames.try_send(EncodedVideo {
                identity: None,
                source: TrackSource::Camera,
                keyframe: f.keyframe,
                timestamp_us: now_us(),
                data: bytes::Bytes::from(f.data),
            });
        }
    }
}

async fn run_audio(
    mut source: Box<dyn crate::source::AudioSource>,
    status: Arc<Mutex<PreviewStatus>>,
    stop: watch::Receiver<bool>,
) {
    audio_loop(&mut source, status, stop).await;
    release(source).await;
}

async fn audio_loop(
    source: &mut Box<dyn crate::source::AudioSource>,
    status: Arc<Mutex<PreviewStatus>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        match source.next_frame() {
            Ok(pcm) => {
                let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
                s.level = smooth_level(s.level, audio_level(&pcm));
            }
            Err(e) => {
                let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
                s.microphone_error = Some(e.to_string());
                s.level = 0.0;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn synthetic_sources_preview_with_frames_and_a_level() {
        let (tx, mut rx) = mpsc::channel(64);
        let format = VideoFormat {
            width: 320,
            height: 240,
            fps: 30,
            bitrate_kbps: 200,
        };
        let preview = Preview::start(
            Some(VideoInput::TestPattern),
            Some(AudioInput::Tone),
            format,
            tx,
            NoiseSuppression::default(),
        )
        .await;
        let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(first.keyframe);
        assert_eq!(first.identity, None);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let status = preview.status();
        assert!(status.level > 0.3, "the tone is loud: {status:?}");
        assert_eq!(status.camera_error, None);
        preview.stop().await;
        // Stopped: the channel closed when the task ended, before `stop` returned.
        let drained = tokio::time::timeout(Duration::from_millis(100), async {
            while rx.recv().await.is_some() {}
        })
        .await;
        assert!(drained.is_ok(), "the preview has stopped");
    }

    #[tokio::test]
    async fn a_missing_file_is_reported_not_fatal() {
        let (tx, _rx) = mpsc::channel(4);
        let format = VideoFormat {
            width: 320,
            height: 240,
            fps: 15,
            bitrate_kbps: 200,
        };
        let preview = Preview::start(
            Some(VideoInput::Y4m("/nonexistent.y4m".into())),
            Some(AudioInput::Tone),
            format,
            tx,
            NoiseSuppression::default(),
        )
        .await;
        let status = preview.status();
        assert!(status.camera_error.is_some());
        assert_eq!(status.microphone_error, None);
    }
}
