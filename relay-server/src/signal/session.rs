//! One joined participant's session: the rules for every message after `join`.
//!
//! Replies and room events reach the client through the participant's queue
//! ([`ConnHandle`]), so a session never touches the socket and tests can drive it with
//! plain strings.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use studyhall_protocol::{
    ClientFrame, ClientMessage, CloseCode, ErrorCode, Grants, Heartbeat, LeaveReason, Limits,
    MediaState, MediaUpdate, Participant, PublishedTrack, Role, ServerMessage, TrackSource,
    PROTOCOL_VERSION,
};
use tracing::{debug, info, warn};

use crate::auth::AuthError;
use crate::ids::{self, now_ms};
use crate::room::limits::{TokenBucket, Verdict, Violations};
use crate::room::{lock, ConnHandle, JoinError, KickError, Outbound, Room};
use crate::state::Relay;
use crate::store::{NewChatMessage, StoreError};

/// Publish renegotiations per second per connection, and the burst above that: each
/// one makes the SFU offer again to everyone in the room.
const PUBLISH_OFFERS_PER_SECOND: u32 = 1;
const PUBLISH_OFFER_BURST: u32 = 5;

/// What the socket should do after a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Close the socket (after what is queued) and remove the participant for `leave`.
    Close {
        code: u16,
        reason: String,
        leave: LeaveReason,
    },
}

/// A join that was refused: the error to send, then the close code.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub error: ServerMessage,
    pub close_code: u16,
}

impl Refusal {
    fn new(
        code: ErrorCode,
        message: impl Into<String>,
        request_id: Option<String>,
        close: u16,
    ) -> Self {
        Refusal {
            error: ServerMessage::fatal(code, message, request_id),
            close_code: close,
        }
    }

