//! Each home node's live rooms, mirrored into Redis for operators and other nodes:
//!
//! - `studyhall:room:{room}:info` — hash: `host`, `mode` (`study` or `lecture`),
//!   `created_ms`, `lecture_start_ms` (empty unless a lecture's clock runs), `node`;
//! - `studyhall:room:{room}:participants` — hash: identity → JSON
//!   `{"participant": <Participant>, "node": "<node holding its socket>"}`;
//! - `studyhall:room:{room}:node` — the node the room lives on (see [`super::Cluster::place`]).
//!
//! All three carry a 24 h TTL, refreshed while the room is live; when the room ends they
//! are removed, and whatever a crash leaves behind expires. A room is written whole each
//! time it changes (after a short pause that batches bursts), so writes can never apply
//! out of order.

use std::collections::BTreeSet;
use std::sync::{Arc, Weak};
use std::time::Duration;

use studyhall_protocol::Role;
use tokio::sync::mpsc;
use tracing::warn;

use super::NodeHandles;
use super::{room_key, Cluster, ROOM_TTL};
use crate::room::Room;

/// Changes arriving within this long are written together.
const BATCH: Duration = Duration::from_millis(50);
/// How soon a failed write is tried again.
const RETRY: Duration = Duration::from_secs(2);

pub async fn run(
    cluster: Arc<Cluster>,
    relay: Weak<NodeHandles>,
    mut changes: mpsc::UnboundedReceiver<String>,
) {
    // Rooms whose write failed (Redis away) are tried again with the next batch, or
    // after RETRY when nothing else changes.
    let mut retry: BTreeSet<String> = BTreeSet::new();
    loop {
        let first = if retry.is_empty() {
            match changes.recv().await {
                Some(name) => Some(name),
                None => break,
            }
        } else {
            match tokio::time::timeout(RETRY, changes.recv()).await {
                Ok(None) => break,
                Ok(some) => some,
                Err(_) => None,
            }
        };
        tokio::time::sleep(BATCH).await;
        let mut dirty = std::mem::take(&mut retry);
        dirty.extend(first);
        while let Ok(name) = changes.try_recv() {
            dirty.insert(name);
        }
        let Some(relay) = relay.upgrade() else { break };
        for name in dirty {
            if let Err(e) = sync_room(&cluster, &relay, &name).await {
                warn!(room = %name, error = %e, "cannot mirror room state to Redis; will retry");
                retry.insert(name);
            }
        }
    }
}

/// Bring a room's live state in Redis in line with this node's memory.
async fn sync_room(
    cluster: &Cluster,
    relay: &NodeHandles,
    name: &str,
) -> Result<(), super::ClusterError> {
    if relay.rooms.get(name).is_none() {
        cluster.release(name).await?;
    }
    // Looked up again after the release: a join may have brought the room back, and
    // then it must be held and written again.
    match relay.rooms.get(name) {
        Some(room) => write_room(cluster, &room).await,
        None => Ok(()),
    }
}

/// Write a room's info and participants (replacing what was there) with fresh TTLs.
pub async fn write_room(cluster: &Cluster, room: &Room) -> Result<(), super::ClusterError> {
    // Only the room's holder writes its state (another node may hold it after a split;
    // the heartbeat then moves this node's participants there).
    let holder = cluster.claim(&room.name).await?;
    if holder != cluster.node_id {
        return Ok(());
    }
    let members = room.members();
    let host = members
        .iter()
        .find(|(p, _)| p.role == Role::Host)
        .map(|(p, _)| p.identity.clone())
        .unwrap_or_default();
    // The lecture as this node holds it (the mirror does not wait for a change in
    // progress: that change tells the mirror again when it is done).
    let lecture = room
        .feature::<crate::room::features::lecture::RoomLecture>()
        .peek()
        .unwrap_or_default();
    let mode = match lecture.mode {
        studyhall_protocol::RoomMode::Study => "study",
        studyhall_protocol::RoomMode::Lecture => "lecture",
    };
    let info_key = room_key(&room.name, "info");
    let people_key = room_key(&room.name, "participants");
    let ttl = ROOM_TTL.as_secs() as i64;
    let mut pipe = redis::pipe();
    pipe.atomic()
        .hset_multiple(
            &info_key,
            &[
                ("host", host),
                ("mode", mode.to_string()),
                ("created_ms", room.created_ms.to_string()),
                (
                    "lecture_start_ms",
                    lecture
                        .started_at
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                ),
                ("node", cluster.node_id.clone()),
            ],
        )
        .expire(&info_key, ttl)
        .del(&people_key);
    for (participant, origin) in &members {
        let node = origin.as_deref().unwrap_or(&cluster.node_id);
        let value = serde_json::json!({ "participant": participant, "node": node });
        pipe.hset(&people_key, &participant.identity, value.to_string());
    }
    pipe.expire(&people_key, ttl)
        .expire(room_key(&room.name, "node"), ttl);
    let mut conn = cluster.redis();
    pipe.query_async::<()>(&mut conn)
        .await
        .map_err(super::redis_err)
}

/// Refresh every live room's state (and so its TTLs).
pub async fn refresh_all(cluster: &Cluster, relay: &NodeHandles) {
    for name in relay.rooms.names() {
        if let Some(room) = relay.rooms.get(&name) {
            if let Err(e) = write_room(cluster, &room).await {
                warn!(room = %name, error = %e, "cannot refresh room state");
                break;
            }
        }
    }
}
