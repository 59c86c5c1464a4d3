//! Small per-room values that must outlive the relay process and, in a cluster, the node
//! that holds the room: the focus timer today, a lecture's presenter and mode next.
//!
//! A value is a JSON text under `(room, key)` (the key names the feature) and lives for
//! a time-to-live after its last write: a room that nobody uses any more is forgotten.
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

/// How long a room's values are kept after their last write, as for the lecture-room
/// seed's keys: a day.
pub const ROOM_STATE_TTL: Duration = Duration::from_secs(24 * 3600);

/// Largest value a backend accepts (a feature's state is a few hundred bytes).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

#[async_trait]
pub trait RoomStateStore: Send + Sync + 'static {
    /// The value under `(room, key)`, unless it has expired.
    async fn get(&self, room: &str, key: &str) -> Result<Option<String>, StoreError>;

    /// Store `value` under `(room, key)`, replacing what was there, for `ttl`. Durable
    /// when it returns.
    async fn put(
        &self,
        room: &str,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Forget `(room, key)`.
    async fn delete(&self, room: &str, key: &str) -> Result<(), StoreError>;
}

fn too_large(value: &str) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::Full(format!(
            "a room value is {} bytes; at most {MAX_VALUE_BYTES} are kept",
            value.len()
        )));
    }
    Ok(())
}

/// File name of the room-state database inside the data directory.
pub const ROOM_STATE_DB_FILE: &str = "room-state.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS room_state (
    room       TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (room, key)
);
";

/// The embedded backend: one SQLite file (WAL, `synchronous=FULL`).
#[derive(Clone)]
pub struct SqliteRoomState {
    db: SqliteDb,
}

impl std::fmt::Debug for SqliteRoomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteRoomState")
            .field("path", &self.db.path)
            .finish()
    }
}

impl SqliteRoomState {
    /// Open (creating if needed) the room-state database in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Self, StoreError> {
        // What expired while the relay was down goes now.
        let tidy = |c: &Connection| {
            c.execute(
                "DELETE FROM room_state WHERE expires_ms <= ?1",
                params![now_ms() as i64],
            )
            .map(|_| ())
        };
        let db = SqliteDb::open(data_dir, ROOM_STATE_DB_FILE, SCHEMA, "room-state", tidy)?;
        Ok(SqliteRoomState { db })
    }
}

#[async_trait]
impl RoomStateStore for SqliteRoomState {
    async fn get(&self, room: &str, key: &str) -> Result<Option<String>, StoreError> {
        let (room, key) = (room.to_string(), key.to_string());
        self.db
            .run(move |c| {
                c.query_row(
                    "SELECT value FROM room_state WHERE room = ?1 AND key = ?2 AND expires_ms > ?3",
                    params![room, key, now_ms() as i64],
                    |row| row.get(0),
                )
                .optional()
            })
            .await
    }

    async fn put(
        &self,
        room: &str,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        too_large(value)?;
        let (room, key, value) = (room.to_string(), key.to_string(), value.to_string());
        let expires = now_ms().saturating_add(ttl.as_millis() as u64) as i64;
        let now = now_ms() as i64;
        self.db
            .run(move |c| {
                c.execute(
                    "INSERT INTO room_state (room, key, value, expires_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (room, key) DO UPDATE SET value = ?3, expires_ms = ?4",
                    params![room, key, value, expires],
                )?;
                // Expired values of other rooms go as writes come (the table stays small).
                c.execute(
                    "DELETE FROM room_state WHERE expires_ms <= ?1",
                    params![now],
                )?;
                Ok(())
            })
            .await
    }

    async fn delete(&self, room: &str, key: &str) -> Result<(), StoreError> {
        let (room, key) = (room.to_string(), key.to_string());
        self.db
            .run(move |c| {
                c.execute(
                    "DELETE FROM room_state WHERE room = ?1 AND key = ?2",
                    params![room, key],
                )
                .map(|_| ())
            })
            .await
    }
}