    /// A first frame that could not be decoded.
    pub fn undecodable(e: super::DecodeError) -> Self {
        Refusal {
            error: ServerMessage::fatal(e.code, e.message, e.request_id),
            close_code: CloseCode::PROTOCOL,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match &self.error {
            ServerMessage::Error { code, .. } => *code,
            _ => ErrorCode::Internal,
        }
    }
}

pub struct Session {
    relay: Relay,
    room: Arc<Room>,
    identity: String,
    name: String,
    grants: Grants,
    conn: ConnHandle,
    signal_bucket: TokenBucket,
    chat_bucket: TokenBucket,
    /// Media renegotiations (each one makes the SFU offer to everyone in the room).
    publish_bucket: TokenBucket,
    violations: Violations,
    span: tracing::Span,
}

impl Session {
    /// Handle the first message of a socket. On success the participant is in the room
    /// and the returned `joined` message must be sent before anything queued.
    pub async fn join(
        relay: &Relay,
        frame: ClientFrame,
        conn: ConnHandle,
        now: Instant,
    ) -> Result<(Session, ServerMessage), Refusal> {
        let request_id = frame.request_id;
        let ClientMessage::Join {
            room,
            token,
            protocol,
            media,
        } = frame.message
        else {
            return Err(Refusal::new(
                ErrorCode::NotJoined,
                format!(
                    "the first message must be `join`, not `{}`",
                    frame.message.kind()
                ),
                request_id,
                CloseCode::PROTOCOL,
            ));
        };
        if relay.is_shutting_down() {
            return Err(Refusal::new(
                ErrorCode::ShuttingDown,
                "the relay is shutting down",
                request_id,
                CloseCode::GOING_AWAY,
            ));
        }
        if protocol != PROTOCOL_VERSION {
            return Err(Refusal::new(
                ErrorCode::UnsupportedProtocol,
                format!(
                    "this relay speaks protocol {PROTOCOL_VERSION}, the client sent {protocol}"
                ),
                request_id,
                CloseCode::PROTOCOL,
            ));
        }
        if let Err(m) = ids::check_room(&room) {
            return Err(Refusal::new(
                ErrorCode::InvalidId,
                format!("room: {m}"),
                request_id,
                CloseCode::PROTOCOL,
            ));
        }
        let claims = relay.keys.verify(&token, &room).map_err(|e: AuthError| {
            Refusal::new(
                e.code(),
                e.to_string(),
                request_id.clone(),
                CloseCode::UNAUTHORIZED,
            )
        })?;
        let span = tracing::info_span!("participant", room = %room, identity = %claims.sub);

        let mut media = media;
        if !claims.grants.publish {
            media = MediaState::default();
        }
        let participant = Participant {
            identity: claims.sub.clone(),
            name: claims.name.clone(),
            role: if claims.grants.host {
                Role::Host
            } else {
                Role::Member
            },
            grants: claims.grants,
            media,
            presence: Default::default(),
            joined_at: now_ms(),
        };
        let joined = relay
            .rooms
            .join(&room, participant.clone(), conn.clone())
            .map_err(|e| match e {
                JoinError::Full { .. } => Refusal::new(
                    ErrorCode::RoomFull,
                    e.to_string(),
                    request_id.clone(),
                    CloseCode::ROOM_FULL,
                ),
                JoinError::Banned => Refusal::new(
                    ErrorCode::Banned,
                    e.to_string(),
                    request_id.clone(),
                    CloseCode::KICKED,
                ),
            })?;
        relay.metrics.joins_total.fetch_add(1, Ordering::Relaxed);
        relay
            .sfu
            .join(&room, &claims.sub, claims.grants.subscribe)
            .await;
        for (source, on) in [
            (TrackSource::Microphone, media.mic),
            (TrackSource::Camera, media.camera),
            (TrackSource::Screen, media.screen),
        ] {
            if !on {
                relay
                    .sfu
                    .set_enabled(&room, &claims.sub, source, false)
                    .await;
            }
        }
        span.in_scope(|| {
            info!(
                replaced = joined.replaced,
                participants = joined.participants.len(),
                "joined"
            )
        });

        // History is read after entering the room: a message stored in between may arrive
        // both in this page and as a `chat_message` (clients de-duplicate by seq), but none
        // can fall between the two.
        let chat = match relay
            .chat
            .page(&room, None, relay.config.history_on_join)
            .await
        {
            Ok(page) => page,
            Err(e) => {
                span.in_scope(|| warn!(error = %e, "cannot load chat history on join"));
                relay.metrics.error_sent(ErrorCode::StorageUnavailable);
                conn.send(Outbound::message(&ServerMessage::error(
                    ErrorCode::StorageUnavailable,
                    "chat history is unavailable right now; ask again with chat_history",
                    None,
                )));
                Default::default()
            }
        };
        let config = &relay.config;
        let welcome = ServerMessage::Joined {
            request_id,
            protocol: PROTOCOL_VERSION,
            server_version: env!("CARGO_PKG_VERSION").to_string(),
            room: room.clone(),
            you: participant,
            participants: joined.participants,
            chat,
            limits: Limits {
                max_message_bytes: config.max_message_bytes,
                max_chat_bytes: config.max_chat_bytes,
                messages_per_second: config.messages_per_second,
                message_burst: config.message_burst,
                chat_per_second: config.chat_per_second,
                chat_burst: config.chat_burst,
                max_room_size: config.max_room_size,
                max_history_page: config.max_history_page,
            },
            heartbeat: Heartbeat {
                interval_ms: config.heartbeat_interval.as_millis() as u64,
                timeout_ms: config.heartbeat_timeout.as_millis() as u64,
            },
        };
        let session = Session {
            relay: relay.clone(),
            room: joined.room,
            identity: claims.sub,
            name: claims.name,
            grants: claims.grants,
            signal_bucket: TokenBucket::new(config.messages_per_second, config.message_burst, now),
            chat_bucket: TokenBucket::new(config.chat_per_second, config.chat_burst, now),
            publish_bucket: TokenBucket::new(PUBLISH_OFFERS_PER_SECOND, PUBLISH_OFFER_BURST, now),
            violations: Violations::new(config.violations_before_disconnect),
            conn,
            span,
        };
        Ok((session, welcome))
    }

    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    fn reply(&self, msg: ServerMessage) {
        if let ServerMessage::Error { code, .. } = &msg {
            self.relay.metrics.error_sent(*code);
        }
        self.conn.send(Outbound::message(&msg));
    }

    fn error(&self, code: ErrorCode, message: impl Into<String>, request_id: Option<String>) {
        self.reply(ServerMessage::error(code, message, request_id));
    }

    /// A message was refused for rate: warn once per window, disconnect when it persists.
    fn rate_limited(
        &mut self,
        now: Instant,
        retry_after_ms: u64,
        request_id: Option<String>,
    ) -> Flow {
        match self.violations.record(now) {
            Verdict::Warn => {
                self.reply(ServerMessage::Error {
                    request_id,
                    code: ErrorCode::RateLimited,
                    message: "too many messages; slow down".into(),
                    fatal: false,
                    retry_after_ms: Some(retry_after_ms.max(1)),
                });
                Flow::Continue
            }
            Verdict::Quiet => {
                self.relay.metrics.error_sent(ErrorCode::RateLimited);
                Flow::Continue
            }
            Verdict::Disconnect => {
                self.span
                    .in_scope(|| warn!("disconnecting: rate limit broken repeatedly"));
                self.reply(ServerMessage::fatal(
                    ErrorCode::RateLimited,
                    "disconnected for sending too many messages",
                    request_id,
                ));
                Flow::Close {
                    code: CloseCode::RATE_LIMITED,
                    reason: "rate limit".into(),
                    leave: LeaveReason::Violation,
                }
            }
        }
    }

