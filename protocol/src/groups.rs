//! Study groups: a name, members, one standing room, a schedule of study sessions, and
//! the presence of the members (online, in which room, focusing or on a break).
//!
//! A group lives on the relay that serves it. Groups are managed over HTTP (JSON bodies,
//! `Authorization: Bearer <group token>`; see `docs/protocol.md`); presence comes over
//! one WebSocket per user and relay ([`PRESENCE_PATH`]), whatever number of groups it
//! watches there.
//!
//! Who is who: joining or creating a group gives a **group token** (a JWT for the
//! audience `studyhall-groups`, one per group) and an identity on that relay. Passing a
//! group token of the same relay when joining another group keeps the same identity, so
//! a member is one person across their groups there. A group token is never a room
//! token: the group's room is entered with a room token bought at [`GROUP_ROOM_PATH`].

use serde::{Deserialize, Serialize};

use crate::schedule::StudySession;

/// `POST`: create a group ([`CreateGroup`] → [`GroupJoined`]).
pub const GROUPS_PATH: &str = "/v1/groups";
/// `POST`: join a group by its invite code ([`JoinGroup`] → [`GroupJoined`]).
pub const GROUP_JOIN_PATH: &str = "/v1/groups/join";
/// `GET`: the group as a member sees it ([`Group`]). `DELETE` (the owner): delete it.
pub const GROUP_PATH: &str = "/v1/groups/{group}";
/// `DELETE`: the owner removes a member, or a member leaves (their own identity).
pub const GROUP_MEMBER_PATH: &str = "/v1/groups/{group}/members/{identity}";
/// `POST` (the owner): a new invite code; the old one stops working.
pub const GROUP_INVITE_PATH: &str = "/v1/groups/{group}/invite";
/// `POST`: add a session to the group's schedule ([`crate::schedule::SessionDraft`]).
pub const GROUP_SESSIONS_PATH: &str = "/v1/groups/{group}/sessions";
/// `PUT`: replace a session (its draft); `DELETE`: remove it. The owner, or whoever
/// added it.
pub const GROUP_SESSION_PATH: &str = "/v1/groups/{group}/sessions/{session}";
/// `POST`: a room token for the group's standing room ([`RoomTicket`]).
pub const GROUP_ROOM_PATH: &str = "/v1/groups/{group}/room";
/// The presence WebSocket: [`PresenceClient`] in, [`PresenceServer`] out.
pub const PRESENCE_PATH: &str = "/v1/presence";

/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 60;
/// Most members of one group.
pub const MAX_MEMBERS: usize = 200;
/// Most sessions in one group's schedule.
pub const MAX_SESSIONS: usize = 100;
/// Most groups one presence socket watches.
pub const MAX_WATCHED_GROUPS: usize = 100;
/// Characters of an invite code, without the dash and the `G-` in front.
pub const INVITE_CODE_LEN: usize = 8;

/// A group as its members see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Group {
    /// The relay's id for it: `g` and 12 lowercase hex digits.
    pub id: String,
    pub name: String,
    /// The name of its standing room on this relay.
    pub room: String,
    /// The identity of its owner.
    pub owner: String,
    /// Members, the owner first, then by when they joined.
    pub members: Vec<GroupMember>,
    /// The group's sessions, in the order they were added.
    pub sessions: Vec<StudySession>,
    /// The invite code, shown `G-K7QX-29FD`: anyone holding it may join.
    pub invite: String,
    /// When it was created, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub created_at: u64,
}

/// One member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GroupMember {
    pub identity: String,
    pub name: String,
    /// When they joined, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub joined_at: u64,
}

/// `POST /v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// The group's name: 1–60 characters, not blank, no control characters.
    pub name: String,
    /// The creator's display name in it.
    pub your_name: String,
    /// The creator's device (its app's own id): a removal holds against it.
    pub device: String,
    /// A group token of this relay the creator holds already: its identity is kept.
    #[serde(default)]
    pub token: Option<String>,
}

