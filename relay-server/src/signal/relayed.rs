//! Cluster mode, edge side: a socket whose room lives on another node. Its frames go to
//! the room's node over the bus and what that node sends comes back the same way; this
//! node keeps the socket's own duties (size limit, heartbeats, shutdown).
//!
//! Nothing is silently lost: a numbered message that does not follow the last one means
//! the bus dropped something, and the client is asked to rejoin (close 4013, after which
//! it gets a fresh view of the room). A chat gap is filled from the Redis stream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use studyhall_protocol::{CloseCode, ErrorCode, LeaveReason, ServerMessage};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::socket::{
    close, heartbeat_timed_out, not_utf8, recv, send_text, too_large, until_shutdown, Incoming,
};
use crate::cluster::bus::{EdgeEvent, EVENT_QUEUE};
use crate::cluster::{BusMessage, Cluster, Edge};
use crate::room::{serialize, ConnControl};
use crate::state::Relay;

/// Extra time the room's node gets to answer a join, beyond the client's join timeout.
const OPEN_GRACE: Duration = Duration::from_secs(2);

/// How often a `sync` is sent again until the room's node is listening.
const SYNC_RETRY: Duration = Duration::from_millis(200);

/// Removes the socket's bus entry however the task ends.
struct Registered {
    cluster: Arc<Cluster>,
    conn: String,
}

impl Drop for Registered {
    fn drop(&mut self) {
        crate::cluster::forget_edge(&self.cluster, &self.conn);
    }
}

/// What the socket has seen: the last numbered message and the last chat sequence.
struct Seen {
    room: String,
    n: u64,
    /// `None` until known (see where it is set).
    chat_seq: Option<u64>,
}

/// Serve `socket`, whose `join` (the frame `join_text`) is for a room living on `home`.
pub async fn serve(
    relay: Relay,
    cluster: Arc<Cluster>,
    mut socket: WebSocket,
    join_text: String,
    home: String,
) {
    let io_timeout = relay.config.heartbeat_timeout;
    let conn = cluster.new_conn_key();
    let (tx, mut events) = mpsc::channel(EVENT_QUEUE);
    let control = Arc::new(ConnControl::default());
    cluster
        .edges
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            conn.clone(),
            Edge {
                home: home.clone(),
                tx,
                control: control.clone(),
            },
        );
    let _registered = Registered {
        cluster: cluster.clone(),
        conn: conn.clone(),
    };
    let unavailable = |message: String| {
        relay.metrics.error_sent(ErrorCode::Unavailable);
        serialize(&ServerMessage::fatal(ErrorCode::Unavailable, message, None))
    };
    let open = BusMessage::Open {
        conn: conn.clone(),
        edge: cluster.node_id.clone(),
        text: join_text,
    };
    if !matches!(cluster.publish(&home, &open).await, Ok(n) if n > 0) {
        let text = unavailable(format!(
            "the node serving this room ({home}) cannot be reached; try again"
        ));
        send_text(&mut socket, &text, io_timeout).await;
        close(
            &mut socket,
            CloseCode::TRY_AGAIN_LATER,
            "room node unreachable",
            io_timeout,
        )
        .await;
        return;
    }

    // The home's answer to the join: `joined`, or an error and a close.
    let wait = relay.config.join_timeout + OPEN_GRACE;
    let mut seen = match tokio::time::timeout(wait, events.recv()).await {
        Ok(Some(EdgeEvent::Out { n, text })) => {
            if !send_text(&mut socket, &text, io_timeout).await {
                gone(&cluster, &home, &conn, LeaveReason::Timeout).await;
                return;
            }
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Joined { room, chat, .. }) => Seen {
                    room,
                    n: n.unwrap_or(0),
                    // The newest message in `joined` is where live chat continues. With no
                    // history in it, the room has none yet, unless the room's node sends
                    // no history on join: then the first live message sets the mark.
                    chat_seq: match chat.messages.iter().map(|m| m.seq).max() {
                        Some(seq) => Some(seq),
                        None if relay.config.history_on_join > 0 => Some(0),
                        None => None,
                    },
                },
                _ => {
                    // Refused: the close follows.
                    let (code, reason) = match tokio::time::timeout(io_timeout, events.recv()).await
                    {
                        Ok(Some(EdgeEvent::Close { code, reason })) => (code, reason),
                        _ => (CloseCode::TRY_AGAIN_LATER, "join refused".to_string()),
                    };
                    close(&mut socket, code, &reason, io_timeout).await;
                    return;
                }
            }
        }
        Ok(Some(EdgeEvent::Close { code, reason })) => {
            close(&mut socket, code, &reason, io_timeout).await;
            return;
        }
        _ => {
            let text = unavailable(format!(
                "the node serving this room ({home}) did not answer; try again"
            ));
            send_text(&mut socket, &text, io_timeout).await;
            close(
                &mut socket,
                CloseCode::TRY_AGAIN_LATER,
                "room node did not answer",
                io_timeout,
            )
            .await;
            gone(&cluster, &home, &conn, LeaveReason::Timeout).await;
            return;
        }
    };
    info!(room = %seen.room, home = %home, conn = %conn, "socket relayed to the room's node");
    let (code, reason, leave) = run(
        &relay,
        &cluster,
        &mut socket,
        (&home, &conn),
        &mut events,
        &control,
        &mut seen,
    )
    .await;
    if let Some(leave) = leave {
        gone(&cluster, &home, &conn, leave).await;
    }
    if let Some(code) = code {
        close(&mut socket, code, &reason, io_timeout).await;
    }
}

