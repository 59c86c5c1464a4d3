//! Moves frames between one WebSocket and its [`Session`]: the join handshake, the
//! participant's outbound queue, heartbeats, forced closes and shutdown.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use studyhall_protocol::{ClientMessage, CloseCode, ErrorCode, LeaveReason, ServerMessage};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, info, warn, Instrument};

use super::session::{Flow, Refusal, Session};
use crate::pending::PendingSlot;
use crate::room::{serialize, ConnHandle, Outbound};
use crate::state::Relay;

/// How long to wait for a client's close reply after sending a close frame.
const CLOSE_LINGER: Duration = Duration::from_millis(500);

/// Queue depth per participant before it counts as a slow consumer.
pub const OUTBOUND_QUEUE: usize = 1024;

/// The transport refuses frames this many times larger than `max_message_bytes`
/// outright; between the two the client gets a clear `message_too_large` first.
pub const TRANSPORT_LIMIT_FACTOR: usize = 16;

pub(super) enum Incoming {
    Text(Utf8Bytes),
    Binary,
    /// Ping/pong: liveness only.
    Control,
    /// The client closed the WebSocket properly (close frame).
    Closed,
    /// The connection ended without a close frame: the network or the client broke.
    Broken,
    TooLarge(usize),
    /// A text frame that is not valid UTF-8.
    NotUtf8,
}

pub(super) async fn recv(socket: &mut WebSocket, max: usize) -> Incoming {
    let max_sdp = max.saturating_mul(studyhall_protocol::SDP_MESSAGE_FACTOR);
    match socket.recv().await {
        Some(Ok(Message::Text(t)))
            if t.len() > max && t.len() <= max_sdp && studyhall_protocol::carries_sdp(&t) =>
        {
            Incoming::Text(t)
        }
        Some(Ok(Message::Text(t))) if t.len() > max => Incoming::TooLarge(t.len()),
        Some(Ok(Message::Text(t))) => Incoming::Text(t),
        Some(Ok(Message::Binary(b))) if b.len() > max => Incoming::TooLarge(b.len()),
        Some(Ok(Message::Binary(_))) => Incoming::Binary,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Control,
        Some(Ok(Message::Close(_))) => Incoming::Closed,
        None => Incoming::Broken,
        Some(Err(e)) => {
            let text = e.to_string();
            debug!(error = %text, "websocket read error");
            // tungstenite reports its own size limit as a capacity error, and a text frame
            // that is not UTF-8 as an encoding error.
            let lower = text.to_lowercase();
            if text.contains("Space limit exceeded") || lower.contains("too long") {
                Incoming::TooLarge(usize::MAX)
            } else if lower.contains("utf-8") || lower.contains("utf8") {
                Incoming::NotUtf8
            } else {
                Incoming::Broken
            }
        }
    }
}

/// A close forced from outside (slow consumer, replaced): its error, then the close.
/// The error gets a short try: the connection may be the one not reading.
async fn forced_close(
    relay: &Relay,
    socket: &mut WebSocket,
    forced: crate::room::ForcedClose,
) -> (Option<u16>, String, LeaveReason) {
    relay.metrics.error_sent(forced.error);
    let msg = ServerMessage::fatal(forced.error, forced.message.clone(), None);
    send_text(socket, &serialize(&msg), LAST_WORD).await;
    (Some(forced.code), forced.message, LeaveReason::Timeout)
}

/// Tell a connection that went silent why it is closed (`4010` follows), briefly: it
/// may not be there to read it.
pub(super) async fn heartbeat_timed_out(relay: &Relay, socket: &mut WebSocket) {
    relay.metrics.error_sent(ErrorCode::HeartbeatTimeout);
    let msg = ServerMessage::fatal(
        ErrorCode::HeartbeatTimeout,
        format!(
            "nothing arrived from this connection for {}; join again",
            humantime::format_duration(relay.config.heartbeat_timeout)
        ),
        None,
    );
    send_text(socket, &serialize(&msg), LAST_WORD).await;
}

/// Resolves once the relay starts shutting down.
pub(super) async fn until_shutdown(rx: &mut tokio::sync::watch::Receiver<bool>) {
    if rx.wait_for(|down| *down).await.is_err() {
        // The relay (and its sender) is gone; nothing will ever signal.
        std::future::pending::<()>().await;
    }
}

pub(super) async fn send_text(socket: &mut WebSocket, text: &str, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}

pub(super) async fn close(socket: &mut WebSocket, code: u16, reason: &str, timeout: Duration) {
    let frame = CloseFrame {
        code,
        reason: reason.chars().take(100).collect::<String>().into(),
    };
    let _ = tokio::time::timeout(timeout, socket.send(Message::Close(Some(frame)))).await;
    // Wait briefly for the client's close reply so it sees a clean close, but never let
    // a client that does not answer hold the connection (or a drain) open.
    let linger = timeout.min(CLOSE_LINGER);
    let _ = tokio::time::timeout(linger, async { while socket.recv().await.is_some() {} }).await;
}

