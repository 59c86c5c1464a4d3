//! Whiteboards: each room's board as a snapshot plus the changes (ops) made after it.
//!
//! The relay appends every change before it tells anyone, and every few hundred changes
//! writes a new snapshot, which drops the ops it contains (compaction). Loading a board
//! is its snapshot with the ops after it applied in order. Everything of a room's board
//! lives for a time-to-live after its last write (a day): a board nobody draws on any
//! more is forgotten.
//!
//! Backends: SQLite in the data directory (embedded) and Redis (cluster), held to the
//! same behaviour by [`conformance`].

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use rusqlite::{params, Connection, OptionalExtension};

use super::sqlite_db::SqliteDb;
use super::StoreError;
use crate::ids::now_ms;

/// How long a board is kept after its last write.
pub const BOARD_TTL: Duration = Duration::from_secs(24 * 3600);

/// Largest snapshot a backend accepts (a board is capped well below this).
pub const MAX_SNAPSHOT_BYTES: usize = 32 * 1024 * 1024;

/// A stored board, as loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBoard {
    /// The latest snapshot: its sequence number and its JSON.
    pub snapshot: Option<(u64, String)>,
    /// The ops after the snapshot, `(seq, JSON)`, in sequence order.
    pub ops: Vec<(u64, String)>,
}

#[async_trait]
pub trait BoardStore: Send + Sync + 'static {
    /// `room`'s board, or `None` when nothing is stored (or it expired).
    async fn load(&self, room: &str) -> Result<Option<StoredBoard>, StoreError>;

    /// Store op `seq` of `room`'s board (a retry of the same `seq` replaces it), and keep
    /// the board for `ttl` from now. Durable when it returns.
    async fn append(&self, room: &str, seq: u64, op: &str, ttl: Duration)
        -> Result<(), StoreError>;

    /// Store `snapshot`, the board as of op `seq`, and drop the ops up to `seq`.
    async fn compact(
        &self,
        room: &str,
        seq: u64,
        snapshot: &str,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Keep `room`'s board (if any) for `ttl` from now.
    async fn touch(&self, room: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Forget `room`'s board.
    async fn delete(&self, room: &str) -> Result<(), StoreError>;
}

fn too_large(snapshot: &str) -> Result<(), StoreError> {
    if snapshot.len() > MAX_SNAPSHOT_BYTES {
        return Err(StoreError::Full(format!(
            "a board snapshot is {} bytes; at most {MAX_SNAPSHOT_BYTES} are kept",
            snapshot.len()
        )));
    }
    Ok(())
}

fn expiry(ttl: Duration) -> i64 {
    now_ms().saturating_add(ttl.as_millis() as u64) as i64
}

/// File name of the board database inside the data directory.
pub const BOARD_DB_FILE: &str = "boards.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS boards (
    room       TEXT    PRIMARY KEY,
    snap_seq   INTEGER,
    snapshot   TEXT,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS board_ops (
    room TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    op   TEXT    NOT NULL,
    PRIMARY KEY (room, seq)
);
";

/// The embedded backend: one SQLite file (WAL, `synchronous=FULL`).
#[derive(Clone)]
pub struct SqliteBoards {
    db: SqliteDb,
}

impl std::fmt::Debug for SqliteBoards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBoards")
            .field("path", &self.db.path)
            .finish()
    }
}

/// Forget boards whose time ran out.
fn purge_expired(c: &Connection) -> rusqlite::Result<()> {
    let now = now_ms() as i64;
    c.execute(
        "DELETE FROM board_ops WHERE room IN (SELECT room FROM boards WHERE expires_ms <= ?1)",
        params![now],
    )?;
    c.execute("DELETE FROM boards WHERE expires_ms <= ?1", params![now])?;
    Ok(())
}

impl SqliteBoards {
    /// Open (creating if needed) the board database in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Self, StoreError> {
        let db = SqliteDb::open(data_dir, BOARD_DB_FILE, SCHEMA, "board", purge_expired)?;
        Ok(SqliteBoards { db })
    }
}

