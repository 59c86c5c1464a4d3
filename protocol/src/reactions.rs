//! Reactions: a participant sends a few emoji that show briefly on their tile. They are
//! not stored; over the rate they are refused (`rate_limited`, never a disconnect).

use serde::{Deserialize, Serialize};

/// Reactions one person may send per second, after a burst of [`REACTION_BURST`].
pub const REACTIONS_PER_SECOND: u32 = 2;
pub const REACTION_BURST: u32 = 5;

/// The reactions there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// 👍
    ThumbsUp,
    /// 👏
    Clap,
    /// 😂
    Laugh,
    /// ❓
    Question,
    /// 🎉
    Party,
}

impl Reaction {
    pub const ALL: [Reaction; 5] = [
        Reaction::ThumbsUp,
        Reaction::Clap,
        Reaction::Laugh,
        Reaction::Question,
        Reaction::Party,
    ];

    pub fn emoji(self) -> &'static str {
        match self {
            Reaction::ThumbsUp => "👍",
            Reaction::Clap => "👏",
            Reaction::Laugh => "😂",
            Reaction::Question => "❓",
            Reaction::Party => "🎉",
        }
    }
}

/// Requests of the reactions feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReactionRequest {
    /// Send a reaction to everyone (you included).
    React { reaction: Reaction },
}

impl ReactionRequest {
    pub const TYPES: &'static [&'static str] = &["react"];

    pub fn kind(&self) -> &'static str {
        match self {
            ReactionRequest::React { .. } => "react",
        }
    }
}

/// Events of the reactions feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReactionEvent {
    /// `identity` reacted (show it on their tile for a few seconds).
    Reaction {
        identity: String,
        reaction: Reaction,
    },
}

impl ReactionEvent {
    pub const TYPES: &'static [&'static str] = &["reaction"];
}
