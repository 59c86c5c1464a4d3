//! Media only: a selective forwarding unit on str0m.
//!
//! Every participant has up to two [`str0m::Rtc`]s: a *publish* peer (the client offers,
//! the SFU answers, media flows in) and a *subscribe* peer (the SFU offers, media flows
//! out, and it offers again when tracks come and go). All peers share one UDP socket;
//! datagrams are routed with `Rtc::accepts`.
//!
//! This module knows groups (rooms), tracks and who receives what — not room rules
//! (grants, hosts, limits): those stay in `room/` and `signal/`. It does no I/O and reads
//! no clock: [`Sfu`] takes `Instant`s and datagrams and yields transmits and signaling
//! notices, so it is tested without sockets; [`runner`] moves the bytes.
//!
//! A panic or error inside one peer's `Rtc` drops that peer only: its tracks are removed
//! from everyone, and its participant is told (`MediaFailed`).

pub mod budget;
mod forward;
mod negotiate;
mod rewrite;
pub mod runner;
pub mod speakers;
#[cfg(test)]
mod tests;
mod view;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, SeqNo, Ssrc};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcError};
use studyhall_protocol::{ForwardedTrack, Layer, LayerActivity, PublishedTrack, TrackSource};
use tracing::{debug, info, warn};

/// Fewest time between two keyframe requests to one publisher track.
pub const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

/// Resend history per forwarded video stream, and the share of resends above which str0m
/// drops queued ones. str0m's default cap (15%) is tight: receivers that cannot tell
/// recovered packets apart (webrtc-rs) NACK some twice, so 5% loss already costs ~10%.
/// One second covers a NACK's round trip on any usable connection; str0m's default (3 s)
/// tripled the relay's memory, since every receiver keeps its own history of every
/// video stream it gets (about 600 bytes of bookkeeping per packet).
const RTX_CACHE_PACKETS: usize = 1024;
const RTX_CACHE_AGE: Duration = Duration::from_secs(1);
const RTX_RATIO_CAP: f32 = 0.3;

/// Inactive m-lines a subscribe connection may collect before the relay replaces it with
/// a new one (clients start a new connection when the offer's ICE ufrag changes).
pub const MAX_INACTIVE_MLINES: usize = 16;

/// Most tracks one participant may publish.
pub const MAX_PUBLISHED_TRACKS: usize = 4;

/// How long a new media connection may take to connect (ICE and DTLS) by default. str0m's
/// ICE-lite agent waits forever for a first binding request, so without this a client whose
/// UDP never reaches the relay would sit on black tiles with no word of why.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SfuError {
    #[error("invalid SDP: {0}")]
    BadSdp(String),
    #[error("negotiation failed: {0}")]
    Negotiation(String),
    #[error("no pending offer to answer")]
    NoPendingOffer,
    #[error("the offer has no m-line with mid `{0}`")]
    UnknownMid(String),
    #[error("{0}")]
    Invalid(String),
    #[error("not in a media session; join first")]
    NotJoined,
    #[error("the media relay is not running")]
    Unavailable,
    /// The participant joined again on a newer connection; this one's media is gone.
    #[error("this connection was replaced by a newer one")]
    Replaced,
}

/// Something the signaling layer must tell a participant: only on connection `conn`,
/// the one it joined with, never on a newer one that replaced it (whose media starts
/// afresh).
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Send this offer on the participant's subscribe connection.
    SubscribeOffer {
        group: String,
        identity: String,
        conn: u64,
        sdp: String,
        tracks: Vec<ForwardedTrack>,
    },
    /// Which of the participant's published video tracks anyone receives now (sent when
    /// that changes): it may stop encoding the inactive ones.
    PublishLayers {
        group: String,
        identity: String,
        conn: u64,
        tracks: Vec<LayerActivity>,
    },
    /// Who speaks in a room now, and who is its active speaker (sent to everyone in
    /// the room when that changes).
    Speakers {
        group: String,
        active: Option<String>,
        speaking: Vec<String>,
    },
    /// The participant's media failed (peer error or panic); it should renegotiate.
    MediaFailed {
        group: String,
        identity: String,
        conn: u64,
        message: String,
    },
}

