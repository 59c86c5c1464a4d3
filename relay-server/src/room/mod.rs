//! Rooms and their participants: who is in which room, with what role and media state,
//! and fan-out of room events to every participant's connection.
//!
//! A room exists while someone is in it. Each participant has one connection; a second
//! join with the same identity replaces the first (a reconnect), so a network drop never
//! leaves a ghost behind. Locks are std mutexes held for short sections without
//! `.await`; the lock order is registry → room.

pub mod features;
pub mod filter;
pub mod limits;

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use studyhall_protocol::{CloseCode, ErrorCode, LeaveReason, Participant, Role, ServerMessage};
use tokio::sync::{mpsc, Notify};

/// What a connection task is asked to send.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A serialized server message (serialized once, shared by every recipient).
    Text(Arc<str>),
    /// Close the socket with this code after sending what is queued before it.
    Close { code: u16, reason: String },
}

impl Outbound {
    pub fn message(msg: &ServerMessage) -> Outbound {
        Outbound::Text(serialize(msg))
    }
}

pub fn serialize(msg: &ServerMessage) -> Arc<str> {
    // Our own types always serialize; a failure would be a bug worth a loud log.
    match serde_json::to_string(msg) {
        Ok(s) => s.into(),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize server message");
            Arc::from(
                r#"{"type":"error","code":"internal","message":"serialization failed","fatal":false}"#,
            )
        }
    }
}

/// A close forced from outside the connection's queue (the queue may be full).
#[derive(Debug, Clone)]
pub struct ForcedClose {
    pub code: u16,
    pub error: ErrorCode,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct ConnControl {
    forced: Mutex<Option<ForcedClose>>,
    notify: Notify,
}

impl ConnControl {
    pub fn force_close(&self, close: ForcedClose) {
        let mut slot = lock(&self.forced);
        if slot.is_none() {
            *slot = Some(close);
        }
        drop(slot);
        self.notify.notify_one();
    }

    /// Wait until a close is forced, then return it.
    pub async fn forced(&self) -> ForcedClose {
        loop {
            if let Some(c) = lock(&self.forced).clone() {
                return c;
            }
            self.notify.notified().await;
        }
    }
}

/// How the room reaches one participant's connection.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: u64,
    tx: mpsc::Sender<Outbound>,
    pub control: Arc<ConnControl>,
    /// Cluster mode: the node holding this participant's socket, when it is not this
    /// one (its messages are relayed over the cluster bus).
    pub origin: Option<Arc<str>>,
}

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

impl ConnHandle {
    /// A handle and the queue its connection task drains.
    pub fn new(queue: usize) -> (ConnHandle, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(queue);
        (
            ConnHandle {
                id: NEXT_CONN_ID.fetch_add(1, Ordering::Relaxed),
                tx,
                control: Arc::new(ConnControl::default()),
                origin: None,
            },
            rx,
        )
    }

    /// A handle for a participant whose socket is on the cluster node `origin`.
    pub fn relayed(queue: usize, origin: &str) -> (ConnHandle, mpsc::Receiver<Outbound>) {
        let (mut handle, rx) = ConnHandle::new(queue);
        handle.origin = Some(origin.into());
        (handle, rx)
    }

