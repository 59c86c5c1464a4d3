//! Study groups, each kept as one document (members, schedule, invite, who was removed)
//! with a version: a change reads the document, changes it, and writes it back only if
//! nobody wrote in between ([`GroupStore::replace`]), so two nodes changing one group
//! at once never lose either change (the loser reads again and retries).
//!
//! Backends:
//! - embedded: SQLite (`groups.sqlite3`), the invite code a unique column;
//! - cluster: Redis, a hash per group (`studyhall:group:<id>`: `v` the version, `doc`
//!   the document), the invite code's owner (`studyhall:group-invite:<code>` → id) and
//!   the set of ids (`studyhall:groups`), changed together by one script each.
//!
//! Groups last until their owner deletes them. Both backends pass [`conformance`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use studyhall_protocol::groups::Group;

use super::sqlite_db::SqliteDb;
use super::StoreError;

/// File name of the embedded store inside the data directory.
pub const GROUPS_DB_FILE: &str = "groups.sqlite3";

/// A group as stored: what members see, plus what only the relay needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGroup {
    /// Members' view; `invite` holds the stored code (8 characters, no dashes).
    pub group: Group,
    /// Bumped by every write.
    pub version: u64,
    /// The device each member joined on (identity → device).
    #[serde(default)]
    pub devices: BTreeMap<String, String>,
    /// Identities and devices the owner removed: they may not join again.
    #[serde(default)]
    pub removed: Vec<String>,
    #[serde(default)]
    pub removed_devices: Vec<String>,
}

/// What [`GroupStore::replace`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    Done,
    /// The stored version is not the one read (or the group is gone): read again.
    Conflict,
    /// The new invite code belongs to another group.
    InviteTaken,
}

#[async_trait]
pub trait GroupStore: Send + Sync + 'static {
    /// Store a new group. `false` when its id or invite code is taken.
    async fn create(&self, group: &StoredGroup) -> Result<bool, StoreError>;

    async fn get(&self, id: &str) -> Result<Option<StoredGroup>, StoreError>;

    /// The group whose invite code is `code` (stored form).
    async fn by_invite(&self, code: &str) -> Result<Option<String>, StoreError>;

    /// Write `group` (its `version` one more than `read_version`) if the stored version
    /// is still `read_version`, moving its invite code when it changed.
    async fn replace(&self, read_version: u64, group: &StoredGroup)
        -> Result<Replaced, StoreError>;

    /// Forget a group and its invite. `false` when there was none.
    async fn delete(&self, id: &str) -> Result<bool, StoreError>;

    /// How many groups there are.
    async fn count(&self) -> Result<u64, StoreError>;
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("a stored group is unreadable: {e}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS groups (
    id      TEXT    NOT NULL PRIMARY KEY,
    invite  TEXT    NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    doc     TEXT    NOT NULL
);
";

/// The embedded backend.
#[derive(Clone)]
pub struct SqliteGroups {
    db: SqliteDb,
}

