//! What must outlive a process: the traits, and the embedded backend (SQLite).
//!
//! A backend acknowledges an append only once it is durable, assigns each room a
//! sequence that only increases, and stores a `(room, sender, client_msg_id)` once no
//! matter how often it is retried. The conformance tests in [`conformance`] hold every
//! backend to that.

pub mod board;
pub mod files;
pub mod groups;
pub mod invites;
pub mod materials;
pub mod questions;
mod redis;
pub mod room_state;
mod sqlite;
mod sqlite_db;

pub use self::redis::{
    manager_config as redis_manager_config, RedisChatLog, DEFAULT_MAX_LEN as REDIS_DEFAULT_MAX_LEN,
};
pub use board::{BoardStore, RedisBoards, SqliteBoards, StoredBoard, BOARD_TTL};
pub use groups::{GroupStore, RedisGroups, Replaced, SqliteGroups, StoredGroup};
pub use invites::{Invite, InviteStore, MemoryInvites, RedisInvites};
pub use materials::{Added, MaterialStore, RedisMaterials, SqliteMaterials, StoredMaterial};
pub use questions::{
    NewQuestion, QuestionStore, RedisQuestions, RoomQuestions, SqliteQuestions, StoredQuestion,
    QUESTIONS_TTL,
};
pub use room_state::{RedisRoomState, RoomStateStore, SqliteRoomState, ROOM_STATE_TTL};
pub use sqlite::SqliteChatLog;

use async_trait::async_trait;
use studyhall_protocol::{ChatMessage, ChatPage};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("storage is corrupt or inconsistent: {0}")]
    Corrupt(String),
    #[error("storage is full: {0}")]
    Full(String),
}

/// A message to append; the store assigns `seq` and `ts`.
#[derive(Debug, Clone)]
pub struct NewChatMessage {
    pub from: String,
    pub name: String,
    pub client_msg_id: String,
    pub text: String,
    /// A shared file this message announces.
    pub attachment: Option<studyhall_protocol::Attachment>,
}

/// Result of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub message: ChatMessage,
    /// True when the same `(sender, client_msg_id)` was already stored; `message` is the
    /// stored original.
    pub duplicate: bool,
}

/// The durable chat log of every room.
#[async_trait]
pub trait ChatLog: Send + Sync + 'static {
    /// Store a message and return it with its sequence number. Idempotent per
    /// `(room, from, client_msg_id)`.
    async fn append(&self, room: &str, msg: NewChatMessage) -> Result<Appended, StoreError>;

    /// Store several messages of one room, in this order, with one durable write where
    /// the backend can (group commit): messages that arrive while a write is under way
    /// wait for one more write, not one each. Results come back in the same order; each
    /// has the meaning of [`ChatLog::append`].
    async fn append_batch(
        &self,
        room: &str,
        msgs: Vec<NewChatMessage>,
    ) -> Vec<Result<Appended, StoreError>> {
        let mut out = Vec::with_capacity(msgs.len());
        for msg in msgs {
            out.push(self.append(room, msg).await);
        }
        out
    }

    /// Up to `limit` messages with `seq < before_seq` (or the newest), oldest first.
    async fn page(
        &self,
        room: &str,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<ChatPage, StoreError>;

    /// Mark a message deleted (its text is erased). `None` when no such message exists.
    async fn delete(&self, room: &str, seq: u64) -> Result<Option<ChatMessage>, StoreError>;

    /// Whether the store answers; used by `/healthz`.
    async fn healthy(&self) -> bool;
}

/// Behaviour every [`ChatLog`] backend must show. Backends call these from their tests.
#[cfg(any(test, feature = "conformance"))]
pub mod conformance {
    use super::*;

    fn msg(from: &str, id: &str, text: &str) -> NewChatMessage {
        NewChatMessage {
            attachment: None,
            from: from.into(),
            name: from.to_uppercase(),
            client_msg_id: id.into(),
            text: text.into(),
        }
    }

    pub async fn sequence_increases_per_room(log: &dyn ChatLog) {
        let a1 = log.append("a", msg("ada", "1", "hi")).await.unwrap();
        let a2 = log.append("a", msg("bob", "1", "hey")).await.unwrap();
        let b1 = log
            .append("b", msg("ada", "1", "other room"))
            .await
            .unwrap();
        assert_eq!(a1.message.seq, 1);
        assert_eq!(
            a2.message.seq, 2,
            "same client id from another sender is new"
        );
        assert_eq!(b1.message.seq, 1, "rooms have their own sequence");
        assert!(!a2.duplicate);
        assert!(a2.message.ts >= a1.message.ts);
    }

