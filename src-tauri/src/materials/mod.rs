//! Shared files (materials) in the app: uploads and downloads run in the background over
//! HTTP (the client library's [`Materials`]), report progress as
//! [`MaterialTransfer`] events, and can be cancelled. A finished upload is shared with
//! the room; a finished download is checked against its SHA-256 first. A download that
//! stopped (cancelled, network gone) resumes from its `.part` file when started again.

pub mod commands;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

// The transfer event and its parts live with the window's other events (the room's
// `Bridge` sends them).
pub use crate::room::types::{MaterialTransfer, TransferKind, TransferState};

/// Transfers under way, by id.
#[derive(Default, Clone)]
pub struct Transfers {
    running: Arc<Mutex<HashMap<String, JoinHandle<()>>>>,
}

impl Transfers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, JoinHandle<()>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A transfer ended by itself.
    fn forget(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// A safe file name to offer in the save dialog for a material's name (it never
/// becomes a path by itself: the user picks where).
pub fn save_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control()
                || studyhall_protocol::materials::is_bidi_control(c)
                || matches!(c, '/' | '\\' | ':')
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if cleaned.is_empty() {
        "material".into()
    } else {
        cleaned.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_names_are_plain_file_names() {
        assert_eq!(save_name("Week 1.pdf"), "Week 1.pdf");
        assert_eq!(save_name("../../x.pdf"), "_.._x.pdf");
        assert_eq!(save_name("a\u{202E}fdp.exe"), "a_fdp.exe");
        assert_eq!(save_name(".."), "material");
    }
}
