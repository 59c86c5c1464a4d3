//! Receiving one remote track: reorder and depacketize, decode, verify, count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use studyhall_protocol::TrackSource;
use tokio::sync::mpsc;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::assemble::{self, Assembled, Vp8Assembler};
use super::now_ms;
use super::playout::Playout;
use super::stats::{audio_level, smooth_level, StatsHandle};
use crate::codec::opus::OpusDecoder;
use crate::codec::vp8::{DecodedFrame, Vp8Decoder};
use crate::source::pattern::{identity_tag, latency_ms, read_stamp};
use crate::source::tone::{tone_hz, tone_share};

/// Fewest time between two keyframe requests we send for one track.
const PLI_INTERVAL: Duration = Duration::from_millis(300);

/// Samples per tone check window (100 ms at 48 kHz).
const TONE_WINDOW: usize = 4800;

/// A decoded video frame handed to whoever displays it (the app, a file, a probe).
#[derive(Debug, Clone)]
pub struct RemoteFrame {
    pub identity: String,
    pub source: TrackSource,
    pub frame: Arc<DecodedFrame>,
}

/// A whole encoded VP8 frame, as received (from the first keyframe on, never a frame
/// that depends on a lost one) or as we encoded it for our own tracks.
#[derive(Debug, Clone)]
pub struct EncodedVideo {
    /// Whose track: `None` for our own (self-view).
    pub identity: Option<String>,
    pub source: TrackSource,
    pub keyframe: bool,
    /// When it was received (or encoded), µs since the Unix epoch.
    pub timestamp_us: u64,
    pub data: bytes::Bytes,
}

/// 20 ms of decoded remote audio, 48 kHz mono.
#[derive(Debug, Clone)]
pub struct RemoteAudio {
    pub identity: String,
    pub pcm: Vec<i16>,
}

/// Where received media goes, besides the statistics. With an `encoded` sink and no
/// `decoded` one, video is not decoded here (the app decodes in its webview).
#[derive(Debug, Clone, Default)]
pub struct MediaSinks {
    pub decoded: Option<mpsc::Sender<RemoteFrame>>,
    pub encoded: Option<mpsc::Sender<EncodedVideo>>,
    pub audio: Option<mpsc::Sender<RemoteAudio>>,
}

impl MediaSinks {
    pub fn decoded(frames: mpsc::Sender<RemoteFrame>) -> Self {
        MediaSinks {
            decoded: Some(frames),
            ..Default::default()
        }
    }

    fn decodes_video(&self) -> bool {
        self.decoded.is_some() || self.encoded.is_none()
    }
}

pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Extended RTP sequence tracking: counts packets lost as never-seen numbers.
#[derive(Default)]
struct SeqTracker {
    highest: Option<u64>,
    first: Option<u64>,
    received: u64,
}

impl SeqTracker {
    fn push(&mut self, seq: u16) {
        let ext = assemble::extend_seq(self.highest, seq);
        self.first = Some(self.first.map_or(ext, |f| f.min(ext)));
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        self.received += 1;
    }

    fn lost(&self) -> u64 {
        match (self.first, self.highest) {
            (Some(f), Some(h)) => (h - f + 1).saturating_sub(self.received),
            _ => 0,
        }
    }
}

/// Run until the track ends.
pub async fn run(
    track: Arc<dyn TrackRemote>,
    identity: String,
    source: TrackSource,
    stats: StatsHandle,
    sinks: MediaSinks,
) {
    let key = format!("{identity}:{}", source.as_str());
    let kind = track.kind().await;
    let ssrc = track.ssrcs().await.first().copied().unwrap_or(0);
    stats.update(|s| {
        let t = s.received.entry(key.clone()).or_default();
        t.identity = identity.clone();
        t.source = Some(source);
        t.kind = if kind == RtpCodecKind::Video {
            "video"
        } else {
            "audio"
        }
        .into();
        t.started = Some(Instant::now());
        t.active = true;
    });
    tracing::debug!(%key, ?kind, ssrc, "receiving track");
    if kind == RtpCodecKind::Video {
        receive_video(track, ssrc, &key, &identity, source, &stats, sinks).await;
    } else {
        receive_audio(track, &key, &identity, &stats, sinks.audio).await;
    }
    stats.update(|s| {
        if let Some(t) = s.received.get_mut(&key) {
            t.active = false;
        }
    });
}

