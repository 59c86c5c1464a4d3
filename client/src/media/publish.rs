//! Publishing: local tracks fed by sources through the encoders.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp::extension::audio_level_extension::AudioLevelExtension;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RTCRtpRtxParameters, RtpCodecKind,
};
use studyhall_protocol::{Layer, TrackSource};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::rtp_transceiver::RtpSender;

use super::receive::{now_us, EncodedVideo};
use super::stats::{audio_level, rtp_audio_level, smooth_level, StatsHandle};
use super::{now_ms, MediaError};
use crate::codec::opus::OpusEncoder;
use crate::codec::scale::half_i420;
use crate::codec::worker::Vp8Worker;
use crate::source::denoise::{Denoised, NoiseSuppression};
use crate::source::device::{CameraSource, MicrophoneSource, ScreenSource};
use crate::source::file::{WavSource, Y4mSource};
use crate::source::pattern::PatternGenerator;
use crate::source::tone::ToneGenerator;
use crate::source::{AudioInput, AudioSource, VideoInput, VideoSource};

impl Feed {
    /// Open what feeds `source`'s track. Devices may take a moment: call from a
    /// blocking-friendly context.
    pub fn open(
        source: TrackSource,
        options: &super::MediaOptions,
        identity: &str,
    ) -> Result<Feed, MediaError> {
        match source {
            TrackSource::Microphone => Feed::microphone(
                &options.microphone_input,
                identity,
                &options.noise_suppression,
            ),
            TrackSource::Camera => {
                Feed::video(&options.camera_input, identity, options.camera_format)
            }
            TrackSource::Screen => {
                Feed::video(&options.screen_input, identity, options.screen_format)
            }
        }
    }
}

/// What feeds a track.
pub enum Feed {
    Video(Box<dyn VideoSource>),
    Audio(Box<dyn AudioSource>),
}

impl Feed {
    /// Open a video input; files and devices are opened (and checked) now. Devices set
    /// their own size (the format's width and height apply to the test pattern only).
    pub fn video(
        input: &VideoInput,
        identity: &str,
        format: VideoFormat,
    ) -> Result<Feed, MediaError> {
        Ok(Feed::Video(match input {
            VideoInput::TestPattern => {
                Box::new(PatternGenerator::new(format.width, format.height, identity))
            }
            VideoInput::Y4m(path) => {
                Box::new(Y4mSource::open(path).map_err(|e| MediaError::Source(e.to_string()))?)
            }
            VideoInput::Camera(name) => Box::new(
                CameraSource::open(name.as_deref())
                    .map_err(|e| MediaError::Source(e.to_string()))?,
            ),
            VideoInput::Screen(name) => Box::new(
                ScreenSource::open(name.as_deref(), format.fps)
                    .map_err(|e| MediaError::Source(e.to_string()))?,
            ),
        }))
    }

    /// Open an audio input; a real microphone goes through noise suppression while
    /// `noise` is on.
    pub fn microphone(
        input: &AudioInput,
        identity: &str,
        noise: &NoiseSuppression,
    ) -> Result<Feed, MediaError> {
        match Feed::audio(input, identity)? {
            Feed::Audio(source) if matches!(input, AudioInput::Microphone(_)) => {
                Ok(Feed::Audio(Box::new(Denoised::new(source, noise.clone()))))
            }
            feed => Ok(feed),
        }
    }

    pub fn audio(input: &AudioInput, identity: &str) -> Result<Feed, MediaError> {
        Ok(Feed::Audio(match input {
            AudioInput::Tone => Box::new(ToneGenerator::new(identity)),
            AudioInput::Wav(path) => {
                Box::new(WavSource::open(path).map_err(|e| MediaError::Source(e.to_string()))?)
            }
            AudioInput::Microphone(name) => Box::new(
                MicrophoneSource::open(name.as_deref())
                    .map_err(|e| MediaError::Source(e.to_string()))?,
            ),
        }))
    }
}

/// How a video track is encoded.
#[derive(Debug, Clone, Copy)]
pub struct VideoFormat {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_kbps: u32,
}

