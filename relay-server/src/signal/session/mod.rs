//! One joined participant's session: authentication ([`join`]), rate limits, the grant
//! table, and dispatch of every later message to its handler — the media rules
//! ([`media`]), host actions ([`moderation`]) or a room feature
//! ([`crate::room::features`]). Each request's outcome goes back as its reply, a
//! generic `ack` (when it carried a `request_id`) or an `error`.
//!
//! Replies and room events reach the client through the participant's queue
//! ([`ConnHandle`]), so a session never touches the socket and tests drive it with plain
//! strings (see `tests.rs`).

mod join;
mod media;
mod moderation;
#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use studyhall_protocol::{
    required_grant, ClientFrame, ClientMessage, CloseCode, ErrorCode, Grants, LeaveReason,
    ServerMessage,
};
use tracing::{debug, info, warn};

use crate::room::features::{self, ConnLimits, Cx, Outcome, Refused, Reply, SessionBuckets};
use crate::room::limits::{TokenBucket, Verdict, Violations};
use crate::room::{ConnHandle, Outbound, Room};
use crate::state::Relay;

/// Publish renegotiations per second per connection, and the burst above that: each
/// one makes the SFU offer again to everyone in the room.
const PUBLISH_OFFERS_PER_SECOND: u32 = 1;
const PUBLISH_OFFER_BURST: u32 = 5;

/// Views (`set_view`) per second per connection, and the burst above that: a client
/// sends one when its layout settles, and each tile shown again costs its publisher a
/// keyframe, which everyone else receives too.
const VIEWS_PER_SECOND: u32 = 4;
const VIEW_BURST: u32 = 8;

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
    /// Media renegotiations (each one makes the SFU offer to everyone in the room).
    publish_bucket: TokenBucket,
    /// Views: see [`VIEWS_PER_SECOND`].
    view_bucket: TokenBucket,
    /// Rate limits of the room features (chat).
    buckets: SessionBuckets,
    violations: Violations,
    span: tracing::Span,
}

impl Session {
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

    /// A request succeeded with no reply of its own: `ack` it if it asked (`request_id`).
    fn ack(&self, request_id: Option<String>) {
        if let Some(request_id) = request_id {
            self.reply(ServerMessage::Ack { request_id });
        }
    }

    /// The non-fatal `rate_limited` answer.
    fn slow_down(&self, retry_after_ms: u64, request_id: Option<String>) -> Flow {
        self.reply(ServerMessage::Error {
            request_id,
            code: ErrorCode::RateLimited,
            message: "too many messages; slow down".into(),
            fatal: false,
            retry_after_ms: Some(retry_after_ms.max(1)),
        });
        Flow::Continue
    }

