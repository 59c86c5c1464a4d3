//! A participant's stay in a room, as an app needs it: the media client, rejoining with
//! the same identity when the connection drops, and requests that wait for their answer
//! (a chat message is "sent" only once the relay stored it).
//!
//! [`RoomSession::join`] returns the session handle and a stream of [`SessionEvent`]s.
//! One task owns the [`MediaClient`]; handle methods send it commands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use studyhall_protocol::{
    ChatMessage, ChatPage, ClientMessage, ErrorCode, FeatureEvent, MediaUpdate, PollEvent,
    QuestionEvent, ServerMessage, TrackSource,
};
use tokio::sync::{mpsc, oneshot};

use crate::media::{MediaClient, MediaError, MediaOptions, MediaSinks, StatsHandle, Tile};
use crate::signal::{JoinInfo, SignalError};
use crate::source::{AudioInput, VideoInput};

/// How long a request waits for the relay's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Waits between rejoin attempts; after the last one the session gives up.
const REJOIN_BACKOFF: &[u64] = &[250, 500, 1000, 2000, 3000, 5000, 5000, 5000, 5000, 5000];
/// A media connection the relay gave up on (`media_failed`) is recovered by rejoining,
/// which negotiates both connections afresh. After this many failures within
/// [`MEDIA_FAILURE_WINDOW`] (UDP to the relay is likely blocked) the session stops trying,
/// says so once, and stays in the room for chat.
const MEDIA_FAILURES_BEFORE_GIVING_UP: usize = 3;
const MEDIA_FAILURE_WINDOW: Duration = Duration::from_secs(180);

/// Where and as whom to join.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The relay's base URL (`ws://host:port`).
    pub url: String,
    pub room: String,
    pub token: String,
    pub options: MediaOptions,
    pub sinks: MediaSinks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Connected,
    Reconnecting,
    /// Gave up rejoining; the session is over.
    Lost,
}

