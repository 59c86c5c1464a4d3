//! Wire types of the Studyhall signaling protocol.
//!
//! One WebSocket per user carries JSON text frames. Every frame is one object whose
//! `"type"` field names the message; field names are `snake_case`. This crate owns only
//! the shapes (serde), no I/O and no runtime, so the relay, the client, the app and the
//! tests agree on them by construction. `docs/protocol.md` is the human description of
//! the same types and must change with them.
//!
//! Invariants the types encode:
//! - identity never travels from client to server: the relay takes it from the token;
//! - every client message may carry a `request_id`, echoed by the reply or error it causes;
//! - error codes are stable strings ([`ErrorCode`]); messages are for humans.

pub mod board;
mod chat;
mod error;
pub mod groups;
pub mod hands;
pub mod lecture;
pub mod materials;
mod media;
pub mod polls;
pub mod presence;
pub mod questions;
pub mod reactions;
mod room;
pub mod schedule;
pub mod timer;

pub use board::{
    Board, BoardAccess, BoardChange, BoardEvent, BoardObject, BoardOp, BoardRequest, BoardSummary,
    Page, PageInfo, Shape, Style,
};
pub use chat::{ChatMessage, ChatPage};
pub use error::{CloseCode, ErrorCode};
pub use hands::{HandEvent, HandRequest, RaisedHand};
pub use lecture::{LectureEvent, LectureRequest, LectureState, RoomMode};
pub use materials::{Attachment, Material, MaterialEvent, MaterialRequest, MaterialsState};
pub use media::{
    ForwardedTrack, Layer, LayerActivity, PublishedTrack, TileView, TrackSource, MAX_TILE_EDGE,
    MAX_VIEW_TILES,
};
pub use polls::{Poll, PollDraft, PollEvent, PollKind, PollRequest, PollState};
pub use presence::PresenceRequest;
pub use questions::{Question, QuestionEvent, QuestionOutcome, QuestionRequest, QuestionState};
pub use reactions::{Reaction, ReactionEvent, ReactionRequest};
pub use room::{Grant, Grants, MediaState, MediaUpdate, Participant, Presence, Role};
pub use timer::{
    Phase, TimerChange, TimerEvent, TimerRequest, TimerRun, TimerSettings, TimerState,
};

use serde::{Deserialize, Serialize};

/// The first control character of `text` other than newline and tab: chat, whiteboard
/// texts and questions may not hold one (each would cost six bytes as a JSON escape in
/// every member's frame, and some confuse displays).
pub fn forbidden_control(text: &str) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
}

/// A message carrying SDP (`publish_offer`, `subscribe_answer`) may be this many times
/// `max_message_bytes`: a subscriber's answer in a room of 25 with every camera and
/// microphone on is some 42 KiB from the reference client (more from clients that
/// write more attributes), too near the 64 KiB default.
pub const SDP_MESSAGE_FACTOR: usize = 4;

/// Whether `text` is a message that carries SDP (told from its `type` alone).
pub fn carries_sdp(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Kind>(text)
        .is_ok_and(|k| matches!(k.kind.as_ref(), "publish_offer" | "subscribe_answer"))
}

/// Version of the protocol this crate describes. A client sends it in `join`; the relay
/// refuses versions it does not speak with [`ErrorCode::UnsupportedProtocol`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest accepted `request_id` / `client_msg_id`, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// The path of the relay's WebSocket endpoint.
pub const WS_PATH: &str = "/ws";

/// A frame sent by a client: an optional correlation id plus the message itself.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientFrame {
    /// Free-form id (at most [`MAX_ID_LEN`] bytes) echoed by the reply or error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(flatten)]
    pub message: ClientMessage,
}

impl ClientFrame {
    pub fn new(message: ClientMessage) -> Self {
        Self {
            request_id: None,
            message,
        }
    }

    pub fn with_request_id(message: ClientMessage, request_id: impl Into<String>) -> Self {
        Self {
            request_id: Some(request_id.into()),
            message,
        }
    }
}