/// What the SFU sends, and what its upload budget turns down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Upload {
    /// Bits per second, with IP and UDP headers, over about the last second.
    pub bits_per_second: u64,
    /// The budget, bits per second.
    pub budget: Option<u64>,
    /// Subscriber video m-lines sent the small layer where their view wants the full
    /// one, and paused where it shows them.
    pub held_small: u64,
    pub paused: u64,
}

type PeerId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Publish,
    Subscribe,
}

#[derive(Debug)]
struct TrackIn {
    source: TrackSource,
    layer: Layer,
    kind: MediaKind,
    enabled: bool,
    last_keyframe_request: Option<Instant>,
    /// A microphone's levels: whether it speaks, and whether it is forwarded.
    voice: speakers::Voice,
    /// Bytes received since the last check (payload and packet headers), and what the
    /// track cost when it last carried anything (bits per second; see [`budget`]).
    bytes: u64,
    rate: Option<f64>,
}

impl TrackIn {
    fn new(source: TrackSource, layer: Layer, enabled: bool) -> TrackIn {
        TrackIn {
            source,
            layer,
            kind: kind_of(source),
            enabled,
            last_keyframe_request: None,
            voice: Default::default(),
            bytes: 0,
            rate: None,
        }
    }

    /// What forwarding the track to one subscriber costs, bits per second.
    fn cost(&self) -> f64 {
        self.rate
            .unwrap_or_else(|| budget::nominal_cost(self.kind, self.source, self.layer))
    }

