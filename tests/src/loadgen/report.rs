//! Scenarios, running one against a relay, and what a run measured.

use std::time::{Duration, Instant};

use studyhall_client::media::publish::SMALL_LAYER_KBPS;
use studyhall_protocol::Grants;
use studyhall_relay::auth::TokenKeys;

use super::participant::{self, ParticipantStats, Publish, Window};
use super::relay::{cpu_time, rss_bytes};
use super::{now_us, percentile};

/// A load to put on a relay.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub participants: usize,
    /// What participant `i` publishes.
    pub publish: fn(usize) -> Publish,
    /// Joins are spread evenly over this long.
    pub join_window: Duration,
    /// Time after the last join before measuring starts.
    pub warmup: Duration,
    /// How long the measuring window lasts.
    pub measure: Duration,
    /// Part of the plotted series (CPU per egress packet against room size).
    pub plotted: bool,
}

/// Camera (400 kbit/s) and audio.
pub fn camera_and_audio(_: usize) -> Publish {
    Publish {
        camera_kbps: Some(400),
        audio: true,
        ..Publish::NOTHING
    }
}

/// What the app publishes: its camera (640×360, 500 kbit/s at 15 fps) and microphone.
pub fn app_camera(_: usize) -> Publish {
    Publish {
        camera_kbps: Some(500),
        audio: true,
        fps: 15,
        ..Publish::NOTHING
    }
}

/// What the app does since the relay sends only what is seen: shows a page of 8 other
/// cameras in 640×360 tiles (the full layer), the rest paused.
pub fn paged(i: usize) -> Publish {
    Publish {
        shows: Some(super::participant::Shows {
            tiles: 8,
            width: 640,
            height: 360,
        }),
        ..app_camera(i)
    }
}

/// [`paged`] in small tiles (320×180), with the camera also published small (at the
/// app's rate, [`SMALL_LAYER_KBPS`]).
pub fn paged_small(i: usize) -> Publish {
    Publish {
        small_kbps: Some(SMALL_LAYER_KBPS),
        shows: Some(super::participant::Shows {
            tiles: 8,
            width: 320,
            height: 180,
        }),
        ..app_camera(i)
    }
}

/// [`paged_small`], and only participants 0 and 1 speak: every microphone's packets carry
/// their level (RFC 6464), the others' silence, as a room of 25 mostly is.
pub fn paged_small_two_speak(i: usize) -> Publish {
    Publish {
        speaks: Some(i < 2),
        ..paged_small(i)
    }
}

/// [`paged`], and only participants 0 and 1 speak.
pub fn paged_two_speak(i: usize) -> Publish {
    Publish {
        small_kbps: Some(SMALL_LAYER_KBPS),
        speaks: Some(i < 2),
        ..paged(i)
    }
}

/// A lecture: participant 0 presents (a screen share at 1.2 Mbit/s, the app's rate, and
/// the only voice);
/// everyone shows the screen large and a page of 8 small cameras (two layers).
pub fn lecture(i: usize) -> Publish {
    Publish {
        screen_kbps: (i == 0).then_some(1200),
        speaks: Some(i == 0),
        ..paged_small(i)
    }
}

/// Participant 0 shares a screen (1.5 Mbit/s) too.
pub fn with_screen_share(i: usize) -> Publish {
    Publish {
        screen_kbps: (i == 0).then_some(1500),
        ..camera_and_audio(i)
    }
}

/// Participant 0 speaks, nobody else publishes.
pub fn one_speaker(i: usize) -> Publish {
    Publish {
        audio: i == 0,
        ..Publish::NOTHING
    }
}

