//! Room features: everything a room holds beyond people and media (chat, presence,
//! raised hands, and next the whiteboard, questions, polls, the timer, materials).
//!
//! A feature is one module implementing [`RoomFeature`]:
//! - the client message `type`s it handles ([`RoomFeature::kinds`]) and what it does
//!   with each ([`RoomFeature::handle`]); the grant each needs is in the protocol's one
//!   table ([`studyhall_protocol::GRANT_TABLE`]), checked before `handle` is called;
//! - its per-room state, kept in the room ([`Room::feature`]) and created on first use;
//! - what a joiner receives ([`RoomFeature::snapshot`]);
//! - what happens when someone joins or leaves, and when the room ends.
//!
//! A feature whose data must last declares a store trait under `store/` with an
//! embedded (SQLite) and a Redis backend that pass one conformance suite (chat's
//! [`ChatLog`](crate::store::ChatLog) is the model). Features never touch sockets: the
//! session authenticates, rate-limits, checks grants and dispatches here, and the
//! cluster relays frames without knowing features, so a feature works across nodes
//! once its state lives with the room (on the room's node) or in its store.
//!
//! Adding a feature: its module here and a line in [`FEATURES`].

pub mod board;
pub mod chat;
pub mod hands;
pub mod lecture;
pub mod materials;
pub mod polls;
pub mod presence;
pub mod questions;
pub mod reactions;
pub mod timer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use studyhall_protocol::{
    ChatPage, ClientMessage, ErrorCode, FeatureSnapshot, Grants, LeaveReason, Participant,
    ServerMessage,
};

use super::filter::WordFilter;
use super::limits::{IdentityLimits, TokenBucket};
use super::{ConnHandle, Outbound, Room};
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::sfu::runner::SfuHandle;
use crate::store::{BoardStore, ChatLog, QuestionStore, RoomStateStore};

/// Every room feature, in the order joiners' snapshots are filled.
pub static FEATURES: &[&dyn RoomFeature] = &[
    &chat::Chat,
    &presence::Presence,
    &hands::Hands,
    &timer::Timer,
    &board::Whiteboard,
    &lecture::Lecture,
    &questions::Questions,
    &reactions::Reactions,
    &polls::Polls,
    &materials::Materials,
];

/// The feature that handles messages of type `kind`.
pub fn for_kind(kind: &str) -> Option<&'static dyn RoomFeature> {
    FEATURES.iter().copied().find(|f| f.kinds().contains(&kind))
}

/// What features share across rooms: stores, limits, the word filter, metrics.
pub struct Services {
    pub chat: Arc<dyn ChatLog>,
    /// Small per-room values that outlive the process (the timer).
    pub room_state: Arc<dyn RoomStateStore>,
    /// Whiteboards: snapshots and the changes after them.
    pub board: Arc<dyn BoardStore>,
    /// Questions (Q&A).
    pub questions: Arc<dyn QuestionStore>,
    /// Shared files: their entries, their bytes on disk, limits and uploads under way.
    pub materials: materials::MaterialServices,
    /// The media relay, to stop forwarding a source a host turned off (mute all).
    pub media: SfuHandle,
    /// The clock clients count down to.
    pub clock: Clock,
    pub filter: WordFilter,
    pub metrics: Arc<Metrics>,
    pub limits: ChatLimits,
    /// Rate limits that follow an identity across its connections (and its joins).
    pub identities: IdentityLimits<ConnLimits>,
}

/// One connection's rate limits, handed to the identity's next connection when it ends.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub signal: TokenBucket,
    pub publish: TokenBucket,
    pub view: TokenBucket,
    pub features: SessionBuckets,
}

/// The configured chat limits.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    pub max_chat_bytes: usize,
    pub history_on_join: u32,
    pub max_history_page: u32,
    pub chat_per_second: u32,
    pub chat_burst: u32,
}

/// Rate limits a feature keeps per connection.
#[derive(Debug, Clone)]
pub struct SessionBuckets {
    pub chat: TokenBucket,
    /// Timer changes: each is stored and sent to everyone.
    pub timer: TokenBucket,
    /// Whiteboard changes (each is stored) and syncs.
    pub board: TokenBucket,
    /// Strokes being drawn (over the rate they are dropped).
    pub board_live: TokenBucket,
    /// Questions asked (a few a minute).
    pub questions: TokenBucket,
    /// Reactions sent.
    pub reactions: TokenBucket,
}