    /// Close a check interval of `secs`: a track that carried anything has a new cost
    /// (smoothed); a quiet one (paused by dynacast, muted) keeps its last.
    fn settle(&mut self, secs: f64) {
        let bytes = std::mem::take(&mut self.bytes);
        if bytes == 0 || secs <= 0.0 {
            return;
        }
        let now = bytes as f64 * 8.0 / secs;
        self.rate = Some(match self.rate {
            Some(r) => r + (now - r) * 0.3,
            None => now,
        });
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum OutState {
    /// Needs an m-line in the next offer.
    ToOpen,
    /// In the pending offer with this mid.
    Negotiating(Mid),
    /// Negotiated; media flows on this mid.
    Open(Mid),
    /// To be stopped in the next offer.
    ToClose(Mid),
}

#[derive(Debug)]
struct TrackOut {
    /// The msid track id of this m-line (set when it is first offered).
    track_id: String,
    publisher: PeerId,
    mid_in: Mid,
    identity: String,
    source: TrackSource,
    kind: MediaKind,
    state: OutState,
    /// The payload type the subscriber negotiated for this track's codec (found on the
    /// first forwarded packet).
    pt: Option<Pt>,
    /// The SSRC str0m sends this m-line's stream on (found on the first write): a map
    /// lookup per packet instead of a search of the peer's streams by mid.
    ssrc: Option<Ssrc>,
    /// Numbers what is sent on this m-line: continuous across pauses and switches, and
    /// starting at rollover count 0, as a fresh SRTP receiver expects, however long the
    /// publisher has been sending.
    rewriter: rewrite::Rewriter,
    /// Whether the subscriber shows this track (its latest `set_view`; shown until one
    /// says otherwise). Audio is always sent.
    visible: bool,
    /// Whether its tile is small enough for the small layer (when the publisher sends
    /// one): see [`view::SMALL_TILE`].
    small: bool,
    /// The most the upload budget lets it have now, and since when it would let it have
    /// more (see [`budget`]).
    cap: budget::Cap,
    raise_since: Option<Instant>,
}

impl TrackOut {
    fn new(publisher: PeerId, mid_in: Mid, identity: String, source: TrackSource) -> Self {
        TrackOut {
            track_id: String::new(),
            publisher,
            mid_in,
            identity,
            source,
            kind: kind_of(source),
            state: OutState::ToOpen,
            pt: None,
            ssrc: None,
            rewriter: forward::new_rewriter(kind_of(source)),
            visible: true,
            small: false,
            cap: budget::Cap::Full,
            raise_since: None,
        }
    }
}

struct Peer {
    group: String,
    identity: String,
    /// The signaling connection of the member this peer belongs to.
    conn: u64,
    role: Role,
    rtc: Rtc,
    alive: bool,
    /// Why the peer is being dropped, for its participant (`None`: an engine error).
    failure: Option<String>,
    /// Until str0m reports `Connected` (ICE and DTLS up): when to give up on it.
    connect_by: Option<Instant>,
    timeout: Instant,
    /// Publish peers: tracks by mid.
    tracks_in: HashMap<Mid, TrackIn>,
    /// Subscribe peers: forwarded tracks.
    tracks_out: Vec<TrackOut>,
    pending: Option<SdpPendingOffer>,
    /// Numbers the msid track ids of this subscribe peer's m-lines.
    next_track: u64,
    /// m-lines set inactive (their tracks were removed); they are never reused.
    inactive_mlines: usize,
    /// Written to since it was last polled; polled once per batch (see [`Sfu::flush`]).
    dirty: bool,
    /// Publish peers: which video tracks the participant was last told are received
    /// (`PublishLayers`); a track not in it counts as active.
    layers_told: HashMap<Mid, bool>,
    /// Subscribe peers, with downlink estimates on: what its downlink takes.
    downlink: budget::Downlink,
}

#[derive(Debug, Default)]
struct Member {
    /// The signaling connection that joined; commands from any other are stale.
    conn: u64,
    publish: Option<PeerId>,
    subscribe: Option<PeerId>,
    wants_media: bool,
    /// Sources the participant has turned off (muted): not forwarded.
    disabled: HashSet<TrackSource>,
    /// Whether it has sent a view (`set_view`): from then on, video tracks it has not
    /// named (new ones included) are paused for it.
    viewing: bool,
}

/// The forwarding core. See the module docs.
pub struct Sfu {
    local: SocketAddr,
    peers: HashMap<PeerId, Peer>,
    members: HashMap<(String, String), Member>,
    next_id: PeerId,
    /// Remote address → peer, learned from `accepts`, checked again on each use.
    routes: HashMap<SocketAddr, PeerId>,
    /// Subscribe peers by group: a packet goes only to its own room's subscribers, never
    /// through every peer of the node.
    subscribers: HashMap<String, Vec<PeerId>>,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Sent transmit buffers, reused for the next ones.
    spare: Vec<Vec<u8>>,
    /// Subscribe peers with forwarded packets not yet polled out, and the time of the
    /// latest poll, which is what wrote them (they are polled with it).
    dirty: Vec<PeerId>,
    last_now: Option<Instant>,
    notices: VecDeque<Notice>,
    connect_timeout: Duration,
    /// When publishers were last told which of their tracks are received (and rooms
    /// who speaks).
    layers_checked: Option<Instant>,
    /// What each room was last told about its speakers.
    speakers: HashMap<String, speakers::Told>,
    /// The upload and its budget.
    budget: budget::Budget,
    /// Whether each subscriber's downlink is estimated (from the loss its client
    /// reports) and its video held to it.
    estimates: bool,
}

/// How often publishers are told which of their tracks anyone receives (at most).
const LAYER_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// Sent buffers kept for reuse; about one burst's worth.
const SPARE_BUFFERS: usize = 512;

fn key(group: &str, identity: &str) -> (String, String) {
    (group.to_string(), identity.to_string())
}

fn kind_of(source: TrackSource) -> MediaKind {
    if source.is_video() {
        MediaKind::Video
    } else {
        MediaKind::Audio
    }
}

/// The msid ids of a forwarded track: short and made of SDP token characters only
/// (str0m drops other characters and keeps 64 at most), unique per m-line. Clients map
/// them to a participant through the `tracks` list of the offer.
fn msid(n: u64, publisher: PeerId, source: TrackSource) -> (String, String) {
    (format!("p{publisher}"), format!("{}-{n}", source.as_str()))
}

/// An `Rtc` for one peer; `reports`: hand out what its receiver reports say about each
/// m-line, once a second (the loss a subscriber's client sees).
fn new_rtc(now: Instant, local: SocketAddr, reports: bool) -> Result<Rtc, SfuError> {
    // ICE-lite: the relay only answers connectivity checks and never starts its own, so
    // clients always reach it at the advertised address (what a NAT or proxy in front of
    // the relay expects), never at an address learned from the relay's own checks.
    // RTP mode: packets are forwarded as they arrive (payload shared, not copied, between
    // receivers) instead of being reassembled into frames and cut up again per receiver.
    let mut rtc = Rtc::builder()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        // Per-stream statistics only where they are read: a subscriber's, for the loss
        // its client reports (in a room of 25, 48 events a second per subscriber).
        .set_stats_interval(reports.then_some(budget::REPORTS_EVERY))
        .clear_codecs()
        .enable_opus(true, false)
        .enable_vp8(true)
        .build(now);
    let candidate = Candidate::host(local, "udp")
        .map_err(|e| SfuError::Invalid(format!("media address {local}: {e}")))?;
    rtc.add_local_candidate(candidate);
    Ok(rtc)
}

/// Run `f` on a peer's `Rtc`, turning errors and panics into a dead peer.
fn guarded<T>(
    peer: &mut Peer,
    what: &str,
    f: impl FnOnce(&mut Rtc) -> Result<T, RtcError>,
) -> Option<T> {
    if !peer.alive {
        return None;
    }
    match catch_unwind(AssertUnwindSafe(|| f(&mut peer.rtc))) {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            warn!(identity = %peer.identity, role = ?peer.role, error = %e, "{what} failed; dropping media peer");
            peer.alive = false;
            None
        }
        Err(_) => {
            warn!(identity = %peer.identity, role = ?peer.role, "str0m panicked in {what}; dropping media peer");
            peer.alive = false;
            None
        }
    }
}

impl Sfu {
    /// An SFU whose peers are reached at `local` (the shared UDP socket's address).
    pub fn new(local: SocketAddr) -> Self {
        Sfu {
            local,
            peers: HashMap::new(),
            members: HashMap::new(),
            next_id: 1,
            routes: HashMap::new(),
            subscribers: HashMap::new(),
            transmits: VecDeque::new(),
            spare: Vec::new(),
            dirty: Vec::new(),
            last_now: None,
            notices: VecDeque::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            layers_checked: None,
            speakers: HashMap::new(),
            budget: budget::Budget::new(None),
            estimates: false,
        }
    }

