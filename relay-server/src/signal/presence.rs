//! The presence socket (`/v1/presence`): one per user and relay, whatever number of
//! groups it watches there. The first frame is `watch` with the user's group tokens; the
//! relay answers `watching` (the groups and every member's presence), then sends
//! `presence`, `group_updated` and `group_gone` as things change. While it is open its
//! holder counts as online in those groups (unless they asked to appear offline).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket};
use studyhall_protocol::groups::{
    PresenceClient, PresenceServer, RefusedToken, MAX_WATCHED_GROUPS,
};
use studyhall_protocol::{CloseCode, ErrorCode};
use tokio::sync::OwnedSemaphorePermit;
use tracing::{debug, info};

use super::socket::{close, heartbeat_timed_out, recv, send_text, until_shutdown, Incoming};
use crate::groups::presence::Watching;
use crate::groups::GroupError;
use crate::pending::PendingSlot;
use crate::room::limits::TokenBucket;
use crate::state::Relay;
use crate::store::StoredGroup;

/// Largest frame a presence socket takes (a `watch` with 100 tokens fits).
pub const MAX_PRESENCE_FRAME: usize = 64 * 1024;
/// Frames per second a presence socket may send, and the burst above it.
const FRAMES_PER_SECOND: u32 = 5;
const FRAME_BURST: u32 = 20;
/// Frames over the rate before the socket is closed.
const VIOLATIONS_BEFORE_CLOSE: u32 = 10;

fn text(msg: &PresenceServer) -> String {
    serde_json::to_string(msg).unwrap_or_default()
}

fn error(
    code: ErrorCode,
    message: impl Into<String>,
    fatal: bool,
    request_id: Option<String>,
) -> String {
    text(&PresenceServer::Error {
        code,
        message: message.into(),
        fatal,
        request_id,
        retry_after_ms: None,
    })
}

/// How long a run of rate violations is remembered: quiet this long, and it starts over.
const VIOLATIONS_FORGOTTEN: Duration = Duration::from_secs(10);

/// Read a presence frame: its message, or the error to answer (with the `request_id` it
/// carried, when that was valid). An unknown `type` is `unknown_type`, a malformed
/// `request_id` `invalid_id`, anything else unusable `bad_message`; fields this relay does
/// not know are ignored.
fn parse(frame: &str) -> Result<PresenceClient, (ErrorCode, String, Option<String>)> {
    let value: serde_json::Value = serde_json::from_str(frame)
        .map_err(|e| (ErrorCode::BadMessage, format!("not JSON: {e}"), None))?;
    let Some(object) = value.as_object() else {
        return Err((
            ErrorCode::BadMessage,
            "a frame must be a JSON object".into(),
            None,
        ));
    };
    let request_id = match object.get("request_id") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(id)) => {
            crate::ids::check_client_id(id)
                .map_err(|m| (ErrorCode::InvalidId, format!("request_id: {m}"), None))?;
            Some(id.clone())
        }
        Some(_) => {
            return Err((
                ErrorCode::BadMessage,
                "request_id must be a string".into(),
                None,
            ))
        }
    };
    match object.get("type").and_then(|t| t.as_str()) {
        None => Err((
            ErrorCode::BadMessage,
            "missing string field `type`".into(),
            request_id,
        )),
        Some(kind) if !PresenceClient::TYPES.contains(&kind) => Err((
            ErrorCode::UnknownType,
            format!(
                "`{kind}` is not a presence message (they are {})",
                PresenceClient::TYPES.join(", ")
            ),
            request_id,
        )),
        Some(_) => serde_json::from_value(value).map_err(|e| {
            (
                ErrorCode::BadMessage,
                format!("not a presence frame: {e}"),
                request_id,
            )
        }),
    }
}

