use studyhall_protocol::{ClientMessage, FeatureRequest};
use tauri::State;

use crate::error::AppError;
use crate::room::RoomContext;

/// Send a room feature's request (`{type: "raise_hand"}`, `{type: "set_presence",
/// presence: "away"}`, ...); resolves once the relay acknowledged it, or fails with the
/// relay's reason in plain words (kind `refused`; `notInRoom`, `timeout` as for every
/// room command).
#[tauri::command]
#[specta::specta]
pub async fn feature_request(
    state: State<'_, RoomContext>,
    request: FeatureRequest,
) -> Result<(), AppError> {
    let session = crate::room::commands::session(&state).await?;
    Ok(session.acked(ClientMessage::Feature(request)).await?)
}