/// Why a session ended on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    Kicked {
        by: String,
        reason: Option<String>,
    },
    /// A host ended the room for everyone.
    RoomEnded {
        by: String,
    },
    /// The same identity joined from somewhere else.
    Replaced,
    /// The relay no longer accepts the token.
    Refused {
        code: ErrorCode,
        message: String,
    },
    /// The relay stayed unreachable.
    Lost(String),
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // room traffic is the common case; boxing it buys nothing
pub enum SessionEvent {
    /// Room traffic: participants, chat, errors (media negotiation is handled inside).
    Message(ServerMessage),
    /// The connection dropped and rejoining began, or succeeded (with a fresh view of
    /// the room: who is here now and the newest chat).
    Connection {
        state: ConnectionState,
        message: Option<String>,
    },
    Rejoined(Box<JoinInfo>),
    /// Something the user should know that does not end the session.
    Notice(String),
    Ended(EndReason),
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SessionError {
    #[error("not connected to the room right now; try again in a moment")]
    NotConnected,
    #[error("the session has ended")]
    Ended,
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error("no answer from the relay within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Media(String),
}

type Reply<T> = oneshot::Sender<Result<T, SessionError>>;

enum Command {
    SetMedia(MediaUpdate, Reply<()>),
    SetInput(
        TrackSource,
        Option<VideoInput>,
        Option<AudioInput>,
        Reply<()>,
    ),
    Chat(String, String, Reply<ChatMessage>),
    History(Option<u64>, Reply<ChatPage>),
    /// A request the relay answers with `ack` (or an error).
    Acked(ClientMessage, Reply<()>),
    /// A `ping`, answered with the relay's clock from its `pong`.
    Ping(Reply<Option<u64>>),
    /// The video tiles shown; kept across rejoins.
    SetView(Vec<Tile>, Reply<()>),
    Leave(oneshot::Sender<()>),
}

/// A request waiting for the relay.
enum Pending {
    Chat(Reply<ChatMessage>, String),
    History(Reply<ChatPage>),
    Acked(Reply<()>),
    Ping(Reply<Option<u64>>),
    /// A media change the room may refuse (a lecture's rules): undone here if it does.
    Media(Reply<()>, MediaUpdate),
}

impl Pending {
    fn fail(self, error: SessionError) {
        match self {
            Pending::Chat(r, _) => drop(r.send(Err(error))),
            Pending::History(r) => drop(r.send(Err(error))),
            Pending::Acked(r) => drop(r.send(Err(error))),
            Pending::Ping(r) => drop(r.send(Err(error))),
            // Cut off before the answer: the rejoin carries the change (its `join` states
            // the media as now set), so it is not a failure.
            Pending::Media(r, _) if error == SessionError::NotConnected => drop(r.send(Ok(()))),
            Pending::Media(r, _) => drop(r.send(Err(error))),
        }
    }
}

/// The handle to a joined room. Dropping it leaves (abruptly); prefer [`RoomSession::leave`].
pub struct RoomSession {
    commands: mpsc::Sender<Command>,
    identity: String,
    stats: Arc<Mutex<StatsHandle>>,
    noise: crate::source::denoise::NoiseSuppression,
}

impl RoomSession {
    /// Join and start the session. Errors here are the first join's (bad token, room
    /// full, relay unreachable); later drops are rejoined automatically.
    pub async fn join(
        config: SessionConfig,
    ) -> Result<(RoomSession, JoinInfo, mpsc::UnboundedReceiver<SessionEvent>), MediaError> {
        let client = MediaClient::connect(
            &config.url,
            &config.room,
            &config.token,
            config.options.clone(),
            config.sinks.clone(),
        )
        .await?;
        let info = client.info.clone();
        let identity = info.you.identity.clone();
        let noise = config.options.noise_suppression.clone();
        let stats = Arc::new(Mutex::new(client.stats_handle()));
        let (commands, rx) = mpsc::channel(32);
        let (events, events_rx) = mpsc::unbounded_channel();
        let task = Task {
            config,
            identity: identity.clone(),
            name: info.you.name.clone(),
            events,
            pending: HashMap::new(),
            sent_at: HashMap::new(),
            undo_media: Vec::new(),
            next_request: 0,
            stats: stats.clone(),
            media_failures: Vec::new(),
            view: None,
        };
        tokio::spawn(task.run(client, rx));
        Ok((
            RoomSession {
                commands,
                identity,
                stats,
                noise,
            },
            info,
            events_rx,
        ))
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Noise suppression on our microphone: switched at once, for this connection's
    /// media and those of later rejoins.
    pub fn noise_suppression(&self) -> &crate::source::denoise::NoiseSuppression {
        &self.noise
    }

    /// The current connection's media statistics (a new set after each rejoin).
    pub fn stats(&self) -> StatsHandle {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, SessionError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| SessionError::Ended)?;
        rx.await.map_err(|_| SessionError::Ended)?
    }

    /// [`RoomSession::ask`] for a request the relay answers: bounded by
    /// [`REQUEST_TIMEOUT`].
    async fn request<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, SessionError> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.ask(make))
            .await
            .map_err(|_| SessionError::Timeout(REQUEST_TIMEOUT))?
    }

    /// Turn sources on or off (a device that cannot open is an error, and nothing changes).
    pub async fn set_media(&self, update: MediaUpdate) -> Result<(), SessionError> {
        self.ask(|r| Command::SetMedia(update, r)).await
    }

    /// Switch the device (or file, or synthetic source) feeding a track.
    pub async fn set_input(
        &self,
        source: TrackSource,
        video: Option<VideoInput>,
        audio: Option<AudioInput>,
    ) -> Result<(), SessionError> {
        self.ask(|r| Command::SetInput(source, video, audio, r))
            .await
    }

    /// Post a chat message; resolves with the stored message. Retrying with the same
    /// `client_msg_id` never posts twice.
    pub async fn send_chat(
        &self,
        client_msg_id: &str,
        text: &str,
    ) -> Result<ChatMessage, SessionError> {
        let (id, text) = (client_msg_id.to_string(), text.to_string());
        self.request(|r| Command::Chat(id, text, r)).await
    }

