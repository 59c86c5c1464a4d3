//! Materials from a participant's side: files shared with the room.
//!
//! The bytes go over HTTP, never the room's socket: [`Materials::upload`] streams a file
//! to the relay (with progress; dropping the future cancels it and the relay keeps
//! nothing), then [`RoomSession::share_material`] tells the room. [`Materials::download`]
//! resumes a partial download (`<file>.part`, HTTP `Range`) and checks the SHA-256
//! before the file takes its name. [`MaterialList`] is the room's list as events change
//! it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use studyhall_protocol::materials::check_file_name;
use studyhall_protocol::{ClientMessage, Material, MaterialEvent, MaterialRequest, MaterialsState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::session::{RoomSession, SessionError};

impl RoomSession {
    /// After an upload: tell the room (posted in chat, everyone sees it in the list).
    pub async fn share_material(&self, id: &str) -> Result<(), SessionError> {
        self.acked(MaterialRequest::MaterialShare { id: id.to_string() }.into())
            .await
    }

    /// The host, presenters and the uploader: delete a file.
    pub async fn delete_material(&self, id: &str) -> Result<(), SessionError> {
        self.acked(MaterialRequest::MaterialDelete { id: id.to_string() }.into())
            .await
    }

    /// The host: let everyone upload, or only the host and presenters.
    pub async fn set_anyone_uploads(&self, anyone_uploads: bool) -> Result<(), SessionError> {
        self.acked(MaterialRequest::MaterialsOptions { anyone_uploads }.into())
            .await
    }
}

/// The room's files and limits as the relay last told them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaterialList(pub MaterialsState);

impl MaterialList {
    pub fn get(&self, id: &str) -> Option<&Material> {
        self.0.items.iter().find(|m| m.id == id)
    }

    pub fn apply(&mut self, event: &MaterialEvent) -> bool {
        match event {
            MaterialEvent::MaterialAdded {
                material,
                used_bytes,
                ..
            } => {
                self.0.used_bytes = *used_bytes;
                match self.0.items.iter_mut().find(|m| m.id == material.id) {
                    Some(m) if m == material => return false,
                    Some(m) => *m = material.clone(),
                    None => self.0.items.push(material.clone()),
                }
                true
            }
            MaterialEvent::MaterialRemoved { id, used_bytes, .. } => {
                self.0.used_bytes = *used_bytes;
                self.0.items.retain(|m| &m.id != id);
                true
            }
            MaterialEvent::MaterialsAccess { anyone_uploads, .. } => {
                let changed = self.0.anyone_uploads != *anyone_uploads;
                self.0.anyone_uploads = *anyone_uploads;
                changed
            }
        }
    }
}

pub fn describe(event: &MaterialEvent) -> String {
    match event {
        MaterialEvent::MaterialAdded { material, .. } => format!(
            "material {} shared by {}: {} ({} bytes, {}, sha256 {})",
            material.id,
            material.by_name,
            material.name,
            material.size,
            material.mime,
            material.sha256
        ),
        MaterialEvent::MaterialRemoved { id, by, .. } => format!("material {id} deleted by {by}"),
        MaterialEvent::MaterialsAccess { anyone_uploads, by } => format!(
            "uploads: {} (set by {by})",
            if *anyone_uploads {
                "everyone"
            } else {
                "host and presenters"
            }
        ),
    }
}

/// Why a file did not go up or come down.
#[derive(Debug, thiserror::Error)]
pub enum MaterialsError {
    /// The relay said no: its status, code (such as `file_too_large`) and message.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach the relay: {0}")]
    Unreachable(String),
    #[error("{0}")]
    File(String),
    #[error("the download does not match its checksum (expected {expected}, got {got}); it was removed, download it again")]
    Checksum { expected: String, got: String },
}

/// Called with (bytes done, bytes in all) as a transfer goes.
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// What a finished download was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub path: PathBuf,
    /// Bytes that were already there from an earlier, interrupted download.
    pub resumed_from: u64,
}

/// A room's files over HTTP, with a token for that room.
#[derive(Clone)]
pub struct Materials {
    base: String,
    room: String,
    token: String,
    http: reqwest::Client,
}

