//! The Studyhall desktop app: the Tauri shell around the web UI in `ui/`.
//!
//! This crate owns the window, the IPC commands the UI may call and their wiring; it is
//! thin glue. Domain logic (protocol types, invites, the room session, media, devices)
//! lives in the library crates of the workspace and is tested there.
//!
//! Invariants:
//! - commands live in feature modules (`<feature>/commands.rs`), never at the crate root,
//!   and are all registered by [`specta_builder`], so the app, the tests and the generated
//!   TypeScript bindings (`ui/src/bindings.ts`) see the same set;
//! - a command that can fail returns [`error::AppError`], not a `String`.

mod about;
mod devices;
pub mod error;
mod features;
mod groups;
mod hosting;
mod materials;
mod room;
mod settings;
mod single;
mod study;
mod video;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::{App, Builder, Manager, RunEvent, Runtime, WindowEvent};
use tauri_specta::{collect_commands, collect_events, Event as _};

use crate::about::commands::AppInfo;
use crate::room::types::{InviteOpened, MediaStatus, QuitRequested, RoomEvent};
use crate::room::{Bridge, Live, RoomContext};
use crate::settings::SettingsState;

/// The window side of [`Bridge`]: events go to the UI, `exit` quits the app.
impl<R: Runtime> Bridge for tauri::AppHandle<R> {
    fn room_event(&self, event: RoomEvent) {
        if let Err(e) = event.emit(self) {
            tracing::warn!(error = %e, "cannot send a room event to the window");
        }
    }

    fn media_status(&self, status: MediaStatus) {
        let _ = status.emit(self);
    }

    fn quit_requested(&self, request: QuitRequested) {
        let _ = request.emit(self);
    }

    fn exit(&self) {
        tauri::AppHandle::exit(self, 0);
    }

    fn material_transfer(&self, transfer: materials::MaterialTransfer) {
        if let Err(e) = transfer.emit(self) {
            tracing::warn!(error = %e, "cannot send a transfer event to the window");
        }
    }

    fn pick_file(&self, done: room::Picked) {
        use tauri_plugin_dialog::DialogExt;
        self.dialog()
            .file()
            .set_title("Share a file with the room")
            .add_filter(
                "Slides, documents, pictures, notes",
                &[
                    "pdf", "png", "jpg", "jpeg", "gif", "webp", "doc", "docx", "xls", "xlsx",
                    "ppt", "pptx", "odt", "ods", "odp", "txt", "md", "zip",
                ],
            )
            .pick_file(move |path| done(path.and_then(|p| p.into_path().ok())));
    }

    fn pick_calendar(&self, done: room::Picked) {
        use tauri_plugin_dialog::DialogExt;
        self.dialog()
            .file()
            .set_title("Import sessions from a calendar")
            .add_filter("Calendar files", &["ics", "ical", "ifb", "icalendar"])
            .pick_file(move |path| done(path.and_then(|p| p.into_path().ok())));
    }

    fn pick_save(&self, name: String, done: room::Picked) {
        use tauri_plugin_dialog::DialogExt;
        let mut dialog = self.dialog().file().set_file_name(name);
        if let Some(dir) = dirs::download_dir() {
            dialog = dialog.set_directory(dir);
        }
        dialog.save_file(move |path| done(path.and_then(|p| p.into_path().ok())));
    }
}

/// The window side of the groups: the view to the UI, reminders to the UI and the desktop.
impl<R: Runtime> groups::GroupsBridge for tauri::AppHandle<R> {
    fn groups_changed(&self, view: groups::GroupsChanged) {
        if let Err(e) = view.emit(self) {
            tracing::warn!(error = %e, "cannot send the groups to the window");
        }
    }

