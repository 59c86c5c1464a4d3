//! The cluster backend for chat: one Redis stream per room, shared by every node.
//!
//! Keys (`{room}` is a hash tag, so a room's keys stay together on a Redis Cluster):
//! - `studyhall:chat:{room}` — the stream; entry id `<seq>-1`, fields `from`, `name`,
//!   `cid` (client_msg_id), `text`, `ts`, `att` (an attachment as JSON, or empty); capped at `max_len` entries (approximately);
//! - `studyhall:chat:{room}:seq` — the room's last sequence number (INCR);
//! - `studyhall:chat:{room}:ids` — hash `<from>\n<cid>` → seq, so retries store once;
//! - `studyhall:chat:{room}:deleted` — set of deleted seqs (a stream entry cannot change).
//!
//! An append is one Lua script, so the sequence, the stream and the id hash move
//! together, and two nodes appending to one room never share a number.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::streams::StreamRangeReply;
use redis::{AsyncCommands, Script, Value};
use studyhall_protocol::{ChatMessage, ChatPage};

use super::{Appended, ChatLog, NewChatMessage, StoreError};
use crate::ids::now_ms;

/// Stream entries kept per room unless configured otherwise.
pub const DEFAULT_MAX_LEN: u64 = 100_000;

/// How long `/healthz` waits for Redis to answer a PING.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);
/// How long an operation may take before it fails as unavailable (no hangs).
const OP_TIMEOUT: Duration = Duration::from_secs(2);

const APPEND: &str = r#"
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then
  return {0, tonumber(existing)}
end
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[7], seq .. '-1',
  'from', ARGV[2], 'name', ARGV[3], 'cid', ARGV[4], 'text', ARGV[5], 'ts', ARGV[6],
  'att', ARGV[8])
redis.call('HSET', KEYS[3], ARGV[1], seq)
return {1, seq}
"#;

/// Settings for every Redis connection of the relay: commands fail within
/// [`OP_TIMEOUT`], and while Redis is away a command waits for at most one quick
/// reconnect attempt instead of a long backoff (callers fail fast and retry later).
pub fn manager_config() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(OP_TIMEOUT))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500))
}

pub struct RedisChatLog {
    conn: ConnectionManager,
    max_len: u64,
    append: Script,
}

fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn stream_key(room: &str) -> String {
    format!("studyhall:chat:{{{room}}}")
}

impl RedisChatLog {
    /// Connect to `url` (`redis://`, `rediss://`, with credentials if the server wants
    /// them). Fails at once when the server does not answer.
    pub async fn connect(url: &str, max_len: u64) -> Result<RedisChatLog, StoreError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = ConnectionManager::new_with_config(client, manager_config())
            .await
            .map_err(unavailable)?;
        Ok(RedisChatLog {
            conn,
            max_len: max_len.max(1),
            append: Script::new(APPEND),
        })
    }

    /// The append script's call for one message.
    fn invocation<'a>(
        &'a self,
        key: &str,
        msg: &NewChatMessage,
        ts: u64,
    ) -> redis::ScriptInvocation<'a> {
        let mut inv = self.append.key(key);
        inv.key(format!("{key}:seq"))
            .key(format!("{key}:ids"))
            .arg(format!("{}\n{}", msg.from, msg.client_msg_id))
            .arg(&msg.from)
            .arg(&msg.name)
            .arg(&msg.client_msg_id)
            .arg(&msg.text)
            .arg(ts)
            .arg(self.max_len)
            .arg(
                msg.attachment
                    .as_ref()
                    .map(|a| serde_json::to_string(a).unwrap_or_default())
                    .unwrap_or_default(),
            );
        inv
    }

    /// What an append returns, from the script's answer: the message as sent, or for a
    /// retry the stored original (or what we know of it, if the stream has been trimmed
    /// past it).
    async fn appended(
        &self,
        room: &str,
        msg: NewChatMessage,
        ts: u64,
        fresh: bool,
        seq: u64,
    ) -> Result<Appended, StoreError> {
        let sent = ChatMessage {
            seq,
            from: msg.from,
            name: msg.name,
            text: msg.text,
            ts,
            client_msg_id: msg.client_msg_id,
            deleted: false,
            attachment: msg.attachment,
        };
        if fresh {
            return Ok(Appended {
                message: sent,
                duplicate: false,
            });
        }
        let message = self.get(room, seq).await?.unwrap_or(sent);
        Ok(Appended {
            message,
            duplicate: true,
        })
    }

    /// The message stored as `seq`, if the stream still holds it.
    async fn get(&self, room: &str, seq: u64) -> Result<Option<ChatMessage>, StoreError> {
        let id = format!("{seq}-1");
        let mut conn = self.conn.clone();
        let reply: StreamRangeReply = conn
            .xrange(stream_key(room), &id, &id)
            .await
            .map_err(unavailable)?;
        let deleted: bool = conn
            .sismember(format!("{}:deleted", stream_key(room)), seq)
            .await
            .map_err(unavailable)?;
        Ok(reply
            .ids
            .into_iter()
            .next()
            .map(|entry| to_message(seq, &entry, deleted)))
    }
}

