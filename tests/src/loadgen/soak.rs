//! The long run: several rooms with media, chat, whiteboard and timer traffic, people
//! joining and leaving throughout, while the relay's resident memory and open file
//! descriptors are sampled. Afterwards everyone leaves, and the relay should be back near
//! where it started: what grows with time (not with load) is a leak.
//!
//! Each room has:
//! - `media` emulated participants (camera 400 kbit/s and audio), each staying a while
//!   (45 to 150 s) and then replaced by someone new;
//! - a host that chats every 2 s, stores a whiteboard stroke every second (clearing the
//!   page every 200), runs a focus timer of one-minute phases (pausing and resuming it
//!   now and then), and reconnects every 5 minutes;
//! - a visitor every 10 s who joins, says something, and leaves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use studyhall_client::features::board::wave;
use studyhall_client::SignalClient;
use studyhall_protocol::board::FIRST_PAGE;
use studyhall_protocol::timer::TimerSettings;
use studyhall_protocol::{
    BoardRequest, ClientMessage, Grants, MediaState, ServerMessage, TimerRequest,
};
use studyhall_relay::auth::TokenKeys;

use super::participant::{self, Window};
use super::relay::rss_bytes;
use super::report::camera_and_audio;

/// The shape of a soak.
#[derive(Debug, Clone)]
pub struct Soak {
    pub duration: Duration,
    pub rooms: usize,
    /// Media participants per room at any time.
    pub media: usize,
    /// How often the relay is sampled.
    pub sample_every: Duration,
    /// How long after everyone left the final sample is taken.
    pub settle: Duration,
    /// Rooms are named `<name>-<n>`: a second round on the same relay uses new rooms.
    pub name: String,
}

/// One sample of the relay process.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds since the load started (negative: before, the baseline).
    pub at_s: f64,
    pub rss_bytes: u64,
    pub fds: u64,
    /// The relay's heap in use, and what of it SQLite holds, from its `/metrics` (the
    /// heap with glibc only).
    pub heap_bytes: Option<u64>,
    pub sqlite_bytes: Option<u64>,
}

/// What the long run saw.
#[derive(Debug, Clone, Default)]
pub struct SoakReport {
    pub baseline: Option<Sample>,
    pub samples: Vec<Sample>,
    pub after: Option<Sample>,
    /// Media participants started, and how many of those received media.
    pub media_sessions: u64,
    pub media_sessions_receiving: u64,
    pub frames_received: u64,
    pub chat_acked: u64,
    pub board_ops: u64,
    pub timer_changes: u64,
    pub visitors: u64,
    pub reconnects: u64,
    pub errors: Vec<String>,
}

/// Open file descriptors of a process, from /proc/<pid>/fd.
pub fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

async fn sample(url: &str, pid: u32, at_s: f64) -> Option<Sample> {
    let metrics = metrics(url).await.unwrap_or_default();
    let gauge = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))?
            .trim()
            .parse()
            .ok()
    };
    Some(Sample {
        at_s,
        rss_bytes: rss_bytes(pid)?,
        fds: open_fds(pid)?,
        heap_bytes: gauge("studyhall_heap_in_use_bytes"),
        sqlite_bytes: gauge("studyhall_sqlite_memory_bytes"),
    })
}