    fn reminder(&self, reminder: groups::reminders::SessionReminder) {
        let _ = reminder.emit(self);
        // The desktop's notification, with a Join button for a group's session. Without
        // a notification service (a bare X server) the window's toast is all there is.
        let app = self.clone();
        std::thread::spawn(move || {
            let body = match &reminder.group_name {
                Some(group) => format!("{group}: starts in {} min", reminder.minutes),
                None => format!("Your study block starts in {} min", reminder.minutes),
            };
            let mut note = notify_rust::Notification::new();
            note.appname("Studyhall")
                .summary(&reminder.title)
                .body(&body);
            if reminder.group.is_some() {
                note.action("join", "Join");
            }
            match note.show() {
                Ok(handle) => handle.wait_for_action(|action| {
                    if action == "join" {
                        let _ = groups::reminders::SessionReminder {
                            join: true,
                            ..reminder.clone()
                        }
                        .emit(&app);
                    }
                }),
                Err(e) => {
                    tracing::info!(error = %e, "no desktop notification (the window shows it)")
                }
            }
        });
    }
}

/// Where the generated bindings live, relative to the package root.
pub const BINDINGS_PATH: &str = "ui/src/bindings.ts";

/// Every command and event the UI may use.
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .commands(collect_commands![
            about::commands::app_info,
            settings::commands::get_settings,
            settings::commands::save_profile,
            devices::commands::list_devices,
            devices::commands::start_preview,
            devices::commands::stop_preview,
            devices::commands::set_noise_suppression,
            room::commands::media_endpoint,
            hosting::commands::host_room,
            hosting::commands::stop_hosting,
            hosting::commands::host_upload,
            room::commands::parse_invite,
            room::commands::take_launch_invite,
            room::commands::join_room,
            room::commands::leave_room,
            room::commands::set_media,
            room::commands::set_view,
            room::commands::send_chat,
            room::commands::load_older_chat,
            room::commands::delete_chat,
            room::commands::kick,
            features::commands::feature_request,
            features::commands::save_export,
            features::drafts::poll_drafts,
            features::drafts::save_poll_drafts,
            materials::commands::pick_material_file,
            materials::commands::upload_material,
            materials::commands::download_material,
            materials::commands::cancel_transfer,
            materials::commands::material_preview,
            hosting::commands::quit_app,
            study::commands::study_summary,
            study::commands::set_study_goal,
            study::commands::dismiss_study_notice,
            study::commands::export_study_csv,
            groups::commands::groups_view,
            groups::commands::create_group,
            groups::commands::parse_group_invite,
            groups::commands::join_group,
            groups::commands::leave_group,
            groups::commands::remove_group_member,
            groups::commands::new_group_invite,
            groups::commands::add_session,
            groups::commands::change_session,
            groups::commands::calendar,
            groups::commands::set_appear_offline,
            groups::commands::open_group_room,
            groups::commands::export_calendar,
            groups::commands::import_calendar,
        ])
        .events(collect_events![
            RoomEvent,
            MediaStatus,
            QuitRequested,
            InviteOpened,
            materials::MaterialTransfer,
            groups::GroupsChanged,
            groups::reminders::SessionReminder
        ])
}

