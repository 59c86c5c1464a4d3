//! Presence from a participant's side: say you are active, away or on a break. (The
//! app sets `away` by itself after some minutes without input.)

use studyhall_protocol::{ClientMessage, Presence, PresenceRequest};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// Tell the room how present you are.
    pub async fn set_presence(&self, presence: Presence) -> Result<(), SessionError> {
        self.acked(PresenceRequest::SetPresence { presence }.into())
            .await
    }
}

/// Presence as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PresenceArg {
    Active,
    Away,
    OnBreak,
}

impl From<PresenceArg> for Presence {
    fn from(p: PresenceArg) -> Self {
        match p {
            PresenceArg::Active => Presence::Active,
            PresenceArg::Away => Presence::Away,
            PresenceArg::OnBreak => Presence::OnBreak,
        }
    }
}

/// Command-line options of presence.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PresenceArgs {
    /// Set your presence once joined.
    #[arg(long, value_enum)]
    pub presence: Option<PresenceArg>,
}

impl PresenceArgs {
    pub fn requests(&self) -> Vec<ClientMessage> {
        self.presence
            .map(|p| PresenceRequest::SetPresence { presence: p.into() }.into())
            .into_iter()
            .collect()
    }
}
