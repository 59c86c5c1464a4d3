//! The Studyhall desktop app: the Tauri shell around the web UI in `ui/`.
//!
//! This crate owns the window, the IPC commands the UI may call and their wiring; it is
//! thin glue. Domain logic (protocol types, the signaling client, media) lives in the
//! library crates of the workspace and is tested there.
//!
//! Invariants:
//! - commands live in feature modules (`<feature>/commands.rs`), never at the crate root,
//!   and are all registered by [`with_commands`], so the app and the tests see the same set;
//! - a command that can fail returns a serializable error enum, not a `String`.

mod about;

use tauri::{Builder, Runtime};

/// Starts the app and blocks until its last window closes.
///
/// # Panics
///
/// Panics if the window system or the webview cannot be initialised.
pub fn run() {
    with_commands(Builder::default())
        .run(tauri::generate_context!())
        .expect("failed to run the Studyhall app");
}

/// Registers every IPC command on `builder`.
fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![about::commands::app_info])
}

#[cfg(test)]
mod tests {
    use super::with_commands;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::WebviewWindowBuilder;

    /// Calls `cmd` with no arguments through the IPC layer, as the UI's `invoke` would.
    fn invoke(cmd: &str) -> Result<serde_json::Value, serde_json::Value> {
        // The real context (tauri.conf.json, capabilities) on the mock runtime, so the
        // test also checks that the configured `main` window may call the command.
        let app = with_commands(mock_builder())
            .build(tauri::generate_context!())
            .expect("build the app on the mock runtime");
        // Config windows are only opened by `run`, which a test does not call.
        let main_window = app
            .config()
            .app
            .windows
            .iter()
            .find(|window| window.label == "main")
            .expect("tauri.conf.json declares the main window")
            .clone();
        let webview = WebviewWindowBuilder::from_config(&app, &main_window)
            .and_then(|builder| builder.build())
            .expect("open the main window on the mock runtime");
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("valid URL"),
            body: InvokeBody::default(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&webview, request).map(|body| {
            body.deserialize::<serde_json::Value>()
                .expect("JSON response")
        })
    }

    #[test]
    fn app_info_reports_name_and_versions_over_ipc() {
        let info = invoke("app_info").expect("app_info succeeds");
        assert_eq!(
            info,
            serde_json::json!({
                "name": "Studyhall",
                "version": env!("CARGO_PKG_VERSION"),
                "protocol_version": 1,
            })
        );
    }

    #[test]
    fn unknown_command_is_rejected() {
        let error = invoke("no_such_command").expect_err("unknown command");
        assert_eq!(error, "Command no_such_command not found");
    }
}
