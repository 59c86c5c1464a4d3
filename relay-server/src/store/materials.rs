//! The entries of a room's shared files (materials): name, size, type, checksum, who
//! shared it and which node holds the bytes. The bytes themselves are files on disk
//! ([`crate::files`]); they never go into this store, nor into Redis.
//!
//! Backends:
//! - embedded: SQLite (`materials.sqlite3`);
//! - cluster: Redis, a hash per room (`studyhall:materials:{room}`, id → entry as JSON)
//!   and the bytes the room uses (`studyhall:materials:{room}:used`), changed together by
//!   one script each, so the quota holds when two nodes store at once.
//!
//! Both pass [`conformance`]. Materials are kept until someone deletes them, like the
//! chat that announced them.

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use studyhall_protocol::Material;

use super::sqlite_db::SqliteDb;
use super::StoreError;

/// File name of the embedded store inside the data directory.
pub const MATERIALS_DB_FILE: &str = "materials.sqlite3";

/// One stored entry: the material and the node that holds its bytes (empty on an
/// embedded relay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMaterial {
    #[serde(flatten)]
    pub material: Material,
    #[serde(default)]
    pub node: String,
}

/// What [`MaterialStore::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Stored; the room's files now take `used_bytes`.
    Stored { used_bytes: u64 },
    /// Not stored: the room's files take `used_bytes` and this one would pass the quota.
    OverQuota { used_bytes: u64 },
    /// Not stored: the room holds as many files as it may.
    TooMany,
}

#[async_trait]
pub trait MaterialStore: Send + Sync + 'static {
    /// Store an entry if the room stays within `quota` bytes and `max_files` files.
    /// Durable when it returns.
    async fn add(
        &self,
        room: &str,
        entry: &StoredMaterial,
        quota: u64,
        max_files: usize,
    ) -> Result<Added, StoreError>;

    /// The entry `id` of `room`.
    async fn get(&self, room: &str, id: &str) -> Result<Option<StoredMaterial>, StoreError>;

    /// Every entry of `room`, oldest first.
    async fn list(&self, room: &str) -> Result<Vec<StoredMaterial>, StoreError>;

    /// Bytes the room's files take.
    async fn used(&self, room: &str) -> Result<u64, StoreError>;

    /// Forget `id`: the entry it was, and the bytes the room's files take after.
    async fn remove(
        &self,
        room: &str,
        id: &str,
    ) -> Result<Option<(StoredMaterial, u64)>, StoreError>;

    /// Whether any room has an entry `id` (the disk sweep asks before removing a file).
    async fn exists(&self, id: &str) -> Result<bool, StoreError>;
}

