//! Chat messages and history pages.

use serde::{Deserialize, Serialize};

/// A stored chat message. `seq` is the room's sequence number: it only increases and
/// every stored message has one, so a client that holds messages up to `seq` N can ask
/// for what came before without gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub seq: u64,
    /// Sender identity (from the sender's token, never from the message).
    pub from: String,
    /// Sender display name at the time of sending.
    pub name: String,
    /// The text, after the room's word filter. Empty when `deleted`.
    pub text: String,
    /// When the relay stored it, ms since the Unix epoch.
    pub ts: u64,
    /// The sender's id for this message.
    pub client_msg_id: String,
    /// True when a host removed it; the slot stays so sequence numbers have no holes.
    #[serde(default)]
    pub deleted: bool,
    /// A file shared with the room (see [`crate::materials`]); `text` names it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::materials::Attachment>,
}

/// A page of chat history, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatPage {
    pub messages: Vec<ChatMessage>,
    /// True when messages older than the first one in this page exist.
    pub has_more: bool,
}