async fn request_keyframe(track: &Arc<dyn TrackRemote>, ssrc: u32, last: &mut Option<Instant>) {
    if last.is_some_and(|t| t.elapsed() < PLI_INTERVAL) {
        return;
    }
    *last = Some(Instant::now());
    let pli = PictureLossIndication {
        sender_ssrc: 0,
        media_ssrc: ssrc,
    };
    tracing::debug!(ssrc, "sending PLI");
    if let Err(e) = track.write_rtcp(vec![Box::new(pli)]).await {
        tracing::debug!(error = %e, "cannot send PLI");
    }
}

async fn receive_video(
    track: Arc<dyn TrackRemote>,
    ssrc: u32,
    key: &str,
    identity: &str,
    source: TrackSource,
    stats: &StatsHandle,
    sinks: MediaSinks,
) {
    let decode = sinks.decodes_video();
    let mut assembler = Vp8Assembler::new(assemble::DEFAULT_WAIT);
    let mut decoder = match Vp8Decoder::new() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "no VP8 decoder");
            return;
        }
    };
    let tag = identity_tag(identity);
    let mut seq = SeqTracker::default();
    let mut need_keyframe = true;
    let mut last_pli = None;
    let mut last_counter: Option<u32> = None;
    let mut playout = Playout::default();
    loop {
        // Wake up now and then even without packets, to give up on stale holes, and when
        // the next frame is due.
        let wait = playout
            .next_due()
            .map_or(Duration::from_millis(100), |due| {
                due.saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(100))
            });
        let event = tokio::time::timeout(wait, track.poll()).await;
        let now = Instant::now();
        let assembled = match event {
            Err(_) => assembler.poll(now),
            Ok(None) | Ok(Some(TrackRemoteEvent::OnEnded)) => break,
            Ok(Some(TrackRemoteEvent::OnRtpPacket(packet))) => {
                seq.push(packet.header.sequence_number);
                assembler.push(now, packet)
            }
            Ok(Some(_)) => continue,
        };
        // Frames go on at their pace (see `playout`); a loss in their order.
        for item in assembled {
            match item {
                Assembled::Frame { timestamp, .. } => playout.push(now, timestamp, item),
                Assembled::Lost { .. } => playout.push_unpaced(now, item),
            }
        }
        while let Some(item) = playout.pop_due(Instant::now()) {
            let (data, keyframe) = match item {
                Assembled::Frame { data, keyframe, .. } => (data, keyframe),
                Assembled::Lost { packets } => {
                    tracing::debug!(packets, "gave up on lost packets; waiting for a keyframe");
                    stats.update(|s| s.received.get_mut(key).map(|t| t.incomplete_frames += 1));
                    need_keyframe = true;
                    request_keyframe(&track, ssrc, &mut last_pli).await;
                    continue;
                }
            };
            if need_keyframe && !keyframe {
                stats.update(|s| s.received.get_mut(key).map(|t| t.frames_skipped += 1));
                request_keyframe(&track, ssrc, &mut last_pli).await;
                continue;
            }
            if let Some(out) = &sinks.encoded {
                let _ = out.try_send(EncodedVideo {
                    identity: Some(identity.to_string()),
                    source,
                    keyframe,
                    timestamp_us: now_us(),
                    data: bytes::Bytes::from(data.clone()),
                });
            }
            if !decode {
                // Whoever gets the encoded frames decodes them; count the frame as whole.
                need_keyframe = false;
                stats.update(|s| {
                    if let Some(t) = s.received.get_mut(key) {
                        t.frame_decoded(Instant::now());
                    }
                });
                continue;
            }
            match decoder.decode(&data) {
                Ok(decoded) => {
                    need_keyframe = false;
                    for frame in decoded {
                        let stamp = read_stamp(frame.width, frame.height, &frame.i420);
                        let arrived = now_ms();
                        stats.update(|s| {
                            let t = s.received.get_mut(key).expect("registered at start");
                            t.frame_decoded(Instant::now());
                            t.frame_size = Some((frame.width, frame.height));
                            if let Some(st) = stamp {
                                if st.tag != tag {
                                    t.wrong_identity += 1;
                                } else {
                                    match last_counter {
                                        Some(c) if st.counter == c => t.duplicates += 1,
                                        Some(c) if st.counter < c => t.out_of_order += 1,
                                        _ => {}
                                    }
                                    last_counter = Some(st.counter);
                                    t.frames_verified += 1;
                                    t.first_counter.get_or_insert(st.counter);
                                    t.last_counter = Some(st.counter);
                                    t.latency(latency_ms(st.capture_ms, arrived));
                                }
                            }
                        });
                        if let Some(out) = &sinks.decoded {
                            let _ = out.try_send(RemoteFrame {
                                identity: identity.to_string(),
                                source,
                                frame: Arc::new(frame),
                            });
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "decode error; waiting for a keyframe");
                    stats.update(|s| s.received.get_mut(key).map(|t| t.decode_errors += 1));
                    need_keyframe = true;
                    request_keyframe(&track, ssrc, &mut last_pli).await;
                }
            }
        }
        stats.update(|s| {
            if let Some(t) = s.received.get_mut(key) {
                t.packets = seq.received;
                t.packets_lost = seq.lost();
            }
        });
    }
}

