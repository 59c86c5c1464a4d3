//! The whiteboard: pages of strokes, shapes and text that the room draws on together.
//!
//! The relay holds each room's board, orders every change with the board's one sequence,
//! and for each change checks permission and limits, applies it, stores it
//! ([`BoardStore`]) and only then sends it to everyone (`board_op`). Clients apply the
//! same changes in the same order with the protocol's [`Board::apply`], so every board
//! agrees. A stroke being drawn goes to the others as `board_live`, checked but neither
//! ordered nor stored.
//!
//! A joiner learns the board's id, sequence and pages from `joined` and asks for the
//! rest with `board_sync`: the changes it missed when the relay still has them (the
//! last [`RECENT_OPS`]), else the whole board in parts. Every [`COMPACT_EVERY`] changes
//! the board is written as a new snapshot, which drops the stored changes before it.
//!
//! Undo and redo are per person and kept in memory: the relay keeps the change that
//! undoes each of someone's last [`UNDO_DEPTH`] changes, fitted to the board as it is
//! when they undo (what others erased since is skipped). They do not outlive the
//! process that holds the room.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex as StdMutex};

use studyhall_protocol::board::{self, snapshot_parts};
use studyhall_protocol::{
    Board, BoardAccess, BoardChange, BoardEvent, BoardOp, BoardRequest, BoardSummary,
    ClientMessage, ErrorCode, FeatureEvent, ServerMessage,
};
use tokio::sync::Mutex;

use super::{Cx, Outcome, Refused, Reply, RoomFeature, Services, Snapshot};
use crate::room::{serialize, ConnHandle, Outbound, Room};
use crate::store::{BoardStore, BOARD_TTL};

pub struct Whiteboard;

/// A new snapshot is written after this many changes.
pub const COMPACT_EVERY: u64 = 300;
/// Changes kept in memory for reconnects that missed only a few (well under a
/// connection's queue of 1,024 messages, which a sync fills at once).
pub const RECENT_OPS: usize = 500;
/// A board in use is kept in the store this long after the last time it was renewed.
const RENEW_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);
/// Changes of one person that can be undone.
pub const UNDO_DEPTH: usize = 100;

/// A room's board.
#[derive(Default)]
pub struct RoomBoard {
    held: Mutex<Option<Held>>,
    /// Who may draw, readable without waiting for a change being stored (live strokes).
    access: StdMutex<BoardAccess>,
}

struct Held {
    board: Board,
    store: Arc<dyn BoardStore>,
    /// Changes since the stored snapshot.
    since_snapshot: u64,
    /// Whether a snapshot is stored (one is written before a board's first change, so
    /// that its id outlives the process).
    snapshotted: bool,
    /// The last changes, serialized as sent, for `board_sync` with `since`.
    recent: VecDeque<(u64, Arc<str>)>,
    /// Per identity: changes that undo their last changes, and that redo their undos.
    undo: HashMap<String, History>,
    /// When the stored board's time to live was last renewed.
    renewed: std::time::Instant,
}