/// Stored entries (JSON), oldest first.
fn entries(stored: &[String]) -> Result<Vec<StoredMaterial>, StoreError> {
    let mut entries = stored
        .iter()
        .map(|j| serde_json::from_str(j).map_err(corrupt))
        .collect::<Result<Vec<StoredMaterial>, _>>()?;
    entries.sort_by(|a, b| {
        a.material
            .at
            .cmp(&b.material.at)
            .then_with(|| a.material.id.cmp(&b.material.id))
    });
    Ok(entries)
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("a stored material entry is unreadable: {e}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS materials (
    id     TEXT    NOT NULL PRIMARY KEY,
    room   TEXT    NOT NULL,
    size   INTEGER NOT NULL,
    at_ms  INTEGER NOT NULL,
    entry  TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS materials_room ON materials (room, at_ms);
";

/// The embedded backend.
#[derive(Clone)]
pub struct SqliteMaterials {
    db: SqliteDb,
}

impl SqliteMaterials {
    pub fn open_in(data_dir: &std::path::Path) -> Result<Self, StoreError> {
        let db = SqliteDb::open(data_dir, MATERIALS_DB_FILE, SCHEMA, "materials", |_| Ok(()))?;
        Ok(SqliteMaterials { db })
    }
}

fn used_in(conn: &rusqlite::Connection, room: &str) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COALESCE(SUM(size), 0) FROM materials WHERE room = ?1",
        params![room],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

#[async_trait]
impl MaterialStore for SqliteMaterials {
    async fn add(
        &self,
        room: &str,
        entry: &StoredMaterial,
        quota: u64,
        max_files: usize,
    ) -> Result<Added, StoreError> {
        let json = serde_json::to_string(entry).map_err(corrupt)?;
        let (room, entry) = (room.to_string(), entry.clone());
        self.db
            .run(move |conn| {
                let tx = conn.transaction()?;
                let count: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM materials WHERE room = ?1",
                    params![room],
                    |r| r.get(0),
                )?;
                let used = used_in(&tx, &room)?;
                if count as usize >= max_files {
                    return Ok(Added::TooMany);
                }
                if used + entry.material.size > quota {
                    return Ok(Added::OverQuota { used_bytes: used });
                }
                tx.execute(
                    "INSERT INTO materials (id, room, size, at_ms, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        entry.material.id,
                        room,
                        entry.material.size as i64,
                        entry.material.at as i64,
                        json
                    ],
                )?;
                tx.commit()?;
                Ok(Added::Stored {
                    used_bytes: used + entry.material.size,
                })
            })
            .await
    }

    async fn get(&self, room: &str, id: &str) -> Result<Option<StoredMaterial>, StoreError> {
        let (room, id) = (room.to_string(), id.to_string());
        let json: Option<String> = self
            .db
            .run(move |conn| {
                conn.query_row(
                    "SELECT entry FROM materials WHERE room = ?1 AND id = ?2",
                    params![room, id],
                    |r| r.get(0),
                )
                .optional()
            })
            .await?;
        json.map(|j| serde_json::from_str(&j).map_err(corrupt))
            .transpose()
    }

    async fn list(&self, room: &str) -> Result<Vec<StoredMaterial>, StoreError> {
        let room = room.to_string();
        let rows: Vec<String> = self
            .db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT entry FROM materials WHERE room = ?1 ORDER BY at_ms, id",
                )?;
                let rows = stmt.query_map(params![room], |r| r.get(0))?;
                rows.collect()
            })
            .await?;
        entries(&rows)
    }

    async fn used(&self, room: &str) -> Result<u64, StoreError> {
        let room = room.to_string();
        self.db.run(move |conn| used_in(conn, &room)).await
    }

    async fn remove(
        &self,
        room: &str,
        id: &str,
    ) -> Result<Option<(StoredMaterial, u64)>, StoreError> {
        let (room, id) = (room.to_string(), id.to_string());
        let found: Option<(String, u64)> = self
            .db
            .run(move |conn| {
                let tx = conn.transaction()?;
                let json: Option<String> = tx
                    .query_row(
                        "SELECT entry FROM materials WHERE room = ?1 AND id = ?2",
                        params![room, id],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(json) = json else {
                    return Ok(None);
                };
                tx.execute(
                    "DELETE FROM materials WHERE room = ?1 AND id = ?2",
                    params![room, id],
                )?;
                let used = used_in(&tx, &room)?;
                tx.commit()?;
                Ok(Some((json, used)))
            })
            .await?;
        found
            .map(|(j, used)| Ok((serde_json::from_str(&j).map_err(corrupt)?, used)))
            .transpose()
    }

    async fn exists(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.db
            .run(move |conn| {
                conn.prepare_cached("SELECT 1 FROM materials WHERE id = ?1")?
                    .exists(params![id])
            })
            .await
    }
}

/// The cluster backend.
pub struct RedisMaterials {
    conn: ConnectionManager,
}

fn redis_unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn room_key(room: &str) -> String {
    format!("studyhall:materials:{{{room}}}")
}

/// Which room holds a material id (for the disk sweep, which knows only ids).
fn id_key(id: &str) -> String {
    format!("studyhall:material:{id}")
}

/// KEYS: the room's hash, its used counter. ARGV: id, entry JSON, size, quota, max files.
/// Returns {1, used} stored, {0, used} over quota, {-1, 0} too many files.
const ADD: &str = r#"
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return {-1, 0} end
if used + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return {0, used} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {1, redis.call('INCRBY', KEYS[2], ARGV[3])}
"#;