async fn gone(cluster: &Cluster, home: &str, conn: &str, leave: LeaveReason) {
    let msg = BusMessage::Gone {
        conn: conn.to_string(),
        leave,
    };
    let _ = cluster.publish(home, &msg).await;
}

type Ending = (Option<u16>, String, Option<LeaveReason>);

/// This edge closes the socket so that its client joins again: a `rejoin` error says
/// why, then `4013`. (The home node's own closes come with their message over the bus.)
async fn rejoin(relay: &Relay, socket: &mut WebSocket, why: &str, leave: bool) -> Ending {
    relay.metrics.error_sent(ErrorCode::Rejoin);
    let msg = ServerMessage::fatal(ErrorCode::Rejoin, why, None);
    let wait = relay.config.heartbeat_timeout.min(Duration::from_secs(1));
    send_text(socket, &serialize(&msg), wait).await;
    (
        Some(CloseCode::REJOIN),
        why.to_string(),
        leave.then_some(LeaveReason::Timeout),
    )
}

async fn run(
    relay: &Relay,
    cluster: &Cluster,
    socket: &mut WebSocket,
    (home, conn): (&str, &str),
    events: &mut mpsc::Receiver<EdgeEvent>,
    control: &ConnControl,
    seen: &mut Seen,
) -> Ending {
    let cfg = &relay.config;
    let io_timeout = cfg.heartbeat_timeout;
    let mut shutdown = relay.shutting_down();
    let mut last_heard = Instant::now();
    // The home checks in every heartbeat interval even when the room is quiet; silence
    // for three of them means it lost this session (it restarted, or its close was lost).
    let mut home_heard = Instant::now();
    let mut heartbeat = tokio::time::interval(cfg.heartbeat_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    // After this node's bus subscription came back: ask the home how far it got, until
    // it answers (its own subscription may still be coming back).
    let mut sync_due: Option<tokio::time::Instant> = None;
    loop {
        let sync_at =
            sync_due.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            _ = tokio::time::sleep_until(sync_at), if sync_due.is_some() => {
                let sync = BusMessage::Sync { conn: conn.to_string(), edge: cluster.node_id.clone() };
                sync_due = match cluster.publish(home, &sync).await {
                    Ok(n) if n > 0 => None,
                    _ => Some(tokio::time::Instant::now() + SYNC_RETRY),
                };
            }
            incoming = recv(socket, cfg.max_message_bytes) => {
                last_heard = Instant::now();
                match incoming {
                    Incoming::Text(text) => {
                        let frame = BusMessage::Frame { conn: conn.to_string(), edge: cluster.node_id.clone(), text: text.to_string() };
                        if !matches!(cluster.publish(home, &frame).await, Ok(n) if n > 0) {
                            // Fail fast: the client hears at once that nothing was done.
                            let request_id = super::decode(&text).ok().and_then(|f| f.request_id);
                            relay.metrics.error_sent(ErrorCode::Unavailable);
                            let msg = ServerMessage::error(
                                ErrorCode::Unavailable,
                                "the room's node cannot be reached right now; nothing was done, retry",
                                request_id,
                            );
                            if !send_text(socket, &serialize(&msg), io_timeout).await {
                                return (None, String::new(), Some(LeaveReason::Timeout));
                            }
                        }
                    }
                    Incoming::Binary => {
                        relay.metrics.error_sent(ErrorCode::BinaryNotSupported);
                        let msg = ServerMessage::error(
                            ErrorCode::BinaryNotSupported,
                            "binary frames are not part of the protocol; send JSON text",
                            None,
                        );
                        send_text(socket, &serialize(&msg), io_timeout).await;
                    }
                    Incoming::Control => {}
                    Incoming::Closed => return (None, String::new(), Some(LeaveReason::Left)),
                    Incoming::Broken => return (None, String::new(), Some(LeaveReason::Timeout)),
                    Incoming::TooLarge(size) => {
                        send_text(socket, &serialize(&too_large(relay, size)), io_timeout).await;
                        return (Some(CloseCode::TOO_BIG), "message too large".into(), Some(LeaveReason::Violation));
                    }
                    Incoming::NotUtf8 => {
                        send_text(socket, &serialize(&not_utf8(relay)), io_timeout).await;
                        return (Some(CloseCode::INVALID_DATA), "invalid UTF-8".into(), Some(LeaveReason::Violation));
                    }
                }
            }
            forced = control.forced() => {
                relay.metrics.error_sent(forced.error);
                let msg = ServerMessage::fatal(forced.error, forced.message.clone(), None);
                send_text(socket, &serialize(&msg), io_timeout).await;
                return (Some(forced.code), forced.message, Some(LeaveReason::Timeout));
            }
            event = events.recv() => { home_heard = Instant::now(); match event {
                Some(EdgeEvent::Out { n: Some(n), text }) => {
                    if n != seen.n + 1 {
                        warn!(expected = seen.n + 1, got = n, "relayed messages were lost; the client rejoins");
                        return rejoin(relay, socket, "messages from the room's node were lost; join again", true).await;
                    }
                    seen.n = n;
                    if !send_text(socket, &text, io_timeout).await {
                        return (None, String::new(), Some(LeaveReason::Timeout));
                    }
                }
                Some(EdgeEvent::Out { n: None, text }) => match deliver_chat(relay, socket, seen, &text).await {
                    Delivery::Done => {}
                    Delivery::SocketGone => return (None, String::new(), Some(LeaveReason::Timeout)),
                    Delivery::GapUnfilled => return rejoin(relay, socket, "chat messages were missed and cannot be read now; join again", true).await,
                },
                Some(EdgeEvent::Close { code, reason }) => return (Some(code), reason, None),
                Some(EdgeEvent::Synced { n, known }) => {
                    match catch_up(relay, socket, seen, None).await {
                        Delivery::Done => {}
                        Delivery::SocketGone => return (None, String::new(), Some(LeaveReason::Timeout)),
                        Delivery::GapUnfilled => return rejoin(relay, socket, "chat messages were missed and cannot be read now; join again", true).await,
                    }
                    if !known || n != seen.n {
                        return rejoin(relay, socket, "messages from the room's node were lost; join again", true).await;
                    }
                }
                Some(EdgeEvent::HomeGone) => {
                    return rejoin(relay, socket, "the room's node is gone; join again", false).await;
                }
                Some(EdgeEvent::Resubscribed) => sync_due = Some(tokio::time::Instant::now()),
                Some(EdgeEvent::Checked) => {}
                None => return rejoin(relay, socket, "relay error; join again", true).await,
            }},
            _ = heartbeat.tick() => {
                if home_heard.elapsed() > cfg.heartbeat_interval * 3 + Duration::from_secs(1) {
                    warn!("the room's node stopped answering for this socket; the client rejoins");
                    return rejoin(relay, socket, "the room's node stopped answering; join again", true).await;
                }
                if last_heard.elapsed() > cfg.heartbeat_timeout {
                    info!("no traffic within heartbeat timeout; dropping");
                    heartbeat_timed_out(relay, socket).await;
                    return (Some(CloseCode::HEARTBEAT_TIMEOUT), "heartbeat timeout".into(), Some(LeaveReason::Timeout));
                }
                let ping = tokio::time::timeout(io_timeout, socket.send(Message::Ping(Default::default()))).await;
                if !matches!(ping, Ok(Ok(()))) {
                    return (None, String::new(), Some(LeaveReason::Timeout));
                }
            }
            _ = until_shutdown(&mut shutdown) => {
                let msg = ServerMessage::Shutdown {
                    reason: "the relay is shutting down".into(),
                    retry_after_ms: 2000,
                };
                send_text(socket, &serialize(&msg), io_timeout).await;
                return (Some(CloseCode::GOING_AWAY), "shutting down".into(), Some(LeaveReason::Shutdown));
            }
        }
    }
}