impl SqliteGroups {
    pub fn open_in(data_dir: &std::path::Path) -> Result<Self, StoreError> {
        let db = SqliteDb::open(data_dir, GROUPS_DB_FILE, SCHEMA, "groups", |_| Ok(()))?;
        Ok(SqliteGroups { db })
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

#[async_trait]
impl GroupStore for SqliteGroups {
    async fn create(&self, group: &StoredGroup) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(group).map_err(corrupt)?;
        let (id, invite, version) = (
            group.group.id.clone(),
            group.group.invite.clone(),
            group.version,
        );
        self.db
            .run(move |conn| {
                match conn.execute(
                    "INSERT INTO groups (id, invite, version, doc) VALUES (?1, ?2, ?3, ?4)",
                    params![id, invite, version as i64, doc],
                ) {
                    Ok(_) => Ok(true),
                    Err(e) if is_unique_violation(&e) => Ok(false),
                    Err(e) => Err(e),
                }
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<StoredGroup>, StoreError> {
        let id = id.to_string();
        let doc: Option<String> = self
            .db
            .run(move |conn| {
                conn.query_row("SELECT doc FROM groups WHERE id = ?1", params![id], |r| {
                    r.get(0)
                })
                .optional()
            })
            .await?;
        doc.map(|d| serde_json::from_str(&d).map_err(corrupt))
            .transpose()
    }

    async fn by_invite(&self, code: &str) -> Result<Option<String>, StoreError> {
        let code = code.to_string();
        self.db
            .run(move |conn| {
                conn.query_row(
                    "SELECT id FROM groups WHERE invite = ?1",
                    params![code],
                    |r| r.get(0),
                )
                .optional()
            })
            .await
    }

    async fn replace(
        &self,
        read_version: u64,
        group: &StoredGroup,
    ) -> Result<Replaced, StoreError> {
        let doc = serde_json::to_string(group).map_err(corrupt)?;
        let (id, invite, version) = (
            group.group.id.clone(),
            group.group.invite.clone(),
            group.version,
        );
        self.db
            .run(move |conn| {
                match conn.execute(
                    "UPDATE groups SET invite = ?1, version = ?2, doc = ?3 \
                     WHERE id = ?4 AND version = ?5",
                    params![invite, version as i64, doc, id, read_version as i64],
                ) {
                    Ok(1) => Ok(Replaced::Done),
                    Ok(_) => Ok(Replaced::Conflict),
                    Err(e) if is_unique_violation(&e) => Ok(Replaced::InviteTaken),
                    Err(e) => Err(e),
                }
            })
            .await
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.db
            .run(move |conn| Ok(conn.execute("DELETE FROM groups WHERE id = ?1", params![id])? > 0))
            .await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.db
            .run(|conn| {
                conn.query_row("SELECT COUNT(*) FROM groups", [], |r| r.get::<_, i64>(0))
                    .map(|n| n as u64)
            })
            .await
    }
}

/// The cluster backend.
pub struct RedisGroups {
    conn: ConnectionManager,
}

fn redis_unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn group_key(id: &str) -> String {
    format!("studyhall:group:{id}")
}

fn invite_key(code: &str) -> String {
    format!("studyhall:group-invite:{code}")
}

const IDS_KEY: &str = "studyhall:groups";

/// KEYS: the group's hash, its invite key, the id set. ARGV: id, version, doc.
/// Returns 1 stored, 0 taken.
const CREATE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'doc', ARGV[3], 'invite', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"#;

/// KEYS: the group's hash, the new invite key. ARGV: id, read version, new version, doc.
/// Returns 1 done, 0 conflict, 2 invite taken.
const REPLACE: &str = r#"
local v = redis.call('HGET', KEYS[1], 'v')
if (not v) or tonumber(v) ~= tonumber(ARGV[2]) then return 0 end
local old = redis.call('HGET', KEYS[1], 'invite')
if old ~= KEYS[2] then
  if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
  if old then redis.call('DEL', old) end
  redis.call('SET', KEYS[2], ARGV[1])
end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'doc', ARGV[4], 'invite', KEYS[2])
return 1
"#;

/// KEYS: the group's hash, the id set. ARGV: id. Returns 1 deleted, 0 none.
const DELETE: &str = r#"
local old = redis.call('HGET', KEYS[1], 'invite')
if not old then return 0 end
redis.call('DEL', old)
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
"#;

impl RedisGroups {
    pub async fn connect(url: &str) -> Result<RedisGroups, StoreError> {
        let client = redis::Client::open(url).map_err(redis_unavailable)?;
        let conn = ConnectionManager::new_with_config(client, super::redis_manager_config())
            .await
            .map_err(redis_unavailable)?;
        Ok(RedisGroups { conn })
    }
}

#[async_trait]
impl GroupStore for RedisGroups {
    async fn create(&self, group: &StoredGroup) -> Result<bool, StoreError> {
        let doc = serde_json::to_string(group).map_err(corrupt)?;
        let id = &group.group.id;
        let mut conn = self.conn.clone();
        let stored: i64 = redis::Script::new(CREATE)
            .key(group_key(id))
            .key(invite_key(&group.group.invite))
            .key(IDS_KEY)
            .arg(id)
            .arg(group.version)
            .arg(doc)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        Ok(stored == 1)
    }

    async fn get(&self, id: &str) -> Result<Option<StoredGroup>, StoreError> {
        let mut conn = self.conn.clone();
        let doc: Option<String> = redis::cmd("HGET")
            .arg(group_key(id))
            .arg("doc")
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        doc.map(|d| serde_json::from_str(&d).map_err(corrupt))
            .transpose()
    }

    async fn by_invite(&self, code: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(invite_key(code))
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn replace(
        &self,
        read_version: u64,
        group: &StoredGroup,
    ) -> Result<Replaced, StoreError> {
        let doc = serde_json::to_string(group).map_err(corrupt)?;
        let id = &group.group.id;
        let mut conn = self.conn.clone();
        let code: i64 = redis::Script::new(REPLACE)
            .key(group_key(id))
            .key(invite_key(&group.group.invite))
            .arg(id)
            .arg(read_version)
            .arg(group.version)
            .arg(doc)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        Ok(match code {
            1 => Replaced::Done,
            2 => Replaced::InviteTaken,
            _ => Replaced::Conflict,
        })
    }

    async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn.clone();
        let n: i64 = redis::Script::new(DELETE)
            .key(group_key(id))
            .key(IDS_KEY)
            .arg(id)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        Ok(n == 1)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let mut conn = self.conn.clone();
        redis::cmd("SCARD")
            .arg(IDS_KEY)
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)
    }
}

/// Behaviour every [`GroupStore`] backend must show.
#[cfg(any(test, feature = "conformance"))]
pub mod conformance {
    use super::*;
    use std::sync::Arc;
    use studyhall_protocol::groups::GroupMember;

    pub fn group(id: &str, invite: &str) -> StoredGroup {
        StoredGroup {
            group: Group {
                id: id.into(),
                name: format!("Group {id}"),
                room: studyhall_protocol::groups::group_room(id),
                owner: "m-owner".into(),
                members: vec![GroupMember {
                    identity: "m-owner".into(),
                    name: "Owner".into(),
                    joined_at: 1,
                }],
                sessions: vec![],
                invite: invite.into(),
                created_at: 1,
            },
            version: 1,
            devices: BTreeMap::new(),
            removed: vec![],
            removed_devices: vec![],
        }
    }

    pub async fn groups_are_found_by_id_and_invite(store: &dyn GroupStore) {
        let a = group("g00000000000a", "AAAAAAAA");
        assert!(store.create(&a).await.unwrap());
        assert_eq!(store.get("g00000000000a").await.unwrap(), Some(a.clone()));
        assert_eq!(
            store.by_invite("AAAAAAAA").await.unwrap().as_deref(),
            Some("g00000000000a")
        );
        assert_eq!(store.get("g00000000000z").await.unwrap(), None);
        assert_eq!(store.by_invite("ZZZZZZZZ").await.unwrap(), None);
        // Neither the id nor the invite code can be taken twice.
        assert!(!store
            .create(&group("g00000000000a", "BBBBBBBB"))
            .await
            .unwrap());
        assert!(!store
            .create(&group("g00000000000b", "AAAAAAAA"))
            .await
            .unwrap());
        assert_eq!(store.by_invite("BBBBBBBB").await.unwrap(), None);
        assert_eq!(store.count().await.unwrap(), 1);
    }

    pub async fn a_write_on_a_stale_read_is_refused(store: &dyn GroupStore) {
        let mut g = group("g00000000000c", "CCCCCCCC");
        assert!(store.create(&g).await.unwrap());
        g.version = 2;
        g.group.name = "Renamed".into();
        assert_eq!(store.replace(1, &g).await.unwrap(), Replaced::Done);
        let mut stale = g.clone();
        stale.version = 2;
        stale.group.name = "Lost".into();
        assert_eq!(store.replace(1, &stale).await.unwrap(), Replaced::Conflict);
        assert_eq!(
            store.get(&g.group.id).await.unwrap().unwrap().group.name,
            "Renamed"
        );
        let mut gone = group("g00000000000x", "XXXXXXXX");
        gone.version = 2;
        assert_eq!(store.replace(1, &gone).await.unwrap(), Replaced::Conflict);
        assert_eq!(store.get("g00000000000x").await.unwrap(), None);
    }

    pub async fn a_new_invite_replaces_the_old(store: &dyn GroupStore) {
        let mut g = group("g00000000000d", "DDDDDDDD");
        assert!(store.create(&g).await.unwrap());
        assert!(store
            .create(&group("g00000000000e", "EEEEEEEE"))
            .await
            .unwrap());
        g.version = 2;
        g.group.invite = "EEEEEEEE".into();
        assert_eq!(store.replace(1, &g).await.unwrap(), Replaced::InviteTaken);
        g.group.invite = "FFFFFFFF".into();
        assert_eq!(store.replace(1, &g).await.unwrap(), Replaced::Done);
        assert_eq!(store.by_invite("DDDDDDDD").await.unwrap(), None);
        assert_eq!(
            store.by_invite("FFFFFFFF").await.unwrap().as_deref(),
            Some("g00000000000d")
        );
        assert!(store.delete("g00000000000d").await.unwrap());
        assert!(!store.delete("g00000000000d").await.unwrap());
        assert_eq!(store.by_invite("FFFFFFFF").await.unwrap(), None);
        assert_eq!(store.get("g00000000000d").await.unwrap(), None);
    }

    /// Ten writers add a member each to one group at once, each rereading on conflict:
    /// all ten are kept.
    pub async fn concurrent_changes_are_all_kept(store: Arc<dyn GroupStore>) {
        assert!(store
            .create(&group("g00000000000f", "GGGGGGGG"))
            .await
            .unwrap());
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    loop {
                        let mut g = store.get("g00000000000f").await.unwrap().unwrap();
                        let read = g.version;
                        g.version += 1;
                        g.group.members.push(GroupMember {
                            identity: format!("m-{i}"),
                            name: format!("M{i}"),
                            joined_at: 2,
                        });
                        if store.replace(read, &g).await.unwrap() == Replaced::Done {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let g = store.get("g00000000000f").await.unwrap().unwrap();
        assert_eq!(g.group.members.len(), 11);
        assert_eq!(g.version, 11);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_backend_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteGroups::open_in(dir.path()).unwrap();
        conformance::groups_are_found_by_id_and_invite(&store).await;
        conformance::a_write_on_a_stale_read_is_refused(&store).await;
        conformance::a_new_invite_replaces_the_old(&store).await;
        conformance::concurrent_changes_are_all_kept(std::sync::Arc::new(store.clone())).await;
        drop(store);
        let again = SqliteGroups::open_in(dir.path()).unwrap();
        assert_eq!(
            again
                .get("g00000000000c")
                .await
                .unwrap()
                .unwrap()
                .group
                .name,
            "Renamed",
            "kept across a restart"
        );
    }
}
