//! A receiver behind a constrained link: real clients (webrtc-rs, VP8 and Opus encoded and
//! decoded) through the relay, the receiver's media through the shaping proxy
//! ([`crate::lossy`]). The speaker publishes a 640×360 camera at 30 fps and the tone;
//! two others publish small cameras. The receiver shows the speaker large and the others
//! small, and the run measures how the speaker's video decodes: frames a second, and the
//! share of the time frozen (gaps of more than 200 ms between decoded frames).

use std::path::Path;
use std::time::Duration;

use studyhall_client::media::{MediaClient, MediaOptions, Tile, VideoFormat};
use studyhall_protocol::{Grants, TrackSource};
use studyhall_relay::auth::TokenKeys;

use super::relay::RelayProcess;
use crate::lossy::{free_udp_port, Link, LossyProxy};

const SECRET: &str = "constrained-link-benchmark-secret-0123456789";
const ROOM: &str = "constrained";

/// What one run measured, of the speaker's camera at the receiver.
#[derive(Debug, Clone)]
pub struct ConstrainedReport {
    pub link: Link,
    pub measure: Duration,
    pub fps: f64,
    /// Share of the window spent frozen.
    pub frozen: f64,
    pub freezes: u64,
    /// What the receiver's stack counted lost for good, of what it received.
    pub packets_lost: u64,
    pub packets: u64,
    /// Datagrams toward the receiver the proxy lost, and dropped at its queue.
    pub dropped_to_receiver: u64,
    pub queue_dropped: u64,
    /// The speaker's tone heard in this share of 100 ms windows.
    pub audio_matched: f64,
    pub frame_size: Option<(u32, u32)>,
    /// Capture to decoded, ms (the playout delay included), over the latest frames.
    pub latency_p50_ms: Option<i64>,
    pub latency_p95_ms: Option<i64>,
}

impl ConstrainedReport {
    pub const MARKDOWN_HEADER: &'static str = "| link | speaker's video at the receiver | frozen | freezes (> 500 ms) | capture to decoded p50 / p95 (ms) | lost for good / received packets | dropped by the link (loss, queue) | speaker's audio |\n|---|---|---:|---:|---:|---:|---:|---:|";

    pub fn markdown_row(&self) -> String {
        let l = &self.link;
        let size = self
            .frame_size
            .map_or("?".to_string(), |(w, h)| format!("{w}×{h}"));
        format!(
            "| {} Mbit/s down, {:.0}% loss, {} ms RTT | {:.1} fps at {size} | {:.2}% | {} | {} / {} | {} / {} | {} + {} | {:.0}% of windows |",
            l.down_bps.map_or("unlimited".into(), |b| format!("{}", b as f64 / 1e6)),
            l.loss * 100.0,
            (l.delay * 2).as_millis(),
            self.fps,
            self.frozen * 100.0,
            self.freezes,
            self.latency_p50_ms.map_or("?".into(), |v| v.to_string()),
            self.latency_p95_ms.map_or("?".into(), |v| v.to_string()),
            self.packets_lost,
            self.packets,
            self.dropped_to_receiver,
            self.queue_dropped,
            self.audio_matched * 100.0,
        )
    }
}

fn token(identity: &str) -> String {
    TokenKeys::new(SECRET.as_bytes(), Duration::from_secs(30))
        .issue(
            ROOM,
            identity,
            identity,
            Grants::member(),
            Duration::from_secs(3600),
        )
        .expect("token")
}