/// A track we publish.
pub struct LocalTrack {
    pub source: TrackSource,
    pub layer: Layer,
    pub track: Arc<TrackLocalStaticSample>,
    pub ssrc: u32,
    pub sender: Option<Arc<dyn RtpSender>>,
    /// Whether anyone receives it (the relay's `publish_layers`); set from the signaling
    /// task.
    pub wanted: Arc<AtomicBool>,
}

/// The camera's small layer's bitrate, whatever the full layer's: with packet headers at
/// 15 fps about 100 kbit/s on the wire, so that a hosted room of 25 showing pages of 8
/// small tiles fits a 25 Mbit/s upload (docs/benchmarks.md).
pub const SMALL_LAYER_KBPS: u32 = 90;

fn codec(source: TrackSource) -> (RTCRtpCodec, RtpCodecKind) {
    if source.is_video() {
        (
            RTCRtpCodec {
                mime_type: "video/VP8".into(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: String::new(),
                // The NACK responder keeps a send history only for streams whose codec
                // lists `nack`: without it, lost packets are never retransmitted.
                rtcp_feedback: [("nack", ""), ("nack", "pli"), ("ccm", "fir")]
                    .into_iter()
                    .map(|(typ, parameter)| RTCPFeedback {
                        typ: typ.into(),
                        parameter: parameter.into(),
                    })
                    .collect(),
            },
            RtpCodecKind::Video,
        )
    } else {
        (
            RTCRtpCodec {
                mime_type: "audio/opus".into(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
                rtcp_feedback: vec![],
            },
            RtpCodecKind::Audio,
        )
    }
}

impl LocalTrack {
    /// A track whose id is the source's name (the relay learns the mid from it).
    pub fn new(source: TrackSource, stream_id: &str) -> Result<LocalTrack, MediaError> {
        LocalTrack::layer(source, Layer::Full, stream_id)
    }

    /// The msid track id of a source's layer: the source's name, `-small` for the small
    /// layer.
    pub fn track_id(source: TrackSource, layer: Layer) -> String {
        match layer {
            Layer::Full => source.as_str().to_string(),
            Layer::Small => format!("{}-small", source.as_str()),
        }
    }

    /// A track of one layer of `source`.
    pub fn layer(
        source: TrackSource,
        layer: Layer,
        stream_id: &str,
    ) -> Result<LocalTrack, MediaError> {
        let id = LocalTrack::track_id(source, layer);
        let (codec, kind) = codec(source);
        let ssrc: u32 = rand::random();
        let track = TrackLocalStaticSample::new(
            Instant::now(),
            MediaStreamTrack::new(
                stream_id.to_string(),
                id.clone(),
                id,
                kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        // Retransmissions go on their own stream (RFC 4588), so the relay
                        // never mistakes a resent packet for new media.
                        rtx: source.is_video().then(|| RTCRtpRtxParameters {
                            ssrc: ssrc.wrapping_add(1),
                        }),
                        ..Default::default()
                    },
                    codec,
                    ..Default::default()
                }],
            ),
        )
        .map_err(MediaError::webrtc)?;
        Ok(LocalTrack {
            source,
            layer,
            track: Arc::new(track),
            ssrc,
            sender: None,
            wanted: Arc::new(AtomicBool::new(true)),
        })
    }

    pub fn as_track_local(&self) -> Arc<dyn TrackLocal> {
        self.track.clone()
    }
}

async fn payload_type(sender: &Arc<dyn RtpSender>) -> Result<u8, MediaError> {
    let params = sender.get_parameters().await.map_err(MediaError::webrtc)?;
    params
        .rtp_parameters
        .codecs
        .first()
        .map(|c| c.payload_type)
        .ok_or_else(|| MediaError::Negotiation("the relay accepted no codec for a track".into()))
}

/// The feed a track reads from: empty while the source is off (a device released), set
/// again when it is turned on; replaced to switch devices mid-call.
pub type FeedSlot = Arc<Mutex<Option<Feed>>>;

enum Captured {
    Video(Vec<u8>, (u32, u32)),
    Audio(Vec<i16>),
}