    /// A page of chat older than `before_seq` (the newest page when `None`).
    pub async fn history(&self, before_seq: Option<u64>) -> Result<ChatPage, SessionError> {
        self.request(|r| Command::History(before_seq, r)).await
    }

    /// Send a request and wait for the relay's `ack` (or its error). Room features'
    /// typed calls (the `features` module) are built on this.
    pub async fn acked(&self, message: ClientMessage) -> Result<(), SessionError> {
        self.request(|r| Command::Acked(message, r)).await
    }

    /// Receive video only for these tiles (whose, which source, how large), until the
    /// next call; kept across reconnects. Before the first call, all video is received.
    pub async fn set_view(&self, tiles: Vec<Tile>) -> Result<(), SessionError> {
        self.ask(|r| Command::SetView(tiles, r)).await
    }

    /// Ping the relay; its clock (ms since the epoch) when it answered, if it says.
    pub async fn ping(&self) -> Result<Option<u64>, SessionError> {
        self.request(Command::Ping).await
    }

    /// Host only: remove a chat message for everyone.
    pub async fn delete_chat(&self, seq: u64) -> Result<(), SessionError> {
        self.acked(ClientMessage::ChatDelete { seq }).await
    }

    /// Host only: remove a participant.
    pub async fn kick(&self, identity: &str) -> Result<(), SessionError> {
        self.acked(ClientMessage::Kick {
            identity: identity.to_string(),
            reason: None,
        })
        .await
    }

    /// Host only: end the room for everyone (this session ends too).
    pub async fn end_room(&self) -> Result<(), SessionError> {
        self.acked(ClientMessage::EndRoom).await
    }

    /// Leave the room and stop all media. Requests still waiting fail with
    /// [`SessionError::Ended`].
    pub async fn leave(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Leave(tx)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(6), rx).await;
        }
    }
}

struct Task {
    config: SessionConfig,
    identity: String,
    name: String,
    events: mpsc::UnboundedSender<SessionEvent>,
    pending: HashMap<String, Pending>,
    /// When each pending request was sent (entries may outlive their request).
    sent_at: HashMap<String, std::time::Instant>,
    /// Media changes the room refused, to undo here.
    undo_media: Vec<MediaUpdate>,
    next_request: u64,
    stats: Arc<Mutex<StatsHandle>>,
    /// When the relay reported media connections failed (recent ones only).
    media_failures: Vec<std::time::Instant>,
    /// The latest view, applied again on each rejoin.
    view: Option<Vec<Tile>>,
}

/// What ended a connection, and whether rejoining makes sense.
fn classify(result: Result<(), MediaError>) -> Result<String, EndReason> {
    match result {
        Err(MediaError::Signal(SignalError::Closed { code, reason })) => match code {
            4003 => Err(EndReason::Kicked {
                by: String::new(),
                reason: Some(reason),
            }),
            4009 => Err(EndReason::Replaced),
            4012 => Err(EndReason::RoomEnded { by: String::new() }),
            4001 => Err(EndReason::Refused {
                code: ErrorCode::TokenInvalid,
                message: reason,
            }),
            _ => Ok(format!(
                "connection closed ({code}{})",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(": {reason}")
                }
            )),
        },
        Err(e) => Ok(e.to_string()),
        Ok(()) => Ok("the relay closed the connection".into()),
    }
}

