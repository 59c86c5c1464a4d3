//! The lecture: who presents. The host makes people presenters and takes it back;
//! presenters may draw on the whiteboard and answer questions, as the host does. The
//! list is kept with the room (it outlives anyone's reconnect and a relay restart), and
//! a participant's `role` is `presenter` while they are on it.

use serde::{Deserialize, Serialize};

/// Most presenters a room keeps.
pub const MAX_PRESENTERS: usize = 20;

/// Requests of the lecture feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LectureRequest {
    /// Host only: make `identity` a presenter (`presenter: true`) or take it back. The
    /// identity need not be in the room yet: it presents when it joins. A host is a
    /// host whatever this says.
    SetPresenter { identity: String, presenter: bool },
}

impl LectureRequest {
    pub const TYPES: &'static [&'static str] = &["set_presenter"];

    pub fn kind(&self) -> &'static str {
        match self {
            LectureRequest::SetPresenter { .. } => "set_presenter",
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
}

impl LectureState {
    pub fn is_presenter(&self, identity: &str) -> bool {
        self.presenters.iter().any(|p| p == identity)
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
