use serde::Serialize;
use tauri::State;

/// The app's identity as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Product name from `tauri.conf.json`.
    pub name: String,
    /// App version (the Cargo package version).
    pub version: String,
    /// Signaling protocol version this build speaks.
    pub protocol_version: u32,
}

/// Returns the app's name and versions. Cannot fail.
#[tauri::command]
#[specta::specta]
pub fn app_info(info: State<'_, AppInfo>) -> AppInfo {
    info.inner().clone()
}