/// Keep `room`'s row until `expires`, creating it when missing (a board that expired
/// but was not purged yet is dropped first: a write starts a new one).
fn keep_row(tx: &Connection, room: &str, expires: i64) -> rusqlite::Result<()> {
    let now = now_ms() as i64;
    let expired = tx.execute(
        "DELETE FROM boards WHERE room = ?1 AND expires_ms <= ?2",
        params![room, now],
    )?;
    if expired > 0 {
        tx.execute("DELETE FROM board_ops WHERE room = ?1", params![room])?;
    }
    tx.execute(
        "INSERT INTO boards (room, expires_ms) VALUES (?1, ?2)
         ON CONFLICT (room) DO UPDATE SET expires_ms = ?2",
        params![room, expires],
    )
    .map(|_| ())
}

#[async_trait]
impl BoardStore for SqliteBoards {
    async fn load(&self, room: &str) -> Result<Option<StoredBoard>, StoreError> {
        let room = room.to_string();
        self.db
            .run(move |c| {
                let row: Option<(Option<i64>, Option<String>)> = c
                    .query_row(
                        "SELECT snap_seq, snapshot FROM boards WHERE room = ?1 AND expires_ms > ?2",
                        params![room, now_ms() as i64],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((snap_seq, snapshot)) = row else {
                    return Ok(None);
                };
                let snapshot = snap_seq.zip(snapshot).map(|(s, j)| (s as u64, j));
                let after = snapshot.as_ref().map_or(0, |(s, _)| *s as i64);
                let mut stmt = c.prepare(
                    "SELECT seq, op FROM board_ops WHERE room = ?1 AND seq > ?2 ORDER BY seq",
                )?;
                let ops = stmt
                    .query_map(params![room, after], |r| {
                        Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Some(StoredBoard { snapshot, ops }))
            })
            .await
    }

    async fn append(
        &self,
        room: &str,
        seq: u64,
        op: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let (room, op, expires) = (room.to_string(), op.to_string(), expiry(ttl));
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                keep_row(&tx, &room, expires)?;
                tx.execute(
                    "INSERT INTO board_ops (room, seq, op) VALUES (?1, ?2, ?3)
                 ON CONFLICT (room, seq) DO UPDATE SET op = ?3",
                    params![room, seq as i64, op],
                )?;
                tx.commit()
            })
            .await
    }

    async fn compact(
        &self,
        room: &str,
        seq: u64,
        snapshot: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        too_large(snapshot)?;
        let (room, snapshot, expires) = (room.to_string(), snapshot.to_string(), expiry(ttl));
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                keep_row(&tx, &room, expires)?;
                tx.execute(
                    "UPDATE boards SET snap_seq = ?2, snapshot = ?3 WHERE room = ?1",
                    params![room, seq as i64, snapshot],
                )?;
                tx.execute(
                    "DELETE FROM board_ops WHERE room = ?1 AND seq <= ?2",
                    params![room, seq as i64],
                )?;
                // Boards of other rooms whose time ran out go as compactions come.
                purge_expired(&tx)?;
                tx.commit()
            })
            .await
    }

    async fn touch(&self, room: &str, ttl: Duration) -> Result<(), StoreError> {
        let (room, expires) = (room.to_string(), expiry(ttl));
        self.db
            .run(move |c| {
                c.execute(
                    "UPDATE boards SET expires_ms = ?2 WHERE room = ?1 AND expires_ms > ?3",
                    params![room, expires, now_ms() as i64],
                )
                .map(|_| ())
            })
            .await
    }

    async fn delete(&self, room: &str) -> Result<(), StoreError> {
        let room = room.to_string();
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                tx.execute("DELETE FROM board_ops WHERE room = ?1", params![room])?;
                tx.execute("DELETE FROM boards WHERE room = ?1", params![room])?;
                tx.commit()
            })
            .await
    }
}

/// The cluster backend: `studyhall:board:{room}:snapshot` (a hash: `seq`, `json`) and
/// `studyhall:board:{room}:ops` (a sorted set of op JSON scored by sequence), both
/// expiring with the board's time-to-live. The bytes of a board never leave these two
/// keys; the braces keep them in one Redis Cluster slot.
pub struct RedisBoards {
    conn: ConnectionManager,
}

