use tauri::State;

use crate::error::AppError;
use crate::room::types::Invite;
use crate::room::RoomContext;
use crate::settings::{current_profile, SettingsState};

/// Start the bundled relay on this machine and make an invite to a new room.
#[tauri::command]
#[specta::specta]
pub async fn host_room(
    state: State<'_, RoomContext>,
    settings: State<'_, SettingsState>,
    title: String,
) -> Result<Invite, AppError> {
    let name = current_profile(&settings).await?.display_name;
    super::host(&state, &title, &name).await
}

/// What the room hosted on this machine uploads now, and its budget; `null` when not
/// hosting. The UI asks every few seconds while the host is in the room.
#[tauri::command]
#[specta::specta]
pub async fn host_upload(
    state: State<'_, RoomContext>,
) -> Result<Option<super::HostUpload>, AppError> {
    super::host_upload(&state).await
}

/// End the hosted room for everyone and stop the relay.
#[tauri::command]
#[specta::specta]
pub async fn stop_hosting(state: State<'_, RoomContext>) -> Result<(), AppError> {
    super::stop_hosting(&state).await
}

/// Quit now, ending a hosted room (the UI asked first).
#[tauri::command]
#[specta::specta]
pub async fn quit_app(state: State<'_, RoomContext>) -> Result<(), AppError> {
    let _ = crate::room::leave(&state).await;
    super::stop_hosting(&state).await?;
    state.bridge.exit();
    Ok(())
}