/// How delivering chat went.
enum Delivery {
    Done,
    SocketGone,
    /// Messages were missed and the store could not supply them.
    GapUnfilled,
}

/// Deliver a `chat_message` in sequence: an old one is dropped (already delivered, e.g.
/// by a catch-up), a gap before a new one is filled from the stream first.
async fn deliver_chat(
    relay: &Relay,
    socket: &mut WebSocket,
    seen: &mut Seen,
    text: &str,
) -> Delivery {
    let io_timeout = relay.config.heartbeat_timeout;
    let seq = match serde_json::from_str::<ServerMessage>(text) {
        Ok(ServerMessage::ChatMessage { message }) => message.seq,
        _ => {
            return if send_text(socket, text, io_timeout).await {
                Delivery::Done
            } else {
                Delivery::SocketGone
            }
        }
    };
    match seen.chat_seq {
        Some(last) if seq <= last => {
            debug!(seq, "chat message already delivered");
            return Delivery::Done;
        }
        Some(last) if seq > last + 1 => match catch_up(relay, socket, seen, Some(seq)).await {
            Delivery::Done => {}
            other => return other,
        },
        _ => {}
    }
    seen.chat_seq = Some(seq);
    if send_text(socket, text, io_timeout).await {
        Delivery::Done
    } else {
        Delivery::SocketGone
    }
}