impl std::fmt::Debug for ClientFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFrame")
            .field("request_id", &self.request_id)
            .field("message", &self.message)
            .finish()
    }
}

/// Messages from a client to the relay. (Decoding goes through
/// [`ClientMessage::decode`], which names the field at fault.)
#[derive(Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// First message on a socket: authenticate and enter a room.
    Join {
        /// Room the client means to enter; must equal the token's room.
        room: String,
        /// Access token (JWT, HS256) from `studyhall-relay token` or the room's host.
        token: String,
        /// Protocol version the client speaks ([`PROTOCOL_VERSION`]).
        protocol: u32,
        /// Media state to start with (all off when absent).
        #[serde(default)]
        media: MediaState,
    },
    /// Leave the room; the relay answers `left` and closes the socket (1000).
    Leave,
    /// Application-level heartbeat; answered with `pong` carrying the same nonce.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    /// Change own microphone / camera / screen state. Absent fields stay as they are.
    SetMedia(MediaUpdate),
    /// Post a chat message. `client_msg_id` makes retries safe: the same id from the
    /// same identity in the same room is stored once and acknowledged with the same seq.
    ChatSend { client_msg_id: String, text: String },
    /// Ask for a page of older chat: messages with `seq < before_seq` (newest page when
    /// absent), at most `limit` (default 50, max 100), returned oldest first.
    ChatHistory {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_seq: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// Host only: remove a chat message for everyone.
    ChatDelete { seq: u64 },
    /// Host only: remove a participant from the room.
    Kick {
        identity: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Host only: end the room for everyone. Each participant gets `room_ended` and the
    /// socket closes (4012); the room is emptied (it may be joined again later).
    EndRoom,
    /// SDP offer of the client's publish PeerConnection (sendonly tracks), with the
    /// source of each m-line. Sent again (a new offer) to add or remove tracks.
    PublishOffer {
        sdp: String,
        tracks: Vec<PublishedTrack>,
    },
    /// The client's SDP answer to the relay's latest `subscribe_offer`.
    SubscribeAnswer { sdp: String },
    /// Which forwarded video tracks the client shows now, and at what size. Video
    /// tracks not listed are paused (nothing is sent for them) until a later `set_view`
    /// lists them, tracks offered later included; audio is always sent. Before the
    /// first, every track is sent.
    SetView { tracks: Vec<TileView> },
    /// A request of a room feature (raise hand, presence, ...): its own `type`s.
    #[serde(untagged)]
    Feature(FeatureRequest),
}

/// Requests of the room features, one variant per feature. Each feature's request enum
/// is tagged by `type` like every message; this enum adds no layer on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(untagged)]
pub enum FeatureRequest {
    Presence(PresenceRequest),
    Hands(HandRequest),
    Timer(TimerRequest),
    Board(BoardRequest),
    Lecture(LectureRequest),
    Questions(QuestionRequest),
    Reactions(ReactionRequest),
    Polls(PollRequest),
    Materials(MaterialRequest),
}

impl FeatureRequest {
    /// The wire name of this request (its `"type"`).
    pub fn kind(&self) -> &'static str {
        match self {
            FeatureRequest::Presence(r) => r.kind(),
            FeatureRequest::Hands(r) => r.kind(),
            FeatureRequest::Timer(r) => r.kind(),
            FeatureRequest::Board(r) => r.kind(),
            FeatureRequest::Lecture(r) => r.kind(),
            FeatureRequest::Questions(r) => r.kind(),
            FeatureRequest::Reactions(r) => r.kind(),
            FeatureRequest::Polls(r) => r.kind(),
            FeatureRequest::Materials(r) => r.kind(),
        }
    }

    /// Whether a feature has a request of this `"type"`.
    pub fn is_kind(kind: &str) -> bool {
        PresenceRequest::TYPES.contains(&kind)
            || HandRequest::TYPES.contains(&kind)
            || TimerRequest::TYPES.contains(&kind)
            || BoardRequest::TYPES.contains(&kind)
            || LectureRequest::TYPES.contains(&kind)
            || QuestionRequest::TYPES.contains(&kind)
            || ReactionRequest::TYPES.contains(&kind)
            || PollRequest::TYPES.contains(&kind)
            || MaterialRequest::TYPES.contains(&kind)
    }

    /// Decode the request whose `"type"` is `kind`; `None` when no feature has it. The
    /// error names the field at fault (an untagged decode could only say "no variant").
    pub fn decode(
        kind: &str,
        value: serde_json::Value,
    ) -> Option<Result<FeatureRequest, DecodeError>> {
        if PresenceRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Presence));
        }
        if HandRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Hands));
        }
        if TimerRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Timer));
        }
        if BoardRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Board));
        }
        if LectureRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Lecture));
        }
        if QuestionRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Questions));
        }
        if ReactionRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Reactions));
        }
        if PollRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Polls));
        }
        if MaterialRequest::TYPES.contains(&kind) {
            return Some(decode_value(value, from_value).map(FeatureRequest::Materials));
        }
        None
    }
}