/// The TypeScript bindings as they should be committed.
pub fn typescript_bindings() -> Result<String, String> {
    let dir = tempfile_dir()?;
    let path = dir.join("bindings.ts");
    specta_builder::<tauri::Wry>()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated by tauri-specta from the Rust commands (scripts/bindings.sh). Do not edit.\n/* eslint-disable */"),
            &path,
        )
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(text)
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!(
        "studyhall-bindings-{}-{}",
        std::process::id(),
        hex::encode(rand::random::<[u8; 4]>())
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Logs to stderr, filtered by `RUST_LOG` (default: info for our crates).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "studyhall_app=info,studyhall_client=info,warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Where the app keeps its data: `STUDYHALL_APP_DATA`, else the platform's app data dir.
fn data_dir<R: Runtime>(app: &App<R>) -> PathBuf {
    if let Some(dir) = std::env::var_os("STUDYHALL_APP_DATA") {
        return PathBuf::from(dir);
    }
    app.path()
        .app_data_dir()
        .unwrap_or_else(|_| std::env::temp_dir().join("studyhall"))
}

/// What the app manages: the settings opened from `dir`, the room side (the video
/// socket started) and the app's identity.
fn manage_state<R: Runtime>(
    app: &tauri::AppHandle<R>,
    dir: PathBuf,
) -> Result<(), Box<dyn std::error::Error>> {
    let store = settings::SettingsStore::open(&dir.join("settings.sqlite3"))?;
    let reserved = app
        .try_state::<video::ReservedVideoSocket>()
        .and_then(|r| r.0.lock().unwrap_or_else(|p| p.into_inner()).take());
    let listener = match reserved {
        Some(listener) => listener,
        None => video::reserve()?,
    };
    let hub = tauri::async_runtime::block_on(video::VideoHub::start_on(listener))?;
    let bridge: Arc<dyn Bridge> = Arc::new(app.clone());
    let package = app.package_info();
    app.manage(AppInfo {
        name: package.name.clone(),
        version: package.version.to_string(),
        protocol_version: studyhall_protocol::PROTOCOL_VERSION,
    });
    app.manage(SettingsState(std::sync::Mutex::new(store)));
    let study = Arc::new(study::Study::open(
        &dir.join(study::STUDY_DB_FILE),
        Arc::new(study::SystemClocks::default()),
    )?);
    app.manage(study::commands::StudyState(study.clone()));
    let groups = groups::Groups::open(&dir, Arc::new(app.clone()));
    app.manage(groups::commands::GroupsState(groups.clone()));
    tauri::async_runtime::spawn(async move { groups.start().await });
    let room = RoomContext::new(hub, dir, bridge, study);
    if let Some(profile) = app
        .state::<SettingsState>()
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .profile()?
    {
        room.noise.set(profile.noise_suppression);
    }
    app.manage(room);
    app.manage(materials::Transfers::default());
    Ok(())
}

/// Builds the app on any runtime (the real one, or the mock one in tests).
fn builder<R: Runtime>() -> Builder<R> {
    let specta = specta_builder::<R>();
    Builder::<R>::new()
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(specta.invoke_handler())
        .setup(move |app| {
            specta.mount_events(app);
            let dir = data_dir(app);
            manage_state(app.handle(), dir)?;
            let state = app.state::<RoomContext>();
            let link = launch_link();
            if let Some(link) = &link {
                tracing::info!(chars = link.len(), "started with an invite link");
            }
            *state
                .launch_invite
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = link;
            tauri::async_runtime::spawn(room::pump_status(
                state.bridge.clone(),
                state.live.clone(),
            ));
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let Some(state) = window.try_state::<RoomContext>() else {
                    return;
                };
                // Decide under the lock; while it is busy (a join, a host starting), hold
                // the close and decide as soon as it is free.
                let others = state
                    .live
                    .try_lock()
                    .ok()
                    .map(|live| others_in_hosted_room(&live));
                match others {
                    Some(0) => {}
                    Some(n) => {
                        api.prevent_close();
                        state
                            .bridge
                            .quit_requested(QuitRequested { others_in_room: n });
                    }
                    None => {
                        api.prevent_close();
                        let (window, live, bridge) =
                            (window.clone(), state.live.clone(), state.bridge.clone());
                        tauri::async_runtime::spawn(async move {
                            let n = others_in_hosted_room(&*live.lock().await);
                            if n > 0 {
                                bridge.quit_requested(QuitRequested { others_in_room: n });
                            } else if let Err(e) = window.destroy() {
                                tracing::warn!(error = %e, "cannot close the window");
                            }
                        });
                    }
                }
            }
        })
}

/// How many others are in the room this app hosts (0 when it hosts none, or we are not in
/// it to know).
fn others_in_hosted_room(live: &Live) -> u32 {
    match (&live.hosting, &live.room) {
        (Some(h), Some(r)) if h.room == r.room => {
            r.others.lock().unwrap_or_else(|p| p.into_inner()).len() as u32
        }
        _ => 0,
    }
}

