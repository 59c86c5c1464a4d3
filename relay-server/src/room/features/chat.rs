//! Chat: durable, ordered, idempotent messages with paginated history.
//!
//! Messages are stored before anyone hears of them: a `chat_send` queues on the room,
//! and whoever takes the room's chat lock next stores everything queued in one write
//! (group commit), broadcasts the new messages in sequence order and answers each
//! sender. The same `client_msg_id` from the same identity is stored once. The store is
//! a [`ChatLog`](crate::store::ChatLog): SQLite embedded, a Redis stream in a cluster.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use studyhall_protocol::{ClientMessage, ErrorCode, ServerMessage};
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::ids;
use crate::room::{lock, ConnHandle, Room};
use crate::store::{Appended, NewChatMessage, StoreError};

pub struct Chat;

/// Chat ids the relay gives the messages it posts for people (a shared file's
/// attachment message is `material-<id>`); a client's own may not start so.
pub const RESERVED_ID_PREFIX: &str = "material-";

/// A chat message waiting for the room's next store write, and where its result goes.
type PendingChat = (
    NewChatMessage,
    oneshot::Sender<Result<Appended, StoreError>>,
);

/// A room's chat writer state.
#[derive(Default)]
pub struct ChatQueue {
    /// Held across store-then-broadcast so chat reaches everyone in sequence order.
    order: tokio::sync::Mutex<()>,
    /// Messages waiting to be stored by whoever holds `order` next.
    pending: Mutex<Vec<PendingChat>>,
}

#[async_trait::async_trait]
impl RoomFeature for Chat {
    fn name(&self) -> &'static str {
        "chat"
    }

    fn kinds(&self) -> &'static [&'static str] {
        &["chat_send", "chat_history", "chat_delete"]
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        match message {
            ClientMessage::ChatSend {
                client_msg_id,
                text,
            } => send(cx, client_msg_id, text).await,
            ClientMessage::ChatHistory { before_seq, limit } => {
                history(
                    cx.services,
                    &cx.room.name,
                    before_seq,
                    limit,
                    &cx.request_id,
                )
                .await
            }
            ClientMessage::ChatDelete { seq } => delete(cx, seq).await,
            other => Err(super::unhandled(other.kind())),
        }
    }

    async fn snapshot(
        &self,
        services: &Services,
        room: &Arc<Room>,
        conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        // History is read after entering the room: a message stored in between may arrive
        // both in this page and as a `chat_message` (clients de-duplicate by seq), but none
        // can fall between the two.
        match services
            .chat
            .page(&room.name, None, services.limits.history_on_join)
            .await
        {
            Ok(page) => into.chat = page,
            Err(e) => {
                warn!(error = %e, "cannot load chat history on join");
                super::warn_conn(
                    services,
                    conn,
                    ErrorCode::StorageUnavailable,
                    "chat history is unavailable right now; ask again with chat_history",
                );
            }
        }
    }
}

async fn send(cx: &mut Cx<'_>, client_msg_id: String, text: String) -> Outcome {
    if let Err(m) = ids::check_client_id(&client_msg_id) {
        return Err(Refused::new(
            ErrorCode::InvalidId,
            format!("client_msg_id: {m}"),
        ));
    }
    if client_msg_id.starts_with(RESERVED_ID_PREFIX) {
        return Err(Refused::new(
            ErrorCode::InvalidId,
            format!("client_msg_id: ids starting with `{RESERVED_ID_PREFIX}` are the relay's"),
        ));
    }
    let max = cx.services.limits.max_chat_bytes;
    if text.trim().is_empty() {
        return Err(Refused::new(ErrorCode::InvalidText, "chat text is empty"));
    }
    if text.len() > max {
        return Err(Refused::new(
            ErrorCode::InvalidText,
            format!("chat text is {} bytes; the limit is {max}", text.len()),
        ));
    }
    // Line breaks from any system are kept as `\n`; other control characters are
    // refused (each would cost 6 bytes as a JSON escape in every member's frame).
    let text = text.replace("\r\n", "\n");
    if let Some(c) = studyhall_protocol::forbidden_control(&text) {
        return Err(Refused::new(
            ErrorCode::InvalidText,
            format!(
                "chat text contains the control character U+{:04X}; only newline and tab are allowed",
                c as u32
            ),
        ));
    }
    cx.buckets
        .chat
        .try_take(cx.now)
        .map_err(Refused::RateLimited)?;
    let new = NewChatMessage {
        attachment: None,
        from: cx.identity.to_string(),
        name: cx.name.to_string(),
        client_msg_id: client_msg_id.clone(),
        text: cx.services.filter.mask(&text),
    };
    match post(cx.services, cx.room, new).await {
        Ok(a) => Ok(Reply::Message(ServerMessage::ChatAck {
            request_id: cx.request_id.clone(),
            client_msg_id,
            seq: a.message.seq,
            ts: a.message.ts,
            duplicate: a.duplicate,
        })),
        Err(e) => {
            warn!(error = %e, "chat append failed");
            Err(Refused::new(
                ErrorCode::StorageUnavailable,
                "the message was not stored; retry with the same client_msg_id",
            ))
        }
    }
}