/// KEYS: the room's hash, its used counter. ARGV: id. Returns {entry, used} or {}.
const REMOVE: &str = r#"
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return {} end
redis.call('HDEL', KEYS[1], ARGV[1])
local size = cjson.decode(entry)['size']
local used = redis.call('DECRBY', KEYS[2], size)
if used < 0 then redis.call('SET', KEYS[2], 0); used = 0 end
return {entry, used}
"#;

impl RedisMaterials {
    pub async fn connect(url: &str) -> Result<RedisMaterials, StoreError> {
        let client = redis::Client::open(url).map_err(redis_unavailable)?;
        let conn = ConnectionManager::new_with_config(client, super::redis_manager_config())
            .await
            .map_err(redis_unavailable)?;
        Ok(RedisMaterials { conn })
    }
}

#[async_trait]
impl MaterialStore for RedisMaterials {
    async fn add(
        &self,
        room: &str,
        entry: &StoredMaterial,
        quota: u64,
        max_files: usize,
    ) -> Result<Added, StoreError> {
        let json = serde_json::to_string(entry).map_err(corrupt)?;
        let key = room_key(room);
        let mut conn = self.conn.clone();
        let (code, used): (i64, u64) = redis::Script::new(ADD)
            .key(&key)
            .key(format!("{key}:used"))
            .arg(&entry.material.id)
            .arg(json)
            .arg(entry.material.size)
            .arg(quota)
            .arg(max_files)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        Ok(match code {
            1 => {
                // The sweep finds a file's entry through this index: without it the file
                // would be taken for an orphan, so the entry is taken back.
                let indexed: Result<(), _> = redis::cmd("SET")
                    .arg(id_key(&entry.material.id))
                    .arg(room)
                    .query_async(&mut conn)
                    .await;
                if let Err(e) = indexed {
                    let _ = self.remove(room, &entry.material.id).await;
                    return Err(redis_unavailable(e));
                }
                Added::Stored { used_bytes: used }
            }
            0 => Added::OverQuota { used_bytes: used },
            _ => Added::TooMany,
        })
    }

    async fn get(&self, room: &str, id: &str) -> Result<Option<StoredMaterial>, StoreError> {
        let mut conn = self.conn.clone();
        let json: Option<String> = redis::cmd("HGET")
            .arg(room_key(room))
            .arg(id)
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        json.map(|j| serde_json::from_str(&j).map_err(corrupt))
            .transpose()
    }

    async fn list(&self, room: &str) -> Result<Vec<StoredMaterial>, StoreError> {
        let mut conn = self.conn.clone();
        let values: Vec<String> = redis::cmd("HVALS")
            .arg(room_key(room))
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        entries(&values)
    }

    async fn used(&self, room: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        let used: Option<u64> = redis::cmd("GET")
            .arg(format!("{}:used", room_key(room)))
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        Ok(used.unwrap_or(0))
    }

    async fn remove(
        &self,
        room: &str,
        id: &str,
    ) -> Result<Option<(StoredMaterial, u64)>, StoreError> {
        let key = room_key(room);
        let mut conn = self.conn.clone();
        let reply: Vec<redis::Value> = redis::Script::new(REMOVE)
            .key(&key)
            .key(format!("{key}:used"))
            .arg(id)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        let [entry, used] = reply.as_slice() else {
            return Ok(None);
        };
        let entry: String = redis::from_redis_value(entry.clone())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let used: u64 = redis::from_redis_value(used.clone())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let _: Result<(), _> = redis::cmd("DEL")
            .arg(id_key(id))
            .query_async(&mut conn)
            .await;
        Ok(Some((serde_json::from_str(&entry).map_err(corrupt)?, used)))
    }

    async fn exists(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let room: Option<String> = redis::cmd("GET")
            .arg(id_key(id))
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        let Some(room) = room else {
            return Ok(false);
        };
        Ok(self.get(&room, id).await?.is_some())
    }
}

#[cfg(any(test, feature = "conformance"))]
pub mod conformance {
    use super::*;

    pub fn entry(id: &str, size: u64, at: u64) -> StoredMaterial {
        StoredMaterial {
            material: Material {
                id: format!("{id:0>32}"),
                name: format!("{id}.pdf"),
                size,
                mime: "application/pdf".into(),
                sha256: "ab".repeat(32),
                by: "ada".into(),
                by_name: "Ada".into(),
                at,
            },
            node: "node-a".into(),
        }
    }

