use std::sync::Arc;

use tauri::State;

use super::{Study, StudySummary};
use crate::error::{AppError, AppErrorKind};

/// The study record, managed by Tauri (the room side holds a clone to record with).
pub struct StudyState(pub Arc<Study>);

/// Totals per day and room, streaks and the daily goal, for the Study page.
#[tauri::command]
#[specta::specta]
pub fn study_summary(state: State<'_, StudyState>) -> Result<StudySummary, AppError> {
    state.0.summary()
}

/// Set the daily goal (5 to 960 minutes).
#[tauri::command]
#[specta::specta]
pub fn set_study_goal(
    state: State<'_, StudyState>,
    minutes: u32,
) -> Result<StudySummary, AppError> {
    state.0.set_goal_minutes(minutes)?;
    state.0.summary()
}

/// The user has read the notice that the record was started afresh.
#[tauri::command]
#[specta::specta]
pub fn dismiss_study_notice(state: State<'_, StudyState>) {
    state.0.dismiss_notice();
}

/// Write the whole record as CSV into the Downloads folder (or, without one, the
/// app's data folder); resolves with the file's path.
#[tauri::command]
#[specta::specta]
pub fn export_study_csv(state: State<'_, StudyState>) -> Result<String, AppError> {
    let csv = state.0.csv()?;
    let dir = dirs::download_dir()
        .filter(|d| d.is_dir())
        .or_else(|| state.0.path().parent().map(|p| p.to_path_buf()))
        .ok_or_else(|| AppError::new(AppErrorKind::Storage, "No folder to save the export in."))?;
    let name = format!(
        "studyhall-study-{}.csv",
        chrono::Local::now().format("%Y-%m-%d")
    );
    let path = dir.join(name);
    std::fs::write(&path, csv).map_err(|e| {
        AppError::new(
            AppErrorKind::Storage,
            format!("Cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(path.display().to_string())
}
