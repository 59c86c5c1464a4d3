//! `studyhall-relay`: signaling, rooms and persisted chat for Studyhall (the SFU media
//! relay joins in `sfu/` with the media issue).
//!
//! Layers, lower never importing higher: `room/` (rooms, participants, limits, word
//! filter; no sockets) and `store/` (what outlives the process) ← `signal/` and `http`
//! (the edges: WebSocket, auth, limits, HTTP) ← `server` (bind, serve, drain).
//!
//! With no configuration the relay runs the embedded default: it listens on
//! [`config::DEFAULT_LISTEN`], keeps rooms in memory and chat in SQLite under the data
//! directory, and generates its token secret there once.

pub mod auth;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod groups;
pub mod http;
pub mod ids;
pub mod invites;
pub mod listener;
pub mod memory;
pub mod metrics;
pub mod pending;
pub mod room;
pub mod server;
pub mod sfu;
pub mod signal;
pub mod state;
pub mod store;

pub use config::Config;
pub use server::{run, RunningRelay};
pub use state::{Relay, RelayError};
