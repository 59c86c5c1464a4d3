//! The lecture: who presents, whether the room is a study room or a lecture, who may
//! speak, whether it takes new people, and the lecture's clock.
//!
//! - The host makes people presenters and takes it back; presenters may draw on the
//!   whiteboard, share their screen and answer questions, as the host does. A
//!   participant's `role` is `presenter` while they are on the list.
//! - In a *study room* (the default) everyone is equal. In a *lecture*, students (members
//!   who are not presenters) join with microphone and camera off, and turn them on only
//!   when the host allows it — for everyone, or for one person (a raised hand, then "let
//!   them speak"); only presenters and the host share their screen.
//! - The host can mute everyone (but hosts and presenters), lock the room so no new
//!   people join (those already admitted can still reconnect), and lower every hand.
//!
//! All of it is kept with the room: it outlives anyone's reconnect and a relay restart.
//! When the host ends the room, the live part (lock, who may speak, the clock) is
//! cleared; the mode and the presenters stay.

use serde::{Deserialize, Serialize};

/// Most presenters a room keeps.
pub const MAX_PRESENTERS: usize = 20;
/// Most students a host lets speak one by one.
pub const MAX_SPEAKERS: usize = 100;

/// Whether a room is run as a study room or a lecture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RoomMode {
    /// Everyone equal: anyone turns their microphone, camera and screen on.
    #[default]
    Study,
    /// Students speak and show their camera only when the host allows it; only presenters
    /// and the host share their screen.
    Lecture,
}

/// Requests of the lecture feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LectureRequest {
    /// Host only: make `identity` a presenter (`presenter: true`) or take it back. The
    /// identity need not be in the room yet: it presents when it joins. A host is a
    /// host whatever this says.
    SetPresenter { identity: String, presenter: bool },
    /// Host only: run the room as a study room or a lecture. Becoming a lecture starts the
    /// lecture's clock (if it is not running) and turns off the microphone and camera of
    /// every student not allowed to speak.
    SetRoomMode { mode: RoomMode },
    /// Host only: lock the room (no new people join: an invite and a join of someone not
    /// yet admitted answer `room_locked`) or open it again.
    LockRoom { locked: bool },
    /// Host only: turn off the microphone of everyone but hosts and presenters.
    MuteAll,
    /// Host only, in a lecture: let a student speak (`identity`) or every student
    /// (`identity` absent or `null`), or take it back (`allowed: false`, which also turns
    /// their microphone and camera off).
    AllowSpeaking {
        #[serde(default)]
        identity: Option<String>,
        allowed: bool,
    },
}

impl LectureRequest {
    pub const TYPES: &'static [&'static str] = &[
        "set_presenter",
        "set_room_mode",
        "lock_room",
        "mute_all",
        "allow_speaking",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            LectureRequest::SetPresenter { .. } => "set_presenter",
            LectureRequest::SetRoomMode { .. } => "set_room_mode",
            LectureRequest::LockRoom { .. } => "lock_room",
            LectureRequest::MuteAll => "mute_all",
            LectureRequest::AllowSpeaking { .. } => "allow_speaking",
        }
    }
}

/// What the room keeps about its lecture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LectureState {
    /// Identities the host made presenters, in the order they were made.
    #[serde(default)]
    pub presenters: Vec<String>,
    #[serde(default)]
    pub mode: RoomMode,
    /// When the lecture started (ms since the Unix epoch): set when the room becomes a
    /// lecture, cleared when the host ends the room. Clients show the time since.
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub started_at: Option<u64>,
    /// No new people join.
    #[serde(default)]
    pub locked: bool,
    /// In a lecture: every student may turn on microphone and camera.
    #[serde(default)]
    pub everyone_speaks: bool,
    /// In a lecture: the students the host let speak, one by one.
    #[serde(default)]
    pub speakers: Vec<String>,
}

impl LectureState {
    pub fn is_presenter(&self, identity: &str) -> bool {
        self.presenters.iter().any(|p| p == identity)
    }

    /// Whether a participant (`presents`: a host or presenter) may turn on `source` now.
    pub fn may_send(&self, identity: &str, presents: bool, source: crate::TrackSource) -> bool {
        if presents || self.mode == RoomMode::Study {
            return true;
        }
        match source {
            crate::TrackSource::Screen => false,
            _ => self.everyone_speaks || self.speakers.iter().any(|s| s == identity),
        }
    }
}

/// Events of the lecture feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LectureEvent {
    /// The lecture's state changed (sent to everyone, whole). Each participant whose
    /// role changed also gets a `participant_updated`.
    Lecture {
        lecture: LectureState,
        /// Who changed it.
        by: String,
    },
}

impl LectureEvent {
    pub const TYPES: &'static [&'static str] = &["lecture"];
}
