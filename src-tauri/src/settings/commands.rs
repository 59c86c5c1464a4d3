use tauri::State;

use super::{check_display_name, Profile, Settings, SettingsState};
use crate::error::AppError;

/// The saved profile (or a first one made from this machine's devices) and recent rooms.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, SettingsState>) -> Result<Settings, AppError> {
    let profile = super::current_profile(&state).await?;
    let store = state.0.lock().unwrap_or_else(|p| p.into_inner());
    Ok(Settings {
        profile,
        recent_rooms: store.recent_rooms()?,
    })
}

/// Save the display name and chosen devices.
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    state: State<'_, SettingsState>,
    profile: Profile,
) -> Result<Settings, AppError> {
    let profile = Profile {
        display_name: check_display_name(&profile.display_name)?,
        ..profile
    };
    let store = state.0.lock().unwrap_or_else(|p| p.into_inner());
    store.save_profile(&profile)?;
    Ok(Settings {
        profile,
        recent_rooms: store.recent_rooms()?,
    })
}