/// The error code of a refused token.
fn token_code(e: &GroupError) -> ErrorCode {
    match e {
        GroupError::Token(t) => t.code(),
        GroupError::NotFound | GroupError::Missing(_) => ErrorCode::NotFound,
        GroupError::Removed => ErrorCode::Banned,
        GroupError::Unavailable(_) => ErrorCode::StorageUnavailable,
        _ => ErrorCode::Forbidden,
    }
}

/// Check every token of a `watch`: the groups it opens, the identities it proves, and
/// the tokens refused. `Err` when the set is too large.
async fn check_tokens(
    relay: &Relay,
    tokens: &[String],
) -> Result<(Vec<StoredGroup>, HashSet<String>, Vec<RefusedToken>), String> {
    if tokens.len() > MAX_WATCHED_GROUPS {
        return Err(format!(
            "a presence socket watches at most {MAX_WATCHED_GROUPS} groups; {} were sent",
            tokens.len()
        ));
    }
    let (mut groups, mut own, mut refused) = (Vec::new(), HashSet::new(), Vec::new());
    for (index, token) in tokens.iter().enumerate() {
        match relay.groups.watch_view(token).await {
            Ok(member) => {
                own.insert(member.claims.sub.clone());
                if !groups
                    .iter()
                    .any(|g: &StoredGroup| g.group.id == member.group.group.id)
                {
                    groups.push(member.group);
                }
            }
            Err(e) => refused.push(RefusedToken {
                index: index as u32,
                code: token_code(&e),
                message: e.to_string(),
            }),
        }
    }
    Ok((groups, own, refused))
}

/// The answer to a `watch`: the groups and every member's presence now. What was queued
/// for the watcher before is dropped: this supersedes it.
fn welcome(
    relay: &Relay,
    watching: &mut Watching,
    groups: &[StoredGroup],
    refused: Vec<RefusedToken>,
    request_id: Option<String>,
) -> String {
    let presence = relay.groups.presence.snapshot(watching.id);
    while watching.rx.try_recv().is_ok() {}
    text(&PresenceServer::Watching {
        groups: groups.iter().map(crate::groups::members_view).collect(),
        presence,
        refused,
        request_id,
    })
}