fn redis_unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn snapshot_key(room: &str) -> String {
    format!("studyhall:board:{{{room}}}:snapshot")
}

fn ops_key(room: &str) -> String {
    format!("studyhall:board:{{{room}}}:ops")
}

impl RedisBoards {
    pub async fn connect(url: &str) -> Result<RedisBoards, StoreError> {
        let client = redis::Client::open(url).map_err(redis_unavailable)?;
        let conn = ConnectionManager::new_with_config(client, super::redis_manager_config())
            .await
            .map_err(redis_unavailable)?;
        Ok(RedisBoards { conn })
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    ttl.as_millis().max(1) as u64
}

/// `PEXPIRE key ms`: every write keeps both of a board's keys for its time to live.
fn expire(key: &str, ms: u64) -> redis::Cmd {
    let mut cmd = redis::cmd("PEXPIRE");
    cmd.arg(key).arg(ms);
    cmd
}

#[async_trait]
impl BoardStore for RedisBoards {
    async fn load(&self, room: &str) -> Result<Option<StoredBoard>, StoreError> {
        let mut conn = self.conn.clone();
        let (snap, ops): (
            std::collections::HashMap<String, String>,
            Vec<(String, f64)>,
        ) = redis::pipe()
            .atomic()
            .cmd("HGETALL")
            .arg(snapshot_key(room))
            .cmd("ZRANGE")
            .arg(ops_key(room))
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        let snapshot = match (snap.get("seq"), snap.get("json")) {
            (Some(seq), Some(json)) => Some((
                seq.parse::<u64>()
                    .map_err(|e| StoreError::Corrupt(format!("board snapshot seq: {e}")))?,
                json.clone(),
            )),
            _ => None,
        };
        if snapshot.is_none() && ops.is_empty() {
            return Ok(None);
        }
        let after = snapshot.as_ref().map_or(0, |(s, _)| *s);
        let ops = ops
            .into_iter()
            .map(|(op, score)| (score as u64, op))
            .filter(|(seq, _)| *seq > after)
            .collect();
        Ok(Some(StoredBoard { snapshot, ops }))
    }

    async fn append(
        &self,
        room: &str,
        seq: u64,
        op: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let (ops, snap, ms) = (ops_key(room), snapshot_key(room), ttl_ms(ttl));
        redis::pipe()
            .atomic()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&ops)
            .arg(seq)
            .arg(seq)
            .ignore()
            .cmd("ZADD")
            .arg(&ops)
            .arg(seq)
            .arg(op)
            .ignore()
            .add_command(expire(&ops, ms))
            .ignore()
            .add_command(expire(&snap, ms))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn compact(
        &self,
        room: &str,
        seq: u64,
        snapshot: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        too_large(snapshot)?;
        let mut conn = self.conn.clone();
        let (ops, snap, ms) = (ops_key(room), snapshot_key(room), ttl_ms(ttl));
        redis::pipe()
            .atomic()
            .cmd("HSET")
            .arg(&snap)
            .arg("seq")
            .arg(seq)
            .arg("json")
            .arg(snapshot)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&ops)
            .arg("-inf")
            .arg(seq)
            .ignore()
            .add_command(expire(&ops, ms))
            .ignore()
            .add_command(expire(&snap, ms))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn touch(&self, room: &str, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let ms = ttl_ms(ttl);
        redis::pipe()
            .add_command(expire(&ops_key(room), ms))
            .ignore()
            .add_command(expire(&snapshot_key(room), ms))
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn delete(&self, room: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(ops_key(room))
            .arg(snapshot_key(room))
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_unavailable)
    }
}

/// Behaviour every [`BoardStore`] backend must show.
#[cfg(any(test, feature = "conformance"))]
pub mod conformance {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn seqs(board: &StoredBoard) -> Vec<u64> {
        board.ops.iter().map(|(s, _)| *s).collect()
    }