    /// Estimate what each subscriber's downlink takes from the loss its client reports,
    /// and hold its video to it (see [`budget`]).
    pub fn with_downlink_estimates(mut self, on: bool) -> Self {
        self.estimates = on;
        self
    }

    /// How long new media connections may take to connect before they are dropped and
    /// their participant told (`MediaFailed`).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Keep the upload within `bits_per_second` (see [`budget`]); `None` or 0: no budget.
    pub fn with_upload_budget(mut self, bits_per_second: Option<u64>) -> Self {
        self.budget = budget::Budget::new(bits_per_second);
        self
    }

    /// The upload (bits per second, smoothed over about a second), the budget, and the
    /// subscriber m-lines it holds to the small layer and pauses.
    pub fn upload(&self) -> Upload {
        let (small, paused) = self.turned_down();
        Upload {
            bits_per_second: self.budget.rate(),
            budget: self.budget.limit(),
            held_small: small,
            paused,
        }
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Register a participant on signaling connection `conn`. With `wants_media`, every
    /// track published in the group is forwarded to it (on a subscribe connection created
    /// when the first track exists).
    pub fn join(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        conn: u64,
        wants_media: bool,
    ) {
        // A rejoin (reconnect) starts media afresh.
        self.remove_member(now, group, identity);
        self.members.insert(
            key(group, identity),
            Member {
                conn,
                wants_media,
                ..Default::default()
            },
        );
        if wants_media {
            let tracks = self.group_tracks(group, identity);
            if !tracks.is_empty() {
                self.add_outgoing(now, group, identity, tracks);
            }
        }
    }

    /// Remove a participant and everything it published, if `conn` is still the
    /// connection it joined with: a late leave of a replaced connection does nothing to
    /// the media of the one that replaced it.
    pub fn leave(&mut self, now: Instant, group: &str, identity: &str, conn: u64) {
        if self.conn_of(group, identity) == Some(conn) {
            self.remove_member(now, group, identity);
        }
    }

    /// The signaling connection `identity` joined `group` with.
    fn conn_of(&self, group: &str, identity: &str) -> Option<u64> {
        self.members.get(&key(group, identity)).map(|m| m.conn)
    }

    /// The member on connection `conn`, or why there is none.
    fn member_on(&self, group: &str, identity: &str, conn: u64) -> Result<&Member, SfuError> {
        match self.members.get(&key(group, identity)) {
            None => Err(SfuError::NotJoined),
            Some(m) if m.conn != conn => Err(SfuError::Replaced),
            Some(m) => Ok(m),
        }
    }

    fn remove_member(&mut self, now: Instant, group: &str, identity: &str) {
        let Some(member) = self.members.remove(&key(group, identity)) else {
            return;
        };
        for id in [member.publish, member.subscribe].into_iter().flatten() {
            if let Some(mut peer) = self.remove_peer(id) {
                peer.rtc.disconnect();
            }
            if member.publish == Some(id) {
                self.unpublish_all(now, id);
            }
        }
    }

    /// Stop or resume forwarding one of a participant's sources (mute / unmute).
    pub fn set_enabled(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        conn: u64,
        source: TrackSource,
        enabled: bool,
    ) {
        let Some(member) = self
            .members
            .get_mut(&key(group, identity))
            .filter(|m| m.conn == conn)
        else {
            return;
        };
        if enabled {
            member.disabled.remove(&source);
        } else {
            member.disabled.insert(source);
        }
        let Some(pid) = member.publish else { return };
        let mut resumed = Vec::new();
        if let Some(peer) = self.peers.get_mut(&pid) {
            for (mid, t) in peer
                .tracks_in
                .iter_mut()
                .filter(|(_, t)| t.source == source)
            {
                if !t.enabled && enabled && t.kind == MediaKind::Video {
                    resumed.push(*mid);
                }
                t.enabled = enabled;
            }
        }
        // Subscribers' decoders need a keyframe after a pause.
        for mid in resumed {
            self.request_keyframe(now, pid, mid, true);
        }
    }

    /// A datagram arrived on the shared socket.
    pub fn handle_receive(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        let Ok(contents) = data.try_into() else {
            debug!(%source, "dropping a datagram that is not STUN/DTLS/RTP");
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
        let cached = self.routes.get(&source).copied().filter(|id| {
            self.peers
                .get(id)
                .is_some_and(|p| p.alive && p.rtc.accepts(&input))
        });
        let target = cached.or_else(|| {
            self.peers
                .iter()
                .find(|(_, p)| p.alive && p.rtc.accepts(&input))
                .map(|(id, _)| *id)
        });
        let Some(id) = target else {
            debug!(%source, "no peer accepts this datagram");
            return;
        };
        if cached.is_none() {
            // A peer is routed by the address it sends from now; an address it left
            // (NAT rebinding, a new candidate) is forgotten, so the map holds about one
            // entry per live peer however often addresses change.
            self.routes.retain(|_, p| *p != id);
            self.routes.insert(source, id);
        }
        let peer = self.peers.get_mut(&id).expect("found above");
        guarded(peer, "handle_input", |rtc| rtc.handle_input(input));
        self.drain(now, id);
    }

    /// Drive timers; call at [`Sfu::next_timeout`] (or earlier).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.flush(now);
        if self
            .layers_checked
            .is_none_or(|t| now >= t + LAYER_CHECK_INTERVAL)
        {
            let secs = self
                .layers_checked
                .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
            self.layers_checked = Some(now);
            self.budget.check(now);
            for p in self.peers.values_mut() {
                for t in p.tracks_in.values_mut() {
                    t.settle(secs);
                }
            }
            self.check_speakers(now);
            self.allocate_upload(now);
            self.tell_layers();
        }
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.timeout <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(peer) = self.peers.get_mut(&id) {
                guarded(peer, "timeout", |rtc| rtc.handle_input(Input::Timeout(now)));
            }
            self.drain(now, id);
        }
        self.reap(now);
    }