/// What a published track sends on: its payload type and its key in the stats.
struct Outlet {
    pt: u8,
    key: String,
    /// Set by the relay's keyframe requests (and when the track is wanted again).
    force_keyframe: Arc<AtomicBool>,
}

impl Outlet {
    /// Register `track` in the stats and listen for its keyframe requests.
    async fn open(track: &LocalTrack, stats: &StatsHandle) -> Result<Outlet, MediaError> {
        let sender = track
            .sender
            .clone()
            .ok_or_else(|| MediaError::Negotiation("track was never added".into()))?;
        let pt = payload_type(&sender).await?;
        let key = LocalTrack::track_id(track.source, track.layer);
        stats.update(|s| {
            s.sent.entry(key.clone()).or_default().source = Some(track.source);
        });
        let force_keyframe = Arc::new(AtomicBool::new(false));
        let force = force_keyframe.clone();
        let local = track.track.clone();
        let (stats, k) = (stats.clone(), key.clone());
        tokio::spawn(async move {
            while let Some(event) = local.poll().await {
                if let TrackLocalEvent::OnRtcpPacket(packets) = event {
                    tracing::debug!(count = packets.len(), "keyframe request received");
                    force.store(true, Ordering::Relaxed);
                    stats.update(|s| s.sent.get_mut(&k).map(|t| t.keyframe_requests += 1));
                }
            }
        });
        Ok(Outlet {
            pt,
            key,
            force_keyframe,
        })
    }

    /// Write encoded frames (data, keyframe) to `track`, audio with its level.
    async fn write(
        &self,
        track: &LocalTrack,
        frames: Vec<(Bytes, bool)>,
        duration: Duration,
        stats: &StatsHandle,
        level: Option<AudioLevelExtension>,
    ) {
        for (data, keyframe) in frames {
            let sample = Sample {
                data,
                duration,
                ..Sample::new(Instant::now())
            };
            let mut writer = track.track.sample_writer(track.ssrc, self.pt);
            if let Some(level) = level {
                writer = writer.with_audio_level(level);
            }
            if let Err(e) = writer.write_sample(&sample).await {
                tracing::debug!(error = %e, "write_sample failed");
                continue;
            }
            stats.update(|s| {
                let t = s.sent.get_mut(&self.key).expect("registered when opened");
                t.frames_sent += 1;
                if keyframe {
                    t.keyframes_sent += 1;
                }
            });
        }
    }
}

/// Whether a layer is wanted now; a layer wanted again starts with a keyframe.
fn wanted_now(track: &LocalTrack, outlet: &Outlet, was: &mut bool) -> bool {
    let on = track.wanted.load(Ordering::Relaxed);
    if on && !*was {
        outlet.force_keyframe.store(true, Ordering::Relaxed);
    }
    *was = on;
    on
}

