use serde::{Deserialize, Serialize};
use studyhall_client::media::VideoFormat;
use studyhall_client::preview::Preview;
use tauri::State;

use crate::error::AppError;
use crate::room::RoomContext;
use crate::settings::{AudioDevice, VideoDevice};

/// Devices found on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DeviceList {
    pub cameras: Vec<Device>,
    pub microphones: Vec<Device>,
    pub screens: Vec<Device>,
    pub speakers: Vec<Device>,
}

/// One device: `name` is what the settings keep and the sources open; `label` is what
/// to show ("Built-in Audio Analog Stereo", "Entire screen (1920×1080)").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub name: String,
    pub label: String,
}

fn devices(found: Vec<studyhall_client::source::device::Device>) -> Vec<Device> {
    found
        .into_iter()
        .map(|d| Device {
            name: d.name,
            label: d.label,
        })
        .collect()
}

#[tauri::command]
#[specta::specta]
pub async fn list_devices() -> Result<DeviceList, AppError> {
    let found = tokio::task::spawn_blocking(studyhall_client::source::device::list_devices)
        .await
        .unwrap_or_default();
    Ok(DeviceList {
        cameras: devices(found.cameras),
        microphones: devices(found.microphones),
        screens: devices(found.screens),
        speakers: devices(found.speakers),
    })
}

/// Start the device check: our camera on the video socket as `self:camera`, the
/// microphone's level in `media-status`. Replaces a running check.
#[tauri::command]
#[specta::specta]
pub async fn start_preview(
    state: State<'_, RoomContext>,
    settings: State<'_, crate::settings::SettingsState>,
    camera: VideoDevice,
    microphone: AudioDevice,
) -> Result<(), AppError> {
    // Noise suppression as the saved profile has it (set_noise_suppression keeps the two
    // alike; a profile saved since is followed here).
    let saved = settings
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .profile()?;
    if let Some(profile) = saved {
        state.noise.set(profile.noise_suppression);
    }
    let mut live = state.live.lock().await;
    if live.room.is_some() {
        // In a room the self-view already shows the camera.
        return Ok(());
    }
    // Release the devices before opening them again.
    if let Some(preview) = live.preview.take() {
        preview.stop().await;
    }
    let format = VideoFormat {
        width: 640,
        height: 360,
        fps: 15,
        bitrate_kbps: 500,
    };
    live.preview = Some(
        Preview::start(
            Some(camera.input()),
            Some(microphone.input()),
            format,
            state.video.sink(),
            state.noise.clone(),
        )
        .await,
    );
    Ok(())
}

/// Turn noise suppression on the microphone on or off: at once in the device check and
/// the room, and kept in the profile for next time.
#[tauri::command]
#[specta::specta]
pub async fn set_noise_suppression(
    room: State<'_, RoomContext>,
    settings: State<'_, crate::settings::SettingsState>,
    on: bool,
) -> Result<(), AppError> {
    room.noise.set(on);
    let store = settings.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(profile) = store.profile()? {
        store.save_profile(&crate::settings::Profile {
            noise_suppression: on,
            ..profile
        })?;
    }
    Ok(())
}

/// Stop the device check and release the devices.
#[tauri::command]
#[specta::specta]
pub async fn stop_preview(state: State<'_, RoomContext>) -> Result<(), AppError> {
    let preview = state.live.lock().await.preview.take();
    if let Some(preview) = preview {
        preview.stop().await;
    }
    state.video.forget("self:camera");
    Ok(())
}