/// `POST /v1/groups/join`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinGroup {
    /// The invite code, as typed (`G-` and dashes optional, any case).
    pub code: String,
    /// The display name to show in the group.
    pub name: String,
    pub device: String,
    /// A group token of this relay: its identity is kept.
    #[serde(default)]
    pub token: Option<String>,
}

/// The answer to creating or joining: the group, the member's identity on this relay,
/// and a group token (keep it; it lasts [`GROUP_TOKEN_DAYS`] and is renewed by
/// `GET /v1/groups/{group}`, whose answer carries a fresh one in `studyhall-token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupJoined {
    pub group: Group,
    pub identity: String,
    pub token: String,
    /// When the token expires, ms since the Unix epoch.
    pub expires_at: u64,
}

/// Days a group token lasts.
pub const GROUP_TOKEN_DAYS: u64 = 90;

/// A room token for a group's room: enter it with `join` on the room socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomTicket {
    pub room: String,
    /// The group's name, the room's title.
    pub title: String,
    pub token: String,
    /// Whether the token makes its holder a host (the group's owner).
    pub host: bool,
    pub expires_at: u64,
}

/// Whether a member is reachable, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// No presence socket and no room, or the member chose to appear offline.
    Offline,
    /// Their app is open (a presence socket), not in a room.
    Online,
    /// In a room on this relay ([`MemberPresence::room`]).
    InRoom,
}

/// The room a member is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RoomPresence {
    pub room: String,
    /// The group whose room it is, when it is a group's standing room the watcher
    /// belongs to. Other rooms are named by their room name only.
    #[serde(default)]
    pub group: Option<String>,
}

/// The focus timer of the room a member is in, while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FocusPresence {
    /// `focus`, `short_break` or `long_break` (the timer's phases).
    pub phase: crate::timer::Phase,
    /// When the phase ends (ms since the Unix epoch); `null` while paused.
    #[cfg_attr(feature = "specta", specta(type = Option<f64>))]
    pub ends_at: Option<u64>,
}

/// One member's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MemberPresence {
    pub identity: String,
    pub status: PresenceStatus,
    #[serde(default)]
    pub room: Option<RoomPresence>,
    #[serde(default)]
    pub focus: Option<FocusPresence>,
}

impl MemberPresence {
    pub fn offline(identity: &str) -> Self {
        MemberPresence {
            identity: identity.to_string(),
            status: PresenceStatus::Offline,
            room: None,
            focus: None,
        }
    }
}