/// Why a message did not decode, naming the field at fault when there is one.
#[derive(Debug)]
pub struct DecodeError {
    field: Option<String>,
    source: serde_json::Error,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.source),
            None => write!(f, "{}", self.source),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Decode `value` with `decode`; on failure, name the field at fault. Serde does not
/// know the path of an error in a message tagged by `type` (it buffers the message), so
/// the field is found by elimination: the one whose removal makes the error "missing
/// field" for it, or lets the message decode (an optional field). A missing field is
/// named by serde itself.
/// Most fields of a malformed message searched for the one at fault.
const MAX_FIELDS_SEARCHED: usize = 16;

fn decode_value<T>(
    value: serde_json::Value,
    decode: impl Fn(serde_json::Value) -> Result<T, serde_json::Error>,
) -> Result<T, DecodeError> {
    let source = match decode(value.clone()) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut field = None;
    if !source.to_string().starts_with("missing field") {
        // A real message has a handful of fields; a frame stuffed with thousands must
        // not cost thousands of decodes.
        if let Some(map) = value.as_object().filter(|m| m.len() <= MAX_FIELDS_SEARCHED) {
            for key in map.keys().filter(|k| *k != "type" && *k != "request_id") {
                let mut without = map.clone();
                without.remove(key);
                let culprit = match decode(without.into()) {
                    Ok(_) => true,
                    Err(e) => e.to_string().starts_with(&format!("missing field `{key}`")),
                };
                if culprit {
                    field = Some(key.clone());
                    break;
                }
            }
        }
    }
    Err(DecodeError { field, source })
}

fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, serde_json::Error> {
    serde_json::from_value(value)
}

/// The core messages, for decoding only. With the untagged feature variant, serde's own
/// decoding of [`ClientMessage`] answers every malformed message with "did not match any
/// variant"; this lists the same variants without it (serde's remote derive checks, when
/// it compiles, that each one matches `ClientMessage`'s).
#[derive(Deserialize)]
#[serde(remote = "ClientMessage", tag = "type", rename_all = "snake_case")]
enum CoreWire {
    Join {
        room: String,
        token: String,
        protocol: u32,
        #[serde(default)]
        media: MediaState,
    },
    Leave,
    Ping {
        #[serde(default)]
        nonce: Option<u64>,
    },
    SetMedia(MediaUpdate),
    ChatSend {
        client_msg_id: String,
        text: String,
    },
    ChatHistory {
        #[serde(default)]
        before_seq: Option<u64>,
        #[serde(default)]
        limit: Option<u32>,
    },
    ChatDelete {
        seq: u64,
    },
    Kick {
        identity: String,
        #[serde(default)]
        reason: Option<String>,
    },
    EndRoom,
    PublishOffer {
        sdp: String,
        tracks: Vec<PublishedTrack>,
    },
    SubscribeAnswer {
        sdp: String,
    },
    SetView {
        tracks: Vec<TileView>,
    },
}

