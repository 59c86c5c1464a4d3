//! Raise hand: a participant asks to speak; everyone sees who asked, in the order they
//! asked. A host lowers anyone's hand; a hand is lowered when its owner leaves the room
//! and kept through a reconnect.

use serde::{Deserialize, Serialize};

/// Requests of the raise-hand feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HandRequest {
    /// Raise your hand (a hand already up keeps its place in the queue).
    RaiseHand,
    /// Lower your own hand (no-op when it is down).
    LowerHand,
    /// Lower someone else's hand. Needs the `host` grant.
    LowerHandOf { identity: String },
    /// Lower every hand. Needs the `host` grant.
    LowerAllHands,
}

impl HandRequest {
    pub const TYPES: &'static [&'static str] = &[
        "raise_hand",
        "lower_hand",
        "lower_hand_of",
        "lower_all_hands",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            HandRequest::RaiseHand => "raise_hand",
            HandRequest::LowerHand => "lower_hand",
            HandRequest::LowerHandOf { .. } => "lower_hand_of",
            HandRequest::LowerAllHands => "lower_all_hands",
        }
    }
}

/// One raised hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RaisedHand {
    pub identity: String,
    /// When the hand went up, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub raised_at: u64,
}

/// Events of the raise-hand feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HandEvent {
    /// The queue changed: every raised hand, first raised first. Sent to everyone.
    HandQueue {
        hands: Vec<RaisedHand>,
        /// Who changed it (`null` when the relay did: its owner left).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

impl HandEvent {
    pub const TYPES: &'static [&'static str] = &["hand_queue"];
}
