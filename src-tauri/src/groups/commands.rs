use std::path::PathBuf;
use std::sync::Arc;

use studyhall_client::groups::{GroupInvite, GroupsApi};
use studyhall_protocol::schedule::{self, SessionDraft, StudySession, MAX_ICS_BYTES};
use tauri::State;

use super::{CalendarEntry, GroupCard, Groups, GroupsChanged, MAX_BLOCKS};
use crate::error::{AppError, AppErrorKind};
use crate::materials::commands::{PICK_ENV, SAVE_DIR_ENV};
use crate::room::types::{JoinMedia, RoomSnapshot};
use crate::room::RoomContext;
use crate::settings::{current_profile, SettingsState};

/// The app's groups, managed by Tauri.
pub struct GroupsState(pub Arc<Groups>);

/// This app's device id, or (when it cannot be kept) one of this call's own.
fn device_of(rooms: &RoomContext) -> String {
    crate::room::device_id(&rooms.data_dir)
        .unwrap_or_else(|| hex::encode(rand::random::<[u8; 16]>()))
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::new(AppErrorKind::InvalidInput, message)
}

/// Everything about groups: cards, personal blocks, appearing offline.
#[tauri::command]
#[specta::specta]
pub async fn groups_view(groups: State<'_, GroupsState>) -> Result<GroupsChanged, AppError> {
    Ok(groups.0.view().await)
}

/// Create a group: on this computer (its relay starts, and starts with the app from
/// now on), or on the relay at `relay` (`host:port`, a school's server).
#[tauri::command]
#[specta::specta]
pub async fn create_group(
    groups: State<'_, GroupsState>,
    rooms: State<'_, RoomContext>,
    settings: State<'_, SettingsState>,
    name: String,
    relay: Option<String>,
) -> Result<GroupCard, AppError> {
    let profile = current_profile(&settings).await?;
    let (relay, hosted_here) = match relay
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
    {
        Some(relay) => (relay, false),
        None => (groups.0.ensure_relay().await?, true),
    };
    let device = device_of(&rooms);
    let token = groups.0.token_on(&relay).await;
    let joined = GroupsApi::new(&relay)?
        .create(&name, &profile.display_name, &device, token.as_deref())
        .await?;
    groups.0.add_membership(&relay, joined, hosted_here).await
}

/// Check a group invite without joining.
#[tauri::command]
#[specta::specta]
pub fn parse_group_invite(text: String) -> Result<String, AppError> {
    Ok(GroupInvite::parse(&text)?.short())
}

/// Join a group by its invite link or code.
#[tauri::command]
#[specta::specta]
pub async fn join_group(
    groups: State<'_, GroupsState>,
    rooms: State<'_, RoomContext>,
    settings: State<'_, SettingsState>,
    invite: String,
) -> Result<GroupCard, AppError> {
    let profile = current_profile(&settings).await?;
    let invite = GroupInvite::parse(&invite)?;
    let device = device_of(&rooms);
    let token = groups.0.token_on(&invite.relay).await;
    let joined = GroupsApi::new(&invite.relay)?
        .join(
            &invite.code,
            &profile.display_name,
            &device,
            token.as_deref(),
        )
        .await?;
    let hosted_here = groups
        .0
        .inner
        .lock()
        .await
        .relay
        .as_ref()
        .is_some_and(|r| r.addr().to_string() == invite.relay);
    groups
        .0
        .add_membership(&invite.relay, joined, hosted_here)
        .await
}

/// Leave a group (its owner deletes it instead).
#[tauri::command]
#[specta::specta]
pub async fn leave_group(groups: State<'_, GroupsState>, group: String) -> Result<(), AppError> {
    let m = groups.0.membership(&group).await?;
    let api = GroupsApi::new(&m.relay)?;
    let owner = m.last_seen.as_ref().is_some_and(|g| g.owner == m.identity);
    let done = if owner {
        api.delete(&group, &m.token).await
    } else {
        api.remove_member(&group, &m.token, &m.identity).await
    };
    match done {
        // Already gone there: forget it here too.
        Ok(()) => {}
        Err(e) if matches!(e.code(), Some("not_found" | "banned" | "forbidden")) => {}
        Err(e) => return Err(e.into()),
    }
    groups.0.forget(&group).await
}

