//! Per-track statistics: what was sent, what arrived, what decoded, and — for test
//! pattern and tone sources — whether it verifies (identity, order, latency).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use studyhall_protocol::TrackSource;

/// A gap between decoded frames longer than this counts as a freeze.
pub const FREEZE_MS: u64 = 500;

/// A gap between decoded video frames longer than this is time frozen (six frames at
/// 30 fps: anyone watching sees it stop).
pub const FROZEN_GAP_MS: u64 = 200;

/// How well someone's media reaches this client lately: what the big apps show as a
/// participant's connection (bars on the tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkQuality {
    Good,
    /// Some loss: glitches now and then.
    Fair,
    /// Heavy loss: video freezes, speech breaks up.
    Poor,
}

/// What [`ReceivedTrack::recent`] measured over the last [`QUALITY_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecentQuality {
    pub quality: LinkQuality,
    /// Packets that never arrived (not even retransmitted), of those sent: 0..1.
    pub loss: f64,
    /// Video: frames that could not be shown (incomplete, or waiting for a keyframe), of
    /// all frames: 0..1.
    pub bad_frames: f64,
}

/// The span [`ReceivedTrack::recent`] looks back over.
pub const QUALITY_WINDOW: Duration = Duration::from_secs(5);
/// Least data to judge by: a shorter look back, or fewer packets, says nothing.
const QUALITY_MIN_SPAN: Duration = Duration::from_secs(2);
const QUALITY_MIN_PACKETS: u64 = 20;

/// Loss or unshowable frames from which a link is fair, and poor.
const FAIR_LOSS: f64 = 0.02;
const POOR_LOSS: f64 = 0.08;
const FAIR_BAD_FRAMES: f64 = 0.05;
const POOR_BAD_FRAMES: f64 = 0.2;

#[derive(Debug, Clone, Copy)]
struct Counters {
    at: Instant,
    packets: u64,
    lost: u64,
    shown: u64,
    bad: u64,
}

/// Latency samples kept per track (about two minutes of 30 fps video): the percentiles
/// describe the recent past, and a long call does not grow without bound.
pub const LATENCY_SAMPLES: usize = 4096;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceivedTrack {
    pub identity: String,
    pub source: Option<TrackSource>,
    pub kind: String,
    /// RTP packets received, and missing sequence numbers (never filled).
    pub packets: u64,
    pub packets_lost: u64,
    /// Video: frames decoded; audio: packets decoded.
    pub frames_decoded: u64,
    /// Video: the width and height of the latest decoded frame (a camera's small layer
    /// is half the size of its full one).
    pub frame_size: Option<(u32, u32)>,
    pub decode_errors: u64,
    /// Video: frames the depacketizer gave up on (packets missing) and frames skipped
    /// while waiting for the keyframe that follows.
    pub incomplete_frames: u64,
    pub frames_skipped: u64,
    /// Video pattern: frames whose stamp was read and whose identity tag matched.
    pub frames_verified: u64,
    /// Video pattern: frames whose stamp was read but named someone else.
    pub wrong_identity: u64,
    /// Video pattern: frames whose counter was below the previous one.
    pub out_of_order: u64,
    /// Video pattern: frames whose counter equalled the previous one (shown twice).
    pub duplicates: u64,
    pub first_counter: Option<u32>,
    pub last_counter: Option<u32>,
    /// ms from the track's arrival (on_track) to the first decoded frame.
    pub first_frame_ms: Option<u64>,
    pub freezes: u64,
    /// Time spent frozen, ms: the sum of the gaps between decoded frames longer than
    /// [`FROZEN_GAP_MS`] (the whole gap counts).
    pub frozen_ms: u64,
    pub fps: f64,
    /// End-to-end latency (capture → decoded), ms: percentiles of the latest
    /// [`LATENCY_SAMPLES`] frames, and the most ever seen.
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
    pub latency_max_ms: Option<i64>,
    /// Audio tone: share of 100 ms windows in which the publisher's tone dominated.
    pub tone_windows: u64,
    pub tone_windows_matched: u64,
    /// Whether the relay currently forwards this track (it is in the latest offer).
    /// Audio: loudness of the latest audio, 0 (silence, -60 dBFS or less) to 1 (full scale).
    pub level: f32,
    pub active: bool,
    #[serde(skip)]
    latencies: VecDeque<i64>,
    #[serde(skip)]
    history: VecDeque<Counters>,
    #[serde(skip)]
    pub(crate) started: Option<Instant>,
    #[serde(skip)]
    pub(crate) first_frame_at: Option<Instant>,
    #[serde(skip)]
    pub(crate) last_frame_at: Option<Instant>,
}