impl SessionBuckets {
    pub fn new(limits: &ChatLimits, now: Instant) -> Self {
        SessionBuckets {
            chat: TokenBucket::new(limits.chat_per_second, limits.chat_burst, now),
            timer: TokenBucket::new(timer::CHANGES_PER_SECOND, timer::CHANGES_BURST, now),
            board: TokenBucket::new(
                studyhall_protocol::board::OPS_PER_SECOND,
                studyhall_protocol::board::OPS_BURST,
                now,
            ),
            board_live: TokenBucket::new(
                studyhall_protocol::board::LIVE_PER_SECOND,
                studyhall_protocol::board::LIVE_BURST,
                now,
            ),
            questions: TokenBucket::per_minute(
                studyhall_protocol::questions::QUESTIONS_PER_MINUTE,
                studyhall_protocol::questions::QUESTIONS_PER_MINUTE,
                now,
            ),
            reactions: TokenBucket::new(
                studyhall_protocol::reactions::REACTIONS_PER_SECOND,
                studyhall_protocol::reactions::REACTION_BURST,
                now,
            ),
        }
    }
}

/// Who sent a request, where, and what is at hand to answer it.
pub struct Cx<'a> {
    pub services: &'a Services,
    pub room: &'a Arc<Room>,
    pub identity: &'a str,
    pub name: &'a str,
    pub grants: Grants,
    pub conn: &'a ConnHandle,
    pub request_id: Option<String>,
    pub buckets: &'a mut SessionBuckets,
    pub now: Instant,
}

impl Cx<'_> {
    /// Whether this connection still acts for its identity (not replaced or kicked).
    pub fn is_current(&self) -> bool {
        self.room.is_current(self.identity, self.conn.id)
    }

    /// Whether the sender runs the lecture now: a host, or a presenter.
    pub fn presents(&self) -> bool {
        self.grants.host
            || self
                .room
                .role_of(self.identity)
                .is_some_and(studyhall_protocol::Role::presents)
    }
}

/// A handled request's answer to its sender.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per request, moved once: boxing buys nothing
pub enum Reply {
    /// Done; `ack` when the request carried a `request_id`.
    Ack,
    /// Done, with a reply of its own (which echoes the `request_id`).
    Message(ServerMessage),
    /// Done, and the sender was told already (its copy of the broadcast carried the
    /// `request_id`).
    Told,
}

/// A request that was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// An `error` with this code and message goes back to the sender.
    Error { code: ErrorCode, message: String },
    /// Over a rate limit: the session decides between a warning and a disconnect.
    RateLimited(Duration),
    /// Over a feature's own slow limit (questions a minute): `rate_limited` with this
    /// message naming the limit and `retry_after_ms`, never a disconnect.
    Limit { message: String, wait: Duration },
}

impl Refused {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refused::Error {
            code,
            message: message.into(),
        }
    }
}

pub type Outcome = Result<Reply, Refused>;

/// What a joiner receives, filled by every feature.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Who it is for (features that show each participant their own cut read it).
    pub you: Option<Participant>,
    pub chat: ChatPage,
    pub features: FeatureSnapshot,
}

/// One room feature. Features are stateless values; their per-room state lives in the
/// room ([`Room::feature`]).
#[async_trait::async_trait]
pub trait RoomFeature: Send + Sync {
    /// Its name, for logs.
    fn name(&self) -> &'static str;

    /// The client message `type`s it handles.
    fn kinds(&self) -> &'static [&'static str];

    /// Handle one of its messages (grants already checked).
    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome;

    /// Fill in what a joiner of `room` receives. Trouble is told to `conn` (the join
    /// still succeeds).
    async fn snapshot(
        &self,
        _services: &Services,
        _room: &Arc<Room>,
        _conn: &ConnHandle,
        _into: &mut Snapshot,
    ) {
    }

    /// `identity` entered `room` (`replaced`: it was already there, on an older
    /// connection). Called before its snapshot is taken.
    fn joined(&self, _room: &Room, _identity: &str, _replaced: bool, _now: Instant) {}

    /// `identity` is no longer in `room`.
    fn left(&self, _room: &Room, _identity: &str, _reason: LeaveReason, _now: Instant) {}

    /// A host ended `room` (everyone was sent away): clear what lived only while it ran.
    async fn ended(&self, _services: &Services, _room: &Arc<Room>) {}
}

/// Tell every feature that `room` was ended by a host.
pub async fn ended(services: &Services, room: &Arc<Room>) {
    for f in FEATURES {
        f.ended(services, room).await;
    }
}

/// Tell every feature that `identity` joined.
pub fn joined(room: &Room, identity: &str, replaced: bool, now: Instant) {
    for f in FEATURES {
        f.joined(room, identity, replaced, now);
    }
}