    /// A text frame arrived.
    pub async fn on_text(&mut self, text: &str, now: Instant) -> Flow {
        self.relay
            .metrics
            .messages_received
            .fetch_add(1, Ordering::Relaxed);
        if let Err(wait) = self.signal_bucket.try_take(now) {
            return self.rate_limited(now, wait.as_millis() as u64, None);
        }
        match super::decode(text) {
            Ok(frame) => self.on_frame(frame, now).await,
            Err(e) => {
                self.error(e.code, e.message, e.request_id);
                Flow::Continue
            }
        }
    }

    /// A binary frame arrived: refused, the protocol is JSON text.
    pub fn on_binary(&mut self, now: Instant) -> Flow {
        if let Err(wait) = self.signal_bucket.try_take(now) {
            return self.rate_limited(now, wait.as_millis() as u64, None);
        }
        self.error(
            ErrorCode::BinaryNotSupported,
            "binary frames are not part of the protocol; send JSON text",
            None,
        );
        Flow::Continue
    }

    async fn on_frame(&mut self, frame: ClientFrame, now: Instant) -> Flow {
        // `decode` has already checked the request_id.
        let request_id = frame.request_id;
        let kind = frame.message.kind();
        debug!(kind, "message");
        match frame.message {
            ClientMessage::Join { .. } => self.error(
                ErrorCode::AlreadyJoined,
                "this socket already joined a room",
                request_id,
            ),
            ClientMessage::Leave => {
                self.reply(ServerMessage::Left { request_id });
                return Flow::Close {
                    code: CloseCode::NORMAL,
                    reason: "left".into(),
                    leave: LeaveReason::Left,
                };
            }
            ClientMessage::Ping { nonce } => self.reply(ServerMessage::Pong { request_id, nonce }),
            ClientMessage::SetMedia(update) => {
                let turns_on = update.mic == Some(true)
                    || update.camera == Some(true)
                    || update.screen == Some(true);
                if turns_on && !self.grants.publish {
                    self.error(
                        ErrorCode::Forbidden,
                        "the token does not grant `publish`",
                        request_id,
                    );
                } else {
                    // Only a change made by the connection that owns the identity reaches
                    // the SFU: a replaced connection must not mute its successor.
                    let changed = self
                        .room
                        .update_participant(&self.identity, self.conn.id, |p| {
                            p.media.apply(update)
                        });
                    if changed.is_some() {
                        self.relay.rooms.touched(&self.room);
                        self.apply_forwarding(update).await;
                    }
                }
            }
            ClientMessage::SetPresence { presence } => {
                let changed = self
                    .room
                    .update_participant(&self.identity, self.conn.id, |p| {
                        let changed = p.presence != presence;
                        p.presence = presence;
                        changed
                    });
                if changed.is_some() {
                    self.relay.rooms.touched(&self.room);
                }
            }
            ClientMessage::ChatSend {
                client_msg_id,
                text,
            } => return self.chat_send(client_msg_id, text, request_id, now).await,
            ClientMessage::ChatHistory { before_seq, limit } => {
                self.chat_history(before_seq, limit, request_id).await
            }
            ClientMessage::ChatDelete { seq } => self.chat_delete(seq, request_id).await,
            ClientMessage::Kick { identity, reason } => {
                self.kick(identity, reason, request_id).await
            }
            ClientMessage::EndRoom => self.end_room(request_id).await,
            ClientMessage::PublishOffer { .. } | ClientMessage::SubscribeAnswer { .. }
                if !self.room.is_current(&self.identity, self.conn.id) =>
            {
                self.error(
                    ErrorCode::Replaced,
                    "this connection was replaced by a newer one",
                    request_id,
                );
            }
            ClientMessage::PublishOffer { sdp, tracks } => {
                if let Err(wait) = self.publish_bucket.try_take(now) {
                    return self.rate_limited(now, wait.as_millis() as u64, request_id);
                }
                self.publish_offer(sdp, tracks, request_id).await
            }
            ClientMessage::SubscribeAnswer { sdp } => {
                let answered = self
                    .relay
                    .sfu
                    .subscribe_answer(&self.room.name, &self.identity, sdp)
                    .await;
                if let Err(e) = answered {
                    warn!(error = %e, "subscribe answer refused");
                    self.error(ErrorCode::MediaFailed, e.to_string(), request_id);
                }
            }
        }
        Flow::Continue
    }