impl<'de> Deserialize<'de> for FeatureRequest {
    /// By `type`, naming the field at fault (the app's IPC decodes requests this way).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let kind = match value.get("type") {
            Some(serde_json::Value::String(kind)) => kind.clone(),
            _ => return Err(serde::de::Error::missing_field("type")),
        };
        match FeatureRequest::decode(&kind, value) {
            Some(r) => r.map_err(serde::de::Error::custom),
            None => Err(serde::de::Error::custom(format!(
                "unknown feature request `{kind}`"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for ClientMessage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        let kind = match value.get("type") {
            Some(serde_json::Value::String(kind)) => kind.clone(),
            _ => return Err(serde::de::Error::missing_field("type")),
        };
        ClientMessage::decode(&kind, value).map_err(serde::de::Error::custom)
    }
}

impl From<PresenceRequest> for ClientMessage {
    fn from(r: PresenceRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Presence(r))
    }
}

impl From<HandRequest> for ClientMessage {
    fn from(r: HandRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Hands(r))
    }
}

impl From<TimerRequest> for ClientMessage {
    fn from(r: TimerRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Timer(r))
    }
}

impl From<BoardRequest> for ClientMessage {
    fn from(r: BoardRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Board(r))
    }
}

impl From<LectureRequest> for ClientMessage {
    fn from(r: LectureRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Lecture(r))
    }
}

impl From<QuestionRequest> for ClientMessage {
    fn from(r: QuestionRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Questions(r))
    }
}

impl From<ReactionRequest> for ClientMessage {
    fn from(r: ReactionRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Reactions(r))
    }
}

impl From<PollRequest> for ClientMessage {
    fn from(r: PollRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Polls(r))
    }
}

impl From<MaterialRequest> for ClientMessage {
    fn from(r: MaterialRequest) -> Self {
        ClientMessage::Feature(FeatureRequest::Materials(r))
    }
}

/// Events of the room features, one variant per feature (each tagged by `type`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(untagged)]
pub enum FeatureEvent {
    Hands(HandEvent),
    Timer(TimerEvent),
    Board(BoardEvent),
    Lecture(LectureEvent),
    Questions(QuestionEvent),
    Reactions(ReactionEvent),
    Polls(PollEvent),
    Materials(MaterialEvent),
}

/// What each room feature holds, as `joined` gives it to a joiner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FeatureSnapshot {
    /// Raised hands, first raised first.
    #[serde(default)]
    pub hands: Vec<RaisedHand>,
    /// The room's focus timer (stopped, with default settings, until someone starts it).
    #[serde(default)]
    pub timer: TimerState,
    /// The whiteboard's id, sequence, access and pages; its objects come with
    /// `board_sync`.
    #[serde(default)]
    pub board: BoardSummary,
    /// The lecture's presenters.
    #[serde(default)]
    pub lecture: LectureState,
    /// The room's questions as you see them, open and closed, in list order
    /// ([`questions::list_order`]).
    #[serde(default)]
    pub questions: Vec<Question>,
    /// The room's polls as you see them: the open one (if any) and the closed ones,
    /// first launched first.
    #[serde(default)]
    pub polls: Vec<Poll>,
    /// The room's shared files and who may upload.
    #[serde(default)]
    pub materials: MaterialsState,
}