/// The answer to a text frame that is not UTF-8: fatal, then close `1007`.
pub(super) fn not_utf8(relay: &Relay) -> ServerMessage {
    relay.metrics.error_sent(ErrorCode::BadMessage);
    ServerMessage::fatal(
        ErrorCode::BadMessage,
        "a text frame that is not valid UTF-8 (RFC 6455 requires it); closing with 1007",
        None,
    )
}

/// How long the relay tries to tell a connection why it closes it, when the connection
/// has shown it is not reading (the reason is sent before the close frame).
const LAST_WORD: Duration = Duration::from_secs(1);

pub(super) fn too_large(relay: &Relay, size: usize) -> ServerMessage {
    relay.metrics.error_sent(ErrorCode::MessageTooLarge);
    let size = if size == usize::MAX {
        "more than the transport limit".to_string()
    } else {
        format!("{size} bytes")
    };
    ServerMessage::fatal(
        ErrorCode::MessageTooLarge,
        format!(
            "message of {size} exceeds the limit of {} bytes ({} for publish_offer and subscribe_answer)",
            relay.config.max_message_bytes,
            relay.config.max_message_bytes * studyhall_protocol::SDP_MESSAGE_FACTOR
        ),
        None,
    )
}

/// Cluster mode: where the room of a `join` lives. `Some` names another node (the
/// socket is relayed there); `None` means here (or embedded mode, or not a join).
async fn place(
    relay: &Relay,
    message: &ClientMessage,
    request_id: Option<String>,
) -> Result<Option<(std::sync::Arc<crate::cluster::Cluster>, String)>, Refusal> {
    let (Some(cluster), ClientMessage::Join { room, token, .. }) = (&relay.cluster, message) else {
        return Ok(None);
    };
    // A join that will be refused is refused here, without touching Redis (no placement
    // state for rooms nobody may enter): Session::join explains the problem.
    if crate::ids::check_room(room).is_err() || relay.keys.verify(token, room).is_err() {
        return Ok(None);
    }
    match cluster.place(room).await {
        Ok(home) if home == cluster.node_id => Ok(None),
        Ok(home) => Ok(Some((cluster.clone(), home))),
        Err(e) => {
            warn!(room = %room, error = %e, "cannot place a room");
            Err(Refusal {
                error: ServerMessage::fatal(
                    ErrorCode::Unavailable,
                    format!("cannot join right now: {e}"),
                    request_id,
                ),
                close_code: CloseCode::TRY_AGAIN_LATER,
            })
        }
    }
}

/// Serve one upgraded socket until it closes.
pub async fn serve(
    relay: Relay,
    mut socket: WebSocket,
    peer: std::net::SocketAddr,
    _permit: OwnedSemaphorePermit,
    pending: PendingSlot,
) {
    let gauge = relay.clone();
    let _open = gauge.metrics.connection_opened();
    let io_timeout = relay.config.heartbeat_timeout;
    let max = relay.config.max_message_bytes;
    let (conn, mut queue) = ConnHandle::new(OUTBOUND_QUEUE);
    let mut shutdown = relay.shutting_down();

    // Phase 1: the first message must be `join`, within join_timeout.
    let first = tokio::select! {
        r = tokio::time::timeout(relay.config.join_timeout, recv(&mut socket, max)) => r,
        _ = until_shutdown(&mut shutdown) => {
            close(&mut socket, CloseCode::GOING_AWAY, "shutting down", io_timeout).await;
            return;
        }
    };
    let refuse = |code: ErrorCode, message: String, close_code: u16| Refusal {
        error: ServerMessage::fatal(code, message, None),
        close_code,
    };
    let joined = match first {
        Err(_) => Err(refuse(
            ErrorCode::JoinTimeout,
            format!(
                "no `join` within {}",
                humantime::format_duration(relay.config.join_timeout)
            ),
            CloseCode::PROTOCOL,
        )),
        Ok(Incoming::Closed | Incoming::Broken) => return,
        Ok(Incoming::Control) => Err(refuse(
            ErrorCode::NotJoined,
            "the first message must be `join`".into(),
            CloseCode::PROTOCOL,
        )),
        Ok(Incoming::Binary) => Err(refuse(
            ErrorCode::BinaryNotSupported,
            "binary frames are not part of the protocol; send JSON text".into(),
            CloseCode::PROTOCOL,
        )),
        Ok(Incoming::TooLarge(size)) => Err(Refusal {
            error: too_large(&relay, size),
            close_code: CloseCode::TOO_BIG,
        }),
        Ok(Incoming::NotUtf8) => Err(Refusal {
            error: not_utf8(&relay),
            close_code: CloseCode::INVALID_DATA,
        }),
        Ok(Incoming::Text(text)) => {
            relay
                .metrics
                .messages_received
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match super::decode(&text) {
                Ok(frame) => match place(&relay, &frame.message, frame.request_id.clone()).await {
                    Ok(Some((cluster, home))) => {
                        // The room lives on another node: relay this socket there.
                        drop(pending);
                        return super::relayed::serve(
                            relay.clone(),
                            cluster,
                            socket,
                            text.to_string(),
                            home,
                        )
                        .await;
                    }
                    Ok(None) => Session::join(&relay, frame, conn.clone(), Instant::now()).await,
                    Err(refusal) => Err(refusal),
                },
                Err(e) => Err(Refusal::undecodable(e)),
            }
        }
    };
    let (mut session, welcome) = match joined {
        Ok(ok) => {
            // Joined: no longer counted against the address's not-yet-joined sockets.
            drop(pending);
            ok
        }
        Err(refusal) => {
            let code = refusal.code();
            if code != ErrorCode::MessageTooLarge {
                relay.metrics.error_sent(code);
            }
            info!(%peer, code = %code, "join refused");
            send_text(&mut socket, &serialize(&refusal.error), io_timeout).await;
            close(&mut socket, refusal.close_code, code.as_str(), io_timeout).await;
            return;
        }
    };
    let span = session.span().clone();
    async move {
        if !send_text(&mut socket, &serialize(&welcome), io_timeout).await {
            session.end(LeaveReason::Timeout).await;
            return;
        }
        let (code, reason, leave) = run(
            &relay,
            &mut session,
            &mut socket,
            &conn,
            &mut queue,
            &mut shutdown,
        )
        .await;
        // Remove first, so the others hear of it even if the close handshake stalls.
        session.end(leave).await;
        if let Some(code) = code {
            close(&mut socket, code, &reason, io_timeout).await;
        }
    }
    .instrument(span)
    .await
}