    /// When [`Sfu::handle_timeout`] should run next.
    pub fn next_timeout(&self, now: Instant) -> Instant {
        self.peers
            .values()
            .map(|p| p.timeout)
            .min()
            .unwrap_or(now + Duration::from_millis(100))
            .max(now)
            .min(now + Duration::from_millis(100))
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        if let Some(now) = self.last_now.filter(|_| !self.dirty.is_empty()) {
            self.flush(now);
        }
        self.transmits.pop_front()
    }

    /// Poll every subscribe peer that forwarded packets were written to. Forwarding only
    /// queues packets: one poll per peer per batch of received datagrams costs far less
    /// than one per packet, since each poll walks all of the peer's streams.
    fn flush(&mut self, now: Instant) {
        for id in std::mem::take(&mut self.dirty) {
            if let Some(peer) = self.peers.get_mut(&id) {
                peer.dirty = false;
            }
            self.drain(now, id);
        }
    }

    /// Give back a buffer from [`Sfu::poll_transmit`] once sent, to be reused.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// The next signaling notice.
    pub fn poll_notice(&mut self) -> Option<Notice> {
        self.notices.pop_front()
    }

    /// Published tracks and peers, for metrics: (publish peers, subscribe peers, tracks).
    pub fn counts(&self) -> (usize, usize, usize) {
        let publish = self
            .peers
            .values()
            .filter(|p| p.role == Role::Publish)
            .count();
        let tracks = self.peers.values().map(|p| p.tracks_in.len()).sum();
        (publish, self.peers.len() - publish, tracks)
    }

