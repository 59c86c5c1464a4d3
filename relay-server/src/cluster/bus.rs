//! The cluster bus: one Redis pub/sub channel per node (`studyhall:bus:{node}`), carrying
//! a relayed socket's frames from its edge node to the room's home node and the home's
//! replies and room events back.
//!
//! Per connection the home numbers every message except `chat_message` (`n`), so the
//! edge notices any it missed and has the client rejoin. Chat messages carry their own
//! room sequence; an edge fills a chat gap from the Redis stream.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use studyhall_protocol::{CloseCode, ErrorCode, LeaveReason};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::NodeHandles;
use super::{bus_channel, lock, Cluster};
use crate::room::{ConnControl, ForcedClose};

/// A message on the bus. `conn` names a relayed socket: `<edge node>.<instance>.<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum BusMessage {
    /// Edge → home: a socket sent `join` (the frame as received) for a room living there.
    Open {
        conn: String,
        edge: String,
        text: String,
    },
    /// Edge → home: a later frame from the socket.
    Frame {
        conn: String,
        edge: String,
        text: String,
    },
    /// Edge → home: the socket is gone.
    Gone { conn: String, leave: LeaveReason },
    /// Edge → home: the edge's bus subscription was interrupted; how far are we?
    Sync { conn: String, edge: String },
    /// Home → edge: a server message for the socket (`n`: its number, none for chat).
    Out {
        conn: String,
        home: String,
        n: Option<u64>,
        text: String,
    },
    /// Home → edge: close the socket (after what came before).
    Close {
        conn: String,
        home: String,
        code: u16,
        reason: String,
    },
    /// Home → edge: the answer to `Sync` (`known` false: the home lost the session).
    Synced { conn: String, n: u64, known: bool },
    /// Home → edge: is the socket still there? (An edge that lost it answers `Gone`.)
    Check { conn: String, home: String },
    /// A node to itself: is my subscription alive? (Ignored on receipt.)
    Probe,
}

/// What an edge's relayed socket task hears.
#[derive(Debug)]
pub enum EdgeEvent {
    Out {
        n: Option<u64>,
        text: String,
    },
    Close {
        code: u16,
        reason: String,
    },
    Synced {
        n: u64,
        known: bool,
    },
    /// The room's node left the registry.
    HomeGone,
    /// This node's bus subscription came back after a gap.
    Resubscribed,
    /// The home's periodic check that the socket is still here.
    Checked,
}

/// What a home's remote session task hears.
#[derive(Debug)]
pub enum HomeEvent {
    Frame(String),
    Gone(LeaveReason),
    Sync,
}

/// An edge's entry for a relayed socket.
pub struct Edge {
    pub home: String,
    pub tx: mpsc::Sender<EdgeEvent>,
    /// Closes the socket (for a rejoin) when its queue overflows.
    pub control: Arc<ConnControl>,
}

/// A home's entry for a remote session.
pub struct Home {
    pub edge: String,
    pub tx: mpsc::Sender<HomeEvent>,
    /// Ends the session (the client rejoins) when its queue overflows.
    pub control: Arc<ConnControl>,
}

/// Why a relayed connection is closed so that its client joins again.
pub fn overflow() -> ForcedClose {
    ForcedClose {
        code: CloseCode::REJOIN,
        error: ErrorCode::Unavailable,
        message: "this connection fell behind the room's node; join again".into(),
    }
}

/// A relayed socket asking this node to host its session.
#[derive(Debug)]
pub struct OpenRequest {
    pub conn: String,
    pub edge: String,
    pub text: String,
}

/// Queue depth of a relayed connection's events (either side).
pub const EVENT_QUEUE: usize = 1024;