/// The joined loop; returns the close code to send (if the socket still stands), a
/// reason, and why the participant leaves.
async fn run(
    relay: &Relay,
    session: &mut Session,
    socket: &mut WebSocket,
    conn: &ConnHandle,
    queue: &mut tokio::sync::mpsc::Receiver<Outbound>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> (Option<u16>, String, LeaveReason) {
    let cfg = &relay.config;
    let io_timeout = cfg.heartbeat_timeout;
    let mut last_heard = Instant::now();
    let mut heartbeat = tokio::time::interval(cfg.heartbeat_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            incoming = recv(socket, cfg.max_message_bytes) => {
                last_heard = Instant::now();
                let flow = match incoming {
                    Incoming::Text(text) => session.on_text(&text, Instant::now()).await,
                    Incoming::Binary => session.on_binary(Instant::now()),
                    Incoming::Control => Flow::Continue,
                    Incoming::Closed => return (None, String::new(), LeaveReason::Left),
                    Incoming::Broken => return (None, String::new(), LeaveReason::Timeout),
                    Incoming::TooLarge(size) => {
                        send_text(socket, &serialize(&too_large(relay, size)), io_timeout).await;
                        return (Some(CloseCode::TOO_BIG), "message too large".into(), LeaveReason::Violation);
                    }
                    Incoming::NotUtf8 => {
                        send_text(socket, &serialize(&not_utf8(relay)), io_timeout).await;
                        return (Some(CloseCode::INVALID_DATA), "invalid UTF-8".into(), LeaveReason::Violation);
                    }
                };
                if let Flow::Close { code, reason, leave } = flow {
                    // Flush what the session queued (e.g. `left`, a fatal error) first.
                    while let Ok(Outbound::Text(t)) = queue.try_recv() {
                        if !send_text(socket, &t, io_timeout).await {
                            return (None, String::new(), LeaveReason::Timeout);
                        }
                    }
                    return (Some(code), reason, leave);
                }
            }
            out = queue.recv() => match out {
                Some(Outbound::Text(text)) => {
                    // A client that stops reading blocks this send; the room overflowing
                    // its queue meanwhile ends it as a slow consumer at once.
                    tokio::select! {
                        sent = send_text(socket, &text, io_timeout) => if !sent {
                            return (None, String::new(), LeaveReason::Timeout);
                        },
                        forced = conn.control.forced() => return forced_close(relay, socket, forced).await,
                    }
                }
                // Kicked or replaced: the room already removed us and told the others.
                Some(Outbound::Close { code, reason }) => return (Some(code), reason, LeaveReason::Kicked),
                None => return (None, String::new(), LeaveReason::Left),
            },
            forced = conn.control.forced() => return forced_close(relay, socket, forced).await,
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > cfg.heartbeat_timeout {
                    info!("no traffic within heartbeat timeout; dropping");
                    heartbeat_timed_out(relay, socket).await;
                    return (Some(CloseCode::HEARTBEAT_TIMEOUT), "heartbeat timeout".into(), LeaveReason::Timeout);
                }
                let ping = tokio::time::timeout(io_timeout, socket.send(Message::Ping(Default::default()))).await;
                if !matches!(ping, Ok(Ok(()))) {
                    return (None, String::new(), LeaveReason::Timeout);
                }
            }
            _ = until_shutdown(shutdown) => {
                let msg = ServerMessage::Shutdown {
                    reason: "the relay is shutting down".into(),
                    retry_after_ms: 2000,
                };
                send_text(socket, &serialize(&msg), io_timeout).await;
                return (Some(CloseCode::GOING_AWAY), "shutting down".into(), LeaveReason::Shutdown);
            }
        }
    }
}