    /// A message was refused for rate: warn once per window, disconnect when it persists.
    fn rate_limited(
        &mut self,
        now: Instant,
        retry_after_ms: u64,
        request_id: Option<String>,
    ) -> Flow {
        match self.violations.record(now) {
            // The first refusal of a window warns; within the window, a request that
            // waits for its answer still gets one (the signaling limit bounds how many),
            // and anything else is dropped quietly.
            Verdict::Warn => self.slow_down(retry_after_ms, request_id),
            Verdict::Quiet if request_id.is_some() => self.slow_down(retry_after_ms, request_id),
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
        // Strokes being drawn (`board_live`, about 30 a second while the pen moves) have
        // their own limit, over which they are dropped; everything else, and anything
        // that only looks like one, counts against the connection's message rate.
        let maybe_live = text.contains("\"board_live\"");
        if !maybe_live {
            if let Err(wait) = self.signal_bucket.try_take(now) {
                return self.rate_limited(now, wait.as_millis() as u64, None);
            }
        }
        let decoded = super::decode(text);
        let live = matches!(&decoded, Ok(frame) if frame.message.kind() == "board_live");
        if maybe_live && !live {
            if let Err(wait) = self.signal_bucket.try_take(now) {
                return self.rate_limited(now, wait.as_millis() as u64, None);
            }
        }
        match decoded {
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
        if let Some(grant) = required_grant(kind) {
            if !self.grants.has(grant) {
                self.error(
                    ErrorCode::Forbidden,
                    format!(
                        "`{kind}` needs the `{}` grant, which this token does not have",
                        grant.as_str()
                    ),
                    request_id,
                );
                return Flow::Continue;
            }
        }
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
            ClientMessage::Ping { nonce } => self.reply(ServerMessage::Pong {
                request_id,
                nonce,
                time: Some(self.relay.features.clock.now_ms()),
            }),
            ClientMessage::SetMedia(update) => self.set_media(update, request_id).await,
            ClientMessage::PublishOffer { sdp, tracks } => {
                return self.publish_offer(sdp, tracks, request_id, now).await
            }
            ClientMessage::SubscribeAnswer { sdp } => self.subscribe_answer(sdp, request_id).await,
            ClientMessage::SetView { tracks } => {
                return self.set_view(tracks, request_id, now).await
            }
            ClientMessage::Kick { identity, reason } => {
                self.kick(identity, reason, request_id).await
            }
            ClientMessage::EndRoom => self.end_room(request_id).await,
            feature_message => {
                return self
                    .dispatch_feature(feature_message, request_id, now)
                    .await
            }
        }
        Flow::Continue
    }

    /// Hand a room feature's message to its feature and answer with the outcome.
    async fn dispatch_feature(
        &mut self,
        message: ClientMessage,
        request_id: Option<String>,
        now: Instant,
    ) -> Flow {
        let kind = message.kind();
        let Some(feature) = features::for_kind(kind) else {
            warn!(kind, "no feature handles this message");
            self.error(
                ErrorCode::Internal,
                format!("`{kind}` has no handler on this relay"),
                request_id,
            );
            return Flow::Continue;
        };
        let services = self.relay.features.clone();
        let mut cx = Cx {
            services: &services,
            room: &self.room,
            identity: &self.identity,
            name: &self.name,
            grants: self.grants,
            conn: &self.conn,
            request_id: request_id.clone(),
            buckets: &mut self.buckets,
            now,
        };
        let outcome: Outcome = feature.handle(&mut cx, message).await;
        match outcome {
            Ok(Reply::Ack) => self.ack(request_id),
            Ok(Reply::Message(msg)) => self.reply(msg),
            Ok(Reply::Told) => {}
            Err(Refused::Error { code, message }) => {
                debug!(feature = feature.name(), kind, ?code, "refused");
                self.error(code, message, request_id)
            }
            Err(Refused::RateLimited(wait)) => {
                return self.rate_limited(now, wait.as_millis() as u64, request_id)
            }
            Err(Refused::Limit { message, wait }) => {
                self.relay.metrics.error_sent(ErrorCode::RateLimited);
                self.reply(ServerMessage::Error {
                    request_id,
                    code: ErrorCode::RateLimited,
                    message,
                    fatal: false,
                    retry_after_ms: Some((wait.as_millis() as u64).max(1)),
                });
            }
        }
        Flow::Continue
    }

    /// Remove the participant from the room and its media (no-op if already replaced or
    /// kicked: whoever replaced or kicked it has taken care of both).
    pub async fn end(&self, reason: LeaveReason) {
        self.relay.features.identities.keep(
            &self.room.name,
            &self.identity,
            ConnLimits {
                signal: self.signal_bucket.clone(),
                publish: self.publish_bucket.clone(),
                view: self.view_bucket.clone(),
                features: self.buckets.clone(),
            },
            Instant::now(),
        );
        if self
            .relay
            .rooms
            .leave(&self.room, &self.identity, self.conn.id, reason)
        {
            self.span.in_scope(|| info!(?reason, "left"));
            self.relay
                .sfu
                .leave(&self.room.name, &self.identity, self.conn.id)
                .await;
        }
    }
}