/// The relay's `/metrics` text (`url` is its `ws://` base address).
async fn metrics(url: &str) -> Option<String> {
    let base = url.replacen("ws://", "http://", 1);
    reqwest::get(format!("{base}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// Least-squares slope of `y` against `x`, per unit of `x`.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    Some(sxy / sxx)
}

#[derive(Default)]
struct Counters {
    media_sessions: AtomicU64,
    media_receiving: AtomicU64,
    frames: AtomicU64,
    chat_acked: AtomicU64,
    board_ops: AtomicU64,
    timer_changes: AtomicU64,
    visitors: AtomicU64,
    reconnects: AtomicU64,
    errors: std::sync::Mutex<Vec<String>>,
}

impl Counters {
    fn error(&self, e: String) {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        // The first few say what went wrong; the rest are counted.
        if errors.len() < 50 {
            errors.push(e);
        }
    }
}

/// Signaling only: no subscribe connection the relay would wait for.
fn no_media(grants: Grants) -> Grants {
    Grants {
        subscribe: false,
        publish: false,
        ..grants
    }
}

fn token(keys: &TokenKeys, room: &str, id: &str, grants: Grants) -> String {
    keys.issue(room, id, id, grants, Duration::from_secs(4 * 3600))
        .expect("token")
}

/// A small deterministic generator, so two soaks of the same shape do the same.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// Run `soak` against the relay at `url` (process `pid`), printing a line per sample to
/// stderr as it goes.
pub async fn run(url: &str, secret: &str, pid: u32, soak: &Soak) -> SoakReport {
    let keys = TokenKeys::new(secret.as_bytes(), Duration::from_secs(30));
    let counters = Arc::new(Counters::default());
    let mut report = SoakReport {
        baseline: sample(url, pid, 0.0).await,
        ..Default::default()
    };
    let start = Instant::now();
    let end = start + soak.duration;
    let mut tasks = Vec::new();
    for r in 0..soak.rooms {
        let room = format!("{}-{r}", soak.name);
        for slot in 0..soak.media {
            tasks.push(tokio::spawn(media_slot(
                url.to_string(),
                keys.clone(),
                room.clone(),
                slot,
                end,
                counters.clone(),
            )));
        }
        tasks.push(tokio::spawn(host(
            url.to_string(),
            keys.clone(),
            room.clone(),
            end,
            counters.clone(),
        )));
        tasks.push(tokio::spawn(visitors(
            url.to_string(),
            keys.clone(),
            room,
            end,
            counters.clone(),
        )));
    }
    let mut ticker = tokio::time::interval(soak.sample_every);
    ticker.tick().await;
    while Instant::now() < end {
        ticker.tick().await;
        if let Some(s) = sample(url, pid, start.elapsed().as_secs_f64()).await {
            eprintln!(
                "soak: {:>5.0} s  rss {:>6.1} MiB  heap {:>6.1} MiB (sqlite {:>5.1})  fds {:>4}  media sessions {}  chat {}  board {}",
                s.at_s,
                s.rss_bytes as f64 / 1048576.0,
                s.heap_bytes.unwrap_or(0) as f64 / 1048576.0,
                s.sqlite_bytes.unwrap_or(0) as f64 / 1048576.0,
                s.fds,
                counters.media_sessions.load(Ordering::Relaxed),
                counters.chat_acked.load(Ordering::Relaxed),
                counters.board_ops.load(Ordering::Relaxed),
            );
            report.samples.push(s);
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(soak.settle).await;
    report.after = sample(url, pid, start.elapsed().as_secs_f64()).await;
    let c = &counters;
    report.media_sessions = c.media_sessions.load(Ordering::Relaxed);
    report.media_sessions_receiving = c.media_receiving.load(Ordering::Relaxed);
    report.frames_received = c.frames.load(Ordering::Relaxed);
    report.chat_acked = c.chat_acked.load(Ordering::Relaxed);
    report.board_ops = c.board_ops.load(Ordering::Relaxed);
    report.timer_changes = c.timer_changes.load(Ordering::Relaxed);
    report.visitors = c.visitors.load(Ordering::Relaxed);
    report.reconnects = c.reconnects.load(Ordering::Relaxed);
    report.errors = std::mem::take(&mut *c.errors.lock().unwrap_or_else(|p| p.into_inner()));
    report
}

/// One media place in a room: someone joins, stays a while, leaves; someone new comes.
async fn media_slot(
    url: String,
    keys: TokenKeys,
    room: String,
    slot: usize,
    end: Instant,
    counters: Arc<Counters>,
) {
    let mut rng = (slot as u64 + 1) * 0x9e37_79b9 + room.len() as u64;
    let mut generation = 0u64;
    // Spread the first joins over the first few seconds.
    tokio::time::sleep(Duration::from_millis(300 * slot as u64)).await;
    while Instant::now() + Duration::from_secs(5) < end {
        let stay = Duration::from_secs(45 + next(&mut rng) % 105);
        let until = (Instant::now() + stay).min(end);
        let identity = format!("{room}-m{slot}-{generation}");
        generation += 1;
        let t = token(&keys, &room, &identity, Grants::member());
        counters.media_sessions.fetch_add(1, Ordering::Relaxed);
        // No measuring window: latencies are not kept, frames are counted.
        let window = Window {
            from_us: 0,
            to_us: 0,
        };
        let stats = participant::run(
            slot as u32,
            url.clone(),
            room.clone(),
            t,
            camera_and_audio(slot),
            window,
            until,
        )
        .await;
        let frames: u64 = stats.received.values().map(|r| r.frames).sum();
        counters.frames.fetch_add(frames, Ordering::Relaxed);
        if frames > 0 {
            counters.media_receiving.fetch_add(1, Ordering::Relaxed);
        }
        for e in stats.errors {
            counters.error(format!("{identity}: {e}"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The room's host: chat, whiteboard and timer traffic; a reconnect every 5 minutes.
async fn host(url: String, keys: TokenKeys, room: String, end: Instant, counters: Arc<Counters>) {
    let identity = format!("{room}-host");
    let mut sent = 0u64;
    let mut strokes = 0u32;
    while Instant::now() < end {
        let t = token(&keys, &room, &identity, no_media(Grants::host()));
        let mut client = match SignalClient::join(&url, &room, &t, MediaState::default()).await {
            Ok((c, _)) => c,
            Err(e) => {
                counters.error(format!("{identity} cannot join: {e}"));
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let session_end = (Instant::now() + Duration::from_secs(300)).min(end);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut seconds = 0u64;
        let start_timer = TimerRequest::TimerStart {
            settings: Some(TimerSettings {
                focus_secs: 60,
                short_break_secs: 60,
                long_break_secs: 60,
                rounds: 2,
            }),
        };
        let mut outgoing: Vec<ClientMessage> = vec![start_timer.into()];
        loop {
            for message in outgoing.drain(..) {
                if let Err(e) = client.send(message).await {
                    counters.error(format!("{identity}: send failed: {e}"));
                    break;
                }
            }
            tokio::select! {
                _ = tick.tick() => {}
                msg = client.recv() => {
                    match msg {
                        Ok(ServerMessage::ChatAck { .. }) => {
                            counters.chat_acked.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerMessage::Feature(studyhall_protocol::FeatureEvent::Board(_))) => {
                            counters.board_ops.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerMessage::Feature(studyhall_protocol::FeatureEvent::Timer(_))) => {
                            counters.timer_changes.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(ServerMessage::Error { code, message, fatal, .. }) => {
                            counters.error(format!("{identity}: {code:?}: {message}"));
                            if fatal {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            counters.error(format!("{identity}: connection lost: {e}"));
                            break;
                        }
                    }
                    continue;
                }
            }
            if Instant::now() >= session_end {
                break;
            }
            seconds += 1;
            if seconds % 2 == 0 {
                sent += 1;
                outgoing.push(ClientMessage::ChatSend {
                    client_msg_id: format!("soak-{sent}"),
                    text: format!("message {sent} from the host of {room}"),
                });
            }
            strokes += 1;
            if strokes % 200 == 0 {
                outgoing.push(
                    BoardRequest::BoardClear {
                        page: FIRST_PAGE.into(),
                    }
                    .into(),
                );
            } else {
                let mut object = wave("s", strokes);
                object.id = format!("s-{strokes}");
                outgoing.push(
                    BoardRequest::BoardAdd {
                        page: FIRST_PAGE.into(),
                        object,
                    }
                    .into(),
                );
            }
            match seconds % 90 {
                30 => outgoing.push(TimerRequest::TimerPause.into()),
                40 => outgoing.push(TimerRequest::TimerResume.into()),
                _ => {}
            }
        }
        let _ = client.leave().await;
        if Instant::now() < end {
            counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Every 10 s someone new joins, says hello, and leaves.
async fn visitors(
    url: String,
    keys: TokenKeys,
    room: String,
    end: Instant,
    counters: Arc<Counters>,
) {
    let mut n = 0u64;
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    tick.tick().await;
    while Instant::now() + Duration::from_secs(2) < end {
        tick.tick().await;
        n += 1;
        let identity = format!("{room}-v{n}");
        let t = token(&keys, &room, &identity, no_media(Grants::member()));
        let mut client = match SignalClient::join(&url, &room, &t, MediaState::default()).await {
            Ok((c, _)) => c,
            Err(e) => {
                counters.error(format!("{identity} cannot join: {e}"));
                continue;
            }
        };
        counters.visitors.fetch_add(1, Ordering::Relaxed);
        let hello = ClientMessage::ChatSend {
            client_msg_id: format!("hello-{n}"),
            text: "hello, just passing through".into(),
        };
        if let Err(e) = client.send(hello).await {
            counters.error(format!("{identity}: {e}"));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Ok(msg)) = tokio::time::timeout_at(deadline, client.recv()).await {
            if matches!(msg, ServerMessage::ChatAck { .. }) {
                counters.chat_acked.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        let _ = client.leave().await;
    }
}

impl SoakReport {
    /// RSS (MiB per hour) and descriptor (per hour) slopes over the samples after
    /// `warmup` seconds: growth with time, once every room is full.
    pub fn slopes(&self, warmup_s: f64) -> (Option<f64>, Option<f64>) {
        let later: Vec<&Sample> = self.samples.iter().filter(|s| s.at_s >= warmup_s).collect();
        let rss: Vec<(f64, f64)> = later
            .iter()
            .map(|s| (s.at_s / 3600.0, s.rss_bytes as f64 / 1048576.0))
            .collect();
        let fds: Vec<(f64, f64)> = later
            .iter()
            .map(|s| (s.at_s / 3600.0, s.fds as f64))
            .collect();
        (slope(&rss), slope(&fds))
    }

    /// The report as markdown: the samples, the slopes, and before against after.
    pub fn markdown(&self, soak: &Soak) -> String {
        let mib = |b: u64| b as f64 / 1048576.0;
        let mut out = String::new();
        out.push_str(&format!(
            "{} rooms × {} media participants (camera 400 kbit/s + audio), {} min; \
             each room also has a host (chat every 2 s, a stroke every second, a timer of \
             one-minute phases, a reconnect every 5 min) and a visitor every 10 s.\n\n",
            soak.rooms,
            soak.media,
            soak.duration.as_secs() / 60
        ));
        out.push_str(
            "| minute | RSS (MiB) | heap in use (MiB) | of which SQLite | open fds |\n|---:|---:|---:|---:|---:|\n",
        );
        let mb = |b: Option<u64>| b.map_or("n/a".into(), |b| format!("{:.1}", mib(b)));
        let row = |label: String, s: &Sample| {
            format!(
                "| {label} | {:.1} | {} | {} | {} |\n",
                mib(s.rss_bytes),
                mb(s.heap_bytes),
                mb(s.sqlite_bytes),
                s.fds
            )
        };
        if let Some(b) = &self.baseline {
            out.push_str(&row("before".into(), b));
        }
        for s in &self.samples {
            out.push_str(&row(format!("{:.1}", s.at_s / 60.0), s));
        }
        if let Some(a) = &self.after {
            out.push_str(&row(format!("after ({} s idle)", soak.settle.as_secs()), a));
        }
        let warmup = (soak.duration.as_secs_f64() / 6.0).min(300.0);
        let (rss, fds) = self.slopes(warmup);
        let show = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:+.2}"));
        out.push_str(&format!(
            "\nSlopes from minute {:.0} on (least squares): RSS {} MiB/hour, open fds {} per hour.\n",
            warmup / 60.0,
            show(rss),
            show(fds)
        ));
        out.push_str(&format!(
            "\nTraffic: {} media sessions ({} received media), {} frames received, {} chat \
             messages acked, {} whiteboard ops seen by hosts, {} timer changes, {} visitors, \
             {} host reconnects; {} errors.\n",
            self.media_sessions,
            self.media_sessions_receiving,
            self.frames_received,
            self.chat_acked,
            self.board_ops,
            self.timer_changes,
            self.visitors,
            self.reconnects,
            self.errors.len()
        ));
        for e in self.errors.iter().take(10) {
            out.push_str(&format!("- error: {e}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_and_of_noise() {
        let line: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 3.0 + 2.0 * i as f64)).collect();
        assert!((slope(&line).unwrap() - 2.0).abs() < 1e-9);
        let flat = [(0.0, 5.0), (1.0, 6.0), (2.0, 5.0), (3.0, 6.0)];
        assert!(slope(&flat).unwrap().abs() < 0.5);
        assert_eq!(slope(&[(1.0, 1.0)]), None);
    }
}
