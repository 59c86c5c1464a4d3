//! Presence: which group members are online, in which room, and whether that room's
//! focus timer is in a focus phase or a break.
//!
//! Each node knows its own part of a member's presence (a [`NodeView`]): whether it
//! holds a presence socket of theirs (and whether they asked to appear offline), and
//! whether they are in a room living on it (and that room's timer phase). A member's
//! presence is the sum of the views of every node:
//! - embedded, there is one node;
//! - in a cluster, each node writes its views to Redis (`studyhall:presence:<identity>`,
//!   a hash of node → view, each with the time it is good until) and publishes each
//!   change on `studyhall:presence`; every node keeps the others' views it heard, reads
//!   them from the hash when a socket starts watching, and forgets those whose time ran
//!   out (a node that died), so nothing stays online for ever.
//!
//! Watchers are the presence sockets of this node: each names the groups it watches and
//! gets a member's new presence when it changes, and group changes (members, schedule,
//! invite) as they are written.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use studyhall_protocol::groups::{
    FocusPresence, MemberPresence, PresenceServer, PresenceStatus, RoomPresence,
};
use tokio::sync::mpsc;

use crate::room::{lock, Rooms};
use crate::store::{GroupStore, StoredGroup};

/// Frames queued for one presence socket before it counts as a slow consumer.
pub const WATCHER_QUEUE: usize = 256;
/// The channel every node publishes presence and group changes on.
pub const CHANNEL: &str = "studyhall:presence";
/// How long a node's view in Redis is good for, and how often a node renews it.
const VIEW_TTL: Duration = Duration::from_secs(60);
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// How often watchers are checked against views that ran out.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Identities made for group members start with this; only theirs are tracked in rooms.
pub const MEMBER_PREFIX: &str = "m-";

fn presence_key(identity: &str) -> String {
    format!("studyhall:presence:{identity}")
}

/// One node's part of a member's presence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    #[serde(default)]
    pub online: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub focus: Option<FocusPresence>,
}

impl NodeView {
    fn is_empty(&self) -> bool {
        *self == NodeView::default()
    }
}

/// A message on [`CHANNEL`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Broadcast {
    /// A node's view of a member changed (empty: it has none now).
    View {
        node: String,
        identity: String,
        view: NodeView,
        until: u64,
    },
    /// A group was written: watchers read it again. `removed`: a member who is out.
    Group {
        node: String,
        group: String,
        #[serde(default)]
        removed: Option<String>,
        #[serde(default)]
        deleted: bool,
    },
}

/// One presence socket of this node.
struct Watcher {
    /// Its own identities (from its tokens).
    own: HashSet<String>,
    /// Watched group → its standing room.
    groups: HashMap<String, String>,
    /// Members of the watched groups → the groups they are watched through.
    members: HashMap<String, HashSet<String>>,
    tx: mpsc::Sender<Arc<str>>,
    /// What it was last told of each member.
    sent: HashMap<String, MemberPresence>,
    /// Set when its queue overflowed: the socket closes (`slow_consumer`).
    overflowed: Arc<AtomicBool>,
}

#[derive(Default)]
struct HubState {
    /// This node's presence sockets: identity → (socket, hidden) for each.
    sockets: HashMap<String, Vec<(u64, bool)>>,
    /// Members in each room living here, with the room's timer phase.
    rooms: HashMap<String, HashSet<String>>,
    focus: HashMap<String, Option<FocusPresence>>,
    /// Other nodes' views: identity → node → (view, good until ms).
    remote: HashMap<String, HashMap<String, (NodeView, u64)>>,
    watchers: HashMap<u64, Watcher>,
    next_id: u64,
}

/// What a new watcher gets: its id, its queue and its overflow flag.
pub struct Watching {
    pub id: u64,
    pub rx: mpsc::Receiver<Arc<str>>,
    pub overflowed: Arc<AtomicBool>,
}

/// This node's presence.
pub struct PresenceHub {
    /// This node's id; empty on an embedded relay.
    node: String,
    redis: Option<(redis::Client, redis::aio::ConnectionManager)>,
    /// In a cluster: this node's view changes, to [`publish`] in order.
    publisher: Option<mpsc::UnboundedSender<(String, NodeView)>>,
    groups: Arc<dyn GroupStore>,
    state: Mutex<HubState>,
}

