//! One SQLite file of the embedded stores, opened the same way for each: WAL,
//! `synchronous=FULL` (a write is durable when it returns), a 5 s busy timeout, and the
//! store's schema applied. Its connection is used from blocking tasks.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
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
        let conn = Arc::new(Mutex::new(conn));
        remember(&conn);
        Ok(SqliteDb { conn, path, what })
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

/// Every open connection of the embedded stores, so that an idle relay can empty their
/// page caches ([`release_memory`]). A process-wide list rather than a method on each
/// store trait: only the SQLite backends have caches to give back, and the idle trimmer
/// (`crate::memory`) knows no stores.
static OPEN: Mutex<Vec<Weak<Mutex<Connection>>>> = Mutex::new(Vec::new());

/// Add `conn` to the connections [`release_memory`] empties; closed ones are forgotten.
pub(crate) fn remember(conn: &Arc<Mutex<Connection>>) {
    if let Ok(mut open) = OPEN.lock() {
        open.retain(|c| c.strong_count() > 0);
        open.push(Arc::downgrade(conn));
    }
}

/// Free what every open store connection holds in its page cache (`PRAGMA
/// shrink_memory`): up to 2 MiB each after a busy spell, kept until the process ends
/// otherwise. Blocking: waits for each connection's lock. Returns how many were emptied.
pub(crate) fn release_memory() -> usize {
    let open: Vec<_> = match OPEN.lock() {
        Ok(open) => open.iter().filter_map(Weak::upgrade).collect(),
        Err(_) => return 0,
    };
    open.iter()
        .filter(|conn| {
            conn.lock()
                .is_ok_and(|c| c.execute_batch("PRAGMA shrink_memory").is_ok())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_open_store_empties_its_cache_and_goes_on_working_a_closed_one_is_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let schema = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB);";
        let db = SqliteDb::open(dir.path(), "t.sqlite", schema, "test", |_| Ok(())).unwrap();
        db.run(|c| {
            let tx = c.transaction()?;
            for k in 0..2_000 {
                tx.execute("INSERT INTO t VALUES (?1, zeroblob(1000))", [k])?;
            }
            tx.commit()
        })
        .await
        .unwrap();
        let weak = Arc::downgrade(&db.conn);
        assert!(OPEN.lock().unwrap().iter().any(|c| c.ptr_eq(&weak)));
        // Other tests' stores may be open too; this one is among those emptied.
        assert!(release_memory() >= 1);
        let n: i64 = db
            .run(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(n, 2_000);
        drop(db);
        assert!(weak.upgrade().is_none());
        release_memory();
        let _ = SqliteDb::open(dir.path(), "u.sqlite", schema, "test", |_| Ok(())).unwrap();
        assert!(!OPEN.lock().unwrap().iter().any(|c| c.ptr_eq(&weak)));
    }
}
