//! `studyhall-client`: the participant side of Studyhall, shared by the desktop app, the
//! CLI, the tests and the load generator.
//!
//! Today it owns the signaling connection ([`signal`]); capture, codecs and the WebRTC
//! media path join with the media issue.

pub mod codec;
pub mod features;
pub mod groups;
pub mod host;
pub mod invite;
pub mod media;
pub mod preview;
pub mod session;
pub mod signal;
pub mod source;

pub use signal::{room_of_token, websocket_url, JoinInfo, SignalClient, SignalError};
