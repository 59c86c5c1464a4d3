//! A room's questions (Q&A): what was asked, by whom, who upvoted, where each stands,
//! and which one is pinned. Open questions must outlive a presenter's reconnect, a relay
//! restart and, in a cluster, the node that held the room.
//!
//! Backends:
//! - embedded: SQLite (`questions.sqlite3`);
//! - cluster: a Redis stream per room with a consumer group, `presenters`. Every
//!   question is delivered to the group as it is asked, so it sits in the group's
//!   pending list until a presenter answers or dismisses it (`XACK`): the open questions
//!   are exactly the pending ones, whichever node reads them.
//!
//! Both pass [`conformance`]. Everything of a room expires a time-to-live after its last
//! write.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use rusqlite::{params, Connection, OptionalExtension};
use studyhall_protocol::QuestionState;

use super::sqlite_db::SqliteDb;
use super::StoreError;
use crate::ids::now_ms;

/// How long a room's questions are kept after its last write: a day, as for the
/// lecture-room seed's keys.
pub const QUESTIONS_TTL: Duration = Duration::from_secs(24 * 3600);

/// A question to store; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuestion {
    pub by: String,
    pub by_name: String,
    pub text: String,
    pub anonymous: bool,
    /// ms since the Unix epoch.
    pub asked_at: u64,
}

/// A stored question with everything known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuestion {
    pub id: String,
    pub asked: NewQuestion,
    pub state: QuestionState,
    /// Who upvoted it.
    pub voters: BTreeSet<String>,
}

/// A room's questions, first asked first, and the pinned one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomQuestions {
    pub questions: Vec<StoredQuestion>,
    pub pinned: Option<String>,
}

#[async_trait]
pub trait QuestionStore: Send + Sync + 'static {
    /// Everything a room holds (empty when it holds nothing or it expired).
    async fn load(&self, room: &str) -> Result<RoomQuestions, StoreError>;

    /// Store a new, open question; returns its id. Durable when it returns.
    async fn ask(&self, room: &str, q: &NewQuestion, ttl: Duration) -> Result<String, StoreError>;

    /// `identity` upvotes `id`: `Some(true)` when counted, `Some(false)` when it had
    /// already, `None` when the room has no such question.
    async fn upvote(
        &self,
        room: &str,
        id: &str,
        identity: &str,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError>;

    /// Close `id` as `state` (answered or dismissed): `Some(true)` when it was open,
    /// `Some(false)` when it was already closed (nothing changes), `None` when there is
    /// no such question. A closed question that was pinned is unpinned.
    async fn close(
        &self,
        room: &str,
        id: &str,
        state: QuestionState,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError>;

    /// Pin `id` (the caller checked it is open), or unpin with `None`.
    async fn pin(&self, room: &str, id: Option<&str>, ttl: Duration) -> Result<(), StoreError>;

    /// Keep what the room holds for `ttl` from now (the room is in use again).
    async fn touch(&self, room: &str, ttl: Duration) -> Result<(), StoreError>;
}

/// File name of the questions database inside the data directory.
pub const QUESTIONS_DB_FILE: &str = "questions.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS question_rooms (
    room       TEXT    PRIMARY KEY,
    pinned     INTEGER,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS questions (
    -- Never reused, even after a room's questions expired: a room held in memory for
    -- longer than that cannot meet a second question with one of its ids.
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    room      TEXT    NOT NULL,
    by_id     TEXT    NOT NULL,
    by_name   TEXT    NOT NULL,
    text      TEXT    NOT NULL,
    anonymous INTEGER NOT NULL,
    asked_at  INTEGER NOT NULL,
    state     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_by_room ON questions (room, id);
CREATE TABLE IF NOT EXISTS question_votes (
    room     TEXT    NOT NULL,
    id       INTEGER NOT NULL,
    identity TEXT    NOT NULL,
    PRIMARY KEY (room, id, identity)
);
";

/// The embedded backend: one SQLite file (WAL, `synchronous=FULL`).
#[derive(Clone)]
pub struct SqliteQuestions {
    db: SqliteDb,
}

impl std::fmt::Debug for SqliteQuestions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteQuestions")
            .field("path", &self.db.path)
            .finish()
    }
}