impl Task {
    async fn run(mut self, mut client: MediaClient, mut commands: mpsc::Receiver<Command>) {
        loop {
            // Serve the connection until it ends or we leave.
            let mut media_failed = None;
            let ended = loop {
                tokio::select! {
                    event = client.next_event() => match event {
                        Some(message) => {
                            if let Some(end) = self.on_message(&message) {
                                self.emit(SessionEvent::Message(message));
                                break Some(end);
                            }
                            let failed = self.media_failure(&message);
                            self.follow_relay_media(&mut client, &message).await;
                            for undo in std::mem::take(&mut self.undo_media) {
                                if client.apply_media(undo).await.is_ok() {
                                    let o = &mut self.config.options;
                                    o.microphone &= undo.mic.is_none();
                                    o.camera &= undo.camera.is_none();
                                    o.screen &= undo.screen.is_none();
                                }
                            }
                            self.emit(SessionEvent::Message(message));
                            if failed.is_some() {
                                media_failed = failed;
                                break None;
                            }
                        }
                        None => break None,
                    },
                    command = commands.recv() => match command {
                        Some(Command::Leave(done)) => {
                            let _ = client.leave().await;
                            self.fail_pending(SessionError::Ended);
                            let _ = done.send(());
                            return;
                        }
                        Some(command) => self.on_command(&mut client, command).await,
                        None => {
                            let _ = client.leave().await;
                            return;
                        }
                    },
                }
            };
            self.fail_pending(SessionError::NotConnected);
            let why = if let Some(end) = ended {
                // Close the connections (the relay closes the socket after a kick).
                let _ = client.finish().await;
                Err(end)
            } else if let Some(message) = media_failed {
                // Close (without `leave`, so the relay counts a dropped connection and
                // keeps what the room holds for us, such as a raised hand) and join
                // again with fresh media.
                let _ = client.finish().await;
                Ok(message)
            } else {
                classify(client.finish().await)
            };
            let message = match why {
                Ok(message) => message,
                Err(end) => {
                    self.emit(SessionEvent::Ended(end));
                    return;
                }
            };
            tracing::info!(%message, "connection lost; rejoining");
            self.emit(SessionEvent::Connection {
                state: ConnectionState::Reconnecting,
                message: Some(message.clone()),
            });
            match self.rejoin(&mut commands, message).await {
                Some(new_client) => client = new_client,
                None => return,
            }
        }
    }