/// The owner removes a member.
#[tauri::command]
#[specta::specta]
pub async fn remove_group_member(
    groups: State<'_, GroupsState>,
    group: String,
    identity: String,
) -> Result<(), AppError> {
    let m = groups.0.membership(&group).await?;
    GroupsApi::new(&m.relay)?
        .remove_member(&group, &m.token, &identity)
        .await?;
    groups.0.refresh(Some(&group)).await;
    Ok(())
}

/// The owner makes a new invite; the old one stops working.
#[tauri::command]
#[specta::specta]
pub async fn new_group_invite(
    groups: State<'_, GroupsState>,
    group: String,
) -> Result<GroupCard, AppError> {
    let m = groups.0.membership(&group).await?;
    let updated = GroupsApi::new(&m.relay)?
        .new_invite(&group, &m.token)
        .await?;
    {
        let mut inner = groups.0.inner.lock().await;
        super::Groups::seen(&mut inner, &m.relay, updated);
        groups.0.save(&inner)?;
    }
    groups.0.changed().await;
    groups.0.card(&group).await
}

/// Add a session: to `group`'s schedule, or (`group` null) as a personal study block.
#[tauri::command]
#[specta::specta]
pub async fn add_session(
    groups: State<'_, GroupsState>,
    group: Option<String>,
    draft: SessionDraft,
) -> Result<StudySession, AppError> {
    schedule::validate(&draft).map_err(|e| invalid(e.0))?;
    match group {
        Some(group) => {
            let m = groups.0.membership(&group).await?;
            let session = GroupsApi::new(&m.relay)?
                .add_session(&group, &m.token, &draft)
                .await?;
            groups.0.refresh(Some(&group)).await;
            Ok(session)
        }
        None => {
            let session = StudySession {
                id: hex::encode(rand::random::<[u8; 4]>()),
                by: String::new(),
                draft,
            };
            let added = session.clone();
            groups
                .0
                .save_blocks(move |blocks| {
                    if blocks.len() >= MAX_BLOCKS {
                        return Err(invalid(format!(
                            "You have {MAX_BLOCKS} study blocks, as many as the app keeps; remove some first."
                        )));
                    }
                    blocks.push(added);
                    Ok(())
                })
                .await?;
            Ok(session)
        }
    }
}

/// Replace a session (`draft`) or remove it (`draft` null).
#[tauri::command]
#[specta::specta]
pub async fn change_session(
    groups: State<'_, GroupsState>,
    group: Option<String>,
    session: String,
    draft: Option<SessionDraft>,
) -> Result<(), AppError> {
    if let Some(d) = &draft {
        schedule::validate(d).map_err(|e| invalid(e.0))?;
    }
    match group {
        Some(group) => {
            let m = groups.0.membership(&group).await?;
            GroupsApi::new(&m.relay)?
                .change_session(&group, &m.token, &session, draft.as_ref())
                .await?;
            groups.0.refresh(Some(&group)).await;
            Ok(())
        }
        None => {
            groups
                .0
                .save_blocks(move |blocks| {
                    let at = blocks
                        .iter()
                        .position(|b| b.id == session)
                        .ok_or_else(|| invalid("That study block is gone."))?;
                    match draft {
                        Some(d) => blocks[at].draft = d,
                        None => {
                            blocks.remove(at);
                        }
                    }
                    Ok(())
                })
                .await
        }
    }
}

/// Every occurrence between `from_ms` and `to_ms` (at most 400 days apart).
#[tauri::command]
#[specta::specta]
pub async fn calendar(
    groups: State<'_, GroupsState>,
    from_ms: f64,
    to_ms: f64,
) -> Result<Vec<CalendarEntry>, AppError> {
    groups.0.calendar(from_ms as u64, to_ms as u64).await
}

/// Appear offline to every group (or not).
#[tauri::command]
#[specta::specta]
pub async fn set_appear_offline(
    groups: State<'_, GroupsState>,
    hidden: bool,
) -> Result<(), AppError> {
    groups.0.set_hidden(hidden).await;
    Ok(())
}

