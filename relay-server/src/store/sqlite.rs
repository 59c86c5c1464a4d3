//! Chat in SQLite (WAL, `synchronous=FULL`): the embedded default.
//!
//! One connection behind a mutex, used from blocking threads; a write commits before
//! `append` returns, so an acknowledged message survives a crash of the relay or the
//! machine.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use studyhall_protocol::{ChatMessage, ChatPage};

use super::{Appended, ChatLog, NewChatMessage, StoreError};
use crate::ids::now_ms;

/// File name of the chat database inside the data directory.
pub const CHAT_DB_FILE: &str = "chat.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS chat_messages (
    room          TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    sender        TEXT    NOT NULL,
    sender_name   TEXT    NOT NULL,
    client_msg_id TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    ts_ms         INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room, seq),
    UNIQUE (room, sender, client_msg_id)
);
";

#[derive(Clone)]
pub struct SqliteChatLog {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteChatLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteChatLog")
            .field("path", &self.path)
            .finish()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChatMessage> {
    Ok(ChatMessage {
        seq: row.get::<_, i64>(0)? as u64,
        from: row.get(1)?,
        name: row.get(2)?,
        client_msg_id: row.get(3)?,
        text: row.get(4)?,
        ts: row.get::<_, i64>(5)? as u64,
        deleted: row.get::<_, i64>(6)? != 0,
        attachment: row
            .get::<_, Option<String>>(7)?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

const COLUMNS: &str = "seq, sender, sender_name, client_msg_id, text, ts_ms, deleted, attachment";

/// Files written before attachments existed get the column (empty).
fn add_attachment_column(conn: &Connection) -> rusqlite::Result<()> {
    let has: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('chat_messages') WHERE name = 'attachment'")?
        .exists([])?;
    if !has {
        conn.execute_batch("ALTER TABLE chat_messages ADD COLUMN attachment TEXT")?;
    }
    Ok(())
}

impl SqliteChatLog {
    /// Open (creating if needed) the chat database in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        Self::open(&data_dir.join(CHAT_DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(unavailable)?;
        // Checkpoints (copying the WAL into the database, two more fsyncs) run on their own
        // thread, not inside whichever append happens to cross the WAL's size threshold:
        // that append used to wait tens of milliseconds.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(unavailable)?;
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        add_attachment_column(&conn).map_err(unavailable)?;
        let conn = Arc::new(Mutex::new(conn));
        spawn_checkpointer(path, Arc::downgrade(&conn))?;
        Ok(SqliteChatLog {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Corrupt("chat database lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("storage task failed: {e}")))?
    }
}

/// How often the background thread checkpoints the WAL.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Checkpoint the WAL from a second connection every [`CHECKPOINT_INTERVAL`] until the
/// log (`owner`) is dropped. PASSIVE never blocks appends; what it cannot copy yet is
/// copied next time.
fn spawn_checkpointer(
    path: &Path,
    owner: std::sync::Weak<Mutex<Connection>>,
) -> Result<(), StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(unavailable)?;
    let shown = path.display().to_string();
    std::thread::Builder::new()
        .name("chat-checkpoint".into())
        .spawn(move || {
            let mut failing = false;
            while owner.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_INTERVAL);
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)) {
                    Ok(_) if failing => {
                        tracing::info!(db = %shown, "chat checkpoints work again");
                        failing = false;
                    }
                    Ok(_) => {}
                    Err(e) if !failing => {
                        tracing::warn!(db = %shown, error = %e, "chat checkpoint failed; the WAL grows until one succeeds");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        })
        .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}")))?;
    Ok(())
}

fn find_by_client_id(
    conn: &Connection,
    room: &str,
    from: &str,
    client_msg_id: &str,
) -> rusqlite::Result<Option<ChatMessage>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM chat_messages WHERE room = ?1 AND sender = ?2 AND client_msg_id = ?3"
    ))?
    .query_row(params![room, from, client_msg_id], row_to_message)
    .optional()
}

/// Append one message inside an open transaction.
fn append_in(
    tx: &rusqlite::Transaction<'_>,
    room: &str,
    msg: NewChatMessage,
) -> Result<Appended, StoreError> {
    if let Some(existing) =
        find_by_client_id(tx, room, &msg.from, &msg.client_msg_id).map_err(unavailable)?
    {
        return Ok(Appended {
            message: existing,
            duplicate: true,
        });
    }
    let last: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM chat_messages WHERE room = ?1")
        .and_then(|mut stmt| stmt.query_row(params![room], |r| r.get(0)))
        .map_err(unavailable)?;
    let message = ChatMessage {
        seq: last as u64 + 1,
        from: msg.from,
        name: msg.name,
        text: msg.text,
        ts: now_ms(),
        client_msg_id: msg.client_msg_id,
        deleted: false,
        attachment: msg.attachment,
    };
    let attachment = message
        .attachment
        .as_ref()
        .map(|a| serde_json::to_string(a).unwrap_or_default());
    tx.prepare_cached(
        "INSERT INTO chat_messages (room, seq, sender, sender_name, client_msg_id, text, ts_ms, deleted, attachment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            room,
            message.seq as i64,
            message.from,
            message.name,
            message.client_msg_id,
            message.text,
            message.ts as i64,
            attachment
        ])
    })
    .map_err(unavailable)?;
    Ok(Appended {
        message,
        duplicate: false,
    })
}

#[async_trait]
impl ChatLog for SqliteChatLog {
    async fn append(&self, room: &str, msg: NewChatMessage) -> Result<Appended, StoreError> {
        self.append_batch(room, vec![msg])
            .await
            .pop()
            .unwrap_or_else(|| Err(StoreError::Corrupt("an append gave no result".into())))
    }