/// Forget rooms whose time ran out, with their questions and votes.
fn forget_expired(c: &Connection) -> rusqlite::Result<()> {
    let now = now_ms() as i64;
    c.execute(
        "DELETE FROM questions WHERE room IN
           (SELECT room FROM question_rooms WHERE expires_ms <= ?1)",
        params![now],
    )?;
    c.execute(
        "DELETE FROM question_votes WHERE room IN
           (SELECT room FROM question_rooms WHERE expires_ms <= ?1)",
        params![now],
    )?;
    c.execute(
        "DELETE FROM question_rooms WHERE expires_ms <= ?1",
        params![now],
    )?;
    Ok(())
}

/// Keep `room` for `ttl` from now (creating its row).
fn renew(c: &Connection, room: &str, ttl: Duration) -> rusqlite::Result<()> {
    let until = now_ms().saturating_add(ttl.as_millis() as u64) as i64;
    c.execute(
        "INSERT INTO question_rooms (room, pinned, expires_ms) VALUES (?1, NULL, ?2)
         ON CONFLICT(room) DO UPDATE SET expires_ms = excluded.expires_ms",
        params![room, until],
    )?;
    Ok(())
}

impl SqliteQuestions {
    /// Open (creating if needed) the questions database in `data_dir`.
    pub fn open_in(data_dir: &Path) -> Result<Self, StoreError> {
        let db = SqliteDb::open(
            data_dir,
            QUESTIONS_DB_FILE,
            SCHEMA,
            "questions",
            forget_expired,
        )?;
        Ok(SqliteQuestions { db })
    }
}

#[async_trait]
impl QuestionStore for SqliteQuestions {
    async fn load(&self, room: &str) -> Result<RoomQuestions, StoreError> {
        let room = room.to_string();
        self.db
            .run(move |c| {
                forget_expired(c)?;
                let pinned: Option<i64> = c
                    .query_row(
                        "SELECT pinned FROM question_rooms WHERE room = ?1",
                        params![room],
                        |r| r.get(0),
                    )
                    .optional()?
                    .flatten();
                let mut voters: HashMap<i64, BTreeSet<String>> = HashMap::new();
                let mut stmt =
                    c.prepare("SELECT id, identity FROM question_votes WHERE room = ?1")?;
                for row in stmt.query_map(params![room], |r| Ok((r.get(0)?, r.get(1)?)))? {
                    let (id, who): (i64, String) = row?;
                    voters.entry(id).or_default().insert(who);
                }
                let mut stmt = c.prepare(
                    "SELECT id, by_id, by_name, text, anonymous, asked_at, state
                     FROM questions WHERE room = ?1 ORDER BY id",
                )?;
                let rows = stmt.query_map(params![room], |r| {
                    let id: i64 = r.get(0)?;
                    let state: String = r.get(6)?;
                    Ok(StoredQuestion {
                        id: id.to_string(),
                        asked: NewQuestion {
                            by: r.get(1)?,
                            by_name: r.get(2)?,
                            text: r.get(3)?,
                            anonymous: r.get::<_, i64>(4)? != 0,
                            asked_at: r.get::<_, i64>(5)? as u64,
                        },
                        state: QuestionState::parse(&state).unwrap_or(QuestionState::Open),
                        voters: voters.remove(&id).unwrap_or_default(),
                    })
                })?;
                let questions = rows.collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(RoomQuestions {
                    questions,
                    pinned: pinned.map(|p| p.to_string()),
                })
            })
            .await
    }