    /// Rejoin with the same token (same identity) until it works or we give up.
    /// Commands that arrive meanwhile are refused (or end the session, for leave).
    async fn rejoin(
        &mut self,
        commands: &mut mpsc::Receiver<Command>,
        mut last_error: String,
    ) -> Option<MediaClient> {
        for wait in REJOIN_BACKOFF {
            let sleep = tokio::time::sleep(Duration::from_millis(*wait));
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    command = commands.recv() => match command {
                        Some(Command::Leave(done)) => { let _ = done.send(()); return None; }
                        // Applied when the new connection is up.
                        Some(Command::SetView(tiles, done)) => {
                            self.view = Some(tiles);
                            let _ = done.send(Ok(()));
                        }
                        None => return None,
                        Some(other) => refuse(other, SessionError::NotConnected),
                    }
                }
            }
            let c = &self.config;
            match MediaClient::connect(
                &c.url,
                &c.room,
                &c.token,
                c.options.clone(),
                c.sinks.clone(),
            )
            .await
            {
                Ok(client) => {
                    *self.stats.lock().unwrap_or_else(|p| p.into_inner()) = client.stats_handle();
                    if let Some(view) = &self.view {
                        let _ = client.set_view(view.clone()).await;
                    }
                    self.emit(SessionEvent::Rejoined(Box::new(client.info.clone())));
                    self.emit(SessionEvent::Connection {
                        state: ConnectionState::Connected,
                        message: None,
                    });
                    return Some(client);
                }
                Err(MediaError::Signal(SignalError::Refused { code, message }))
                    if refusal_is_final(code) =>
                {
                    self.emit(SessionEvent::Ended(EndReason::Refused { code, message }));
                    return None;
                }
                Err(MediaError::Source(message)) => {
                    // A device that failed during the call cannot keep us out.
                    let o = &mut self.config.options;
                    o.camera = false;
                    o.microphone = false;
                    o.screen = false;
                    self.emit(SessionEvent::Notice(format!(
                        "Rejoining with camera and microphone off: {message}"
                    )));
                    last_error = message;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "rejoin failed");
                    last_error = e.to_string();
                }
            }
        }
        self.emit(SessionEvent::Connection {
            state: ConnectionState::Lost,
            message: Some(last_error.clone()),
        });
        self.emit(SessionEvent::Ended(EndReason::Lost(last_error)));
        None
    }

    /// For a `media_failed` the session should recover from by rejoining: why. Past the
    /// limit, tells the user once instead and stays (signaling, chat) as it is.
    fn media_failure(&mut self, message: &ServerMessage) -> Option<String> {
        let ServerMessage::Error {
            code: ErrorCode::MediaFailed,
            message,
            ..
        } = message
        else {
            return None;
        };
        let message = message.trim_end_matches("; negotiate again");
        let now = std::time::Instant::now();
        self.media_failures
            .retain(|t| now.duration_since(*t) < MEDIA_FAILURE_WINDOW);
        self.media_failures.push(now);
        match self.media_failures.len() {
            n if n < MEDIA_FAILURES_BEFORE_GIVING_UP => Some(format!("{message}; reconnecting")),
            n if n == MEDIA_FAILURES_BEFORE_GIVING_UP => {
                tracing::warn!(%message, "media keeps failing; no more rejoins for it");
                self.emit(SessionEvent::Notice(format!(
                    "Audio and video cannot connect to the room: {message}. Chat still works; \
                     leave and join again to retry."
                )));
                None
            }
            _ => None,
        }
    }

    fn emit(&self, event: SessionEvent) {
        let _ = self.events.send(event);
    }

    fn request_id(&mut self) -> String {
        self.next_request += 1;
        format!("s{}", self.next_request)
    }

    fn fail_pending(&mut self, error: SessionError) {
        for (_, pending) in self.pending.drain() {
            pending.fail(error.clone());
        }
    }

    async fn on_command(&mut self, client: &mut MediaClient, command: Command) {
        match command {
            Command::SetMedia(update, reply) => {
                let id = self.request_id();
                match client.set_media_request(update, &id).await {
                    Ok(()) => {
                        let o = &mut self.config.options;
                        o.microphone = update.mic.unwrap_or(o.microphone);
                        o.camera = update.camera.unwrap_or(o.camera);
                        o.screen = update.screen.unwrap_or(o.screen);
                        self.sent_at.insert(id.clone(), std::time::Instant::now());
                        drop(self.pending.insert(id, Pending::Media(reply, update)));
                    }
                    Err(e) => drop(reply.send(Err(media_error(e)))),
                }
            }
            Command::SetInput(source, video, audio, reply) => {
                let result = client
                    .set_input(source, video.clone(), audio.clone())
                    .await
                    .map_err(media_error);
                if result.is_ok() {
                    let o = &mut self.config.options;
                    match source {
                        TrackSource::Camera => {
                            o.camera_input = video.unwrap_or(o.camera_input.clone())
                        }
                        TrackSource::Screen => {
                            o.screen_input = video.unwrap_or(o.screen_input.clone())
                        }
                        TrackSource::Microphone => {
                            o.microphone_input = audio.unwrap_or(o.microphone_input.clone())
                        }
                    }
                }
                let _ = reply.send(result);
            }
            Command::SetView(tiles, reply) => {
                self.view = Some(tiles.clone());
                let _ = reply.send(client.set_view(tiles).await.map_err(media_error));
            }
            Command::Chat(client_msg_id, text, reply) => {
                let message = ClientMessage::ChatSend {
                    client_msg_id: client_msg_id.clone(),
                    text: text.clone(),
                };
                // The client_msg_id doubles as the request id: errors echo it.
                if let Err(e) = client.send_request(message, &client_msg_id).await {
                    let _ = reply.send(Err(media_error(e)));
                    return;
                }
                self.sent_at
                    .insert(client_msg_id.clone(), std::time::Instant::now());
                self.pending
                    .insert(client_msg_id, Pending::Chat(reply, text));
            }
            Command::History(before_seq, reply) => {
                let id = self.request_id();
                let message = ClientMessage::ChatHistory {
                    before_seq,
                    limit: None,
                };
                match client.send_request(message, &id).await {
                    Ok(()) => {
                        self.sent_at.insert(id.clone(), std::time::Instant::now());
                        drop(self.pending.insert(id, Pending::History(reply)))
                    }
                    Err(e) => drop(reply.send(Err(media_error(e)))),
                }
            }
            Command::Acked(message, reply) => {
                let id = self.request_id();
                match client.send_request(message, &id).await {
                    Ok(()) => {
                        self.sent_at.insert(id.clone(), std::time::Instant::now());
                        drop(self.pending.insert(id, Pending::Acked(reply)))
                    }
                    Err(e) => drop(reply.send(Err(media_error(e)))),
                }
            }
            Command::Ping(reply) => {
                let id = self.request_id();
                match client
                    .send_request(ClientMessage::Ping { nonce: None }, &id)
                    .await
                {
                    Ok(()) => {
                        self.sent_at.insert(id.clone(), std::time::Instant::now());
                        drop(self.pending.insert(id, Pending::Ping(reply)))
                    }
                    Err(e) => drop(reply.send(Err(media_error(e)))),
                }
            }
            Command::Leave(_) => unreachable!("handled by the caller"),
        }
        self.expire_pending();
    }

    /// Fail the requests whose answer is overdue (their callers have given up already).
    fn expire_pending(&mut self) {
        let now = std::time::Instant::now();
        let overdue: Vec<String> = self
            .sent_at
            .iter()
            .filter(|(_, at)| now.duration_since(**at) > REQUEST_TIMEOUT)
            .map(|(id, _)| id.clone())
            .collect();
        for id in overdue {
            self.sent_at.remove(&id);
            if let Some(pending) = self.pending.remove(&id) {
                pending.fail(SessionError::Timeout(REQUEST_TIMEOUT));
            }
        }
    }

    /// The relay turned one of our sources off (a host muted everyone, a lecture's rules):
    /// stop capturing it here too, so no device stays open behind an "off" in the room.
    async fn follow_relay_media(&mut self, client: &mut MediaClient, message: &ServerMessage) {
        let ServerMessage::ParticipantUpdated { participant } = message else {
            return;
        };
        if participant.identity != self.identity {
            return;
        }
        let o = &self.config.options;
        let off = |local: bool, remote: bool| (local && !remote).then_some(false);
        let update = MediaUpdate {
            mic: off(o.microphone, participant.media.mic),
            camera: off(o.camera, participant.media.camera),
            screen: off(o.screen, participant.media.screen),
        };
        if update == MediaUpdate::default() {
            return;
        }
        tracing::info!(?update, "the relay turned our media off; stopping it here");
        if client.set_media(update).await.is_ok() {
            let o = &mut self.config.options;
            o.microphone &= update.mic.is_none();
            o.camera &= update.camera.is_none();
            o.screen &= update.screen.is_none();
        }
    }

    /// Resolve waiting requests from a message; `Some` when it ends the session.
    fn on_message(&mut self, message: &ServerMessage) -> Option<EndReason> {
        match message {
            ServerMessage::ChatMessage { message } if message.from == self.identity => {
                if let Some(Pending::Chat(reply, _)) = self.pending.remove(&message.client_msg_id) {
                    let _ = reply.send(Ok(message.clone()));
                }
            }
            ServerMessage::ChatAck {
                client_msg_id,
                seq,
                ts,
                duplicate: true,
                ..
            } => {
                // A retry of a stored message is not broadcast again: answer from the ack.
                if let Some(Pending::Chat(reply, text)) = self.pending.remove(client_msg_id) {
                    let _ = reply.send(Ok(ChatMessage {
                        seq: *seq,
                        from: self.identity.clone(),
                        name: self.name.clone(),
                        text,
                        ts: *ts,
                        client_msg_id: client_msg_id.clone(),
                        deleted: false,
                        attachment: None,
                    }));
                }
            }
            ServerMessage::ChatPage {
                request_id: Some(id),
                page,
            } => {
                if let Some(Pending::History(reply)) = self.pending.remove(id) {
                    let _ = reply.send(Ok(page.clone()));
                }
            }
            ServerMessage::Pong {
                request_id: Some(id),
                time,
                ..
            } => {
                if let Some(Pending::Ping(reply)) = self.pending.remove(id) {
                    let _ = reply.send(Ok(*time));
                }
            }
            ServerMessage::Ack { request_id } => match self.pending.remove(request_id) {
                Some(Pending::Acked(reply) | Pending::Media(reply, _)) => {
                    let _ = reply.send(Ok(()));
                }
                Some(other) => drop(self.pending.insert(request_id.clone(), other)),
                None => {}
            },
            // A question asked or a poll launched is answered by its own event, with the
            // request's id.
            ServerMessage::Feature(
                FeatureEvent::Questions(QuestionEvent::Question {
                    request_id: Some(id),
                    ..
                })
                | FeatureEvent::Polls(PollEvent::Poll {
                    request_id: Some(id),
                    ..
                }),
            ) => {
                if let Some(Pending::Acked(reply)) = self.pending.remove(id) {
                    let _ = reply.send(Ok(()));
                }
            }
            ServerMessage::Error {
                request_id: Some(id),
                code,
                message,
                ..
            } => {
                if let Some(pending) = self.pending.remove(id) {
                    if let Pending::Media(_, update) = &pending {
                        // Refused: what this change turned on goes off again.
                        let off = |on: Option<bool>| (on == Some(true)).then_some(false);
                        self.undo_media.push(MediaUpdate {
                            mic: off(update.mic),
                            camera: off(update.camera),
                            screen: off(update.screen),
                        });
                    }
                    pending.fail(SessionError::Refused {
                        code: *code,
                        message: message.clone(),
                    });
                }
            }
            ServerMessage::RoomEnded { by } => {
                return Some(EndReason::RoomEnded { by: by.clone() });
            }
            ServerMessage::Kicked { by, reason } => {
                return Some(EndReason::Kicked {
                    by: by.clone(),
                    reason: reason.clone(),
                })
            }
            _ => {}
        }
        None
    }
}