#[derive(Default)]
struct History {
    undo: VecDeque<BoardChange>,
    redo: Vec<BoardChange>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Refused {
    Refused::new(
        ErrorCode::StorageUnavailable,
        format!("the whiteboard {what}: {e}"),
    )
}

fn refused(e: board::BoardError) -> Refused {
    Refused::new(e.code, e.message)
}

fn op_message(op: BoardOp) -> ServerMessage {
    ServerMessage::Feature(FeatureEvent::Board(BoardEvent::BoardOp(op)))
}

/// Build a board from what was stored: the snapshot, then its ops in order. An op that
/// does not apply ends the replay there (what follows depended on it).
fn replay(room: &str, stored: crate::store::StoredBoard) -> (Board, Vec<BoardOp>) {
    let mut board = match stored
        .snapshot
        .map(|(_, json)| serde_json::from_str::<Board>(&json))
    {
        Some(Ok(mut board)) => {
            board.recount();
            board
        }
        Some(Err(e)) => {
            tracing::warn!(room, "unreadable whiteboard snapshot, starting afresh: {e}");
            return (new_board(), vec![]);
        }
        None => new_board(),
    };
    let mut applied = vec![];
    for (seq, json) in stored.ops {
        let op = match serde_json::from_str::<BoardOp>(&json) {
            Ok(op) if op.seq == seq => op,
            Ok(_) | Err(_) => {
                tracing::warn!(
                    room,
                    seq,
                    "unreadable whiteboard op; the board stops before it"
                );
                break;
            }
        };
        if let Err(e) = board.apply_op(&op) {
            tracing::warn!(
                room,
                seq,
                "stored whiteboard op does not apply ({e}); the board stops before it"
            );
            break;
        }
        applied.push(op);
    }
    (board, applied)
}

fn new_board() -> Board {
    Board::new(hex::encode(rand::random::<[u8; 8]>()))
}

impl RoomBoard {
    /// The held board, loaded from the store on first use.
    async fn load<'a>(
        &'a self,
        services: &Services,
        room: &Arc<Room>,
    ) -> Result<tokio::sync::MutexGuard<'a, Option<Held>>, Refused> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            let store = services.board.clone();
            let stored = store
                .load(&room.name)
                .await
                .map_err(|e| unavailable("could not be loaded", e))?;
            let snapshotted = stored.as_ref().is_some_and(|s| s.snapshot.is_some());
            let (board, ops) = match stored {
                Some(stored) => {
                    // The room is in use again: its board is kept a day from now.
                    if let Err(e) = store.touch(&room.name, BOARD_TTL).await {
                        tracing::warn!(room = %room.name, "whiteboard not renewed: {e}");
                    }
                    replay(&room.name, stored)
                }
                None => (new_board(), vec![]),
            };
            *self.access.lock().unwrap_or_else(|e| e.into_inner()) = board.access.clone();
            let recent = ops
                .into_iter()
                .map(|op| (op.seq, serialize(&op_message(op))))
                .collect::<VecDeque<_>>();
            *held = Some(Held {
                renewed: std::time::Instant::now(),
                snapshotted,
                since_snapshot: recent.len() as u64,
                board,
                store,
                recent,
                undo: HashMap::new(),
            });
        } else if let Some(h) = held.as_mut() {
            h.renew(&room.name).await;
        }
        Ok(held)
    }

    /// Whether `identity` may draw now.
    fn can_draw(&self, identity: &str, host: bool) -> bool {
        self.access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .can_draw(identity, host)
    }
}

impl Held {
    /// Renew the stored board's time to live when the room has been in use for a while
    /// (a room busy for a day without a change keeps its board).
    async fn renew(&mut self, room: &str) {
        if self.renewed.elapsed() < RENEW_AFTER {
            return;
        }
        self.renewed = std::time::Instant::now();
        if let Err(e) = self.store.touch(room, BOARD_TTL).await {
            tracing::warn!(room, "whiteboard not renewed: {e}");
        }
    }

    /// Apply `change` by `by`, store it, then tell everyone. Returns the change that
    /// undoes it, or `None` when it changed nothing (then nothing is stored or sent).
    /// Nothing changes when it is refused or cannot be stored.
    async fn commit(
        &mut self,
        room: &Room,
        access: &StdMutex<BoardAccess>,
        by: &str,
        now_ms: u64,
        change: BoardChange,
    ) -> Result<Option<BoardChange>, Refused> {
        if !self.snapshotted {
            let json = serde_json::to_string(&self.board)
                .map_err(|e| Refused::new(ErrorCode::Internal, e.to_string()))?;
            self.store
                .compact(&room.name, self.board.seq, &json, BOARD_TTL)
                .await
                .map_err(|e| unavailable("could not be saved", e))?;
            self.snapshotted = true;
            self.since_snapshot = 0;
        }
        let inverse = self.board.apply(&change).map_err(refused)?;
        if changes_nothing(&change, &inverse) {
            return Ok(None);
        }
        let op = BoardOp {
            seq: self.board.seq + 1,
            by: by.to_string(),
            at: now_ms,
            change,
        };
        let stored = match serde_json::to_string(&op) {
            Ok(json) => self
                .store
                .append(&room.name, op.seq, &json, BOARD_TTL)
                .await
                .map_err(|e| unavailable("change could not be saved", e)),
            Err(e) => Err(Refused::new(ErrorCode::Internal, e.to_string())),
        };
        if let Err(refused) = stored {
            if let Err(e) = self.board.apply(&inverse) {
                tracing::error!(room = %room.name, "whiteboard change not undone after a failed save: {e}");
            }
            return Err(refused);
        }
        self.board.seq = op.seq;
        if let BoardChange::Access { access: now } = &op.change {
            *access.lock().unwrap_or_else(|e| e.into_inner()) = now.clone();
        }
        let seq = op.seq;
        let text = serialize(&op_message(op));
        self.recent.push_back((seq, text.clone()));
        if self.recent.len() > RECENT_OPS {
            self.recent.pop_front();
        }
        room.broadcast_text(text, None);
        self.since_snapshot += 1;
        if self.since_snapshot >= COMPACT_EVERY {
            self.compact(&room.name).await;
        }
        Ok(Some(inverse))
    }