    async fn append_batch(
        &self,
        room: &str,
        msgs: Vec<NewChatMessage>,
    ) -> Vec<Result<Appended, StoreError>> {
        let count = msgs.len();
        let room = room.to_string();
        // One transaction, so one commit (one fsync) for the whole batch; if it fails,
        // nothing of it is stored and every message gets the error.
        let result = self
            .with_conn(move |conn| {
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(unavailable)?;
                let mut out = Vec::with_capacity(msgs.len());
                for msg in msgs {
                    out.push(append_in(&tx, &room, msg)?);
                }
                tx.commit().map_err(unavailable)?;
                Ok(out)
            })
            .await;
        match result {
            Ok(appended) => appended.into_iter().map(Ok).collect(),
            Err(e) => (0..count).map(|_| Err(e.clone())).collect(),
        }
    }

    async fn page(
        &self,
        room: &str,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<ChatPage, StoreError> {
        let room = room.to_string();
        let before = before_seq.map(|s| s as i64).unwrap_or(i64::MAX);
        self.with_conn(move |conn| {
            // One row more than asked tells whether older messages exist.
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM chat_messages WHERE room = ?1 AND seq < ?2
                     ORDER BY seq DESC LIMIT ?3"
                ))
                .map_err(unavailable)?;
            let mut messages = stmt
                .query_map(params![room, before, i64::from(limit) + 1], row_to_message)
                .map_err(unavailable)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(unavailable)?;
            let has_more = messages.len() > limit as usize;
            messages.truncate(limit as usize);
            messages.reverse();
            Ok(ChatPage { messages, has_more })
        })
        .await
    }

    async fn delete(&self, room: &str, seq: u64) -> Result<Option<ChatMessage>, StoreError> {
        let room = room.to_string();
        self.with_conn(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE chat_messages SET deleted = 1, text = '', attachment = NULL WHERE room = ?1 AND seq = ?2",
                    params![room, seq as i64],
                )
                .map_err(unavailable)?;
            if changed == 0 {
                return Ok(None);
            }
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM chat_messages WHERE room = ?1 AND seq = ?2"),
                params![room, seq as i64],
                row_to_message,
            )
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn healthy(&self) -> bool {
        self.with_conn(|conn| {
            conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map_err(unavailable)
        })
        .await
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance;
    use super::*;

    fn open() -> (tempfile::TempDir, SqliteChatLog) {
        let dir = tempfile::tempdir().unwrap();
        let log = SqliteChatLog::open_in(dir.path()).unwrap();
        (dir, log)
    }

    #[tokio::test]
    async fn conformance_sequence() {
        let (_d, log) = open();
        conformance::sequence_increases_per_room(&log).await;
    }

    #[tokio::test]
    async fn conformance_retries() {
        let (_d, log) = open();
        conformance::retries_do_not_duplicate(&log).await;
    }

    #[tokio::test]
    async fn conformance_pages() {
        let (_d, log) = open();
        conformance::pages_walk_back_without_gaps(&log).await;
    }

    #[tokio::test]
    async fn conformance_batches() {
        let (_d, log) = open();
        conformance::batches_store_in_order_once(&log).await;
    }

    #[tokio::test]
    async fn conformance_delete() {
        let (_d, log) = open();
        conformance::delete_keeps_the_slot(&log).await;
    }

    #[tokio::test]
    async fn conformance_attachments() {
        let (_d, log) = open();
        conformance::attachments_come_back(&log).await;
    }

    #[tokio::test]
    async fn a_file_from_before_attachments_opens_and_keeps_its_messages() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(CHAT_DB_FILE)).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute(
                "INSERT INTO chat_messages (room, seq, sender, sender_name, client_msg_id, text, ts_ms)
                 VALUES ('r', 1, 'ada', 'Ada', 'm1', 'old', 5)",
                [],
            )
            .unwrap();
        }
        let log = SqliteChatLog::open_in(dir.path()).unwrap();
        let page = log.page("r", None, 10).await.unwrap();
        assert_eq!(page.messages[0].text, "old");
        assert_eq!(page.messages[0].attachment, None);
        conformance::attachments_come_back(&log).await;
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_in_the_background() {
        let (dir, log) = open();
        let wal = dir.path().join(format!("{CHAT_DB_FILE}-wal"));
        let db = dir.path().join(CHAT_DB_FILE);
        let db_before = std::fs::metadata(&db).unwrap().len();
        for i in 0..200 {
            log.append(
                "a",
                NewChatMessage {
                    attachment: None,
                    from: "ada".into(),
                    name: "Ada".into(),
                    client_msg_id: format!("m{i}"),
                    text: "x".repeat(500),
                },
            )
            .await
            .unwrap();
        }
        // 100 KB is far below SQLite's own checkpoint threshold (4 MB), and appends never
        // checkpoint anyway: the rows reach the database file only through the thread.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let db_now = std::fs::metadata(&db).unwrap().len();
            if db_now > db_before + 100 * 500 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint in 10 s (db {db_now} bytes, wal {} bytes)",
                std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0)
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(log.page("a", None, 500).await.unwrap().messages.len(), 200);
    }

    #[tokio::test]
    async fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = SqliteChatLog::open_in(dir.path()).unwrap();
            conformance::sequence_increases_per_room(&log).await;
        }
        let log = SqliteChatLog::open_in(dir.path()).unwrap();
        let page = log.page("a", None, 50).await.unwrap();
        assert_eq!(page.messages.len(), 2);
        let next = log
            .append(
                "a",
                NewChatMessage {
                    attachment: None,
                    from: "ada".into(),
                    name: "Ada".into(),
                    client_msg_id: "after-restart".into(),
                    text: "still here".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(next.message.seq, 3);
    }
}
