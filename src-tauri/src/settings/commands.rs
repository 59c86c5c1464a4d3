use tauri::State;

use super::{check_display_name, default_profile, Profile, Settings};
use crate::error::AppError;
use crate::state::AppState;

/// The saved profile (or a first one made from this machine's devices) and recent rooms.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings, AppError> {
    let saved = state
        .settings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .profile()?;
    let profile = match saved {
        Some(profile) => profile,
        None => {
            let devices =
                tokio::task::spawn_blocking(studyhall_client::source::device::list_devices)
                    .await
                    .unwrap_or_default();
            default_profile(
                !devices.cameras.is_empty(),
                !devices.microphones.is_empty(),
                !devices.screens.is_empty(),
            )
        }
    };
    let store = state.settings.lock().unwrap_or_else(|p| p.into_inner());
    Ok(Settings {
        profile,
        recent_rooms: store.recent_rooms()?,
    })
}

/// Save the display name and chosen devices.
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    state: State<'_, AppState>,
    profile: Profile,
) -> Result<Settings, AppError> {
    let profile = Profile {
        display_name: check_display_name(&profile.display_name)?,
        ..profile
    };
    let store = state.settings.lock().unwrap_or_else(|p| p.into_inner());
    store.save_profile(&profile)?;
    Ok(Settings {
        profile,
        recent_rooms: store.recent_rooms()?,
    })
}
