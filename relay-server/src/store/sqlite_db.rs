//! One SQLite file of the embedded stores, opened the same way for each: WAL,
//! `synchronous=FULL` (a write is durable when it returns), a 5 s busy timeout, and the
//! store's schema applied. Its connection is used from blocking tasks.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

#[derive(Clone)]
pub(crate) struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
    pub(crate) path: PathBuf,
    /// What it holds, for errors ("board", "room-state").
    what: &'static str,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteDb {
    /// Open (creating if needed) `file` in `data_dir` with `schema`, then run `tidy` on
    /// it once (what expired while the relay was down goes).
    pub(crate) fn open(
        data_dir: &Path,
        file: &str,
        schema: &str,
        what: &'static str,
        tidy: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(file);
        let conn = Connection::open(&path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(unavailable)?;
        conn.execute_batch(schema).map_err(unavailable)?;
        tidy(&conn).map_err(unavailable)?;
        Ok(SqliteDb {
            conn: Arc::new(Mutex::new(conn)),
            path,
            what,
        })
    }

    /// Run `f` on the connection in a blocking task.
    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (conn, what) = (self.conn.clone(), self.what);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Corrupt(format!("{what} database lock poisoned")))?;
            f(&mut guard).map_err(unavailable)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("storage task failed: {e}")))?
    }
}
