//! The one error type commands reject with: a kind the UI can branch on and a message
//! written for people.

use serde::Serialize;
use studyhall_client::host::HostError;
use studyhall_client::invite::InviteError;
use studyhall_client::media::MediaError;
use studyhall_client::session::SessionError;
use studyhall_client::signal::SignalError;
use studyhall_protocol::ErrorCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum AppErrorKind {
    RelayUnreachable,
    InviteInvalid,
    InviteNotFound,
    TokenExpired,
    RoomFull,
    /// The host locked the room: it takes no new people now.
    RoomLocked,
    Kicked,
    NotInRoom,
    AlreadyInRoom,
    DeviceUnavailable,
    HostingFailed,
    InvalidInput,
    RateLimited,
    Timeout,
    Refused,
    Storage,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct AppError {
    pub kind: AppErrorKind,
    pub message: String,
}

impl AppError {
    pub fn new(kind: AppErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
        }
    }

    pub fn not_in_room() -> Self {
        AppError::new(AppErrorKind::NotInRoom, "You are not in a room.")
    }
}

/// What a person is told when a locked room does not take them.
const ROOM_LOCKED: &str =
    "This room is locked: the host is not taking new people right now. Ask the host to open it.";

fn from_code(code: ErrorCode, message: String) -> AppError {
    let kind = match code {
        ErrorCode::TokenExpired => AppErrorKind::TokenExpired,
        ErrorCode::TokenInvalid | ErrorCode::TokenMissing | ErrorCode::TokenWrongRoom => {
            AppErrorKind::InviteInvalid
        }
        ErrorCode::RoomFull => AppErrorKind::RoomFull,
        ErrorCode::RoomLocked => AppErrorKind::RoomLocked,
        ErrorCode::Banned => AppErrorKind::Kicked,
        ErrorCode::RateLimited => AppErrorKind::RateLimited,
        ErrorCode::MessageTooLarge | ErrorCode::InvalidText | ErrorCode::InvalidId => {
            AppErrorKind::InvalidInput
        }
        _ => AppErrorKind::Refused,
    };
    let message = match code {
        ErrorCode::TokenExpired => "Your invite has expired. Ask the host for a new one.".into(),
        ErrorCode::RoomFull => format!("The room is full. {message}"),
        ErrorCode::RoomLocked => ROOM_LOCKED.into(),
        ErrorCode::Banned => "The host removed you from this room.".into(),
        _ => message,
    };
    AppError::new(kind, message)
}

impl From<InviteError> for AppError {
    fn from(e: InviteError) -> Self {
        match e {
            InviteError::Invalid(m) => AppError::new(AppErrorKind::InviteInvalid, m),
            InviteError::Unreachable { relay, reason } => AppError::new(
                AppErrorKind::RelayUnreachable,
                format!(
                    "Can't reach the room's host at {relay} ({reason}). Check that you are on \
                     the same network and that the room is still open."
                ),
            ),
            InviteError::Refused { code, message, .. } => match code.as_str() {
                "invite_not_found" => AppError::new(
                    AppErrorKind::InviteNotFound,
                    "This invite is not valid any more: it may have expired, or the room has \
                     ended. Ask the host for a new one.",
                ),
                "rate_limited" => AppError::new(AppErrorKind::RateLimited, message),
                "room_locked" => AppError::new(AppErrorKind::RoomLocked, ROOM_LOCKED),
                "invalid_field" => AppError::new(AppErrorKind::InvalidInput, message),
                _ => AppError::new(AppErrorKind::Refused, message),
            },
            InviteError::BadResponse(m) => AppError::new(
                AppErrorKind::RelayUnreachable,
                format!("The address in the invite does not answer like a Studyhall room: {m}"),
            ),
        }
    }
}

impl From<studyhall_client::groups::GroupsError> for AppError {
    fn from(e: studyhall_client::groups::GroupsError) -> Self {
        use studyhall_client::groups::GroupsError;
        match e {
            GroupsError::Invalid(m) => AppError::new(AppErrorKind::InviteInvalid, m),
            GroupsError::Unreachable(m) => AppError::new(
                AppErrorKind::RelayUnreachable,
                format!(
                    "Can't reach the group's relay ({m}). Check that you are on the same network \
                     and that whoever keeps the group has Studyhall open."
                ),
            ),
            GroupsError::Refused { code, message, .. } => match code.as_str() {
                "invite_not_found" => AppError::new(
                    AppErrorKind::InviteNotFound,
                    "This group invite is not valid any more: the owner may have made a new \
                     one. Ask them for it.",
                ),
                "banned" => AppError::new(
                    AppErrorKind::Kicked,
                    "The group's owner removed you from this group.",
                ),
                "rate_limited" => AppError::new(AppErrorKind::RateLimited, message),
                "token_expired" => AppError::new(
                    AppErrorKind::TokenExpired,
                    "Your place in this group has expired; join it again with its invite.",
                ),
                "invalid_field" => AppError::new(AppErrorKind::InvalidInput, message),
                _ => AppError::new(AppErrorKind::Refused, message),
            },
        }
    }
}

impl From<MediaError> for AppError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::Signal(SignalError::Refused { code, message }) => from_code(code, message),
            MediaError::Signal(SignalError::Connect { url, message }) => AppError::new(
                AppErrorKind::RelayUnreachable,
                format!("Can't reach the room at {url}: {message}"),
            ),
            MediaError::Signal(SignalError::Timeout(_)) | MediaError::Timeout(_) => {
                AppError::new(AppErrorKind::Timeout, e.to_string())
            }
            MediaError::Source(m) => AppError::new(AppErrorKind::DeviceUnavailable, m),
            other => AppError::new(AppErrorKind::Internal, other.to_string()),
        }
    }
}

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::NotConnected => AppError::new(AppErrorKind::Timeout, e.to_string()),
            SessionError::Ended => AppError::not_in_room(),
            SessionError::Refused { code, message } => from_code(code, message),
            SessionError::Timeout(_) => AppError::new(AppErrorKind::Timeout, e.to_string()),
            SessionError::Media(m) => AppError::new(AppErrorKind::DeviceUnavailable, m),
        }
    }
}

impl From<HostError> for AppError {
    fn from(e: HostError) -> Self {
        AppError::new(
            AppErrorKind::HostingFailed,
            format!("Could not start the room on this computer: {e}"),
        )
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::new(
            AppErrorKind::Storage,
            format!("Could not read or save your settings: {e}"),
        )
    }
}