fn serialize(msg: &PresenceServer) -> Arc<str> {
    serde_json::to_string(msg)
        .unwrap_or_else(|_| "{}".into())
        .into()
}

impl PresenceHub {
    /// Presence on an embedded relay (one node).
    pub fn embedded(groups: Arc<dyn GroupStore>) -> Arc<Self> {
        Arc::new(PresenceHub {
            node: String::new(),
            redis: None,
            publisher: None,
            groups,
            state: Mutex::new(HubState::default()),
        })
    }

    /// Presence on cluster node `node`, shared through Redis at `url`.
    pub async fn clustered(
        groups: Arc<dyn GroupStore>,
        node: &str,
        url: &str,
    ) -> Result<Arc<Self>, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let conn = redis::aio::ConnectionManager::new_with_config(
            client.clone(),
            crate::store::redis_manager_config(),
        )
        .await?;
        let (publisher, changes) = mpsc::unbounded_channel();
        tokio::spawn(publish(conn.clone(), node.to_string(), changes));
        Ok(Arc::new(PresenceHub {
            node: node.to_string(),
            redis: Some((client, conn)),
            publisher: Some(publisher),
            groups,
            state: Mutex::new(HubState::default()),
        }))
    }

    /// Start the background work: in a cluster, listening to the other nodes and
    /// renewing this node's views; everywhere, forgetting views whose time ran out.
    pub fn start(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        if self.redis.is_some() {
            tokio::spawn(listen(weak.clone()));
            tokio::spawn(renew(weak.clone()));
        }
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_EVERY);
            loop {
                tick.tick().await;
                let Some(hub) = weak.upgrade() else { return };
                hub.sweep();
            }
        });
    }

    /// This node's view of `identity`.
    fn local_view(state: &HubState, identity: &str) -> NodeView {
        let sockets = state.sockets.get(identity);
        let room = state
            .rooms
            .iter()
            .filter(|(_, members)| members.contains(identity))
            .map(|(room, _)| room.clone())
            .min();
        NodeView {
            online: sockets.is_some_and(|s| !s.is_empty()),
            hidden: sockets.is_some_and(|s| s.iter().any(|(_, hidden)| *hidden)),
            focus: room
                .as_ref()
                .and_then(|r| state.focus.get(r).cloned().flatten()),
            room,
        }
    }

    /// A member's presence: every node's view together.
    fn merged(state: &HubState, identity: &str, now: u64) -> MemberPresence {
        let mut views = vec![Self::local_view(state, identity)];
        if let Some(remote) = state.remote.get(identity) {
            views.extend(
                remote
                    .values()
                    .filter(|(_, until)| *until > now)
                    .map(|(v, _)| v.clone()),
            );
        }
        if views.iter().any(|v| v.hidden) {
            return MemberPresence::offline(identity);
        }
        if let Some(v) = views.iter().find(|v| v.room.is_some()) {
            return MemberPresence {
                identity: identity.to_string(),
                status: PresenceStatus::InRoom,
                room: v
                    .room
                    .clone()
                    .map(|room| RoomPresence { room, group: None }),
                focus: v.focus.clone(),
            };
        }
        if views.iter().any(|v| v.online) {
            return MemberPresence {
                identity: identity.to_string(),
                status: PresenceStatus::Online,
                room: None,
                focus: None,
            };
        }
        MemberPresence::offline(identity)
    }

    /// `presence` as `watcher` sees it: a room that is one of its groups' is named so.
    fn for_watcher(watcher: &Watcher, mut presence: MemberPresence) -> MemberPresence {
        if let Some(room) = presence.room.as_mut() {
            room.group = watcher
                .groups
                .iter()
                .find(|(_, r)| **r == room.room)
                .map(|(g, _)| g.clone());
        }
        presence
    }

    fn send(watcher: &Watcher, text: Arc<str>) {
        if let Err(mpsc::error::TrySendError::Full(_)) = watcher.tx.try_send(text) {
            watcher.overflowed.store(true, Ordering::Relaxed);
        }
    }

    /// Tell every watcher of `identity` its presence, where it changed.
    fn push(state: &mut HubState, identity: &str) {
        let now = crate::ids::now_ms();
        let merged = Self::merged(state, identity, now);
        for watcher in state.watchers.values_mut() {
            if !watcher.members.contains_key(identity) {
                continue;
            }
            let seen = Self::for_watcher(watcher, merged.clone());
            if watcher.sent.get(identity) == Some(&seen) {
                continue;
            }
            watcher.sent.insert(identity.to_string(), seen.clone());
            Self::send(
                watcher,
                serialize(&PresenceServer::Presence { presence: seen }),
            );
        }
    }

    /// This node's view of `identity` may have changed: tell the watchers here, and the
    /// other nodes.
    fn local_changed(&self, state: &mut HubState, identity: &str) {
        Self::push(state, identity);
        if self.redis.is_some() {
            let view = Self::local_view(state, identity);
            self.publish_view(identity.to_string(), view);
        }
    }

    /// Share a view with the other nodes, in the order views change (one task writes
    /// them all, so a quick join and leave never arrive as a leave and a join).
    fn publish_view(&self, identity: String, view: NodeView) {
        if let Some(publisher) = &self.publisher {
            let _ = publisher.send((identity, view));
        }
    }

    /// A presence socket opened for `identities`. Returns its id for the calls below.
    pub fn socket_opened(&self, identities: &HashSet<String>, hidden: bool) -> u64 {
        let mut state = lock(&self.state);
        state.next_id += 1;
        let id = state.next_id;
        for identity in identities {
            state
                .sockets
                .entry(identity.clone())
                .or_default()
                .push((id, hidden));
            self.local_changed(&mut state, identity);
        }
        id
    }

    /// A socket asks to appear offline (or not).
    pub fn socket_hidden(&self, socket: u64, hidden: bool) {
        let mut state = lock(&self.state);
        let mut changed = vec![];
        for (identity, sockets) in state.sockets.iter_mut() {
            for entry in sockets.iter_mut().filter(|(id, _)| *id == socket) {
                entry.1 = hidden;
                changed.push(identity.clone());
            }
        }
        for identity in changed {
            self.local_changed(&mut state, &identity);
        }
    }

    /// A presence socket closed.
    pub fn socket_closed(&self, socket: u64) {
        let mut state = lock(&self.state);
        state.watchers.remove(&socket);
        let mut changed = vec![];
        state.sockets.retain(|identity, sockets| {
            let before = sockets.len();
            sockets.retain(|(id, _)| *id != socket);
            if sockets.len() != before {
                changed.push(identity.clone());
            }
            !sockets.is_empty()
        });
        for identity in changed {
            self.local_changed(&mut state, &identity);
        }
    }

    /// Start (or restart, with a new set of groups) watching for socket `socket`.
    /// Returns the queue the socket sends from; the members' presence is in
    /// [`PresenceHub::snapshot`].
    pub async fn watch(
        &self,
        socket: u64,
        own: HashSet<String>,
        groups: &[StoredGroup],
    ) -> Watching {
        let members: HashSet<String> = groups
            .iter()
            .flat_map(|g| g.group.members.iter().map(|m| m.identity.clone()))
            .collect();
        self.load_remote(&members).await;
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        let overflowed = Arc::new(AtomicBool::new(false));
        let mut watcher = Watcher {
            own,
            groups: HashMap::new(),
            members: HashMap::new(),
            tx,
            sent: HashMap::new(),
            overflowed: overflowed.clone(),
        };
        for g in groups {
            Self::add_group(&mut watcher, g);
        }
        lock(&self.state).watchers.insert(socket, watcher);
        Watching {
            id: socket,
            rx,
            overflowed,
        }
    }

    fn add_group(watcher: &mut Watcher, g: &StoredGroup) {
        watcher
            .groups
            .insert(g.group.id.clone(), g.group.room.clone());
        for m in &g.group.members {
            watcher
                .members
                .entry(m.identity.clone())
                .or_default()
                .insert(g.group.id.clone());
        }
    }

    fn drop_group(watcher: &mut Watcher, group: &str) {
        watcher.groups.remove(group);
        watcher.members.retain(|_, groups| {
            groups.remove(group);
            !groups.is_empty()
        });
        let members = &watcher.members;
        watcher
            .sent
            .retain(|identity, _| members.contains_key(identity));
    }

    /// Every watched member's presence, as socket `socket` sees it (and noted as told).
    pub fn snapshot(&self, socket: u64) -> Vec<MemberPresence> {
        let now = crate::ids::now_ms();
        let mut state = lock(&self.state);
        let Some(identities) = state
            .watchers
            .get(&socket)
            .map(|w| w.members.keys().cloned().collect::<Vec<_>>())
        else {
            return vec![];
        };
        let merged: Vec<MemberPresence> = identities
            .iter()
            .map(|i| Self::merged(&state, i, now))
            .collect();
        let Some(watcher) = state.watchers.get_mut(&socket) else {
            return vec![];
        };
        let mut out: Vec<MemberPresence> = merged
            .into_iter()
            .map(|p| Self::for_watcher(watcher, p))
            .collect();
        out.sort_by(|a, b| a.identity.cmp(&b.identity));
        for p in &out {
            watcher.sent.insert(p.identity.clone(), p.clone());
        }
        out
    }

    /// Read the other nodes' views of `identities` from Redis (a new watcher's start).
    async fn load_remote(&self, identities: &HashSet<String>) {
        let Some((_, conn)) = &self.redis else { return };
        if identities.is_empty() {
            return;
        }
        let mut conn = conn.clone();
        let list: Vec<&String> = identities.iter().collect();
        let mut pipe = redis::pipe();
        for identity in &list {
            pipe.hgetall(presence_key(identity));
        }
        let read = tokio::time::timeout(
            Duration::from_secs(3),
            pipe.query_async::<Vec<HashMap<String, String>>>(&mut conn),
        )
        .await;
        let Ok(Ok(read)) = read else {
            tracing::debug!("presence of other nodes not read; they tell as they change");
            return;
        };
        let mut state = lock(&self.state);
        for (identity, nodes) in list.into_iter().zip(read) {
            for (node, stored) in nodes {
                if node == self.node {
                    continue;
                }
                if let Ok((view, until)) = serde_json::from_str::<(NodeView, u64)>(&stored) {
                    state
                        .remote
                        .entry(identity.clone())
                        .or_default()
                        .insert(node, (view, until));
                }
            }
        }
    }

    /// The members in room `name` (living on this node) or its timer may have changed.
    pub fn room_changed(&self, rooms: &Rooms, name: &str) {
        let room = rooms.get(name);
        let now: HashSet<String> = room
            .as_ref()
            .map(|r| {
                r.members()
                    .into_iter()
                    .map(|(p, _)| p.identity)
                    .filter(|i| i.starts_with(MEMBER_PREFIX))
                    .collect()
            })
            .unwrap_or_default();
        let focus = room
            .as_ref()
            .and_then(|r| crate::room::features::timer::focus_of(r));
        let mut state = lock(&self.state);
        let before = state.rooms.get(name).cloned().unwrap_or_default();
        let focus_changed = state.focus.get(name) != Some(&focus);
        if now.is_empty() {
            state.rooms.remove(name);
            state.focus.remove(name);
        } else {
            state.rooms.insert(name.to_string(), now.clone());
            state.focus.insert(name.to_string(), focus);
        }
        let changed: Vec<String> = if focus_changed {
            before.union(&now).cloned().collect()
        } else {
            before.symmetric_difference(&now).cloned().collect()
        };
        for identity in changed {
            self.local_changed(&mut state, &identity);
        }
    }

    /// Group `stored` was written here: tell its watchers here and the other nodes.
    pub fn group_changed(&self, stored: &StoredGroup) {
        self.apply_group(&stored.group.id, Some(stored), None);
        self.publish_group(&stored.group.id, None, false);
    }

    /// `identity` is no longer a member of `stored`.
    pub fn member_removed(&self, stored: &StoredGroup, identity: &str) {
        self.apply_group(&stored.group.id, Some(stored), Some(identity));
        self.publish_group(&stored.group.id, Some(identity.to_string()), false);
    }

    /// `stored` was deleted.
    pub fn group_deleted(&self, stored: &StoredGroup) {
        self.apply_group(&stored.group.id, None, None);
        self.publish_group(&stored.group.id, None, true);
    }

    fn publish_group(&self, group: &str, removed: Option<String>, deleted: bool) {
        let Some((_, conn)) = &self.redis else { return };
        let mut conn = conn.clone();
        let message = Broadcast::Group {
            node: self.node.clone(),
            group: group.to_string(),
            removed,
            deleted,
        };
        tokio::spawn(async move {
            let text = serde_json::to_string(&message).unwrap_or_default();
            if let Err(e) = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(text)
                .query_async::<()>(&mut conn)
                .await
            {
                tracing::warn!(error = %e, "a group change was not told to the other nodes");
            }
        });
    }

    /// Tell this node's watchers of group `id` what changed: it is now `stored` (`None`:
    /// deleted), and `removed` is out.
    fn apply_group(&self, id: &str, stored: Option<&StoredGroup>, removed: Option<&str>) {
        let mut state = lock(&self.state);
        let mut new_members = HashSet::new();
        for watcher in state.watchers.values_mut() {
            if !watcher.groups.contains_key(id) {
                continue;
            }
            // Not a member any more: removed now, or earlier with the word lost (a
            // change that crossed a re-watch, a missed message between nodes).
            let out = |g: &StoredGroup| {
                removed.is_some_and(|r| watcher.own.contains(r))
                    || !g
                        .group
                        .members
                        .iter()
                        .any(|m| watcher.own.contains(&m.identity))
            };
            let gone = match stored {
                None => Some("deleted"),
                Some(g) if out(g) => Some("removed"),
                Some(_) => None,
            };
            let (Some(stored), None) = (stored, gone) else {
                Self::drop_group(watcher, id);
                Self::send(
                    watcher,
                    serialize(&PresenceServer::GroupGone {
                        group: id.to_string(),
                        reason: gone.unwrap_or("deleted").into(),
                    }),
                );
                continue;
            };
            Self::drop_group(watcher, id);
            Self::add_group(watcher, stored);
            for m in &stored.group.members {
                if !watcher.sent.contains_key(&m.identity) {
                    new_members.insert(m.identity.clone());
                }
            }
            Self::send(
                watcher,
                serialize(&PresenceServer::GroupUpdated {
                    group: super::members_view(stored),
                }),
            );
        }
        for identity in new_members {
            Self::push(&mut state, &identity);
        }
    }

    /// Forget other nodes' views whose time ran out, and tell watchers what that changed.
    fn sweep(&self) {
        let now = crate::ids::now_ms();
        let mut state = lock(&self.state);
        let mut expired = vec![];
        state.remote.retain(|identity, nodes| {
            let before = nodes.len();
            nodes.retain(|_, (_, until)| *until > now);
            if nodes.len() != before {
                expired.push(identity.clone());
            }
            !nodes.is_empty()
        });
        for identity in expired {
            Self::push(&mut state, &identity);
        }
    }

    /// A message from another node.
    async fn heard(&self, message: Broadcast) {
        match message {
            Broadcast::View {
                node,
                identity,
                view,
                until,
            } => {
                if node == self.node {
                    return;
                }
                let mut state = lock(&self.state);
                let nodes = state.remote.entry(identity.clone()).or_default();
                if view.is_empty() {
                    nodes.remove(&node);
                } else {
                    nodes.insert(node, (view, until));
                }
                if nodes.is_empty() {
                    state.remote.remove(&identity);
                }
                Self::push(&mut state, &identity);
            }
            Broadcast::Group {
                node,
                group,
                removed,
                deleted,
            } => {
                if node == self.node {
                    return;
                }
                let watched = lock(&self.state)
                    .watchers
                    .values()
                    .any(|w| w.groups.contains_key(&group));
                if !watched {
                    return;
                }
                if deleted {
                    self.apply_group(&group, None, None);
                    return;
                }
                match self.groups.get(&group).await {
                    Ok(Some(stored)) => {
                        // Members new to the watchers here may be online elsewhere.
                        let members = stored
                            .group
                            .members
                            .iter()
                            .map(|m| m.identity.clone())
                            .collect();
                        self.load_remote(&members).await;
                        self.apply_group(&group, Some(&stored), removed.as_deref());
                    }
                    Ok(None) => self.apply_group(&group, None, None),
                    Err(e) => {
                        tracing::warn!(group, error = %e, "a changed group could not be read")
                    }
                }
            }
        }
    }

    /// Write this node's views to Redis again before they run out.
    async fn renew_views(&self) {
        let Some((_, conn)) = &self.redis else { return };
        let views: Vec<(String, NodeView)> = {
            let state = lock(&self.state);
            let mut identities: HashSet<&String> = state.sockets.keys().collect();
            identities.extend(state.rooms.values().flatten());
            identities
                .into_iter()
                .map(|i| (i.clone(), Self::local_view(&state, i)))
                .filter(|(_, v)| !v.is_empty())
                .collect()
        };
        if views.is_empty() {
            return;
        }
        let until = crate::ids::now_ms() + VIEW_TTL.as_millis() as u64;
        let mut pipe = redis::pipe();
        for (identity, view) in views {
            let key = presence_key(&identity);
            let stored = serde_json::to_string(&(view.clone(), until)).unwrap_or_default();
            pipe.hset(&key, &self.node, stored)
                .pexpire(&key, 2 * VIEW_TTL.as_millis() as i64);
            let message = Broadcast::View {
                node: self.node.clone(),
                identity,
                view,
                until,
            };
            pipe.publish(CHANNEL, serde_json::to_string(&message).unwrap_or_default());
        }
        let mut conn = conn.clone();
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::debug!(error = %e, "presence views not renewed; next time");
        }
    }
}