/// Which grant of the token each client message needs, by `type`: the one table the
/// relay checks before a message reaches its handler. Messages not listed need only a
/// joined socket. (Turning a source on with `set_media` needs `publish` too; that
/// depends on the fields, so the media rules check it.)
pub const GRANT_TABLE: &[(&str, Grant)] = &[
    ("chat_send", Grant::Chat),
    ("chat_delete", Grant::Host),
    ("kick", Grant::Host),
    ("end_room", Grant::Host),
    ("publish_offer", Grant::Publish),
    ("lower_hand_of", Grant::Host),
    ("timer_options", Grant::Host),
    ("board_set_access", Grant::Host),
    ("set_presenter", Grant::Host),
    ("set_room_mode", Grant::Host),
    ("lock_room", Grant::Host),
    ("mute_all", Grant::Host),
    ("allow_speaking", Grant::Host),
    ("lower_all_hands", Grant::Host),
    ("materials_options", Grant::Host),
];

/// The grant a message of this `type` needs, if any.
pub fn required_grant(kind: &str) -> Option<Grant> {
    GRANT_TABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, g)| *g)
}

impl ClientMessage {
    /// Every core `"type"` a client may send in this protocol version (the room
    /// features add theirs: see [`ClientMessage::is_known`]).
    pub const TYPES: &'static [&'static str] = &[
        "join",
        "leave",
        "ping",
        "set_media",
        "chat_send",
        "chat_history",
        "chat_delete",
        "kick",
        "end_room",
        "publish_offer",
        "subscribe_answer",
        "set_view",
    ];

    /// The wire name of this message (its `"type"`).
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Join { .. } => "join",
            ClientMessage::Leave => "leave",
            ClientMessage::Ping { .. } => "ping",
            ClientMessage::SetMedia(_) => "set_media",
            ClientMessage::ChatSend { .. } => "chat_send",
            ClientMessage::ChatHistory { .. } => "chat_history",
            ClientMessage::ChatDelete { .. } => "chat_delete",
            ClientMessage::Kick { .. } => "kick",
            ClientMessage::EndRoom => "end_room",
            ClientMessage::PublishOffer { .. } => "publish_offer",
            ClientMessage::SubscribeAnswer { .. } => "subscribe_answer",
            ClientMessage::SetView { .. } => "set_view",
            ClientMessage::Feature(r) => r.kind(),
        }
    }

    /// Whether a client may send this `"type"`.
    pub fn is_known(kind: &str) -> bool {
        Self::TYPES.contains(&kind) || FeatureRequest::is_kind(kind)
    }

    /// Decode a message whose `"type"` is `kind` (the `request_id` is ignored). The
    /// error names the field at fault.
    pub fn decode(kind: &str, value: serde_json::Value) -> Result<Self, DecodeError> {
        if FeatureRequest::is_kind(kind) {
            if let Some(r) = FeatureRequest::decode(kind, value) {
                return r.map(ClientMessage::Feature);
            }
            unreachable!("is_kind and decode list the same features");
        }
        decode_value(value, CoreWire::deserialize)
    }
}

// Tokens must never reach a log, so Debug is written by hand.
impl std::fmt::Debug for ClientMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientMessage::Join {
                room,
                protocol,
                media,
                ..
            } => f
                .debug_struct("Join")
                .field("room", room)
                .field("token", &"<redacted>")
                .field("protocol", protocol)
                .field("media", media)
                .finish(),
            ClientMessage::ChatSend {
                client_msg_id,
                text,
            } => f
                .debug_struct("ChatSend")
                .field("client_msg_id", client_msg_id)
                .field("text_bytes", &text.len())
                .finish(),
            other => {
                let json = serde_json::to_string(other).unwrap_or_default();
                write!(f, "{json}")
            }
        }
    }
}

/// Limits the relay enforces on this connection, sent in `joined` so clients can
/// check input before sending it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest accepted WebSocket message, in bytes.
    pub max_message_bytes: usize,
    /// Largest accepted `publish_offer` or `subscribe_answer` (they carry SDP, which in
    /// a full room outgrows `max_message_bytes`): [`SDP_MESSAGE_FACTOR`] times it.
    #[serde(default)]
    pub max_sdp_message_bytes: usize,
    /// Largest chat text, in bytes of UTF-8.
    pub max_chat_bytes: usize,
    /// Sustained signaling messages per second, and the burst above it.
    pub messages_per_second: u32,
    pub message_burst: u32,
    /// Sustained chat messages per second, and the burst above it.
    pub chat_per_second: u32,
    pub chat_burst: u32,
    /// Most participants a room admits.
    pub max_room_size: usize,
    /// Largest history page.
    pub max_history_page: u32,
}

