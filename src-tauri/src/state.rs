//! What the app holds while it runs (managed by Tauri, shared by the commands).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tauri::{AppHandle, Runtime};
use tauri_specta::Event;

use studyhall_client::preview::Preview;

use crate::about::commands::AppInfo;
use crate::room::types::{MediaStatus, QuitRequested, RoomEvent};
use crate::room::{ActiveRoom, Hosting};
use crate::settings::SettingsStore;
use crate::video::VideoHub;

/// What the app's logic needs of the window, whatever the runtime (the real one, or the
/// mock one in tests): emitting events and quitting.
pub trait Bridge: Send + Sync {
    fn room_event(&self, event: RoomEvent);
    fn media_status(&self, status: MediaStatus);
    fn quit_requested(&self, request: QuitRequested);
    fn exit(&self);
    fn info(&self) -> AppInfo;
}

impl<R: Runtime> Bridge for AppHandle<R> {
    fn room_event(&self, event: RoomEvent) {
        if let Err(e) = event.emit(self) {
            tracing::warn!(error = %e, "cannot send a room event to the window");
        }
    }

    fn media_status(&self, status: MediaStatus) {
        let _ = status.emit(self);
    }

    fn quit_requested(&self, request: QuitRequested) {
        let _ = request.emit(self);
    }

    fn exit(&self) {
        AppHandle::exit(self, 0);
    }

    fn info(&self) -> AppInfo {
        let package = self.package_info();
        AppInfo {
            name: package.name.clone(),
            version: package.version.to_string(),
            protocol_version: studyhall_protocol::PROTOCOL_VERSION,
        }
    }
}

pub struct AppState {
    pub settings: Mutex<SettingsStore>,
    pub video: VideoHub,
    pub live: Arc<tokio::sync::Mutex<Live>>,
    /// Where the app keeps its data (settings, the hosted relay's data).
    pub data_dir: PathBuf,
    pub bridge: Arc<dyn Bridge>,
    /// The invite link the app was started with (the system opens `studyhall://` links
    /// with the app), until the start screen takes it.
    pub launch_invite: Mutex<Option<String>>,
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

impl AppState {
    pub fn new(
        settings: SettingsStore,
        video: VideoHub,
        data_dir: PathBuf,
        bridge: Arc<dyn Bridge>,
    ) -> Self {
        AppState {
            settings: Mutex::new(settings),
            video,
            live: Arc::new(tokio::sync::Mutex::new(Live::default())),
            data_dir,
            bridge,
            launch_invite: Mutex::new(None),
        }
    }
}

/// The first `studyhall://` link among the command-line arguments (the desktop entry runs
/// `studyhall %u` when a link is opened).
pub fn invite_link_in<I: IntoIterator<Item = String>>(args: I) -> Option<String> {
    args.into_iter()
        .map(|a| a.trim().to_string())
        .find(|a| a.len() <= 2048 && a.to_ascii_lowercase().starts_with("studyhall://"))
}
