//! Materials: slides, notes and files shared with a room and kept with its history.
//!
//! The bytes never travel over the room's socket. A file is uploaded over HTTP
//! (`POST /v1/rooms/{room}/materials?name=…`, see `docs/protocol.md`), and the relay answers with the
//! [`Material`] it stored. The uploader then sends [`MaterialRequest::MaterialShare`]
//! over the socket: the relay posts the file in chat as an attachment message and tells
//! everyone with [`MaterialEvent::MaterialAdded`]. A joiner gets the room's materials in
//! `joined.features.materials`. Downloads are HTTP too
//! (`GET /v1/rooms/{room}/materials/{id}`, with `Range`).
//!
//! Who may upload: the host and presenters, or everyone when the host allows it
//! ([`MaterialRequest::MaterialsOptions`]). Who may delete a file: the host, presenters
//! and whoever uploaded it.

use serde::{Deserialize, Serialize};

/// Where a room's files are listed (`GET`) and uploaded (`POST`, `?name=`), and with
/// `/{id}` downloaded (`GET`); `{room}` is the room's name, percent-encoded.
pub const MATERIALS_PATH: &str = "/v1/rooms/{room}/materials";
/// Longest file name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;
/// Largest file by default (the relay's `max_upload_bytes`).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// A room's files together, by default (the relay's `room_materials_quota_bytes`).
pub const DEFAULT_ROOM_QUOTA_BYTES: u64 = 1024 * 1024 * 1024;
/// Most files a room keeps.
pub const MAX_MATERIALS_PER_ROOM: usize = 500;
/// Uploads one person may have under way at once, by default.
pub const DEFAULT_UPLOADS_AT_ONCE: u32 = 2;

/// One shared file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Material {
    /// The relay's id for it: 32 lowercase hex digits. The file is stored under it.
    pub id: String,
    /// The name the uploader gave, for display only (never a path).
    pub name: String,
    /// Bytes.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub size: u64,
    /// The type the relay found in the content (never taken from the name), such as
    /// `application/pdf` or `text/plain`.
    pub mime: String,
    /// SHA-256 of the content, 64 lowercase hex digits: check a download against it.
    pub sha256: String,
    /// Who shared it (identity) and their display name then.
    pub by: String,
    pub by_name: String,
    /// When it was stored, ms since the Unix epoch.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub at: u64,
}

/// What a room's materials look like to a joiner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MaterialsState {
    /// The files, oldest first.
    #[serde(default)]
    pub items: Vec<Material>,
    /// Everyone may upload (not only the host and presenters).
    #[serde(default)]
    pub anyone_uploads: bool,
    /// The relay's limits: one file, the room's files together (and how much of that is
    /// used), and uploads under way per person.
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub max_file_bytes: u64,
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub quota_bytes: u64,
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub used_bytes: u64,
    #[serde(default)]
    pub uploads_at_once: u32,
}

/// Requests of the materials feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MaterialRequest {
    /// The uploader, after the upload: tell the room. The file is posted in chat as an
    /// attachment message and everyone gets `material_added`; the answer is `ack`.
    /// Sending it again changes nothing and tells nobody (the chat message is posted
    /// once).
    MaterialShare { id: String },
    /// The host, presenters and the uploader: delete a file (its bytes and its entry).
    /// Everyone gets `material_removed`; the chat message stays.
    MaterialDelete { id: String },
    /// The host: let everyone upload, or only the host and presenters.
    MaterialsOptions { anyone_uploads: bool },
}

impl MaterialRequest {
    pub const TYPES: &'static [&'static str] =
        &["material_share", "material_delete", "materials_options"];

    pub fn kind(&self) -> &'static str {
        match self {
            MaterialRequest::MaterialShare { .. } => "material_share",
            MaterialRequest::MaterialDelete { .. } => "material_delete",
            MaterialRequest::MaterialsOptions { .. } => "materials_options",
        }
    }
}

