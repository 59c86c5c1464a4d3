use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use studyhall_client::features::materials::{Materials, Progress};
use studyhall_protocol::Material;
use tauri::State;

use super::{save_name, MaterialTransfer, TransferKind, TransferState, Transfers};
use crate::error::{AppError, AppErrorKind};
use crate::room::{Bridge, RoomContext};

/// Set to a path, the file pickers answer it instead of opening a dialog (automation
/// and the end-to-end tests, where no one can click in a native dialog).
pub const PICK_ENV: &str = "STUDYHALL_PICK_FILE";
/// Likewise for the save dialog: a directory the download is saved in.
pub const SAVE_DIR_ENV: &str = "STUDYHALL_SAVE_DIR";
/// The largest file shown as a preview.
const MAX_PREVIEW_BYTES: u64 = 8 * 1024 * 1024;

/// The room's file client, while in a room.
async fn materials(state: &RoomContext) -> Result<Materials, AppError> {
    state
        .live
        .lock()
        .await
        .room
        .as_ref()
        .map(|r| r.materials.clone())
        .ok_or_else(AppError::not_in_room)
}

fn failed(e: impl std::fmt::Display) -> AppError {
    AppError::new(AppErrorKind::Refused, e.to_string())
}

/// Ask the user for a file to share (a native dialog); `null` when they cancel.
#[tauri::command]
#[specta::specta]
pub async fn pick_material_file(state: State<'_, RoomContext>) -> Result<Option<String>, AppError> {
    if let Some(path) = std::env::var_os(PICK_ENV) {
        return Ok(Some(PathBuf::from(path).display().to_string()));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    state.bridge.pick_file(Box::new(move |path| {
        let _ = tx.send(path);
    }));
    Ok(rx.await.ok().flatten().map(|p| p.display().to_string()))
}

fn emit(bridge: &Arc<dyn Bridge>, t: MaterialTransfer) {
    bridge.material_transfer(t);
}

/// Progress events, at most every 200 ms (and always the last).
fn progress(app: &Arc<dyn Bridge>, base: MaterialTransfer) -> Progress {
    let app = app.clone();
    let last = Arc::new(std::sync::Mutex::new(
        Instant::now() - Duration::from_secs(1),
    ));
    Arc::new(move |done, total| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if done < total && last.elapsed() < Duration::from_millis(200) {
            return;
        }
        *last = Instant::now();
        emit(
            &app,
            MaterialTransfer {
                done: done as f64,
                total: total as f64,
                ..base.clone()
            },
        );
    })
}