/// How the relay checks liveness of this connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The relay sends a WebSocket ping this often.
    pub interval_ms: u64,
    /// A connection that sends nothing (not even a pong) for this long is dropped.
    pub timeout_ms: u64,
}

/// Why a participant is no longer in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// Sent `leave` or closed the socket.
    Left,
    /// The socket broke or stopped answering heartbeats.
    Timeout,
    /// Removed by a host.
    Kicked,
    /// Disconnected for breaking limits (rate, size).
    Violation,
    /// The relay is shutting down.
    Shutdown,
}

/// Messages from the relay to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// `joined` (with every feature's snapshot) is the large one; a message is built, sent and
// dropped, so boxing it would only add an allocation to every message.
#[allow(clippy::large_enum_variant)]
pub enum ServerMessage {
    /// Reply to `join`: who you are, who is here, the newest chat page and the limits.
    Joined {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        protocol: u32,
        server_version: String,
        room: String,
        you: Participant,
        participants: Vec<Participant>,
        chat: ChatPage,
        limits: Limits,
        heartbeat: Heartbeat,
        /// What each room feature holds now (raised hands, ...).
        #[serde(default)]
        features: FeatureSnapshot,
    },
    /// A request that carried a `request_id` succeeded and has no reply of its own.
    Ack { request_id: String },
    /// Reply to `leave`, just before the relay closes the socket.
    Left {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
        /// The relay's clock when it answered, ms since the Unix epoch: with the round
        /// trip, a client works out its clock's offset from the relay's (the timer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        time: Option<u64>,
    },
    /// Someone entered the room (never sent about yourself).
    ParticipantJoined { participant: Participant },
    /// Someone left the room (never sent about yourself).
    ParticipantLeft {
        identity: String,
        reason: LeaveReason,
    },
    /// Someone's media state or presence changed (including yours, as confirmation).
    ParticipantUpdated { participant: Participant },
    /// Your `chat_send` is stored: it has this room sequence number.
    ChatAck {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        client_msg_id: String,
        seq: u64,
        ts: u64,
        /// True when this was a retry of a message already stored.
        duplicate: bool,
    },
    /// A new chat message in the room (sent to everyone, the sender included).
    ChatMessage { message: ChatMessage },
    /// Reply to `chat_history`.
    ChatPage {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        #[serde(flatten)]
        page: ChatPage,
    },
    /// A host removed a message; clients drop it from view.
    ChatDeleted { seq: u64, deleted_by: String },
    /// You were removed by a host; the relay closes the socket (4003) next.
    Kicked {
        by: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A host ended the room; the relay closes the socket (4012) next. Do not rejoin.
    RoomEnded { by: String },
    /// The relay is shutting down; reconnect after `retry_after_ms`.
    Shutdown { reason: String, retry_after_ms: u64 },
    /// The relay's SDP answer to `publish_offer`.
    PublishAnswer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        sdp: String,
    },
    /// An SDP offer for the client's subscribe PeerConnection, listing every m-line the
    /// relay forwards on it (m-lines not listed are stopped). Answer with
    /// `subscribe_answer`.
    SubscribeOffer {
        sdp: String,
        tracks: Vec<ForwardedTrack>,
    },
    /// Which of the client's published video tracks anyone receives now: a track with
    /// `active: false` may stop being encoded and sent until it is active again, when
    /// its first frame must be a keyframe. Sent when that changes.
    PublishLayers { tracks: Vec<LayerActivity> },
    /// Who speaks in the room now (`speaking`, sorted) and its active speaker (`active`:
    /// the loudest of those speaking, kept through pauses; `null` when nobody has
    /// spoken), as the relay hears them from the audio levels in the microphones' RTP
    /// packets. Sent to everyone in the room when either changes, at most 4 times a
    /// second.
    Speakers {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        active: Option<String>,
        speaking: Vec<String>,
    },
    /// Something the client sent was refused, or the connection is about to close.
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        code: ErrorCode,
        message: String,
        /// True when the relay closes the socket right after this message.
        fatal: bool,
        /// For `rate_limited`: how long to wait before sending again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// An event of a room feature (`hand_queue`, ...).
    #[serde(untagged)]
    Feature(FeatureEvent),
}