    /// Queue a message. A connection whose queue is full cannot keep up: it is closed
    /// (it will reconnect and fetch history) rather than silently missing messages.
    pub fn send(&self, out: Outbound) {
        match self.tx.try_send(out) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.control.force_close(ForcedClose {
                code: CloseCode::SLOW_CONSUMER,
                error: ErrorCode::SlowConsumer,
                message: "this connection fell too far behind the room; reconnect".into(),
            }),
            // The connection task is gone; its cleanup removes it from the room.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// The time features are told (tokio's clock, so tests can pause and advance it).
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// A display name as names are compared: case folded, white space runs as one space,
/// none at the ends, invisible format characters (zero-width, direction marks) gone.
pub fn comparable_name(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these short locks leaves consistent data (no
    // multi-step invariants span an unlock), so poisoning is not fatal.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug)]
struct Member {
    participant: Participant,
    conn: ConnHandle,
}

#[derive(Debug, Default)]
struct RoomState {
    members: BTreeMap<String, Member>,
    banned: HashSet<String>,
    /// The device each guest came in on (from its token), and the devices of guests a
    /// host removed: they stay out under any identity while the room lives.
    devices: HashMap<String, String>,
    banned_devices: HashSet<String>,
}

/// One live room.
#[derive(Debug)]
pub struct Room {
    pub name: String,
    /// When the room came to life, in ms since the Unix epoch.
    pub created_ms: u64,
    state: Mutex<RoomState>,
    /// Each room feature's state for this room, by type (see [`Room::feature`]).
    features: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// Told this room's name when a participant changes (the cluster mirror listens).
    changes: Option<mpsc::UnboundedSender<String>>,
}

impl Room {
    fn new(name: &str, changes: Option<mpsc::UnboundedSender<String>>) -> Self {
        Room {
            changes,
            name: name.to_string(),
            created_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            state: Mutex::new(RoomState::default()),
            features: Mutex::new(HashMap::new()),
        }
    }

    /// This room's state of type `T` (a feature's), created on first use. It lives as
    /// long as the room.
    pub fn feature<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut features = lock(&self.features);
        let entry = features
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match entry.clone().downcast::<T>() {
            Ok(state) => state,
            // The map is keyed by the type itself, so this cannot happen; start afresh
            // rather than panic.
            Err(_) => {
                let state = Arc::new(T::default());
                *entry = state.clone();
                state
            }
        }
    }

    /// Send to everyone in the room, except `except` (an identity) when given.
    pub fn broadcast(&self, msg: &ServerMessage, except: Option<&str>) {
        self.broadcast_text(serialize(msg), except);
    }

    /// Send an already serialized message to every participant but `except`.
    pub fn broadcast_text(&self, text: Arc<str>, except: Option<&str>) {
        let out = Outbound::Text(text);
        let state = lock(&self.state);
        for (identity, member) in &state.members {
            if Some(identity.as_str()) != except {
                member.conn.send(out.clone());
            }
        }
    }

    /// Close every participant's connection from outside its queue.
    pub fn force_close_all(&self, close: ForcedClose) {
        for member in lock(&self.state).members.values() {
            member.conn.control.force_close(close.clone());
        }
    }

    /// Send to one participant, if present.
    pub fn send_to(&self, identity: &str, out: Outbound) {
        if let Some(member) = lock(&self.state).members.get(identity) {
            member.conn.send(out);
        }
    }

    /// Send to one participant only while `conn_id` is still its connection; whether it
    /// was sent.
    pub fn send_to_conn(&self, identity: &str, conn_id: u64, out: Outbound) -> bool {
        match lock(&self.state).members.get(identity) {
            Some(member) if member.conn.id == conn_id => {
                member.conn.send(out);
                true
            }
            _ => false,
        }
    }

    /// Change a participant (if `conn_id` is still theirs) and tell everyone.
    /// Returns the participant after the change, or `None` when nothing changed.
    pub fn update_participant<F>(
        &self,
        identity: &str,
        conn_id: u64,
        change: F,
    ) -> Option<Participant>
    where
        F: FnOnce(&mut Participant) -> bool,
    {
        let updated = {
            let mut state = lock(&self.state);
            let member = state.members.get_mut(identity)?;
            if member.conn.id != conn_id || !change(&mut member.participant) {
                return None;
            }
            member.participant.clone()
        };
        if let Some(tx) = &self.changes {
            let _ = tx.send(self.name.clone());
        }
        self.broadcast(
            &ServerMessage::ParticipantUpdated {
                participant: updated.clone(),
            },
            None,
        );
        Some(updated)
    }

    /// Tell the cluster mirror (if any) that the room's shared state changed.
    pub fn changed(&self) {
        if let Some(tx) = &self.changes {
            let _ = tx.send(self.name.clone());
        }
    }

    /// `identity`'s role, if it is in the room.
    /// Whether a host sent `identity` away for good (it may not come back).
    pub fn is_banned(&self, identity: &str) -> bool {
        lock(&self.state).banned.contains(identity)
    }

    /// Whether a host sent away a guest who came in on `device`.
    pub fn is_device_banned(&self, device: &str) -> bool {
        lock(&self.state).banned_devices.contains(device)
    }

    /// `identity` came in on `device`.
    pub fn note_device(&self, identity: &str, device: &str) {
        lock(&self.state)
            .devices
            .insert(identity.to_string(), device.to_string());
    }

    /// A host of the room now shown under `name` (letters' case and the spaces around
    /// them aside), other than `identity`.
    pub fn host_named(&self, name: &str, identity: &str) -> bool {
        let wanted = comparable_name(name);
        lock(&self.state).members.values().any(|m| {
            m.participant.role == Role::Host
                && m.participant.identity != identity
                && comparable_name(&m.participant.name) == wanted
        })
    }

    pub fn role_of(&self, identity: &str) -> Option<Role> {
        lock(&self.state)
            .members
            .get(identity)
            .map(|m| m.participant.role)
    }

    /// Give `identity` (if present, and not a host) `role` and tell everyone. Returns
    /// whether it changed.
    pub fn set_role(&self, identity: &str, role: Role) -> bool {
        let updated = {
            let mut state = lock(&self.state);
            let Some(member) = state.members.get_mut(identity) else {
                return false;
            };
            let p = &mut member.participant;
            if p.grants.host || p.role == role {
                return false;
            }
            p.role = role;
            p.clone()
        };
        if let Some(tx) = &self.changes {
            let _ = tx.send(self.name.clone());
        }
        self.broadcast(
            &ServerMessage::ParticipantUpdated {
                participant: updated,
            },
            None,
        );
        true
    }

    /// Turn sources of `identity` off (or on) for it, whatever connection it is on (a
    /// host's mute), and tell everyone. Returns the connection it changed, if anything
    /// changed.
    pub fn force_media(
        &self,
        identity: &str,
        update: studyhall_protocol::MediaUpdate,
    ) -> Option<u64> {
        let (updated, conn) = {
            let mut state = lock(&self.state);
            let member = state.members.get_mut(identity)?;
            if !member.participant.media.apply(update) {
                return None;
            }
            (member.participant.clone(), member.conn.id)
        };
        if let Some(tx) = &self.changes {
            let _ = tx.send(self.name.clone());
        }
        self.broadcast(
            &ServerMessage::ParticipantUpdated {
                participant: updated,
            },
            None,
        );
        Some(conn)
    }

    /// Every participant with the cluster node its socket is on (`None`: this node).
    pub fn members(&self) -> Vec<(Participant, Option<Arc<str>>)> {
        lock(&self.state)
            .members
            .values()
            .map(|m| (m.participant.clone(), m.conn.origin.clone()))
            .collect()
    }

    pub fn participants(&self) -> Vec<Participant> {
        lock(&self.state)
            .members
            .values()
            .map(|m| m.participant.clone())
            .collect()
    }

    /// Whether `conn_id` is still the connection of `identity` (not replaced or kicked).
    pub fn is_current(&self, identity: &str, conn_id: u64) -> bool {
        lock(&self.state)
            .members
            .get(identity)
            .is_some_and(|m| m.conn.id == conn_id)
    }

    pub fn contains(&self, identity: &str) -> bool {
        lock(&self.state).members.contains_key(identity)
    }

    fn len(&self) -> usize {
        lock(&self.state).members.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("the room is full ({max} participants)")]
    Full { max: usize },
    #[error("a host removed you from this room")]
    Banned,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KickError {
    #[error("`{0}` is not in the room")]
    NotFound(String),
    #[error("a host cannot kick themselves; leave instead")]
    SelfKick,
}

/// What a successful join returns.
#[derive(Debug)]
pub struct JoinedRoom {
    pub room: Arc<Room>,
    /// Everyone in the room, the new participant included.
    pub participants: Vec<Participant>,
    /// True when this join replaced an earlier connection of the same identity.
    pub replaced: bool,
}

/// Every live room of this relay.
#[derive(Debug)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    max_room_size: usize,
    /// Told the name of every room whose membership or participants changed (the
    /// cluster mirrors rooms into Redis from it).
    changes: Option<mpsc::UnboundedSender<String>>,
}

impl Rooms {
    pub fn new(max_room_size: usize) -> Self {
        Rooms {
            rooms: Mutex::new(HashMap::new()),
            max_room_size,
            changes: None,
        }
    }

    /// Rooms that report each change to `changes`.
    pub fn observed(max_room_size: usize, changes: mpsc::UnboundedSender<String>) -> Self {
        Rooms {
            changes: Some(changes),
            ..Rooms::new(max_room_size)
        }
    }

    fn changed(&self, room: &str) {
        if let Some(tx) = &self.changes {
            let _ = tx.send(room.to_string());
        }
    }

    /// Names of the live rooms.
    pub fn names(&self) -> Vec<String> {
        lock(&self.rooms).keys().cloned().collect()
    }

    /// Enter `room_name` (creating it), telling the others.
    pub fn join(
        &self,
        room_name: &str,
        participant: Participant,
        conn: ConnHandle,
    ) -> Result<JoinedRoom, JoinError> {
        let mut rooms = lock(&self.rooms);
        let room = rooms
            .entry(room_name.to_string())
            .or_insert_with(|| Arc::new(Room::new(room_name, self.changes.clone())))
            .clone();
        let mut state = lock(&room.state);
        if state.banned.contains(&participant.identity) {
            drop(state);
            self.drop_if_empty(&mut rooms, &room);
            return Err(JoinError::Banned);
        }
        let previous = state.members.remove(&participant.identity);
        if previous.is_none() && state.members.len() >= self.max_room_size {
            drop(state);
            self.drop_if_empty(&mut rooms, &room);
            return Err(JoinError::Full {
                max: self.max_room_size,
            });
        }
        let identity = participant.identity.clone();
        state.members.insert(
            identity.clone(),
            Member {
                participant: participant.clone(),
                conn,
            },
        );
        let participants = state
            .members
            .values()
            .map(|m| m.participant.clone())
            .collect();
        drop(state);
        drop(rooms);

        self.changed(room_name);
        let replaced = previous.is_some();
        if let Some(old) = previous {
            old.conn.send(Outbound::message(&ServerMessage::fatal(
                ErrorCode::Replaced,
                "you joined this room from another connection",
                None,
            )));
            old.conn.send(Outbound::Close {
                code: CloseCode::REPLACED,
                reason: "replaced by a newer connection".into(),
            });
            room.broadcast(
                &ServerMessage::ParticipantUpdated { participant },
                Some(&identity),
            );
        } else {
            room.broadcast(
                &ServerMessage::ParticipantJoined { participant },
                Some(&identity),
            );
        }
        features::joined(&room, &identity, replaced, now());
        Ok(JoinedRoom {
            room,
            participants,
            replaced,
        })
    }

    /// Remove `identity` if `conn_id` is still its connection, and tell the others.
    /// Returns whether it was removed.
    pub fn leave(
        &self,
        room: &Arc<Room>,
        identity: &str,
        conn_id: u64,
        reason: LeaveReason,
    ) -> bool {
        let removed = {
            let mut rooms = lock(&self.rooms);
            let mut state = lock(&room.state);
            let ours = state
                .members
                .get(identity)
                .is_some_and(|m| m.conn.id == conn_id);
            if ours {
                state.members.remove(identity);
            }
            drop(state);
            self.drop_if_empty(&mut rooms, room);
            ours
        };
        if removed {
            self.changed(&room.name);
            room.broadcast(
                &ServerMessage::ParticipantLeft {
                    identity: identity.to_string(),
                    reason,
                },
                None,
            );
            features::left(room, identity, reason, now());
        }
        removed
    }

    /// A host removes `target`: it is told, closed, and kept out while the room lives.
    /// Returns the connection it had.
    pub fn kick(
        &self,
        room: &Arc<Room>,
        target: &str,
        by: &str,
        reason: Option<String>,
    ) -> Result<u64, KickError> {
        if target == by {
            return Err(KickError::SelfKick);
        }
        let member = {
            let mut rooms = lock(&self.rooms);
            let mut state = lock(&room.state);
            let member = state
                .members
                .remove(target)
                .ok_or_else(|| KickError::NotFound(target.to_string()))?;
            state.banned.insert(target.to_string());
            if let Some(device) = state.devices.remove(target) {
                state.banned_devices.insert(device);
            }
            drop(state);
            self.drop_if_empty(&mut rooms, room);
            member
        };
        self.changed(&room.name);
        member.conn.send(Outbound::message(&ServerMessage::Kicked {
            by: by.to_string(),
            reason: reason.clone(),
        }));
        member.conn.send(Outbound::Close {
            code: CloseCode::KICKED,
            reason: "removed by a host".into(),
        });
        room.broadcast(
            &ServerMessage::ParticipantLeft {
                identity: target.to_string(),
                reason: LeaveReason::Kicked,
            },
            None,
        );
        features::left(room, target, LeaveReason::Kicked, now());
        Ok(member.conn.id)
    }

    /// A host ends the room: everyone (the host too) is told and closed, and the room is
    /// removed. Returns the identities that were in it, with their connections.
    pub fn end_room(&self, room: &Arc<Room>, by: &str) -> Vec<(String, u64)> {
        let members = {
            let mut rooms = lock(&self.rooms);
            let members = std::mem::take(&mut lock(&room.state).members);
            self.drop_if_empty(&mut rooms, room);
            members
        };
        self.changed(&room.name);
        let ended = ServerMessage::RoomEnded { by: by.to_string() };
        for member in members.values() {
            member.conn.send(Outbound::message(&ended));
            member.conn.send(Outbound::Close {
                code: CloseCode::ROOM_ENDED,
                reason: "the host ended the room".into(),
            });
        }
        members
            .into_iter()
            .map(|(identity, m)| (identity, m.conn.id))
            .collect()
    }

    fn drop_if_empty(&self, rooms: &mut HashMap<String, Arc<Room>>, room: &Arc<Room>) {
        if room.len() == 0 {
            if let Some(current) = rooms.get(&room.name) {
                if Arc::ptr_eq(current, room) {
                    rooms.remove(&room.name);
                }
            }
        }
    }

    /// Number of live rooms and of participants in them.
    pub fn counts(&self) -> (usize, usize) {
        let rooms = lock(&self.rooms);
        let participants = rooms.values().map(|r| r.len()).sum();
        (rooms.len(), participants)
    }

    pub fn get(&self, name: &str) -> Option<Arc<Room>> {
        lock(&self.rooms).get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studyhall_protocol::{Grants, MediaState, Presence, Role};

    fn person(id: &str) -> Participant {
        Participant {
            identity: id.into(),
            name: id.to_uppercase(),
            role: Role::Member,
            grants: Grants::member(),
            media: MediaState::default(),
            presence: Presence::Active,
            joined_at: 0,
        }
    }

    fn drain(rx: &mut mpsc::Receiver<Outbound>) -> Vec<String> {
        let mut out = vec![];
        while let Ok(o) = rx.try_recv() {
            match o {
                Outbound::Text(t) => out.push(t.to_string()),
                Outbound::Close { code, .. } => out.push(format!("close {code}")),
            }
        }
        out
    }

    #[test]
    fn join_leave_and_room_lifetime() {
        let rooms = Rooms::new(2);
        let (a, mut arx) = ConnHandle::new(16);
        let (b, _brx) = ConnHandle::new(16);
        let (c, _crx) = ConnHandle::new(16);
        let ja = rooms.join("r", person("a"), a.clone()).unwrap();
        rooms.join("r", person("b"), b.clone()).unwrap();
        assert_eq!(
            rooms.join("r", person("c"), c).err(),
            Some(JoinError::Full { max: 2 })
        );
        assert!(drain(&mut arx)[0].contains("participant_joined"));
        assert!(
            !rooms.leave(&ja.room, "b", a.id, LeaveReason::Left),
            "wrong conn id"
        );
        assert!(rooms.leave(&ja.room, "b", b.id, LeaveReason::Left));
        assert!(drain(&mut arx)[0].contains("participant_left"));
        assert_eq!(rooms.counts(), (1, 1));
        assert!(rooms.leave(&ja.room, "a", a.id, LeaveReason::Left));
        assert_eq!(rooms.counts(), (0, 0));
    }

    #[test]
    fn rejoin_replaces_and_kick_bans() {
        let rooms = Rooms::new(2);
        let (h, _hrx) = ConnHandle::new(16);
        let (b1, mut b1rx) = ConnHandle::new(16);
        let b1_id = b1.id;
        let (b2, mut b2rx) = ConnHandle::new(16);
        let jr = rooms.join("r", person("host"), h).unwrap();
        rooms.join("r", person("b"), b1).unwrap();
        let again = rooms.join("r", person("b"), b2.clone()).unwrap();
        assert!(again.replaced, "a full room still admits a reconnect");
        assert!(jr.room.is_current("b", b2.id));
        assert!(
            !jr.room.is_current("b", b1_id),
            "the replaced connection no longer acts for b"
        );
        let old = drain(&mut b1rx);
        assert!(
            old[0].contains("replaced") && old[1] == "close 4009",
            "{old:?}"
        );
        assert_eq!(
            rooms.kick(&jr.room, "host", "host", None),
            Err(KickError::SelfKick)
        );
        assert_eq!(
            rooms.kick(&jr.room, "zed", "host", None),
            Err(KickError::NotFound("zed".into()))
        );
        rooms
            .kick(&jr.room, "b", "host", Some("spam".into()))
            .unwrap();
        let got = drain(&mut b2rx);
        assert!(got.iter().any(|m| m.contains("\"kicked\"")), "{got:?}");
        assert_eq!(got.last().unwrap(), "close 4003");
        let (b3, _b3rx) = ConnHandle::new(16);
        assert_eq!(
            rooms.join("r", person("b"), b3).err(),
            Some(JoinError::Banned)
        );
    }

    #[test]
    fn full_queue_forces_close() {
        let (conn, _rx) = ConnHandle::new(1);
        conn.send(Outbound::Text("a".into()));
        conn.send(Outbound::Text("b".into()));
        let forced = lock(&conn.control.forced).clone().unwrap();
        assert_eq!(forced.code, CloseCode::SLOW_CONSUMER);
    }
}