    async fn chat_send(
        &mut self,
        client_msg_id: String,
        text: String,
        request_id: Option<String>,
        now: Instant,
    ) -> Flow {
        if !self.grants.chat {
            self.error(
                ErrorCode::Forbidden,
                "the token does not grant `chat`",
                request_id,
            );
            return Flow::Continue;
        }
        if let Err(m) = ids::check_client_id(&client_msg_id) {
            self.error(
                ErrorCode::InvalidId,
                format!("client_msg_id: {m}"),
                request_id,
            );
            return Flow::Continue;
        }
        let max = self.relay.config.max_chat_bytes;
        if text.trim().is_empty() {
            self.error(ErrorCode::InvalidText, "chat text is empty", request_id);
            return Flow::Continue;
        }
        if text.len() > max {
            self.error(
                ErrorCode::InvalidText,
                format!("chat text is {} bytes; the limit is {max}", text.len()),
                request_id,
            );
            return Flow::Continue;
        }
        if let Err(wait) = self.chat_bucket.try_take(now) {
            return self.rate_limited(now, wait.as_millis() as u64, request_id);
        }
        let new = NewChatMessage {
            from: self.identity.clone(),
            name: self.name.clone(),
            client_msg_id: client_msg_id.clone(),
            text: self.relay.filter.mask(&text),
        };
        // Queue the message, then store and broadcast whatever is queued under the room's
        // chat lock (in a task of its own, so a closing socket cannot abandon other
        // people's messages halfway): everyone sees seq order, and messages that arrive
        // during one store write go out together in the next.
        let (reply, result) = tokio::sync::oneshot::channel();
        lock(&self.room.chat_pending).push((new, reply));
        tokio::spawn(store_pending_chat(self.relay.clone(), self.room.clone()));
        let stored = result.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the chat writer stopped before storing the message".into(),
            ))
        });
        match stored {
            Ok(a) => self.reply(ServerMessage::ChatAck {
                request_id,
                client_msg_id,
                seq: a.message.seq,
                ts: a.message.ts,
                duplicate: a.duplicate,
            }),
            Err(e) => {
                warn!(error = %e, "chat append failed");
                self.error(
                    ErrorCode::StorageUnavailable,
                    "the message was not stored; retry with the same client_msg_id",
                    request_id,
                );
            }
        }
        Flow::Continue
    }

    async fn chat_history(
        &self,
        before_seq: Option<u64>,
        limit: Option<u32>,
        request_id: Option<String>,
    ) {
        let max = self.relay.config.max_history_page;
        let limit = limit.unwrap_or(self.relay.config.history_on_join.max(1));
        if limit == 0 {
            self.error(
                ErrorCode::BadMessage,
                "limit must be at least 1",
                request_id,
            );
            return;
        }
        match self
            .relay
            .chat
            .page(&self.room.name, before_seq, limit.min(max))
            .await
        {
            Ok(page) => self.reply(ServerMessage::ChatPage { request_id, page }),
            Err(e) => {
                warn!(error = %e, "chat history failed");
                self.error(
                    ErrorCode::StorageUnavailable,
                    "chat history is unavailable; retry",
                    request_id,
                );
            }
        }
    }

    async fn chat_delete(&self, seq: u64, request_id: Option<String>) {
        if !self.grants.host {
            self.error(
                ErrorCode::Forbidden,
                "only a host can delete messages",
                request_id,
            );
            return;
        }
        match self.relay.chat.delete(&self.room.name, seq).await {
            Ok(Some(_)) => {
                info!(seq, "chat message deleted by host");
                self.room.broadcast(
                    &ServerMessage::ChatDeleted {
                        seq,
                        deleted_by: self.identity.clone(),
                    },
                    None,
                );
            }
            Ok(None) => self.error(
                ErrorCode::NotFound,
                format!("no chat message with seq {seq}"),
                request_id,
            ),
            Err(e) => {
                warn!(error = %e, "chat delete failed");
                self.error(
                    ErrorCode::StorageUnavailable,
                    "the message was not deleted; retry",
                    request_id,
                );
            }
        }
    }

    /// Muting a source stops its forwarding; unmuting resumes it.
    async fn apply_forwarding(&self, update: MediaUpdate) {
        for (source, on) in [
            (TrackSource::Microphone, update.mic),
            (TrackSource::Camera, update.camera),
            (TrackSource::Screen, update.screen),
        ] {
            if let Some(on) = on {
                self.relay
                    .sfu
                    .set_enabled(&self.room.name, &self.identity, source, on)
                    .await;
            }
        }
    }

    async fn publish_offer(
        &self,
        sdp: String,
        tracks: Vec<PublishedTrack>,
        request_id: Option<String>,
    ) {
        if !self.grants.publish {
            self.error(
                ErrorCode::Forbidden,
                "the token does not grant `publish`",
                request_id,
            );
            return;
        }
        let mut sources = std::collections::HashSet::new();
        for t in &tracks {
            if let Err(m) = ids::check_client_id(&t.mid) {
                self.error(ErrorCode::InvalidId, format!("mid: {m}"), request_id);
                return;
            }
            if !sources.insert(t.source) {
                self.error(
                    ErrorCode::BadMessage,
                    format!("more than one `{}` track", t.source.as_str()),
                    request_id,
                );
                return;
            }
        }
        match self
            .relay
            .sfu
            .publish(&self.room.name, &self.identity, sdp, tracks)
            .await
        {
            Ok(sdp) => self.reply(ServerMessage::PublishAnswer { request_id, sdp }),
            Err(e) => {
                warn!(error = %e, "publish offer refused");
                self.error(ErrorCode::MediaFailed, e.to_string(), request_id);
            }
        }
    }

    async fn end_room(&self, request_id: Option<String>) {
        if !self.grants.host {
            self.error(
                ErrorCode::Forbidden,
                "only a host can end the room",
                request_id,
            );
            return;
        }
        let gone = self.relay.rooms.end_room(&self.room, &self.identity);
        info!(participants = gone.len(), "room ended by host");
        for identity in gone {
            self.relay.sfu.leave(&self.room.name, &identity).await;
        }
    }

    async fn kick(&self, target: String, reason: Option<String>, request_id: Option<String>) {
        if !self.grants.host {
            self.error(
                ErrorCode::Forbidden,
                "only a host can remove participants",
                request_id,
            );
            return;
        }
        if let Some(r) = &reason {
            if r.chars().count() > 200 {
                self.error(
                    ErrorCode::BadMessage,
                    "reason is longer than 200 characters",
                    request_id,
                );
                return;
            }
        }
        match self
            .relay
            .rooms
            .kick(&self.room, &target, &self.identity, reason)
        {
            Ok(()) => {
                info!(target = %target, "participant kicked by host");
                self.relay.sfu.leave(&self.room.name, &target).await;
            }
            Err(e @ KickError::NotFound(_)) => {
                self.error(ErrorCode::NotFound, e.to_string(), request_id)
            }
            Err(e @ KickError::SelfKick) => {
                self.error(ErrorCode::Forbidden, e.to_string(), request_id)
            }
        }
    }

    /// Remove the participant from the room (no-op if already replaced or kicked).
    /// Remove the participant from the room and its media (no-op if already replaced or
    /// kicked: whoever replaced or kicked it has taken care of both).
    pub async fn end(&self, reason: LeaveReason) {
        if self
            .relay
            .rooms
            .leave(&self.room, &self.identity, self.conn.id, reason)
        {
            self.span.in_scope(|| info!(?reason, "left"));
            self.relay.sfu.leave(&self.room.name, &self.identity).await;
        }
    }
}

/// Store every queued chat message of `room` in one batch, broadcast the new ones in
/// sequence order and answer each sender. Queued messages already taken by an earlier
/// call leave nothing to do.
async fn store_pending_chat(relay: Relay, room: Arc<Room>) {
    let _order = room.chat_lock.lock().await;
    let batch = std::mem::take(&mut *lock(&room.chat_pending));
    if batch.is_empty() {
        return;
    }
    let (msgs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let results = relay.chat.append_batch(&room.name, msgs).await;
    for (result, reply) in results.into_iter().zip(replies) {
        if let Ok(a) = &result {
            if !a.duplicate {
                relay.metrics.chat_messages.fetch_add(1, Ordering::Relaxed);
                room.broadcast(
                    &ServerMessage::ChatMessage {
                        message: a.message.clone(),
                    },
                    None,
                );
            }
        }
        let _ = reply.send(result);
    }
}