impl Scenario {
    pub fn room(participants: usize) -> Scenario {
        Scenario {
            name: format!("room of {participants}, camera + audio"),
            participants,
            publish: camera_and_audio,
            join_window: Duration::from_millis(200 * participants as u64),
            warmup: Duration::from_secs(2),
            measure: Duration::from_secs(10),
            plotted: true,
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub scenario: String,
    pub participants: usize,
    /// Frames delivered ÷ frames expected (every subscriber, every other publisher).
    pub fidelity: f64,
    pub delivered: u64,
    pub expected: u64,
    pub latency_p50_us: Option<u32>,
    pub latency_p99_us: Option<u32>,
    pub latency_p999_us: Option<u32>,
    pub join_p50_ms: Option<u32>,
    pub join_p95_ms: Option<u32>,
    /// Relay CPU (user + system) over the window.
    pub cpu: Duration,
    /// RTP packets delivered to subscribers in the window.
    pub egress_packets: u64,
    pub egress_bytes: u64,
    pub measure: Duration,
    pub cpu_us_per_egress_packet: Option<f64>,
    /// Egress bitrate per core of relay CPU used.
    pub egress_mbit_per_core: Option<f64>,
    pub rss_per_participant: Option<u64>,
    pub errors: Vec<String>,
    /// (subscriber, publisher, track) with media sent but none of it received, over the
    /// whole run: whether everyone got everyone, whatever the rate.
    pub silent_pairs: Vec<(u32, u32, u8)>,
    /// With views: the tiles participants show (a page of cameras, and screen shares),
    /// and how many of them got at least 90% of their frames complete in the window.
    pub tiles_shown: u64,
    pub tiles_decoding: u64,
    /// The relay's own count of what it sent (its `/metrics`, headers included), the
    /// mean over the window, and the tiles its upload budget held small and paused at
    /// the end: (bits per second, held small, paused).
    pub relay_upload: Option<(u64, u64, u64)>,
}

/// Sample the relay at `addr`'s upload (`/metrics`) once a second for `measure`, after
/// `after`: the mean upload, and the tiles held small and paused at the last sample.
pub async fn sample_upload(
    addr: std::net::SocketAddr,
    after: Duration,
    measure: Duration,
) -> Option<(u64, u64, u64)> {
    use studyhall_client::host::HostUpload;
    tokio::time::sleep(after).await;
    let mut samples = Vec::new();
    let until = tokio::time::Instant::now() + measure;
    while tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(u) = HostUpload::fetch(addr).await {
            samples.push(u);
        }
    }
    let last = samples.last()?;
    let mean = samples.iter().map(|u| u.bits_per_second).sum::<u64>() / samples.len() as u64;
    Some((mean, last.held_small, last.paused))
}

/// Whether `sub` got at least 90% of the frames of one source `publisher` sent in the
/// window, whichever of its `tracks` (layers, sent at the same frame rate) they came on:
/// a tile switched between layers in the window is seen all along.
fn decodes(sub: &ParticipantStats, publisher: &ParticipantStats, tracks: &[u8]) -> bool {
    let sent = tracks
        .iter()
        .map(|&t| publisher.sent_in_window[t as usize])
        .max()
        .unwrap_or(0);
    let got: u64 = tracks
        .iter()
        .filter_map(|&t| sub.received.get(&(publisher.index, t)))
        .map(|r| r.frames_in_window)
        .sum();
    sent > 0 && got * 10 >= sent * 9
}

/// The system a run loads.
#[derive(Debug, Clone)]
pub enum Target {
    /// `studyhall-relay` at `url`; tokens signed with `secret`.
    Studyhall { url: String, secret: String },
    /// The null relay's UDP address.
    Null { addr: std::net::SocketAddr },
    /// Janus's HTTP API, the address its peers use, and the VideoRoom room.
    Janus {
        api: std::net::SocketAddr,
        ip: std::net::IpAddr,
        room: u64,
    },
}

/// Run `scenario` against `target` (process `pid`) in room `room`.
pub async fn run(target: &Target, pid: u32, room: &str, scenario: &Scenario) -> Report {
    let n = scenario.participants.max(1);
    let start = Instant::now();
    let measure_from = start + scenario.join_window + scenario.warmup;
    let measure_to = measure_from + scenario.measure;
    let until = measure_to + Duration::from_millis(500);
    let wall =
        |t: Instant| now_us() + t.saturating_duration_since(Instant::now()).as_micros() as u64;
    let window = Window {
        from_us: wall(measure_from),
        to_us: wall(measure_to),
    };
    let rss_before = rss_bytes(pid);
    let mut tasks = Vec::new();
    for i in 0..n {
        let at = start + scenario.join_window.mul_f64(i as f64 / n as f64);
        let publish = (scenario.publish)(i);
        let task = match target {
            Target::Studyhall { url, secret } => {
                let keys = TokenKeys::new(secret.as_bytes(), Duration::from_secs(30));
                let identity = format!("p{i}");
                let token = keys
                    .issue(
                        room,
                        &identity,
                        &identity,
                        Grants::member(),
                        Duration::from_secs(3600),
                    )
                    .expect("token");
                let (url, room) = (url.clone(), room.to_string());
                tokio::spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    participant::run(i as u32, url, room, token, publish, window, until).await
                })
            }
            Target::Null { addr } => {
                let addr = *addr;
                tokio::spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    super::null::participant(i as u32, addr, publish, window, until).await
                })
            }
            Target::Janus { api, ip, room } => {
                let (api, ip, room) = (*api, *ip, *room);
                tokio::spawn(async move {
                    tokio::time::sleep_until(at.into()).await;
                    super::janus::participant(i as u32, api, ip, room, publish, window, until).await
                })
            }
        };
        tasks.push(task);
    }
    // Relay cost over exactly the window.
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu_from = cpu_time(pid);
    tokio::time::sleep_until(measure_to.into()).await;
    let cpu_to = cpu_time(pid);
    let rss_loaded = rss_bytes(pid);
    let mut stats = Vec::new();
    for t in tasks {
        if let Ok(s) = t.await {
            stats.push(s);
        }
    }
    let mut report = summarize(scenario, &stats);
    report.cpu = match (cpu_from, cpu_to) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    report.measure = scenario.measure;
    if report.egress_packets > 0 && !report.cpu.is_zero() {
        report.cpu_us_per_egress_packet =
            Some(report.cpu.as_micros() as f64 / report.egress_packets as f64);
        report.egress_mbit_per_core =
            Some(report.egress_bytes as f64 * 8.0 / 1e6 / report.cpu.as_secs_f64());
    }
    if let (Some(before), Some(after)) = (rss_before, rss_loaded) {
        report.rss_per_participant = Some(after.saturating_sub(before) / n as u64);
    }
    report
}