/// Frames a client sends on the presence socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PresenceClient {
    /// The first frame: the group tokens to watch with (at most [`MAX_WATCHED_GROUPS`]),
    /// and whether to appear offline. Sending it again replaces the set.
    Watch {
        tokens: Vec<String>,
        #[serde(default)]
        hidden: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// Appear offline (or not) to every group, from now on.
    SetHidden {
        hidden: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// Liveness: answered with `pong`.
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

/// A token of a `watch` that was refused, by its place in `tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedToken {
    pub index: u32,
    /// `token_missing`, `token_invalid`, `token_expired`, `not_found` (no such group),
    /// `banned` (removed by the owner), `forbidden` (not a member, or left) or
    /// `storage_unavailable`.
    pub code: crate::ErrorCode,
    pub message: String,
}

/// Frames the relay sends on the presence socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PresenceServer {
    /// The answer to `watch`: the groups, every member's presence, and the tokens that
    /// were refused.
    Watching {
        groups: Vec<Group>,
        presence: Vec<MemberPresence>,
        #[serde(default)]
        refused: Vec<RefusedToken>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// A member's presence changed (for every group of theirs the socket watches).
    Presence { presence: MemberPresence },
    /// A watched group changed (members, sessions, name, invite).
    GroupUpdated { group: Group },
    /// A watched group is gone for this socket: `removed` (its owner removed you, or you
    /// left) or `deleted`.
    GroupGone { group: String, reason: String },
    /// The answer to `set_hidden`.
    Ack { request_id: String },
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// As on the room socket: `fatal` errors are followed by a close.
    Error {
        code: crate::ErrorCode,
        message: String,
        #[serde(default)]
        fatal: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        /// With `rate_limited`: how long to wait before sending again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

impl PresenceClient {
    /// The `type`s a client may send on the presence socket.
    pub const TYPES: &'static [&'static str] = &["watch", "set_hidden", "ping"];
}

/// Check a group name (trimmed by the caller): what is wrong with it, for an error.
pub fn check_group_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a group needs a name".into());
    }
    if name.chars().count() > MAX_GROUP_NAME_CHARS {
        return Err(format!(
            "a group name is at most {MAX_GROUP_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a group name may not contain control characters".into());
    }
    Ok(())
}

/// Whether `id` has the shape of a group id (`g` and 12 lowercase hex digits).
pub fn is_group_id(id: &str) -> bool {
    id.len() == 13
        && id.starts_with('g')
        && id[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The standing room of group `id`.
pub fn group_room(id: &str) -> String {
    format!("group-{id}")
}

/// An invite code as typed (any case, dashes, spaces, `G-` in front or not; O for 0, I
/// and L for 1) in its stored form, 8 characters of Crockford base32.
pub fn normalize_invite(code: &str) -> Option<String> {
    const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let code = code.trim();
    let code = code
        .strip_prefix("G-")
        .or_else(|| code.strip_prefix("g-"))
        .unwrap_or(code);
    let mut out = String::new();
    for c in code.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if ALPHABET.contains(c) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > INVITE_CODE_LEN {
            return None;
        }
    }
    (out.len() == INVITE_CODE_LEN).then_some(out)
}

/// A stored code as shown: `G-K7QX-29FD`.
pub fn display_invite(code: &str) -> String {
    if code.len() == INVITE_CODE_LEN {
        format!("G-{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_read_as_typed() {
        assert_eq!(normalize_invite("G-K7QX-29FD").as_deref(), Some("K7QX29FD"));
        assert_eq!(
            normalize_invite(" g-k7qx 29fd ").as_deref(),
            Some("K7QX29FD")
        );
        assert_eq!(normalize_invite("k7qx-29fo").as_deref(), Some("K7QX29F0"));
        assert_eq!(normalize_invite("K7QX29FDX"), None);
        assert_eq!(normalize_invite("K7QX-29F"), None);
        assert_eq!(normalize_invite("K7QX-29F!"), None);
        assert_eq!(display_invite("K7QX29FD"), "G-K7QX-29FD");
    }

    #[test]
    fn names_and_ids() {
        assert!(check_group_name("Linear Algebra").is_ok());
        assert!(check_group_name("  ").is_err());
        assert!(check_group_name(&"x".repeat(61)).is_err());
        assert!(check_group_name("a\u{7}b").is_err());
        assert!(is_group_id("g0123456789ab"));
        assert!(!is_group_id("g0123456789aB"));
        assert!(!is_group_id("x0123456789ab"));
        assert_eq!(group_room("g0123456789ab"), "group-g0123456789ab");
    }

    #[test]
    fn presence_frames_round_trip() {
        let watch: PresenceClient =
            serde_json::from_str(r#"{"type":"watch","tokens":["a"],"hidden":true}"#).unwrap();
        assert_eq!(
            watch,
            PresenceClient::Watch {
                tokens: vec!["a".into()],
                hidden: true,
                request_id: None
            }
        );
        assert!(serde_json::from_str::<PresenceClient>(r#"{"type":"watch"}"#).is_err());
        // Fields a newer client adds are ignored.
        assert!(serde_json::from_str::<PresenceClient>(r#"{"type":"ping","later":1}"#).is_ok());
        let out = serde_json::to_value(PresenceServer::Presence {
            presence: MemberPresence::offline("m-1"),
        })
        .unwrap();
        assert_eq!(out["type"], "presence");
        assert_eq!(out["presence"]["status"], "offline");
    }
}
