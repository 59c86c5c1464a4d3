//! Where invite codes are kept: in memory on an embedded relay, in Redis on a cluster (so
//! a code made on one node redeems on any). Both backends pass the conformance tests in
//! [`conformance`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use super::StoreError;

/// A live invite.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invite {
    pub code: String,
    pub room: String,
    /// Identity of the host who made it.
    pub created_by: String,
    /// When it stops working, in ms since the Unix epoch.
    pub expires_at_ms: u64,
    #[serde(skip, default = "Instant::now")]
    pub(crate) expires: Instant,
}

impl Invite {
    pub fn new(code: String, room: &str, created_by: &str, ttl: Duration, now_ms: u64) -> Self {
        Invite {
            code,
            room: room.to_string(),
            created_by: created_by.to_string(),
            expires_at_ms: now_ms + ttl.as_millis() as u64,
            expires: Instant::now() + ttl,
        }
    }

    /// An invite read back from a shared store, given the wall clock now.
    pub fn restored(mut self, now_ms: u64) -> Invite {
        let left = self.expires_at_ms.saturating_sub(now_ms);
        self.expires = Instant::now() + Duration::from_millis(left);
        self
    }

    /// Whether it still works.
    pub fn is_live(&self) -> bool {
        self.expires > Instant::now()
    }

    fn time_left(&self) -> Duration {
        self.expires.saturating_duration_since(Instant::now())
    }
}

/// Most live invites a memory store keeps; past this, `put` is refused (Redis keys expire
/// by themselves and are bounded by the operator's memory policy).
pub const MAX_INVITES: usize = 10_000;

/// Where invites live until they expire.
#[async_trait]
pub trait InviteStore: Send + Sync + 'static {
    /// Keep `invite` until it expires. A code already taken is refused (`Ok(false)`), so
    /// the caller picks another. A full store is [`StoreError::Full`].
    async fn put(&self, invite: &Invite) -> Result<bool, StoreError>;

    /// The live invite with this (canonical) code.
    async fn get(&self, code: &str) -> Result<Option<Invite>, StoreError>;
}

/// The embedded backend.
#[derive(Default)]
pub struct MemoryInvites {
    codes: Mutex<HashMap<String, Invite>>,
}

impl MemoryInvites {
    /// Live invites (for metrics and tests).
    pub fn len(&self) -> usize {
        let codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.values().filter(|i| i.is_live()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl InviteStore for MemoryInvites {
    async fn put(&self, invite: &Invite) -> Result<bool, StoreError> {
        let mut codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        codes.retain(|_, i| i.is_live());
        if codes.contains_key(&invite.code) {
            return Ok(false);
        }
        if codes.len() >= MAX_INVITES {
            return Err(StoreError::Full(format!(
                "this relay holds {MAX_INVITES} invites"
            )));
        }
        codes.insert(invite.code.clone(), invite.clone());
        Ok(true)
    }

    async fn get(&self, code: &str) -> Result<Option<Invite>, StoreError> {
        let codes = self.codes.lock().unwrap_or_else(|p| p.into_inner());
        Ok(codes.get(code).filter(|i| i.is_live()).cloned())
    }
}

/// The cluster backend: one key per code, `studyhall:invite:{code}`, expiring with the
/// invite.
pub struct RedisInvites {
    conn: ConnectionManager,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn invite_key(code: &str) -> String {
    format!("studyhall:invite:{code}")
}

impl RedisInvites {
    /// Connect to `url`; fails at once when the server does not answer.
    pub async fn connect(url: &str) -> Result<RedisInvites, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = ConnectionManager::new_with_config(client, super::redis_manager_config())
            .await
            .map_err(unavailable)?;
        Ok(RedisInvites { conn })
    }
}

#[async_trait]
impl InviteStore for RedisInvites {
    async fn put(&self, invite: &Invite) -> Result<bool, StoreError> {
        let json = serde_json::to_string(invite)
            .map_err(|e| StoreError::Corrupt(format!("cannot encode an invite: {e}")))?;
        let ttl_ms = invite.time_left().as_millis().max(1) as u64;
        let mut conn = self.conn.clone();
        // NX: a code another node holds is not overwritten.
        let set: Option<String> = redis::cmd("SET")
            .arg(invite_key(&invite.code))
            .arg(json)
            .arg("PX")
            .arg(ttl_ms)
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    async fn get(&self, code: &str) -> Result<Option<Invite>, StoreError> {
        let mut conn = self.conn.clone();
        let json: Option<String> = conn.get(invite_key(code)).await.map_err(unavailable)?;
        let Some(json) = json else { return Ok(None) };
        match serde_json::from_str::<Invite>(&json) {
            Ok(invite) => Ok(Some(invite.restored(crate::ids::now_ms())).filter(Invite::is_live)),
            // Not ours to read (another version wrote it, or it was damaged): no such
            // invite, as far as this node can tell.
            Err(e) => {
                tracing::warn!(error = %e, "unreadable invite in Redis");
                Ok(None)
            }
        }
    }
}

#[cfg(any(test, feature = "conformance"))]
pub mod conformance {
    use super::*;

    fn invite(code: &str, ttl: Duration) -> Invite {
        Invite::new(code.into(), "algebra", "host-1", ttl, crate::ids::now_ms())
    }

    pub async fn an_invite_is_found_until_it_expires(store: &dyn InviteStore) {
        let live = invite("LIVE0001", Duration::from_secs(60));
        assert!(store.put(&live).await.unwrap());
        let found = store.get("LIVE0001").await.unwrap().expect("stored");
        assert_eq!(
            (found.room.as_str(), found.created_by.as_str()),
            ("algebra", "host-1")
        );
        assert_eq!(found.expires_at_ms, live.expires_at_ms);
        assert!(found.is_live());
        assert_eq!(store.get("NONE0001").await.unwrap(), None);
        let short = invite("SHORT001", Duration::from_millis(30));
        assert!(store.put(&short).await.unwrap());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(store.get("SHORT001").await.unwrap(), None, "expired");
    }

    pub async fn a_taken_code_is_not_overwritten(store: &dyn InviteStore) {
        assert!(store
            .put(&invite("TAKEN001", Duration::from_secs(60)))
            .await
            .unwrap());
        let mut other = invite("TAKEN001", Duration::from_secs(60));
        other.room = "physics".into();
        assert!(!store.put(&other).await.unwrap(), "the code is taken");
        let kept = store.get("TAKEN001").await.unwrap().unwrap();
        assert_eq!(kept.room, "algebra");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_memory_store_passes_the_conformance_suite() {
        let store = MemoryInvites::default();
        conformance::an_invite_is_found_until_it_expires(&store).await;
        conformance::a_taken_code_is_not_overwritten(&store).await;
        assert_eq!(store.len(), 2, "the live ones");
    }
}