    /// Write the board as a new snapshot (a failure is retried after the next change).
    async fn compact(&mut self, room: &str) {
        let json = match serde_json::to_string(&self.board) {
            Ok(json) => json,
            Err(e) => {
                tracing::error!(room, "whiteboard snapshot not serialized: {e}");
                return;
            }
        };
        match self
            .store
            .compact(room, self.board.seq, &json, BOARD_TTL)
            .await
        {
            Ok(()) => {
                self.since_snapshot = 0;
                self.snapshotted = true;
            }
            Err(e) => tracing::warn!(room, "whiteboard snapshot not written: {e}"),
        }
    }

    fn history(&mut self, identity: &str) -> &mut History {
        self.undo.entry(identity.to_string()).or_default()
    }

    /// Answer `board_sync`: the missed ops and `board_synced`, or the whole board.
    fn sync(&self, conn: &ConnHandle, board_id: Option<&str>, since: Option<u64>) {
        let seq = self.board.seq;
        let oldest = self.recent.front().map_or(seq + 1, |(s, _)| *s);
        if let (Some(id), Some(since)) = (board_id, since) {
            if id == self.board.id && since <= seq && since + 1 >= oldest {
                for (_, text) in self.recent.iter().filter(|(s, _)| *s > since) {
                    conn.send(Outbound::Text(text.clone()));
                }
                conn.send(Outbound::message(&ServerMessage::Feature(
                    FeatureEvent::Board(BoardEvent::BoardSynced {
                        board: self.board.id.clone(),
                        seq,
                    }),
                )));
                return;
            }
        }
        for part in snapshot_parts(&self.board) {
            conn.send(Outbound::message(&ServerMessage::Feature(
                FeatureEvent::Board(part),
            )));
        }
    }
}

/// Whether a change that applied left the board as it was: clearing an empty page,
/// moving a page where it is, setting what is already set.
fn changes_nothing(change: &BoardChange, inverse: &BoardChange) -> bool {
    match (change, inverse) {
        (BoardChange::Clear { .. }, BoardChange::Restore { objects, .. }) => objects.is_empty(),
        (
            BoardChange::MovePage { .. }
            | BoardChange::Annotates { .. }
            | BoardChange::Access { .. },
            _,
        ) => change == inverse,
        _ => false,
    }
}

fn summary(board: &Board) -> BoardSummary {
    BoardSummary {
        id: board.id.clone(),
        seq: board.seq,
        access: board.access.clone(),
        pages: board.page_infos(),
    }
}