    async fn ask(&self, room: &str, q: &NewQuestion, ttl: Duration) -> Result<String, StoreError> {
        let (room, q) = (room.to_string(), q.clone());
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                renew(&tx, &room, ttl)?;
                tx.execute(
                    "INSERT INTO questions (room, by_id, by_name, text, anonymous, asked_at, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open')",
                    params![
                        room,
                        q.by,
                        q.by_name,
                        q.text,
                        q.anonymous as i64,
                        q.asked_at as i64
                    ],
                )?;
                let id = tx.last_insert_rowid();
                tx.commit()?;
                Ok(id.to_string())
            })
            .await
    }

    async fn upvote(
        &self,
        room: &str,
        id: &str,
        identity: &str,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        let Ok(n) = id.parse::<i64>() else {
            return Ok(None);
        };
        let (room, identity) = (room.to_string(), identity.to_string());
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                let exists = tx
                    .query_row(
                        "SELECT 1 FROM questions WHERE room = ?1 AND id = ?2",
                        params![room, n],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                if !exists {
                    return Ok(None);
                }
                let added = tx.execute(
                    "INSERT OR IGNORE INTO question_votes (room, id, identity) VALUES (?1, ?2, ?3)",
                    params![room, n, identity],
                )? == 1;
                renew(&tx, &room, ttl)?;
                tx.commit()?;
                Ok(Some(added))
            })
            .await
    }

    async fn close(
        &self,
        room: &str,
        id: &str,
        state: QuestionState,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        let Ok(n) = id.parse::<i64>() else {
            return Ok(None);
        };
        let room = room.to_string();
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                let was: Option<String> = tx
                    .query_row(
                        "SELECT state FROM questions WHERE room = ?1 AND id = ?2",
                        params![room, n],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(was) = was else {
                    return Ok(None);
                };
                if was != QuestionState::Open.as_str() {
                    return Ok(Some(false));
                }
                tx.execute(
                    "UPDATE questions SET state = ?3 WHERE room = ?1 AND id = ?2",
                    params![room, n, state.as_str()],
                )?;
                renew(&tx, &room, ttl)?;
                tx.execute(
                    "UPDATE question_rooms SET pinned = NULL WHERE room = ?1 AND pinned = ?2",
                    params![room, n],
                )?;
                tx.commit()?;
                Ok(Some(true))
            })
            .await
    }

    async fn pin(&self, room: &str, id: Option<&str>, ttl: Duration) -> Result<(), StoreError> {
        let pinned = match id {
            Some(id) => Some(id.parse::<i64>().map_err(|_| {
                StoreError::Corrupt(format!("question id `{id}` is not this store's"))
            })?),
            None => None,
        };
        let room = room.to_string();
        self.db
            .run(move |c| {
                let tx = c.transaction()?;
                renew(&tx, &room, ttl)?;
                tx.execute(
                    "UPDATE question_rooms SET pinned = ?2 WHERE room = ?1",
                    params![room, pinned],
                )?;
                tx.commit()
            })
            .await
    }

    async fn touch(&self, room: &str, ttl: Duration) -> Result<(), StoreError> {
        let room = room.to_string();
        let until = now_ms().saturating_add(ttl.as_millis() as u64) as i64;
        self.db
            .run(move |c| {
                c.execute(
                    "UPDATE question_rooms SET expires_ms = ?2 WHERE room = ?1",
                    params![room, until],
                )
                .map(|_| ())
            })
            .await
    }
}

/// The cluster backend. Per room, in one Redis Cluster slot (the braces):
/// - `studyhall:questions:{room}`: the stream of questions (fields `by`, `name`,
///   `text`, `anon`, `at`), with the consumer group `presenters`;
/// - `…:meta`: a hash of `state:<id>` (closed questions) and `pinned`;
/// - `…:voters`: a set of `<id> <identity>`.
pub struct RedisQuestions {
    conn: ConnectionManager,
}

fn redis_unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// The consumer group the open questions are pending in.
pub const PRESENTERS_GROUP: &str = "presenters";

fn keys(room: &str) -> [String; 3] {
    let stream = format!("studyhall:questions:{{{room}}}");
    [
        stream.clone(),
        format!("{stream}:meta"),
        format!("{stream}:voters"),
    ]
}