/// Store a message in `room`'s chat and broadcast it (once: a retry with the same
/// sender and `client_msg_id` answers the original). Queued with whatever else waits,
/// stored and told in a task of its own, so a closing socket cannot abandon other
/// people's messages halfway.
pub(crate) async fn post(
    services: &Services,
    room: &Arc<Room>,
    new: NewChatMessage,
) -> Result<Appended, StoreError> {
    let queue = room.feature::<ChatQueue>();
    let (reply, result) = oneshot::channel();
    lock(&queue.pending).push((new, reply));
    tokio::spawn(store_pending(
        services.chat.clone(),
        services.metrics.clone(),
        room.clone(),
    ));
    result.await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "the chat writer stopped before storing the message".into(),
        ))
    })
}

async fn history(
    services: &Services,
    room: &str,
    before_seq: Option<u64>,
    limit: Option<u32>,
    request_id: &Option<String>,
) -> Outcome {
    let max = services.limits.max_history_page;
    let limit = limit.unwrap_or(services.limits.history_on_join.max(1));
    if limit == 0 {
        return Err(Refused::new(
            ErrorCode::BadMessage,
            "limit must be at least 1",
        ));
    }
    match services.chat.page(room, before_seq, limit.min(max)).await {
        Ok(page) => Ok(Reply::Message(ServerMessage::ChatPage {
            request_id: request_id.clone(),
            page,
        })),
        Err(e) => {
            warn!(error = %e, "chat history failed");
            Err(Refused::new(
                ErrorCode::StorageUnavailable,
                "chat history is unavailable; retry",
            ))
        }
    }
}

async fn delete(cx: &mut Cx<'_>, seq: u64) -> Outcome {
    match cx.services.chat.delete(&cx.room.name, seq).await {
        Ok(Some(_)) => {
            info!(seq, "chat message deleted by host");
            cx.room.broadcast(
                &ServerMessage::ChatDeleted {
                    seq,
                    deleted_by: cx.identity.to_string(),
                },
                None,
            );
            Ok(Reply::Ack)
        }
        Ok(None) => Err(Refused::new(
            ErrorCode::NotFound,
            format!("no chat message with seq {seq}"),
        )),
        Err(e) => {
            warn!(error = %e, "chat delete failed");
            Err(Refused::new(
                ErrorCode::StorageUnavailable,
                "the message was not deleted; retry",
            ))
        }
    }
}

