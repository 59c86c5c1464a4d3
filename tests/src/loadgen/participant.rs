//! One emulated participant: a signaling WebSocket and two str0m peers (publish and
//! subscribe), each on its own UDP socket, driven by one task.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpPacket;
use str0m::{Candidate, Event, Input, Output, Rtc};
use studyhall_client::SignalClient;
use studyhall_protocol::{
    ClientMessage, ForwardedTrack, Layer, MediaState, PublishedTrack, ServerMessage, TileView,
    TrackSource,
};
use tokio::net::UdpSocket;

use super::{frame_bytes, now_us, opus_packet, read_stamp, vp8_frame, Stamp};

/// The longest SDP of a `subscribe_answer` any participant of this process sent, in
/// bytes (a full room's is the largest message of the protocol).
pub static LARGEST_SUBSCRIBE_ANSWER: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// What a participant publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    /// Camera video at this bitrate (kbit/s), or none.
    pub camera_kbps: Option<u32>,
    /// Screen-share video at this bitrate, or none.
    pub screen_kbps: Option<u32>,
    /// Opus audio, 50 packets per second.
    pub audio: bool,
    /// Every frame and packet this many times further apart (1: the real rates); a
    /// test in a debug build keeps a full room within two cores this way.
    pub slowdown: u32,
    /// The camera's small layer too, at this bitrate.
    pub small_kbps: Option<u32>,
    /// What the participant shows (its `set_view`, sent after each subscribe offer);
    /// `None`: no view, so it receives everything.
    pub shows: Option<Shows>,
    /// Whether its audio packets carry a level (RFC 6464): `Some(true)` speech (-20
    /// dBov, voice bit set), `Some(false)` silence (-127 dBov); `None`: no level.
    pub speaks: Option<bool>,
    /// Video frames a second, every layer.
    pub fps: u32,
}

/// A view: the first `tiles` cameras of those offered (in the offer's order), each in a
/// tile of `width`×`height` device pixels, and any screen share large (1280×720).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shows {
    pub tiles: usize,
    pub width: u32,
    pub height: u32,
}

/// The tile a shown screen share gets.
pub const SCREEN_TILE: (u32, u32) = (1280, 720);

impl Shows {
    /// The `set_view` for an offer's `tracks`.
    pub fn view(&self, tracks: &[ForwardedTrack]) -> ClientMessage {
        let tracks = tracks
            .iter()
            .filter(|t| t.source == TrackSource::Camera)
            .take(self.tiles)
            .map(|t| TileView {
                mid: t.mid.clone(),
                width: self.width,
                height: self.height,
            })
            .chain(
                tracks
                    .iter()
                    .filter(|t| t.source == TrackSource::Screen)
                    .map(|t| TileView {
                        mid: t.mid.clone(),
                        width: SCREEN_TILE.0,
                        height: SCREEN_TILE.1,
                    }),
            )
            .collect();
        ClientMessage::SetView { tracks }
    }
}

impl Publish {
    pub const NOTHING: Publish = Publish {
        camera_kbps: None,
        screen_kbps: None,
        audio: false,
        slowdown: 1,
        small_kbps: None,
        shows: None,
        speaks: None,
        fps: super::VIDEO_FPS,
    };
}

/// Per received track: frames, the highest sequence seen, and latencies.
#[derive(Debug, Clone, Default)]
pub struct TrackReceived {
    pub frames: u64,
    /// Frames whose send time fell inside the measuring window.
    pub frames_in_window: u64,
    pub packets: u64,
    pub bytes: u64,
    /// RTP packets and payload bytes of frames sent inside the window.
    pub packets_in_window: u64,
    pub bytes_in_window: u64,
    pub out_of_order: u64,
    last_seq: Option<u64>,
}

/// One incoming video stream's frames being put together from RTP packets (keyed by
/// extended RTP time): a frame counts once its first packet (VP8 start of partition 0,
/// which holds the stamp), its last (marker) and everything between have arrived.
#[derive(Debug, Default)]
struct Assembly {
    frames: BTreeMap<u64, FrameParts>,
}

#[derive(Debug, Default)]
struct FrameParts {
    stamp: Option<Stamp>,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    packets: u64,
    bytes: u64,
}

/// Frames still incomplete after this many newer ones have started are given up.
const ASSEMBLY_DEPTH: usize = 32;