impl ServerMessage {
    /// Build a non-fatal error reply.
    pub fn error(code: ErrorCode, message: impl Into<String>, request_id: Option<String>) -> Self {
        ServerMessage::Error {
            request_id,
            code,
            message: message.into(),
            fatal: false,
            retry_after_ms: None,
        }
    }

    /// Build an error after which the relay closes the socket.
    pub fn fatal(code: ErrorCode, message: impl Into<String>, request_id: Option<String>) -> Self {
        ServerMessage::Error {
            request_id,
            code,
            message: message.into(),
            fatal: true,
            retry_after_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn join_round_trips_and_hides_token_in_debug() {
        let raw = json!({"type":"join","room":"algebra","token":"secret.jwt.here","protocol":1,
                         "request_id":"r1"});
        let frame: ClientFrame = serde_json::from_value(raw).unwrap();
        assert_eq!(frame.request_id.as_deref(), Some("r1"));
        match &frame.message {
            ClientMessage::Join { room, media, .. } => {
                assert_eq!(room, "algebra");
                assert_eq!(*media, MediaState::default());
            }
            other => panic!("parsed as {other:?}"),
        }
        let debug = format!("{frame:?}");
        assert!(!debug.contains("secret.jwt.here"), "{debug}");
    }

    #[test]
    fn set_media_is_partial() {
        let frame: ClientFrame =
            serde_json::from_value(json!({"type":"set_media","mic":true})).unwrap();
        assert_eq!(
            frame.message,
            ClientMessage::SetMedia(MediaUpdate {
                mic: Some(true),
                camera: None,
                screen: None
            })
        );
    }

    #[test]
    fn types_list_matches_kinds() {
        let samples = [
            ClientMessage::Leave,
            ClientMessage::Ping { nonce: None },
            ClientMessage::SetMedia(MediaUpdate::default()),
            PresenceRequest::SetPresence {
                presence: Presence::Away,
            }
            .into(),
            ClientMessage::Join {
                room: "r".into(),
                token: "t".into(),
                protocol: 1,
                media: MediaState::default(),
            },
            ClientMessage::ChatSend {
                client_msg_id: "c".into(),
                text: "hi".into(),
            },
            ClientMessage::Kick {
                identity: "bob".into(),
                reason: Some("spam".into()),
            },
            ClientMessage::EndRoom,
            ClientMessage::PublishOffer {
                sdp: "v=0".into(),
                tracks: vec![],
            },
            ClientMessage::SubscribeAnswer { sdp: "v=0".into() },
            ClientMessage::SetView {
                tracks: vec![TileView {
                    mid: "2".into(),
                    width: 640,
                    height: 360,
                }],
            },
            HandRequest::RaiseHand.into(),
            HandRequest::LowerHandOf {
                identity: "a".into(),
            }
            .into(),
            ClientMessage::ChatHistory {
                before_seq: None,
                limit: None,
            },
            ClientMessage::ChatDelete { seq: 1 },
        ];
        for m in samples {
            assert!(ClientMessage::is_known(m.kind()), "{}", m.kind());
            let v = serde_json::to_value(&m).unwrap();
            assert_eq!(v["type"], m.kind());
            let back = ClientMessage::decode(m.kind(), v).unwrap();
            assert_eq!(back, m, "round trip of {}", m.kind());
        }
        assert!(!ClientMessage::is_known("fly"));
        for kind in ClientMessage::TYPES {
            assert!(
                ClientMessage::decode(kind, serde_json::json!({"type": kind}))
                    .map_or_else(|e| !e.to_string().contains("variant"), |_| true),
                "every core type has a decoding: {kind}"
            );
        }
        for kind in ["set_presence", "raise_hand", "lower_hand", "lower_hand_of"] {
            assert!(ClientMessage::is_known(kind), "{kind}");
        }
    }

    #[test]
    fn feature_requests_decode_with_the_field_named() {
        let err = ClientMessage::decode("lower_hand_of", json!({"type":"lower_hand_of"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("identity"), "{err}");
        for (v, field) in [
            (json!({"type":"lower_hand_of","identity":7}), "identity"),
            (
                json!({"type":"set_presence","presence":"sleeping"}),
                "presence",
            ),
            (json!({"type":"set_presence","presence":5}), "presence"),
        ] {
            let kind = v["type"].as_str().unwrap().to_string();
            let err = ClientMessage::decode(&kind, v).unwrap_err().to_string();
            assert!(err.contains(&format!("field `{field}`")), "{err}");
        }
        let err = ClientMessage::decode(
            "chat_send",
            json!({"type":"chat_send","client_msg_id":"a","text":5}),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("field `text`"), "core messages too: {err}");
        let frame: ClientFrame =
            serde_json::from_value(json!({"type":"raise_hand","request_id":"r9"})).unwrap();
        assert_eq!(frame.request_id.as_deref(), Some("r9"));
        assert_eq!(frame.message, HandRequest::RaiseHand.into());
    }

    #[test]
    fn feature_events_and_acks_are_flat_on_the_wire() {
        let queue = ServerMessage::Feature(FeatureEvent::Hands(HandEvent::HandQueue {
            hands: vec![RaisedHand {
                identity: "bob".into(),
                raised_at: 5,
            }],
            by: None,
        }));
        let v = serde_json::to_value(&queue).unwrap();
        assert_eq!(v["type"], "hand_queue");
        assert_eq!(v["hands"][0]["identity"], "bob");
        assert_eq!(serde_json::from_value::<ServerMessage>(v).unwrap(), queue);
        let ack = serde_json::to_value(ServerMessage::Ack {
            request_id: "r1".into(),
        })
        .unwrap();
        assert_eq!(ack, json!({"type":"ack","request_id":"r1"}));
    }

    #[test]
    fn the_grant_table_names_host_actions() {
        assert_eq!(required_grant("kick"), Some(Grant::Host));
        assert_eq!(required_grant("lower_hand_of"), Some(Grant::Host));
        assert_eq!(required_grant("chat_send"), Some(Grant::Chat));
        assert_eq!(required_grant("raise_hand"), None);
        for (kind, _) in GRANT_TABLE {
            assert!(ClientMessage::is_known(kind), "{kind} is not a message");
        }
    }

    #[test]
    fn unknown_type_is_an_error() {
        let err = serde_json::from_str::<ClientFrame>(r#"{"type":"fly"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown variant"), "{err}");
        assert!(!ClientMessage::is_known("fly"));
    }

    #[test]
    fn server_messages_are_tagged_snake_case() {
        let msg = ServerMessage::error(ErrorCode::RateLimited, "slow down", None);
        let v = serde_json::to_value(&msg).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["code"], "rate_limited");
        assert_eq!(v["fatal"], false);
        assert!(v.get("request_id").is_none());

        let page = ServerMessage::ChatPage {
            request_id: Some("p".into()),
            page: ChatPage {
                messages: vec![],
                has_more: false,
            },
        };
        let v = serde_json::to_value(&page).unwrap();
        assert_eq!(v["type"], "chat_page");
        assert_eq!(v["has_more"], false);
        let back: ServerMessage = serde_json::from_value(v).unwrap();
        assert_eq!(back, page);
    }
}