/// Store every queued chat message of `room` in one batch, broadcast the new ones in
/// sequence order and answer each sender. Queued messages already taken by an earlier
/// call leave nothing to do.
async fn store_pending(
    chat: Arc<dyn crate::store::ChatLog>,
    metrics: Arc<crate::metrics::Metrics>,
    room: Arc<Room>,
) {
    let queue = room.feature::<ChatQueue>();
    let _order = queue.order.lock().await;
    let batch = std::mem::take(&mut *lock(&queue.pending));
    if batch.is_empty() {
        return;
    }
    let (msgs, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    let results = chat.append_batch(&room.name, msgs).await;
    for (result, reply) in results.into_iter().zip(replies) {
        if let Ok(a) = &result {
            if !a.duplicate {
                metrics.chat_messages.fetch_add(1, Ordering::Relaxed);
                room.broadcast(
                    &ServerMessage::ChatMessage {
                        message: a.message.clone(),
                    },
                    None,
                );
            }
        }
        let _ = reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Harness;
    use super::*;

    #[tokio::test]
    async fn a_message_is_stored_broadcast_and_acknowledged_once() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        host.drain();
        let send = |id: &str| ClientMessage::ChatSend {
            client_msg_id: id.into(),
            text: "hello".into(),
        };
        let first = h.send(&mut bob, send("m1")).await.unwrap();
        let Reply::Message(ServerMessage::ChatAck { seq, duplicate, .. }) = first else {
            panic!("{first:?}")
        };
        assert!(!duplicate);
        let retry = h.send(&mut bob, send("m1")).await.unwrap();
        assert!(
            matches!(retry, Reply::Message(ServerMessage::ChatAck { seq: s, duplicate: true, .. }) if s == seq)
        );
        let seen: Vec<_> = host
            .drain()
            .into_iter()
            .filter(|m| m["type"] == "chat_message")
            .collect();
        assert_eq!(seen.len(), 1, "a retry is not broadcast again: {seen:?}");
        assert_eq!(seen[0]["message"]["text"], "hello");
    }

    #[tokio::test]
    async fn bad_chat_is_refused_with_the_reason() {
        let (h, _host) = Harness::new();
        let mut bob = h.join("bob");
        let empty = h
            .send(
                &mut bob,
                ClientMessage::ChatSend {
                    client_msg_id: "m".into(),
                    text: "  ".into(),
                },
            )
            .await;
        assert!(matches!(
            empty,
            Err(Refused::Error {
                code: ErrorCode::InvalidText,
                ..
            })
        ));
        let long = h
            .send(
                &mut bob,
                ClientMessage::ChatSend {
                    client_msg_id: "m".into(),
                    text: "x".repeat(101),
                },
            )
            .await;
        assert!(matches!(
            long,
            Err(Refused::Error {
                code: ErrorCode::InvalidText,
                ..
            })
        ));
        let delete = h.send(&mut bob, ClientMessage::ChatDelete { seq: 1 }).await;
        assert!(
            matches!(delete, Err(Refused::Error { code: ErrorCode::Forbidden, ref message }) if message == "host"),
            "{delete:?}"
        );
    }

    #[tokio::test]
    async fn control_characters_are_refused_but_line_breaks_and_tabs_kept() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        let say = |id: &str, text: &str| ClientMessage::ChatSend {
            client_msg_id: id.into(),
            text: text.into(),
        };
        for (i, bad) in ["bell\u{7}", "nul\u{0}x", "esc\u{1b}[31m", "c1\u{85}"]
            .iter()
            .enumerate()
        {
            let refused = h.send(&mut bob, say(&format!("c{i}"), bad)).await;
            assert!(
                matches!(&refused, Err(Refused::Error { code: ErrorCode::InvalidText, message }) if message.contains("U+")),
                "{bad:?}: {refused:?}"
            );
        }
        let ok = h
            .send(&mut bob, say("ok", "line one\r\nline two\tand a tab"))
            .await;
        assert!(matches!(ok, Ok(Reply::Message(_))), "{ok:?}");
        let stored: Vec<_> = host
            .drain()
            .into_iter()
            .filter(|m| m["type"] == "chat_message")
            .collect();
        assert_eq!(stored.len(), 1, "only the good one was sent: {stored:?}");
        assert_eq!(
            stored[0]["message"]["text"],
            "line one\nline two\tand a tab"
        );
    }

    #[tokio::test]
    async fn a_host_deletes_with_an_ack() {
        let (h, mut host) = Harness::new();
        let mut bob = h.join("bob");
        h.send(
            &mut bob,
            ClientMessage::ChatSend {
                client_msg_id: "m".into(),
                text: "oops".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            h.send(&mut host, ClientMessage::ChatDelete { seq: 1 })
                .await,
            Ok(Reply::Ack)
        );
        assert!(bob.drain().iter().any(|m| m["type"] == "chat_deleted"));
        assert!(matches!(
            h.send(&mut host, ClientMessage::ChatDelete { seq: 9 })
                .await,
            Err(Refused::Error {
                code: ErrorCode::NotFound,
                ..
            })
        ));
    }
}