impl ReceivedTrack {
    /// Decoded frames within the counter span that verified: 1.0 means none missing.
    /// The audio level now: the last one measured, or 0 when nothing arrived lately (the
    /// sender muted or left).
    pub fn current_level(&self) -> f32 {
        match self.last_frame_at {
            Some(t) if t.elapsed().as_millis() < 300 => self.level,
            _ => 0.0,
        }
    }

    pub fn coverage(&self) -> f64 {
        match (self.first_counter, self.last_counter) {
            (Some(a), Some(b)) if b >= a => self.frames_verified as f64 / f64::from(b - a + 1),
            _ => 0.0,
        }
    }

    pub(crate) fn frame_decoded(&mut self, now: Instant) {
        self.frames_decoded += 1;
        if let Some(last) = self.last_frame_at {
            let gap = now.duration_since(last).as_millis() as u64;
            if gap > FREEZE_MS {
                self.freezes += 1;
            }
            if gap > FROZEN_GAP_MS && self.kind == "video" {
                self.frozen_ms += gap;
            }
        }
        if self.first_frame_at.is_none() {
            self.first_frame_at = Some(now);
            if let Some(s) = self.started {
                self.first_frame_ms = Some(now.duration_since(s).as_millis() as u64);
            }
        }
        self.last_frame_at = Some(now);
        if let (Some(first), Some(last)) = (self.first_frame_at, self.last_frame_at) {
            let secs = last.duration_since(first).as_secs_f64();
            if secs > 0.0 {
                self.fps = (self.frames_decoded - 1) as f64 / secs;
            }
        }
    }

    /// The link's quality over the last [`QUALITY_WINDOW`], or `None` while there is too
    /// little to judge by (a new or quiet track: muted, or not forwarded). Call now and
    /// then (a few times a second): each call notes the counters, once a second at most.
    pub fn recent(&mut self, now: Instant) -> Option<RecentQuality> {
        let current = Counters {
            at: now,
            packets: self.packets,
            lost: self.packets_lost,
            shown: self.frames_decoded,
            bad: self.incomplete_frames + self.frames_skipped,
        };
        if self
            .history
            .back()
            .is_none_or(|c| now.saturating_duration_since(c.at) >= Duration::from_secs(1))
        {
            self.history.push_back(current);
        }
        while self
            .history
            .front()
            .is_some_and(|c| now.saturating_duration_since(c.at) > QUALITY_WINDOW)
        {
            self.history.pop_front();
        }
        let from = *self.history.front()?;
        if now.saturating_duration_since(from.at) < QUALITY_MIN_SPAN {
            return None;
        }
        let packets = current.packets.saturating_sub(from.packets);
        let lost = current.lost.saturating_sub(from.lost);
        if packets < QUALITY_MIN_PACKETS {
            return None;
        }
        let loss = lost as f64 / (packets + lost) as f64;
        let shown = current.shown.saturating_sub(from.shown);
        let bad = current.bad.saturating_sub(from.bad);
        let bad_frames = if self.kind == "video" && shown + bad > 0 {
            bad as f64 / (shown + bad) as f64
        } else {
            0.0
        };
        let quality = if loss >= POOR_LOSS || bad_frames >= POOR_BAD_FRAMES {
            LinkQuality::Poor
        } else if loss >= FAIR_LOSS || bad_frames >= FAIR_BAD_FRAMES {
            LinkQuality::Fair
        } else {
            LinkQuality::Good
        };
        Some(RecentQuality {
            quality,
            loss,
            bad_frames,
        })
    }