    pub async fn ops_come_back_in_order_after_the_snapshot(store: &dyn BoardStore) {
        assert_eq!(store.load("a").await.unwrap(), None);
        for seq in 1..=5 {
            store
                .append("a", seq, &format!("{{\"seq\":{seq}}}"), DAY)
                .await
                .unwrap();
        }
        store.append("b", 1, "other room", DAY).await.unwrap();
        let a = store.load("a").await.unwrap().unwrap();
        assert_eq!(a.snapshot, None);
        assert_eq!(seqs(&a), [1, 2, 3, 4, 5]);
        assert_eq!(a.ops[2].1, "{\"seq\":3}");
        // A retried append replaces, never doubles.
        store
            .append("a", 5, "{\"seq\":5,\"again\":true}", DAY)
            .await
            .unwrap();
        let a = store.load("a").await.unwrap().unwrap();
        assert_eq!(seqs(&a), [1, 2, 3, 4, 5]);
        assert_eq!(a.ops[4].1, "{\"seq\":5,\"again\":true}");

        store.compact("a", 3, "SNAP@3", DAY).await.unwrap();
        let a = store.load("a").await.unwrap().unwrap();
        assert_eq!(a.snapshot, Some((3, "SNAP@3".to_string())));
        assert_eq!(seqs(&a), [4, 5]);
        store.append("a", 6, "six", DAY).await.unwrap();
        store.compact("a", 6, "SNAP@6", DAY).await.unwrap();
        let a = store.load("a").await.unwrap().unwrap();
        assert_eq!(a.snapshot, Some((6, "SNAP@6".to_string())));
        assert!(a.ops.is_empty());

        let b = store.load("b").await.unwrap().unwrap();
        assert_eq!(b.ops, vec![(1, "other room".to_string())]);
        store.delete("b").await.unwrap();
        assert_eq!(store.load("b").await.unwrap(), None);
        assert!(store.load("a").await.unwrap().is_some());
        store.delete("nothing-here").await.unwrap();
    }

    pub async fn boards_expire_unless_written_or_touched(store: &dyn BoardStore) {
        let short = Duration::from_millis(300);
        store.append("e", 1, "one", short).await.unwrap();
        store.compact("e", 1, "S", short).await.unwrap();
        assert!(store.load("e").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(store.load("e").await.unwrap(), None, "expired");
        // A write after expiry starts a new board: nothing of the old one comes back.
        store.append("e", 1, "fresh", DAY).await.unwrap();
        let e = store.load("e").await.unwrap().unwrap();
        assert_eq!((e.snapshot, e.ops), (None, vec![(1, "fresh".to_string())]));

        store.append("t", 1, "one", short).await.unwrap();
        store.touch("t", DAY).await.unwrap();
        store.touch("never-written", DAY).await.unwrap();
        tokio::time::sleep(Duration::from_millis(450)).await;
        let t = store.load("t").await.unwrap().unwrap();
        assert_eq!(t.ops.len(), 1, "touched boards stay");
        assert_eq!(store.load("never-written").await.unwrap(), None);
    }

    pub async fn oversized_snapshots_are_refused(store: &dyn BoardStore) {
        store.append("o", 1, "one", DAY).await.unwrap();
        let big = "x".repeat(MAX_SNAPSHOT_BYTES + 1);
        let err = store.compact("o", 1, &big, DAY).await.unwrap_err();
        assert!(matches!(err, StoreError::Full(_)), "{err:?}");
        let o = store.load("o").await.unwrap().unwrap();
        assert_eq!((o.snapshot, o.ops.len()), (None, 1), "nothing lost");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_store_passes_the_conformance_suite_and_outlives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteBoards::open_in(dir.path()).unwrap();
        conformance::ops_come_back_in_order_after_the_snapshot(&store).await;
        conformance::boards_expire_unless_written_or_touched(&store).await;
        conformance::oversized_snapshots_are_refused(&store).await;
        drop(store);
        let reopened = SqliteBoards::open_in(dir.path()).unwrap();
        let a = reopened.load("a").await.unwrap().unwrap();
        assert_eq!(a.snapshot, Some((6, "SNAP@6".to_string())));
    }
}