fn field(entry: &redis::streams::StreamId, name: &str) -> String {
    match entry.map.get(name) {
        Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(Value::SimpleString(s)) => s.clone(),
        _ => String::new(),
    }
}

fn seq_of(id: &str) -> Option<u64> {
    id.split_once('-').and_then(|(ms, _)| ms.parse().ok())
}

fn to_message(seq: u64, entry: &redis::streams::StreamId, deleted: bool) -> ChatMessage {
    ChatMessage {
        seq,
        from: field(entry, "from"),
        name: field(entry, "name"),
        text: if deleted {
            String::new()
        } else {
            field(entry, "text")
        },
        ts: field(entry, "ts").parse().unwrap_or(0),
        client_msg_id: field(entry, "cid"),
        deleted,
        attachment: if deleted {
            None
        } else {
            serde_json::from_str(&field(entry, "att")).ok()
        },
    }
}

#[async_trait]
impl ChatLog for RedisChatLog {
    async fn append(&self, room: &str, msg: NewChatMessage) -> Result<Appended, StoreError> {
        let key = stream_key(room);
        let ts = now_ms();
        let mut conn = self.conn.clone();
        let (fresh, seq): (u8, u64) = self
            .invocation(&key, &msg, ts)
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        self.appended(room, msg, ts, fresh == 1, seq).await
    }

    async fn append_batch(
        &self,
        room: &str,
        msgs: Vec<NewChatMessage>,
    ) -> Vec<Result<Appended, StoreError>> {
        if msgs.len() < 2 {
            let mut out = Vec::new();
            for msg in msgs {
                out.push(self.append(room, msg).await);
            }
            return out;
        }
        // One pipeline: one round trip, and Redis answers (and, with `appendfsync
        // always`, syncs its AOF) once for all of them. The scripts still run one after
        // another, so the sequence is assigned in this order.
        let key = stream_key(room);
        let ts = now_ms();
        let invocations: Vec<_> = msgs
            .iter()
            .map(|msg| self.invocation(&key, msg, ts))
            .collect();
        let mut pipe = redis::pipe();
        pipe.load_script(&self.append).ignore();
        for inv in &invocations {
            pipe.invoke_script(inv);
        }
        let mut conn = self.conn.clone();
        let replies: Result<Vec<(u8, u64)>, _> = pipe.query_async(&mut conn).await;
        let replies = match replies {
            Ok(r) if r.len() == msgs.len() => r,
            Ok(r) => {
                let e = StoreError::Corrupt(format!(
                    "{} replies to a pipeline of {} appends",
                    r.len(),
                    msgs.len()
                ));
                return msgs.iter().map(|_| Err(e.clone())).collect();
            }
            Err(e) => {
                let e = unavailable(e);
                return msgs.iter().map(|_| Err(e.clone())).collect();
            }
        };
        let mut out = Vec::with_capacity(msgs.len());
        for (msg, (fresh, seq)) in msgs.into_iter().zip(replies) {
            out.push(self.appended(room, msg, ts, fresh == 1, seq).await);
        }
        out
    }

