//! The rooms this app hosted, by title. Hosting a title again within a day (after the
//! app crashed, was killed, or was simply restarted) reopens the same room as its relay
//! kept it — whiteboard, questions, presenters, timer — with the same host identity,
//! and on the same port when it is free, so the guests' clients, retrying the address
//! they had with tokens the relay's kept secret still signs, come back by themselves.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The file, in the app's data directory.
pub const FILE: &str = "hosted-rooms.json";
/// Rooms remembered (the most recently hosted).
const KEEP: usize = 20;
/// How long a room is worth reopening: the relay keeps a room's state a day after its
/// last change.
pub const REOPEN_WITHIN: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostedRoom {
    pub title: String,
    pub room: String,
    pub identity: String,
    /// The relay's signaling port.
    pub port: u16,
    /// When it was last hosted, ms since the Unix epoch.
    pub hosted_at: u64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn same_title(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

fn read(dir: &Path) -> Vec<HostedRoom> {
    let Ok(text) = std::fs::read_to_string(dir.join(FILE)) else {
        return vec![];
    };
    serde_json::from_str(&text).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "{FILE} is unreadable; hosted rooms start afresh");
        vec![]
    })
}

/// The room hosted under `title` lately enough to reopen, if any.
pub fn find(dir: &Path, title: &str) -> Option<HostedRoom> {
    let now = now_ms();
    read(dir).into_iter().find(|r| {
        same_title(&r.title, title)
            && now.saturating_sub(r.hosted_at) < REOPEN_WITHIN.as_millis() as u64
    })
}

/// Remember `room` (replacing the one of the same title), written whole then renamed
/// so a crash never leaves half a file.
pub fn remember(dir: &Path, room: HostedRoom) -> std::io::Result<()> {
    let mut rooms = read(dir);
    rooms.retain(|r| !same_title(&r.title, &room.title));
    rooms.insert(0, room);
    rooms.truncate(KEEP);
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&rooms)?)?;
    std::fs::rename(tmp, dir.join(FILE))
}

/// A room to remember now.
pub fn hosted(title: &str, room: &str, identity: &str, port: u16) -> HostedRoom {
    HostedRoom {
        title: title.to_string(),
        room: room.to_string(),
        identity: identity.to_string(),
        port,
        hosted_at: now_ms(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_hosted_again_finds_its_room_until_it_is_too_old() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find(dir.path(), "Algebra"), None);
        remember(
            dir.path(),
            hosted("Algebra", "algebra-1a2b", "host-1", 4000),
        )
        .unwrap();
        remember(
            dir.path(),
            hosted("Physics", "physics-3c4d", "host-2", 4001),
        )
        .unwrap();
        let found = find(dir.path(), "  algebra ").unwrap();
        assert_eq!((found.room.as_str(), found.port), ("algebra-1a2b", 4000));
        // Hosting it again replaces, never duplicates.
        remember(
            dir.path(),
            hosted("ALGEBRA", "algebra-1a2b", "host-1", 4100),
        )
        .unwrap();
        assert_eq!(read(dir.path()).len(), 2);
        assert_eq!(find(dir.path(), "algebra").unwrap().port, 4100);
        // A day later it is not reopened (the relay has forgotten it).
        let mut old = hosted("Old", "old-0000", "host-3", 4002);
        old.hosted_at -= REOPEN_WITHIN.as_millis() as u64 + 1;
        remember(dir.path(), old).unwrap();
        assert_eq!(find(dir.path(), "Old"), None);
        // A broken file is started afresh, not an error.
        std::fs::write(dir.path().join(FILE), "{not json").unwrap();
        assert_eq!(find(dir.path(), "Algebra"), None);
        remember(dir.path(), hosted("Algebra", "a", "h", 1)).unwrap();
        assert!(find(dir.path(), "Algebra").is_some());
    }
}