/// Tell every feature that `identity` left.
pub fn left(room: &Room, identity: &str, reason: LeaveReason, now: Instant) {
    for f in FEATURES {
        f.left(room, identity, reason, now);
    }
}

/// What a joiner of `room` receives from every feature.
pub async fn snapshot(
    services: &Services,
    room: &Arc<Room>,
    conn: &ConnHandle,
    you: &Participant,
) -> Snapshot {
    let mut snapshot = Snapshot {
        you: Some(you.clone()),
        ..Snapshot::default()
    };
    for f in FEATURES {
        f.snapshot(services, room, conn, &mut snapshot).await;
    }
    snapshot
}

/// In a feature's `handle`: its own request out of `$message` (the `FeatureRequest`
/// variant `$variant`), or return the refusal when the message is another's (a bug in
/// the registry) or the sender's connection no longer acts for its identity.
macro_rules! own_request {
    ($cx:expr, $message:expr, $variant:ident) => {{
        let studyhall_protocol::ClientMessage::Feature(
            studyhall_protocol::FeatureRequest::$variant(request),
        ) = $message
        else {
            return Err($crate::room::features::unhandled($message.kind()));
        };
        if !$cx.is_current() {
            return Err($crate::room::features::replaced());
        }
        request
    }};
}
pub(crate) use own_request;

/// A message routed to a feature that does not handle it: a bug in the registry.
pub(crate) fn unhandled(kind: &str) -> Refused {
    Refused::new(
        ErrorCode::Internal,
        format!("`{kind}` reached the wrong feature"),
    )
}

/// The sender's connection was replaced by a newer one of the same identity (or it was
/// kicked): it no longer acts for it.
pub(crate) fn replaced() -> Refused {
    Refused::new(
        ErrorCode::Replaced,
        "this connection was replaced by a newer one",
    )
}

/// The value a feature keeps in the room-state store under `key` (its default when
/// there is none, or when what is stored cannot be read: that is logged, not fatal).
pub async fn load_state<T: serde::de::DeserializeOwned + Default>(
    services: &Services,
    room: &str,
    key: &str,
) -> Result<T, Refused> {
    let stored = services.room_state.get(room, key).await.map_err(|e| {
        Refused::new(
            ErrorCode::StorageUnavailable,
            format!("the {key} could not be loaded: {e}"),
        )
    })?;
    Ok(match stored.map(|s| serde_json::from_str::<T>(&s)) {
        Some(Ok(state)) => state,
        Some(Err(e)) => {
            tracing::warn!(room, key, error = %e, "a stored room value is unreadable; starting afresh");
            T::default()
        }
        None => T::default(),
    })
}

/// Keep `value` in the room-state store under `key` for a day from now.
pub async fn save_state<T: serde::Serialize>(
    services: &Services,
    room: &str,
    key: &str,
    value: &T,
) -> Result<(), Refused> {
    let json = serde_json::to_string(value)
        .map_err(|e| Refused::new(ErrorCode::Internal, e.to_string()))?;
    services
        .room_state
        .put(room, key, &json, crate::store::ROOM_STATE_TTL)
        .await
        .map_err(|e| {
            Refused::new(
                ErrorCode::StorageUnavailable,
                format!("the {key} could not be saved: {e}"),
            )
        })
}

/// Send each participant of `room` its own cut of an event (`event_for(participant,
/// request_id)`); `reply_to` — (identity, request id) — marks the copy that answers a
/// request.
pub(crate) fn tell_each(
    room: &Room,
    reply_to: Option<(&str, &str)>,
    mut event_for: impl FnMut(&Participant, Option<String>) -> ServerMessage,
) {
    for p in room.participants() {
        let request_id = reply_to
            .filter(|(who, _)| *who == p.identity)
            .map(|(_, rid)| rid.to_string());
        room.send_to(&p.identity, Outbound::message(&event_for(&p, request_id)));
    }
}

/// A request only presenters and the host may make.
pub(crate) fn only_presenters(what: &str) -> Refused {
    Refused::new(
        ErrorCode::Forbidden,
        format!("only presenters and the host can {what}"),
    )
}

/// Tell `conn` (only) why a joiner's snapshot lacks a feature's state.
pub fn warn_refused(services: &Services, conn: &ConnHandle, refused: Refused) {
    if let Refused::Error { code, message } = refused {
        warn_conn(services, conn, code, &message);
    }
}

/// Tell `conn` (only) about a problem that does not refuse anything.
pub fn warn_conn(services: &Services, conn: &ConnHandle, code: ErrorCode, message: &str) {
    services.metrics.error_sent(code);
    conn.send(Outbound::message(&ServerMessage::error(
        code, message, None,
    )));
}

