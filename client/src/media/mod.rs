//! The participant's media: one signaling connection, a publish PeerConnection (we
//! offer) and a subscribe PeerConnection (the relay offers), with synthetic sources in and
//! decoded, verified frames out.

pub mod assemble;
pub mod peer;
pub mod playout;
pub mod publish;
pub mod receive;
pub mod stats;
pub mod view;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use studyhall_protocol::{
    ClientFrame, ClientMessage, ForwardedTrack, Layer, MediaState, MediaUpdate, PublishedTrack,
    ServerMessage, TrackSource,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::peer_connection::{PeerConnection, RTCPeerConnectionState, RTCSessionDescription};

pub use publish::VideoFormat;
pub use receive::{EncodedVideo, MediaSinks, RemoteAudio, RemoteFrame};
pub use stats::{ClientStats, ReceivedTrack, StatsHandle};
pub use view::Tile;

use crate::signal::{JoinInfo, SignalClient, SignalError};
use crate::source::{AudioInput, VideoInput};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error(transparent)]
    Signal(#[from] SignalError),
    #[error("webrtc: {0}")]
    WebRtc(String),
    #[error("negotiation: {0}")]
    Negotiation(String),
    #[error("codec: {0}")]
    Codec(String),
    #[error("source: {0}")]
    Source(String),
    #[error("the relay refused media: {0}")]
    Refused(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
}

impl MediaError {
    pub(crate) fn webrtc(e: impl std::fmt::Display) -> Self {
        MediaError::WebRtc(e.to_string())
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The msid stream id of our published tracks. Constant and made of SDP token characters:
/// an identity may hold spaces or other characters that break the `a=msid` line.
const PUBLISH_STREAM_ID: &str = "studyhall";

/// What to publish.
#[derive(Debug, Clone)]
pub struct MediaOptions {
    /// Publish a camera track (synthetic test pattern).
    pub camera: bool,
    /// Publish a microphone track (synthetic tone).
    pub microphone: bool,
    /// Publish a screen-share track (fed by `screen_input`).
    pub screen: bool,
    pub camera_format: VideoFormat,
    pub screen_format: VideoFormat,
    /// What feeds the camera track.
    pub camera_input: VideoInput,
    /// What feeds the screen-share track (a test pattern by default).
    pub screen_input: VideoInput,
    pub microphone_input: AudioInput,
    /// Also publish tracks for the sources that start off, so turning one on later needs
    /// no renegotiation (its device is opened then, and released when turned off).
    pub idle_tracks: bool,
    /// Noise suppression on a real microphone (not on the tone or a WAV file); the
    /// switch may be flipped while the media runs.
    pub noise_suppression: crate::source::denoise::NoiseSuppression,
    /// Also publish the camera at half its width and height (at
    /// [`publish::SMALL_LAYER_KBPS`]), which the relay sends to small tiles.
    pub small_camera_layer: bool,
}

impl Default for MediaOptions {
    fn default() -> Self {
        MediaOptions {
            camera: true,
            microphone: true,
            screen: false,
            camera_format: VideoFormat {
                width: 320,
                height: 240,
                fps: 15,
                bitrate_kbps: 300,
            },
            screen_format: VideoFormat {
                width: 480,
                height: 272,
                fps: 10,
                bitrate_kbps: 400,
            },
            camera_input: VideoInput::TestPattern,
            screen_input: VideoInput::TestPattern,
            microphone_input: AudioInput::Tone,
            idle_tracks: false,
            noise_suppression: Default::default(),
            small_camera_layer: true,
        }
    }
}

/// The IP to gather host candidates on: loopback for a relay on loopback (webrtc-rs
/// skips loopback when binding every interface), every interface otherwise.
pub fn bind_ip_for(url: &str) -> IpAddr {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let with_port = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let loopback = with_port
        .to_socket_addrs()
        .map(|mut a| a.next().is_some_and(|a| a.ip().is_loopback()))
        .unwrap_or(false);
    if loopback {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

async fn wait_true(
    rx: &mut watch::Receiver<bool>,
    within: Duration,
    what: &'static str,
) -> Result<(), MediaError> {
    tokio::time::timeout(within, rx.wait_for(|v| *v))
        .await
        .map_err(|_| MediaError::Timeout(what))?
        .map(|_| ())
        .map_err(|_| MediaError::Timeout(what))
}

/// A participant in a room with media. Dropping it without [`MediaClient::leave`] stops
/// everything as if the network went away.
pub struct MediaClient {
    pub info: JoinInfo,
    stats: StatsHandle,
    outgoing: mpsc::Sender<ClientFrame>,
    events: mpsc::UnboundedReceiver<ServerMessage>,
    paused: HashMap<TrackSource, watch::Sender<bool>>,
    feeds: HashMap<TrackSource, publish::FeedSlot>,
    options: MediaOptions,
    stop: watch::Sender<bool>,
    signaling: JoinHandle<Result<(), MediaError>>,
    publish_pc: Option<Arc<dyn PeerConnection>>,
    view: SharedView,
}

type SharedView = Arc<std::sync::Mutex<view::ViewState>>;

impl MediaClient {
    /// Join `room`, publish what `options` asks for, and receive everyone else; received
    /// media (and our own encoded video, for self-view) also goes to `sinks`.
    pub async fn connect(
        url: &str,
        room: &str,
        token: &str,
        options: MediaOptions,
        sinks: MediaSinks,
    ) -> Result<MediaClient, MediaError> {
        let media = MediaState {
            mic: options.microphone,
            camera: options.camera,
            screen: options.screen,
        };
        let (mut signal, info) = SignalClient::join(url, room, token, media).await?;
        let identity = info.you.identity.clone();
        let stats = StatsHandle::new(&identity);
        let bind_ip = bind_ip_for(url);
        let (stop, stop_rx) = watch::channel(false);

        // Publish connection: we offer.
        let sources: Vec<TrackSource> = [
            (options.microphone, TrackSource::Microphone),
            (options.camera, TrackSource::Camera),
            (options.screen, TrackSource::Screen),
        ]
        .into_iter()
        .filter_map(|(on, s)| (on || options.idle_tracks).then_some(s))
        .collect();
        // Open the sources that start on first: a bad file or a missing device is a
        // clear error, and we leave at once.
        let mut feeds: HashMap<TrackSource, publish::FeedSlot> = HashMap::new();
        for source in &sources {
            let on = match source {
                TrackSource::Microphone => options.microphone,
                TrackSource::Camera => options.camera,
                TrackSource::Screen => options.screen,
            };
            let feed = if on {
                let (source, opts, id) = (*source, options.clone(), identity.clone());
                match tokio::task::spawn_blocking(move || publish::Feed::open(source, &opts, &id))
                    .await
                    .map_err(|e| MediaError::Source(e.to_string()))
                    .and_then(|r| r)
                {
                    Ok(f) => Some(f),
                    Err(e) => {
                        let _ = signal.leave().await;
                        return Err(e);
                    }
                }
            } else {
                None
            };
            feeds.insert(*source, Arc::new(std::sync::Mutex::new(feed)));
        }
        let mut paused = HashMap::new();
        let mut publish_pc = None;
        let mut wanted: HashMap<String, Arc<std::sync::atomic::AtomicBool>> = HashMap::new();
        // Messages that arrive while we wait for the publish answer, replayed in order.
        let mut early = Vec::new();
        let mut local_tracks = Vec::new();
        if !sources.is_empty() {
            let (pc, mut events) = peer::build(bind_ip).await?;
            // Closed if anything below fails: a dropped PeerConnection keeps running.
            let guard = CloseOnDrop(Some(pc.clone()));
            // The camera twice, full and small, when asked (the relay picks per tile).
            let layers = sources.iter().flat_map(|s| {
                let small = *s == TrackSource::Camera && options.small_camera_layer;
                std::iter::once((*s, Layer::Full)).chain(small.then_some((*s, Layer::Small)))
            });
            for (source, layer) in layers {
                let mut t = publish::LocalTrack::layer(source, layer, PUBLISH_STREAM_ID)?;
                t.sender = Some(
                    pc.add_track(t.as_track_local())
                        .await
                        .map_err(MediaError::webrtc)?,
                );
                local_tracks.push(t);
            }
            let offer = pc.create_offer(None).await.map_err(MediaError::webrtc)?;
            pc.set_local_description(offer)
                .await
                .map_err(MediaError::webrtc)?;
            wait_true(
                &mut events.gathered,
                Duration::from_secs(5),
                "gathering candidates",
            )
            .await?;
            let sdp = pc
                .local_description()
                .await
                .ok_or_else(|| MediaError::Negotiation("no local description".into()))?
                .sdp;
            let mids = peer::mids_by_track_id(&sdp);
            let tracks = local_tracks
                .iter()
                .map(|t| {
                    let id = publish::LocalTrack::track_id(t.source, t.layer);
                    mids.iter()
                        .find(|(track, _)| *track == id)
                        .map(|(_, mid)| PublishedTrack {
                            mid: mid.clone(),
                            source: t.source,
                            layer: t.layer,
                        })
                        .ok_or_else(|| MediaError::Negotiation(format!("no m-line for {id}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Which local track each mid is, for the relay's `publish_layers`.
            for (t, published) in local_tracks.iter().zip(&tracks) {
                if t.source.is_video() {
                    wanted.insert(published.mid.clone(), t.wanted.clone());
                }
            }
            signal
                .send(ClientMessage::PublishOffer { sdp, tracks })
                .await?;
            // The answer (or a refusal) comes before anything the relay sends later for
            // this offer; other messages that arrive first are kept for the caller.
            let answer = loop {
                match signal.recv_timeout(Duration::from_secs(10)).await? {
                    ServerMessage::PublishAnswer { sdp, .. } => break sdp,
                    ServerMessage::Error { code, message, .. }
                        if code == studyhall_protocol::ErrorCode::MediaFailed
                            || code == studyhall_protocol::ErrorCode::Forbidden =>
                    {
                        return Err(MediaError::Refused(message))
                    }
                    other => early.push(other),
                }
            };
            let answer = RTCSessionDescription::answer(answer).map_err(MediaError::webrtc)?;
            pc.set_remote_description(answer)
                .await
                .map_err(MediaError::webrtc)?;
            let state = events.state.clone();
            let mut small_camera = local_tracks
                .iter()
                .position(|t| t.layer == Layer::Small)
                .map(|i| local_tracks.remove(i));
            for t in local_tracks.drain(..) {
                let small = if t.source == TrackSource::Camera {
                    small_camera.take()
                } else {
                    None
                };
                let starts_on = feeds[&t.source]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some();
                let (tx, rx) = watch::channel(!starts_on);
                paused.insert(t.source, tx);
                let feed = feeds[&t.source].clone();
                let local = sinks.encoded.clone();
                let format = if t.source == TrackSource::Screen {
                    options.screen_format
                } else {
                    options.camera_format
                };
                let stats = stats.clone();
                let stop_rx = stop_rx.clone();
                let mut state = state.clone();
                tokio::spawn(async move {
                    // Start once connected: samples written before that are dropped.
                    let connected = state
                        .wait_for(|s| *s == RTCPeerConnectionState::Connected)
                        .await
                        .is_ok();
                    if connected {
                        if let Err(e) =
                            publish::run(t, small, feed, format, rx, stop_rx, stats, local).await
                        {
                            tracing::warn!(error = %e, "publishing stopped");
                        }
                    }
                });
            }
            guard.disarm();
            publish_pc = Some(pc);
        }
        let (outgoing, rx) = mpsc::channel(64);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let view = SharedView::default();
        let signaling = tokio::spawn(signaling_loop(
            signal,
            early,
            rx,
            events_tx,
            Subscriber {
                pc: None,
                ice_ufrag: None,
                track_map: Default::default(),
                stats: stats.clone(),
                bind_ip,
                sinks,
                view: view.clone(),
                wanted,
            },
            stop_rx,
        ));
        Ok(MediaClient {
            info,
            stats,
            outgoing,
            events: events_rx,
            paused,
            feeds,
            options,
            stop,
            signaling,
            publish_pc,
            view,
        })
    }

    pub fn identity(&self) -> &str {
        &self.info.you.identity
    }

    /// The live statistics (cheap to clone; read with [`StatsHandle::update`]).
    pub fn stats_handle(&self) -> StatsHandle {
        self.stats.clone()
    }

    pub fn stats(&self) -> ClientStats {
        self.stats.snapshot()
    }

    /// Send any protocol message (chat, presence, ...).
    pub async fn send(&self, message: ClientMessage) -> Result<(), MediaError> {
        self.send_frame(ClientFrame::new(message)).await
    }

    /// Send a message carrying a `request_id` (echoed in the reply or error).
    pub async fn send_request(
        &self,
        message: ClientMessage,
        request_id: &str,
    ) -> Result<(), MediaError> {
        let mut frame = ClientFrame::new(message);
        frame.request_id = Some(request_id.to_string());
        self.send_frame(frame).await
    }

    async fn send_frame(&self, frame: ClientFrame) -> Result<(), MediaError> {
        self.outgoing.send(frame).await.map_err(|_| {
            MediaError::Signal(SignalError::Closed {
                code: 0,
                reason: "signaling stopped".into(),
            })
        })
    }

    /// Show these video tiles (and receive no other video) from now on, across every
    /// renegotiation, until the next call. Audio is always received.
    pub async fn set_view(&self, tiles: Vec<Tile>) -> Result<(), MediaError> {
        let frame = self
            .view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set(tiles);
        self.send_frame(frame).await
    }

    /// Mute or unmute: stops (or resumes) sending locally and tells the room. Turning a
    /// source on opens its device if it is not open (an error then changes nothing);
    /// turning a device off releases it. Sources without a published track are refused.
    pub async fn set_media(&self, update: MediaUpdate) -> Result<(), MediaError> {
        self.apply_media(update).await?;
        self.send(ClientMessage::SetMedia(update)).await
    }

    /// [`MediaClient::set_media`] with a request id: the relay's `ack` or `error` echoes
    /// it, so the caller can learn whether the room took the change (a lecture may not).
    pub async fn set_media_request(
        &self,
        update: MediaUpdate,
        request_id: &str,
    ) -> Result<(), MediaError> {
        self.apply_media(update).await?;
        self.send_request(ClientMessage::SetMedia(update), request_id)
            .await
    }

    /// The local half of a media change: open, pause, resume or release devices.
    pub async fn apply_media(&self, update: MediaUpdate) -> Result<(), MediaError> {
        let changes = [
            (TrackSource::Microphone, update.mic),
            (TrackSource::Camera, update.camera),
            (TrackSource::Screen, update.screen),
        ];
        // Open what turns on; if one fails, close again what this call opened.
        let mut opened = Vec::new();
        for (source, on) in changes {
            if on == Some(true) {
                let Some(slot) = self.feeds.get(&source) else {
                    self.close_feeds(&opened);
                    return Err(MediaError::Refused(format!(
                        "no {} track was published",
                        source.as_str()
                    )));
                };
                let open = slot.lock().unwrap_or_else(|p| p.into_inner()).is_some();
                if !open {
                    let feed = match self.open_feed(source).await {
                        Ok(feed) => feed,
                        Err(e) => {
                            self.close_feeds(&opened);
                            return Err(e);
                        }
                    };
                    opened.push(source);
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(feed);
                    self.stats.update(|s| {
                        if let Some(t) = s.sent.get_mut(source.as_str()) {
                            t.error = None;
                        }
                    });
                }
            }
        }
        for (source, on) in changes {
            let Some(on) = on else { continue };
            if let Some(p) = self.paused.get(&source) {
                p.send_replace(!on);
            }
            if !on && self.is_device(source) {
                if let Some(slot) = self.feeds.get(&source) {
                    slot.lock().unwrap_or_else(|p| p.into_inner()).take();
                }
            }
        }
        Ok(())
    }

    /// Switch what feeds `source` (another camera, a file); takes effect at once when the
    /// source is on, else when it is next turned on.
    pub async fn set_input(
        &mut self,
        source: TrackSource,
        video: Option<VideoInput>,
        audio: Option<AudioInput>,
    ) -> Result<(), MediaError> {
        let mut options = self.options.clone();
        match (source, video, audio) {
            (TrackSource::Camera, Some(v), _) => options.camera_input = v,
            (TrackSource::Screen, Some(v), _) => options.screen_input = v,
            (TrackSource::Microphone, _, Some(a)) => options.microphone_input = a,
            _ => return Err(MediaError::Source("no input given for that source".into())),
        }
        let previous = std::mem::replace(&mut self.options, options);
        let Some(slot) = self.feeds.get(&source) else {
            return Ok(());
        };
        let on = slot.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        if on {
            match self.open_feed(source).await {
                Ok(feed) => *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(feed),
                Err(e) => {
                    self.options = previous;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    fn close_feeds(&self, sources: &[TrackSource]) {
        for source in sources {
            if let Some(slot) = self.feeds.get(source) {
                slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            }
        }
    }

    fn is_device(&self, source: TrackSource) -> bool {
        match source {
            TrackSource::Microphone => {
                matches!(self.options.microphone_input, AudioInput::Microphone(_))
            }
            TrackSource::Camera => matches!(self.options.camera_input, VideoInput::Camera(_)),
            TrackSource::Screen => matches!(self.options.screen_input, VideoInput::Screen(_)),
        }
    }

    async fn open_feed(&self, source: TrackSource) -> Result<publish::Feed, MediaError> {
        let (options, identity) = (self.options.clone(), self.identity().to_string());
        tokio::task::spawn_blocking(move || publish::Feed::open(source, &options, &identity))
            .await
            .map_err(|e| MediaError::Source(e.to_string()))?
    }

    /// The next room event (chat, presence, errors); media negotiation is handled inside.
    pub async fn next_event(&mut self) -> Option<ServerMessage> {
        self.events.recv().await
    }

    /// Once [`MediaClient::next_event`] returned `None`: how the connection ended (`Ok`
    /// after a normal close, else the error, such as the relay's close code).
    pub async fn finish(mut self) -> Result<(), MediaError> {
        self.stop.send_replace(true);
        if let Some(pc) = self.publish_pc.take() {
            let _ = pc.close().await;
        }
        match tokio::time::timeout(Duration::from_secs(5), &mut self.signaling).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(MediaError::WebRtc(e.to_string())),
            Err(_) => Err(MediaError::Timeout("closing")),
        }
    }

    /// Leave the room politely and stop all media.
    pub async fn leave(mut self) -> Result<(), MediaError> {
        let _ = self
            .outgoing
            .send(ClientFrame::new(ClientMessage::Leave))
            .await;
        self.stop.send_replace(true);
        let result = tokio::time::timeout(Duration::from_secs(5), &mut self.signaling).await;
        if let Some(pc) = self.publish_pc.take() {
            let _ = pc.close().await;
        }
        match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(MediaError::WebRtc(e.to_string())),
            Err(_) => Err(MediaError::Timeout("leaving")),
        }
    }
}

impl Drop for MediaClient {
    /// As if the network went away, but tidily: the signaling task sees `stop` and closes
    /// the subscribe connection; the publish connection is closed here (webrtc-rs keeps
    /// a PeerConnection's tasks and socket alive until `close`).
    fn drop(&mut self) {
        self.stop.send_replace(true);
        drop(CloseOnDrop(self.publish_pc.take()));
    }
}

/// Closes a PeerConnection when dropped (in the background), unless disarmed.
struct CloseOnDrop(Option<Arc<dyn PeerConnection>>);

impl CloseOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        if let Some(pc) = self.0.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = pc.close().await;
                });
            }
        }
    }
}

/// Owns the signaling socket: answers subscribe offers, forwards our messages, hands
/// everything else to the caller.
async fn signaling_loop(
    mut signal: SignalClient,
    early: Vec<ServerMessage>,
    mut outgoing: mpsc::Receiver<ClientFrame>,
    events: mpsc::UnboundedSender<ServerMessage>,
    mut subscriber: Subscriber,
    mut stop: watch::Receiver<bool>,
) -> Result<(), MediaError> {
    // Messages that arrived while `connect` waited for the publish answer, in order.
    for msg in early {
        subscriber.dispatch(&mut signal, msg, &events).await;
    }
    let result = loop {
        tokio::select! {
            msg = signal.recv() => match msg {
                Ok(msg) => subscriber.dispatch(&mut signal, msg, &events).await,
                Err(SignalError::Closed { code: 1000, .. }) => break Ok(()),
                Err(e) => break Err(MediaError::Signal(e)),
            },
            out = outgoing.recv() => match out {
                Some(m) if subscriber.may_write(&m) => signal.send_frame(&m).await?,
                Some(_) => {}
                None => break Ok(()),
            },
            _ = stop.changed() => {
                if *stop.borrow() {
                    // Give a queued `leave` its chance, then wait for the close.
                    while let Ok(m) = outgoing.try_recv() {
                        if subscriber.may_write(&m) {
                            let _ = signal.send_frame(&m).await;
                        }
                    }
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while signal.recv().await.is_ok() {}
                    }).await;
                    break Ok(());
                }
            }
        }
    };
    if let Some(pc) = subscriber.pc {
        let _ = pc.close().await;
    }
    result
}

/// The subscribe connection: created by the relay's first offer, renegotiated by later
/// ones, and created anew when an offer starts a new ICE session (the relay replaced its
/// side of the connection).
struct Subscriber {
    pc: Option<Arc<dyn PeerConnection>>,
    ice_ufrag: Option<String>,
    /// msid track id → whose track and which source, from the offers' `tracks` lists.
    track_map: Arc<std::sync::Mutex<HashMap<String, (String, TrackSource)>>>,
    stats: StatsHandle,
    bind_ip: IpAddr,
    sinks: MediaSinks,
    /// Sent again after each offer is answered.
    view: SharedView,
    /// Whether anyone receives each of our published video tracks, by mid (the
    /// relay's `publish_layers`); read by the publishing tasks.
    wanted: HashMap<String, Arc<std::sync::atomic::AtomicBool>>,
}

fn ice_ufrag(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|l| l.trim().strip_prefix("a=ice-ufrag:"))
        .map(str::to_string)
}

impl Subscriber {
    /// Whether a frame from the outgoing queue is to be written (see
    /// [`view::ViewState::may_write`]).
    fn may_write(&self, frame: &ClientFrame) -> bool {
        self.view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .may_write(frame)
    }

    /// Answer subscribe offers; hand everything else to the caller.
    async fn dispatch(
        &mut self,
        signal: &mut SignalClient,
        msg: ServerMessage,
        events: &mpsc::UnboundedSender<ServerMessage>,
    ) {
        if view::answers_a_view(&msg) {
            return;
        }
        match msg {
            ServerMessage::PublishLayers { tracks } => {
                for t in tracks {
                    if let Some(flag) = self.wanted.get(&t.mid) {
                        flag.store(t.active, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            ServerMessage::SubscribeOffer { sdp, tracks } => {
                if let Err(e) = self.answer(signal, sdp, &tracks).await {
                    tracing::warn!(error = %e, "cannot answer the subscribe offer");
                }
            }
            other => {
                let _ = events.send(other);
            }
        }
    }

    async fn answer(
        &mut self,
        signal: &mut SignalClient,
        sdp: String,
        tracks: &[ForwardedTrack],
    ) -> Result<(), MediaError> {
        {
            let mut map = self.track_map.lock().unwrap_or_else(|p| p.into_inner());
            for t in tracks {
                map.insert(t.track_id.clone(), (t.identity.clone(), t.source));
            }
        }
        let ufrag = ice_ufrag(&sdp);
        if self.pc.is_some() && ufrag != self.ice_ufrag {
            tracing::info!("the relay started a new subscribe connection");
            if let Some(old) = self.pc.take() {
                let _ = old.close().await;
            }
        }
        self.ice_ufrag = ufrag;
        let mut gathered = None;
        if self.pc.is_none() {
            let (pc, events) = peer::build(self.bind_ip).await?;
            let peer::PeerEvents {
                gathered: gathering,
                tracks: mut remote_tracks,
                ..
            } = events;
            let (stats, sinks, map) = (
                self.stats.clone(),
                self.sinks.clone(),
                self.track_map.clone(),
            );
            tokio::spawn(async move {
                while let Some(track) = remote_tracks.recv().await {
                    let id = track.track_id().await;
                    let known = map
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&id)
                        .cloned();
                    let Some((identity, source)) = known else {
                        tracing::warn!(track_id = %id, "a track the relay did not describe");
                        continue;
                    };
                    tokio::spawn(receive::run(
                        track,
                        identity,
                        source,
                        stats.clone(),
                        sinks.clone(),
                    ));
                }
            });
            gathered = Some(gathering);
            self.pc = Some(pc);
        }
        let pc = self.pc.as_ref().expect("created above");
        pc.set_remote_description(RTCSessionDescription::offer(sdp).map_err(MediaError::webrtc)?)
            .await
            .map_err(MediaError::webrtc)?;
        let answer = pc.create_answer(None).await.map_err(MediaError::webrtc)?;
        pc.set_local_description(answer)
            .await
            .map_err(MediaError::webrtc)?;
        // A new connection's first answer carries our candidates: wait until gathered.
        if let Some(mut gathering) = gathered {
            wait_true(
                &mut gathering,
                Duration::from_secs(5),
                "gathering candidates",
            )
            .await?;
        }
        let local = pc
            .local_description()
            .await
            .ok_or_else(|| MediaError::Negotiation("no local description".into()))?;
        // Tracks no longer offered are no longer forwarded.
        let listed: Vec<String> = tracks
            .iter()
            .map(|t| format!("{}:{}", t.identity, t.source.as_str()))
            .collect();
        self.stats.update(|s| {
            for (key, t) in s.received.iter_mut() {
                if !listed.contains(key) {
                    t.active = false;
                }
            }
        });
        signal
            .send(ClientMessage::SubscribeAnswer { sdp: local.sdp })
            .await?;
        let view = {
            let mut view = self.view.lock().unwrap_or_else(|p| p.into_inner());
            view.offered(tracks).filter(|frame| view.may_write(frame))
        };
        if let Some(frame) = view {
            signal.send_frame(&frame).await?;
        }
        Ok(())
    }
}