async fn receive_audio(
    track: Arc<dyn TrackRemote>,
    key: &str,
    identity: &str,
    stats: &StatsHandle,
    sink: Option<mpsc::Sender<RemoteAudio>>,
) {
    let mut decoder = match OpusDecoder::new() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "no Opus decoder");
            return;
        }
    };
    let hz = tone_hz(identity);
    let mut window: Vec<i16> = Vec::with_capacity(TONE_WINDOW);
    let mut seq = SeqTracker::default();
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else {
            if matches!(event, TrackRemoteEvent::OnEnded) {
                break;
            }
            continue;
        };
        seq.push(packet.header.sequence_number);
        if packet.payload.is_empty() {
            continue;
        }
        let decoded = decoder.decode(&packet.payload).map(|pcm| pcm.to_vec());
        stats.update(|s| {
            let t = s.received.get_mut(key).expect("registered at start");
            t.packets = seq.received;
            t.packets_lost = seq.lost();
            match decoded {
                Ok(pcm) => {
                    t.frame_decoded(Instant::now());
                    t.level = smooth_level(t.level, audio_level(&pcm));
                    if let Some(out) = &sink {
                        let _ = out.try_send(RemoteAudio {
                            identity: identity.to_string(),
                            pcm: pcm.clone(),
                        });
                    }
                    window.extend_from_slice(&pcm);
                    if window.len() >= TONE_WINDOW {
                        t.tone_windows += 1;
                        if tone_share(&window, hz) > 0.3 {
                            t.tone_windows_matched += 1;
                        }
                        window.clear();
                    }
                }
                Err(_) => t.decode_errors += 1,
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::SeqTracker;

    #[test]
    fn sequence_tracking_counts_gaps_across_wrap() {
        let mut s = SeqTracker::default();
        for seq in [65533u16, 65534, 65535, 0, 2, 3] {
            s.push(seq);
        }
        assert_eq!(s.received, 6);
        assert_eq!(s.lost(), 1, "1 is missing");
        s.push(1); // late retransmission fills the gap
        assert_eq!(s.lost(), 0);
    }
}
