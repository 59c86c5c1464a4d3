//! A VP8 encoder on a thread of its own. Encoding a frame takes milliseconds of CPU; done
//! on an async runtime's worker it holds up every other task scheduled there (signaling,
//! the WebRTC stack, audio), so publishing and the preview hand frames to this thread and
//! await the result instead.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::vp8::{EncodedFrame, Vp8Encoder, Vp8Error};

type Reply = oneshot::Sender<Result<Vec<EncodedFrame>, Vp8Error>>;

struct Job {
    i420: Vec<u8>,
    size: (u32, u32),
    keyframe: bool,
    reply: Reply,
}

/// Frames queued for the thread at most; one more is refused (the caller drops it).
const QUEUE: usize = 2;

/// See the module docs. The thread follows the frames' size (a new encoder for a new
/// size) and ends when this is dropped.
pub struct Vp8Worker {
    jobs: mpsc::SyncSender<Job>,
}

impl Vp8Worker {
    /// Start the thread, named `name`, encoding at `fps` and `bitrate_kbps`.
    pub fn spawn(name: &str, fps: u32, bitrate_kbps: u32) -> std::io::Result<Vp8Worker> {
        let (jobs, rx) = mpsc::sync_channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name(format!("{name}-vp8"))
            .spawn(move || {
                let mut encoder: Option<((u32, u32), Vp8Encoder)> = None;
                while let Ok(job) = rx.recv() {
                    let result = match &mut encoder {
                        Some((size, e)) if *size == job.size => e.encode(&job.i420, job.keyframe),
                        _ => Vp8Encoder::new(job.size.0, job.size.1, fps, bitrate_kbps).and_then(
                            |mut e| {
                                // A new encoder's first frame is a keyframe anyway.
                                let out = e.encode(&job.i420, true);
                                encoder = Some((job.size, e));
                                out
                            },
                        ),
                    };
                    let _ = job.reply.send(result);
                }
            })?;
        Ok(Vp8Worker { jobs })
    }

    /// Encode one I420 frame of `size`; a keyframe when `keyframe`.
    pub async fn encode(
        &self,
        i420: Vec<u8>,
        size: (u32, u32),
        keyframe: bool,
    ) -> Result<Vec<EncodedFrame>, Vp8Error> {
        let (reply, done) = oneshot::channel();
        let job = Job {
            i420,
            size,
            keyframe,
            reply,
        };
        self.jobs.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(_) => Vp8Error::Codec("the encoder is behind".into()),
            mpsc::TrySendError::Disconnected(_) => {
                Vp8Error::Codec("the encoder thread stopped".into())
            }
        })?;
        done.await
            .map_err(|_| Vp8Error::Codec("the encoder thread stopped".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::vp8::{i420_len, Vp8Decoder};

    #[tokio::test(flavor = "current_thread")]
    async fn encodes_off_the_runtime_and_follows_the_size() {
        let worker = Vp8Worker::spawn("test", 30, 300).unwrap();
        let mut decoder = Vp8Decoder::new().unwrap();
        for (i, size) in [(320, 240), (320, 240), (160, 120)].into_iter().enumerate() {
            let frame = vec![100u8; i420_len(size.0, size.1)];
            let out = worker.encode(frame, size, false).await.unwrap();
            assert_eq!(out.len(), 1);
            // The first frame and the first of a new size start an encoder: keyframes.
            assert_eq!(out[0].keyframe, i != 1, "frame {i}");
            let decoded = decoder.decode(&out[0].data).unwrap();
            assert_eq!((decoded[0].width, decoded[0].height), size);
        }
        let wrong = worker.encode(vec![0; 10], (160, 120), false).await;
        assert!(
            matches!(wrong, Err(Vp8Error::FrameSize { .. })),
            "{wrong:?}"
        );
    }
}