#[cfg(test)]
pub(crate) mod testing {
    //! A room with members on plain queues, for feature tests without sockets.
    use super::*;
    use crate::room::Rooms;
    use crate::store::{
        SqliteBoards, SqliteChatLog, SqliteMaterials, SqliteQuestions, SqliteRoomState,
    };
    use studyhall_protocol::{MediaState, Participant, Presence, Role};
    use tokio::sync::mpsc;

    pub struct Member {
        pub identity: String,
        pub grants: Grants,
        pub conn: ConnHandle,
        pub rx: mpsc::Receiver<Outbound>,
        pub buckets: SessionBuckets,
    }

    impl Member {
        /// Everything queued for this member, as JSON values.
        pub fn drain(&mut self) -> Vec<serde_json::Value> {
            let mut out = vec![];
            while let Ok(o) = self.rx.try_recv() {
                if let Outbound::Text(t) = o {
                    out.push(serde_json::from_str(&t).unwrap());
                }
            }
            out
        }
    }

    pub struct Harness {
        pub rooms: Rooms,
        pub services: Services,
        pub room: Arc<Room>,
        _dir: tempfile::TempDir,
    }

    pub fn limits() -> ChatLimits {
        ChatLimits {
            max_chat_bytes: 100,
            history_on_join: 50,
            max_history_page: 100,
            chat_per_second: 5,
            chat_burst: 10,
        }
    }

    impl Harness {
        pub fn new() -> (Harness, Member) {
            let dir = tempfile::tempdir().unwrap();
            let chat = SqliteChatLog::open_in(dir.path()).unwrap();
            let services = Services {
                chat: Arc::new(chat),
                room_state: Arc::new(SqliteRoomState::open_in(dir.path()).unwrap()),
                board: Arc::new(SqliteBoards::open_in(dir.path()).unwrap()),
                questions: Arc::new(SqliteQuestions::open_in(dir.path()).unwrap()),
                materials: materials::MaterialServices {
                    store: Arc::new(SqliteMaterials::open_in(dir.path()).unwrap()),
                    files: crate::store::files::FileStore::open(&dir.path().join("materials"))
                        .unwrap(),
                    limits: materials::MaterialLimits {
                        max_file_bytes: 1000,
                        quota_bytes: 1000,
                        uploads_at_once: 2,
                    },
                    uploads: Default::default(),
                    node: String::new(),
                },
                media: crate::sfu::runner::recording().0,
                clock: Clock::new(),
                identities: Default::default(),
                filter: WordFilter::default(),
                metrics: Arc::default(),
                limits: limits(),
            };
            let rooms = Rooms::new(10);
            let (conn, rx) = ConnHandle::new(64);
            let joined = rooms
                .join("r", person("host", Grants::host()), conn.clone())
                .unwrap();
            let host = Member {
                identity: "host".into(),
                grants: Grants::host(),
                conn,
                rx,
                buckets: SessionBuckets::new(&limits(), Instant::now()),
            };
            let h = Harness {
                rooms,
                services,
                room: joined.room,
                _dir: dir,
            };
            (h, host)
        }

        pub fn join(&self, identity: &str) -> Member {
            let (conn, rx) = ConnHandle::new(64);
            self.rooms
                .join("r", person(identity, Grants::member()), conn.clone())
                .unwrap();
            Member {
                identity: identity.into(),
                grants: Grants::member(),
                conn,
                rx,
                buckets: SessionBuckets::new(&limits(), Instant::now()),
            }
        }

        /// Send `message` as `member` the way the session does: the grant table first.
        pub async fn send(&self, member: &mut Member, message: ClientMessage) -> Outcome {
            let kind = message.kind();
            if let Some(grant) = studyhall_protocol::required_grant(kind) {
                if !member.grants.has(grant) {
                    return Err(Refused::new(ErrorCode::Forbidden, grant.as_str()));
                }
            }
            let feature = for_kind(kind).expect("a feature message");
            let mut cx = Cx {
                services: &self.services,
                room: &self.room,
                identity: &member.identity,
                name: &member.identity,
                grants: member.grants,
                conn: &member.conn,
                request_id: Some("t1".into()),
                buckets: &mut member.buckets,
                now: Instant::now(),
            };
            feature.handle(&mut cx, message).await
        }
    }

    pub fn person(id: &str, grants: Grants) -> Participant {
        Participant {
            identity: id.into(),
            name: id.to_uppercase(),
            role: if grants.host {
                Role::Host
            } else {
                Role::Member
            },
            grants,
            media: MediaState::default(),
            presence: Presence::Active,
            joined_at: 0,
        }
    }
}