/// Keep one subscription to this node's channel, resubscribing after Redis comes back,
/// and hand each message to its connection. `opens` receives new remote sessions.
pub async fn subscribe_loop(
    cluster: Arc<Cluster>,
    relay: std::sync::Weak<NodeHandles>,
    opens: mpsc::UnboundedSender<OpenRequest>,
) {
    let channel = bus_channel(&cluster.node_id);
    let mut interrupted = false;
    loop {
        if relay.upgrade().is_none_or(|r| r.is_shutting_down()) {
            break;
        }
        let connected = tokio::time::timeout(super::OP_TIMEOUT, async {
            let mut pubsub = cluster.client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        })
        .await;
        match connected {
            Ok(Ok(mut pubsub)) => {
                cluster
                    .subscribed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                info!(channel = %channel, "bus subscribed");
                if interrupted {
                    // Messages may have been missed: every relayed socket checks in.
                    let edges: Vec<_> = lock(&cluster.edges)
                        .values()
                        .map(|e| e.tx.clone())
                        .collect();
                    for tx in edges {
                        let _ = tx.try_send(EdgeEvent::Resubscribed);
                    }
                }
                let mut messages = pubsub.on_message();
                let mut shutdown = match relay.upgrade() {
                    Some(r) => r.shutting_down_rx(),
                    None => break,
                };
                loop {
                    let msg = tokio::select! {
                        msg = messages.next() => msg,
                        // The heartbeat's probe did not arrive: the link is dead.
                        _ = cluster.resubscribe.notified() => None,
                        _ = shutdown.wait_for(|down| *down) => return,
                    };
                    let Some(msg) = msg else { break };
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    match serde_json::from_str::<BusMessage>(&payload) {
                        Ok(m) => dispatch(&cluster, m, &opens).await,
                        Err(e) => warn!(error = %e, "unreadable bus message"),
                    }
                }
                cluster
                    .subscribed
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                warn!(channel = %channel, "bus subscription lost; resubscribing");
                interrupted = true;
            }
            Ok(Err(e)) => debug!(error = %e, "bus subscribe failed"),
            Err(_) => debug!("bus subscribe timed out"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn dispatch(
    cluster: &Arc<Cluster>,
    msg: BusMessage,
    opens: &mpsc::UnboundedSender<OpenRequest>,
) {
    // A full queue means the connection cannot keep up: it is closed for a rejoin rather
    // than left with a hole. Returns false when the connection is unknown here.
    let home_event = |conn: &str, event: HomeEvent| {
        let entry = lock(&cluster.homes)
            .get(conn)
            .map(|h| (h.tx.clone(), h.control.clone()));
        match entry {
            Some((tx, control)) => {
                if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(event) {
                    warn!(conn, "remote session queue full; the client rejoins");
                    control.force_close(overflow());
                }
                true
            }
            None => false,
        }
    };
    let edge_event = |conn: &str, event: EdgeEvent| {
        let entry = lock(&cluster.edges)
            .get(conn)
            .map(|e| (e.tx.clone(), e.control.clone()));
        match entry {
            Some((tx, control)) => {
                if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(event) {
                    warn!(conn, "relayed socket queue full; the client rejoins");
                    control.force_close(overflow());
                }
                true
            }
            None => false,
        }
    };
    match msg {
        BusMessage::Open { conn, edge, text } => {
            if !lock(&cluster.homes).contains_key(&conn) {
                let _ = opens.send(OpenRequest { conn, edge, text });
            }
        }
        BusMessage::Frame { conn, edge, text } => {
            if !home_event(&conn, HomeEvent::Frame(text)) {
                // No session here (this node restarted, or it already ended the session
                // and its close was lost): the client must join again.
                lost_here(cluster, conn, &edge).await;
            }
        }
        BusMessage::Gone { conn, leave } => {
            home_event(&conn, HomeEvent::Gone(leave));
        }
        BusMessage::Sync { conn, edge } => {
            if !home_event(&conn, HomeEvent::Sync) {
                let reply = BusMessage::Synced {
                    conn,
                    n: 0,
                    known: false,
                };
                let _ = cluster.publish(&edge, &reply).await;
            }
        }
        BusMessage::Out {
            conn,
            home,
            n,
            text,
        } => {
            if !edge_event(&conn, EdgeEvent::Out { n, text }) {
                gone_here(cluster, conn, &home).await;
            }
        }
        BusMessage::Close {
            conn, code, reason, ..
        } => {
            edge_event(&conn, EdgeEvent::Close { code, reason });
        }
        BusMessage::Synced { conn, n, known } => {
            edge_event(&conn, EdgeEvent::Synced { n, known });
        }
        BusMessage::Check { conn, home } => {
            if !edge_event(&conn, EdgeEvent::Checked) {
                gone_here(cluster, conn, &home).await;
            }
        }
        BusMessage::Probe => {}
    }
}

/// An edge talks to a session this node does not have: close its socket for a rejoin.
async fn lost_here(cluster: &Cluster, conn: String, edge: &str) {
    let close = BusMessage::Close {
        conn,
        home: cluster.node_id.clone(),
        code: CloseCode::REJOIN,
        reason: "the room's node lost this session; join again".into(),
    };
    let _ = cluster.publish(edge, &close).await;
}

/// A home talks to a socket this edge no longer has: tell it to end the session.
async fn gone_here(cluster: &Cluster, conn: String, home: &str) {
    let gone = BusMessage::Gone {
        conn,
        leave: LeaveReason::Timeout,
    };
    let _ = cluster.publish(home, &gone).await;
}

/// Heartbeat check of the other side of every relayed connection: sockets whose home
/// left the registry rejoin; sessions whose edge left end.
pub async fn check_peers(cluster: &Cluster, relay: &NodeHandles) {
    if cluster.in_grace() {
        return;
    }
    let homes: HashSet<String> = lock(&cluster.edges)
        .values()
        .map(|e| e.home.clone())
        .collect();
    for home in homes {
        if let Ok(false) = cluster.is_live(&home).await {
            warn!(home = %home, "the node of relayed rooms is gone; their sockets rejoin");
            let txs: Vec<_> = lock(&cluster.edges)
                .values()
                .filter(|e| e.home == home)
                .map(|e| e.tx.clone())
                .collect();
            for tx in txs {
                let _ = tx.try_send(EdgeEvent::HomeGone);
            }
        }
    }
    let edges: HashSet<String> = lock(&cluster.homes)
        .values()
        .map(|h| h.edge.clone())
        .collect();
    for edge in edges {
        if let Ok(false) = cluster.is_live(&edge).await {
            warn!(edge = %edge, "a node holding sockets of rooms here is gone; their participants leave");
            let txs: Vec<_> = lock(&cluster.homes)
                .values()
                .filter(|h| h.edge == edge)
                .map(|h| h.tx.clone())
                .collect();
            for tx in txs {
                let _ = tx.try_send(HomeEvent::Gone(LeaveReason::Timeout));
            }
        }
    }
    // Rooms this node serves must still be held by it (a Redis outage may have let
    // another node place one): when one moved, its participants rejoin there.
    for name in relay.rooms.names() {
        let claimed = cluster.claim(&name).await;
        if relay.rooms.get(&name).is_none() {
            // The room ended meanwhile: do not leave a key behind for it.
            let _ = cluster.release(&name).await;
            continue;
        }
        match claimed {
            Ok(holder) if holder != cluster.node_id => {
                warn!(room = %name, holder = %holder, "room was placed on another node; moving its participants");
                if let Some(room) = relay.rooms.get(&name) {
                    room.force_close_all(ForcedClose {
                        code: CloseCode::REJOIN,
                        error: ErrorCode::Unavailable,
                        message: "this room moved to another node; join again".into(),
                    });
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}

/// The number of a message from home to edge: chat messages are not numbered.
pub fn is_chat_message(text: &str) -> bool {
    text.starts_with(r#"{"type":"chat_message""#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use studyhall_protocol::{ChatMessage, ServerMessage};

    #[test]
    fn chat_messages_are_recognised_by_their_serialized_head() {
        let chat = ServerMessage::ChatMessage {
            message: ChatMessage {
                seq: 1,
                from: "a".into(),
                name: "A".into(),
                text: "hi".into(),
                ts: 0,
                deleted: false,
                client_msg_id: "c".into(),
                attachment: None,
            },
        };
        assert!(is_chat_message(&crate::room::serialize(&chat)));
        let pong = ServerMessage::Pong {
            request_id: None,
            nonce: None,
            time: None,
        };
        assert!(!is_chat_message(&crate::room::serialize(&pong)));
    }

    #[test]
    fn bus_messages_round_trip() {
        let m = BusMessage::Out {
            conn: "n1.ab.3".into(),
            home: "n2".into(),
            n: Some(4),
            text: "{}".into(),
        };
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.starts_with(r#"{"k":"out""#));
        assert_eq!(serde_json::from_str::<BusMessage>(&json).unwrap(), m);
    }
}