    pub async fn entries_are_kept_per_room_oldest_first(store: &dyn MaterialStore) {
        let (b, a, c) = (entry("b", 10, 2), entry("a", 20, 1), entry("c", 5, 3));
        for e in [&b, &a] {
            assert!(matches!(
                store.add("r1", e, 1000, 10).await.unwrap(),
                Added::Stored { .. }
            ));
        }
        assert_eq!(
            store.add("r2", &c, 1000, 10).await.unwrap(),
            Added::Stored { used_bytes: 5 }
        );
        assert_eq!(store.list("r1").await.unwrap(), vec![a.clone(), b.clone()]);
        assert_eq!(store.used("r1").await.unwrap(), 30);
        assert_eq!(
            store.get("r1", &a.material.id).await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            store.get("r2", &a.material.id).await.unwrap(),
            None,
            "another room's id is not found"
        );
        assert!(store.exists(&c.material.id).await.unwrap());
        assert!(!store.exists(&"9".repeat(32)).await.unwrap());
        assert!(store.list("nobody").await.unwrap().is_empty());
        assert_eq!(store.used("nobody").await.unwrap(), 0);
    }

    pub async fn the_quota_and_the_count_hold(store: &dyn MaterialStore) {
        assert_eq!(
            store.add("q", &entry("1", 60, 1), 100, 3).await.unwrap(),
            Added::Stored { used_bytes: 60 }
        );
        assert_eq!(
            store.add("q", &entry("2", 41, 2), 100, 3).await.unwrap(),
            Added::OverQuota { used_bytes: 60 }
        );
        assert_eq!(
            store.add("q", &entry("3", 40, 3), 100, 3).await.unwrap(),
            Added::Stored { used_bytes: 100 },
            "exactly the quota fits"
        );
        assert_eq!(
            store.add("q", &entry("4", 0, 4), 100, 2).await.unwrap(),
            Added::TooMany
        );
        assert_eq!(store.list("q").await.unwrap().len(), 2);
    }

    pub async fn removing_gives_back_the_bytes(store: &dyn MaterialStore) {
        let e = entry("x", 70, 1);
        store.add("d", &e, 100, 10).await.unwrap();
        store.add("d", &entry("y", 30, 2), 100, 10).await.unwrap();
        let (gone, used) = store.remove("d", &e.material.id).await.unwrap().unwrap();
        assert_eq!((gone, used), (e.clone(), 30));
        assert_eq!(store.remove("d", &e.material.id).await.unwrap(), None);
        assert!(!store.exists(&e.material.id).await.unwrap());
        assert!(matches!(
            store.add("d", &entry("z", 70, 3), 100, 10).await.unwrap(),
            Added::Stored { used_bytes: 100 }
        ));
    }

    /// Many stores at once never pass the quota between them.
    pub async fn concurrent_adds_stay_within_the_quota(store: std::sync::Arc<dyn MaterialStore>) {
        let mut tasks = vec![];
        for i in 0..20 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .add("c", &entry(&format!("c{i}"), 10, i), 55, 100)
                    .await
                    .unwrap()
            }));
        }
        let mut stored = 0;
        for t in tasks {
            if matches!(t.await.unwrap(), Added::Stored { .. }) {
                stored += 1;
            }
        }
        assert_eq!(stored, 5);
        assert_eq!(store.used("c").await.unwrap(), 50);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_backend_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteMaterials::open_in(dir.path()).unwrap();
        conformance::entries_are_kept_per_room_oldest_first(&store).await;
        conformance::the_quota_and_the_count_hold(&store).await;
        conformance::removing_gives_back_the_bytes(&store).await;
        conformance::concurrent_adds_stay_within_the_quota(std::sync::Arc::new(store.clone()))
            .await;
        drop(store);
        let again = SqliteMaterials::open_in(dir.path()).unwrap();
        assert_eq!(again.used("r1").await.unwrap(), 30, "kept across a restart");
    }
}