/// The VP8 payload after the RTP payload descriptor (RFC 7741), and whether the packet
/// starts a frame.
fn vp8_payload(p: &[u8]) -> Option<(bool, &[u8])> {
    let b0 = *p.first()?;
    let start = b0 & 0x10 != 0 && b0 & 0x07 == 0;
    let mut i = 1;
    if b0 & 0x80 != 0 {
        let x = *p.get(1)?;
        i = 2;
        if x & 0x80 != 0 {
            i += if *p.get(i)? & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            i += 1;
        }
        if x & 0x30 != 0 {
            i += 1;
        }
    }
    Some((start, p.get(i..)?))
}

impl Assembly {
    /// Add a packet; returns a frame (its stamp, packets and bytes) once complete.
    fn add(&mut self, packet: &RtpPacket) -> Option<(Stamp, u64, u64)> {
        let (start, payload) = vp8_payload(&packet.payload)?;
        let key = packet.time.numer();
        let seq = *packet.seq_no;
        let parts = self.frames.entry(key).or_default();
        parts.packets += 1;
        parts.bytes += payload.len() as u64;
        if start {
            parts.first_seq = Some(seq);
            parts.stamp = read_stamp(payload);
        }
        if packet.header.marker {
            parts.last_seq = Some(seq);
        }
        let done = match (parts.first_seq, parts.last_seq, parts.stamp) {
            (Some(first), Some(last), Some(stamp)) if last >= first => {
                (parts.packets == last - first + 1).then_some((stamp, parts.packets, parts.bytes))
            }
            _ => None,
        };
        if done.is_some() {
            self.frames.remove(&key);
        }
        while self.frames.len() > ASSEMBLY_DEPTH {
            self.frames.pop_first();
        }
        done
    }
}

/// What one participant saw.
#[derive(Debug, Clone, Default)]
pub struct ParticipantStats {
    pub index: u32,
    /// Frames sent per track (0 camera, 1 microphone, 2 screen, 3 the camera's small
    /// layer) inside the window.
    pub sent_in_window: [u64; 4],
    pub sent_total: [u64; 4],
    /// By (publisher, track).
    pub received: HashMap<(u32, u8), TrackReceived>,
    /// Forwarding latencies (send → receive), µs, of frames inside the window.
    pub latencies_us: Vec<u32>,
    /// From opening the socket to the first media frame received.
    pub join_time: Option<Duration>,
    pub errors: Vec<String>,
}

/// A str0m peer on its own loopback UDP socket.
struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    connected: bool,
    /// When the peer next wants time.
    due: Instant,
}

impl Peer {
    /// A peer; `rtp_mode` for receiving (packets are counted as they come, with no
    /// jitter buffer or frame assembly in str0m: the generator must stay cheaper than what
    /// it measures).
    async fn new(now: Instant, ip: std::net::IpAddr, rtp_mode: bool) -> std::io::Result<Peer> {
        let socket = UdpSocket::bind((ip, 0)).await?;
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder()
            .set_rtp_mode(rtp_mode)
            .clear_codecs()
            .enable_vp8(true)
            .enable_opus(true, false)
            .build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(std::io::Error::other)?);
        Ok(Peer {
            rtc,
            socket,
            local,
            connected: false,
            due: now,
        })
    }

    fn receive(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let Ok(contents) = data.try_into() else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.local,
                contents,
            },
        );
        let _ = self.rtc.handle_input(input);
    }

    /// Hand time to the peer if it is due, send what it wants sent, collect its events
    /// and note when it next wants time.
    fn drive(&mut self, now: Instant, events: &mut Vec<Event>) {
        if now >= self.due {
            let _ = self.rtc.handle_input(Input::Timeout(now));
        }
        self.due = self.poll(now, events);
    }

    fn poll(&mut self, now: Instant, events: &mut Vec<Event>) -> Instant {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(at)) => return at,
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(Event::Connected)) => self.connected = true,
                Ok(Output::Event(e)) => events.push(e),
                Err(_) => return now + Duration::from_millis(10),
            }
        }
    }
}

/// The measuring window: frames sent inside it count for fidelity and latency.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from_us: u64,
    pub to_us: u64,
}

impl Window {
    pub fn holds(&self, t: u64) -> bool {
        t >= self.from_us && t < self.to_us
    }
}

struct Sender {
    mid: Mid,
    track: u8,
    interval: Duration,
    bytes: usize,
    next: Instant,
    seq: u64,
    keyframe_due: bool,
    video: bool,
    /// Audio: the level its packets carry (see [`Publish::speaks`]).
    speaks: Option<bool>,
    fps: u64,
}

