//! Polls prepared before the lecture: the app keeps them as drafts in its data
//! directory (`poll-drafts.json`), each checked as the relay would check it, so a draft
//! saved here launches without surprise.

use std::path::Path;

use studyhall_protocol::polls::check_draft;
use studyhall_protocol::PollDraft;
use tauri::State;

use crate::error::{AppError, AppErrorKind};
use crate::room::RoomContext;

/// The file, in the app's data directory.
pub const FILE: &str = "poll-drafts.json";
/// Drafts kept at most.
pub const MAX_DRAFTS: usize = 50;

fn storage(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        AppErrorKind::Storage,
        format!("The poll drafts could not be saved: {e}"),
    )
}

/// The drafts kept in `dir` (none when there is no file; an unreadable file is
/// reported, not silently emptied).
pub fn load(dir: &Path) -> Result<Vec<PollDraft>, AppError> {
    let text = match std::fs::read_to_string(dir.join(FILE)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(AppError::new(
                AppErrorKind::Storage,
                format!("The poll drafts could not be read: {e}"),
            ))
        }
    };
    serde_json::from_str(&text).map_err(|e| {
        AppError::new(
            AppErrorKind::Storage,
            format!("The poll drafts file ({FILE}) is damaged: {e}"),
        )
    })
}

/// Keep `drafts` in `dir`, replacing what was there (written whole, then renamed).
pub fn save(dir: &Path, drafts: &[PollDraft]) -> Result<(), AppError> {
    if drafts.len() > MAX_DRAFTS {
        return Err(AppError::new(
            AppErrorKind::InvalidInput,
            format!("At most {MAX_DRAFTS} poll drafts are kept."),
        ));
    }
    // Kept as the relay will take them: trimmed.
    let drafts: Vec<PollDraft> = drafts
        .iter()
        .map(|d| PollDraft {
            question: d.question.trim().to_string(),
            options: d.options.iter().map(|o| o.trim().to_string()).collect(),
            ..d.clone()
        })
        .collect();
    for (i, draft) in drafts.iter().enumerate() {
        check_draft(draft).map_err(|(_, m)| {
            AppError::new(AppErrorKind::InvalidInput, format!("Draft {}: {m}", i + 1))
        })?;
    }
    std::fs::create_dir_all(dir).map_err(storage)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&drafts).map_err(storage)?).map_err(storage)?;
    std::fs::rename(&tmp, dir.join(FILE)).map_err(storage)
}

/// The poll drafts this app keeps.
#[tauri::command]
#[specta::specta]
pub fn poll_drafts(state: State<'_, RoomContext>) -> Result<Vec<PollDraft>, AppError> {
    load(&state.data_dir)
}

/// Keep these poll drafts (all of them, in order), replacing the ones kept.
#[tauri::command]
#[specta::specta]
pub fn save_poll_drafts(
    state: State<'_, RoomContext>,
    drafts: Vec<PollDraft>,
) -> Result<(), AppError> {
    save(&state.data_dir, &drafts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use studyhall_protocol::PollKind;

    fn draft(q: &str) -> PollDraft {
        PollDraft {
            question: q.into(),
            options: vec!["yes".into(), "no".into()],
            kind: PollKind::Single,
            anonymous: true,
        }
    }

    #[test]
    fn drafts_are_kept_checked_and_a_damaged_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_empty());
        save(dir.path(), &[draft("Ready?"), draft("Break now?")]).unwrap();
        assert_eq!(load(dir.path()).unwrap()[1].question, "Break now?");

        let mut bad = draft("One option");
        bad.options.pop();
        let e = save(dir.path(), &[draft("ok"), bad]).unwrap_err();
        assert_eq!(e.kind, AppErrorKind::InvalidInput);
        assert!(e.message.starts_with("Draft 2: options"), "{}", e.message);
        assert_eq!(
            load(dir.path()).unwrap().len(),
            2,
            "a refused save keeps the old drafts"
        );
        let many: Vec<_> = (0..=MAX_DRAFTS).map(|i| draft(&format!("q{i}"))).collect();
        assert!(save(dir.path(), &many).is_err());

        // Kept trimmed, as the relay takes them: a full-length option with spaces around
        // it is fine.
        let mut spaced = draft("  Spaced?  ");
        spaced.options[0] = format!(
            " {} ",
            "o".repeat(studyhall_protocol::polls::MAX_OPTION_BYTES)
        );
        save(dir.path(), &[spaced]).unwrap();
        assert_eq!(load(dir.path()).unwrap()[0].question, "Spaced?");

        std::fs::write(dir.path().join(FILE), "{broken").unwrap();
        assert_eq!(load(dir.path()).unwrap_err().kind, AppErrorKind::Storage);
    }
}