/// Whether a refused rejoin should end the session (the token or the room no longer
/// admits us) rather than be retried (a busy or restarting relay).
fn refusal_is_final(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::TokenInvalid
            | ErrorCode::TokenExpired
            | ErrorCode::TokenMissing
            | ErrorCode::TokenWrongRoom
            | ErrorCode::Banned
            | ErrorCode::RoomLocked
            | ErrorCode::Forbidden
            | ErrorCode::UnsupportedProtocol
    )
}

fn refuse(command: Command, error: SessionError) {
    match command {
        Command::SetMedia(_, r) | Command::SetInput(_, _, _, r) => drop(r.send(Err(error))),
        Command::Chat(_, _, r) => drop(r.send(Err(error))),
        Command::History(_, r) => drop(r.send(Err(error))),
        Command::Acked(_, r) => drop(r.send(Err(error))),
        Command::Ping(r) => drop(r.send(Err(error))),
        Command::SetView(_, r) => drop(r.send(Err(error))),
        Command::Leave(done) => drop(done.send(())),
    }
}

fn media_error(e: MediaError) -> SessionError {
    match e {
        MediaError::Refused(message) => SessionError::Refused {
            code: ErrorCode::Forbidden,
            message,
        },
        MediaError::Signal(SignalError::Closed { .. }) => SessionError::NotConnected,
        other => SessionError::Media(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_decide_whether_to_rejoin() {
        let closed = |code| {
            classify(Err(MediaError::Signal(SignalError::Closed {
                code,
                reason: "r".into(),
            })))
        };
        assert!(closed(1006).is_ok(), "a broken connection is rejoined");
        assert!(closed(1001).is_ok(), "a relay restart is rejoined");
        assert!(closed(4010).is_ok(), "a heartbeat timeout is rejoined");
        assert_eq!(closed(4009), Err(EndReason::Replaced));
        assert!(matches!(closed(4003), Err(EndReason::Kicked { .. })));
        assert!(matches!(closed(4001), Err(EndReason::Refused { .. })));
    }
}