/// Feed `track` from whatever its slot holds until `stop` flips. `paused` (muted) or an
/// empty slot skips sending; keyframe requests from the relay force the next frame to be
/// a keyframe. A source that fails is dropped from the slot and its error recorded in the
/// stats (the track stays, so a new source can be set). `local` gets our own encoded
/// video (self-view). `small`, the camera's small layer, gets the same frames at half
/// the size. A layer nobody receives (`LocalTrack::wanted`) is neither encoded nor sent,
/// except the full one while it feeds the self-view.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    track: LocalTrack,
    small: Option<LocalTrack>,
    slot: FeedSlot,
    video: VideoFormat,
    paused: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
    stats: StatsHandle,
    local: Option<mpsc::Sender<EncodedVideo>>,
) -> Result<(), MediaError> {
    let outlet = Outlet::open(&track, &stats).await?;
    let key = outlet.key.clone();
    let force_keyframe = outlet.force_keyframe.clone();
    let small_outlet = match &small {
        Some(t) => Some(Outlet::open(t, &stats).await?),
        None => None,
    };
    let small_encoder = match &small {
        Some(_) => Some(
            Vp8Worker::spawn(&format!("{key}-small"), video.fps, SMALL_LAYER_KBPS)
                .map_err(|e| MediaError::Codec(e.to_string()))?,
        ),
        None => None,
    };
    let (mut full_was_on, mut small_was_on) = (true, true);
    let frame_time = if track.source.is_video() {
        Duration::from_secs_f64(1.0 / f64::from(video.fps.max(1)))
    } else {
        Duration::from_millis(20)
    };
    let mut ticker = tokio::time::interval(frame_time);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The video encoder follows the source's size (a new source may differ), on its own
    // thread.
    let video_encoder = if track.source.is_video() {
        Some(
            Vp8Worker::spawn(&key, video.fps, video.bitrate_kbps)
                .map_err(|e| MediaError::Codec(e.to_string()))?,
        )
    } else {
        None
    };
    let mut audio_encoder = if track.source.is_video() {
        None
    } else {
        Some(OpusEncoder::new().map_err(|e| MediaError::Codec(e.to_string()))?)
    };
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        if *paused.borrow() {
            continue;
        }
        let captured = {
            let mut feed = slot.lock().unwrap_or_else(|p| p.into_inner());
            let result = match feed.as_mut() {
                None => continue,
                Some(Feed::Video(source)) => source
                    .next_frame(now_ms())
                    .map(|frame| Captured::Video(frame, source.size())),
                Some(Feed::Audio(source)) => source.next_frame().map(Captured::Audio),
            };
            match result {
                Ok(captured) => captured,
                Err(e) => {
                    tracing::warn!(source = %key, error = %e, "the source stopped");
                    *feed = None;
                    stats.update(|s| {
                        if let Some(t) = s.sent.get_mut(&key) {
                            t.error = Some(e.to_string());
                            t.level = 0.0;
                        }
                    });
                    continue;
                }
            }
        };
        let mut outgoing = Vec::new();
        let mut small_outgoing = Vec::new();
        let mut rtp_level = None;
        match captured {
            Captured::Video(frame, size) => {
                let Some(encoder) = &video_encoder else {
                    continue;
                };
                if let (Some(small), Some(outlet), Some(encoder)) =
                    (&small, &small_outlet, &small_encoder)
                {
                    let half = wanted_now(small, outlet, &mut small_was_on)
                        .then(|| half_i420(&frame, size.0, size.1))
                        .flatten();
                    if let Some((half, half_size)) = half {
                        let key_now = outlet.force_keyframe.swap(false, Ordering::Relaxed);
                        for f in encoder
                            .encode(half, half_size, key_now)
                            .await
                            .map_err(|e| MediaError::Codec(e.to_string()))?
                        {
                            small_outgoing.push((Bytes::from(f.data), f.keyframe));
                        }
                    }
                }
                let full_on = wanted_now(&track, &outlet, &mut full_was_on);
                let encoded = if full_on || local.is_some() {
                    let key_now = force_keyframe.swap(false, Ordering::Relaxed);
                    encoder
                        .encode(frame, size, key_now)
                        .await
                        .map_err(|e| MediaError::Codec(e.to_string()))?
                } else {
                    Vec::new()
                };
                for f in encoded {
                    let data = Bytes::from(f.data);
                    if let Some(out) = &local {
                        let _ = out.try_send(EncodedVideo {
                            identity: None,
                            source: track.source,
                            keyframe: f.keyframe,
                            timestamp_us: now_us(),
                            data: data.clone(),
                        });
                    }
                    if full_on {
                        outgoing.push((data, f.keyframe));
                    }
                }
            }
            Captured::Audio(pcm) => {
                rtp_level = Some(rtp_audio_level(&pcm));
                let level = audio_level(&pcm);
                stats.update(|s| {
                    if let Some(t) = s.sent.get_mut(&key) {
                        t.level = smooth_level(t.level, level);
                    }
                });
                if let Some(encoder) = &mut audio_encoder {
                    outgoing.push((
                        Bytes::from(
                            encoder
                                .encode(&pcm)
                                .map_err(|e| MediaError::Codec(e.to_string()))?,
                        ),
                        false,
                    ));
                }
            }
        }
        outlet
            .write(&track, outgoing, frame_time, &stats, rtp_level)
            .await;
        if let (Some(small), Some(outlet)) = (&small, &small_outlet) {
            outlet
                .write(small, small_outgoing, frame_time, &stats, None)
                .await;
        }
    }
    Ok(())
}