/// Run one participant until `until`; it joins `room` on `url` with `token`.
pub async fn run(
    index: u32,
    url: String,
    room: String,
    token: String,
    publish: Publish,
    window: Window,
    until: Instant,
) -> ParticipantStats {
    let mut stats = ParticipantStats {
        index,
        ..Default::default()
    };
    let started = Instant::now();
    if let Err(e) = session(
        index, &url, &room, &token, publish, window, until, started, &mut stats,
    )
    .await
    {
        stats.errors.push(e);
    }
    stats
}

/// Offer/answer traffic between a participant's media loop and its system's signaling.
#[derive(Debug)]
pub enum Negotiation {
    /// The answer to the publish offer.
    PublishAnswer(String),
    /// An offer for the subscribe peer; its answer goes back on the link.
    SubscribeOffer(String),
    /// Signaling failed; the participant stops.
    Failed(String),
}

/// A participant's two str0m peers, its publish offer and what it will send.
pub struct Media {
    publisher: Peer,
    subscriber: Peer,
    senders: Vec<Sender>,
    pending: Option<SdpPendingOffer>,
}

impl Media {
    /// Peers bound on `ip`, and a publish offer with one m-line per published source:
    /// the offer's SDP and the tracks (none when nothing is published).
    pub async fn new(
        ip: std::net::IpAddr,
        publish: Publish,
    ) -> Result<(Media, Option<(String, Vec<PublishedTrack>)>), String> {
        let now = Instant::now();
        let mut publisher = Peer::new(now, ip, false).await.map_err(|e| e.to_string())?;
        let subscriber = Peer::new(now, ip, true).await.map_err(|e| e.to_string())?;
        let mut senders = Vec::new();
        let mut offer = None;
        let mut pending = None;
        // The publish offer: one m-line per published source.
        {
            let mut api = publisher.rtc.sdp_api();
            let mut tracks = Vec::new();
            let mut add = |api: &mut str0m::change::SdpApi,
                           kind,
                           source,
                           layer,
                           track: u8,
                           kbps: Option<u32>| {
                let mid = api.add_media(kind, Direction::SendOnly, None, None, None);
                tracks.push(PublishedTrack {
                    mid: mid.to_string(),
                    source,
                    layer,
                });
                let (interval, bytes, video): (Duration, usize, bool) = match kbps {
                    Some(kbps) => (
                        Duration::from_secs(1) / publish.fps.max(1),
                        frame_bytes(kbps, publish.fps.max(1)),
                        true,
                    ),
                    None => (super::AUDIO_INTERVAL, 80, false),
                };
                let interval = interval * publish.slowdown.max(1);
                senders.push(Sender {
                    mid,
                    track,
                    interval,
                    bytes,
                    next: now,
                    seq: 0,
                    keyframe_due: true,
                    video,
                    speaks: publish.speaks,
                    fps: u64::from(publish.fps.max(1)),
                });
            };
            if let Some(kbps) = publish.camera_kbps {
                add(
                    &mut api,
                    MediaKind::Video,
                    TrackSource::Camera,
                    Layer::Full,
                    0,
                    Some(kbps),
                );
                if let Some(small) = publish.small_kbps {
                    add(
                        &mut api,
                        MediaKind::Video,
                        TrackSource::Camera,
                        Layer::Small,
                        3,
                        Some(small),
                    );
                }
            }
            if publish.audio {
                add(
                    &mut api,
                    MediaKind::Audio,
                    TrackSource::Microphone,
                    Layer::Full,
                    1,
                    None,
                );
            }
            if let Some(kbps) = publish.screen_kbps {
                add(
                    &mut api,
                    MediaKind::Video,
                    TrackSource::Screen,
                    Layer::Full,
                    2,
                    Some(kbps),
                );
            }
            if !tracks.is_empty() {
                let (sdp, p) = api.apply().ok_or("no publish offer")?;
                pending = Some(p);
                offer = Some((sdp.to_sdp_string(), tracks));
            }
        }
        Ok((
            Media {
                publisher,
                subscriber,
                senders,
                pending,
            },
            offer,
        ))
    }
}

