//! Cluster mode: several relay nodes sharing one Redis.
//!
//! - [`registry`](Cluster::heartbeat): every node keeps a hash `studyhall:node:{id}` with
//!   its address and load (rooms, participants, tracks, CPU), refreshed every
//!   [`HEARTBEAT`] with a TTL of [`NODE_TTL`]; a node that stops is gone when it expires.
//! - placement ([`Cluster::place`]): a room lives on one node, recorded in
//!   `studyhall:room:{room}:node`. The first join picks the least loaded live node while
//!   holding `studyhall:room:{room}:lock`, so two nodes never both take a room; a room
//!   whose node is gone is placed again on the next join.
//! - the bus ([`bus`]): a client may connect to any node. When its room lives elsewhere,
//!   the node it reached (the *edge*) relays its frames to the room's node (the *home*)
//!   over Redis pub/sub, channel `studyhall:bus:{node}`, and the home's replies and room
//!   events come back the same way. Chat stays in the Redis stream, which is the source
//!   of truth: an edge that missed bus messages fills chat gaps from the stream.
//! - the mirror ([`mirror`]): each home node keeps its rooms' live state in Redis (room
//!   info and participants with their media state and node), with a 24 h TTL.

pub mod bus;
pub mod mirror;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::config::{redact_redis_url, Config};
use crate::room::Rooms;
use crate::sfu::runner::SfuHandle;

pub use bus::{BusMessage, Edge, Home};

/// What the cluster needs of its node, and nothing more: the rooms it serves, its media
/// load, and whether it is draining. The relay holds it; the cluster's tasks hold it
/// weakly and end when the relay is gone.
pub struct NodeHandles {
    pub rooms: Arc<Rooms>,
    pub sfu: SfuHandle,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

impl NodeHandles {
    pub fn new(
        rooms: Arc<Rooms>,
        sfu: SfuHandle,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        NodeHandles {
            rooms,
            sfu,
            shutdown,
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub fn shutting_down_rx(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.clone()
    }
}

/// How often a node refreshes its registry entry.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node whose entry is this old is gone.
pub const NODE_TTL: Duration = Duration::from_secs(5);
/// Live room state expires this long after its last refresh.
pub const ROOM_TTL: Duration = Duration::from_secs(24 * 3600);
/// Refresh a live room's TTLs every this many heartbeats.
const ROOM_REFRESH_EVERY: u64 = 30;
/// How long a command may take before it fails (no hangs while Redis is away).
const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// The placement lock is held at most this long (a node that dies holding it).
const PLACE_LOCK_TTL_MS: u64 = 3000;
/// How long a join waits for another node's placement of the same room.
const PLACE_WAIT: Duration = Duration::from_secs(3);

/// The set of node ids (an index over the `studyhall:node:{id}` entries).
const NODES_KEY: &str = "studyhall:nodes";
/// The index outlives its last node by this long.
const NODES_KEY_TTL: Duration = Duration::from_secs(3600);

pub fn node_key(id: &str) -> String {
    format!("studyhall:node:{id}")
}

pub fn room_key(room: &str, what: &str) -> String {
    format!("studyhall:room:{{{room}}}:{what}")
}

pub fn bus_channel(node: &str) -> String {
    format!("studyhall:bus:{node}")
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("Redis is unreachable: {0}")]
    Redis(String),
    #[error("no live relay node is registered")]
    NoNodes,
    #[error("another node is still placing this room; try again")]
    Busy,
}

fn redis_err(e: redis::RedisError) -> ClusterError {
    ClusterError::Redis(e.to_string())
}

/// A node's registry entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeLoad {
    pub id: String,
    pub url: String,
    pub rooms: u64,
    pub participants: u64,
    pub tracks: u64,
    /// CPU used by the process over the last heartbeat, in per mille of one core.
    pub cpu_permille: u64,
}

impl NodeLoad {
    /// Order of preference for a new room: fewest participants, then fewest rooms, then
    /// least CPU (the id breaks ties, so every node picks the same one).
    fn rank(&self) -> (u64, u64, u64, &str) {
        (self.participants, self.rooms, self.cpu_permille, &self.id)
    }

