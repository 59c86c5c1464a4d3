use serde::Serialize;
use tauri::{AppHandle, Runtime};

/// The app's identity as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
pub fn app_info<R: Runtime>(app: AppHandle<R>) -> AppInfo {
    let package = app.package_info();
    AppInfo {
        name: package.name.clone(),
        version: package.version.to_string(),
        protocol_version: studyhall_protocol::PROTOCOL_VERSION,
    }
}