    // ---- internals ----

    fn member_mut(&mut self, group: &str, identity: &str) -> &mut Member {
        self.members.entry(key(group, identity)).or_default()
    }

    /// Forget a peer: its routes, and its place among its group's subscribers.
    fn remove_peer(&mut self, id: PeerId) -> Option<Peer> {
        let peer = self.peers.remove(&id)?;
        self.routes.retain(|_, p| *p != id);
        if peer.role == Role::Subscribe {
            if let Some(subs) = self.subscribers.get_mut(&peer.group) {
                subs.retain(|s| *s != id);
                if subs.is_empty() {
                    self.subscribers.remove(&peer.group);
                }
            }
        }
        Some(peer)
    }

    fn add_peer(
        &mut self,
        now: Instant,
        group: &str,
        identity: &str,
        role: Role,
    ) -> Result<PeerId, SfuError> {
        let id = self.next_id;
        self.next_id += 1;
        let conn = self.conn_of(group, identity).unwrap_or_default();
        self.peers.insert(
            id,
            Peer {
                group: group.to_string(),
                identity: identity.to_string(),
                conn,
                role,
                rtc: new_rtc(now, self.local, self.estimates && role == Role::Subscribe)?,
                alive: true,
                failure: None,
                connect_by: Some(now + self.connect_timeout),
                timeout: now,
                tracks_in: HashMap::new(),
                tracks_out: Vec::new(),
                pending: None,
                next_track: 0,
                inactive_mlines: 0,
                dirty: false,
                layers_told: HashMap::new(),
                downlink: budget::Downlink::default(),
            },
        );
        if role == Role::Subscribe {
            self.subscribers
                .entry(group.to_string())
                .or_default()
                .push(id);
        }
        Ok(id)
    }

    /// Poll one peer's outputs until it has nothing more, handling its events.
    fn drain(&mut self, now: Instant, id: PeerId) {
        // Forwarding (the only thing that marks peers dirty) happens inside a drain.
        self.last_now = Some(now);
        let mut events = Vec::new();
        if let Some(peer) = self.peers.get_mut(&id) {
            loop {
                match guarded(peer, "poll_output", |rtc| rtc.poll_output()) {
                    Some(Output::Timeout(t)) => {
                        peer.timeout = t;
                        break;
                    }
                    Some(Output::Transmit(t)) => {
                        let mut buf = self.spare.pop().unwrap_or_default();
                        buf.extend_from_slice(&t.contents);
                        self.budget.sent(buf.len());
                        self.transmits.push_back((t.destination, buf));
                    }
                    Some(Output::Event(e)) => events.push(e),
                    None => break,
                }
            }
        }
        for event in events {
            self.on_event(now, id, event);
        }
    }