    fn from_fields(id: &str, fields: &HashMap<String, String>) -> NodeLoad {
        let num = |k: &str| fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
        NodeLoad {
            id: id.to_string(),
            url: fields.get("url").cloned().unwrap_or_default(),
            rooms: num("rooms"),
            participants: num("participants"),
            tracks: num("tracks"),
            cpu_permille: num("cpu"),
        }
    }
}

/// Releases the placement lock only if we still hold it.
const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Take a room for this node unless a node holds it: returns the holder.
const CLAIM: &str = r#"
local current = redis.call('GET', KEYS[1])
if current then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
"#;

/// Record a placement, only while still holding the placement lock (a lock that
/// expired mid-placement may be someone else's now): clears the room's leftover live
/// state and names its node.
///
/// The chosen node's registry entry counts the room and its first participant at once
/// (its next heartbeat writes the real figures), so a burst of new rooms spreads over the
/// nodes instead of all going to whichever looked least loaded a moment ago.
const PLACE: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('HINCRBY', KEYS[5], 'rooms', 1)
  redis.call('HINCRBY', KEYS[5], 'participants', 1)
end
return 1
"#;

/// Forget a room's live state if this node still holds it.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 1
end
return 0
"#;

/// One node's link to the cluster.
pub struct Cluster {
    pub node_id: String,
    pub public_url: String,
    /// Where other nodes fetch this node's shared files (registry field `internal`).
    pub internal_url: String,
    redacted_url: String,
    client: redis::Client,
    conn: ConnectionManager,
    up: AtomicBool,
    /// Whether the bus subscription stands; the node registers only while it does.
    subscribed: AtomicBool,
    /// Tells the bus subscriber to drop its connection and subscribe again.
    resubscribe: tokio::sync::Notify,
    /// When Redis last came back after being unreachable (see [`Cluster::in_grace`]).
    recovered: Mutex<Option<Instant>>,
    /// Distinguishes this process's connection keys from an earlier run's.
    instance: String,
    next_conn: AtomicU64,
    live_nodes: AtomicU64,
    cpu_permille: AtomicU64,
    bus_drops: AtomicU64,
    claim: Script,
    place: Script,
    unlock: Script,
    release: Script,
    /// Edge side: relayed sockets on this node, by connection key.
    pub edges: Mutex<HashMap<String, Edge>>,
    /// Home side: sessions of sockets on other nodes, by connection key.
    pub homes: Mutex<HashMap<String, Home>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Cluster {
    /// Connect to Redis. Fails at once with a clear message when it does not answer.
    pub async fn connect(
        config: &Config,
        listen: std::net::SocketAddr,
    ) -> Result<Cluster, ClusterError> {
        let url = config.redis_url.clone().unwrap_or_default();
        let redacted_url = redact_redis_url(&url);
        let client = redis::Client::open(url.as_str())
            .map_err(|e| ClusterError::Redis(format!("{redacted_url}: {e}")))?;
        let settings = crate::store::redis_manager_config();
        let conn = ConnectionManager::new_with_config(client.clone(), settings)
            .await
            .map_err(|e| ClusterError::Redis(format!("{redacted_url}: {e}")))?;
        let node_id = config
            .node_id
            .clone()
            .unwrap_or_else(|| format!("node-{}", hex::encode(rand::random::<[u8; 3]>())));
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("ws://{listen}{}", studyhall_protocol::WS_PATH));
        Ok(Cluster {
            node_id,
            public_url,
            internal_url: config.internal_url(),
            redacted_url,
            client,
            conn,
            up: AtomicBool::new(true),
            subscribed: AtomicBool::new(false),
            recovered: Mutex::new(None),
            resubscribe: tokio::sync::Notify::new(),
            instance: hex::encode(rand::random::<[u8; 4]>()),
            next_conn: AtomicU64::new(1),
            live_nodes: AtomicU64::new(0),
            cpu_permille: AtomicU64::new(0),
            bus_drops: AtomicU64::new(0),
            claim: Script::new(CLAIM),
            place: Script::new(PLACE),
            unlock: Script::new(UNLOCK),
            release: Script::new(RELEASE),
            edges: Mutex::new(HashMap::new()),
            homes: Mutex::new(HashMap::new()),
        })
    }

    /// A connection to share (multiplexed; it reconnects by itself).
    pub fn redis(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn redis_url(&self) -> &str {
        &self.redacted_url
    }

    /// Whether the last heartbeat reached Redis.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn mark(&self, ok: bool) {
        let was = self.up.swap(ok, Ordering::Relaxed);
        if was != ok {
            if ok {
                *lock(&self.recovered) = Some(Instant::now());
                info!(redis = %self.redacted_url, "Redis is reachable again");
            } else {
                warn!(redis = %self.redacted_url, "Redis is unreachable");
            }
        }
    }

    /// Shortly after Redis comes back, the other nodes' registry entries may have
    /// expired while they simply could not renew them. Until they had time to register
    /// again, a missing entry does not mean a node is gone: rooms stay where they are and
    /// relayed sockets stay open.
    pub fn in_grace(&self) -> bool {
        lock(&self.recovered).is_some_and(|t| t.elapsed() < NODE_TTL + HEARTBEAT * 2)
    }

