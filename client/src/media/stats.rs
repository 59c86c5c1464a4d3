//! Per-track statistics: what was sent, what arrived, what decoded, and — for test
//! pattern and tone sources — whether it verifies (identity, order, latency).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use studyhall_protocol::TrackSource;

/// A gap between decoded frames longer than this counts as a freeze.
pub const FREEZE_MS: u64 = 500;

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
    pub fps: f64,
    /// End-to-end latency (capture → decoded), ms.
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
    pub(crate) latencies: Vec<i64>,
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
            if now.duration_since(last).as_millis() as u64 > FREEZE_MS {
                self.freezes += 1;
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

    pub(crate) fn finish(&mut self) {
        let mut l = self.latencies.clone();
        l.sort_unstable();
        let pick = |q: f64| {
            l.get(((l.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        self.latency_p50_ms = pick(0.5);
        self.latency_p95_ms = pick(0.95);
        self.latency_max_ms = l.last().copied();
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