#[async_trait::async_trait]
impl RoomFeature for Whiteboard {
    fn name(&self) -> &'static str {
        "whiteboard"
    }

    fn kinds(&self) -> &'static [&'static str] {
        BoardRequest::TYPES
    }

    async fn handle(&self, cx: &mut Cx<'_>, message: ClientMessage) -> Outcome {
        let request = super::own_request!(cx, message, Board);
        let board = cx.room.feature::<RoomBoard>();
        if let BoardRequest::BoardLive {
            page,
            id,
            shape,
            style,
            from,
        } = request
        {
            // Over the rate, live strokes are dropped: the finished stroke still comes.
            // Checked first: `board_live` is outside the message rate, so a flood of
            // refused ones must not get an error each.
            if cx.buckets.board_live.try_take(cx.now).is_err() {
                return Ok(Reply::Ack);
            }
            if !board.can_draw(cx.identity, cx.presents()) {
                return Err(not_a_drawer());
            }
            let preview = studyhall_protocol::BoardObject {
                id: id.clone(),
                author: cx.identity.to_string(),
                shape,
                style,
            };
            preview.validate().map_err(refused)?;
            board::check_id("page id", &page).map_err(refused)?;
            cx.room.broadcast(
                &ServerMessage::Feature(FeatureEvent::Board(BoardEvent::BoardLive {
                    by: cx.identity.to_string(),
                    page,
                    id,
                    shape: preview.shape,
                    style: preview.style,
                    from,
                })),
                Some(cx.identity),
            );
            return Ok(Reply::Ack);
        }
        cx.buckets
            .board
            .try_take(cx.now)
            .map_err(|wait| Refused::Limit {
                message: format!(
                    "ops_per_second: whiteboard changes are limited to {} a second after a burst of {} (ops per second per person); wait {} ms",
                    board::OPS_PER_SECOND,
                    board::OPS_BURST,
                    wait.as_millis().max(1)
                ),
                wait,
            })?;
        let mut guard = board.load(cx.services, cx.room).await?;
        let Some(held) = guard.as_mut() else {
            return Err(Refused::new(ErrorCode::Internal, "whiteboard not loaded"));
        };
        if let BoardRequest::BoardSync { board: id, since } = &request {
            held.sync(cx.conn, id.as_deref(), *since);
            return Ok(Reply::Ack);
        }
        if !board.can_draw(cx.identity, cx.presents()) {
            return Err(not_a_drawer());
        }
        let now = cx.services.clock.now_ms();
        match request {
            BoardRequest::BoardUndo | BoardRequest::BoardRedo => {
                let undoing = matches!(request, BoardRequest::BoardUndo);
                loop {
                    let history = held.history(cx.identity);
                    let kept = if undoing {
                        history.undo.pop_back()
                    } else {
                        history.redo.pop()
                    };
                    let Some(kept) = kept else {
                        return Err(Refused::new(
                            ErrorCode::InvalidState,
                            if undoing {
                                "nothing of yours to undo"
                            } else {
                                "nothing of yours to redo"
                            },
                        ));
                    };
                    // What others changed since may leave nothing of it to do.
                    let Some(fitted) = held.board.fit(&kept) else {
                        continue;
                    };
                    match held
                        .commit(cx.room, &board.access, cx.identity, now, fitted)
                        .await
                    {
                        Ok(None) => continue,
                        Ok(Some(inverse)) => {
                            let history = held.history(cx.identity);
                            if undoing {
                                history.redo.push(inverse);
                            } else {
                                history.undo.push_back(inverse);
                            }
                            return Ok(Reply::Ack);
                        }
                        Err(Refused::Error { code, message }) => {
                            // Kept for another try when the store failed; a change the
                            // board refuses now (a limit, the last page) is dropped, so
                            // the next undo reaches the ones before it.
                            if code == ErrorCode::StorageUnavailable {
                                let history = held.history(cx.identity);
                                if undoing {
                                    history.undo.push_back(kept);
                                } else {
                                    history.redo.push(kept);
                                }
                            }
                            return Err(Refused::Error { code, message });
                        }
                        Err(other) => return Err(other),
                    }
                }
            }
            request => {
                let pages = held.board.pages.len();
                let Some(mut change) = request.change(cx.identity, pages) else {
                    return Err(super::unhandled(request.kind()));
                };
                // Page indexes past the end are stored as the end they mean, so every
                // op says where the page went (and a move to where it is changes nothing).
                match &mut change {
                    BoardChange::AddPage { index, .. } => *index = (*index).min(pages as u32),
                    BoardChange::MovePage { index, .. } => {
                        *index = (*index).min(pages.saturating_sub(1) as u32)
                    }
                    _ => {}
                }
                // Changing someone's object leaves it theirs.
                if let BoardChange::Update { page, object } = &mut change {
                    if let Some(old) = held
                        .board
                        .page(page)
                        .and_then(|p| p.objects.iter().find(|o| o.id == object.id))
                    {
                        object.author = old.author.clone();
                    }
                }
                let undoable = !matches!(change, BoardChange::Access { .. });
                let inverse = held
                    .commit(cx.room, &board.access, cx.identity, now, change)
                    .await?;
                if let (Some(inverse), true) = (inverse, undoable) {
                    let history = held.history(cx.identity);
                    history.redo.clear();
                    history.undo.push_back(inverse);
                    if history.undo.len() > UNDO_DEPTH {
                        history.undo.pop_front();
                    }
                }
                Ok(Reply::Ack)
            }
        }
    }

    async fn snapshot(
        &self,
        services: &Services,
        room: &Arc<Room>,
        conn: &ConnHandle,
        into: &mut Snapshot,
    ) {
        let board = room.feature::<RoomBoard>();
        let loaded = match board.load(services, room).await {
            Ok(guard) => guard.as_ref().map(|held| summary(&held.board)),
            Err(refused) => {
                super::warn_refused(services, conn, refused);
                None
            }
        };
        if let Some(summary) = loaded {
            into.features.board = summary;
        }
    }

    async fn ended(&self, services: &Services, room: &Arc<Room>) {
        // The board outlives the room: it is kept a day from the room's end, not from
        // its last change or renewal (the same renewal as the hourly one while in use).
        if let Err(e) = services.board.touch(&room.name, BOARD_TTL).await {
            tracing::warn!(room = %room.name, "whiteboard not renewed at the room's end: {e}");
        }
    }
}