/// Events of the materials feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MaterialEvent {
    /// A file was shared. Add it by `id`: a repeat replaces, never duplicates.
    /// (`request_id` is never set by this relay; it is kept for compatibility.)
    MaterialAdded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
        material: Material,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        used_bytes: u64,
    },
    /// A file was deleted by `by`.
    MaterialRemoved {
        id: String,
        by: String,
        #[cfg_attr(feature = "specta", specta(type = u32))]
        used_bytes: u64,
    },
    /// Who may upload changed (answers `materials_options`).
    MaterialsAccess { anyone_uploads: bool, by: String },
}

impl MaterialEvent {
    pub const TYPES: &'static [&'static str] =
        &["material_added", "material_removed", "materials_access"];
}

/// A file attached to a chat message (the message's `text` names it too, for clients
/// that do not show attachments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Attachment {
    /// The material's id: download it from `/v1/rooms/{room}/materials/{id}`.
    pub id: String,
    pub name: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub size: u64,
    pub mime: String,
}

impl From<&Material> for Attachment {
    fn from(m: &Material) -> Self {
        Attachment {
            id: m.id.clone(),
            name: m.name.clone(),
            size: m.size,
            mime: m.mime.clone(),
        }
    }
}

/// Whether `id` has the shape of a material id (32 lowercase hex digits): anything else
/// is refused before it is looked up, and never reaches a path.
pub fn is_material_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C): a name
/// holding one can show an extension that is not its own (`report<U+202E>fdp.exe`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Check a file name given for display: the trimmed name, or why it is refused. A name
/// is one path component of at most [`MAX_NAME_BYTES`]: no `/` or `\`, not `.` or
/// `..`, no control characters and no bidirectional controls. Look-alike letters are
/// kept (the name is only shown; the type comes from the content).
pub fn check_file_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the file name is empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "the file name is {} bytes; the limit is {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a file name"));
    }
    if let Some(c) = name.chars().find(|c| *c == '/' || *c == '\\') {
        return Err(format!(
            "the file name holds `{c}`: give a name, not a path"
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the file name holds the control character U+{:04X}",
            c as u32
        ));
    }
    if let Some(c) = name.chars().find(|c| is_bidi_control(*c)) {
        return Err(format!(
            "the file name holds the bidirectional control U+{:04X}, which can disguise its extension",
            c as u32
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_component_without_controls() {
        assert_eq!(check_file_name("  notes.pdf ").unwrap(), "notes.pdf");
        assert_eq!(
            check_file_name("Тема 1 — лекция.pdf").unwrap(),
            "Тема 1 — лекция.pdf"
        );
        for bad in [
            "",
            "   ",
            ".",
            "..",
            "../etc/passwd",
            "/etc/passwd",
            "a\\b.txt",
            "C:\\Windows\\x.pdf",
            "a\0b",
            "line\nbreak.txt",
            "tab\there",
            "report\u{202E}fdp.exe",
            "x\u{2066}.pdf",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad:?} was accepted");
        }
        let long = "a".repeat(10_000);
        assert!(check_file_name(&long).unwrap_err().contains("10000 bytes"));
        assert!(check_file_name(&"é".repeat(128)).is_err(), "256 bytes");
        assert!(check_file_name(&"é".repeat(127)).is_ok());
    }

    #[test]
    fn ids_are_32_lowercase_hex_digits() {
        assert!(is_material_id("0123456789abcdef0123456789abcdef"));
        for bad in [
            "",
            "0123456789ABCDEF0123456789abcdef",
            "../../../../etc/passwd0000000000",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
        ] {
            assert!(!is_material_id(bad), "{bad}");
        }
    }

    #[test]
    fn requests_and_events_round_trip() {
        let r: MaterialRequest =
            serde_json::from_str(r#"{"type":"materials_options","anyone_uploads":true}"#).unwrap();
        assert_eq!(r.kind(), "materials_options");
        let e = MaterialEvent::MaterialRemoved {
            id: "x".into(),
            by: "h".into(),
            used_bytes: 3,
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.contains(r#""type":"material_removed""#));
        assert_eq!(serde_json::from_str::<MaterialEvent>(&text).unwrap(), e);
    }
}
