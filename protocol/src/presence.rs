//! Presence: a participant says whether they are active, away or on a break. The app
//! sets `away` by itself after some minutes without input. Presence is part of each
//! [`Participant`](crate::Participant), so changes reach everyone as
//! `participant_updated` and joiners see it in `joined`.

use serde::{Deserialize, Serialize};

use crate::Presence;

/// Requests of the presence feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PresenceRequest {
    /// Change own presence (active, away, on a break).
    SetPresence { presence: Presence },
}

impl PresenceRequest {
    pub const TYPES: &'static [&'static str] = &["set_presence"];

    pub fn kind(&self) -> &'static str {
        match self {
            PresenceRequest::SetPresence { .. } => "set_presence",
        }
    }
}