fn not_a_drawer() -> Refused {
    Refused::new(
        ErrorCode::Forbidden,
        "draw: only hosts and presenters draw on this whiteboard (a host can open it to everyone or to you)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::features::testing::{Harness, Member};
    use crate::store::StoredBoard;
    use proptest::prelude::*;
    use studyhall_protocol::board::FIRST_PAGE;
    use studyhall_protocol::{BoardObject, Shape, Style};

    fn stroke(id: &str) -> BoardObject {
        BoardObject {
            id: id.into(),
            author: "whoever".into(),
            shape: Shape::Pen {
                points: vec![[100, 100, 50], [200, 150, 60], [300, 180, 40]],
            },
            style: Style {
                color: "#1d4ed8".into(),
                width: 30,
                fill: false,
            },
        }
    }

    fn add(id: &str) -> ClientMessage {
        BoardRequest::BoardAdd {
            page: FIRST_PAGE.into(),
            object: stroke(id),
        }
        .into()
    }

    fn events(m: &mut Member, kind: &str) -> Vec<serde_json::Value> {
        m.drain()
            .into_iter()
            .filter(|v| v["type"] == kind)
            .collect()
    }

    fn refused_code(outcome: &Outcome) -> ErrorCode {
        match outcome {
            Err(Refused::Error { code, .. }) => *code,
            other => panic!("not refused: {other:?}"),
        }
    }

    async fn held_board(h: &Harness) -> Board {
        let board = h.room.feature::<RoomBoard>();
        let guard = board.load(&h.services, &h.room).await.unwrap();
        guard.as_ref().unwrap().board.clone()
    }

    #[tokio::test]
    async fn hosts_draw_everyone_sees_it_in_order_and_others_draw_once_allowed() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        assert_eq!(h.send(&mut host, add("s1")).await, Ok(Reply::Ack));
        let ops = events(&mut ada, "board_op");
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0]["seq"], 1);
        assert_eq!(ops[0]["by"], "host");
        assert_eq!(ops[0]["change"]["op"], "add");
        assert_eq!(
            ops[0]["change"]["object"]["author"], "host",
            "the relay names the author"
        );
        assert_eq!(
            events(&mut host, "board_op").len(),
            1,
            "the drawer gets its op too"
        );

        let refused = h.send(&mut ada, add("a1")).await;
        assert_eq!(refused_code(&refused), ErrorCode::Forbidden);
        let live = BoardRequest::BoardLive {
            page: FIRST_PAGE.into(),
            id: "a1".into(),
            shape: stroke("a1").shape,
            style: stroke("a1").style,
            from: 0,
        };
        assert_eq!(
            refused_code(&h.send(&mut ada, live.clone().into()).await),
            ErrorCode::Forbidden
        );
        let open = BoardRequest::BoardSetAccess {
            access: BoardAccess {
                everyone: false,
                drawers: vec!["ada".into()],
            },
        };
        assert_eq!(
            refused_code(&h.send(&mut ada, open.clone().into()).await),
            ErrorCode::Forbidden
        );
        h.send(&mut host, open.into()).await.unwrap();
        assert_eq!(events(&mut ada, "board_op")[0]["change"]["op"], "access");

        assert_eq!(h.send(&mut ada, live.into()).await, Ok(Reply::Ack));
        let seen = events(&mut host, "board_live");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0]["by"], "ada");
        assert!(
            events(&mut ada, "board_live").is_empty(),
            "not echoed to the drawer"
        );
        assert_eq!(h.send(&mut ada, add("a1")).await, Ok(Reply::Ack));
        assert_eq!(held_board(&h).await.seq, 3);

        // A duplicate id, a missing page, a malformed object: refused, nothing changes.
        assert_eq!(
            refused_code(&h.send(&mut ada, add("a1")).await),
            ErrorCode::InvalidState
        );
        let elsewhere = BoardRequest::BoardAdd {
            page: "nope".into(),
            object: stroke("a2"),
        };
        assert_eq!(
            refused_code(&h.send(&mut ada, elsewhere.into()).await),
            ErrorCode::NotFound
        );
        let mut bad = stroke("a3");
        bad.style.color = "red".into();
        let bad = BoardRequest::BoardAdd {
            page: FIRST_PAGE.into(),
            object: bad,
        };
        assert_eq!(
            refused_code(&h.send(&mut ada, bad.into()).await),
            ErrorCode::BadMessage
        );
        assert_eq!(held_board(&h).await.seq, 3);
        assert_eq!(events(&mut host, "board_op").len(), 1, "only a1 since");

        // The host moves ada's stroke: it stays hers.
        let mut moved = stroke("a1");
        moved.shape = Shape::Line {
            from: [0, 0],
            to: [10, 10],
        };
        let update = BoardRequest::BoardUpdate {
            page: FIRST_PAGE.into(),
            object: moved,
        };
        h.send(&mut host, update.into()).await.unwrap();
        let board = held_board(&h).await;
        assert_eq!(board.pages[0].objects[1].author, "ada");
        // What changes nothing is neither stored nor sent.
        let same_place = BoardRequest::BoardMovePage {
            page: FIRST_PAGE.into(),
            index: 0,
        };
        assert_eq!(h.send(&mut host, same_place.into()).await, Ok(Reply::Ack));
        let past_the_end = BoardRequest::BoardMovePage {
            page: FIRST_PAGE.into(),
            index: 40,
        };
        assert_eq!(h.send(&mut host, past_the_end.into()).await, Ok(Reply::Ack));
        assert_eq!(
            held_board(&h).await.seq,
            4,
            "the last page moved past the end stays"
        );
        // An added page past the end is stored at the index it got.
        let add_page = BoardRequest::BoardAddPage {
            page: "p2".into(),
            index: Some(99),
            annotates: None,
        };
        h.send(&mut host, add_page.into()).await.unwrap();
        let op = events(&mut ada, "board_op").pop().unwrap();
        assert_eq!(op["change"]["index"], 1);
    }

    #[tokio::test]
    async fn a_presenter_draws_until_a_host_takes_the_role_back() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let presenter = |presenter: bool| -> ClientMessage {
            studyhall_protocol::LectureRequest::SetPresenter {
                identity: "ada".into(),
                presenter,
            }
            .into()
        };
        h.send(&mut host, presenter(true)).await.unwrap();
        assert_eq!(
            h.room.role_of("ada"),
            Some(studyhall_protocol::Role::Presenter)
        );
        assert_eq!(h.send(&mut ada, add("a1")).await, Ok(Reply::Ack));
        let board = held_board(&h).await;
        assert_eq!(board.seq, 1);
        assert_eq!(board.pages[0].objects[0].author, "ada");

        h.send(&mut host, presenter(false)).await.unwrap();
        assert_eq!(
            h.room.role_of("ada"),
            Some(studyhall_protocol::Role::Member)
        );
        match h.send(&mut ada, add("a2")).await {
            Err(Refused::Error { code, message }) => {
                assert_eq!(code, ErrorCode::Forbidden);
                assert!(
                    message.starts_with("draw: only hosts and presenters"),
                    "{message}"
                );
            }
            other => panic!("not refused: {other:?}"),
        }
        let board = held_board(&h).await;
        assert_eq!(board.seq, 1, "nothing changed");
        assert_eq!(
            board.pages[0].objects.len(),
            1,
            "what she drew as a presenter stays"
        );
    }

    #[tokio::test]
    async fn undo_and_redo_take_back_only_your_own_changes() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let everyone = BoardRequest::BoardSetAccess {
            access: BoardAccess {
                everyone: true,
                drawers: vec![],
            },
        };
        h.send(&mut host, everyone.into()).await.unwrap();
        h.send(&mut host, add("h1")).await.unwrap();
        h.send(&mut ada, add("a1")).await.unwrap();
        h.send(&mut host, add("h2")).await.unwrap();
        h.send(&mut ada, BoardRequest::BoardUndo.into())
            .await
            .unwrap();
        let ids = |b: &Board| -> Vec<String> {
            b.pages[0].objects.iter().map(|o| o.id.clone()).collect()
        };
        assert_eq!(ids(&held_board(&h).await), ["h1", "h2"]);
        let undo = BoardRequest::BoardUndo;
        assert_eq!(
            refused_code(&h.send(&mut ada, undo.clone().into()).await),
            ErrorCode::InvalidState,
            "nothing more of ada's"
        );
        h.send(&mut ada, BoardRequest::BoardRedo.into())
            .await
            .unwrap();
        assert_eq!(ids(&held_board(&h).await), ["h1", "a1", "h2"]);

        // The host clears the page; ada's undo of her stroke finds nothing left to do.
        h.send(
            &mut host,
            BoardRequest::BoardClear {
                page: FIRST_PAGE.into(),
            }
            .into(),
        )
        .await
        .unwrap();
        assert_eq!(
            refused_code(&h.send(&mut ada, undo.clone().into()).await),
            ErrorCode::InvalidState
        );
        // The host's undo brings the page back as it was.
        h.send(&mut host, undo.into()).await.unwrap();
        assert_eq!(ids(&held_board(&h).await), ["h1", "a1", "h2"]);
        let ops = events(&mut ada, "board_op");
        assert_eq!(ops.last().unwrap()["change"]["op"], "restore");
        let seqs: Vec<u64> = ops.iter().map(|o| o["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gaps");
    }

    #[tokio::test]
    async fn a_reload_from_the_store_gives_the_same_board_across_compactions() {
        let (h, mut host) = Harness::new();
        let n = COMPACT_EVERY + 25;
        for i in 0..n {
            // Over the burst of the rate limit: a fresh bucket per request here.
            host.buckets = super::super::SessionBuckets::new(
                &super::super::testing::limits(),
                std::time::Instant::now(),
            );
            h.send(&mut host, add(&format!("s{i}"))).await.unwrap();
        }
        let live = held_board(&h).await;
        let stored = h.services.board.load("r").await.unwrap().unwrap();
        assert_eq!(
            stored.snapshot.as_ref().unwrap().0,
            COMPACT_EVERY,
            "compacted"
        );
        assert_eq!(stored.ops.len(), 25);
        let (replayed, ops) = replay("r", stored);
        assert_eq!(replayed, live);
        assert_eq!(ops.len(), 25);

        // A new room object (a restart, another node) loads it, and a reconnect that
        // missed a few gets only those.
        let fresh = RoomBoard::default();
        let guard = fresh.load(&h.services, &h.room).await.unwrap();
        let held = guard.as_ref().unwrap();
        assert_eq!(held.board, live);
        let (conn, mut rx) = ConnHandle::new(64);
        held.sync(&conn, Some(&live.id), Some(n - 3));
        let mut got = vec![];
        while let Ok(Outbound::Text(t)) = rx.try_recv() {
            got.push(serde_json::from_str::<serde_json::Value>(&t).unwrap());
        }
        let types: Vec<&str> = got.iter().map(|v| v["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["board_op", "board_op", "board_op", "board_synced"]);
        // Too far back, or another board: the whole board.
        held.sync(&conn, Some(&live.id), Some(1));
        held.sync(&conn, Some("another-board"), Some(n));
        let mut snapshots = 0;
        while let Ok(Outbound::Text(t)) = rx.try_recv() {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            assert_eq!(v["type"], "board_snapshot");
            snapshots += 1;
        }
        assert_eq!(snapshots, 2);
    }

    #[tokio::test]
    async fn a_flood_of_changes_is_rate_limited_and_live_strokes_over_the_rate_are_dropped() {
        let (h, mut host) = Harness::new();
        let mut ada = h.join("ada");
        let mut limited = None;
        for i in 0..(board::OPS_BURST + 5) {
            match h.send(&mut host, add(&format!("f{i}"))).await {
                Ok(_) => {}
                Err(Refused::Limit { message, wait }) => {
                    limited = Some((message, wait));
                    break;
                }
                Err(other) => panic!("refused otherwise: {other:?}"),
            }
        }
        // The refusal names its limit (`rate_limited` with this message, never a
        // disconnect), not the generic "too many messages".
        let (message, wait) = limited.expect("the flood was limited");
        assert!(message.starts_with("ops_per_second:"), "{message}");
        assert!(message.contains("per second"), "{message}");
        assert!(
            message.contains(&format!("{} a second", board::OPS_PER_SECOND))
                && message.contains(&format!("burst of {}", board::OPS_BURST)),
            "{message}"
        );
        assert!(wait > std::time::Duration::ZERO, "{wait:?}");
        ada.drain();
        for i in 0..100 {
            let live = BoardRequest::BoardLive {
                page: FIRST_PAGE.into(),
                id: "l".into(),
                shape: stroke("l").shape,
                style: stroke("l").style,
                from: i,
            };
            assert_eq!(h.send(&mut host, live.into()).await, Ok(Reply::Ack));
        }
        let got = events(&mut ada, "board_live").len();
        assert!(
            got as u32 <= board::LIVE_BURST + 1 && got > 0,
            "{got} live strokes passed"
        );

        // Someone who may not draw and floods live strokes gets an error for the ones
        // within the live rate only, not one per frame.
        let mut refused = 0;
        for i in 0..100 {
            let live = BoardRequest::BoardLive {
                page: FIRST_PAGE.into(),
                id: "x".into(),
                shape: stroke("x").shape,
                style: stroke("x").style,
                from: i,
            };
            if h.send(&mut ada, live.into()).await.is_err() {
                refused += 1;
            }
        }
        assert!(
            refused > 0 && refused <= board::LIVE_BURST + 1,
            "{refused} errors for 100 frames"
        );
    }

    /// A change a property test may try: most apply, some are refused.
    fn any_change() -> impl Strategy<Value = BoardChange> {
        let page = prop_oneof![
            Just(FIRST_PAGE.to_string()),
            Just("p2".to_string()),
            Just("p3".to_string())
        ];
        let id = (0u8..12).prop_map(|i| format!("o{i}"));
        // Someone named on the board: a drawer, the sharer an annotation page is over.
        let who = prop_oneof![Just("ada".to_string()), Just("bob".to_string())];
        prop_oneof![
            (page.clone(), id.clone(), 1usize..5).prop_map(|(page, id, n)| {
                let mut object = stroke(&id);
                object.shape = Shape::Pen {
                    points: (0..n).map(|i| [i as u16 * 10, 5, 50]).collect(),
                };
                BoardChange::Add { page, object }
            }),
            (page.clone(), id.clone()).prop_map(|(page, id)| {
                let mut object = stroke(&id);
                object.style.width = 99;
                BoardChange::Update { page, object }
            }),
            (page.clone(), prop::collection::vec(id.clone(), 1..3))
                .prop_map(|(page, ids)| BoardChange::Erase { page, ids }),
            page.clone().prop_map(|page| BoardChange::Clear { page }),
            // Indexes strictly increasing (a map's keys), as the relay's own restores are.
            (
                page.clone(),
                prop::collection::btree_map(0u32..6, id.clone(), 1..3)
            )
                .prop_map(|(page, placed)| BoardChange::Restore {
                    page,
                    objects: placed
                        .into_iter()
                        .map(|(index, id)| board::Placed {
                            index,
                            object: stroke(&id),
                        })
                        .collect(),
                }),
            (page.clone(), 0u32..4, prop::option::of(who.clone())).prop_map(
                |(page, index, annotates)| BoardChange::AddPage {
                    page,
                    index,
                    annotates
                }
            ),
            page.clone()
                .prop_map(|page| BoardChange::RemovePage { page }),
            (
                page.clone(),
                0u32..4,
                prop::collection::vec(id, 0..3),
                prop::option::of(who.clone())
            )
                .prop_map(|(page, index, ids, annotates)| BoardChange::RestorePage {
                    index,
                    page: board::Page {
                        id: page,
                        annotates,
                        objects: ids.into_iter().map(|id| stroke(&id)).collect(),
                    },
                }),
            (page.clone(), 0u32..4).prop_map(|(page, index)| BoardChange::MovePage { page, index }),
            (page, prop::option::of(who.clone()))
                .prop_map(|(page, annotates)| BoardChange::Annotates { page, annotates }),
            (any::<bool>(), prop::collection::vec(who, 0..3)).prop_map(|(everyone, drawers)| {
                BoardChange::Access {
                    access: BoardAccess { everyone, drawers },
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn replaying_a_snapshot_and_its_log_equals_applying_live(
            changes in prop::collection::vec((any_change(), any::<bool>()), 1..60),
            snapshot_at in 0usize..60,
        ) {
            let mut live = Board::new("b");
            let mut log = vec![];
            // The relay writes a snapshot before a board's first change (it holds the id).
            let mut snapshot = (0, serde_json::to_string(&live).unwrap());
            let mut compacted = snapshot_at == 0;
            for (change, undo) in changes {
                let Ok(inverse) = live.apply(&change) else { continue };
                live.seq += 1;
                log.push(BoardOp { seq: live.seq, by: "p".into(), at: 0, change });
                // Sometimes the maker undoes it at once, fitted as the relay does.
                if undo {
                    if let Some(fitted) = live.fit(&inverse) {
                        if live.apply(&fitted).is_ok() {
                            live.seq += 1;
                            log.push(BoardOp { seq: live.seq, by: "p".into(), at: 0, change: fitted });
                        }
                    }
                }
                if !compacted && log.len() >= snapshot_at {
                    snapshot = (live.seq, serde_json::to_string(&live).unwrap());
                    compacted = true;
                }
            }
            let after = snapshot.0;
            let stored = StoredBoard {
                snapshot: Some(snapshot),
                ops: log
                    .iter()
                    .filter(|op| op.seq > after)
                    .map(|op| (op.seq, serde_json::to_string(op).unwrap()))
                    .collect(),
            };
            let (replayed, _) = replay("r", stored);
            prop_assert_eq!(&replayed, &live);
            prop_assert_eq!(replayed.bytes(), live.bytes());
        }
    }
}