/// Serve one upgraded presence socket until it closes.
pub async fn serve(
    relay: Relay,
    mut socket: WebSocket,
    peer: std::net::SocketAddr,
    _permit: OwnedSemaphorePermit,
    pending: PendingSlot,
) {
    let _open = relay.metrics.connection_opened();
    let io_timeout = relay.config.heartbeat_timeout;
    let mut shutdown = relay.shutting_down();
    let first = tokio::select! {
        r = tokio::time::timeout(relay.config.join_timeout, recv(&mut socket, MAX_PRESENCE_FRAME)) => r,
        _ = until_shutdown(&mut shutdown) => {
            close(&mut socket, CloseCode::GOING_AWAY, "shutting down", io_timeout).await;
            return;
        }
    };
    let refuse = |code: ErrorCode, message: String, close_code: u16| (code, message, close_code);
    let watch = match first {
        Err(_) => Err(refuse(
            ErrorCode::JoinTimeout,
            format!(
                "no `watch` within {}",
                humantime::format_duration(relay.config.join_timeout)
            ),
            CloseCode::PROTOCOL,
        )),
        Ok(Incoming::Closed | Incoming::Broken) => return,
        Ok(Incoming::Text(t)) => match parse(&t) {
            Ok(PresenceClient::Watch {
                tokens,
                hidden,
                request_id,
            }) => Ok((tokens, hidden, request_id)),
            Ok(_) => Err(refuse(
                ErrorCode::NotJoined,
                "the first message must be `watch`".into(),
                CloseCode::PROTOCOL,
            )),
            Err((code, message, _)) => Err(refuse(code, message, CloseCode::PROTOCOL)),
        },
        Ok(Incoming::TooLarge(_)) => Err(refuse(
            ErrorCode::MessageTooLarge,
            format!("a presence frame is at most {MAX_PRESENCE_FRAME} bytes"),
            CloseCode::TOO_BIG,
        )),
        Ok(Incoming::NotUtf8) => Err(refuse(
            ErrorCode::BadMessage,
            "a text frame that is not valid UTF-8".into(),
            CloseCode::INVALID_DATA,
        )),
        Ok(Incoming::Binary) => Err(refuse(
            ErrorCode::BinaryNotSupported,
            "binary frames are not part of the protocol; send JSON text".into(),
            CloseCode::PROTOCOL,
        )),
        Ok(Incoming::Control) => Err(refuse(
            ErrorCode::NotJoined,
            "the first message must be `watch` (JSON text)".into(),
            CloseCode::PROTOCOL,
        )),
    };
    let (tokens, hidden, request_id) = match watch {
        Ok(w) => w,
        Err((code, message, close_code)) => {
            relay.metrics.error_sent(code);
            info!(%peer, code = %code, "presence socket refused");
            send_text(&mut socket, &error(code, message, true, None), io_timeout).await;
            close(&mut socket, close_code, code.as_str(), io_timeout).await;
            return;
        }
    };
    let (groups, own, refused) = match check_tokens(&relay, &tokens).await {
        Ok(checked) => checked,
        Err(message) => {
            let code = ErrorCode::LimitReached;
            relay.metrics.error_sent(code);
            send_text(
                &mut socket,
                &error(code, message, true, request_id),
                io_timeout,
            )
            .await;
            close(&mut socket, CloseCode::PROTOCOL, code.as_str(), io_timeout).await;
            return;
        }
    };
    drop(pending);
    let hub = relay.groups.presence.clone();
    let mut id = hub.socket_opened(&own, hidden);
    let mut watching = hub.watch(id, own, &groups).await;
    let welcome = welcome(&relay, &mut watching, &groups, refused, request_id);
    if send_text(&mut socket, &welcome, io_timeout).await {
        let (code, reason) = run(&relay, &mut socket, &mut id, &mut watching, &mut shutdown).await;
        hub.socket_closed(id);
        if let Some(code) = code {
            close(&mut socket, code, &reason, io_timeout).await;
        }
    } else {
        hub.socket_closed(id);
    }
}