/// The `studyhall://` link among the app's arguments.
fn launch_link() -> Option<String> {
    // args_os: `args` panics on an argument that is not UTF-8.
    let args = std::env::args_os()
        .skip(1)
        .filter_map(|a| a.into_string().ok());
    single::invite_link_in(args)
}

/// A later start handed over a link (or just asked to be shown): keep the link for the
/// start screen, tell the UI, bring the window forward.
fn on_later_start<R: Runtime>(app: &tauri::AppHandle<R>, link: Option<String>) {
    tracing::info!(
        link = link.is_some(),
        "a later start of the app handed over"
    );
    if let Some(link) = link {
        if let Some(state) = app.try_state::<RoomContext>() {
            *state
                .launch_invite
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(link);
        }
        let _ = InviteOpened.emit(app);
    }
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Starts the app and blocks until it quits. When the app already runs, hands it this
/// start's invite link instead and returns.
///
/// # Panics
///
/// Panics if the window system or the webview cannot be initialised.
pub fn run() {
    init_logging();
    let start = match single::socket_path() {
        Some(path) => single::start(&path, launch_link().as_deref()),
        None => single::Start::Alone("no runtime or home directory for its socket".into()),
    };
    let listener = match start {
        single::Start::HandedOff => {
            tracing::info!("Studyhall already runs; handed it this start's invite link");
            return;
        }
        single::Start::First(listener) => Some(listener),
        single::Start::Alone(why) => {
            tracing::warn!(%why, "later starts (clicked invite links) cannot reach this app");
            None
        }
    };
    // The video socket's port is fixed first, so that the window's content security
    // policy names it instead of any local port.
    let mut context = tauri::generate_context!();
    let mut builder = builder::<tauri::Wry>();
    match video::reserve() {
        Ok(listener) => {
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            if !video::pin_csp_port(&mut context.config_mut().app.security.csp, port) {
                tracing::warn!("the content security policy has no ws://127.0.0.1:* to narrow");
            }
            builder = builder.manage(video::ReservedVideoSocket(std::sync::Mutex::new(Some(
                listener,
            ))));
        }
        Err(e) => tracing::warn!(error = %e, "cannot reserve the video socket's port yet"),
    }
    let app = builder
        .build(context)
        .expect("failed to start the Studyhall app");
    if let Some(listener) = listener {
        let handle = app.handle().clone();
        if let Err(e) = single::serve(listener, move |link| on_later_start(&handle, link)) {
            tracing::warn!(error = %e, "cannot serve later starts");
        }
    }
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Stop a hosted relay cleanly: everyone in the room is told.
            if let Some(state) = app.try_state::<RoomContext>() {
                tauri::async_runtime::block_on(async {
                    let _ = room::leave(&state).await;
                    let _ = hosting::stop_hosting(&state).await;
                });
            }
            if let Some(groups) = app.try_state::<groups::commands::GroupsState>() {
                tauri::async_runtime::block_on(groups.0.stop());
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
    use tauri::webview::InvokeRequest;
    use tauri::{WebviewWindow, WebviewWindowBuilder};

    /// The app on the mock runtime with its real context (tauri.conf.json, capabilities)
    /// and the configured main window, data in a temp dir.
    fn app() -> (
        tauri::App<MockRuntime>,
        WebviewWindow<MockRuntime>,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let specta = specta_builder::<MockRuntime>();
        let app = mock_builder()
            .invoke_handler(specta.invoke_handler())
            .build(tauri::generate_context!())
            .expect("build the app on the mock runtime");
        // The mock runtime does not run `setup`: do its work here.
        specta.mount_events(&app);
        manage_state(app.handle(), dir.path().to_path_buf()).expect("app state");
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
        (app, webview, dir)
    }

    /// Calls `cmd` through the IPC layer, as the UI's `invoke` would.
    fn invoke(
        webview: &WebviewWindow<MockRuntime>,
        cmd: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("valid URL"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(webview, request).map(|body| {
            body.deserialize::<serde_json::Value>()
                .expect("JSON response")
        })
    }

    #[test]
    fn app_info_reports_name_and_versions_over_ipc() {
        let (_app, webview, _dir) = app();
        let info = invoke(&webview, "app_info", serde_json::json!({})).expect("app_info");
        assert_eq!(
            info,
            serde_json::json!({
                "name": "Studyhall",
                "version": env!("CARGO_PKG_VERSION"),
                "protocolVersion": 1,
            })
        );
    }

    #[test]
    fn unknown_command_is_rejected() {
        let (_app, webview, _dir) = app();
        let error =
            invoke(&webview, "no_such_command", serde_json::json!({})).expect_err("unknown");
        assert_eq!(error, "Command no_such_command not found");
    }

    #[test]
    fn the_profile_is_saved_and_bad_names_are_refused() {
        let (_app, webview, _dir) = app();
        let settings = invoke(&webview, "get_settings", serde_json::json!({})).unwrap();
        assert!(settings["displayName"]
            .as_str()
            .is_some_and(|n| !n.is_empty()));
        assert_eq!(settings["recentRooms"], serde_json::json!([]));
        let profile = serde_json::json!({
            "displayName": "  Ada  ",
            "camera": {"kind": "testPattern"},
            "microphone": {"kind": "tone"},
            "screen": {"kind": "testPattern"},
            "speaker": null,
        });
        let saved = invoke(
            &webview,
            "save_profile",
            serde_json::json!({"profile": profile}),
        )
        .unwrap();
        assert_eq!(saved["displayName"], "Ada");
        let again = invoke(&webview, "get_settings", serde_json::json!({})).unwrap();
        assert_eq!(again["displayName"], "Ada");
        assert_eq!(again["camera"], serde_json::json!({"kind": "testPattern"}));
        // Noise suppression: on unless the profile says otherwise, switched at once (the
        // device check and the room share the switch) and kept in the profile.
        let noise = || webview.state::<RoomContext>().noise.is_on();
        assert_eq!(again["noiseSuppression"], true);
        assert!(noise());
        invoke(
            &webview,
            "set_noise_suppression",
            serde_json::json!({"on": false}),
        )
        .unwrap();
        assert!(!noise());
        let again = invoke(&webview, "get_settings", serde_json::json!({})).unwrap();
        assert_eq!(again["noiseSuppression"], false);
        let mut on = profile.clone();
        on["noiseSuppression"] = true.into();
        invoke(&webview, "save_profile", serde_json::json!({"profile": on})).unwrap();
        let again = invoke(&webview, "get_settings", serde_json::json!({})).unwrap();
        assert_eq!(again["noiseSuppression"], true, "kept with the profile");

        let mut blank = profile.clone();
        blank["displayName"] = "   ".into();
        let error = invoke(
            &webview,
            "save_profile",
            serde_json::json!({"profile": blank}),
        )
        .unwrap_err();
        assert_eq!(error["kind"], "invalidInput");
        // Malformed arguments are refused by the IPC layer, not accepted half-way.
        let error = invoke(
            &webview,
            "save_profile",
            serde_json::json!({"profile": {"displayName": 5}}),
        )
        .unwrap_err();
        assert!(
            error.as_str().is_some_and(|e| e.contains("profile")),
            "{error}"
        );
    }

    #[test]
    fn the_launch_invite_link_is_found_and_taken_once() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(single::invite_link_in(args(&[])), None);
        assert_eq!(single::invite_link_in(args(&["--verbose", "k7qx"])), None);
        let link = "studyhall://join?relay=192.168.1.20%3A7450&code=K7QX-29FD";
        assert_eq!(
            single::invite_link_in(args(&["--flag", link])).as_deref(),
            Some(link)
        );
        assert_eq!(
            single::invite_link_in(args(&["StudyHall://join?code=A"])).as_deref(),
            Some("StudyHall://join?code=A"),
            "the scheme is case-insensitive"
        );
        let huge = format!("studyhall://join?code={}", "A".repeat(4000));
        assert_eq!(single::invite_link_in([huge]), None, "absurdly long");

        let (app, webview, _dir) = app();
        let none = invoke(&webview, "take_launch_invite", serde_json::json!({})).unwrap();
        assert_eq!(none, serde_json::Value::Null);
        *app.state::<RoomContext>().launch_invite.lock().unwrap() = Some(link.to_string());
        let taken = invoke(&webview, "take_launch_invite", serde_json::json!({})).unwrap();
        assert_eq!(taken, link);
        let again = invoke(&webview, "take_launch_invite", serde_json::json!({})).unwrap();
        assert_eq!(again, serde_json::Value::Null, "taken once");
    }

    #[test]
    fn invites_are_checked_and_room_commands_need_a_room() {
        let (_app, webview, _dir) = app();
        let target = invoke(
            &webview,
            "parse_invite",
            serde_json::json!({"text": "k7qx29fd@192.168.1.20:7450"}),
        )
        .unwrap();
        assert_eq!(
            target,
            serde_json::json!({"relay": "192.168.1.20:7450", "code": "K7QX-29FD"})
        );
        let error = invoke(
            &webview,
            "parse_invite",
            serde_json::json!({"text": "hello"}),
        )
        .unwrap_err();
        assert_eq!(error["kind"], "inviteInvalid");
        assert!(error["message"].as_str().unwrap().contains("K7QX-29FD@"));

        let error = invoke(
            &webview,
            "send_chat",
            serde_json::json!({"clientMsgId": "m1", "text": "hi"}),
        )
        .unwrap_err();
        assert_eq!(error["kind"], "notInRoom");
        let error = invoke(&webview, "leave_room", serde_json::json!({})).unwrap_err();
        assert_eq!(error["kind"], "notInRoom");
        // Joining a relay that is not there: a plain-words error, nothing left half-joined.
        let error = invoke(
            &webview,
            "join_room",
            serde_json::json!({"invite": "K7QX-29FD@127.0.0.1:9", "media": {"mic": true, "camera": true}}),
        )
        .unwrap_err();
        assert_eq!(error["kind"], "relayUnreachable");
        assert!(error["message"].as_str().unwrap().contains("127.0.0.1:9"));
    }

    #[test]
    fn the_window_may_connect_to_its_video_socket_and_no_other_local_port() {
        let mut context: tauri::Context<MockRuntime> = tauri::generate_context!();
        let csp = &mut context.config_mut().app.security.csp;
        assert!(video::pin_csp_port(csp, 4242));
        let policy = csp.as_ref().unwrap().to_string();
        assert!(policy.contains("ws://127.0.0.1:4242"), "{policy}");
        assert!(!policy.contains("127.0.0.1:*"), "{policy}");
        assert!(policy.contains("ipc:"), "the rest stays: {policy}");
        assert!(!video::pin_csp_port(csp, 4243), "pinned once");
    }

    #[test]
    fn the_video_endpoint_is_a_keyed_loopback_socket() {
        let (_app, webview, _dir) = app();
        let url = invoke(&webview, "media_endpoint", serde_json::json!({})).unwrap();
        let url = url.as_str().unwrap();
        assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
        assert!(url.contains("/video?key="), "{url}");
    }

    /// The committed `ui/src/bindings.ts` matches the commands and events; run
    /// `scripts/bindings.sh` to regenerate it after changing them.
    #[test]
    fn typescript_bindings_are_current() {
        let generated = typescript_bindings().expect("export the bindings");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS_PATH);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).expect("write the bindings");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{BINDINGS_PATH} is stale: run scripts/bindings.sh and commit the result"
        );
    }
}