/// The cluster backend: one key per value, `studyhall:state:{room}:key`, expiring with
/// its time-to-live.
pub struct RedisRoomState {
    conn: ConnectionManager,
}

fn redis_unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn state_key(room: &str, key: &str) -> String {
    format!("studyhall:state:{{{room}}}:{key}")
}

impl RedisRoomState {
    pub async fn connect(url: &str) -> Result<RedisRoomState, StoreError> {
        let client = redis::Client::open(url).map_err(redis_unavailable)?;
        let conn = ConnectionManager::new_with_config(client, super::redis_manager_config())
            .await
            .map_err(redis_unavailable)?;
        Ok(RedisRoomState { conn })
    }
}

#[async_trait]
impl RoomStateStore for RedisRoomState {
    async fn get(&self, room: &str, key: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(state_key(room, key))
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn put(
        &self,
        room: &str,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        too_large(value)?;
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(state_key(room, key))
            .arg(value)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn delete(&self, room: &str, key: &str) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("DEL")
            .arg(state_key(room, key))
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_unavailable)
    }
}

/// Behaviour every [`RoomStateStore`] backend must show.
#[cfg(any(test, feature = "conformance"))]
pub mod conformance {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    pub async fn values_are_kept_per_room_and_key(store: &dyn RoomStateStore) {
        assert_eq!(store.get("a", "timer").await.unwrap(), None);
        store.put("a", "timer", "{\"x\":1}", DAY).await.unwrap();
        store.put("a", "lecture", "L", DAY).await.unwrap();
        store.put("b", "timer", "other", DAY).await.unwrap();
        assert_eq!(
            store.get("a", "timer").await.unwrap().as_deref(),
            Some("{\"x\":1}")
        );
        assert_eq!(
            store.get("a", "lecture").await.unwrap().as_deref(),
            Some("L")
        );
        assert_eq!(
            store.get("b", "timer").await.unwrap().as_deref(),
            Some("other")
        );
        store.put("a", "timer", "{\"x\":2}", DAY).await.unwrap();
        assert_eq!(
            store.get("a", "timer").await.unwrap().as_deref(),
            Some("{\"x\":2}"),
            "a put replaces"
        );
        store.delete("a", "timer").await.unwrap();
        assert_eq!(store.get("a", "timer").await.unwrap(), None);
        assert_eq!(
            store.get("a", "lecture").await.unwrap().as_deref(),
            Some("L")
        );
        store.delete("a", "nothing-here").await.unwrap();
    }

    pub async fn values_expire_after_their_ttl(store: &dyn RoomStateStore) {
        store
            .put("e", "timer", "soon gone", Duration::from_millis(300))
            .await
            .unwrap();
        assert!(store.get("e", "timer").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(store.get("e", "timer").await.unwrap(), None);
        // A write renews the time to live.
        store
            .put("e", "timer", "back", Duration::from_millis(300))
            .await
            .unwrap();
        store.put("e", "timer", "renewed", DAY).await.unwrap();
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(
            store.get("e", "timer").await.unwrap().as_deref(),
            Some("renewed")
        );
    }

    pub async fn oversized_values_are_refused(store: &dyn RoomStateStore) {
        let big = "x".repeat(MAX_VALUE_BYTES + 1);
        let err = store.put("o", "timer", &big, DAY).await.unwrap_err();
        assert!(matches!(err, StoreError::Full(_)), "{err:?}");
        assert_eq!(store.get("o", "timer").await.unwrap(), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_store_passes_the_conformance_suite_and_outlives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteRoomState::open_in(dir.path()).unwrap();
        conformance::values_are_kept_per_room_and_key(&store).await;
        conformance::values_expire_after_their_ttl(&store).await;
        conformance::oversized_values_are_refused(&store).await;
        store
            .put("r", "timer", "kept", ROOM_STATE_TTL)
            .await
            .unwrap();
        drop(store);
        let reopened = SqliteRoomState::open_in(dir.path()).unwrap();
        assert_eq!(
            reopened.get("r", "timer").await.unwrap().as_deref(),
            Some("kept")
        );
    }
}