/// Fidelity, latency and join time from every participant's view.
pub fn summarize(scenario: &Scenario, stats: &[ParticipantStats]) -> Report {
    let mut report = Report {
        scenario: scenario.name.clone(),
        participants: scenario.participants,
        ..Default::default()
    };
    let mut latencies = Vec::new();
    let mut joins = Vec::new();
    for sub in stats {
        for publisher in stats.iter().filter(|p| p.index != sub.index) {
            for track in 0..4u8 {
                let received = sub
                    .received
                    .get(&(publisher.index, track))
                    .map_or(0, |r| r.frames);
                if publisher.sent_total[track as usize] > 0 && received == 0 {
                    report
                        .silent_pairs
                        .push((sub.index, publisher.index, track));
                }
                let sent = publisher.sent_in_window[track as usize];
                if sent == 0 {
                    continue;
                }
                report.expected += sent;
                if let Some(r) = sub.received.get(&(publisher.index, track)) {
                    report.delivered += r.frames_in_window.min(sent);
                    report.egress_packets += r.packets_in_window;
                    report.egress_bytes += r.bytes_in_window;
                }
            }
        }
        if let Some(shows) = (scenario.publish)(sub.index as usize).shows {
            let others = || stats.iter().filter(|p| p.index != sub.index);
            let cameras = others().filter(|p| p.sent_total[0] > 0).count();
            let screens = others().filter(|p| p.sent_total[2] > 0).count();
            report.tiles_shown += (shows.tiles.min(cameras) + screens) as u64;
            report.tiles_decoding += others()
                .map(|p| u64::from(decodes(sub, p, &[0, 3])) + u64::from(decodes(sub, p, &[2])))
                .sum::<u64>();
        }
        latencies.extend_from_slice(&sub.latencies_us);
        // The first participant waits for someone to publish; the others join a room
        // with media in it.
        if sub.index > 0 {
            if let Some(j) = sub.join_time {
                joins.push(j.as_millis().min(u128::from(u32::MAX)) as u32);
            }
        }
        report
            .errors
            .extend(sub.errors.iter().map(|e| format!("p{}: {e}", sub.index)));
    }
    report.fidelity = if report.expected == 0 {
        0.0
    } else {
        report.delivered as f64 / report.expected as f64
    };
    latencies.sort_unstable();
    joins.sort_unstable();
    report.latency_p50_us = percentile(&latencies, 0.5);
    report.latency_p99_us = percentile(&latencies, 0.99);
    report.latency_p999_us = percentile(&latencies, 0.999);
    report.join_p50_ms = percentile(&joins, 0.5);
    report.join_p95_ms = percentile(&joins, 0.95);
    report
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

impl Report {
    /// The header of [`Report::markdown_row`].
    /// The relay's egress (the host's upload, when a member hosts) by kind of view.
    pub const EGRESS_HEADER: &'static str = "| participants | what each receives | relay egress, media payload (Mbit/s) | the relay's upload with headers (Mbit/s) | per receiver (Mbit/s) | packets/s | relay CPU (% of a core) | shown tiles decoding | held small / paused by the budget |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|";

    pub fn egress_row(&self, view: &str) -> String {
        let secs = self.measure.as_secs_f64().max(0.001);
        let mbit = self.egress_bytes as f64 * 8.0 / 1e6 / secs;
        let tiles = if self.tiles_shown == 0 {
            "–".to_string()
        } else {
            format!("{} of {}", self.tiles_decoding, self.tiles_shown)
        };
        let (upload, budget) = match self.relay_upload {
            Some((bps, small, paused)) => (
                format!("{:.1}", bps as f64 / 1e6),
                format!("{small} / {paused}"),
            ),
            None => ("?".into(), "?".into()),
        };
        format!(
            "| {} | {view} | {mbit:.1} | {upload} | {:.2} | {:.0} | {:.0} | {tiles} | {budget} |",
            self.participants,
            mbit / self.participants.max(1) as f64,
            self.egress_packets as f64 / secs,
            self.cpu.as_secs_f64() / secs * 100.0,
        )
    }

    pub const MARKDOWN_HEADER: &'static str = "| scenario | system | fidelity | latency p50 / p99 / p99.9 (µs) | join p50 / p95 (ms) | relay CPU µs per egress packet | egress Mbit/s per core | RSS per participant (KiB) | egress packets |\n|---|---|---|---|---|---|---|---|---|";

    pub fn markdown_row(&self, system: &str) -> String {
        format!(
            "| {} | {system} | {:.4} | {} / {} / {} | {} / {} | {} | {} | {} | {} |",
            self.scenario,
            self.fidelity,
            opt(self.latency_p50_us),
            opt(self.latency_p99_us),
            opt(self.latency_p999_us),
            opt(self.join_p50_ms),
            opt(self.join_p95_ms),
            self.cpu_us_per_egress_packet
                .map_or("–".into(), |v| format!("{v:.1}")),
            self.egress_mbit_per_core
                .map_or("–".into(), |v| format!("{v:.0}")),
            opt(self.rss_per_participant.map(|b| b / 1024)),
            self.egress_packets,
        )
    }
}