    pub(crate) fn latency(&mut self, ms: i64) {
        if self.latencies.len() == LATENCY_SAMPLES {
            self.latencies.pop_front();
        }
        self.latencies.push_back(ms);
        self.latency_max_ms = Some(self.latency_max_ms.map_or(ms, |m| m.max(ms)));
    }

    pub(crate) fn finish(&mut self) {
        let mut l: Vec<i64> = self.latencies.iter().copied().collect();
        l.sort_unstable();
        let pick = |q: f64| {
            l.get(((l.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        self.latency_p50_ms = pick(0.5);
        self.latency_p95_ms = pick(0.95);
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SentTrack {
    pub source: Option<TrackSource>,
    pub frames_sent: u64,
    pub keyframes_sent: u64,
    pub keyframe_requests: u64,
    /// Audio: loudness of the latest captured audio, as [`ReceivedTrack::level`].
    pub level: f32,
    /// Why the source stopped delivering (a device unplugged, a capture failure); cleared
    /// when a new source is set.
    pub error: Option<String>,
}

/// Loudness of 20 ms of audio on a 0..1 scale: RMS in dBFS, -60 dB (or quieter) to 0 dB.
pub fn audio_level(pcm: &[i16]) -> f32 {
    if pcm.is_empty() {
        return 0.0;
    }
    let mean_square = pcm
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / pcm.len() as f64;
    let rms = mean_square.sqrt() / 32768.0;
    if rms <= 0.0 {
        return 0.0;
    }
    ((20.0 * rms.log10() + 60.0) / 60.0).clamp(0.0, 1.0) as f32
}

/// A packet's level for its RTP header (RFC 6464): loudness in -dBov (0 loudest, 127
/// silence), with the voice bit set above -50 dBov (speech is about -20 to -40; a quiet
/// room, or noise that RNNoise turned down, is below -60).
pub fn rtp_audio_level(
    pcm: &[i16],
) -> rtc::rtp::extension::audio_level_extension::AudioLevelExtension {
    let mean_square = if pcm.is_empty() {
        0.0
    } else {
        pcm.iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum::<f64>()
            / pcm.len() as f64
    };
    let rms = mean_square.sqrt() / 32768.0;
    let dbov = if rms > 0.0 {
        20.0 * rms.log10()
    } else {
        -127.0
    };
    let level = (-dbov).round().clamp(0.0, 127.0) as u8;
    rtc::rtp::extension::audio_level_extension::AudioLevelExtension {
        level,
        voice: level < 50,
    }
}

/// A level that rises at once and falls gently, so meters and speaker highlights do not
/// flicker between words.
pub fn smooth_level(previous: f32, current: f32) -> f32 {
    if current >= previous {
        current
    } else {
        (previous * 0.85).max(current)
    }
}

/// A snapshot of everything a client measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientStats {
    pub identity: String,
    pub sent: BTreeMap<String, SentTrack>,
    /// Keyed by `identity:source` (the relay's track id).
    pub received: BTreeMap<String, ReceivedTrack>,
}

impl ClientStats {
    /// Each remote participant's link quality lately: the worst of their tracks (see
    /// [`ReceivedTrack::recent`]). Participants with too little to judge by are left out.
    pub fn links(&mut self, now: Instant) -> BTreeMap<String, RecentQuality> {
        let mut out: BTreeMap<String, RecentQuality> = BTreeMap::new();
        for track in self.received.values_mut() {
            if !track.active {
                continue;
            }
            let Some(recent) = track.recent(now) else {
                continue;
            };
            let worst = out.entry(track.identity.clone()).or_insert(recent);
            if recent.quality > worst.quality {
                worst.quality = recent.quality;
            }
            worst.loss = worst.loss.max(recent.loss);
            worst.bad_frames = worst.bad_frames.max(recent.bad_frames);
        }
        out
    }

    /// The received track for `identity`'s `source`.
    pub fn track(&self, identity: &str, source: TrackSource) -> Option<&ReceivedTrack> {
        self.received
            .get(&format!("{identity}:{}", source.as_str()))
    }
}

/// Shared, lock-protected stats.
#[derive(Clone, Default)]
pub struct StatsHandle(Arc<Mutex<ClientStats>>);

impl StatsHandle {
    pub fn new(identity: &str) -> Self {
        StatsHandle(Arc::new(Mutex::new(ClientStats {
            identity: identity.to_string(),
            ..Default::default()
        })))
    }

    pub fn update<T>(&self, f: impl FnOnce(&mut ClientStats) -> T) -> T {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    pub fn snapshot(&self) -> ClientStats {
        let mut s = self.update(|s| s.clone());
        for t in s.received.values_mut() {
            t.finish();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles_cover_the_recent_samples_and_the_max_all_of_them() {
        let mut t = ReceivedTrack::default();
        t.latency(900);
        for _ in 0..LATENCY_SAMPLES {
            t.latency(20);
        }
        t.finish();
        assert_eq!(t.latencies.len(), LATENCY_SAMPLES, "bounded");
        assert_eq!(
            t.latency_p95_ms,
            Some(20),
            "the old sample has left the window"
        );
        assert_eq!(t.latency_max_ms, Some(900), "the worst is kept");
    }

    /// A track whose counters grow by `packets` (of which `lost` missing) and `frames`
    /// (of which `bad` unshowable) each second, for `secs` seconds from `start`.
    fn feed(t: &mut ReceivedTrack, start: Instant, secs: u64, per_second: [u64; 4]) -> Instant {
        let [packets, lost, frames, bad] = per_second;
        let mut now = start;
        for _ in 0..secs {
            now += Duration::from_secs(1);
            t.packets += packets - lost;
            t.packets_lost += lost;
            t.frames_decoded += frames - bad;
            t.frames_skipped += bad;
            t.recent(now);
        }
        now
    }

    #[test]
    fn link_quality_follows_the_last_seconds_of_loss() {
        let start = Instant::now();
        let mut t = ReceivedTrack {
            kind: "video".into(),
            ..Default::default()
        };
        assert_eq!(t.recent(start), None, "nothing to judge by yet");
        let now = feed(&mut t, start, 6, [100, 0, 30, 0]);
        assert_eq!(t.recent(now).unwrap().quality, LinkQuality::Good);
        // 15% of packets lost and a third of the frames unshowable: poor at once...
        let now = feed(&mut t, now, 3, [100, 15, 30, 10]);
        let r = t.recent(now).unwrap();
        assert_eq!(r.quality, LinkQuality::Poor, "{r:?}");
        assert!(r.loss >= 0.08 && r.bad_frames >= 0.2, "{r:?}");
        // ...fair with a little loss...
        let now = feed(&mut t, now, 6, [100, 4, 30, 0]);
        assert_eq!(t.recent(now).unwrap().quality, LinkQuality::Fair);
        // ...and good again once the window holds no loss.
        let now = feed(&mut t, now, 6, [100, 0, 30, 0]);
        assert_eq!(t.recent(now).unwrap().quality, LinkQuality::Good);
        // A track that stops (muted) says nothing rather than "poor".
        let now = feed(&mut t, now, 6, [0, 0, 0, 0]);
        assert_eq!(t.recent(now), None);
    }

    #[test]
    fn a_participant_is_as_good_as_their_worst_track() {
        let start = Instant::now();
        let mut stats = ClientStats::default();
        for (key, identity, kind, lost) in [
            ("ada:camera", "ada", "video", 0),
            ("ada:microphone", "ada", "audio", 10),
            ("bob:camera", "bob", "video", 0),
        ] {
            let mut t = ReceivedTrack {
                identity: identity.into(),
                kind: kind.into(),
                active: true,
                ..Default::default()
            };
            feed(&mut t, start, 4, [50, lost, 30, 0]);
            stats.received.insert(key.into(), t);
        }
        let links = stats.links(start + Duration::from_secs(4));
        assert_eq!(links["ada"].quality, LinkQuality::Poor);
        assert_eq!(links["bob"].quality, LinkQuality::Good);
    }
}
