use std::sync::Arc;

use tauri::State;

use super::types::{
    ChatMessage, ChatPage, InviteTarget, JoinMedia, MediaState, MediaUpdate, RoomSnapshot, ViewTile,
};
use super::RoomContext;
use crate::error::{AppError, AppErrorKind};
use crate::settings::{current_profile, SettingsState};
use studyhall_client::session::RoomSession;

/// URL of the local video socket (see docs/app-ipc.md, "Video").
#[tauri::command]
#[specta::specta]
pub fn media_endpoint(state: State<'_, RoomContext>) -> String {
    state.video.url().to_string()
}

/// Check an invite link or code without joining.
#[tauri::command]
#[specta::specta]
pub fn parse_invite(text: String) -> Result<InviteTarget, AppError> {
    let target = studyhall_client::invite::parse(&text)?;
    Ok(InviteTarget {
        relay: target.relay,
        code: target.code,
    })
}

/// The invite link the app was started with, once: later calls get `null`. The start
/// screen puts it in the join field, so a clicked link ends one click from the room.
#[tauri::command]
#[specta::specta]
pub fn take_launch_invite(state: State<'_, RoomContext>) -> Option<String> {
    state
        .launch_invite
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

/// Redeem the invite and join with the saved profile, the microphone and camera on or
/// off as `media` says.
#[tauri::command]
#[specta::specta]
pub async fn join_room(
    state: State<'_, RoomContext>,
    settings: State<'_, SettingsState>,
    invite: String,
    media: JoinMedia,
) -> Result<RoomSnapshot, AppError> {
    let profile = current_profile(&settings).await?;
    super::join(&state, &settings, &invite, profile, media).await
}

/// Leave the room (it goes on for the others).
#[tauri::command]
#[specta::specta]
pub async fn leave_room(state: State<'_, RoomContext>) -> Result<(), AppError> {
    super::leave(&state).await
}

pub(crate) async fn session(state: &RoomContext) -> Result<Arc<RoomSession>, AppError> {
    state
        .live
        .lock()
        .await
        .room
        .as_ref()
        .map(|r| r.session.clone())
        .ok_or_else(AppError::not_in_room)
}

/// Mute/unmute, camera on/off, screen share on/off; resolves with the new state.
#[tauri::command]
#[specta::specta]
pub async fn set_media(
    state: State<'_, RoomContext>,
    update: MediaUpdate,
) -> Result<MediaState, AppError> {
    let session = session(&state).await?;
    session.set_media(update.into()).await?;
    let live = state.live.lock().await;
    let room = live.room.as_ref().ok_or_else(AppError::not_in_room)?;
    let mut media = room.media.lock().unwrap_or_else(|p| p.into_inner());
    media.mic = update.mic.unwrap_or(media.mic);
    media.camera = update.camera.unwrap_or(media.camera);
    media.screen = update.screen.unwrap_or(media.screen);
    Ok(*media)
}

/// The video tiles on screen now: the relay sends only their video (the others' is
/// paused until shown again; audio always comes). Kept across reconnects.
#[tauri::command]
#[specta::specta]
pub async fn set_view(state: State<'_, RoomContext>, tiles: Vec<ViewTile>) -> Result<(), AppError> {
    tracing::debug!(?tiles, "the tiles on screen");
    let session = session(&state).await?;
    session
        .set_view(tiles.into_iter().map(Into::into).collect())
        .await?;
    Ok(())
}

/// Post a chat message; resolves once the relay stored it.
#[tauri::command]
#[specta::specta]
pub async fn send_chat(
    state: State<'_, RoomContext>,
    client_msg_id: String,
    text: String,
) -> Result<ChatMessage, AppError> {
    if text.trim().is_empty() {
        return Err(AppError::new(
            AppErrorKind::InvalidInput,
            "The message is empty.",
        ));
    }
    let session = session(&state).await?;
    Ok(session.send_chat(&client_msg_id, &text).await?.into())
}

/// The page of chat before `before_seq`.
#[tauri::command]
#[specta::specta]
pub async fn load_older_chat(
    state: State<'_, RoomContext>,
    before_seq: u32,
) -> Result<ChatPage, AppError> {
    let session = session(&state).await?;
    Ok(session.history(Some(u64::from(before_seq))).await?.into())
}

/// Host only: remove a message for everyone.
#[tauri::command]
#[specta::specta]
pub async fn delete_chat(state: State<'_, RoomContext>, seq: u32) -> Result<(), AppError> {
    let session = session(&state).await?;
    Ok(session.delete_chat(u64::from(seq)).await?)
}

/// Host only: remove a participant.
#[tauri::command]
#[specta::specta]
pub async fn kick(state: State<'_, RoomContext>, identity: String) -> Result<(), AppError> {
    let session = session(&state).await?;
    Ok(session.kick(&identity).await?)
}