/// A page of the room's chat, tried again a few times over about a second: right after
/// Redis restarted, the first command on a pooled connection fails on its broken pipe
/// while the connection is made again.
async fn read_page(
    relay: &Relay,
    room: &str,
    before: Option<u64>,
    limit: u32,
) -> Result<studyhall_protocol::ChatPage, crate::store::StoreError> {
    let mut wait = std::time::Duration::from_millis(100);
    let mut tries = 0;
    loop {
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            relay.chat().page(room, before, limit),
        )
        .await
        .unwrap_or_else(|_| {
            Err(crate::store::StoreError::Unavailable(
                "the chat store did not answer within 3 s".into(),
            ))
        });
        match read {
            Ok(page) => return Ok(page),
            Err(e) if tries >= 3 => return Err(e),
            Err(e) => {
                tries += 1;
                tracing::debug!(error = %e, tries, "reading the chat to fill a gap failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
}

/// Send the chat messages after the last one delivered (up to `before`, or the newest)
/// from the store, which holds every acknowledged message. Pages back as far as needed.
async fn catch_up(
    relay: &Relay,
    socket: &mut WebSocket,
    seen: &mut Seen,
    before: Option<u64>,
) -> Delivery {
    let Some(last) = seen.chat_seq else {
        return Delivery::Done; // No mark yet: nothing can be missing.
    };
    let max = relay.config.max_history_page.max(1);
    let mut missed = Vec::new();
    let mut cursor = before;
    loop {
        let page = match read_page(relay, &seen.room, cursor, max).await {
            Ok(page) => page,
            Err(e) => {
                warn!(error = %e, "cannot fill a chat gap from the store");
                return Delivery::GapUnfilled;
            }
        };
        let oldest = page.messages.first().map(|m| m.seq);
        let reached = oldest.is_none_or(|o| o <= last + 1) || !page.has_more;
        missed.splice(0..0, page.messages.into_iter().filter(|m| m.seq > last));
        if reached {
            break;
        }
        cursor = oldest;
    }
    if let (Some(first), Some(newest)) = (missed.first(), missed.last()) {
        info!(
            from = first.seq,
            to = newest.seq,
            "filled a chat gap from the stream"
        );
    }
    for message in missed {
        seen.chat_seq = Some(message.seq);
        let text = serialize(&ServerMessage::ChatMessage { message });
        if !send_text(socket, &text, relay.config.heartbeat_timeout).await {
            return Delivery::SocketGone;
        }
    }
    Delivery::Done
}
