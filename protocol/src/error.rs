//! Stable error codes and WebSocket close codes.

use serde::{Deserialize, Serialize};

/// Why the relay refused something. The wire form (`snake_case`) never changes meaning;
/// new codes may be added, so clients must treat an unknown code as a generic error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not a JSON object of a known shape (bad JSON, missing field, wrong type).
    BadMessage,
    /// The `type` names no message this relay knows.
    UnknownType,
    /// The frame is binary; the protocol is JSON text.
    BinaryNotSupported,
    /// A message other than `join` arrived before `join` succeeded.
    NotJoined,
    /// `join` arrived on a socket that already joined.
    AlreadyJoined,
    /// `join` did not arrive in time after the socket opened.
    JoinTimeout,
    /// The client's `protocol` version is not spoken by this relay.
    UnsupportedProtocol,
    /// The `join` carried no token.
    TokenMissing,
    /// The token is malformed, forged, signed with another secret or algorithm, or not yet valid.
    TokenInvalid,
    /// The token's `exp` has passed.
    TokenExpired,
    /// The token is for another room than the one asked for.
    TokenWrongRoom,
    /// The token lacks the grant this action needs.
    Forbidden,
    /// The room has as many participants as it admits.
    RoomFull,
    /// A host removed this identity from the room; it cannot rejoin while the room lives.
    Banned,
    /// The host locked the room: it takes no new people (those already admitted can
    /// reconnect).
    RoomLocked,
    /// Too many messages; `retry_after_ms` says when to try again.
    RateLimited,
    /// The WebSocket message is larger than `max_message_bytes`.
    MessageTooLarge,
    /// The chat text is empty or longer than `max_chat_bytes`, or it (or a whiteboard
    /// text) holds a control character.
    InvalidText,
    /// An id (`request_id`, `client_msg_id`, room, identity, a whiteboard object or page)
    /// is empty, too long or holds characters it may not.
    InvalidId,
    /// The message, participant, or whiteboard page or object named does not exist.
    NotFound,
    /// A value is outside its allowed range; the message names the field and the range.
    OutOfRange,
    /// The request does not fit the current state (pausing a timer that is stopped).
    InvalidState,
    /// A count or size limit would be passed (objects on a whiteboard page, pages of a
    /// board, a board's total size); the message names the limit and its value.
    LimitReached,
    /// The same identity joined from another connection; this one is closed.
    Replaced,
    /// This connection could not keep up with the room's messages and is closed.
    SlowConsumer,
    /// Nothing came from this connection within the heartbeat timeout; it is closed
    /// (`4010`). Join again.
    HeartbeatTimeout,
    /// Cluster mode: this connection must join again (close `4013`): the room's node
    /// went away, the room moved, or messages were missed. Nothing is wrong with the
    /// client.
    Rejoin,
    /// Storage failed; the message was not stored and may be retried.
    StorageUnavailable,
    /// The relay is shutting down.
    ShuttingDown,
    /// Media negotiation failed (bad SDP, unknown mid, media unavailable).
    MediaFailed,
    /// Cluster mode: the shared store (Redis) or the room's node cannot be reached right
    /// now. Nothing was done; retry (chat with the same `client_msg_id`).
    Unavailable,
    /// The relay hit a bug; details are in its log.
    Internal,
}

impl ErrorCode {
    /// The wire string of this code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::BinaryNotSupported => "binary_not_supported",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::AlreadyJoined => "already_joined",
            ErrorCode::JoinTimeout => "join_timeout",
            ErrorCode::UnsupportedProtocol => "unsupported_protocol",
            ErrorCode::TokenMissing => "token_missing",
            ErrorCode::TokenInvalid => "token_invalid",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenWrongRoom => "token_wrong_room",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::HeartbeatTimeout => "heartbeat_timeout",
            ErrorCode::Rejoin => "rejoin",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::LimitReached => "limit_reached",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::Banned => "banned",
            ErrorCode::RoomLocked => "room_locked",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::MessageTooLarge => "message_too_large",
            ErrorCode::InvalidText => "invalid_text",
            ErrorCode::InvalidId => "invalid_id",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Replaced => "replaced",
            ErrorCode::SlowConsumer => "slow_consumer",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::MediaFailed => "media_failed",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// WebSocket close codes the relay uses. 1000–1011 are the standard ones; 4000–4999
/// are Studyhall's own.
pub struct CloseCode;

impl CloseCode {
    /// Normal close after `leave`.
    pub const NORMAL: u16 = 1000;
    /// The relay is shutting down; reconnect later.
    pub const GOING_AWAY: u16 = 1001;
    /// A message was larger than the limit.
    pub const TOO_BIG: u16 = 1009;
    /// A text frame that is not valid UTF-8 (RFC 6455 §7.4.1).
    pub const INVALID_DATA: u16 = 1007;
    /// Join refused: token missing, invalid, expired, wrong room, or no `join` grant.
    pub const UNAUTHORIZED: u16 = 4001;
    /// Protocol misuse before joining (bad first message, unsupported version, join timeout).
    pub const PROTOCOL: u16 = 4002;
    /// Removed by a host, or banned from the room.
    pub const KICKED: u16 = 4003;
    /// The room is full.
    pub const ROOM_FULL: u16 = 4004;
    /// The room is locked: it takes no new people now.
    pub const ROOM_LOCKED: u16 = 4005;
    /// Disconnected for repeatedly breaking the rate limit.
    pub const RATE_LIMITED: u16 = 4008;
    /// The same identity joined from another connection.
    pub const REPLACED: u16 = 4009;
    /// No traffic (not even pongs) within the heartbeat timeout.
    pub const HEARTBEAT_TIMEOUT: u16 = 4010;
    /// The connection fell too far behind the room's messages.
    pub const SLOW_CONSUMER: u16 = 4011;
    /// A host ended the room.
    pub const ROOM_ENDED: u16 = 4012;
    /// Cluster mode: the node serving the room went away, or this connection's relayed
    /// messages had a gap. Nothing is wrong with the client: join again at once (with
    /// the same token) and fetch what was missed.
    pub const REJOIN: u16 = 4013;
    /// The relay hit an internal error on this connection.
    pub const INTERNAL: u16 = 1011;
    /// Cluster mode: the shared store is unreachable, so the join cannot be placed;
    /// retry after a short wait.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}
