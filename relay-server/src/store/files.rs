//! The bytes of shared files (materials), on disk in one directory: `<dir>/<id>`, where
//! the id is 32 hex digits the relay drew. The name a user gave never reaches a path.
//!
//! An upload is written to `<dir>/.partial/<id>`, hashed as it goes, synced, then
//! renamed into place. An upload that fails, is cancelled (its connection drops) or is
//! refused is removed when it is dropped; whatever a crash left in `.partial` goes when
//! the directory is opened again. What the content is comes from the content
//! ([`Sniffed`]), never from the name.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use studyhall_protocol::materials::is_material_id;
use tokio::io::AsyncWriteExt;

const PARTIAL_DIR: &str = ".partial";
/// Bytes of the start of a file its type is decided from.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The directory of shared files.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// Open (creating) `dir`; uploads a crash left unfinished are removed.
    pub fn open(dir: &Path) -> std::io::Result<FileStore> {
        let partial = dir.join(PARTIAL_DIR);
        std::fs::create_dir_all(&partial)?;
        for entry in std::fs::read_dir(&partial)?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        Ok(FileStore {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the file `id` lives; `None` for anything that is not a material id.
    pub fn path(&self, id: &str) -> Option<PathBuf> {
        is_material_id(id).then(|| self.dir.join(id))
    }

    /// Start an upload under a fresh id.
    pub async fn begin(&self) -> std::io::Result<Upload> {
        let id = hex::encode(rand::random::<[u8; 16]>());
        let partial = self.dir.join(PARTIAL_DIR).join(&id);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .await?;
        Ok(Upload {
            final_path: self.dir.join(&id),
            id,
            partial,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            text: TextCheck::default(),
        })
    }

    /// Open the file `id` for reading, with its length; `None` when this directory does
    /// not hold it.
    pub async fn open_read(&self, id: &str) -> std::io::Result<Option<(tokio::fs::File, u64)>> {
        let Some(path) = self.path(id) else {
            return Ok(None);
        };
        match tokio::fs::File::open(&path).await {
            Ok(file) => {
                let len = file.metadata().await?.len();
                Ok(Some((file, len)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Remove the file `id` if this directory holds it.
    pub async fn remove(&self, id: &str) {
        if let Some(path) = self.path(id) {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(id, error = %e, "a deleted material's file stays"),
            }
        }
    }

    /// The ids of the files held, with their age.
    pub async fn held(&self) -> Vec<(String, std::time::Duration)> {
        let mut out = vec![];
        let Ok(mut entries) = tokio::fs::read_dir(&self.dir).await else {
            return out;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_material_id(&name) {
                continue;
            }
            let age = entry
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .unwrap_or_default();
            out.push((name, age));
        }
        out
    }
}

/// An upload under way. Dropped before [`Upload::finish`], it leaves nothing behind.
pub struct Upload {
    pub id: String,
    partial: PathBuf,
    final_path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    text: TextCheck,
}

impl Upload {
    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The first bytes (up to [`SNIFF_BYTES`]).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Whether everything so far could be plain text (UTF-8, no NUL).
    pub fn could_be_text(&self) -> bool {
        self.text.ok
    }

    /// The whole file has been written: whether it is plain text (a file that ends
    /// inside a character is not).
    pub fn is_text(&mut self) -> bool {
        self.text.end();
        self.text.ok
    }

    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the upload was already finished"))?;
        file.write_all(chunk).await?;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.text.feed(chunk);
        Ok(())
    }

    /// Sync the file and move it into place: its SHA-256 (hex) and a handle that
    /// removes it again if what comes next fails.
    pub async fn finish(mut self) -> std::io::Result<(String, Placed)> {
        self.text.end();
        let mut file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("the upload was already finished"))?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&self.partial, &self.final_path).await?;
        let sha = hex::encode(std::mem::take(&mut self.hasher).finalize());
        Ok((
            sha,
            Placed {
                path: Some(self.final_path.clone()),
            },
        ))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// A file moved into place whose entry is not stored yet: dropped without
/// [`Placed::keep`], it is removed.
pub struct Placed {
    path: Option<PathBuf>,
}

impl Placed {
    pub fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for Placed {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Checks, as bytes stream by, that a file is UTF-8 text without NUL.
#[derive(Debug)]
struct TextCheck {
    ok: bool,
    /// An unfinished UTF-8 sequence at the end of the last chunk.
    carry: Vec<u8>,
}

impl Default for TextCheck {
    fn default() -> Self {
        TextCheck {
            ok: true,
            carry: Vec::new(),
        }
    }
}

impl TextCheck {
    fn feed(&mut self, chunk: &[u8]) {
        if !self.ok {
            return;
        }
        if chunk.contains(&0) {
            self.ok = false;
            return;
        }
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        match std::str::from_utf8(&bytes) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => {
                self.carry = bytes[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.ok = false,
        }
    }

    fn end(&mut self) {
        if !self.carry.is_empty() {
            self.ok = false;
        }
    }
}

/// Types a room may share, by what the content is.
pub const ALLOWED_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "text/plain",
    "text/markdown",
];

/// What a file is, decided from its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Allowed(&'static str),
    /// Not on the list; the message says what it looks like.
    Refused(String),
}

/// The type of a file from its first bytes (`head`), whether the whole of it is UTF-8
/// text without NUL (`text`), and — only to tell Markdown from plain text once the
/// content proved to be text — the name.
pub fn sniff(head: &[u8], text: bool, name: &str) -> Sniffed {
    const KINDS: &str = "PDF, PNG, JPEG, GIF or WebP images, Office or OpenDocument files, plain text or Markdown, or zip";
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        return match ALLOWED_TYPES.iter().find(|t| **t == mime) {
            Some(t) => Sniffed::Allowed(t),
            None => Sniffed::Refused(format!("the content is {mime}; a room shares {KINDS}")),
        };
    }
    if !text {
        return Sniffed::Refused(format!("the content is not a type a room shares ({KINDS})"));
    }
    if looks_like_markup(head) {
        return Sniffed::Refused(format!(
            "the content is HTML, SVG or XML, which is never shared; a room shares {KINDS}"
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        Sniffed::Allowed("text/markdown")
    } else {
        Sniffed::Allowed("text/plain")
    }
}

/// Text that opens as HTML, SVG or XML (after a byte-order mark and white space).
fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]);
    let start = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    [
        "<!doctype",
        "<html",
        "<svg",
        "<?xml",
        "<script",
        "<head",
        "<body",
        "<iframe",
    ]
    .iter()
    .any(|m| start.starts_with(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(bytes: &[u8], name: &str) -> Sniffed {
        let mut check = TextCheck::default();
        for chunk in bytes.chunks(3) {
            check.feed(chunk);
        }
        check.end();
        sniff(&bytes[..bytes.len().min(SNIFF_BYTES)], check.ok, name)
    }

    #[test]
    fn the_content_decides_never_the_name() {
        let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n";
        assert_eq!(whole(pdf, "notes.txt"), Sniffed::Allowed("application/pdf"));
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        assert_eq!(whole(&png, "a.pdf"), Sniffed::Allowed("image/png"));
        assert_eq!(
            whole("# Week 1\n\n* ok — ünïcode\n".as_bytes(), "w1.md"),
            Sniffed::Allowed("text/markdown")
        );
        assert_eq!(
            whole(b"plain notes\n", "notes.pdf"),
            Sniffed::Allowed("text/plain"),
            "a name that lies does not make text a PDF"
        );
        let mut elf = vec![0x7F, b'E', b'L', b'F', 2, 1, 1, 0];
        elf.resize(64, 0);
        assert!(
            matches!(whole(&elf, "slides.pdf"), Sniffed::Refused(ref m) if m.contains("application/")),
            "{:?}",
            whole(&elf, "slides.pdf")
        );
        for markup in [
            "<!DOCTYPE html><html><script>alert(1)</script>",
            "  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            "\u{feff}<?xml version='1.0'?><svg/>",
            "<html><body>hi</body></html>",
        ] {
            assert!(
                matches!(whole(markup.as_bytes(), "x.txt"), Sniffed::Refused(_)),
                "{markup}"
            );
        }
        assert!(matches!(whole(b"a\0b", "x.txt"), Sniffed::Refused(_)));
        assert!(matches!(
            whole(&[0xff, 0xfe, 0x41], "x.txt"),
            Sniffed::Refused(_)
        ));
    }

    #[test]
    fn utf8_split_across_chunks_is_still_text() {
        let text = "ééé — 漢字 😀".repeat(50);
        for size in 1..8 {
            let mut check = TextCheck::default();
            for chunk in text.as_bytes().chunks(size) {
                check.feed(chunk);
            }
            check.end();
            assert!(check.ok, "chunks of {size}");
        }
        let mut cut = TextCheck::default();
        cut.feed(&"é".as_bytes()[..1]);
        cut.end();
        assert!(!cut.ok, "a file ending inside a character is not text");
    }

    #[tokio::test]
    async fn an_upload_dropped_before_it_finishes_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::open(dir.path()).unwrap();
        let mut upload = files.begin().await.unwrap();
        upload.write(b"half of it").await.unwrap();
        drop(upload);
        let mut names: Vec<_> = std::fs::read_dir(dir.path().join(PARTIAL_DIR))
            .unwrap()
            .collect();
        assert!(names.is_empty(), "{names:?}");
        let mut upload = files.begin().await.unwrap();
        upload.write(b"whole").await.unwrap();
        let id = upload.id.clone();
        let (sha, placed) = upload.finish().await.unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(b"whole")));
        drop(placed);
        assert!(files.open_read(&id).await.unwrap().is_none(), "not kept");
        let mut upload = files.begin().await.unwrap();
        upload.write(b"kept").await.unwrap();
        let id = upload.id.clone();
        let (_, placed) = upload.finish().await.unwrap();
        placed.keep();
        let (_, len) = files.open_read(&id).await.unwrap().unwrap();
        assert_eq!(len, 4);
        assert_eq!(files.held().await.len(), 1);
        names = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "the file and .partial");
        assert!(files.open_read("../etc/passwd").await.unwrap().is_none());
        files.remove(&id).await;
        assert!(files.held().await.is_empty());
    }
}