/// Open (or join) a group's room.
#[tauri::command]
#[specta::specta]
pub async fn open_group_room(
    groups: State<'_, GroupsState>,
    rooms: State<'_, RoomContext>,
    settings: State<'_, SettingsState>,
    group: String,
    media: JoinMedia,
) -> Result<RoomSnapshot, AppError> {
    let m = groups.0.membership(&group).await?;
    let ticket = GroupsApi::new(&m.relay)?
        .room_ticket(&group, &m.token)
        .await?;
    let profile = current_profile(&settings).await?;
    let entry = crate::room::Entry {
        relay: m.relay.clone(),
        room: ticket.room,
        token: ticket.token,
        title: ticket.title,
        hosting: None,
        recent_link: None,
    };
    crate::room::join_entry(&rooms, &settings, entry, profile, media).await
}

/// Write the calendar (every group's sessions and the personal blocks) as an `.ics`
/// file; returns where, or `null` when the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn export_calendar(
    groups: State<'_, GroupsState>,
    rooms: State<'_, RoomContext>,
) -> Result<Option<String>, AppError> {
    let sessions: Vec<StudySession> = groups
        .0
        .all_sessions()
        .await
        .into_iter()
        .map(|(_, group_name, mut s)| {
            if let Some(name) = group_name {
                s.draft.title = format!("{} ({name})", s.draft.title)
                    .chars()
                    .take(schedule::MAX_TITLE_CHARS)
                    .collect();
            }
            s
        })
        .collect();
    let text = schedule::to_ics(&sessions, "Studyhall");
    let name = "studyhall-calendar.ics".to_string();
    let path = match std::env::var_os(SAVE_DIR_ENV) {
        Some(dir) => Some(PathBuf::from(dir).join(&name)),
        None => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            rooms.bridge.pick_save(
                name,
                Box::new(move |p| {
                    let _ = tx.send(p);
                }),
            );
            rx.await.ok().flatten()
        }
    };
    let Some(path) = path else { return Ok(None) };
    std::fs::write(&path, text).map_err(|e| {
        AppError::new(
            AppErrorKind::Storage,
            format!("Could not write {}: {e}", path.display()),
        )
    })?;
    Ok(Some(path.display().to_string()))
}

/// What an import added and what it left out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub added: u32,
    /// Each event left out, with why.
    pub skipped: Vec<String>,
}

/// Pick an `.ics` file and add its events: to `group`'s schedule, or as personal blocks.
/// `null` when the user cancelled.
#[tauri::command]
#[specta::specta]
pub async fn import_calendar(
    groups: State<'_, GroupsState>,
    rooms: State<'_, RoomContext>,
    group: Option<String>,
    tz: String,
) -> Result<Option<ImportReport>, AppError> {
    let path = match std::env::var_os(PICK_ENV) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            rooms.bridge.pick_calendar(Box::new(move |p| {
                let _ = tx.send(p);
            }));
            rx.await.ok().flatten()
        }
    };
    let Some(path) = path else { return Ok(None) };
    let size = std::fs::metadata(&path)
        .map_err(|e| invalid(format!("Could not read {}: {e}", path.display())))?
        .len();
    if size > MAX_ICS_BYTES as u64 {
        return Err(invalid(format!(
            "{} is {} KiB; a calendar import takes at most {} KiB.",
            path.display(),
            size.div_ceil(1024),
            MAX_ICS_BYTES / 1024
        )));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|_| invalid(format!("{} is not a calendar (.ics) file.", path.display())))?;
    let imported = schedule::from_ics(&text, &tz).map_err(|e| invalid(e.0))?;
    let mut report = ImportReport {
        added: 0,
        skipped: imported.skipped,
    };
    for (_, draft) in imported.sessions {
        let title = draft.title.clone();
        match add_session(groups.clone(), group.clone(), draft).await {
            Ok(_) => report.added += 1,
            Err(e) => report.skipped.push(format!("{title:?}: {}", e.message)),
        }
    }
    Ok(Some(report))
}
