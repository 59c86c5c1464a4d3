//! The app's own data, in SQLite beside the user's other app data: the profile (display
//! name, chosen devices) and the rooms recently joined.

pub mod commands;

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use studyhall_client::source::{AudioInput, VideoInput};

use crate::error::{AppError, AppErrorKind};

/// How many recent rooms are kept.
pub const MAX_RECENT: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum VideoDevice {
    TestPattern,
    Camera { name: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AudioDevice {
    Tone,
    Microphone { name: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ScreenDevice {
    TestPattern,
    Screen { name: Option<String> },
}

impl VideoDevice {
    pub fn input(&self) -> VideoInput {
        match self {
            VideoDevice::TestPattern => VideoInput::TestPattern,
            VideoDevice::Camera { name } => VideoInput::Camera(name.clone()),
        }
    }
}

impl AudioDevice {
    pub fn input(&self) -> AudioInput {
        match self {
            AudioDevice::Tone => AudioInput::Tone,
            AudioDevice::Microphone { name } => AudioInput::Microphone(name.clone()),
        }
    }
}

impl ScreenDevice {
    pub fn input(&self) -> VideoInput {
        match self {
            ScreenDevice::TestPattern => VideoInput::TestPattern,
            ScreenDevice::Screen { name } => VideoInput::Screen(name.clone()),
        }
    }
}

/// Who the user is in rooms and what they use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub display_name: String,
    pub camera: VideoDevice,
    pub microphone: AudioDevice,
    pub screen: ScreenDevice,
    /// The output device; `None` is the system default.
    pub speaker: Option<String>,
    /// Play a soft chime when the room's focus timer changes phase.
    #[serde(default = "chime_on")]
    pub timer_chime: bool,
    /// Noise suppression (RNNoise) on a real microphone.
    #[serde(default = "noise_suppression_on")]
    pub noise_suppression: bool,
}

fn chime_on() -> bool {
    true
}

fn noise_suppression_on() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecentRoom {
    pub room: String,
    pub title: String,
    /// The invite link it was joined with.
    pub invite: String,
    pub relay: String,
    /// When it was last joined, ms since the Unix epoch.
    /// A whole number (JSON keeps it exact up to 2^53).
    #[specta(type = u32)]
    pub last_joined: f64,
    pub hosted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(flatten)]
    pub profile: Profile,
    /// Newest first.
    pub recent_rooms: Vec<RecentRoom>,
}

/// A first profile: the login name, and devices where the machine has them.
pub fn default_profile(has_camera: bool, has_microphone: bool, has_screen: bool) -> Profile {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_default();
    let mut chars = login.chars();
    let display_name = match chars.next() {
        Some(first) if login != "root" => first.to_uppercase().chain(chars).collect(),
        _ => "Student".to_string(),
    };
    Profile {
        display_name,
        camera: if has_camera {
            VideoDevice::Camera { name: None }
        } else {
            VideoDevice::TestPattern
        },
        microphone: if has_microphone {
            AudioDevice::Microphone { name: None }
        } else {
            AudioDevice::Tone
        },
        screen: if has_screen {
            ScreenDevice::Screen { name: None }
        } else {
            ScreenDevice::TestPattern
        },
        speaker: None,
        timer_chime: true,
        noise_suppression: true,
    }
}

/// The settings store as the app manages it (shared by the commands that read the
/// profile).
pub struct SettingsState(pub std::sync::Mutex<SettingsStore>);

/// The saved profile, or (before one is saved) a first one made from this machine's
/// devices: what the device check shows and what a room is joined with.
pub async fn current_profile(settings: &SettingsState) -> Result<Profile, AppError> {
    let saved = settings
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .profile()?;
    if let Some(profile) = saved {
        return Ok(profile);
    }
    let devices = tokio::task::spawn_blocking(studyhall_client::source::device::list_devices)
        .await
        .unwrap_or_default();
    Ok(default_profile(
        !devices.cameras.is_empty(),
        !devices.microphones.is_empty(),
        !devices.screens.is_empty(),
    ))
}

/// Checks a display name the way the relay will.
pub fn check_display_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::new(
            AppErrorKind::InvalidInput,
            "Your name must be 1 to 64 characters.",
        ));
    }
    Ok(name.to_string())
}

pub struct SettingsStore {
    conn: Connection,
}