/// Write this node's view changes to Redis and tell the other nodes, one after another,
/// until the hub is gone.
async fn publish(
    mut conn: redis::aio::ConnectionManager,
    node: String,
    mut changes: mpsc::UnboundedReceiver<(String, NodeView)>,
) {
    while let Some((identity, view)) = changes.recv().await {
        let until = crate::ids::now_ms() + VIEW_TTL.as_millis() as u64;
        let key = presence_key(&identity);
        let mut pipe = redis::pipe();
        if view.is_empty() {
            pipe.hdel(&key, &node);
        } else {
            let stored = serde_json::to_string(&(view.clone(), until)).unwrap_or_default();
            pipe.hset(&key, &node, stored)
                .pexpire(&key, 2 * VIEW_TTL.as_millis() as i64);
        }
        let message = Broadcast::View {
            node: node.clone(),
            identity,
            view,
            until,
        };
        pipe.publish(CHANNEL, serde_json::to_string(&message).unwrap_or_default());
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::debug!(error = %e, "presence not shared; renewed later");
        }
    }
}

/// Renew this node's views in Redis while the hub lives.
async fn renew(hub: Weak<PresenceHub>) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        hub.renew_views().await;
    }
}

/// Hear the other nodes while the hub lives, subscribing again after Redis comes back.
async fn listen(hub: Weak<PresenceHub>) {
    loop {
        let Some(client) = hub
            .upgrade()
            .and_then(|h| h.redis.as_ref().map(|(c, _)| c.clone()))
        else {
            return;
        };
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(Duration::from_secs(3), subscribed).await {
            Ok(Ok(mut pubsub)) => {
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    let Some(hub) = hub.upgrade() else { return };
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    match serde_json::from_str::<Broadcast>(&payload) {
                        Ok(m) => hub.heard(m).await,
                        Err(e) => tracing::warn!(error = %e, "unreadable presence message"),
                    }
                }
                tracing::warn!("presence subscription lost; subscribing again");
            }
            Ok(Err(e)) => tracing::debug!(error = %e, "presence subscribe failed"),
            Err(_) => tracing::debug!("presence subscribe timed out"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
