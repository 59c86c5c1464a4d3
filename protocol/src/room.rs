//! Participants, their media state, presence and roles.

use serde::{Deserialize, Serialize};

/// What a participant is sending. `true` means on (unmuted / sharing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaState {
    #[serde(default)]
    pub mic: bool,
    #[serde(default)]
    pub camera: bool,
    #[serde(default)]
    pub screen: bool,
}

/// A partial change of [`MediaState`]; absent fields are left as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub camera: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen: Option<bool>,
}

impl MediaState {
    /// Apply a partial update; returns whether anything changed.
    pub fn apply(&mut self, update: MediaUpdate) -> bool {
        let before = *self;
        if let Some(v) = update.mic {
            self.mic = v;
        }
        if let Some(v) = update.camera {
            self.camera = v;
        }
        if let Some(v) = update.screen {
            self.screen = v;
        }
        before != *self
    }
}

/// How present a participant says they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    #[default]
    Active,
    Away,
    OnBreak,
}

/// A participant's role in the room: `host` from the token's grants, `presenter` when
/// the host made them one (see [`crate::lecture`]), `member` otherwise (a student).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    Presenter,
    #[default]
    Member,
}

impl Role {
    /// Whether this role runs the lecture: draws, answers questions (host or presenter).
    pub fn presents(self) -> bool {
        matches!(self, Role::Host | Role::Presenter)
    }
}

/// What a token allows. Absent grants are false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    #[serde(default)]
    pub join: bool,
    #[serde(default)]
    pub publish: bool,
    #[serde(default)]
    pub subscribe: bool,
    #[serde(default)]
    pub chat: bool,
    #[serde(default)]
    pub host: bool,
}

/// One grant of a token, as the grant table ([`crate::GRANT_TABLE`]) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    Publish,
    Subscribe,
    Chat,
    Host,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Publish => "publish",
            Grant::Subscribe => "subscribe",
            Grant::Chat => "chat",
            Grant::Host => "host",
        }
    }
}

impl Grants {
    /// Whether these grants include `grant`.
    pub fn has(&self, grant: Grant) -> bool {
        match grant {
            Grant::Publish => self.publish,
            Grant::Subscribe => self.subscribe,
            Grant::Chat => self.chat,
            Grant::Host => self.host,
        }
    }

    /// What an ordinary member gets: everything but `host`.
    pub fn member() -> Self {
        Grants {
            join: true,
            publish: true,
            subscribe: true,
            chat: true,
            host: false,
        }
    }

    /// Everything, `host` included.
    pub fn host() -> Self {
        Grants {
            host: true,
            ..Grants::member()
        }
    }
}

/// A participant as everyone in the room sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Stable identity from the token (`sub`).
    pub identity: String,
    /// Display name from the token.
    pub name: String,
    pub role: Role,
    pub grants: Grants,
    pub media: MediaState,
    pub presence: Presence,
    /// When this participant entered the room, ms since the Unix epoch.
    pub joined_at: u64,
}