#[allow(clippy::too_many_arguments)]
async fn session(
    index: u32,
    url: &str,
    room: &str,
    token: &str,
    publish: Publish,
    window: Window,
    until: Instant,
    started: Instant,
    stats: &mut ParticipantStats,
) -> Result<(), String> {
    let media_state = MediaState {
        mic: publish.audio,
        camera: publish.camera_kbps.is_some(),
        screen: publish.screen_kbps.is_some(),
    };
    let (mut signal, _) = SignalClient::join(url, room, token, media_state)
        .await
        .map_err(|e| format!("join: {e}"))?;
    let (media, offer) = Media::new(std::net::Ipv4Addr::LOCALHOST.into(), publish).await?;
    if let Some((sdp, tracks)) = offer {
        signal
            .send(ClientMessage::PublishOffer { sdp, tracks })
            .await
            .map_err(|e| format!("publish offer: {e}"))?;
    }
    // The relay's signaling runs beside the media loop.
    let (events_tx, events) = tokio::sync::mpsc::channel(16);
    let (answers, mut answers_rx) = tokio::sync::mpsc::channel::<String>(16);
    let shows = publish.shows;
    let link = tokio::spawn(async move {
        // The latest offer's tracks, for the view sent after its answer (when it names
        // other tracks than the last one sent).
        let mut offered = Vec::new();
        let mut last_view = None;
        loop {
            tokio::select! {
                msg = signal.recv() => {
                    let event = match msg {
                        Ok(ServerMessage::PublishAnswer { sdp, .. }) => Negotiation::PublishAnswer(sdp),
                        Ok(ServerMessage::SubscribeOffer { sdp, tracks }) => {
                            offered = tracks;
                            Negotiation::SubscribeOffer(sdp)
                        }
                        Ok(ServerMessage::Error { code, message, fatal: true, .. }) => {
                            Negotiation::Failed(format!("relay closed the session: {code} {message}"))
                        }
                        Ok(_) => continue,
                        Err(e) => Negotiation::Failed(format!("signaling ended: {e}")),
                    };
                    let failed = matches!(event, Negotiation::Failed(_));
                    if events_tx.send(event).await.is_err() || failed {
                        break;
                    }
                }
                answer = answers_rx.recv() => match answer {
                    Some(sdp) => {
                        LARGEST_SUBSCRIBE_ANSWER.fetch_max(
                            sdp.len(),
                            std::sync::atomic::Ordering::Relaxed,
                        );
                        if signal.send(ClientMessage::SubscribeAnswer { sdp }).await.is_err() {
                            break;
                        }
                        if let Some(shows) = shows {
                            let view = shows.view(&offered);
                            if last_view.as_ref() != Some(&view) {
                                if signal.send(view.clone()).await.is_err() {
                                    break;
                                }
                                last_view = Some(view);
                            }
                        }
                    }
                    None => {
                        let _ = signal.send(ClientMessage::Leave).await;
                        break;
                    }
                },
            }
        }
    });
    let result = media_loop(index, media, events, answers, window, until, started, stats).await;
    let _ = link.await;
    result
}