    /// Start the heartbeat, the bus subscriber and the room mirror. Remote sessions
    /// asked for over the bus arrive on `opens`.
    pub fn start(
        self: &Arc<Self>,
        relay: Weak<NodeHandles>,
        changes: mpsc::UnboundedReceiver<String>,
        opens: mpsc::UnboundedSender<bus::OpenRequest>,
    ) {
        tokio::spawn(heartbeat_loop(self.clone(), relay.clone()));
        tokio::spawn(bus::subscribe_loop(self.clone(), relay.clone(), opens));
        tokio::spawn(mirror::run(self.clone(), relay, changes));
    }

    /// A new key for a socket relayed from this node.
    pub fn new_conn_key(&self) -> String {
        format!(
            "{}.{}.{}",
            self.node_id,
            self.instance,
            self.next_conn.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Write this node's registry entry with its load.
    async fn register(&self, load: &NodeLoad) -> Result<(), ClusterError> {
        let key = node_key(&self.node_id);
        let now_ms = crate::ids::now_ms();
        let mut conn = self.conn.clone();
        redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("url", load.url.clone()),
                    ("internal", self.internal_url.clone()),
                    ("rooms", load.rooms.to_string()),
                    ("participants", load.participants.to_string()),
                    ("tracks", load.tracks.to_string()),
                    ("cpu", load.cpu_permille.to_string()),
                    ("updated_ms", now_ms.to_string()),
                ],
            )
            .pexpire(&key, NODE_TTL.as_millis() as i64)
            .sadd(NODES_KEY, &self.node_id)
            .expire(NODES_KEY, NODES_KEY_TTL.as_secs() as i64)
            .query_async::<()>(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// Leave the registry (on shutdown), so no new room is placed here.
    pub async fn deregister(&self) {
        let mut conn = self.conn.clone();
        let _: Result<(), _> = redis::pipe()
            .del(node_key(&self.node_id))
            .srem(NODES_KEY, &self.node_id)
            .query_async(&mut conn)
            .await;
    }

    /// Every live node with its load. Entries whose key expired are dropped from the set.
    pub async fn nodes(&self) -> Result<Vec<NodeLoad>, ClusterError> {
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn.smembers(NODES_KEY).await.map_err(redis_err)?;
        if ids.is_empty() {
            // (An empty pipeline is an error to the Redis client.)
            self.live_nodes.store(0, Ordering::Relaxed);
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(node_key(id));
        }
        let entries: Vec<HashMap<String, String>> =
            pipe.query_async(&mut conn).await.map_err(redis_err)?;
        let mut live = Vec::new();
        for (id, fields) in ids.iter().zip(entries) {
            if fields.is_empty() {
                let _: Result<(), _> = conn.srem(NODES_KEY, id).await;
            } else {
                live.push(NodeLoad::from_fields(id, &fields));
            }
        }
        self.live_nodes.store(live.len() as u64, Ordering::Relaxed);
        Ok(live)
    }

    /// The HTTP address `node` serves its shared files at; `None` when it is not
    /// registered (gone).
    pub async fn internal_url_of(&self, node: &str) -> Result<Option<String>, ClusterError> {
        if node == self.node_id {
            return Ok(Some(self.internal_url.clone()));
        }
        let mut conn = self.conn.clone();
        conn.hget(node_key(node), "internal")
            .await
            .map_err(redis_err)
    }

    /// Whether `node` is registered (definite answers only: an error is not "gone").
    pub async fn is_live(&self, node: &str) -> Result<bool, ClusterError> {
        if node == self.node_id {
            return Ok(true);
        }
        let mut conn = self.conn.clone();
        conn.exists(node_key(node)).await.map_err(redis_err)
    }

    /// The node a room lives on, placing it on the least loaded live node when it has
    /// none (or its node is gone).
    pub async fn place(&self, room: &str) -> Result<String, ClusterError> {
        let deadline = Instant::now() + PLACE_WAIT;
        let node_key_of_room = room_key(room, "node");
        let lock_key = room_key(room, "lock");
        let token = hex::encode(rand::random::<[u8; 8]>());
        let mut conn = self.conn.clone();
        loop {
            let current: Option<String> = conn.get(&node_key_of_room).await.map_err(redis_err)?;
            if let Some(node) = &current {
                if self.in_grace() || self.is_live(node).await? {
                    return Ok(node.clone());
                }
            }
            let locked: Option<String> = redis::cmd("SET")
                .arg(&lock_key)
                .arg(&token)
                .arg("NX")
                .arg("PX")
                .arg(PLACE_LOCK_TTL_MS)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            if locked.is_some() {
                let placed = self.place_locked(room, &lock_key, &token).await;
                let _: Result<i64, _> = self
                    .unlock
                    .key(&lock_key)
                    .arg(&token)
                    .invoke_async(&mut conn)
                    .await;
                match placed {
                    Ok(Some(node)) => return Ok(node),
                    Ok(None) => {} // The lock expired under us: look again.
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Busy);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Placement under the room's lock: check again, then pick. `None` when the lock
    /// was lost before the choice could be recorded.
    async fn place_locked(
        &self,
        room: &str,
        lock_key: &str,
        token: &str,
    ) -> Result<Option<String>, ClusterError> {
        let key = room_key(room, "node");
        let mut conn = self.conn.clone();
        let previous: Option<String> = conn.get(&key).await.map_err(redis_err)?;
        if let Some(node) = &previous {
            if self.is_live(node).await? {
                return Ok(Some(node.clone()));
            }
        }
        let mut nodes = self.nodes().await?;
        // A node that has just started may not be registered yet, but it is alive and can
        // take the room once its bus listens.
        let unregistered = !nodes.iter().any(|n| n.id == self.node_id);
        if self.subscribed.load(Ordering::Relaxed) && unregistered {
            nodes.push(NodeLoad {
                id: self.node_id.clone(),
                url: self.public_url.clone(),
                ..Default::default()
            });
        }
        let chosen = nodes
            .iter()
            .min_by(|a, b| a.rank().cmp(&b.rank()))
            .map(|n| n.id.clone())
            .ok_or(ClusterError::NoNodes)?;
        // Registered before a room is recorded here: a node that finds the room here a
        // moment later must find this node alive, or it would take the room over (the
        // next heartbeat writes the real figures).
        if chosen == self.node_id && unregistered {
            self.register(&NodeLoad {
                id: self.node_id.clone(),
                url: self.public_url.clone(),
                ..Default::default()
            })
            .await?;
        }
        // A room taken over from a node that died: its leftover live state goes.
        let recorded: i64 = self
            .place
            .key(lock_key)
            .key(&key)
            .key(room_key(room, "info"))
            .key(room_key(room, "participants"))
            .key(node_key(&chosen))
            .arg(token)
            .arg(&chosen)
            .arg(ROOM_TTL.as_secs())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)?;
        if recorded == 0 {
            warn!(
                room,
                "placement lock expired before the choice was recorded; retrying"
            );
            return Ok(None);
        }
        info!(room, node = %chosen, previous = ?previous, "room placed");
        Ok(Some(chosen))
    }

    /// Hold `room` for this node unless a node holds it; returns the holder.
    pub async fn claim(&self, room: &str) -> Result<String, ClusterError> {
        let mut conn = self.conn.clone();
        self.claim
            .key(room_key(room, "node"))
            .arg(&self.node_id)
            .arg(ROOM_TTL.as_secs())
            .invoke_async(&mut conn)
            .await
            .map_err(redis_err)
    }

    /// The room ended here: remove its live state (only if this node still holds it).
    pub async fn release(&self, room: &str) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        self.release
            .key(room_key(room, "node"))
            .key(room_key(room, "info"))
            .key(room_key(room, "participants"))
            .arg(&self.node_id)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(redis_err)
    }

    /// Publish on a node's bus channel; returns how many subscribers got it (0: the node
    /// is not listening).
    pub async fn publish(&self, node: &str, msg: &BusMessage) -> Result<u64, ClusterError> {
        let payload = serde_json::to_string(msg).map_err(|e| ClusterError::Redis(e.to_string()))?;
        let mut conn = self.conn.clone();
        let result = conn.publish(bus_channel(node), payload).await;
        if result.is_err() {
            self.bus_drops.fetch_add(1, Ordering::Relaxed);
        }
        result.map_err(redis_err)
    }

    /// Prometheus lines for the cluster.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let edges = lock(&self.edges).len();
        let homes = lock(&self.homes).len();
        for (name, kind, help, value) in [
            (
                "studyhall_redis_up",
                "gauge",
                "1 when the last heartbeat reached Redis.",
                u64::from(self.is_up()),
            ),
            (
                "studyhall_cluster_nodes",
                "gauge",
                "Live nodes in the registry (as last read).",
                self.live_nodes.load(Ordering::Relaxed),
            ),
            (
                "studyhall_node_cpu_permille",
                "gauge",
                "CPU used by this node over the last heartbeat, per mille of one core.",
                self.cpu_permille.load(Ordering::Relaxed),
            ),
            (
                "studyhall_relayed_out_connections",
                "gauge",
                "Sockets on this node whose room lives on another node.",
                edges as u64,
            ),
            (
                "studyhall_relayed_in_connections",
                "gauge",
                "Participants of rooms here whose sockets are on other nodes.",
                homes as u64,
            ),
            (
                "studyhall_bus_publish_failures_total",
                "counter",
                "Bus messages that could not be published.",
                self.bus_drops.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{node=\"{}\"}} {value}",
                self.node_id
            );
        }
    }
}

/// Drop a remote session's bus entry.
pub fn forget_home(cluster: &Cluster, conn: &str) {
    lock(&cluster.homes).remove(conn);
}

/// Drop a relayed socket's bus entry.
pub fn forget_edge(cluster: &Cluster, conn: &str) {
    lock(&cluster.edges).remove(conn);
}

/// CPU time of this process (user + system), from /proc.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks; USER_HZ is 100 on every architecture it runs here.
    Some(Duration::from_millis((utime + stime) * 10))
}

async fn heartbeat_loop(cluster: Arc<Cluster>, relay: Weak<NodeHandles>) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_cpu = (Instant::now(), process_cpu());
    let mut beats: u64 = 0;
    loop {
        tick.tick().await;
        let Some(relay) = relay.upgrade() else { break };
        if relay.is_shutting_down() {
            cluster.deregister().await;
            break;
        }
        let now = (Instant::now(), process_cpu());
        if let (Some(before), Some(after)) = (last_cpu.1, now.1) {
            let wall = now.0.duration_since(last_cpu.0).as_secs_f64().max(0.001);
            let used = after.saturating_sub(before).as_secs_f64();
            cluster
                .cpu_permille
                .store((used / wall * 1000.0) as u64, Ordering::Relaxed);
        }
        last_cpu = now;
        if !cluster.subscribed.load(Ordering::Relaxed) {
            // Not listening on the bus: rooms must not be placed here yet.
            let mut conn = cluster.conn.clone();
            let pong = redis::cmd("PING").query_async::<String>(&mut conn).await;
            cluster.mark(pong.is_ok());
            // Register as soon as the subscription stands.
            tick.reset_after(Duration::from_millis(100));
            continue;
        }
        let load = current_load(&cluster, &relay).await;
        let ok = tokio::time::timeout(OP_TIMEOUT, cluster.register(&load))
            .await
            .map_err(|_| ClusterError::Redis("timed out".into()))
            .and_then(|r| r);
        if let Err(e) = &ok {
            warn!(error = %e, "heartbeat failed");
        }
        cluster.mark(ok.is_ok());
        if ok.is_ok() {
            // A subscription can die without its connection noticing (half-open TCP):
            // a probe to ourselves that nobody receives means it is gone.
            if let Ok(0) = cluster.publish(&cluster.node_id, &BusMessage::Probe).await {
                warn!("bus subscription is deaf; resubscribing");
                cluster.resubscribe.notify_one();
            }
            let _ = cluster.nodes().await;
            bus::check_peers(&cluster, &relay).await;
            beats += 1;
            if beats % ROOM_REFRESH_EVERY == 0 {
                mirror::refresh_all(&cluster, &relay).await;
            }
        }
    }
}

async fn current_load(cluster: &Cluster, relay: &NodeHandles) -> NodeLoad {
    let (rooms, participants) = relay.rooms.counts();
    let (_, _, tracks) = relay.sfu.counts().await;
    NodeLoad {
        id: cluster.node_id.clone(),
        url: cluster.public_url.clone(),
        rooms: rooms as u64,
        participants: participants as u64,
        tracks: tracks as u64,
        cpu_permille: cluster.cpu_permille.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_loaded_wins_and_ties_break_by_id() {
        let node = |id: &str, participants, rooms| NodeLoad {
            id: id.into(),
            participants,
            rooms,
            ..Default::default()
        };
        let nodes = [node("b", 3, 1), node("a", 0, 2), node("c", 0, 1)];
        let best = nodes.iter().min_by(|x, y| x.rank().cmp(&y.rank())).unwrap();
        assert_eq!(best.id, "c");
        let tie = [node("b", 0, 0), node("a", 0, 0)];
        let best = tie.iter().min_by(|x, y| x.rank().cmp(&y.rank())).unwrap();
        assert_eq!(best.id, "a");
    }

    #[test]
    fn cpu_time_is_read() {
        assert!(process_cpu().is_some());
    }
}