    async fn page(
        &self,
        room: &str,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<ChatPage, StoreError> {
        let key = stream_key(room);
        let end = match before_seq {
            Some(0) | Some(1) => {
                return Ok(ChatPage {
                    messages: vec![],
                    has_more: false,
                })
            }
            Some(before) => format!("{}-1", before - 1),
            None => "+".to_string(),
        };
        let mut conn = self.conn.clone();
        let reply: StreamRangeReply = conn
            .xrevrange_count(&key, &end, "-", limit as usize + 1)
            .await
            .map_err(unavailable)?;
        let deleted: Vec<u64> = conn
            .smembers(format!("{key}:deleted"))
            .await
            .map_err(unavailable)?;
        let has_more = reply.ids.len() > limit as usize;
        let mut messages: Vec<ChatMessage> = reply
            .ids
            .iter()
            .take(limit as usize)
            .filter_map(|entry| {
                let seq = seq_of(&entry.id)?;
                Some(to_message(seq, entry, deleted.contains(&seq)))
            })
            .collect();
        messages.reverse();
        Ok(ChatPage { messages, has_more })
    }

    async fn delete(&self, room: &str, seq: u64) -> Result<Option<ChatMessage>, StoreError> {
        if self.get(room, seq).await?.is_none() {
            return Ok(None);
        }
        let mut conn = self.conn.clone();
        let _: () = conn
            .sadd(format!("{}:deleted", stream_key(room)), seq)
            .await
            .map_err(unavailable)?;
        self.get(room, seq).await
    }

    async fn healthy(&self) -> bool {
        let mut conn = self.conn.clone();
        // The connection manager waits for its reconnects; health must answer now.
        matches!(
            tokio::time::timeout(
                HEALTH_TIMEOUT,
                redis::cmd("PING").query_async::<String>(&mut conn)
            )
            .await,
            Ok(Ok(_))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// A private redis-server on a free port, stopped when dropped.
    struct RedisServer {
        child: Child,
        port: u16,
        _dir: tempfile::TempDir,
    }

    impl Drop for RedisServer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn start_redis() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let dir = tempfile::tempdir().ok()?;
        let child = match Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                panic!("redis-server is needed for these tests (Debian package redis-server): {e}")
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(RedisServer {
            child,
            port,
            _dir: dir,
        })
    }

    async fn log(server: &RedisServer) -> RedisChatLog {
        RedisChatLog::connect(&format!("redis://127.0.0.1:{}/", server.port), 1000)
            .await
            .expect("connect to the test redis")
    }

    #[tokio::test]
    async fn conformance_suite() {
        let server = start_redis().unwrap();
        let log = log(&server).await;
        assert!(log.healthy().await);
        conformance::sequence_increases_per_room(&log).await;
        conformance::retries_do_not_duplicate(&log).await;
        conformance::pages_walk_back_without_gaps(&log).await;
        conformance::delete_keeps_the_slot(&log).await;
        conformance::batches_store_in_order_once(&log).await;
        conformance::attachments_come_back(&log).await;
    }

    #[tokio::test]
    async fn the_redis_room_state_store_passes_the_conformance_suite() {
        use crate::store::room_state::{conformance as state, RedisRoomState};
        let server = start_redis().unwrap();
        let url = format!("redis://127.0.0.1:{}/", server.port);
        let store = RedisRoomState::connect(&url).await.unwrap();
        state::values_are_kept_per_room_and_key(&store).await;
        state::values_expire_after_their_ttl(&store).await;
        state::oversized_values_are_refused(&store).await;
    }

    #[tokio::test]
    async fn the_redis_groups_store_passes_the_conformance_suite() {
        use crate::store::groups::{conformance as groups, RedisGroups};
        let server = start_redis().unwrap();
        let url = format!("redis://127.0.0.1:{}/", server.port);
        let store = RedisGroups::connect(&url).await.unwrap();
        groups::groups_are_found_by_id_and_invite(&store).await;
        groups::a_write_on_a_stale_read_is_refused(&store).await;
        groups::a_new_invite_replaces_the_old(&store).await;
        groups::concurrent_changes_are_all_kept(std::sync::Arc::new(store)).await;
    }

    #[tokio::test]
    async fn the_redis_materials_store_passes_the_conformance_suite() {
        use crate::store::materials::{conformance as materials, RedisMaterials};
        let server = start_redis().unwrap();
        let url = format!("redis://127.0.0.1:{}/", server.port);
        let store = RedisMaterials::connect(&url).await.unwrap();
        materials::entries_are_kept_per_room_oldest_first(&store).await;
        materials::the_quota_and_the_count_hold(&store).await;
        materials::removing_gives_back_the_bytes(&store).await;
        materials::concurrent_adds_stay_within_the_quota(std::sync::Arc::new(store)).await;
    }

    #[tokio::test]
    async fn the_redis_board_store_passes_the_conformance_suite() {
        use crate::store::board::{conformance as boards, RedisBoards};
        let server = start_redis().unwrap();
        let url = format!("redis://127.0.0.1:{}/", server.port);
        let store = RedisBoards::connect(&url).await.unwrap();
        boards::ops_come_back_in_order_after_the_snapshot(&store).await;
        boards::boards_expire_unless_written_or_touched(&store).await;
        boards::oversized_snapshots_are_refused(&store).await;
    }

    #[tokio::test]
    async fn the_redis_question_store_passes_the_conformance_suite() {
        use crate::store::questions::{conformance as questions, RedisQuestions};
        use crate::store::QuestionStore;
        let server = start_redis().unwrap();
        let url = format!("redis://127.0.0.1:{}/", server.port);
        let store = RedisQuestions::connect(&url).await.unwrap();
        questions::questions_come_back_with_votes_and_states(&store).await;
        questions::questions_expire_after_their_ttl(&store).await;
        // The open questions are the presenters group's pending list, as another node
        // reads it.
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        /// XPENDING's summary: count, first and last id, consumers.
        type Summary = (u64, Option<String>, Option<String>, Vec<(String, u64)>);
        let pending: Summary = redis::cmd("XPENDING")
            .arg("studyhall:questions:{a}")
            .arg("presenters")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(pending.0, 1, "{pending:?}");
        let other = RedisQuestions::connect(&url).await.unwrap();
        let open: Vec<_> = other
            .load("a")
            .await
            .unwrap()
            .questions
            .into_iter()
            .filter(|q| q.state == studyhall_protocol::QuestionState::Open)
            .map(|q| q.id)
            .collect();
        assert_eq!(open, [pending.1.unwrap()]);
    }

    #[tokio::test]
    async fn the_redis_invite_store_passes_the_conformance_suite() {
        use crate::store::invites::{conformance as invites, RedisInvites};
        let server = start_redis().unwrap();
        let url = format!("redis://127.0.0.1:{}/", server.port);
        let store = RedisInvites::connect(&url).await.unwrap();
        invites::an_invite_is_found_until_it_expires(&store).await;
        invites::a_taken_code_is_not_overwritten(&store).await;
        // Another node sees the same codes.
        let other = RedisInvites::connect(&url).await.unwrap();
        use crate::store::InviteStore;
        assert!(other.get("LIVE0001").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn two_nodes_appending_to_one_room_never_share_a_number() {
        let server = start_redis().unwrap();
        let (a, b) = (log(&server).await, log(&server).await);
        let mut tasks = Vec::new();
        for (i, log) in [a, b].into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for n in 0..50 {
                    let m = NewChatMessage {
                        attachment: None,
                        from: format!("node{i}"),
                        name: "N".into(),
                        client_msg_id: format!("m{n}"),
                        text: format!("{i}/{n}"),
                    };
                    seqs.push(log.append("shared", m).await.unwrap().message.seq);
                }
                seqs
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all, (1..=100).collect::<Vec<u64>>());
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast_with_a_clear_error() {
        let server = start_redis().unwrap();
        let log = log(&server).await;
        drop(server);
        let started = Instant::now();
        let m = NewChatMessage {
            attachment: None,
            from: "a".into(),
            name: "A".into(),
            client_msg_id: "x".into(),
            text: "hello".into(),
        };
        let err = log.append("r", m).await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3), "no hang");
        let started = Instant::now();
        assert!(!log.healthy().await);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "health answers at once"
        );
    }
}
