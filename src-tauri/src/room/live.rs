//! What the room side of the app holds while it runs: at most one device check, one
//! room, one hosted room, and the window it reports to. Managed by Tauri as
//! [`RoomContext`]; the room, hosting, device and feature commands take it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use studyhall_client::host::HostedRelay;
use studyhall_client::invite::InviteTarget as ClientTarget;
use studyhall_client::preview::Preview;
use studyhall_client::session::RoomSession;
use studyhall_client::source::denoise::NoiseSuppression;
use tokio::task::JoinHandle;

use super::types::{Invite, MediaState, MediaStatus, QuitRequested, RoomEvent};
use crate::study::{Study, Tracking};
use crate::video::VideoHub;

/// Where a file dialog's answer goes.
pub type Picked = Box<dyn FnOnce(Option<PathBuf>) + Send>;

/// What the app's logic needs of the window, whatever the runtime (the real one, or the
/// mock one in tests): emitting events and quitting.
pub trait Bridge: Send + Sync {
    fn room_event(&self, event: RoomEvent);
    fn media_status(&self, status: MediaStatus);
    fn quit_requested(&self, request: QuitRequested);
    fn exit(&self);
    /// A file transfer's progress (see `materials`).
    fn material_transfer(&self, _transfer: super::types::MaterialTransfer) {}
    /// Ask for a file to open; `done` gets it, or `None` when the user cancels.
    fn pick_file(&self, done: Picked) {
        done(None)
    }
    /// Ask for a calendar file (`.ics`) to import.
    fn pick_calendar(&self, done: Picked) {
        done(None)
    }
    /// Ask where to save a file offered as `name`.
    fn pick_save(&self, _name: String, done: Picked) {
        done(None)
    }
}

/// The room this app hosts.
pub struct Hosting {
    pub relay: HostedRelay,
    pub invite: Invite,
    pub target: ClientTarget,
    pub host_token: String,
    pub room: String,
    pub title: String,
}

/// The room we are in.
pub struct ActiveRoom {
    pub session: Arc<RoomSession>,
    /// The room's shared files over HTTP, with this session's token.
    pub materials: studyhall_client::features::materials::Materials,
    pub room: String,
    /// Who else is here now.
    pub others: Arc<Mutex<HashSet<String>>>,
    pub media: Arc<Mutex<MediaState>>,
    pub speaker_problem: Arc<Mutex<Option<String>>>,
    /// Time in this room being written to the study record (written down on drop).
    pub study: Arc<Tracking>,
    pub tasks: Vec<JoinHandle<()>>,
}

impl Drop for ActiveRoom {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// What is going on right now: at most one device check, one room, one hosted room.
#[derive(Default)]
pub struct Live {
    pub preview: Option<Preview>,
    pub room: Option<ActiveRoom>,
    pub hosting: Option<Hosting>,
    /// Bumped by every leave: a join that started before a leave does not install its
    /// room when it finishes.
    pub leaves: u64,
}

/// The room side's managed state.
pub struct RoomContext {
    pub video: VideoHub,
    pub live: Arc<tokio::sync::Mutex<Live>>,
    /// Where the app keeps its data (the hosted relay's data goes under it).
    pub data_dir: PathBuf,
    pub bridge: Arc<dyn Bridge>,
    /// The invite link the app was started with (the system opens `studyhall://` links
    /// with the app), until the start screen takes it.
    pub launch_invite: Mutex<Option<String>>,
    /// The user's study record: time in rooms and focus phases are written to it.
    pub study: Arc<Study>,
    /// Noise suppression on the microphone, as the profile has it: shared by the device
    /// check and the room, switched at once by `set_noise_suppression`.
    pub noise: NoiseSuppression,
}

impl RoomContext {
    pub fn new(
        video: VideoHub,
        data_dir: PathBuf,
        bridge: Arc<dyn Bridge>,
        study: Arc<Study>,
    ) -> Self {
        RoomContext {
            study,
            video,
            live: Arc::new(tokio::sync::Mutex::new(Live::default())),
            data_dir,
            bridge,
            launch_invite: Mutex::new(None),
            noise: NoiseSuppression::default(),
        }
    }
}