    pub async fn retries_do_not_duplicate(log: &dyn ChatLog) {
        let first = log.append("r", msg("ada", "m-1", "once")).await.unwrap();
        let again = log.append("r", msg("ada", "m-1", "once")).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.message, first.message);
        let page = log.page("r", None, 50).await.unwrap();
        assert_eq!(page.messages.len(), 1);
    }

    pub async fn pages_walk_back_without_gaps(log: &dyn ChatLog) {
        for i in 0..120 {
            log.append("p", msg("ada", &format!("m{i}"), &format!("text {i}")))
                .await
                .unwrap();
        }
        let newest = log.page("p", None, 50).await.unwrap();
        assert_eq!(newest.messages.len(), 50);
        assert!(newest.has_more);
        assert_eq!(newest.messages.first().unwrap().seq, 71);
        assert_eq!(newest.messages.last().unwrap().seq, 120);
        let mut seen: Vec<u64> = newest.messages.iter().map(|m| m.seq).collect();
        let mut before = newest.messages[0].seq;
        loop {
            let page = log.page("p", Some(before), 50).await.unwrap();
            let mut seqs: Vec<u64> = page.messages.iter().map(|m| m.seq).collect();
            assert!(
                seqs.windows(2).all(|w| w[1] == w[0] + 1),
                "oldest first, no gaps"
            );
            seqs.extend(seen);
            seen = seqs;
            if !page.has_more {
                break;
            }
            before = page.messages[0].seq;
        }
        assert_eq!(seen, (1..=120).collect::<Vec<_>>());
        let empty = log.page("nobody-here", None, 50).await.unwrap();
        assert!(empty.messages.is_empty() && !empty.has_more);
    }

    pub async fn batches_store_in_order_once(log: &dyn ChatLog) {
        log.append("g", msg("ada", "0", "before")).await.unwrap();
        let results = log
            .append_batch(
                "g",
                vec![
                    msg("ada", "1", "one"),
                    msg("bob", "1", "two"),
                    msg("ada", "1", "one again"),
                    msg("ada", "0", "retry of the first"),
                    msg("cyd", "9", "three"),
                ],
            )
            .await;
        let got: Vec<(u64, bool)> = results
            .into_iter()
            .map(|r| r.unwrap())
            .map(|a| (a.message.seq, a.duplicate))
            .collect();
        assert_eq!(
            got,
            vec![(2, false), (3, false), (2, true), (1, true), (4, false)],
            "new messages numbered in batch order; retries, in the batch or not, answered with the original"
        );
        let page = log.page("g", None, 50).await.unwrap();
        let texts: Vec<&str> = page.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, vec!["before", "one", "two", "three"]);
        assert!(log.append_batch("g", vec![]).await.is_empty());
    }

    pub async fn delete_keeps_the_slot(log: &dyn ChatLog) {
        log.append("d", msg("ada", "1", "keep")).await.unwrap();
        let gone = log.append("d", msg("bob", "1", "oops")).await.unwrap();
        let deleted = log.delete("d", gone.message.seq).await.unwrap().unwrap();
        assert!(deleted.deleted);
        assert!(deleted.text.is_empty());
        assert!(log.delete("d", 99).await.unwrap().is_none());
        let page = log.page("d", None, 50).await.unwrap();
        assert_eq!(page.messages.len(), 2);
        assert!(page.messages[1].deleted && page.messages[1].text.is_empty());
        let next = log.append("d", msg("ada", "2", "after")).await.unwrap();
        assert_eq!(next.message.seq, 3, "sequence never reuses a deleted slot");
    }

    pub async fn attachments_come_back(log: &dyn ChatLog) {
        let file = studyhall_protocol::Attachment {
            id: "0123456789abcdef0123456789abcdef".into(),
            name: "slides \"week 1\".pdf".into(),
            size: 123_456,
            mime: "application/pdf".into(),
        };
        let mut shared = msg("ada", "material-1", "slides.pdf");
        shared.attachment = Some(file.clone());
        let stored = log.append("att", shared).await.unwrap();
        assert_eq!(stored.message.attachment.as_ref(), Some(&file));
        log.append("att", msg("bob", "1", "plain")).await.unwrap();
        let page = log.page("att", None, 10).await.unwrap();
        assert_eq!(page.messages[0].attachment.as_ref(), Some(&file));
        assert_eq!(page.messages[1].attachment, None);
        let mut again = msg("ada", "material-1", "slides.pdf");
        again.attachment = Some(file.clone());
        let retry = log.append("att", again).await.unwrap();
        assert!(retry.duplicate);
        assert_eq!(retry.message.attachment, Some(file));
    }
}