/// Send media on schedule, receive and measure, and carry out negotiations, until `until`.
/// Dropping `answers` at the end tells the signaling side to leave.
#[allow(clippy::too_many_arguments)]
pub async fn media_loop(
    index: u32,
    media: Media,
    mut negotiation: tokio::sync::mpsc::Receiver<Negotiation>,
    answers: tokio::sync::mpsc::Sender<String>,
    window: Window,
    until: Instant,
    started: Instant,
    stats: &mut ParticipantStats,
) -> Result<(), String> {
    let Media {
        mut publisher,
        mut subscriber,
        mut senders,
        mut pending,
    } = media;
    let mut events = Vec::new();
    let mut buf_pub = vec![0u8; 2048];
    let mut buf_sub = vec![0u8; 2048];
    let mut assembly: HashMap<u32, Assembly> = HashMap::new();
    let mut pub_touched = true;
    let mut sub_touched = true;
    loop {
        let now = Instant::now();
        if now >= until {
            break;
        }
        // Media due now.
        if publisher.connected {
            for s in senders.iter_mut() {
                while s.next <= now {
                    let stamp = Stamp {
                        publisher: index,
                        track: s.track,
                        seq: s.seq,
                        sent_us: now_us(),
                    };
                    let (pt, data) = {
                        let Some(writer) = publisher.rtc.writer(s.mid) else {
                            break;
                        };
                        let want = if s.video { Codec::Vp8 } else { Codec::Opus };
                        let Some(pt) = writer
                            .payload_params()
                            .find(|p| p.spec().codec == want)
                            .map(|p| p.pt())
                        else {
                            break;
                        };
                        let data = if s.video {
                            // A keyframe every 2 s, or when asked.
                            let key = s.keyframe_due || s.seq % (2 * s.fps) == 0;
                            s.keyframe_due = false;
                            vp8_frame(stamp, key, s.bytes)
                        } else {
                            opus_packet(stamp, s.bytes)
                        };
                        (pt, data)
                    };
                    let rtp_time = if s.video {
                        MediaTime::from_90khz(s.seq * 3000)
                    } else {
                        MediaTime::new(s.seq * 960, Frequency::FORTY_EIGHT_KHZ)
                    };
                    if let Some(mut writer) = publisher.rtc.writer(s.mid) {
                        if let (false, Some(speaks)) = (s.video, s.speaks) {
                            writer = if speaks {
                                writer.audio_level(-20, true)
                            } else {
                                writer.audio_level(-127, false)
                            };
                        }
                        let _ = writer.write(pt, now, rtp_time, data);
                    }
                    pub_touched = true;
                    stats.sent_total[s.track as usize] += 1;
                    if window.holds(stamp.sent_us) {
                        stats.sent_in_window[s.track as usize] += 1;
                    }
                    s.seq += 1;
                    s.next += s.interval;
                }
            }
        }
        // A peer is polled when it was given something or wants time; polling walks all
        // of its streams, so doing it on every wake-up would make the generator the
        // bottleneck.
        if pub_touched || now >= publisher.due {
            publisher.drive(now, &mut events);
            pub_touched = false;
        }
        for e in events.drain(..) {
            if let Event::KeyframeRequest(r) = e {
                if let Some(s) = senders.iter_mut().find(|s| s.mid == r.mid) {
                    s.keyframe_due = true;
                }
            }
        }
        if sub_touched || now >= subscriber.due {
            subscriber.drive(now, &mut events);
            sub_touched = false;
        }
        for e in events.drain(..) {
            let Event::RtpPacket(packet) = e else {
                continue;
            };
            let received_us = now_us();
            if stats.join_time.is_none() {
                stats.join_time = Some(started.elapsed());
            }
            let ssrc = packet.header.ssrc;
            let video = subscriber
                .rtc
                .direct_api()
                .stream_rx(&ssrc)
                .map(|rx| rx.mid())
                .and_then(|mid| subscriber.rtc.media(mid).map(|m| m.kind()))
                == Some(MediaKind::Video);
            let frame = if video {
                assembly.entry(*ssrc).or_default().add(&packet)
            } else {
                read_stamp(&packet.payload).map(|s| (s, 1, packet.payload.len() as u64))
            };
            let Some((stamp, packets, bytes)) = frame else {
                continue;
            };
            let t = stats
                .received
                .entry((stamp.publisher, stamp.track))
                .or_default();
            t.frames += 1;
            t.bytes += bytes;
            t.packets += packets;
            if t.last_seq.is_some_and(|last| stamp.seq <= last) {
                t.out_of_order += 1;
            } else {
                t.last_seq = Some(stamp.seq);
            }
            if window.holds(stamp.sent_us) {
                t.frames_in_window += 1;
                t.packets_in_window += packets;
                t.bytes_in_window += bytes;
                let latency = received_us.saturating_sub(stamp.sent_us);
                stats
                    .latencies_us
                    .push(latency.min(u64::from(u32::MAX)) as u32);
            }
        }
        let mut wake = publisher.due.min(subscriber.due).min(until);
        if publisher.connected {
            if let Some(next) = senders.iter().map(|s| s.next).min() {
                wake = wake.min(next);
            }
        }
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(wake));
        tokio::select! {
            r = publisher.socket.recv_from(&mut buf_pub) => {
                if let Ok((n, from)) = r {
                    publisher.receive(Instant::now(), from, &buf_pub[..n]);
                    pub_touched = true;
                }
            }
            r = subscriber.socket.recv_from(&mut buf_sub) => {
                if let Ok((n, from)) = r {
                    subscriber.receive(Instant::now(), from, &buf_sub[..n]);
                    sub_touched = true;
                }
            }
            event = negotiation.recv() => match event {
                Some(Negotiation::PublishAnswer(sdp)) => {
                    let answer = SdpAnswer::from_sdp_string(&sdp).map_err(|e| e.to_string())?;
                    if let Some(p) = pending.take() {
                        publisher.rtc.sdp_api().accept_answer(p, answer).map_err(|e| e.to_string())?;
                    }
                    pub_touched = true;
                }
                Some(Negotiation::SubscribeOffer(sdp)) => {
                    let offer = SdpOffer::from_sdp_string(&sdp).map_err(|e| e.to_string())?;
                    let answer = subscriber.rtc.sdp_api().accept_offer(offer).map_err(|e| e.to_string())?;
                    sub_touched = true;
                    if answers.send(answer.to_sdp_string()).await.is_err() {
                        return Err("signaling ended".into());
                    }
                }
                Some(Negotiation::Failed(e)) => return Err(e),
                None => return Err("signaling ended".into()),
            },
            _ = sleep => {}
        }
    }
    Ok(())
}