impl SettingsStore {
    /// Open (creating) the store at `path`.
    pub fn open(path: &Path) -> Result<SettingsStore, AppError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                AppError::new(
                    AppErrorKind::Storage,
                    format!("Cannot create {}: {e}", dir.display()),
                )
            })?;
        }
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS profile (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 json TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS recent_rooms (
                 room TEXT NOT NULL,
                 relay TEXT NOT NULL,
                 title TEXT NOT NULL,
                 invite TEXT NOT NULL,
                 last_joined INTEGER NOT NULL,
                 hosted INTEGER NOT NULL,
                 PRIMARY KEY (room, relay)
             );",
        )?;
        Ok(SettingsStore { conn })
    }

    /// The saved profile, if one was ever saved (a corrupt one counts as none).
    pub fn profile(&self) -> Result<Option<Profile>, AppError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM profile WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    pub fn save_profile(&self, profile: &Profile) -> Result<(), AppError> {
        let json = serde_json::to_string(profile)
            .map_err(|e| AppError::new(AppErrorKind::Internal, e.to_string()))?;
        self.conn.execute(
            "INSERT INTO profile (id, json) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET json = excluded.json",
            params![json],
        )?;
        Ok(())
    }

    pub fn recent_rooms(&self) -> Result<Vec<RecentRoom>, AppError> {
        let mut stmt = self.conn.prepare(
            "SELECT room, title, invite, relay, last_joined, hosted FROM recent_rooms
             ORDER BY last_joined DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![MAX_RECENT as i64], |r| {
            Ok(RecentRoom {
                room: r.get(0)?,
                title: r.get(1)?,
                invite: r.get(2)?,
                relay: r.get(3)?,
                last_joined: r.get::<_, i64>(4)? as f64,
                hosted: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Remember a joined room (newest first; only [`MAX_RECENT`] are kept).
    pub fn touch_recent(&self, room: &RecentRoom) -> Result<(), AppError> {
        self.conn.execute(
            "INSERT INTO recent_rooms (room, relay, title, invite, last_joined, hosted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (room, relay) DO UPDATE SET title = excluded.title,
                 invite = excluded.invite, last_joined = excluded.last_joined,
                 hosted = excluded.hosted",
            params![
                room.room,
                room.relay,
                room.title,
                room.invite,
                room.last_joined as i64,
                room.hosted
            ],
        )?;
        self.conn.execute(
            "DELETE FROM recent_rooms WHERE rowid NOT IN
             (SELECT rowid FROM recent_rooms ORDER BY last_joined DESC LIMIT ?1)",
            params![MAX_RECENT as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(room: &str, at: f64) -> RecentRoom {
        RecentRoom {
            room: room.into(),
            title: format!("Room {room}"),
            invite: format!("studyhall://join?relay=h%3A1&code=AAAA-{room}"),
            relay: "h:1".into(),
            last_joined: at,
            hosted: false,
        }
    }

    #[test]
    fn profile_and_recent_rooms_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/settings.sqlite3");
        let store = SettingsStore::open(&path).unwrap();
        assert_eq!(store.profile().unwrap(), None);
        let profile = Profile {
            display_name: "Ada".into(),
            camera: VideoDevice::Camera {
                name: Some("cam".into()),
            },
            microphone: AudioDevice::Tone,
            screen: ScreenDevice::TestPattern,
            speaker: Some("out".into()),
            timer_chime: false,
            noise_suppression: false,
        };
        store.save_profile(&profile).unwrap();
        for i in 0..(MAX_RECENT + 3) {
            store
                .touch_recent(&recent(&format!("r{i:02}"), i as f64))
                .unwrap();
        }
        // Joining an old room again moves it to the front, once.
        store.touch_recent(&recent("r05", 100.0)).unwrap();
        drop(store);

        let store = SettingsStore::open(&path).unwrap();
        assert_eq!(store.profile().unwrap(), Some(profile));
        let rooms = store.recent_rooms().unwrap();
        assert_eq!(rooms.len(), MAX_RECENT);
        assert_eq!(rooms[0].room, "r05");
        assert_eq!(rooms[1].room, "r12");
        assert_eq!(rooms.iter().filter(|r| r.room == "r05").count(), 1);
    }

    #[test]
    fn names_are_checked_like_the_relay_does() {
        assert_eq!(check_display_name("  Ada ").unwrap(), "Ada");
        assert!(check_display_name("   ").is_err());
        assert!(check_display_name(&"x".repeat(65)).is_err());
        assert!(check_display_name("a\u{7}b").is_err());
    }

    #[test]
    fn device_choices_serialize_as_the_ui_expects() {
        let json = serde_json::to_value(VideoDevice::Camera { name: None }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "camera", "name": null}));
        let json = serde_json::to_value(AudioDevice::Tone).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "tone"}));
    }
}