    fn on_event(&mut self, now: Instant, id: PeerId, event: Event) {
        match event {
            Event::RtpPacket(packet) => self.forward(now, id, packet),
            Event::MediaEgressStats(stats) => {
                if let (Some(p), Some(loss)) = (self.peers.get_mut(&id), stats.loss) {
                    tracing::trace!(identity = %p.identity, mid = %stats.mid, loss, "receiver report");
                    p.downlink.reported(stats.mid, stats.packets, loss);
                }
            }
            Event::KeyframeRequest(req) => {
                // For the layer this subscriber gets now.
                let source = self.peers.get(&id).and_then(|p| {
                    p.tracks_out.iter().find_map(|t| match t.state {
                        OutState::Open(mid) if mid == req.mid => {
                            Some((t.publisher, t.source, t.rewriter.sending()))
                        }
                        _ => None,
                    })
                });
                debug!(mid = %req.mid, kind = ?req.kind, found = source.is_some(), "keyframe request from a subscriber");
                if let Some((publisher, source, Some(layer))) = source {
                    if let Some(mid) = self.layer_mid(publisher, source, forward::layer_of(layer)) {
                        self.request_keyframe(now, publisher, mid, false);
                    }
                }
            }
            Event::IceConnectionStateChange(state) => {
                if let Some(p) = self.peers.get_mut(&id) {
                    debug!(identity = %p.identity, role = ?p.role, ?state, "ice state");
                    // str0m does not close on its own. Its ICE-lite agent reports
                    // `Disconnected` once no binding request came for 15 s: the client's
                    // network is gone, and ICE restarts are not part of the protocol.
                    if state == IceConnectionState::Disconnected && p.alive {
                        warn!(identity = %p.identity, role = ?p.role, "media connection lost (no ICE traffic); dropping media peer");
                        p.alive = false;
                        p.failure = Some("no ICE traffic from the client for 15 s".into());
                    }
                }
            }
            Event::Connected => {
                if let Some(p) = self.peers.get_mut(&id) {
                    p.connect_by = None;
                    info!(identity = %p.identity, role = ?p.role, "media connected");
                }
            }
            _ => {}
        }
    }

    /// Remove dead peers: tell their participants and unpublish their tracks.
    fn reap(&mut self, now: Instant) {
        let limit = self.connect_timeout;
        for p in self.peers.values_mut() {
            if p.alive && p.connect_by.is_some_and(|t| now >= t) {
                warn!(identity = %p.identity, role = ?p.role, "media connection did not connect in time; dropping media peer");
                p.alive = false;
                p.failure = Some(format!(
                    "it did not connect within {}; UDP to the relay's media port may be blocked",
                    humantime::format_duration(limit)
                ));
            }
        }
        let dead: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| !p.alive || !p.rtc.is_alive())
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            let Some(peer) = self.remove_peer(id) else {
                continue;
            };
            info!(identity = %peer.identity, role = ?peer.role, "media peer removed");
            if let Some(m) = self.members.get_mut(&key(&peer.group, &peer.identity)) {
                match peer.role {
                    Role::Publish if m.publish == Some(id) => m.publish = None,
                    Role::Subscribe if m.subscribe == Some(id) => m.subscribe = None,
                    _ => {}
                }
                let role = format!("{:?}", peer.role).to_lowercase();
                self.notices.push_back(Notice::MediaFailed {
                    group: peer.group.clone(),
                    identity: peer.identity.clone(),
                    conn: peer.conn,
                    message: match &peer.failure {
                        Some(why) => {
                            format!("the {role} media connection failed ({why}); negotiate again")
                        }
                        None => format!("the {role} media connection failed; negotiate again"),
                    },
                });
            }
            if peer.role == Role::Publish {
                self.unpublish_all(now, id);
            }
        }
    }
}