/// The watching loop; returns the close code to send (if the socket still stands).
async fn run(
    relay: &Relay,
    socket: &mut WebSocket,
    id: &mut u64,
    watching: &mut Watching,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> (Option<u16>, String) {
    let cfg = &relay.config;
    let io_timeout = cfg.heartbeat_timeout;
    let hub = relay.groups.presence.clone();
    let mut last_heard = Instant::now();
    let mut heartbeat = tokio::time::interval(cfg.heartbeat_interval);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    let mut bucket = TokenBucket::new(FRAMES_PER_SECOND, FRAME_BURST, Instant::now());
    let mut violations = 0;
    let mut last_violation = Instant::now();
    let mut overflow_check = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            incoming = recv(socket, MAX_PRESENCE_FRAME) => {
                last_heard = Instant::now();
                let frame = match incoming {
                    Incoming::Text(t) => Some(t),
                    Incoming::Control => continue,
                    Incoming::Closed | Incoming::Broken => return (None, String::new()),
                    Incoming::Binary => None,
                    Incoming::TooLarge(_) => {
                        send_text(socket, &error(ErrorCode::MessageTooLarge, format!("a presence frame is at most {MAX_PRESENCE_FRAME} bytes"), true, None), io_timeout).await;
                        return (Some(CloseCode::TOO_BIG), "message too large".into());
                    }
                    Incoming::NotUtf8 => {
                        send_text(socket, &error(ErrorCode::BadMessage, "a text frame that is not valid UTF-8", true, None), io_timeout).await;
                        return (Some(CloseCode::INVALID_DATA), "invalid UTF-8".into());
                    }
                };
                if let Err(wait) = bucket.try_take(Instant::now()) {
                    if last_violation.elapsed() > VIOLATIONS_FORGOTTEN {
                        violations = 0;
                    }
                    violations += 1;
                    last_violation = Instant::now();
                    relay.metrics.error_sent(ErrorCode::RateLimited);
                    if violations >= VIOLATIONS_BEFORE_CLOSE {
                        send_text(socket, &error(ErrorCode::RateLimited, "too many messages; closing", true, None), io_timeout).await;
                        return (Some(CloseCode::RATE_LIMITED), "rate limited".into());
                    }
                    let slow_down = text(&PresenceServer::Error {
                        code: ErrorCode::RateLimited,
                        message: format!("too many messages: at most {FRAMES_PER_SECOND} a second"),
                        fatal: false,
                        request_id: None,
                        retry_after_ms: Some((wait.as_millis() as u64).max(1)),
                    });
                    send_text(socket, &slow_down, io_timeout).await;
                    continue;
                }
                let Some(frame) = frame else {
                    relay.metrics.error_sent(ErrorCode::BinaryNotSupported);
                    send_text(socket, &error(ErrorCode::BinaryNotSupported, "binary frames are not part of the protocol; send JSON text", false, None), io_timeout).await;
                    continue;
                };
                let reply = match parse(&frame) {
                    Err((code, message, request_id)) => {
                        relay.metrics.error_sent(code);
                        error(code, message, false, request_id)
                    }
                    Ok(PresenceClient::Ping { request_id }) => text(&PresenceServer::Pong { request_id }),
                    Ok(PresenceClient::SetHidden { hidden, request_id }) => {
                        hub.socket_hidden(*id, hidden);
                        match request_id {
                            Some(request_id) => text(&PresenceServer::Ack { request_id }),
                            None => continue,
                        }
                    }
                    Ok(PresenceClient::Watch { tokens, hidden, request_id }) => {
                        match check_tokens(relay, &tokens).await {
                            Err(message) => {
                                relay.metrics.error_sent(ErrorCode::LimitReached);
                                error(ErrorCode::LimitReached, message, false, request_id)
                            }
                            Ok((groups, own, refused)) => {
                                // The new socket entry first, so the holder never flickers offline.
                                let new_id = hub.socket_opened(&own, hidden);
                                hub.socket_closed(*id);
                                *id = new_id;
                                *watching = hub.watch(new_id, own, &groups).await;
                                welcome(relay, watching, &groups, refused, request_id)
                            }
                        }
                    }
                };
                if !send_text(socket, &reply, io_timeout).await {
                    return (None, String::new());
                }
            }
            out = watching.rx.recv() => match out {
                Some(out) => {
                    if !send_text(socket, &out, io_timeout).await {
                        return (None, String::new());
                    }
                }
                None => return (None, String::new()),
            },
            _ = overflow_check.tick() => {
                if watching.overflowed.load(Ordering::Relaxed) {
                    debug!("presence socket fell behind");
                    relay.metrics.error_sent(ErrorCode::SlowConsumer);
                    send_text(socket, &error(ErrorCode::SlowConsumer, "this connection is not reading what it is sent; connect again", true, None), Duration::from_secs(1)).await;
                    return (Some(CloseCode::SLOW_CONSUMER), "slow consumer".into());
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > cfg.heartbeat_timeout {
                    heartbeat_timed_out(relay, socket).await;
                    return (Some(CloseCode::HEARTBEAT_TIMEOUT), "heartbeat timeout".into());
                }
                let ping = tokio::time::timeout(io_timeout, socket.send(Message::Ping(Default::default()))).await;
                if !matches!(ping, Ok(Ok(()))) {
                    return (None, String::new());
                }
            }
            _ = until_shutdown(shutdown) => {
                send_text(socket, &error(ErrorCode::ShuttingDown, "the relay is shutting down; connect again shortly", true, None), io_timeout).await;
                return (Some(CloseCode::GOING_AWAY), "shutting down".into());
            }
        }
    }
}
