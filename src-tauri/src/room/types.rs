//! What crosses the IPC boundary about rooms (camelCase for the UI; times and sequence
//! numbers as JSON numbers, which hold them exactly up to 2^53).

use serde::{Deserialize, Serialize};
use studyhall_protocol as proto;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MediaState {
    pub mic: bool,
    pub camera: bool,
    pub screen: bool,
}

impl From<proto::MediaState> for MediaState {
    fn from(m: proto::MediaState) -> Self {
        MediaState {
            mic: m.mic,
            camera: m.camera,
            screen: m.screen,
        }
    }
}

/// What to join with: the check before joining lets people join muted or with the
/// camera off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct JoinMedia {
    pub mic: bool,
    pub camera: bool,
}

impl Default for JoinMedia {
    fn default() -> Self {
        JoinMedia {
            mic: true,
            camera: true,
        }
    }
}

/// A partial change; `null` leaves a source as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MediaUpdate {
    pub mic: Option<bool>,
    pub camera: Option<bool>,
    pub screen: Option<bool>,
}

impl From<MediaUpdate> for proto::MediaUpdate {
    fn from(m: MediaUpdate) -> Self {
        proto::MediaUpdate {
            mic: m.mic,
            camera: m.camera,
            screen: m.screen,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub identity: String,
    pub name: String,
    pub host: bool,
    /// The host made them a presenter (they draw and answer questions).
    pub presenter: bool,
    pub you: bool,
    pub media: MediaState,
    /// `active`, `away` or `on_break` (the protocol's own type).
    pub presence: proto::Presence,
    /// A whole number (JSON keeps it exact up to 2^53).
    #[specta(type = u32)]
    pub joined_at: f64,
}

impl Participant {
    pub fn from_proto(p: &proto::Participant, you: &str) -> Self {
        Participant {
            identity: p.identity.clone(),
            name: p.name.clone(),
            host: p.role == proto::Role::Host || p.grants.host,
            presenter: p.role == proto::Role::Presenter,
            you: p.identity == you,
            media: p.media.into(),
            presence: p.presence,
            joined_at: p.joined_at as f64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// A whole number (JSON keeps it exact up to 2^53).
    #[specta(type = u32)]
    pub seq: f64,
    pub from: String,
    pub name: String,
    pub text: String,
    /// A whole number (JSON keeps it exact up to 2^53).
    #[specta(type = u32)]
    pub ts: f64,
    pub client_msg_id: String,
    pub deleted: bool,
    /// A file shared with the room that this message announces.
    pub attachment: Option<proto::Attachment>,
}

impl From<proto::ChatMessage> for ChatMessage {
    fn from(m: proto::ChatMessage) -> Self {
        ChatMessage {
            seq: m.seq as f64,
            from: m.from,
            name: m.name,
            text: m.text,
            ts: m.ts as f64,
            client_msg_id: m.client_msg_id,
            deleted: m.deleted,
            attachment: m.attachment,
        }
    }
}

/// Oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatPage {
    pub messages: Vec<ChatMessage>,
    pub has_more: bool,
}

impl From<proto::ChatPage> for ChatPage {
    fn from(p: proto::ChatPage) -> Self {
        ChatPage {
            messages: p.messages.into_iter().map(Into::into).collect(),
            has_more: p.has_more,
        }
    }
}

/// A room this app hosts, as others join it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// `studyhall://join?relay=…&code=…`
    pub link: String,
    /// `K7QX-29FD@192.168.1.20:7450`
    pub code: String,
    pub relay: String,
    pub room: String,
    /// A whole number (JSON keeps it exact up to 2^53).
    #[specta(type = u32)]
    pub expires_at: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InviteTarget {
    pub relay: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RoomSnapshot {
    pub room: String,
    pub title: String,
    pub you: Participant,
    /// Everyone else.
    pub participants: Vec<Participant>,
    /// The newest page of chat.
    pub chat: ChatPage,
    /// Set when this app hosts the room.
    pub hosting: Option<Invite>,
    /// A whole number (JSON keeps it exact up to 2^53).
    #[specta(type = u32)]
    pub max_chat_bytes: f64,
    /// What each room feature holds (raised hands, ...), as the protocol describes it.
    pub features: proto::FeatureSnapshot,
    /// How far the relay's clock is ahead of this machine's (ms), measured as the room
    /// opened; `null` when it could not be. Later measurements come as `clockOffset`.
    #[specta(type = Option<i32>)]
    pub clock_offset_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ConnectionState {
    Connected,
    Reconnecting,
    Lost,
}

/// Something happened in the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(tag = "type", rename_all = "camelCase")]
// `resynced` (a whole snapshot) is the large one; events are built, emitted and dropped.
#[allow(clippy::large_enum_variant)]
pub enum RoomEvent {
    #[serde(rename_all = "camelCase")]
    ParticipantJoined { participant: Participant },
    #[serde(rename_all = "camelCase")]
    ParticipantLeft { identity: String, reason: String },
    #[serde(rename_all = "camelCase")]
    ParticipantUpdated { participant: Participant },
    #[serde(rename_all = "camelCase")]
    ChatMessage { message: ChatMessage },
    #[serde(rename_all = "camelCase")]
    ChatDeleted {
        #[specta(type = u32)]
        seq: f64,
    },
    #[serde(rename_all = "camelCase")]
    Connection {
        state: ConnectionState,
        message: Option<String>,
    },
    /// After a rejoin: the room as it is now (who is here, the newest chat).
    #[serde(rename_all = "camelCase")]
    Resynced { snapshot: RoomSnapshot },
    #[serde(rename_all = "camelCase")]
    Kicked { by: String, reason: Option<String> },
    #[serde(rename_all = "camelCase")]
    RoomEnded { reason: String },
    #[serde(rename_all = "camelCase")]
    Notice { message: String },
    /// An event of a room feature (`hand_queue`, ...), as the protocol describes it.
    #[serde(rename_all = "camelCase")]
    Feature { event: proto::FeatureEvent },
    /// How far the relay's clock is ahead of this machine's (ms; negative when behind):
    /// the time left on the focus timer is `run.ends_at - (Date.now() + offsetMs)`.
    /// Who speaks now and the room's active speaker (an identity; `you` is this
    /// member's), as the relay hears them. Sent when either changes.
    #[serde(rename_all = "camelCase")]
    Speakers {
        active: Option<String>,
        speaking: Vec<String>,
    },
    #[serde(rename_all = "camelCase")]
    ClockOffset {
        #[specta(type = i32)]
        offset_ms: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Level {
    /// `self` or an identity.
    pub key: String,
    /// 0..1 (a fraction; typed `number` for the UI)
    #[specta(type = u16)]
    pub level: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum DeviceKind {
    Camera,
    Microphone,
    Screen,
    Speaker,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeviceProblem {
    pub device: DeviceKind,
    pub message: String,
}

/// Audio levels and device trouble, a few times a second while previewing or in a room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct MediaStatus {
    pub levels: Vec<Level>,
    pub problems: Vec<DeviceProblem>,
    /// How well each other participant's media has reached us over the last 5 seconds;
    /// participants with too little to judge by (muted, just joined) are left out.
    pub links: Vec<Link>,
}

/// One participant's connection as seen from here (the tile's bars).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub identity: String,
    pub quality: LinkQuality,
    /// Packets that never arrived, in percent (0–100).
    pub loss_percent: u8,
    /// Video frames that could not be shown, in percent (0–100).
    pub bad_frames_percent: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum LinkQuality {
    Good,
    /// Some loss: glitches now and then.
    Fair,
    /// Heavy loss: freezes, broken speech.
    Poor,
}

impl From<studyhall_client::media::stats::LinkQuality> for LinkQuality {
    fn from(q: studyhall_client::media::stats::LinkQuality) -> Self {
        use studyhall_client::media::stats::LinkQuality as Q;
        match q {
            Q::Good => LinkQuality::Good,
            Q::Fair => LinkQuality::Fair,
            Q::Poor => LinkQuality::Poor,
        }
    }
}

/// A later start of the app (a `studyhall://` link clicked while it runs) handed over a
/// link: `take_launch_invite` has it now.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, tauri_specta::Event,
)]
pub struct InviteOpened;

/// The window is closing while others are in the room this app hosts.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, tauri_specta::Event,
)]
#[serde(rename_all = "camelCase")]
pub struct QuitRequested {
    pub others_in_room: u32,
}

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum TransferKind {
    Upload,
    Download,
}

/// Where a transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum TransferState {
    Running,
    Done,
    Failed,
    Cancelled,
}

/// A transfer's progress, sent as it goes (at most a few times a second) and when it
/// ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct MaterialTransfer {
    /// The app's id for this transfer (give it to `cancel_transfer`).
    pub id: String,
    pub kind: TransferKind,
    /// The file's name.
    pub name: String,
    #[specta(type = u32)]
    pub done: f64,
    #[specta(type = u32)]
    pub total: f64,
    pub state: TransferState,
    /// Why it failed, in plain words.
    pub error: Option<String>,
    /// Uploads: the shared file once stored.
    pub material: Option<proto::Material>,
    /// Downloads: where the file was saved.
    pub path: Option<String>,
}

/// A video tile on screen: whose, which video, and its size in device pixels (CSS
/// pixels times the device pixel ratio).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ViewTile {
    pub identity: String,
    pub video: VideoSource,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum VideoSource {
    Camera,
    Screen,
}

impl From<ViewTile> for studyhall_client::media::Tile {
    fn from(t: ViewTile) -> Self {
        studyhall_client::media::Tile {
            identity: t.identity,
            source: match t.video {
                VideoSource::Camera => proto::TrackSource::Camera,
                VideoSource::Screen => proto::TrackSource::Screen,
            },
            width: t.width,
            height: t.height,
        }
    }
}