/// `ws://host:port[/path]` (or http) → `http://host:port`.
pub fn http_base(relay_url: &str) -> Result<String, MaterialsError> {
    let (scheme, rest) = relay_url
        .split_once("://")
        .ok_or_else(|| MaterialsError::Unreachable(format!("`{relay_url}` is not a relay URL")))?;
    let scheme = match scheme {
        "ws" | "http" => "http",
        "wss" | "https" => "https",
        other => {
            return Err(MaterialsError::Unreachable(format!(
                "`{other}://` is not a relay URL scheme"
            )))
        }
    };
    let host = rest.split('/').next().unwrap_or_default();
    Ok(format!("{scheme}://{host}"))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn refusal(answer: reqwest::Response) -> MaterialsError {
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or("http_error")
        .to_string();
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("the relay answered {status}"));
    MaterialsError::Refused {
        status,
        code,
        message,
    }
}

/// A successful answer's JSON, or the relay's refusal.
async fn json_answer<T: serde::de::DeserializeOwned>(
    answer: reqwest::Response,
) -> Result<T, MaterialsError> {
    if !answer.status().is_success() {
        return Err(refusal(answer).await);
    }
    answer.json().await.map_err(unreachable)
}

fn unreachable(e: reqwest::Error) -> MaterialsError {
    MaterialsError::Unreachable(e.to_string())
}

impl Materials {
    pub fn new(relay_url: &str, room: &str, token: &str) -> Result<Materials, MaterialsError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .build()
            .map_err(unreachable)?;
        Ok(Materials {
            base: http_base(relay_url)?,
            room: room.to_string(),
            token: token.to_string(),
            http,
        })
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/v1/rooms/{}/materials{tail}",
            self.base,
            encode(&self.room)
        )
    }

    /// The room's files and limits.
    pub async fn list(&self) -> Result<MaterialsState, MaterialsError> {
        let answer = self
            .http
            .get(self.url(""))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        json_answer(answer).await
    }

    /// Upload the file at `path` under its own name (or `name`).
    pub async fn upload(
        &self,
        path: &Path,
        name: Option<&str>,
        progress: Option<Progress>,
    ) -> Result<Material, MaterialsError> {
        let name = match name {
            Some(n) => n.to_string(),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let name = check_file_name(&name)
            .map_err(MaterialsError::File)?
            .to_string();
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| MaterialsError::File(format!("cannot open {}: {e}", path.display())))?;
        let total = file
            .metadata()
            .await
            .map_err(|e| MaterialsError::File(e.to_string()))?
            .len();
        // The relay refuses a file over a limit before reading it and closes the
        // connection, which a client still sending may see only as a broken connection:
        // check the limits it publishes first, for a clear answer.
        let limits = self.list().await?;
        let refuse = |code: &str, message: String| MaterialsError::Refused {
            status: 413,
            code: code.to_string(),
            message,
        };
        if limits.max_file_bytes > 0 && total > limits.max_file_bytes {
            return Err(refuse(
                "file_too_large",
                format!(
                    "the file is {total} bytes; the limit is {} (max_upload_bytes)",
                    limits.max_file_bytes
                ),
            ));
        }
        if limits.quota_bytes > 0 && limits.used_bytes + total > limits.quota_bytes {
            return Err(refuse(
                "room_quota",
                format!(
                    "the room's files take {} of {} bytes (room_materials_quota_bytes); this one does not fit",
                    limits.used_bytes, limits.quota_bytes
                ),
            ));
        }
        let mut sent = 0u64;
        let stream = tokio_util::io::ReaderStream::new(file).map(move |chunk| {
            if let (Ok(c), Some(p)) = (&chunk, &progress) {
                sent += c.len() as u64;
                p(sent, total);
            }
            chunk
        });
        let answer = self
            .http
            .post(self.url(&format!("?name={}", encode(&name))))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_LENGTH, total)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(unreachable)?;
        json_answer(answer).await
    }

    /// Download `material` to `to`: resumed from `<to>.part` when an earlier download
    /// stopped, checked against its SHA-256, then renamed to `to`.
    pub async fn download(
        &self,
        material: &Material,
        to: &Path,
        progress: Option<Progress>,
    ) -> Result<Downloaded, MaterialsError> {
        let part = part_path(to);
        let io = |e: std::io::Error| MaterialsError::File(format!("{}: {e}", part.display()));
        let mut have = match tokio::fs::metadata(&part).await {
            Ok(m) if m.len() <= material.size => m.len(),
            Ok(_) => {
                tokio::fs::remove_file(&part).await.map_err(io)?;
                0
            }
            Err(_) => 0,
        };
        let resumed_from = have;
        if have < material.size {
            let mut request = self
                .http
                .get(self.url(&format!("/{}", material.id)))
                .bearer_auth(&self.token);
            if have > 0 {
                request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
            }
            let answer = request.send().await.map_err(unreachable)?;
            let status = answer.status().as_u16();
            let append = match status {
                206 => true,
                200 => false,
                _ => return Err(refusal(answer).await),
            };
            if !append {
                have = 0;
            }
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(&part)
                .await
                .map_err(io)?;
            let mut body = answer.bytes_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(unreachable)?;
                file.write_all(&chunk).await.map_err(io)?;
                have += chunk.len() as u64;
                if let Some(p) = &progress {
                    p(have, material.size);
                }
            }
            file.flush().await.map_err(io)?;
            file.sync_all().await.map_err(io)?;
        }
        let got = sha256_of(&part).await.map_err(io)?;
        if got != material.sha256 {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(MaterialsError::Checksum {
                expected: material.sha256.clone(),
                got,
            });
        }
        tokio::fs::rename(&part, to)
            .await
            .map_err(|e| MaterialsError::File(format!("{}: {e}", to.display())))?;
        Ok(Downloaded {
            path: to.to_path_buf(),
            resumed_from,
        })
    }
}

