use studyhall_protocol::{ClientMessage, FeatureRequest};
use tauri::State;

use crate::error::{AppError, AppErrorKind};
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

/// What an export may be saved as: a picture, a PDF, an SVG, JSON or CSV (poll results).
const EXPORT_TYPES: &[&str] = &["png", "pdf", "svg", "json", "zip", "csv"];

/// The largest export accepted (a board of many pages as a PDF).
const MAX_EXPORT_BYTES: usize = 64 * 1024 * 1024;

/// A safe file name for an export: the name's letters, digits, spaces, `-`, `_` and
/// `.` kept (at most 80), and its extension one of [`EXPORT_TYPES`].
fn export_name(name: &str) -> Result<String, AppError> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let ext = ext.to_ascii_lowercase();
    if !EXPORT_TYPES.contains(&ext.as_str()) {
        return Err(AppError::new(
            AppErrorKind::InvalidInput,
            format!(
                "Exports are saved as {}; not as \"{ext}\".",
                EXPORT_TYPES.join(", ")
            ),
        ));
    }
    let stem: String = stem
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .take(80)
        .collect();
    let stem = stem.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let stem = if stem.is_empty() {
        "studyhall-export"
    } else {
        stem
    };
    Ok(format!("{stem}.{ext}"))
}

/// `dir/name`, or `dir/name (2)`, `(3)`, ... when that is taken.
fn unused_path(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}).{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Save an export made by the UI (a whiteboard page as PNG, the board as PDF) in the
/// Downloads folder under `name` (made safe, never overwriting); returns where.
#[tauri::command]
#[specta::specta]
pub fn save_export(name: String, data_base64: String) -> Result<String, AppError> {
    use base64::Engine as _;
    let name = export_name(&name)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data_base64.as_bytes())
        .map_err(|e| {
            AppError::new(
                AppErrorKind::InvalidInput,
                format!("The export is not readable: {e}"),
            )
        })?;
    if bytes.len() > MAX_EXPORT_BYTES {
        return Err(AppError::new(
            AppErrorKind::InvalidInput,
            format!(
                "The export is larger than {} MiB.",
                MAX_EXPORT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let dir = dirs::download_dir()
        .filter(|d| d.is_dir())
        .or_else(dirs::home_dir)
        .ok_or_else(|| AppError::new(AppErrorKind::Storage, "No folder to save the export in."))?;
    let path = unused_path(&dir, &name);
    std::fs::write(&path, bytes).map_err(|e| {
        AppError::new(
            AppErrorKind::Storage,
            format!("Cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_names_are_made_safe_and_never_overwrite() {
        assert_eq!(export_name("Board page 1.PNG").unwrap(), "Board page 1.png");
        assert_eq!(
            export_name("../../etc/passwd.pdf").unwrap(),
            "etcpasswd.pdf"
        );
        assert_eq!(export_name("\u{202e}gnp.exe.png").unwrap(), "gnp.exe.png");
        assert_eq!(export_name(".png").unwrap(), "studyhall-export.png");
        assert!(export_name("run.sh").is_err());
        assert!(export_name("noext").is_err());
        let dir = tempfile::tempdir().unwrap();
        let first = unused_path(dir.path(), "b.png");
        std::fs::write(&first, b"x").unwrap();
        let second = unused_path(dir.path(), "b.png");
        assert_eq!(second.file_name().unwrap(), "b (2).png");
    }
}