/// Run the scenario on `binary` with the receiver behind `link`: `warmup`, then measure
/// for `measure`.
pub async fn run(
    binary: &Path,
    link: Link,
    warmup: Duration,
    measure: Duration,
) -> Result<ConstrainedReport, String> {
    let media_port = free_udp_port();
    let proxy = LossyProxy::shaped(
        format!("127.0.0.1:{media_port}").parse().unwrap(),
        Link::CLEAR,
    )
    .await;
    let relay = RelayProcess::start(
        binary,
        SECRET,
        None,
        &[
            ("STUDYHALL_MEDIA_PORT".into(), media_port.to_string()),
            ("STUDYHALL_MEDIA_ADVERTISE".into(), proxy.addr.to_string()),
        ],
    )
    .map_err(|e| format!("relay: {e}"))?;
    let connect = |identity: &'static str, options: MediaOptions| {
        let url = relay.url.clone();
        async move {
            MediaClient::connect(&url, ROOM, &token(identity), options, Default::default())
                .await
                .map_err(|e| format!("{identity}: {e}"))
        }
    };
    // The speaker and two others publish over clear links.
    let speaker = connect(
        "speaker",
        MediaOptions {
            camera_format: VideoFormat {
                width: 640,
                height: 360,
                fps: 30,
                bitrate_kbps: 1000,
            },
            ..Default::default()
        },
    )
    .await?;
    let mut others = Vec::new();
    for name in ["other-1", "other-2"] {
        others.push(
            connect(
                name,
                MediaOptions {
                    microphone: false,
                    ..Default::default()
                },
            )
            .await?,
        );
    }
    // The receiver, behind the constrained link.
    proxy.set_link_for_new_clients(link);
    let receiver = connect(
        "receiver",
        MediaOptions {
            camera: false,
            microphone: false,
            ..Default::default()
        },
    )
    .await?;
    let tile = |identity: &str, width, height| Tile {
        identity: identity.into(),
        source: TrackSource::Camera,
        width,
        height,
    };
    receiver
        .set_view(vec![
            tile("speaker", 1280, 720),
            tile("other-1", 320, 180),
            tile("other-2", 320, 180),
        ])
        .await
        .map_err(|e| format!("view: {e}"))?;
    tokio::time::sleep(warmup).await;
    let counters = &proxy.counters;
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let (dropped0, queue0) = (
        load(&counters.to_client_dropped),
        load(&counters.to_client_queue_dropped),
    );
    let video = |r: &MediaClient| r.stats().track("speaker", TrackSource::Camera).cloned();
    let audio = |r: &MediaClient| r.stats().track("speaker", TrackSource::Microphone).cloned();
    let (v0, a0) = (video(&receiver), audio(&receiver));
    tokio::time::sleep(measure).await;
    let (v1, a1) = (video(&receiver), audio(&receiver));
    let (Some(v0), Some(v1)) = (v0, v1) else {
        return Err("the receiver got no video from the speaker".into());
    };
    let secs = measure.as_secs_f64();
    let audio_matched = match (a0, a1) {
        (Some(a0), Some(a1)) if a1.tone_windows > a0.tone_windows => {
            (a1.tone_windows_matched - a0.tone_windows_matched) as f64
                / (a1.tone_windows - a0.tone_windows) as f64
        }
        _ => 0.0,
    };
    let report = ConstrainedReport {
        link,
        measure,
        fps: (v1.frames_decoded - v0.frames_decoded) as f64 / secs,
        frozen: (v1.frozen_ms - v0.frozen_ms) as f64 / 1000.0 / secs,
        freezes: v1.freezes - v0.freezes,
        // The stack's count goes down when a packet counted lost comes late.
        packets_lost: v1.packets_lost.saturating_sub(v0.packets_lost),
        packets: v1.packets - v0.packets,
        dropped_to_receiver: load(&counters.to_client_dropped) - dropped0,
        queue_dropped: load(&counters.to_client_queue_dropped) - queue0,
        audio_matched,
        frame_size: v1.frame_size,
        latency_p50_ms: v1.latency_p50_ms,
        latency_p95_ms: v1.latency_p95_ms,
    };
    for c in others {
        let _ = c.leave().await;
    }
    let _ = receiver.leave().await;
    let _ = speaker.leave().await;
    drop(relay);
    Ok(report)
}