/// Where a download of `to` is kept until it is whole.
pub fn part_path(to: &Path) -> PathBuf {
    let mut name = to.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    to.with_file_name(name)
}

/// SHA-256 of a file, hex.
pub async fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex_string(&hasher.finalize()))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Command-line options of materials.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MaterialArgs {
    /// Upload this file once joined and share it with the room (may be repeated).
    #[arg(long, value_name = "FILE")]
    pub upload: Vec<PathBuf>,
    /// Host: let everyone upload files (`false`: only the host and presenters).
    #[arg(long, value_name = "BOOL")]
    pub anyone_uploads: Option<bool>,
    /// Before leaving, download every file of the room into this directory (checked
    /// against its SHA-256).
    #[arg(long, value_name = "DIR")]
    pub download_all: Option<PathBuf>,
    /// Before leaving, write the room's files (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    pub materials_dump: Option<PathBuf>,
}

impl MaterialArgs {
    pub fn requests(&self) -> Vec<ClientMessage> {
        self.anyone_uploads
            .map(|anyone_uploads| MaterialRequest::MaterialsOptions { anyone_uploads }.into())
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_become_http_bases() {
        assert_eq!(
            http_base("ws://10.0.0.2:7450").unwrap(),
            "http://10.0.0.2:7450"
        );
        assert_eq!(
            http_base("wss://relay.school.edu/v1/ws").unwrap(),
            "https://relay.school.edu"
        );
        assert!(http_base("ftp://x").is_err());
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(
            part_path(Path::new("/tmp/x/slides.pdf")),
            PathBuf::from("/tmp/x/slides.pdf.part")
        );
    }

    #[test]
    fn the_list_follows_events() {
        let m = Material {
            id: "a".repeat(32),
            name: "a.pdf".into(),
            size: 5,
            mime: "application/pdf".into(),
            sha256: "0".repeat(64),
            by: "ada".into(),
            by_name: "Ada".into(),
            at: 1,
        };
        let mut list = MaterialList::default();
        let added = MaterialEvent::MaterialAdded {
            request_id: None,
            material: m.clone(),
            used_bytes: 5,
        };
        assert!(list.apply(&added));
        assert!(!list.apply(&added), "a repeat changes nothing");
        assert_eq!(list.0.items.len(), 1);
        assert!(list.apply(&MaterialEvent::MaterialRemoved {
            id: m.id.clone(),
            by: "ada".into(),
            used_bytes: 0,
        }));
        assert!(list.0.items.is_empty());
        assert_eq!(list.0.used_bytes, 0);
    }
}