/// A stream id as Redis makes them (`<ms>-<n>`); anything else names no question.
fn is_stream_id(id: &str) -> bool {
    let mut parts = id.splitn(2, '-');
    let digits = |s: Option<&str>| {
        s.is_some_and(|s| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(parts.next()) && digits(parts.next())
}

/// Renew every key of the room: `PEXPIRE`s for `KEYS[1..3]` with `ARGV[1]` ms.
const RENEW_LUA: &str = "
local function renew(ms)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ms) end
end
";

const ASK_LUA: &str = "
local made = redis.pcall('XGROUP', 'CREATE', KEYS[1], 'presenters', '0', 'MKSTREAM')
-- The group being there already is expected; any other refusal (an ACL) is the answer.
if type(made) == 'table' and made.err and not string.find(made.err, 'BUSYGROUP') then
  return made
end
local id = redis.call('XADD', KEYS[1], '*', 'by', ARGV[2], 'name', ARGV[3], 'text', ARGV[4],
  'anon', ARGV[5], 'at', ARGV[6])
-- Deliver it to the group at once: it is pending until answered or dismissed.
redis.call('XREADGROUP', 'GROUP', 'presenters', 'relay', 'COUNT', 1000, 'STREAMS', KEYS[1], '>')
renew(ARGV[1])
return id
";

const UPVOTE_LUA: &str = "
if #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) == 0 then return -1 end
local added = redis.call('SADD', KEYS[3], ARGV[2] .. ' ' .. ARGV[3])
renew(ARGV[1])
return added
";

const CLOSE_LUA: &str = "
if #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) == 0 then return -1 end
if redis.call('HEXISTS', KEYS[2], 'state:' .. ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'state:' .. ARGV[2], ARGV[3])
redis.call('XACK', KEYS[1], 'presenters', ARGV[2])
if redis.call('HGET', KEYS[2], 'pinned') == ARGV[2] then redis.call('HDEL', KEYS[2], 'pinned') end
renew(ARGV[1])
return 1
";

const PIN_LUA: &str = "
if ARGV[2] == '' then redis.call('HDEL', KEYS[2], 'pinned')
else redis.call('HSET', KEYS[2], 'pinned', ARGV[2]) end
renew(ARGV[1])
return 1
";

impl RedisQuestions {
    pub async fn connect(url: &str) -> Result<RedisQuestions, StoreError> {
        let client = redis::Client::open(url).map_err(redis_unavailable)?;
        let conn = ConnectionManager::new_with_config(client, super::redis_manager_config())
            .await
            .map_err(redis_unavailable)?;
        Ok(RedisQuestions { conn })
    }

    async fn script(
        &self,
        body: &str,
        room: &str,
        ttl: Duration,
        args: &[&str],
    ) -> Result<redis::Value, StoreError> {
        let mut conn = self.conn.clone();
        let script = redis::Script::new(&format!("{RENEW_LUA}{body}"));
        let mut invocation = script.prepare_invoke();
        for key in keys(room) {
            invocation.key(key);
        }
        invocation.arg(ttl.as_millis().max(1) as u64);
        for a in args {
            invocation.arg(*a);
        }
        invocation
            .invoke_async(&mut conn)
            .await
            .map_err(redis_unavailable)
    }

    async fn script_int(
        &self,
        body: &str,
        room: &str,
        ttl: Duration,
        args: &[&str],
    ) -> Result<i64, StoreError> {
        let value = self.script(body, room, ttl, args).await?;
        redis::from_redis_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("question store: {what}"))
}

#[async_trait]
impl QuestionStore for RedisQuestions {
    async fn load(&self, room: &str) -> Result<RoomQuestions, StoreError> {
        let mut conn = self.conn.clone();
        let [stream, meta, voters] = keys(room);
        let (entries, meta, voters): (
            Vec<(String, Vec<(String, String)>)>,
            HashMap<String, String>,
            Vec<String>,
        ) = redis::pipe()
            .cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .cmd("HGETALL")
            .arg(&meta)
            .cmd("SMEMBERS")
            .arg(&voters)
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        if entries.is_empty() {
            return Ok(RoomQuestions::default());
        }
        // The open questions are the group's pending entries.
        let pending: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
            .arg(&stream)
            .arg(PRESENTERS_GROUP)
            .arg("-")
            .arg("+")
            .arg(entries.len())
            .query_async(&mut conn)
            .await
            .map_err(redis_unavailable)?;
        let pending: BTreeSet<String> = pending.into_iter().map(|(id, ..)| id).collect();
        let mut by_question: HashMap<&str, BTreeSet<String>> = HashMap::new();
        for v in &voters {
            if let Some((id, who)) = v.split_once(' ') {
                by_question.entry(id).or_default().insert(who.to_string());
            }
        }
        let mut questions = Vec::with_capacity(entries.len());
        for (id, fields) in &entries {
            let fields: HashMap<&str, &str> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let field = |name: &str| {
                fields
                    .get(name)
                    .map(|v| v.to_string())
                    .ok_or_else(|| corrupt(&format!("{id} has no `{name}`")))
            };
            let state = if pending.contains(id) {
                QuestionState::Open
            } else {
                meta.get(&format!("state:{id}"))
                    .and_then(|s| QuestionState::parse(s))
                    .ok_or_else(|| corrupt(&format!("{id} is neither pending nor closed")))?
            };
            questions.push(StoredQuestion {
                id: id.clone(),
                asked: NewQuestion {
                    by: field("by")?,
                    by_name: field("name")?,
                    text: field("text")?,
                    anonymous: field("anon")? == "1",
                    asked_at: field("at")?
                        .parse()
                        .map_err(|_| corrupt(&format!("{id} has a bad `at`")))?,
                },
                state,
                voters: by_question.remove(id.as_str()).unwrap_or_default(),
            });
        }
        Ok(RoomQuestions {
            questions,
            pinned: meta.get("pinned").cloned(),
        })
    }

    async fn ask(&self, room: &str, q: &NewQuestion, ttl: Duration) -> Result<String, StoreError> {
        let at = q.asked_at.to_string();
        let anon = if q.anonymous { "1" } else { "0" };
        let value = self
            .script(ASK_LUA, room, ttl, &[&q.by, &q.by_name, &q.text, anon, &at])
            .await?;
        redis::from_redis_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn upvote(
        &self,
        room: &str,
        id: &str,
        identity: &str,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        if !is_stream_id(id) {
            return Ok(None);
        }
        Ok(
            match self
                .script_int(UPVOTE_LUA, room, ttl, &[id, identity])
                .await?
            {
                -1 => None,
                n => Some(n == 1),
            },
        )
    }

    async fn close(
        &self,
        room: &str,
        id: &str,
        state: QuestionState,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError> {
        if !is_stream_id(id) {
            return Ok(None);
        }
        Ok(
            match self
                .script_int(CLOSE_LUA, room, ttl, &[id, state.as_str()])
                .await?
            {
                -1 => None,
                n => Some(n == 1),
            },
        )
    }

    async fn pin(&self, room: &str, id: Option<&str>, ttl: Duration) -> Result<(), StoreError> {
        self.script_int(PIN_LUA, room, ttl, &[id.unwrap_or("")])
            .await
            .map(|_| ())
    }

    async fn touch(&self, room: &str, ttl: Duration) -> Result<(), StoreError> {
        self.script_int("renew(ARGV[1])\nreturn 1", room, ttl, &[])
            .await
            .map(|_| ())
    }
}

/// Behaviour every backend must show.
pub mod conformance {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn asked(by: &str, text: &str, at: u64) -> NewQuestion {
        NewQuestion {
            by: by.into(),
            by_name: by.to_uppercase(),
            text: text.into(),
            anonymous: by == "anon",
            asked_at: at,
        }
    }

    fn open_ids(r: &RoomQuestions) -> Vec<String> {
        r.questions
            .iter()
            .filter(|q| q.state == QuestionState::Open)
            .map(|q| q.id.clone())
            .collect()
    }

    pub async fn questions_come_back_with_votes_and_states(store: &dyn QuestionStore) {
        assert_eq!(store.load("a").await.unwrap(), RoomQuestions::default());
        let one = store
            .ask("a", &asked("ada", "why?", 10), DAY)
            .await
            .unwrap();
        let two = store
            .ask("a", &asked("anon", "how?", 11), DAY)
            .await
            .unwrap();
        let three = store
            .ask("a", &asked("bob", "what?", 12), DAY)
            .await
            .unwrap();
        store
            .ask("b", &asked("cat", "other room", 13), DAY)
            .await
            .unwrap();
        assert!(
            one != two && two != three,
            "ids are unique: {one} {two} {three}"
        );

        let a = store.load("a").await.unwrap();
        let ids: Vec<_> = a.questions.iter().map(|q| q.id.clone()).collect();
        assert_eq!(
            ids,
            [one.clone(), two.clone(), three.clone()],
            "first asked first"
        );
        assert_eq!(a.questions[1].asked, asked("anon", "how?", 11));
        assert!(a.questions[1].asked.anonymous);
        assert_eq!(a.pinned, None);

        // One vote per person, counted once however often it is sent.
        assert_eq!(
            store.upvote("a", &two, "bob", DAY).await.unwrap(),
            Some(true)
        );
        assert_eq!(
            store.upvote("a", &two, "bob", DAY).await.unwrap(),
            Some(false)
        );
        assert_eq!(
            store.upvote("a", &two, "cat", DAY).await.unwrap(),
            Some(true)
        );
        assert_eq!(
            store.upvote("a", "12345-0", "cat", DAY).await.unwrap(),
            None
        );
        assert_eq!(
            store.upvote("a", "nonsense", "cat", DAY).await.unwrap(),
            None
        );
        assert_eq!(
            store.upvote("b", &two, "cat", DAY).await.unwrap().is_some(),
            store
                .load("b")
                .await
                .unwrap()
                .questions
                .iter()
                .any(|q| q.id == two),
            "a question of another room is not this room's"
        );

        // Pinned, then closed: the pin goes with it.
        store.pin("a", Some(&one), DAY).await.unwrap();
        assert_eq!(store.load("a").await.unwrap().pinned, Some(one.clone()));
        assert_eq!(
            store
                .close("a", &one, QuestionState::Answered, DAY)
                .await
                .unwrap(),
            Some(true)
        );
        assert_eq!(
            store
                .close("a", &one, QuestionState::Dismissed, DAY)
                .await
                .unwrap(),
            Some(false),
            "closing twice changes nothing"
        );
        assert_eq!(
            store
                .close("a", "12345-0", QuestionState::Answered, DAY)
                .await
                .unwrap(),
            None
        );
        store
            .close("a", &three, QuestionState::Dismissed, DAY)
            .await
            .unwrap();

        let a = store.load("a").await.unwrap();
        assert_eq!(a.pinned, None, "a closed question is unpinned");
        assert_eq!(
            open_ids(&a),
            std::slice::from_ref(&two),
            "exactly the open ones"
        );
        let states: Vec<_> = a.questions.iter().map(|q| q.state).collect();
        assert_eq!(
            states,
            [
                QuestionState::Answered,
                QuestionState::Open,
                QuestionState::Dismissed
            ]
        );
        let voters: Vec<_> = a.questions[1].voters.iter().cloned().collect();
        assert_eq!(voters, ["bob", "cat"]);

        store.pin("a", Some(&two), DAY).await.unwrap();
        store.pin("a", None, DAY).await.unwrap();
        assert_eq!(store.load("a").await.unwrap().pinned, None);
        assert_eq!(open_ids(&store.load("b").await.unwrap()).len(), 1);
    }

    pub async fn questions_expire_after_their_ttl(store: &dyn QuestionStore) {
        let short = Duration::from_millis(300);
        store
            .ask("t", &asked("ada", "soon gone", 1), short)
            .await
            .unwrap();
        let kept = store
            .ask("k", &asked("ada", "kept", 1), short)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        // A write renews the whole room, and so does its use.
        store.upvote("k", &kept, "bob", DAY).await.unwrap();
        store
            .ask("u", &asked("ada", "used", 1), short)
            .await
            .unwrap();
        store.touch("u", DAY).await.unwrap();
        store.touch("never-written", DAY).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(store.load("t").await.unwrap(), RoomQuestions::default());
        let k = store.load("k").await.unwrap();
        assert_eq!(open_ids(&k), [kept]);
        assert_eq!(k.questions[0].voters.len(), 1);
        assert_eq!(
            open_ids(&store.load("u").await.unwrap()).len(),
            1,
            "touched rooms stay"
        );
        assert_eq!(
            store.load("never-written").await.unwrap(),
            RoomQuestions::default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_store_passes_the_conformance_suite_and_outlives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteQuestions::open_in(dir.path()).unwrap();
        conformance::questions_come_back_with_votes_and_states(&store).await;
        conformance::questions_expire_after_their_ttl(&store).await;
        let before = store.load("a").await.unwrap();
        drop(store);
        let reopened = SqliteQuestions::open_in(dir.path()).unwrap();
        assert_eq!(reopened.load("a").await.unwrap(), before);
    }

    #[test]
    fn stream_ids_are_told_from_anything_else() {
        assert!(is_stream_id("1733412345678-0"));
        assert!(!is_stream_id("1733412345678"));
        assert!(!is_stream_id("-0"));
        assert!(!is_stream_id("1-x"));
        assert!(!is_stream_id("+"));
    }
}