/// Run a transfer in the background: tell that it began, give `work` a progress
/// reporter and the transfer as it began, and tell how it ended (`work`'s transfer,
/// marked done, or its error). Its id, for `cancel_transfer`.
fn start_transfer<F, Fut>(
    app: Arc<dyn Bridge>,
    transfers: &Transfers,
    base: MaterialTransfer,
    work: F,
) -> String
where
    F: FnOnce(Progress, MaterialTransfer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<MaterialTransfer, String>> + Send + 'static,
{
    let id = base.id.clone();
    emit(&app, base.clone());
    let running = transfers.clone();
    let task_id = id.clone();
    let task = tokio::spawn(async move {
        let end = match work(progress(&app, base.clone()), base.clone()).await {
            Ok(done) => MaterialTransfer {
                state: TransferState::Done,
                ..done
            },
            Err(error) => MaterialTransfer {
                state: TransferState::Failed,
                error: Some(error),
                ..base
            },
        };
        emit(&app, end);
        running.forget(&task_id);
    });
    transfers.lock().insert(id.clone(), task);
    id
}

fn transfer_id() -> String {
    format!("t{}", hex::encode(rand::random::<[u8; 6]>()))
}

/// Upload the file at `path` and share it with the room. Answers at once with the
/// transfer's id; `materialTransfer` events tell how it goes (a refusal names the
/// relay's limit: size, quota, type, uploads at once).
#[tauri::command]
#[specta::specta]
pub async fn upload_material(
    state: State<'_, RoomContext>,
    transfers: State<'_, Transfers>,
    path: String,
) -> Result<String, AppError> {
    let files = materials(&state).await?;
    let session = crate::room::commands::session(&state).await?;
    let app = state.bridge.clone();
    let path = PathBuf::from(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let total = std::fs::metadata(&path)
        .map_err(|e| {
            AppError::new(
                AppErrorKind::InvalidInput,
                format!("Cannot read {}: {e}", path.display()),
            )
        })?
        .len();
    let base = MaterialTransfer {
        id: transfer_id(),
        kind: TransferKind::Upload,
        name,
        done: 0.0,
        total: total as f64,
        state: TransferState::Running,
        error: None,
        material: None,
        path: Some(path.display().to_string()),
    };
    Ok(start_transfer(
        app,
        &transfers,
        base,
        move |progress, base| async move {
            let material = files
                .upload(&path, None, Some(progress))
                .await
                .map_err(|e| e.to_string())?;
            session
                .share_material(&material.id)
                .await
                .map_err(|e| e.to_string())?;
            Ok(MaterialTransfer {
                done: material.size as f64,
                total: material.size as f64,
                material: Some(material),
                ..base
            })
        },
    ))
}

/// Download `material`: into `directory` when given (under its name, never overwriting),
/// else where the user picks in a save dialog (`null`: they cancelled). Answers with the
/// transfer's id; `materialTransfer` events tell how it goes. A download of the same
/// file to the same place that stopped earlier resumes.
#[tauri::command]
#[specta::specta]
pub async fn download_material(
    state: State<'_, RoomContext>,
    transfers: State<'_, Transfers>,
    material: Material,
    directory: Option<String>,
) -> Result<Option<String>, AppError> {
    let files = materials(&state).await?;
    let app = state.bridge.clone();
    let name = save_name(&material.name);
    let to = match directory.or_else(|| std::env::var(SAVE_DIR_ENV).ok()) {
        Some(dir) => PathBuf::from(dir).join(&name),
        None => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            app.pick_save(
                name.clone(),
                Box::new(move |path| {
                    let _ = tx.send(path);
                }),
            );
            match rx.await.ok().flatten() {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    let base = MaterialTransfer {
        id: transfer_id(),
        kind: TransferKind::Download,
        name: material.name.clone(),
        done: 0.0,
        total: material.size as f64,
        state: TransferState::Running,
        error: None,
        material: Some(material.clone()),
        path: Some(to.display().to_string()),
    };
    Ok(Some(start_transfer(
        app,
        &transfers,
        base,
        move |progress, base| async move {
            files
                .download(&material, &to, Some(progress))
                .await
                .map_err(|e| e.to_string())?;
            Ok(MaterialTransfer {
                done: material.size as f64,
                ..base
            })
        },
    )))
}

/// Stop a transfer. An upload stopped leaves nothing on the relay; a download keeps
/// what it has, and starting it again resumes.
#[tauri::command]
#[specta::specta]
pub fn cancel_transfer(
    state: State<'_, RoomContext>,
    transfers: State<'_, Transfers>,
    id: String,
    kind: TransferKind,
    name: String,
) -> bool {
    let Some(task) = transfers.lock().remove(&id) else {
        return false;
    };
    task.abort();
    emit(
        &state.bridge,
        MaterialTransfer {
            id,
            kind,
            name,
            done: 0.0,
            total: 0.0,
            state: TransferState::Cancelled,
            error: None,
            material: None,
            path: None,
        },
    );
    true
}

/// A picture or PDF to preview, as a `data:` URL (`null` for other types and files over
/// 8 MiB). Fetched from the relay each time; nothing is kept.
#[tauri::command]
#[specta::specta]
pub async fn material_preview(
    state: State<'_, RoomContext>,
    material: Material,
) -> Result<Option<String>, AppError> {
    let previewable = material.mime.starts_with("image/") || material.mime == "application/pdf";
    if !previewable || material.size > MAX_PREVIEW_BYTES {
        return Ok(None);
    }
    let files = materials(&state).await?;
    let dir = std::env::temp_dir().join(format!(
        "studyhall-preview-{}",
        hex::encode(rand::random::<[u8; 6]>())
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| AppError::new(AppErrorKind::Storage, e.to_string()))?;
    let path = dir.join("preview");
    let result = files.download(&material, &path, None).await;
    let bytes = result.map_err(failed).and_then(|_| read(&path));
    let _ = std::fs::remove_dir_all(&dir);
    let bytes = bytes?;
    Ok(Some(format!(
        "data:{};base64,{}",
        material.mime,
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )))
}

fn read(path: &Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|e| AppError::new(AppErrorKind::Storage, e.to_string()))
}
